//! The access log: one JSON line per API request on standard output — request id, method,
//! path, status, the error code trs answered with, the key fingerprint the caller claimed, and
//! the duration — so that refused calls (401, 403) leave a record an operator can search
//! (issue 13 item 13). `trs serve` writes it to its stdout; on Lambda, stdout is CloudWatch
//! Logs, where Logs Insights reads the JSON fields as they are. The request id is also sent
//! back as `Trs-Request-Id`, so a user can quote it.
//!
//! The line is `{"access": {...}}`; the query string is left out (it is covered by the
//! signature but is the caller's business), and so is anything from the body. A path that is
//! itself a capability (an upload URL's token, which lets whoever holds it PUT the file) is
//! logged with the token replaced by `{token}`.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use serde::Serialize;
use std::sync::Arc;
use std::time::Instant;

/// Response header carrying the request's id.
pub const REQUEST_ID_HEADER: &str = "Trs-Request-Id";

/// The error code of a refused request, attached to the response by [`crate::ApiError`].
#[derive(Debug, Clone, Copy)]
pub struct ErrorCode(pub &'static str);

/// One request, as logged.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccessRecord {
    pub request_id: String,
    pub method: String,
    pub path: String,
    pub status: u16,
    /// trs's error code (`unknown-key`, `forbidden-role`…), for refusals trs answered.
    pub code: Option<&'static str>,
    /// The `Trs-Key` header as sent, when it has the shape of a fingerprint (it names the
    /// claimed caller; `status` says whether the claim held).
    pub key: Option<String>,
    pub duration_ms: f64,
}

/// Where records go.
pub type Sink = Arc<dyn Fn(&AccessRecord) + Send + Sync>;

/// Writes each record as one JSON line to standard output.
pub fn stdout() -> Sink {
    Arc::new(|record: &AccessRecord| {
        use std::io::Write;
        if let Ok(line) = serde_json::to_string(&serde_json::json!({ "access": record })) {
            // One write per line: lines of concurrent requests do not interleave.
            let _ = writeln!(std::io::stdout().lock(), "{line}");
        }
    })
}

/// `router` with every request it answers recorded to `sink`.
pub fn layer<S: Clone + Send + Sync + 'static>(router: Router<S>, sink: Sink) -> Router<S> {
    router.layer(axum::middleware::from_fn_with_state(sink, record))
}

async fn record(State(sink): State<Sink>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = trs_app::App::new_id().to_string();
    let method = request.method().to_string();
    let path = logged_path(request.uri().path());
    let key = request
        .headers()
        .get(trs_auth::HEADER_KEY)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim())
        .filter(|v| matches!(v.len(), 40 | 64) && v.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(|v| v.to_ascii_uppercase());
    let mut response = next.run(request).await;
    let record = AccessRecord {
        status: response.status().as_u16(),
        code: response.extensions().get::<ErrorCode>().map(|c| c.0),
        request_id,
        method,
        path,
        key,
        duration_ms: started.elapsed().as_secs_f64() * 1000.0,
    };
    if let Ok(value) = HeaderValue::from_str(&record.request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    sink(&record);
    response
}

/// Paths whose last segment is a bearer token: the embedded blob store's upload URLs
/// (`trs serve`; on AWS the token is S3's presigned query, never seen here).
const TOKEN_PATHS: [&str; 1] = ["/api/v1/blob-upload/"];

/// `path` as logged: a token in it replaced, so reading the log grants nothing.
fn logged_path(path: &str) -> String {
    match TOKEN_PATHS.iter().find(|prefix| path.starts_with(*prefix)) {
        Some(prefix) => format!("{prefix}{{token}}"),
        None => path.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SignedCall;
    use axum::body::Body;
    use axum::routing::post;
    use std::sync::Mutex;
    use tower::ServiceExt;
    use trs_app::test_support::{signed_headers, world};

    #[tokio::test]
    async fn refused_and_accepted_calls_are_logged_with_code_key_and_request_id() {
        let w = world().await;
        let records = Arc::new(Mutex::new(Vec::<AccessRecord>::new()));
        let kept = records.clone();
        let sink: Sink = Arc::new(move |r: &AccessRecord| kept.lock().unwrap().push(r.clone()));
        let routes = Router::new().route("/api/v1/x", post(|_: SignedCall| async { "ok" })).with_state(w.app.clone());
        let router = layer(routes, sink);

        let unsigned = Request::builder().method("POST").uri("/api/v1/x?secret=1").body(Body::empty()).unwrap();
        let resp = router.clone().oneshot(unsigned).await.unwrap();
        assert_eq!(resp.status(), 401);
        let id = resp.headers()[REQUEST_ID_HEADER].to_str().unwrap().to_string();

        let mut signed = Request::builder().method("POST").uri("/api/v1/x").header("host", "trs.test:8080");
        for (k, v) in signed_headers(&w.rm, "POST", "/api/v1/x", b"") {
            signed = signed.header(k, v);
        }
        let resp = router.clone().oneshot(signed.body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(resp.status(), 200);

        let records = records.lock().unwrap();
        assert_eq!(records.len(), 2);
        let refused = &records[0];
        assert_eq!(refused.request_id, id);
        assert_eq!((refused.method.as_str(), refused.path.as_str()), ("POST", "/api/v1/x"), "no query string");
        assert_eq!((refused.status, refused.code, refused.key.as_deref()), (401, Some("missing-header"), None));
        let accepted = &records[1];
        assert_eq!((accepted.status, accepted.code), (200, None));
        assert_eq!(accepted.key.as_deref(), Some(w.rm.person.keys[0].as_str()));
        assert_ne!(accepted.request_id, refused.request_id);
    }

    /// Issue 13 item 13: an upload URL's token is a capability valid for hours; the log keeps
    /// the route, not the token.
    #[tokio::test]
    async fn upload_tokens_are_not_logged() {
        let records = Arc::new(Mutex::new(Vec::<AccessRecord>::new()));
        let kept = records.clone();
        let sink: Sink = Arc::new(move |r: &AccessRecord| kept.lock().unwrap().push(r.clone()));
        let routes: Router = Router::new().route("/api/v1/blob-upload/{token}", axum::routing::put(|| async { "ok" }));
        let router = layer(routes, sink);
        let put =
            Request::builder().method("PUT").uri("/api/v1/blob-upload/c2VjcmV0.dGFn").body(Body::empty()).unwrap();
        assert_eq!(router.oneshot(put).await.unwrap().status(), 200);
        let records = records.lock().unwrap();
        assert_eq!(records[0].path, "/api/v1/blob-upload/{token}");
        assert_eq!(logged_path("/api/v1/projects/foo"), "/api/v1/projects/foo");
    }
}

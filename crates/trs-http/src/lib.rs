//! HTTP glue shared by the function handlers: how a signed call is authenticated, how errors
//! become responses (`{"error": {"code", "message"}}` with the status the error carries), and
//! the body limit for API calls (file bytes never come through the API).

pub mod downloads;
pub mod encoding;
pub mod files;

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::de::DeserializeOwned;
use trs_app::authenticate::{Caller, SignedRequest, authenticate};
use trs_app::{App, AppError};

pub mod access_log;

/// API request bodies are small JSON documents; files go through upload URLs.
pub const MAX_API_BODY: usize = 1 << 20;

/// An [`AppError`] as an HTTP response.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
            tracing::error!(error = %self.0, "request failed");
        }
        let message = match &self.0 {
            AppError::Internal(_) => "internal error; see the server log".to_string(),
            other => other.to_string(),
        };
        error_response(status, self.0.code(), message)
    }
}

/// The one error document every failed request gets: `{"error": {"code", "message"}}` with
/// `status`, the code also kept for the access log.
fn error_response(status: StatusCode, code: &'static str, message: String) -> Response {
    let mut response = (status, axum::Json(trs_api::ErrorBody::new(code, message))).into_response();
    response.extensions_mut().insert(access_log::ErrorCode(code));
    response
}

/// Requests no route takes get the same JSON error document as every other failure, not
/// axum's empty or `text/plain` answers: an unknown path is 404 `not-found`, a known path
/// with a method it does not take is 405 `method-not-allowed` (with its `Allow` header).
/// Call it after every route is on `router`: the 405 answer is set on the routes present.
pub fn json_routing_errors<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router.fallback(no_route).method_not_allowed_fallback(method_not_allowed)
}

/// [`json_routing_errors`] for a host whose fallback is something else (`trs serve`'s is the
/// public site): only the 405 answer, plus 404 `not-found` for every unknown path under
/// `/api/`, which is never a page.
pub fn json_routing_errors_under_api<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router.route("/api/{*rest}", axum::routing::any(no_route)).method_not_allowed_fallback(method_not_allowed)
}

/// Marks (in its extensions) a response that no route gave, so a test of which routes a
/// router answers tells it from a handler's own 404.
#[derive(Debug, Clone, Copy)]
pub struct Unrouted;

async fn no_route(method: Method, uri: Uri) -> Response {
    let mut response =
        ApiError(AppError::NotFound(format!("no API route for {method} {}", uri.path()))).into_response();
    response.extensions_mut().insert(Unrouted);
    response
}

async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    let message = format!("{} does not take {method}; the Allow header lists what it takes", uri.path());
    let mut response = error_response(StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed", message);
    response.extensions_mut().insert(Unrouted);
    response
}

pub type ApiResult<T> = Result<T, ApiError>;

/// `GET /api/v1/health`: `ok` while the item store can take writes, else its error (a full
/// disk: 507 `insufficient-storage` with the reason), so a monitor sees what every write sees.
pub async fn health(axum::extract::State(app): axum::extract::State<App>) -> ApiResult<&'static str> {
    app.items.health().await.map_err(AppError::from)?;
    Ok("ok\n")
}

/// `GET /api/v1/openapi.json`: the API's OpenAPI 3.1 document (`trs_api::document`), made
/// once per process. Every host serves it beside the health check.
pub async fn openapi() -> Response {
    static DOCUMENT: std::sync::LazyLock<String> = std::sync::LazyLock::new(trs_api::document_json);
    ([(axum::http::header::CONTENT_TYPE, "application/json")], DOCUMENT.as_str()).into_response()
}

/// The routes every host answers beside its functions' routes: the health check and the
/// OpenAPI document.
pub fn service_routes() -> Router<App> {
    Router::new()
        .route("/api/v1/health", axum::routing::get(health))
        .route(trs_api::OPENAPI_PATH, axum::routing::get(openapi))
}

/// A request whose OpenPGP signature has been verified: who called, and the exact body bytes
/// that were signed.
pub struct SignedCall {
    pub caller: Caller,
    pub body: Bytes,
}

impl SignedCall {
    pub fn json<T: DeserializeOwned>(&self) -> ApiResult<T> {
        if self.body.is_empty() {
            return serde_json::from_slice(b"{}").map_err(|e| malformed(e.to_string()));
        }
        serde_json::from_slice(&self.body).map_err(|e| malformed(e.to_string()))
    }
}

fn malformed(reason: String) -> ApiError {
    ApiError(AppError::bad_request("malformed-request", format!("request body is not the expected JSON: {reason}")))
}

fn header_lookup(headers: &HeaderMap) -> impl Fn(&str) -> Option<String> + '_ {
    move |name| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
}

impl<S> FromRequest<S> for SignedCall
where
    App: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request<Body>, state: &S) -> Result<Self, Self::Rejection> {
        let app = App::from_ref(state);
        let (parts, body) = req.into_parts();
        let signed = trs_auth::SignedHeaders::from_header_lookup(header_lookup(&parts.headers))
            .map_err(|e| ApiError(AppError::Unauthenticated { code: e.code(), message: e.to_string() }))?;
        let body = axum::body::to_bytes(body, MAX_API_BODY).await.map_err(|_| {
            ApiError(AppError::TooLarge(format!("API request bodies are limited to {MAX_API_BODY} bytes")))
        })?;
        let caller = authenticate(
            &app,
            &signed,
            SignedRequest {
                method: parts.method.as_str(),
                path: parts.uri.path(),
                query: parts.uri.query(),
                body: &body,
            },
        )
        .await?;
        // The optional Trs-Uid header is the caller's own claim; a mismatch means they are
        // signing with someone else's key by mistake, which deserves a clear answer.
        if let Some(uid) = parts.headers.get("Trs-Uid").and_then(|v| v.to_str().ok())
            && uid != caller.person.uid.as_str()
        {
            return Err(ApiError(AppError::Unauthenticated {
                code: "uid-mismatch",
                message: format!("key {} is registered to {}, not to {uid}", caller.key, caller.person.uid),
            }));
        }
        Ok(SignedCall { caller, body })
    }
}

/// A read that answers more to a caller who signs it (an embargoed advisory to the project's
/// security team): a request without a `Trs-Signature` header is anonymous (`None`); one with
/// it must be a valid signed call, or it is refused as every signed call is.
pub struct MaybeSigned(pub Option<SignedCall>);

impl<S> FromRequest<S> for MaybeSigned
where
    App: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request<Body>, state: &S) -> Result<Self, Self::Rejection> {
        if !req.headers().contains_key(trs_auth::HEADER_SIGNATURE) {
            return Ok(MaybeSigned(None));
        }
        Ok(MaybeSigned(Some(SignedCall::from_request(req, state).await?)))
    }
}

/// Parses a path segment into an identifier newtype with a 400 naming the problem.
pub fn parse_segment<T>(value: &str) -> ApiResult<T>
where
    T: std::str::FromStr<Err = trs_core::IdError>,
{
    value.parse::<T>().map_err(|e| ApiError(AppError::from(e)))
}

/// The release a route names: its `{project}` and `{version}` path segments, and the product
/// from the body or the query (absent for the project's main line).
pub fn release_id(
    project: &str,
    product: Option<trs_core::ProductName>,
    version: &str,
) -> ApiResult<trs_core::ReleaseId> {
    Ok(trs_core::ReleaseId {
        project: parse_segment::<trs_core::ProjectName>(project)?,
        product,
        version: parse_segment::<trs_core::Version>(version)?,
    })
}

/// A name that a request body carries as text (trs_api's types hold plain strings), parsed into
/// its domain type (an identifier, a version, a version range). A bad one is a malformed body
/// (400 `malformed-request`), as it was when the handlers read the body into typed fields.
pub fn body_name<T>(field: &str, value: &str) -> ApiResult<T>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    value.parse::<T>().map_err(|e| malformed(format!("{field}: {e}")))
}

/// A list of names in a request body (a roster, a project's products): see [`body_name`].
pub fn body_names<T, C>(field: &str, values: &[String]) -> ApiResult<C>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
    C: FromIterator<T>,
{
    values.iter().map(|v| body_name::<T>(field, v)).collect()
}

/// The optional `product` of a request body: see [`body_name`].
pub fn body_product(product: Option<&str>) -> ApiResult<Option<trs_core::ProductName>> {
    product.map(|p| body_name("product", p)).transpose()
}

/// A query that only names the product (calls about a release that take nothing else). Bodies
/// use trs_api's `ProductOnly`, the contract's.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductOnly {
    #[serde(default)]
    pub product: Option<trs_core::ProductName>,
}

/// Drives a function's router without a server, as the API host would (tests only).
#[cfg(feature = "test-support")]
pub mod testing {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use serde_json::Value;
    use tower::ServiceExt;
    use trs_app::test_support::{Actor, signed_headers_at};

    /// Sends `method uri` with `body` as JSON (none when `Null`), signed by `actor` if given
    /// (path and query), with `Host: trs.test:8080`; returns the status and the JSON answer
    /// (`Null` when the answer is not JSON).
    pub async fn call(
        router: axum::Router,
        actor: Option<&Actor>,
        method: &str,
        uri: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        let now = trs_app::Clock::now(&trs_app::SystemClock);
        call_signed_at(router, actor, method, uri, body, now).await
    }

    /// [`call`] signed at `now` (unix seconds), for an app on a test clock.
    pub async fn call_signed_at(
        router: axum::Router,
        actor: Option<&Actor>,
        method: &str,
        uri: &str,
        body: Value,
        now: i64,
    ) -> (StatusCode, Value) {
        let bytes = if body.is_null() { Vec::new() } else { serde_json::to_vec(&body).unwrap() };
        let mut req = Request::builder()
            .method(method)
            .uri(uri)
            .header("content-type", "application/json")
            .header("host", "trs.test:8080");
        if let Some(a) = actor {
            let (path, query) = match uri.split_once('?') {
                Some((path, query)) => (path, Some(query)),
                None => (uri, None),
            };
            for (k, v) in signed_headers_at(a, method, path, query, &bytes, now) {
                req = req.header(k, v);
            }
        }
        let resp = router.oneshot(req.body(Body::from(bytes)).unwrap()).await.unwrap();
        let status = resp.status();
        let body = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }
}

/// axum's `Query` with trs's error body: a malformed or unknown query parameter is a 400
/// `invalid-query` naming the problem, like every other refusal.
pub struct Query<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|q| Query(q.0))
            .map_err(|e| ApiError(AppError::bad_request("invalid-query", e.body_text())))
    }
}

/// axum's `Path` with trs's error body: a path segment axum cannot take (one that is not UTF-8
/// once percent-decoded, `%FF`) is a 400 `invalid-path` naming the problem, not axum's
/// `text/plain` answer. Every API handler takes its path segments through this extractor; the e2e
/// test `requests_the_extractors_refuse_get_the_json_error_document_with_their_code` holds it
/// on every path variable the OpenAPI document names.
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            // A route whose handler asks for other segments than it has: a fault of ours.
            Err(e) if e.status().is_server_error() => Err(ApiError(AppError::Internal(e.body_text()))),
            Err(e) => Err(ApiError(AppError::bad_request("invalid-path", e.body_text()))),
        }
    }
}

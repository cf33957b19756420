//! The HTTP client side of the API: signs every mutating call (docs/signed-requests.md) with
//! the caller's key file or GnuPG, and turns error responses into one-line reasons.

use crate::cli::Global;
use crate::error::{CliError, CliResult, failed};
use serde::Serialize;
use serde::de::DeserializeOwned;
use trs_api::ErrorBody;
use trs_auth::RequestSigner;

pub struct Client {
    base: String,
    /// What every signed call names as its deployment (`--audience`, else --url's origin).
    audience: trs_auth::Audience,
    http: reqwest::Client,
    signer: Option<Box<dyn RequestSigner>>,
    uid: Option<String>,
}

fn unix_now() -> i64 {
    crate::clock::now()
}

impl Client {
    pub fn new(global: &Global) -> CliResult<Self> {
        let signer: Option<Box<dyn RequestSigner>> = match (&global.key, &global.gpg_key) {
            (Some(path), _) => Some(Box::new(
                trs_auth::KeyFileSigner::load(path)
                    .map_err(|e| failed(format!("cannot use key {}: {e}", path.display())))?,
            )),
            (None, Some(fpr)) => Some(Box::new(
                trs_auth::GpgSigner::new(fpr).map_err(|e| failed(format!("cannot use GnuPG key {fpr}: {e}")))?,
            )),
            (None, None) => None,
        };
        let http = reqwest::Client::builder().build().map_err(failed)?;
        let audience = global
            .audience
            .as_deref()
            .unwrap_or(&global.url)
            .parse()
            .map_err(|e| CliError::Usage(format!("--audience/--url: {e}")))?;
        Ok(Self { base: global.url.trim_end_matches('/').to_string(), audience, http, signer, uid: global.uid.clone() })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    fn signer(&self) -> CliResult<&dyn RequestSigner> {
        self.signer.as_deref().ok_or_else(|| {
            CliError::Usage(
                "this command is a signed call: give --key FILE or --gpg-key FPR (or set TRS_KEY / TRS_GPG_KEY)".into(),
            )
        })
    }

    /// A signed POST of a JSON body.
    pub async fn post<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> CliResult<T> {
        let body = serde_json::to_vec(body).map_err(failed)?;
        self.signed(reqwest::Method::POST, path, None, body).await
    }

    /// A signed POST that is sent again (freshly signed, after a jittered wait) while the
    /// server answers `409 concurrent-update`: the write lost a race and nothing was changed,
    /// so trying again is safe. For calls whose only conflict is that race (an upload's
    /// commit); any other answer, a `stale-base` included, is returned at once.
    pub async fn post_retrying_races<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> CliResult<T> {
        let body = serde_json::to_vec(body).map_err(failed)?;
        let mut attempt = 0;
        loop {
            let resp = self.send_signed(reqwest::Method::POST, path, None, body.clone()).await?;
            if resp.status() != reqwest::StatusCode::CONFLICT || attempt >= RACE_RETRIES {
                return read_json(resp).await;
            }
            let status = resp.status();
            let text = resp.text().await.unwrap_or_default();
            if error_code(&text).as_deref() != Some("concurrent-update") {
                return Err(error_from(status, &text));
            }
            // Waits of up to 64, 128, 250, 250 ms: longer than the server's own retries.
            trs_app::retry::back_off(attempt + 5).await;
            attempt += 1;
        }
    }

    /// A signed DELETE without a body; `query` (e.g. `product=P`) is covered by the signature.
    pub async fn delete<T: DeserializeOwned>(&self, path: &str, query: Option<&str>) -> CliResult<T> {
        self.signed(reqwest::Method::DELETE, path, query, Vec::new()).await
    }

    async fn signed<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        query: Option<&str>,
        body: Vec<u8>,
    ) -> CliResult<T> {
        read_json(self.send_signed(method, path, query, body).await?).await
    }

    async fn send_signed(
        &self,
        method: reqwest::Method,
        path: &str,
        query: Option<&str>,
        body: Vec<u8>,
    ) -> CliResult<reqwest::Response> {
        let signer = self.signer()?;
        let headers = trs_auth::sign_request(signer, &self.audience, method.as_str(), path, query, &body, unix_now())
            .map_err(|e| failed(format!("could not sign the request: {e}")))?;
        let url = match query {
            Some(q) => format!("{}{}?{q}", self.base, path),
            None => format!("{}{}", self.base, path),
        };
        let mut req = self.http.request(method, url).header("content-type", "application/json").body(body);
        for (name, value) in headers.to_pairs() {
            req = req.header(name, value);
        }
        if let Some(uid) = &self.uid {
            req = req.header("Trs-Uid", uid);
        }
        req.send().await.map_err(|e| self.connect_error(e))
    }

    /// A GET that is signed when a key is configured (--key / --gpg-key), else anonymous: for
    /// reads that answer more to the signer (a project's unpublished advisories).
    pub async fn get_as_caller<T: DeserializeOwned>(&self, path: &str) -> CliResult<T> {
        if self.signer.is_none() {
            return self.get(path).await;
        }
        self.signed(reqwest::Method::GET, path, None, Vec::new()).await
    }

    /// An unsigned GET (public reads).
    pub async fn get<T: DeserializeOwned>(&self, path_and_query: &str) -> CliResult<T> {
        let resp = self
            .http
            .get(format!("{}{}", self.base, path_and_query))
            .send()
            .await
            .map_err(|e| self.connect_error(e))?;
        read_json(resp).await
    }

    pub async fn get_text(&self, path: &str) -> CliResult<String> {
        let resp = self.http.get(format!("{}{}", self.base, path)).send().await.map_err(|e| self.connect_error(e))?;
        if !resp.status().is_success() {
            return Err(error_of(resp).await);
        }
        resp.text().await.map_err(failed)
    }

    pub fn connect_error(&self, e: reqwest::Error) -> CliError {
        if e.is_connect() {
            failed(format!("cannot reach trs at {}: is `trs serve` running? ({e})", self.base))
        } else {
            failed(format!("request to {} failed: {e}", self.base))
        }
    }
}

/// How often [`Client::post_retrying_races`] sends a call again.
const RACE_RETRIES: u32 = 4;

/// The `code` of an error body (`{"error": {"code", "message"}}`).
fn error_code(text: &str) -> Option<String> {
    serde_json::from_str::<ErrorBody>(text).ok().map(|body| body.error.code)
}

/// One line from an error response: `CODE: message (HTTP status)`.
pub async fn error_of(resp: reqwest::Response) -> CliError {
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    error_from(status, &text)
}

fn error_from(status: reqwest::StatusCode, text: &str) -> CliError {
    // Anything but the API's error document (a proxy's page, a body cut short) is shown as
    // its first line.
    match serde_json::from_str::<ErrorBody>(text) {
        Ok(ErrorBody { error }) => CliError::Api { status: status.as_u16(), code: error.code, message: error.message },
        Err(_) => failed(format!("{} (HTTP {})", text.lines().next().unwrap_or(""), status.as_u16())),
    }
}

pub async fn read_json<T: DeserializeOwned>(resp: reqwest::Response) -> CliResult<T> {
    if !resp.status().is_success() {
        return Err(error_of(resp).await);
    }
    resp.json().await.map_err(|e| failed(format!("unexpected response: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A server whose commit answers `409 concurrent-update` `races` times, then 200 (or
    /// `stale-base` once when `stale`); returns its URL and the count of calls.
    async fn server(races: usize, stale: bool) -> (String, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let seen = calls.clone();
        let app = axum::Router::new().route(
            "/commit",
            axum::routing::post(move |headers: axum::http::HeaderMap| {
                let seen = seen.clone();
                async move {
                    assert!(headers.contains_key("trs-signature"), "every attempt is signed");
                    let n = seen.fetch_add(1, Ordering::SeqCst);
                    let error = |code: &str| {
                        (StatusCode::CONFLICT, axum::Json(serde_json::json!({"error": {"code": code, "message": "m"}})))
                    };
                    if stale {
                        return error("stale-base");
                    }
                    if n < races {
                        return error("concurrent-update");
                    }
                    (StatusCode::OK, axum::Json(serde_json::json!({"ok": n})))
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (url, calls)
    }

    fn client(url: &str, dir: &std::path::Path) -> Client {
        use sequoia_openpgp::serialize::SerializeInto;
        let (cert, _) =
            sequoia_openpgp::cert::CertBuilder::general_purpose(Some("T <t@example.org>")).generate().unwrap();
        let key = dir.join("key.asc");
        std::fs::write(&key, cert.as_tsk().armored().to_vec().unwrap()).unwrap();
        let global = crate::cli::Global {
            url: url.to_string(),
            audience: None,
            uid: None,
            key: Some(key),
            gpg_key: None,
            json: false,
        };
        Client::new(&global).unwrap()
    }

    #[tokio::test]
    async fn a_commit_that_lost_a_race_is_sent_again() {
        let dir = tempfile::tempdir().unwrap();
        let (url, calls) = server(2, false).await;
        let got: serde_json::Value = client(&url, dir.path()).post_retrying_races("/commit", &()).await.unwrap();
        assert_eq!(got["ok"], 2);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_race_lost_every_time_or_another_conflict_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let (url, calls) = server(usize::MAX, false).await;
        let err = client(&url, dir.path()).post_retrying_races::<_, serde_json::Value>("/commit", &()).await;
        assert!(err.unwrap_err().to_string().contains("concurrent-update"));
        assert_eq!(calls.load(Ordering::SeqCst), 1 + RACE_RETRIES as usize);
        let (url, calls) = server(0, true).await;
        let err = client(&url, dir.path()).post_retrying_races::<_, serde_json::Value>("/commit", &()).await;
        assert!(err.unwrap_err().to_string().contains("stale-base"));
        assert_eq!(calls.load(Ordering::SeqCst), 1, "a stale base is not a race: not retried");
    }
}

//! The HTTP client side of the API: signs every mutating call (docs/signed-requests.md) with
//! the caller's key file or GnuPG, and turns error responses into one-line reasons.

use crate::cli::Global;
use crate::error::{CliError, CliResult, failed};
use serde::Serialize;
use serde::de::DeserializeOwned;
use trs_auth::RequestSigner;

pub struct Client {
    base: String,
    http: reqwest::Client,
    signer: Option<Box<dyn RequestSigner>>,
    uid: Option<String>,
}

fn unix_now() -> i64 {
    trs_app::Clock::now(&trs_app::SystemClock)
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
        Ok(Self { base: global.url.trim_end_matches('/').to_string(), http, signer, uid: global.uid.clone() })
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
        let signer = self.signer()?;
        let headers = trs_auth::sign_request(signer, method.as_str(), path, query, &body, unix_now())
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
        read_json(req.send().await.map_err(|e| self.connect_error(e))?).await
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

/// One line from an error response: `CODE: message (HTTP status)`.
pub async fn error_of(resp: reqwest::Response) -> CliError {
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    let parsed: Option<serde_json::Value> = serde_json::from_str(&text).ok();
    let line = parsed
        .as_ref()
        .and_then(|v| v.get("error"))
        .map(|e| {
            format!(
                "{}: {}",
                e.get("code").and_then(|c| c.as_str()).unwrap_or("error"),
                e.get("message").and_then(|m| m.as_str()).unwrap_or("")
            )
        })
        .unwrap_or_else(|| text.lines().next().unwrap_or("").to_string());
    failed(format!("{line} (HTTP {})", status.as_u16()))
}

pub async fn read_json<T: DeserializeOwned>(resp: reqwest::Response) -> CliResult<T> {
    if !resp.status().is_success() {
        return Err(error_of(resp).await);
    }
    resp.json().await.map_err(|e| failed(format!("unexpected response: {e}")))
}

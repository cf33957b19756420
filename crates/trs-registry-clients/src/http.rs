//! The one place HTTP clients are built, and HTTP failures turned into [`DistributeError`]s.
//!
//! Every client this crate makes (each registry client, the `[ANNOUNCE]` check's
//! [`crate::HttpDownloader`]) comes from [`http_client`], so none can be built without a
//! connect and an overall timeout: a server that accepts the connection and then never answers
//! fails the attempt instead of stalling a task (and its worker) forever.

use trs_distribute::{DistributeError, Timeouts};

/// Who trs says it is to a registry.
const REGISTRY_USER_AGENT: &str = concat!("trs/", env!("CARGO_PKG_VERSION"));

/// An HTTP client with `timeouts` (to connect; for a whole request, body included) that
/// introduces itself as `user_agent`.
pub fn http_client(timeouts: Timeouts, user_agent: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(timeouts.connect)
        .timeout(timeouts.overall)
        .user_agent(user_agent)
        .build()
        .expect("an HTTP client with timeouts and a user agent builds")
}

/// The HTTP client of a registry client: [`http_client`] with the endpoint's timeouts.
pub(crate) fn client_for_registry(timeouts: Timeouts) -> reqwest::Client {
    http_client(timeouts, REGISTRY_USER_AGENT)
}

/// How the registry clients classify what HTTP did (an extension of [`DistributeError`], which
/// trs-distribute defines without knowing reqwest).
pub(crate) trait HttpErrors {
    /// Classifies a reqwest error (connection refused, timeout... are transient).
    fn from_reqwest(context: &str, e: reqwest::Error) -> DistributeError;
    /// Classifies an HTTP error status: 5xx and 429 are transient, the rest refusals.
    fn from_status(context: &str, status: reqwest::StatusCode, body: &str) -> DistributeError;
}

impl HttpErrors for DistributeError {
    fn from_reqwest(context: &str, e: reqwest::Error) -> DistributeError {
        // Without the URL: query strings could carry tokens on some platforms. With the
        // causes: "error sending request" alone does not say a timeout or a refused connection.
        DistributeError::Transient(format!("{context}: {}", trs_core::error_chain(&e.without_url())))
    }

    fn from_status(context: &str, status: reqwest::StatusCode, body: &str) -> DistributeError {
        let body: String = body.chars().take(300).collect();
        let message = format!("{context}: HTTP {status}: {}", body.trim());
        if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            DistributeError::Transient(message)
        } else {
            DistributeError::Refused(message)
        }
    }
}

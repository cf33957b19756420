//! The one error document every failed request gets, whatever the endpoint or host.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `{"error": {"code", "message"}}`: the answer to every request that failed, with the HTTP
/// status of its kind (400 bad request, 401 unauthenticated, 403 forbidden, 404 not found,
/// 405 method not allowed, 409 conflict, 410 gone, 413 too large, 500 internal, 507
/// insufficient storage).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorDetail {
    /// Stable and machine-readable (`not-found`, `stale-base`, `bad-signature`, …): branch on
    /// this, never on the message.
    pub code: String,
    /// For people: what went wrong and, where there is one, what to do.
    pub message: String,
}

impl ErrorBody {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        ErrorBody { error: ErrorDetail { code: code.into(), message: message.into() } }
    }
}

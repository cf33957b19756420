//! What the `trs` command exits with: 0 success, 1 an error (one-line reason on stderr),
//! 2 bad usage, 3 verification finished with a failing check (or a release stream's hash chain
//! is broken). With `--json` the reason is the API's error document on stderr,
//! `{"error": {"code", "message"}}` (plus `status`, the HTTP status, when the server refused),
//! with the server's code, or the kind of local error.

#[derive(Debug)]
pub enum CliError {
    Usage(String),
    Failed(String),
    /// The server refused the call: its error document's code and message, and the status.
    Api {
        status: u16,
        code: String,
        message: String,
    },
    VerificationFailed,
    /// A release stream failed `trs events verify`.
    ChainBroken(String),
}

impl CliError {
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Usage(_) => 2,
            CliError::Failed(_) | CliError::Api { .. } => 1,
            CliError::VerificationFailed | CliError::ChainBroken(_) => 3,
        }
    }
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CliError::Usage(m) | CliError::Failed(m) => f.write_str(m),
            CliError::Api { status, code, message } => write!(f, "{code}: {message} (HTTP {status})"),
            CliError::VerificationFailed => f.write_str("verification failed: at least one check failed"),
            CliError::ChainBroken(m) => write!(f, "release stream broken: {m}"),
        }
    }
}

impl CliError {
    /// The stable code: the server's for a refused call, else what kind of error it is.
    pub fn code(&self) -> &str {
        match self {
            CliError::Api { code, .. } => code,
            CliError::Usage(_) => "usage",
            CliError::Failed(_) => "failed",
            CliError::VerificationFailed => "verification-failed",
            CliError::ChainBroken(_) => "chain-broken",
        }
    }

    /// The error as `--json` prints it: the API's error document.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            CliError::Api { status, code, message } => {
                serde_json::json!({"error": {"code": code, "message": message, "status": status}})
            }
            other => serde_json::json!({"error": {"code": other.code(), "message": other.to_string()}}),
        }
    }
}

pub fn failed(e: impl std::fmt::Display) -> CliError {
    CliError::Failed(e.to_string())
}

pub type CliResult<T> = Result<T, CliError>;

//! What the `trs` command exits with: 0 success, 1 an error (one-line reason on stderr),
//! 2 bad usage, 3 verification finished with a failing check (or a release stream's hash chain
//! is broken).

#[derive(Debug)]
pub enum CliError {
    Usage(String),
    Failed(String),
    VerificationFailed,
    /// A release stream failed `trs events verify`.
    ChainBroken(String),
}

impl CliError {
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Usage(_) => 2,
            CliError::Failed(_) => 1,
            CliError::VerificationFailed | CliError::ChainBroken(_) => 3,
        }
    }
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CliError::Usage(m) | CliError::Failed(m) => f.write_str(m),
            CliError::VerificationFailed => f.write_str("verification failed: at least one check failed"),
            CliError::ChainBroken(m) => write!(f, "release stream broken: {m}"),
        }
    }
}

pub fn failed(e: impl std::fmt::Display) -> CliError {
    CliError::Failed(e.to_string())
}

pub type CliResult<T> = Result<T, CliError>;

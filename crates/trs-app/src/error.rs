//! The one error type of the service layer. Each variant knows its HTTP status and a stable,
//! machine-readable code, so every host (embedded server, Lambda) answers the same way and
//! clients can branch on `code` rather than on message text.

use trs_storage::{BlobError, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400: the request is malformed or names something invalid.
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    /// 401: the signed call could not be authenticated.
    #[error("{message}")]
    Unauthenticated { code: &'static str, message: String },
    /// 403: authenticated, but the role table does not allow it.
    #[error("{0}")]
    Forbidden(#[from] trs_core::Denied),
    /// 404
    #[error("{0}")]
    NotFound(String),
    /// 410: a public path of a revoked release; the message carries the reason.
    #[error("{0}")]
    Gone(String),
    /// 409: the request conflicts with the current state (stale base, stage, duplicate).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// 413
    #[error("{0}")]
    TooLarge(String),
    /// 507: the store has no room to write (a full disk); nothing was written. Retry once an
    /// operator has made room: no restart is needed.
    #[error("{0}")]
    InsufficientStorage(String),
    /// 500: a fault of ours or of a backend; details are logged, not leaked.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        AppError::BadRequest { code, message: message.into() }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        AppError::Conflict { code, message: message.into() }
    }

    pub fn status(&self) -> u16 {
        match self {
            AppError::BadRequest { .. } => 400,
            AppError::Unauthenticated { .. } => 401,
            AppError::Forbidden(_) => 403,
            AppError::NotFound(_) => 404,
            AppError::Gone(_) => 410,
            AppError::Conflict { .. } => 409,
            AppError::TooLarge(_) => 413,
            AppError::InsufficientStorage(_) => 507,
            AppError::Internal(_) => 500,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest { code, .. }
            | AppError::Unauthenticated { code, .. }
            | AppError::Conflict { code, .. } => code,
            AppError::Forbidden(_) => "forbidden-role",
            AppError::NotFound(_) => "not-found",
            AppError::Gone(_) => "release-revoked",
            AppError::TooLarge(_) => "too-large",
            AppError::InsufficientStorage(_) => "insufficient-storage",
            AppError::Internal(_) => "internal",
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            e if e.is_conflict() => AppError::conflict(
                "concurrent-update",
                format!("someone else changed this at the same time; retry ({e})"),
            ),
            StoreError::Invalid(m) => AppError::bad_request("invalid", m),
            StoreError::InsufficientStorage(m) => AppError::InsufficientStorage(format!(
                "the server has no room to store this change; nothing was written. Retry later ({m})"
            )),
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<BlobError> for AppError {
    fn from(e: BlobError) -> Self {
        match e {
            BlobError::NotFound(k) => AppError::NotFound(format!("object {k} not found")),
            BlobError::InvalidKey { .. } | BlobError::InvalidRange { .. } => {
                AppError::bad_request("invalid", e.to_string())
            }
            BlobError::TooLarge { .. } => AppError::TooLarge(e.to_string()),
            BlobError::UploadRefused(reason) => AppError::Unauthenticated {
                code: "upload-url-refused",
                message: format!("upload URL refused: {reason}"),
            },
            BlobError::AlreadyExists(_) => AppError::conflict("already-exists", e.to_string()),
            // A full disk under the embedded blob store (a write leaves nothing behind).
            BlobError::Io(io)
                if matches!(io.kind(), std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded) =>
            {
                AppError::InsufficientStorage(format!(
                    "the server has no room to store this file; nothing was kept. Retry later ({io})"
                ))
            }
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<trs_core::IdError> for AppError {
    fn from(e: trs_core::IdError) -> Self {
        AppError::bad_request("invalid-name", e.to_string())
    }
}

impl From<trs_core::PathError> for AppError {
    fn from(e: trs_core::PathError) -> Self {
        AppError::bad_request(e.code(), e.to_string())
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// Text a person typed, checked by the one rule for every free-text field
/// ([`trs_core::text`]): refused with `400 invalid-text` naming the `field`.
pub fn check_typed_text(field: &str, text: &str, lines: trs_core::text::Lines) -> AppResult<()> {
    match trs_core::text::refusal(text, lines) {
        None => Ok(()),
        Some(why) => Err(AppError::bad_request("invalid-text", format!("the {field} {why}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 13, item 5: a full disk is 507 `insufficient-storage`, whichever store hit it
    /// (ENOSPC carries the kind `StorageFull`, also through the blob store's context).
    #[test]
    fn a_full_disk_is_insufficient_storage_not_an_internal_error() {
        let enospc = || std::io::Error::from_raw_os_error(28);
        let blob = BlobError::Io(std::io::Error::new(enospc().kind(), format!("writing blobs/x: {}", enospc())));
        let item = StoreError::InsufficientStorage("committing: the disk holding the item store is full".into());
        for e in [AppError::from(blob), AppError::from(item)] {
            assert_eq!((e.status(), e.code()), (507, "insufficient-storage"), "{e}");
            assert!(e.to_string().contains("no room"), "{e}");
        }
        let other = AppError::from(BlobError::Io(std::io::Error::other("disk on fire")));
        assert_eq!(other.status(), 500);
    }
}

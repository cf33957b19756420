//! The blob store: S3's semantics, written small.
//!
//! Keys are immutable: [`BlobStore::put_if_absent`] never overwrites (S3's `If-None-Match: *`).
//! Bodies stream in both directions so that a 2 GiB file never sits in memory. Clients upload
//! through [`BlobStore::upload_url`] straight into the store, never through an API request body.

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};

/// A stream of body chunks.
pub type ByteStream = BoxStream<'static, std::io::Result<Bytes>>;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobMeta {
    pub key: String,
    pub size: u64,
    /// SHA-512 of the bytes, computed by the store itself while they were written (lowercase
    /// hex). Stores that cannot compute it (S3) leave it `None`; readers then hash the bytes.
    pub sha512: Option<String>,
}

/// An HTTP request a client makes to upload one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadUrl {
    pub method: String,
    pub url: String,
    /// Headers the client must send with the body.
    pub headers: Vec<(String, String)>,
    /// Unix seconds after which the URL is refused.
    pub expires_at: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("object {0} already exists")]
    AlreadyExists(String),
    #[error("object {0} not found")]
    NotFound(String),
    #[error("invalid object key {key:?}: {reason}")]
    InvalidKey { key: String, reason: &'static str },
    #[error("range {start}..{end} is outside object {key} of {size} bytes")]
    InvalidRange { key: String, start: u64, end: u64, size: u64 },
    #[error("object is larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("upload URL refused: {0}")]
    UploadRefused(&'static str),
    #[error("blob store I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("blob store backend: {0}")]
    Backend(String),
}

#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Stores `body` under `key` unless the key exists. Nothing is visible under `key` until
    /// the whole body has been written; a failed or interrupted write leaves nothing behind.
    async fn put_if_absent(&self, key: &str, body: ByteStream) -> Result<BlobMeta, BlobError>;

    async fn head(&self, key: &str) -> Result<Option<BlobMeta>, BlobError>;

    async fn get(&self, key: &str) -> Result<ByteStream, BlobError>;

    /// Bytes `[start, end)` of the object.
    async fn get_range(&self, key: &str, start: u64, end: u64) -> Result<ByteStream, BlobError>;

    /// Server-side copy to a key that must not exist yet.
    async fn copy_if_absent(&self, from: &str, to: &str) -> Result<BlobMeta, BlobError>;

    /// Keys under `prefix` in lexicographic order, after `after`, at most `limit`.
    async fn list(&self, prefix: &str, after: Option<&str>, limit: usize) -> Result<Vec<BlobMeta>, BlobError>;

    /// Deletes the object; deleting a missing object is not an error (S3's behaviour).
    async fn delete(&self, key: &str) -> Result<(), BlobError>;

    /// A URL through which a client can PUT exactly one object at `key` until `expires_at`
    /// (unix seconds), with at most `max_size` bytes.
    async fn upload_url(&self, key: &str, expires_at: i64, max_size: u64) -> Result<UploadUrl, BlobError>;

    /// A path on the local file system holding the object's bytes, if the store keeps them
    /// there (the embedded store does). Checks that need random access (zip) use it; other
    /// stores return `None` and callers download to a temporary file.
    fn local_path(&self, _key: &str) -> Option<std::path::PathBuf> {
        None
    }
}

/// Object keys are relative, `/`-separated, printable ASCII-safe paths without `.`/`..`
/// segments; every implementation checks them the same way.
pub fn check_key(key: &str) -> Result<(), BlobError> {
    let bad = |reason| Err(BlobError::InvalidKey { key: key.to_string(), reason });
    if key.is_empty() || key.len() > 1024 {
        return bad("length must be 1..=1024 bytes");
    }
    if key.starts_with('/') || key.ends_with('/') {
        return bad("must not start or end with '/'");
    }
    if key.chars().any(|c| c.is_control() || c == '\\') {
        return bad("must not contain control characters or backslashes");
    }
    if key.split('/').any(|s| s.is_empty() || s == "." || s == "..") {
        return bad("must not contain empty, '.' or '..' segments");
    }
    Ok(())
}

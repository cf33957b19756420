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
    /// The SHA-512 and SHA-256 states after the last byte, before finalization (see
    /// [`hash_state`]), so a signature over these bytes can be checked without reading them
    /// again. Stores that cannot keep them leave them `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha512_state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256_state: Option<String>,
}

/// The hash states kept in [`BlobMeta`]: `sha2`'s own serialized state, in lowercase hex.
/// An OpenPGP signature hashes the file's bytes and then its own trailer, so with the state
/// at the end of the bytes a verifier appends the trailer and finalizes: the file is read
/// once, as it streams in, and never again. GnuPG signs with SHA-256 or SHA-512 depending on
/// key and version, hence both.
pub mod hash_state {
    use sha2::digest::common::hazmat::SerializableState;

    pub fn encode<H: SerializableState>(state: &H) -> String {
        hex::encode(state.serialize().as_slice())
    }

    /// `None` when the text is not a state of this sha2 version (stale or foreign metadata):
    /// callers then read the bytes instead.
    pub fn decode<H: SerializableState>(text: &str) -> Option<H> {
        let bytes = hex::decode(text).ok()?;
        let array = bytes.as_slice().try_into().ok()?;
        H::deserialize(array).ok()
    }

    #[cfg(test)]
    mod tests {
        use sha2::Digest;

        #[test]
        fn a_restored_state_finishes_the_same_hash() {
            let mut h = sha2::Sha512::new();
            h.update(vec![7u8; 1000]);
            let restored: sha2::Sha512 = super::decode(&super::encode(&h)).unwrap();
            let (mut a, mut b) = (h, restored);
            a.update(b"trailer");
            b.update(b"trailer");
            assert_eq!(a.finalize(), b.finalize());
            assert!(super::decode::<sha2::Sha512>("00").is_none());
            let h256 = sha2::Sha256::new_with_prefix(b"abc");
            let r256: sha2::Sha256 = super::decode(&super::encode(&h256)).unwrap();
            assert_eq!(h256.finalize(), r256.finalize());
        }
    }
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

/// One part of a multipart upload as the store holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredPart {
    /// 1 for the first part.
    pub number: u32,
    pub size: u64,
    /// What the store answered to the part's PUT (S3: the MD5 of its bytes, quoted); a part
    /// sent again with other bytes gets another.
    pub etag: String,
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
    #[error("multipart upload {upload_id} of {key} not found (completed, aborted or never started)")]
    UploadNotFound { key: String, upload_id: String },
    /// A part named at completion is not the one the store holds (sent again with other bytes,
    /// or never sent).
    #[error("a part of {0} is not the part whose ETag was given")]
    PartMismatch(String),
    #[error("the blob store does not take uploads in parts")]
    NoMultipart,
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

    /// [`BlobStore::copy_if_absent`] of an object whose digests the caller computed
    /// (`hashes`: its `sha512` and hash states), for stores that do not keep them themselves
    /// (S3): the copy keeps them, and [`BlobStore::head`] answers them from then on.
    async fn copy_if_absent_with_hashes(
        &self,
        from: &str,
        to: &str,
        _hashes: &BlobMeta,
    ) -> Result<BlobMeta, BlobError> {
        self.copy_if_absent(from, to).await
    }

    /// Keys under `prefix` in lexicographic order, after `after`, at most `limit`.
    async fn list(&self, prefix: &str, after: Option<&str>, limit: usize) -> Result<Vec<BlobMeta>, BlobError>;

    /// Deletes the object; deleting a missing object is not an error (S3's behaviour).
    async fn delete(&self, key: &str) -> Result<(), BlobError>;

    /// A URL through which a client can PUT exactly one object at `key` until `expires_at`
    /// (unix seconds), with at most `max_size` bytes.
    async fn upload_url(&self, key: &str, expires_at: i64, max_size: u64) -> Result<UploadUrl, BlobError>;

    /// A URL through which anyone can GET the object at `key` until `expires_at` (unix
    /// seconds), answered as a download named `file_name` with that name's content type; `None`
    /// if the store has no such URLs (the embedded store: `trs serve` streams the bytes itself).
    /// Bytes per part of an object sent in parts, for stores that want objects larger than
    /// one part sent that way (S3: one PUT is capped at 5 GiB, and a part is the unit a client
    /// resumes by); `None` for stores that take one PUT of any size (the embedded store).
    fn part_size(&self) -> Option<u64> {
        None
    }

    /// Starts a multipart upload to `key` (which [`BlobStore::complete_multipart`] makes
    /// visible, if absent); answers its upload id.
    async fn create_multipart(&self, _key: &str) -> Result<String, BlobError> {
        Err(BlobError::NoMultipart)
    }

    /// One URL per part number in `parts` (1-based), through which a client can PUT that part
    /// of the multipart upload until `expires_at`; the answer to each PUT carries the part's
    /// ETag.
    async fn part_upload_urls(
        &self,
        _key: &str,
        _upload_id: &str,
        _parts: std::ops::RangeInclusive<u32>,
        _expires_at: i64,
    ) -> Result<Vec<UploadUrl>, BlobError> {
        Err(BlobError::NoMultipart)
    }

    /// The parts the store holds for the multipart upload, by number.
    async fn list_parts(&self, _key: &str, _upload_id: &str) -> Result<Vec<StoredPart>, BlobError> {
        Err(BlobError::NoMultipart)
    }

    /// Makes the multipart upload the object at `key`, if `key` is absent, from parts 1..=n
    /// whose ETags are `etags` in order: [`BlobError::PartMismatch`] if a part the store holds
    /// is not the one with the given ETag (nothing becomes visible then).
    async fn complete_multipart(&self, _key: &str, _upload_id: &str, _etags: &[String]) -> Result<(), BlobError> {
        Err(BlobError::NoMultipart)
    }

    async fn download_url(&self, _key: &str, _file_name: &str, _expires_at: i64) -> Result<Option<String>, BlobError> {
        Ok(None)
    }

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

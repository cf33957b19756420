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

    /// A URL through which anyone can GET the object at `key` until `expires_at` (unix
    /// seconds), answered as a download named `file_name` with that name's content type; `None`
    /// if the store has no such URLs (the embedded store: `trs serve` streams the bytes itself).
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

/// `Content-Disposition` naming a download `file_name` (RFC 6266): an ASCII fallback with
/// quotes, backslashes and non-ASCII replaced, and the exact name percent-encoded as UTF-8.
pub fn attachment_disposition(file_name: &str) -> String {
    let fallback: String = file_name
        .chars()
        .map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' })
        .collect();
    // RFC 5987's attr-char: alphanumerics and `!#$&+-.^_`|~` stay, everything else is encoded.
    const NOT_ATTR_CHAR: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'!')
        .remove(b'#')
        .remove(b'$')
        .remove(b'&')
        .remove(b'+')
        .remove(b'-')
        .remove(b'.')
        .remove(b'^')
        .remove(b'_')
        .remove(b'`')
        .remove(b'|')
        .remove(b'~');
    let encoded = percent_encoding::utf8_percent_encode(file_name, NOT_ATTR_CHAR);
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
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

/// The HTTP headers an object is stored and served with: decided here, once, for every store
/// and every server (S3 keeps them on the object, so CloudFront serves them as they are).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectHeaders {
    pub content_type: &'static str,
    pub cache_control: &'static str,
}

/// Files at a release's public path never change (a public path is never overwritten), so
/// caches keep them for a year without asking again.
pub const IMMUTABLE_PUBLIC: &str = "public, max-age=31536000, immutable";
/// Content-addressed files (`files/sha512/…`) never change either, but are not public.
pub const IMMUTABLE_PRIVATE: &str = "private, max-age=31536000, immutable";
/// Staged uploads and anything else: not to be cached.
pub const NO_STORE: &str = "no-store";

/// Key prefixes of the public download tree (trs-app's `storage_keys::public_prefix`).
pub const PUBLIC_PREFIXES: [&str; 2] = ["current/", "archive/"];

pub fn object_headers(key: &str) -> ObjectHeaders {
    let cache_control = if PUBLIC_PREFIXES.iter().any(|p| key.starts_with(p)) {
        IMMUTABLE_PUBLIC
    } else if key.starts_with("files/") {
        IMMUTABLE_PRIVATE
    } else {
        NO_STORE
    };
    ObjectHeaders { content_type: content_type(key), cache_control }
}

/// The media type of a release file by its name. Archives are served as themselves (never
/// `Content-Encoding: gzip`, which would make browsers unpack a `.tar.gz` on download).
pub fn content_type(key: &str) -> &'static str {
    let name = key.rsplit('/').next().unwrap_or(key).to_ascii_lowercase();
    let ext = |e: &str| name.ends_with(e);
    if ext(".tar.gz") || ext(".tgz") || ext(".gz") {
        "application/gzip"
    } else if ext(".zip") {
        "application/zip"
    } else if ext(".jar") {
        "application/java-archive"
    } else if ext(".bz2") {
        "application/x-bzip2"
    } else if ext(".xz") {
        "application/x-xz"
    } else if ext(".asc") {
        "application/pgp-signature"
    } else if ext(".sha512") || ext(".sha256") || ext(".sha1") || ext(".md5") || ext(".txt") || name == "keys" {
        "text/plain; charset=utf-8"
    } else if ext(".json") {
        "application/json"
    } else if ext(".html") {
        "text/html; charset=utf-8"
    } else if ext(".xml") {
        // The site's only XML is its Atom feeds.
        "application/atom+xml; charset=utf-8"
    } else if ext(".css") {
        "text/css; charset=utf-8"
    } else if ext(".js") {
        "text/javascript; charset=utf-8"
    } else if ext(".svg") {
        "image/svg+xml"
    } else if ext(".png") {
        "image/png"
    } else {
        "application/octet-stream"
    }
}

#[cfg(test)]
mod header_tests {
    use super::*;

    #[test]
    fn downloads_keep_their_file_name_even_a_hostile_one() {
        assert_eq!(
            attachment_disposition("apache-foo-1.0.0.tar.gz"),
            "attachment; filename=\"apache-foo-1.0.0.tar.gz\"; filename*=UTF-8''apache-foo-1.0.0.tar.gz"
        );
        assert_eq!(
            attachment_disposition("a \"b\"\\ü.zip"),
            "attachment; filename=\"a _b___.zip\"; filename*=UTF-8''a%20%22b%22%5C%C3%BC.zip"
        );
    }

    #[test]
    fn public_release_files_are_immutable_and_typed() {
        let h = object_headers("current/foo/1.0/foo-1.0.tar.gz");
        assert_eq!((h.content_type, h.cache_control), ("application/gzip", IMMUTABLE_PUBLIC));
        assert_eq!(object_headers("archive/foo/0.9/foo-0.9.zip.asc").content_type, "application/pgp-signature");
        assert_eq!(object_headers("uploads/abc/0").cache_control, NO_STORE);
        assert_eq!(object_headers("files/sha512/ab/abcd").cache_control, IMMUTABLE_PRIVATE);
        assert_eq!(object_headers("current/foo/1.0/KEYS").content_type, "text/plain; charset=utf-8");
    }
}

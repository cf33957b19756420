//! The published site's storage: a tree of static pages that downloaders read without ever
//! touching a server (a folder under `trs serve`, a bucket behind CloudFront on AWS), and the
//! CDN in front of it.
//!
//! Unlike the blob store, site objects are overwritten (a project page changes when a release
//! does), so each object carries the digest of its bytes: the publisher compares digests and
//! writes only the objects whose bytes changed, then asks the CDN to forget exactly those paths.

use async_trait::async_trait;
use bytes::Bytes;

/// HTML and JSON pages: caches may keep them briefly but must ask again (ETag) after that.
pub const PAGE_CACHE_CONTROL: &str = crate::headers::REVALIDATE;

/// One object of the site, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteObject {
    /// Path under the site root, without a leading `/` (e.g. `projects/foo/index.html`).
    pub path: String,
    pub bytes: Bytes,
    pub content_type: &'static str,
    pub cache_control: &'static str,
    /// Hex SHA-256 of `bytes`; also served as the ETag.
    pub digest: String,
}

impl SiteObject {
    /// A page with the headers the site serves it with (decided here, once).
    pub fn page(path: impl Into<String>, bytes: impl Into<Bytes>) -> Self {
        use sha2::Digest;
        let path = path.into();
        let bytes = bytes.into();
        let digest = hex::encode(sha2::Sha256::digest(&bytes));
        SiteObject {
            content_type: crate::headers::content_type(&path),
            cache_control: PAGE_CACHE_CONTROL,
            path,
            bytes,
            digest,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    #[error("invalid site path {0:?}")]
    InvalidPath(String),
    #[error("site storage: {0}")]
    Backend(String),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

/// Where the site's objects live.
#[async_trait]
pub trait SiteStore: Send + Sync + 'static {
    /// The digest the object at `path` was stored with, if it exists.
    async fn digest(&self, path: &str) -> Result<Option<String>, SiteError>;
    /// Writes (or overwrites) one object with its headers and digest.
    async fn put(&self, object: &SiteObject) -> Result<(), SiteError>;
    /// The object's bytes and headers, for serving (`None` if absent).
    async fn get(&self, path: &str) -> Result<Option<SiteObject>, SiteError>;
    /// Removes an object that no page produces any more (absent is not an error).
    async fn delete(&self, path: &str) -> Result<(), SiteError>;
    /// Every stored object's path, so a full build can delete what no page produces any more.
    /// `None`: the store cannot list (a full build then deletes nothing).
    async fn list(&self) -> Result<Option<Vec<String>>, SiteError> {
        Ok(None)
    }
}

/// Checks a site path: relative, `/`-separated, no empty, `.` or `..` segment, no backslash or
/// control character (so it stays inside the site's folder or bucket prefix).
pub fn check_path(path: &str) -> Result<(), SiteError> {
    let bad = path.is_empty()
        || path.starts_with('/')
        || path.chars().any(|c| c == '\\' || c.is_control())
        || path.split('/').any(|seg| seg.is_empty() || seg == "." || seg == "..");
    if bad { Err(SiteError::InvalidPath(path.to_string())) } else { Ok(()) }
}

/// The CDN in front of the site and the public release files.
#[async_trait]
pub trait CdnInvalidator: Send + Sync + 'static {
    /// Asks the CDN to drop its copies of `paths` (each starting with `/`). Returns an
    /// identifier of the invalidation, if the CDN gives one.
    async fn invalidate(&self, paths: &[String]) -> Result<Option<String>, SiteError>;
}

/// No CDN (local `trs serve`): pages are revalidated by ETag, so nothing needs dropping.
pub struct NoCdn;

#[async_trait]
impl CdnInvalidator for NoCdn {
    async fn invalidate(&self, _paths: &[String]) -> Result<Option<String>, SiteError> {
        Ok(None)
    }
}

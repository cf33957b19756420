//! [`SiteStore`] on one S3 bucket (the site bucket behind CloudFront).
//!
//! Each object is stored with the Content-Type and Cache-Control its [`SiteObject`] carries
//! (S3 keeps them on the object and CloudFront serves them as they are), and with the hex
//! SHA-256 of its bytes as user metadata (`x-amz-meta-sha256`), so that [`SiteStore::digest`]
//! is one `HeadObject` and never a download. S3's own ETag cannot serve: it is an MD5 for a
//! plain upload and something else for a multipart one.
//!
//! Unlike release files, site objects are overwritten: a `PutObject` without condition. Two
//! publishers writing the same page at once would leave whichever wrote last; the
//! `publish-site` function runs with a reserved concurrency of one (infra/template.json), so
//! events are published one after the other.

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream as S3Body;
use bytes::Bytes;
use sha2::{Digest, Sha256};
use trs_storage::headers::{IMMUTABLE_PUBLIC, NO_STORE, content_type};
use trs_storage::site::{PAGE_CACHE_CONTROL, check_path};
use trs_storage::{SiteError, SiteObject, SiteStore};

/// The user-metadata name of the digest (sent as `x-amz-meta-sha256`).
pub const DIGEST_METADATA: &str = "sha256";

/// Cache-Control values a site object can carry. [`SiteObject`] holds `&'static str` headers,
/// so a value read back from S3 is matched against these; anything else (an object written by
/// hand) is served with the page default.
const KNOWN_CACHE_CONTROLS: [&str; 3] = [PAGE_CACHE_CONTROL, IMMUTABLE_PUBLIC, NO_STORE];

#[derive(Clone)]
pub struct S3SiteStore {
    client: Client,
    bucket: String,
}

fn status<E>(e: &SdkError<E, aws_sdk_s3::config::http::HttpResponse>) -> Option<u16> {
    e.raw_response().map(|r| r.status().as_u16())
}

fn backend<E: ProvideErrorMetadata + std::error::Error + 'static>(
    what: &str,
    path: &str,
    e: SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> SiteError {
    let http = status(&e).map(|s| format!("HTTP {s} ")).unwrap_or_default();
    let detail = match e.as_service_error() {
        Some(s) if s.code().is_some() => format!("{} {}", s.code().unwrap_or_default(), s.message().unwrap_or("")),
        _ => format!("{}", aws_sdk_s3::error::DisplayErrorContext(&e)),
    };
    SiteError::Backend(format!("S3 {what} {path}: {http}{detail}"))
}

/// Whether `digest` could be a hex SHA-256 (metadata written by something else is ignored).
fn is_sha256_hex(digest: &str) -> bool {
    digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl S3SiteStore {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self { client, bucket: bucket.into() }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }
}

#[async_trait]
impl SiteStore for S3SiteStore {
    /// The digest from the object's metadata. An object without one (uploaded by hand, say)
    /// counts as absent, so that the publisher writes it again, this time with its digest.
    async fn digest(&self, path: &str) -> Result<Option<String>, SiteError> {
        check_path(path)?;
        match self.client.head_object().bucket(&self.bucket).key(path).send().await {
            Ok(out) => Ok(out
                .metadata()
                .and_then(|m| m.get(DIGEST_METADATA))
                .filter(|d| is_sha256_hex(d))
                .map(|d| d.to_string())),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) || status(&e) == Some(404) => Ok(None),
            Err(e) => Err(backend("HeadObject", path, e)),
        }
    }

    async fn put(&self, object: &SiteObject) -> Result<(), SiteError> {
        check_path(&object.path)?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(&object.path)
            .content_type(object.content_type)
            .cache_control(object.cache_control)
            .metadata(DIGEST_METADATA, &object.digest)
            .content_length(object.bytes.len() as i64)
            .body(S3Body::from(object.bytes.clone()))
            .send()
            .await
            .map(drop)
            .map_err(|e| backend("PutObject", &object.path, e))
    }

    /// The object as stored. Its digest is computed from the bytes read (what the digest
    /// means), not taken from metadata; its Content-Type is the one its path decides, which is
    /// what [`SiteObject`]s are written with.
    async fn get(&self, path: &str) -> Result<Option<SiteObject>, SiteError> {
        check_path(path)?;
        let out = match self.client.get_object().bucket(&self.bucket).key(path).send().await {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) || status(&e) == Some(404) => {
                return Ok(None);
            }
            Err(e) => return Err(backend("GetObject", path, e)),
        };
        let cache_control = out
            .cache_control()
            .and_then(|stored| KNOWN_CACHE_CONTROLS.iter().find(|known| **known == stored))
            .copied()
            .unwrap_or(PAGE_CACHE_CONTROL);
        let bytes: Bytes = out
            .body
            .collect()
            .await
            .map_err(|e| SiteError::Backend(format!("S3 GetObject {path}: reading the body: {e}")))?
            .into_bytes();
        Ok(Some(SiteObject {
            path: path.to_string(),
            digest: hex::encode(Sha256::digest(&bytes)),
            content_type: content_type(path),
            cache_control,
            bytes,
        }))
    }

    async fn delete(&self, path: &str) -> Result<(), SiteError> {
        check_path(path)?;
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(path)
            .send()
            .await
            .map(drop)
            .map_err(|e| backend("DeleteObject", path, e))
    }

    /// Every key of the bucket, a `ListObjectsV2` page (1,000 keys) at a time.
    async fn list(&self) -> Result<Option<Vec<String>>, SiteError> {
        let mut paths = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| backend("ListObjectsV2", "", e))?;
            paths.extend(page.contents().iter().filter_map(|o| o.key()).map(str::to_string));
            match page.next_continuation_token() {
                Some(next) if page.is_truncated() == Some(true) => token = Some(next.to_string()),
                _ => return Ok(Some(paths)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hex_sha256_metadata_counts_as_a_digest() {
        assert!(is_sha256_hex(&"ab".repeat(32)));
        assert!(!is_sha256_hex(&"AB".repeat(32)));
        assert!(!is_sha256_hex("abc"));
        assert!(!is_sha256_hex(&"zz".repeat(32)));
    }
}

//! [`CdnInvalidator`] on CloudFront: after a publish, one `CreateInvalidation` for the paths
//! whose objects changed.
//!
//! CloudFront's limits shape the request ([InvalidationLimits]): at most 3,000 file paths and
//! 15 wildcard paths *in progress* per distribution, across all requests. Splitting a large
//! list into several requests would not help (the second waits for the first to finish), so
//! a list over the limits becomes the single wildcard `/*`: one path, which also costs one
//! path where CloudFront bills per path (a full rebuild is the usual reason). An incremental
//! publish invalidates a handful of paths, well inside the limits.
//!
//! When earlier invalidations still hold the quota, CloudFront answers
//! `TooManyInvalidationsInProgress`; the request is retried with growing pauses (about half a
//! minute in all) before giving up. Retrying later is not the same: the objects are already
//! written, so a rerun of the publisher finds nothing changed and would invalidate nothing.
//!
//! [InvalidationLimits]: https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/InvalidationLimits.html

use std::collections::BTreeSet;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_cloudfront::Client;
use aws_sdk_cloudfront::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_cloudfront::types::{InvalidationBatch, Paths};
use trs_storage::{CdnInvalidator, SiteError};

/// File paths CloudFront allows in progress per distribution (and per request).
pub const MAX_FILE_PATHS: usize = 3000;
/// Wildcard paths (`/projects/foo/*`) CloudFront allows in progress per distribution.
pub const MAX_WILDCARD_PATHS: usize = 15;
/// What a list over the limits becomes: everything.
pub const EVERYTHING: &str = "/*";

/// Pauses before each retry of a request refused with `TooManyInvalidationsInProgress`.
const RETRY_PAUSES: [Duration; 5] = [
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(4),
    Duration::from_secs(8),
    Duration::from_secs(16),
];

#[derive(Clone)]
pub struct CloudFrontInvalidator {
    client: Client,
    distribution_id: String,
}

impl CloudFrontInvalidator {
    pub fn new(client: Client, distribution_id: impl Into<String>) -> Self {
        Self { client, distribution_id: distribution_id.into() }
    }

    pub fn distribution_id(&self) -> &str {
        &self.distribution_id
    }
}

/// A path as CloudFront wants it: bytes outside RFC 3986's unreserved set (and `/`)
/// percent-encoded, a trailing `*` kept as the wildcard it is.
fn encode(path: &str) -> String {
    let (body, wildcard) = match path.strip_suffix('*') {
        Some(body) => (body, "*"),
        None => (path, ""),
    };
    let mut out = String::with_capacity(path.len());
    for b in body.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out + wildcard
}

/// The paths of one invalidation: each checked and encoded, without duplicates, in order; or
/// [`EVERYTHING`] when the list would exceed CloudFront's limits (or already asks for it).
pub fn invalidation_paths(paths: &[String]) -> Result<Vec<String>, SiteError> {
    let mut unique = BTreeSet::new();
    for path in paths {
        if !path.starts_with('/') || path.chars().any(char::is_control) {
            return Err(SiteError::InvalidPath(path.clone()));
        }
        unique.insert(encode(path));
    }
    let wildcards = unique.iter().filter(|p| p.ends_with('*')).count();
    if unique.contains(EVERYTHING) || wildcards > MAX_WILDCARD_PATHS || unique.len() > MAX_FILE_PATHS {
        return Ok(vec![EVERYTHING.to_string()]);
    }
    Ok(unique.into_iter().collect())
}

/// A CallerReference no other call uses (CloudFront treats a repeated reference as the same
/// request, and refuses it with different paths).
fn caller_reference() -> String {
    let millis =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or_default();
    format!("trs-{millis}-{:016x}", rand::random::<u64>())
}

#[async_trait]
impl CdnInvalidator for CloudFrontInvalidator {
    /// Returns the invalidation's id; `None` (and no request) for an empty list.
    async fn invalidate(&self, paths: &[String]) -> Result<Option<String>, SiteError> {
        let items = invalidation_paths(paths)?;
        if items.is_empty() {
            return Ok(None);
        }
        let build = |e: aws_sdk_cloudfront::error::BuildError| SiteError::Backend(format!("CloudFront request: {e}"));
        let batch = InvalidationBatch::builder()
            .caller_reference(caller_reference())
            .paths(Paths::builder().quantity(items.len() as i32).set_items(Some(items)).build().map_err(build)?)
            .build()
            .map_err(build)?;
        let mut pauses = RETRY_PAUSES.iter();
        loop {
            let sent = self
                .client
                .create_invalidation()
                .distribution_id(&self.distribution_id)
                .invalidation_batch(batch.clone())
                .send()
                .await;
            match sent {
                Ok(out) => return Ok(out.invalidation().map(|i| i.id().to_string())),
                Err(e) if e.as_service_error().is_some_and(|s| s.is_too_many_invalidations_in_progress()) => {
                    let Some(pause) = pauses.next() else {
                        return Err(SiteError::Backend(format!(
                            "CloudFront CreateInvalidation on {}: still too many invalidations in progress \
                             after {} retries",
                            self.distribution_id,
                            RETRY_PAUSES.len()
                        )));
                    };
                    tracing::info!(distribution = %self.distribution_id, ?pause, "invalidation quota in use; waiting");
                    tokio::time::sleep(*pause).await;
                }
                Err(e) => {
                    let detail = match e.as_service_error() {
                        Some(s) if s.code().is_some() => {
                            format!("{} {}", s.code().unwrap_or_default(), s.message().unwrap_or(""))
                        }
                        _ => DisplayErrorContext(&e).to_string(),
                    };
                    return Err(SiteError::Backend(format!(
                        "CloudFront CreateInvalidation on {}: {detail}",
                        self.distribution_id
                    )));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(list: &[&str]) -> Vec<String> {
        list.iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn paths_are_encoded_deduplicated_and_sorted() {
        let got = invalidation_paths(&paths(&["/projects/foo/index.html", "/a b/ü.html", "/projects/foo/index.html"]));
        assert_eq!(got.unwrap(), ["/a%20b/%C3%BC.html", "/projects/foo/index.html"]);
        assert_eq!(invalidation_paths(&paths(&["/projects/foo/*"])).unwrap(), ["/projects/foo/*"]);
        assert_eq!(invalidation_paths(&[]).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn relative_paths_are_refused() {
        assert!(matches!(invalidation_paths(&paths(&["index.html"])), Err(SiteError::InvalidPath(_))));
        assert!(matches!(invalidation_paths(&paths(&["/a\nb"])), Err(SiteError::InvalidPath(_))));
    }

    #[test]
    fn lists_over_the_limits_become_everything() {
        let files: Vec<String> = (0..MAX_FILE_PATHS).map(|i| format!("/p/{i}.html")).collect();
        assert_eq!(invalidation_paths(&files).unwrap().len(), MAX_FILE_PATHS, "at the limit: as given");
        let over: Vec<String> = (0..=MAX_FILE_PATHS).map(|i| format!("/p/{i}.html")).collect();
        assert_eq!(invalidation_paths(&over).unwrap(), [EVERYTHING]);
        let wild: Vec<String> = (0..=MAX_WILDCARD_PATHS).map(|i| format!("/p{i}/*")).collect();
        assert_eq!(invalidation_paths(&wild).unwrap(), [EVERYTHING]);
        assert_eq!(invalidation_paths(&paths(&["/index.html", "/*"])).unwrap(), [EVERYTHING]);
    }

    #[test]
    fn caller_references_differ_per_call() {
        assert_ne!(caller_reference(), caller_reference());
    }
}

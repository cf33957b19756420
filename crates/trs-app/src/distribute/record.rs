//! The distribution record: what trs did on one platform for one release.

use crate::app::App;
use crate::error::AppResult;
use crate::storage_keys as keys;
use serde::{Deserialize, Serialize};
use trs_core::{PersonUid, ReleaseId, RevisionKey};
use trs_distribute::PlatformName;
use trs_storage::Item;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DistributionRecord {
    pub release: ReleaseId,
    pub platform: PlatformName,
    /// Owner namespace (GitHub owner, Maven groupId, OCI namespace), if the platform has one.
    #[serde(default)]
    pub namespace: Option<String>,
    pub package: String,
    pub version: String,
    /// On the platform's staging (not yet promoted).
    pub staging: bool,
    /// A run started and has not finished (an interrupted run leaves it set).
    pub pending: bool,
    /// Transient failures retried so far, over all runs.
    pub retries: u32,
    /// When the platform says the files were uploaded (Unix seconds).
    pub upload_date: Option<i64>,
    pub api_url: Option<String>,
    pub web_url: Option<String>,
    pub created_by: Option<PersonUid>,
    /// The revision whose bytes were staged: a staged distribution is promoted only if this
    /// is the release's voted revision key.
    pub staged_revision_key: Option<RevisionKey>,
    /// The revision whose bytes are on the platform's production (after distribution or
    /// promotion).
    #[serde(default)]
    pub production_revision_key: Option<RevisionKey>,
    /// Why the last run failed (never a credential).
    pub last_error: Option<String>,
    /// Platform facts (release id, manifest digest, deployment id...).
    #[serde(default)]
    pub details: serde_json::Value,
    /// What an unfinished run recorded so the next one resumes its work instead of starting
    /// it again (the Maven Central deployment uploaded but not yet validated or published:
    /// `{"deployment_id": ID}`); `null` once a run finishes.
    #[serde(default)]
    pub in_flight: serde_json::Value,
    pub created_at: i64,
    pub updated_at: i64,
}

impl DistributionRecord {
    pub fn key(&self) -> trs_storage::Key {
        keys::distribution(
            &self.release,
            self.platform.as_str(),
            self.namespace.as_deref(),
            &self.package,
            &self.version,
        )
    }

    /// Finished on production, without error.
    pub fn in_production(&self) -> bool {
        !self.staging && !self.pending && self.last_error.is_none() && self.production_revision_key.is_some()
    }

    /// Finished on staging, without error.
    pub fn staged(&self) -> bool {
        self.staging && !self.pending && self.last_error.is_none() && self.staged_revision_key.is_some()
    }
}

pub async fn get_record(
    app: &App,
    release: &ReleaseId,
    platform: PlatformName,
    namespace: Option<&str>,
    package: &str,
    version: &str,
) -> AppResult<Option<(DistributionRecord, Item)>> {
    let key = keys::distribution(release, platform.as_str(), namespace, package, version);
    match app.items.get(&key).await? {
        Some(item) => Ok(Some((item.parse()?, item))),
        None => Ok(None),
    }
}

/// Every distribution record of a release, in key order (platform, namespace, package).
pub async fn list_records(app: &App, release: &ReleaseId) -> AppResult<Vec<DistributionRecord>> {
    app.all_items(keys::distributions(release)).await
}

//! Distribution to package registries (docs/distribute.md): the project's automatic
//! distributions, a request to distribute a release, and what was distributed.

use crate::common::ReleaseRef;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A distribution every promotion runs (with the policy's `auto_distribute`): to
/// production, or with `staging`, the promotion of the staged distribution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AutoDistribution {
    /// A platform: `github`, `pypi`, `npm`, `oci`, `maven`, …
    pub platform: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub package: String,
    #[serde(default)]
    pub staging: bool,
}

/// The body of `POST /api/v1/projects/{project}/distributions`: the whole new list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetAutoDistributions {
    pub distributions: Vec<AutoDistribution>,
}

/// `GET` and `POST /api/v1/projects/{project}/distributions`: the distributions every
/// promotion of the project runs.
// Fields in the order the answer has always had them (alphabetical).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AutoDistributions {
    pub distributions: Vec<AutoDistribution>,
    pub project: String,
}

/// One distribution of a release, as asked for. Unlike the other request bodies, a spec's
/// unknown fields are ignored rather than refused: the server has always taken them.
// No `deny_unknown_fields`: refusing them now would refuse requests accepted so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DistributionSpec {
    /// `github`, `pypi`, `npm`, `oci` or `maven`.
    pub platform: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub package: String,
    /// To the platform's staging instead of production.
    #[serde(default)]
    pub staging: bool,
    /// Promote the staged distribution to production.
    #[serde(default)]
    pub promote: bool,
    /// Only `false` (or absent): staging a distribution that is missing when it is promoted
    /// is for the project's automatic distributions; a request stages first, then promotes,
    /// and `true` is refused (400 `malformed-request`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stage_if_missing: bool,
}

/// The body of `POST …/releases/{version}/distributions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestDistribution {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    pub distributions: Vec<DistributionSpec>,
}

/// `GET …/releases/{version}/distributions`: what trs did on each platform for the release.
// Fields in the order the answer has always had them (alphabetical).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReleaseDistributions {
    pub distributions: Vec<DistributionRecord>,
    /// `project/version` or `project/product/version`.
    pub release: String,
}

/// What trs did on one platform for one release.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DistributionRecord {
    pub release: ReleaseRef,
    pub platform: String,
    /// Owner namespace (GitHub owner, Maven groupId, OCI namespace), if the platform has one.
    pub namespace: Option<String>,
    pub package: String,
    pub version: String,
    /// On the platform's staging (not yet promoted).
    pub staging: bool,
    /// A run started and has not finished (an interrupted run leaves it set).
    pub pending: bool,
    /// Transient failures retried so far, over all runs.
    pub retries: u32,
    /// When the platform says the files were uploaded (unix seconds).
    pub upload_date: Option<i64>,
    pub api_url: Option<String>,
    pub web_url: Option<String>,
    pub created_by: Option<String>,
    /// The revision key whose bytes were staged.
    pub staged_revision_key: Option<String>,
    /// The revision key whose bytes are on the platform's production.
    pub production_revision_key: Option<String>,
    /// Why the last run failed.
    pub last_error: Option<String>,
    /// Platform facts (release id, manifest digest, deployment id, …).
    pub details: serde_json::Value,
    /// What an unfinished run recorded for the next one to resume; `null` once a run
    /// finishes.
    pub in_flight: serde_json::Value,
    pub created_at: i64,
    pub updated_at: i64,
}

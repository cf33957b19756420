//! A release's status: stage, latest revision, each file's checks, the newest vote.

use crate::common::{RevisionRef, Stage};
use crate::votes::{Tally, VoteState};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `GET /api/v1/projects/{project}/releases/{version}`: what `trs status` shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReleaseStatus {
    pub project: String,
    pub product: Option<String>,
    pub version: String,
    pub stage: Stage,
    /// Latest revision number (1, 2, …).
    pub revision: Option<u32>,
    pub revision_key: Option<String>,
    pub uploaded_by: Option<String>,
    /// `pending` until the latest revision has been verified, then `done`.
    pub verification: String,
    pub summary: Option<Summary>,
    pub files: Vec<FileStatus>,
    /// The newest vote: its state, pinned revision and tally.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vote: Option<VoteSummary>,
    /// The revision whose vote passed (the only one that may be promoted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voted_revision: Option<RevisionRef>,
    /// The published advisories that affect this release, each with the release that fixes
    /// it (docs/security-data.md). Unpublished advisories are never named.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub affected_by: Vec<AdvisoryNote>,
    /// The published advisories this release fixes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fixes: Vec<AdvisoryNote>,
}

/// A published advisory as a release's status names it: what it is, and the release that
/// fixes it (once trs holds it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AdvisoryNote {
    /// `CVE-YYYY-NNNN`.
    pub id: String,
    pub summary: String,
    /// CVSS's qualitative rating: `none`, `low`, `medium`, `high` or `critical`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    /// The version that fixes it, released or still to come.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    /// The release of that version, once trs holds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_by: Option<AdvisoryRelease>,
}

/// A release an advisory concerns (one it affects, or the one that fixes it), with its stage:
/// a revoked or archived one is still named, since people run old versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AdvisoryRelease {
    pub version: String,
    pub stage: Stage,
}

/// How many checks of the revision passed, warned and failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Summary {
    pub pass: usize,
    pub warn: usize,
    pub fail: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FileStatus {
    pub path: String,
    pub size: u64,
    pub sha512: String,
    pub checks: Vec<CheckResult>,
}

/// One check of one file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CheckResult {
    /// `checksum`, `signature`, `archive`, `license`, `paths`, `sbom`, …
    pub check: String,
    pub result: Outcome,
    pub reason: String,
    /// On a signature check: whose registered key made the signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer: Option<Signer>,
    /// On the `sbom` check that read the SBOM: what it holds (docs/security-data.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sbom: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Pass,
    Warn,
    Fail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Signer {
    /// Primary fingerprint of the registered certificate.
    pub fingerprint: String,
    /// The signing (sub)key's fingerprint, when it differs from the primary key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_key: Option<String>,
    pub user_id: Option<String>,
    /// The person the certificate is registered to.
    pub person: String,
}

/// The newest vote of a release, in short.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VoteSummary {
    pub number: u32,
    pub state: VoteState,
    pub revision: RevisionRef,
    pub opened_at: i64,
    pub closes_not_before: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<i64>,
    pub tally: Tally,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
}

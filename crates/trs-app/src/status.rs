//! What `trs status` shows: a release's stage, its latest revision, each file with its checks
//! (or `pending` while the verify task has not finished), the newest vote, and the published
//! advisories that affect the release or that it fixes.

use crate::app::App;
use crate::error::{AppError, AppResult};
use crate::releases::{get_release, get_revision};
use crate::storage_keys as keys;
use serde::{Deserialize, Serialize};
use trs_core::{CheckResult, PersonUid, ReleaseId, RevisionKey, RevisionRef, RevisionReport, Sha512, Stage};

/// Stored per revision once its verify task finishes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredReport {
    pub revision_key: RevisionKey,
    pub report: RevisionReport,
    pub finished_at: i64,
}

/// One file of the latest revision with its checks (none while the verification is pending).
#[derive(Debug, Clone)]
pub struct FileStatus {
    pub path: String,
    pub size: u64,
    pub sha512: Sha512,
    pub checks: Vec<CheckResult>,
}

/// How many checks of the revision passed, warned and failed.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    pub pass: usize,
    pub warn: usize,
    pub fail: usize,
}

/// A release's status as read; the API's answer is its view (`api_views`).
#[derive(Debug, Clone)]
pub struct ReleaseStatus {
    pub release: ReleaseId,
    pub stage: Stage,
    /// The latest revision; none before the first upload commits.
    pub revision: Option<RevisionRef>,
    pub uploaded_by: Option<PersonUid>,
    /// The latest revision's checks counted; none until its verification has finished.
    pub summary: Option<Summary>,
    pub files: Vec<FileStatus>,
    /// The newest vote: its state, pinned revision and tally.
    pub vote: Option<crate::vote::VoteSummary>,
    /// The revision whose vote passed (the only one that may be promoted).
    pub voted_revision: Option<RevisionRef>,
    /// The published advisories that affect this release, each with the release that fixes
    /// it (docs/security-data.md).
    pub affected_by: Vec<crate::cve::AdvisoryNote>,
    /// The published advisories this release fixes.
    pub fixes: Vec<crate::cve::AdvisoryNote>,
}

impl ReleaseStatus {
    /// The latest revision's verification has finished.
    pub fn verified(&self) -> bool {
        self.summary.is_some()
    }
}

pub async fn get_report(app: &App, id: &ReleaseId, number: u32) -> AppResult<Option<StoredReport>> {
    match crate::large_item::get(app, &keys::revision_report(id, number)).await? {
        Some(body) => {
            serde_json::from_value(body).map(Some).map_err(|e| AppError::Internal(format!("report of {id}: {e}")))
        }
        None => Ok(None),
    }
}

pub async fn release_status(app: &App, id: &ReleaseId) -> AppResult<ReleaseStatus> {
    let (release, _) =
        get_release(app, id).await?.ok_or_else(|| AppError::NotFound(format!("release {id} not found")))?;
    let notes = crate::cve::release_notes(app, id).await?;
    let mut status = ReleaseStatus {
        release: id.clone(),
        stage: release.stage,
        revision: None,
        uploaded_by: None,
        summary: None,
        files: Vec::new(),
        vote: crate::vote::summary(app, &release).await?,
        voted_revision: release.voted_revision.clone(),
        affected_by: notes.affected_by,
        fixes: notes.fixes,
    };
    let Some(latest) = &release.latest else { return Ok(status) };
    let revision = get_revision(app, id, latest.number).await?;
    let report = get_report(app, id, latest.number).await?;
    status.revision = Some(RevisionRef { number: revision.number, key: revision.key });
    status.uploaded_by = Some(revision.uploaded_by.clone());
    if let Some(stored) = &report {
        status.summary = Some(Summary {
            pass: stored.report.count(trs_core::Outcome::Pass),
            warn: stored.report.count(trs_core::Outcome::Warn),
            fail: stored.report.count(trs_core::Outcome::Fail),
        });
    }
    for entry in revision.manifest.entries() {
        let checks = report
            .as_ref()
            .and_then(|r| r.report.files.iter().find(|f| f.path == entry.path))
            .map(|f| f.checks.clone())
            .unwrap_or_default();
        status.files.push(FileStatus { path: entry.path.to_string(), size: entry.size, sha512: entry.sha512, checks });
    }
    // Orphan findings (e.g. a signature for a missing file) are reported under their own path.
    if let Some(stored) = &report {
        for f in &stored.report.files {
            if revision.manifest.get(f.path.as_str()).is_none() {
                status.files.push(FileStatus {
                    path: f.path.to_string(),
                    size: f.size,
                    sha512: f.sha512,
                    checks: f.checks.clone(),
                });
            }
        }
    }
    Ok(status)
}

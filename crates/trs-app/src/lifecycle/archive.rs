//! Archiving: a current (or end-of-life) release moves from `current/…` to `archive/…`, where
//! its files stay downloadable.
//!
//! 1. every file of the promoted revision is copied from its content-addressed original
//!    (`files/…`, the voted bytes, never deleted) to `archive/…` with put-if-absent (a path
//!    already holding exactly those bytes counts as copied);
//! 2. the stage becomes `archived`, with its event, in one transaction;
//! 3. the `current/…` copies are deleted.
//!
//! Each step is idempotent, so an archive interrupted anywhere is finished by asking again;
//! until step 2 the release is still served from `current/`, afterwards from `archive/`.

use super::{Planned, authorized_project, change_release, not_found};
use crate::app::App;
use crate::authenticate::Caller;
use crate::error::{AppError, AppResult};
use crate::public_copies;
use crate::releases::{get_release, get_revision};
use crate::storage_keys as keys;
use serde::Serialize;
use trs_core::{Change, EventDraft, ManifestEntry, Release, ReleaseId, Stage, StageSegment};

#[derive(Debug, Clone, Serialize)]
pub struct Archived {
    pub release: ReleaseId,
    pub files: usize,
    /// `/archive/…/` where the files are now served.
    pub public_prefix: String,
    /// The release was already archived (this call only finished leftover clean-up).
    pub already: bool,
}

/// Archives a release. `caller` is `None` when trs itself archives (a promotion policy that
/// archives the previous release).
pub async fn archive_release(app: &App, caller: Option<&Caller>, id: &ReleaseId) -> AppResult<Archived> {
    if let Some(caller) = caller {
        authorized_project(app, caller, id).await?;
    }
    let (release, _) = get_release(app, id).await?.ok_or_else(|| not_found(id))?;
    let already = release.stage == Stage::Archived;
    if !already {
        release.stage.archive().map_err(|e| AppError::conflict("wrong-stage", format!("release {id}: {e}")))?;
    }
    let entries = published_files(app, &release).await?;
    if !already {
        for entry in &entries {
            copy_to_archive(app, id, entry).await?;
        }
        let actor = caller.map(Caller::actor);
        let archived = change_release(app, id, |release| {
            if release.stage == Stage::Archived {
                return Ok(None);
            }
            let to = release.stage.archive().map_err(|e| AppError::conflict("wrong-stage", e.to_string()))?;
            let next = Release { stage: to, updated_at: app.now(), ..release.clone() };
            let mut draft = EventDraft::new(actor.clone(), Change::Archived).stage(Some(release.stage), to);
            if let Some(voted) = &release.voted_revision {
                draft = draft.revision(voted.key);
            }
            Ok(Some(Planned { next: Some(next), draft, extra: vec![], mail: Some(crate::mail::MailKind::Archived) }))
        })
        .await;
        if let Err(e) = archived {
            // Revoked while the files were copied: the archive copies must not stay public.
            public_copies::withdraw_if_revoked(app, id).await?;
            return Err(e);
        }
    }
    public_copies::remove(app, StageSegment::Current, id, &entries).await?;
    Ok(Archived {
        release: id.clone(),
        files: entries.len(),
        public_prefix: format!("/{}", keys::public_prefix(StageSegment::Archive, id)),
        already,
    })
}

/// The files that were published: the promoted (voted) revision's manifest.
async fn published_files(app: &App, release: &Release) -> AppResult<Vec<ManifestEntry>> {
    let voted = release.voted_revision.as_ref().ok_or_else(|| {
        AppError::conflict(
            "never-promoted",
            format!("release {} was never promoted; there is nothing to archive", release.id),
        )
    })?;
    Ok(get_revision(app, &release.id, voted.number).await?.manifest.entries().to_vec())
}

/// Copies one file into the archive from its content-addressed original: the voted bytes,
/// there whatever became of the `current/` copy, and read by the one permission every
/// archiving role has (`files/*`; no HEAD of a `current/` copy that may be gone, which S3
/// answers 403 to a role that may not list the bucket).
async fn copy_to_archive(app: &App, id: &ReleaseId, entry: &ManifestEntry) -> AppResult<()> {
    public_copies::place(app, StageSegment::Archive, id, entry).await
}

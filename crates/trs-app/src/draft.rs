//! Dropping a draft: a release that never went to a vote can be discarded by whoever manages
//! its releases. The release item goes, in one transaction with its `draft-discarded` event;
//! the version may then be uploaded again as a new release. Nothing public remains but the
//! stream's events (the views replay the discard as the release's end; the site drops its
//! page). Once a vote was opened, the release keeps its record (a failed or cancelled vote
//! returns it to draft for a corrected upload; `trs revoke` withdraws it).
//!
//! The discarded revisions and their reports stay on record under the release's partition, so
//! the revision numbers the stream names keep meaning what they meant: a marker item
//! remembers the last one, and a new upload of the version numbers on from it.

use crate::app::App;
use crate::authenticate::Caller;
use crate::error::{AppError, AppResult};
use crate::projects;
use crate::releases::get_release;
use crate::retry::{self, Attempt};
use crate::storage_keys as keys;
use crate::stream::{self, Committed};
use serde::{Deserialize, Serialize};
use serde_json::json;
use trs_core::{Action, Change, EventDraft, ReleaseId, Stage, StreamId, authorize};
use trs_storage::{Condition, Item, WriteOp};

/// The marker a discard leaves under the release's partition (never public).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct DiscardedDraft {
    /// The highest revision number any discarded draft of this version used.
    last_revision: u32,
    discarded_at: i64,
}

/// What `trs draft discard` answers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Discarded {
    pub release: ReleaseId,
    /// Its latest revision when it was dropped.
    pub revision: Option<u32>,
}

/// The highest revision number earlier, discarded drafts of `id` used (0: none).
pub async fn discarded_revisions(app: &App, id: &ReleaseId) -> AppResult<u32> {
    match app.items.get(&keys::discarded_draft(id)).await? {
        Some(item) => Ok(item.parse::<DiscardedDraft>()?.last_revision),
        None => Ok(0),
    }
}

pub async fn discard(app: &App, caller: &Caller, id: &ReleaseId) -> AppResult<Discarded> {
    let project = projects::get_project(app, &id.project).await?;
    authorize(&caller.person, Some(&project), Action::ManageRelease)?;
    retry::on_conflict(retry::ATTEMPTS, retry::too_busy(id), || async move {
        let (release, item) =
            get_release(app, id).await?.ok_or_else(|| AppError::NotFound(format!("release {id} not found")))?;
        if let Some(vote) = &release.vote {
            return Err(AppError::conflict(
                "vote-was-opened",
                format!(
                    "vote {} was opened on {id}, so it stays on record: upload a corrected revision and vote \
                     again, or withdraw it with `trs revoke`",
                    vote.number
                ),
            ));
        }
        if release.stage != Stage::CandidateDraft {
            return Err(AppError::conflict(
                "release-not-draft",
                format!("{id} is in stage {}; only a draft is discarded", release.stage),
            ));
        }
        let marker = app.items.get(&keys::discarded_draft(id)).await?;
        let last = release.latest.as_ref().map(|l| l.number).unwrap_or(0);
        let body = json!(DiscardedDraft { last_revision: last, discarded_at: app.now() });
        let marker_put = match &marker {
            Some(m) => WriteOp::Put { item: m.updated(body), condition: Condition::VersionIs(m.version) },
            None => WriteOp::Put { item: Item::new(keys::discarded_draft(id), body), condition: Condition::Absent },
        };
        let ops =
            vec![WriteOp::Delete { key: item.key.clone(), condition: Condition::VersionIs(item.version) }, marker_put];
        let revision = release.latest.as_ref().map(|l| l.number);
        let mut draft = EventDraft::new(Some(caller.actor()), Change::DraftDiscarded { revision }).release(id);
        if let Some(latest) = &release.latest {
            draft = draft.revision(latest.key);
        }
        match stream::commit_with_event(app, &StreamId::Project(id.project.clone()), draft, ops).await? {
            Committed::Done(_) => Ok(Attempt::Done(Discarded { release: id.clone(), revision })),
            // An upload, a vote or another discard got there first: look again.
            Committed::Conflict { .. } => Ok(Attempt::Conflicted),
        }
    })
    .await
}

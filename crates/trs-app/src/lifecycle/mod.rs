//! The lifecycle of a release after promotion: end-of-life and end-of-support dates (per
//! release or per release line such as `1.x`), archiving, revocation, freeform states, and the
//! scheduled tick that applies dates once they pass.
//!
//! Every change goes through [`crate::stream::commit_with_event`]: the release item and its
//! event land in one transaction, so the stream and the items never disagree.
//!
//! Decisions worth knowing:
//! - A revoked release keeps its files in the content-addressed store (they are evidence),
//!   but nothing serves them: its objects at public paths are deleted (a CDN or static host
//!   serves those as they are), the public paths show only current, end-of-life and archived
//!   releases, and a revoked release is never current or `latest`. An open vote on a revoked
//!   candidate is marked cancelled.
//! - Archiving *moves* a release: every file is copied to `archive/…` first (put-if-absent,
//!   resumable), then the stage changes, then the `current/…` copies are deleted. Until the
//!   stage changes the release is served from `current/`; afterwards from `archive/`.
//! - End-of-life and archiving queue a notice to the project's vote lists, revocation one to
//!   its announce lists, with the reason (each with its event, [`crate::mail`]).
//! - Dates are applied by the tick ([`run_scheduled`]), not when they are set, so a date in
//!   the past takes effect at the next tick (`trs serve` runs one every minute by default).

mod archive;
mod dates;
mod revoke;
mod states;
mod tick;

pub use archive::{Archived, archive_release};
pub use dates::{DatesTarget, set_dates};
pub use revoke::revoke;
pub use states::{enter_state, leave_state};
pub use tick::{DueOutcome, Report, run_scheduled};

use crate::app::App;
use crate::authenticate::Caller;
use crate::error::{AppError, AppResult};
use crate::mail::{self, MailKind};
use crate::projects;
use crate::releases::get_release;
use crate::retry::{self, Attempt};
use crate::stream::{self, Committed};
use serde_json::json;
use trs_core::{Action, Event, EventDraft, Project, Release, ReleaseId, StreamId, authorize};
use trs_storage::{Condition, WriteOp};

/// The project, once the caller is allowed to manage its releases.
async fn authorized_project(app: &App, caller: &Caller, id: &ReleaseId) -> AppResult<Project> {
    let project = projects::get_project(app, &id.project).await?;
    authorize(&caller.person, Some(&project), Action::ManageRelease)?;
    Ok(project)
}

fn not_found(id: &ReleaseId) -> AppError {
    AppError::NotFound(format!("release {id} not found"))
}

/// What a change to one release writes, decided from the release as it is now.
struct Planned {
    /// The release's next state; `None` writes nothing to it but still requires it unchanged.
    next: Option<Release>,
    draft: EventDraft,
    /// Further operations in the same transaction (due items).
    extra: Vec<WriteOp>,
    /// The notice the change sends (queued with its event, [`crate::mail`]).
    mail: Option<MailKind>,
}

/// Re-reads the release and asks `decide` what to write until the write lands without a
/// conflict. `decide` returning `None` means nothing to do (an idempotent repeat).
async fn change_release<F>(app: &App, id: &ReleaseId, decide: F) -> AppResult<(Release, Option<Event>)>
where
    F: Fn(&Release) -> AppResult<Option<Planned>>,
{
    let (stream, decide) = (&StreamId::Project(id.project.clone()), &decide);
    retry::on_conflict(retry::ATTEMPTS, retry::too_busy(format!("release {id}")), || async move {
        let (release, item) = get_release(app, id).await?.ok_or_else(|| not_found(id))?;
        let Some(plan) = decide(&release)? else { return Ok(Attempt::Done((release, None))) };
        let mut ops = vec![match &plan.next {
            Some(next) => {
                WriteOp::Put { item: item.updated(json!(next)), condition: Condition::VersionIs(item.version) }
            }
            None => WriteOp::Check { key: item.key.clone(), condition: Condition::VersionIs(item.version) },
        }];
        ops.extend(plan.extra);
        let vote = release.vote.as_ref().map_or(0, |v| v.number);
        let queue_mail = |event: &Event| match plan.mail {
            Some(kind) => mail::queue_ops(app, event, id, vote, kind, None),
            None => Vec::new(),
        };
        match stream::commit_with_event_and(app, stream, plan.draft.release(id), ops, queue_mail).await? {
            Committed::Done(event) => {
                if plan.mail.is_some() {
                    mail::announce(app, &event).await;
                }
                Ok(Attempt::Done((plan.next.unwrap_or(release), Some(event))))
            }
            Committed::Conflict { .. } => Ok(Attempt::Conflicted),
        }
    })
    .await
}

//! Revocation: immediate, with a required reason, from any stage but revoked.
//!
//! A revoked release stops being downloadable: its files are deleted from its public paths
//! (`current/…` and `archive/…`, which a CDN or static host serves as they are), *before* the
//! stage changes. The revocation's event is what makes the site publisher drop those paths
//! (and `latest`) from the CDN, so the objects are gone before any cache is told to forget
//! them; a cache miss in between could not fetch them again. The bytes stay, privately, in
//! the content-addressed store (`files/…`, never public): evidence of what was published.

use super::{Planned, authorized_project, change_release, not_found};
use crate::app::App;
use crate::authenticate::Caller;
use crate::error::{AppError, AppResult, check_typed_text};
use crate::public_copies;
use crate::releases::get_release;
use trs_core::{Change, Event, EventDraft, Release, ReleaseId, VoteState};

/// Longest reason kept (it is shown on pages and in every view).
const MAX_REASON: usize = 2000;

/// Revokes a release. A revoked release is never current or `latest`, its public files are no
/// longer served, and an open vote on it is cancelled.
pub async fn revoke(app: &App, caller: &Caller, id: &ReleaseId, reason: &str) -> AppResult<Event> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::bad_request("reason-required", "a revocation needs a reason (--reason TEXT)"));
    }
    if reason.chars().count() > MAX_REASON {
        return Err(AppError::bad_request("reason-too-long", format!("a reason has at most {MAX_REASON} characters")));
    }
    // Shown on one line of `trs releases` and `trs events`.
    check_typed_text("reason", reason, trs_core::text::Lines::One)?;
    authorized_project(app, caller, id).await?;
    let (release, _) = get_release(app, id).await?.ok_or_else(|| not_found(id))?;
    // Also when already revoked: a revocation interrupted after the stage changed is finished
    // by asking again (the answer is still `already-revoked`).
    public_copies::withdraw(app, &release).await?;
    let actor = caller.actor();
    let (_, event) = change_release(app, id, |release| {
        let to = release.stage.revoke().map_err(|_| {
            AppError::conflict(
                "already-revoked",
                format!("release {id} is already revoked ({})", release.revoked_reason.as_deref().unwrap_or("")),
            )
        })?;
        let now = app.now();
        let mut vote = release.vote.clone();
        if let Some(v) = vote.as_mut().filter(|v| v.state == VoteState::Open) {
            v.state = VoteState::Cancelled;
            v.closed_at = Some(now);
        }
        let next =
            Release { stage: to, revoked_reason: Some(reason.to_string()), vote, updated_at: now, ..release.clone() };
        let mut draft = EventDraft::new(Some(actor.clone()), Change::Revoked { reason: reason.to_string() })
            .stage(Some(release.stage), to);
        if let Some(latest) = &release.latest {
            draft = draft.revision(latest.key);
        }
        Ok(Some(Planned { next: Some(next), draft, extra: vec![], mail: Some(crate::mail::MailKind::Revoked) }))
    })
    .await?;
    event.ok_or_else(|| AppError::Internal("revocation wrote no event".into()))
}

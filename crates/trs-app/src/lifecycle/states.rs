//! Freeform states (`lts`, `security-only`, …) a release enters and leaves, as in the
//! release-stream proposal: every call is an event, recording whether it changed anything.

use super::{Planned, authorized_project, change_release};
use crate::app::App;
use crate::authenticate::Caller;
use crate::error::{AppError, AppResult};
use trs_core::views::check_state_name;
use trs_core::{Change, Event, EventDraft, Release, ReleaseId, Stage};

fn checked(state: &str) -> AppResult<()> {
    check_state_name(state).map_err(|m| AppError::bad_request("invalid-state", m))
}

/// The release enters `state`. Entering a state already held changes nothing but is still
/// recorded, with `already_held: true`. A revoked release is refused (`release-revoked`).
pub async fn enter_state(app: &App, caller: &Caller, id: &ReleaseId, state: &str) -> AppResult<Event> {
    checked(state)?;
    authorized_project(app, caller, id).await?;
    let actor = caller.actor();
    let (_, event) = change_release(app, id, |release| {
        // A revoked release is withdrawn: it may leave states, but takes on no new one.
        if release.stage == Stage::Revoked {
            return Err(AppError::conflict(
                "release-revoked",
                format!(
                    "{id} is revoked ({}); it enters no new state",
                    release.revoked_reason.as_deref().unwrap_or("")
                ),
            ));
        }
        let already_held = release.states.contains(state);
        let next = (!already_held).then(|| {
            let mut next = Release { updated_at: app.now(), ..release.clone() };
            next.states.insert(state.to_string());
            next
        });
        let draft = EventDraft::new(Some(actor.clone()), Change::StateEntered { state: state.into(), already_held });
        Ok(Some(Planned { next, draft, extra: vec![], mail: None }))
    })
    .await?;
    event.ok_or_else(|| AppError::Internal("state change wrote no event".into()))
}

/// The release leaves `state`. Leaving a state not held changes nothing but is still recorded,
/// with `was_held: false`.
pub async fn leave_state(app: &App, caller: &Caller, id: &ReleaseId, state: &str) -> AppResult<Event> {
    checked(state)?;
    authorized_project(app, caller, id).await?;
    let actor = caller.actor();
    let (_, event) = change_release(app, id, |release| {
        let was_held = release.states.contains(state);
        let next = was_held.then(|| {
            let mut next = Release { updated_at: app.now(), ..release.clone() };
            next.states.remove(state);
            next
        });
        let draft = EventDraft::new(Some(actor.clone()), Change::StateLeft { state: state.into(), was_held });
        Ok(Some(Planned { next, draft, extra: vec![], mail: None }))
    })
    .await?;
    event.ok_or_else(|| AppError::Internal("state change wrote no event".into()))
}

//! The lifecycle tick: reads the due items whose time has come, in time order, and does what
//! each says. Idempotent: an item is deleted in the same transaction as the change it causes
//! (or after a change that is itself idempotent), so running the tick twice changes nothing
//! the second time and writes no second event.

use super::dates::{END_OF_LIFE, LINE_END_OF_LIFE};
use super::{Planned, change_release};
use crate::app::App;
use crate::error::AppResult;
use crate::projects;
use crate::public::releases_of_line;
use crate::releases::get_release;
use crate::storage_keys as keys;
use serde::Serialize;
use trs_core::views::{governing_line, line_key};
use trs_core::{Change, EventDraft, Release, ReleaseId, Stage};
use trs_storage::{Condition, Item, Key, WriteOp};

/// The due-item kind for closing a vote whose duration has passed (written by the vote
/// function when the project opts in).
pub(crate) const VOTE_CLOSE: &str = crate::vote::DUE_KIND;

/// What one due item led to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "outcome")]
pub enum DueOutcome {
    /// The release moved to end-of-life.
    EndOfLife { release: String },
    /// A vote was closed.
    VoteClosed,
    /// Nothing to do any more (already done, date moved, release gone); the item was removed.
    Stale { reason: String },
    /// Not yet applicable (the release is not current yet); the item stays.
    Waiting { reason: String },
    /// The item's kind is unknown to this build; it stays for a build that knows it.
    Unknown,
    /// Handling failed; the item stays and the next tick tries again.
    Failed { error: String },
}

#[derive(Debug, Clone, Serialize)]
pub struct DueResult {
    pub at: i64,
    pub kind: String,
    pub release: String,
    pub outcomes: Vec<DueOutcome>,
}

/// What one tick did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub now: i64,
    pub items: Vec<DueResult>,
}

impl Report {
    /// Releases moved to end-of-life by this tick.
    pub fn moved_to_end_of_life(&self) -> Vec<String> {
        self.items
            .iter()
            .flat_map(|i| &i.outcomes)
            .filter_map(|o| match o {
                DueOutcome::EndOfLife { release } => Some(release.clone()),
                _ => None,
            })
            .collect()
    }
}

/// Runs every due item whose time is at or before now.
pub async fn run_scheduled(app: &App) -> AppResult<Report> {
    let now = app.now();
    let mut report = Report { now, items: Vec::new() };
    let mut query = keys::due_until(now);
    loop {
        let page = app.items.query(query.clone()).await?;
        for item in &page.items {
            let Some((at, kind, id)) = keys::parse_due(&item.key.sk) else {
                tracing::warn!(key = ?item.key, "unreadable due item left in place");
                continue;
            };
            let outcome = match handle(app, item, &kind, &id, now).await {
                Ok(outcome) => outcome,
                Err(e) => vec![DueOutcome::Failed { error: e.to_string() }],
            };
            report.items.push(DueResult { at, kind, release: id.to_string(), outcomes: outcome });
        }
        match page.next {
            Some(next) => query.after = Some(next),
            None => return Ok(report),
        }
    }
}

async fn handle(app: &App, item: &Item, kind: &str, id: &ReleaseId, now: i64) -> AppResult<Vec<DueOutcome>> {
    match kind {
        END_OF_LIFE => Ok(vec![release_end_of_life(app, &item.key, id, now).await?]),
        LINE_END_OF_LIFE => line_end_of_life(app, &item.key, id, now).await,
        VOTE_CLOSE => {
            // The vote deletes its due item itself, with the close; `remove` only clears one
            // left by a vote that had already ended another way.
            let closed = crate::vote::close_due_vote(app, id).await?;
            remove(app, &item.key).await?;
            Ok(vec![match closed {
                Some(_) => DueOutcome::VoteClosed,
                None => DueOutcome::Stale { reason: "no open vote to close".into() },
            }])
        }
        _ => Ok(vec![DueOutcome::Unknown]),
    }
}

/// Deletes a due item; one already gone is fine.
async fn remove(app: &App, key: &Key) -> AppResult<()> {
    app.items.delete(key, Condition::None).await?;
    Ok(())
}

fn stale(reason: impl Into<String>) -> DueOutcome {
    DueOutcome::Stale { reason: reason.into() }
}

/// Moves a current release whose end-of-life (`eol`, its own or its line's) has passed, and
/// deletes `due` in the same transaction. `None` when the release is not current.
async fn move_to_end_of_life(app: &App, id: &ReleaseId, due: Option<&Key>) -> AppResult<Option<DueOutcome>> {
    let (_, event) = change_release(app, id, |release| {
        if release.stage != Stage::Current {
            return Ok(None);
        }
        let next = Release { stage: Stage::EndOfLife, updated_at: app.now(), ..release.clone() };
        let draft = EventDraft::new(None, Change::EndOfLife).stage(Some(Stage::Current), Stage::EndOfLife);
        let extra = due.map(|k| WriteOp::Delete { key: k.clone(), condition: Condition::None }).into_iter().collect();
        Ok(Some(Planned { next: Some(next), draft, extra, mail: Some(crate::mail::MailKind::EndOfLife) }))
    })
    .await?;
    Ok(event.map(|_| DueOutcome::EndOfLife { release: id.to_string() }))
}

async fn release_end_of_life(app: &App, due: &Key, id: &ReleaseId, now: i64) -> AppResult<DueOutcome> {
    let Some((release, _)) = get_release(app, id).await? else {
        remove(app, due).await?;
        return Ok(stale("the release does not exist"));
    };
    match release.end_of_life {
        Some(t) if t <= now && keys::due(t, END_OF_LIFE, id) == *due => {}
        _ => {
            remove(app, due).await?;
            return Ok(stale("the release's end-of-life date has changed"));
        }
    }
    match release.stage {
        // Promoted later: the item stays so the date applies once it is current.
        Stage::CandidateDraft | Stage::Candidate => {
            Ok(DueOutcome::Waiting { reason: format!("release is {}; applies once current", release.stage) })
        }
        Stage::Current => match move_to_end_of_life(app, id, Some(due)).await? {
            Some(outcome) => Ok(outcome),
            None => {
                remove(app, due).await?;
                Ok(stale("the release is no longer current"))
            }
        },
        other => {
            remove(app, due).await?;
            Ok(stale(format!("the release is already {other}")))
        }
    }
}

/// A line's end-of-life: every current release of the line without a date of its own moves.
/// The item is deleted once all have moved, so an interrupted run is finished by the next.
async fn line_end_of_life(app: &App, due: &Key, line_id: &ReleaseId, now: i64) -> AppResult<Vec<DueOutcome>> {
    let project = projects::get_project(app, &line_id.project).await?;
    let key = line_key(line_id.product.as_ref(), line_id.version.as_str());
    match project.lines.get(&key).and_then(|d| d.end_of_life) {
        Some(t) if t <= now && keys::due(t, LINE_END_OF_LIFE, line_id) == *due => {}
        _ => {
            remove(app, due).await?;
            return Ok(vec![stale(format!("line {key}'s end-of-life date has changed"))]);
        }
    }
    let mut outcomes = Vec::new();
    for release in releases_of_line(app, &line_id.project, line_id.product.as_ref()).await? {
        // A release's own date, or a more specific line's, governs it instead.
        let governed_by_this_line = release.end_of_life.is_none()
            && governing_line(&project.lines, &release.id).is_some_and(|(k, _)| *k == key);
        if release.stage == Stage::Current
            && governed_by_this_line
            && let Some(outcome) = move_to_end_of_life(app, &release.id, None).await?
        {
            outcomes.push(outcome);
        }
    }
    remove(app, due).await?;
    if outcomes.is_empty() {
        outcomes.push(stale(format!("no current release of line {key} without its own date")));
    }
    Ok(outcomes)
}

//! The vote on a release candidate, from opening to its explained result.
//!
//! - **open**: a release manager pins the release's latest revision (number and key); under a
//!   strict policy only a revision whose verification finished without a failing check. The
//!   release moves to `candidate`, and uploads are refused until the vote ends.
//! - **cast**: anyone may vote +1, 0 or -1 by a signed call; the vote is binding if the voter is
//!   a committee member at that moment. One ballot item per voter: a later cast replaces the
//!   earlier one and keeps it in the ballot's history.
//! - **close**: not before the policy's minimum duration; the ballots are resolved by the policy
//!   captured when the vote opened, and the explanation is stored with the result. A passed
//!   vote records the voted revision (the only one promotion will publish); a failed one
//!   returns the release to draft. **cancel** returns it to draft at once.
//!
//! Every write is conditional on the release item's version and bumps it, casts included, so
//! two casts, or a cast and a close, never overwrite each other: the loser re-reads and tries
//! again (a cast that lost to a close is refused, because the vote is no longer open). With
//! `auto_close_votes`, opening writes a due item for the lifecycle schedule in the same
//! transaction, and every way a vote ends deletes it in the same transaction.
//!
//! - **replies on the list**: under a policy with `email_votes`, replies to the `[VOTE]` mail
//!   become ballots too ([`mail_import`]); an unsigned reply never replaces a signed ballot.
//!   The list's IMAP mailbox, when the project names one, is polled for them ([`mail_poll`]).
//!
//! Opening, closing and cancelling each queue their mail (`[VOTE]`, `[RESULT]`, `[CANCELLED]`)
//! in the transaction of their event ([`crate::mail`]).

pub mod email;
pub mod mail_import;
pub mod mail_poll;
pub mod replies;

use crate::app::App;
use crate::authenticate::Caller;
use crate::error::{AppError, AppResult};
use crate::mail::{self, MailKind};
use crate::projects;
use crate::releases::get_release;
use crate::retry::{self, Attempt};
use crate::status::get_report;
use crate::storage_keys as keys;
use crate::stream::{self, Committed};
use crate::time_text::{duration_text, rfc3339};
use serde::{Deserialize, Serialize};
use serde_json::json;
use trs_core::{
    Action, Actor, Ballot, Change, EventDraft, Outcome, Release, ReleaseId, Resolution, RevisionRef, SourceRef, Stage,
    StreamId, Tally, VoteRecord, VoteState, VoteValue, authorize,
};
use trs_storage::{Condition, Item, WriteOp};

/// The kind of the lifecycle due item that closes a vote whose minimum duration has passed.
pub const DUE_KIND: &str = "vote-close";

/// Longest comment kept with a ballot.
pub const MAX_COMMENT_CHARS: usize = 4000;

/// The body of a vote's due item (its key orders the lifecycle's work by time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DueVoteClose {
    pub kind: String,
    pub release: ReleaseId,
    pub vote: u32,
    pub at: i64,
}

/// A vote as `trs vote show` presents it (the API's answer is its view: `api_views`).
#[derive(Debug, Clone, PartialEq)]
pub struct VoteView {
    pub release: ReleaseId,
    pub stage: Stage,
    pub vote: VoteRecord,
    /// Every standing ballot, binding first, then by voter.
    pub ballots: Vec<Ballot>,
    pub tally: Tally,
    /// How the vote ended, or, while it is open, what closing it now would decide.
    pub resolution: Resolution,
    /// Seconds until the vote may be closed (0 once it may, or once it has ended).
    pub closes_in_secs: i64,
    pub voted_revision: Option<RevisionRef>,
    /// The `[VOTE]` mail's `Message-ID`: what replies on the list answer.
    pub vote_message_id: Option<String>,
    /// Every reply on the list read for this vote (`trs vote import-mail`), with its outcome:
    /// counted, kept, ambiguous, no vote, unknown sender.
    pub mail_replies: Vec<mail_import::MailReply>,
}

/// What a cast recorded (the API's answer is its view: `api_views`).
#[derive(Debug, Clone, PartialEq)]
pub struct CastReceipt {
    pub release: ReleaseId,
    pub vote: u32,
    pub revision: RevisionRef,
    pub ballot: Ballot,
    /// The value this cast replaced, if the voter had voted before.
    pub replaces: Option<VoteValue>,
}

fn not_found(id: &ReleaseId) -> AppError {
    AppError::NotFound(format!("release {id} not found"))
}

pub(crate) async fn load(app: &App, id: &ReleaseId) -> AppResult<(Release, Item)> {
    get_release(app, id).await?.ok_or_else(|| not_found(id))
}

/// The due item of a vote that closes itself (its key is fixed by the vote's close time).
pub fn due_key(id: &ReleaseId, vote: &VoteRecord) -> trs_storage::Key {
    keys::due(vote.closes_not_before, DUE_KIND, id)
}

/// Deleting the vote's due item, if the vote has one, in the transaction that ends it.
fn end_due_op(id: &ReleaseId, vote: &VoteRecord) -> Option<WriteOp> {
    vote.policy.auto_close_votes.then(|| WriteOp::Delete { key: due_key(id, vote), condition: Condition::None })
}

/// Every standing ballot of vote `number`, binding first, then by voter.
pub async fn ballots(app: &App, id: &ReleaseId, number: u32) -> AppResult<Vec<Ballot>> {
    let mut out: Vec<Ballot> = app.all_items(keys::ballots(id, number)).await?;
    out.sort_by(|a, b| (!a.binding, &a.voter).cmp(&(!b.binding, &b.voter)));
    Ok(out)
}

/// Why a vote cannot be opened on a release in this state.
fn refuse_open(release: &Release) -> Option<AppError> {
    let id = &release.id;
    let (code, message): (&'static str, String) = match release.stage {
        Stage::CandidateDraft => return None,
        Stage::Candidate => match release.vote.as_ref().map(|v| v.state) {
            Some(VoteState::Open) => ("vote-already-open", format!("a vote on {id} is already open")),
            Some(VoteState::Passed) => {
                ("vote-already-passed", format!("the vote on {id} has passed; promote it (`trs promote`)"))
            }
            _ => ("wrong-stage", format!("release {id} is a candidate without an open vote")),
        },
        Stage::Current => ("release-current", format!("release {id} is already the current release")),
        Stage::Archived => ("release-archived", format!("release {id} is archived")),
        Stage::EndOfLife => ("release-end-of-life", format!("release {id} has reached its end of life")),
        Stage::Revoked => (
            "release-revoked",
            format!(
                "release {id} is revoked{}",
                release.revoked_reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default()
            ),
        ),
    };
    Some(AppError::conflict(code, message))
}

/// Under a policy that requires an SBOM: the pinned revision holds one.
async fn check_sbom_present(app: &App, id: &ReleaseId, latest: &RevisionRef) -> AppResult<()> {
    let revision = crate::releases::get_revision(app, id, latest.number).await?;
    if revision.manifest.entries().iter().any(|e| trs_checks::sbom::SbomFormat::of(e.path.file_name()).is_some()) {
        return Ok(());
    }
    Err(AppError::conflict(
        "sbom-required",
        format!(
            "revision {} of {id} holds no SBOM, and the project's policy requires one for a vote: upload a CycloneDX \
             (.cdx.json, .cdx.xml) or SPDX (.spdx.json, .spdx, .spdx.rdf) file with its signature and checksum",
            latest.number
        ),
    ))
}

/// Under a strict policy: the pinned revision's verification must have finished without a
/// failing check.
async fn check_strict(app: &App, id: &ReleaseId, latest: &RevisionRef) -> AppResult<()> {
    let Some(stored) = get_report(app, id, latest.number).await? else {
        return Err(AppError::conflict(
            "verification-pending",
            format!(
                "revision {} of {id} has not been verified yet; the project's policy is strict, so a vote opens \
                 only once every check has run (see `trs status`)",
                latest.number
            ),
        ));
    };
    let failing: Vec<String> = stored
        .report
        .files
        .iter()
        .flat_map(|f| {
            f.checks
                .iter()
                .filter(|c| c.result == Outcome::Fail)
                .map(move |c| format!("{} ({}: {})", f.path, c.check, c.reason))
        })
        .collect();
    if failing.is_empty() {
        return Ok(());
    }
    Err(AppError::conflict(
        "checks-failing",
        format!(
            "revision {} of {id} has {} failing check(s); the project's policy is strict, so no vote opens until \
             they pass: {}",
            latest.number,
            failing.len(),
            failing.join("; ")
        ),
    ))
}

/// Opens a vote on the release's latest revision (release managers, committee members, admins).
pub async fn open(app: &App, caller: &Caller, id: &ReleaseId, duration_hours: Option<u32>) -> AppResult<VoteView> {
    open_with_source(app, caller, id, duration_hours, None).await
}

/// Longest tag, commit or source URL a vote records.
const MAX_SOURCE_CHARS: usize = 500;

/// The declared source, checked: one line each, a commit in hex, an http(s) URL.
fn check_source(source: Option<SourceRef>) -> AppResult<Option<SourceRef>> {
    let Some(source) = source.filter(|s| *s != SourceRef::default()) else { return Ok(None) };
    for (field, value) in [("--tag", &source.tag), ("--commit", &source.commit), ("--source-url", &source.url)] {
        if let Some(v) = value {
            if v.is_empty() || v.chars().count() > MAX_SOURCE_CHARS {
                return Err(AppError::bad_request(
                    "invalid-source",
                    format!("{field} must be 1 to {MAX_SOURCE_CHARS} characters"),
                ));
            }
            crate::error::check_typed_text(field, v, trs_core::text::Lines::One)?;
        }
    }
    if let Some(c) = &source.commit
        && !(c.len() >= 7 && c.len() <= 64 && c.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return Err(AppError::bad_request(
            "invalid-source",
            format!("--commit {c:?} is not a commit id (7 to 64 hexadecimal digits)"),
        ));
    }
    if let Some(u) = &source.url {
        let parsed = url::Url::parse(u)
            .map_err(|e| AppError::bad_request("invalid-source", format!("--source-url {u:?} is not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(AppError::bad_request("invalid-source", format!("--source-url {u:?} is not http(s)")));
        }
    }
    Ok(Some(source))
}

/// [`open`], recording where the candidate was built from (shown in the `[VOTE]` mail).
pub async fn open_with_source(
    app: &App,
    caller: &Caller,
    id: &ReleaseId,
    duration_hours: Option<u32>,
    source: Option<SourceRef>,
) -> AppResult<VoteView> {
    let source = check_source(source)?;
    let project = projects::get_project(app, &id.project).await?;
    authorize(&caller.person, Some(&project), Action::ManageRelease)?;
    let policy = project.policy_for(id.product.as_ref());
    let hours = duration_hours.unwrap_or(policy.min_vote_hours);
    if hours < policy.min_vote_hours {
        return Err(AppError::bad_request(
            "vote-too-short",
            format!(
                "a vote on {id} must run at least {} hours by the project's policy, not {hours}",
                policy.min_vote_hours
            ),
        ));
    }
    if hours > projects::MAX_VOTE_HOURS {
        return Err(AppError::bad_request(
            "vote-too-long",
            format!("{hours} hours is longer than a year ({} hours)", projects::MAX_VOTE_HOURS),
        ));
    }
    let (policy, source) = (&policy, &source);
    retry::on_conflict(retry::ATTEMPTS, too_busy(id), || async move {
        let (release, item) = load(app, id).await?;
        if let Some(refusal) = refuse_open(&release) {
            return Err(refusal);
        }
        let latest = release.latest.clone().ok_or_else(|| {
            AppError::conflict("no-revision", format!("release {id} has no revision yet; upload files first"))
        })?;
        if policy.require_sbom {
            check_sbom_present(app, id, &latest).await?;
        }
        if policy.strict {
            check_strict(app, id, &latest).await?;
        }
        let now = app.now();
        let vote = VoteRecord {
            number: release.vote.as_ref().map(|v| v.number + 1).unwrap_or(1),
            revision: latest.clone(),
            opened_at: now,
            closes_not_before: now + i64::from(hours) * 3600,
            policy: policy.clone(),
            state: VoteState::Open,
            closed_at: None,
            resolution: None,
            source: source.clone(),
        };
        let stage = release.stage.open_vote().map_err(|e| AppError::conflict("wrong-stage", e.to_string()))?;
        let next =
            Release { stage, vote: Some(vote.clone()), voted_revision: None, updated_at: now, ..release.clone() };
        let mut ops =
            vec![WriteOp::Put { item: item.updated(json!(next)), condition: Condition::VersionIs(item.version) }];
        if policy.auto_close_votes {
            let due = DueVoteClose {
                kind: DUE_KIND.into(),
                release: id.clone(),
                vote: vote.number,
                at: vote.closes_not_before,
            };
            ops.push(WriteOp::Put { item: Item::new(due_key(id, &vote), json!(due)), condition: Condition::None });
        }
        let draft = EventDraft::new(
            Some(caller.actor()),
            Change::VoteOpened {
                vote: vote.number,
                revision: latest.number,
                closes_not_before: vote.closes_not_before,
            },
        )
        .release(id)
        .revision(latest.key)
        .stage(Some(release.stage), stage);
        let queue_mail = |event: &trs_core::Event| mail::queue_ops(app, event, id, vote.number, MailKind::Vote, None);
        match stream::commit_with_event_and(app, &StreamId::Project(id.project.clone()), draft, ops, queue_mail).await?
        {
            Committed::Done(event) => {
                mail::announce(app, &event).await;
                let message_id = mail::vote_message_id(app, id, vote.number).await?;
                Ok(Attempt::Done(view_of(app, next, vec![], vec![], message_id)?))
            }
            Committed::Conflict { .. } => Ok(Attempt::Conflicted),
        }
    })
    .await
}

pub(crate) fn too_busy(id: &ReleaseId) -> AppError {
    retry::too_busy(format!("release {id}"))
}

pub(crate) fn no_open_vote(release: &Release) -> AppError {
    let id = &release.id;
    let message = match &release.vote {
        None => format!("release {id} has no vote; open one with `trs vote start`"),
        Some(v) => format!(
            "vote {} on {id} is not open (it {})",
            v.number,
            match v.state {
                VoteState::Passed => "passed",
                VoteState::Failed => "failed",
                VoteState::Cancelled => "was cancelled",
                VoteState::Open => "is open",
            }
        ),
    };
    AppError::conflict("no-open-vote", message)
}

fn check_comment(comment: &Option<String>) -> AppResult<Option<String>> {
    let Some(c) = comment.as_deref().map(str::trim).filter(|c| !c.is_empty()) else { return Ok(None) };
    if c.chars().count() > MAX_COMMENT_CHARS {
        return Err(AppError::bad_request(
            "comment-too-long",
            format!("a vote comment is limited to {MAX_COMMENT_CHARS} characters"),
        ));
    }
    crate::error::check_typed_text("vote comment", c, trs_core::text::Lines::Many)?;
    Ok(Some(c.to_string()))
}

/// Casts (or replaces) the caller's vote on the release's open vote. Binding if the caller is a
/// committee member of the project now.
pub async fn cast(
    app: &App,
    caller: &Caller,
    id: &ReleaseId,
    value: VoteValue,
    comment: Option<String>,
) -> AppResult<CastReceipt> {
    let comment = check_comment(&comment)?;
    let (stream_id, comment) = (&StreamId::Project(id.project.clone()), &comment);
    retry::on_conflict(retry::BALLOT_ATTEMPTS, too_busy(id), || async move {
        // The project is re-read on every attempt: binding means a committee member *now*.
        let project = projects::get_project(app, &id.project).await?;
        authorize(&caller.person, Some(&project), Action::Vote)?;
        let binding = authorize(&caller.person, Some(&project), Action::BindingVote).is_ok();
        let (release, item) = load(app, id).await?;
        let vote = release.open_vote().cloned().ok_or_else(|| no_open_vote(&release))?;
        let ballot_key = keys::ballot(id, vote.number, &caller.person.uid);
        let existing = app.items.get(&ballot_key).await?;
        let previous: Option<Ballot> = existing.as_ref().map(|i| i.parse()).transpose()?;
        let now = app.now();
        let earlier = Ballot::history_replacing(previous.as_ref());
        let ballot = Ballot {
            voter: caller.person.uid.clone(),
            key: Some(caller.key.clone()),
            value,
            binding,
            comment: comment.clone(),
            cast_at: now,
            earlier,
            source: trs_core::BallotSource::Call,
            message_id: None,
        };
        let ballot_op = ballot_write(existing.as_ref(), ballot_key, &ballot);
        let next = Release { updated_at: now, ..release.clone() };
        let ops = vec![
            WriteOp::Put { item: item.updated(json!(next)), condition: Condition::VersionIs(item.version) },
            ballot_op,
        ];
        let replaces = previous.as_ref().map(|p| p.value);
        let draft = EventDraft::new(
            Some(caller.actor()),
            Change::VoteCast { vote: vote.number, value, binding, comment: comment.clone(), replaces, email: None },
        )
        .release(id)
        .revision(vote.revision.key);
        match stream::commit_with_event(app, stream_id, draft, ops).await? {
            Committed::Done(_) => Ok(Attempt::Done(CastReceipt {
                release: id.clone(),
                vote: vote.number,
                revision: vote.revision,
                ballot,
                replaces,
            })),
            Committed::Conflict { .. } => Ok(Attempt::Conflicted),
        }
    })
    .await
}

/// Resolves the ballots, and adds to the explanation the replies on the list that were not
/// counted (ambiguous ones, unknown senders), so the result says what it left out.
fn resolve_with_replies(
    ballots: &[Ballot],
    policy: &trs_core::Policy,
    replies: &[mail_import::MailReply],
) -> Resolution {
    let mut resolution = trs_core::vote::resolve(ballots, policy);
    resolution.explanation.push_str(&mail_import::explain(replies));
    resolution
}

fn view_of(
    app: &App,
    release: Release,
    ballots: Vec<Ballot>,
    mail_replies: Vec<mail_import::MailReply>,
    vote_message_id: Option<String>,
) -> AppResult<VoteView> {
    let vote = release.vote.clone().ok_or_else(|| no_open_vote(&release))?;
    let resolution = match &vote.resolution {
        Some(r) => r.clone(),
        None => resolve_with_replies(&ballots, &vote.policy, &mail_replies),
    };
    let closes_in_secs = if vote.state == VoteState::Open { (vote.closes_not_before - app.now()).max(0) } else { 0 };
    Ok(VoteView {
        release: release.id.clone(),
        stage: release.stage,
        tally: Tally::of(&ballots),
        ballots,
        resolution,
        closes_in_secs,
        voted_revision: release.voted_revision.clone(),
        vote,
        vote_message_id,
        mail_replies,
    })
}

/// The release's newest vote: ballots, tally, and the explained (would-be) result.
pub async fn show(app: &App, id: &ReleaseId) -> AppResult<VoteView> {
    let (release, _) = load(app, id).await?;
    let Some(vote) = &release.vote else {
        return Err(AppError::NotFound(format!("release {id} has no vote; open one with `trs vote start`")));
    };
    let ballots = ballots(app, id, vote.number).await?;
    let replies = mail_import::replies_of(app, id, vote.number).await?;
    let message_id = mail::vote_message_id(app, id, vote.number).await?;
    view_of(app, release, ballots, replies, message_id)
}

/// Resolves the open vote and records the result with the release, in one transaction.
/// `Ok(None)` when `only_if_due` and the vote is not open or not yet due.
async fn resolve_and_record(
    app: &App,
    actor: Option<Actor>,
    id: &ReleaseId,
    only_if_due: bool,
) -> AppResult<Option<VoteView>> {
    let actor = &actor;
    retry::on_conflict(retry::BALLOT_ATTEMPTS, too_busy(id), || async move {
        let (release, item) = load(app, id).await?;
        let now = app.now();
        let vote = match release.open_vote() {
            Some(v) => v.clone(),
            None if only_if_due => return Ok(Attempt::Done(None)),
            None => return Err(no_open_vote(&release)),
        };
        if now < vote.closes_not_before {
            if only_if_due {
                return Ok(Attempt::Done(None));
            }
            let left = vote.closes_not_before - now;
            return Err(AppError::conflict(
                "vote-too-young",
                format!(
                    "vote {} on {id} must stay open {} more (until {}); the policy it opened under asks for {} hours",
                    vote.number,
                    duration_text(left),
                    rfc3339(vote.closes_not_before),
                    vote.policy.min_vote_hours
                ),
            ));
        }
        let ballots = ballots(app, id, vote.number).await?;
        let replies = mail_import::replies_of(app, id, vote.number).await?;
        let resolution = resolve_with_replies(&ballots, &vote.policy, &replies);
        let closed = VoteRecord {
            state: if resolution.passed { VoteState::Passed } else { VoteState::Failed },
            closed_at: Some(now),
            resolution: Some(resolution.clone()),
            ..vote.clone()
        };
        let (stage, voted_revision) = if resolution.passed {
            (release.stage, Some(vote.revision.clone()))
        } else {
            (
                release
                    .stage
                    .vote_failed_or_cancelled()
                    .map_err(|e| AppError::conflict("wrong-stage", e.to_string()))?,
                None,
            )
        };
        let next = Release { stage, vote: Some(closed), voted_revision, updated_at: now, ..release.clone() };
        let mut ops =
            vec![WriteOp::Put { item: item.updated(json!(next)), condition: Condition::VersionIs(item.version) }];
        ops.extend(end_due_op(id, &vote));
        let mut draft = EventDraft::new(
            actor.clone(),
            Change::VoteClosed {
                vote: vote.number,
                passed: resolution.passed,
                explanation: resolution.explanation.clone(),
            },
        )
        .release(id)
        .revision(vote.revision.key);
        if stage != release.stage {
            draft = draft.stage(Some(release.stage), stage);
        }
        let answers = mail::vote_message_id(app, id, vote.number).await?;
        let queue_mail =
            |event: &trs_core::Event| mail::queue_ops(app, event, id, vote.number, MailKind::Result, answers.clone());
        match stream::commit_with_event_and(app, &StreamId::Project(id.project.clone()), draft, ops, queue_mail).await?
        {
            Committed::Done(event) => {
                mail::announce(app, &event).await;
                Ok(Attempt::Done(Some(view_of(app, next, ballots, replies, answers)?)))
            }
            // A cast (or another close) got in first: resolve again with what is there now.
            Committed::Conflict { .. } => Ok(Attempt::Conflicted),
        }
    })
    .await
}

/// Closes the open vote once its minimum duration has passed: passed (the voted revision is
/// recorded; the release stays a candidate, ready to promote) or failed (back to draft).
pub async fn close(app: &App, caller: &Caller, id: &ReleaseId) -> AppResult<VoteView> {
    let project = projects::get_project(app, &id.project).await?;
    authorize(&caller.person, Some(&project), Action::ManageRelease)?;
    resolve_and_record(app, Some(caller.actor()), id, false)
        .await?
        .ok_or_else(|| AppError::Internal("vote close returned nothing".into()))
}

/// For the lifecycle schedule: closes the release's vote if it is open, opted in to closing
/// itself, and due, as trs itself (no actor). `Ok(None)` when there is nothing to do, so
/// running it again changes nothing. Deletes the vote's due item in the same transaction.
pub async fn close_due_vote(app: &App, release: &ReleaseId) -> AppResult<Option<Resolution>> {
    let (current, _) = load(app, release).await?;
    match current.open_vote() {
        Some(v) if v.policy.auto_close_votes => {}
        _ => return Ok(None),
    }
    Ok(resolve_and_record(app, None, release, true).await?.map(|view| view.resolution))
}

/// Cancels the open vote: the release returns to draft (to upload a fix and vote again).
pub async fn cancel(app: &App, caller: &Caller, id: &ReleaseId) -> AppResult<VoteView> {
    let project = projects::get_project(app, &id.project).await?;
    authorize(&caller.person, Some(&project), Action::ManageRelease)?;
    retry::on_conflict(retry::BALLOT_ATTEMPTS, too_busy(id), || async move {
        let (release, item) = load(app, id).await?;
        let vote = release.open_vote().cloned().ok_or_else(|| no_open_vote(&release))?;
        let now = app.now();
        let stage =
            release.stage.vote_failed_or_cancelled().map_err(|e| AppError::conflict("wrong-stage", e.to_string()))?;
        let cancelled = VoteRecord { state: VoteState::Cancelled, closed_at: Some(now), ..vote.clone() };
        let next = Release { stage, vote: Some(cancelled), voted_revision: None, updated_at: now, ..release.clone() };
        let mut ops =
            vec![WriteOp::Put { item: item.updated(json!(next)), condition: Condition::VersionIs(item.version) }];
        ops.extend(end_due_op(id, &vote));
        let draft = EventDraft::new(Some(caller.actor()), Change::VoteCancelled { vote: vote.number })
            .release(id)
            .revision(vote.revision.key)
            .stage(Some(release.stage), stage);
        let answers = mail::vote_message_id(app, id, vote.number).await?;
        let queue_mail = |event: &trs_core::Event| {
            mail::queue_ops(app, event, id, vote.number, MailKind::Cancelled, answers.clone())
        };
        match stream::commit_with_event_and(app, &StreamId::Project(id.project.clone()), draft, ops, queue_mail).await?
        {
            Committed::Done(event) => {
                mail::announce(app, &event).await;
                let ballots = ballots(app, id, vote.number).await?;
                let replies = mail_import::replies_of(app, id, vote.number).await?;
                Ok(Attempt::Done(view_of(app, next, ballots, replies, answers)?))
            }
            Committed::Conflict { .. } => Ok(Attempt::Conflicted),
        }
    })
    .await
}

/// The vote part of `trs status`: which vote, its state and tally (open votes are tallied from
/// their ballots).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

pub async fn summary(app: &App, release: &Release) -> AppResult<Option<VoteSummary>> {
    let Some(vote) = &release.vote else { return Ok(None) };
    let tally = match &vote.resolution {
        Some(r) => r.tally.clone(),
        None => Tally::of(&ballots(app, &release.id, vote.number).await?),
    };
    Ok(Some(VoteSummary {
        number: vote.number,
        state: vote.state,
        revision: vote.revision.clone(),
        opened_at: vote.opened_at,
        closes_not_before: vote.closes_not_before,
        closed_at: vote.closed_at,
        tally,
        explanation: vote.resolution.as_ref().map(|r| r.explanation.clone()),
    }))
}

/// The write of a voter's ballot, conditional on what was read: it replaces the ballot read
/// (its version unchanged since), or it is the voter's first.
pub(super) fn ballot_write(existing: Option<&Item>, key: trs_storage::Key, ballot: &Ballot) -> WriteOp {
    match existing {
        Some(i) => WriteOp::Put { item: i.updated(json!(ballot)), condition: Condition::VersionIs(i.version) },
        None => WriteOp::Put { item: Item::new(key, json!(ballot)), condition: Condition::Absent },
    }
}

//! Polling the list's IMAP mailbox for replies to open votes (`trs project mail P --imap URL`):
//! what `trs serve` does on its own interval and the lifecycle schedule does on AWS, and what
//! `trs vote poll-mail` asks for at once.
//!
//! The poller only fetches: the messages go, raw, through [`mail_import::import`] (as trs
//! itself, no caller), the one reader of replies that `trs vote import-mail` uses too. It picks
//! the vote's thread, reads each reply once by its `Message-ID` and records ballots by the same
//! rules, so reading a message again (or importing the same archive as well) changes nothing.
//!
//! The scheduled poll ([`poll_all`]) reads each mailbox once for all the open votes that read
//! it, and remembers how far it read: the mailbox's UIDVALIDITY and the highest UID read, per
//! project and mailbox ([`keys::imap_mark`]). The next poll fetches only the messages after
//! that UID; a mailbox whose UIDVALIDITY changed (recreated: its UIDs name other messages) is
//! read from the start again, every message sent since the earliest of its votes opened. The
//! mark moves only after every vote handed the messages recorded their ballots, so a poll cut
//! short reads them again rather than losing them, and only forward (a conditional write: two
//! polls at once never move it back). `trs vote poll-mail` ([`poll_release`]) reads the whole
//! thread of one vote again and leaves the mark alone.
//!
//! On `trs serve` each poll is a round, a tracked task ([`TaskKind::PollMail`]) whose id is
//! derived from its interval slot ([`start_round`]): written only if absent, so a restart in
//! the slot or a second worker never polls that round again. Its steps and result say what
//! each mailbox gave, and a mailbox not read or replies not recorded fail it with the reason
//! ([`execute_round`]); [`recent_rounds`] lists the latest. On AWS the lifecycle function's
//! scheduled run calls [`poll_all`] in place.

use super::mail_import::{self, ImportReport};
use super::{load, no_open_vote};
use crate::app::App;
use crate::error::{AppError, AppResult};
use crate::mail::imap::{Fetched, ImapMailbox, UidMark};
use crate::projects::get_project;
use crate::public::releases_of_line;
use crate::retry::{self, Attempt};
use crate::storage_keys as keys;
use crate::tasks::{self, Ran, Task, TaskKind, TaskRun};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use trs_api::task_results::{PollRoundResult, PolledMailbox, PolledVote};
use trs_core::{OpaqueId, Project, ProjectName, Release, ReleaseId};
use trs_storage::{Condition, Item};

/// One vote polled by [`poll_all`]: its import report, or why its mailbox could not be read.
#[derive(Debug, Clone, Serialize)]
pub struct Polled {
    pub release: ReleaseId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<ImportReport>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// How many messages this poll fetched from the vote's mailbox: those after the mark of
    /// the last poll, or, with no mark or a changed UIDVALIDITY, every one sent since the
    /// mailbox's earliest open vote opened. `None`: the mailbox was not read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fetched: Option<usize>,
}

impl Polled {
    fn failed(release: ReleaseId, error: String, fetched: Option<usize>) -> Polled {
        Polled { release, report: None, error: Some(error), fetched }
    }
}

/// How far the poller read one of a project's mailboxes ([`keys::imap_mark`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxMark {
    /// The mailbox ([`ImapMailbox::identity`]).
    pub mailbox: String,
    #[serde(flatten)]
    pub mark: UidMark,
    /// When the mark last moved.
    pub read_at: i64,
}

/// The mark kept for a project's mailbox, with the version of its item (`None`: never read).
pub async fn mailbox_mark(app: &App, project: &ProjectName, mailbox: &str) -> AppResult<Option<(MailboxMark, u64)>> {
    match app.items.get(&keys::imap_mark(project, mailbox)).await? {
        Some(item) => Ok(Some((item.parse()?, item.version))),
        None => Ok(None),
    }
}

/// Reads the replies to the open vote on `id` from the project's IMAP mailbox now: every
/// message sent since the vote opened (the mark of the scheduled poll is neither used nor
/// moved). Refusals (each changes nothing): `409 no-open-vote`, `email-votes-off`,
/// `no-vote-mail`, `no-imap-mailbox` (the project names none), `no-imap-password` (this host
/// has none for it), `imap-failed` (the server could not be read: the reason, never the
/// password).
pub async fn poll_release(app: &App, id: &ReleaseId) -> AppResult<ImportReport> {
    let project = get_project(app, &id.project).await?;
    let Some(url) = project.mail_for(id.product.as_ref()).imap else {
        return Err(AppError::conflict(
            "no-imap-mailbox",
            format!(
                "project {} names no IMAP mailbox to poll: set one with `trs project mail {} --imap URL`",
                id.project, id.project
            ),
        ));
    };
    let (release, _) = load(app, id).await?;
    let vote = release.open_vote().cloned().ok_or_else(|| no_open_vote(&release))?;
    // Before connecting: a vote whose replies do not count is not worth a session.
    mail_import::thread_root(app, id, &vote).await?;
    let (mailbox, password) = mailbox_of(app, &id.project, &url)?;
    let raw = mailbox.fetch_sent_since(&password, vote.opened_at).await.map_err(|e| imap_failed(&id.project, e))?;
    import_all(app, id, raw).await
}

/// The mailbox a setting names, and this host's password for it.
fn mailbox_of(app: &App, project: &ProjectName, url: &str) -> AppResult<(ImapMailbox, String)> {
    let mailbox = ImapMailbox::parse(url)
        .map_err(|e| AppError::conflict("invalid-imap-url", format!("the IMAP mailbox of {project}: {e}")))?;
    let password = app.imap_passwords.as_ref().and_then(|p| p(project)).ok_or_else(|| {
        AppError::conflict(
            "no-imap-password",
            format!(
                "no password for the IMAP mailbox of {project}: set {} or TRS_IMAP_PASSWORD where trs runs",
                crate::mail::imap::password_variable(project)
            ),
        )
    })?;
    Ok((mailbox.trusting(app.imap_extra_roots.clone()), password))
}

fn imap_failed(project: &ProjectName, e: String) -> AppError {
    AppError::conflict("imap-failed", format!("reading the IMAP mailbox of {project}: {e}"))
}

/// Hands `raw` to the reader of replies for the open vote on `id`, in calls of at most
/// [`mail_import::MAX_BATCH_MESSAGES`], and merges their reports.
async fn import_all(app: &App, id: &ReleaseId, raw: Vec<Vec<u8>>) -> AppResult<ImportReport> {
    let mut merged: Option<ImportReport> = None;
    // In date order across calls: a reply to a reply finds its parent read by an earlier call.
    let mut batches: Vec<Vec<Vec<u8>>> = raw.chunks(mail_import::MAX_BATCH_MESSAGES).map(<[_]>::to_vec).collect();
    if batches.is_empty() {
        batches.push(Vec::new());
    }
    for batch in batches {
        let report = mail_import::import(app, None, id, batch).await?;
        merged = Some(match merged {
            None => report,
            Some(mut all) => {
                all.replies.extend(report.replies);
                all.already_read.extend(report.already_read);
                all.not_in_thread.extend(report.not_in_thread);
                all.unreadable.extend(report.unreadable);
                all
            }
        });
    }
    Ok(merged.expect("one batch at least"))
}

/// Polls every open vote that counts replies on the list, of every project (and product)
/// that names an IMAP mailbox: each mailbox once, for all its votes, from its mark on. A
/// mailbox that cannot be read is reported for its votes and the others are polled all the
/// same.
pub async fn poll_all(app: &App) -> AppResult<Vec<Polled>> {
    Ok(poll_mailboxes(app).await?.into_iter().flat_map(|m| m.votes).collect())
}

/// One mailbox read by [`poll_mailboxes`], with what each vote reading it recorded.
#[derive(Debug, Clone, Serialize)]
pub struct MailboxPolled {
    pub project: ProjectName,
    /// The mailbox ([`ImapMailbox::identity`]; the setting as written if it does not parse).
    pub mailbox: String,
    /// How many messages were fetched from it; `None`: it was not read.
    pub fetched: Option<usize>,
    pub votes: Vec<Polled>,
}

/// A mailbox to read and the releases whose open votes count replies from it.
struct Planned {
    project: ProjectName,
    identity: String,
    url: String,
    releases: Vec<Release>,
}

/// The mailboxes a poll reads now: those of every project (and product) naming one that an
/// open vote counting replies on the list reads.
async fn planned(app: &App) -> AppResult<Vec<Planned>> {
    let projects: Vec<Project> = app.all_in_gsi1(keys::PROJECTS_INDEX).await?;
    let mut out = Vec::new();
    for project in projects {
        // The votes by the mailbox they read (lines may share the project's or name their
        // own); a URL that does not parse is its own group, and says why for its votes.
        let mut by_mailbox: BTreeMap<String, (String, Vec<Release>)> = BTreeMap::new();
        let lines = std::iter::once(None).chain(project.products.iter().map(Some));
        for line in lines {
            let Some(url) = project.mail_for(line).imap else { continue };
            let identity = ImapMailbox::parse(&url).map(|m| m.identity()).unwrap_or_else(|_| url.clone());
            for release in releases_of_line(app, &project.name, line).await? {
                if release.open_vote().is_some_and(|vote| vote.policy.email_votes) {
                    by_mailbox.entry(identity.clone()).or_insert_with(|| (url.clone(), Vec::new())).1.push(release);
                }
            }
        }
        out.extend(by_mailbox.into_iter().map(|(identity, (url, releases))| Planned {
            project: project.name.clone(),
            identity,
            url,
            releases,
        }));
    }
    Ok(out)
}

/// [`poll_all`], mailbox by mailbox.
pub async fn poll_mailboxes(app: &App) -> AppResult<Vec<MailboxPolled>> {
    let mut out = Vec::new();
    for Planned { project, identity, url, releases } in planned(app).await? {
        let votes = poll_mailbox(app, &project, &url, releases).await;
        // Every vote that reached the read saw the same fetch.
        let fetched = votes.iter().find_map(|p| p.fetched);
        out.push(MailboxPolled { project, mailbox: identity, fetched, votes });
    }
    Ok(out)
}

/// How long the task of a poll round is kept (then it expires with its outcome).
pub const ROUND_KEPT_SECS: i64 = 7 * 24 * 3600;

/// How many of the latest rounds [`recent_rounds`] lists.
pub const ROUNDS_LISTED: usize = 50;

/// The round of `trs serve`'s poll that `now` falls in, when it polls every `every_secs`:
/// the start of its slot (unix seconds on the app's clock).
pub fn round_of(now: i64, every_secs: i64) -> i64 {
    now - now.rem_euclid(every_secs.max(1))
}

/// The id of round `round`'s task: derived from the round alone, so every worker and every
/// process of the host names the same task for it.
pub fn round_task_id(round: i64) -> OpaqueId {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("trs imap poll round {round}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    OpaqueId::from_random(bytes)
}

/// The tracked task of one poll round of `trs serve` ([`TaskKind::PollMail`]), queued once:
/// `None` when no open vote counts replies from an IMAP mailbox (no round, so an idle host
/// leaves no task behind), or when the round's task exists already (this host ran it before
/// a restart, or another worker took the slot): a round is never run twice. The caller runs
/// the task it gets (`tasks::run`); one left queued or running by a stopped process is run
/// by the sweep.
pub async fn start_round(app: &App, round: i64) -> AppResult<Option<Task>> {
    if planned(app).await?.is_empty() {
        return Ok(None);
    }
    let now = app.now();
    let task = Task { id: round_task_id(round), ..Task::new(TaskKind::PollMail { round }, now) };
    // Listed before it is written (listing the same round again changes nothing): a stop
    // between the two leaves a listed round without a task, which the list skips, never a
    // round that runs unlisted.
    remember_round(app, round, &task.id).await?;
    match app.items.put(task.queued_item().with_expiry(now + ROUND_KEPT_SECS), Condition::Absent).await {
        Ok(()) => {}
        Err(e) if e.is_conflict() => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    Ok(Some(task))
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Rounds {
    /// Newest first.
    rounds: Vec<ListedRound>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ListedRound {
    round: i64,
    task: OpaqueId,
}

async fn remember_round(app: &App, round: i64, task: &OpaqueId) -> AppResult<()> {
    let key = keys::imap_poll_rounds();
    retry::on_conflict(retry::ATTEMPTS, retry::too_busy("the list of IMAP poll rounds"), || async {
        let stored = app.items.get(&key).await?;
        let mut list: Rounds = match &stored {
            Some(item) => item.parse()?,
            None => Rounds::default(),
        };
        if list.rounds.iter().any(|r| r.round == round) {
            // Listed already (by the worker that started the round, or before a restart).
            return Ok(Attempt::Done(()));
        }
        list.rounds.push(ListedRound { round, task: task.clone() });
        list.rounds.sort_by_key(|r| std::cmp::Reverse(r.round));
        list.rounds.truncate(ROUNDS_LISTED);
        let body = serde_json::to_value(&list).map_err(|e| AppError::Internal(e.to_string()))?;
        let (item, condition) = match stored {
            Some(item) => (item.updated(body), Condition::VersionIs(item.version)),
            None => (Item::new(key.clone(), body), Condition::Absent),
        };
        match app.items.put(item, condition).await {
            Ok(_) => Ok(Attempt::Done(())),
            Err(e) if e.is_conflict() => Ok(Attempt::Conflicted),
            Err(e) => Err(e.into()),
        }
    })
    .await
}

/// The tasks of the latest poll rounds of `trs serve`, newest first (at most
/// [`ROUNDS_LISTED`]; those expired are left out). Empty on AWS, where the lifecycle
/// function's scheduled run polls and reports in its log.
pub async fn recent_rounds(app: &App) -> AppResult<Vec<Task>> {
    let Some(item) = app.items.get(&keys::imap_poll_rounds()).await? else { return Ok(Vec::new()) };
    let list: Rounds = item.parse()?;
    let mut out = Vec::new();
    for listed in list.rounds {
        match tasks::get_task(app, &listed.task).await {
            Ok((task, _)) => out.push(task),
            Err(AppError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// Runs a poll round's task: every mailbox read as [`poll_all`] reads them, one step per
/// mailbox. Done with the counts (`round`, `mailboxes` read, messages `fetched`, `replies`
/// recorded, and per mailbox and vote); failed (`imap-poll-failed`) when a mailbox could not
/// be read or a vote's replies not recorded, naming each with its reason (the steps keep what
/// the others did; the next round reads the same messages again, the mark not having moved).
pub async fn execute_round(run: &mut TaskRun<'_>, round: i64) -> AppResult<Ran> {
    let polled = poll_mailboxes(run.app).await?;
    let mut failures = Vec::new();
    let mut mailboxes = Vec::new();
    let (mut fetched_total, mut replies_total, mut read) = (0, 0, 0);
    for m in &polled {
        let replies: usize = m.votes.iter().filter_map(|v| v.report.as_ref()).map(|r| r.replies.len()).sum();
        let mut line = format!("{} {}: ", m.project, m.mailbox);
        match m.fetched {
            Some(n) => {
                read += 1;
                fetched_total += n;
                replies_total += replies;
                line.push_str(&format!("{n} message(s) fetched, {replies} repl(ies) recorded"));
            }
            None => line.push_str("not read"),
        }
        let mut votes = Vec::new();
        for v in &m.votes {
            if let Some(error) = &v.error {
                failures.push(format!("{}: {error}", v.release));
                line.push_str(&format!("; {}: {error}", v.release));
            }
            let counts = |f: fn(&ImportReport) -> usize| v.report.as_ref().map(f).unwrap_or(0);
            votes.push(PolledVote {
                release: crate::api_views::release(v.release.clone()),
                replies: counts(|r| r.replies.len()),
                already_read: counts(|r| r.already_read.len()),
                not_in_thread: counts(|r| r.not_in_thread.len()),
                unreadable: counts(|r| r.unreadable.len()),
                error: v.error.clone(),
            });
        }
        run.step("imap", line).await?;
        mailboxes.push(PolledMailbox {
            project: m.project.to_string(),
            mailbox: m.mailbox.clone(),
            fetched: m.fetched,
            votes,
        });
    }
    if !failures.is_empty() {
        let votes: usize = polled.iter().map(|m| m.votes.len()).sum();
        return Err(AppError::conflict(
            "imap-poll-failed",
            format!("{} of {votes} vote(s) not polled: {}", failures.len(), failures.join("; ")),
        ));
    }
    let result =
        PollRoundResult { round, mailboxes: read, fetched: fetched_total, replies: replies_total, polled: mailboxes };
    Ok(Ran::Done(serde_json::to_value(result).expect("a poll round's result serialises")))
}

/// Reads one mailbox from its mark on for `releases` (each with an open vote counting
/// replies), hands every message read to each vote, and moves the mark when all of them
/// recorded what they read.
async fn poll_mailbox(app: &App, project: &ProjectName, url: &str, releases: Vec<Release>) -> Vec<Polled> {
    let mut out = Vec::new();
    // The votes whose replies can be recorded (with their [VOTE] mail's id), the others said why.
    let mut waiting = Vec::new();
    for release in releases {
        let Some(vote) = release.open_vote() else { continue };
        match mail_import::thread_root(app, &release.id, vote).await {
            Ok(root) => waiting.push((release.id.clone(), vote.number, vote.opened_at, root.received_id().to_string())),
            Err(e) => out.push(Polled::failed(release.id.clone(), e.to_string(), None)),
        }
    }
    let Some(since) = waiting.iter().map(|(_, _, opened_at, _)| *opened_at).min() else { return out };
    let read = async {
        let (mailbox, password) = mailbox_of(app, project, url)?;
        let identity = mailbox.identity();
        let stored = mailbox_mark(app, project, &identity).await?;
        let after = stored.as_ref().map(|(m, _)| m.mark);
        let fetched = mailbox.fetch_new(&password, since, after).await.map_err(|e| imap_failed(project, e))?;
        AppResult::Ok((identity, stored.map(|(_, version)| version), fetched))
    };
    let (identity, started_from, fetched) = match read.await {
        Ok(read) => read,
        Err(e) => {
            let error = e.to_string();
            tracing::warn!(project = %project, error = %error, "IMAP mailbox not read");
            out.extend(waiting.into_iter().map(|(id, ..)| Polled::failed(id, error.clone(), None)));
            return out;
        }
    };
    let Fetched { messages, .. } = &fetched;
    let count = messages.len();
    let raw: Vec<Vec<u8>> = messages.iter().map(|(_, m)| m.clone()).collect();
    let mut handled = true;
    for (id, vote, _, vote_message_id) in waiting {
        // Nothing new: nothing to read (a quiet poll costs one session and no reads).
        let imported = if raw.is_empty() {
            Ok(ImportReport {
                release: id.clone(),
                vote,
                vote_message_id,
                replies: vec![],
                already_read: vec![],
                not_in_thread: vec![],
                unreadable: vec![],
            })
        } else {
            import_all(app, &id, raw.clone()).await
        };
        out.push(match imported {
            Ok(report) => Polled { release: id, report: Some(report), error: None, fetched: Some(count) },
            Err(e) => {
                handled = false;
                tracing::warn!(project = %project, release = %id, error = %e, "IMAP replies not recorded; the next poll reads them again");
                Polled::failed(id, e.to_string(), Some(count))
            }
        });
    }
    if handled
        && let Some(mark) = fetched.mark()
        && let Err(e) = keep_mark(app, project, &identity, started_from, mark).await
    {
        tracing::warn!(project = %project, error = %e, "the IMAP mailbox's mark did not move; the next poll reads its messages again");
    }
    out
}

/// Moves the mark of a project's mailbox to `mark`, never back: under the same UIDVALIDITY
/// only to a higher UID; under another one only if the item is still as this poll found it
/// (`started_from`, its version; `None`: absent), for a poll that met another UIDVALIDITY
/// meanwhile saw the mailbox later. Conditional on the item read, retried when another poll
/// wrote it first.
async fn keep_mark(
    app: &App,
    project: &ProjectName,
    identity: &str,
    started_from: Option<u64>,
    mark: UidMark,
) -> AppResult<()> {
    let key = keys::imap_mark(project, identity);
    let busy = retry::too_busy(format!("the IMAP mark of {project}"));
    retry::on_conflict(retry::ATTEMPTS, busy, || async {
        let body = MailboxMark { mailbox: identity.to_string(), mark, read_at: app.now() };
        let body = serde_json::to_value(&body).map_err(|e| AppError::Internal(e.to_string()))?;
        let (item, condition) = match app.items.get(&key).await? {
            None => (Item::new(key.clone(), body), Condition::Absent),
            Some(item) => {
                let stored: MailboxMark = item.parse()?;
                let same = stored.mark.uid_validity == mark.uid_validity;
                if (same && stored.mark.last_uid >= mark.last_uid) || (!same && Some(item.version) != started_from) {
                    return Ok(Attempt::Done(()));
                }
                (item.updated(body), Condition::VersionIs(item.version))
            }
        };
        match app.items.put(item, condition).await {
            Ok(_) => Ok(Attempt::Done(())),
            Err(e) if e.is_conflict() => Ok(Attempt::Conflicted),
            Err(e) => Err(e.into()),
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn app(dir: &std::path::Path) -> App {
        let (items, blobs) = trs_storage::embedded::open_data_dir(dir, "http://127.0.0.1:1".into()).unwrap();
        App::new(Arc::new(items), Arc::new(blobs))
    }

    /// The mark moves only forward under one UIDVALIDITY, whoever writes last; another
    /// UIDVALIDITY replaces it only if nobody moved it since the poll read it.
    #[tokio::test]
    async fn the_mark_never_moves_back() {
        let dir = tempfile::tempdir().unwrap();
        let app = app(dir.path());
        let project: ProjectName = "foo".parse().unwrap();
        let mailbox = "reader@imap.example:993/INBOX";
        let at = |uid_validity, last_uid| UidMark { uid_validity, last_uid };
        let stored = || async { mailbox_mark(&app, &project, mailbox).await.unwrap().unwrap() };

        // Polls finishing at once, in any order: the highest UID stands.
        let polls = (1..=12).map(|uid| keep_mark(&app, &project, mailbox, None, at(7, uid)));
        for done in futures::future::join_all(polls).await {
            done.unwrap();
        }
        assert_eq!(stored().await.0.mark, at(7, 12));
        keep_mark(&app, &project, mailbox, None, at(7, 5)).await.unwrap();
        assert_eq!(stored().await.0.mark, at(7, 12), "an older poll finishing late moves nothing");

        // A poll that read the mailbox under another UIDVALIDITY from a mark since moved on
        // leaves it; one that started from the mark in place replaces it.
        let (_, version) = stored().await;
        keep_mark(&app, &project, mailbox, Some(version - 1), at(8, 2)).await.unwrap();
        assert_eq!(stored().await.0.mark, at(7, 12));
        keep_mark(&app, &project, mailbox, Some(version), at(8, 2)).await.unwrap();
        assert_eq!(stored().await.0.mark, at(8, 2));
    }
}

//! Votes replied on the list (`trs vote import-mail`): replies to a vote's `[VOTE]` mail
//! become ballots with source `email`, when the vote opened under a policy with
//! `email_votes`.
//!
//! The call carries the raw messages, not ballots parsed by the client: trs itself reads each
//! reply, maps its sender to a person and checks its OpenPGP signature against that person's
//! registered keys, so what is counted does not rest on the client's parsing. The client only
//! picks the thread out of the archive (so a month of a list is not sent) and sends it in
//! calls of at most [`MAX_BATCH_BYTES`] (API bodies are capped; on AWS near 6 MB).
//!
//! The rules, in order, for each reply of the thread (oldest `Date` first):
//! - a reply is read once (by its `Message-ID`): importing again changes nothing;
//! - the sender's address must belong to exactly one person (their recorded email, or a user
//!   id of a registered key); otherwise the reply is listed as from an unknown sender;
//! - a reply dated before the vote opened is not a vote on it;
//! - the vote is read from the sender's own words ([`super::replies`]); ambiguous or absent
//!   votes are listed, not counted;
//! - the reply is *signed* when a PGP/MIME or inline signature verifies against one of the
//!   person's keys; a signature that does not verify counts for nothing (the reply is
//!   unsigned);
//! - binding is the committee's membership at the reply's `Date` (capped at now);
//! - it replaces the person's standing ballot only if it is later, and, **when unsigned, never
//!   a signed one** (a signed call or a signed reply): the `From` line is all that names the
//!   sender of an unsigned mail, and anyone can write it. A signed reply replaces like a
//!   signed call does.
//!
//! Every reply read is kept with its outcome (what `trs vote show` lists for the release
//! manager); a counted one is written in one transaction with its ballot and its `VoteCast`
//! event.

use super::replies::{self, Reading, Reply};
use super::{ballot_write, load, no_open_vote, too_busy};
use crate::app::App;
use crate::authenticate::Caller;
use crate::error::{AppError, AppResult};
use crate::mail;
use crate::people;
use crate::projects;
use crate::retry::{self, Attempt};
use crate::storage_keys as keys;
use crate::stream::{self, Committed};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use trs_core::{
    Action, Actor, Ballot, BallotSource, Change, EmailBallot, EventDraft, Fingerprint, PersonUid, Project, ProjectRole,
    ReleaseId, StreamId, VoteValue, authorize,
};
use trs_storage::{Condition, Item, StoreError, WriteOp};

/// Most raw bytes one import call carries (before base64, which adds a third: the call stays
/// under the API's 1 MiB body limit); the client splits larger threads.
pub const MAX_BATCH_BYTES: usize = 640 * 1024;

/// Most messages one import call carries.
pub const MAX_BATCH_MESSAGES: usize = 200;

/// What became of a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReplyOutcome {
    /// Recorded as the sender's ballot.
    Counted,
    /// The sender's standing ballot stays (it is later, or it is signed and this reply is not).
    Kept,
    /// The text holds no single, unconditional vote: for the release manager to settle.
    Ambiguous,
    /// No vote in the sender's own words (a question, thanks, a discussion).
    NoVote,
    /// The address belongs to no registered person (or to several).
    UnknownSender,
    /// Dated before the vote opened.
    BeforeVote,
}

/// A reply read for a vote, and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailReply {
    pub message_id: String,
    /// The sender's address as the `From` line gives it.
    pub from: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voter: Option<PersonUid>,
    /// The `Date` header (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<i64>,
    pub outcome: ReplyOutcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<VoteValue>,
    /// The voter's key whose signature on the reply verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_by: Option<Fingerprint>,
    /// Why, in words.
    pub detail: String,
    pub read_at: i64,
}

/// What one import call did with each message it carried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportReport {
    pub release: ReleaseId,
    pub vote: u32,
    /// The `[VOTE]` mail the replies answer.
    pub vote_message_id: String,
    /// The replies read now.
    pub replies: Vec<MailReply>,
    /// `Message-ID`s read by an earlier import (nothing changed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub already_read: Vec<String>,
    /// Messages that do not answer the `[VOTE]` mail (nor a reply to it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_in_thread: Vec<String>,
    /// Messages that could not be read at all, with the reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<String>,
}

/// Every reply read for vote `number`, oldest first.
pub async fn replies_of(app: &App, id: &ReleaseId, number: u32) -> AppResult<Vec<MailReply>> {
    let mut out: Vec<MailReply> = app.all_items(keys::mail_replies(id, number)).await?;
    out.sort_by(|a, b| (a.sent_at, &a.message_id).cmp(&(b.sent_at, &b.message_id)));
    Ok(out)
}

/// The lines the explanation of a vote adds for replies that were not counted.
pub fn explain(replies: &[MailReply]) -> String {
    let mut out = String::new();
    for r in replies {
        let what = match r.outcome {
            ReplyOutcome::Counted | ReplyOutcome::Kept | ReplyOutcome::NoVote | ReplyOutcome::BeforeVote => continue,
            ReplyOutcome::UnknownSender => "unknown sender, not counted",
            ReplyOutcome::Ambiguous => "ambiguous, not counted",
        };
        out.push_str(&format!("\nemail {} from {}: {what} ({})", r.message_id, r.from, r.detail));
    }
    out
}

/// Imports replies to the open vote's `[VOTE]` mail. `by` is the release manager who calls
/// (`None`: trs itself, polling a mailbox).
pub async fn import(app: &App, by: Option<&Caller>, id: &ReleaseId, raw: Vec<Vec<u8>>) -> AppResult<ImportReport> {
    if raw.len() > MAX_BATCH_MESSAGES {
        return Err(AppError::bad_request(
            "too-many-messages",
            format!("one import carries at most {MAX_BATCH_MESSAGES} messages, not {}", raw.len()),
        ));
    }
    let project = projects::get_project(app, &id.project).await?;
    if let Some(caller) = by {
        authorize(&caller.person, Some(&project), Action::ManageRelease)?;
    }
    let (release, _) = load(app, id).await?;
    let vote = release.open_vote().cloned().ok_or_else(|| no_open_vote(&release))?;
    let root = thread_root(app, id, &vote).await?;

    let mut report = ImportReport {
        release: id.clone(),
        vote: vote.number,
        vote_message_id: root.received_id().to_string(),
        replies: vec![],
        already_read: vec![],
        not_in_thread: vec![],
        unreadable: vec![],
    };
    let mut parsed = Vec::new();
    for (i, bytes) in raw.iter().enumerate() {
        match replies::parse(bytes) {
            Ok(r) => parsed.push(r),
            Err(e) => report.unreadable.push(format!("message {}: {e}", i + 1)),
        }
    }
    let earlier = replies_of(app, id, vote.number).await?;
    let known: Vec<String> = earlier.iter().map(|r| r.message_id.clone()).collect();
    let roots = root.ids();
    let thread = replies::in_thread(&roots, &known, &parsed);
    let thread_ids: BTreeSet<&str> = thread.iter().map(|r| r.message_id.as_str()).collect();
    report.not_in_thread =
        parsed.iter().filter(|r| !thread_ids.contains(r.message_id.as_str())).map(|r| r.message_id.clone()).collect();
    let mut thread: Vec<&Reply> = thread.into_iter().filter(|r| !roots.contains(&r.message_id)).collect();
    thread.sort_by_key(|r| r.date.unwrap_or(i64::MAX));

    let senders = Senders::load(app).await?;
    let committee = Committee::load(app, &project).await?;
    let actor = by.map(Caller::actor);
    for reply in thread {
        if known.contains(&reply.message_id) || report.replies.iter().any(|r| r.message_id == reply.message_id) {
            report.already_read.push(reply.message_id.clone());
            continue;
        }
        let read = read_reply(app, &senders, &vote, reply).await?;
        let outcome = record(app, actor.clone(), id, vote.number, &committee, read).await?;
        match outcome {
            Some(r) => report.replies.push(r),
            None => report.already_read.push(reply.message_id.clone()),
        }
    }
    Ok(report)
}

/// The `[VOTE]` mail whose replies count in `vote`, or why none do: the vote opened without
/// `email_votes`, or it has no `[VOTE]` mail.
pub(crate) async fn thread_root(app: &App, id: &ReleaseId, vote: &trs_core::VoteRecord) -> AppResult<mail::MailRecord> {
    if !vote.policy.email_votes {
        return Err(AppError::conflict(
            "email-votes-off",
            format!(
                "vote {} on {id} opened under a policy that counts signed calls only; replies on the list count \
                 in votes opened after `trs project policy {} --email-votes true`",
                vote.number, id.project
            ),
        ));
    }
    mail::vote_mail(app, id, vote.number).await?.ok_or_else(|| {
        AppError::conflict("no-vote-mail", format!("vote {} on {id} has no [VOTE] mail to reply to", vote.number))
    })
}

/// Who an address belongs to: each person's recorded email and their keys' user-id
/// addresses, lower case.
struct Senders {
    by_address: BTreeMap<String, BTreeSet<PersonUid>>,
    keys: BTreeMap<PersonUid, Vec<people::RegisteredKey>>,
}

impl Senders {
    async fn load(app: &App) -> AppResult<Senders> {
        let mut by_address: BTreeMap<String, BTreeSet<PersonUid>> = BTreeMap::new();
        let mut keys = BTreeMap::new();
        for person in people::list_people(app).await? {
            if let Some(email) = &person.email {
                by_address.entry(email.trim().to_lowercase()).or_default().insert(person.uid.clone());
            }
            let registered = people::keys_of(app, &person.uid).await?;
            for key in &registered {
                for uid in &key.user_ids {
                    if let Some(address) = user_id_address(uid) {
                        by_address.entry(address).or_default().insert(person.uid.clone());
                    }
                }
            }
            keys.insert(person.uid.clone(), registered);
        }
        Ok(Senders { by_address, keys })
    }

    /// The one person an address belongs to, or why none.
    fn person(&self, address: Option<&str>) -> Result<&PersonUid, String> {
        let Some(address) = address else { return Err("the reply has no From address".into()) };
        match self.by_address.get(address).map(|s| s.iter().collect::<Vec<_>>()).as_deref() {
            Some([one]) => Ok(one),
            Some(many) if many.len() > 1 => Err(format!(
                "{address} belongs to {} people ({})",
                many.len(),
                many.iter().map(|u| u.as_str()).collect::<Vec<_>>().join(", ")
            )),
            _ => Err(format!("{address} is no registered person's address")),
        }
    }
}

/// The address of a user id `Name <addr@host>` (or a bare `addr@host`), lower case.
fn user_id_address(uid: &str) -> Option<String> {
    let address = match (uid.rfind('<'), uid.rfind('>')) {
        (Some(open), Some(close)) if open < close => &uid[open + 1..close],
        _ => uid,
    };
    let address = address.trim();
    (address.contains('@') && !address.contains(char::is_whitespace)).then(|| address.to_lowercase())
}

/// The committee over time: its members now, and the membership changes that led there, so
/// that binding status is the committee's at a reply's date.
struct Committee {
    now: BTreeSet<PersonUid>,
    /// (time, added, removed), oldest first.
    changes: Vec<(i64, Vec<PersonUid>, Vec<PersonUid>)>,
}

impl Committee {
    async fn load(app: &App, project: &Project) -> AppResult<Committee> {
        let events = stream::all_events(app, &StreamId::Project(project.name.clone())).await?;
        let changes = events
            .into_iter()
            .filter_map(|e| match e.change {
                Change::MembersChanged { role: ProjectRole::Committee, added, removed } => Some((e.at, added, removed)),
                _ => None,
            })
            .collect();
        Ok(Committee { now: project.members.clone(), changes })
    }

    /// Members at `t`: today's, with every later change undone.
    fn members_at(&self, t: i64) -> BTreeSet<PersonUid> {
        let mut members = self.now.clone();
        for (at, added, removed) in self.changes.iter().rev() {
            if *at <= t {
                break;
            }
            for uid in added {
                members.remove(uid);
            }
            members.extend(removed.iter().cloned());
        }
        members
    }
}

/// A reply, read: its record (outcome not yet final for a vote) and the ballot it would cast.
struct Read {
    record: MailReply,
    ballot: Option<(PersonUid, VoteValue, i64)>,
}

async fn read_reply(app: &App, senders: &Senders, vote: &trs_core::VoteRecord, reply: &Reply) -> AppResult<Read> {
    let now = app.now();
    let mut record = MailReply {
        message_id: reply.message_id.clone(),
        from: reply.from.clone().unwrap_or_default(),
        voter: None,
        sent_at: reply.date,
        outcome: ReplyOutcome::NoVote,
        value: None,
        signed_by: None,
        detail: String::new(),
        read_at: now,
    };
    let uid = match senders.person(reply.from.as_deref()) {
        Ok(uid) => uid.clone(),
        Err(why) => {
            record.outcome = ReplyOutcome::UnknownSender;
            record.detail = why;
            return Ok(Read { record, ballot: None });
        }
    };
    record.voter = Some(uid.clone());
    let sent_at = reply.date.unwrap_or(now).min(now);
    if sent_at < vote.opened_at {
        record.outcome = ReplyOutcome::BeforeVote;
        record.detail = "dated before the vote opened".into();
        return Ok(Read { record, ballot: None });
    }
    let mut signed_text = None;
    let mut signature_note = String::new();
    if let Some(found) = &reply.signature {
        let mut certs = Vec::new();
        for key in senders.keys.get(&uid).into_iter().flatten() {
            if let Ok(cert) = app.certs.get(&key.fingerprint, &key.armored) {
                certs.push(cert);
            }
        }
        let refs: Vec<&trs_auth::RegisteredCert> = certs.iter().map(|c| c.as_ref()).collect();
        match trs_auth::mail::verify_mail_signature(found.as_mail_signature(), &refs, app.now_system_time()) {
            // The signature covers the body, not the headers that place the reply in this
            // vote's thread: a signed "+1" taken from an earlier vote's archive, under new
            // headers, would verify. One made before this vote opened cannot be for it.
            Ok(signer) if unix_seconds(signer.signed_at) < vote.opened_at => {
                signature_note = " (its signature does not count: it was made before the vote opened, so it may \
                                  answer another vote)"
                    .into();
            }
            Ok(signer) => {
                record.signed_by = Some(signer.fingerprint);
                signed_text = signer.signed_text;
            }
            Err(e) => signature_note = format!(" (its signature does not count: {e})"),
        }
    }
    // An inline signature that verified: only what it signs is the reply's text.
    let own = replies::own_text(signed_text.as_deref().unwrap_or(&reply.text));
    match replies::read_vote(&own) {
        Reading::Vote(value) => {
            record.value = Some(value);
            record.detail = format!("{value}{signature_note}");
            Ok(Read { record, ballot: Some((uid, value, sent_at)) })
        }
        Reading::Ambiguous(why) => {
            record.outcome = ReplyOutcome::Ambiguous;
            record.detail = format!("{why}{signature_note}");
            Ok(Read { record, ballot: None })
        }
        Reading::NoVote => {
            record.detail = format!("no +1, 0 or -1 in the sender's own text{signature_note}");
            Ok(Read { record, ballot: None })
        }
    }
}

/// Writes the reply's record, with its ballot and `VoteCast` event when it casts one.
/// `None` when another import read the same reply first.
async fn record(
    app: &App,
    actor: Option<Actor>,
    id: &ReleaseId,
    number: u32,
    committee: &Committee,
    read: Read,
) -> AppResult<Option<MailReply>> {
    let reply_key = keys::mail_reply(id, number, &read.record.message_id);
    let Some((uid, value, sent_at)) = read.ballot else {
        return match app.items.put(Item::new(reply_key, json!(read.record)), Condition::Absent).await {
            Ok(()) => Ok(Some(read.record)),
            Err(StoreError::ConditionFailed { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        };
    };
    let (stream_id, actor, uid, reply_key) = (&StreamId::Project(id.project.clone()), &actor, &uid, &reply_key);
    let read_record = &read.record;
    retry::on_conflict(retry::BALLOT_ATTEMPTS, too_busy(id), || async move {
        let (release, item) = load(app, id).await?;
        let vote = release.open_vote().cloned().ok_or_else(|| no_open_vote(&release))?;
        if vote.number != number {
            return Err(no_open_vote(&release));
        }
        if app.items.get(reply_key).await?.is_some() {
            return Ok(Attempt::Done(None));
        }
        let binding = committee.members_at(sent_at).contains(uid);
        let ballot_key = keys::ballot(id, number, uid);
        let existing = app.items.get(&ballot_key).await?;
        let previous: Option<Ballot> = existing.as_ref().map(|i| i.parse()).transpose()?;
        let mut record = read_record.clone();
        let signed_by = record.signed_by.clone();
        if let Some(p) = &previous {
            let kept = if p.authenticated() && signed_by.is_none() {
                Some(format!(
                    "{value}, unsigned: it does not replace {uid}'s signed {} of {}",
                    if p.source == BallotSource::Email { "reply" } else { "call" },
                    p.value
                ))
            } else if p.cast_at > sent_at {
                Some(format!("{value}: {uid}'s later ballot ({}) stands", p.value))
            } else {
                None
            };
            if let Some(detail) = kept {
                record.outcome = ReplyOutcome::Kept;
                record.detail = detail;
                return match app.items.put(Item::new(reply_key.clone(), json!(record)), Condition::Absent).await {
                    Ok(()) => Ok(Attempt::Done(Some(record))),
                    Err(StoreError::ConditionFailed { .. }) => Ok(Attempt::Done(None)),
                    Err(e) => Err(e.into()),
                };
            }
        }
        record.outcome = ReplyOutcome::Counted;
        let earlier = Ballot::history_replacing(previous.as_ref());
        let ballot = Ballot {
            voter: uid.clone(),
            key: signed_by.clone(),
            value,
            binding,
            comment: None,
            cast_at: sent_at,
            earlier,
            source: BallotSource::Email,
            message_id: Some(record.message_id.clone()),
        };
        let ballot_op = ballot_write(existing.as_ref(), ballot_key, &ballot);
        let next = trs_core::Release { updated_at: app.now(), ..release.clone() };
        let ops = vec![
            WriteOp::Put { item: item.updated(json!(next)), condition: Condition::VersionIs(item.version) },
            ballot_op,
            WriteOp::Put { item: Item::new(reply_key.clone(), json!(record)), condition: Condition::Absent },
        ];
        let replaces = previous.as_ref().map(|p| p.value);
        let draft = EventDraft::new(
            actor.clone(),
            Change::VoteCast {
                vote: number,
                value,
                binding,
                comment: None,
                replaces,
                email: Some(EmailBallot { voter: uid.clone(), message_id: record.message_id.clone(), signed_by }),
            },
        )
        .release(id)
        .revision(vote.revision.key);
        match stream::commit_with_event(app, stream_id, draft, ops).await? {
            Committed::Done(_) => Ok(Attempt::Done(Some(record))),
            Committed::Conflict { .. } => Ok(Attempt::Conflicted),
        }
    })
    .await
}

fn unix_seconds(t: std::time::SystemTime) -> i64 {
    t.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

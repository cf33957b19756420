//! Mail a project's lists receive: where it goes (`trs project mail`), and sending it.
//!
//! A change that announces itself by mail (a vote opened, closed or cancelled) writes, in the
//! transaction of its release-stream event, a mail record and a `send-mail` task. The record's
//! key and the mail's `Message-ID` are derived from the event (`<SEQ.PROJECT@HOST>`), so there
//! is at most one mail per event, a retried task finds the record already `sent` and sends
//! nothing, and a reply or a `[RESULT]` can point at the `[VOTE]` it follows without asking
//! anyone. The record says what happened: `sent` (with the recipients), or `not-sent` and why
//! (no SMTP server configured, no list or sender set) — a mail is never dropped silently.
//!
//! Promotion queues `[ANNOUNCE]` to the announce lists, held back until every file downloads
//! from its public URL with the voted bytes ([`downloads`]); end-of-life and archiving queue a
//! notice to the vote lists, revocation one to the announce lists ([`notices`]), and the first
//! publication of a security advisory ([`crate::cve`]) one to the announce lists.
//!
//! The vote mails are rendered by [`crate::vote::email`], the others by [`notices`]; this
//! module addresses and sends them.

pub mod ca;
pub mod downloads;
pub mod imap;
pub mod notices;
mod smtp;

use crate::app::App;
use crate::authenticate::Caller;
use crate::error::{AppError, AppResult, check_typed_text};
use crate::projects::get_project;
use crate::storage_keys as keys;
use crate::stream;
use crate::tasks::{Ran, Task, TaskKind};
use crate::vote::email::{self as render, Email};
use lettre::message::{Mailbox, header::ContentType};
use serde::{Deserialize, Serialize};
use serde_json::json;
pub use smtp::SmtpMailer;
use trs_core::text::Lines;
use trs_core::{
    Action, Change, Event, EventDraft, MailSettings, ProductName, ProjectName, ReleaseId, StreamId, authorize,
};
use trs_storage::{Condition, Item, WriteOp};

/// Which mail an event sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MailKind {
    /// `[VOTE]`: a vote opened.
    Vote,
    /// `[RESULT]`: a vote closed, passed or failed.
    Result,
    /// `[CANCELLED]`: a vote was cancelled.
    Cancelled,
    /// `[ANNOUNCE]`: a release was promoted; sent once every file downloads as voted.
    Announce,
    /// `[END-OF-LIFE]`: a release reached its end of life.
    EndOfLife,
    /// `[ARCHIVED]`: a release moved to the archive.
    Archived,
    /// `[REVOKED]`: a release was revoked, with the reason.
    Revoked,
    /// `[SECURITY]`: a security advisory was published (its first publication only).
    Advisory,
}

impl MailKind {
    pub const ALL: [MailKind; 8] = [
        MailKind::Vote,
        MailKind::Result,
        MailKind::Cancelled,
        MailKind::Announce,
        MailKind::EndOfLife,
        MailKind::Archived,
        MailKind::Revoked,
        MailKind::Advisory,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MailKind::Vote => "vote",
            MailKind::Result => "result",
            MailKind::Cancelled => "cancelled",
            MailKind::Announce => "announce",
            MailKind::EndOfLife => "end-of-life",
            MailKind::Archived => "archived",
            MailKind::Revoked => "revoked",
            MailKind::Advisory => "advisory",
        }
    }

    /// Who receives it: the vote lists the committee's business (the vote and what happens
    /// to a release's support), the announce lists what users must know (a release to
    /// download, a release to stop using). The flag of `trs project mail` that sets them.
    fn audience(self) -> (Audience, &'static str) {
        match self {
            MailKind::Vote | MailKind::Result | MailKind::Cancelled | MailKind::EndOfLife | MailKind::Archived => {
                (Audience::Vote, "--vote-to")
            }
            MailKind::Announce | MailKind::Revoked | MailKind::Advisory => (Audience::Announce, "--announce-to"),
        }
    }
}

#[derive(Clone, Copy)]
enum Audience {
    Vote,
    Announce,
}

impl Audience {
    fn lists(self, settings: &MailSettings) -> &[String] {
        match self {
            Audience::Vote => &settings.vote_to,
            Audience::Announce => &settings.announce_to,
        }
    }
}

impl std::str::FromStr for MailKind {
    type Err = AppError;
    fn from_str(s: &str) -> AppResult<Self> {
        MailKind::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| {
            let all: Vec<&str> = MailKind::ALL.iter().map(|k| k.as_str()).collect();
            AppError::bad_request("unknown-mail-kind", format!("unknown mail {s:?}: one of {}", all.join(", ")))
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MailState {
    Queued,
    Sent,
    NotSent,
}

/// One mail, as `trs mail log` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailRecord {
    pub project: ProjectName,
    /// The project-stream event that sends it.
    pub event_seq: u64,
    /// The release it is about; for an advisory notice, the release it points users to (the
    /// fixing version, else the newest version the affected ranges name).
    pub release: ReleaseId,
    /// The advisory an advisory notice announces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advisory: Option<trs_core::CveId>,
    pub vote: u32,
    pub kind: MailKind,
    pub message_id: String,
    /// The `Message-ID` the lists received instead of `message_id`, when the transport
    /// replaced it (SES does, whatever the message says): what replies and a `[RESULT]`
    /// name as their parent ([`MailRecord::received_id`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_as: Option<String>,
    /// The `[VOTE]` mail a `[RESULT]` or `[CANCELLED]` answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<String>,
    pub state: MailState,
    /// Why it was not sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub queued_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<i64>,
    /// An `[ANNOUNCE]` still queued: why it is held back (a file not downloadable as voted
    /// yet), from the latest of `checks` checks, and when the next one is due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting: Option<String>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub checks: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_check_at: Option<i64>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl MailRecord {
    /// The `Message-ID` the lists received: the transport's when it replaced trs's own.
    pub fn received_id(&self) -> &str {
        self.sent_as.as_deref().unwrap_or(&self.message_id)
    }

    /// Every id a reply may name this mail by: trs's own (a list that kept it, an archive
    /// imported from elsewhere) and the one the transport gave it.
    pub fn ids(&self) -> Vec<String> {
        std::iter::once(self.message_id.clone()).chain(self.sent_as.clone()).collect()
    }
}

/// Why a mail was not handed over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// The server refused this mail for good (an unverified sender, a message SES rejects, a
    /// permanent SMTP reply): sending it again would be refused again, so the mail is recorded
    /// as not sent at once, with the reason.
    Refused(String),
    /// The server or the connection failed: the task runs again.
    Transient(String),
}

/// What a transport says of a mail it accepted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Accepted {
    /// The `Message-ID` the mail goes out with when the transport replaced the message's own
    /// (SES: "If you provide a Message-ID header, Amazon SES overrides the header with its own
    /// value", SES developer guide, header fields); `None` when it kept it (SMTP).
    pub replaced_id: Option<String>,
}

/// Where mail is handed over (an SMTP server under `trs serve --smtp`, SES on AWS).
#[async_trait::async_trait]
pub trait Mailer: Send + Sync + 'static {
    async fn send(&self, message: lettre::Message) -> Result<Accepted, SendError>;
}

/// An address as the settings take it (`Name <addr@host>` or `addr@host`), checked by
/// lettre's parser: what it accepts is what sending accepts. A display name is text a person
/// typed that reaches readers' mail clients, the release stream and terminals, so it keeps
/// the text rule too (lettre's parser takes escapes and control characters inside quotes).
pub fn check_address(field: &str, value: &str) -> AppResult<String> {
    let value = value.trim();
    check_typed_text(field, value, Lines::One)?;
    value.parse::<Mailbox>().map(|_| value.to_string()).map_err(|e| {
        AppError::bad_request(
            "invalid-mail-address",
            format!("{field} {value:?} is not a mail address (name <user@host> or user@host): {e}"),
        )
    })
}

/// An IMAP mailbox URL as the settings take it (`--imap`), checked as the poller reads it.
/// The text rule applies to what is stored and to the user the URL percent-encodes (the URL
/// parser drops a raw line break that the stored string would still hold).
fn check_imap(value: &str) -> AppResult<String> {
    check_typed_text("--imap", value.trim(), Lines::One)?;
    imap::ImapMailbox::parse(value).map(|_| value.trim().to_string()).map_err(|e| {
        AppError::bad_request(
            "invalid-imap-url",
            format!("--imap is not an IMAP mailbox (imaps://USER@HOST[:PORT]/MAILBOX): {e}"),
        )
    })
}

/// The mail settings in force for a project's main line or one product (`trs project mail`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailView {
    pub project: ProjectName,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<ProductName>,
    /// The settings in force (the project's, with the product's changes applied).
    pub mail: MailSettings,
}

pub async fn get_settings(app: &App, name: &ProjectName, product: Option<&ProductName>) -> AppResult<MailView> {
    let project = get_project(app, name).await?;
    Ok(MailView { project: name.clone(), product: product.cloned(), mail: project.mail_for(product) })
}

/// Changes where a project's (or a product's) mail goes: only the fields `change` sets.
/// Release managers, committee members and admins ("manage policy / metadata").
pub async fn set_settings(
    app: &App,
    caller: &Caller,
    name: &ProjectName,
    product: Option<ProductName>,
    change: MailSettings,
) -> AppResult<MailView> {
    if change.is_empty() {
        return Err(AppError::bad_request("nothing-to-change", "the mail settings change names no field to change"));
    }
    let change = MailSettings {
        vote_to: change.vote_to.iter().map(|a| check_address("--vote-to", a)).collect::<AppResult<_>>()?,
        announce_to: change.announce_to.iter().map(|a| check_address("--announce-to", a)).collect::<AppResult<_>>()?,
        from: change.from.as_deref().map(|a| check_address("--from", a)).transpose()?,
        reply_to: change.reply_to.as_deref().map(|a| check_address("--reply-to", a)).transpose()?,
        imap: change.imap.as_deref().map(check_imap).transpose()?,
    };
    let missing = || AppError::NotFound(format!("project {name} not found"));
    let stream = StreamId::Project(name.clone());
    let project =
        stream::update_with_event(app, &stream, &keys::project(name), missing, |project: &mut trs_core::Project| {
            authorize(&caller.person, Some(&*project), Action::ManagePolicyOrMetadata)?;
            if let Some(p) = &product
                && !project.products.contains(p)
            {
                return Err(AppError::NotFound(format!("project {name} has no product {p}")));
            }
            let recorded = match &product {
                None => {
                    project.mail = project.mail.merged(&change);
                    project.mail.clone()
                }
                Some(p) => {
                    let merged = project.product_mail.get(p).cloned().unwrap_or_default().merged(&change);
                    project.product_mail.insert(p.clone(), merged.clone());
                    merged
                }
            };
            let draft = EventDraft::new(
                Some(caller.actor()),
                Change::MailSettingsChanged { product: product.clone(), mail: recorded },
            );
            Ok(stream::Update { draft, also: Vec::new() })
        })
        .await?;
    Ok(MailView { project: name.clone(), product: product.clone(), mail: project.mail_for(product.as_ref()) })
}

/// The host of `Message-ID`s: the public URL's, so ids are unique to this service.
fn id_host(app: &App) -> String {
    app.public_url
        .as_deref()
        .and_then(|u| url::Url::parse(u).ok())
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "localhost".into())
}

/// The `Message-ID` of the mail project-stream event `seq` sends.
pub fn message_id(app: &App, project: &ProjectName, seq: u64) -> String {
    format!("<{seq}.{project}@{}>", id_host(app))
}

/// The writes that queue the mail `event` sends (for [`stream::commit_with_event_and`]): its
/// record and its task. `answers`: the `Message-ID` of the `[VOTE]` a later mail replies to.
pub fn queue_ops(
    app: &App,
    event: &Event,
    release: &ReleaseId,
    vote: u32,
    kind: MailKind,
    answers: Option<String>,
) -> Vec<WriteOp> {
    queue_record_ops(new_record(app, event, release, vote, kind, answers), event)
}

/// [`queue_ops`] of the notice of an advisory's publication (`event`), about `release` (see
/// [`MailRecord::release`]).
pub fn queue_advisory_ops(app: &App, event: &Event, release: &ReleaseId, advisory: &trs_core::CveId) -> Vec<WriteOp> {
    let record =
        MailRecord { advisory: Some(advisory.clone()), ..new_record(app, event, release, 0, MailKind::Advisory, None) };
    queue_record_ops(record, event)
}

fn new_record(
    app: &App,
    event: &Event,
    release: &ReleaseId,
    vote: u32,
    kind: MailKind,
    answers: Option<String>,
) -> MailRecord {
    let project = &release.project;
    MailRecord {
        project: project.clone(),
        event_seq: event.seq,
        release: release.clone(),
        advisory: None,
        vote,
        kind,
        message_id: message_id(app, project, event.seq),
        sent_as: None,
        in_reply_to: answers,
        state: MailState::Queued,
        reason: None,
        to: Vec::new(),
        subject: None,
        queued_at: event.at,
        finished_at: None,
        waiting: None,
        checks: 0,
        next_check_at: None,
    }
}

/// The record of a queued mail and the task that sends it.
fn queue_record_ops(record: MailRecord, event: &Event) -> Vec<WriteOp> {
    let project = record.project.clone();
    let task = Task {
        id: task_id(event),
        ..Task::new(TaskKind::SendMail { project: project.clone(), event_seq: event.seq }, event.at)
    };
    vec![
        WriteOp::Put { item: Item::new(keys::mail(&project, event.seq), json!(record)), condition: Condition::Absent },
        WriteOp::Put { item: task.queued_item(), condition: Condition::Absent },
    ]
}

/// The id of the task that sends the mail of `event`: derived from the event's hash, so the
/// host that committed it can announce the task without having kept it.
fn task_id(event: &Event) -> trs_core::OpaqueId {
    let mut bytes = [0u8; 16];
    let digest = hex::decode(&event.hash).unwrap_or_default();
    for (b, d) in bytes.iter_mut().zip(digest) {
        *b = d;
    }
    trs_core::OpaqueId::from_random(bytes)
}

/// After the commit: announces the task of the mail `event` queued, so a worker sends it now
/// rather than at the next sweep (a lost announcement only delays it).
pub async fn announce(app: &App, event: &Event) {
    if let Ok((task, _)) = crate::tasks::get_task(app, &task_id(event)).await {
        crate::tasks::announce(app, &task).await;
    }
}

/// The `[VOTE]` mail of vote `vote` on `release`.
pub async fn vote_mail(app: &App, release: &ReleaseId, vote: u32) -> AppResult<Option<MailRecord>> {
    let all: Vec<MailRecord> = app.all_items(keys::mails(&release.project)).await?;
    Ok(all.into_iter().find(|m| m.kind == MailKind::Vote && &m.release == release && m.vote == vote))
}

/// The `Message-ID` the lists received the `[VOTE]` mail of vote `vote` on `release` with
/// (what a `[RESULT]` or `[CANCELLED]` answers): trs's own until a transport replaced it.
pub async fn vote_message_id(app: &App, release: &ReleaseId, vote: u32) -> AppResult<Option<String>> {
    Ok(vote_mail(app, release, vote).await?.map(|m| m.received_id().to_string()))
}

/// Every mail of a project, newest first (`trs mail log`).
pub async fn log(app: &App, project: &ProjectName) -> AppResult<Vec<MailRecord>> {
    get_project(app, project).await?;
    let mut all: Vec<MailRecord> = app.all_items(keys::mails(project)).await?;
    all.reverse();
    Ok(all)
}

/// The mail of `kind` as it would be sent (`trs mail preview`): for the vote mails, of the
/// release's newest vote; for the others, of the release's newest event of that kind.
pub async fn preview(app: &App, release: &ReleaseId, kind: MailKind) -> AppResult<Email> {
    match kind {
        MailKind::Vote => render::announcement(app, release).await,
        MailKind::Result => render::result(app, release).await,
        MailKind::Cancelled => render::cancelled(app, release).await,
        MailKind::Announce | MailKind::EndOfLife | MailKind::Archived | MailKind::Revoked => {
            let history = crate::release_views::release_history(app, release).await?;
            let event = history.iter().rev().find(|e| notices::kind_of(&e.change) == Some(kind)).ok_or_else(|| {
                AppError::conflict(
                    "no-such-event",
                    format!("release {release} has no {} event; there is nothing to announce yet", kind.as_str()),
                )
            })?;
            notices::render(app, release, kind, event).await
        }
        MailKind::Advisory => Err(AppError::conflict(
            "not-a-release-mail",
            format!(
                "an advisory notice is about an advisory, not release {release}: `trs mail log {}` shows it once \
                 the advisory is published",
                release.project
            ),
        )),
    }
}

/// The mail `record` sends, rendered from the event that queued it.
async fn render_record(app: &App, record: &MailRecord) -> AppResult<Email> {
    match record.kind {
        MailKind::Vote | MailKind::Result | MailKind::Cancelled => preview(app, &record.release, record.kind).await,
        MailKind::Announce | MailKind::EndOfLife | MailKind::Archived | MailKind::Revoked => {
            let key = keys::stream_event(&StreamId::Project(record.project.clone()), record.event_seq);
            let item =
                app.items.get(&key).await?.ok_or_else(|| {
                    AppError::Internal(format!("mail of event {} without its event", record.event_seq))
                })?;
            notices::render(app, &record.release, record.kind, &item.parse()?).await
        }
        MailKind::Advisory => {
            let key = keys::stream_event(&StreamId::Project(record.project.clone()), record.event_seq);
            let item =
                app.items.get(&key).await?.ok_or_else(|| {
                    AppError::Internal(format!("mail of event {} without its event", record.event_seq))
                })?;
            notices::render_advisory(app, &record.project, &item.parse()?).await
        }
    }
}

fn mailbox(value: &str) -> Result<Mailbox, String> {
    value.parse::<Mailbox>().map_err(|e| format!("{value:?} is not a mail address: {e}"))
}

/// Why a mail cannot be addressed with these settings, or the message.
fn build(
    settings: &MailSettings,
    record: &MailRecord,
    email: &Email,
    now: i64,
) -> Result<Result<lettre::Message, String>, AppError> {
    let (audience, flag) = record.kind.audience();
    let to = audience.lists(settings);
    if to.is_empty() {
        return Ok(Err(format!("no list to write to: set one with `trs project mail {} {flag} ADDR`", record.project)));
    }
    let Some(from) = &settings.from else {
        return Ok(Err(format!("no sender: set one with `trs project mail {} --from ADDR`", record.project)));
    };
    let built = (|| -> Result<lettre::Message, String> {
        let mut b = lettre::Message::builder()
            .from(mailbox(from)?)
            .subject(email.subject.clone())
            .message_id(Some(record.message_id.clone()))
            .date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(now.max(0) as u64))
            .header(ContentType::TEXT_PLAIN);
        for to in to {
            b = b.to(mailbox(to)?);
        }
        if let Some(reply_to) = &settings.reply_to {
            b = b.reply_to(mailbox(reply_to)?);
        }
        if let Some(parent) = &record.in_reply_to {
            b = b.in_reply_to(parent.clone()).references(parent.clone());
        }
        b.body(email.body.clone()).map_err(|e| e.to_string())
    })();
    Ok(built)
}

/// How long after its promotion an `[ANNOUNCE]` waits for its files to be downloadable
/// before it is given up (recorded as not sent, with what was missing).
pub const ANNOUNCE_DEADLINE_SECS: i64 = 24 * 3600;

/// The wait before the `n`th check of an announcement's files (n ≥ 1): one minute, doubling,
/// at most an hour (a CDN or mirror that is slow takes minutes, one that is broken a person).
pub fn announce_backoff_secs(n: u32) -> i64 {
    (60i64 << n.saturating_sub(1).min(6)).min(3600)
}

/// The `send-mail` task: sends the mail event `seq` of `project` queued, once. A record
/// already `sent` or `not-sent` is left alone (a retried or repeated task sends nothing).
/// An `[ANNOUNCE]` is sent only once every file of the release downloads from its public URL
/// with the voted bytes ([`downloads::check`]); until then the task comes back later
/// ([`Ran::Later`], with [`announce_backoff_secs`]), until [`ANNOUNCE_DEADLINE_SECS`].
pub async fn execute(app: &App, project: &ProjectName, seq: u64) -> AppResult<Ran> {
    let key = keys::mail(project, seq);
    let item = app.items.get(&key).await?.ok_or_else(|| AppError::NotFound(format!("no mail for event {seq}")))?;
    let mut record: MailRecord = item.parse()?;
    if record.state != MailState::Queued {
        return Ok(Ran::Done(json!({"message_id": record.message_id, "state": record.state, "already": true})));
    }
    let settings = get_project(app, project).await?.mail_for(record.release.product.as_ref());
    let email = match render_record(app, &record).await {
        Ok(email) => email,
        // A template that fails to render would fail again: nothing is sent, and the record
        // says which template and why (the host's operator fixes it), rather than a task
        // retried and abandoned with the mail still `queued`.
        Err(AppError::Conflict { code: "mail-template-failed", message }) => {
            tracing::warn!(project = %project, seq, reason = %message, "mail not sent");
            record.state = MailState::NotSent;
            record.reason = Some(message);
            record.finished_at = Some(app.now());
            app.items.put(item.updated(json!(record)), Condition::VersionIs(item.version)).await?;
            return Ok(Ran::Done(
                json!({"message_id": record.message_id, "state": record.state, "reason": record.reason}),
            ));
        }
        Err(e) => return Err(e),
    };
    record.subject = Some(email.subject.clone());
    // A `[RESULT]` queued before its `[VOTE]` went out named trs's id for it; the id the
    // lists received is known now.
    if record.in_reply_to.is_some()
        && let Some(parent) = vote_message_id(app, &record.release, record.vote).await?
    {
        record.in_reply_to = Some(parent);
    }
    let (audience, _) = record.kind.audience();
    let outcome = match (build(&settings, &record, &email, app.now())?, &app.mailer) {
        (Err(why), _) => Err(why),
        (Ok(_), None) => Err("no mail transport configured (trs serve --smtp URL; SES on AWS)".to_string()),
        (Ok(message), Some(mailer)) => {
            let held = match record.kind {
                MailKind::Announce => downloads::check(app, &record.release).await?,
                _ => downloads::Checked::Ready,
            };
            match held {
                downloads::Checked::Ready => {
                    match mailer.send(message).await {
                        Ok(accepted) => {
                            record.sent_as = accepted.replaced_id;
                            Ok(audience.lists(&settings).to_vec())
                        }
                        Err(SendError::Refused(why)) => Err(format!("refused by the mail server: {why}")),
                        // A failure to hand the mail over is a fault: the task runs again. The
                        // record is still `queued`, and the `Message-ID` stays the same, so a
                        // list that did receive it after all drops the second copy (over SMTP;
                        // SES gives every accepted mail an id of its own).
                        Err(SendError::Transient(e)) => {
                            return Err(AppError::Internal(format!("sending mail: {e}")));
                        }
                    }
                }
                downloads::Checked::Never(why) => Err(why),
                downloads::Checked::NotYet(why) => {
                    let now = app.now();
                    if now - record.queued_at >= ANNOUNCE_DEADLINE_SECS {
                        Err(format!(
                            "the files were not all downloadable as voted {} after the promotion \
                             ({} checks): {why}",
                            crate::time_text::duration_text(ANNOUNCE_DEADLINE_SECS),
                            record.checks + 1
                        ))
                    } else {
                        record.checks += 1;
                        let at =
                            (now + announce_backoff_secs(record.checks)).min(record.queued_at + ANNOUNCE_DEADLINE_SECS);
                        record.waiting = Some(why.clone());
                        record.next_check_at = Some(at);
                        app.items.put(item.updated(json!(record)), Condition::VersionIs(item.version)).await?;
                        tracing::info!(project = %project, seq, reason = %why, "announcement held back");
                        return Ok(Ran::Later { at, why: format!("held back until its files are public: {why}") });
                    }
                }
            }
        }
    };
    match outcome {
        Ok(to) => {
            record.state = MailState::Sent;
            record.to = to;
        }
        Err(why) => {
            tracing::info!(project = %project, seq, reason = %why, "mail not sent");
            record.state = MailState::NotSent;
            record.reason = Some(why);
        }
    }
    record.waiting = None;
    record.next_check_at = None;
    record.finished_at = Some(app.now());
    app.items.put(item.updated(json!(record)), Condition::VersionIs(item.version)).await?;
    Ok(Ran::Done(json!({"message_id": record.message_id, "state": record.state, "reason": record.reason})))
}

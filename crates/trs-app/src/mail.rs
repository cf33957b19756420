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
//! Bodies are rendered by [`crate::vote::email`]; this module only addresses and sends them.

use crate::app::App;
use crate::authenticate::Caller;
use crate::error::{AppError, AppResult};
use crate::projects::get_project;
use crate::storage_keys as keys;
use crate::stream::{self, Committed};
use crate::tasks::{Task, TaskKind};
use crate::vote::email::{self as render, Email};
use lettre::message::{Mailbox, header::ContentType};
use serde::{Deserialize, Serialize};
use serde_json::json;
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
}

impl MailKind {
    pub const ALL: [MailKind; 3] = [MailKind::Vote, MailKind::Result, MailKind::Cancelled];

    pub fn as_str(self) -> &'static str {
        match self {
            MailKind::Vote => "vote",
            MailKind::Result => "result",
            MailKind::Cancelled => "cancelled",
        }
    }
}

impl std::str::FromStr for MailKind {
    type Err = AppError;
    fn from_str(s: &str) -> AppResult<Self> {
        MailKind::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| {
            AppError::bad_request("unknown-mail-kind", format!("unknown mail {s:?}: one of vote, result, cancelled"))
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
    pub release: ReleaseId,
    pub vote: u32,
    pub kind: MailKind,
    pub message_id: String,
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
}

/// Where mail is handed over (an SMTP server under `trs serve --smtp`).
#[async_trait::async_trait]
pub trait Mailer: Send + Sync + 'static {
    /// Sends the message; an error is a fault of the server or the connection (retried).
    async fn send(&self, message: lettre::Message) -> Result<(), String>;
}

/// An SMTP submission server, by URL: `smtp://HOST:PORT` (plain, or `?tls=required` for
/// STARTTLS), `smtps://USER@HOST:465` (TLS). The password is given apart (`TRS_SMTP_PASSWORD`)
/// and is kept only inside the transport: never in a URL trs prints, logs or stores.
pub struct SmtpMailer(lettre::AsyncSmtpTransport<lettre::Tokio1Executor>);

impl SmtpMailer {
    pub fn new(url: &str, password: Option<String>) -> Result<Self, String> {
        let parsed = url::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
        if !matches!(parsed.scheme(), "smtp" | "smtps") {
            return Err(format!("scheme {:?} is not smtp or smtps", parsed.scheme()));
        }
        if parsed.password().is_some() {
            return Err("the URL carries a password; give it in TRS_SMTP_PASSWORD instead".into());
        }
        let user = parsed.username().to_string();
        let mut builder = lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(url)
            .map_err(|e| format!("not an SMTP URL: {e}"))?;
        match (user.is_empty(), password) {
            (false, Some(password)) => {
                builder = builder.credentials(lettre::transport::smtp::authentication::Credentials::new(
                    percent_encoding::percent_decode_str(&user).decode_utf8_lossy().into_owned(),
                    password,
                ));
            }
            (false, None) => return Err(format!("user {user:?} given but TRS_SMTP_PASSWORD is not set")),
            (true, Some(_)) => return Err("TRS_SMTP_PASSWORD is set but the URL names no user".into()),
            (true, None) => {}
        }
        Ok(SmtpMailer(builder.build()))
    }
}

#[async_trait::async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, message: lettre::Message) -> Result<(), String> {
        use lettre::AsyncTransport;
        self.0.send(message).await.map(|_| ()).map_err(|e| e.to_string())
    }
}

/// An address as the settings take it (`Name <addr@host>` or `addr@host`), checked by
/// lettre's parser: what it accepts is what sending accepts.
pub fn check_address(field: &str, value: &str) -> AppResult<String> {
    let value = value.trim();
    value.parse::<Mailbox>().map(|_| value.to_string()).map_err(|e| {
        AppError::bad_request(
            "invalid-mail-address",
            format!("{field} {value:?} is not a mail address (name <user@host> or user@host): {e}"),
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
    };
    for _attempt in 0..8 {
        let item = app
            .items
            .get(&keys::project(name))
            .await?
            .ok_or_else(|| AppError::NotFound(format!("project {name} not found")))?;
        let mut project: trs_core::Project = item.parse()?;
        authorize(&caller.person, Some(&project), Action::ManagePolicyOrMetadata)?;
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
        let view =
            MailView { project: name.clone(), product: product.clone(), mail: project.mail_for(product.as_ref()) };
        let draft = EventDraft::new(
            Some(caller.actor()),
            Change::MailSettingsChanged { product: product.clone(), mail: recorded },
        );
        let ops =
            vec![WriteOp::Put { item: item.updated(json!(project)), condition: Condition::VersionIs(item.version) }];
        match stream::commit_with_event(app, &StreamId::Project(name.clone()), draft, ops).await? {
            Committed::Done(_) => return Ok(view),
            Committed::Conflict { .. } => continue,
        }
    }
    Err(AppError::conflict("concurrent-update", format!("project {name} changed concurrently too often; retry")))
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
    let project = &release.project;
    let record = MailRecord {
        project: project.clone(),
        event_seq: event.seq,
        release: release.clone(),
        vote,
        kind,
        message_id: message_id(app, project, event.seq),
        in_reply_to: answers,
        state: MailState::Queued,
        reason: None,
        to: Vec::new(),
        subject: None,
        queued_at: event.at,
        finished_at: None,
    };
    let task = Task {
        id: task_id(event),
        ..Task::new(TaskKind::SendMail { project: project.clone(), event_seq: event.seq }, event.at)
    };
    vec![
        WriteOp::Put { item: Item::new(keys::mail(project, event.seq), json!(record)), condition: Condition::Absent },
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

/// The `Message-ID` of the `[VOTE]` mail of vote `vote` on `release` (what a `[RESULT]` or
/// `[CANCELLED]` answers), as recorded when it was queued.
pub async fn vote_message_id(app: &App, release: &ReleaseId, vote: u32) -> AppResult<Option<String>> {
    let all: Vec<MailRecord> = app.all_items(keys::mails(&release.project)).await?;
    Ok(all
        .into_iter()
        .find(|m| m.kind == MailKind::Vote && &m.release == release && m.vote == vote)
        .map(|m| m.message_id))
}

/// Every mail of a project, newest first (`trs mail log`).
pub async fn log(app: &App, project: &ProjectName) -> AppResult<Vec<MailRecord>> {
    get_project(app, project).await?;
    let mut all: Vec<MailRecord> = app.all_items(keys::mails(project)).await?;
    all.reverse();
    Ok(all)
}

/// The mail of `kind` for the release's newest vote, as it would be sent (`trs mail preview`).
pub async fn preview(app: &App, release: &ReleaseId, kind: MailKind) -> AppResult<Email> {
    match kind {
        MailKind::Vote => render::announcement(app, release).await,
        MailKind::Result => render::result(app, release).await,
        MailKind::Cancelled => render::cancelled(app, release).await,
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
    if settings.vote_to.is_empty() {
        return Ok(Err(format!(
            "no list to write to: set one with `trs project mail {} --vote-to ADDR`",
            record.project
        )));
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
        for to in &settings.vote_to {
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

/// The `send-mail` task: sends the mail event `seq` of `project` queued, once. A record
/// already `sent` or `not-sent` is left alone (a retried or repeated task sends nothing).
pub async fn execute(app: &App, project: &ProjectName, seq: u64) -> AppResult<serde_json::Value> {
    let key = keys::mail(project, seq);
    let item = app.items.get(&key).await?.ok_or_else(|| AppError::NotFound(format!("no mail for event {seq}")))?;
    let mut record: MailRecord = item.parse()?;
    if record.state != MailState::Queued {
        return Ok(json!({"message_id": record.message_id, "state": record.state, "already": true}));
    }
    let settings = get_project(app, project).await?.mail_for(record.release.product.as_ref());
    let email = preview(app, &record.release, record.kind).await?;
    record.subject = Some(email.subject.clone());
    let outcome = match (build(&settings, &record, &email, app.now())?, &app.mailer) {
        (Err(why), _) => Err(why),
        (Ok(_), None) => Err("no SMTP server configured (trs serve --smtp URL)".to_string()),
        (Ok(message), Some(mailer)) => {
            // A failure to hand the mail over is a fault: the task runs again. The record is
            // still `queued`, and the `Message-ID` stays the same, so a list that did receive
            // it after all drops the second copy.
            mailer.send(message).await.map_err(|e| AppError::Internal(format!("sending mail: {e}")))?;
            Ok(settings.vote_to.clone())
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
    record.finished_at = Some(app.now());
    app.items.put(item.updated(json!(record)), Condition::VersionIs(item.version)).await?;
    Ok(json!({"message_id": record.message_id, "state": record.state, "reason": record.reason}))
}

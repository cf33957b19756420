//! A project's mail: where its vote and announcement mails go, and the mails sent.

use crate::common::ReleaseRef;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The lists a project's mails go to, and their sender. Addresses are the text given
/// (`Name <addr@host>` or `addr@host`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MailSettings {
    /// Where `[VOTE]`, `[RESULT]` and `[CANCELLED]` go (e.g. `dev@`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vote_to: Vec<String>,
    /// Where `[ANNOUNCE]` goes (e.g. `announce@`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub announce_to: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// The list's IMAP mailbox trs polls for replies to `[VOTE]` mails:
    /// `imaps://USER@HOST[:PORT]/MAILBOX` (never with the password).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imap: Option<String>,
}

/// The body of `POST /api/v1/projects/{project}/mail`: the fields given replace the
/// settings' (at least one).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetMail {
    /// The product whose settings change; absent for the project's main line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vote_to: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub announce_to: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imap: Option<String>,
}

/// `GET` and `POST /api/v1/projects/{project}/mail`: the settings in force for the main line
/// or one product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProjectMail {
    pub project: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// The project's settings, with the product's changes applied.
    pub mail: MailSettings,
}

/// `GET /api/v1/projects/{project}/mail/log`: the project's mails, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MailLog {
    pub mails: Vec<MailRecord>,
}

/// `GET /api/v1/mail/polls`: the latest rounds of `trs serve`'s poll of the projects' IMAP
/// mailboxes for vote replies, newest first, each the round's task (kind `poll-mail`): its
/// state, one step per mailbox read, and its result (`round`, `mailboxes` read, messages
/// `fetched`, `replies` recorded, and per mailbox and vote in `polled`) or why it failed. A
/// round is run only while an open vote counts replies from a mailbox. Empty on AWS, where
/// the lifecycle function's scheduled run polls and reports in its log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MailPolls {
    pub polls: Vec<crate::tasks::Task>,
}

/// One mail, as `trs mail log` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MailRecord {
    pub project: String,
    /// The project-stream event that sends it.
    pub event_seq: u64,
    /// The release it is about; for an advisory notice, the release it points users to.
    pub release: ReleaseRef,
    /// The advisory (`CVE-…`) an advisory notice announces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advisory: Option<String>,
    pub vote: u32,
    pub kind: MailKind,
    /// The `Message-ID` trs gave it (`<SEQ.PROJECT@HOST>`).
    pub message_id: String,
    /// The `Message-ID` the lists received instead, when the transport replaced trs's (Amazon
    /// SES does): what replies name.
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

/// Which mail an event sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum MailKind {
    /// `[VOTE]`: a vote opened.
    Vote,
    /// `[RESULT]`: a vote closed, passed or failed.
    Result,
    /// `[CANCELLED]`: a vote was cancelled.
    Cancelled,
    /// `[ANNOUNCE]`: a release was promoted.
    Announce,
    /// `[END-OF-LIFE]`: a release reached its end of life.
    EndOfLife,
    /// `[ARCHIVED]`: a release moved to the archive.
    Archived,
    /// `[REVOKED]`: a release was revoked.
    Revoked,
    /// `[SECURITY]`: a security advisory was published.
    Advisory,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum MailState {
    Queued,
    Sent,
    NotSent,
}

/// A mail as trs renders it: what `GET …/vote/email` and the mail previews answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RenderedMail {
    pub subject: String,
    /// The plain-text body.
    pub body: String,
}

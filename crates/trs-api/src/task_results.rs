//! What a finished task answers as its `result`: a done task's result, whose shape its `kind`
//! names, or a failed task's refusal.

use crate::common::{ReleaseRef, Stage};
use crate::mail::MailState;
use crate::tasks::Task;
use crate::uploads::CommittedUpload;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A finished task's result. Which one a task has follows from its `state` and `kind`: a
/// failed task's is a [`TaskFailure`]; a done task's is, by kind, a `commit`'s
/// [`CommittedUpload`], an `import`'s [`ImportedRelease`], a `verify`'s [`VerificationCounts`],
/// a `promote`'s [`PromotionResult`], a `distribute`'s [`DistributionResult`], a `send-mail`'s
/// [`MailTaskResult`], a `poll-mail`'s [`PollRoundResult`]. No shape's
/// required fields are all found in an answer of another, so each answer matches exactly one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum TaskResult {
    Failed(TaskFailure),
    Commit(CommittedUpload),
    Import(ImportedRelease),
    Verify(VerificationCounts),
    Promote(PromotionResult),
    Distribute(DistributionResult),
    SendMail(MailTaskResult),
    PollMail(PollRoundResult),
}

/// A failed task's refusal, as the refused API call it stands for would have answered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TaskFailure {
    /// The error code (`distribution-failed`, `vote-not-passed`, …; `task-interrupted` when
    /// the task was given up after its worker stopped too often).
    pub code: String,
    /// The HTTP status the call would have answered with (500 for `task-interrupted`).
    pub status: u16,
    /// Why, for people (the task's `error`).
    pub message: String,
}

/// An `import` task's result: the release imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ImportedRelease {
    pub release: ReleaseRef,
    /// `current` or `archived`.
    pub stage: Stage,
    /// Unix seconds: when the release was originally published.
    pub released_at: i64,
    pub revision_key: String,
    pub files: usize,
    /// Already imported before this call (by an earlier run, or a concurrent one).
    pub already_imported: bool,
    /// Checks that warn or fail without refusing the import, as `FILE: CHECK: REASON`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<String>,
}

/// A `verify` task's result: how many checks of the revision passed, warned and failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VerificationCounts {
    pub pass: usize,
    pub warn: usize,
    pub fail: usize,
}

/// A `promote` task's result: the revision promoted and where its files are public.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PromotionResult {
    /// The release, as `project/version` or `project/product/version`.
    pub release: String,
    pub revision: u32,
    pub revision_key: String,
    /// How many files were made public.
    pub files: usize,
    /// The path under which they are public (`/current/…`).
    pub public_prefix: String,
}

/// A `distribute` task's result: what became of each distribution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DistributionResult {
    /// The release, as `project/version` or `project/product/version`.
    pub release: String,
    pub distributions: Vec<DistributionOutcome>,
}

/// What became of one distribution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DistributionOutcome {
    /// The distribution as `trs distributions` names it (platform and package).
    pub label: String,
    pub platform: String,
    pub staging: bool,
    pub promoted: bool,
    pub status: DistributionOutcomeStatus,
    /// The revision distributed (absent when it failed before one was chosen).
    pub revision_key: Option<String>,
    /// The package's page on the registry.
    pub web_url: Option<String>,
    /// The error code of a failed distribution.
    pub code: Option<String>,
    /// Why a distribution failed.
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DistributionOutcomeStatus {
    /// Published to the registry now.
    Distributed,
    /// The registry had these very bytes already.
    AlreadyPresent,
    /// trs had recorded this distribution already.
    AlreadyDone,
    Failed,
}

/// A `send-mail` task's result: the mail and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MailTaskResult {
    pub message_id: String,
    pub state: MailState,
    /// Why the mail was not sent (state `not-sent`).
    #[serde(default)]
    pub reason: Option<String>,
    /// The mail had been handled by an earlier run.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub already: bool,
}

/// A `poll-mail` task's result: what one round of `trs serve`'s IMAP poll read and recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PollRoundResult {
    /// Unix seconds: the slot the round polled for.
    pub round: i64,
    /// How many mailboxes were read.
    pub mailboxes: usize,
    /// Messages fetched, over every mailbox read.
    pub fetched: usize,
    /// Replies recorded, over every vote.
    pub replies: usize,
    /// Per mailbox, what was read and recorded for each vote.
    pub polled: Vec<PolledMailbox>,
}

/// One mailbox of a poll round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PolledMailbox {
    pub project: String,
    /// The mailbox's URL, without its password.
    pub mailbox: String,
    /// Messages fetched; absent when the mailbox was not read.
    pub fetched: Option<usize>,
    pub votes: Vec<PolledVote>,
}

/// What a poll round did for one vote counting replies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PolledVote {
    pub release: ReleaseRef,
    /// Replies recorded.
    pub replies: usize,
    /// Messages read by an earlier round.
    pub already_read: usize,
    /// Messages not in the `[VOTE]` mail's thread.
    pub not_in_thread: usize,
    /// Messages that could not be read as mail.
    pub unreadable: usize,
    /// Why the vote's replies were not recorded.
    pub error: Option<String>,
}

impl Task {
    /// A failed task's refusal.
    pub fn failure(&self) -> Option<&TaskFailure> {
        match &self.result {
            Some(TaskResult::Failed(f)) => Some(f),
            _ => None,
        }
    }
}

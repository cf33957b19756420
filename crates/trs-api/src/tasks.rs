//! Tracked background tasks (upload commits, verifications, promotions, distributions, mail,
//! the IMAP poll rounds of `trs serve`):
//! what `GET /api/v1/tasks/{id}` answers and what the calls that queue a task answer with 202.

use crate::common::{Actor, ReleaseRef};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A task: what it does, how far it got, and its result once done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Task {
    pub id: String,
    pub kind: TaskKind,
    /// The upload a `commit` task commits (its id is the upload's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload: Option<String>,
    /// The import an `import` task commits (its id is the import's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import: Option<String>,
    /// The phase an `import` task is in: `store` (the files into the content-addressed
    /// store), then `publish` (checked and made public).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<ImportPhase>,
    /// The release of every kind but `send-mail` and `poll-mail`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<ReleaseRef>,
    /// The revision a `verify` or `promote` task works on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<u32>,
    /// Who asked (`commit`, `promote`, `distribute`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_by: Option<Actor>,
    /// The distributions a `distribute` task runs, as requested.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub distributions: Option<Vec<serde_json::Value>>,
    /// The project and event whose mail a `send-mail` task sends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_seq: Option<u64>,
    /// The round a `poll-mail` task is (`trs serve`'s poll of the projects' IMAP mailboxes
    /// for vote replies): the start of its interval slot, unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub round: Option<i64>,
    pub state: TaskState,
    /// Human-readable progress, e.g. "verified 3 of 8 files".
    pub progress: Option<String>,
    /// Why the task failed (state `failed`).
    pub error: Option<String>,
    /// The result once done, its shape by `kind`, or a failed task's refusal
    /// ([`TaskResult`](crate::task_results::TaskResult)).
    pub result: Option<crate::task_results::TaskResult>,
    /// What the task did so far, step by step.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<TaskStep>,
    /// Runs that ended in a backend fault (the task is retried).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub attempts: u32,
    /// Who runs the task, and until when (state `running`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease: Option<Lease>,
    /// A queued task that asked to run later is not taken before this time (unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TaskKind {
    Commit,
    Import,
    Verify,
    Promote,
    Distribute,
    SendMail,
    PollMail,
}

/// The phase of an import's commit task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ImportPhase {
    Store,
    Publish,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TaskState {
    Queued,
    Running,
    Done,
    Failed,
}

impl TaskState {
    /// Done or failed: the task will not change again.
    pub fn is_finished(self) -> bool {
        matches!(self, TaskState::Done | TaskState::Failed)
    }
}

/// One step of a task, labelled with the stage it belongs to (`promote`, `archive`,
/// `publish`, `distribute`, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TaskStep {
    pub stage: String,
    pub message: String,
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Lease {
    pub worker: String,
    pub until: i64,
}

//! Tracked background tasks. A task is data: a stored item with a kind, a state and progress,
//! created in the same transaction as the change that needs it (so it cannot be lost), listed
//! in a "queued" index until a worker finishes it, and idempotent to run again.

use crate::app::App;
use crate::error::{AppError, AppResult};
use crate::storage_keys as keys;
use serde::{Deserialize, Serialize};
use serde_json::json;
use trs_core::{Actor, OpaqueId, ReleaseId};
use trs_storage::{Condition, Item};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum TaskKind {
    /// Verify one revision of a release.
    Verify { release: ReleaseId, revision: u32 },
    /// Promote the voted revision of a release to current, then (per policy) archive the
    /// previous release, publish and distribute: one task, one progress report.
    Promote { release: ReleaseId, revision: u32, requested_by: Actor },
    /// Push a release to package registries, stage it there or promote the staged
    /// distribution (one progress step per distribution).
    Distribute { release: ReleaseId, distributions: Vec<crate::distribute::DistributionSpec>, requested_by: Actor },
    /// Send the mail a project-stream event queued (`[VOTE]`, `[RESULT]`, ...), at most once.
    SendMail { project: trs_core::ProjectName, event_seq: u64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TaskState {
    Queued,
    Running,
    Done,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    pub id: OpaqueId,
    #[serde(flatten)]
    pub kind: TaskKind,
    pub state: TaskState,
    /// Human-readable progress, e.g. "verified 3 of 8 files".
    pub progress: Option<String>,
    /// Why the task failed (state `failed`).
    pub error: Option<String>,
    /// The task's result once done (for verify: counts of pass/warn/fail).
    pub result: Option<serde_json::Value>,
    /// What the task did so far, step by step, each labelled with the stage it belongs to
    /// (`promote`, `archive`, `publish`, `distribute`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<TaskStep>,
    /// Runs that ended in a fault of a backend (not a refusal); the task is retried until
    /// [`MAX_ATTEMPTS`], as a queue redelivers a message.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub attempts: u32,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Task {
    pub fn new(kind: TaskKind, now: i64) -> Self {
        Task {
            id: App::new_id(),
            kind,
            state: TaskState::Queued,
            progress: None,
            error: None,
            result: None,
            steps: Vec::new(),
            attempts: 0,
            created_at: now,
            updated_at: now,
        }
    }

    /// The item to write when the task is created: in the queued index.
    pub fn queued_item(&self) -> Item {
        Item::new(keys::task(&self.id), json!(self)).with_gsi1(keys::queued_task_index(self.created_at, &self.id))
    }
}

pub async fn get_task(app: &App, id: &OpaqueId) -> AppResult<(Task, Item)> {
    let item =
        app.items.get(&keys::task(id)).await?.ok_or_else(|| AppError::NotFound(format!("task {id} not found")))?;
    Ok((item.parse()?, item))
}

/// Writes a new state of the task; finished tasks leave the queued index.
pub async fn update_task(app: &App, item: &Item, task: &Task) -> AppResult<Item> {
    let mut next = item.updated(json!(task));
    if matches!(task.state, TaskState::Done | TaskState::Failed) {
        next.gsi1 = None;
    }
    app.items.put(next.clone(), Condition::VersionIs(item.version)).await?;
    Ok(next)
}

/// Tasks not yet finished, oldest first (for a worker that starts after a crash).
pub async fn unfinished_tasks(app: &App) -> AppResult<Vec<Task>> {
    app.all_in_gsi1(keys::QUEUED_TASKS).await
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskStep {
    pub stage: String,
    pub message: String,
    pub at: i64,
}

/// A task being run: reports progress by writing the task item (conditionally, so two
/// workers never both believe they own it).
pub struct TaskRun<'a> {
    pub app: &'a App,
    pub task: Task,
    item: Item,
}

impl TaskRun<'_> {
    /// Records a step under `stage` and makes it the task's progress line.
    pub async fn step(&mut self, stage: &str, message: impl Into<String>) -> AppResult<()> {
        let message = message.into();
        self.task.progress = Some(format!("{stage}: {message}"));
        self.task.steps.push(TaskStep { stage: stage.into(), message, at: self.app.now() });
        self.task.updated_at = self.app.now();
        self.item = update_task(self.app, &self.item, &self.task).await?;
        Ok(())
    }

    /// Replaces the progress line without adding a step (e.g. "checked 3 of 8 files").
    pub async fn progress(&mut self, stage: &str, message: impl Into<String>) -> AppResult<()> {
        self.task.progress = Some(format!("{stage}: {}", message.into()));
        self.task.updated_at = self.app.now();
        self.item = update_task(self.app, &self.item, &self.task).await?;
        Ok(())
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Runs of a task that may end in a backend fault before it is given up as failed.
pub const MAX_ATTEMPTS: u32 = 5;

/// A task marked running but not updated for this long is presumed abandoned (crashed host).
const ABANDONED_AFTER_SECS: i64 = 15 * 60;

/// Runs the task to its end. Finished tasks, and tasks another worker is running, are left
/// alone, so announcing a task twice does no harm.
pub async fn run(app: &App, id: &OpaqueId) -> AppResult<()> {
    let (mut task, item) = get_task(app, id).await?;
    match task.state {
        TaskState::Done | TaskState::Failed => return Ok(()),
        TaskState::Running if app.now() - task.updated_at < ABANDONED_AFTER_SECS => return Ok(()),
        _ => {}
    }
    task.state = TaskState::Running;
    task.updated_at = app.now();
    let item = match update_task(app, &item, &task).await {
        Ok(item) => item,
        // Another worker took it between our read and write.
        Err(AppError::Conflict { .. }) => return Ok(()),
        Err(e) => return Err(e),
    };
    let mut run = TaskRun { app, task: task.clone(), item };
    let outcome = match &task.kind {
        TaskKind::Verify { release, revision } => crate::verify_task::verify(app, release, *revision).await,
        TaskKind::Promote { release, revision, requested_by } => {
            crate::promote::execute(&mut run, release, *revision, requested_by).await
        }
        TaskKind::Distribute { release, distributions, requested_by } => {
            crate::distribute::execute(&mut run, release, distributions, requested_by).await
        }
        TaskKind::SendMail { project, event_seq } => crate::mail::execute(app, project, *event_seq).await,
    };
    let mut task = run.task;
    task.updated_at = app.now();
    match outcome {
        Ok(summary) => {
            task.state = TaskState::Done;
            task.progress = Some("done".into());
            task.result = Some(summary);
        }
        // A fault of a backend (store unavailable, I/O) is not an answer: the task goes back to
        // the queue, and every step being idempotent, the next run finishes it.
        Err(e @ AppError::Internal(_)) if task.attempts + 1 < MAX_ATTEMPTS => {
            tracing::warn!(task = %task.id, error = %e, "task interrupted; queued again");
            task.attempts += 1;
            task.state = TaskState::Queued;
            task.error = Some(format!("attempt {} interrupted: {e}", task.attempts));
        }
        Err(e) => {
            tracing::warn!(task = %task.id, error = %e, "task failed");
            task.state = TaskState::Failed;
            task.error = Some(e.to_string());
            task.result = Some(json!({"code": e.code()}));
        }
    }
    update_task(app, &run.item, &task).await?;
    Ok(())
}

/// A queued task not picked up for this long has lost its announcement (a queue message that
/// was never sent, or given up after the queue's receive limit): the sweep announces it again.
/// Far above a queue's delivery time, so a task whose message is merely in flight is rarely
/// announced twice (which does no harm: [`run`] leaves a finished or running task alone).
pub const ANNOUNCE_AGAIN_AFTER_SECS: i64 = 5 * 60;

/// The sweep of a host whose workers take tasks from queues (Lambda: the lifecycle function's
/// scheduled run): announces again, through `app.notifier`, every queued task not updated for
/// [`ANNOUNCE_AGAIN_AFTER_SECS`] and every running task presumed abandoned, so a lost queue
/// message delays a task instead of leaving it queued forever. Returns the tasks announced.
pub async fn announce_stuck(app: &App) -> AppResult<Vec<OpaqueId>> {
    let now = app.now();
    let mut announced = Vec::new();
    for task in unfinished_tasks(app).await? {
        let idle = now - task.updated_at;
        let stuck = match task.state {
            TaskState::Queued => idle >= ANNOUNCE_AGAIN_AFTER_SECS,
            TaskState::Running => idle >= ABANDONED_AFTER_SECS,
            TaskState::Done | TaskState::Failed => false,
        };
        if stuck {
            app.notifier.task_queued(&task).await;
            announced.push(task.id);
        }
    }
    Ok(announced)
}

/// Runs every unfinished task once (the scheduler's sweep, and start-up recovery).
pub async fn sweep(app: &App) -> AppResult<usize> {
    let pending: Vec<Task> = unfinished_tasks(app).await?;
    let n = pending.len();
    for t in pending {
        run(app, &t.id).await?;
    }
    Ok(n)
}

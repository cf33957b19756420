//! Tracked background tasks. A task is data: a stored item with a kind, a state and progress,
//! created in the same transaction as the change that needs it (so it cannot be lost), listed
//! in a "queued" index until a worker finishes it, and idempotent to run again.

use crate::app::App;
use crate::error::{AppError, AppResult};
use crate::storage_keys as keys;
use serde::{Deserialize, Serialize};
use serde_json::json;
use trs_core::{OpaqueId, ReleaseId};
use trs_storage::{Condition, Item};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum TaskKind {
    /// Verify one revision of a release.
    Verify { release: ReleaseId, revision: u32 },
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

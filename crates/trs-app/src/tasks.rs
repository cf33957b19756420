//! Tracked background tasks. A task is data: a stored item with a kind, a state and progress,
//! created in the same transaction as the change that needs it (so it cannot be lost), listed
//! in a "queued" index until a worker finishes it, and idempotent to run again.
//!
//! A worker running a task holds a [`Lease`] on it and renews it while it runs (a heartbeat);
//! a task whose worker died is taken again once the lease has run out (`trs serve` takes the
//! tasks of its own previous process at once, [`release_orphans`]; on Lambda the scheduled
//! sweep announces them again, [`announce_stuck`]). Taking a task is a conditional write, so
//! two workers never both run it.

use crate::app::App;
use crate::error::{AppError, AppResult};
use crate::retry::{self, Attempt};
use crate::storage_keys as keys;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use trs_core::{Actor, OpaqueId, ReleaseId};
use trs_storage::{Condition, Item};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum TaskKind {
    /// Commit an upload: check, hash and store each staged file, then make the revision
    /// (`crate::upload::execute_commit`). Its id is the upload's, so asking to commit an upload
    /// again finds this task instead of making a second one.
    Commit { upload: OpaqueId, release: ReleaseId, requested_by: Actor },
    /// Commit an import (`crate::import`), in two phases run by two workers, because no one
    /// role may do both where each function has its own (AWS): `store` hashes the staged
    /// files and moves them to the content-addressed store (the upload function's part), then
    /// hands the task on to `publish`, which checks them and makes the release public (the
    /// promote function's part). Its id is the import's.
    Import { import: OpaqueId, release: ReleaseId, requested_by: Actor, phase: crate::import::ImportPhase },
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
    /// One round of `trs serve`'s poll of the projects' IMAP mailboxes for vote replies
    /// (`crate::vote::mail_poll::start_round`): `round` is the start of its interval slot
    /// (unix seconds), and the task's id is derived from it, so a restart or a second worker
    /// in the same slot finds the round instead of running another. On AWS the lifecycle
    /// function's scheduled run polls instead, and no such task is ever queued there.
    PollMail { round: i64 },
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
    /// Who runs the task, and until when (state `running`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease: Option<Lease>,
    /// A queued task that asked to run again later ([`Ran::Later`]: an announcement waiting
    /// for its files to be downloadable) is not taken before this time (unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<i64>,
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
            lease: None,
            not_before: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// Whether a running task's worker has stopped renewing its lease by `now` (tasks stored
    /// before leases existed count from their last update).
    pub fn lease_expired(&self, now: i64, lease_secs: i64) -> bool {
        match &self.lease {
            Some(lease) => now >= lease.until,
            None => now - self.updated_at >= lease_secs,
        }
    }

    /// Records a run that ended without an answer (its worker stopped); after
    /// [`MAX_ATTEMPTS`] of them the task is given up as failed (a task that kills its worker
    /// every time must not do so forever).
    fn interrupted(&mut self, why: &str, now: i64) {
        self.attempts += 1;
        self.lease = None;
        self.updated_at = now;
        self.error = Some(format!("attempt {} interrupted: {why}", self.attempts));
        if self.attempts >= MAX_ATTEMPTS {
            self.state = TaskState::Failed;
            self.result = Some(json!({"code": "task-interrupted"}));
        } else {
            self.state = TaskState::Queued;
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

/// A worker's hold on a running task: nobody else takes the task before `until` (unix seconds
/// on the app's clock); the worker moves `until` on while it runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lease {
    pub worker: String,
    pub until: i64,
}

/// Writes a new state of the task; finished tasks leave the queued index.
pub async fn update_task(app: &App, item: &Item, task: &Task) -> AppResult<Item> {
    let mut next = item.updated(json!(task));
    if matches!(task.state, TaskState::Done | TaskState::Failed) {
        next.gsi1 = None;
    }
    app.items.put(next.clone(), Condition::VersionIs(item.version)).await?;
    if let Some(changes) = &app.task_changes {
        changes.notify_waiters();
    }
    Ok(next)
}

/// The longest a client's request waits in [`wait_for_change`] (below API Gateway's 29 s).
pub const MAX_WAIT: Duration = Duration::from_secs(20);

/// The task once it is finished or has more than `seen_steps` steps, or as it is after `wait`
/// (at most [`MAX_WAIT`]): a waiting client learns of the end the moment it is written,
/// without a polling interval. Answers at once on a host without [`App::task_changes`].
pub async fn wait_for_change(app: &App, id: &OpaqueId, seen_steps: usize, wait: Duration) -> AppResult<Task> {
    let Some(changes) = app.task_changes.clone() else { return Ok(get_task(app, id).await?.0) };
    let deadline = tokio::time::Instant::now() + wait.min(MAX_WAIT);
    loop {
        // Listening before reading: a write between the read and the wait still wakes us.
        let notified = changes.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let (task, _) = get_task(app, id).await?;
        let finished = matches!(task.state, TaskState::Done | TaskState::Failed);
        if finished || task.steps.len() != seen_steps {
            return Ok(task);
        }
        if tokio::time::timeout_at(deadline, notified).await.is_err() {
            return Ok(task);
        }
    }
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

/// A task this worker has taken: the task as last written and its stored item (the version
/// the next write is conditioned on).
pub struct Claimed {
    pub task: Task,
    item: Item,
}

impl Claimed {
    /// Writes `self.task` as the task's new state.
    async fn write(&mut self, app: &App) -> AppResult<()> {
        self.item = update_task(app, &self.item, &self.task).await?;
        Ok(())
    }

    /// The heartbeat: moves the lease on by a full lease from now. `Ok(false)` when the task
    /// was changed by someone else (another worker took it after the lease ran out): this
    /// worker must stop.
    pub async fn renew(&mut self, app: &App) -> AppResult<bool> {
        let now = app.now();
        self.task.lease = Some(Lease { worker: app.worker.to_string(), until: now + app.limits.task_lease_secs });
        self.task.updated_at = now;
        match self.write(app).await {
            Ok(()) => Ok(true),
            Err(AppError::Conflict { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

/// Takes the task for this worker (`app.worker`) if it is queued, or running under a lease
/// that has run out. `None` when it is finished or another worker holds it (also when another
/// worker took it between our read and our conditional write).
pub async fn claim(app: &App, id: &OpaqueId) -> AppResult<Option<Claimed>> {
    claim_if(app, id, |_| true).await
}

/// [`claim`] by a worker that runs only the kinds of task `runs` accepts: a task of another
/// kind is left alone (`None`), as one another worker holds.
async fn claim_if(app: &App, id: &OpaqueId, runs: impl Fn(&TaskKind) -> bool) -> AppResult<Option<Claimed>> {
    let (mut task, item) = get_task(app, id).await?;
    if !runs(&task.kind) {
        return Ok(None);
    }
    let now = app.now();
    match task.state {
        TaskState::Done | TaskState::Failed => return Ok(None),
        TaskState::Running if !task.lease_expired(now, app.limits.task_lease_secs) => return Ok(None),
        TaskState::Running => {
            let holder = task.lease.as_ref().map_or("a worker", |l| l.worker.as_str()).to_string();
            task.interrupted(&format!("{holder} stopped renewing its lease"), now);
            tracing::warn!(task = %task.id, %holder, "task abandoned by its worker; taken again");
        }
        TaskState::Queued if task.not_before.is_some_and(|t| now < t) => return Ok(None),
        TaskState::Queued => {}
    }
    if task.state == TaskState::Failed {
        update_task(app, &item, &task).await.map(drop).or_else(ignore_conflict)?;
        return Ok(None);
    }
    task.state = TaskState::Running;
    task.lease = Some(Lease { worker: app.worker.to_string(), until: now + app.limits.task_lease_secs });
    task.not_before = None;
    task.updated_at = now;
    match update_task(app, &item, &task).await {
        Ok(item) => Ok(Some(Claimed { task, item })),
        Err(AppError::Conflict { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

fn ignore_conflict(e: AppError) -> AppResult<()> {
    match e {
        AppError::Conflict { .. } => Ok(()),
        e => Err(e),
    }
}

/// For a host that is the only worker of its store (`trs serve` on the embedded store, whose
/// file one process at a time can open): at start, every task still running under another
/// worker's lease was left by a previous process of this host, killed while running it. Those
/// go back to the queue at once instead of waiting for their leases to run out. Returns them.
pub async fn release_orphans(app: &App) -> AppResult<Vec<OpaqueId>> {
    let mut released = Vec::new();
    for task in unfinished_tasks(app).await? {
        if task.state != TaskState::Running || task.lease.as_ref().is_some_and(|l| *l.worker == *app.worker) {
            continue;
        }
        let (mut task, item) = get_task(app, &task.id).await?;
        if task.state != TaskState::Running {
            continue;
        }
        let holder = task.lease.as_ref().map_or("a worker", |l| l.worker.as_str()).to_string();
        task.interrupted(&format!("{holder} stopped (the host was restarted)"), app.now());
        update_task(app, &item, &task).await.map(drop).or_else(ignore_conflict)?;
        tracing::warn!(task = %task.id, %holder, "task left running by a previous process; queued again");
        released.push(task.id);
    }
    Ok(released)
}

/// A task being run: reports progress by writing the task item (conditionally, so two
/// workers never both believe they own it). Shares the task with the lease's heartbeat.
pub struct TaskRun<'a> {
    pub app: &'a App,
    held: Arc<tokio::sync::Mutex<Claimed>>,
}

impl TaskRun<'_> {
    /// Records a step under `stage` and makes it the task's progress line.
    pub async fn step(&mut self, stage: &str, message: impl Into<String>) -> AppResult<()> {
        let message = message.into();
        let now = self.app.now();
        let mut held = self.held.lock().await;
        held.task.progress = Some(format!("{stage}: {message}"));
        held.task.steps.push(TaskStep { stage: stage.into(), message, at: now });
        held.task.updated_at = now;
        held.write(self.app).await
    }

    /// Replaces the progress line without adding a step (e.g. "checked 3 of 8 files").
    pub async fn progress(&mut self, stage: &str, message: impl Into<String>) -> AppResult<()> {
        let mut held = self.held.lock().await;
        held.task.progress = Some(format!("{stage}: {}", message.into()));
        held.task.updated_at = self.app.now();
        held.write(self.app).await
    }
}

/// Renews the lease every third of its length until the lease is lost (returns then); a
/// renewal that fails for another reason is retried at the next beat.
async fn heartbeat(app: &App, held: &tokio::sync::Mutex<Claimed>) {
    let every = Duration::from_secs((app.limits.task_lease_secs / 3).max(1) as u64);
    loop {
        tokio::time::sleep(every).await;
        let mut held = held.lock().await;
        match held.renew(app).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => tracing::warn!(task = %held.task.id, error = %e, "could not renew the task's lease"),
        }
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Runs of a task that may end in a backend fault before it is given up as failed.
pub const MAX_ATTEMPTS: u32 = 5;

/// How a run of a task ended, when it did not fail.
#[derive(Debug, Clone, PartialEq)]
pub enum Ran {
    /// Finished, with the task's result.
    Done(serde_json::Value),
    /// Not finished, and not a fault: what it waits for is not there yet (an announcement
    /// whose files are not downloadable yet). The task goes back to the queue, not to be
    /// taken before `at`; `why` is its progress line meanwhile.
    Later { at: i64, why: String },
    /// This worker's part is done; the rest is another kind's (another worker's, under
    /// another role): the task goes back to the queue as `next` and is announced as such, so
    /// the worker of that kind takes it. `why` is its progress line meanwhile.
    HandOff { next: TaskKind, why: String },
}

/// Runs the task to its end. Finished tasks, and tasks another worker holds, are left alone,
/// so announcing a task twice does no harm.
pub async fn run(app: &App, id: &OpaqueId) -> AppResult<()> {
    run_here(app, id).await.map(drop)
}

/// [`run`], returning what this run of the task ended with (its result, or the error that
/// failed or interrupted it), as stored; `None` when the task was not run here (finished
/// already, or held by another worker).
pub async fn run_here(app: &App, id: &OpaqueId) -> AppResult<Option<AppResult<Ran>>> {
    run_here_if(app, id, |_| true).await
}

/// [`run_here`] by a worker that runs only the kinds of task `runs` accepts (a Lambda
/// function, each under a role that may do only its own kinds): a task of another kind is
/// not run here (`None`). A message that outlived its task's hand-off to another worker (SQS
/// delivers at least once) so never runs the next phase under the previous worker's role.
/// The kind is checked on the claim's own read, so a hand-off just before it is seen.
pub async fn run_here_if(
    app: &App,
    id: &OpaqueId,
    runs: impl Fn(&TaskKind) -> bool,
) -> AppResult<Option<AppResult<Ran>>> {
    let Some(claimed) = claim_if(app, id, runs).await? else { return Ok(None) };
    let kind = claimed.task.kind.clone();
    let held = Arc::new(tokio::sync::Mutex::new(claimed));
    let mut run = TaskRun { app, held: held.clone() };
    let work = async {
        match &kind {
            TaskKind::Commit { upload, requested_by, .. } => {
                crate::upload::execute_commit(&mut run, upload, requested_by).await.map(Ran::Done)
            }
            TaskKind::Import { import, requested_by, phase, .. } => {
                crate::import::execute(&mut run, import, requested_by, *phase).await
            }
            TaskKind::Verify { release, revision } => {
                crate::verify_task::verify(app, release, *revision).await.map(Ran::Done)
            }
            TaskKind::Promote { release, revision, requested_by } => {
                crate::promote::execute(&mut run, release, *revision, requested_by).await.map(Ran::Done)
            }
            TaskKind::Distribute { release, distributions, requested_by } => {
                crate::distribute::execute(&mut run, release, distributions, requested_by).await.map(Ran::Done)
            }
            TaskKind::SendMail { project, event_seq } => crate::mail::execute(app, project, *event_seq).await,
            TaskKind::PollMail { round } => crate::vote::mail_poll::execute_round(&mut run, *round).await,
        }
    };
    let outcome = tokio::select! {
        outcome = work => outcome,
        () = heartbeat(app, &held) => {
            // Another worker took the task (this one was too slow to renew): it finishes it.
            tracing::warn!(task = %id, "lease lost; leaving the task to the worker that took it");
            return Ok(None);
        }
    };
    let mut held = held.lock().await;
    let task = &mut held.task;
    task.updated_at = app.now();
    task.lease = None;
    match &outcome {
        Ok(Ran::Done(summary)) => {
            task.state = TaskState::Done;
            task.progress = Some("done".into());
            task.result = Some(summary.clone());
        }
        Ok(Ran::Later { at, why }) => {
            task.state = TaskState::Queued;
            task.not_before = Some(*at);
            task.progress = Some(why.clone());
        }
        Ok(Ran::HandOff { next, why }) => {
            task.kind = next.clone();
            task.state = TaskState::Queued;
            task.progress = Some(why.clone());
        }
        // A fault of a backend (store unavailable, I/O) is not an answer: the task goes back to
        // the queue, and every step being idempotent, the next run finishes it.
        Err(e @ (AppError::Internal(_) | AppError::InsufficientStorage(_))) if task.attempts + 1 < MAX_ATTEMPTS => {
            tracing::warn!(task = %task.id, error = %e, "task interrupted; queued again");
            task.attempts += 1;
            task.state = TaskState::Queued;
            task.error = Some(format!("attempt {} interrupted: {e}", task.attempts));
        }
        // The code and status are those the API would have answered with, so a client that
        // waits for the task reports the refusal as it reports a refused call.
        Err(e) => {
            tracing::warn!(task = %task.id, error = %e, "task failed");
            task.state = TaskState::Failed;
            task.error = Some(e.to_string());
            task.result = Some(json!({"code": e.code(), "status": e.status()}));
        }
    }
    held.write(app).await?;
    if let Ok(Ran::HandOff { .. }) = &outcome {
        // Written first, so the worker the announcement reaches finds the task as handed on.
        announce(app, &held.task).await;
    }
    Ok(Some(outcome))
}

/// Runs the task in this process to its end, through every hand-off (tools and tests, where
/// one process plays every worker): its result, or the error it failed with. A task another
/// worker holds, or one that asked to run later, is answered as stored (`what` names it in
/// the error).
pub async fn run_through(app: &App, id: &OpaqueId, what: &str) -> AppResult<serde_json::Value> {
    loop {
        match run_here(app, id).await? {
            Some(Ok(Ran::Done(result))) => return Ok(result),
            Some(Ok(Ran::HandOff { .. })) => continue,
            Some(Err(e)) => return Err(e),
            Some(Ok(Ran::Later { .. })) | None => {
                let (task, _) = get_task(app, id).await?;
                return match (task.state, task.result) {
                    (TaskState::Done, Some(result)) => Ok(result),
                    _ => Err(AppError::conflict("commit-running", format!("{what} is being run by a worker"))),
                };
            }
        }
    }
}

/// Queues the task `id` (one per thing it is about: a commit's id is its upload's) once:
/// a task of that id that has not failed is answered as it is (a queued one announced again,
/// in case its announcement was lost); a failed one is queued afresh as `kind`, under the
/// same id, since a task writes all or nothing and may succeed now (a file that had not
/// arrived has). `what` names it in the error when concurrent requests keep colliding.
pub async fn queue_once(app: &App, id: &OpaqueId, kind: TaskKind, what: &str) -> AppResult<Task> {
    let kind = &kind;
    retry::on_conflict(retry::ATTEMPTS, retry::too_busy(what), || async move {
        let fresh = Task { id: id.clone(), ..Task::new(kind.clone(), app.now()) };
        let written = match app.items.get(&keys::task(id)).await? {
            None => app.items.put(fresh.queued_item(), Condition::Absent).await,
            Some(item) => {
                let existing: Task = item.parse()?;
                if existing.state != TaskState::Failed {
                    if existing.state == TaskState::Queued {
                        announce(app, &existing).await;
                    }
                    return Ok(Attempt::Done(existing));
                }
                let queued = fresh.queued_item();
                let again = Item { gsi1: queued.gsi1, ..item.updated(queued.body) };
                app.items.put(again, Condition::VersionIs(item.version)).await
            }
        };
        match written {
            Ok(()) => {
                announce(app, &fresh).await;
                Ok(Attempt::Done(fresh))
            }
            // Asked for twice at once: the other request's task is the one; look again.
            Err(e) if e.is_conflict() => Ok(Attempt::Conflicted),
            Err(e) => Err(e.into()),
        }
    })
    .await
}

/// A queued task not picked up for this long has lost its announcement (a queue message that
/// was never sent, or given up after the queue's receive limit): the sweep announces it again.
/// Far above a queue's delivery time, so a task whose message is merely in flight is rarely
/// announced twice (which does no harm: [`run`] leaves a finished or running task alone).
pub const ANNOUNCE_AGAIN_AFTER_SECS: i64 = 5 * 60;

/// Announces a task just committed, so a worker runs it now. A failure is logged and
/// otherwise left to the sweep: the task item is stored, so it only waits.
pub async fn announce(app: &App, task: &Task) {
    if let Err(why) = app.notifier.task_queued(task).await {
        tracing::error!(task = %task.id, "cannot announce task; it waits for the sweep: {why}");
    }
}

/// What one sweep of stuck tasks did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Announced {
    /// Tasks announced again.
    pub announced: Vec<OpaqueId>,
    /// Tasks whose announcement failed (they stay stuck until a sweep succeeds).
    pub failed: Vec<NotAnnounced>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NotAnnounced {
    pub task: OpaqueId,
    pub error: String,
}

/// The sweep of a host whose workers take tasks from queues (Lambda: the lifecycle function's
/// scheduled run): announces again, through `app.notifier`, every queued task not updated for
/// [`ANNOUNCE_AGAIN_AFTER_SECS`] and every running task whose lease ran out (its worker died
/// or timed out), so a lost queue message or a dead worker delays a task instead of leaving
/// it stuck forever. A failed announcement does not stop the others; it is reported.
pub async fn announce_stuck(app: &App) -> AppResult<Announced> {
    let now = app.now();
    let mut out = Announced::default();
    for task in unfinished_tasks(app).await? {
        let idle = now - task.updated_at;
        let stuck = match (task.state, task.not_before) {
            // Waiting by its own choice: announced again once its time has come.
            (TaskState::Queued, Some(at)) => now >= at,
            (TaskState::Queued, None) => idle >= ANNOUNCE_AGAIN_AFTER_SECS,
            (TaskState::Running, _) => task.lease_expired(now, app.limits.task_lease_secs),
            (TaskState::Done | TaskState::Failed, _) => false,
        };
        if stuck {
            match app.notifier.task_queued(&task).await {
                Ok(()) => out.announced.push(task.id),
                Err(error) => out.failed.push(NotAnnounced { task: task.id, error }),
            }
        }
    }
    Ok(out)
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

/// A commit asked for after its session (an upload's or an import's, `noun`) expired: the
/// task the session's commit left behind, if `requester` says it is such a commit and it was
/// the caller's (`not-your-upload` when someone else's); `404` when there is none.
pub async fn commit_after_session(
    app: &App,
    caller: &trs_core::PersonUid,
    noun: &str,
    id: &OpaqueId,
    requester: impl Fn(&TaskKind) -> Option<&Actor>,
) -> AppResult<Task> {
    let gone = || AppError::NotFound(format!("{noun} {id} not found (unknown, or expired uncommitted)"));
    let Some(item) = app.items.get(&keys::task(id)).await? else { return Err(gone()) };
    let task: Task = item.parse()?;
    match requester(&task.kind) {
        Some(by) if by.uid == *caller => Ok(task),
        Some(by) => Err(not_yours(noun, id, &by.uid)),
        None => Err(gone()),
    }
}

/// An upload or import session used by someone other than who started it.
pub fn not_yours(noun: &str, id: &OpaqueId, by: &trs_core::PersonUid) -> AppError {
    AppError::conflict("not-your-upload", format!("{noun} {id} was started by {by}"))
}

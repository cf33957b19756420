//! Task leases (issue 13, item 7): a worker holds a lease on the task it runs and renews it;
//! a task whose worker died is taken again once the lease ran out (on the test clock), and
//! at once by a host that knows it is the store's only worker; two workers never both take it.

use std::sync::Arc;
use trs_app::App;
use trs_app::tasks::{self, Lease, TaskState};
use trs_app::test_support::{World, commit_files, release, world};
use trs_core::OpaqueId;

/// The app of another worker (another process, another Lambda instance) on the same stores.
fn worker(w: &World, name: &str) -> App {
    App { worker: name.into(), ..w.app.clone() }
}

async fn queued_verify_task(w: &World) -> OpaqueId {
    let files: [(&str, &[u8]); 1] = [("notes.txt", b"hello")];
    commit_files(&w.app, &w.blobs, &w.rm.caller(), &release(), &files).await.task.expect("a new revision is verified")
}

async fn state(w: &World, id: &OpaqueId) -> tasks::Task {
    tasks::get_task(&w.app, id).await.unwrap().0
}

#[tokio::test]
async fn a_dead_workers_task_is_taken_again_when_its_lease_runs_out() {
    let w = world().await;
    let lease = w.app.limits.task_lease_secs;
    let id = queued_verify_task(&w).await;
    let t0 = w.app.now();
    // Worker a takes the task, then dies (kill -9): it never renews nor finishes.
    let taken = tasks::claim(&worker(&w, "a"), &id).await.unwrap().expect("a queued task is taken");
    assert_eq!(taken.task.lease, Some(Lease { worker: "a".into(), until: t0 + lease }));
    drop(taken);

    // While the lease holds, nobody else runs it (a live worker may be in the middle of it).
    let b = worker(&w, "b");
    w.clock.advance(lease - 1);
    tasks::run(&b, &id).await.unwrap();
    assert_eq!(state(&w, &id).await.state, TaskState::Running);
    assert!(!trs_app::status::release_status(&w.app, &release()).await.unwrap().verified());

    // Once it ran out — a minute, not the quarter of an hour of before — worker b takes it.
    w.clock.advance(1);
    tasks::run(&b, &id).await.unwrap();
    let done = state(&w, &id).await;
    assert_eq!(done.state, TaskState::Done, "{:?}", done.error);
    assert_eq!(done.attempts, 1, "the dead worker's run counts as an interrupted attempt");
    assert!(done.error.as_deref().unwrap().contains("a stopped renewing its lease"), "{:?}", done.error);
    assert_eq!(done.lease, None, "a finished task holds no lease");
    assert!(trs_app::status::release_status(&w.app, &release()).await.unwrap().verified());
}

#[tokio::test]
async fn a_live_worker_keeps_its_task_by_renewing_the_lease() {
    let w = world().await;
    let lease = w.app.limits.task_lease_secs;
    let id = queued_verify_task(&w).await;
    let (a, b) = (worker(&w, "a"), worker(&w, "b"));
    let mut held = tasks::claim(&a, &id).await.unwrap().unwrap();
    // The heartbeat before the lease runs out moves it on by a whole lease from then.
    w.clock.advance(lease - 10);
    assert!(held.renew(&a).await.unwrap());
    w.clock.advance(20);
    assert!(tasks::claim(&b, &id).await.unwrap().is_none(), "past the first lease, but it was renewed");
    // A worker that stops beating loses the task to another, and learns so at its next beat.
    w.clock.advance(lease - 10);
    assert!(tasks::claim(&b, &id).await.unwrap().is_some());
    assert!(!held.renew(&a).await.unwrap(), "the renewal of a lost lease fails");
    assert_eq!(state(&w, &id).await.lease.unwrap().worker, "b");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_workers_never_both_take_a_task() {
    let w = Arc::new(world().await);
    let id = queued_verify_task(&w).await;
    let mut claims = Vec::new();
    for n in 0..8 {
        let (w, id) = (w.clone(), id.clone());
        claims.push(tokio::spawn(async move { tasks::claim(&worker(&w, &format!("w{n}")), &id).await.unwrap() }));
    }
    let mut taken = 0;
    for c in claims {
        taken += usize::from(c.await.unwrap().is_some());
    }
    assert_eq!(taken, 1);
}

#[tokio::test]
async fn the_only_worker_of_a_store_requeues_what_its_previous_process_left_running() {
    let w = world().await;
    let id = queued_verify_task(&w).await;
    let mut before_restart = tasks::claim(&worker(&w, "old-process"), &id).await.unwrap().unwrap();
    // The restarted host: the lease has not run out (the clock stands still), yet the task
    // is queued again at once and the next sweep runs it.
    let restarted = worker(&w, "new-process");
    assert_eq!(tasks::release_orphans(&restarted).await.unwrap(), std::slice::from_ref(&id));
    let queued = state(&w, &id).await;
    assert_eq!((queued.state, queued.attempts, queued.lease), (TaskState::Queued, 1, None));
    assert!(!before_restart.renew(&worker(&w, "old-process")).await.unwrap());
    tasks::sweep(&restarted).await.unwrap();
    assert_eq!(state(&w, &id).await.state, TaskState::Done);
    // Its own tasks it leaves alone.
    let id2 = {
        let files: [(&str, &[u8]); 1] = [("more.txt", b"more")];
        commit_files(&w.app, &w.blobs, &w.rm.caller(), &release(), &files)
            .await
            .task
            .expect("a new revision is verified")
    };
    tasks::claim(&restarted, &id2).await.unwrap().unwrap();
    assert!(tasks::release_orphans(&restarted).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_task_that_kills_its_worker_every_time_is_given_up() {
    let w = world().await;
    let id = queued_verify_task(&w).await;
    for n in 0..tasks::MAX_ATTEMPTS {
        tasks::claim(&worker(&w, &format!("crashing-{n}")), &id).await.unwrap();
        w.clock.advance(w.app.limits.task_lease_secs);
    }
    assert!(tasks::claim(&worker(&w, "last"), &id).await.unwrap().is_none());
    let failed = state(&w, &id).await;
    assert_eq!((failed.state, failed.attempts), (TaskState::Failed, tasks::MAX_ATTEMPTS));
    assert_eq!(failed.result.unwrap()["code"], "task-interrupted");
    assert!(tasks::unfinished_tasks(&w.app).await.unwrap().is_empty(), "a failed task leaves the queue");
}

#[tokio::test]
async fn the_sweep_announces_a_running_task_once_its_lease_ran_out() {
    #[derive(Default)]
    struct Recorder(std::sync::Mutex<Vec<OpaqueId>>);
    #[async_trait::async_trait]
    impl trs_app::TaskNotifier for Recorder {
        async fn task_queued(&self, task: &tasks::Task) -> Result<(), String> {
            self.0.lock().unwrap().push(task.id.clone());
            Ok(())
        }
    }
    let w = world().await;
    let id = queued_verify_task(&w).await;
    tasks::claim(&worker(&w, "lambda-instance-1"), &id).await.unwrap().unwrap();
    let recorder = Arc::new(Recorder::default());
    let sweeper = App { notifier: recorder.clone(), ..worker(&w, "sweep") };
    w.clock.advance(w.app.limits.task_lease_secs - 1);
    assert_eq!(tasks::announce_stuck(&sweeper).await.unwrap(), tasks::Announced::default());
    w.clock.advance(1);
    assert_eq!(tasks::announce_stuck(&sweeper).await.unwrap().announced, std::slice::from_ref(&id));
    assert_eq!(*recorder.0.lock().unwrap(), [id]);
}

#[tokio::test]
async fn the_sweep_reports_an_announcement_the_queue_refused_and_goes_on() {
    /// Refuses to announce one task (its queue denies the send), announces the others.
    struct Refuses(OpaqueId);
    #[async_trait::async_trait]
    impl trs_app::TaskNotifier for Refuses {
        async fn task_queued(&self, task: &tasks::Task) -> Result<(), String> {
            if task.id == self.0 { Err("AccessDenied".into()) } else { Ok(()) }
        }
    }
    let w = world().await;
    let first = queued_verify_task(&w).await;
    let files: [(&str, &[u8]); 1] = [("notes.txt", b"changed")];
    let second = commit_files(&w.app, &w.blobs, &w.rm.caller(), &release(), &files).await.task.unwrap();
    let sweeper = App { notifier: Arc::new(Refuses(first.clone())), ..worker(&w, "sweep") };
    w.clock.advance(tasks::ANNOUNCE_AGAIN_AFTER_SECS - 1);
    assert_eq!(tasks::announce_stuck(&sweeper).await.unwrap(), tasks::Announced::default(), "within the grace period");
    w.clock.advance(1);
    let swept = tasks::announce_stuck(&sweeper).await.unwrap();
    let failed: Vec<_> = swept.failed.iter().map(|f| (f.task.clone(), f.error.as_str())).collect();
    assert_eq!(failed, [(first, "AccessDenied")]);
    assert_eq!(swept.announced, [second]);
}

/// Issue 18: a client waiting on a task (`GET /api/v1/tasks/ID?wait=…`) hears of its end the
/// moment it is written, on a host whose workers share the process; without such a host the
/// request is answered at once, as before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_client_is_answered_when_the_task_ends() {
    let mut w = world().await;
    let id = queued_verify_task(&w).await;
    let answered_at_once = tasks::wait_for_change(&w.app, &id, 0, tasks::MAX_WAIT).await.unwrap();
    assert_eq!(answered_at_once.state, TaskState::Queued, "no task_changes: nothing to wait on");

    w.app.task_changes = Some(Arc::new(tokio::sync::Notify::new()));
    let waiter = {
        let app = w.app.clone();
        let id = id.clone();
        tokio::spawn(async move { tasks::wait_for_change(&app, &id, 0, tasks::MAX_WAIT).await.unwrap() })
    };
    // Lets the waiter read the queued task and start waiting (were it not waiting yet, it
    // would read the finished task: the test would pass without proving the wake-up).
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    tasks::run(&w.app, &id).await.unwrap();
    // Without the wake-up the waiter would answer after MAX_WAIT with the task it read before.
    let answer = waiter.await.unwrap();
    assert_eq!(answer.state, TaskState::Done, "{answer:?}");
}

#[tokio::test]
async fn a_task_that_asked_to_run_later_is_neither_taken_nor_announced_before_its_time() {
    #[derive(Default)]
    struct Recorder(std::sync::Mutex<Vec<OpaqueId>>);
    #[async_trait::async_trait]
    impl trs_app::TaskNotifier for Recorder {
        async fn task_queued(&self, task: &tasks::Task) -> Result<(), String> {
            self.0.lock().unwrap().push(task.id.clone());
            Ok(())
        }
    }
    let w = world().await;
    let id = queued_verify_task(&w).await;
    // What a run that ended in `Ran::Later` leaves (an [ANNOUNCE] waiting for its files).
    let wait = 3600;
    let (mut task, item) = tasks::get_task(&w.app, &id).await.unwrap();
    task.not_before = Some(w.app.now() + wait);
    tasks::update_task(&w.app, &item, &task).await.unwrap();
    let recorder = Arc::new(Recorder::default());
    let sweeper = App { notifier: recorder.clone(), ..worker(&w, "sweep") };

    // Idle far past the grace period of a lost announcement, but not yet due.
    w.clock.advance(tasks::ANNOUNCE_AGAIN_AFTER_SECS);
    assert_eq!(tasks::announce_stuck(&sweeper).await.unwrap(), tasks::Announced::default());
    assert!(tasks::claim(&worker(&w, "eager"), &id).await.unwrap().is_none(), "not taken before its time");
    assert_eq!(state(&w, &id).await.state, TaskState::Queued);

    w.clock.set(task.not_before.unwrap());
    assert_eq!(tasks::announce_stuck(&sweeper).await.unwrap().announced, std::slice::from_ref(&id));
    let claimed = tasks::claim(&worker(&w, "on-time"), &id).await.unwrap().expect("taken once due");
    assert_eq!((claimed.task.state, claimed.task.not_before), (TaskState::Running, None));
}

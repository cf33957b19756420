//! A `trs serve` killed (kill -9) while verifying leaves the verify task running under its
//! lease; the restarted server takes it again at once — not after the lease, let alone the
//! quarter of an hour it took before (issue 13, item 7) — so `vote start` succeeds as soon as
//! the verification has run.

use trs_app::tasks::{Lease, TaskState, get_task};
use trs_tests::*;

/// Far in the future: a lease that never runs out by itself within the test.
const NEVER: i64 = 32_503_680_000;

#[test]
fn a_task_left_running_by_a_killed_server_is_taken_again_on_restart() {
    let mut team = Team::new();
    let tarball = source_tarball(team.work.path(), "apache-foo-1.0.0-src.tar.gz", "apache-foo-1.0.0");
    let files = team.signed_set(&tarball);
    let out = ok(&team.as_rm(&args_with(&["upload", "foo", "1.0.0", "--no-wait", "--json"], &files))).clone();
    let task: trs_core::OpaqueId = stdout_json(&out)["task"].as_str().unwrap().parse().unwrap();
    team.server.stop(); // kill -9

    // Wherever the verification was when the process died, make it the state a kill in the
    // middle of it leaves: the task running under the dead process's lease, no report yet.
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let (items, blobs) =
            trs_storage::embedded::open_data_dir(team.server.data.path(), "http://127.0.0.1:1".into()).unwrap();
        let app = trs_app::App::new(std::sync::Arc::new(items), std::sync::Arc::new(blobs));
        let (mut t, item) = get_task(&app, &task).await.unwrap();
        t.state = TaskState::Running;
        t.lease = Some(Lease { worker: "killed-process".into(), until: NEVER });
        t.progress = Some("verification: checked 1 of 3 files".into());
        t.result = None;
        let mut running = item.updated(serde_json::json!(t));
        running.gsi1 = Some(trs_app::storage_keys::queued_task_index(t.created_at, &t.id));
        app.items.put(running, trs_storage::Condition::VersionIs(item.version)).await.unwrap();
        let release =
            trs_core::ReleaseId { project: "foo".parse().unwrap(), product: None, version: "1.0.0".parse().unwrap() };
        let report = trs_app::storage_keys::revision_report(&release, 1);
        app.items.delete(&report, trs_storage::Condition::None).await.unwrap();
    });
    team.server.restart();
    // Before answering anything the new process queued the orphan again: no request sees it
    // held by the dead process.
    let shown = stdout_json(ok(&team.anonymous(&["task", "show", task.as_str(), "--json"])));
    assert_ne!(shown["lease"]["worker"], "killed-process", "{shown:#}");
    assert_eq!(shown["attempts"], 1, "{shown:#}");
    // The sweep runs it (however long that takes on a busy machine), then the vote opens.
    poll_until(format_args!("task {task} done"), || {
        let shown = stdout_json(ok(&team.anonymous(&["task", "show", task.as_str(), "--json"])));
        match shown["state"].as_str() {
            Some("done") => Ok(()),
            Some("queued" | "running") => Err(format!("{shown:#}")),
            other => panic!("task ended {other:?}: {shown:#}"),
        }
    });
    let out = ok(&team.as_rm(&["vote", "start", "foo", "1.0.0", "--json"])).clone();
    assert_eq!(stdout_json(&out)["vote"]["state"], "open");
}

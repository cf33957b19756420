//! Promotion as a use case: only the voted revision, re-hashed before any public write;
//! resumable after a fault at any store call; `latest` in version order.
//!
//! The vote is set to "passed" by writing the release item directly, so these tests depend on
//! the promotion rules alone (the vote's own rules are tested in tests/vote.rs).

use futures::StreamExt;
use serde_json::json;
use trs_app::fault_injection::{Faults, Strike, faulty_app};
use trs_app::tasks::{self, TaskState};
use trs_app::test_support::{TestClock, World, pass_vote_for_tests as pass_vote, upload_files, world};
use trs_app::{App, AppError, promote, public, storage_keys as keys, stream};
use trs_core::{Change, Release, ReleaseId, Stage, StreamId, VoteState};
use trs_storage::Condition;

const FILES: [(&str, &[u8]); 3] =
    [("foo-1.0.tar.gz", b"the release archive"), ("foo-1.0.tar.gz.asc", b"a signature"), ("NOTICE", b"notice")];

fn id(version: &str) -> ReleaseId {
    ReleaseId { project: "foo".parse().unwrap(), product: None, version: version.parse().unwrap() }
}

async fn candidate(w: &World, version: &str) -> ReleaseId {
    let release = id(version);
    upload_files(&w.app, &w.blobs, &w.rm.caller(), &release, &FILES).await;
    pass_vote(&w.app, &release).await;
    release
}

async fn stage_of(app: &App, release: &ReleaseId) -> Stage {
    trs_app::releases::get_release(app, release).await.unwrap().unwrap().0.stage
}

async fn promoted_events(app: &App, release: &ReleaseId) -> usize {
    let events = stream::all_events(app, &StreamId::Project(release.project.clone())).await.unwrap();
    events.iter().filter(|e| matches!(e.change, Change::Promoted { .. }) && e.release.as_ref() == Some(release)).count()
}

async fn read_all(app: &App, object: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut s = app.blobs.get(object).await.unwrap();
    while let Some(chunk) = s.next().await {
        out.extend_from_slice(&chunk.unwrap());
    }
    out
}

async fn public_keys(app: &App) -> Vec<String> {
    app.blobs.list("current/", None, 100).await.unwrap().into_iter().map(|m| m.key).collect()
}

/// Everything a finished promotion must leave behind, exactly once.
async fn assert_promoted(app: &App, release: &ReleaseId) {
    assert_eq!(stage_of(app, release).await, Stage::Current);
    assert_eq!(promoted_events(app, release).await, 1, "exactly one promoted event");
    let mut expected: Vec<String> =
        FILES.iter().map(|(p, _)| keys::public_object(trs_core::StageSegment::Current, release, p)).collect();
    expected.sort();
    assert_eq!(public_keys(app).await, expected);
    for (path, bytes) in FILES {
        let file = public::resolve(app, "current", &format!("foo/{}/{path}", release.version)).await.unwrap();
        assert_eq!(read_all(app, &file.object).await, bytes);
    }
}

async fn run_to_end(app: &App, task: &trs_core::OpaqueId) -> tasks::Task {
    tasks::run(app, task).await.unwrap();
    tasks::get_task(app, task).await.unwrap().0
}

#[tokio::test]
async fn a_passed_vote_is_promoted_with_its_files_public_and_one_event() {
    let w = world().await;
    let release = candidate(&w, "1.0").await;
    let task = promote::request(&w.app, &w.rm.caller(), &release).await.unwrap();
    let done = run_to_end(&w.app, &task.id).await;
    assert_eq!(done.state, TaskState::Done, "{:?}", done.error);
    assert!(done.steps.iter().all(|s| s.stage == "promote"), "no publish/distribute steps by default");
    assert_promoted(&w.app, &release).await;
    let latest = public::resolve(&w.app, "current", "foo/latest/NOTICE").await.unwrap();
    assert!(latest.via_latest);
    assert_eq!(latest.release, release);

    let again = promote::request(&w.app, &w.rm.caller(), &release).await.unwrap_err();
    assert_eq!(again.code(), "already-promoted");
}

#[tokio::test]
async fn only_a_candidate_with_a_passed_vote_can_be_promoted_by_a_release_manager() {
    let w = world().await;
    let release = id("1.0");
    upload_files(&w.app, &w.blobs, &w.rm.caller(), &release, &FILES).await;
    let draft = promote::request(&w.app, &w.rm.caller(), &release).await.unwrap_err();
    assert_eq!(draft.code(), "not-a-candidate");

    // An open vote is not enough.
    let item = w.app.items.get(&keys::release(&release)).await.unwrap().unwrap();
    pass_vote(&w.app, &release).await;
    let item2 = w.app.items.get(&keys::release(&release)).await.unwrap().unwrap();
    assert_ne!(item.version, item2.version);
    let mut r: Release = item2.parse().unwrap();
    r.vote.as_mut().unwrap().state = VoteState::Open;
    r.voted_revision = None;
    w.app.items.put(item2.updated(json!(r)), Condition::VersionIs(item2.version)).await.unwrap();
    let open = promote::request(&w.app, &w.rm.caller(), &release).await.unwrap_err();
    assert_eq!(open.code(), "vote-not-passed");

    pass_vote(&w.app, &release).await;
    let committer = promote::request(&w.app, &w.committer.caller(), &release).await.unwrap_err();
    assert!(matches!(committer, AppError::Forbidden(_)), "{committer}");
    assert!(
        tasks::unfinished_tasks(&w.app)
            .await
            .unwrap()
            .iter()
            .all(|t| !matches!(t.kind, tasks::TaskKind::Promote { .. }))
    );
    assert_eq!(stage_of(&w.app, &release).await, Stage::Candidate);
}

#[tokio::test]
async fn bytes_that_differ_from_the_voted_manifest_refuse_the_promotion_naming_the_file() {
    let w = world().await;
    let release = candidate(&w, "1.0").await;
    // Someone with access to the bucket swaps the archive's bytes after the vote.
    let revision = trs_app::releases::get_revision(&w.app, &release, 1).await.unwrap();
    let entry = revision.manifest.entries().iter().find(|e| e.path.as_str() == "foo-1.0.tar.gz").unwrap();
    let path = w.app.blobs.local_path(&keys::file_object(&entry.sha512)).unwrap();
    let mut perms = std::fs::metadata(&path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&path, perms).unwrap();
    std::fs::write(&path, b"THE RELEASE ARCHIVE").unwrap();

    let task = promote::request(&w.app, &w.rm.caller(), &release).await.unwrap();
    let failed = run_to_end(&w.app, &task.id).await;
    assert_eq!(failed.state, TaskState::Failed);
    assert_eq!(failed.result, Some(json!({"code": "bytes-differ", "status": 409})));
    let error = failed.error.unwrap();
    assert!(error.contains("foo-1.0.tar.gz (voted: 19 bytes"), "{error}");
    assert!(!error.contains("NOTICE"), "only the differing file is named: {error}");
    assert!(public_keys(&w.app).await.is_empty(), "no public byte was written");
    assert_eq!(stage_of(&w.app, &release).await, Stage::Candidate);
    assert_eq!(promoted_events(&w.app, &release).await, 0);
}

#[tokio::test]
async fn latest_follows_version_order_not_promotion_order() {
    let w = world().await;
    for version in ["1.10.0", "1.9.0"] {
        let release = candidate(&w, version).await;
        let task = promote::request(&w.app, &w.rm.caller(), &release).await.unwrap();
        assert_eq!(run_to_end(&w.app, &task.id).await.state, TaskState::Done);
    }
    let latest = public::resolve(&w.app, "current", "foo/latest/NOTICE").await.unwrap();
    assert_eq!(latest.release.version.as_str(), "1.10.0");
    // Both stay downloadable by version; an unknown stage segment or version is not found.
    public::resolve(&w.app, "current", "foo/1.9.0/NOTICE").await.unwrap();
    assert!(matches!(public::resolve(&w.app, "archive", "foo/1.9.0/NOTICE").await, Err(AppError::NotFound(_))));
    assert!(matches!(public::resolve(&w.app, "current", "foo/2.0/NOTICE").await, Err(AppError::NotFound(_))));
}

/// Fails the store at every call of a promotion in turn, before and after the call takes
/// effect; after each fault the release is either not current (and serves nothing) or fully
/// promoted, and running the task again finishes it with one event and the right bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_promotion_interrupted_at_any_store_call_is_finished_by_running_it_again() {
    let mut faults_tried = 0;
    for strike in [Strike::Before, Strike::After] {
        for fail_at in 0.. {
            let mut w = world().await;
            let clock = TestClock::at(1_900_000_000);
            w.app.clock = clock.clone();
            let release = candidate(&w, "1.0").await;
            let task = promote::request(&w.app, &w.rm.caller(), &release).await.unwrap();

            let faults = Faults::new(fail_at, strike);
            let _ = tasks::run(&faulty_app(&w.app, &faults), &task.id).await;
            let struck = faults.calls() > fail_at;

            // In between: current exactly when its event exists; nothing served otherwise.
            let stage = stage_of(&w.app, &release).await;
            let events = promoted_events(&w.app, &release).await;
            assert_eq!(stage == Stage::Current, events == 1, "{strike:?} at call {fail_at}: stage {stage}");
            if stage != Stage::Current {
                let served = public::resolve(&w.app, "current", "foo/1.0/NOTICE").await;
                assert!(matches!(served, Err(AppError::NotFound(_))), "{strike:?} at call {fail_at}");
            }

            // A worker that crashed mid-run leaves the task `running`; it is taken over once
            // presumed abandoned.
            clock.advance(3600);
            let done = run_to_end(&w.app, &task.id).await;
            assert_eq!(done.state, TaskState::Done, "{strike:?} at call {fail_at}: {:?}", done.error);
            assert_promoted(&w.app, &release).await;
            if !struck {
                break;
            }
            faults_tried += 1;
        }
    }
    assert!(faults_tried > 20, "a promotion makes many store calls; only {faults_tried} faults were injected");
}

#[tokio::test]
async fn with_archive_previous_a_promotion_archives_the_older_current_release_in_the_same_task() {
    let w = world().await;
    let policy = trs_core::PolicyOverride { archive_previous: Some(true), ..Default::default() };
    trs_app::projects::set_policy(&w.app, &w.admin.caller(), &"foo".parse().unwrap(), None, policy).await.unwrap();
    let old = candidate(&w, "1.0").await;
    let task = promote::request(&w.app, &w.rm.caller(), &old).await.unwrap();
    assert_eq!(run_to_end(&w.app, &task.id).await.state, TaskState::Done);

    let new = candidate(&w, "1.1").await;
    let task = promote::request(&w.app, &w.rm.caller(), &new).await.unwrap();
    let done = run_to_end(&w.app, &task.id).await;
    assert_eq!(done.state, TaskState::Done, "{:?}", done.error);
    let archive_steps: Vec<_> = done.steps.iter().filter(|s| s.stage == "archive").collect();
    assert_eq!(archive_steps.len(), 1, "{:?}", done.steps);
    assert!(archive_steps[0].message.starts_with("foo/1.0 archived"), "{}", archive_steps[0].message);

    assert_eq!(stage_of(&w.app, &old).await, Stage::Archived);
    assert_eq!(stage_of(&w.app, &new).await, Stage::Current);
    let archived = public::resolve(&w.app, "archive", "foo/1.0/NOTICE").await.unwrap();
    assert_eq!(read_all(&w.app, &archived.object).await, b"notice");
    assert!(matches!(public::resolve(&w.app, "current", "foo/1.0/NOTICE").await, Err(AppError::NotFound(_))));
    assert_eq!(public::resolve(&w.app, "current", "foo/latest/NOTICE").await.unwrap().release, new);
}

async fn promote_to_current(w: &World, version: &str) -> ReleaseId {
    let release = candidate(w, version).await;
    let task = promote::request(&w.app, &w.rm.caller(), &release).await.unwrap();
    let done = run_to_end(&w.app, &task.id).await;
    assert_eq!(done.state, TaskState::Done, "{:?}", done.error);
    release
}

#[tokio::test]
async fn a_pre_release_is_not_latest_and_archives_nothing_unless_the_policy_allows_it() {
    let w = world().await;
    let foo = "foo".parse().unwrap();
    let archive = trs_core::PolicyOverride { archive_previous: Some(true), ..Default::default() };
    trs_app::projects::set_policy(&w.app, &w.admin.caller(), &foo, None, archive).await.unwrap();

    let beta = promote_to_current(&w, "1.0.0-beta.1").await;
    let Err(AppError::NotFound(why)) = public::resolve(&w.app, "current", "foo/latest/NOTICE").await else {
        panic!("only a pre-release is current: no latest")
    };
    assert!(why.contains("only pre-releases current (1.0.0-beta.1)"), "{why}");
    assert!(why.contains("trs project policy foo --prerelease-latest true"), "{why}");

    let stable = promote_to_current(&w, "0.9.0").await;
    assert_eq!(public::resolve(&w.app, "current", "foo/latest/NOTICE").await.unwrap().release, stable);
    // 2.0.0-rc.1 is newer than 0.9.0, but it does not supersede it: 0.9.0 stays current and latest.
    promote_to_current(&w, "2.0.0-rc.1").await;
    assert_eq!(stage_of(&w.app, &stable).await, Stage::Current);
    assert_eq!(stage_of(&w.app, &beta).await, Stage::Current);
    assert_eq!(public::resolve(&w.app, "current", "foo/latest/NOTICE").await.unwrap().release, stable);

    let opt_in = trs_core::PolicyOverride { prerelease_latest: Some(true), ..Default::default() };
    trs_app::projects::set_policy(&w.app, &w.admin.caller(), &foo, None, opt_in).await.unwrap();
    assert_eq!(public::resolve(&w.app, "current", "foo/latest/NOTICE").await.unwrap().release, id("2.0.0-rc.1"));
    // Now a pre-release supersedes the lower versions.
    let rc2 = promote_to_current(&w, "2.0.0-rc.2").await;
    for older in [&stable, &beta, &id("2.0.0-rc.1")] {
        assert_eq!(stage_of(&w.app, older).await, Stage::Archived, "{older}");
    }
    assert_eq!(public::resolve(&w.app, "current", "foo/latest/NOTICE").await.unwrap().release, rc2);
}

#[tokio::test]
async fn the_releases_view_lists_versions_in_version_order() {
    let w = world().await;
    for version in ["9.9.10", "1.0.0-alpha.10", "9.9.9", "1.0.0-alpha.2", "1.0.0"] {
        promote_to_current(&w, version).await;
    }
    let scope = trs_app::release_views::Scope { project: Some("foo".parse().unwrap()), product: None };
    let view = trs_app::release_views::releases_view(&w.app, &scope, None, None).await.unwrap();
    let order: Vec<&str> = view.releases.iter().map(|r| r.release.version.as_str()).collect();
    assert_eq!(order, ["1.0.0-alpha.2", "1.0.0-alpha.10", "1.0.0", "9.9.9", "9.9.10"]);
    assert_eq!(view.latest["foo"], "foo/9.9.10");
    assert_eq!(
        view.by_state["current"],
        ["foo/1.0.0-alpha.2", "foo/1.0.0-alpha.10", "foo/1.0.0", "foo/9.9.9", "foo/9.9.10"]
    );
}

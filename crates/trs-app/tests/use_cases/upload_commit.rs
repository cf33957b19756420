//! Use-case tests of upload and verify without any HTTP: the embedded stores in a temporary
//! folder, certificates made by sequoia, bytes delivered through the upload URLs' tokens.

use bytes::Bytes;
use std::sync::Arc;
use trs_app::AppError;
use trs_app::tasks::{self, TaskKind, TaskState};
use trs_app::upload::{
    CommittedUpload, DeclaredFile, StartUpload, StartedUpload, commit_upload, request_commit, start_upload,
};
use trs_core::{Person, ReleaseId};

use trs_app::test_support::{World as Fixture, release, world as fixture};

fn start_req(files: &[(&str, &[u8])], force: bool) -> StartUpload {
    StartUpload {
        product: None,
        files: files.iter().map(|(p, b)| DeclaredFile { path: p.to_string(), size: b.len() as u64 }).collect(),
        force,
        base: None,
        ..Default::default()
    }
}

/// Sends each file's bytes through its upload URL, as a client would.
async fn send(f: &Fixture, started: &StartedUpload, files: &[(&str, &[u8])]) {
    for (target, (_, bytes)) in started.files.iter().zip(files) {
        let token = target.upload.as_ref().unwrap().url.rsplit('/').next().unwrap();
        let body = futures::stream::iter(vec![Ok(Bytes::copy_from_slice(bytes))]);
        f.blobs.accept_upload(token, f.app.now(), Box::pin(body)).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_forced_commits_never_lose_a_revision() {
    let f = Arc::new(fixture().await);
    let mut handles = Vec::new();
    for i in 0..8 {
        let f = f.clone();
        handles.push(tokio::spawn(async move {
            let name = format!("file-{i}.txt");
            let bytes = format!("content {i}").into_bytes();
            let files = [(name.as_str(), bytes.as_slice())];
            let started = start_upload(&f.app, &f.rm.caller(), release(), start_req(&files, true)).await.unwrap();
            send(&f, &started, &files).await;
            commit_upload(&f.app, &f.rm.caller(), &started.id).await.unwrap().revision
        }));
    }
    let mut numbers: Vec<u32> = Vec::new();
    for h in handles {
        numbers.push(h.await.unwrap());
    }
    numbers.sort();
    assert_eq!(numbers, (1..=8).collect::<Vec<_>>(), "every commit got its own revision number");
    let status = trs_app::status::release_status(&f.app, &release()).await.unwrap();
    assert_eq!(status.revision.as_ref().map(|r| r.number), Some(8));
    assert_eq!(status.files.len(), 8, "each revision builds on the previous one: no file was lost");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_unforced_commits_from_one_base_let_exactly_one_win() {
    let f = Arc::new(fixture().await);
    let mut started = Vec::new();
    for i in 0..6 {
        let name = format!("f{i}");
        let files = [(name.as_str(), b"x".as_slice())];
        let s = start_upload(&f.app, &f.rm.caller(), release(), start_req(&files, false)).await.unwrap();
        send(&f, &s, &files).await;
        started.push(s.id);
    }
    let mut handles = Vec::new();
    for id in started {
        let f = f.clone();
        handles.push(tokio::spawn(async move { commit_upload(&f.app, &f.rm.caller(), &id).await }));
    }
    let mut wins = 0;
    for h in handles {
        match h.await.unwrap() {
            Ok(c) => {
                wins += 1;
                assert_eq!(c.revision, 1);
            }
            Err(AppError::Conflict { code, .. }) => assert_eq!(code, "stale-base"),
            Err(e) => panic!("unexpected error {e}"),
        }
    }
    assert_eq!(wins, 1);
}

#[tokio::test]
async fn a_commit_with_a_missing_file_writes_nothing() {
    let f = fixture().await;
    let files: [(&str, &[u8]); 2] = [("a.txt", b"a"), ("b.txt", b"b")];
    let started = start_upload(&f.app, &f.rm.caller(), release(), start_req(&files, false)).await.unwrap();
    send(&f, &started, &files[..1]).await;
    let err = commit_upload(&f.app, &f.rm.caller(), &started.id).await.unwrap_err();
    assert_eq!(err.code(), "file-not-uploaded", "{err}");
    assert!(matches!(trs_app::status::release_status(&f.app, &release()).await, Err(AppError::NotFound(_))));
}

#[tokio::test]
async fn the_verify_task_reports_and_reuses_cached_results() {
    let f = fixture().await;
    // An archive, so that verifying it for real must read its bytes (a plain file's checks
    // are served from the SHA-512 state the store kept, without reading).
    let files: [(&str, &[u8]); 1] = [("notes.tar.gz", b"hello")];
    let started = start_upload(&f.app, &f.rm.caller(), release(), start_req(&files, false)).await.unwrap();
    send(&f, &started, &files).await;
    let committed = commit_upload(&f.app, &f.rm.caller(), &started.id).await.unwrap();
    trs_app::tasks::run(&f.app, committed.task.as_ref().unwrap()).await.unwrap();
    let (task, _) = trs_app::tasks::get_task(&f.app, committed.task.as_ref().unwrap()).await.unwrap();
    assert_eq!(task.state, trs_app::tasks::TaskState::Done);
    let status = trs_app::status::release_status(&f.app, &release()).await.unwrap();
    assert!(status.verified());
    let checks = &status.files[0].checks;
    assert!(checks.iter().any(|c| c.check == trs_core::CheckKind::Signature && c.result == trs_core::Outcome::Fail));
    // The finished task is no longer queued, and running it again changes nothing.
    assert!(trs_app::tasks::unfinished_tasks(&f.app).await.unwrap().is_empty());
    trs_app::tasks::run(&f.app, committed.task.as_ref().unwrap()).await.unwrap();
    let (again, _) = trs_app::tasks::get_task(&f.app, committed.task.as_ref().unwrap()).await.unwrap();
    assert_eq!(again.updated_at, task.updated_at);

    // The same bytes under the same name in another release are not read again: corrupt the
    // stored object behind the cache's back, and the second report still equals the first.
    let other = ReleaseId { version: "1.0.1".parse().unwrap(), ..release() };
    let started = start_upload(&f.app, &f.rm.caller(), other.clone(), start_req(&files, false)).await.unwrap();
    send(&f, &started, &files).await;
    let committed = commit_upload(&f.app, &f.rm.caller(), &started.id).await.unwrap();
    let object = trs_app::storage_keys::file_object(&status.files[0].sha512);
    let on_disk = trs_storage::BlobStore::local_path(f.blobs.as_ref(), &object).unwrap();
    let mut perms = std::fs::metadata(&on_disk).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&on_disk, perms).unwrap();
    std::fs::write(&on_disk, b"HELLO").unwrap();
    trs_app::tasks::run(&f.app, committed.task.as_ref().unwrap()).await.unwrap();
    let second = trs_app::status::release_status(&f.app, &other).await.unwrap();
    assert_eq!(&second.files[0].checks, checks, "served from the cache, not re-read");
}

#[tokio::test]
async fn uploads_are_refused_to_people_without_the_role() {
    let f = fixture().await;
    let mut stranger = f.rm.caller();
    stranger.person = Person { uid: "eve".parse().unwrap(), ..f.rm.person.clone() };
    let files: [(&str, &[u8]); 1] = [("a", b"a")];
    let err = start_upload(&f.app, &stranger, release(), start_req(&files, false)).await.unwrap_err();
    assert_eq!(err.status(), 403);
    assert_eq!(err.code(), "forbidden-role");
}

#[tokio::test]
async fn an_upload_naming_an_older_base_is_refused_unless_forced() {
    let f = fixture().await;
    let files: [(&str, &[u8]); 1] = [("a.txt", b"a")];
    let first = start_upload(&f.app, &f.rm.caller(), release(), start_req(&files, false)).await.unwrap();
    send(&f, &first, &files).await;
    commit_upload(&f.app, &f.rm.caller(), &first.id).await.unwrap();

    // Someone still building on the empty draft (base 0) is told the draft moved on.
    let stale = StartUpload { base: Some(0), ..start_req(&files, false) };
    let err = start_upload(&f.app, &f.rm.caller(), release(), stale.clone()).await.unwrap_err();
    assert_eq!(err.code(), "stale-base");
    assert!(err.to_string().contains("builds on revision 0") && err.to_string().contains("latest is revision 1"));
    let on_latest = StartUpload { base: Some(1), ..start_req(&files, false) };
    start_upload(&f.app, &f.rm.caller(), release(), on_latest).await.unwrap();
    let forced = StartUpload { base: Some(0), ..start_req(&files, true) };
    start_upload(&f.app, &f.rm.caller(), release(), forced).await.unwrap();
}

#[tokio::test]
async fn people_keys_and_projects_are_events_of_their_streams() {
    let f = fixture().await;
    let foundation = trs_app::stream::all_events(&f.app, &trs_core::StreamId::Foundation).await.unwrap();
    let added: Vec<_> = foundation
        .iter()
        .map(|e| match &e.change {
            trs_core::Change::PersonAdded { uid, fingerprint } => (uid.to_string(), fingerprint.clone()),
            other => panic!("unexpected foundation event {other:?}"),
        })
        .collect();
    let expected: Vec<_> =
        [&f.admin, &f.rm, &f.committer].iter().map(|a| (a.person.uid.to_string(), a.person.keys[0].clone())).collect();
    assert_eq!(added, expected, "bootstrap and each registration, with the key registered");
    assert!(foundation.iter().skip(1).all(|e| e.actor.as_ref().map(|a| a.uid.as_str()) == Some("ada")));

    // A second key, then an update of it: two key events by the person themselves.
    let second = trs_app::test_support::new_cert("Rita <rita@example.org>");
    let permit = trs_core::roles::authorize_own_key(&f.rm.person);
    let armored = trs_app::test_support::armored_public(&second);
    trs_app::people::add_key(&f.app, &permit, &f.rm.caller().actor(), &f.rm.person.uid, &armored).await.unwrap();
    trs_app::people::add_key(&f.app, &permit, &f.rm.caller().actor(), &f.rm.person.uid, &armored).await.unwrap();
    let foundation = trs_app::stream::all_events(&f.app, &trs_core::StreamId::Foundation).await.unwrap();
    let keys: Vec<bool> = foundation
        .iter()
        .filter_map(|e| match &e.change {
            trs_core::Change::KeyAdded { updated, .. } => Some(*updated),
            _ => None,
        })
        .collect();
    assert_eq!(keys, [false, true]);
    trs_core::events::verify_chain(
        &trs_app::stream::all_events_raw(&f.app, &trs_core::StreamId::Foundation).await.unwrap(),
    )
    .unwrap();

    let project =
        trs_app::stream::all_events(&f.app, &trs_core::StreamId::Project("foo".parse().unwrap())).await.unwrap();
    assert!(matches!(project[0].change, trs_core::Change::ProjectCreated { .. }), "{:?}", project[0]);
}

/// A discard racing a commit on the same draft: whichever lands first, the other re-reads
/// and decides again. The release ends discarded, never half-written: if the commit won, its
/// revision was discarded with it (the marker names it); if the discard won, the commit is
/// `stale-base`. Run several times: the interleaving varies.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_discard_racing_a_commit_leaves_no_partial_state() {
    for round in 0..6 {
        let f = Arc::new(fixture().await);
        let first: [(&str, &[u8]); 1] = [("a.txt", b"a")];
        let s = start_upload(&f.app, &f.rm.caller(), release(), start_req(&first, false)).await.unwrap();
        send(&f, &s, &first).await;
        commit_upload(&f.app, &f.rm.caller(), &s.id).await.unwrap();
        let next: [(&str, &[u8]); 1] = [("b.txt", b"b")];
        let s = start_upload(&f.app, &f.rm.caller(), release(), start_req(&next, false)).await.unwrap();
        send(&f, &s, &next).await;

        let (fc, fd) = (f.clone(), f.clone());
        let commit = tokio::spawn(async move { commit_upload(&fc.app, &fc.rm.caller(), &s.id).await });
        let discard = tokio::spawn(async move { trs_app::draft::discard(&fd.app, &fd.rm.caller(), &release()).await });
        let (committed, discarded) = (commit.await.unwrap(), discard.await.unwrap().unwrap());
        match committed {
            Ok(c) => assert_eq!(discarded.revision, Some(c.revision), "round {round}: the commit landed first"),
            Err(e) => {
                assert_eq!(e.code(), "stale-base", "round {round}: {e}");
                assert_eq!(discarded.revision, Some(1));
            }
        }
        assert!(matches!(trs_app::status::release_status(&f.app, &release()).await, Err(AppError::NotFound(_))));
        let last = trs_app::draft::discarded_revisions(&f.app, &release()).await.unwrap();
        assert_eq!(Some(last), discarded.revision);

        // The version comes back as a new draft, numbered on from the discarded revisions.
        let s = start_upload(&f.app, &f.rm.caller(), release(), start_req(&first, false)).await.unwrap();
        send(&f, &s, &first).await;
        let again = commit_upload(&f.app, &f.rm.caller(), &s.id).await.unwrap();
        assert_eq!(again.revision, last + 1);
        let events = trs_app::stream::all_events_raw(&f.app, &trs_core::StreamId::Project("foo".parse().unwrap()))
            .await
            .unwrap();
        trs_core::events::verify_chain(&events).unwrap();
    }
}

#[tokio::test]
async fn an_upload_of_the_same_files_makes_no_revision_and_no_event() {
    let f = fixture().await;
    let files: [(&str, &[u8]); 1] = [("a.txt", b"a")];
    let stream = trs_core::StreamId::Project("foo".parse().unwrap());
    for expect_changed in [true, false] {
        let s = start_upload(&f.app, &f.rm.caller(), release(), start_req(&files, false)).await.unwrap();
        send(&f, &s, &files).await;
        let c = commit_upload(&f.app, &f.rm.caller(), &s.id).await.unwrap();
        assert_eq!((c.changed, c.revision, c.task.is_some()), (expect_changed, 1, expect_changed));
        // Committing it again answers what the commit made, either way.
        let again = commit_upload(&f.app, &f.rm.caller(), &s.id).await.unwrap();
        assert_eq!((again.changed, again.revision, again.task), (c.changed, c.revision, c.task));
    }
    let events = trs_app::stream::all_events(&f.app, &stream).await.unwrap();
    let pushed = events.iter().filter(|e| matches!(e.change, trs_core::Change::RevisionPushed { .. })).count();
    assert_eq!(pushed, 1);
}

/// Issue 13 item 10: a PUT to a committed session's URL is refused, and the staged files of
/// committed and abandoned sessions are collected once neither the session nor its URLs can
/// be used.
#[tokio::test]
async fn staged_files_of_committed_and_abandoned_sessions_are_collected_and_a_url_takes_one_put() {
    let f = fixture().await;
    let files: [(&str, &[u8]); 1] = [("notes.txt", b"notes\n")];
    let committed = start_upload(&f.app, &f.rm.caller(), release(), start_req(&files, false)).await.unwrap();
    send(&f, &committed, &files).await;
    commit_upload(&f.app, &f.rm.caller(), &committed.id).await.unwrap();
    let token = committed.files[0].upload.as_ref().unwrap().url.rsplit('/').next().unwrap();
    let again = futures::stream::iter(vec![Ok(Bytes::from_static(b"other\n"))]);
    let err = f.blobs.accept_upload(token, f.app.now(), Box::pin(again)).await.unwrap_err();
    assert!(matches!(err, trs_storage::BlobError::AlreadyExists(_)), "{err:?}");

    let abandoned = start_upload(&f.app, &f.rm.caller(), release(), start_req(&files, true)).await.unwrap();
    send(&f, &abandoned, &files).await;
    let staged = |s: &StartedUpload| format!("uploads/{}/0", s.id);
    use trs_storage::BlobStore;
    assert_eq!(trs_app::upload::collect_staged(&f.app).await.unwrap(), 0, "nothing is due yet");
    assert!(f.blobs.head(&staged(&committed)).await.unwrap().is_some());

    f.clock.advance(f.app.limits.upload_session_ttl_secs.max(f.app.limits.upload_url_ttl_secs) + 1);
    assert_eq!(trs_app::upload::collect_staged(&f.app).await.unwrap(), 2);
    assert!(f.blobs.head(&staged(&committed)).await.unwrap().is_none());
    assert!(f.blobs.head(&staged(&abandoned)).await.unwrap().is_none());
    assert_eq!(trs_app::upload::collect_staged(&f.app).await.unwrap(), 0, "collected once");
    // The committed revision's file is untouched (it lives content-addressed).
    let status = trs_app::status::release_status(&f.app, &release()).await.unwrap();
    assert_eq!(status.files.len(), 1);
}

/// Issue 12: the commit call only queues the commit task (whose id is the upload's) and
/// answers at once; nothing is visible until a worker runs the task, which stores the files
/// and makes the revision, and records what it made as its result.
#[tokio::test]
async fn the_commit_call_queues_a_task_and_the_task_makes_the_revision() {
    let f = fixture().await;
    let files: [(&str, &[u8]); 2] = [("a.txt", b"a"), ("b.txt", b"bb")];
    let s = start_upload(&f.app, &f.rm.caller(), release(), start_req(&files, false)).await.unwrap();
    send(&f, &s, &files).await;
    let task = request_commit(&f.app, &f.rm.caller(), &s.id, &Default::default()).await.unwrap();
    assert_eq!((&task.id, task.state), (&s.id, TaskState::Queued));
    assert!(matches!(&task.kind, TaskKind::Commit { upload, release: r, .. } if *upload == s.id && *r == release()));
    assert!(matches!(trs_app::status::release_status(&f.app, &release()).await, Err(AppError::NotFound(_))));
    assert_eq!(tasks::unfinished_tasks(&f.app).await.unwrap().len(), 1, "the commit task waits for a worker");

    tasks::run(&f.app, &task.id).await.unwrap();
    let (done, item) = tasks::get_task(&f.app, &task.id).await.unwrap();
    assert_eq!(done.state, TaskState::Done, "{:?}", done.error);
    // Written when queued, taken, after each file stored (its progress line: each of these
    // two files is more than a percent of the bytes), and done.
    assert_eq!(item.version, 1 + 1 + 2 + 1, "one progress write per file");
    let committed: CommittedUpload = serde_json::from_value(done.result.unwrap()).unwrap();
    assert_eq!((committed.changed, committed.revision, committed.files), (true, 1, 2));
    let status = trs_app::status::release_status(&f.app, &release()).await.unwrap();
    assert_eq!(status.revision.as_ref().map(|r| r.number), Some(1));
    let verify = committed.task.unwrap();
    let (verify, _) = tasks::get_task(&f.app, &verify).await.unwrap();
    assert!(matches!(verify.kind, TaskKind::Verify { revision: 1, .. }), "the commit queued the verification");
}

/// A retried or duplicated commit makes one revision: asked for twice, one task; its worker
/// killed after the commit's transaction but before it recorded the task done (the task run
/// again), the session's record answers and nothing is written twice.
#[tokio::test]
async fn a_commit_asked_for_twice_or_run_twice_makes_one_revision() {
    let f = fixture().await;
    let files: [(&str, &[u8]); 1] = [("a.txt", b"a")];
    let s = start_upload(&f.app, &f.rm.caller(), release(), start_req(&files, false)).await.unwrap();
    send(&f, &s, &files).await;
    let first = request_commit(&f.app, &f.rm.caller(), &s.id, &Default::default()).await.unwrap();
    let second = request_commit(&f.app, &f.rm.caller(), &s.id, &Default::default()).await.unwrap();
    assert_eq!((&first.id, &second.id, second.state), (&s.id, &s.id, TaskState::Queued));
    tasks::run(&f.app, &first.id).await.unwrap();
    let (done, item) = tasks::get_task(&f.app, &first.id).await.unwrap();
    let recorded = done.result.clone().unwrap();

    // As if the worker had died before writing `done`: the task is queued again, and run.
    let requeued = tasks::Task { state: TaskState::Queued, result: None, progress: None, ..done };
    tasks::update_task(&f.app, &item, &requeued).await.unwrap();
    tasks::run(&f.app, &first.id).await.unwrap();
    let (again, _) = tasks::get_task(&f.app, &first.id).await.unwrap();
    assert_eq!((again.state, again.result), (TaskState::Done, Some(recorded)));
    let stream = trs_core::StreamId::Project("foo".parse().unwrap());
    let events = trs_app::stream::all_events(&f.app, &stream).await.unwrap();
    let pushed = events.iter().filter(|e| matches!(e.change, trs_core::Change::RevisionPushed { .. })).count();
    assert_eq!(pushed, 1, "one revision, one event");
    let verifications = tasks::unfinished_tasks(&f.app)
        .await
        .unwrap()
        .into_iter()
        .filter(|t| matches!(t.kind, TaskKind::Verify { .. }));
    assert_eq!(verifications.count(), 1, "one verification");

    // Asked for once more, the commit answers the finished task.
    let done = request_commit(&f.app, &f.rm.caller(), &s.id, &Default::default()).await.unwrap();
    assert_eq!((done.id, done.state), (s.id.clone(), TaskState::Done));
    // Someone else may not ask for it, nor learn of it.
    let mut stranger = f.rm.caller();
    stranger.person = Person { uid: "eve".parse().unwrap(), ..f.rm.person.clone() };
    assert_eq!(request_commit(&f.app, &stranger, &s.id, &Default::default()).await.unwrap_err().status(), 403);
}

/// A refused commit records the refusal's code and status (what the API answered when the
/// commit ran in the call), leaves the session as it was, and is run again when asked for
/// again: once the missing file has arrived, it makes the revision.
#[tokio::test]
async fn a_failed_commit_records_its_refusal_and_runs_again_when_asked_again() {
    let f = fixture().await;
    let files: [(&str, &[u8]); 2] = [("a.txt", b"a"), ("b.txt", b"b")];
    let s = start_upload(&f.app, &f.rm.caller(), release(), start_req(&files, false)).await.unwrap();
    send(&f, &s, &files[..1]).await;
    let task = request_commit(&f.app, &f.rm.caller(), &s.id, &Default::default()).await.unwrap();
    tasks::run(&f.app, &task.id).await.unwrap();
    let (failed, _) = tasks::get_task(&f.app, &task.id).await.unwrap();
    assert_eq!(failed.state, TaskState::Failed);
    assert_eq!(failed.result, Some(serde_json::json!({"code": "file-not-uploaded", "status": 400})));
    assert!(failed.error.as_deref().unwrap().contains("b.txt"), "{:?}", failed.error);

    let one = StartedUpload { files: s.files[1..].to_vec(), ..s.clone() };
    send(&f, &one, &files[1..]).await;
    let committed = commit_upload(&f.app, &f.rm.caller(), &s.id).await.unwrap();
    assert_eq!((committed.revision, committed.files), (1, 2));
}

/// Issue 12: a release of 5,000 files (ten uploads of 500, the most one upload takes). Its
/// manifest and its check report outgrow one item (DynamoDB's limit is 400 KB): both spill
/// into parts and read back whole.
#[tokio::test]
async fn a_revision_of_five_thousand_files_is_stored_and_read_back_whole() {
    let f = trs_app::test_support::world_in_memory().await;
    let mut committed = None;
    for batch in 0..10 {
        let names: Vec<String> =
            (0..500).map(|i| format!("apache-foo-1.0.0-part-{:04}.txt", batch * 500 + i)).collect();
        let files: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), n.as_bytes())).collect();
        let s = start_upload(&f.app, &f.rm.caller(), release(), start_req(&files, false)).await.unwrap();
        send(&f, &s, &files).await;
        committed = Some(commit_upload(&f.app, &f.rm.caller(), &s.id).await.unwrap());
        // The commit task's progress: a line per percent of the bytes (500 files of one size:
        // every fifth), not one write per file.
        let (_, item) = tasks::get_task(&f.app, &s.id).await.unwrap();
        assert_eq!(item.version, 1 + 1 + 100 + 1, "queued, taken, 100 progress lines, done");
    }
    let committed = committed.unwrap();
    assert_eq!((committed.revision, committed.files), (10, 500));
    tasks::run(&f.app, committed.task.as_ref().unwrap()).await.unwrap();

    let status = trs_app::status::release_status(&f.app, &release()).await.unwrap();
    assert_eq!((status.revision.as_ref().map(|r| r.number), status.files.len()), (Some(10), 5000));
    assert!(status.verified());
    assert!(status.files.iter().all(|file| !file.checks.is_empty()), "every file's checks, read back");
    for key in [trs_app::storage_keys::revision(&release(), 10), trs_app::storage_keys::revision_report(&release(), 10)]
    {
        let head = f.app.items.get(&key).await.unwrap().unwrap();
        assert!(head.body["parts"].as_u64().unwrap() >= 2, "{key:?} spilled into parts: {}", head.body);
    }
}

/// Issue 13 item 10: a staged file that arrived short (a store that kept what a PUT sent, as S3
/// does) fails the commit with `size-mismatch`, and resuming the upload removes it and hands
/// out a URL to send it again, so the session can still be committed.
#[tokio::test]
async fn a_file_that_arrived_short_is_sent_again_after_a_resume() {
    let f = fixture().await;
    let files: [(&str, &[u8]); 2] = [("a.txt", b"all of a\n"), ("b.txt", b"all of b\n")];
    let s = start_upload(&f.app, &f.rm.caller(), release(), start_req(&files, false)).await.unwrap();
    send(&f, &s, &[files[0], ("b.txt", b"all")]).await;
    let err = commit_upload(&f.app, &f.rm.caller(), &s.id).await.unwrap_err();
    assert_eq!(err.code(), "size-mismatch", "{err}");

    let resumed = trs_app::upload::resume_upload(&f.app, &f.rm.caller(), &s.id).await.unwrap();
    assert!(resumed.files[0].upload.is_none(), "a.txt arrived whole");
    let again = resumed.files[1].upload.as_ref().expect("a URL for the short b.txt");
    let token = again.url.rsplit('/').next().unwrap();
    let body = futures::stream::iter(vec![Ok(Bytes::from_static(b"all of b\n"))]);
    f.blobs.accept_upload(token, f.app.now(), Box::pin(body)).await.unwrap();
    let committed = commit_upload(&f.app, &f.rm.caller(), &s.id).await.unwrap();
    assert_eq!((committed.changed, committed.files), (true, 2));
}

/// Issue 13 item 10: URLs handed out when resuming late never outlive the session: past its
/// end the staged objects are collected, and a PUT after that would leave one nothing collects.
#[tokio::test]
async fn resumed_urls_expire_with_their_session() {
    let f = fixture().await;
    let files: [(&str, &[u8]); 1] = [("a.txt", b"a\n")];
    let s = start_upload(&f.app, &f.rm.caller(), release(), start_req(&files, false)).await.unwrap();
    assert!(s.files[0].upload.as_ref().unwrap().expires_at <= s.expires_at);
    // Ten minutes before the session ends, well inside a fresh URL's lifetime.
    f.clock.advance(f.app.limits.upload_session_ttl_secs - 600);
    let resumed = trs_app::upload::resume_upload(&f.app, &f.rm.caller(), &s.id).await.unwrap();
    let url = resumed.files[0].upload.as_ref().unwrap();
    assert_eq!(
        url.expires_at, s.expires_at,
        "capped at the session's end, not {} s on",
        f.app.limits.upload_url_ttl_secs
    );
}

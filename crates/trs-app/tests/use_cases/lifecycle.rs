//! Lifecycle use cases over the embedded stores: end-of-life dates and the tick, release-line
//! dates, revocation, archiving (with failures injected into the blob store), freeform states,
//! and the point-in-time views against a hand-computed expectation.

use async_trait::async_trait;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use trs_app::lifecycle::{self, DatesTarget};
use trs_app::release_views::{self, Scope};
use trs_app::test_support::{TestClock, World, force_current_for_tests, upload_files, world};
use trs_app::{App, AppError, public, stream};
use trs_core::{ReleaseId, Stage, StreamId};
use trs_storage::{BlobError, BlobMeta, BlobStore, ByteStream, UploadUrl};

const T0: i64 = 1_800_000_000;

fn rid(v: &str) -> ReleaseId {
    ReleaseId { project: "foo".parse().unwrap(), product: None, version: v.parse().unwrap() }
}

/// A world on a clock the test moves, with `versions` uploaded and made current.
async fn with_current(versions: &[&str]) -> (World, Arc<TestClock>) {
    let mut w = world().await;
    let clock = TestClock::at(T0);
    w.app.clock = clock.clone();
    for v in versions {
        let name = format!("foo-{v}.tar.gz");
        let body = format!("release {v}");
        upload_files(&w.app, &w.blobs, &w.rm.caller(), &rid(v), &[(name.as_str(), body.as_bytes())]).await;
        force_current_for_tests(&w.app, &rid(v), &w.rm.caller()).await;
        clock.advance(10);
    }
    (w, clock)
}

async fn stage(app: &App, v: &str) -> Stage {
    trs_app::releases::get_release(app, &rid(v)).await.unwrap().unwrap().0.stage
}

async fn event_count(app: &App) -> usize {
    stream::all_events(app, &StreamId::Project("foo".parse().unwrap())).await.unwrap().len()
}

#[tokio::test]
async fn the_end_of_life_tick_moves_a_release_once() {
    let (w, clock) = with_current(&["1.0.0"]).await;
    let eol = T0 + 1000;
    lifecycle::set_dates(&w.app, &w.rm.caller(), DatesTarget::Release(rid("1.0.0")), Some(eol), Some(T0 + 500))
        .await
        .unwrap();
    let report = lifecycle::run_scheduled(&w.app).await.unwrap();
    assert!(report.items.is_empty(), "nothing is due before the date: {report:?}");
    assert_eq!(stage(&w.app, "1.0.0").await, Stage::Current);

    clock.set(eol + 1);
    let before = event_count(&w.app).await;
    let report = lifecycle::run_scheduled(&w.app).await.unwrap();
    assert_eq!(report.moved_to_end_of_life(), vec!["foo/1.0.0"]);
    assert_eq!(stage(&w.app, "1.0.0").await, Stage::EndOfLife);
    assert_eq!(event_count(&w.app).await, before + 1);
    let last = stream::all_events(&w.app, &StreamId::Project("foo".parse().unwrap())).await.unwrap().pop().unwrap();
    assert_eq!(last.change.type_name(), "end-of-life");
    assert!(last.actor.is_none(), "the schedule acted, not a person");

    // Twice changes nothing and writes no second event.
    let again = lifecycle::run_scheduled(&w.app).await.unwrap();
    assert!(again.items.is_empty(), "{again:?}");
    assert_eq!(event_count(&w.app).await, before + 1);
    // End-of-life releases stay downloadable in the main directory until archived.
    assert!(public::resolve(&w.app, "current", "foo/1.0.0/foo-1.0.0.tar.gz").await.is_ok());
}

#[tokio::test]
async fn a_date_moved_later_leaves_no_early_trigger() {
    let (w, clock) = with_current(&["1.0.0"]).await;
    let target = || DatesTarget::Release(rid("1.0.0"));
    lifecycle::set_dates(&w.app, &w.rm.caller(), target(), Some(T0 + 100), None).await.unwrap();
    lifecycle::set_dates(&w.app, &w.rm.caller(), target(), Some(T0 + 10_000), None).await.unwrap();
    clock.set(T0 + 200);
    lifecycle::run_scheduled(&w.app).await.unwrap();
    assert_eq!(stage(&w.app, "1.0.0").await, Stage::Current);
    clock.set(T0 + 10_001);
    lifecycle::run_scheduled(&w.app).await.unwrap();
    assert_eq!(stage(&w.app, "1.0.0").await, Stage::EndOfLife);
}

#[tokio::test]
async fn line_dates_apply_to_the_line_but_not_to_releases_with_their_own() {
    let (w, clock) = with_current(&["1.0.0", "1.1.0", "1.2.0", "2.0.0"]).await;
    let line = DatesTarget::Line { project: "foo".parse().unwrap(), product: None, line: "1.x".into() };
    lifecycle::set_dates(&w.app, &w.rm.caller(), line, Some(T0 + 1000), None).await.unwrap();
    // 1.2.0 has its own, later date.
    lifecycle::set_dates(&w.app, &w.rm.caller(), DatesTarget::Release(rid("1.2.0")), Some(T0 + 5000), None)
        .await
        .unwrap();
    let bad = DatesTarget::Line { project: "foo".parse().unwrap(), product: None, line: "1".into() };
    let err = lifecycle::set_dates(&w.app, &w.rm.caller(), bad, Some(T0), None).await.unwrap_err();
    assert_eq!(err.code(), "invalid-line");

    let view = release_views::releases_view(&w.app, &Scope::default(), None, None).await.unwrap();
    let eol_of = |v: &str| view.releases.iter().find(|r| r.release == rid(v)).unwrap().end_of_life;
    assert_eq!(eol_of("1.1.0"), Some(T0 + 1000), "views show the line's date");
    assert_eq!(eol_of("1.2.0"), Some(T0 + 5000));
    assert_eq!(eol_of("2.0.0"), None);

    clock.set(T0 + 1001);
    let report = lifecycle::run_scheduled(&w.app).await.unwrap();
    let mut moved = report.moved_to_end_of_life();
    moved.sort();
    assert_eq!(moved, vec!["foo/1.0.0", "foo/1.1.0"]);
    assert_eq!(stage(&w.app, "1.2.0").await, Stage::Current);
    assert_eq!(stage(&w.app, "2.0.0").await, Stage::Current);
    let n = event_count(&w.app).await;
    assert!(lifecycle::run_scheduled(&w.app).await.unwrap().items.is_empty());
    assert_eq!(event_count(&w.app).await, n);
}

#[tokio::test]
async fn revoking_needs_a_reason_and_takes_the_release_out_of_current_and_latest() {
    let (w, _clock) = with_current(&["1.0.0", "1.1.0"]).await;
    let latest = |app: App| async move {
        public::latest_current(&app, &"foo".parse().unwrap(), None).await.unwrap().map(|r| r.id.version.to_string())
    };
    assert_eq!(latest(w.app.clone()).await.as_deref(), Some("1.1.0"));
    let n = event_count(&w.app).await;
    for reason in ["", "   "] {
        let err = lifecycle::revoke(&w.app, &w.rm.caller(), &rid("1.1.0"), reason).await.unwrap_err();
        assert_eq!(err.code(), "reason-required");
    }
    // Shown on one line of `trs releases` and `trs events`: no terminal control, no line break.
    for reason in ["\u{1b}[2J\u{1b}]0;owned\u{7}", "two\nlines", "evil\u{202E}"] {
        let err = lifecycle::revoke(&w.app, &w.rm.caller(), &rid("1.1.0"), reason).await.unwrap_err();
        assert_eq!(err.code(), "invalid-text", "{reason:?}");
    }
    let err = lifecycle::revoke(&w.app, &w.committer.caller(), &rid("1.1.0"), "bad").await.unwrap_err();
    assert!(matches!(err, AppError::Forbidden(_)), "{err}");
    assert_eq!(event_count(&w.app).await, n, "refusals change nothing");

    let public_copy = "current/foo/1.1.0/foo-1.1.0.tar.gz";
    let original = w.app.blobs.list("files/", None, 100).await.unwrap();
    assert!(w.app.blobs.head(public_copy).await.unwrap().is_some());
    let event = lifecycle::revoke(&w.app, &w.rm.caller(), &rid("1.1.0"), "CVE-2099-0001").await.unwrap();
    assert_eq!(event.change.type_name(), "revoked");
    assert!(w.app.blobs.head(public_copy).await.unwrap().is_none(), "no object left at the public path");
    assert_eq!(w.app.blobs.list("files/", None, 100).await.unwrap(), original, "the bytes stay, privately");
    assert_eq!(stage(&w.app, "1.1.0").await, Stage::Revoked);
    assert_eq!(latest(w.app.clone()).await.as_deref(), Some("1.0.0"), "latest falls back to the next current");
    assert!(public::resolve(&w.app, "current", "foo/1.1.0/foo-1.1.0.tar.gz").await.is_err(), "no longer served");
    let view = release_views::releases_view(&w.app, &Scope::default(), None, None).await.unwrap();
    assert_eq!(view.by_state["latest"], vec!["foo/1.0.0"]);
    assert_eq!(view.by_state["revoked"], vec!["foo/1.1.0"]);
    // A revocation interrupted after its stage change (or a racing copy) left a public copy:
    // asking again removes it, and still answers already-revoked.
    let body = futures::stream::iter(vec![Ok(bytes::Bytes::from_static(b"release 1.1.0"))]);
    w.app.blobs.put_if_absent(public_copy, Box::pin(body)).await.unwrap();
    let err = lifecycle::revoke(&w.app, &w.rm.caller(), &rid("1.1.0"), "again").await.unwrap_err();
    assert_eq!(err.code(), "already-revoked");
    assert!(w.app.blobs.head(public_copy).await.unwrap().is_none(), "the leftover copy was removed");
    let n = event_count(&w.app).await;
    let err = lifecycle::enter_state(&w.app, &w.rm.caller(), &rid("1.1.0"), "lts").await.unwrap_err();
    assert_eq!(err.code(), "release-revoked", "a withdrawn release takes on no new state");
    assert_eq!(event_count(&w.app).await, n);

    // Candidates (never promoted) can be revoked too.
    upload_files(&w.app, &w.blobs, &w.rm.caller(), &rid("2.0.0-rc1"), &[("x.txt", b"x")]).await;
    lifecycle::revoke(
        &w.app,
        &w.rm.caller(),
        &ReleaseId { version: "2.0.0-rc1".parse().unwrap(), ..rid("1.0.0") },
        "broken build",
    )
    .await
    .unwrap();
}

/// A blob store that fails chosen `copy_if_absent` calls (by their 1-based number).
struct FailingCopies {
    inner: Arc<dyn BlobStore>,
    copies: AtomicUsize,
    fail_at: Vec<usize>,
}

#[async_trait]
impl BlobStore for FailingCopies {
    async fn put_if_absent(&self, key: &str, body: ByteStream) -> Result<BlobMeta, BlobError> {
        self.inner.put_if_absent(key, body).await
    }
    async fn head(&self, key: &str) -> Result<Option<BlobMeta>, BlobError> {
        self.inner.head(key).await
    }
    async fn get(&self, key: &str) -> Result<ByteStream, BlobError> {
        self.inner.get(key).await
    }
    async fn get_range(&self, key: &str, start: u64, end: u64) -> Result<ByteStream, BlobError> {
        self.inner.get_range(key, start, end).await
    }
    async fn copy_if_absent(&self, from: &str, to: &str) -> Result<BlobMeta, BlobError> {
        let n = self.copies.fetch_add(1, Ordering::SeqCst) + 1;
        if self.fail_at.contains(&n) {
            return Err(BlobError::Backend(format!("injected failure on copy {n}")));
        }
        self.inner.copy_if_absent(from, to).await
    }
    async fn list(&self, prefix: &str, after: Option<&str>, limit: usize) -> Result<Vec<BlobMeta>, BlobError> {
        self.inner.list(prefix, after, limit).await
    }
    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        self.inner.delete(key).await
    }
    async fn upload_url(&self, key: &str, expires_at: i64, max_size: u64) -> Result<UploadUrl, BlobError> {
        self.inner.upload_url(key, expires_at, max_size).await
    }
}

async fn read(app: &App, object: &str) -> Vec<u8> {
    use futures::StreamExt;
    let mut s = app.blobs.get(object).await.unwrap();
    let mut out = Vec::new();
    while let Some(chunk) = s.next().await {
        out.extend_from_slice(&chunk.unwrap());
    }
    out
}

#[tokio::test]
async fn archiving_is_resumable_after_a_failure_at_every_copy() {
    let files: [(&str, &[u8]); 3] = [("a.tar.gz", b"aaa"), ("a.tar.gz.asc", b"sig"), ("a.tar.gz.sha512", b"sum")];
    for fail_at in 1..=3 {
        let mut w = world().await;
        upload_files(&w.app, &w.blobs, &w.rm.caller(), &rid("1.0.0"), &files).await;
        force_current_for_tests(&w.app, &rid("1.0.0"), &w.rm.caller()).await;
        let real = w.app.blobs.clone();
        w.app.blobs =
            Arc::new(FailingCopies { inner: real.clone(), copies: AtomicUsize::new(0), fail_at: vec![fail_at] });
        let n = event_count(&w.app).await;
        let err = lifecycle::archive_release(&w.app, Some(&w.rm.caller()), &rid("1.0.0")).await.unwrap_err();
        assert!(err.to_string().contains("injected"), "{err}");
        assert_eq!(stage(&w.app, "1.0.0").await, Stage::Current, "not archived until every file is copied");
        assert!(public::resolve(&w.app, "current", "foo/1.0.0/a.tar.gz").await.is_ok(), "still served from current");
        assert_eq!(event_count(&w.app).await, n);

        let done = lifecycle::archive_release(&w.app, Some(&w.rm.caller()), &rid("1.0.0")).await.unwrap();
        assert_eq!((done.files, done.already), (3, false));
        assert_eq!(stage(&w.app, "1.0.0").await, Stage::Archived);
        for (path, bytes) in files {
            let served = public::resolve(&w.app, "archive", &format!("foo/1.0.0/{path}")).await.unwrap();
            assert_eq!(read(&w.app, &served.object).await, bytes);
            assert!(public::resolve(&w.app, "current", &format!("foo/1.0.0/{path}")).await.is_err());
            assert!(real.head(&format!("current/foo/1.0.0/{path}")).await.unwrap().is_none(), "moved, not copied");
        }
        assert_eq!(event_count(&w.app).await, n + 1, "exactly one archived event");
        let again = lifecycle::archive_release(&w.app, Some(&w.rm.caller()), &rid("1.0.0")).await.unwrap();
        assert!(again.already);
        assert_eq!(event_count(&w.app).await, n + 1);
    }
}

#[tokio::test]
async fn archiving_needs_a_promoted_release() {
    let w = world().await;
    upload_files(&w.app, &w.blobs, &w.rm.caller(), &rid("1.0.0"), &[("a", b"a")]).await;
    let err = lifecycle::archive_release(&w.app, Some(&w.rm.caller()), &rid("1.0.0")).await.unwrap_err();
    assert_eq!(err.code(), "wrong-stage");
}

#[tokio::test]
async fn states_are_entered_and_left_with_the_already_held_flag() {
    let w = world().await;
    upload_files(&w.app, &w.blobs, &w.rm.caller(), &rid("1.0.0"), &[("a", b"a")]).await;
    let rm = w.rm.caller();
    let id = rid("1.0.0");
    let held = |e: trs_core::Event| match e.change {
        trs_core::Change::StateEntered { already_held, .. } => already_held,
        trs_core::Change::StateLeft { was_held, .. } => was_held,
        other => panic!("{other:?}"),
    };
    assert!(!held(lifecycle::enter_state(&w.app, &rm, &id, "lts").await.unwrap()));
    assert!(held(lifecycle::enter_state(&w.app, &rm, &id, "lts").await.unwrap()));
    let release = trs_app::releases::get_release(&w.app, &id).await.unwrap().unwrap().0;
    assert_eq!(release.states.iter().collect::<Vec<_>>(), vec!["lts"]);
    assert!(held(lifecycle::leave_state(&w.app, &rm, &id, "lts").await.unwrap()));
    assert!(!held(lifecycle::leave_state(&w.app, &rm, &id, "lts").await.unwrap()));
    assert!(trs_app::releases::get_release(&w.app, &id).await.unwrap().unwrap().0.states.is_empty());
    for bad in ["LTS", "current", ""] {
        let err = lifecycle::enter_state(&w.app, &rm, &id, bad).await.unwrap_err();
        assert_eq!(err.code(), "invalid-state", "{bad}");
    }
    let err = lifecycle::enter_state(&w.app, &w.committer.caller(), &id, "lts").await.unwrap_err();
    assert!(matches!(err, AppError::Forbidden(_)));
}

#[tokio::test]
async fn point_in_time_views_match_a_hand_computed_expectation() {
    // t0+0   1.0.0 pushed; +10..: promoted (forced vote)      t0+100: 1.1.0 pushed and promoted
    // t0+200 1.0.0 enters lts    t0+300 1.1.0 revoked         t0+400 1.0.0 archived
    let (w, clock) = with_current(&["1.0.0"]).await; // clock now T0 + 10
    clock.set(T0 + 100);
    upload_files(&w.app, &w.blobs, &w.rm.caller(), &rid("1.1.0"), &[("b", b"b")]).await;
    force_current_for_tests(&w.app, &rid("1.1.0"), &w.rm.caller()).await;
    clock.set(T0 + 200);
    lifecycle::enter_state(&w.app, &w.rm.caller(), &rid("1.0.0"), "lts").await.unwrap();
    clock.set(T0 + 300);
    lifecycle::revoke(&w.app, &w.rm.caller(), &rid("1.1.0"), "bad build").await.unwrap();
    clock.set(T0 + 400);
    lifecycle::archive_release(&w.app, Some(&w.rm.caller()), &rid("1.0.0")).await.unwrap();

    let view = |at: i64| {
        let app = w.app.clone();
        async move { release_views::releases_view(&app, &Scope::default(), Some(at), None).await.unwrap() }
    };
    let map = |pairs: &[(&str, &[&str])]| -> std::collections::BTreeMap<String, Vec<String>> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect())).collect()
    };
    assert_eq!(view(T0 - 1).await.by_state, map(&[]));
    assert_eq!(view(T0 + 50).await.by_state, map(&[("current", &["foo/1.0.0"]), ("latest", &["foo/1.0.0"])]));
    assert_eq!(
        view(T0 + 250).await.by_release,
        map(&[("foo/1.0.0", &["current", "lts"]), ("foo/1.1.0", &["current", "latest"])])
    );
    assert_eq!(
        view(T0 + 350).await.by_state,
        map(&[
            ("current", &["foo/1.0.0"]),
            ("latest", &["foo/1.0.0"]),
            ("lts", &["foo/1.0.0"]),
            ("revoked", &["foo/1.1.0"])
        ])
    );
    assert_eq!(
        view(T0 + 450).await.by_release,
        map(&[("foo/1.0.0", &["archived", "lts"]), ("foo/1.1.0", &["revoked"])])
    );
    let only_lts = release_views::releases_view(&w.app, &Scope::default(), Some(T0 + 450), Some("lts")).await.unwrap();
    assert_eq!(only_lts.releases.len(), 1);

    // History of one release, and the chain verifies.
    let history = release_views::release_history(&w.app, &rid("1.1.0")).await.unwrap();
    let types: Vec<String> = history.iter().map(|e| e.change.type_name()).collect();
    assert_eq!(types, ["revision-pushed", "vote-opened", "vote-closed", "promoted", "revoked"]);
    let chain = release_views::verify_stream(&w.app, &StreamId::Project("foo".parse().unwrap())).await.unwrap();
    assert!(chain.ok, "{chain:?}");

    // Exports.
    let events = stream::all_events(&w.app, &StreamId::Project("foo".parse().unwrap())).await.unwrap();
    let foo: trs_core::ProjectName = "foo".parse().unwrap();
    let cle = trs_app::exports::cle::document(&events, &foo, None, T0 + 400, &Default::default());
    let kinds: Vec<&str> = cle["events"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["endOfDistribution", "withdrawn", "released", "released"]);
    let withdrawn = &cle["events"][1];
    let released_11 = cle["events"].as_array().unwrap().iter().find(|e| e["version"] == "1.1.0").unwrap();
    assert_eq!(withdrawn["eventId"], released_11["id"]);
    assert_eq!(withdrawn["reason"], "bad build");
}

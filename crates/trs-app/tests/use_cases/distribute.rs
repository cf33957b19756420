//! Distribution as a use case, against a small stateful registry that keeps staged and
//! production files by digest (the real GitHub client and its test server are exercised in
//! tests/tests/distribute.rs): the staging/current/voted-key rules, the record and events,
//! retries with backoff, one failing platform not stopping another, idempotent re-runs, bytes
//! re-hashed before sending, and the credential absent from everything recorded.

use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use trs_app::distribute::{self, Backoff, DistributionRecord, DistributionSpec, Registries};
use trs_app::tasks::{self, Task, TaskState};
use trs_app::test_support::{World, force_current_for_tests, upload_files, world};
use trs_app::{App, storage_keys as keys, stream};
use trs_core::{Change, ReleaseId, StreamId};
use trs_distribute::platform::{GITHUB, NPM};
use trs_distribute::{Artifact, DistributeError, Platform, PlatformName, Published, RegistryClient, Target};

const SECRET: &str = "tok_very_secret_1234";

const FILES: [(&str, &[u8]); 2] = [("foo-1.0.tar.gz", b"the release archive"), ("foo-1.0.tar.gz.asc", b"a signature")];

#[derive(Default)]
struct State {
    /// file name → sha512, per (staging?) side.
    staged: BTreeMap<String, String>,
    production: BTreeMap<String, String>,
    writes: usize,
    promotions: usize,
    /// The next calls failing transiently.
    transient_failures: u32,
    /// Every call refused, echoing the credential (as a careless server might).
    refuse: bool,
    calls: usize,
}

struct FakeRegistry {
    platform: &'static Platform,
    state: Mutex<State>,
}

impl FakeRegistry {
    fn new(platform: &'static Platform) -> Arc<Self> {
        Arc::new(FakeRegistry { platform, state: Default::default() })
    }
    fn published(&self, already_present: bool) -> Published {
        Published {
            api_url: format!("http://registry.test/{}", self.platform.name),
            web_url: format!("http://registry.test/web/{}", self.platform.name),
            upload_date: Some(1_700_000_000),
            already_present,
            details: serde_json::json!({}),
        }
    }
    fn gate(&self) -> Result<(), DistributeError> {
        let mut s = self.state.lock().unwrap();
        s.calls += 1;
        if s.refuse {
            return Err(DistributeError::Refused(format!("HTTP 401: bad token {SECRET}")));
        }
        if s.transient_failures > 0 {
            s.transient_failures -= 1;
            return Err(DistributeError::Transient("HTTP 503: try later".into()));
        }
        Ok(())
    }
}

fn put_all(
    side: &mut BTreeMap<String, String>,
    artifacts: &[Artifact],
    writes: &mut usize,
) -> Result<bool, DistributeError> {
    let mut wrote = false;
    for a in artifacts {
        match side.get(&a.file_name) {
            Some(d) if *d == a.sha512 => {}
            Some(_) => return Err(DistributeError::DigestMismatch(format!("{} differs", a.file_name))),
            None => {
                side.insert(a.file_name.clone(), a.sha512.clone());
                *writes += 1;
                wrote = true;
            }
        }
    }
    Ok(wrote)
}

#[async_trait]
impl RegistryClient for FakeRegistry {
    fn platform(&self) -> &'static Platform {
        self.platform
    }
    fn select(&self, names: &[String]) -> Vec<String> {
        names.to_vec()
    }
    async fn upload(&self, _: &Target, artifacts: &[Artifact], staging: bool) -> Result<Published, DistributeError> {
        self.gate()?;
        let mut s = self.state.lock().unwrap();
        let State { staged, production, writes, .. } = &mut *s;
        let wrote = put_all(if staging { staged } else { production }, artifacts, writes)?;
        Ok(self.published(!wrote))
    }
    async fn promote(&self, _: &Target, artifacts: &[Artifact]) -> Result<Published, DistributeError> {
        self.gate()?;
        let mut s = self.state.lock().unwrap();
        for a in artifacts {
            if s.staged.get(&a.file_name) != Some(&a.sha512) {
                return Err(DistributeError::DigestMismatch(format!("staged {} differs", a.file_name)));
            }
        }
        if s.production == s.staged {
            return Ok(self.published(true));
        }
        s.production = s.staged.clone();
        s.promotions += 1;
        Ok(self.published(false))
    }
    async fn lookup(&self, _: &Target, _: bool) -> Result<Option<Published>, DistributeError> {
        Ok(None)
    }
}

struct Setup {
    w: World,
    github: Arc<FakeRegistry>,
    npm: Arc<FakeRegistry>,
}

async fn setup() -> Setup {
    let mut w = world().await;
    let github = FakeRegistry::new(&GITHUB);
    let npm = FakeRegistry::new(&NPM);
    let mut registries =
        Registries::default().with_client(github.clone(), Some(SECRET)).with_client(npm.clone(), Some(SECRET));
    registries.backoff = Backoff { attempts: 3, base: Duration::from_millis(1) };
    w.app.registries = registries;
    Setup { w, github, npm }
}

fn release() -> ReleaseId {
    ReleaseId { project: "foo".parse().unwrap(), product: None, version: "1.0".parse().unwrap() }
}

fn spec(platform: PlatformName, staging: bool, promote: bool) -> DistributionSpec {
    DistributionSpec {
        platform,
        namespace: (platform == PlatformName::Github).then(|| "apache".to_string()),
        package: "foo".into(),
        staging,
        promote,
        stage_if_missing: false,
    }
}

async fn run(app: &App, specs: Vec<DistributionSpec>, w: &World) -> Task {
    let task = distribute::request(app, &w.rm.caller(), &release(), specs).await.unwrap();
    tasks::run(app, &task.id).await.unwrap();
    tasks::get_task(app, &task.id).await.unwrap().0
}

async fn record(app: &App, platform: PlatformName) -> DistributionRecord {
    let records = distribute::list_records(app, &release()).await.unwrap();
    records.into_iter().find(|r| r.platform == platform).expect("a record")
}

async fn events(app: &App) -> Vec<trs_core::Event> {
    stream::all_events(app, &StreamId::Project("foo".parse().unwrap())).await.unwrap()
}

async fn latest_key(app: &App) -> trs_core::RevisionKey {
    trs_app::releases::get_release(app, &release()).await.unwrap().unwrap().0.latest.unwrap().key
}

#[tokio::test]
async fn a_candidate_is_staged_then_promoted_once_current_and_never_twice() {
    let Setup { w, github, .. } = setup().await;
    let app = &w.app;
    upload_files(app, &w.blobs, &w.rm.caller(), &release(), &FILES).await;
    let key1 = latest_key(app).await;

    let staged = run(app, vec![spec(PlatformName::Github, true, false)], &w).await;
    assert_eq!(staged.state, TaskState::Done, "{:?}", staged.error);
    assert!(staged.steps.iter().all(|s| s.stage == "distribute"));
    assert!(
        staged.steps.iter().any(|s| s.message.starts_with("github apache/foo: distributed to staging")),
        "{:?}",
        staged.steps
    );
    let r = record(app, PlatformName::Github).await;
    assert!(r.staging && !r.pending && r.last_error.is_none());
    assert_eq!((r.staged_revision_key, r.production_revision_key), (Some(key1), None));
    assert_eq!(r.created_by.as_ref().map(|u| u.as_str()), Some("rita"));
    assert_eq!((r.namespace.as_deref(), r.package.as_str(), r.version.as_str()), (Some("apache"), "foo", "1.0"));
    assert_eq!(r.web_url.as_deref(), Some("http://registry.test/web/github"));
    assert_eq!(r.upload_date, Some(1_700_000_000));
    assert_eq!(github.state.lock().unwrap().staged.len(), 2);

    // Not current yet: promotion and production are refused at the request, nothing queued.
    for s in [spec(PlatformName::Github, false, true), spec(PlatformName::Github, false, false)] {
        let err = distribute::request(app, &w.rm.caller(), &release(), vec![s]).await.unwrap_err();
        assert_eq!((err.status(), err.code()), (409, "release-not-current"), "{err}");
    }
    // A committer may not distribute.
    let err =
        distribute::request(app, &w.committer.caller(), &release(), vec![spec(PlatformName::Github, true, false)])
            .await
            .unwrap_err();
    assert_eq!(err.status(), 403);

    force_current_for_tests(app, &release(), &w.rm.caller()).await;
    let promoted = run(app, vec![spec(PlatformName::Github, false, true)], &w).await;
    assert_eq!(promoted.state, TaskState::Done, "{:?}", promoted.error);
    let r = record(app, PlatformName::Github).await;
    assert!(!r.staging && !r.pending);
    assert_eq!((r.staged_revision_key, r.production_revision_key), (Some(key1), Some(key1)));
    assert_eq!(github.state.lock().unwrap().promotions, 1);

    let kinds: Vec<(String, Option<trs_core::RevisionKey>)> = events(app)
        .await
        .into_iter()
        .filter(|e| e.change.type_name().starts_with("distribut"))
        .map(|e| (e.change.type_name(), e.revision_key))
        .collect();
    assert_eq!(kinds, vec![("distributed".into(), Some(key1)), ("distribution-promoted".into(), Some(key1))]);

    // Again: nothing is sent, no event added.
    let (writes, calls) = {
        let s = github.state.lock().unwrap();
        (s.writes, s.calls)
    };
    // Staging the same revision again after its promotion is done too, and leaves the record
    // in production (it once re-staged and showed the distribution as staging only).
    for again in [spec(PlatformName::Github, false, true), spec(PlatformName::Github, true, false)] {
        let again = run(app, vec![again], &w).await;
        assert_eq!(again.state, TaskState::Done);
        assert!(again.steps.iter().any(|s| s.message.contains("already-done")), "{:?}", again.steps);
    }
    let now = {
        let s = github.state.lock().unwrap();
        (s.writes, s.calls, s.promotions)
    };
    assert_eq!(now, (writes, calls, 1));
    assert_eq!(events(app).await.iter().filter(|e| e.change.type_name().starts_with("distribut")).count(), 2);
    let r = record(app, PlatformName::Github).await;
    assert!(!r.staging && r.in_production(), "{r:?}");
}

#[tokio::test]
async fn promoting_a_staging_of_another_revision_than_the_voted_one_is_refused_with_both_keys() {
    let Setup { w, github, .. } = setup().await;
    let app = &w.app;
    upload_files(app, &w.blobs, &w.rm.caller(), &release(), &FILES).await;
    let key1 = latest_key(app).await;
    assert_eq!(run(app, vec![spec(PlatformName::Github, true, false)], &w).await.state, TaskState::Done);
    // Revision 2, and the vote passes on it.
    upload_files(app, &w.blobs, &w.rm.caller(), &release(), &[("foo-1.0.tar.gz", b"the fixed archive")]).await;
    let key2 = latest_key(app).await;
    assert_ne!(key1, key2);
    force_current_for_tests(app, &release(), &w.rm.caller()).await;

    let err = distribute::request(app, &w.rm.caller(), &release(), vec![spec(PlatformName::Github, false, true)])
        .await
        .unwrap_err();
    assert_eq!((err.status(), err.code()), (409, "staged-revision-differs"));
    let message = err.to_string();
    assert!(message.contains(&key1.to_string()) && message.contains(&key2.to_string()), "{message}");
    assert_eq!(github.state.lock().unwrap().promotions, 0);
    // The record still says what was staged.
    assert_eq!(record(app, PlatformName::Github).await.staged_revision_key, Some(key1));
}

#[tokio::test]
async fn transient_failures_are_retried_and_counted_and_a_failing_platform_does_not_stop_the_others() {
    let Setup { w, github, npm } = setup().await;
    let app = &w.app;
    upload_files(app, &w.blobs, &w.rm.caller(), &release(), &FILES).await;
    github.state.lock().unwrap().transient_failures = 2;
    npm.state.lock().unwrap().refuse = true;

    let specs = vec![spec(PlatformName::Npm, true, false), spec(PlatformName::Github, true, false)];
    let task = run(app, specs.clone(), &w).await;
    assert_eq!(task.state, TaskState::Failed);
    assert_eq!(task.result, Some(serde_json::json!({"code": "distribution-failed", "status": 409})));
    let error = task.error.clone().unwrap();
    assert!(error.contains("npm foo") && error.contains("1 of 2"), "{error}");

    let g = record(app, PlatformName::Github).await;
    assert!(g.staging && !g.pending && g.last_error.is_none(), "{g:?}");
    assert_eq!(g.retries, 2);
    assert_eq!(github.state.lock().unwrap().staged.len(), 2);
    let n = record(app, PlatformName::Npm).await;
    assert!(!n.pending && n.last_error.as_deref().unwrap().contains("bad token <redacted>"), "{n:?}");
    assert_eq!(npm.state.lock().unwrap().calls, 1, "a refusal is not retried");

    // Transient failures beyond the attempts: the error is recorded, retries add up.
    npm.state.lock().unwrap().refuse = false;
    npm.state.lock().unwrap().transient_failures = 10;
    let task = run(app, vec![spec(PlatformName::Npm, true, false)], &w).await;
    assert_eq!(task.state, TaskState::Failed);
    let n = record(app, PlatformName::Npm).await;
    assert_eq!(n.retries, 2);
    assert!(n.last_error.as_deref().unwrap().contains("503"), "{n:?}");
    assert!(task.error.as_deref().unwrap().contains("after 3 tries"), "{:?}", task.error);

    // The registry is back: the next run finishes it; github is not sent again.
    npm.state.lock().unwrap().transient_failures = 0;
    let github_calls = github.state.lock().unwrap().calls;
    let task = run(app, specs, &w).await;
    assert_eq!(task.state, TaskState::Done, "{:?}", task.error);
    assert!(record(app, PlatformName::Npm).await.staged());
    assert_eq!(github.state.lock().unwrap().calls, github_calls);

    // The secret is nowhere: not in records, events, tasks.
    let mut everything = String::new();
    for r in distribute::list_records(app, &release()).await.unwrap() {
        everything += &serde_json::to_string(&r).unwrap();
    }
    for e in stream::all_events_raw(app, &StreamId::Project("foo".parse().unwrap())).await.unwrap() {
        everything += &e.to_string();
    }
    everything += &format!("{task:?}");
    assert!(everything.contains("distribution-failed"));
    assert!(!everything.contains(SECRET), "the credential leaked");
}

#[tokio::test]
async fn bytes_that_no_longer_match_the_manifest_are_never_sent() {
    let Setup { w, github, .. } = setup().await;
    let app = &w.app;
    upload_files(app, &w.blobs, &w.rm.caller(), &release(), &FILES).await;
    let revision = trs_app::releases::get_revision(app, &release(), 1).await.unwrap();
    let entry = revision.manifest.entries().iter().find(|e| e.path.as_str() == "foo-1.0.tar.gz").unwrap();
    let path = app.blobs.local_path(&keys::file_object(&entry.sha512)).unwrap();
    let mut perms = std::fs::metadata(&path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&path, perms).unwrap();
    std::fs::write(&path, b"THE RELEASE ARCHIVE").unwrap();

    let task = run(app, vec![spec(PlatformName::Github, true, false)], &w).await;
    assert_eq!(task.state, TaskState::Failed);
    assert!(
        task.steps.iter().any(|s| s.message.contains("foo-1.0.tar.gz: the stored bytes hash to")),
        "{:?}",
        task.steps
    );
    assert_eq!(github.state.lock().unwrap().calls, 0);
}

#[tokio::test]
async fn bad_requests_change_nothing() {
    let Setup { w, .. } = setup().await;
    let app = &w.app;
    upload_files(app, &w.blobs, &w.rm.caller(), &release(), &FILES).await;
    let cases = [
        (DistributionSpec { namespace: None, ..spec(PlatformName::Github, true, false) }, "namespace-required"),
        (
            DistributionSpec { package: "a#b".into(), ..spec(PlatformName::Npm, true, false) },
            "invalid-distribution-name",
        ),
        (spec(PlatformName::Github, true, true), "staging-and-promote"),
        (spec(PlatformName::Pypi, true, false), "registry-not-configured"),
    ];
    for (s, code) in cases {
        let err = distribute::request(app, &w.rm.caller(), &release(), vec![s]).await.unwrap_err();
        assert_eq!(err.code(), code, "{err}");
    }
    // Promotion without anything staged.
    force_current_for_tests(app, &release(), &w.rm.caller()).await;
    let err = distribute::request(app, &w.rm.caller(), &release(), vec![spec(PlatformName::Github, false, true)])
        .await
        .unwrap_err();
    assert_eq!(err.code(), "not-staged", "{err}");
    assert!(distribute::list_records(app, &release()).await.unwrap().is_empty());
    assert!(
        tasks::unfinished_tasks(app)
            .await
            .unwrap()
            .iter()
            .all(|t| !matches!(t.kind, tasks::TaskKind::Distribute { .. }))
    );
    assert!(events(app).await.iter().all(|e| !matches!(e.change, Change::Distributed { .. })));
}

#[tokio::test]
async fn with_auto_distribute_the_promotion_task_runs_the_configured_distributions() {
    let Setup { w, github, npm } = setup().await;
    let app = &w.app;
    let foo: trs_core::ProjectName = "foo".parse().unwrap();
    let auto = vec![
        trs_core::AutoDistribution {
            platform: "github".into(),
            namespace: Some("apache".into()),
            package: "foo".into(),
            staging: true,
        },
        trs_core::AutoDistribution { platform: "npm".into(), namespace: None, package: "foo".into(), staging: false },
    ];
    // Refused: an unknown platform, and a committer.
    let bad = trs_core::AutoDistribution { platform: "cargo".into(), ..auto[1].clone() };
    let err = distribute::set_auto_distributions(app, &w.rm.caller(), &foo, vec![bad]).await.unwrap_err();
    assert_eq!(err.code(), "unknown-platform");
    let err = distribute::set_auto_distributions(app, &w.committer.caller(), &foo, auto.clone()).await.unwrap_err();
    assert_eq!(err.status(), 403);

    distribute::set_auto_distributions(app, &w.rm.caller(), &foo, auto).await.unwrap();
    let change = trs_core::PolicyOverride { auto_distribute: Some(true), ..Default::default() };
    trs_app::projects::set_policy(app, &w.rm.caller(), &foo, None, change).await.unwrap();
    upload_files(app, &w.blobs, &w.rm.caller(), &release(), &FILES).await;
    npm.state.lock().unwrap().transient_failures = 1;
    force_current_for_tests(app, &release(), &w.rm.caller()).await;

    let key = latest_key(app).await;
    let g = record(app, PlatformName::Github).await;
    assert!(g.in_production() && g.staged_revision_key == Some(key), "{g:?}");
    assert_eq!(github.state.lock().unwrap().promotions, 1);
    let n = record(app, PlatformName::Npm).await;
    assert!(n.in_production() && n.retries == 1, "{n:?}");
    assert_eq!(npm.state.lock().unwrap().production.len(), 2);

    // Nothing left queued but the [ANNOUNCE] mail: the distributions ran in the promotion
    // task itself.
    let left: Vec<_> = tasks::unfinished_tasks(app).await.unwrap().into_iter().map(|t| t.kind).collect();
    assert!(matches!(left.as_slice(), [tasks::TaskKind::SendMail { .. }]), "{left:?}");
    let types: Vec<String> = events(app).await.iter().map(|e| e.change.type_name()).collect();
    for t in ["auto-distributions-set", "promoted", "distributed", "distribution-promoted"] {
        assert!(types.contains(&t.to_string()), "{t} missing from {types:?}");
    }
    let promoted_at = types.iter().position(|t| t == "promoted").unwrap();
    assert!(types.iter().rposition(|t| t == "distribution-promoted").unwrap() > promoted_at);
}

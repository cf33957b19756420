//! A ready world for tests of use cases and handlers: embedded stores in a temporary folder,
//! an admin, a release manager and a committer with sequoia-made keys, and project `foo`.
//! The crypto backend is chosen by the test binary (a dev-dependency), not here.

use crate::{App, people, projects};
use openpgp::serialize::SerializeInto;
use sequoia_openpgp as openpgp;
use std::sync::Arc;
use trs_core::{Action, Person, ReleaseId, authorize};
use trs_storage::embedded::EmbeddedBlobStore;

pub mod traversal;

/// The audience of every test world (and of `trs_http::testing::call`'s requests): the
/// origin of the `Host` those requests carry.
pub const TEST_AUDIENCE: &str = "http://trs.test:8080";

/// [`TEST_AUDIENCE`] parsed.
pub fn test_audience() -> trs_auth::Audience {
    TEST_AUDIENCE.parse().expect("test audience")
}

pub struct Actor {
    pub person: Person,
    /// The certificate with its secret key, for signing requests.
    pub tsk: openpgp::Cert,
}

impl Actor {
    pub fn signer(&self) -> trs_auth::KeyFileSigner {
        trs_auth::KeyFileSigner::from_cert(&self.tsk, None).expect("signer")
    }

    /// The authenticated caller this actor is when signing with their (first) key.
    pub fn caller(&self) -> crate::authenticate::Caller {
        crate::authenticate::Caller { person: self.person.clone(), key: self.person.keys[0].clone() }
    }
}

pub struct World {
    /// Its clock is `clock`: time stands still unless a test moves it.
    pub app: App,
    /// Set at the world's making, after its keys were made (they are valid from then on).
    pub clock: Arc<TestClock>,
    pub blobs: Arc<EmbeddedBlobStore>,
    pub admin: Actor,
    pub rm: Actor,
    pub committer: Actor,
    _dir: tempfile::TempDir,
}

pub fn new_cert(user_id: &str) -> openpgp::Cert {
    openpgp::cert::CertBuilder::general_purpose(Some(user_id)).generate().expect("generate key").0
}

pub fn armored_public(cert: &openpgp::Cert) -> Vec<u8> {
    cert.armored().to_vec().expect("armor")
}

/// The main line release `foo 1.0.0`.
pub fn release() -> ReleaseId {
    ReleaseId { project: "foo".parse().unwrap(), product: None, version: "1.0.0".parse().unwrap() }
}

pub async fn world() -> World {
    world_on(None).await
}

/// [`world`] with its item store on a disk `disk` can fill up (tests of a full disk).
pub async fn world_with_disk_faults(disk: Arc<trs_storage::embedded::DiskFaults>) -> World {
    world_on(Some(disk)).await
}

/// [`world`] with its data folder in memory (`/dev/shm`, where there is one), for tests of
/// scale: thousands of files, each stored with its fsyncs, would otherwise spend minutes on
/// the disk rather than in the code under test.
pub async fn world_in_memory() -> World {
    let shm = std::path::Path::new("/dev/shm");
    let dir = if shm.is_dir() { tempfile::tempdir_in(shm).unwrap() } else { tempfile::tempdir().unwrap() };
    world_in(dir, None).await
}

async fn world_on(disk: Option<Arc<trs_storage::embedded::DiskFaults>>) -> World {
    world_in(tempfile::tempdir().unwrap(), disk).await
}

async fn world_in(dir: tempfile::TempDir, disk: Option<Arc<trs_storage::embedded::DiskFaults>>) -> World {
    let (items, blobs) = trs_storage::embedded::open_data_dir(dir.path(), "http://127.0.0.1:1".into()).unwrap();
    let items: Arc<dyn trs_storage::ItemStore> = match disk {
        None => Arc::new(items),
        Some(disk) => {
            drop(items);
            let path = dir.path().join("items.redb");
            Arc::new(trs_storage::embedded::EmbeddedItemStore::open_with_disk_faults(&path, disk).unwrap())
        }
    };
    let blobs = Arc::new(blobs);
    let mut app = App::new(items, blobs.clone());
    app.audience = Some(test_audience());
    let Team { admin, rm, committer } = team(&app).await;
    // From here on no outcome depends on how long a test takes on a busy machine (a vote
    // opened for 50 h still has exactly 50 h to run). Anchored at the wall clock, after the
    // keys were made, because sequoia dates keys and signatures by it: a signed call stays
    // within its ±300 s window for the first five minutes of a test.
    let clock = TestClock::at(crate::Clock::now(&crate::SystemClock));
    app.clock = clock.clone();
    World { app, clock, blobs, admin, rm, committer, _dir: dir }
}

/// The people of [`world`]: an admin, a release manager and a committer of project `foo`.
pub struct Team {
    pub admin: Actor,
    pub rm: Actor,
    pub committer: Actor,
}

/// [`world`]'s people and project `foo`, written into `app`'s stores, whichever backend
/// they are (tests against moto build their `App` on DynamoDB and S3).
pub async fn team(app: &App) -> Team {
    let admin_tsk = new_cert("Ada <ada@example.org>");
    let admin = people::bootstrap_admin(
        app,
        people::NewPerson {
            uid: "ada".parse().unwrap(),
            name: None,
            email: None,
            certificate: armored_public(&admin_tsk),
        },
    )
    .await
    .unwrap();
    let permit = authorize(&admin, None, Action::Administer).unwrap();
    let by = trs_core::Actor { uid: admin.uid.clone(), key: admin.keys[0].clone() };
    let add = async |uid: &str| register(app, &permit, &by, uid).await;
    let rm = add("rita").await;
    let committer = add("carl").await;
    projects::create_project(
        app,
        &permit,
        &by,
        projects::NewProject {
            name: "foo".parse().unwrap(),
            members: ["ada".parse().unwrap()].into(),
            committers: ["carl".parse().unwrap()].into(),
            release_managers: ["rita".parse().unwrap()].into(),
            products: Default::default(),
        },
    )
    .await
    .unwrap();
    Team { admin: Actor { person: admin, tsk: admin_tsk }, rm, committer }
}

/// Creates project `name` (ada its member, rita its release manager) as `admin`.
pub async fn add_project(app: &App, admin: &Actor, name: &str) {
    let permit = authorize(&admin.person, None, Action::Administer).unwrap();
    let new = projects::NewProject {
        name: name.parse().unwrap(),
        members: ["ada".parse().unwrap()].into(),
        committers: Default::default(),
        release_managers: ["rita".parse().unwrap()].into(),
        products: Default::default(),
    };
    projects::create_project(app, &permit, &admin.caller().actor(), new).await.unwrap();
}

/// Registers `uid` with a fresh sequoia-made key, as `by` (an admin holding `permit`).
async fn register(app: &App, permit: &trs_core::Permit, by: &trs_core::Actor, uid: &str) -> Actor {
    let tsk = new_cert(&format!("{uid} <{uid}@example.org>"));
    let person = people::add_person(
        app,
        permit,
        by,
        people::NewPerson { uid: uid.parse().unwrap(), name: None, email: None, certificate: armored_public(&tsk) },
    )
    .await
    .unwrap();
    Actor { person, tsk }
}

impl World {
    /// Registers another person (no role in any project yet), as the admin.
    pub async fn add_person(&self, uid: &str) -> Actor {
        let permit = authorize(&self.admin.person, None, Action::Administer).unwrap();
        register(&self.app, &permit, &self.admin.caller().actor(), uid).await
    }
}

/// The headers of a signed call by `actor` (scheme: docs/signed-requests.md).
pub fn signed_headers(actor: &Actor, method: &str, path: &str, body: &[u8]) -> Vec<(&'static str, String)> {
    signed_headers_with_query(actor, method, path, None, body)
}

/// [`signed_headers`] for a request with a query string (signed too).
pub fn signed_headers_with_query(
    actor: &Actor,
    method: &str,
    path: &str,
    query: Option<&str>,
    body: &[u8],
) -> Vec<(&'static str, String)> {
    signed_headers_at(actor, method, path, query, body, crate::Clock::now(&crate::SystemClock))
}

/// [`signed_headers_with_query`] signed at `now` (unix seconds): for an app whose test clock
/// is not the wall clock, which checks the signature's time against its own.
pub fn signed_headers_at(
    actor: &Actor,
    method: &str,
    path: &str,
    query: Option<&str>,
    body: &[u8],
    now: i64,
) -> Vec<(&'static str, String)> {
    trs_auth::sign_request(&actor.signer(), &test_audience(), method, path, query, body, now).expect("sign").to_pairs()
}

/// TEST ONLY: makes a release current without a vote, for tests of what comes after
/// promotion. Records a vote as opened and passed on the latest revision (with its events),
/// then runs the real promotion task (`crate::promote::execute`), which re-hashes the bytes,
/// copies them to `current/…` and moves the stage. Never reachable from a host.
pub async fn force_current_for_tests(app: &App, id: &ReleaseId, by: &crate::authenticate::Caller) {
    use crate::stream::commit_or_conflict;
    use crate::tasks::{Task, TaskKind, TaskState};
    use trs_core::{Change, EventDraft, Stage, StreamId, VoteRecord, VoteState};
    use trs_storage::{Condition, WriteOp};

    let stream = StreamId::Project(id.project.clone());
    let (release, item) = crate::releases::get_release(app, id).await.unwrap().expect("release to force current");
    let latest = release.latest.clone().expect("release has a revision");
    let now = app.now();
    let project = projects::get_project(app, &id.project).await.unwrap();
    let vote = VoteRecord {
        number: 1,
        revision: latest.clone(),
        opened_at: now,
        closes_not_before: now,
        policy: project.policy_for(id.product.as_ref()),
        state: VoteState::Passed,
        closed_at: Some(now),
        resolution: None,
        source: None,
    };
    let next = trs_core::Release {
        stage: release.stage.open_vote().expect("a draft"),
        vote: Some(vote),
        voted_revision: Some(latest.clone()),
        updated_at: now,
        ..release.clone()
    };
    let opened = EventDraft::new(
        Some(by.actor()),
        Change::VoteOpened { vote: 1, revision: latest.number, closes_not_before: now },
    )
    .release(id)
    .revision(latest.key)
    .stage(Some(release.stage), Stage::Candidate);
    let ops = vec![WriteOp::Put {
        item: item.updated(serde_json::json!(next)),
        condition: Condition::VersionIs(item.version),
    }];
    commit_or_conflict(app, &stream, opened, ops).await.unwrap();
    let closed = EventDraft::new(
        Some(by.actor()),
        Change::VoteClosed { vote: 1, passed: true, explanation: "forced for a test (test_support)".into() },
    )
    .release(id)
    .revision(latest.key);
    commit_or_conflict(app, &stream, closed, vec![]).await.unwrap();

    let task =
        Task::new(TaskKind::Promote { release: id.clone(), revision: latest.number, requested_by: by.actor() }, now);
    app.items.put(task.queued_item(), Condition::Absent).await.unwrap();
    crate::tasks::run(app, &task.id).await.unwrap();
    let (done, _) = crate::tasks::get_task(app, &task.id).await.unwrap();
    assert_eq!(done.state, TaskState::Done, "promotion failed: {:?}", done.error);
}

/// TEST ONLY: uploads `files` as a new revision of `id` by `by` and runs its verification.
pub async fn upload_files(
    app: &App,
    blobs: &EmbeddedBlobStore,
    by: &crate::authenticate::Caller,
    id: &ReleaseId,
    files: &[(&str, &[u8])],
) {
    let committed = commit_files(app, blobs, by, id, files).await;
    crate::tasks::run(app, committed.task.as_ref().unwrap()).await.unwrap();
}

/// TEST ONLY: uploads `files` as a new revision of `id` by `by`, sending the bytes through
/// the upload URLs as a client would; its verify task stays queued.
pub async fn commit_files(
    app: &App,
    blobs: &EmbeddedBlobStore,
    by: &crate::authenticate::Caller,
    id: &ReleaseId,
    files: &[(&str, &[u8])],
) -> crate::upload::CommittedUpload {
    use crate::upload::commit_upload;
    let started = start_upload_of(app, by, id, files).await;
    for (target, (_, bytes)) in started.files.iter().zip(files) {
        let token = target.upload.as_ref().unwrap().url.rsplit('/').next().unwrap();
        let body = futures::stream::iter(vec![Ok(bytes::Bytes::copy_from_slice(bytes))]);
        blobs.accept_upload(token, app.now(), Box::pin(body)).await.unwrap();
    }
    commit_upload(app, by, &started.id).await.unwrap()
}

/// TEST ONLY: starts an upload declaring `files` (path and size).
async fn start_upload_of(
    app: &App,
    by: &crate::authenticate::Caller,
    id: &ReleaseId,
    files: &[(&str, &[u8])],
) -> crate::upload::StartedUpload {
    use crate::upload::{DeclaredFile, StartUpload, start_upload};
    let req = StartUpload {
        product: id.product.clone(),
        files: files.iter().map(|(p, b)| DeclaredFile { path: p.to_string(), size: b.len() as u64 }).collect(),
        force: false,
        base: None,
        ..Default::default()
    };
    start_upload(app, by, id.clone(), req).await.unwrap()
}

/// TEST ONLY: [`upload_files`] on any blob store: the bytes are written to the staged
/// objects with the store's own put (what a client's PUT to the upload URL does), then the
/// upload is committed and verified.
pub async fn upload_files_to_store(
    app: &App,
    by: &crate::authenticate::Caller,
    id: &ReleaseId,
    files: &[(&str, &[u8])],
) {
    let committed = commit_files_to_store(app, by, id, files).await;
    crate::tasks::run(app, committed.task.as_ref().unwrap()).await.unwrap();
}

/// TEST ONLY: [`upload_files_to_store`] up to the commit: the verification is queued, not run.
pub async fn commit_files_to_store(
    app: &App,
    by: &crate::authenticate::Caller,
    id: &ReleaseId,
    files: &[(&str, &[u8])],
) -> crate::upload::CommittedUpload {
    let started = start_upload_of(app, by, id, files).await;
    for (i, (_, bytes)) in files.iter().enumerate() {
        let body = futures::stream::iter(vec![Ok(bytes::Bytes::copy_from_slice(bytes))]);
        app.blobs.put_if_absent(&crate::storage_keys::staged_object(&started.id, i), Box::pin(body)).await.unwrap();
    }
    crate::upload::commit_upload(app, by, &started.id).await.unwrap()
}

/// TEST ONLY: a clock tests set and advance (`app.clock = clock.clone()`).
#[derive(Debug, Default)]
pub struct TestClock(std::sync::atomic::AtomicI64);

impl TestClock {
    pub fn at(now: i64) -> Arc<Self> {
        Arc::new(Self(std::sync::atomic::AtomicI64::new(now)))
    }

    pub fn set(&self, now: i64) {
        self.0.store(now, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, std::sync::atomic::Ordering::SeqCst);
    }
}

impl crate::Clock for TestClock {
    fn now(&self) -> i64 {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// TEST ONLY: marks a vote on the latest revision as passed by writing the release item
/// directly (no vote events), for tests of promotion that must not depend on the vote's rules.
pub async fn pass_vote_for_tests(app: &App, release: &ReleaseId) {
    let item = app.items.get(&crate::storage_keys::release(release)).await.expect("get").expect("release exists");
    let mut r: trs_core::Release = item.parse().expect("release");
    let latest = r.latest.clone().expect("a revision");
    r.stage = trs_core::Stage::Candidate;
    r.vote = Some(trs_core::VoteRecord {
        number: 1,
        revision: latest.clone(),
        opened_at: 0,
        closes_not_before: 0,
        policy: trs_core::Policy::default(),
        state: trs_core::VoteState::Passed,
        closed_at: Some(0),
        resolution: None,
        source: None,
    });
    r.voted_revision = Some(latest);
    app.items
        .put(item.updated(serde_json::json!(r)), trs_storage::Condition::VersionIs(item.version))
        .await
        .expect("put");
}

/// TEST ONLY: a mail transport that keeps what it is asked to send, as sent on the wire (the
/// end-to-end tests send to a real SMTP server).
#[derive(Default)]
pub struct RecordingMailer {
    sent: std::sync::Mutex<Vec<Vec<u8>>>,
    failure: std::sync::Mutex<Option<crate::mail::SendError>>,
    /// Like SES: each accepted mail gets a `Message-ID` `<N@HOST>` of the transport's.
    replacing_ids_on: std::sync::Mutex<Option<String>>,
}

#[async_trait::async_trait]
impl crate::mail::Mailer for RecordingMailer {
    async fn send(&self, message: lettre::Message) -> Result<crate::mail::Accepted, crate::mail::SendError> {
        if let Some(e) = self.failure.lock().unwrap().clone() {
            return Err(e);
        }
        let mut sent = self.sent.lock().unwrap();
        sent.push(message.formatted());
        let replaced_id = self.replacing_ids_on.lock().unwrap().as_ref().map(|host| format!("<{}@{host}>", sent.len()));
        Ok(crate::mail::Accepted { replaced_id })
    }
}

impl RecordingMailer {
    /// From now on, answers every mail with `error` (and keeps none).
    pub fn fail_with(&self, error: Option<crate::mail::SendError>) {
        *self.failure.lock().unwrap() = error;
    }

    /// From now on, gives every mail it accepts an id of its own on `host`, as SES does.
    pub fn replace_ids_on(&self, host: &str) {
        *self.replacing_ids_on.lock().unwrap() = Some(host.to_string());
    }

    /// Every message sent so far, in order.
    pub fn sent(&self) -> Vec<String> {
        self.sent.lock().unwrap().iter().map(|m| String::from_utf8_lossy(m).into_owned()).collect()
    }
}

/// TEST ONLY: runs the reference JSON Schema validator (Python `jsonschema`, installed by
/// ./test.sh) on `instance` with the schema file `schema` of the workspace's schemas/ folder;
/// returns its error messages (none when it validates). With `#/components/schemas/NAME`
/// after the file name, validates against that schema of an OpenAPI 3.1 document (whose
/// schemas are JSON Schema 2020-12).
pub fn schema_errors(schema: &str, instance: &serde_json::Value) -> Vec<String> {
    let (file, pointer) = schema.split_once('#').map_or((schema, ""), |(f, p)| (f, p));
    let path = format!("{}/../../schemas/{file}", env!("CARGO_MANIFEST_DIR"));
    let script = r##"
import json, sys
from jsonschema import validators, Draft202012Validator
schema = json.load(open(sys.argv[1]))
if sys.argv[2]:
    schema = dict(schema, **{"$schema": "https://json-schema.org/draft/2020-12/schema", "$ref": "#" + sys.argv[2]})
cls = validators.validator_for(schema, default=Draft202012Validator)
cls.check_schema(schema)
for e in cls(schema).iter_errors(json.load(sys.stdin)):
    print(f"{'/'.join(map(str, e.absolute_path))}: {e.message}")
"##;
    let mut child = std::process::Command::new("python3")
        .args(["-c", script, &path, pointer])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs the schema validator (./test.sh installs jsonschema)");
    use std::io::Write;
    child.stdin.take().expect("stdin").write_all(instance.to_string().as_bytes()).expect("write");
    let out = child.wait_with_output().expect("validator");
    assert!(out.status.success(), "the validator failed to run: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8").lines().map(str::to_string).collect()
}

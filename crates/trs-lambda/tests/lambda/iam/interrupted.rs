//! The paths only a run that was interrupted, repeated or raced takes, under the roles; the
//! scenario of `every_function_runs_its_paths_under_its_own_role` runs them, so that the
//! permissions only they use are exercised there too. The fault is injected where a real one
//! would strike: moto refuses one request (an explicit Deny beside the role's policy, as AWS
//! refuses what a role lacks, and as a throttled or timed-out request fails), the operation
//! fails at that request, and is asked again with the template's policy; or a revocation
//! lands while a promotion copies its files. Each flow checks what a user sees: the release's
//! stage, the objects at its public paths, the task's outcome, the answer of `latest`.

use super::{
    BUCKET, People, Running, object_keys, object_text, request_promotion, start, start_with_blobs, task_state,
    upload_and_verify, vote_passes,
};
use crate::support::iam::{self, Stack};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;
use trs_storage::{BlobError, BlobMeta, BlobStore, ByteStream, UploadUrl};
use trs_storage_aws::moto::Call;

/// The calls each function's identity made, by function.
pub(super) type Calls = BTreeMap<&'static str, Vec<Call>>;

/// The calls made since the last look, added to `all`, but for those moto denied (the faults
/// a test injected), which are returned as `Function: Action resource`.
pub(super) fn gather(stack: &Stack, all: &mut Calls) -> Vec<String> {
    let mut denied = Vec::new();
    for (function, calls) in stack.calls_by_function() {
        for call in calls {
            if call.outcome.starts_with("denied") {
                denied.push(format!("{function}: {} {}", call.action, call.resource));
            } else {
                all.entry(function).or_default().push(call);
            }
        }
    }
    denied
}

/// `function`'s role on moto refusing `action` on `resource`: the template's policy and an
/// explicit Deny.
fn refuse(stack: &Stack, function: &str, action: &str, resource: &str) {
    let mut policy = iam::for_moto(&stack.policies[function]);
    let deny = json!({"Effect": "Deny", "Action": action, "Resource": resource});
    policy["Statement"].as_array_mut().unwrap().push(deny);
    stack.moto.set_policy(function, &policy);
}

/// `function`'s role on moto as the template writes it again.
fn restore(stack: &Stack, function: &str) {
    stack.moto.set_policy(function, &iam::for_moto(&stack.policies[function]));
}

/// A commit (a release's stage change and its event, one DynamoDB transaction) that fails:
/// `function`'s next transaction is refused. The denial moto recorded, as [`gather`] names it.
const TRANSACTION: &str = "dynamodb:TransactWriteItems";
fn refused_transaction(function: &str) -> String {
    format!("{function}: TransactWriteItems *")
}

async fn keys_under(stack: &Stack, prefix: &str) -> Vec<String> {
    stack.as_operator(async || object_keys(stack, BUCKET, prefix).await).await
}

/// The stage of `foo VERSION`, as the upload function's release route shows it.
async fn stage(stack: &Stack, version: &str) -> String {
    let upload = start(stack, "Upload").await;
    let (status, body, _) =
        upload.http(None, "GET", &format!("/api/v1/projects/foo/releases/{version}"), Value::Null).await;
    assert_eq!(status, 200, "{body}");
    body["stage"].as_str().unwrap_or_else(|| panic!("a stage: {body}")).to_string()
}

/// Delivers the one message waiting on the promote queue; the function's answer reports it
/// (it comes back to be tried again).
async fn delivered_and_reported(promote: &Running, stack: &Stack) {
    let answers = promote.deliver_queue_answers(stack, "PromoteQueue").await;
    assert_eq!(answers.len(), 1, "{answers:?}");
    assert_ne!(answers[0]["batchItemFailures"], json!([]), "the message comes back: {}", answers[0]);
}

/// Sends the mail tasks waiting on the promote queue (the notices the flow queued); the
/// subjects of the mail sent.
async fn mail_sent(stack: &Stack) -> Vec<String> {
    let before = stack.moto.sent_mail().len();
    start(stack, "Promote").await.deliver_queue(stack, "PromoteQueue").await;
    let sent = stack.moto.sent_mail();
    sent[before..]
        .iter()
        .map(|mail| {
            let raw = mail["raw_data"].as_str().unwrap();
            raw.lines().find_map(|l| l.strip_prefix("Subject: ")).unwrap_or_else(|| panic!("a subject: {raw}")).into()
        })
        .collect()
}

/// The lifecycle function asked by rita to `POST body` to `path`, its commit refused: the
/// call fails, and moto's one denial is that commit. Returns the function, its role as the
/// template writes it again.
async fn lifecycle_interrupted_at_its_commit(
    stack: &Stack,
    people: &People,
    calls: &mut Calls,
    path: &str,
    body: Value,
) -> Running {
    let lifecycle = start(stack, "Lifecycle").await;
    refuse(stack, "Lifecycle", TRANSACTION, "*");
    let (status, answer, _) = lifecycle.http(Some(&people.rita), "POST", path, body).await;
    assert!(status >= 500, "{status} {answer}");
    assert_eq!(gather(stack, calls), [refused_transaction("Lifecycle")]);
    restore(stack, "Lifecycle");
    lifecycle
}

/// Archiving `foo VERSION` (one file), interrupted at its commit: the lifecycle function has
/// copied the file to `archive/`, the stage change is refused, the call fails and the release
/// is still served from `current/`. Asked again, the copy is refused (the path is taken: a
/// conditional completion, aborted) and the file there re-hashed as the voted bytes; the
/// release is archived and its `current/` copy deleted.
pub(super) async fn archive_interrupted_at_its_commit(
    stack: &Stack,
    people: &People,
    version: &str,
    calls: &mut Calls,
) {
    let file = format!("foo-{version}.tar.gz");
    let archive = format!("/api/v1/projects/foo/releases/{version}/archive");
    let before = stage(stack, version).await;
    let lifecycle = lifecycle_interrupted_at_its_commit(stack, people, calls, &archive, json!({})).await;
    assert_eq!(keys_under(stack, &format!("archive/foo/{version}/")).await, [format!("archive/foo/{version}/{file}")]);
    assert_eq!(keys_under(stack, &format!("current/foo/{version}/")).await, [format!("current/foo/{version}/{file}")]);
    assert_eq!(stage(stack, version).await, before, "not archived");
    let (status, body, _) = lifecycle.http(Some(&people.rita), "POST", &archive, json!({})).await;
    assert_eq!((status, body["files"].as_u64(), body["already"].as_bool()), (200, Some(1), Some(false)), "{body}");
    assert_eq!(stage(stack, version).await, "archived");
    let archived = format!("archive/foo/{version}/{file}");
    assert_eq!(stack.as_operator(async || object_text(stack, BUCKET, &archived).await).await, "release bytes");
    assert_eq!(keys_under(stack, &format!("current/foo/{version}/")).await, Vec::<String>::new());
    assert!(mail_sent(stack).await.iter().any(|s| s.starts_with(&format!("[ARCHIVED] foo {version}"))));
}

/// A promotion of `foo 1.3.0` (whose file holds bytes the store already has: the commit's
/// copy into `files/` is refused, aborted, and the file counted as stored) under a policy
/// that archives the release it supersedes (`archive_previous`: `foo 0.9.0`, three files):
///
/// 1. interrupted at its commit: its file is placed at `current/`, the release not current;
/// 2. run again (its message comes back): the placed file is found (the conditional copy is
///    refused and aborted) and re-hashed, the release becomes current; archiving 0.9.0 is
///    interrupted at its last file;
/// 3. run again: the archive copies already made are found and re-hashed, 0.9.0 is archived
///    and its `current/` copies deleted, the task is done.
pub(super) async fn promotion_and_its_archiving_interrupted(stack: &Stack, people: &People, calls: &mut Calls) {
    let admin = start(stack, "Admin").await;
    let policy = json!({"archive_previous": true});
    let (status, body, _) = admin.http(Some(&people.ada), "POST", "/api/v1/projects/foo/policy", policy).await;
    assert_eq!(status, 200, "{body}");
    let stored = keys_under(stack, "files/").await;
    upload_and_verify(stack, &people.rita, "1.3.0", b"release bytes").await;
    assert_eq!(keys_under(stack, "files/").await, stored, "the bytes of 1.0.0, stored once");
    vote_passes(stack, people, "1.3.0").await;
    let promote = start(stack, "Promote").await;
    let task = request_promotion(&promote, people, "1.3.0").await;

    refuse(stack, "Promote", TRANSACTION, "*");
    delivered_and_reported(&promote, stack).await;
    assert_eq!(gather(stack, calls), [refused_transaction("Promote")]);
    assert_eq!(keys_under(stack, "current/foo/1.3.0/").await, ["current/foo/1.3.0/foo-1.3.0.tar.gz"]);
    assert_eq!(stage(stack, "1.3.0").await, "candidate");
    task_state(stack, &task, "queued").await;

    let previous = ["foo-0.9.0.tar.gz", "foo-0.9.0.tar.gz.asc", "foo-0.9.0.tar.gz.sha512"];
    let last = format!("arn:aws:s3:::{BUCKET}/archive/foo/0.9.0/{}", previous[2]);
    refuse(stack, "Promote", "s3:PutObject", &last);
    delivered_and_reported(&promote, stack).await;
    assert_eq!(gather(stack, calls), [format!("Promote: PutObject {last}")]);
    assert_eq!(stage(stack, "1.3.0").await, "current");
    assert_eq!(stage(stack, "0.9.0").await, "current", "not archived until every file is copied");
    let archived: Vec<String> = previous.iter().map(|f| format!("archive/foo/0.9.0/{f}")).collect();
    assert_eq!(keys_under(stack, "archive/foo/0.9.0/").await, archived[..2]);
    assert_eq!(keys_under(stack, "current/foo/0.9.0/").await.len(), 3);
    task_state(stack, &task, "queued").await;

    restore(stack, "Promote");
    let delivered = promote.deliver_queue(stack, "PromoteQueue").await;
    assert_eq!(delivered, 2, "the promotion, and the [ANNOUNCE] its commit queued; both settled");
    task_state(stack, &task, "done").await;
    assert_eq!(stage(stack, "0.9.0").await, "archived");
    assert_eq!(keys_under(stack, "archive/foo/0.9.0/").await, archived);
    assert_eq!(keys_under(stack, "current/foo/0.9.0/").await, Vec::<String>::new(), "moved, not copied");
    let public = "current/foo/1.3.0/foo-1.3.0.tar.gz";
    assert_eq!(stack.as_operator(async || object_text(stack, BUCKET, public).await).await, "release bytes");
    let subjects = mail_sent(stack).await;
    assert!(subjects.iter().any(|s| s.starts_with("[ARCHIVED] foo 0.9.0")), "{subjects:?}");
}

/// A revocation of `foo VERSION`, interrupted at its commit: its files are already withdrawn
/// from the public paths (that comes first), the stage change is refused. `latest` still
/// names the release, but its file is gone: the stream function's HEAD is answered 404 (its
/// role may list the bucket; without that S3 answers 403, and the function a 500), and so is
/// the client. Asked again, the revocation completes; the release's paths answer 410 Gone.
pub(super) async fn revocation_interrupted_at_its_commit(
    stack: &Stack,
    people: &People,
    version: &str,
    calls: &mut Calls,
) {
    let file = format!("foo-{version}.tar.gz");
    let revoke = format!("/api/v1/projects/foo/releases/{version}/revoke");
    let reason = json!({"reason": "bad build"});
    let lifecycle = lifecycle_interrupted_at_its_commit(stack, people, calls, &revoke, reason.clone()).await;
    assert_eq!(stage(stack, version).await, "current");
    assert_eq!(keys_under(stack, &format!("current/foo/{version}/")).await, Vec::<String>::new(), "withdrawn");
    let stream_fn = start(stack, "Stream").await;
    let latest = format!("/current/foo/latest/{file}");
    let (status, body, _) = stream_fn.http(None, "GET", &latest, Value::Null).await;
    assert_eq!(status, 404, "no redirect to a withdrawn file: {body}");

    let (status, body, _) = lifecycle.http(Some(&people.rita), "POST", &revoke, reason).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(stage(stack, version).await, "revoked");
    let (status, body, _) = stream_fn.http(None, "GET", &format!("/current/foo/{version}/{file}"), Value::Null).await;
    assert_eq!(status, 410, "{body}");
    assert!(mail_sent(stack).await.iter().any(|s| s.starts_with(&format!("[REVOKED] foo {version}"))));
}

/// A promotion of `foo 1.4.0` that loses a race with its revocation: the promote function has
/// read the release (a candidate whose vote passed) and waits at its copy to `current/`; the
/// lifecycle function revokes the release meanwhile (withdrawing its public files, none yet);
/// the copy then places the file, the promotion's commit finds the release revoked and fails,
/// and the promote function withdraws what it placed, under `current/` and `archive/`.
pub(super) async fn promotion_racing_a_revocation(stack: &Stack, people: &People) {
    upload_and_verify(stack, &people.rita, "1.4.0", b"raced bytes").await;
    vote_passes(stack, people, "1.4.0").await;
    let task = request_promotion(&start(stack, "Promote").await, people, "1.4.0").await;
    let (reached_tx, reached) = oneshot::channel();
    let (open, gate) = oneshot::channel();
    let gate = Mutex::new(Some((reached_tx, gate)));
    let promote =
        start_with_blobs(stack, "Promote", |inner| Arc::new(Gated { inner, prefix: "current/foo/1.4.0/", gate })).await;
    let delivered = promote.deliver_queue_answers(stack, "PromoteQueue");
    tokio::pin!(delivered);
    tokio::select! {
        answers = &mut delivered => panic!("the promotion ended before its copy: {answers:?}"),
        reached = reached => reached.expect("the gate"),
    }
    let lifecycle = start(stack, "Lifecycle").await;
    let revoke = "/api/v1/projects/foo/releases/1.4.0/revoke";
    let (status, body, _) = lifecycle.http(Some(&people.rita), "POST", revoke, json!({"reason": "raced"})).await;
    assert_eq!(status, 200, "{body}");
    open.send(()).expect("the promotion waits at the gate");
    let answers = delivered.await;
    assert_eq!(answers.len(), 1, "{answers:?}");
    assert_eq!(answers[0]["batchItemFailures"], json!([]), "a refusal, settled: {}", answers[0]);
    let failed = task_state(stack, &task, "failed").await;
    assert_eq!(failed["result"]["code"], "not-a-candidate", "{failed}");
    assert_eq!(stage(stack, "1.4.0").await, "revoked");
    for segment in ["current", "archive"] {
        let left = keys_under(stack, &format!("{segment}/foo/1.4.0/")).await;
        assert_eq!(left, Vec::<String>::new(), "nothing of a revoked release is public");
    }
    assert!(mail_sent(stack).await.iter().any(|s| s.starts_with("[REVOKED] foo 1.4.0")));
}

/// The release files as one function sees them, with a gate: the first copy to a key under
/// `prefix` says so and waits until the test opens the gate, so that what another function
/// does meanwhile lands between the function's reads and its copy, as a race would have it.
/// (The promote function takes no upload in parts and signs no download URL: the trait's
/// defaults for those stand.)
struct Gated {
    inner: Arc<dyn BlobStore>,
    prefix: &'static str,
    gate: Mutex<Option<(oneshot::Sender<()>, oneshot::Receiver<()>)>>,
}

#[async_trait::async_trait]
impl BlobStore for Gated {
    async fn copy_if_absent(&self, from: &str, to: &str) -> Result<BlobMeta, BlobError> {
        let gate = if to.starts_with(self.prefix) { self.gate.lock().unwrap().take() } else { None };
        if let Some((reached, open)) = gate {
            reached.send(()).expect("the test waits for the copy");
            open.await.expect("the test opens the gate");
        }
        self.inner.copy_if_absent(from, to).await
    }
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

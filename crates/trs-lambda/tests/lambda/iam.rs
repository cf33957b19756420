//! Every function's code under its own IAM identity, carrying exactly its role's policy from
//! infra/template.json, on moto with IAM enforced (support/iam.rs): a request a policy does
//! not allow fails as it would on AWS (AccessDenied), and every request each identity made is
//! judged against the template's policy in full and compared with it both ways (no request
//! the policy does not allow, no permission no request used).
//!
//! The functions are built as their binaries build them (`trs_lambda::functions`) and given
//! the events Lambda gives them: API Gateway HTTP API requests, the SQS messages their queues
//! hold (received with the consuming function's role, as the event source mapping does), the
//! table's committed events as a stream batch, release-stream events from the bus.

mod interrupted;

use crate::support::fixture;
use crate::support::github_server::GitHubServer;
use crate::support::iam::{self, BUCKET, SITE_BUCKET, Stack};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use trs_app::test_support::{Actor, armored_public, new_cert, signed_headers_with_query};
use trs_app::{App, people, storage_keys, stream};
use trs_core::StreamId;
use trs_lambda::{Environment, Function, functions};
use trs_storage::BlobStore;
use trs_storage_aws::{DynamoItemStore, S3BlobStore};

/// A function started under its identity.
struct Running {
    env: Environment,
    function: Function,
}

async fn start(stack: &Stack, name: &str) -> Running {
    start_with_blobs(stack, name, |blobs| blobs).await
}

/// [`start`], the function's release files seen through `wrap` (a test's gate in front of them).
async fn start_with_blobs(
    stack: &Stack,
    name: &str,
    wrap: impl FnOnce(Arc<dyn BlobStore>) -> Arc<dyn BlobStore>,
) -> Running {
    let mut env = stack.environment(name).await;
    // Parts of S3's smallest size (which moto enforces when an upload completes), so that a
    // file of a few MiB is sent in parts.
    let (_, s3) = trs_storage_aws::clients(env.aws.as_ref().expect("the aws backend"), true);
    env.app.blobs = wrap(Arc::new(S3BlobStore::new(s3, BUCKET).with_client_part_size(MIN_PART as u64)));
    let build = match name {
        "Admin" => functions::admin,
        "Upload" => functions::upload,
        "Verify" => functions::verify,
        "Promote" => functions::promote,
        "Vote" => functions::vote,
        "Lifecycle" => functions::lifecycle,
        "Stream" => functions::stream,
        "PublishSite" => functions::publish_site,
        other => panic!("no function {other}"),
    };
    let function = build(&env).unwrap_or_else(|e| panic!("{name}: {e}"));
    Running { env, function }
}

impl Running {
    async fn invoke(&self, event: Value) -> Value {
        self.function.handle(LambdaEvent::new(event, Context::default())).await.expect("the invocation succeeds")
    }

    /// An HTTP API request (payload 2.0), signed by `actor` when given; the status and the
    /// answer (JSON when it is JSON, else the text), and the response headers.
    async fn http(&self, actor: Option<&Actor>, method: &str, uri: &str, body: Value) -> (u16, Value, Value) {
        let bytes = if body.is_null() { String::new() } else { body.to_string() };
        let (path, query) = uri.split_once('?').map_or((uri, None), |(p, q)| (p, Some(q)));
        let mut event = fixture("apigw-v2-post-upload.json");
        event["routeKey"] = format!("{method} {path}").into();
        event["rawPath"] = path.into();
        event["rawQueryString"] = query.unwrap_or_default().into();
        event["requestContext"]["routeKey"] = event["routeKey"].clone();
        event["requestContext"]["http"]["method"] = method.into();
        event["requestContext"]["http"]["path"] = path.into();
        event["pathParameters"] = json!({});
        let headers = event["headers"].as_object_mut().unwrap();
        headers.insert("content-length".into(), bytes.len().to_string().into());
        if let Some(actor) = actor {
            for (name, value) in signed_headers_with_query(actor, method, path, query, bytes.as_bytes()) {
                headers.insert(name.to_ascii_lowercase(), value.into());
            }
        }
        event["body"] = bytes.into();
        let answer = self.invoke(event).await;
        let text = answer["body"].as_str().unwrap_or_default();
        let body = serde_json::from_str(text).unwrap_or_else(|_| Value::from(text));
        (answer["statusCode"].as_u64().unwrap() as u16, body, answer["headers"].clone())
    }

    /// Delivers the messages waiting on the function's queue (`queue`, a logical id) as SQS
    /// events, one message per batch as the template's mappings are configured, received
    /// with the function's own role as Lambda's poller does; returns how many there were.
    async fn deliver_queue(&self, stack: &Stack, queue: &str) -> usize {
        let answers = self.deliver_queue_answers(stack, queue).await;
        for answer in &answers {
            assert_eq!(answer["batchItemFailures"], json!([]), "a task was not settled: {answer}");
        }
        answers.len()
    }

    /// [`Running::deliver_queue`], returning the function's answer to each message. As
    /// Lambda's event source mapping does, a message the answer settles (does not report) is
    /// deleted, with the function's role; a reported one stays and comes back after the
    /// queue's visibility timeout, which the test lets pass at once (the operator makes the
    /// message visible again): the next delivery from the queue retries it. (Left undeleted,
    /// a settled message would come back too: moto's queues hide a message for SQS's default
    /// 30 s, so a scenario running longer than that would see every earlier message delivered
    /// again; and a reported one would come back at a time the test does not choose.)
    async fn deliver_queue_answers(&self, stack: &Stack, queue: &str) -> Vec<Value> {
        let url = stack.physical.resolve(&json!({"Ref": queue}));
        let url = url.as_str().unwrap();
        let sqs = aws_sdk_sqs::Client::new(self.env.aws.as_ref().unwrap());
        let received =
            sqs.receive_message().queue_url(url).max_number_of_messages(10).wait_time_seconds(1).send().await.unwrap();
        let mut answers = Vec::new();
        for message in received.messages.unwrap_or_default() {
            let mut event = sqs_event(stack, queue, message.body().unwrap_or_default());
            event["Records"][0]["messageId"] = message.message_id().unwrap_or_default().into();
            event["Records"][0]["receiptHandle"] = message.receipt_handle().unwrap_or_default().into();
            let answer = self.invoke(event).await;
            let reported = answer["batchItemFailures"]
                .as_array()
                .is_some_and(|failures| failures.iter().any(|f| f["itemIdentifier"].as_str() == message.message_id()));
            let receipt = message.receipt_handle().unwrap_or_default();
            if reported {
                let root = aws_sdk_sqs::Client::new(&stack.root);
                let visible = root.change_message_visibility().queue_url(url).receipt_handle(receipt);
                stack.as_operator(async || visible.visibility_timeout(0).send().await.unwrap()).await;
            } else {
                sqs.delete_message().queue_url(url).receipt_handle(receipt).send().await.unwrap();
            }
            answers.push(answer);
        }
        answers
    }
}

/// An SQS event of one message from `queue` (a logical id) whose body is `body`, as Lambda's
/// poller hands it to the function the queue's mapping names.
fn sqs_event(stack: &Stack, queue: &str, body: &str) -> Value {
    let mut event = fixture("sqs-task.json");
    event["Records"].as_array_mut().unwrap().truncate(1);
    event["Records"][0]["body"] = body.into();
    event["Records"][0]["eventSourceARN"] = stack.physical.resolve(&json!({"Fn::GetAtt": [queue, "Arn"]}));
    event
}

/// An SDK-free view of the world for the test's own checks (root, IAM lifted).
fn operator_app(stack: &Stack) -> App {
    let (dynamo, s3) = trs_storage_aws::clients(&stack.root, true);
    App::new(Arc::new(DynamoItemStore::new(dynamo, iam::TABLE)), Arc::new(S3BlobStore::new(s3, BUCKET)))
}

async fn object_keys(stack: &Stack, bucket: &str, prefix: &str) -> Vec<String> {
    let (_, s3) = trs_storage_aws::clients(&stack.root, true);
    let listed = s3.list_objects_v2().bucket(bucket).prefix(prefix).send().await.unwrap();
    listed.contents().iter().filter_map(|o| o.key().map(str::to_string)).collect()
}

async fn object_text(stack: &Stack, bucket: &str, key: &str) -> String {
    let (_, s3) = trs_storage_aws::clients(&stack.root, true);
    let object = s3.get_object().bucket(bucket).key(key).send().await.unwrap();
    String::from_utf8(object.body.collect().await.unwrap().into_bytes().to_vec()).unwrap()
}

const RELEASE: &str = "/api/v1/projects/foo/releases/1.0.0";
const MIN_PART: usize = trs_storage_aws::MIN_PART_SIZE;
const FILE: &str = "foo-1.0.0.tar.gz";

/// The people of the scenario: ada, the first admin (bootstrapped by the operator) and the
/// committee; rita, release manager of project foo.
struct People {
    ada: Actor,
    rita: Actor,
}

/// The operator's bootstrap, then the admin function: rita, project foo, a policy that lets
/// one binding +1 pass a vote at once.
async fn people_and_project(stack: &Stack) -> People {
    let tsk = new_cert("Ada <ada@example.org>");
    let ada =
        people::NewPerson { uid: "ada".parse().unwrap(), name: None, email: None, certificate: armored_public(&tsk) };
    let person = stack.as_operator(async || people::bootstrap_admin(&operator_app(stack), ada).await.unwrap()).await;
    let ada = Actor { person, tsk };

    let admin = start(stack, "Admin").await;
    let rita_tsk = new_cert("Rita <rita@example.org>");
    let certificate = String::from_utf8(armored_public(&rita_tsk)).unwrap();
    let (status, person, _) =
        admin.http(Some(&ada), "POST", "/api/v1/people", json!({"uid": "rita", "certificate": certificate})).await;
    assert_eq!(status, 201, "{person}");
    let rita = Actor { person: serde_json::from_value(person).unwrap(), tsk: rita_tsk };
    let project = json!({"name": "foo", "members": ["ada"], "release_managers": ["rita"]});
    let (status, body, _) = admin.http(Some(&ada), "POST", "/api/v1/projects", project).await;
    assert_eq!(status, 201, "{body}");
    // auto_close_votes: a vote also schedules its closing (an item the lifecycle tick reads),
    // which its close removes.
    let policy = json!({"min_vote_hours": 0, "min_binding": 1, "strict": false, "auto_close_votes": true});
    let (status, body, _) = admin.http(Some(&ada), "POST", "/api/v1/projects/foo/policy", policy).await;
    assert_eq!(status, 200, "{body}");
    let (status, keys, _) = admin.http(None, "GET", "/api/v1/projects/foo/KEYS", Value::Null).await;
    assert_eq!(status, 200, "{keys}");
    let mail = json!({"vote_to": ["dev@foo.example"], "announce_to": ["announce@foo.example"], "from": iam::MAIL_FROM});
    let (status, body, _) = admin.http(Some(&rita), "POST", "/api/v1/projects/foo/mail", mail).await;
    assert_eq!(status, 200, "{body}");
    People { ada, rita }
}

/// The upload function starts an upload, the client sends the bytes to the presigned URL,
/// the upload function commits; the verify function runs the queued verification.
async fn upload_and_verify(stack: &Stack, rita: &Actor, version: &str, bytes: &[u8]) {
    let task = upload(stack, rita, version, bytes).await;
    let verify = start(stack, "Verify").await;
    assert_eq!(verify.deliver_queue(stack, "VerifyQueue").await, 1, "one verify task announced");
    assert_task_done(&verify, &task).await;
}

/// The task, read through `function`'s `GET /api/v1/tasks/ID`, is done.
async fn assert_task_done(function: &Running, task: &str) {
    let (status, task, _) = function.http(None, "GET", &format!("/api/v1/tasks/{task}"), Value::Null).await;
    assert_eq!((status, task["state"].as_str()), (200, Some("done")), "{task}");
}

/// The upload function's start and commit of one file, its bytes sent to the presigned URL
/// in between; returns the verify task the commit queued.
async fn upload(stack: &Stack, rita: &Actor, version: &str, bytes: &[u8]) -> String {
    let upload = start(stack, "Upload").await;
    let file = format!("foo-{version}.tar.gz");
    let commit_task = start_send_and_commit(&upload, rita, version, &[(&file, bytes)], 1).await;
    // The commit runs as a task, from the commit queue, under the upload function's role.
    assert_eq!(upload.deliver_queue(stack, "CommitQueue").await, 1, "one commit task announced");
    let committed = task_state(stack, &commit_task, "done").await;
    let release = format!("/api/v1/projects/foo/releases/{version}");
    let (status, body, _) = upload.http(None, "GET", &release, Value::Null).await;
    assert_eq!(status, 200, "{body}");
    committed["result"]["task"].as_str().expect("the commit queued a verification").to_string()
}

/// The upload function starts an upload of `files` (name, bytes), the client sends the bytes
/// of the first `sent` of them to their presigned URLs, and the upload function is asked to
/// commit: it answers at once, 202 with the commit task (its id is the upload's) and the
/// task's status URL. Returns the task's id.
async fn start_send_and_commit(
    upload: &Running,
    rita: &Actor,
    version: &str,
    files: &[(&str, &[u8])],
    sent: usize,
) -> String {
    let declared: Vec<(&str, usize)> = files.iter().map(|(path, bytes)| (*path, bytes.len())).collect();
    let started = start_upload(upload, rita, version, &declared).await;
    for (i, (_, bytes)) in files.iter().enumerate().take(sent) {
        let target = &started["files"][i]["upload"];
        let mut put = reqwest::Client::new().put(target["url"].as_str().unwrap()).body(bytes.to_vec());
        for pair in target["headers"].as_array().unwrap() {
            put = put.header(pair[0].as_str().unwrap(), pair[1].as_str().unwrap());
        }
        let sent = put.send().await.unwrap();
        assert!(sent.status().is_success(), "the presigned PUT: {}", sent.status());
    }
    let id = started["id"].as_str().unwrap();
    let (status, task, headers) =
        upload.http(Some(rita), "POST", &format!("/api/v1/uploads/{id}/commit"), json!({})).await;
    assert_eq!(status, 202, "{task}");
    assert_eq!((task["id"].as_str(), task["kind"].as_str()), (Some(id), Some("commit")), "{task}");
    assert_eq!(headers["location"], format!("/api/v1/tasks/{id}"));
    id.to_string()
}

/// The upload function's answer to the start of an upload of `declared` files (path, size) to
/// `foo` `version`.
async fn start_upload(upload: &Running, rita: &Actor, version: &str, declared: &[(&str, usize)]) -> Value {
    let files: Vec<Value> = declared.iter().map(|(path, size)| json!({"path": path, "size": size})).collect();
    let uploads = format!("/api/v1/projects/foo/releases/{version}/uploads");
    let (status, started, _) = upload.http(Some(rita), "POST", &uploads, json!({"files": files})).await;
    assert_eq!(status, 201, "{started}");
    started
}

/// Asks the upload function to commit upload `id` with `body` (202 at once), runs the commit
/// task from the commit queue under its role, and answers the task, which is then in `state`.
async fn commit_and_run(stack: &Stack, upload: &Running, rita: &Actor, id: &str, body: Value, state: &str) -> Value {
    let (status, task, _) = upload.http(Some(rita), "POST", &format!("/api/v1/uploads/{id}/commit"), body).await;
    assert_eq!(status, 202, "{task}");
    assert_eq!(upload.deliver_queue(stack, "CommitQueue").await, 1);
    task_state(stack, id, state).await
}

/// The task, read through the status URL the commit answered with (`GET /api/v1/tasks/ID`,
/// the verify function's route), is in `state`; returns it.
async fn task_state(stack: &Stack, task: &str, state: &str) -> Value {
    let verify = start(stack, "Verify").await;
    let (status, task, _) = verify.http(None, "GET", &format!("/api/v1/tasks/{task}"), Value::Null).await;
    assert_eq!((status, task["state"].as_str()), (200, Some(state)), "{task}");
    task
}

/// The vote function opens, takes ada's +1, shows and closes the vote; the promote function
/// queues the promotion and runs it from its queue.
async fn vote_and_promote(stack: &Stack, people: &People, version: &str) {
    vote_passes(stack, people, version).await;
    let promote = start(stack, "Promote").await;
    let task = request_promotion(&promote, people, version).await;
    assert_eq!(promote.deliver_queue(stack, "PromoteQueue").await, 1, "the promotion");
    task_state(stack, &task, "done").await;
    // The [ANNOUNCE] it queued (and an archiving's notice) run too; the announcement waits.
    assert!(promote.deliver_queue(stack, "PromoteQueue").await >= 1, "the promotion's mail");
    assert_announce_held_back(stack, version).await;
}

/// The promote function, asked by rita to promote `foo VERSION`, queues the promotion; its task.
async fn request_promotion(promote: &Running, people: &People, version: &str) -> String {
    let path = format!("/api/v1/projects/foo/releases/{version}/promote");
    let (status, task, _) = promote.http(Some(&people.rita), "POST", &path, json!({})).await;
    assert_eq!(status, 202, "{task}");
    task["id"].as_str().expect("the promotion's task").to_string()
}

/// The vote function opens, takes ada's +1, shows and closes the vote on `foo VERSION`; the
/// promote function sends its [VOTE] and [RESULT] mails.
async fn vote_passes(stack: &Stack, people: &People, version: &str) {
    let vote = start(stack, "Vote").await;
    let path = format!("/api/v1/projects/foo/releases/{version}/vote");
    let (status, body, _) = vote.http(Some(&people.rita), "POST", &path, json!({})).await;
    assert_eq!(status, 201, "{body}");
    let (status, body, _) =
        vote.http(Some(&people.ada), "POST", &format!("{path}/ballots"), json!({"value": "+1"})).await;
    assert!(status == 200 || status == 201, "{status} {body}");
    let (status, body, _) = vote.http(None, "GET", &path, Value::Null).await;
    assert_eq!(status, 200, "{body}");
    let (status, body, _) = vote.http(None, "GET", &format!("{path}/email"), Value::Null).await;
    assert_eq!(status, 200, "{body}");
    let (status, closed, _) = vote.http(Some(&people.rita), "POST", &format!("{path}/close"), json!({})).await;
    assert_eq!(status, 200, "{closed}");

    let promote = start(stack, "Promote").await;
    // The [VOTE] and [RESULT] mails' tasks ride the promote queue and run under its role,
    // which sends them through SES (moto keeps what it accepted).
    let sent_before = stack.moto.sent_mail().len();
    assert_eq!(promote.deliver_queue(stack, "PromoteQueue").await, 2, "two mail tasks announced");
    let sent = stack.moto.sent_mail();
    assert_eq!(sent.len(), sent_before + 2, "{sent:#?}");
    for (mail, subject) in sent[sent_before..].iter().zip(["[VOTE] Release foo", "[RESULT] [VOTE] Release foo"]) {
        let raw = mail["raw_data"].as_str().unwrap();
        assert!(raw.contains(&format!("Subject: {subject} {version} (revision ")), "{raw}");
        assert!(raw.contains("Message-ID: <"), "the message as trs built it: {raw}");
        assert_eq!(mail["source"], iam::MAIL_FROM);
    }
}

/// The [ANNOUNCE] of `foo VERSION` is queued, held back: its files are not at the download URL
/// (the distribution's domain is a loopback port nothing serves).
async fn assert_announce_held_back(stack: &Stack, version: &str) {
    let project = "foo".parse().unwrap();
    let mails = stack.as_operator(async || trs_app::mail::log(&operator_app(stack), &project).await.unwrap()).await;
    let announce = mails
        .iter()
        .find(|m| m.kind == trs_app::mail::MailKind::Announce && m.release.version.as_str() == version)
        .unwrap_or_else(|| panic!("an [ANNOUNCE] of {version}: {mails:#?}"));
    assert_eq!(announce.state, trs_app::mail::MailState::Queued, "{announce:#?}");
    let url = format!("https://127.0.0.1:9/current/foo/{version}/");
    assert!(announce.waiting.as_deref().unwrap_or_default().contains(&url), "{announce:#?}");
}

/// The committed events of project foo as the table's change stream delivers them (INSERTs
/// of `event#` items, the template's filter).
async fn stream_batch(stack: &Stack) -> Value {
    let project = StreamId::Project("foo".parse().unwrap());
    let events =
        stack.as_operator(async || stream::all_events_raw(&operator_app(stack), &project).await.unwrap()).await;
    let template = fixture("dynamodb-stream-events.json")["Records"][0].clone();
    let records: Vec<Value> = events
        .iter()
        .enumerate()
        .map(|(n, event)| {
            let sk = storage_keys::stream_event(&project, event["seq"].as_u64().unwrap()).sk;
            let mut record = template.clone();
            record["dynamodb"]["Keys"]["sk"]["S"] = sk.clone().into();
            record["dynamodb"]["NewImage"]["sk"]["S"] = sk.into();
            record["dynamodb"]["NewImage"]["body"]["S"] = event.to_string().into();
            record["dynamodb"]["SequenceNumber"] = format!("{:018}", n + 1).into();
            record
        })
        .collect();
    json!({"Records": records})
}

/// `trs import` of `foo VERSION` as deployed, one file signed by rita with its `.asc` and
/// `.sha512` (`good_signature: false` signs other bytes): the upload function starts the
/// import and takes the bytes the store lacks, then is asked to commit (202, the task); its
/// first phase runs from the commit queue under the upload role (the files to their content
/// addresses) and hands the task on to the promote queue, whose function verifies and
/// publishes under the promote role. Returns the task as it ended.
async fn import(stack: &Stack, people: &People, version: &str, stage: &str, good_signature: bool) -> Value {
    use trs_auth::RequestSigner;
    let name = format!("foo-{version}.tar.gz");
    let bytes = format!("imported bytes of {version}").into_bytes();
    let signed = if good_signature { bytes.clone() } else { b"other bytes".to_vec() };
    let asc = people.rita.signer().sign_detached(&signed).unwrap();
    let sum = format!("{}  {name}\n", sha512_hex(&bytes));
    let files = [(name.clone(), bytes), (format!("{name}.asc"), asc), (format!("{name}.sha512"), sum.into_bytes())];
    let declared: Vec<Value> =
        files.iter().map(|(path, b)| json!({"path": path, "size": b.len(), "sha512": sha512_hex(b)})).collect();
    let upload = start(stack, "Upload").await;
    let start_import = json!({"stage": stage, "released_at": 1_600_000_000, "files": declared});
    let path = format!("/api/v1/projects/foo/releases/{version}/import");
    let (status, started, _) = upload.http(Some(&people.ada), "POST", &path, start_import).await;
    assert_eq!(status, 201, "{started}");
    for target in started["uploads"].as_array().unwrap() {
        let (_, bytes) = files.iter().find(|(p, _)| *p == target["path"]).unwrap();
        let mut put = reqwest::Client::new().put(target["upload"]["url"].as_str().unwrap()).body(bytes.clone());
        for pair in target["upload"]["headers"].as_array().unwrap() {
            put = put.header(pair[0].as_str().unwrap(), pair[1].as_str().unwrap());
        }
        assert!(put.send().await.unwrap().status().is_success(), "the presigned PUT");
    }
    let id = started["id"].as_str().unwrap();
    let (status, task, headers) =
        upload.http(Some(&people.ada), "POST", &format!("/api/v1/imports/{id}/commit"), json!({})).await;
    assert_eq!(status, 202, "{task}");
    assert_eq!((task["kind"].as_str(), task["phase"].as_str()), (Some("import"), Some("store")), "{task}");
    assert_eq!(headers["location"], format!("/api/v1/tasks/{id}"));
    assert_eq!(upload.deliver_queue(stack, "CommitQueue").await, 1, "the store phase");
    let handed_on = task_state(stack, id, "queued").await;
    assert_eq!(handed_on["phase"], "publish", "{handed_on}");
    assert_eq!(upload.deliver_queue(stack, "CommitQueue").await, 0, "the hand-off settled its message");
    // SQS delivers at least once: a late copy of the store phase's message, now that the task
    // is the promote queue's, is settled and runs nothing under the upload role.
    let late = upload.invoke(sqs_event(stack, "CommitQueue", id)).await;
    assert_eq!(late["batchItemFailures"], json!([]), "the late copy is settled: {late}");
    assert_eq!(task_state(stack, id, "queued").await["phase"], "publish", "the publish phase is left to promote");
    let promote = start(stack, "Promote").await;
    assert_eq!(promote.deliver_queue(stack, "PromoteQueue").await, 1, "the publish phase");
    let verify = start(stack, "Verify").await;
    let (status, task, _) = verify.http(None, "GET", &format!("/api/v1/tasks/{id}"), Value::Null).await;
    assert_eq!(status, 200, "{task}");
    task
}

/// The SHA-512 of `bytes` in hex, as `sha512sum` prints it.
fn sha512_hex(bytes: &[u8]) -> String {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("sha512sum").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "sha512sum");
    String::from_utf8(out.stdout).unwrap().split_whitespace().next().unwrap().to_string()
}

/// Imports `foo 0.9.0` (current) and `foo 0.8.0` (archived) under the roles; a release whose
/// signature fails is refused by the publish phase, nothing of it public.
async fn import_history(stack: &Stack, people: &People) {
    for (version, stage, segment) in [("0.9.0", "current", "current"), ("0.8.0", "archived", "archive")] {
        let task = import(stack, people, version, stage, true).await;
        assert_eq!(task["state"], "done", "{task}");
        assert_eq!(
            (task["result"]["already_imported"].as_bool(), task["result"]["files"].as_u64()),
            (Some(false), Some(3))
        );
        let public =
            stack.as_operator(async || object_keys(stack, BUCKET, &format!("{segment}/foo/{version}/")).await).await;
        let name = format!("{segment}/foo/{version}/foo-{version}.tar.gz");
        assert_eq!(public, [name.clone(), format!("{name}.asc"), format!("{name}.sha512")]);
    }
    let task = import(stack, people, "0.7.0", "current", false).await;
    assert_eq!(
        (task["state"].as_str(), &task["result"]),
        (Some("failed"), &json!({"code": "import-refused", "status": 400, "message": task["error"]}))
    );
    assert!(task["error"].as_str().unwrap().contains("foo-0.7.0.tar.gz: signature"), "{task}");
    let public = stack.as_operator(async || object_keys(stack, BUCKET, "current/foo/0.7.0/").await).await;
    assert_eq!(public, Vec::<String>::new(), "nothing of a refused import is public");
}

/// The stream function forwards the committed events to the bus; the publish-site function
/// publishes what the newest one changed.
async fn forward_and_publish(stack: &Stack) {
    let stream_fn = start(stack, "Stream").await;
    let answer = stream_fn.invoke(stream_batch(stack).await).await;
    assert_eq!(answer["batchItemFailures"], json!([]), "{answer}");
    let sqs = aws_sdk_sqs::Client::new(&stack.root);
    let envelopes = stack.as_operator(async || trs_messaging_aws::testing::bodies(&sqs, &stack.subscriber).await).await;
    assert!(!envelopes.is_empty(), "the events reached the bus");

    let site = start(stack, "PublishSite").await;
    for envelope in &envelopes {
        let envelope: Value = serde_json::from_str(envelope).unwrap();
        let mut event = fixture("eventbridge-release-stream.json");
        event["detail"] = envelope["detail"].clone();
        let report = site.invoke(event).await;
        assert!(report["objects_written"].is_u64(), "{report}");
    }
    let pages = stack.as_operator(async || object_keys(stack, SITE_BUCKET, "projects/foo/").await).await;
    assert!(!pages.is_empty(), "pages in the site bucket");
    // The site names itself under the distribution's domain, as the template configures the
    // function: the feed's ids and links are absolute there (RFC 4287), not `urn:trs:` names
    // every installation shares.
    let origin = stack.physical.resolve(&json!({"Fn::Sub": "https://${Distribution.DomainName}"}));
    let origin = origin.as_str().unwrap();
    let feed = stack.as_operator(async || object_text(stack, SITE_BUCKET, "projects/foo/feed.xml").await).await;
    assert!(feed.contains(&format!(r#"<link rel="self" href="{origin}/projects/foo/feed.xml"/>"#)), "{feed}");
    assert!(feed.contains(&format!("<id>{origin}/projects/foo/releases/1.0.0/</id>")), "{feed}");
    assert!(!feed.contains("urn:trs:"), "{feed}");
}

/// The publish-site function publishes the newest event of project foo, as the bus would
/// deliver it (the bus's test queue hands back an arbitrary ten of its messages).
async fn publish_newest(stack: &Stack) {
    let project = StreamId::Project("foo".parse().unwrap());
    let events =
        stack.as_operator(async || stream::all_events_raw(&operator_app(stack), &project).await.unwrap()).await;
    let mut event = fixture("eventbridge-release-stream.json");
    event["detail"] = events.last().unwrap().clone();
    let report = start(stack, "PublishSite").await.invoke(event).await;
    assert!(report["objects_written"].is_u64(), "{report}");
}

/// The stream function's read side: events, views, history, exports.
async fn stream_views(stack: &Stack) {
    let stream_fn = start(stack, "Stream").await;
    for path in [
        "/api/v1/events?project=foo",
        "/api/v1/events/verify?project=foo",
        "/api/v1/releases",
        "/api/v1/projects/foo/releases",
        "/api/v1/projects/foo/states",
        "/api/v1/projects/foo/releases/1.0.0/history",
        "/api/v1/projects/foo/cle",
        "/api/v1/projects/foo/endoflife.json",
    ] {
        let (status, body, _) = stream_fn.http(None, "GET", path, Value::Null).await;
        assert_eq!(status, 200, "{path}: {body}");
    }
}

/// Everything [`Stack::judge`] finds wrong with the calls each function made.
fn problems(stack: &Stack, calls: &BTreeMap<&'static str, Vec<trs_storage_aws::moto::Call>>) -> Vec<String> {
    let mut out = Vec::new();
    for (function, calls) in calls {
        for problem in stack.judge(function, calls) {
            out.push(format!("{function}: {problem}"));
        }
    }
    out
}

/// The scenario: every function's paths under its role, including those only a failed,
/// repeated or raced run takes ([`interrupted`]), so that each permission of every role is
/// used by some request here: the check at its end names any that none used (and any request
/// a role does not allow).
#[test]
fn every_function_runs_its_paths_under_its_own_role() {
    // One future of many steps, each running a function's handler in-process: boxed, its
    // state lives on the heap, but a debug build's poll frames of so many nested steps still
    // outgrew a test thread's 2 MiB stack (a stack overflow). Its own thread with room for them.
    let test = std::thread::Builder::new().stack_size(16 << 20).spawn(|| {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(Box::pin(every_function_runs_its_paths()))
    });
    test.unwrap().join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
}

async fn every_function_runs_its_paths() {
    let stack = Stack::start(&json!({})).await;
    let mut calls = interrupted::Calls::new();
    let people = people_and_project(&stack).await;
    key_added_and_removed(&stack, &people).await;
    upload_and_verify(&stack, &people.rita, "1.0.0", b"release bytes").await;
    vote_and_promote(&stack, &people, "1.0.0").await;
    let public = stack.as_operator(async || object_keys(&stack, BUCKET, "current/foo/1.0.0/").await).await;
    assert_eq!(public, [format!("current/foo/1.0.0/{FILE}")]);
    latest_redirects(&stack).await;
    import_history(&stack, &people).await;
    forward_and_publish(&stack).await;
    stream_views(&stack).await;

    // A commit whose bytes never arrived: its task, run by the upload function from the
    // commit queue, finds the staged object missing (a 404, which S3 gives only to a role that
    // may list the bucket) and fails with the refusal's code and status; no revision is made.
    // Asked for again, the failed commit is queued again (the same task) and fails again.
    let upload = start(&stack, "Upload").await;
    let missing = [("foo-1.1.0.tar.gz", b"abc".as_slice())];
    let task = start_send_and_commit(&upload, &people.rita, "1.1.0", &missing, 0).await;
    for _ in 0..2 {
        assert_eq!(upload.deliver_queue(&stack, "CommitQueue").await, 1, "the commit task, settled");
        let failed = task_state(&stack, &task, "failed").await;
        assert_eq!(
            failed["result"],
            json!({"code": "file-not-uploaded", "status": 400, "message": failed["error"]}),
            "{failed}"
        );
        let (status, body, _) = upload.http(None, "GET", "/api/v1/projects/foo/releases/1.1.0", Value::Null).await;
        assert_eq!(status, 404, "no partial revision: {body}");
        let commit = format!("/api/v1/uploads/{task}/commit");
        let (status, again, _) = upload.http(Some(&people.rita), "POST", &commit, json!({})).await;
        assert_eq!((status, again["id"].as_str(), again["state"].as_str()), (202, Some(task.as_str()), Some("queued")));
    }
    assert_eq!(upload.deliver_queue(&stack, "CommitQueue").await, 1, "the last request's announcement");

    // A draft: private (its candidate URL is a 404 under the stream role), discarded by the
    // upload function, and its page deleted by the publisher.
    upload_and_verify(&stack, &people.rita, "1.2.0", b"draft bytes").await;
    publish_newest(&stack).await;
    let draft_pages = async || object_keys(&stack, SITE_BUCKET, "projects/foo/releases/1.2.0/").await;
    let release = "projects/foo/releases/1.2.0";
    let listed = [format!("{release}/SHA512SUMS"), format!("{release}/files.json"), format!("{release}/index.html")];
    assert_eq!(stack.as_operator(draft_pages).await, listed, "the draft's page, and its file lists (empty)");
    let files = stack.as_operator(async || object_text(&stack, SITE_BUCKET, &listed[1]).await).await;
    assert!(!files.contains("foo-1.2.0.tar.gz"), "a draft's files.json names no file: {files}");
    let stream_fn = start(&stack, "Stream").await;
    let (status, body, _) = stream_fn.http(None, "GET", "/candidate/foo/1.2.0/foo-1.2.0.tar.gz", Value::Null).await;
    assert_eq!(status, 404, "{body}");
    let discard = "/api/v1/projects/foo/releases/1.2.0/discard";
    let (status, body, _) = upload.http(Some(&people.rita), "POST", discard, json!({})).await;
    assert_eq!(status, 200, "{body}");
    publish_newest(&stack).await;
    assert_eq!(stack.as_operator(draft_pages).await, Vec::<String>::new(), "the draft's page and lists are gone");

    let lifecycle = start(&stack, "Lifecycle").await;
    // Entering a state twice: the second time changes nothing but is recorded, its event
    // written with a check that the release is unchanged (no write of it).
    for already_held in [false, true] {
        let (status, body, _) =
            lifecycle.http(Some(&people.rita), "POST", &format!("{RELEASE}/states/lts"), json!({})).await;
        assert!(status == 200 || status == 201, "{status} {body}");
        assert_eq!(body["already_held"], already_held, "{body}");
    }
    // An end-of-life date, then another: the first one's scheduled item is replaced. The
    // scheduled tick (the lifecycle role's query of what is due) finds nothing due at the
    // first date, and applies the second.
    const EOL: [i64; 2] = [1_900_000_000, 1_900_086_400];
    for date in EOL {
        let dates = json!({"end_of_life": date});
        let (status, body, _) = lifecycle.http(Some(&people.rita), "POST", &format!("{RELEASE}/eol"), dates).await;
        assert!(status == 200 || status == 201, "{status} {body}");
    }
    let report = scheduled_run(&stack, EOL[0]).await.unwrap();
    assert_eq!(report["items"], json!([]), "{report}");
    let report = scheduled_run(&stack, EOL[1]).await.unwrap();
    let applied = json!([{"outcome": "end-of-life", "release": "foo/1.0.0"}]);
    assert_eq!(report["items"][0]["outcomes"], applied, "{report}");
    interrupted::archive_interrupted_at_its_commit(&stack, &people, "1.0.0", &mut calls).await;
    interrupted::promotion_and_its_archiving_interrupted(&stack, &people, &mut calls).await;
    interrupted::promotion_racing_a_revocation(&stack, &people).await;
    interrupted::revocation_interrupted_at_its_commit(&stack, &people, "1.3.0", &mut calls).await;
    sent_in_parts_and_resumed(&stack, &people, "2.0.0").await;
    arrived_short_and_sent_again(&stack, &people, "2.1.0").await;

    assert_eq!(interrupted::gather(&stack, &mut calls), Vec::<String>::new(), "no request denied");
    let found = problems(&stack, &calls);
    assert!(found.is_empty(), "requests the roles do not allow:\n{}", found.join("\n"));
    let unused_of = |function: &str| {
        let mut requests: Vec<iam::Request> =
            calls.get(function).into_iter().flatten().flat_map(iam::requests_of).collect();
        requests.extend(iam::service_requests(&stack.physical, &stack.template, function));
        iam::unused(&stack.policies[function], &requests)
    };
    let unused: Vec<String> = iam::FUNCTIONS
        .iter()
        .flat_map(|function| unused_of(function).into_iter().map(move |permission| format!("{function}: {permission}")))
        .collect();
    assert!(unused.is_empty(), "permissions no request used:\n{}", unused.join("\n"));
}

/// `latest` of `foo 1.0.0`'s file, under the stream role: a HEAD of the current object, and a
/// redirect to it.
async fn latest_redirects(stack: &Stack) {
    let stream_fn = start(stack, "Stream").await;
    let (status, body, headers) =
        stream_fn.http(None, "GET", &format!("/current/foo/latest/{FILE}"), Value::Null).await;
    assert_eq!(status, 302, "{body}");
    assert_eq!(headers["location"], format!("/current/foo/1.0.0/{FILE}"));
}

/// The admin function: ada registers a second key for rita, which the project's KEYS file
/// then lists, and removes it again (it signed nothing); KEYS lists it no more.
async fn key_added_and_removed(stack: &Stack, people: &People) {
    let admin = start(stack, "Admin").await;
    let certificate = String::from_utf8(armored_public(&new_cert("Rita <rita@example.org>"))).unwrap();
    let (status, key, _) =
        admin.http(Some(&people.ada), "POST", "/api/v1/keys", json!({"uid": "rita", "certificate": certificate})).await;
    assert_eq!(status, 201, "{key}");
    let armored = key["armored"].as_str().expect("the registered key");
    let keys_file = async || admin.http(None, "GET", "/api/v1/projects/foo/KEYS", Value::Null).await.1;
    assert!(keys_file().await.as_str().unwrap().contains(armored), "KEYS lists the second key");
    let path = format!("/api/v1/keys/{}", key["fingerprint"].as_str().unwrap());
    let (status, removed, _) = admin.http(Some(&people.ada), "DELETE", &path, Value::Null).await;
    assert_eq!((status, &removed["fingerprint"]), (200, &key["fingerprint"]), "{removed}");
    assert!(!keys_file().await.as_str().unwrap().contains(armored), "KEYS lists it no more");
}

/// Uploaded, verified, voted and promoted: `foo 1.0.0` is current, every function involved
/// ran under its role. The calls so far are judged (and dropped from the trace).
async fn current_release(stack: &Stack) -> People {
    let people = people_and_project(stack).await;
    upload_and_verify(stack, &people.rita, "1.0.0", b"release bytes").await;
    vote_and_promote(stack, &people, "1.0.0").await;
    let found = problems(stack, &stack.calls_by_function());
    assert!(found.is_empty(), "requests the roles do not allow:\n{}", found.join("\n"));
    people
}

/// The judge's findings for the calls made since the last look.
fn findings(stack: &Stack) -> Vec<String> {
    problems(stack, &stack.calls_by_function())
}

#[tokio::test]
async fn a_permission_taken_from_a_role_is_access_denied() {
    let stack = Stack::start(&json!({})).await;
    let people = people_and_project(&stack).await;
    // The upload role without s3:PutObject on files/*: the commit's copy into the
    // content-addressed files is refused by moto, as IAM would refuse it.
    let mut policy = stack.policies["Upload"].clone();
    for statement in policy["Statement"].as_array_mut().unwrap() {
        if statement["Resource"].to_string().contains("/files/*") {
            let actions = statement["Action"].as_array_mut().unwrap();
            actions.retain(|a| a != "s3:PutObject");
        }
    }
    stack.moto.set_policy("Upload", &iam::for_moto(&policy));
    stack.calls_by_function();

    // The commit is asked for (202) and its task fails to copy; a backend fault, so the task
    // goes back to the queue and its message is reported for redelivery: no revision.
    let upload = start(&stack, "Upload").await;
    let task = start_send_and_commit(&upload, &people.rita, "1.0.0", &[(FILE, b"bytes")], 1).await;
    let answers = upload.deliver_queue_answers(&stack, "CommitQueue").await;
    assert_eq!(answers.len(), 1);
    assert_ne!(answers[0]["batchItemFailures"], json!([]), "the message comes back: {}", answers[0]);
    let queued = task_state(&stack, &task, "queued").await;
    assert!(queued["error"].as_str().unwrap().contains("interrupted"), "{queued}");
    let (status, body, _) = upload.http(None, "GET", RELEASE, Value::Null).await;
    assert_eq!(status, 404, "no partial revision: {body}");

    let calls = stack.calls_by_function();
    let denied: Vec<String> = calls["Upload"]
        .iter()
        .filter(|c| c.outcome.starts_with("denied"))
        .map(|c| format!("{} {}", c.action, c.resource))
        .collect();
    assert!(
        !denied.is_empty() && denied.iter().all(|d| d.starts_with("PutObject arn:aws:s3:::trs-files/files/")),
        "moto denied exactly the writes to files/: {denied:?}"
    );
    // The judge, holding the template's unchanged policy, has nothing against the calls.
    let judged = iam::judge(&stack.policies["Upload"], &calls["Upload"]);
    assert!(judged.iter().all(|p| p.starts_with("moto denied")), "{judged:?}");

    // What moto cannot see, the judge does: a write outside the role's key space.
    let mut write = calls["Upload"][0].clone();
    write.service = "dynamodb".into();
    write.action = "PutItem".into();
    write.outcome = "allowed".into();
    write.body = Some(json!({"TableName": iam::TABLE, "Item": {"pk": {"S": "project#foo"}}}).to_string());
    let narrowed = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "dynamodb:PutItem",
        "Resource": format!("arn:aws:dynamodb:us-east-1:123456789012:table/{}", iam::TABLE),
        "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["upload#*"]}},
    }]});
    let judged = iam::judge(&narrowed, &[write]);
    assert_eq!(judged.len(), 1, "{judged:?}");
    assert!(judged[0].contains("dynamodb:PutItem on arn:aws:dynamodb:us-east-1:123456789012:table/trs-items [dynamodb:LeadingKeys=project#foo]"), "{judged:?}");
}

#[tokio::test]
async fn latest_redirects_under_the_stream_role() {
    let stack = Stack::start(&json!({})).await;
    current_release(&stack).await;
    latest_redirects(&stack).await;
    let found = findings(&stack);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[tokio::test]
async fn the_candidate_redirect_is_presigned_by_a_role_that_may_read_the_file() {
    let stack = Stack::start(&json!({})).await;
    let people = people_and_project(&stack).await;
    upload_and_verify(&stack, &people.rita, "1.0.0", b"candidate bytes").await;
    let stream_fn = start(&stack, "Stream").await;
    // A draft is private: no redirect before a vote opens.
    let (status, body, _) = stream_fn.http(None, "GET", &format!("/candidate/foo/1.0.0/{FILE}"), Value::Null).await;
    assert_eq!(status, 404, "{body}");
    let vote = start(&stack, "Vote").await;
    let (status, body, _) =
        vote.http(Some(&people.rita), "POST", "/api/v1/projects/foo/releases/1.0.0/vote", json!({})).await;
    assert_eq!(status, 201, "{body}");
    stack.calls_by_function();
    let (status, body, headers) =
        stream_fn.http(None, "GET", &format!("/candidate/foo/1.0.0/{FILE}"), Value::Null).await;
    assert_eq!(status, 302, "{body}");
    // A client follows it; moto serves presigned URLs without checking them, the judge
    // checks the signer's policy.
    let fetched = reqwest::get(headers["location"].as_str().unwrap()).await.unwrap();
    assert!(fetched.status().is_success());
    let found = findings(&stack);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[tokio::test]
async fn promote_with_archive_previous_archives_under_the_promote_role() {
    let stack = Stack::start(&json!({})).await;
    let people = current_release(&stack).await;
    let admin = start(&stack, "Admin").await;
    let policy = json!({"archive_previous": true});
    let (status, body, _) = admin.http(Some(&people.ada), "POST", "/api/v1/projects/foo/policy", policy).await;
    assert_eq!(status, 200, "{body}");
    upload_and_verify(&stack, &people.rita, "1.1.0", b"next bytes").await;
    vote_and_promote(&stack, &people, "1.1.0").await;
    let archived = stack.as_operator(async || object_keys(&stack, BUCKET, "archive/foo/1.0.0/").await).await;
    assert_eq!(archived, [format!("archive/foo/1.0.0/{FILE}")]);
    let found = findings(&stack);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// Archiving a release whose `current/` copy is gone (deleted behind trs's back): the
/// lifecycle function still archives it, from the content-addressed original (the voted
/// bytes), and makes no request its role does not allow. (Archiving used to copy from the
/// `current/` copy first: a HEAD of a missing object, which S3 answers 403, not 404, to a role
/// whose `s3:ListBucket` is limited by `s3:prefix`, so the archive failed as deployed.)
#[tokio::test]
async fn archiving_a_release_whose_current_copy_is_gone_copies_the_voted_bytes() {
    let stack = Stack::start(&json!({})).await;
    let people = current_release(&stack).await;
    let (_, s3) = trs_storage_aws::clients(&stack.root, true);
    let public = format!("current/foo/1.0.0/{FILE}");
    stack.as_operator(async || s3.delete_object().bucket(BUCKET).key(&public).send().await.unwrap()).await;
    let lifecycle = start(&stack, "Lifecycle").await;
    let (status, body, _) = lifecycle.http(Some(&people.rita), "POST", &format!("{RELEASE}/archive"), json!({})).await;
    assert_eq!((status, body["files"].as_u64()), (200, Some(1)), "{body}");
    let archived = format!("archive/foo/1.0.0/{FILE}");
    assert_eq!(stack.as_operator(async || object_text(&stack, BUCKET, &archived).await).await, "release bytes");
    let found = findings(&stack);
    assert!(found.is_empty(), "{}", found.join("\n"));
}
/// End-of-life by date: the lifecycle function records the date, the scheduled tick (its
/// clock past the date) moves the release to end-of-life.
#[tokio::test]
async fn the_scheduled_tick_applies_an_end_of_life_date_under_the_lifecycle_role() {
    const EOL: i64 = 1_900_000_000; // 2030-03-17
    let stack = Stack::start(&json!({})).await;
    let people = current_release(&stack).await;
    let lifecycle = start(&stack, "Lifecycle").await;
    let (status, body, _) =
        lifecycle.http(Some(&people.rita), "POST", &format!("{RELEASE}/eol"), json!({"end_of_life": EOL})).await;
    assert!(status == 200 || status == 201, "{status} {body}");

    let mut env = stack.environment("Lifecycle").await;
    env.app.clock = trs_app::test_support::TestClock::at(EOL + 60);
    let tick = functions::lifecycle(&env).unwrap();
    let report = tick.handle(LambdaEvent::new(fixture("eventbridge-scheduled.json"), Context::default())).await;
    let report = report.expect("the tick runs");
    assert!(report.to_string().contains("end-of-life"), "{report}");
    let found = findings(&stack);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// A vote that closes itself: the project opts in (`auto_close_votes`) with a minimum of 72
/// hours, the vote function opens the vote (writing its due item) and takes ada's +1; the
/// scheduled tick, under the lifecycle role and on the test clock, leaves it open a second
/// before its closing time and closes it at that time, as trs itself: the vote passed, its
/// `vote-closed` event written with no actor, the due item gone, and the [RESULT] mail queued
/// on the promote queue (announced by the lifecycle role), which the promote function sends.
#[tokio::test]
async fn the_scheduled_tick_closes_a_due_vote_under_the_lifecycle_role() {
    let stack = Stack::start(&json!({})).await;
    let people = people_and_project(&stack).await;
    let admin = start(&stack, "Admin").await;
    let policy = json!({"min_vote_hours": 72});
    let (status, body, _) = admin.http(Some(&people.ada), "POST", "/api/v1/projects/foo/policy", policy).await;
    assert_eq!(status, 200, "{body}");
    upload_and_verify(&stack, &people.rita, "1.0.0", b"release bytes").await;
    let vote = start(&stack, "Vote").await;
    let path = format!("{RELEASE}/vote");
    let (status, opened, _) = vote.http(Some(&people.rita), "POST", &path, json!({})).await;
    assert_eq!(status, 201, "{opened}");
    let (status, body, _) =
        vote.http(Some(&people.ada), "POST", &format!("{path}/ballots"), json!({"value": "+1"})).await;
    assert!(status == 200 || status == 201, "{status} {body}");
    let (status, open, _) = vote.http(None, "GET", &path, Value::Null).await;
    assert_eq!((status, open["vote"]["state"].as_str()), (200, Some("open")), "{open}");
    let closes_at = open["vote"]["closes_not_before"].as_i64().expect("the vote's closing time");
    assert_eq!(closes_at - open["vote"]["opened_at"].as_i64().unwrap(), 72 * 3600, "{open}");
    // The [VOTE] mail's task, sent; the promote queue is empty again.
    let promote = start(&stack, "Promote").await;
    assert_eq!(promote.deliver_queue(&stack, "PromoteQueue").await, 1, "the [VOTE] mail");
    let found = findings(&stack);
    assert!(found.is_empty(), "{}", found.join("\n"));

    let report = scheduled_run(&stack, closes_at - 1).await.unwrap();
    assert_eq!(report["items"], json!([]), "not due yet: {report}");
    let report = scheduled_run(&stack, closes_at).await.unwrap();
    assert_eq!(report["items"].as_array().map(Vec::len), Some(1), "{report}");
    assert_eq!(report["items"][0]["outcomes"], json!([{"outcome": "vote-closed"}]), "{report}");

    let (status, closed, _) = vote.http(None, "GET", &path, Value::Null).await;
    assert_eq!(status, 200, "{closed}");
    assert_eq!(
        (closed["vote"]["state"].as_str(), closed["vote"]["closed_at"].as_i64()),
        (Some("passed"), Some(closes_at))
    );
    let project = StreamId::Project("foo".parse().unwrap());
    let events =
        stack.as_operator(async || stream::all_events_raw(&operator_app(&stack), &project).await.unwrap()).await;
    let result = events.last().unwrap();
    assert_eq!(
        (result["type"].as_str(), result["vote"].as_u64(), result["passed"].as_bool(), result["at"].as_i64()),
        (Some("vote-closed"), Some(1), Some(true), Some(closes_at)),
        "{result}"
    );
    assert!(result["actor"].is_null(), "closed by trs itself: {result}");
    // Nothing due any more: the close removed its due item. (A second later, so that the
    // sweep does not yet announce the [RESULT] mail's task again.)
    let report = scheduled_run(&stack, closes_at + 1).await.unwrap();
    assert_eq!((&report["items"], &report["announced"]), (&json!([]), &json!([])), "{report}");
    let sent_before = stack.moto.sent_mail().len();
    assert_eq!(promote.deliver_queue(&stack, "PromoteQueue").await, 1, "the [RESULT] mail, announced by the tick");
    let sent = stack.moto.sent_mail();
    assert_eq!(sent.len(), sent_before + 1, "{sent:#?}");
    let raw = sent[sent_before]["raw_data"].as_str().unwrap();
    assert!(raw.contains("Subject: [RESULT] [VOTE] Release foo 1.0.0"), "{raw}");
    let found = findings(&stack);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// Without `dynamodb:Query` the lifecycle role cannot find what is due: moto refuses the
/// query (AccessDenied), the scheduled run fails and the vote stays open until a run with
/// the permission closes it.
#[tokio::test]
async fn the_vote_close_without_its_query_permission_is_access_denied() {
    let stack = Stack::start(&json!({})).await;
    let people = people_and_project(&stack).await;
    upload_and_verify(&stack, &people.rita, "1.0.0", b"release bytes").await;
    let vote = start(&stack, "Vote").await;
    let path = format!("{RELEASE}/vote");
    let (status, opened, _) = vote.http(Some(&people.rita), "POST", &path, json!({})).await;
    assert_eq!(status, 201, "{opened}");
    let (status, body, _) =
        vote.http(Some(&people.ada), "POST", &format!("{path}/ballots"), json!({"value": "+1"})).await;
    assert!(status == 200 || status == 201, "{status} {body}");
    let (_, open, _) = vote.http(None, "GET", &path, Value::Null).await;
    let closes_at = open["vote"]["closes_not_before"].as_i64().expect("the vote's closing time");

    let mut policy = stack.policies["Lifecycle"].clone();
    for statement in policy["Statement"].as_array_mut().unwrap() {
        if statement["Sid"] == "ReadsItems" {
            statement["Action"].as_array_mut().unwrap().retain(|a| a != "dynamodb:Query");
        }
    }
    assert_ne!(policy, stack.policies["Lifecycle"], "the template's ReadsItems allows dynamodb:Query");
    stack.moto.set_policy("Lifecycle", &iam::for_moto(&policy));
    stack.calls_by_function();
    // (The store's error names the query, not AWS's code: the code is in moto's trace.)
    let failed = scheduled_run(&stack, closes_at).await.unwrap_err();
    assert!(failed.contains("DynamoDB query"), "{failed}");
    let denied: Vec<String> = stack.calls_by_function()["Lifecycle"]
        .iter()
        .filter(|c| c.outcome.starts_with("denied"))
        .map(|c| format!("{} {}", c.action, c.outcome))
        .collect();
    assert_eq!(denied, ["Query denied: AccessDeniedError"]);
    let (_, still, _) = vote.http(None, "GET", &path, Value::Null).await;
    assert_eq!(still["vote"]["state"], "open", "{still}");

    stack.moto.set_policy("Lifecycle", &iam::for_moto(&stack.policies["Lifecycle"]));
    let report = scheduled_run(&stack, closes_at).await.unwrap();
    assert_eq!(report["items"][0]["outcomes"], json!([{"outcome": "vote-closed"}]), "{report}");
    let (_, closed, _) = vote.http(None, "GET", &path, Value::Null).await;
    assert_eq!(closed["vote"]["state"], "passed", "{closed}");
}

const GITHUB_TOKEN: &str = "ghp_iamT0kenNeverShown0123456789";

/// The promote role's registries: the GitHub Releases stand-in, its URL and token in the
/// registry secret (read by the promote function at start, under its role), one try per
/// distribution.
fn github_secret(github: &GitHubServer) -> Value {
    json!({"TRS_GITHUB_URL": github.url, "TRS_GITHUB_TOKEN": GITHUB_TOKEN, "TRS_DISTRIBUTE_ATTEMPTS": "1"})
}

/// Asks the promote function to distribute the current `foo 1.0.0` to GitHub Releases
/// (apache/foo); the task it queued.
async fn request_distribution(promote: &Running, rita: &Actor) -> String {
    let body = json!({"distributions": [{"platform": "github", "namespace": "apache", "package": "foo"}]});
    let (status, task, _) = promote.http(Some(rita), "POST", &format!("{RELEASE}/distributions"), body).await;
    assert_eq!(status, 202, "{task}");
    assert_eq!(task["kind"], "distribute", "{task}");
    task["id"].as_str().unwrap().to_string()
}

/// A distribution task under the promote role: the function reads the registry secret at
/// start, the distribute route queues the task on the promote queue, and the task, run from
/// there, re-reads the voted bytes from their content-addressed object, sends them to the
/// registry (a GitHub Releases stand-in on a loopback port) and records the distribution
/// and its outcome in the table; the record is listed by the function's route.
#[tokio::test]
async fn a_distribution_runs_under_the_promote_role() {
    let github = GitHubServer::start(GITHUB_TOKEN);
    github.add_repo("apache", "foo");
    let stack = Stack::start(&github_secret(&github)).await;
    let people = current_release(&stack).await;
    let promote = start(&stack, "Promote").await;
    let task = request_distribution(&promote, &people.rita).await;
    assert_eq!(promote.deliver_queue(&stack, "PromoteQueue").await, 1, "the distribution task");
    let done = task_state(&stack, &task, "done").await;
    let outcome = &done["result"]["distributions"][0];
    assert_eq!(
        (outcome["platform"].as_str(), outcome["status"].as_str()),
        (Some("github"), Some("distributed")),
        "{done}"
    );

    let release = github.release("apache", "foo", "v1.0.0").expect("a GitHub release for the tag");
    assert!(!release.prerelease && !release.draft, "{release:?}");
    let assets: Vec<(&str, &[u8])> = release.assets.iter().map(|a| (a.name.as_str(), a.bytes.as_ref())).collect();
    assert_eq!(assets, [(FILE, b"release bytes".as_slice())], "the voted bytes");

    let (status, listed, _) = promote.http(None, "GET", &format!("{RELEASE}/distributions"), Value::Null).await;
    assert_eq!(status, 200, "{listed}");
    let record = &listed["distributions"][0];
    assert_eq!(
        (record["platform"].as_str(), record["namespace"].as_str(), record["package"].as_str()),
        (Some("github"), Some("apache"), Some("foo")),
        "{listed}"
    );
    assert_eq!((record["staging"].as_bool(), record["pending"].as_bool()), (Some(false), Some(false)), "{record}");
    assert_eq!(record["production_revision_key"], outcome["revision_key"], "the voted revision, in production");
    assert!(!listed.to_string().contains(GITHUB_TOKEN), "{listed}");
    let found = findings(&stack);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// Without `s3:GetObject` on `files/*` (the template's ReadsFiles) the promote role cannot
/// read the voted bytes: moto refuses the read (AccessDenied), the task goes back to its
/// queue with nothing sent, and runs once the permission is back.
#[tokio::test]
async fn a_distribution_without_its_read_permission_is_access_denied() {
    let github = GitHubServer::start(GITHUB_TOKEN);
    github.add_repo("apache", "foo");
    let stack = Stack::start(&github_secret(&github)).await;
    let people = current_release(&stack).await;
    let mut policy = stack.policies["Promote"].clone();
    policy["Statement"].as_array_mut().unwrap().retain(|s| s["Sid"] != "ReadsFiles");
    assert_ne!(policy, stack.policies["Promote"], "the template names the statement ReadsFiles");
    stack.moto.set_policy("Promote", &iam::for_moto(&policy));
    stack.calls_by_function();

    let promote = start(&stack, "Promote").await;
    let task = request_distribution(&promote, &people.rita).await;
    let answers = promote.deliver_queue_answers(&stack, "PromoteQueue").await;
    assert_eq!(answers.len(), 1);
    assert_ne!(answers[0]["batchItemFailures"], json!([]), "the message comes back: {}", answers[0]);
    let queued = task_state(&stack, &task, "queued").await;
    assert!(queued["error"].as_str().unwrap_or_default().contains("AccessDenied"), "{queued}");
    let denied: Vec<String> = stack.calls_by_function()["Promote"]
        .iter()
        .filter(|c| c.outcome.starts_with("denied"))
        .map(|c| format!("{} {}", c.action, c.resource))
        .collect();
    assert!(
        !denied.is_empty() && denied.iter().all(|d| d.starts_with(&format!("GetObject arn:aws:s3:::{BUCKET}/files/"))),
        "moto denied exactly the reads of files/: {denied:?}"
    );
    assert!(github.release("apache", "foo", "v1.0.0").is_none(), "nothing was sent");

    stack.moto.set_policy("Promote", &iam::for_moto(&stack.policies["Promote"]));
    let answer = promote.invoke(sqs_event(&stack, "PromoteQueue", &task)).await;
    assert_eq!(answer["batchItemFailures"], json!([]), "{answer}");
    task_state(&stack, &task, "done").await;
    assert!(github.release("apache", "foo", "v1.0.0").is_some());
}

/// The lifecycle function's scheduled run (an EventBridge schedule event) with its clock at
/// `at`, under its role.
async fn scheduled_run(stack: &Stack, at: i64) -> Result<Value, String> {
    let mut env = stack.environment("Lifecycle").await;
    env.app.clock = trs_app::test_support::TestClock::at(at);
    let function = functions::lifecycle(&env).unwrap();
    let event = LambdaEvent::new(fixture("eventbridge-scheduled.json"), Context::default());
    function.handle(event).await.map_err(|e| e.to_string())
}

/// A committed upload whose verify task's queue message was lost (the queue purged by the
/// operator, as if the SendMessage after the commit had failed): the task and the time it
/// was last updated.
async fn task_whose_message_was_lost(stack: &Stack, rita: &Actor) -> (String, i64) {
    let task = upload(stack, rita, "1.0.0", b"release bytes").await;
    let queue = stack.physical.resolve(&json!({"Ref": "VerifyQueue"}));
    let sqs = aws_sdk_sqs::Client::new(&stack.root);
    stack.as_operator(async || sqs.purge_queue().queue_url(queue.as_str().unwrap()).send().await.unwrap()).await;
    let id = task.parse().unwrap();
    let (stored, _) =
        stack.as_operator(async || trs_app::tasks::get_task(&operator_app(stack), &id).await.unwrap()).await;
    assert_eq!(stored.state, trs_app::tasks::TaskState::Queued);
    (task, stored.updated_at)
}

/// The sweep of stuck tasks on Lambda: the scheduled run leaves a task alone within the grace
/// period (its message may be on its way), then announces it again on its kind's queue under
/// the lifecycle role, and the verify function runs it from there.
#[tokio::test]
async fn a_task_whose_message_was_lost_is_announced_again_by_the_scheduled_run() {
    let stack = Stack::start(&json!({})).await;
    let people = people_and_project(&stack).await;
    let (task, queued_at) = task_whose_message_was_lost(&stack, &people.rita).await;
    let verify = start(&stack, "Verify").await;
    assert_eq!(verify.deliver_queue(&stack, "VerifyQueue").await, 0, "the message is lost");

    let grace = trs_app::tasks::ANNOUNCE_AGAIN_AFTER_SECS;
    let report = scheduled_run(&stack, queued_at + grace - 1).await.unwrap();
    assert_eq!(report["announced"], json!([]), "{report}");
    let report = scheduled_run(&stack, queued_at + grace).await.unwrap();
    assert_eq!(report["announced"], json!([task]), "{report}");

    assert_eq!(verify.deliver_queue(&stack, "VerifyQueue").await, 1, "announced once, on the verify queue");
    assert_task_done(&verify, &task).await;
    // Announced again after it is done: the message changes nothing.
    assert_eq!(scheduled_run(&stack, queued_at + 2 * grace).await.unwrap()["announced"], json!([]));
    let found = findings(&stack);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// Without `sqs:SendMessage` the lifecycle role cannot announce a stuck task: moto refuses
/// the send (AccessDenied), the scheduled run fails naming the task, and the task stays
/// queued until a run with the permission announces it.
#[tokio::test]
async fn the_sweep_without_its_send_permission_is_access_denied() {
    let stack = Stack::start(&json!({})).await;
    let people = people_and_project(&stack).await;
    let (task, queued_at) = task_whose_message_was_lost(&stack, &people.rita).await;
    let mut policy = stack.policies["Lifecycle"].clone();
    policy["Statement"].as_array_mut().unwrap().retain(|s| s["Sid"] != "AnnouncesStuckTasks");
    assert_ne!(policy, stack.policies["Lifecycle"], "the template names the statement AnnouncesStuckTasks");
    stack.moto.set_policy("Lifecycle", &iam::for_moto(&policy));
    stack.calls_by_function();

    let at = queued_at + trs_app::tasks::ANNOUNCE_AGAIN_AFTER_SECS;
    let failed = scheduled_run(&stack, at).await.unwrap_err();
    assert!(failed.contains(&task) && failed.contains("AccessDenied"), "{failed}");
    let calls = stack.calls_by_function();
    let denied: Vec<String> = calls["Lifecycle"]
        .iter()
        .filter(|c| c.outcome.starts_with("denied"))
        .map(|c| format!("{} {}", c.action, c.resource))
        .collect();
    let queue_arn = stack.physical.resolve(&json!({"Fn::GetAtt": ["VerifyQueue", "Arn"]}));
    assert_eq!(denied, [format!("SendMessage {}", queue_arn.as_str().unwrap())]);
    let verify = start(&stack, "Verify").await;
    assert_eq!(verify.deliver_queue(&stack, "VerifyQueue").await, 0, "nothing was sent");

    stack.moto.set_policy("Lifecycle", &iam::for_moto(&stack.policies["Lifecycle"]));
    assert_eq!(scheduled_run(&stack, at).await.unwrap()["announced"], json!([task]));
    assert_eq!(verify.deliver_queue(&stack, "VerifyQueue").await, 1);
    assert_task_done(&verify, &task).await;
}

/// The release files bucket guards itself (moto does not evaluate bucket policies; the judge
/// does, here and on every S3 request of the scenarios above): only the promote and lifecycle
/// roles write or delete public paths, only the upload role writes the content-addressed
/// files, a release file is created only if absent (a multipart upload's steps carry no
/// condition; its completion does), and no version of a release file is destroyed.
#[test]
fn the_bucket_policy_refuses_other_writers_unconditional_creates_and_version_deletes() {
    let mut physical = iam::Physical::default();
    physical.set("ReleaseFilesBucket", BUCKET, &[("Arn", &format!("arn:aws:s3:::{BUCKET}"))]);
    physical.set("Distribution", "E2TESTDISTRIBUTION", &[]);
    physical.set_roles();
    let policy = physical.bucket_policy(&iam::template());
    let write = |action: &str, key: &str, creates: Option<bool>, if_none_match: bool| {
        let mut context = BTreeMap::new();
        if let Some(creates) = creates {
            context.insert("s3:ObjectCreationOperation".to_string(), vec![creates.to_string()]);
        }
        if if_none_match {
            context.insert("s3:if-none-match".to_string(), vec!["*".to_string()]);
        }
        iam::Request { action: format!("s3:{action}"), resource: format!("arn:aws:s3:::{BUCKET}/{key}"), context }
    };
    let promote = physical.role_arn("Promote");
    let lifecycle = physical.role_arn("Lifecycle");
    let upload = physical.role_arn("Upload");
    let operator = format!("arn:aws:iam::{}:user/operator", trs_storage_aws::moto::ACCOUNT_ID);
    let cases: &[(&str, iam::Request, Option<&str>)] = &[
        (&promote, write("PutObject", "current/foo/1.0/a.tar.gz", Some(true), true), None),
        (&promote, write("PutObject", "current/foo/1.0/a.tar.gz", Some(false), false), None),
        (
            &promote,
            write("PutObject", "current/foo/1.0/a.tar.gz", Some(true), false),
            Some("ReleaseFilesAreWrittenOnlyIfAbsent"),
        ),
        (&lifecycle, write("DeleteObject", "archive/foo/0.9/a.tar.gz", None, false), None),
        (&lifecycle, write("PutObject", "archive/foo/0.9/a.tar.gz", Some(true), true), None),
        (
            &upload,
            write("PutObject", "current/foo/1.0/a.tar.gz", Some(true), true),
            Some("OnlyPromoteAndLifecycleWritePublicPaths"),
        ),
        (
            &operator,
            write("DeleteObject", "current/foo/1.0/a.tar.gz", None, false),
            Some("OnlyPromoteAndLifecycleWritePublicPaths"),
        ),
        (&upload, write("PutObject", "files/sha512/ab/abcd", Some(true), true), None),
        (
            &upload,
            write("PutObject", "files/sha512/ab/abcd", Some(true), false),
            Some("ReleaseFilesAreWrittenOnlyIfAbsent"),
        ),
        (
            &promote,
            write("DeleteObject", "files/sha512/ab/abcd", None, false),
            Some("OnlyUploadWritesContentAddressedFiles"),
        ),
        (
            &lifecycle,
            write("DeleteObjectVersion", "archive/foo/0.9/a.tar.gz", None, false),
            Some("NoVersionOfAReleaseFileIsDestroyed"),
        ),
        // Staged uploads are the upload function's scratch space, written by presigned URLs.
        (&upload, write("PutObject", "uploads/abc/0", Some(true), false), None),
    ];
    for (principal, request, expected) in cases {
        let denied = iam::bucket_denies(&policy, principal, request);
        assert_eq!(denied.as_deref(), *expected, "{principal}: {request}");
    }
}

/// A PUT of `bytes` to a presigned URL of the upload's answer; the ETag answered.
async fn put_to(target: &Value, bytes: &[u8]) -> String {
    let mut put = reqwest::Client::new().put(target["url"].as_str().unwrap()).body(bytes.to_vec());
    for pair in target["headers"].as_array().unwrap() {
        put = put.header(pair[0].as_str().unwrap(), pair[1].as_str().unwrap());
    }
    let sent = put.send().await.unwrap();
    assert!(sent.status().is_success(), "the presigned PUT: {}", sent.status());
    sent.headers()["etag"].to_str().unwrap().to_string()
}

/// A file that arrived short (its PUT complete by its own `Content-Length`, which a presigned
/// URL does not sign): the commit task fails with `size-mismatch` and makes nothing; a resume
/// removes the staged object under the upload role (`s3:DeleteObject` on `uploads/*`) and
/// hands out a URL for that file only; sent whole to it, the file commits.
async fn arrived_short_and_sent_again(stack: &Stack, people: &People, version: &str) {
    let upload = start(stack, "Upload").await;
    let release = format!("/api/v1/projects/foo/releases/{version}");
    let whole: [(&str, &[u8]); 2] = [("a.tar.gz", b"all of a\n"), ("b.tar.gz", b"all of b\n")];
    let declared: Vec<(&str, usize)> = whole.iter().map(|(path, bytes)| (*path, bytes.len())).collect();
    let started = start_upload(&upload, &people.rita, version, &declared).await;
    put_to(&started["files"][0]["upload"], whole[0].1).await;
    put_to(&started["files"][1]["upload"], b"all").await;
    let id = started["id"].as_str().unwrap();
    let failed = commit_and_run(stack, &upload, &people.rita, id, json!({}), "failed").await;
    assert_eq!(failed["result"]["code"], "size-mismatch", "{failed}");
    let (status, _, _) = upload.http(None, "GET", &release, Value::Null).await;
    assert_eq!(status, 404, "no revision");

    let resume = format!("/api/v1/uploads/{id}/resume");
    let (status, resumed, _) = upload.http(Some(&people.rita), "POST", &resume, json!({})).await;
    assert_eq!(status, 200, "{resumed}");
    assert!(resumed["files"][0].get("upload").is_none(), "a.tar.gz arrived whole: {resumed}");
    put_to(&resumed["files"][1]["upload"], whole[1].1).await;
    let committed = commit_and_run(stack, &upload, &people.rita, id, json!({}), "done").await;
    assert_eq!(committed["result"]["files"], 2, "{committed}");
    let (status, body, _) = upload.http(None, "GET", &release, Value::Null).await;
    assert_eq!(status, 200, "{body}");
    let verify = start(stack, "Verify").await;
    assert_eq!(verify.deliver_queue(stack, "VerifyQueue").await, 1);
    assert_task_done(&verify, committed["result"]["task"].as_str().unwrap()).await;
}

#[tokio::test]
async fn a_file_larger_than_a_part_goes_in_parts_resumed_by_part_and_a_replaced_part_is_refused() {
    let stack = Stack::start(&json!({})).await;
    let people = people_and_project(&stack).await;
    sent_in_parts_and_resumed(&stack, &people, "2.0.0").await;
    let found = findings(&stack);
    assert!(found.is_empty(), "requests the roles do not allow:\n{}", found.join("\n"));
}

/// `foo VERSION`, one file of three parts sent by rita: parts 1 and 2 sent, the client
/// interrupted and resumed (the upload function lists the parts the store holds), part 3
/// sent, part 2 replaced by other bytes (the commit task refuses the changed part and makes
/// nothing), a commit naming too few parts refused at once; part 2 sent again and the commit
/// completes: the content-addressed file is the whole file, in order, with its digests, and
/// its verification runs.
async fn sent_in_parts_and_resumed(stack: &Stack, people: &People, version: &str) {
    let upload = start(stack, "Upload").await;
    let bytes = trs_storage::contract::pseudo_random(2 * MIN_PART + 1000, 7);
    let part = |n: usize| &bytes[(n - 1) * MIN_PART..(n * MIN_PART).min(bytes.len())];
    let release = format!("/api/v1/projects/foo/releases/{version}");
    let file = format!("foo-{version}.tar.gz");
    let started = start_upload(&upload, &people.rita, version, &[(&file, bytes.len())]).await;
    let target = &started["files"][0];
    assert!(target.get("upload").is_none(), "no single PUT for a file larger than a part: {target}");
    assert_eq!(target["parts"]["part_size"], MIN_PART);
    assert_eq!(target["parts"]["urls"].as_array().unwrap().len(), 3);

    // Parts 1 and 2 are sent, then the client is interrupted.
    let mut etags = Vec::new();
    for n in 1..=2 {
        etags.push(put_to(&target["parts"]["urls"][n - 1], part(n)).await);
    }
    // Run again, the client resumes the same upload: the answer lists what the store holds.
    let id = started["id"].as_str().unwrap();
    let (status, resumed, _) =
        upload.http(Some(&people.rita), "POST", &format!("/api/v1/uploads/{id}/resume"), json!({})).await;
    assert_eq!(status, 200, "{resumed}");
    assert_eq!(resumed["id"], id);
    let present: Vec<(u64, String)> = resumed["files"][0]["parts"]["present"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["number"].as_u64().unwrap(), p["etag"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(present, [(1, etags[0].clone()), (2, etags[1].clone())]);
    etags.push(put_to(&resumed["files"][0]["parts"]["urls"][2], part(3)).await);

    // Part 2 replaced by other bytes after it was sent: the commit names the ETags the client
    // got, and refuses; nothing is made.
    let mut other = part(2).to_vec();
    other[0] ^= 1;
    put_to(&resumed["files"][0]["parts"]["urls"][1], &other).await;
    let commit = format!("/api/v1/uploads/{id}/commit");
    let body = json!({"parts": {&file: etags.clone()}});
    let failed = commit_and_run(stack, &upload, &people.rita, id, body.clone(), "failed").await;
    assert_eq!(
        failed["result"],
        json!({"code": "part-changed", "status": 409, "message": failed["error"]}),
        "{failed}"
    );
    let (status, _, _) = upload.http(None, "GET", &release, Value::Null).await;
    assert_eq!(status, 404, "no revision");

    // A commit naming too few parts is refused at once.
    let short = json!({"parts": {&file: &etags[..2]}});
    let (status, refused, _) = upload.http(Some(&people.rita), "POST", &commit, short).await;
    assert_eq!((status, refused["error"]["code"].as_str()), (400, Some("parts-not-named")), "{refused}");

    // The client sends part 2 again (its own bytes), and the commit completes the upload.
    put_to(&resumed["files"][0]["parts"]["urls"][1], part(2)).await;
    let committed = commit_and_run(stack, &upload, &people.rita, id, body, "done").await;
    let sha512 = trs_storage::contract::sha512_hex(&bytes);
    let stored = stack.as_operator(async || object_keys(stack, BUCKET, "files/").await).await;
    let whole = format!("files/sha512/{}/{sha512}", &sha512[..2]);
    assert!(stored.contains(&whole), "the whole file, in order: {stored:?}");
    // The commit hashed it once, and the copy keeps the digests for verification.
    let app = operator_app(stack);
    let head = stack.as_operator(async || app.blobs.head(&whole).await.unwrap().unwrap()).await;
    assert_eq!((head.size, head.sha512.as_deref()), (bytes.len() as u64, Some(sha512.as_str())));
    assert!(head.sha512_state.is_some() && head.sha256_state.is_some(), "{head:?}");

    let verify = start(stack, "Verify").await;
    assert_eq!(verify.deliver_queue(stack, "VerifyQueue").await, 1);
    assert_task_done(&verify, committed["result"]["task"].as_str().unwrap()).await;
}

//! The event adapters fed recorded AWS event JSON (tests/fixtures/), as the Lambda runtime
//! would hand them over, with the embedded stores in a temporary folder; no runtime needed.
//! Parts a fixture cannot hold (a signature over a fresh key and time, a task id made by the
//! test) are filled in where the fixture says `SET-BY-TEST`.

use crate::support::fixture;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{Value, json};
use trs_app::tasks::{self, TaskState};
use trs_app::test_support::{World, release, signed_headers, world};
use trs_app::test_support::{commit_files, pass_vote_for_tests as pass_vote};
use trs_app::{App, lifecycle, promote};
use trs_core::Stage;
use trs_lambda::{Config, Function, InvocationError, open_app};

async fn invoke(function: &Function, event: Value) -> Result<Value, InvocationError> {
    function.handle(LambdaEvent::new(event, Context::default())).await
}

/// The response body, parsed when it is JSON.
fn body(response: &Value) -> Value {
    let text = response["body"].as_str().unwrap_or_default();
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.into()))
}

const START: &str = "/api/v1/projects/foo/releases/1.0.0/uploads";

/// The recorded signed POST with `body`, signed by rita; `sent` is the body that arrives.
fn signed_post(w: &World, body: &[u8], sent: &[u8]) -> Value {
    let mut event = fixture("apigw-v2-post-upload.json");
    assert_eq!(event["rawPath"], START);
    let headers = event["headers"].as_object_mut().unwrap();
    for (name, value) in signed_headers(&w.rm, "POST", START, body) {
        headers.insert(name.to_ascii_lowercase(), value.into());
    }
    headers.insert("content-length".into(), sent.len().to_string().into());
    event["body"] = String::from_utf8(sent.to_vec()).unwrap().into();
    event
}

#[tokio::test]
async fn health_over_api_gateway_from_a_configured_data_folder() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data").to_string_lossy().into_owned();
    let config = Config::from_lookup(|name| match name {
        "TRS_BACKEND" => Some("embedded".into()),
        "TRS_DATA" => Some(data.clone()),
        _ => None,
    })
    .unwrap();
    let app = open_app(&config).await.unwrap();
    let function = Function::new(app).http(trs_function_upload::routes());
    let response = invoke(&function, fixture("apigw-v2-get-health.json")).await.unwrap();
    assert_eq!(response["statusCode"], 200, "{response}");
    assert_eq!(response["body"], "ok\n");
    assert_eq!(response["isBase64Encoded"], false);
    assert!(dir.path().join("data/items.redb").exists(), "the embedded store was opened in TRS_DATA");
}

#[tokio::test]
async fn a_signed_post_over_api_gateway_starts_an_upload() {
    let w = world().await;
    let function = Function::new(w.app.clone()).http(trs_function_upload::routes());
    let json = serde_json::to_vec(&json!({"files": [{"path": "foo-1.0.tar.gz", "size": 10}]})).unwrap();
    let response = invoke(&function, signed_post(&w, &json, &json)).await.unwrap();
    assert_eq!(response["statusCode"], 201, "{response}");
    assert_eq!(response["headers"]["content-type"], "application/json");
    let started = body(&response);
    assert_eq!(started["files"][0]["path"], "foo-1.0.tar.gz", "{started}");
    assert_eq!(started["files"][0]["upload"]["method"], "PUT");
}

#[tokio::test]
async fn a_signed_post_whose_body_changed_on_the_way_is_refused() {
    let w = world().await;
    let function = Function::new(w.app.clone()).http(trs_function_upload::routes());
    let signed = serde_json::to_vec(&json!({"files": [{"path": "a", "size": 1}]})).unwrap();
    let sent = serde_json::to_vec(&json!({"files": [{"path": "b", "size": 1}]})).unwrap();
    let response = invoke(&function, signed_post(&w, &signed, &sent)).await.unwrap();
    assert_eq!(response["statusCode"], 401, "{response}");
    assert_eq!(body(&response)["error"]["code"], "body-hash-mismatch", "{response}");
    assert!(trs_app::releases::get_release(&w.app, &release()).await.unwrap().is_none(), "nothing was started");
}

fn sqs_batch(task: &str) -> Value {
    let mut event = fixture("sqs-task.json");
    event["Records"][0]["body"] = task.into();
    event
}

fn failed_messages(response: &Value) -> Vec<&str> {
    response["batchItemFailures"].as_array().unwrap().iter().map(|f| f["itemIdentifier"].as_str().unwrap()).collect()
}

async fn the_queued_task(app: &App) -> trs_core::OpaqueId {
    let queued = tasks::unfinished_tasks(app).await.unwrap();
    assert_eq!(queued.len(), 1, "{queued:?}");
    queued[0].id.clone()
}

#[tokio::test]
async fn an_sqs_message_runs_its_task_and_an_unreadable_one_comes_back() {
    let w = world().await;
    commit_files(
        &w.app,
        &w.blobs,
        &w.rm.caller(),
        &release(),
        &[("foo-1.0.tar.gz", b"the archive"), ("foo-1.0.tar.gz.sha512", b"nonsense")],
    )
    .await;
    let task = the_queued_task(&w.app).await;
    let function = Function::new(w.app.clone()).http(trs_function_verify::routes()).tasks();

    let response = invoke(&function, sqs_batch(task.as_str())).await.unwrap();
    // Only the second record (body "not a task id") is reported for redelivery.
    assert_eq!(failed_messages(&response), ["2e1424d4-f796-459a-8184-9c92662be6da"], "{response}");
    let (done, _) = tasks::get_task(&w.app, &task).await.unwrap();
    assert_eq!(done.state, TaskState::Done, "{done:?}");
    assert!(done.result.is_some());

    // Delivered again (SQS is at-least-once): settled at once, nothing run twice.
    let again = invoke(&function, sqs_batch(task.as_str())).await.unwrap();
    assert_eq!(failed_messages(&again).len(), 1);
    assert_eq!(tasks::get_task(&w.app, &task).await.unwrap().0.updated_at, done.updated_at);
}

#[tokio::test]
async fn an_sqs_message_for_an_unknown_task_comes_back() {
    let w = world().await;
    let function = Function::new(w.app.clone()).tasks();
    let response = invoke(&function, sqs_batch("0123456789abcdef0123456789abcdef")).await.unwrap();
    assert_eq!(failed_messages(&response).len(), 2, "{response}");
}

#[tokio::test]
async fn the_eventbridge_schedule_runs_the_lifecycle_tick() {
    let w = world().await;
    let id = release();
    commit_files(&w.app, &w.blobs, &w.rm.caller(), &id, &[("foo-1.0.tar.gz", b"the archive")]).await;
    let worker = Function::new(w.app.clone()).tasks();
    let verify = the_queued_task(&w.app).await;
    assert!(failed_messages(&invoke(&worker, sqs_batch(verify.as_str())).await.unwrap()).len() == 1);
    pass_vote(&w.app, &id).await;
    let promotion = promote::request(&w.app, &w.rm.caller(), &id).await.unwrap();
    invoke(&worker, sqs_batch(promotion.id.as_str())).await.unwrap();
    let stage = async || trs_app::releases::get_release(&w.app, &id).await.unwrap().unwrap().0.stage;
    assert_eq!(stage().await, Stage::Current);
    let past = w.app.now() - 60;
    lifecycle::set_dates(&w.app, &w.rm.caller(), lifecycle::DatesTarget::Release(id.clone()), Some(past), None)
        .await
        .unwrap();

    let lifecycle = Function::new(w.app.clone()).schedule();
    let report = invoke(&lifecycle, fixture("eventbridge-scheduled.json")).await.unwrap();
    assert_eq!(report["items"][0]["kind"], "end-of-life", "{report}");
    assert_eq!(report["items"][0]["outcomes"], json!([{"outcome": "end-of-life", "release": id.to_string()}]));
    assert_eq!(stage().await, Stage::EndOfLife);

    let second = invoke(&lifecycle, fixture("eventbridge-scheduled.json")).await.unwrap();
    assert_eq!(second["items"], json!([]), "the tick is idempotent: {second}");
}

#[tokio::test]
async fn a_function_refuses_events_it_was_not_built_for() {
    let w = world().await;
    let upload = Function::new(w.app.clone()).http(trs_function_upload::routes());
    let sqs = invoke(&upload, sqs_batch("0123456789abcdef0123456789abcdef")).await.unwrap_err();
    assert!(matches!(sqs, InvocationError::UnexpectedSource("SQS")), "{sqs}");
    let schedule = invoke(&upload, fixture("eventbridge-scheduled.json")).await.unwrap_err();
    assert!(matches!(schedule, InvocationError::UnexpectedSource("EventBridge")), "{schedule}");
    let lifecycle = Function::new(w.app.clone()).schedule();
    let http = invoke(&lifecycle, fixture("apigw-v2-get-health.json")).await.unwrap_err();
    assert!(matches!(http, InvocationError::UnexpectedSource("API Gateway")), "{http}");
    let other = invoke(&upload, json!({"hello": "world"})).await.unwrap_err();
    assert_eq!(other.to_string(), "unrecognised event: an object with keys hello");
}

/// The scheduled run reads the lists' IMAP mailboxes (a real Dovecot on loopback): a reply to
/// an open vote that counts replies becomes a ballot, reported with the tick; a second run
/// reads nothing twice.
#[tokio::test]
async fn the_eventbridge_schedule_polls_the_lists_imap_mailbox() {
    use trs_app::imap_server::{ImapServer, PASSWORD};
    let mut server = ImapServer::start();
    let mut w = world().await;
    w.app.imap_passwords =
        Some(trs_app::mail::imap::passwords_from(|name| (name == "TRS_IMAP_PASSWORD").then(|| PASSWORD.to_string())));
    let id = release();
    let project: trs_core::ProjectName = "foo".parse().unwrap();
    let policy = trs_core::PolicyOverride {
        strict: Some(false),
        min_vote_hours: Some(0),
        email_votes: Some(true),
        ..Default::default()
    };
    trs_app::projects::set_policy(&w.app, &w.rm.caller(), &project, None, policy).await.unwrap();
    let settings = trs_core::MailSettings { imap: Some(server.url()), ..Default::default() };
    trs_app::mail::set_settings(&w.app, &w.rm.caller(), &project, None, settings).await.unwrap();
    commit_files(&w.app, &w.blobs, &w.rm.caller(), &id, &[("foo-1.0.tar.gz", b"the archive")]).await;
    w.clock.set(1_796_371_200); // 2026-12-04T08:00:00Z
    trs_app::vote::open(&w.app, &w.rm.caller(), &id, None).await.unwrap();
    let root = trs_app::vote::show(&w.app, &id).await.unwrap().vote_message_id.expect("the [VOTE] mail's id");
    w.clock.set(1_796_382_000); // 11:00
    server.deliver(
        format!(
            "From: Ada <ada@example.org>\r\nTo: dev@foo.example\r\nSubject: Re: [VOTE] foo 1.0.0\r\n\
             Date: Fri, 4 Dec 2026 09:00:00 +0000\r\nMessage-ID: <ada-votes@example.org>\r\nIn-Reply-To: {root}\r\n\
             References: {root}\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n+1 (binding)\r\n\r\nAda\r\n"
        )
        .as_bytes(),
    );

    let lifecycle = Function::new(w.app.clone()).schedule();
    let report = invoke(&lifecycle, fixture("eventbridge-scheduled.json")).await.unwrap();
    let polled = &report["mail_polled"][0];
    assert_eq!(polled["release"], json!(id), "{report}");
    assert_eq!(polled["report"]["replies"][0]["outcome"], "counted", "{report}");
    let view = trs_app::vote::show(&w.app, &id).await.unwrap();
    assert_eq!(view.ballots.len(), 1);
    assert_eq!((view.ballots[0].voter.as_str(), view.ballots[0].binding), ("ada", true));

    assert_eq!(polled["fetched"], 1, "{report}");
    // The next run reads the mailbox from where this one stopped: nothing new, nothing fetched.
    let second = invoke(&lifecycle, fixture("eventbridge-scheduled.json")).await.unwrap();
    assert_eq!(second["mail_polled"][0]["fetched"], 0, "{second}");
    assert_eq!(second["mail_polled"][0]["report"]["replies"], json!([]), "{second}");
}

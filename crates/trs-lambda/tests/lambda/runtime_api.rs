//! The real Lambda binaries, started as Lambda starts a `provided.al2023` function, against a
//! Runtime API emulator (tests/support/runtime_api.rs): they poll for events, answer them on
//! the response endpoint, report bad events on the error endpoint and a bad configuration on
//! the init error endpoint.

use crate::support::fixture;
use crate::support::runtime_api::{Outcome, RuntimeApi};
use serde_json::{Value, json};

fn embedded(dir: &tempfile::TempDir) -> Vec<(&'static str, String)> {
    vec![
        ("TRS_BACKEND", "embedded".into()),
        ("TRS_DATA", dir.path().join("data").to_string_lossy().into_owned()),
        ("TRS_LOG", "info".into()),
    ]
}

fn response(outcome: Outcome) -> Value {
    match outcome {
        Outcome::Response(v) => v,
        Outcome::Error(kind, e) => panic!("the function reported an error {kind:?}: {e}"),
    }
}

#[tokio::test]
async fn the_upload_binary_answers_api_gateway_events_while_warm() {
    let api = RuntimeApi::start("trs-upload").await;
    let dir = tempfile::tempdir().unwrap();
    let _function = api.spawn(env!("CARGO_BIN_EXE_trs-lambda-upload"), &embedded(&dir));

    let health = response(api.invoke(fixture("apigw-v2-get-health.json")).await);
    assert_eq!(health["statusCode"], 200, "{health}");
    assert_eq!(health["body"], "ok\n");

    // The same process takes the next event: a handler reading the store.
    let mut status = fixture("apigw-v2-get-health.json");
    status["rawPath"] = "/api/v1/projects/foo/releases/1.0.0".into();
    status["requestContext"]["http"]["path"] = "/api/v1/projects/foo/releases/1.0.0".into();
    let missing = response(api.invoke(status).await);
    assert_eq!(missing["statusCode"], 404, "{missing}");
    let body: Value = serde_json::from_str(missing["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "not-found", "{body}");
}

#[tokio::test]
async fn the_lifecycle_binary_runs_the_tick_on_a_schedule_event() {
    let api = RuntimeApi::start("trs-lifecycle").await;
    let dir = tempfile::tempdir().unwrap();
    let _function = api.spawn(env!("CARGO_BIN_EXE_trs-lambda-lifecycle"), &embedded(&dir));
    let report = response(api.invoke(fixture("eventbridge-scheduled.json")).await);
    assert_eq!(report["items"], json!([]), "{report}");
    assert!(report["now"].as_i64().unwrap() > 1_700_000_000, "{report}");
}

#[tokio::test]
async fn an_event_the_function_does_not_take_is_reported_on_the_error_endpoint() {
    let api = RuntimeApi::start("trs-upload").await;
    let dir = tempfile::tempdir().unwrap();
    let _function = api.spawn(env!("CARGO_BIN_EXE_trs-lambda-upload"), &embedded(&dir));
    match api.invoke(fixture("eventbridge-scheduled.json")).await {
        Outcome::Error(_, e) => {
            assert_eq!(e["errorType"], "trs.UnexpectedSource", "{e}");
            assert_eq!(e["errorMessage"], "this function does not take EventBridge events");
        }
        Outcome::Response(r) => panic!("expected an error, got {r}"),
    }
    // The runtime goes on to the next event.
    let health = response(api.invoke(fixture("apigw-v2-get-health.json")).await);
    assert_eq!(health["statusCode"], 200);
}

#[tokio::test]
async fn a_bad_configuration_is_reported_on_the_init_error_endpoint_and_the_process_exits() {
    let api = RuntimeApi::start("trs-verify").await;
    let mut function = api.spawn(env!("CARGO_BIN_EXE_trs-lambda-verify"), &[("TRS_BACKEND", "embedded".into())]);
    let (kind, e) = api.init_error().await;
    assert_eq!(kind.as_deref(), Some("Runtime.InitError"));
    assert_eq!(e["errorType"], "trs.InitError", "{e}");
    assert!(e["errorMessage"].as_str().unwrap().contains("TRS_DATA is not set"), "{e}");
    assert!(!function.wait_exit().success());
}

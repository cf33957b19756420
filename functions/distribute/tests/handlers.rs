//! The distribute function's routes driven without a server: the refusals with their codes,
//! one task queued for an accepted request, the records listed for anyone.

use axum::http::StatusCode;
use serde_json::{Value, json};
use trs_app::tasks::{TaskKind, unfinished_tasks};
use trs_app::test_support::{Actor, World, release, upload_files, world};

const PATH: &str = "/api/v1/projects/foo/releases/1.0.0/distributions";

async fn call(w: &World, actor: Option<&Actor>, method: &str, body: Value) -> (StatusCode, Value) {
    trs_http::testing::call(trs_function_distribute::routes().with_state(w.app.clone()), actor, method, PATH, body)
        .await
}

async fn distribute_tasks(w: &World) -> usize {
    unfinished_tasks(&w.app).await.unwrap().iter().filter(|t| matches!(t.kind, TaskKind::Distribute { .. })).count()
}

fn github(staging: bool, promote: bool) -> Value {
    json!({"distributions": [{"platform": "github", "namespace": "apache", "package": "foo", "staging": staging, "promote": promote}]})
}

#[tokio::test]
async fn refusals_carry_their_codes_and_queue_nothing() {
    let w = world().await;
    let (status, body) = call(&w, Some(&w.rm), "POST", github(true, false)).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("not-found")), "{body}");

    upload_files(&w.app, &w.blobs, &w.rm.caller(), &release(), &[("a.txt", b"a")]).await;
    // No registry configured in this world.
    let (status, body) = call(&w, Some(&w.rm), "POST", github(true, false)).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("registry-not-configured")));
    let (status, body) = call(&w, Some(&w.committer), "POST", github(true, false)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) =
        call(&w, Some(&w.rm), "POST", json!({"distributions": [{"platform": "cargo", "package": "foo"}]})).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("malformed-request")),
        "{body}"
    );
    let (status, _) = call(&w, None, "POST", github(true, false)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // What the server has always taken in a spec, it takes: a field it does not know, an
    // explicit `stage_if_missing: false` (the answer is the next refusal in line); staging a
    // missing distribution on promotion is only the auto-distribution's.
    let spec = |stage_if_missing: bool| {
        json!({"distributions": [{"platform": "github", "namespace": "apache", "package": "foo", "promote": true,
            "stage_if_missing": stage_if_missing, "channel": "beta"}]})
    };
    let (status, body) = call(&w, Some(&w.rm), "POST", spec(false)).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("registry-not-configured")));
    let (status, body) = call(&w, Some(&w.rm), "POST", spec(true)).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("malformed-request")));
    let (status, body) = call(&w, Some(&w.rm), "POST", json!({"distributions": [], "colour": "red"})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("malformed-request")));
    assert_eq!(distribute_tasks(&w).await, 0);
}

#[tokio::test]
async fn records_are_listed_for_anyone() {
    let w = world().await;
    upload_files(&w.app, &w.blobs, &w.rm.caller(), &release(), &[("a.txt", b"a")]).await;
    let (status, body) = call(&w, None, "GET", Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"release": "foo/1.0.0", "distributions": []}));
}

#[tokio::test]
async fn the_project_auto_distributions_are_set_by_its_managers_and_shown_to_anyone() {
    let w = world().await;
    let path = "/api/v1/projects/foo/distributions";
    let router = || trs_function_distribute::routes().with_state(w.app.clone());
    let body =
        json!({"distributions": [{"platform": "github", "namespace": "apache", "package": "foo", "staging": true}]});
    let (status, answer) = trs_http::testing::call(router(), Some(&w.committer), "POST", path, body.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    let bad = json!({"distributions": [{"platform": "github", "package": "foo"}]});
    let (status, answer) = trs_http::testing::call(router(), Some(&w.rm), "POST", path, bad).await;
    assert_eq!((status, answer["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("namespace-required")));
    let (status, answer) = trs_http::testing::call(router(), None, "GET", path, Value::Null).await;
    assert_eq!((status, answer["distributions"].clone()), (StatusCode::OK, json!([])));

    let (status, answer) = trs_http::testing::call(router(), Some(&w.rm), "POST", path, body.clone()).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (_, answer) = trs_http::testing::call(router(), None, "GET", path, Value::Null).await;
    assert_eq!(answer["distributions"], body["distributions"]);
}

//! The promote function's route driven without a server: who may ask, what is refused, and
//! that an accepted request queues exactly one promotion task.

use axum::http::StatusCode;
use serde_json::{Value, json};
use trs_app::tasks::{TaskKind, unfinished_tasks};
use trs_app::test_support::{Actor, World, pass_vote_for_tests as pass_vote, release, upload_files, world};

const PROMOTE: &str = "/api/v1/projects/foo/releases/1.0.0/promote";

async fn call(w: &World, actor: &Actor, path: &str, body: Value) -> (StatusCode, Value) {
    trs_http::testing::call(trs_function_promote::routes().with_state(w.app.clone()), Some(actor), "POST", path, body)
        .await
}

async fn promotion_tasks(w: &World) -> usize {
    unfinished_tasks(&w.app).await.unwrap().iter().filter(|t| matches!(t.kind, TaskKind::Promote { .. })).count()
}

#[tokio::test]
async fn a_draft_is_refused_with_its_stage_named() {
    let w = world().await;
    upload_files(&w.app, &w.blobs, &w.rm.caller(), &release(), &[("a.txt", b"a")]).await;
    let (status, body) = call(&w, &w.rm, PROMOTE, json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "not-a-candidate");
    assert!(body["error"]["message"].as_str().unwrap().contains("candidate-draft"), "{body}");
    assert_eq!(promotion_tasks(&w).await, 0);
}

#[tokio::test]
async fn a_committer_may_not_promote() {
    let w = world().await;
    upload_files(&w.app, &w.blobs, &w.rm.caller(), &release(), &[("a.txt", b"a")]).await;
    pass_vote(&w.app, &release()).await;
    let (status, body) = call(&w, &w.committer, PROMOTE, json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"]["code"], "forbidden-role");
    assert_eq!(promotion_tasks(&w).await, 0);
}

#[tokio::test]
async fn a_passed_vote_queues_one_promotion_task_for_the_voted_revision() {
    let w = world().await;
    upload_files(&w.app, &w.blobs, &w.rm.caller(), &release(), &[("a.txt", b"a")]).await;
    pass_vote(&w.app, &release()).await;
    let (status, task) = call(&w, &w.rm, PROMOTE, json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{task}");
    assert_eq!(task["kind"], "promote");
    assert_eq!(task["revision"], 1);
    assert_eq!(task["requested_by"]["uid"], "rita");
    assert_eq!(promotion_tasks(&w).await, 1);

    let (status, body) = call(&w, &w.rm, "/api/v1/projects/foo/releases/..%2f/promote", json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

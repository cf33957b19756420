//! The verify function: task status over HTTP, and running a task twice.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use tower::ServiceExt;
use trs_app::test_support::world;

#[tokio::test]
async fn task_status_rejects_bad_ids_and_reports_unknown_ones() {
    let w = world().await;
    let get = |uri: String| {
        trs_function_verify::routes()
            .with_state(w.app.clone())
            .oneshot(Request::builder().uri(uri).body(Body::empty()).unwrap())
    };
    assert_eq!(get("/api/v1/tasks/nothex".into()).await.unwrap().status(), StatusCode::BAD_REQUEST);
    assert_eq!(get(format!("/api/v1/tasks/{}", "a".repeat(32))).await.unwrap().status(), StatusCode::NOT_FOUND);
}

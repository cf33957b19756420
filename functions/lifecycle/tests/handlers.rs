//! The lifecycle and stream functions' routes driven without a server.

use axum::Router;
use axum::http::StatusCode;
use serde_json::{Value, json};
use trs_app::test_support::{Actor, World, upload_files, world};

fn router(w: &World) -> Router {
    trs_function_lifecycle::routes().merge(trs_function_stream::routes()).with_state(w.app.clone())
}

async fn call(w: &World, actor: Option<&Actor>, method: &str, path: &str, body: Value) -> (StatusCode, Value) {
    trs_http::testing::call(router(w), actor, method, path, body).await
}

async fn with_release() -> World {
    let w = world().await;
    upload_files(&w.app, &w.blobs, &w.rm.caller(), &trs_app::test_support::release(), &[("a.txt", b"a")]).await;
    w
}

const REL: &str = "/api/v1/projects/foo/releases/1.0.0";

#[tokio::test]
async fn states_enter_by_post_and_leave_by_delete() {
    let w = with_release().await;
    let path = format!("{REL}/states/lts");
    let (status, event) = call(&w, Some(&w.rm), "POST", &path, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{event}");
    assert_eq!((event["type"].as_str(), event["already_held"].as_bool()), (Some("state-entered"), Some(false)));
    let (status, event) = call(&w, Some(&w.rm), "DELETE", &path, Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{event}");
    assert_eq!(event["was_held"], true);
    let (status, body) = call(&w, Some(&w.rm), "POST", &format!("{REL}/states/LTS"), json!({})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid-state")));
    let (status, body) = call(&w, Some(&w.committer), "POST", &path, json!({})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden-role")));
    let (status, _) = call(&w, None, "POST", &path, json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn revoke_needs_a_reason_and_shows_in_the_views() {
    let w = with_release().await;
    let (status, body) = call(&w, Some(&w.rm), "POST", &format!("{REL}/revoke"), json!({})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("reason-required")));
    let (status, _) = call(&w, Some(&w.rm), "POST", &format!("{REL}/revoke"), json!({"reason": "leaked key"})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, view) = call(&w, None, "GET", "/api/v1/projects/foo/releases?state=revoked", Value::Null).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(view["by_state"]["revoked"], json!(["foo/1.0.0"]));
    let (_, history) = call(&w, None, "GET", &format!("{REL}/history"), Value::Null).await;
    let types: Vec<&str> = history["events"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["revision-pushed", "revoked"]);
    let (_, verify) = call(&w, None, "GET", "/api/v1/events/verify?project=foo", Value::Null).await;
    assert_eq!(verify["ok"], true);
    assert_eq!(verify["streams"][0]["events"], 3, "project-created, revision-pushed, revoked");
}

#[tokio::test]
async fn dates_are_checked_and_lines_must_look_like_lines() {
    let w = with_release().await;
    let eol = format!("{REL}/eol");
    let (status, body) = call(&w, Some(&w.rm), "POST", &eol, json!({})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("no-dates")));
    let (status, body) = call(&w, Some(&w.rm), "POST", &eol, json!({"end_of_life": 100, "support_until": 200})).await;
    assert_eq!(body["error"]["code"], "support-after-end-of-life", "{status}");
    let (status, _) = call(&w, Some(&w.rm), "POST", &eol, json!({"end_of_life": 2_000_000_000})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) =
        call(&w, Some(&w.rm), "POST", "/api/v1/projects/foo/lines/one/dates", json!({"end_of_life": 5})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid-line")));
    let (status, event) =
        call(&w, Some(&w.rm), "POST", "/api/v1/projects/foo/lines/1.x/dates", json!({"end_of_life": 5})).await;
    assert_eq!((status, event["line"].as_str()), (StatusCode::OK, Some("1.x")));
    let (status, body) = call(&w, Some(&w.rm), "POST", &format!("{REL}/archive"), json!({})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("wrong-stage")));
    let (status, cle) = call(&w, None, "GET", "/api/v1/projects/foo/cle", Value::Null).await;
    assert_eq!(status, StatusCode::OK);
    let kinds: Vec<&str> = cle["events"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["endOfLife", "endOfLife"], "{cle}");
    let (status, eol_json) = call(&w, None, "GET", "/api/v1/projects/foo/endoflife.json", Value::Null).await;
    assert_eq!((status, eol_json), (StatusCode::OK, json!([])), "nothing was released");
}

#[tokio::test]
async fn unknown_fields_bad_queries_and_unknown_projects_are_refused_with_a_code() {
    let w = with_release().await;
    let revoke = format!("{REL}/revoke");
    let (status, body) = call(&w, Some(&w.rm), "POST", &revoke, json!({"reason": "x", "extra": true})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (_, status_after) = call(&w, None, "GET", "/api/v1/projects/foo/releases?state=revoked", Value::Null).await;
    assert_eq!(status_after["by_state"]["revoked"], Value::Null, "nothing was revoked: {status_after}");

    let (status, body) = call(&w, None, "GET", "/api/v1/events?project=foo&after=abc", Value::Null).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid-query")), "{body}");

    for path in ["/api/v1/events?project=nope", "/api/v1/events/verify?project=nope"] {
        let (status, body) = call(&w, None, "GET", path, Value::Null).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::NOT_FOUND, Some("not-found")),
            "{path}: {body}"
        );
    }
}

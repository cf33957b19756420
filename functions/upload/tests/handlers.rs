//! The upload function's routes driven as the API host drives them, without a server:
//! requests go straight into the router.

use axum::http::StatusCode;
use serde_json::{Value, json};
use trs_app::test_support::{Actor, World, world};

async fn call(w: &World, actor: Option<&Actor>, method: &str, path: &str, body: Value) -> (StatusCode, Value) {
    trs_http::testing::call(trs_function_upload::routes().with_state(w.app.clone()), actor, method, path, body).await
}

const START: &str = "/api/v1/projects/foo/releases/1.0.0/uploads";

#[tokio::test]
async fn starting_an_upload_returns_one_upload_url_per_file() {
    let w = world().await;
    let body = json!({"files": [{"path": "a.tar.gz", "size": 10}, {"path": "a.tar.gz.asc", "size": 2}]});
    let (status, started) = call(&w, Some(&w.rm), "POST", START, body).await;
    assert_eq!(status, StatusCode::CREATED, "{started}");
    let files = started["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!(files[0]["upload"]["method"], "PUT");
    assert!(files[0]["upload"]["url"].as_str().unwrap().contains("/api/v1/blob-upload/"));
    assert_ne!(files[0]["upload"]["url"], files[1]["upload"]["url"]);
}

#[tokio::test]
async fn unsigned_calls_are_refused_with_a_reason() {
    let w = world().await;
    let (status, body) = call(&w, None, "POST", START, json!({"files": []})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "missing-header");
}

#[tokio::test]
async fn a_committer_may_not_upload() {
    let w = world().await;
    let (status, body) =
        call(&w, Some(&w.committer), "POST", START, json!({"files": [{"path": "a", "size": 1}]})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["code"], "forbidden-role");
}

#[tokio::test]
async fn hostile_names_are_refused_before_anything_is_stored() {
    let w = world().await;
    for name in ["../x", "/etc/passwd", "a\\b", ".git/config", "a\u{0}b"] {
        let (status, body) = call(&w, Some(&w.rm), "POST", START, json!({"files": [{"path": name, "size": 1}]})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name:?}");
        assert_eq!(body["error"]["code"], "hostile-file-name", "{name:?}");
    }
    let (status, _) = call(&w, None, "GET", "/api/v1/projects/foo/releases/1.0.0", Value::Null).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing was created");
}

/// Names outside the portable set (shell syntax, invisible and bidirectional characters,
/// Windows device names) are refused with their own code, naming the reason.
#[tokio::test]
async fn unportable_names_are_refused_before_anything_is_stored() {
    let w = world().await;
    for (name, reason) in [
        ("apache-foo-6.2$(touch${IFS}PWNED).tar.gz", "'$'"),
        ("foo 1.0.tar.gz", "U+0020"),
        ("evil\u{202E}zip.exe", "U+202E"),
        ("a\u{200B}.zip", "U+200B"),
        ("a\u{2028}.zip", "U+2028"),
        ("\u{FEFF}a.zip", "U+FEFF"),
        ("a\u{034F}.zip", "U+034F"),
        ("a.zip\u{00A0}", "U+00A0"),
        ("CON", "Windows device name"),
        ("nul.txt", "Windows device name"),
        ("aux", "Windows device name"),
        ("COM1.zip", "Windows device name"),
        ("-rf", "option"),
    ] {
        let files = json!([{"path": "ok-1.0.tar.gz", "size": 1}, {"path": name, "size": 1}]);
        let (status, body) = call(&w, Some(&w.rm), "POST", START, json!({ "files": files })).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name:?}");
        assert_eq!(body["error"]["code"], "unportable-file-name", "{name:?}");
        assert!(body["error"]["message"].as_str().unwrap().contains(reason), "{name:?}: {body}");
    }
    let (status, _) = call(&w, None, "GET", "/api/v1/projects/foo/releases/1.0.0", Value::Null).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "nothing was created");
}

#[tokio::test]
async fn malformed_bodies_get_a_400() {
    let w = world().await;
    let (status, body) = call(&w, Some(&w.rm), "POST", START, json!({"files": "nope"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "malformed-request");
    // Names the handlers parse from the contract's text fields are refused as the typed
    // fields refused them when the body was read: a malformed body, whatever else is wrong.
    let file = json!({"path": "foo-1.0.0.tar.gz", "size": 1, "sha512": "ab".repeat(64)});
    let import = "/api/v1/projects/foo/releases/1.0.0/import";
    for (path, sent) in [
        (START, json!({"product": "Not A Name", "files": [{"path": "a.tar.gz", "size": 1}]})),
        (START, json!({"files": [{"path": "a.tar.gz", "size": 1, "sha512": "ab"}]})),
        (import, json!({"product": "latest", "stage": "current", "released_at": 5, "files": [file]})),
        (
            import,
            json!({"stage": "current", "released_at": 5, "files": [{"path": "a.tar.gz", "size": 1, "sha512": "not hex"}]}),
        ),
        (import, json!({"stage": "current", "released_at": 5, "files": [file], "colour": "red"})),
        ("/api/v1/uploads/0123456789abcdef0123456789abcdef/commit", json!({"parts": {}, "colour": "red"})),
    ] {
        let (status, body) = call(&w, Some(&w.rm), "POST", path, sent.clone()).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some("malformed-request")),
            "{sent}"
        );
    }
}

#[tokio::test]
async fn committing_an_unknown_upload_is_a_404() {
    let w = world().await;
    let path = format!("/api/v1/uploads/{}/commit", "0".repeat(32));
    let (status, body) = call(&w, Some(&w.rm), "POST", &path, json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

#[tokio::test]
async fn discarding_a_draft_is_a_signed_call_of_those_who_manage_releases() {
    let w = world().await;
    const DISCARD: &str = "/api/v1/projects/foo/releases/1.0.0/discard";
    let (status, body) = call(&w, Some(&w.rm), "POST", DISCARD, json!({})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("not-found")), "{body}");
    trs_app::test_support::commit_files(
        &w.app,
        &w.blobs,
        &w.rm.caller(),
        &trs_app::test_support::release(),
        &[("a.tar.gz", b"a")],
    )
    .await;
    let (status, body) = call(&w, None, "POST", DISCARD, json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, body) = call(&w, Some(&w.committer), "POST", DISCARD, json!({})).await;
    assert_eq!((status, body["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden-role")), "{body}");
    let (status, body) = call(&w, Some(&w.rm), "POST", DISCARD, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["revision"], 1);
    let (status, _) = call(&w, None, "GET", "/api/v1/projects/foo/releases/1.0.0", Value::Null).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the draft is gone");
}

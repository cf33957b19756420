//! The vote function's routes driven as the API host drives them, without a server.

use axum::http::StatusCode;
use bytes::Bytes;
use serde_json::{Value, json};
use trs_app::test_support::{Actor, World, release, world};
use trs_app::upload::{DeclaredFile, StartUpload, commit_upload, start_upload};
use trs_core::PolicyOverride;

const VOTE: &str = "/api/v1/projects/foo/releases/1.0.0/vote";

async fn call(w: &World, actor: Option<&Actor>, method: &str, path: &str, body: Value) -> (StatusCode, Value) {
    trs_http::testing::call(trs_function_vote::routes().with_state(w.app.clone()), actor, method, path, body).await
}

/// `foo 1.0.0` with one uploaded, verified file, and a policy that lets its vote open.
async fn candidate() -> World {
    let w = world().await;
    let change = PolicyOverride { strict: Some(false), min_vote_hours: Some(48), ..Default::default() };
    trs_app::projects::set_policy(&w.app, &w.rm.caller(), &"foo".parse().unwrap(), None, change).await.unwrap();
    let req = StartUpload {
        product: None,
        files: vec![DeclaredFile { path: "a.txt".into(), size: 1 }],
        force: false,
        base: None,
        ..Default::default()
    };
    let started = start_upload(&w.app, &w.rm.caller(), release(), req).await.unwrap();
    let token = started.files[0].upload.as_ref().unwrap().url.rsplit('/').next().unwrap().to_string();
    w.blobs
        .accept_upload(&token, w.app.now(), Box::pin(futures::stream::iter(vec![Ok(Bytes::from_static(b"a"))])))
        .await
        .unwrap();
    let committed = commit_upload(&w.app, &w.rm.caller(), &started.id).await.unwrap();
    trs_app::tasks::run(&w.app, committed.task.as_ref().unwrap()).await.unwrap();
    w
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

#[tokio::test]
async fn a_committer_may_not_open_close_or_cancel_a_vote() {
    let w = candidate().await;
    let (status, body) = call(&w, Some(&w.committer), "POST", VOTE, json!({})).await;
    assert_eq!((status, code(&body)), (StatusCode::FORBIDDEN, "forbidden-role"));
    let (status, _) = call(&w, Some(&w.rm), "POST", VOTE, json!({})).await;
    assert_eq!(status, StatusCode::CREATED);
    for action in ["close", "cancel"] {
        let (status, body) = call(&w, Some(&w.committer), "POST", &format!("{VOTE}/{action}"), json!({})).await;
        assert_eq!((status, code(&body)), (StatusCode::FORBIDDEN, "forbidden-role"), "{action}");
    }
}

#[tokio::test]
async fn unsigned_calls_are_refused() {
    let w = candidate().await;
    let (status, body) = call(&w, None, "POST", &format!("{VOTE}/ballots"), json!({"value": "+1"})).await;
    assert_eq!((status, code(&body)), (StatusCode::UNAUTHORIZED, "missing-header"));
}

#[tokio::test]
async fn a_vote_is_opened_cast_on_shown_and_refused_where_it_must_be() {
    let w = candidate().await;
    let (status, body) = call(&w, None, "GET", VOTE, Value::Null).await;
    assert_eq!((status, code(&body)), (StatusCode::NOT_FOUND, "not-found"), "no vote yet");
    let (status, body) = call(&w, Some(&w.rm), "POST", VOTE, json!({"duration_hours": 12})).await;
    assert_eq!((status, code(&body)), (StatusCode::BAD_REQUEST, "vote-too-short"));

    let (status, opened) = call(&w, Some(&w.rm), "POST", VOTE, json!({"duration_hours": 50})).await;
    assert_eq!(status, StatusCode::CREATED, "{opened}");
    assert_eq!(opened["stage"], "candidate");
    assert_eq!(opened["vote"]["state"], "open");
    assert_eq!(opened["vote"]["revision"]["number"], 1);
    let (status, body) = call(&w, Some(&w.rm), "POST", VOTE, json!({})).await;
    assert_eq!((status, code(&body)), (StatusCode::CONFLICT, "vote-already-open"));

    let (status, body) = call(&w, Some(&w.admin), "POST", &format!("{VOTE}/ballots"), json!({"value": "+2"})).await;
    assert_eq!((status, code(&body)), (StatusCode::BAD_REQUEST, "malformed-request"));
    let (status, cast) =
        call(&w, Some(&w.admin), "POST", &format!("{VOTE}/ballots"), json!({"value": "+1", "comment": "good"})).await;
    assert_eq!(status, StatusCode::CREATED, "{cast}");
    assert_eq!(cast["ballot"]["binding"], true);
    let (status, cast) = call(&w, Some(&w.committer), "POST", &format!("{VOTE}/ballots"), json!({"value": "-1"})).await;
    assert_eq!(status, StatusCode::CREATED, "{cast}");
    assert_eq!(cast["ballot"]["binding"], false);

    let (status, view) = call(&w, None, "GET", VOTE, Value::Null).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(view["ballots"].as_array().unwrap().len(), 2);
    assert_eq!(view["tally"]["binding_plus"], 1);
    assert_eq!(view["tally"]["non_binding_minus"], 1);
    assert!(view["resolution"]["explanation"].as_str().unwrap().starts_with("Failed: needs at least 3 binding +1"));

    let (status, body) = call(&w, Some(&w.rm), "POST", &format!("{VOTE}/close"), json!({})).await;
    assert_eq!((status, code(&body)), (StatusCode::CONFLICT, "vote-too-young"));
    assert!(body["error"]["message"].as_str().unwrap().contains("50 h"), "{body}");
    // The world's clock moves only when told, so the time left is exact on a busy machine too.
    w.clock.advance(60);
    let (status, body) = call(&w, Some(&w.rm), "POST", &format!("{VOTE}/close"), json!({})).await;
    assert_eq!((status, code(&body)), (StatusCode::CONFLICT, "vote-too-young"));
    assert!(body["error"]["message"].as_str().unwrap().contains("49 h 59 min"), "{body}");

    let (status, email) = call(&w, None, "GET", &format!("{VOTE}/email"), Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{email}");
    assert!(email["body"].as_str().unwrap().contains("$TRS_URL/api/v1/projects/foo/KEYS"), "no public URL: {email}");
    assert!(email["body"].as_str().unwrap().contains(opened["vote"]["revision"]["key"].as_str().unwrap()));
    let (status, body) = call(&w, None, "GET", &format!("{VOTE}/email?result=true"), Value::Null).await;
    assert_eq!((status, code(&body)), (StatusCode::CONFLICT, "vote-not-closed"));

    let (status, cancelled) = call(&w, Some(&w.rm), "POST", &format!("{VOTE}/cancel"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{cancelled}");
    assert_eq!(
        (cancelled["stage"].as_str(), cancelled["vote"]["state"].as_str()),
        (Some("candidate-draft"), Some("cancelled"))
    );
    let (status, body) = call(&w, Some(&w.rm), "POST", &format!("{VOTE}/cancel"), json!({})).await;
    assert_eq!((status, code(&body)), (StatusCode::CONFLICT, "no-open-vote"));
    let (status, body) = call(&w, Some(&w.admin), "POST", &format!("{VOTE}/ballots"), json!({"value": "0"})).await;
    assert_eq!((status, code(&body)), (StatusCode::CONFLICT, "no-open-vote"));
}

#[tokio::test]
async fn bad_names_are_a_400_and_unknown_releases_a_404() {
    let w = candidate().await;
    let (status, body) =
        call(&w, None, "GET", "/api/v1/projects/foo/releases/1.0.0/vote?product=..", Value::Null).await;
    assert_eq!((status, code(&body)), (StatusCode::BAD_REQUEST, "invalid-name"));
    // A bad name in a body makes the body malformed, as one in a path or query is an invalid name.
    let (status, body) = call(&w, Some(&w.rm), "POST", VOTE, json!({"product": "Latest"})).await;
    assert_eq!((status, code(&body)), (StatusCode::BAD_REQUEST, "malformed-request"), "{body}");
    let (status, _) = call(&w, Some(&w.rm), "POST", "/api/v1/projects/foo/releases/9.9.9/vote", json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// The email's links come from the configured public URL only: a caller's `Host` or
/// `X-Forwarded-Host` cannot put their own address into what the release manager sends, and
/// no shared cache keeps the answer (issue 13, item 11).
#[tokio::test]
async fn the_email_links_to_the_configured_url_whatever_the_request_says() {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    let mut w = candidate().await;
    w.app.public_url = Some("https://trs.example.org/".into());
    let (status, opened) = call(&w, Some(&w.rm), "POST", VOTE, json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{opened}");
    let request = Request::get(format!("{VOTE}/email"))
        .header("host", "evil.example")
        .header("x-forwarded-host", "evil.example")
        .header("x-forwarded-proto", "https")
        .body(Body::empty())
        .unwrap();
    let answer = trs_function_vote::routes().with_state(w.app.clone()).oneshot(request).await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(answer.headers()["cache-control"], "no-store");
    let email: Value =
        serde_json::from_slice(&axum::body::to_bytes(answer.into_body(), 1 << 20).await.unwrap()).unwrap();
    let body = email["body"].as_str().unwrap();
    assert!(body.contains("https://trs.example.org/api/v1/projects/foo/KEYS"), "{body}");
    assert!(!body.contains("evil"), "{body}");
}

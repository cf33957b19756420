//! Snapshots of the API's JSON answers, taken from one realistic flow on the embedded stores:
//! project `foo` with its people, `foo 1.0.0` uploaded (an archive, rita's signature of it and
//! its `.sha512`) and verified, a vote opened and two ballots cast. The archive is not gzip, so
//! the status shows a failed check next to passed ones. Each answer is the body the function's
//! router answers to the request (the routes every host mounts, driven without a server),
//! parsed once as its `trs-api` type to hold it to the documented shape:
//!
//! - `project_view`: `GET /api/v1/projects/foo` ([`trs_api::projects::ProjectDetail`]);
//! - `release_status`: `GET /api/v1/projects/foo/releases/1.0.0`, its files with their checks;
//! - `releases_view`: `GET /api/v1/projects/foo/releases` ([`trs_api::stream::ReleasesView`]);
//! - `vote_view`: `GET …/1.0.0/vote`, the ballots, the tally and what closing now would decide;
//! - `release_history`: `GET …/1.0.0/history`, the release's events from the stream;
//! - `error_document`: the `{"error": {"code", "message"}}` document (with its status) of a
//!   refused call, opening a vote that is already open (a signed call the vote router refuses).
//!
//! Times are the test clock's ([`START`] onwards; the refused call's, which no answer shows,
//! is set from rita's key). What differs per run is replaced: every
//! fingerprint of a person's (fresh) key, wherever it appears, by whose key it is (`[rita's
//! key]`), so the snapshots still say who signed and who acted; by insta's redactions, the sum and
//! size of the signature file (sequoia signs at the wall clock), the revision key made of the
//! files' sums, the stream's hash chain (events name keys), the `[VOTE]` mail's `Message-ID`
//! (random) and the project's creation time (written before the test clock is set).
//!
//! The snapshots are in `snapshots/` next to this file; `./test.sh` checks them and never writes
//! them (`INSTA_UPDATE=no`). After a deliberate change of an answer, rewrite them with
//! `INSTA_UPDATE=always cargo test -p trs-app --test use_cases api_snapshots`, then review
//! the diff of every `.snap` file as the new expectation before committing it.

use serde::de::DeserializeOwned;
use serde_json::Value;
use sha2::Digest;
use trs_app::test_support::{Actor, World, release, upload_files, world};
use trs_app::{App, projects, vote};
use trs_auth::RequestSigner;
use trs_core::{PolicyOverride, VoteValue};

/// 2030-01-01T00:00:00Z: after the wall clock at which the keys and the signature are made.
const START: i64 = 1_893_456_000;

/// The artifact of `foo 1.0.0`, with its detached signature by rita and its checksum file.
fn files(w: &World) -> Vec<(String, Vec<u8>)> {
    let bytes = b"the release archive".to_vec();
    let signer = trs_auth::KeyFileSigner::from_cert(&w.rm.tsk, None).unwrap();
    let sum = format!("{}  foo-1.0.0.tar.gz\n", hex::encode(sha2::Sha512::digest(&bytes)));
    vec![
        ("foo-1.0.0.tar.gz.asc".into(), signer.sign_detached(&bytes).unwrap()),
        ("foo-1.0.0.tar.gz.sha512".into(), sum.into_bytes()),
        ("foo-1.0.0.tar.gz".into(), bytes),
    ]
}

/// Each fingerprint (upper-case hex, as the API writes them) of the people's keys, with the
/// name that replaces it: `[rita's key]` for the primary key, `[rita's subkey 1]`, … after it.
fn key_names(w: &World) -> Vec<(String, String)> {
    let mut names = Vec::new();
    for actor in [&w.admin, &w.rm, &w.committer] {
        let uid = &actor.person.uid;
        for (i, key) in actor.tsk.keys().enumerate() {
            let name = if i == 0 { format!("[{uid}'s key]") } else { format!("[{uid}'s subkey {i}]") };
            names.push((key.key().fingerprint().to_hex(), name));
        }
    }
    names
}

fn name_keys(value: &mut Value, names: &[(String, String)]) {
    match value {
        Value::String(text) => {
            for (fingerprint, name) in names {
                *text = text.replace(fingerprint.as_str(), name);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| name_keys(v, names)),
        Value::Object(fields) => fields.values_mut().for_each(|v| name_keys(v, names)),
        _ => {}
    }
}

/// `json`, an answer's body, which must parse as the API type `T` the OpenAPI document names,
/// with the people's key fingerprints named.
fn body<T: DeserializeOwned>(mut json: Value, names: &[(String, String)]) -> Value {
    if let Err(e) = serde_json::from_value::<T>(json.clone()) {
        panic!("not a {}: {e}\n{json:#}", std::any::type_name::<T>());
    }
    name_keys(&mut json, names);
    json
}

/// The status and JSON body `router` (a function's routes, as every host mounts them)
/// answers to `method path` with the body `{}`, signed by `actor` (if given) at the test
/// clock's time.
async fn answer_with_status(
    w: &World,
    router: axum::Router<App>,
    actor: Option<&Actor>,
    method: &str,
    path: &str,
) -> (u16, Value) {
    let body = if method == "GET" { Value::Null } else { serde_json::json!({}) };
    let router = router.with_state(w.app.clone());
    let (status, json) = trs_http::testing::call_signed_at(router, actor, method, path, body, w.app.now()).await;
    (status.as_u16(), json)
}

/// The JSON body of `router`'s successful answer to `GET path` (unsigned).
async fn get(w: &World, router: axum::Router<App>, path: &str) -> Value {
    let (status, json) = answer_with_status(w, router, None, "GET", path).await;
    assert_eq!(status, 200, "GET {path}: {json}");
    json
}

/// Settings of every snapshot here: no module prefix in the file name, no expression in the
/// header (the test names the request).
fn settings(request: &str) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_description(request);
    settings
}

#[tokio::test]
async fn the_api_answers_of_a_release_flow_match_their_snapshots() {
    let w = world().await;
    w.clock.set(START);
    let (app, id, names) = (&w.app, release(), key_names(&w));
    let change = PolicyOverride { strict: Some(false), min_vote_hours: Some(48), ..Default::default() };
    projects::set_policy(app, &w.rm.caller(), &"foo".parse().unwrap(), None, change).await.unwrap();
    w.clock.advance(60);
    let files = files(&w);
    let borrowed: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
    upload_files(app, &w.blobs, &w.rm.caller(), &id, &borrowed).await;
    w.clock.advance(60);
    vote::open(app, &w.rm.caller(), &id, None).await.unwrap();
    w.clock.advance(3600);
    vote::cast(app, &w.admin.caller(), &id, VoteValue::Plus, Some("Checked the signature.".into())).await.unwrap();
    vote::cast(app, &w.committer.caller(), &id, VoteValue::Zero, None).await.unwrap();
    w.clock.advance(3600);

    let view = get(&w, trs_function_admin::routes(), "/api/v1/projects/foo").await;
    settings("GET /api/v1/projects/foo").bind(|| {
        insta::assert_json_snapshot!("project_view", body::<trs_api::projects::ProjectDetail>(view, &names), {
            ".created_at" => "[time before the test clock]",
        });
    });

    let status = get(&w, trs_function_upload::routes(), "/api/v1/projects/foo/releases/1.0.0").await;
    settings("GET /api/v1/projects/foo/releases/1.0.0").bind(|| {
        insta::assert_json_snapshot!("release_status", body::<trs_api::releases::ReleaseStatus>(status, &names), {
            // Files are sorted by path: the archive, its signature, its checksum file.
            ".files[1].sha512" => "[sha512 of the signature]",
            ".files[1].size" => "[size of the signature]",
            ".revision_key" => "[revision key]",
            ".vote.revision.key" => "[revision key]",
        });
    });

    let releases = get(&w, trs_function_stream::routes(), "/api/v1/projects/foo/releases").await;
    settings("GET /api/v1/projects/foo/releases").bind(|| {
        insta::assert_json_snapshot!("releases_view", body::<trs_api::stream::ReleasesView>(releases, &names));
    });

    let shown = get(&w, trs_function_vote::routes(), "/api/v1/projects/foo/releases/1.0.0/vote").await;
    settings("GET /api/v1/projects/foo/releases/1.0.0/vote").bind(|| {
        insta::assert_json_snapshot!("vote_view", body::<trs_api::votes::VoteView>(shown, &names), {
            ".vote.revision.key" => "[revision key]",
            ".vote_message_id" => "[message id]",
        });
    });

    let history = get(&w, trs_function_stream::routes(), "/api/v1/projects/foo/releases/1.0.0/history").await;
    settings("GET /api/v1/projects/foo/releases/1.0.0/history").bind(|| {
        insta::assert_json_snapshot!("release_history", body::<trs_api::stream::ReleaseHistory>(history, &names), {
            ".events[].hash" => "[event hash]",
            ".events[].prev" => "[event hash]",
            ".events[].revision_key" => "[revision key]",
        });
    });

    // A signed call is checked against the keys' validity, and the people's keys (made at the
    // wall clock) expire before START: the refused call is signed, and taken, an hour after
    // rita's key was made. Its answer says nothing of the time.
    let made = w.rm.tsk.primary_key().key().creation_time();
    w.clock.set(made.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64 + 3600);
    let (status, refused) = answer_with_status(
        &w,
        trs_function_vote::routes(),
        Some(&w.rm),
        "POST",
        "/api/v1/projects/foo/releases/1.0.0/vote",
    )
    .await;
    let error = serde_json::json!({"status": status, "body": body::<trs_api::ErrorBody>(refused, &names)});
    settings("POST /api/v1/projects/foo/releases/1.0.0/vote (a vote is open)").bind(|| {
        insta::assert_json_snapshot!("error_document", error);
    });
}

//! Snapshots of the API's JSON answers, taken from one realistic flow on the embedded stores:
//! project `foo` with its people, `foo 1.0.0` uploaded (an archive, rita's signature of it and
//! its `.sha512`) and verified, a vote opened and two ballots cast. The archive is not gzip, so
//! the status shows a failed check next to passed ones. Each answer is the value the
//! function handler puts in its JSON body (the same call), parsed once as its `trs-api` type
//! to hold it to the documented shape:
//!
//! - `project_view`: `GET /api/v1/projects/foo` ([`trs_api::projects::ProjectDetail`]);
//! - `release_status`: `GET /api/v1/projects/foo/releases/1.0.0`, its files with their checks;
//! - `releases_view`: `GET /api/v1/projects/foo/releases` ([`trs_api::stream::ReleasesView`]);
//! - `vote_view`: `GET …/1.0.0/vote`, the ballots, the tally and what closing now would decide;
//! - `release_history`: `GET …/1.0.0/history`, the release's events from the stream;
//! - `error_document`: the `{"error": {"code", "message"}}` document (with its status) of a
//!   refused call, opening a vote that is already open (as trs-http's `ApiError` writes it).
//!
//! Times are the test clock's ([`START`] onwards). What differs per run is replaced: every
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

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use sha2::Digest;
use trs_app::test_support::{World, release, upload_files, world};
use trs_app::{api_views, projects, release_views, status, vote};
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

/// `value` as its JSON body, which must parse as the API type `T` the OpenAPI document names,
/// with the people's key fingerprints named.
fn body<T: DeserializeOwned>(value: &impl Serialize, names: &[(String, String)]) -> Value {
    let mut json = serde_json::to_value(value).unwrap();
    if let Err(e) = serde_json::from_value::<T>(json.clone()) {
        panic!("not a {}: {e}\n{json:#}", std::any::type_name::<T>());
    }
    name_keys(&mut json, names);
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
    let (app, id, project, names) = (&w.app, release(), "foo".parse().unwrap(), key_names(&w));
    let change = PolicyOverride { strict: Some(false), min_vote_hours: Some(48), ..Default::default() };
    projects::set_policy(app, &w.rm.caller(), &project, None, change).await.unwrap();
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

    let view = projects::show_project(app, &project).await.unwrap();
    settings("GET /api/v1/projects/foo").bind(|| {
        insta::assert_json_snapshot!("project_view", body::<trs_api::projects::ProjectDetail>(&view, &names), {
            ".created_at" => "[time before the test clock]",
        });
    });

    let status = status::release_status(app, &id).await.unwrap();
    settings("GET /api/v1/projects/foo/releases/1.0.0").bind(|| {
        insta::assert_json_snapshot!("release_status", body::<trs_api::releases::ReleaseStatus>(&status, &names), {
            // Files are sorted by path: the archive, its signature, its checksum file.
            ".files[1].sha512" => "[sha512 of the signature]",
            ".files[1].size" => "[size of the signature]",
            ".revision_key" => "[revision key]",
            ".vote.revision.key" => "[revision key]",
        });
    });

    let scope = release_views::Scope { project: Some(project.clone()), product: None };
    let releases =
        trs_api::stream::ReleasesView::from(release_views::releases_view(app, &scope, None, None).await.unwrap());
    settings("GET /api/v1/projects/foo/releases").bind(|| {
        insta::assert_json_snapshot!("releases_view", body::<trs_api::stream::ReleasesView>(&releases, &names));
    });

    let shown = vote::show(app, &id).await.unwrap();
    settings("GET /api/v1/projects/foo/releases/1.0.0/vote").bind(|| {
        insta::assert_json_snapshot!("vote_view", body::<trs_api::votes::VoteView>(&shown, &names), {
            ".vote.revision.key" => "[revision key]",
            ".vote_message_id" => "[message id]",
        });
    });

    let history = trs_api::stream::ReleaseHistory {
        events: release_views::release_history(app, &id).await.unwrap().iter().map(api_views::event).collect(),
        release: id.to_string(),
    };
    settings("GET /api/v1/projects/foo/releases/1.0.0/history").bind(|| {
        insta::assert_json_snapshot!("release_history", body::<trs_api::stream::ReleaseHistory>(&history, &names), {
            ".events[].hash" => "[event hash]",
            ".events[].prev" => "[event hash]",
            ".events[].revision_key" => "[revision key]",
        });
    });

    let refused = vote::open(app, &w.rm.caller(), &id, None).await.unwrap_err();
    let error = serde_json::json!({
        "status": refused.status(),
        "body": body::<trs_api::ErrorBody>(&trs_api::ErrorBody::new(refused.code(), refused.to_string()), &names),
    });
    settings("POST /api/v1/projects/foo/releases/1.0.0/vote (a vote is open)").bind(|| {
        insta::assert_json_snapshot!("error_document", error);
    });
}

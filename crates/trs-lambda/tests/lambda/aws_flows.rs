//! Flows that broke on the AWS deployment, run on DynamoDB, S3, SQS and CloudFront as moto
//! emulates them: every query the domain makes, with the bounds it uses; the lifecycle
//! function's scheduled tick; revocation (public objects gone, bytes kept privately, the
//! paths invalidated); the scheduled sweep that announces a task whose message was lost; and a
//! release of 5,000 files, whose manifest and report outgrow one DynamoDB item.

use crate::aws::{BUCKET, TABLE, aws_env, response};
use crate::support::fixture;
use crate::support::runtime_api::RuntimeApi;
use serde_json::json;
use std::sync::Arc;
use trs_app::tasks::{Task, TaskKind};
use trs_app::test_support::{commit_files_to_store, force_current_for_tests, team, upload_files_to_store};
use trs_app::{App, lifecycle, public, storage_keys, stream};
use trs_core::{ReleaseId, StreamId};
use trs_storage::{Condition, Item};
use trs_storage_aws::moto::MotoServer;
use trs_storage_aws::{CloudFrontInvalidator, DynamoItemStore, S3BlobStore, S3SiteStore, clients, provision};

fn moto() -> MotoServer {
    MotoServer::start().expect("start moto (test.sh installs moto[server])")
}

/// The application on moto's table and bucket, both created from infra/template.json.
async fn aws_app(moto: &MotoServer) -> App {
    let (dynamo, s3) = clients(&moto.sdk_config(), true);
    provision::ensure_table(&dynamo, TABLE).await.unwrap();
    provision::ensure_bucket(&s3, BUCKET).await.unwrap();
    App::new(Arc::new(DynamoItemStore::new(dynamo, TABLE)), Arc::new(S3BlobStore::new(s3, BUCKET)))
}

fn rid(version: &str) -> ReleaseId {
    ReleaseId { project: "foo".parse().unwrap(), product: None, version: version.parse().unwrap() }
}

/// The keys of the objects under `prefix`.
async fn objects(app: &App, prefix: &str) -> Vec<String> {
    app.blobs.list(prefix, None, 1000).await.unwrap().into_iter().map(|m| m.key).collect()
}

#[tokio::test]
async fn every_domain_query_answers_on_dynamodb_as_the_model_says() {
    let moto = moto();
    let (dynamo, _) = clients(&moto.sdk_config(), true);
    provision::ensure_table(&dynamo, TABLE).await.unwrap();
    let (items, queries) = storage_keys::contract_queries();
    trs_storage::contract::item_queries_match_the_model(Arc::new(DynamoItemStore::new(dynamo, TABLE)), items, queries)
        .await;
}

#[tokio::test]
async fn the_lifecycle_function_runs_its_scheduled_tick_on_dynamodb() {
    let moto = moto();
    let app = aws_app(&moto).await;
    // Due long ago, for a release that does not exist: the tick must read it (the query
    // DynamoDB refused with an empty lower bound), find it stale and remove it.
    let due = storage_keys::due(100, "end-of-life", &rid("9.9.9"));
    app.items.put(Item::new(due.clone(), json!({})), Condition::Absent).await.unwrap();

    let api = RuntimeApi::start("trs-lifecycle").await;
    let _function = api.spawn(env!("CARGO_BIN_EXE_trs-lambda-lifecycle"), &aws_env(&moto));
    let report = response(api.invoke(fixture("eventbridge-scheduled.json")).await);
    assert_eq!(report["items"][0]["release"], "foo/9.9.9", "{report:#}");
    assert_eq!(report["items"][0]["outcomes"][0]["outcome"], "stale", "{report:#}");
    assert_eq!(report["announced"], json!([]), "{report:#}");
    assert!(app.items.get(&due).await.unwrap().is_none(), "the stale due item was removed");
}

#[tokio::test]
async fn a_revoked_release_leaves_its_public_paths_and_the_cdn_while_its_bytes_stay_private() {
    let moto = moto();
    let app = aws_app(&moto).await;
    let people = team(&app).await;
    let rm = people.rm.caller();
    for v in ["1.0.0", "1.1.0"] {
        let name = format!("foo-{v}.tar.gz");
        upload_files_to_store(&app, &rm, &rid(v), &[(name.as_str(), format!("release {v}").as_bytes())]).await;
        force_current_for_tests(&app, &rid(v), &rm).await;
    }
    lifecycle::archive_release(&app, Some(&rm), &rid("1.0.0")).await.unwrap();
    assert_eq!(objects(&app, "archive/foo/").await, ["archive/foo/1.0.0/foo-1.0.0.tar.gz"]);
    assert_eq!(objects(&app, "current/foo/").await, ["current/foo/1.1.0/foo-1.1.0.tar.gz"]);
    let private = objects(&app, "files/").await;
    assert_eq!(private.len(), 2, "{private:?}");

    let from_current = lifecycle::revoke(&app, &rm, &rid("1.1.0"), "CVE-2099-0001").await.unwrap();
    let from_archive = lifecycle::revoke(&app, &rm, &rid("1.0.0"), "CVE-2099-0002").await.unwrap();
    assert_eq!(objects(&app, "current/").await, Vec::<String>::new(), "nothing left at current paths");
    assert_eq!(objects(&app, "archive/").await, Vec::<String>::new(), "nothing left at archive paths");
    assert_eq!(objects(&app, "files/").await, private, "the bytes stay, content-addressed and private");
    for (segment, path) in [("current", "foo/1.1.0/foo-1.1.0.tar.gz"), ("archive", "foo/1.0.0/foo-1.0.0.tar.gz")] {
        let err = public::resolve(&app, segment, path).await.unwrap_err();
        assert_eq!(err.code(), "release-revoked", "/{segment}/{path}");
    }
    assert!(public::latest_current(&app, &"foo".parse().unwrap(), None).await.unwrap().is_none());

    // The publish-site function, handed each revocation's event, makes CloudFront forget the
    // release's paths and `latest`.
    let sdk = moto.sdk_config();
    let (_, s3) = clients(&sdk, true);
    provision::ensure_site_bucket(&s3, "site").await.unwrap();
    let cloudfront = trs_storage_aws::cloudfront(&sdk);
    let distribution = trs_storage_aws::moto::create_distribution(&cloudfront).await;
    let cdn = Arc::new(CloudFrontInvalidator::new(cloudfront.clone(), distribution.clone()));
    let site = Arc::new(S3SiteStore::new(s3, "site"));
    let renderer = trs_function_site::renderer(None);
    for (event, expected) in [
        (&from_current, ["/current/foo/1.1.0/*", "/current/foo/latest/*"]),
        (&from_archive, ["/archive/foo/1.0.0/*", "/current/foo/latest/*"]),
    ] {
        let report =
            trs_function_site::publish_event(&app, renderer.clone(), site.clone(), cdn.clone(), event).await.unwrap();
        let id = report.invalidation_id.expect("an invalidation");
        let made = cloudfront.get_invalidation().distribution_id(&distribution).id(&id).send().await.unwrap();
        let paths = made.invalidation().unwrap().invalidation_batch().unwrap().paths().unwrap().items().to_vec();
        for path in expected {
            assert!(paths.iter().any(|p| p == path), "{path} not invalidated: {paths:?}");
        }
    }
    let events = stream::all_events(&app, &StreamId::Project("foo".parse().unwrap())).await.unwrap();
    assert_eq!(events.iter().filter(|e| e.change.type_name() == "revoked").count(), 2);
}

#[tokio::test]
async fn the_scheduled_run_announces_a_task_whose_queue_message_was_lost() {
    let moto = moto();
    let app = aws_app(&moto).await;
    let sqs = aws_sdk_sqs::Client::new(&moto.sdk_config());
    let (verify_queue, _) = trs_messaging_aws::testing::queue(&sqs, "verify").await;
    // Queued long ago and never announced (its SendMessage failed after the commit)…
    let lost = Task::new(TaskKind::Verify { release: rid("1.0.0"), revision: 1 }, 1_000);
    app.items.put(lost.queued_item(), Condition::Absent).await.unwrap();
    // …and one queued "now" (far ahead of any clock), whose message may still be on its way.
    let fresh = Task::new(TaskKind::Verify { release: rid("1.0.1"), revision: 1 }, 32_503_680_000);
    app.items.put(fresh.queued_item(), Condition::Absent).await.unwrap();

    let mut env = aws_env(&moto);
    env.push(("TRS_VERIFY_QUEUE_URL", verify_queue.clone()));
    let api = RuntimeApi::start("trs-lifecycle").await;
    let _function = api.spawn(env!("CARGO_BIN_EXE_trs-lambda-lifecycle"), &env);
    let report = response(api.invoke(fixture("eventbridge-scheduled.json")).await);
    assert_eq!(report["announced"], json!([lost.id.as_str()]), "{report:#}");
    let sent = trs_messaging_aws::testing::bodies(&sqs, &verify_queue).await;
    assert_eq!(sent, [lost.id.as_str()], "the lost task's id is on its queue again, once");
}

/// Issue 12: the release of 5,000 files (ten uploads of 500, the most one upload takes) that
/// trs-app's `a_revision_of_five_thousand_files_is_stored_and_read_back_whole` stores on the
/// embedded store, here on DynamoDB, whose items hold at most 400 KB (moto refuses a larger
/// one): the manifest spills into parts in the commit's transaction, the check report into
/// parts from the verify task, and both read back whole.
#[tokio::test]
async fn a_revision_of_five_thousand_files_is_stored_in_parts_on_dynamodb() {
    let moto = moto();
    let app = aws_app(&moto).await;
    let people = team(&app).await;
    let (rm, id) = (people.rm.caller(), rid("1.0.0"));
    let mut committed = None;
    for batch in 0..10 {
        let names: Vec<String> =
            (0..500).map(|i| format!("apache-foo-1.0.0-part-{:04}.txt", batch * 500 + i)).collect();
        let files: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), n.as_bytes())).collect();
        committed = Some(commit_files_to_store(&app, &rm, &id, &files).await);
    }
    let committed = committed.unwrap();
    assert_eq!((committed.revision, committed.files), (10, 500));
    trs_app::tasks::run(&app, committed.task.as_ref().unwrap()).await.unwrap();

    let status = trs_app::status::release_status(&app, &id).await.unwrap();
    assert_eq!((status.revision.as_ref().map(|r| r.number), status.files.len()), (Some(10), 5000));
    assert!(status.verified());
    assert!(status.files.iter().all(|file| !file.checks.is_empty()), "every file's checks, read back");
    for key in [storage_keys::revision(&id, 10), storage_keys::revision_report(&id, 10)] {
        let head = app.items.get(&key).await.unwrap().unwrap();
        assert!(head.body["parts"].as_u64().unwrap() >= 2, "{key:?} spilled into parts: {}", head.body);
    }
}

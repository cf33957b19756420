//! The Lambda binaries on the aws backend, against moto (started by the test, stopped after):
//! the stream function forwards committed events from a DynamoDB stream batch to the
//! EventBridge bus, where a rule delivers them to a subscribed queue, and reports the record it
//! could not forward; the admin function opens the DynamoDB and S3 stores from its
//! environment and answers the health check and a signed call through the API Gateway adapter.
//!
//! The binaries run as Lambda runs them, against the Runtime API emulator
//! (tests/support/runtime_api.rs), with the standard AWS variables pointing at moto.

use crate::support::fixture;
use crate::support::runtime_api::{Outcome, RuntimeApi};
use serde_json::{Value, json};
use trs_app::test_support::{Actor, armored_public, new_cert, release, signed_headers, upload_files, world};
use trs_app::{App, people, projects, storage_keys, stream};
use trs_core::StreamId;
use trs_messaging_aws::testing::{bodies, subscribed_queue};
use trs_messaging_aws::{EVENT_DETAIL_TYPE, EVENT_SOURCE};
use trs_storage_aws::moto::MotoServer;
use trs_storage_aws::{DynamoItemStore, S3BlobStore, provision};

pub(crate) const TABLE: &str = "trs-items";
pub(crate) const BUCKET: &str = "trs-files";
const BUS: &str = "trs-release-stream";

pub(crate) fn response(outcome: Outcome) -> Value {
    match outcome {
        Outcome::Response(v) => v,
        Outcome::Error(kind, e) => panic!("the function reported an error {kind:?}: {e}"),
    }
}

/// The variables the template sets on a function, pointing at moto's table, bucket and bus.
pub(crate) fn aws_env(moto: &MotoServer) -> Vec<(&'static str, String)> {
    let mut vars = moto.env();
    vars.extend([
        ("TRS_BACKEND", "aws".into()),
        ("TRS_AWS_TABLE", TABLE.into()),
        ("TRS_AWS_BUCKET", BUCKET.into()),
        ("TRS_EVENT_BUS", BUS.into()),
        ("TRS_AUDIENCE", trs_app::test_support::TEST_AUDIENCE.into()),
        ("TRS_LOG", "info".into()),
    ]);
    vars
}

#[tokio::test]
async fn the_stream_function_forwards_committed_events_to_the_bus_and_reports_a_corrupt_one() {
    let moto = MotoServer::start().expect("start moto (test.sh installs moto[server])");
    let config = moto.sdk_config();
    let (sqs, subscriber) = subscribed_queue(&config, BUS).await;

    // A real committed event, as the table stores it.
    let w = world().await;
    upload_files(&w.app, &w.blobs, &w.rm.caller(), &release(), &[("a.txt", b"a")]).await;
    let foo = StreamId::Project("foo".parse().unwrap());
    let stored = stream::all_events_raw(&w.app, &foo).await.unwrap().pop().unwrap();
    let seq = stored["seq"].as_u64().unwrap();
    let sk = storage_keys::stream_event(&foo, seq).sk;

    let mut batch = fixture("dynamodb-stream-events.json");
    let record = &mut batch["Records"][0]["dynamodb"];
    record["Keys"]["sk"]["S"] = sk.clone().into();
    record["NewImage"]["sk"]["S"] = sk.into();
    record["NewImage"]["body"]["S"] = serde_json::to_string(&stored).unwrap().into();

    let api = RuntimeApi::start("trs-stream").await;
    let _function = api.spawn(env!("CARGO_BIN_EXE_trs-lambda-stream"), &aws_env(&moto));
    let answer = response(api.invoke(batch).await);
    assert_eq!(
        answer,
        json!({"batchItemFailures": [{"itemIdentifier": "111100000000000003"}]}),
        "only the corrupt record comes back, by its sequence number; the head's MODIFY is settled"
    );

    let received = bodies(&sqs, &subscriber).await;
    assert_eq!(received.len(), 1, "exactly the one committed event: {received:?}");
    let envelope: Value = serde_json::from_str(&received[0]).unwrap();
    assert_eq!(envelope["source"], EVENT_SOURCE);
    assert_eq!(envelope["detail-type"], EVENT_DETAIL_TYPE);
    assert_eq!(envelope["detail"], stored, "the detail is the stored event, hash included");
}

#[tokio::test]
async fn the_admin_function_on_the_aws_backend_serves_health_and_a_signed_call() {
    let moto = MotoServer::start().expect("start moto (test.sh installs moto[server])");
    let config = moto.sdk_config();
    let (dynamo, s3) = trs_storage_aws::clients(&config, true);
    provision::ensure_table(&dynamo, TABLE).await.unwrap();
    provision::ensure_bucket(&s3, BUCKET).await.unwrap();
    // The same table, seen from the test: the first admin, bootstrapped as `trs admin bootstrap` does.
    let app = App::new(
        std::sync::Arc::new(DynamoItemStore::new(dynamo, TABLE)),
        std::sync::Arc::new(S3BlobStore::new(s3, BUCKET)),
    );
    let tsk = new_cert("Ada <ada@example.org>");
    let ada =
        people::NewPerson { uid: "ada".parse().unwrap(), name: None, email: None, certificate: armored_public(&tsk) };
    let ada = Actor { person: people::bootstrap_admin(&app, ada).await.unwrap(), tsk };

    let api = RuntimeApi::start("trs-admin").await;
    let _function = api.spawn(env!("CARGO_BIN_EXE_trs-lambda-admin"), &aws_env(&moto));
    let health = response(api.invoke(fixture("apigw-v2-get-health.json")).await);
    assert_eq!(health["statusCode"], 200, "{health}");
    assert_eq!(health["body"], "ok\n");

    const PROJECTS: &str = "/api/v1/projects";
    let body = serde_json::to_string(&json!({"name": "bar", "members": ["ada"]})).unwrap();
    let mut call = fixture("apigw-v2-post-upload.json");
    call["rawPath"] = PROJECTS.into();
    call["routeKey"] = format!("POST {PROJECTS}").into();
    call["requestContext"]["routeKey"] = call["routeKey"].clone();
    call["requestContext"]["http"]["path"] = PROJECTS.into();
    call["pathParameters"] = json!({});
    let headers = call["headers"].as_object_mut().unwrap();
    for (name, value) in signed_headers(&ada, "POST", PROJECTS, body.as_bytes()) {
        headers.insert(name.to_ascii_lowercase(), value.into());
    }
    headers.insert("content-length".into(), body.len().to_string().into());
    call["body"] = body.into();
    let created = response(api.invoke(call).await);
    assert_eq!(created["statusCode"], 201, "{created}");

    let bar = projects::get_project(&app, &"bar".parse().unwrap()).await.unwrap();
    assert_eq!(bar.members, ["ada".parse().unwrap()].into(), "the project is in the DynamoDB table");
}

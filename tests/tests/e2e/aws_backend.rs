//! The upload → verify scenario with `trs serve --backend aws` against moto's S3 and DynamoDB,
//! asserting on what is really in the bucket and the table afterwards, and that both refuse
//! conditional writes that would overwrite what trs stored.

use std::collections::BTreeMap;

use trs_storage::{Condition, Item, ItemStore, Key, StoreError, WriteOp};
use trs_storage_aws::moto::MotoServer;
use trs_tests::*;

const TABLE: &str = "trs-e2e-items";
const BUCKET: &str = "trs-e2e-files";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// Every object in the bucket: key → (size, content type, cache control).
async fn objects(s3: &aws_sdk_s3::Client) -> BTreeMap<String, (i64, String, String)> {
    let listing = s3.list_objects_v2().bucket(BUCKET).send().await.unwrap();
    let mut out = BTreeMap::new();
    for o in listing.contents() {
        let key = o.key().unwrap().to_string();
        let head = s3.head_object().bucket(BUCKET).key(&key).send().await.unwrap();
        let meta = (
            o.size().unwrap(),
            head.content_type().unwrap_or_default().to_string(),
            head.cache_control().unwrap_or_default().to_string(),
        );
        out.insert(key, meta);
    }
    out
}

/// Every item's (pk, sk) in the table.
async fn item_keys(dynamo: &aws_sdk_dynamodb::Client) -> Vec<(String, String)> {
    let scan = dynamo.scan().table_name(TABLE).send().await.unwrap();
    let text = |i: &std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>, n: &str| {
        i[n].as_s().unwrap().clone()
    };
    let mut keys: Vec<_> = scan.items().iter().map(|i| (text(i, "pk"), text(i, "sk"))).collect();
    keys.sort();
    keys
}

fn sha512_hex(path: &str) -> String {
    let out = std::process::Command::new("sha512sum").arg(path).output().unwrap();
    String::from_utf8(out.stdout).unwrap().split_whitespace().next().unwrap().to_string()
}

#[test]
fn upload_and_verify_on_s3_and_dynamodb() {
    // Declared first, dropped last: the server outlives trs.
    let moto = MotoServer::start().expect("moto (test.sh installs moto[server])");
    let mut env = moto.env();
    env.extend([
        ("TRS_BACKEND", "aws".to_string()),
        ("TRS_AWS_TABLE", TABLE.to_string()),
        ("TRS_AWS_BUCKET", BUCKET.to_string()),
        // Table and bucket from infra/template.json, created by `trs admin bootstrap`.
        ("TRS_AWS_CREATE", "true".to_string()),
    ]);
    let w = Team::with_server_env("ed25519", &env);
    let files = w.signed_set(&source_tarball(w.work.path(), "apache-foo-1.0.0-src.tar.gz", "apache-foo-1.0.0"));
    let status = w.upload_passing(&files);
    assert_eq!(status["revision"], 1);
    assert_eq!(status["summary"]["fail"], 0, "{status:#}");
    for kind in ["checksum", "signature", "archive", "license"] {
        let (result, reason) = check(&status, "apache-foo-1.0.0-src.tar.gz", kind);
        assert_eq!(result, "pass", "{kind}: {reason}");
    }

    let rt = runtime();
    let (dynamo, s3) = trs_storage_aws::clients(&moto.sdk_config(), true);

    // The bucket holds exactly the three files, content-addressed by SHA-512, with the headers
    // decided in one place; the staged uploads were removed after the commit.
    let stored = rt.block_on(objects(&s3));
    let expected: BTreeMap<String, i64> = files
        .iter()
        .map(|f| {
            let hex = sha512_hex(f);
            (format!("files/sha512/{}/{hex}", &hex[..2]), std::fs::metadata(f).unwrap().len() as i64)
        })
        .collect();
    let sizes: BTreeMap<String, i64> = stored.iter().map(|(k, (size, _, _))| (k.clone(), *size)).collect();
    assert_eq!(sizes, expected, "objects in the bucket");
    for (key, (_, content_type, cache_control)) in &stored {
        assert_eq!(content_type, "application/octet-stream", "{key}");
        assert_eq!(cache_control, "private, max-age=31536000, immutable", "{key}");
    }

    // The table holds the release, its revision and report, the people, project and the
    // event stream; no upload session is left.
    let keys = rt.block_on(item_keys(&dynamo));
    let has = |pk: &str, sk: &str| keys.iter().any(|(p, s)| p == pk && s == sk);
    assert!(has("project#foo", "release#-#1.0.0"), "release item in {keys:?}");
    assert!(has("release#foo#-#1.0.0", "rev#0000000001"), "revision item in {keys:?}");
    assert!(has("person#rita", "person") && has("project#foo", "project"), "{keys:?}");
    assert!(!keys.iter().any(|(p, _)| p.starts_with("upload#")), "upload session left behind: {keys:?}");

    // S3 refuses to overwrite a stored file: If-None-Match: * answers 412.
    let (file_key, _) = stored.iter().next().unwrap();
    let put = rt.block_on(
        s3.put_object()
            .bucket(BUCKET)
            .key(file_key)
            .if_none_match("*")
            .body(aws_sdk_s3::primitives::ByteStream::from_static(b"other bytes"))
            .send(),
    );
    let status_code = put.expect_err("overwriting a stored file").raw_response().map(|r| r.status().as_u16());
    assert_eq!(status_code, Some(412));
    let after = rt.block_on(objects(&s3));
    assert_eq!(after[file_key].0, expected[file_key], "the refused put changed nothing");

    // DynamoDB refuses a second revision 1 and a transaction built on a stale release version.
    let store = trs_storage_aws::DynamoItemStore::new(dynamo.clone(), TABLE);
    let revision = Key::new("release#foo#-#1.0.0", "rev#0000000001");
    let again = rt.block_on(store.put(Item::new(revision.clone(), serde_json::json!({})), Condition::Absent));
    assert!(matches!(again, Err(StoreError::ConditionFailed { key }) if key == revision));
    let release = rt.block_on(store.get(&Key::new("project#foo", "release#-#1.0.0"))).unwrap().unwrap();
    let stale = vec![
        WriteOp::Put {
            item: Item::new(Key::new("release#foo#-#1.0.0", "rev#0000000002"), serde_json::json!({})),
            condition: Condition::Absent,
        },
        WriteOp::Put {
            item: release.updated(serde_json::json!({ "tampered": true })),
            condition: Condition::VersionIs(release.version + 1),
        },
    ];
    match rt.block_on(store.transact(stale)) {
        Err(StoreError::TransactionCancelled { index, .. }) => assert_eq!(index, 1),
        other => panic!("expected the stale transaction to be cancelled at 1, got {other:?}"),
    }
    assert_eq!(rt.block_on(item_keys(&dynamo)), keys, "the cancelled transaction wrote nothing");

    // `trs status` still answers from the same table.
    let out = w.status();
    ok(&out);
    assert_eq!(stdout_json(&out)["revision_key"], status["revision_key"]);
}

//! The upload → verify scenario with `trs serve --backend aws` against moto's S3 and DynamoDB,
//! asserting on what is really in the bucket and the table afterwards, and that both refuse
//! conditional writes that would overwrite what trs stored; and `trs site build --full` into the
//! site bucket with a CloudFront invalidation.

use sha2::Digest;
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

/// `trs` on the aws backend against `moto`. With TRS_AWS_CREATE, `trs admin bootstrap` creates
/// the table and bucket from infra/template.json (and `trs site build` the site bucket).
fn aws_env(moto: &MotoServer) -> Vec<(&'static str, String)> {
    let mut env = moto.env();
    env.extend([
        ("TRS_BACKEND", "aws".to_string()),
        ("TRS_AWS_TABLE", TABLE.to_string()),
        ("TRS_AWS_BUCKET", BUCKET.to_string()),
        ("TRS_AWS_CREATE", "true".to_string()),
    ]);
    env
}

#[test]
fn upload_and_verify_on_s3_and_dynamodb() {
    // Declared first, dropped last: the server outlives trs.
    let moto = MotoServer::start().expect("moto (test.sh installs moto[server])");
    let env = aws_env(&moto);
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
    // decided in one place. The staged uploads stay under `uploads/` (a PUT to a still-valid
    // URL must find its object and be refused) until the bucket's lifecycle rule collects them.
    let mut stored = rt.block_on(objects(&s3));
    let staged: Vec<String> = stored.keys().filter(|k| k.starts_with("uploads/")).cloned().collect();
    assert_eq!(staged.len(), files.len(), "one staged object per uploaded file: {staged:?}");
    stored.retain(|k, _| !k.starts_with("uploads/"));
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
    // event stream; the upload's session, marked committed (a commit asked for again answers
    // from it), and its staged objects' collection record, both removed by DynamoDB's expiry;
    // the commit task, done.
    let keys = rt.block_on(item_keys(&dynamo));
    let has = |pk: &str, sk: &str| keys.iter().any(|(p, s)| p == pk && s == sk);
    assert!(has("project#foo", "release#-#1.0.0"), "release item in {keys:?}");
    assert!(has("release#foo#-#1.0.0", "rev#0000000001"), "revision item in {keys:?}");
    assert!(has("person#rita", "person") && has("project#foo", "project"), "{keys:?}");
    let sessions: Vec<&String> = keys.iter().filter(|(p, _)| p.starts_with("upload#")).map(|(_, s)| s).collect();
    assert_eq!(sessions, ["collect", "upload"], "{keys:?}");

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

/// A file larger than one part goes through `trs upload` as a multipart upload (5 MiB parts,
/// S3's smallest, which moto enforces): the CLI sends its parts to presigned part URLs and the
/// commit completes the upload; the checks pass on the whole file, no incomplete upload is
/// left, and the CLI's resume state is gone once the commit is done.
#[test]
fn a_large_file_goes_in_parts_through_the_cli() {
    let moto = MotoServer::start().expect("moto (test.sh installs moto[server])");
    let mut env = aws_env(&moto);
    env.push(("TRS_AWS_PART_SIZE", (5 * 1024 * 1024).to_string()));
    let w = Team::with_server_env("ed25519", &env);
    let bytes = three_parts();
    let large = w.file("foo-1.0.0.bin", &bytes);
    let files = w.signed_set(&large);
    let status = w.upload_passing(&files);
    assert_eq!(status["summary"]["fail"], 0, "{status:#}");
    for kind in ["checksum", "signature"] {
        let (result, reason) = check(&status, "foo-1.0.0.bin", kind);
        assert_eq!(result, "pass", "{kind}: {reason}");
    }
    let rt = runtime();
    let (_, s3) = trs_storage_aws::clients(&moto.sdk_config(), true);
    let stored = rt.block_on(objects(&s3));
    let hex = sha512_hex(large.to_str().unwrap());
    assert_eq!(stored[&format!("files/sha512/{}/{hex}", &hex[..2])].0, bytes.len() as i64);
    let open = rt.block_on(s3.list_multipart_uploads().bucket(BUCKET).send()).unwrap();
    assert_eq!(open.uploads().len(), 0, "the parts were completed into the staged object");
    let state = w.server.client_state().join("uploads");
    let left: Vec<_> = std::fs::read_dir(&state).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    assert!(left.is_empty(), "the resume state is removed after the commit: {left:?}");
    assert!(state.is_dir(), "the upload in parts kept its state while it ran");
}

/// 11 MiB and a bit of xorshift noise: three parts of 5 MiB, the last one short.
fn three_parts() -> Vec<u8> {
    let mut bytes = Vec::with_capacity(11 << 20);
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    while bytes.len() < (11 << 20) + 123 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        bytes.push((x >> 24) as u8);
    }
    bytes
}

/// `trs import` on the AWS path sends a file larger than one part in parts, as an upload does
/// (S3 takes at most 5 GiB in one PUT; here 5 MiB parts, S3's smallest, which moto enforces):
/// the import's commit completes the multipart upload, the release becomes current with the
/// file at its content address and its public path, and no incomplete upload is left.
#[test]
fn an_imported_file_larger_than_a_part_goes_in_parts() {
    let moto = MotoServer::start().expect("moto (test.sh installs moto[server])");
    let mut env = aws_env(&moto);
    env.push(("TRS_AWS_PART_SIZE", (5 * 1024 * 1024).to_string()));
    let w = Team::with_server_env("ed25519", &env);
    let carl = w.gpg.gen_key("Carl Committer <carl@example.org>", "ed25519");
    let root = w.path("dist");
    let release_dir = root.join("foo/1.0.0");
    std::fs::create_dir_all(&release_dir).unwrap();
    w.gpg.export_public(&carl, &root.join("foo/KEYS"));
    let bytes = three_parts();
    let large = release_dir.join("foo-1.0.0.bin");
    std::fs::write(&large, &bytes).unwrap();
    w.gpg.detach_sign(&carl, &large);
    sha512sum(&large);

    let report = stdout_json(ok(&w.as_admin(&["import", root.to_str().unwrap(), "--members", "ada", "--json"])));
    let release = &report["releases"][0];
    assert_eq!(
        (release["release"].as_str(), release["result"].as_str()),
        (Some("foo/1.0.0"), Some("imported")),
        "{report:#}"
    );
    let sent: u64 = ["", ".asc", ".sha512"]
        .iter()
        .map(|ext| std::fs::metadata(format!("{}{ext}", large.display())).unwrap().len())
        .sum();
    assert_eq!(release["sent_bytes"].as_u64(), Some(sent), "{report:#}");

    let rt = runtime();
    let (_, s3) = trs_storage_aws::clients(&moto.sdk_config(), true);
    let stored = rt.block_on(objects(&s3));
    let hex = sha512_hex(large.to_str().unwrap());
    assert_eq!(stored[&format!("files/sha512/{}/{hex}", &hex[..2])].0, bytes.len() as i64);
    assert_eq!(stored["current/foo/1.0.0/foo-1.0.0.bin"].0, bytes.len() as i64, "{:?}", stored.keys());
    // The staged object (kept until the session's URLs expire) is a completed multipart
    // upload: S3 gives those the ETag "MD5-OF-PART-MD5S-N".
    let staged = rt.block_on(s3.list_objects_v2().bucket(BUCKET).prefix("uploads/").send()).unwrap();
    let etags: Vec<&str> =
        staged.contents().iter().filter(|o| o.size() == Some(bytes.len() as i64)).filter_map(|o| o.e_tag()).collect();
    assert!(matches!(etags[..], [etag] if etag.ends_with("-3\"")), "sent in three parts: {etags:?}");
    let open = rt.block_on(s3.list_multipart_uploads().bucket(BUCKET).send()).unwrap();
    assert_eq!(open.uploads().len(), 0, "the import's commit completed the parts");
}

const SITE_BUCKET: &str = "trs-e2e-site";

/// `trs site build --full` into the site bucket on moto, with a CloudFront distribution in
/// front of it: every page lands in the bucket with its headers and digest, CloudFront is told
/// to forget exactly what changed, a stray object is deleted, and a build over an unchanged
/// site writes nothing and makes no invalidation. Under the distribution's URL
/// (`--download-url`) the feeds name themselves there, as the publish-site function's do.
#[test]
fn full_site_build_into_the_site_bucket_invalidates_what_changed() {
    let moto = MotoServer::start().expect("moto (test.sh installs moto[server])");
    let env = aws_env(&moto);
    let w = Team::with_server_env("ed25519", &env);
    let files = w.signed_set(&source_tarball(w.work.path(), "apache-foo-1.0.0-src.tar.gz", "apache-foo-1.0.0"));
    w.upload_passing(&files);

    let rt = runtime();
    let sdk = moto.sdk_config();
    let (_, s3) = trs_storage_aws::clients(&sdk, true);
    let cloudfront = trs_storage_aws::cloudfront(&sdk);
    let distribution = rt.block_on(trs_storage_aws::moto::create_distribution(&cloudfront));
    let build = || {
        let out = std::process::Command::new(trs_bin())
            .current_dir(w.work.path())
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .args(["site", "build", "--full", "--json", "--site-bucket", SITE_BUCKET])
            .args(["--cloudfront-distribution", &distribution])
            .args(["--download-url", "https://downloads.example.org"])
            .output()
            .unwrap();
        stdout_json(ok(&out))
    };

    let first = build();
    assert_eq!(first["out"], format!("s3://{SITE_BUCKET}"));
    assert!(first["objects_written"].as_u64().unwrap() > 5, "{first:#}");
    let page_key = "projects/foo/releases/1.0.0/index.html";
    let page = rt.block_on(s3.get_object().bucket(SITE_BUCKET).key(page_key).send()).unwrap();
    assert_eq!(page.content_type(), Some("text/html; charset=utf-8"));
    assert_eq!(page.cache_control(), Some(trs_storage::site::PAGE_CACHE_CONTROL));
    let digest = page.metadata().and_then(|m| m.get("sha256")).cloned().expect("the page's digest in its metadata");
    let body = rt.block_on(page.body.collect()).unwrap().into_bytes();
    assert_eq!(digest, hex::encode(sha2::Sha256::digest(&body)));
    let text = String::from_utf8_lossy(&body);
    // A draft's page: no file listed (private until a vote opens), said plainly.
    assert!(text.contains("Draft — not a release") && !text.contains("apache-foo-1.0.0-src.tar.gz"), "{text}");
    let feed = rt.block_on(s3.get_object().bucket(SITE_BUCKET).key("projects/foo/feed.xml").send()).unwrap();
    let feed = String::from_utf8(rt.block_on(feed.body.collect()).unwrap().into_bytes().to_vec()).unwrap();
    let self_url = "https://downloads.example.org/projects/foo/feed.xml";
    assert!(feed.contains(&format!(r#"<link rel="self" href="{self_url}"/>"#)), "{feed}");
    assert!(feed.contains(&format!("<id>{self_url}</id>")), "{feed}");

    let made = rt.block_on(trs_storage_aws::moto::invalidations(&cloudfront, &distribution));
    let reported: Vec<String> = serde_json::from_value(first["invalidate"].clone()).unwrap();
    assert_eq!(made.len(), 1, "one invalidation per build: {made:?}");
    assert_eq!(sorted(made[0].clone()), sorted(reported), "CloudFront got the paths the build reported");
    assert!(first["invalidation_id"].is_string(), "{first:#}");

    // An object no page produces (an old layout's page) goes, and CloudFront forgets it.
    rt.block_on(
        s3.put_object()
            .bucket(SITE_BUCKET)
            .key("old/index.html")
            .body(aws_sdk_s3::primitives::ByteStream::from_static(b"<p>old</p>"))
            .send(),
    )
    .unwrap();
    let second = build();
    assert_eq!((second["objects_written"].as_u64(), second["objects_deleted"].as_u64()), (Some(0), Some(1)));
    assert!(rt.block_on(s3.head_object().bucket(SITE_BUCKET).key("old/index.html").send()).is_err());
    let made = rt.block_on(trs_storage_aws::moto::invalidations(&cloudfront, &distribution));
    assert_eq!(made.len(), 2, "{made:?}");
    assert!(made.iter().any(|paths| paths.iter().any(|p| p == "/old/index.html")), "{made:?}");

    let third = build();
    assert_eq!((third["objects_written"].as_u64(), third["objects_deleted"].as_u64()), (Some(0), Some(0)));
    assert!(third["invalidation_id"].is_null(), "nothing changed, nothing to invalidate: {third:#}");
    assert_eq!(rt.block_on(trs_storage_aws::moto::invalidations(&cloudfront, &distribution)).len(), 2);
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// A source zip of `files` C files of `lines` lines each beside LICENSE and NOTICE under
/// `top/`, deflated, as a project's source release is shaped; and the name of one of its
/// entries, `top/src/evil.c`.
fn source_zip(top: &str, files: usize, lines: usize) -> (Vec<u8>, String) {
    use std::io::Write;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    w.add_directory(format!("{top}/"), opts).unwrap();
    for (name, text) in [("LICENSE", "Apache License 2.0\n"), ("NOTICE", "Copyright the foo authors\n")] {
        w.start_file(format!("{top}/{name}"), opts).unwrap();
        w.write_all(text.as_bytes()).unwrap();
    }
    let mut noise = 0x2545_F491_4F6C_DD1Du64;
    for i in 0..files {
        w.start_file(format!("{top}/src/file{i:04}.c"), opts).unwrap();
        // A few KiB of code-like text that does not compress to nothing.
        for line in 0..lines {
            noise ^= noise << 13;
            noise ^= noise >> 7;
            noise ^= noise << 17;
            writeln!(w, "int f{i}_{line}(int x) {{ return x * {} + {}; }}", noise % 9973, noise >> 40).unwrap();
        }
    }
    let evil = format!("{top}/src/evil.c");
    w.start_file(&evil, opts).unwrap();
    w.write_all(b"int evil;\n").unwrap();
    (w.finish().unwrap().into_inner(), evil)
}

/// The zip with `entry`'s local header naming `../../xx…` (same length) while the central
/// directory still names `entry`: streaming extractors (Java's `ZipInputStream`) would write
/// outside the folder the directory promises.
fn with_lying_local_header(mut bytes: Vec<u8>, entry: &str) -> Vec<u8> {
    let at = bytes.windows(entry.len()).position(|w| w == entry.as_bytes()).unwrap();
    let central = bytes.windows(entry.len()).rposition(|w| w == entry.as_bytes()).unwrap();
    assert!(at < central, "the writer puts the local header first");
    let mut evil = b"../../".to_vec();
    evil.resize(entry.len(), b'x');
    bytes[at..at + entry.len()].copy_from_slice(&evil);
    bytes
}

/// `trs serve` on moto with `TMPDIR` naming a folder that does not exist, so that anything
/// copying a file into a temporary folder (`tempfile`, `std::env::temp_dir`) fails.
fn team_without_a_temporary_folder(moto: &MotoServer) -> Team {
    let mut env = aws_env(moto);
    env.push(("TMPDIR", "/nonexistent/trs-no-temporary-folder".to_string()));
    Team::with_server_env("ed25519", &env)
}

/// Verification reads a zip where S3 holds it, never a copy in a temporary folder (the
/// server has none): a good source zip passes its inspection, and a zip whose local header
/// names another path than its central directory is refused.
#[test]
fn zips_are_inspected_from_the_bucket_without_a_temporary_folder() {
    let moto = MotoServer::start().expect("moto (test.sh installs moto[server])");
    let w = team_without_a_temporary_folder(&moto);

    let (good, _) = source_zip("apache-foo-1.0.0", 40, 100);
    let (bad, evil) = source_zip("apache-foo-1.0.0", 3, 100);
    let good = w.file("apache-foo-1.0.0-src.zip", &good);
    let bad = w.file("apache-foo-1.0.0-extra-src.zip", &with_lying_local_header(bad, &evil));
    let files: Vec<String> = [w.signed_set(&good), w.signed_set(&bad)].concat();
    let status = w.upload_failing(&files);
    for kind in ["checksum", "signature", "archive", "license"] {
        let (result, reason) = check(&status, "apache-foo-1.0.0-src.zip", kind);
        assert_eq!(result, "pass", "{kind}: {reason}");
    }
    let (result, reason) = check(&status, "apache-foo-1.0.0-extra-src.zip", "archive");
    assert_eq!(result, "fail", "{status:#}");
    assert!(reason.contains("local headers disagree with its central directory"), "{reason}");
    for kind in ["checksum", "signature"] {
        let (result, reason) = check(&status, "apache-foo-1.0.0-extra-src.zip", kind);
        assert_eq!(result, "pass", "{kind}: {reason}");
    }
}

/// The import's old `.md5` checks read the artifact and its sum file where S3 holds them,
/// never copies in a temporary folder (the server has none): a matching `.md5` imports its
/// release, a lying one refuses its release with the reason.
#[test]
fn legacy_sums_are_checked_from_the_bucket_without_a_temporary_folder() {
    let moto = MotoServer::start().expect("moto (test.sh installs moto[server])");
    let w = team_without_a_temporary_folder(&moto);
    let carl = w.gpg.gen_key("Carl Committer <carl@example.org>", "ed25519");
    let root = w.path("dist");
    std::fs::create_dir_all(root.join("bar")).unwrap();
    w.gpg.export_public(&carl, &root.join("bar/KEYS"));
    let artifact = |version: &str| {
        let dir = root.join("bar").join(version);
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join(format!("bar-{version}.bin"));
        std::fs::write(&file, three_parts()).unwrap();
        w.gpg.detach_sign(&carl, &file);
        md5sum(&file);
        file
    };
    artifact("2.0.0");
    let lying = artifact("2.1.0");
    std::fs::write(lying.with_file_name("bar-2.1.0.bin.md5"), "00000000000000000000000000000000  bar-2.1.0.bin\n")
        .unwrap();
    let out = w.as_admin(&["import", root.to_str().unwrap(), "--members", "ada", "--json"]);
    let report = stdout_json(&out);
    let outcome =
        |name: &str| report["releases"].as_array().unwrap().iter().find(|r| r["release"] == name).cloned().unwrap();
    assert_eq!(outcome("bar/2.0.0")["result"], "imported", "{report:#}");
    let lied = outcome("bar/2.1.0");
    assert_eq!(lied["result"], "refused", "{report:#}");
    assert!(lied["reason"].as_str().unwrap().contains("MD5 in bar-2.1.0.bin.md5 does not match"), "{lied:#}");
    let status = stdout_json(ok(&w.anonymous(&["status", "bar", "2.0.0", "--json"])));
    let (result, reason) = check(&status, "bar-2.0.0.bin", "checksum");
    assert_eq!(result, "pass", "{status:#}");
    assert!(reason.contains("MD5 in bar-2.0.0.bin.md5 matches the file"), "{reason}");
}

/// What a zip's inspection costs in S3 requests: source zips of 1,000 files of 100 lines
/// (1.2 MB), of 4,000 such files (5 MB), and of 1,000 files of 2,500 lines (27 MB), inspected
/// straight from moto's S3 through
/// `trs_storage::RangeReader`, counting its ranged GETs, with the window verification uses
/// (8 MiB) and with 64 KiB (what a file reader's buffer would make each read). The figures
/// are in docs/aws-storage.md ("Range reads").
#[test]
fn a_zip_in_s3_is_inspected_in_a_few_ranged_reads() {
    use std::sync::Arc;
    use trs_checks::archive::{ArchiveKind, ArchiveLimits, inspect_zip_source};
    use trs_checks::revision::{ReadSeek, Source};
    use trs_storage::BlobStore;
    use trs_storage::contract::Probe;

    let moto = MotoServer::start().expect("moto (test.sh installs moto[server])");
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (_, s3) = trs_storage_aws::clients(&moto.sdk_config(), true);
    rt.block_on(trs_storage_aws::provision::ensure_bucket(&s3, BUCKET)).unwrap();
    let store: Arc<dyn BlobStore> = Arc::new(trs_storage_aws::S3BlobStore::new(s3, BUCKET.to_string()));
    let mut figures = Vec::new();
    for (files, lines) in [(1000, 100), (4000, 100), (1000, 2500)] {
        let (zip, _) = source_zip("apache-foo-1.0.0", files, lines);
        let key = format!("z/{files}-{lines}.zip");
        rt.block_on(store.put_if_absent(&key, trs_storage::contract::chunked(&zip, 1 << 20))).unwrap();
        for window in [trs_storage::range_reader::DEFAULT_WINDOW, 64 << 10] {
            let probe = Arc::new(Probe::new(store.clone()));
            let (blobs, handle, key, size) = (probe.clone(), rt.handle().clone(), key.clone(), zip.len() as u64);
            let source = Source::Stream {
                read: Arc::new(|| Err(std::io::Error::other("the inspection only seeks"))),
                seek: Arc::new(move || {
                    let reader = trs_storage::RangeReader::with_size(blobs.clone(), &key, size, window, handle.clone());
                    Ok(Box::new(reader) as Box<dyn ReadSeek>)
                }),
            };
            let listing = inspect_zip_source(&source, ArchiveKind::Zip, &ArchiveLimits::default())
                .unwrap_or_else(|e| panic!("{files} files: {e}"));
            assert_eq!(listing.entries, files as u64 + 4, "the folder, LICENSE, NOTICE, evil.c and the files");
            figures.push((files, zip.len(), window, probe.ranged_reads()));
        }
    }
    eprintln!("files, zip bytes, window, ranged GETs: {figures:?}");
    // With the window, two passes over the zip (local headers, then data) and its end.
    for &(_, bytes, window, gets) in &figures {
        if window == trs_storage::range_reader::DEFAULT_WINDOW {
            assert!(gets <= 2 * bytes.div_ceil(window) + 2, "{figures:?}");
        }
    }
    // The 64 KiB window costs well over ten times as many.
    assert!(figures[1].3 > 10 * figures[0].3, "{figures:?}");
}

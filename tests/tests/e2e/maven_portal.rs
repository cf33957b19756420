//! The Maven Central client against the stateful Publisher Portal stand-in
//! (`trs_tests::maven_portal`): staging as a validated USER_MANAGED deployment, promotion by
//! publishing it, idempotent re-runs, digest mismatches, the portal's validation, transient
//! failures, and credentials kept out of every output.

use std::time::Duration;

use bytes::Bytes;
use sha2::{Digest, Sha512};
use trs_distribute::{Artifact, Credentials, DistributeError, Endpoint, RegistryClient, Target};
use trs_registry_clients::maven::{MavenClient, Polling};
use trs_tests::maven_portal::MavenPortal;

const USER: &str = "rita-token-name";
const SECRET: &str = "portal-s3cr3t-token-password";
const GROUP: &str = "org.apache.foo";
const FOLDER: &str = "org/apache/foo/foo/1.2.0";

fn client(portal: &MavenPortal, secret: &str) -> MavenClient {
    MavenClient::new(Endpoint {
        base_url: portal.url(),
        staging_url: None,
        repository_url: None,
        credentials: Credentials::new(Some(USER.into()), Some(secret.into())),
        timeouts: Default::default(),
    })
    .with_repository_url(portal.repository_url())
    .with_polling(Polling { interval: Duration::from_millis(5), max_wait: Duration::from_secs(5) })
}

/// An ASCII-armoured signature block: the portal stand-in checks the armour, not the key.
fn signature(of: &str) -> Bytes {
    Bytes::from(format!("-----BEGIN PGP SIGNATURE-----\n\n{of}\n-----END PGP SIGNATURE-----\n"))
}

fn artifact(name: &str, bytes: Vec<u8>) -> Artifact {
    let sha512 = hex::encode(Sha512::digest(&bytes));
    Artifact { file_name: name.into(), signature: Some(signature(name)), bytes: Bytes::from(bytes), sha512 }
}

fn pom(group: &str) -> Vec<u8> {
    format!(
        "<project><modelVersion>4.0.0</modelVersion><groupId>{group}</groupId>\
         <artifactId>foo</artifactId><version>1.2.0</version></project>"
    )
    .into_bytes()
}

/// The release: the component's POM and jars, and files that are not part of it.
fn release(content: &str) -> Vec<Artifact> {
    vec![
        artifact("foo-1.2.0.pom", pom(GROUP)),
        artifact("foo-1.2.0.jar", format!("jar {content}").into_bytes()),
        artifact("foo-1.2.0-sources.jar", format!("sources {content}").into_bytes()),
        artifact("foo-1.2.0-src.tar.gz", b"source release".to_vec()),
        artifact("foo-plugin-1.2.0.jar", b"another component".to_vec()),
    ]
}

const COMPONENT: [&str; 3] = ["foo-1.2.0.pom", "foo-1.2.0.jar", "foo-1.2.0-sources.jar"];

fn target() -> Target {
    Target { namespace: Some(GROUP.into()), package: "foo".into(), version: "1.2.0".into() }
}

async fn portal() -> MavenPortal {
    MavenPortal::start(USER, SECRET, "org.apache").await
}

fn coordinates() -> (String, String, String) {
    (GROUP.into(), "foo".into(), "1.2.0".into())
}

#[tokio::test]
async fn staging_is_a_validated_deployment_and_promotion_publishes_exactly_it() {
    let portal = portal().await;
    let client = client(&portal, SECRET);
    let files = release("one");
    let names: Vec<String> = files.iter().map(|f| f.file_name.clone()).collect();
    assert_eq!(
        client.select(&names),
        ["foo-1.2.0.pom", "foo-1.2.0.jar", "foo-1.2.0-sources.jar", "foo-plugin-1.2.0.jar"]
    );
    assert_eq!(client.select_for(&target(), &names), COMPONENT);

    let staged = client.upload(&target(), &files, true).await.unwrap();
    assert!(!staged.already_present);
    assert_eq!(staged.details["state"], "VALIDATED");
    assert_eq!(staged.details["purls"][0], "pkg:maven/org.apache.foo/foo@1.2.0");
    let deployments = portal.deployments();
    assert_eq!(deployments.len(), 1);
    let deployment = &deployments[0];
    assert_eq!(staged.details["deployment_id"], deployment.id.as_str());
    assert_eq!(deployment.state, "VALIDATED");
    assert_eq!(deployment.name, "org.apache.foo:foo:1.2.0");
    assert_eq!(deployment.publishing_type, trs_tests::maven_portal::PublishingType::UserManaged);
    // The bundle: the component's files in repository layout, each with signature and checksums.
    let mut expected: Vec<String> = COMPONENT
        .iter()
        .flat_map(|f| ["", ".asc", ".md5", ".sha1", ".sha256", ".sha512"].map(|s| format!("{FOLDER}/{f}{s}")))
        .collect();
    expected.sort();
    assert_eq!(deployment.files.keys().cloned().collect::<Vec<_>>(), expected);
    for name in COMPONENT {
        let voted = files.iter().find(|f| f.file_name == name).unwrap();
        assert_eq!(deployment.files[&format!("{FOLDER}/{name}")], voted.bytes);
        assert_eq!(deployment.files[&format!("{FOLDER}/{name}.sha512")], voted.sha512.as_bytes());
    }
    assert!(portal.published().is_empty(), "staging publishes nothing");
    assert!(client.lookup(&target(), false).await.unwrap().is_none());
    let found = client.lookup_recorded(&target(), true, &staged.details).await.unwrap().unwrap();
    assert_eq!(found.details["state"], "VALIDATED");

    let promoted = client.promote_recorded(&target(), &files, &staged.details).await.unwrap();
    assert!(!promoted.already_present);
    assert_eq!(promoted.details["state"], "PUBLISHED");
    assert_eq!(promoted.details["deployment_id"], staged.details["deployment_id"]);
    assert_eq!(portal.uploads(), 1, "promotion publishes the staged deployment, it uploads nothing");
    assert!(portal.published().contains(&coordinates()));
    assert_eq!(portal.repository_file(&format!("{FOLDER}/foo-1.2.0.jar")).unwrap(), files[1].bytes);
    assert!(client.lookup(&target(), false).await.unwrap().is_some());
    assert_eq!(
        promoted.web_url, "https://central.sonatype.com/artifact/org.apache.foo/foo/1.2.0",
        "the platform's URL template"
    );
}

#[tokio::test]
async fn running_again_uploads_nothing_and_reports_already_present() {
    let portal = portal().await;
    let client = client(&portal, SECRET);
    let files = release("one");
    let staged = client.upload(&target(), &files, true).await.unwrap();
    // Promoting twice: the second finds the deployment published.
    client.promote_recorded(&target(), &files, &staged.details).await.unwrap();
    assert!(client.promote_recorded(&target(), &files, &staged.details).await.unwrap().already_present);
    assert!(client.promote(&target(), &files).await.unwrap().already_present);
    assert!(client.upload(&target(), &files, true).await.unwrap().already_present);
    assert!(client.upload(&target(), &files, false).await.unwrap().already_present);
    assert_eq!(portal.uploads(), 1);
    assert_eq!(portal.deployments().len(), 1);
}

#[tokio::test]
async fn a_distribution_without_staging_uploads_and_publishes() {
    let portal = portal().await;
    let client = client(&portal, SECRET);
    let published = client.upload(&target(), &release("one"), false).await.unwrap();
    assert_eq!(published.details["state"], "PUBLISHED");
    assert_eq!(portal.deployments()[0].state, "PUBLISHED");
    assert!(portal.published().contains(&coordinates()));
}

#[tokio::test]
async fn other_bytes_are_a_digest_mismatch_and_are_not_published() {
    let portal = portal().await;
    let client = client(&portal, SECRET);

    // A staged deployment that is not the voted release is never published.
    let staged = client.upload(&target(), &release("staged"), true).await.unwrap();
    let err = client.promote_recorded(&target(), &release("voted"), &staged.details).await.unwrap_err();
    assert!(matches!(err, DistributeError::DigestMismatch(_)), "{err:?}");
    assert!(err.to_string().contains("foo-1.2.0.jar"), "{err}");
    assert_eq!(portal.deployments()[0].state, "VALIDATED");
    assert!(portal.published().is_empty());

    // Published bytes that differ from the voted ones: a mismatch, and nothing uploaded.
    client.promote_recorded(&target(), &release("staged"), &staged.details).await.unwrap();
    let err = client.upload(&target(), &release("voted"), false).await.unwrap_err();
    assert!(matches!(err, DistributeError::DigestMismatch(_)), "{err:?}");
    assert_eq!(portal.uploads(), 1);
}

#[tokio::test]
async fn promoting_without_the_recorded_deployment_is_refused() {
    let portal = portal().await;
    let client = client(&portal, SECRET);
    client.upload(&target(), &release("one"), true).await.unwrap();
    let err = client.promote(&target(), &release("one")).await.unwrap_err();
    assert!(matches!(err, DistributeError::Refused(_)), "{err:?}");
    assert!(err.to_string().contains("no deployment id was recorded"), "{err}");
    assert!(portal.published().is_empty());
}

#[tokio::test]
async fn files_the_portal_would_refuse_are_refused_before_uploading() {
    let portal = portal().await;
    let client = client(&portal, SECRET);
    let mut unsigned = release("one");
    unsigned[1].signature = None;
    let err = client.upload(&target(), &unsigned, true).await.unwrap_err();
    assert!(matches!(err, DistributeError::Unsupported(_)), "{err:?}");
    assert!(err.to_string().contains("foo-1.2.0.jar has no OpenPGP signature"), "{err}");

    let without_pom: Vec<Artifact> = release("one").into_iter().skip(1).collect();
    let err = client.upload(&target(), &without_pom, true).await.unwrap_err();
    assert!(err.to_string().contains("no foo-1.2.0.pom"), "{err}");

    let no_group = Target { namespace: None, ..target() };
    assert!(matches!(client.upload(&no_group, &release("one"), true).await, Err(DistributeError::Unsupported(_))));
    assert_eq!(portal.uploads(), 0);
}

#[tokio::test]
async fn a_failed_validation_is_refused_with_the_portals_errors_and_dropped() {
    let portal = portal().await;
    let client = client(&portal, SECRET);
    let other = Target { namespace: Some("org.other".into()), ..target() };
    let mut files = release("one");
    files[0] = artifact("foo-1.2.0.pom", pom("org.other"));
    let err = client.upload(&other, &files, true).await.unwrap_err();
    assert!(matches!(err, DistributeError::Refused(_)), "{err:?}");
    assert!(err.to_string().contains("Namespace 'org.other' is not allowed"), "{err}");
    assert_eq!(portal.uploads(), 1);
    assert!(portal.deployments().is_empty(), "the failed deployment was dropped");
}

/// The stand-in's own validation, with bundles the client would never make.
#[tokio::test]
async fn the_portal_fails_bundles_without_signatures_checksums_or_layout() {
    use std::io::Write;
    let portal = portal().await;
    let http = reqwest::Client::new();
    let token = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{SECRET}"))
    };
    let jar = b"jar bytes".as_slice();
    let pom = pom(GROUP);
    let sha1 = |b: &[u8]| hex::encode(sha1::Sha1::digest(b));
    let md5 = |b: &[u8]| hex::encode(md5::Md5::digest(b));
    let sig = signature("x");
    let complete = |folder: &str, name: &str, bytes: &[u8]| -> Vec<(String, Vec<u8>)> {
        vec![
            (format!("{folder}{name}"), bytes.to_vec()),
            (format!("{folder}{name}.asc"), sig.to_vec()),
            (format!("{folder}{name}.md5"), md5(bytes).into_bytes()),
            (format!("{folder}{name}.sha1"), sha1(bytes).into_bytes()),
        ]
    };
    let good_pom = complete(&format!("{FOLDER}/"), "foo-1.2.0.pom", &pom);
    let jar_entries = complete(&format!("{FOLDER}/"), "foo-1.2.0.jar", jar);
    let without = |entries: &[(String, Vec<u8>)], suffix: &str| -> Vec<(String, Vec<u8>)> {
        entries.iter().filter(|(p, _)| !p.ends_with(&format!("foo-1.2.0.jar{suffix}"))).cloned().collect()
    };
    let mut wrong_sha1 = jar_entries.clone();
    wrong_sha1[3].1 = sha1(b"other bytes").into_bytes();
    type Entries = Vec<(String, Vec<u8>)>;
    let cases: Vec<(&str, Entries, &str)> = vec![
        ("complete", [good_pom.clone(), jar_entries.clone()].concat(), ""),
        (
            "no signature",
            [good_pom.clone(), without(&jar_entries, ".asc")].concat(),
            "Missing signature for file: foo-1.2.0.jar",
        ),
        (
            "no md5",
            [good_pom.clone(), without(&jar_entries, ".md5")].concat(),
            "Missing .md5 checksum for file: foo-1.2.0.jar",
        ),
        ("wrong sha1", [good_pom.clone(), wrong_sha1].concat(), "Invalid checksum .sha1 for file: foo-1.2.0.jar"),
        ("flat layout", complete("", "foo-1.2.0.jar", jar), "not in Maven repository layout"),
        ("no pom", jar_entries.clone(), "Missing POM file: foo-1.2.0.pom"),
    ];
    for (case, entries, error) in cases {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (path, bytes) in entries {
            zip.start_file(path, zip::write::SimpleFileOptions::default()).unwrap();
            zip.write_all(&bytes).unwrap();
        }
        let bundle = zip.finish().unwrap().into_inner();
        let form = reqwest::multipart::Form::new()
            .part("bundle", reqwest::multipart::Part::bytes(bundle).file_name("bundle.zip"));
        let response = http
            .post(format!("{}/api/v1/publisher/upload?publishingType=USER_MANAGED", portal.url()))
            .header("authorization", format!("Bearer {token}"))
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{case}");
        let id = response.text().await.unwrap();
        let mut last = serde_json::Value::Null;
        for _ in 0..3 {
            last = http
                .post(format!("{}/api/v1/publisher/status?id={id}", portal.url()))
                .header("authorization", format!("Bearer {token}"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
        }
        if error.is_empty() {
            assert_eq!(last["deploymentState"], "VALIDATED", "{case}: {last}");
        } else {
            assert_eq!(last["deploymentState"], "FAILED", "{case}: {last}");
            assert!(last["errors"].to_string().contains(error), "{case}: {last}");
        }
    }
}

#[tokio::test]
async fn a_stopped_portal_is_transient_and_the_distribution_succeeds_once_it_is_back() {
    let mut portal = portal().await;
    let client = client(&portal, SECRET);
    portal.stop().await;
    let err = client.upload(&target(), &release("one"), true).await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    portal.restart().await;
    client.upload(&target(), &release("one"), true).await.unwrap();
    assert_eq!(portal.uploads(), 1);
}

#[tokio::test]
async fn status_failures_while_waiting_are_retried_without_uploading_again() {
    let portal = portal().await;
    let client = client(&portal, SECRET);
    // The published check and the upload pass; the next three status polls fail.
    portal.fail_after(2, 3);
    let staged = client.upload(&target(), &release("one"), true).await.unwrap();
    assert_eq!(staged.details["state"], "VALIDATED");
    assert_eq!(portal.uploads(), 1);

    // A portal that stays unavailable is a transient failure.
    portal.fail_after(0, usize::MAX);
    let err = client.promote_recorded(&target(), &release("one"), &staged.details).await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    portal.fail_after(0, 0);
    client.promote_recorded(&target(), &release("one"), &staged.details).await.unwrap();
}

#[tokio::test]
async fn wrong_credentials_are_refused_and_no_secret_reaches_an_error_or_debug_output() {
    let portal = portal().await;
    let wrong = "wrong-portal-s3cr3t";
    let client = client(&portal, wrong);
    let err = client.upload(&target(), &release("one"), true).await.unwrap_err();
    assert!(matches!(err, DistributeError::Refused(_)), "{err:?}");
    assert!(err.to_string().contains("401"), "{err}");
    let anonymous = MavenClient::new(Endpoint {
        base_url: portal.url(),
        staging_url: None,
        repository_url: None,
        credentials: Credentials::none(),
        timeouts: Default::default(),
    });
    assert!(anonymous.lookup(&target(), false).await.unwrap_err().to_string().contains("401"));
    let good = self::client(&portal, SECRET);
    for text in [format!("{err}"), format!("{err:?}"), format!("{client:?}"), format!("{good:?}")] {
        assert!(!text.contains(wrong) && !text.contains(SECRET), "{text}");
    }
    assert_eq!(portal.uploads(), 0);
}

#[tokio::test]
async fn a_publication_still_running_is_reported_as_publishing_and_found_from_the_record() {
    let portal = portal().await;
    let client = client(&portal, SECRET)
        .with_polling(Polling { interval: Duration::from_millis(5), max_wait: Duration::from_millis(200) });
    // Published check, upload, three status polls to VALIDATED and the publish pass; the
    // status polls after it fail, as if the portal took long to publish.
    portal.fail_after(6, usize::MAX);
    let published = client.upload(&target(), &release("one"), false).await.unwrap();
    assert_eq!(published.details["state"], "PUBLISHING");
    portal.fail_after(0, 0);
    assert_eq!(portal.deployments()[0].state, "PUBLISHING");

    // Not yet "published" for the portal, but the recorded deployment is on its way.
    let found = client.lookup_recorded(&target(), false, &published.details).await.unwrap().unwrap();
    assert_eq!(found.details["state"], "PUBLISHING");
    let found = client.lookup_recorded(&target(), false, &published.details).await.unwrap().unwrap();
    assert_eq!(found.details["state"], "PUBLISHED");
    assert!(client.lookup(&target(), false).await.unwrap().is_some());
    assert_eq!(portal.uploads(), 1);
}

/// What a client records mid-call, kept as the core keeps it in the distribution record.
#[derive(Default)]
struct Recorded(std::sync::Mutex<Vec<serde_json::Value>>);

#[async_trait::async_trait]
impl trs_distribute::Journal for Recorded {
    async fn record(&self, in_flight: serde_json::Value) -> Result<(), DistributeError> {
        self.0.lock().unwrap().push(in_flight);
        Ok(())
    }
}

impl Recorded {
    fn last(&self) -> serde_json::Value {
        self.0.lock().unwrap().last().cloned().unwrap_or_default()
    }
}

#[tokio::test]
async fn a_portal_lost_after_the_upload_leaves_the_deployment_id_recorded_and_the_next_run_publishes_it() {
    let mut portal = portal().await;
    let client = client(&portal, SECRET);
    let files = release("one");
    portal.stop_after_next_upload();
    let journal = Recorded::default();
    let err = client.upload_resuming(&target(), &files, false, &serde_json::Value::Null, &journal).await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    let deployments = portal.deployments();
    assert_eq!(deployments.len(), 1);
    assert_eq!(deployments[0].state, "PENDING", "the portal was gone before the first poll");
    let in_flight = journal.last();
    assert_eq!(in_flight, serde_json::json!({ "deployment_id": deployments[0].id }), "recorded before polling");
    assert!(err.to_string().contains(&deployments[0].id), "{err}");

    // Back: the next run resumes the recorded deployment, checks its files and publishes it.
    portal.restart().await;
    let again = Recorded::default();
    let published = client.upload_resuming(&target(), &files, false, &in_flight, &again).await.unwrap();
    assert_eq!(published.details["state"], "PUBLISHED");
    assert_eq!(published.details["deployment_id"], deployments[0].id.as_str());
    assert!(again.0.lock().unwrap().is_empty(), "nothing new to record");
    assert_eq!(portal.uploads(), 1, "no second deployment");
    assert_eq!(portal.deployments().len(), 1);
    assert_eq!(portal.deployments()[0].state, "PUBLISHED");
    assert!(portal.published().contains(&coordinates()));
}

#[tokio::test]
async fn a_recorded_deployment_that_is_gone_or_holds_other_files_is_replaced_by_a_new_upload() {
    let portal = portal().await;
    let client = client(&portal, SECRET);
    let journal = Recorded::default();

    // Gone from the portal (dropped there): uploaded again.
    let gone = serde_json::json!({ "deployment_id": "00000000-0000-4000-8000-000000000000" });
    client.upload_resuming(&target(), &release("one"), true, &gone, &journal).await.unwrap();
    assert_eq!(portal.uploads(), 1);
    let first = journal.last();

    // An unpublished deployment of other bytes (an earlier revision): dropped, and the voted
    // files uploaded instead.
    let staged = client.upload_resuming(&target(), &release("two"), true, &first, &journal).await.unwrap();
    assert_eq!(portal.uploads(), 2);
    let deployments = portal.deployments();
    assert_eq!(deployments.len(), 1, "the stale deployment was dropped");
    assert_eq!(staged.details["deployment_id"], deployments[0].id.as_str());
    assert_eq!(deployments[0].files[&format!("{FOLDER}/foo-1.2.0.jar")].as_ref(), b"jar two");
}

/// `TRS_MAVEN_REPOSITORY_URL` is where the configured client reads published files back:
/// finding the version published, it compares the repository's checksums with the voted files
/// there (Maven Central's own repository is unreachable here).
#[tokio::test]
async fn the_configured_client_reads_published_files_from_the_repository_url_variable() {
    let portal = portal().await;
    client(&portal, SECRET).upload(&target(), &release("one"), false).await.unwrap();
    let vars = std::collections::HashMap::from([
        ("TRS_MAVEN_URL", portal.url()),
        ("TRS_MAVEN_REPOSITORY_URL", portal.repository_url()),
        ("TRS_MAVEN_USERNAME", USER.to_string()),
        ("TRS_MAVEN_TOKEN", SECRET.to_string()),
    ]);
    let endpoint =
        trs_distribute::endpoints_from(|k| vars.get(k).cloned()).remove(&trs_distribute::PlatformName::Maven).unwrap();
    assert_eq!(endpoint.repository_url, Some(portal.repository_url()));
    let configured = trs_registry_clients::client_for(trs_distribute::PlatformName::Maven, endpoint);
    assert!(configured.upload(&target(), &release("one"), false).await.unwrap().already_present);
    let err = configured.upload(&target(), &release("two"), false).await.unwrap_err();
    assert!(matches!(err, DistributeError::DigestMismatch(_)), "{err:?}");
    assert_eq!(portal.uploads(), 1);
}

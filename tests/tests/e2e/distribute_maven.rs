//! Maven Central distribution end to end: the real `trs` binary against `trs serve` configured
//! (from its environment) with the Publisher Portal stand-in. A candidate's POM and jar are
//! staged as a validated USER_MANAGED deployment (with GnuPG signatures and checksums), the
//! promotion waits for the vote and then publishes that same deployment (by the id recorded at
//! staging), a re-run uploads nothing, and the portal token is in no output or log.

use trs_tests::maven_portal::MavenPortal;
use trs_tests::*;

const USER: &str = "rita-portal";
const TOKEN: &str = "portal-e2e-T0kenNeverShown";
const FOLDER: &str = "org/apache/foo/foo/1.0.0";

/// A real (tiny) jar: trs inspects jars as zips, and a vote needs every check to pass.
fn jar() -> Vec<u8> {
    use std::io::Write;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default().last_modified_time(zip::DateTime::default());
    w.start_file("META-INF/MANIFEST.MF", opts).unwrap();
    w.write_all(b"Manifest-Version: 1.0\r\n").unwrap();
    w.start_file("org/apache/foo/Foo.class", opts).unwrap();
    w.write_all(b"jar bytes of foo 1.0.0\n").unwrap();
    w.finish().unwrap().into_inner()
}

#[test]
fn stage_a_maven_deployment_and_publish_it_once_voted() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let portal = runtime.block_on(MavenPortal::start(USER, TOKEN, "org.apache"));
    let env = [
        ("TRS_MAVEN_URL", portal.url()),
        ("TRS_MAVEN_USERNAME", USER.to_string()),
        ("TRS_MAVEN_TOKEN", TOKEN.to_string()),
        ("TRS_DISTRIBUTE_BACKOFF_MS", "20".to_string()),
        ("TRS_DISTRIBUTE_ATTEMPTS", "3".to_string()),
        ("TRS_LOG", "debug".to_string()),
    ];
    let team = Team::with_server_env("ed25519", &env);
    let mut outputs = Vec::new();
    let mut keep = |out: std::process::Output| {
        outputs.push(String::from_utf8_lossy(&out.stdout).into_owned());
        outputs.push(String::from_utf8_lossy(&out.stderr).into_owned());
        out
    };
    ok(&keep(team.as_admin(&["project", "policy", "foo", "--min-vote-hours", "0", "--min-binding", "1"])));
    let pom = "<project><modelVersion>4.0.0</modelVersion><groupId>org.apache.foo</groupId>\
               <artifactId>foo</artifactId><version>1.0.0</version></project>\n";
    let mut files = team.signed_set(&team.file("foo-1.0.0.pom", pom.as_bytes()));
    files.extend(team.signed_set(&team.file("foo-1.0.0.jar", &jar())));
    assert_eq!(team.upload_passing(&files)["summary"]["fail"], 0);

    let stage = ["distribute", "foo", "1.0.0", "--platform", "maven", "--namespace", "org.apache.foo", "--staging"];
    ok(&keep(team.as_rm(&stage)));
    let deployments = portal.deployments();
    assert_eq!(deployments.len(), 1);
    assert_eq!(deployments[0].state, "VALIDATED");
    for name in ["foo-1.0.0.pom", "foo-1.0.0.jar"] {
        for suffix in ["", ".asc", ".md5", ".sha1", ".sha256", ".sha512"] {
            assert!(deployments[0].files.contains_key(&format!("{FOLDER}/{name}{suffix}")), "{name}{suffix}");
        }
    }
    let signature = &deployments[0].files[&format!("{FOLDER}/foo-1.0.0.jar.asc")];
    assert_eq!(signature.as_ref(), std::fs::read(&files[4]).unwrap().as_slice(), "the release manager's signature");
    assert!(portal.published().is_empty());

    // Not current yet: promotion is refused, and nothing is published.
    let promote = ["distribute", "foo", "1.0.0", "--platform", "maven", "--namespace", "org.apache.foo", "--promote"];
    let out = keep(team.as_rm(&promote));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("release-not-current"), "{}", stderr(&out));
    assert!(portal.published().is_empty());

    ok(&keep(team.as_rm(&["vote", "start", "foo", "1.0.0"])));
    ok(&keep(team.as_admin(&["vote", "cast", "foo", "1.0.0", "+1"])));
    ok(&keep(team.as_rm(&["vote", "close", "foo", "1.0.0"])));
    ok(&keep(team.as_rm(&["promote", "foo", "1.0.0"])));
    ok(&keep(team.as_rm(&promote)));
    assert_eq!(portal.uploads(), 1, "the staged deployment was published, nothing uploaded again");
    assert_eq!(portal.deployments()[0].state, "PUBLISHED");
    assert!(portal.published().contains(&("org.apache.foo".into(), "foo".into(), "1.0.0".into())));
    assert_eq!(portal.repository_file(&format!("{FOLDER}/foo-1.0.0.jar")).unwrap().as_ref(), jar().as_slice());

    let out = keep(team.anonymous(&["distributions", "foo", "1.0.0", "--json"]));
    let record = stdout_json(ok(&out))["distributions"][0].clone();
    assert_eq!(record["platform"], "maven");
    assert!(record["web_url"].as_str().unwrap().ends_with("/artifact/org.apache.foo/foo/1.0.0"), "{record}");

    // Again: nothing is uploaded.
    let out = keep(team.as_rm(&[&promote[..], &["--json"]].concat()));
    assert_eq!(stdout_json(ok(&out))["result"]["distributions"][0]["status"], "already-done");
    assert_eq!(portal.uploads(), 1);

    let log = team.server.log.lock().unwrap().join("\n");
    for text in outputs.iter().chain([&log]) {
        assert!(!text.contains(TOKEN), "the token leaked: {text}");
    }
}

/// The portal goes away right after answering the upload: the run fails transiently with the
/// deployment id in the record, and once the portal is back the next run publishes that one
/// deployment instead of uploading a second (the portal cannot list deployments).
#[test]
fn a_deployment_uploaded_before_the_portal_went_away_is_published_by_the_next_run() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut portal = runtime.block_on(MavenPortal::start(USER, TOKEN, "org.apache"));
    let env = [
        ("TRS_MAVEN_URL", portal.url()),
        ("TRS_MAVEN_USERNAME", USER.to_string()),
        ("TRS_MAVEN_TOKEN", TOKEN.to_string()),
        ("TRS_DISTRIBUTE_BACKOFF_MS", "20".to_string()),
        ("TRS_DISTRIBUTE_ATTEMPTS", "2".to_string()),
    ];
    let team = Team::with_server_env("ed25519", &env);
    ok(&team.as_admin(&["project", "policy", "foo", "--min-vote-hours", "0", "--min-binding", "1"]));
    let pom = "<project><modelVersion>4.0.0</modelVersion><groupId>org.apache.foo</groupId>\
               <artifactId>foo</artifactId><version>1.0.0</version></project>\n";
    let mut files = team.signed_set(&team.file("foo-1.0.0.pom", pom.as_bytes()));
    files.extend(team.signed_set(&team.file("foo-1.0.0.jar", &jar())));
    assert_eq!(team.upload_passing(&files)["summary"]["fail"], 0);
    ok(&team.as_rm(&["vote", "start", "foo", "1.0.0"]));
    ok(&team.as_admin(&["vote", "cast", "foo", "1.0.0", "+1"]));
    ok(&team.as_rm(&["vote", "close", "foo", "1.0.0"]));
    ok(&team.as_rm(&["promote", "foo", "1.0.0"]));

    portal.stop_after_next_upload();
    let distribute = ["distribute", "foo", "1.0.0", "--platform", "maven", "--namespace", "org.apache.foo"];
    let out = team.as_rm(&distribute);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let deployments = portal.deployments();
    assert_eq!(deployments.len(), 1);
    let id = deployments[0].id.clone();
    assert_eq!(deployments[0].state, "PENDING", "never polled: the portal was gone");
    assert!(stderr(&out).contains("distribution-failed"), "{}", stderr(&out));
    let listed = stdout_json(ok(&team.anonymous(&["distributions", "foo", "1.0.0", "--json"])));
    let record = &listed["distributions"][0];
    assert_eq!(record["in_flight"]["deployment_id"], id.as_str(), "{record}");
    assert_eq!(record["pending"], false);
    assert!(record["last_error"].is_string(), "{record}");

    runtime.block_on(portal.restart());
    let out = team.as_rm(&[&distribute[..], &["--json"]].concat());
    let result = stdout_json(ok(&out));
    assert_eq!(result["result"]["distributions"][0]["status"], "distributed", "{result}");
    assert_eq!(portal.uploads(), 1, "the recorded deployment was published, nothing uploaded again");
    let deployments = portal.deployments();
    assert_eq!(deployments.len(), 1);
    assert_eq!((deployments[0].id.as_str(), deployments[0].state), (id.as_str(), "PUBLISHED"));
    assert!(portal.published().contains(&("org.apache.foo".into(), "foo".into(), "1.0.0".into())));
    let listed = stdout_json(ok(&team.anonymous(&["distributions", "foo", "1.0.0", "--json"])));
    let record = &listed["distributions"][0];
    assert_eq!(record["details"]["deployment_id"], id.as_str(), "{record}");
    assert!(record["in_flight"].is_null() && record["last_error"].is_null(), "{record}");
}

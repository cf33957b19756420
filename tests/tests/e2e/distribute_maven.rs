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
    files.extend(team.signed_set(&team.file("foo-1.0.0.jar", b"jar bytes of foo 1.0.0\n")));
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
    assert_eq!(
        portal.repository_file(&format!("{FOLDER}/foo-1.0.0.jar")).unwrap().as_ref(),
        b"jar bytes of foo 1.0.0\n"
    );

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

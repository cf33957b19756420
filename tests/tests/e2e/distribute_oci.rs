//! OCI distribution end to end: the real `trs` binary against `trs serve` configured (from its
//! environment) with Debian's `docker-registry`. A candidate is staged under the staging tag,
//! its promotion waits for the vote, promotion retags the staged manifest by digest, a re-run
//! writes nothing to the registry, and the registry password is in no output or log.

use trs_tests::oci_registry::OciRegistry;
use trs_tests::*;

const USER: &str = "rita-oci";
const PASSWORD: &str = "oci-e2e-Passw0rdNeverShown";
const REPOSITORY: &str = "apache/foo";

#[test]
fn stage_an_oci_artifact_and_promote_it_by_digest_once_voted() {
    let registry = OciRegistry::start(USER, PASSWORD);
    let env = [
        ("TRS_OCI_URL", registry.url()),
        ("TRS_OCI_USERNAME", USER.to_string()),
        ("TRS_OCI_PASSWORD", PASSWORD.to_string()),
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
    let tarball = source_tarball(team.work.path(), "apache-foo-1.0.0-src.tar.gz", "apache-foo-1.0.0");
    let files = team.signed_set(&tarball);
    assert_eq!(team.upload_passing(&files)["summary"]["fail"], 0);

    let stage = ["distribute", "foo", "1.0.0", "--platform", "oci", "--namespace", "apache", "--staging"];
    let out = keep(team.as_rm(&stage));
    ok(&out);
    assert_eq!(registry.tags(REPOSITORY), ["1.0.0-staging"]);
    let (status, staged_digest, body) = registry.get(&format!("{REPOSITORY}/manifests/1.0.0-staging"));
    assert_eq!(status, 200);
    let manifest: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let titles: Vec<&str> = manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["annotations"]["org.opencontainers.image.title"].as_str().unwrap())
        .collect();
    assert!(titles.contains(&"apache-foo-1.0.0-src.tar.gz"), "{titles:?}");
    let tar_layer = manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["annotations"]["org.opencontainers.image.title"] == "apache-foo-1.0.0-src.tar.gz")
        .unwrap();
    let (_, _, blob) = registry.get(&format!("{REPOSITORY}/blobs/{}", tar_layer["digest"].as_str().unwrap()));
    assert_eq!(blob, std::fs::read(&tarball).unwrap(), "exactly the uploaded bytes");

    let out = keep(team.anonymous(&["distributions", "foo", "1.0.0", "--json"]));
    let record = stdout_json(ok(&out))["distributions"][0].clone();
    assert_eq!(record["platform"], "oci");
    assert_eq!(record["staging"], true);
    assert!(record["api_url"].as_str().unwrap().ends_with("/v2/apache/foo/manifests/1.0.0-staging"), "{record}");

    // Not current yet: promotion is refused, and no release tag appears.
    let promote = ["distribute", "foo", "1.0.0", "--platform", "oci", "--namespace", "apache", "--promote"];
    let out = keep(team.as_rm(&promote));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("release-not-current"), "{}", stderr(&out));
    assert_eq!(registry.tags(REPOSITORY), ["1.0.0-staging"]);

    ok(&keep(team.as_rm(&["vote", "start", "foo", "1.0.0"])));
    ok(&keep(team.as_admin(&["vote", "cast", "foo", "1.0.0", "+1"])));
    ok(&keep(team.as_rm(&["vote", "close", "foo", "1.0.0"])));
    ok(&keep(team.as_rm(&["promote", "foo", "1.0.0"])));
    ok(&keep(team.as_rm(&promote)));
    assert_eq!(registry.tags(REPOSITORY), ["1.0.0", "1.0.0-staging"]);
    let (_, production_digest, _) = registry.get(&format!("{REPOSITORY}/manifests/1.0.0"));
    assert_eq!(production_digest, staged_digest, "the staged manifest, retagged by digest");

    // Again: nothing is written to the registry.
    let before = registry.snapshot();
    let out = keep(team.as_rm(&[&promote[..], &["--json"]].concat()));
    assert_eq!(stdout_json(ok(&out))["result"]["distributions"][0]["status"], "already-done");
    assert_eq!(registry.snapshot(), before);

    let log = team.server.log.lock().unwrap().join("\n");
    for text in outputs.iter().chain([&log]) {
        assert!(!text.contains(PASSWORD), "the password leaked: {text}");
    }
}

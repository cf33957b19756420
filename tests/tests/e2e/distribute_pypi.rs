//! PyPI distribution end to end: the real `trs` binary against `trs serve` configured (from its
//! environment) with two pypiserver indexes, production and staging (as PyPI and TestPyPI). A
//! candidate's wheel and sdist, signed with GnuPG, are staged on the staging index; promotion
//! waits for the vote and then uploads exactly the voted bytes to production; a re-run uploads
//! nothing; auto-distribution stages and promotes on the release's promotion; the index
//! password is in no output, log, event or stored byte.

use crate::distribute_support::*;
use base64::Engine as _;
use trs_tests::pypi_server::{PypiServer, sdist, sha256_hex, wheel};
use trs_tests::*;

const USER: &str = "rita-pypi";
const PASSWORD: &str = "pypi-e2e-Passw0rdNeverShown";

fn env(production: &PypiServer, staging: &PypiServer) -> [(&'static str, String); 7] {
    [
        ("TRS_PYPI_URL", production.url()),
        ("TRS_PYPI_STAGING_URL", staging.url()),
        ("TRS_PYPI_USERNAME", USER.to_string()),
        ("TRS_PYPI_TOKEN", PASSWORD.to_string()),
        ("TRS_DISTRIBUTE_BACKOFF_MS", "20".to_string()),
        ("TRS_DISTRIBUTE_ATTEMPTS", "3".to_string()),
        ("TRS_LOG", "debug".to_string()),
    ]
}

/// The wheel and sdist of apache-foo VERSION, each with its `.asc` and `.sha512`, as paths.
fn python_release(team: &Team, version: &str) -> (Vec<std::path::PathBuf>, Vec<String>) {
    let dists = vec![
        wheel(team.work.path(), "apache-foo", version, "VALUE = 1\n"),
        sdist(team.work.path(), "apache-foo", version),
    ];
    let files = dists.iter().flat_map(|d| team.signed_set(d)).collect();
    (dists, files)
}

/// The password, and the Basic authorization header value that carries it.
fn secrets() -> [String; 2] {
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    [PASSWORD.to_string(), basic]
}

fn name_and_sha256(path: &std::path::Path) -> (String, String) {
    (path.file_name().unwrap().to_string_lossy().into_owned(), sha256_hex(&std::fs::read(path).unwrap()))
}

#[test]
fn stage_a_wheel_and_sdist_and_upload_the_voted_bytes_to_production_once_current() {
    let production = PypiServer::start(USER, PASSWORD);
    let staging = PypiServer::start(USER, PASSWORD);
    let team = Team::with_server_env("ed25519", &env(&production, &staging));
    let mut run = Run::default();
    ok(&run.keep(team.as_admin(&["project", "policy", "foo", "--min-vote-hours", "0", "--min-binding", "1"])));
    let (dists, files) = python_release(&team, "1.0.0");
    let (whl, tar) = (name_and_sha256(&dists[0]), name_and_sha256(&dists[1]));
    upload_version(&team, &mut run, "1.0.0", &files);
    let key = revision_key(&team, "1.0.0");

    let stage = ["distribute", "foo", "1.0.0", "--platform", "pypi", "--package", "apache-foo", "--staging"];
    let out = ok(&run.keep(team.as_rm(&stage))).clone();
    assert!(stderr(&out).contains("pypi apache-foo: distributed to staging"), "{}", stderr(&out));
    let with_signatures = [&whl.0, &format!("{}.asc", whl.0), &tar.0, &format!("{}.asc", tar.0)];
    let mut expected: Vec<String> = with_signatures.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(staging.stored_files(), expected);
    assert_eq!(
        staging.stored(&format!("{}.asc", tar.0)),
        std::fs::read(&files[4]).unwrap(),
        "the release manager's signature travels with the file"
    );
    assert!(production.stored_files().is_empty(), "staging leaves production alone");
    assert_eq!(staging.pip_download("apache-foo==1.0.0", true).unwrap(), whl, "exactly the uploaded wheel");
    assert_eq!(staging.pip_download("apache-foo==1.0.0", false).unwrap(), tar, "exactly the uploaded sdist");
    assert!(production.pip_download("apache-foo==1.0.0", true).is_err());

    let record = records(&team, &mut run, "1.0.0")[0].clone();
    assert_eq!(record["platform"], "pypi");
    assert_eq!(record["package"], "apache-foo");
    assert_eq!(record["staging"], true);
    assert_eq!(record["pending"], false);
    assert_eq!(record["staged_revision_key"], key.as_str());
    assert_eq!(record["production_revision_key"], serde_json::Value::Null);
    assert_eq!(record["created_by"], "rita");
    let staging_web = format!("{}/project/apache-foo/1.0.0/", staging.url().trim_end_matches('/'));
    assert_eq!(record["web_url"], staging_web.as_str());

    // Not current yet: promotion is refused, and production stays empty.
    let promote = ["distribute", "foo", "1.0.0", "--platform", "pypi", "--package", "apache-foo", "--promote"];
    let err = refused(&run.keep(team.as_rm(&promote)), "release-not-current");
    assert!(err.contains("promoting a staged distribution waits until it is promoted"), "{err}");
    assert!(production.stored_files().is_empty());

    pass_vote_and_promote(&team, &mut run, "1.0.0");
    let out = ok(&run.keep(team.as_rm(&promote))).clone();
    assert!(stderr(&out).contains("pypi apache-foo: distributed, promoted"), "{}", stderr(&out));
    assert_eq!(production.stored_files(), expected);
    assert_eq!(production.pip_download("apache-foo==1.0.0", true).unwrap(), whl, "the voted wheel, byte for byte");
    assert_eq!(production.pip_download("apache-foo==1.0.0", false).unwrap(), tar, "the voted sdist, byte for byte");
    for file in [&whl.0, &tar.0] {
        assert_eq!(production.times_stored(file), 1, "{}", production.log_text());
        assert_eq!(staging.times_stored(file), 1, "{}", staging.log_text());
    }

    // Again, both the promotion and the staging: nothing is uploaded to either index.
    let before = (production.snapshot(), staging.snapshot());
    let out = run.keep(team.as_rm(&[&promote[..], &["--json"]].concat()));
    assert_eq!(stdout_json(ok(&out))["result"]["distributions"][0]["status"], "already-done");
    let out = run.keep(team.as_rm(&[&stage[..], &["--json"]].concat()));
    assert_eq!(stdout_json(ok(&out))["result"]["distributions"][0]["status"], "already-done");
    assert_eq!((production.snapshot(), staging.snapshot()), before);
    for file in [&whl.0, &tar.0] {
        assert_eq!(production.times_stored(file), 1, "{}", production.log_text());
        assert_eq!(staging.times_stored(file), 1, "{}", staging.log_text());
    }

    let record = records(&team, &mut run, "1.0.0")[0].clone();
    assert_eq!(record["staged_revision_key"], key.as_str());
    assert_eq!(record["production_revision_key"], key.as_str());
    assert_eq!(record["staging"], false, "{record}");
    let production_web = format!("{}/project/apache-foo/1.0.0/", production.url().trim_end_matches('/'));
    assert_eq!(record["web_url"], production_web.as_str());
    let listed: Vec<&str> =
        record["details"]["files"].as_array().unwrap().iter().map(|f| f["sha256"].as_str().unwrap()).collect();
    assert!(listed.contains(&whl.1.as_str()) && listed.contains(&tar.1.as_str()), "{record}");

    let events = assert_secrets_nowhere(&team, &mut run, &secrets(), &[production.log_text(), staging.log_text()]);
    assert!(events.contains("distribution-promoted") && events.contains("\"distributed\""), "{events}");
}

#[test]
fn with_auto_distribute_the_promotion_stages_then_uploads_to_production() {
    let production = PypiServer::start(USER, PASSWORD);
    let staging = PypiServer::start(USER, PASSWORD);
    let team = Team::with_server_env("ed25519", &env(&production, &staging));
    let mut run = Run::default();
    let policy =
        ["project", "policy", "foo", "--min-vote-hours", "0", "--min-binding", "1", "--auto-distribute", "true"];
    ok(&run.keep(team.as_admin(&policy)));
    ok(&run.keep(team.as_rm(&[
        "project",
        "distributions",
        "foo",
        "--set",
        "platform=pypi,package=apache-foo,staging",
    ])));
    let (dists, files) = python_release(&team, "1.0.0");
    upload_version(&team, &mut run, "1.0.0", &files);
    assert!(staging.stored_files().is_empty(), "nothing is distributed before the promotion");

    let steps = stderr(&pass_vote_and_promote(&team, &mut run, "1.0.0"));
    assert!(steps.contains("pypi apache-foo: nothing staged yet: staging revision 1 first"), "{steps}");
    assert!(steps.contains("pypi apache-foo: distributed, promoted"), "{steps}");
    for index in [&staging, &production] {
        assert_eq!(index.pip_download("apache-foo==1.0.0", true).unwrap(), name_and_sha256(&dists[0]));
        assert_eq!(index.pip_download("apache-foo==1.0.0", false).unwrap(), name_and_sha256(&dists[1]));
    }
    let record = records(&team, &mut run, "1.0.0")[0].clone();
    let key = serde_json::Value::from(revision_key(&team, "1.0.0"));
    assert_eq!(record["staged_revision_key"], key);
    assert_eq!(record["production_revision_key"], key);
    assert_secrets_nowhere(&team, &mut run, &secrets(), &[production.log_text(), staging.log_text()]);
}

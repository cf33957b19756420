//! npm distribution end to end: the real `trs` binary against `trs serve` configured (from its
//! environment) with verdaccio. A first release goes straight to `latest`; the next candidate's
//! `npm pack` tarball, signed with GnuPG, is staged under the `staging` dist-tag; promotion
//! waits for the vote and then moves `latest` to exactly the voted bytes; a re-run writes
//! nothing; auto-distribution stages and promotes on the release's promotion; the registry
//! token and password are in no output, log, event or stored byte.

use crate::distribute_support::*;
use base64::Engine as _;
use serde_json::json;
use sha2::{Digest, Sha512};
use std::path::Path;
use trs_tests::verdaccio::{Verdaccio, npm_pack};
use trs_tests::*;

const USER: &str = "rita-npm";
const PASSWORD: &str = "npm-e2e-Passw0rdNeverShown";
const PACKAGE: &str = "@apache/foo";

fn env(registry: &Verdaccio, token: &str) -> [(&'static str, String); 5] {
    [
        ("TRS_NPM_URL", registry.url()),
        ("TRS_NPM_TOKEN", token.to_string()),
        ("TRS_DISTRIBUTE_BACKOFF_MS", "20".to_string()),
        ("TRS_DISTRIBUTE_ATTEMPTS", "3".to_string()),
        ("TRS_LOG", "debug".to_string()),
    ]
}

/// The `npm pack` tarball of @apache/foo VERSION, with its `.asc` and `.sha512`, as paths.
fn npm_release(team: &Team, version: &str) -> (std::path::PathBuf, Vec<String>) {
    let tarball = npm_pack(team.work.path(), PACKAGE, version, &format!("module.exports = '{version}';\n"));
    let files = team.signed_set(&tarball);
    (tarball, files)
}

/// npm's subresource integrity of a file: `sha512-` and the base64 SHA-512.
fn integrity(path: &Path) -> String {
    let digest = Sha512::digest(std::fs::read(path).unwrap());
    format!("sha512-{}", base64::engine::general_purpose::STANDARD.encode(digest))
}

#[test]
fn stage_a_tarball_under_the_staging_tag_and_move_latest_to_it_once_voted() {
    let registry = Verdaccio::start();
    let token = registry.token(USER, PASSWORD);
    let team = Team::with_server_env("ed25519", &env(&registry, &token));
    let mut run = Run::default();
    ok(&run.keep(team.as_admin(&["project", "policy", "foo", "--min-vote-hours", "0", "--min-binding", "1"])));

    // A package's first version becomes `latest` on any registry, so staging the candidate
    // 1.0.0 would make its unvoted files the default install: refused, nothing published.
    let (_, files) = npm_release(&team, "1.0.0");
    upload_version(&team, &mut run, "1.0.0", &files);
    let stage_first = ["distribute", "foo", "1.0.0", "--platform", "npm", "--package", PACKAGE, "--staging"];
    let before = registry.snapshot();
    let out = run.keep(team.as_rm(&stage_first));
    assert!(!out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("makes a package's first version `latest`"), "{}", stderr(&out));
    assert_eq!(registry.snapshot(), before, "nothing was published");
    assert!(registry.packument(PACKAGE).get("versions").is_none(), "{}", registry.packument(PACKAGE));
    // Released directly once voted.
    pass_vote_and_promote(&team, &mut run, "1.0.0");
    let release = ["distribute", "foo", "1.0.0", "--platform", "npm", "--package", PACKAGE];
    ok(&run.keep(team.as_rm(&release)));
    assert_eq!(registry.npm_view(&[PACKAGE, "dist-tags"]), json!({"latest": "1.0.0"}));

    let (tarball, files) = npm_release(&team, "1.1.0");
    upload_version(&team, &mut run, "1.1.0", &files);
    let key = revision_key(&team, "1.1.0");
    let stage = ["distribute", "foo", "1.1.0", "--platform", "npm", "--package", PACKAGE, "--staging"];
    let out = ok(&run.keep(team.as_rm(&stage))).clone();
    assert!(stderr(&out).contains("npm @apache/foo: distributed to staging"), "{}", stderr(&out));
    assert_eq!(registry.npm_view(&[PACKAGE, "dist-tags"]), json!({"latest": "1.0.0", "staging": "1.1.0"}));
    let version = format!("{PACKAGE}@1.1.0");
    assert_eq!(registry.npm_view(&[&version, "dist.integrity"]), integrity(&tarball).as_str());
    let served = registry.npm_view(&[&version, "dist.tarball"]);
    assert_eq!(
        registry.download(served.as_str().unwrap()),
        std::fs::read(&tarball).unwrap(),
        "exactly the uploaded bytes"
    );

    let record = records(&team, &mut run, "1.1.0")[0].clone();
    assert_eq!(record["platform"], "npm");
    assert_eq!(record["package"], PACKAGE);
    assert_eq!(record["staging"], true);
    assert_eq!(record["pending"], false);
    assert_eq!(record["staged_revision_key"], key.as_str());
    assert_eq!(record["production_revision_key"], serde_json::Value::Null);
    assert_eq!(record["details"]["integrity"], integrity(&tarball).as_str());

    // Not current yet: promotion is refused, and `latest` stays where it was.
    let promote = ["distribute", "foo", "1.1.0", "--platform", "npm", "--package", PACKAGE, "--promote"];
    let err = refused(&run.keep(team.as_rm(&promote)), "release-not-current");
    assert!(err.contains("promoting a staged distribution waits until it is promoted"), "{err}");
    assert_eq!(registry.npm_view(&[PACKAGE, "dist-tags"]), json!({"latest": "1.0.0", "staging": "1.1.0"}));

    pass_vote_and_promote(&team, &mut run, "1.1.0");
    let out = ok(&run.keep(team.as_rm(&promote))).clone();
    assert!(stderr(&out).contains("npm @apache/foo: distributed, promoted"), "{}", stderr(&out));
    assert_eq!(registry.npm_view(&[PACKAGE, "dist-tags"]), json!({"latest": "1.1.0", "staging": "1.1.0"}));
    assert_eq!(registry.npm_view(&[PACKAGE, "version"]), "1.1.0", "what `npm install @apache/foo` gets");
    assert_eq!(registry.npm_view(&[PACKAGE, "dist.integrity"]), integrity(&tarball).as_str());

    // Again, both the promotion and the staging: the registry is not written to.
    let rev = registry.packument(PACKAGE)["_rev"].clone();
    let before = registry.snapshot();
    let out = run.keep(team.as_rm(&[&promote[..], &["--json"]].concat()));
    assert_eq!(stdout_json(ok(&out))["result"]["distributions"][0]["status"], "already-done");
    let out = run.keep(team.as_rm(&[&stage[..], &["--json"]].concat()));
    assert_eq!(stdout_json(ok(&out))["result"]["distributions"][0]["status"], "already-done");
    assert_eq!(registry.packument(PACKAGE)["_rev"], rev);
    assert_eq!(registry.snapshot(), before);

    let record = records(&team, &mut run, "1.1.0")[0].clone();
    assert_eq!(record["staged_revision_key"], key.as_str());
    assert_eq!(record["production_revision_key"], key.as_str());
    assert_eq!(record["details"]["dist_tags"], json!({"latest": "1.1.0", "staging": "1.1.0"}));

    // The registry saw the token (its log names the user it belongs to), and logged no secret.
    assert!(registry.log_text().contains("user: rita-npm"), "{}", registry.log_text());
    let events =
        assert_secrets_nowhere(&team, &mut run, &[token.clone(), PASSWORD.to_string()], &[registry.log_text()]);
    assert!(events.contains("distribution-promoted") && events.contains("\"distributed\""), "{events}");
}

#[test]
fn with_auto_distribute_each_promotion_stages_then_moves_latest() {
    let registry = Verdaccio::start();
    let token = registry.token(USER, PASSWORD);
    let team = Team::with_server_env("ed25519", &env(&registry, &token));
    let mut run = Run::default();
    let policy =
        ["project", "policy", "foo", "--min-vote-hours", "0", "--min-binding", "1", "--auto-distribute", "true"];
    ok(&run.keep(team.as_admin(&policy)));
    let set = format!("platform=npm,package={PACKAGE},staging");
    ok(&run.keep(team.as_rm(&["project", "distributions", "foo", "--set", &set])));

    for version in ["1.0.0", "1.1.0"] {
        let (tarball, files) = npm_release(&team, version);
        upload_version(&team, &mut run, version, &files);
        let steps = stderr(&pass_vote_and_promote(&team, &mut run, version));
        assert!(steps.contains("npm @apache/foo: nothing staged yet: staging revision 1 first"), "{steps}");
        // The first version got `latest` when it was staged (see above): nothing left to move.
        let done = if version == "1.0.0" { "already-present" } else { "distributed" };
        assert!(steps.contains(&format!("npm @apache/foo: {done}, promoted")), "{steps}");
        assert_eq!(registry.npm_view(&[PACKAGE, "dist-tags"]), json!({"latest": version, "staging": version}));
        let at = format!("{PACKAGE}@{version}");
        assert_eq!(registry.npm_view(&[&at, "dist.integrity"]), integrity(&tarball).as_str());
        let record = records(&team, &mut run, version)[0].clone();
        let key = serde_json::Value::from(revision_key(&team, version));
        assert_eq!(record["staged_revision_key"], key);
        assert_eq!(record["production_revision_key"], key);
    }
    assert_secrets_nowhere(&team, &mut run, &[token.clone(), PASSWORD.to_string()], &[registry.log_text()]);
}

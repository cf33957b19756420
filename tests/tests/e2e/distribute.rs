//! Distribution end to end: the real `trs` binary against `trs serve` configured (from its
//! environment) with the GitHub Releases test server. A candidate is staged (through an
//! interrupted asset upload, resumed), its promotion is refused until the release is current,
//! the vote passes, the staged distribution is promoted (the prerelease flag cleared on the
//! server), a re-run sends nothing, a staging of another revision than the voted one is
//! refused with both keys, and the token is in no output, log, event or stored byte.

use crate::distribute_support::{Run, assert_secrets_nowhere, pass_vote_and_promote, refused};
use trs_tests::github_server::GitHubServer;
use trs_tests::*;

const TOKEN: &str = "ghp_e2eT0kenNeverShown0123456789";

#[test]
fn stage_a_candidate_promote_it_once_current_and_refuse_another_revision() {
    let github = GitHubServer::start(TOKEN);
    github.add_repo("apache", "foo");
    let env = [
        ("TRS_GITHUB_URL", github.url.clone()),
        ("TRS_GITHUB_TOKEN", TOKEN.to_string()),
        ("TRS_DISTRIBUTE_BACKOFF_MS", "20".to_string()),
        ("TRS_DISTRIBUTE_ATTEMPTS", "3".to_string()),
        ("TRS_LOG", "debug".to_string()),
    ];
    let team = Team::with_server_env("ed25519", &env);
    let mut run = Run { outputs: Vec::new() };
    ok(&run.keep(team.as_admin(&["project", "policy", "foo", "--min-vote-hours", "0", "--min-binding", "1"])));

    let tarball = source_tarball(team.work.path(), "apache-foo-1.0.0-src.tar.gz", "apache-foo-1.0.0");
    let files = team.signed_set(&tarball);
    let status = team.upload_passing(&files);
    assert_eq!(status["summary"]["fail"], 0);
    let key1 = stdout_json(&team.status())["revision_key"].as_str().unwrap().to_string();

    // Stage the candidate; the connection breaks during the second asset.
    github.interrupt_upload_after(1);
    let stage = ["distribute", "foo", "1.0.0", "--platform", "github", "--namespace", "apache", "--staging"];
    let out = ok(&run.keep(team.as_rm(&stage))).clone();
    let progress = stderr(&out);
    assert!(progress.contains("github apache/foo: staging"), "{progress}");
    assert!(progress.contains("github apache/foo: distributed to staging"), "{progress}");
    let release = github.release("apache", "foo", "v1.0.0").expect("a release for the tag");
    assert!(release.prerelease);
    let mut names: Vec<&str> = release.assets.iter().map(|a| a.name.as_str()).collect();
    names.sort();
    assert_eq!(
        names,
        ["apache-foo-1.0.0-src.tar.gz", "apache-foo-1.0.0-src.tar.gz.asc", "apache-foo-1.0.0-src.tar.gz.sha512"]
    );
    assert!(release.assets.iter().all(|a| a.state == "uploaded"), "the interrupted asset was replaced");
    let tar = release.assets.iter().find(|a| a.name == "apache-foo-1.0.0-src.tar.gz").unwrap();
    assert_eq!(tar.bytes.as_ref(), std::fs::read(&tarball).unwrap().as_slice(), "exactly the uploaded bytes");

    let out = ok(&run.keep(team.anonymous(&["distributions", "foo", "1.0.0", "--json"]))).clone();
    let records = stdout_json(&out)["distributions"].clone();
    let record = &records[0];
    assert_eq!(record["platform"], "github");
    assert_eq!(record["staging"], true);
    assert_eq!(record["pending"], false);
    assert_eq!(record["retries"], 1, "the interrupted upload was retried once: {record}");
    assert_eq!(record["staged_revision_key"], key1.as_str());
    assert_eq!(record["created_by"], "rita");
    assert!(record["web_url"].as_str().unwrap().ends_with("/apache/foo/releases/tag/v1.0.0"), "{record}");

    // Not current yet: promoting the staged distribution is refused.
    let promote = ["distribute", "foo", "1.0.0", "--platform", "github", "--namespace", "apache", "--promote"];
    refused(&run.keep(team.as_rm(&promote)), "release-not-current");
    assert!(github.release("apache", "foo", "v1.0.0").unwrap().prerelease);

    pass_vote_and_promote(&team, &mut run, "1.0.0");
    let out = ok(&run.keep(team.as_rm(&promote))).clone();
    assert!(stderr(&out).contains("github apache/foo: distributed, promoted"), "{}", stderr(&out));
    assert!(!github.release("apache", "foo", "v1.0.0").unwrap().prerelease, "the prerelease flag is cleared");

    // Again: nothing is sent.
    let writes = |g: &GitHubServer| g.requests().iter().filter(|r| !r.starts_with("GET")).count();
    let before = writes(&github);
    let out = ok(&run.keep(team.as_rm(&[&promote[..], &["--json"]].concat()))).clone();
    let task = stdout_json(&out);
    assert_eq!(task["result"]["distributions"][0]["status"], "already-done");
    assert_eq!(writes(&github), before);

    let out = ok(&run.keep(team.anonymous(&["distributions", "foo", "1.0.0"]))).clone();
    let table = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(table.contains("PLATFORM") && table.contains("STAGING") && table.contains("RETRIES"), "{table}");
    assert!(table.contains(&format!("staged revision      {key1}")), "{table}");
    assert!(table.contains(&format!("production revision  {key1}")), "{table}");

    // 2.0.0: revision 1 is staged, revision 2 is voted: the promotion is refused, naming both.
    let v2 = |name: &str| team.signed_set(&team.file(name, format!("{name} contents\n").as_bytes()));
    ok(&run.keep(team.as_rm(&args_with(&["upload", "foo", "2.0.0"], &v2("foo-2.0.0.txt")))));
    let stage2 = ["distribute", "foo", "2.0.0", "--platform", "github", "--namespace", "apache", "--staging"];
    ok(&run.keep(team.as_rm(&stage2)));
    let staged_key = stdout_json(&team.anonymous(&["status", "foo", "2.0.0", "--json"]))["revision_key"]
        .as_str()
        .unwrap()
        .to_string();
    ok(&run.keep(team.as_rm(&args_with(&["upload", "foo", "2.0.0"], &v2("NOTES-2.0.0.txt")))));
    let voted_key = stdout_json(&team.anonymous(&["status", "foo", "2.0.0", "--json"]))["revision_key"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(staged_key, voted_key);
    pass_vote_and_promote(&team, &mut run, "2.0.0");
    let promote2 = ["distribute", "foo", "2.0.0", "--platform", "github", "--namespace", "apache", "--promote"];
    let err = refused(&run.keep(team.as_rm(&promote2)), "staged-revision-differs");
    assert!(err.contains(&staged_key) && err.contains(&voted_key), "{err}");
    assert!(github.release("apache", "foo", "v2.0.0").unwrap().prerelease, "nothing promoted");

    // The token is nowhere: not in any output, the server's log, the events or the data folder.
    let events = assert_secrets_nowhere(&team, &mut run, &[TOKEN.to_string()], &[]);
    assert!(events.contains("distribution-promoted") && events.contains("\"distributed\""), "{events}");
}

#[test]
fn with_auto_distribute_the_promotion_stages_and_promotes_the_configured_distribution() {
    let github = GitHubServer::start(TOKEN);
    github.add_repo("apache", "foo");
    let env = [("TRS_GITHUB_URL", github.url.clone()), ("TRS_GITHUB_TOKEN", TOKEN.to_string())];
    let team = Team::with_server_env("ed25519", &env);
    let mut run = Run { outputs: Vec::new() };
    ok(&run.keep(team.as_admin(&[
        "project",
        "policy",
        "foo",
        "--min-vote-hours",
        "0",
        "--min-binding",
        "1",
        "--auto-distribute",
        "true",
    ])));
    let out = run.keep(team.as_rm(&["project", "distributions", "foo", "--set", "platform=github,package=foo"]));
    refused(&out, "namespace-required");
    let set = ["project", "distributions", "foo", "--set", "platform=github,namespace=apache,package=foo,staging"];
    ok(&run.keep(team.as_rm(&set)));
    let shown = ok(&run.keep(team.anonymous(&["project", "distributions", "foo"]))).clone();
    assert!(
        String::from_utf8_lossy(&shown.stdout).contains("github apache/foo: promote the staged distribution"),
        "{}",
        String::from_utf8_lossy(&shown.stdout)
    );

    let tarball = source_tarball(team.work.path(), "apache-foo-1.0.0-src.tar.gz", "apache-foo-1.0.0");
    team.upload_passing(&team.signed_set(&tarball));
    ok(&run.keep(team.as_rm(&["vote", "start", "foo", "1.0.0"])));
    ok(&run.keep(team.as_admin(&["vote", "cast", "foo", "1.0.0", "+1"])));
    ok(&run.keep(team.as_rm(&["vote", "close", "foo", "1.0.0"])));
    let out = ok(&run.keep(team.as_rm(&["promote", "foo", "1.0.0"]))).clone();
    let steps = stderr(&out);
    assert!(steps.contains("github apache/foo: nothing staged yet: staging revision 1 first"), "{steps}");
    assert!(steps.contains("github apache/foo: distributed, promoted"), "{steps}");
    let release = github.release("apache", "foo", "v1.0.0").expect("distributed on promotion");
    assert!(!release.prerelease);
    assert_eq!(release.assets.len(), 3);
    for text in &run.outputs {
        assert!(!text.contains(TOKEN), "the token leaked: {text}");
    }
}

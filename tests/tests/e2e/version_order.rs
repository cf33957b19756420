//! `latest` and the order of versions as a downloader meets them through `trs serve`: a
//! pre-release is never `latest` unless the project opts in (`trs project policy foo
//! --prerelease-latest true`): not at `/current/foo/latest/FILE`, not in the project's
//! releases.json or endoflife.json, not on its page; and when only pre-releases are current,
//! `latest` is a 404 that says why.

use trs_tests::*;

fn get(team: &Team, path: &str) -> reqwest::blocking::Response {
    reqwest::blocking::get(format!("{}{path}", team.server.url)).unwrap()
}

/// Uploads a signed `foo-VERSION.tar.gz`, votes it through and promotes it; returns the
/// tarball's bytes.
fn promote(team: &Team, version: &str) -> Vec<u8> {
    let dir = team.path(version);
    std::fs::create_dir_all(&dir).unwrap();
    let tarball = source_tarball(&dir, &format!("foo-{version}.tar.gz"), &format!("foo-{version}"));
    team.vote_through_and_promote(version, &team.signed_set(&tarball));
    std::fs::read(&tarball).unwrap()
}

/// The JSON at `path` once `check` holds for it (the site is published in the background,
/// right after each event).
fn json_when(team: &Team, path: &str, check: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
    poll_until(format_args!("GET {path} as expected"), || {
        let resp = get(team, path);
        let value: serde_json::Value = if resp.status() == 200 { resp.json().unwrap() } else { Default::default() };
        if check(&value) { Ok(value) } else { Err(format!("{value:#}")) }
    })
}

#[test]
fn a_pre_release_is_latest_only_when_the_project_opts_in() {
    let team = Team::new();
    ok(&team.as_admin(&["project", "policy", "foo", "--min-vote-hours", "0", "--min-binding", "1"]));
    let shown = String::from_utf8(ok(&team.anonymous(&["project", "policy", "foo"])).stdout.clone()).unwrap();
    assert!(shown.contains("prerelease-latest false"), "{shown}");

    // Only a pre-release is current: no latest, and the 404 says why and what to do.
    promote(&team, "1.0.0-beta.1");
    let missing = get(&team, "/current/foo/latest/foo-1.0.0-beta.1.tar.gz");
    assert_eq!(missing.status(), 404);
    let why = missing.text().unwrap();
    assert!(why.contains("only pre-releases current (1.0.0-beta.1)"), "{why}");
    assert!(why.contains("trs project policy foo --prerelease-latest true"), "{why}");
    assert_eq!(get(&team, "/current/foo/1.0.0-beta.1/foo-1.0.0-beta.1.tar.gz").status(), 200, "still downloadable");

    // 0.9.0 is older than 1.0.0-beta.1, and it is latest everywhere.
    let old = promote(&team, "0.9.0");
    let latest = get(&team, "/current/foo/latest/foo-0.9.0.tar.gz");
    assert_eq!(latest.status(), 200);
    assert_eq!(latest.bytes().unwrap().as_ref(), old.as_slice());
    assert_eq!(get(&team, "/current/foo/latest/foo-1.0.0-beta.1.tar.gz").status(), 404);
    let view = stdout_json(ok(&team.anonymous(&["releases", "--project", "foo", "--json"])));
    assert_eq!(view["latest"]["foo"], "foo/0.9.0", "{view:#}");
    let order: Vec<&str> =
        view["releases"].as_array().unwrap().iter().map(|r| r["release"]["version"].as_str().unwrap()).collect();
    assert_eq!(order, ["0.9.0", "1.0.0-beta.1"]);
    let releases = json_when(&team, "/projects/foo/releases.json", |v| v["by_release"]["foo/0.9.0"][0] == "current");
    assert_eq!(releases["latest"]["foo"], "foo/0.9.0", "{releases:#}");
    assert_eq!(releases["by_state"]["latest"], serde_json::json!(["foo/0.9.0"]));
    let cycles = json_when(&team, "/projects/foo/endoflife-v0.json", |v| v.as_array().is_some_and(|c| !c.is_empty()));
    let named: Vec<&str> = cycles.as_array().unwrap().iter().map(|c| c["latest"].as_str().unwrap()).collect();
    assert_eq!(named, ["0.9.0"], "a cycle of pre-releases only is not listed: {cycles:#}");

    // The project opts in: the newest version is latest, pre-release or not.
    ok(&team.as_admin(&["project", "policy", "foo", "--prerelease-latest", "true"]));
    let shown = String::from_utf8(ok(&team.anonymous(&["project", "policy", "foo"])).stdout.clone()).unwrap();
    assert!(shown.contains("prerelease-latest true"), "{shown}");
    assert_eq!(get(&team, "/current/foo/latest/foo-1.0.0-beta.1.tar.gz").status(), 200);
    let releases = json_when(&team, "/projects/foo/releases.json", |v| v["latest"]["foo"] == "foo/1.0.0-beta.1");
    assert_eq!(releases["by_state"]["latest"], serde_json::json!(["foo/1.0.0-beta.1"]));
}

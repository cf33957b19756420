//! The whole path of a release, as a project lives it, against `trs serve`: upload a signed
//! source release → verify → a vote by three committee members whose keys GnuPG made →
//! close → promote → download from `/candidate/…` (once the vote opened) before and
//! `/current/…` and `/current/…/latest/…` → a second release archives the first (policy) →
//! end-of-life by date → revoke; the stream verifies throughout.

use std::path::Path;
use trs_tests::*;

fn text(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A project `bar` with committee ada, mona, max and release manager rita; votes need no
/// minimum duration, and a promotion archives the release it supersedes. Eve is registered
/// but has no role in `bar`.
fn project(team: &Team) -> (String, String, String) {
    let mona = team.add_gpg_person("mona");
    let max = team.add_gpg_person("max");
    let eve = team.add_gpg_person("eve");
    ok(&team.as_admin(&["project", "create", "bar", "--members", "ada,mona,max", "--release-managers", "rita"]));
    ok(&team.as_rm(&["project", "policy", "bar", "--min-vote-hours", "0", "--archive-previous", "true"]));
    (mona, max, eve)
}

/// Uploads a signed source release of `bar VERSION`, votes it through (ada and the first two
/// `voters`) and promotes it; the third voter, without a role, is refused the promotion.
/// Returns the tarball's path and the promotion's task JSON.
fn release_through(team: &Team, voters: &[&str], version: &str) -> (std::path::PathBuf, serde_json::Value) {
    let dir = team.path(version);
    std::fs::create_dir_all(&dir).unwrap();
    let name = format!("apache-bar-{version}-src.tar.gz");
    let tarball = source_tarball(&dir, &name, &format!("apache-bar-{version}"));
    let files = team.signed_set(&tarball);
    let out = team.as_rm(&args_with(&["upload", "bar", version, "--json"], &files));
    ok(&out);
    assert_eq!(stdout_json(&out)["status"]["summary"]["fail"], 0);

    // Not promotable before the vote passed: a specific refusal that changes nothing.
    let early = team.as_rm(&["promote", "bar", version]);
    assert_eq!(early.status.code(), Some(1));
    assert!(stderr(&early).contains("candidate"), "{}", stderr(&early));

    // A draft's files are private; once the vote opens, voters download exactly the
    // candidate's bytes, never cached as immutable.
    assert_eq!(get(team, &format!("/candidate/bar/{version}/{name}")).status(), 404, "a draft");
    ok(&team.as_rm(&["vote", "start", "bar", version]));
    let candidate = get(team, &format!("/candidate/bar/{version}/{name}"));
    assert_eq!(candidate.status(), 200);
    assert!(!candidate.headers()["cache-control"].to_str().unwrap().contains("immutable"));
    assert_eq!(candidate.bytes().unwrap().as_ref(), std::fs::read(&tarball).unwrap().as_slice());
    ok(&team.as_admin(&["vote", "cast", "bar", version, "+1"]));
    for fpr in &voters[..2] {
        ok(&team.as_key(fpr, &["vote", "cast", "bar", version, "+1"]));
    }
    let closed = stdout_json(ok(&team.as_rm(&["vote", "close", "bar", version, "--json"])));
    assert_eq!(closed["vote"]["state"], "passed", "{closed:#}");

    // Someone outside the project may not promote (committee members and release managers may).
    let refused = team.as_key(voters[2], &["promote", "bar", version]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("forbidden-role") || stderr(&refused).contains("not allowed"),
        "{}",
        stderr(&refused)
    );

    let out = ok(&team.as_rm(&["promote", "bar", version, "--json"])).clone();
    let task = stdout_json(&out);
    assert_eq!(task["state"], "done", "{task:#}");
    // No longer a candidate: the vote email's link leads to the released file, permanently.
    let moved = no_redirect(team, &format!("/candidate/bar/{version}/{name}"));
    assert_eq!(moved.status(), 301, "no longer a candidate");
    assert_eq!(moved.headers()["location"], format!("/current/bar/{version}/{name}").as_str());
    assert_eq!(task["result"]["revision_key"], closed["voted_revision"]["key"], "the voted revision was promoted");
    (tarball, task)
}

/// GET without following redirects.
fn no_redirect(team: &Team, path: &str) -> reqwest::blocking::Response {
    let client = reqwest::blocking::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    client.get(format!("{}{path}", team.server.url)).send().unwrap()
}

fn get(team: &Team, path: &str) -> reqwest::blocking::Response {
    reqwest::blocking::get(format!("{}{path}", team.server.url)).unwrap()
}

fn same_bytes(team: &Team, path: &str, file: &Path) -> reqwest::header::HeaderMap {
    let resp = get(team, path);
    assert_eq!(resp.status(), 200, "GET {path}");
    let headers = resp.headers().clone();
    assert_eq!(resp.bytes().unwrap().as_ref(), std::fs::read(file).unwrap().as_slice(), "GET {path}");
    headers
}

fn stage_of(team: &Team, version: &str) -> String {
    let status = stdout_json(ok(&team.anonymous(&["status", "bar", version, "--json"])));
    status["stage"].as_str().unwrap().to_string()
}

#[test]
fn a_release_goes_from_upload_to_current_archive_end_of_life_and_revocation() {
    let team = Team::new();
    let (mona, max, eve) = project(&team);

    // 1.0.0: voted, promoted, downloadable by version and as latest.
    let (first, task) = release_through(&team, &[&mona, &max, &eve], "1.0.0");
    let stages: Vec<&str> = task["steps"].as_array().unwrap().iter().map(|s| s["stage"].as_str().unwrap()).collect();
    assert!(stages.iter().all(|s| *s == "promote"), "nothing to archive yet: {stages:?}");
    let name = first.file_name().unwrap().to_str().unwrap().to_string();
    let headers = same_bytes(&team, &format!("/current/bar/1.0.0/{name}"), &first);
    assert!(headers["cache-control"].to_str().unwrap().contains("immutable"));
    same_bytes(&team, &format!("/current/bar/1.0.0/{name}.asc"), &first.with_extension("gz.asc"));
    let latest = same_bytes(&team, &format!("/current/bar/latest/{name}"), &first);
    assert!(!latest["cache-control"].to_str().unwrap().contains("immutable"), "latest moves: not immutable");
    assert_eq!(stage_of(&team, "1.0.0"), "current");

    // The detached signature served publicly verifies with a fresh GnuPG that imported KEYS.
    let keys = team.path("KEYS");
    std::fs::write(&keys, &ok(&team.anonymous(&["keys", "export", "bar"])).stdout).unwrap();
    let downloaded = team.path("downloaded.tar.gz");
    std::fs::write(&downloaded, get(&team, &format!("/current/bar/1.0.0/{name}")).bytes().unwrap()).unwrap();
    let sig = team.path("downloaded.tar.gz.asc");
    std::fs::write(&sig, get(&team, &format!("/current/bar/1.0.0/{name}.asc")).bytes().unwrap()).unwrap();
    let fresh = Gpg::new();
    assert!(fresh.cmd().args(["--import", keys.to_str().unwrap()]).output().unwrap().status.success());
    let verify = fresh.cmd().args(["--verify", sig.to_str().unwrap(), downloaded.to_str().unwrap()]).output().unwrap();
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stderr));

    // 1.1.0: its promotion archives 1.0.0 (policy), in the same tracked task.
    let (second, task) = release_through(&team, &[&mona, &max, &eve], "1.1.0");
    let id = task["id"].as_str().unwrap();
    let shown = text(ok(&team.anonymous(&["task", "show", id])));
    assert!(shown.contains("archive  bar/1.0.0 archived"), "{shown}");
    assert_eq!(stage_of(&team, "1.0.0"), "archived");
    same_bytes(&team, &format!("/archive/bar/1.0.0/{name}"), &first);
    // Its old path (pinned scripts, vote emails) moved permanently to the archive.
    let moved = no_redirect(&team, &format!("/current/bar/1.0.0/{name}?x=1"));
    assert_eq!(moved.status(), 301);
    assert_eq!(moved.headers()["location"], format!("/archive/bar/1.0.0/{name}").as_str(), "canonical, no query");
    same_bytes(&team, &format!("/current/bar/1.0.0/{name}"), &first);
    let second_name = second.file_name().unwrap().to_str().unwrap().to_string();
    same_bytes(&team, &format!("/current/bar/latest/{second_name}"), &second);

    // End of life by date: the lifecycle tick of `trs serve` moves it once the date passed.
    ok(&team.as_rm(&["eol", "bar", "1.1.0", "--at", "2020-01-01"]));
    poll_until("1.1.0 at end of life", || match stage_of(&team, "1.1.0") {
        stage if stage == "end-of-life" => Ok(()),
        other => Err(other),
    });
    same_bytes(&team, &format!("/current/bar/1.1.0/{second_name}"), &second);

    // Revoked: at once, with its reason; never served or latest again.
    let out = team.as_rm(&["revoke", "bar", "1.1.0"]);
    assert_eq!(out.status.code(), Some(2), "a reason is required");
    ok(&team.as_rm(&["revoke", "bar", "1.1.0", "--reason", "CVE-2026-0001: bad build"]));
    assert_eq!(stage_of(&team, "1.1.0"), "revoked");
    // Its paths are gone, saying why (a page for browsers, the error document for scripts).
    let gone = get(&team, &format!("/current/bar/1.1.0/{second_name}"));
    assert_eq!(gone.status(), 410);
    assert!(gone.text().unwrap().contains("CVE-2026-0001: bad build"));
    let gone = reqwest::blocking::Client::new()
        .get(format!("{}/current/bar/1.1.0/{second_name}", team.server.url))
        .header("Accept", "application/json")
        .send()
        .unwrap();
    assert_eq!(gone.status(), 410);
    let error: serde_json::Value = gone.json().unwrap();
    assert_eq!(error["error"]["code"], "release-revoked", "{error:#}");
    assert!(error["error"]["message"].as_str().unwrap().contains("CVE-2026-0001: bad build"), "{error:#}");
    assert_eq!(get(&team, &format!("/current/bar/latest/{second_name}")).status(), 404);

    // The stream recorded all of it, and its chain verifies end to end.
    let events = text(ok(&team.anonymous(&["events", "--project", "bar", "--json"])));
    for kind in ["vote-opened", "vote-cast", "vote-closed", "promoted", "archived", "end-of-life", "revoked"] {
        assert!(events.contains(&format!("\"type\":\"{kind}\"")), "no {kind} event:\n{events}");
    }
    ok(&team.anonymous(&["events", "verify", "--project", "bar"]));
}

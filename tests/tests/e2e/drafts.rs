//! Drafts, end to end with the real `trs` binary against `trs serve`: a draft is corrected
//! (`--remove`, with sidecars, and `--replace`), an identical upload changes nothing, a draft
//! that never went to a vote is discarded and its version uploaded again, and a draft's files
//! are private: `/candidate/…` answers 404 until a vote opens, and again once a failed or
//! cancelled vote returns the release to draft; the site lists none of a draft's files and says
//! what a candidate is not.

use serde_json::Value;
use trs_tests::*;

fn get(team: &Team, path: &str) -> reqwest::blocking::Response {
    reqwest::blocking::get(format!("{}{path}", team.server.url)).unwrap()
}

/// Waits until GET `path` answers `status` and its body satisfies `ok` (the site is published
/// in the background, right after each event). Returns the body.
fn page_until(team: &Team, path: &str, status: u16, ok: impl Fn(&str) -> bool) -> String {
    poll_until(format_args!("GET {path} answering {status} as expected"), || {
        let resp = get(team, path);
        let got = resp.status().as_u16();
        // As a browser reads it: Tera 1 (zola's engine) writes `/` as `&#x2F;`.
        let text = resp.text().unwrap().replace("&#x2F;", "/");
        if got == status && ok(&text) { Ok(text) } else { Err(format!("{got}:\n{text}")) }
    })
}

fn refused(out: &std::process::Output, code: &str) {
    assert_eq!(out.status.code(), Some(1), "expected a refusal; stdout: {}", String::from_utf8_lossy(&out.stdout));
    assert!(stderr(out).contains(code), "expected {code}: {}", stderr(out));
}

/// The latest revision's number and file names, as `trs status` reports them.
fn latest(team: &Team) -> (u64, Vec<String>) {
    let status = stdout_json(ok(&team.status()));
    let files = status["files"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap().to_string()).collect();
    (status["revision"].as_u64().unwrap(), files)
}

/// A signed source tarball `NAME-1.0.0-src.tar.gz` with its `.asc` and `.sha512`, as paths.
fn signed_tarball(team: &Team, name: &str) -> Vec<String> {
    let dir = team.path(name);
    std::fs::create_dir_all(&dir).unwrap();
    let tarball = source_tarball(&dir, &format!("{name}-1.0.0-src.tar.gz"), &format!("{name}-1.0.0"));
    team.signed_set(&tarball)
}

/// The `type` of every event of project foo.
fn event_types(team: &Team) -> Vec<String> {
    let out = ok(&team.anonymous(&["events", "--project", "foo", "--json"])).stdout.clone();
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["type"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_draft_is_corrected_with_remove_and_replace_and_an_identical_upload_changes_nothing() {
    let team = Team::new();
    let main = signed_tarball(&team, "apache-foo");
    let notes = team.signed_set(&team.file("RELEASE-NOTES.txt", b"notes\n"));
    team.upload_passing(&main);
    team.upload_passing(&notes);
    let set = |names: &[&str]| -> Vec<String> {
        names.iter().flat_map(|n| ["", ".asc", ".sha512"].map(|ext| format!("{n}{ext}"))).collect()
    };
    assert_eq!(latest(&team), (2, set(&["RELEASE-NOTES.txt", "apache-foo-1.0.0-src.tar.gz"])));

    // A file named for removal that is not in the latest revision: refused, nothing changes.
    let out = team.as_rm(&["upload", "foo", "1.0.0", "--remove", "RELEASE-NOTES.md"]);
    refused(&out, "not-in-revision");
    assert!(stderr(&out).contains("RELEASE-NOTES.md"), "{}", stderr(&out));
    assert_eq!(latest(&team).0, 2);

    // --remove drops the file and its sidecars (.asc, .sha512): the next revision passes.
    let out = ok(&team.as_rm(&["upload", "foo", "1.0.0", "--remove", "RELEASE-NOTES.txt", "--json"])).clone();
    let doc = stdout_json(&out);
    assert_eq!(doc["upload"]["revision"], 3, "{doc:#}");
    assert_eq!(
        doc["upload"]["removed"],
        serde_json::json!(["RELEASE-NOTES.txt", "RELEASE-NOTES.txt.asc", "RELEASE-NOTES.txt.sha512"])
    );
    assert_eq!(doc["status"]["summary"]["fail"], 0, "no sidecar left without its file: {doc:#}");
    assert_eq!(latest(&team), (3, set(&["apache-foo-1.0.0-src.tar.gz"])));

    // The same files again: no revision, exit 0, said plainly (and in --json).
    let out = ok(&team.as_rm(&args_with(&["upload", "foo", "1.0.0"], &main))).clone();
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing changed"), "{out:?}");
    let doc = stdout_json(ok(&team.upload(&main)));
    assert_eq!((doc["nothing_changed"].as_bool(), doc["upload"]["changed"].as_bool()), (Some(true), Some(false)));
    assert_eq!(doc["upload"]["revision"], 3, "{doc:#}");
    assert_eq!(latest(&team).0, 3);

    // --replace: the new revision is exactly the files given.
    let other = signed_tarball(&team, "apache-foo-other");
    let doc = stdout_json(ok(&team.as_rm(&args_with(&["upload", "foo", "1.0.0", "--replace", "--json"], &other))));
    assert_eq!(doc["upload"]["revision"], 4, "{doc:#}");
    assert_eq!(doc["upload"]["removed"].as_array().unwrap().len(), 3, "{doc:#}");
    assert_eq!(latest(&team), (4, set(&["apache-foo-other-1.0.0-src.tar.gz"])));

    // Usage errors before anything is sent.
    let out = team.as_rm(&["upload", "foo", "1.0.0", "--replace"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = team.as_rm(&args_with(&["upload", "foo", "1.0.0", "--replace", "--remove", "x"], &other));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));

    // Four revisions, four events: the identical upload and the refusal left none.
    let pushed = event_types(&team).iter().filter(|t| *t == "revision-pushed").count();
    assert_eq!(pushed, 4);
}

#[test]
fn a_draft_never_voted_on_is_discarded_and_its_version_uploaded_again() {
    let team = Team::new();
    let mona = team.add_gpg_person("mona");
    let files = signed_tarball(&team, "apache-foo");
    team.upload_passing(&files);
    page_until(&team, "/projects/foo/releases/1.0.0/", 200, |_| true);

    // Only those who manage the project's releases may discard.
    refused(&team.as_key(&mona, &["draft", "discard", "foo", "1.0.0"]), "forbidden-role");
    refused(&team.as_rm(&["draft", "discard", "foo", "2.0.0"]), "not-found");

    let done = stdout_json(ok(&team.as_rm(&["draft", "discard", "foo", "1.0.0", "--json"])));
    assert_eq!(done["revision"], 1, "{done:#}");
    team.assert_no_release();
    assert_eq!(event_types(&team).last().map(String::as_str), Some("draft-discarded"));
    // No public trace beyond the event: no release page, no entry in the views.
    page_until(&team, "/projects/foo/releases/1.0.0/", 404, |_| true);
    let page = page_until(&team, "/projects/foo/", 200, |p| !p.contains("releases/1.0.0/"));
    assert!(!page.contains("apache-foo-1.0.0"), "{page}");
    let view = stdout_json(ok(&team.anonymous(&["releases", "--project", "foo", "--json"])));
    assert_eq!(view["releases"], serde_json::json!([]), "{view:#}");

    // The version may be uploaded again: a new draft, numbered on from the discarded one.
    let doc = stdout_json(ok(&team.upload(&files)));
    assert_eq!(doc["upload"]["revision"], 2, "{doc:#}");
    assert_eq!(doc["status"]["stage"], "candidate-draft");

    // Once a vote was opened, the release stays on record, even back in draft.
    ok(&team.as_rm(&["vote", "start", "foo", "1.0.0"]));
    ok(&team.as_rm(&["vote", "cancel", "foo", "1.0.0"]));
    refused(&team.as_rm(&["draft", "discard", "foo", "1.0.0"]), "vote-was-opened");
    assert_eq!(latest(&team).0, 2);
}

#[test]
fn a_drafts_files_are_private_until_a_vote_opens_and_after_it_fails_or_is_cancelled() {
    let team = Team::new();
    ok(&team.as_admin(&["project", "policy", "foo", "--min-vote-hours", "0", "--min-binding", "1"]));
    let files = signed_tarball(&team, "apache-foo");
    team.upload_passing(&files);
    let file = "/candidate/foo/1.0.0/apache-foo-1.0.0-src.tar.gz";
    let bytes = std::fs::read(&files[0]).unwrap();
    let page = "/projects/foo/releases/1.0.0/";
    let private = |team: &Team, why: &str| {
        assert_eq!(get(team, file).status(), 404, "{why}: a draft's file is not public");
        let text = page_until(team, page, 200, |p| p.contains("Draft — not a release"));
        assert!(!text.contains("apache-foo-1.0.0-src.tar.gz"), "{why}: the page lists no file:\n{text}");
    };
    private(&team, "never voted on");

    ok(&team.as_rm(&["vote", "start", "foo", "1.0.0"]));
    let answer = get(&team, file);
    assert_eq!(answer.status(), 200, "under vote, voters download it");
    assert_eq!(answer.bytes().unwrap().as_ref(), bytes.as_slice());
    let text = page_until(&team, page, 200, |p| p.contains("Release candidate — under vote, not a release"));
    assert!(text.contains(&format!("href=\"{file}\"")), "{text}");

    ok(&team.as_rm(&["vote", "cancel", "foo", "1.0.0"]));
    private(&team, "vote cancelled");

    ok(&team.as_rm(&["vote", "start", "foo", "1.0.0"]));
    ok(&team.as_admin(&["vote", "cast", "foo", "1.0.0", "-1"]));
    let closed = stdout_json(ok(&team.as_rm(&["vote", "close", "foo", "1.0.0", "--json"])));
    assert_eq!(closed["vote"]["state"], "failed", "{closed:#}");
    private(&team, "vote failed");

    ok(&team.as_rm(&["vote", "start", "foo", "1.0.0"]));
    ok(&team.as_admin(&["vote", "cast", "foo", "1.0.0", "+1"]));
    let closed = stdout_json(ok(&team.as_rm(&["vote", "close", "foo", "1.0.0", "--json"])));
    assert_eq!(closed["vote"]["state"], "passed", "{closed:#}");
    assert_eq!(get(&team, file).status(), 200, "a passed vote's files stay downloadable until promoted");
    page_until(&team, page, 200, |p| p.contains("vote passed, not yet a release"));
}

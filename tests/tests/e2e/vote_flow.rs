//! The vote as a project runs it: three committee members with GnuPG keys, a release manager
//! uploads a signed source release, opens a vote under a policy with no minimum duration,
//! the members vote by signed calls, the vote is closed and explained, `trs status` shows the
//! voted revision, and `trs vote email` prints announcements naming exactly what was voted on.

use trs_tests::*;

fn text(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn three_committee_members_vote_a_signed_release_through() {
    let team = Team::new();
    let mona = team.add_gpg_person("mona");
    let max = team.add_gpg_person("max");
    ok(&team.as_admin(&["project", "create", "bar", "--members", "ada,mona,max", "--release-managers", "rita"]));

    // The policy: no minimum duration (so this test need not wait), three binding +1 as default.
    let out = ok(&team.as_rm(&["project", "policy", "bar", "--min-vote-hours", "0", "--json"])).clone();
    let policy = stdout_json(&out);
    assert_eq!(
        (policy["policy"]["min_vote_hours"].as_u64(), policy["policy"]["min_binding"].as_u64()),
        (Some(0), Some(3))
    );
    let shown = text(ok(&team.anonymous(&["project", "policy", "bar"])));
    assert!(shown.contains("min-vote-hours    0") && shown.contains("strict            true"), "{shown}");

    let tarball = source_tarball(team.work.path(), "apache-bar-1.0.0-src.tar.gz", "apache-bar-1.0.0");
    let files = team.signed_set(&tarball);
    let out = team.as_rm(&args_with(&["upload", "bar", "1.0.0", "--json"], &files));
    ok(&out);
    assert_eq!(stdout_json(&out)["status"]["summary"]["fail"], 0);

    // The release manager opens it (once).
    let out = ok(&team.as_rm(&["vote", "start", "bar", "1.0.0", "--json"])).clone();
    let opened = stdout_json(&out);
    assert_eq!(opened["vote"]["state"], "open");
    assert_eq!(opened["stage"], "candidate");
    let revision_key = opened["vote"]["revision"]["key"].as_str().unwrap().to_string();
    let out = team.as_rm(&["vote", "start", "bar", "1.0.0"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("vote-already-open"), "{}", stderr(&out));

    // A new upload while the vote runs is refused and changes nothing.
    let notes = team.signed_set(&team.file("NOTES.txt", b"late\n"));
    let out = team.as_rm(&args_with(&["upload", "bar", "1.0.0"], &notes));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("vote-open"), "{}", stderr(&out));

    // Three binding +1 (one changes their mind on the way), and a non-binding -1 from the
    // release manager: `-1` is a vote, not a flag.
    ok(&team.as_admin(&["vote", "cast", "bar", "1.0.0", "+1", "--comment", "sigs and sums ok"]));
    ok(&team.as_key(&mona, &["vote", "cast", "bar", "1.0.0", "0"]));
    let out = ok(&team.as_key(&mona, &["vote", "cast", "bar", "1.0.0", "+1"])).clone();
    assert!(text(&out).contains("replacing your earlier 0"), "{}", text(&out));
    ok(&team.as_key(&max, &["vote", "cast", "bar", "1.0.0", "+1"]));
    let out = ok(&team.as_rm(&["vote", "cast", "bar", "1.0.0", "-1", "--json"])).clone();
    assert_eq!(stdout_json(&out)["ballot"]["binding"], false);

    let shown = text(ok(&team.anonymous(&["vote", "show", "bar", "1.0.0"])));
    assert!(shown.contains("binding: 3 × +1, 0 × 0, 0 × -1"), "{shown}");
    assert!(shown.contains("+1 mona (binding) (replaces 1 earlier)"), "{shown}");
    assert!(shown.contains("-1 rita (non-binding)"), "{shown}");
    assert!(shown.contains("if closed now: Passed"), "{shown}");

    let out = ok(&team.as_rm(&["vote", "close", "bar", "1.0.0", "--json"])).clone();
    let closed = stdout_json(&out);
    assert_eq!(closed["vote"]["state"], "passed");
    let explanation = closed["resolution"]["explanation"].as_str().unwrap();
    assert!(explanation.starts_with("Passed: at least 3 binding +1 (3 binding +1)"), "{explanation}");
    assert!(explanation.contains("+1 ada (binding): sigs and sums ok"), "{explanation}");
    assert_eq!(closed["voted_revision"]["key"], revision_key.as_str());

    // `trs status` shows the vote and the voted revision.
    let out = ok(&team.anonymous(&["status", "bar", "1.0.0", "--json"])).clone();
    let status = stdout_json(&out);
    assert_eq!(status["stage"], "candidate");
    assert_eq!(status["voted_revision"]["key"], revision_key.as_str());
    assert_eq!(status["vote"]["state"], "passed");
    assert_eq!(status["vote"]["tally"]["binding_plus"], 3);
    let human = text(ok(&team.anonymous(&["status", "bar", "1.0.0"])));
    assert!(human.contains(&format!("voted revision: 1 ({revision_key})")), "{human}");
    assert!(human.contains("vote 1: passed on revision 1; binding 3 × +1"), "{human}");

    // The emails name the revision key, every file with its SHA-512, the signer and KEYS.
    let email = text(ok(&team.anonymous(&["vote", "email", "bar", "1.0.0"])));
    assert!(email.starts_with("Subject: [VOTE] Release bar 1.0.0 (revision 1)"), "{email}");
    assert!(email.contains(&revision_key), "{email}");
    let sums = std::fs::read_to_string(format!("{}.sha512", tarball.display())).unwrap();
    let tarball_sha512 = sums.split_whitespace().next().unwrap();
    // The SHA-512 in two halves of 64 digits, one per line: the mail keeps to 72 columns.
    let (first, second) = tarball_sha512.split_at(64);
    assert!(email.contains(&format!("SHA-512:\n    {first}\n    {second}\n")), "{email}");
    assert!(email.contains(&format!("Signed by {}", team.rm)), "{email}");
    assert!(
        email.contains(&format!("\n    {}/candidate/bar/1.0.0/apache-bar-1.0.0-src.tar.gz\n", team.server.url)),
        "{email}"
    );
    // Every line but a URL (alone on its line, never broken) keeps to 72 columns.
    let long: Vec<&str> =
        email.lines().filter(|l| l.chars().count() > 72 && !l.trim_start().starts_with("http")).collect();
    assert!(long.is_empty(), "{long:?}");
    assert!(email.contains(&format!("{}/api/v1/projects/bar/KEYS", team.server.url)), "{email}");
    let keys = get(&team.server.url, "/api/v1/projects/bar/KEYS");
    assert_eq!(keys.status, 200, "the KEYS URL in the email answers");

    let result = text(ok(&team.anonymous(&["vote", "email", "bar", "1.0.0", "--result"])));
    assert!(result.starts_with("Subject: [RESULT] [VOTE] Release bar 1.0.0"), "{result}");
    assert!(result.contains("has passed"), "{result}");
    assert!(result.contains(&revision_key), "{result}");
    assert!(result.contains("  +1 max"), "{result}");
    assert!(result.contains("  -1 rita"), "{result}");
}

#[test]
fn a_vote_cannot_close_early_and_a_cancelled_vote_allows_a_new_upload() {
    let team = Team::new();
    ok(&team.as_rm(&["project", "policy", "foo", "--strict", "false", "--min-vote-hours", "1"]));
    let files = team.signed_set(&team.file("foo-1.0.0.txt", b"hello\n"));
    ok(&team.upload(&files));
    let out = team.as_rm(&["vote", "start", "foo", "1.0.0", "--duration", "0"]);
    assert!(stderr(&out).contains("vote-too-short"), "{}", stderr(&out));
    ok(&team.as_rm(&["vote", "start", "foo", "1.0.0"]));
    let out = team.as_rm(&["vote", "close", "foo", "1.0.0"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("vote-too-young") && (err.contains("59 min") || err.contains("1 h")), "{err}");
    let out = team.as_rm(&["vote", "email", "foo", "1.0.0", "--result"]);
    assert!(stderr(&out).contains("vote-not-closed"), "{}", stderr(&out));

    let out = ok(&team.as_rm(&["vote", "cancel", "foo", "1.0.0"])).clone();
    assert!(text(&out).contains("back in stage candidate-draft"), "{}", text(&out));
    let notes = team.signed_set(&team.file("NOTES.txt", b"fixed\n"));
    ok(&team.upload(&notes));
    let status = stdout_json(ok(&team.status()));
    assert_eq!(status["vote"]["state"], "cancelled");
    assert_eq!(status["revision"], 2);
}

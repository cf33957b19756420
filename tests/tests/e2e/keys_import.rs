//! `trs keys import P KEYS`, end to end: an Apache-style KEYS file (GnuPG's `--list-sigs`
//! listings between the armored keys, as projects keep them) made from real GnuPG keys is
//! registered key by key — a person per new key, named after its email or mapped with
//! `--people`, already-registered keys left alone, a key without an email refused with the
//! reason — and a second run changes nothing.

use serde_json::{Value, json};
use trs_tests::*;

/// What the report says of each fingerprint: (result, person).
fn results(report: &Value) -> Vec<(String, String, String)> {
    report["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            let s = |f: &str| k[f].as_str().unwrap_or_default().to_string();
            (s("fingerprint"), s("result"), s("person"))
        })
        .collect()
}

fn foundation_events(team: &Team) -> usize {
    String::from_utf8(ok(&team.anonymous(&["events", "--json"])).stdout.clone()).unwrap().lines().count()
}

#[test]
fn a_keys_file_is_registered_key_by_key_and_a_second_run_changes_nothing() {
    let team = Team::new();
    let carl = team.gpg.gen_key("Carl Committer <carl@example.org>", "rsa3072");
    let dora = team.gpg.gen_key("Dora Doe", "ed25519");
    let mut text = String::from("This file contains the PGP keys of various developers.\n\n");
    for fpr in [&team.rm, &carl, &dora] {
        let listing = team.gpg.cmd().args(["--list-sigs", fpr.as_str()]).output().unwrap();
        text.push_str(&String::from_utf8_lossy(&listing.stdout));
        let armored = team.path("one.asc");
        team.gpg.export_public(fpr, &armored);
        text.push_str(&std::fs::read_to_string(&armored).unwrap());
        text.push('\n');
    }
    let keys = team.file("KEYS", text.as_bytes());
    let keys = keys.to_str().unwrap();
    let import = |extra: &[&str]| {
        let mut args = vec!["keys", "import", "foo", keys, "--json"];
        args.extend_from_slice(extra);
        stdout_json(ok(&team.as_admin(&args)))
    };

    let first = import(&[]);
    assert_eq!(
        results(&first),
        [
            (team.rm.clone(), "already-present".into(), "rita".into()),
            (carl.clone(), "added".into(), "carl".into()),
            (dora.clone(), "refused".into(), String::new()),
        ],
        "{first:#}"
    );
    assert!(first["keys"][2]["reason"].as_str().unwrap().contains("--people"), "{first:#}");
    assert_eq!(first["committers_added"], json!(["carl"]), "carl held no role in foo");
    let carl_view = stdout_json(ok(&team.anonymous(&["person", "show", "carl", "--json"])));
    assert_eq!(carl_view["email"], "carl@example.org", "{carl_view:#}");
    assert_eq!(carl_view["name"], "Carl Committer", "{carl_view:#}");
    assert!(ok(&team.as_admin(&["keys", "export", "foo"])).stdout.windows(carl.len()).any(|w| w == carl.as_bytes()));

    let map = team.file("people.json", json!({ dora.clone(): "dora" }).to_string().as_bytes());
    let second = import(&["--people", map.to_str().unwrap()]);
    let second_results: Vec<String> = results(&second).into_iter().map(|(_, r, _)| r).collect();
    assert_eq!(second_results, ["already-present", "already-present", "added"], "{second:#}");
    assert_eq!(second["committers_added"], json!(["dora"]));

    // Idempotent: nothing is written the third time.
    let before = foundation_events(&team);
    let third = import(&["--people", map.to_str().unwrap()]);
    assert!(results(&third).iter().all(|(_, r, _)| r == "already-present"), "{third:#}");
    assert_eq!(third["committers_added"], json!([]));
    assert_eq!(foundation_events(&team), before, "a second import changes nothing");

    // Only an admin creates people: a release manager's import reports each new key refused.
    let eve = team.gpg.gen_key("Eve <eve@example.org>", "ed25519");
    let armored = team.path("eve.asc");
    team.gpg.export_public(&eve, &armored);
    let refused = stdout_json(ok(&team.as_rm(&["keys", "import", "foo", armored.to_str().unwrap(), "--json"])));
    assert_eq!(refused["keys"][0]["result"], "refused", "{refused:#}");
    assert!(refused["keys"][0]["reason"].as_str().unwrap().contains("forbidden-role"), "{refused:#}");
}

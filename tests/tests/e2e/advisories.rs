//! Security advisories through the real `trs` binary against `trs serve` (issue 19): the
//! release manager records one under embargo, only the project's security team sees it, it is
//! published as a release-stream event, and then anyone asks which releases it affects and
//! reads its OSV and CVE JSON 5 records.

use trs_tests::*;

fn refused(out: &std::process::Output, code: &str) {
    assert_eq!(out.status.code(), Some(1), "expected a refusal; stdout: {}", String::from_utf8_lossy(&out.stdout));
    assert!(stderr(out).contains(code), "expected {code}: {}", stderr(out));
}

/// A usage error (exit 2), caught before any call.
fn usage(out: &std::process::Output, needle: &str) {
    assert_eq!(out.status.code(), Some(2), "expected a usage error: {}", stderr(out));
    assert!(stderr(out).contains(needle), "expected {needle}: {}", stderr(out));
}

/// Promotes `version` of foo's main line (one signed source tarball, vote by ada).
fn release(team: &Team, version: &str) {
    let dir = team.path(version);
    std::fs::create_dir_all(&dir).unwrap();
    let name = format!("apache-foo-{version}-src.tar.gz");
    let tarball = source_tarball(&dir, &name, &format!("apache-foo-{version}"));
    team.vote_through_and_promote(version, &team.signed_set(&tarball));
}

#[test]
fn an_advisory_is_recorded_under_embargo_published_and_answers_which_releases_it_affects() {
    let team = Team::new();
    ok(&team.as_rm(&["project", "policy", "foo", "--min-vote-hours", "0", "--min-binding", "1"]));
    for v in ["1.0.0", "1.2.0", "1.10.0"] {
        release(&team, v);
    }
    let cve = "CVE-2026-30001";
    let add = [
        "cve",
        "add",
        "foo",
        "--id",
        cve,
        "--summary",
        "Archive entries escape the target folder",
        "--severity",
        "high",
        "--affected",
        ">=1.0.0,<1.3.0",
        "--fixed",
        "1.3.0",
        "--credit",
        "Mallory Researcher",
        "--reference",
        "https://lists.example.org/thread/abc",
        "--cna-org-id",
        "8254265b-2729-46b6-b9e3-3dfca2d5bfca",
        "--embargoed-until",
        "2099-01-01",
        "--json",
    ];
    // Without a key the CLI does not even call: a usage error (exit 2) saying what to give.
    usage(&team.anonymous(&add), "--key");
    let made = stdout_json(ok(&team.as_rm(&add)));
    let versions: Vec<&str> =
        made["affected_releases"].as_array().unwrap().iter().map(|r| r["version"].as_str().unwrap()).collect();
    assert_eq!(versions, ["1.0.0", "1.2.0"], "1.10.0 is above 1.3.0 in trs's version order: {made:#}");
    refused(&team.as_rm(&add), "advisory-exists");
    usage(
        &team.as_rm(&["cve", "add", "foo", "--id", "CVE-2026-30002", "--summary", "x", "--affected", ">1.0"]),
        "'>' is not supported",
    );

    // Embargoed: the committee member sees it signing; an anonymous reader does not.
    let list = stdout_json(ok(&team.as_admin(&["cve", "list", "foo", "--json"])));
    assert_eq!(list["advisories"][0]["id"], cve, "{list:#}");
    let list = stdout_json(ok(&team.anonymous(&["cve", "list", "foo", "--json"])));
    assert_eq!(list["advisories"], serde_json::json!([]));
    refused(&team.anonymous(&["cve", "show", "foo", cve]), "not-found");
    refused(&team.anonymous(&["releases", "--project", "foo", "--affected-by", cve]), "not-found");
    let status = stdout_json(ok(&team.anonymous(&["status", "foo", "1.0.0", "--json"])));
    assert!(status.get("affected_by").is_none(), "an embargoed advisory is not named: {status:#}");

    // Publishing before the embargo date needs --force; it is then an event of the stream.
    refused(&team.as_rm(&["cve", "publish", "foo", cve]), "under-embargo");
    ok(&team.as_rm(&["cve", "publish", "foo", cve, "--force"]));
    let events =
        String::from_utf8(ok(&team.anonymous(&["events", "--project", "foo", "--json"])).stdout.clone()).unwrap();
    let last: serde_json::Value = serde_json::from_str(events.lines().last().unwrap()).unwrap();
    assert_eq!((last["type"].as_str(), last["id"].as_str()), (Some("advisory-published"), Some(cve)), "{last:#}");
    ok(&team.anonymous(&["events", "verify", "--project", "foo"]));

    // Anyone asks which releases it affects, and reads the exports.
    let out = ok(&team.anonymous(&["releases", "--project", "foo", "--affected-by", cve])).clone();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("affected  foo 1.0.0") && text.contains("affected  foo 1.2.0"), "{text}");
    assert!(text.contains("fixed in  foo 1.3.0 (not released yet)") && !text.contains("1.10.0"), "{text}");
    let osv = stdout_json(ok(&team.anonymous(&["cve", "show", "foo", cve, "--format", "osv"])));
    assert_eq!(osv["affected"][0]["versions"], serde_json::json!(["1.0.0", "1.2.0"]), "{osv:#}");
    let record = stdout_json(ok(&team.anonymous(&["cve", "show", "foo", cve, "--format", "cve5"])));
    assert_eq!(record["cveMetadata"]["cveId"], cve, "{record:#}");
    assert_eq!(record["containers"]["cna"]["affected"][0]["versions"][0]["lessThan"], "1.3.0");

    // "Is the version I run affected?": `trs status` of that release says so, and what fixes it.
    let text = String::from_utf8(ok(&team.anonymous(&["status", "foo", "1.2.0"])).stdout.clone()).unwrap();
    assert!(
        text.contains(&format!(
            "AFFECTED by {cve} (high): Archive entries escape the target folder; to be fixed in 1.3.0 (not released yet)"
        )),
        "{text}"
    );
    let status = stdout_json(ok(&team.anonymous(&["status", "foo", "1.10.0", "--json"])));
    assert!(status.get("affected_by").is_none(), "{status:#}");

    // The fix is released: it is linked from the advisory.
    release(&team, "1.3.0");
    let shown = stdout_json(ok(&team.anonymous(&["cve", "show", "foo", cve, "--json"])));
    assert_eq!(shown["fixed_by"]["version"], "1.3.0", "{shown:#}");
    let status = stdout_json(ok(&team.anonymous(&["status", "foo", "1.0.0", "--json"])));
    assert_eq!(status["affected_by"][0]["id"], cve, "{status:#}");
    assert_eq!(status["affected_by"][0]["fixed_by"], serde_json::json!({"version": "1.3.0", "stage": "current"}));
    let text = String::from_utf8(ok(&team.anonymous(&["status", "foo", "1.3.0"])).stdout.clone()).unwrap();
    assert!(text.contains(&format!("fixes {cve} (high): Archive entries escape the target folder")), "{text}");
}

/// Issue 19, SBOMs: the policy's SBOM rules through the CLI. A vote needs an SBOM when the
/// policy says so; one made by cyclonedx-npm describing foo 1.0.0 with permissive licences
/// passes its check under a policy denying strong copyleft.
#[test]
fn a_vote_needs_an_sbom_when_the_policy_requires_one() {
    let team = Team::new();
    ok(&team.as_rm(&[
        "project",
        "policy",
        "foo",
        "--require-sbom",
        "true",
        "--deny-licences",
        "strong-copyleft,unknown",
    ]));
    let shown = String::from_utf8(ok(&team.anonymous(&["project", "policy", "foo"])).stdout.clone()).unwrap();
    assert!(shown.contains("require-sbom      true"), "{shown}");
    assert!(shown.contains("deny-licences     strong-copyleft,unknown"), "{shown}");
    usage(&team.as_rm(&["project", "policy", "foo", "--deny-licences", "copyleft"]), "strong-copyleft");

    let dir = team.path("1.0.0");
    std::fs::create_dir_all(&dir).unwrap();
    let tarball = source_tarball(&dir, "apache-foo-1.0.0-src.tar.gz", "apache-foo-1.0.0");
    ok(&team.as_rm(&args_with(&["upload", "foo", "1.0.0"], &team.signed_set(&tarball))));
    refused(&team.as_rm(&["vote", "start", "foo", "1.0.0"]), "sbom-required");

    let sbom = dir.join("apache-foo-1.0.0.cdx.json");
    let sample =
        concat!(env!("CARGO_MANIFEST_DIR"), "/../crates/trs-checks/tests/data/sbom/cyclonedx-npm-1.6.cdx.json");
    std::fs::copy(sample, &sbom).unwrap();
    ok(&team.as_rm(&args_with(&["upload", "foo", "1.0.0"], &team.signed_set(&sbom))));
    let status = String::from_utf8(ok(&team.as_rm(&["status", "foo", "1.0.0", "--json"])).stdout.clone()).unwrap();
    assert!(status.contains("describes foo 1.0.0, this release"), "{status}");
    ok(&team.as_rm(&["vote", "start", "foo", "1.0.0"]));
}

//! The path a new user takes from the README: GnuPG keys, bootstrap, people, a project, an
//! upload of a real `tar czf` source release signed by `gpg` with a `sha512sum` checksum.

use trs_tests::*;

type World = Team;

/// Admin (ed25519) and release manager (RSA 3072), both made by GnuPG; project `foo`.
fn world() -> World {
    Team::with_rm_algo("rsa3072")
}

fn signed_release(w: &World, name: &str) -> Vec<String> {
    w.signed_set(&source_tarball(w.work.path(), name, "apache-foo-1.0.0"))
}

#[test]
fn a_signed_source_release_passes_every_check() {
    let w = world();
    let files = signed_release(&w, "apache-foo-1.0.0-src.tar.gz");
    let mut args = vec!["upload", "foo", "1.0.0"];
    args.extend(files.iter().map(String::as_str));
    args.push("--json");
    let out = w.server.trs(&w.gpg, &[("TRS_GPG_KEY", &w.rm)], &args);
    ok(&out);
    let doc = stdout_json(&out);
    let status = &doc["status"];
    assert_eq!(status["stage"], "candidate-draft");
    assert_eq!(status["revision"], 1);
    assert_eq!(status["summary"]["fail"], 0, "{status:#}");
    let name = "apache-foo-1.0.0-src.tar.gz";
    for kind in ["checksum", "signature", "archive", "license"] {
        let (result, reason) = check(status, name, kind);
        assert_eq!(result, "pass", "{kind}: {reason}");
    }
    let (_, reason) = check(status, name, "signature");
    assert!(reason.contains(&w.rm), "signature reason names the signer's fingerprint: {reason}");
    let sig = status["files"].as_array().unwrap().iter().find(|f| f["path"] == name).unwrap()["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "signature")
        .unwrap()
        .clone();
    assert_eq!(sig["signer"]["fingerprint"], w.rm.as_str());
    assert_eq!(sig["signer"]["person"], "rita");

    // `trs status` answers the same from the server afterwards.
    let out = ok(&w.server.trs(&w.gpg, &[], &["status", "foo", "1.0.0", "--json"])).clone();
    let again = stdout_json(&out);
    assert_eq!(again["revision_key"], status["revision_key"]);
    assert_eq!(again["files"].as_array().unwrap().len(), 3);
}

#[test]
fn a_second_upload_makes_a_new_revision_on_top_of_the_first() {
    let w = world();
    let files = signed_release(&w, "apache-foo-1.0.0-src.tar.gz");
    let mut args = vec!["upload", "foo", "1.0.0"];
    args.extend(files.iter().map(String::as_str));
    ok(&w.server.trs(&w.gpg, &[("TRS_GPG_KEY", &w.rm)], &args));

    let notes = w.signed_set(&w.file("RELEASE-NOTES.txt", b"notes\n"));
    let status = w.upload_passing(&notes);
    assert_eq!(status["revision"], 2);
    assert_eq!(status["files"].as_array().unwrap().len(), 6, "the first upload's files are still there");
    assert_eq!(check(&status, "RELEASE-NOTES.txt", "signature").0, "pass");
}

#[test]
fn keys_export_imports_into_gnupg() {
    let w = world();
    let out = ok(&w.server.trs(&w.gpg, &[], &["keys", "export", "foo"])).clone();
    let keys = w.work.path().join("KEYS");
    std::fs::write(&keys, &out.stdout).unwrap();
    let fresh = Gpg::new();
    let import = fresh.cmd().args(["--import", keys.to_str().unwrap()]).output().unwrap();
    assert!(import.status.success(), "{}", String::from_utf8_lossy(&import.stderr));
    let listing = fresh.cmd().args(["--with-colons", "--list-keys"]).output().unwrap();
    let listing = String::from_utf8_lossy(&listing.stdout);
    assert!(listing.contains(&w.admin) && listing.contains(&w.rm), "{listing}");
}

#[test]
fn health_answers() {
    let w = world();
    let body = reqwest::blocking::get(format!("{}/api/v1/health", w.server.url)).unwrap();
    assert_eq!(body.status(), 200);
}

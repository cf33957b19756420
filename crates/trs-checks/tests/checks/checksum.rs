//! Checksum check outcomes with checksum files made by the real tools.

use crate::common::{Release, assert_outcome, sha512};
use std::time::SystemTime;
use trs_checks::{ArtifactInputs, verify_artifact};
use trs_core::{CheckKind, Outcome};

// Not an archive name: these tests are about hashing alone (jars are inspected as zips).
const NAME: &str = "apache-foo-1.0.0.bin";

fn release() -> Release {
    let r = Release::new();
    r.write(NAME, &b"just some bytes of a build\n".repeat(5000));
    r
}

#[test]
fn sha512sum_file_passes() {
    let r = release();
    r.sha512sum(NAME);
    let fc = r.verify(NAME, &[]);
    assert_outcome(&fc, CheckKind::Checksum, Outcome::Pass, &format!("SHA-512 in {NAME}.sha512 matches the file"));
}

#[test]
fn tag_and_gpg_formats_pass() {
    let r = release();
    let out = r.sh("sha512sum", &["--tag", NAME]);
    r.write(&format!("{NAME}.sha512"), out.as_bytes());
    assert_outcome(&r.verify(NAME, &[]), CheckKind::Checksum, Outcome::Pass, "matches");
    let home = tempfile::tempdir().unwrap();
    let out = r.sh("gpg", &["--homedir", home.path().to_str().unwrap(), "--print-md", "SHA512", NAME]);
    r.write(&format!("{NAME}.sha512"), out.as_bytes());
    assert_outcome(&r.verify(NAME, &[]), CheckKind::Checksum, Outcome::Pass, "matches");
}

#[test]
fn sha256sum_alone_is_accepted() {
    let r = release();
    let out = r.sh("sha256sum", &["-b", NAME]);
    r.write(&format!("{NAME}.sha256"), out.as_bytes());
    assert_outcome(
        &r.verify(NAME, &[]),
        CheckKind::Checksum,
        Outcome::Pass,
        &format!("SHA-256 in {NAME}.sha256 matches"),
    );
}

#[test]
fn mismatch_names_both_digests() {
    let r = release();
    r.sha512sum(NAME);
    let good = sha512(&r.read(NAME)).to_hex();
    r.write(NAME, &b"other bytes".repeat(10));
    let c = assert_outcome(
        &r.verify(NAME, &[]),
        CheckKind::Checksum,
        Outcome::Fail,
        &format!("sha512 in {NAME}.sha512 does not match the file: expected {good}, got "),
    );
    assert!(c.reason.ends_with(&sha512(&r.read(NAME)).to_hex()), "{}", c.reason);
}

#[test]
fn unparseable_and_wrong_file_fail_with_reasons() {
    let r = release();
    r.write(&format!("{NAME}.sha512"), b"see the website for checksums\n");
    assert_outcome(
        &r.verify(NAME, &[]),
        CheckKind::Checksum,
        Outcome::Fail,
        &format!("{NAME}.sha512 cannot be used: line 1 is not in a checksum format"),
    );
    r.write("apache-foo-0.9.bin", b"old");
    let out = r.sh("sha512sum", &["apache-foo-0.9.bin"]);
    r.write(&format!("{NAME}.sha512"), out.as_bytes());
    let c = assert_outcome(&r.verify(NAME, &[]), CheckKind::Checksum, Outcome::Fail, "is for \"apache-foo-0.9.bin\"");
    assert!(c.reason.contains(NAME));
}

#[test]
fn no_checksum_file_at_all() {
    let r = release();
    assert_outcome(
        &r.verify(NAME, &[]),
        CheckKind::Checksum,
        Outcome::Fail,
        &format!("no {NAME}.sha512 or {NAME}.sha256 beside it"),
    );
}

#[test]
fn bytes_differing_from_the_manifest_mean_the_file_changed_in_storage() {
    let r = release();
    r.sha512sum(NAME);
    let e = r.entry(NAME);
    let sums = r.read(&format!("{NAME}.sha512"));
    let inputs = ArtifactInputs {
        expected_size: e.size + 1,
        expected_sha512: sha512(b"what was uploaded"),
        sha512_file: Some(Ok(&sums)),
        sha256_file: None,
        asc: None,
        signers: &[],
        policy_time: SystemTime::now(),
        limits: Default::default(),
        end_states: None,
    };
    let fc = verify_artifact(&e.path, &r.path(NAME), &inputs);
    assert!(!fc.storage_matches);
    let changed = fc.checks.iter().find(|c| c.reason.starts_with("file changed in storage")).expect("storage failure");
    assert_eq!((changed.check, changed.result), (CheckKind::Checksum, Outcome::Fail));
}

#[test]
fn unreadable_file_fails_both_checks() {
    let r = release();
    let e = r.entry(NAME);
    let inputs = ArtifactInputs {
        expected_size: e.size,
        expected_sha512: e.sha512,
        sha512_file: None,
        sha256_file: None,
        asc: None,
        signers: &[],
        policy_time: SystemTime::now(),
        limits: Default::default(),
        end_states: None,
    };
    let fc = verify_artifact(&e.path, &r.path("gone"), &inputs);
    assert_outcome(&fc, CheckKind::Checksum, Outcome::Fail, "could not read the file from storage");
    assert_outcome(&fc, CheckKind::Signature, Outcome::Fail, "could not read the file from storage");
}

#[test]
fn hash_states_from_the_store_serve_the_checksum_without_reading_the_file() {
    use sha2::Digest;
    let r = release();
    r.sha512sum(NAME);
    let e = r.entry(NAME);
    let sums = r.read(&format!("{NAME}.sha512"));
    let bytes = std::fs::read(r.path(NAME)).unwrap();
    let states = trs_checks::EndStates {
        sha512: sha2::Sha512::new_with_prefix(&bytes),
        sha256: sha2::Sha256::new_with_prefix(&bytes),
    };
    let inputs = ArtifactInputs {
        expected_size: e.size,
        expected_sha512: e.sha512,
        sha512_file: Some(Ok(&sums)),
        sha256_file: None,
        asc: None,
        signers: &[],
        policy_time: SystemTime::now(),
        limits: Default::default(),
        end_states: Some(states),
    };
    // A path that does not exist: any attempt to read it would fail the checks.
    let fc = verify_artifact(&e.path, std::path::Path::new("/nonexistent/trs-file"), &inputs);
    assert!(fc.storage_matches);
    assert_outcome(&fc, CheckKind::Checksum, Outcome::Pass, "in apache-foo-1.0.0.bin.sha512 matches");
}

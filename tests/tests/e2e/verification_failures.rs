//! Verification, end to end: what `trs upload --json` reports (and its exit code) when an
//! artifact, its signature or its checksum is wrong, and which ordinary tool outputs pass.
//! One upload can hold several artifacts; every failing check must be named with a reason.

use serde_json::Value;
use std::path::Path;
use std::process::Command;
use trs_tests::*;

const SRC: &str = "apache-foo-1.0.0-src.tar.gz";

fn result_of(status: &Value, path: &str, kind: &str) -> (String, String) {
    check(status, path, kind)
}

fn assert_fail(status: &Value, path: &str, kind: &str, needle: &str) {
    let (result, reason) = result_of(status, path, kind);
    assert_eq!(result, "fail", "{path} {kind} should fail: {reason}\n{status:#}");
    assert!(
        reason.to_lowercase().contains(&needle.to_lowercase()),
        "{path} {kind} reason should mention {needle:?}: {reason}"
    );
}

fn assert_pass(status: &Value, path: &str, kind: &str) {
    for (result, reason) in checks_named(status, path, kind) {
        assert_eq!(result, "pass", "{path} {kind} should pass: {reason}\n{status:#}");
    }
    assert!(!checks_named(status, path, kind).is_empty(), "no {kind} check for {path}: {status:#}");
}

fn summary_fail(status: &Value) -> u64 {
    status["summary"]["fail"].as_u64().expect("summary.fail")
}

/// A plain (non-archive) artifact with contents.
fn notes(t: &Team, name: &str) -> std::path::PathBuf {
    t.file(name, format!("release notes for {name}\n").as_bytes())
}

fn s(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}

#[test]
fn a_file_tampered_after_signing_fails_signature_and_checksum() {
    let t = Team::new();
    let good = notes(&t, "RELEASE-NOTES.txt");
    let mut files = t.signed_set(&good);
    let tampered = source_tarball(t.work.path(), SRC, "apache-foo-1.0.0");
    files.extend(t.signed_set(&tampered));
    // Flip one byte in the middle after signing and checksumming.
    let mut bytes = std::fs::read(&tampered).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x55;
    std::fs::write(&tampered, bytes).unwrap();

    let status = t.upload_failing(&files);
    assert_fail(&status, SRC, "signature", "does not match");
    assert_fail(&status, SRC, "checksum", "does not match");
    // The untouched artifact of the same upload still passes.
    assert_pass(&status, "RELEASE-NOTES.txt", "signature");
    assert_pass(&status, "RELEASE-NOTES.txt", "checksum");
    assert!(summary_fail(&status) >= 2, "{status:#}");
}

#[test]
fn a_signature_by_a_key_not_registered_in_trs_fails() {
    let t = Team::new();
    let stranger = t.gpg.gen_key("Mallory <mallory@example.org>", "ed25519");
    let file = notes(&t, "RELEASE-NOTES.txt");
    t.gpg.detach_sign(&stranger, &file);
    sha512sum(&file);
    let files: Vec<String> = ["", ".asc", ".sha512"].iter().map(|e| format!("{}{e}", file.display())).collect();

    let status = t.upload_failing(&files);
    assert_fail(&status, "RELEASE-NOTES.txt", "signature", "not registered");
    // The key id named in the reason is the stranger's (its last 16 hex digits at least).
    let (_, reason) = result_of(&status, "RELEASE-NOTES.txt", "signature");
    assert!(reason.to_uppercase().contains(&stranger[stranger.len() - 16..]), "reason names the issuer: {reason}");
    assert_pass(&status, "RELEASE-NOTES.txt", "checksum");
}

#[test]
fn a_signature_by_a_registered_person_outside_the_project_fails() {
    let t = Team::new();
    let outsider = t.add_gpg_person("otto");
    let file = notes(&t, "RELEASE-NOTES.txt");
    t.gpg.detach_sign(&outsider, &file);
    sha512sum(&file);
    let files: Vec<String> = ["", ".asc", ".sha512"].iter().map(|e| format!("{}{e}", file.display())).collect();

    let status = t.upload_failing(&files);
    assert_fail(&status, "RELEASE-NOTES.txt", "signature", "not registered");
}

#[test]
fn a_wrong_checksum_fails_the_checksum_check() {
    let t = Team::new();
    let file = notes(&t, "RELEASE-NOTES.txt");
    let files = t.signed_set(&file);
    // Replace the .sha512 with the checksum of other bytes, under the same name.
    let other = t.file("other/RELEASE-NOTES.txt", b"something else\n");
    sha512sum(&other);
    std::fs::copy(format!("{}.sha512", other.display()), format!("{}.sha512", file.display())).unwrap();

    let status = t.upload_failing(&files);
    assert_fail(&status, "RELEASE-NOTES.txt", "checksum", "does not match");
    assert_pass(&status, "RELEASE-NOTES.txt", "signature");
    assert_eq!(summary_fail(&status), 1, "only the checksum fails: {status:#}");
}

#[test]
fn a_missing_signature_fails_the_signature_check() {
    let t = Team::new();
    let file = notes(&t, "RELEASE-NOTES.txt");
    sha512sum(&file);
    let status = t.upload_failing(&[s(&file), format!("{}.sha512", file.display())]);
    assert_fail(&status, "RELEASE-NOTES.txt", "signature", "RELEASE-NOTES.txt.asc");
    assert_pass(&status, "RELEASE-NOTES.txt", "checksum");
}

#[test]
fn a_missing_checksum_fails_the_checksum_check() {
    let t = Team::new();
    let file = notes(&t, "RELEASE-NOTES.txt");
    t.gpg.detach_sign(&t.rm, &file);
    let status = t.upload_failing(&[s(&file), format!("{}.asc", file.display())]);
    assert_fail(&status, "RELEASE-NOTES.txt", "checksum", "RELEASE-NOTES.txt.sha512");
    assert_pass(&status, "RELEASE-NOTES.txt", "signature");
}

#[test]
fn a_tarball_with_a_dotdot_entry_fails_the_archive_check() {
    let t = Team::new();
    t.file("tree/apache-foo-1.0.0/README", b"hello\n");
    t.file("evil", b"owned\n");
    let tgz = t.path("apache-foo-1.0.0-bin.tar.gz");
    tar_gz_verbatim(&tgz, &t.path("tree"), &["apache-foo-1.0.0", "../evil"]);
    let status = t.upload_failing(&t.signed_set(&tgz));
    assert_fail(&status, "apache-foo-1.0.0-bin.tar.gz", "archive", "../evil");
    let (_, reason) = result_of(&status, "apache-foo-1.0.0-bin.tar.gz", "archive");
    assert!(reason.contains(".."), "{reason}");
    // Signature and checksum are fine: only the archive is hostile.
    assert_pass(&status, "apache-foo-1.0.0-bin.tar.gz", "signature");
    assert_pass(&status, "apache-foo-1.0.0-bin.tar.gz", "checksum");
}

#[test]
fn a_tarball_with_an_absolute_entry_fails_the_archive_check() {
    let t = Team::new();
    t.file("tree/apache-foo-1.0.0/README", b"hello\n");
    let evil = t.file("evil", b"owned\n");
    let tgz = t.path("apache-foo-1.0.0-bin.tar.gz");
    tar_gz_verbatim(&tgz, &t.path("tree"), &["apache-foo-1.0.0", evil.to_str().unwrap()]);
    let status = t.upload_failing(&t.signed_set(&tgz));
    assert_fail(&status, "apache-foo-1.0.0-bin.tar.gz", "archive", "absolute");
    let (_, reason) = result_of(&status, "apache-foo-1.0.0-bin.tar.gz", "archive");
    assert!(reason.contains(evil.to_str().unwrap()), "{reason}");
}

#[test]
fn a_zip_with_two_top_level_folders_fails_the_archive_check() {
    let t = Team::new();
    t.file("zipsrc/apache-foo-1.0.0/README", b"one\n");
    t.file("zipsrc/extra/README", b"two\n");
    let zip = t.path("apache-foo-1.0.0-bin.zip");
    let out = Command::new("zip")
        .args(["-q", "-r", zip.to_str().unwrap(), "apache-foo-1.0.0", "extra"])
        .current_dir(t.path("zipsrc"))
        .output()
        .expect("zip");
    assert!(out.status.success(), "zip: {}", String::from_utf8_lossy(&out.stderr));

    let status = t.upload_failing(&t.signed_set(&zip));
    assert_fail(&status, "apache-foo-1.0.0-bin.zip", "archive", "more than one top-level entry");
    assert_pass(&status, "apache-foo-1.0.0-bin.zip", "signature");
}

#[test]
fn a_source_tarball_without_notice_fails_the_license_check() {
    let t = Team::new();
    let tree = t.path("tree/apache-foo-1.0.0");
    std::fs::create_dir_all(tree.join("src")).unwrap();
    std::fs::write(tree.join("LICENSE"), "Apache License 2.0\n").unwrap();
    std::fs::write(tree.join("src/main.c"), "int main(void) { return 0; }\n").unwrap();
    let tgz = t.path(SRC);
    let st = Command::new("tar")
        .args(["czf", tgz.to_str().unwrap(), "-C", t.path("tree").to_str().unwrap(), "apache-foo-1.0.0"])
        .status()
        .unwrap();
    assert!(st.success());

    let status = t.upload_failing(&t.signed_set(&tgz));
    assert_fail(&status, SRC, "license", "NOTICE");
    let (_, reason) = result_of(&status, SRC, "license");
    assert!(!reason.contains("no LICENSE"), "LICENSE is there: {reason}");
    assert_pass(&status, SRC, "archive");
    assert_pass(&status, SRC, "signature");
    assert_pass(&status, SRC, "checksum");
    assert_eq!(summary_fail(&status), 1, "{status:#}");
}

#[test]
fn an_orphan_signature_fails_the_paths_check() {
    let t = Team::new();
    let good = notes(&t, "RELEASE-NOTES.txt");
    let mut files = t.signed_set(&good);
    // x.asc uploaded without x.
    let x = notes(&t, "x.txt");
    t.gpg.detach_sign(&t.rm, &x);
    files.push(format!("{}.asc", x.display()));

    let status = t.upload_failing(&files);
    assert_fail(&status, "x.txt.asc", "paths", "x.txt");
    let (_, reason) = result_of(&status, "x.txt.asc", "paths");
    assert!(reason.contains("missing"), "{reason}");
    assert_pass(&status, "RELEASE-NOTES.txt", "signature");
}

#[test]
fn an_md5_sidecar_is_a_paths_warning() {
    let t = Team::new();
    let file = notes(&t, "RELEASE-NOTES.txt");
    let mut files = t.signed_set(&file);
    md5sum(&file);
    files.push(format!("{}.md5", file.display()));

    // A warning is not a failure: the upload exits 0.
    let status = t.upload_passing(&files);
    let (result, reason) = result_of(&status, "RELEASE-NOTES.txt", "paths");
    assert_eq!(result, "warn", "{reason}");
    assert!(reason.contains("RELEASE-NOTES.txt.md5") && reason.contains("MD5"), "{reason}");
    assert!(status["summary"]["warn"].as_u64().unwrap() >= 1, "{status:#}");
    assert_eq!(summary_fail(&status), 0, "{status:#}");
}

#[test]
fn a_binary_detached_signature_passes() {
    let t = Team::new();
    let file = notes(&t, "RELEASE-NOTES.txt");
    t.gpg.detach_sign_binary(&t.rm, &file);
    let asc = std::fs::read(format!("{}.asc", file.display())).unwrap();
    assert!(!asc.starts_with(b"-----BEGIN"), "the signature must be binary for this test");
    sha512sum(&file);
    let files: Vec<String> = ["", ".asc", ".sha512"].iter().map(|e| format!("{}{e}", file.display())).collect();

    let status = t.upload_passing(&files);
    assert_pass(&status, "RELEASE-NOTES.txt", "signature");
    let (_, reason) = result_of(&status, "RELEASE-NOTES.txt", "signature");
    assert!(reason.contains(&t.rm), "{reason}");
}

#[test]
fn a_bsd_tag_checksum_from_sha512sum_tag_passes() {
    let t = Team::new();
    let file = notes(&t, "RELEASE-NOTES.txt");
    t.gpg.detach_sign(&t.rm, &file);
    sha512sum_tag(&file);
    let text = std::fs::read_to_string(format!("{}.sha512", file.display())).unwrap();
    assert!(text.starts_with("SHA512 (RELEASE-NOTES.txt) = "), "{text}");
    let files: Vec<String> = ["", ".asc", ".sha512"].iter().map(|e| format!("{}{e}", file.display())).collect();

    let status = t.upload_passing(&files);
    assert_pass(&status, "RELEASE-NOTES.txt", "checksum");
}

#[test]
fn a_gpg_print_md_checksum_passes() {
    let t = Team::new();
    let file = t.file("apache-foo-1.0.0-bin.txt", b"a build output\n");
    t.gpg.detach_sign(&t.rm, &file);
    t.gpg.print_md_sha512(&file);
    let text = std::fs::read_to_string(format!("{}.sha512", file.display())).unwrap();
    assert!(text.lines().count() > 1, "gpg --print-md output spans several lines: {text}");
    let files: Vec<String> = ["", ".asc", ".sha512"].iter().map(|e| format!("{}{e}", file.display())).collect();

    let status = t.upload_passing(&files);
    assert_pass(&status, "apache-foo-1.0.0-bin.txt", "checksum");
}

#[test]
fn a_sha256_checksum_alone_passes() {
    let t = Team::new();
    let file = notes(&t, "RELEASE-NOTES.txt");
    t.gpg.detach_sign(&t.rm, &file);
    sha256sum(&file);
    let files: Vec<String> = ["", ".asc", ".sha256"].iter().map(|e| format!("{}{e}", file.display())).collect();

    let status = t.upload_passing(&files);
    assert_pass(&status, "RELEASE-NOTES.txt", "checksum");
    let (_, reason) = result_of(&status, "RELEASE-NOTES.txt", "checksum");
    assert!(reason.contains("RELEASE-NOTES.txt.sha256"), "{reason}");
}

#[test]
fn a_wrong_sha256_fails_even_beside_a_good_sha512() {
    let t = Team::new();
    let file = notes(&t, "RELEASE-NOTES.txt");
    let mut files = t.signed_set(&file);
    std::fs::write(format!("{}.sha256", file.display()), format!("{}  RELEASE-NOTES.txt\n", "ab".repeat(32))).unwrap();
    files.push(format!("{}.sha256", file.display()));

    let status = t.upload_failing(&files);
    let results = checks_named(&status, "RELEASE-NOTES.txt", "checksum");
    assert!(results.iter().any(|(r, why)| r == "pass" && why.contains(".sha512")), "{results:?}");
    assert!(results.iter().any(|(r, why)| r == "fail" && why.contains(".sha256")), "{results:?}");
}

#[test]
fn a_tarball_with_a_symlink_out_of_the_tree_fails_the_archive_check() {
    let t = Team::new();
    let tree = t.path("tree/apache-foo-1.0.0");
    std::fs::create_dir_all(&tree).unwrap();
    std::fs::write(tree.join("README"), "hello\n").unwrap();
    std::os::unix::fs::symlink("../../../etc/passwd", tree.join("passwd")).unwrap();
    let tgz = t.path("apache-foo-1.0.0-bin.tar.gz");
    let st = Command::new("tar")
        .args(["czf", tgz.to_str().unwrap(), "-C", t.path("tree").to_str().unwrap(), "apache-foo-1.0.0"])
        .status()
        .unwrap();
    assert!(st.success());
    let status = t.upload_failing(&t.signed_set(&tgz));
    assert_fail(&status, "apache-foo-1.0.0-bin.tar.gz", "archive", "symlink");
    let (_, reason) = result_of(&status, "apache-foo-1.0.0-bin.tar.gz", "archive");
    assert!(reason.contains("outside"), "{reason}");
}

#[test]
fn a_text_mode_signature_fails_with_a_reason() {
    let t = Team::new();
    let file = notes(&t, "RELEASE-NOTES.txt");
    let asc = format!("{}.asc", file.display());
    let out = t
        .gpg
        .cmd()
        .args([
            "--local-user",
            &t.rm,
            "--armor",
            "--textmode",
            "--output",
            &asc,
            "--detach-sign",
            file.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    sha512sum(&file);
    let files: Vec<String> = ["", ".asc", ".sha512"].iter().map(|e| format!("{}{e}", file.display())).collect();
    let status = t.upload_failing(&files);
    assert_fail(&status, "RELEASE-NOTES.txt", "signature", "binary");
}

#[test]
fn a_signature_for_another_file_fails() {
    // A good signature by the release manager, but over different bytes (the .asc of the
    // previous candidate copied next to the new one).
    let t = Team::new();
    let old = t.file("old/RELEASE-NOTES.txt", b"notes of rc1\n");
    t.gpg.detach_sign(&t.rm, &old);
    let file = notes(&t, "RELEASE-NOTES.txt");
    std::fs::copy(format!("{}.asc", old.display()), format!("{}.asc", file.display())).unwrap();
    sha512sum(&file);
    let files: Vec<String> = ["", ".asc", ".sha512"].iter().map(|e| format!("{}{e}", file.display())).collect();
    let status = t.upload_failing(&files);
    assert_fail(&status, "RELEASE-NOTES.txt", "signature", "does not match");
    assert_pass(&status, "RELEASE-NOTES.txt", "checksum");
}

#[test]
fn a_checksum_file_naming_another_file_fails() {
    let t = Team::new();
    let file = notes(&t, "apache-foo-1.0.0-bin.txt");
    t.gpg.detach_sign(&t.rm, &file);
    // The checksum line names the previous candidate's file, though the digest is right.
    let out = Command::new("sha512sum").arg("apache-foo-1.0.0-bin.txt").current_dir(t.work.path()).output().unwrap();
    let line = String::from_utf8(out.stdout).unwrap().replace("apache-foo-1.0.0-bin.txt", "apache-foo-0.9.0-bin.txt");
    std::fs::write(format!("{}.sha512", file.display()), line).unwrap();
    let files: Vec<String> = ["", ".asc", ".sha512"].iter().map(|e| format!("{}{e}", file.display())).collect();
    let status = t.upload_failing(&files);
    assert_fail(&status, "apache-foo-1.0.0-bin.txt", "checksum", "apache-foo-0.9.0-bin.txt");
}

#[test]
fn a_sidecar_replaced_in_a_later_revision_is_checked_again() {
    // Results are cached per file digest; a new .sha512 beside an unchanged artifact must
    // not reuse the old verdict.
    let t = Team::new();
    let file = notes(&t, "RELEASE-NOTES.txt");
    let files = t.signed_set(&file);
    let first = t.upload_passing(&files);
    assert_eq!(first["revision"], 1);

    let sha = format!("{}.sha512", file.display());
    std::fs::write(&sha, format!("{}  RELEASE-NOTES.txt\n", "0".repeat(128))).unwrap();
    let second = t.upload_failing(std::slice::from_ref(&sha));
    assert_eq!(second["revision"], 2);
    assert_fail(&second, "RELEASE-NOTES.txt", "checksum", "does not match");

    // Put the right one back: revision 3 passes again.
    sha512sum(&file);
    let third = t.upload_passing(&[sha]);
    assert_eq!(third["revision"], 3);
    assert_pass(&third, "RELEASE-NOTES.txt", "checksum");
}

//! Whole-revision verification: classification, orphans, weak checksum files, parallel
//! workers, manifest order, cache keys and cached results.

use crate::common::{Gpg, Release, run};
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;
use std::time::SystemTime;
use trs_checks::{SignerCert, VerifyOptions, artifact_cache_key, signers_digest, verify_revision};
use trs_core::{CheckKind, CheckResult, ManifestEntry, Outcome};

/// A release with a signed source tarball (+ .md5), a signed zip, and a stray signature.
fn release(gpg: &Gpg) -> (Release, Vec<&'static str>) {
    let r = Release::new();
    r.write("apache-foo-1.0.0/LICENSE", b"license");
    r.write("apache-foo-1.0.0/NOTICE", b"notice");
    r.sh("tar", &["czf", "apache-foo-1.0.0-src.tar.gz", "apache-foo-1.0.0"]);
    r.sh("zip", &["-q", "-r", "apache-foo-1.0.0-bin.zip", "apache-foo-1.0.0"]);
    for name in ["apache-foo-1.0.0-src.tar.gz", "apache-foo-1.0.0-bin.zip"] {
        r.sha512sum(name);
        gpg.sign(&r.path(name), &["--armor"]);
    }
    let md5 = r.sh("md5sum", &["apache-foo-1.0.0-src.tar.gz"]);
    r.write("apache-foo-1.0.0-src.tar.gz.md5", md5.as_bytes());
    // A signature whose file was never uploaded.
    r.write("apache-foo-0.9.0.tar.gz.asc", &r.read("apache-foo-1.0.0-bin.zip.asc"));
    let names = vec![
        "apache-foo-0.9.0.tar.gz.asc",
        "apache-foo-1.0.0-bin.zip",
        "apache-foo-1.0.0-bin.zip.asc",
        "apache-foo-1.0.0-bin.zip.sha512",
        "apache-foo-1.0.0-src.tar.gz",
        "apache-foo-1.0.0-src.tar.gz.asc",
        "apache-foo-1.0.0-src.tar.gz.md5",
        "apache-foo-1.0.0-src.tar.gz.sha512",
    ];
    (r, names)
}

fn locate(r: &Release) -> impl Fn(&ManifestEntry) -> PathBuf + Sync + '_ {
    move |e| r.path(e.path.as_str())
}

#[test]
fn one_report_per_artifact_and_orphan_in_manifest_order() {
    let gpg = Gpg::new("RM <rm@example.org>", "ed25519");
    let (r, names) = release(&gpg);
    let manifest = r.manifest(&names);
    let signers = gpg.signers("rm");
    let v = verify_revision(&manifest, locate(&r), &signers, &VerifyOptions::new(SystemTime::now()), |_| None);
    let paths: Vec<&str> = v.files.iter().map(|f| f.report.path.as_str()).collect();
    assert_eq!(paths, ["apache-foo-0.9.0.tar.gz.asc", "apache-foo-1.0.0-bin.zip", "apache-foo-1.0.0-src.tar.gz"]);

    let orphan = &v.files[0].report;
    assert_eq!(orphan.checks.len(), 1);
    assert_eq!((orphan.checks[0].check, orphan.checks[0].result), (CheckKind::Paths, Outcome::Fail));
    assert!(orphan.checks[0].reason.contains("signature for a missing file"), "{:?}", orphan.checks);
    assert!(v.files[0].cache_key.is_none());

    let zip = &v.files[1].report;
    assert_eq!(zip.worst(), Outcome::Pass, "{:#?}", zip.checks);
    assert!(zip.checks.iter().all(|c| c.check != CheckKind::License), "bin archive: no license check");
    assert_eq!(zip.sha512, manifest.get("apache-foo-1.0.0-bin.zip").unwrap().sha512);

    let src = &v.files[2].report;
    let kinds: Vec<(CheckKind, Outcome)> = src.checks.iter().map(|c| (c.check, c.result)).collect();
    assert_eq!(
        kinds,
        [
            (CheckKind::Checksum, Outcome::Pass),
            (CheckKind::Signature, Outcome::Pass),
            (CheckKind::Archive, Outcome::Pass),
            (CheckKind::License, Outcome::Pass),
            (CheckKind::Paths, Outcome::Warn),
        ],
        "{:#?}",
        src.checks
    );
    assert!(src.checks[4].reason.contains("weak checksum file apache-foo-1.0.0-src.tar.gz.md5 present"));
    assert_eq!(src.checks[1].signer.as_ref().unwrap().person, "rm");
}

#[test]
fn checksum_orphans_and_missing_sidecars() {
    let r = Release::new();
    r.write("a.bin", b"a");
    r.write("b.bin.sha512", b"0000");
    r.write("c.bin.sha1", b"0000");
    let manifest = r.manifest(&["a.bin", "b.bin.sha512", "c.bin.sha1"]);
    let v = verify_revision(&manifest, locate(&r), &[], &VerifyOptions::new(SystemTime::now()), |_| None);
    let a = &v.files[0].report;
    assert!(a.checks.iter().any(|c| c.check == CheckKind::Signature && c.reason == "no a.bin.asc beside it"));
    assert!(
        a.checks
            .iter()
            .any(|c| c.check == CheckKind::Checksum && c.reason == "no a.bin.sha512 or a.bin.sha256 beside it")
    );
    for f in &v.files[1..] {
        assert!(f.report.checks[0].reason.starts_with("checksum for a missing file"), "{:?}", f.report.checks);
    }
}

#[test]
fn parallel_and_serial_runs_agree() {
    let gpg = Gpg::new("RM <rm@example.org>", "ed25519");
    let (r, names) = release(&gpg);
    let manifest = r.manifest(&names);
    let signers = gpg.signers("rm");
    let mut opts = VerifyOptions::new(SystemTime::now());
    opts.workers = 1;
    let serial = verify_revision(&manifest, locate(&r), &signers, &opts, |_| None);
    opts.workers = 4;
    let parallel = verify_revision(&manifest, locate(&r), &signers, &opts, |_| None);
    assert_eq!(serial, parallel);
}

#[test]
fn cached_results_are_used_and_keys_track_inputs() {
    let gpg = Gpg::new("RM <rm@example.org>", "ed25519");
    let (r, names) = release(&gpg);
    let manifest = r.manifest(&names);
    let signers = gpg.signers("rm");
    let opts = VerifyOptions::new(SystemTime::now());
    let store: Mutex<HashMap<String, Vec<CheckResult>>> = Mutex::new(HashMap::new());
    let first = verify_revision(&manifest, locate(&r), &signers, &opts, |_| None);
    for f in &first.files {
        if let Some(k) = &f.cache_key {
            store.lock().unwrap().insert(k.clone(), f.report.checks.clone());
        }
    }
    assert_eq!(store.lock().unwrap().len(), 2);

    // Second run: artifacts come from the cache, even with their bytes gone from storage.
    std::fs::remove_file(r.path("apache-foo-1.0.0-src.tar.gz")).unwrap();
    let asked = Mutex::new(0);
    let second = verify_revision(&manifest, locate(&r), &signers, &opts, |k| {
        *asked.lock().unwrap() += 1;
        store.lock().unwrap().get(k).cloned()
    });
    assert_eq!(*asked.lock().unwrap(), 2);
    assert!(second.files[1..].iter().all(|f| f.from_cache));
    assert_eq!(first.reports(), second.reports());

    // The key changes with the signer set and with any sidecar's bytes.
    let art = manifest.get("apache-foo-1.0.0-bin.zip").unwrap();
    let asc = manifest.get("apache-foo-1.0.0-bin.zip.asc").unwrap();
    let sum = manifest.get("apache-foo-1.0.0-bin.zip.sha512").unwrap();
    use trs_checks::Sidecar::{Asc, Sha512};
    let limits = Default::default();
    let key = artifact_cache_key(art, &[(Asc, asc), (Sha512, sum)], &signers_digest(&signers), &limits);
    assert_eq!(Some(&key), first.files[1].cache_key.as_ref());
    let reordered = artifact_cache_key(art, &[(Sha512, sum), (Asc, asc)], &signers_digest(&signers), &limits);
    assert_eq!(key, reordered);
    let other = Gpg::new("Other <o@example.org>", "ed25519");
    let mut more: Vec<SignerCert> = signers.clone();
    more.extend(other.signers("o"));
    assert_ne!(key, artifact_cache_key(art, &[(Asc, asc), (Sha512, sum)], &signers_digest(&more), &limits));
    assert_ne!(key, artifact_cache_key(art, &[(Asc, asc)], &signers_digest(&signers), &limits));
}

#[test]
fn sidecar_changed_in_storage_is_reported_and_not_cacheable() {
    let gpg = Gpg::new("RM <rm@example.org>", "ed25519");
    let (r, names) = release(&gpg);
    let manifest = r.manifest(&names);
    // After the manifest was made, someone replaces the signature in storage.
    run(Command::new("cp").arg(r.path("apache-foo-1.0.0-src.tar.gz.asc")).arg(r.path("apache-foo-1.0.0-bin.zip.asc")));
    let v =
        verify_revision(&manifest, locate(&r), &gpg.signers("rm"), &VerifyOptions::new(SystemTime::now()), |_| None);
    let zip = &v.files[1];
    let sig = zip.report.checks.iter().find(|c| c.check == CheckKind::Signature).unwrap();
    assert_eq!(sig.result, Outcome::Fail);
    assert!(
        sig.reason.contains("apache-foo-1.0.0-bin.zip.asc cannot be used: it changed in storage"),
        "{}",
        sig.reason
    );
    assert!(zip.cache_key.is_none());
}

#[test]
fn a_file_name_carrying_another_version_is_warned_about() {
    use trs_checks::revision::version_in_name;
    // Names that carry the release's version, or none.
    for (name, version) in [
        ("apache-foo-1.0.0-src.tar.gz", "1.0.0"),
        ("httpd-2.4.68.tar.bz2", "2.4.68"),
        ("foo_2.13-1.0.0.jar", "1.0.0"),
        ("foo-1.0.0-beta.1.tar.gz", "1.0.0-beta.1"),
        ("KEYS", "1.0.0"),
        ("README.txt", "2.0"),
    ] {
        assert_eq!(version_in_name(name, version), None, "{name} as {version}");
    }
    // Names that carry another one.
    for (name, version, carried) in [
        ("apache-foo-1.0.1-src.tar.gz", "1.0.0", "1.0.1"),
        ("foo-1.0.0.tar.gz", "1.0", "1.0.0"),
        ("foo-11.0.0.tar.gz", "1.0.0", "11.0.0"),
        ("foo_2.13-1.0.1.jar", "1.0.0", "2.13 and 1.0.1"),
    ] {
        let c = version_in_name(name, version).unwrap_or_else(|| panic!("{name} as {version}"));
        assert_eq!((c.check, c.result), (CheckKind::Paths, Outcome::Warn));
        assert!(
            c.reason.contains(&format!("carries version {carried} but it is uploaded as version {version}")),
            "{}",
            c.reason
        );
    }
}

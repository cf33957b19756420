//! Test helpers: a release folder, real GnuPG keys in private homes, and running
//! `verify_artifact` the way `verify_revision` would, on files made by real tools.
#![allow(dead_code)]

use sha2::Digest;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;
use trs_checks::{ArchiveLimits, ArtifactInputs, FileChecks, SignerCert, verify_artifact};
use trs_core::{CheckKind, CheckResult, Manifest, ManifestEntry, Outcome, Sha512};

pub fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn sha512(bytes: &[u8]) -> Sha512 {
    Sha512::from_bytes(sha2::Sha512::digest(bytes).into())
}

/// A folder holding a release's files, as storage would.
pub struct Release {
    pub dir: tempfile::TempDir,
}

impl Release {
    pub fn new() -> Self {
        Self { dir: tempfile::tempdir().unwrap() }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, bytes: &[u8]) {
        let p = self.path(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(p, bytes).unwrap();
    }

    pub fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).unwrap()
    }

    /// Runs a tool in the release folder.
    pub fn sh(&self, cmd: &str, args: &[&str]) -> String {
        run(Command::new(cmd).args(args).current_dir(self.dir.path()))
    }

    /// `sha512sum NAME > NAME.sha512`, as a release manager does.
    pub fn sha512sum(&self, name: &str) {
        let out = self.sh("sha512sum", &[name]);
        self.write(&format!("{name}.sha512"), out.as_bytes());
    }

    pub fn entry(&self, name: &str) -> ManifestEntry {
        let bytes = self.read(name);
        ManifestEntry { path: name.parse().unwrap(), size: bytes.len() as u64, sha512: sha512(&bytes) }
    }

    /// Manifest of the given files.
    pub fn manifest(&self, names: &[&str]) -> Manifest {
        Manifest::new(names.iter().map(|n| self.entry(n)).collect()).unwrap()
    }

    /// Verifies `name` with whichever sidecars are beside it.
    pub fn verify(&self, name: &str, signers: &[SignerCert]) -> FileChecks {
        self.verify_with(name, signers, ArchiveLimits::default())
    }

    pub fn verify_with(&self, name: &str, signers: &[SignerCert], limits: ArchiveLimits) -> FileChecks {
        let side = |ext: &str| std::fs::read(self.path(&format!("{name}.{ext}"))).ok();
        let (s512, s256, asc) = (side("sha512"), side("sha256"), side("asc"));
        let e = self.entry(name);
        let inputs = ArtifactInputs {
            expected_size: e.size,
            expected_sha512: e.sha512,
            sha512_file: s512.as_deref().map(Ok),
            sha256_file: s256.as_deref().map(Ok),
            asc: asc.as_deref().map(Ok),
            signers,
            policy_time: SystemTime::now(),
            limits,
            end_states: None,
        };
        verify_artifact(&e.path, &self.path(name), &inputs)
    }
}

/// The single check of `kind`, failing the test if there is not exactly one.
pub fn only(fc: &FileChecks, kind: CheckKind) -> CheckResult {
    let found: Vec<&CheckResult> = fc.checks.iter().filter(|c| c.check == kind).collect();
    assert_eq!(found.len(), 1, "expected one {kind} check in {:#?}", fc.checks);
    found[0].clone()
}

pub fn assert_outcome(fc: &FileChecks, kind: CheckKind, outcome: Outcome, reason_part: &str) -> CheckResult {
    let c = only(fc, kind);
    assert_eq!(c.result, outcome, "{kind}: {}", c.reason);
    assert!(c.reason.contains(reason_part), "{kind} reason {:?} lacks {reason_part:?}", c.reason);
    c
}

/// A GnuPG home with one key, removed (and its agent stopped) on drop.
pub struct Gpg {
    pub home: tempfile::TempDir,
    pub fpr: String,
}

impl Gpg {
    /// `gpg --quick-gen-key 'UID' ALGO sign never` — ALGO `ed25519` or `rsa3072`.
    pub fn new(uid: &str, algo: &str) -> Self {
        Self::new_with(uid, algo, &[])
    }

    /// [`Gpg::new`] with more options for the key generation (`--cert-digest-algo SHA1`).
    pub fn new_with(uid: &str, algo: &str, extra: &[&str]) -> Self {
        let home = tempfile::Builder::new().prefix("gpg").tempdir_in("/tmp").unwrap();
        let mut g = Gpg { home, fpr: String::new() };
        let mut args = vec!["--passphrase", "", "--pinentry-mode", "loopback"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--quick-gen-key", uid, algo, "sign", "never"]);
        g.gpg(&args);
        let listing = g.gpg(&["--with-colons", "--list-keys"]);
        let fpr = listing.lines().find(|l| l.starts_with("fpr:")).unwrap().split(':').nth(9).unwrap().to_string();
        g.fpr = fpr;
        g
    }

    pub fn gpg(&self, args: &[&str]) -> String {
        run(Command::new("gpg").arg("--batch").arg("--homedir").arg(self.home.path()).args(args))
    }

    /// `gpg --detach-sign --output FILE.asc FILE` plus `extra` (e.g. `--armor`,
    /// `--digest-algo SHA256`). Without `--armor` the `.asc` is binary, which people do too.
    pub fn sign(&self, file: &Path, extra: &[&str]) {
        let out = format!("{}.asc", file.to_str().unwrap());
        let mut args = vec!["--pinentry-mode", "loopback", "--passphrase", "", "--yes"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--output", &out, "--detach-sign", file.to_str().unwrap()]);
        self.gpg(&args);
    }

    pub fn export(&self) -> Vec<u8> {
        run(Command::new("gpg").arg("--batch").arg("--homedir").arg(self.home.path()).args(["--export", "--armor"]))
            .into_bytes()
    }

    pub fn signers(&self, person: &str) -> Vec<SignerCert> {
        SignerCert::parse_keyring(person, &self.export()).unwrap()
    }
}

impl Drop for Gpg {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf").arg("--homedir").arg(self.home.path()).args(["--kill", "gpg-agent"]).output();
    }
}

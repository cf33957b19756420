//! Shared test fixtures: sequoia-generated keys, and throw-away GnuPG homes that kill their
//! agent when dropped.

use sequoia_openpgp as openpgp;

use openpgp::cert::prelude::*;
use openpgp::serialize::SerializeInto;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub fn now_unix() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// A certificate (with secrets) whose primary certifies and whose subkey signs.
pub fn gen_cert(suite: CipherSuite, uid: &str) -> openpgp::Cert {
    CertBuilder::new().set_cipher_suite(suite).add_userid(uid).add_signing_subkey().generate().unwrap().0
}

pub fn public_armored(cert: &openpgp::Cert) -> String {
    String::from_utf8(cert.clone().strip_secret_key_material().armored().to_vec().unwrap()).unwrap()
}

pub fn secret_armored(cert: &openpgp::Cert) -> String {
    String::from_utf8(cert.as_tsk().armored().to_vec().unwrap()).unwrap()
}

pub fn write_tsk(dir: &Path, cert: &openpgp::Cert) -> PathBuf {
    let path = dir.join(format!("{}.asc", cert.fingerprint().to_hex()));
    std::fs::write(&path, secret_armored(cert)).unwrap();
    path
}

/// Adds a revocation of the whole certificate.
pub fn revoke(cert: &openpgp::Cert, reason: openpgp::types::ReasonForRevocation, text: &[u8]) -> openpgp::Cert {
    let mut signer = cert.primary_key().key().clone().parts_into_secret().unwrap().into_keypair().unwrap();
    let rev = cert.revoke(&mut signer, reason, text).unwrap();
    cert.clone().insert_packets(rev).unwrap().0
}

/// GnuPG interoperability is part of what these tests prove: without gpg they fail, they do
/// not pass by skipping (test.sh installs it).
pub fn require_gpg() {
    let ok = Command::new("gpg").arg("--version").stdout(Stdio::null()).status().map(|s| s.success()).unwrap_or(false);
    assert!(ok, "gpg is not installed: the GnuPG interoperability tests need it (test.sh installs gnupg)");
}

/// A temporary GNUPGHOME. Dropping it kills the gpg-agent started for it (best effort).
pub struct GpgHome {
    pub dir: tempfile::TempDir,
}

impl GpgHome {
    pub fn new() -> Self {
        // Short path: gpg-agent's socket path must fit in sockaddr_un.
        let dir = tempfile::Builder::new().prefix("trsgpg").tempdir_in("/tmp").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        GpgHome { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn gpg(&self, args: &[&str]) -> Output {
        self.gpg_stdin(args, &[])
    }

    pub fn gpg_stdin(&self, args: &[&str], stdin: &[u8]) -> Output {
        use std::io::Write;
        let mut child = Command::new("gpg")
            .arg("--batch")
            .arg("--homedir")
            .arg(self.path())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin).unwrap();
        child.wait_with_output().unwrap()
    }

    pub fn gpg_ok(&self, args: &[&str]) -> Vec<u8> {
        let out = self.gpg(args);
        assert!(out.status.success(), "gpg {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    }

    /// `gpg --quick-gen-key uid algo sign never` without passphrase; returns the fingerprint.
    pub fn gen_key(&self, uid: &str, algo: &str) -> String {
        self.gpg_ok(&[
            "--passphrase",
            "",
            "--pinentry-mode",
            "loopback",
            "--quick-gen-key",
            uid,
            algo,
            "sign",
            "never",
        ]);
        let listing = String::from_utf8(self.gpg_ok(&["--with-colons", "--list-secret-keys", uid])).unwrap();
        primary_fprs(&listing).pop().expect("generated key is listed")
    }

    pub fn export_public(&self, fpr: &str) -> Vec<u8> {
        self.gpg_ok(&["--armor", "--export", fpr])
    }

    /// Primary fingerprints of all public keys in the keyring.
    pub fn public_fprs(&self) -> Vec<String> {
        primary_fprs(&String::from_utf8(self.gpg_ok(&["--with-colons", "--list-keys"])).unwrap())
    }
}

impl Drop for GpgHome {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .env("GNUPGHOME", self.path())
            .args(["--kill", "all"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        // Give the agent a moment to remove its sockets before the directory goes.
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `fpr` records that follow `pub`/`sec` records in `--with-colons` output.
pub fn primary_fprs(colons: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut want = false;
    for line in colons.lines() {
        let f: Vec<&str> = line.split(':').collect();
        match f[0] {
            "pub" | "sec" => want = true,
            "fpr" if want => {
                out.push(f[9].to_string());
                want = false;
            }
            _ => {}
        }
    }
    out
}

/// The deployment the tests sign for.
pub const AUDIENCE: &str = "https://trs.example.org";

pub fn audience() -> trs_auth::Audience {
    AUDIENCE.parse().unwrap()
}

/// `verify_request` for [`AUDIENCE`], against a stored (armored) certificate.
pub fn verify(
    h: &trs_auth::SignedHeaders,
    method: &str,
    path: &str,
    query: Option<&str>,
    body: &[u8],
    now: i64,
    armored: &str,
) -> Result<trs_auth::VerifiedRequest, trs_auth::AuthError> {
    let cert = trs_auth::RegisteredCert::parse(&h.key, armored)?;
    trs_auth::verify_request(h, &audience(), trs_auth::RequestParts { method, path, query, body }, now, &cert)
}

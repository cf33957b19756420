//! Client side of signed API calls: something that can make a detached OpenPGP signature
//! (a secret key file, or the user's own GnuPG keyring so existing keys work unchanged), and
//! [`sign_request`], which builds the authentication headers for one request.

use sequoia_openpgp as openpgp;

use crate::pgp;
use crate::policy::POLICY;
use crate::request::{self, SignedHeaders};
use openpgp::crypto::Password;
use openpgp::packet::key::{SecretParts, UnspecifiedRole};
use openpgp::packet::signature::SignatureBuilder;
use openpgp::parse::Parse;
use openpgp::serialize::SerializeInto;
use openpgp::types::SignatureType;
use rand::TryRng;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use trs_core::Fingerprint;

/// Environment variable holding the passphrase of an encrypted key file.
pub const PASSPHRASE_ENV: &str = "TRS_KEY_PASSPHRASE";

/// Why a request could not be signed. `Display` is the message for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    #[error("cannot read key file {path}: {reason}")]
    Io { path: PathBuf, reason: String },
    #[error("key file {path} is not an OpenPGP key: {reason}")]
    KeyFile { path: PathBuf, reason: String },
    #[error(
        "key file {0} holds a public key only; export the secret key (gpg --export-secret-keys --armor <fpr>) or use --gpg-key"
    )]
    NotASecretKey(PathBuf),
    #[error("no usable signing key: {0}")]
    NoSigningKey(String),
    #[error("key is encrypted; set {PASSPHRASE_ENV} or use --gpg-key")]
    Encrypted,
    #[error("cannot unlock the key with the given passphrase: {0}")]
    WrongPassphrase(String),
    #[error("gpg: {0}")]
    Gpg(String),
    #[error("signing failed: {0}")]
    Signing(String),
    #[error("cannot sign this request: {0}")]
    InvalidRequest(String),
}

/// Makes detached signatures for API requests.
pub trait RequestSigner: Send + Sync {
    /// Primary fingerprint of the certificate (sent as `Trs-Key`).
    fn fingerprint(&self) -> &Fingerprint;
    /// A binary OpenPGP detached signature (as `gpg --detach-sign` writes) over `message`.
    fn sign_detached(&self, message: &[u8]) -> Result<Vec<u8>, SignError>;
}

/// Builds the authentication headers for one request to the deployment `audience`: fresh
/// random nonce, body hash, and the signature over the canonical string.
pub fn sign_request(
    signer: &dyn RequestSigner,
    audience: &request::Audience,
    method: &str,
    path: &str,
    query: Option<&str>,
    body: &[u8],
    now_unix: i64,
) -> Result<SignedHeaders, SignError> {
    request::check_request_line(method, path, query).map_err(SignError::InvalidRequest)?;
    if now_unix < 0 {
        return Err(SignError::InvalidRequest("clock is before 1970".into()));
    }
    let mut nonce = [0u8; 16];
    rand::rngs::SysRng.try_fill_bytes(&mut nonce).expect("the system's random number source");
    let nonce = hex::encode(nonce);
    let content_sha256 = request::body_sha256_hex(body);
    let canonical =
        request::canonical_string(audience.as_str(), method, path, query, now_unix, &nonce, &content_sha256);
    let signature = signer.sign_detached(canonical.as_bytes())?;
    Ok(SignedHeaders {
        audience: audience.as_str().to_string(),
        key: signer.fingerprint().clone(),
        timestamp: now_unix,
        nonce,
        content_sha256,
        signature,
    })
}

/// Signs with a secret key read from an armored (or binary) key file.
pub struct KeyFileSigner {
    fingerprint: Fingerprint,
    key: openpgp::packet::Key<SecretParts, UnspecifiedRole>,
}

impl std::fmt::Debug for KeyFileSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyFileSigner")
            .field("fingerprint", &self.fingerprint)
            .field("signing_key", &self.key.fingerprint().to_hex())
            .finish_non_exhaustive()
    }
}

impl KeyFileSigner {
    /// Loads a secret key file. If the signing key is passphrase-protected, the passphrase is
    /// taken from `TRS_KEY_PASSPHRASE`.
    pub fn load(path: &Path) -> Result<Self, SignError> {
        let pass = std::env::var(PASSPHRASE_ENV).ok();
        Self::load_with_passphrase(path, pass.as_deref())
    }

    /// Like [`KeyFileSigner::load`], with the passphrase given explicitly.
    pub fn load_with_passphrase(path: &Path, passphrase: Option<&str>) -> Result<Self, SignError> {
        let bytes =
            std::fs::read(path).map_err(|e| SignError::Io { path: path.to_path_buf(), reason: e.to_string() })?;
        let cert = openpgp::Cert::from_bytes(&bytes)
            .map_err(|e| SignError::KeyFile { path: path.to_path_buf(), reason: format!("{e:#}") })?;
        Self::from_cert(&cert, passphrase).map_err(|e| match e {
            SignError::NotASecretKey(_) => SignError::NotASecretKey(path.to_path_buf()),
            other => other,
        })
    }

    /// From an in-memory certificate with secret key material (a TSK).
    pub fn from_cert(cert: &openpgp::Cert, passphrase: Option<&str>) -> Result<Self, SignError> {
        if !cert.is_tsk() {
            return Err(SignError::NotASecretKey(PathBuf::new()));
        }
        let fingerprint = pgp::fpr(&cert.fingerprint())
            .ok_or_else(|| SignError::NoSigningKey("unsupported (legacy) key version".into()))?;
        // Like gpg: the newest valid signing-capable key that we hold the secret of.
        let ka = cert
            .keys()
            .with_policy(&*POLICY, None)
            .supported()
            .alive()
            .revoked(false)
            .for_signing()
            .secret()
            .max_by_key(|ka| ka.key().creation_time())
            .ok_or_else(|| {
                SignError::NoSigningKey(format!(
                    "{} has no secret signing key that is alive, not revoked and valid under the standard policy",
                    fingerprint
                ))
            })?;
        let mut key = ka.key().clone().role_into_unspecified();
        if key.secret().is_encrypted() {
            let pass = passphrase.ok_or(SignError::Encrypted)?;
            key = key
                .decrypt_secret(&Password::from(pass.to_string()))
                .map_err(|e| SignError::WrongPassphrase(format!("{e:#}")))?;
        }
        Ok(KeyFileSigner { fingerprint, key })
    }

    /// The (sub)key that makes the signatures.
    pub fn signing_key(&self) -> Option<Fingerprint> {
        pgp::fpr(&self.key.fingerprint())
    }
}

impl RequestSigner for KeyFileSigner {
    fn fingerprint(&self) -> &Fingerprint {
        &self.fingerprint
    }

    fn sign_detached(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        let mut keypair = self.key.clone().into_keypair().map_err(|e| SignError::Signing(format!("{e:#}")))?;
        let sig = SignatureBuilder::new(SignatureType::Binary)
            .sign_message(&mut keypair, message)
            .map_err(|e| SignError::Signing(format!("{e:#}")))?;
        openpgp::Packet::from(sig).to_vec().map_err(|e| SignError::Signing(format!("{e:#}")))
    }
}

/// Signs by running the user's `gpg`, so keys in a GnuPG keyring (smartcards included) work as
/// they are. Uses `GNUPGHOME` from the environment unless [`GpgSigner::with_gnupghome`] sets one.
#[derive(Debug, Clone)]
pub struct GpgSigner {
    fingerprint: Fingerprint,
    gnupghome: Option<PathBuf>,
}

impl GpgSigner {
    /// `fpr_or_id`: anything gpg accepts as a key specification; it must name exactly one
    /// secret key. The full fingerprint is best.
    pub fn new(fpr_or_id: &str) -> Result<Self, SignError> {
        Self::resolve(fpr_or_id, None)
    }

    /// Like [`GpgSigner::new`], running gpg with `GNUPGHOME=home`.
    pub fn with_gnupghome(fpr_or_id: &str, home: impl Into<PathBuf>) -> Result<Self, SignError> {
        Self::resolve(fpr_or_id, Some(home.into()))
    }

    fn command(gnupghome: &Option<PathBuf>) -> Command {
        let mut cmd = Command::new("gpg");
        if let Some(home) = gnupghome {
            cmd.env("GNUPGHOME", home);
        }
        cmd.arg("--batch");
        cmd
    }

    fn resolve(fpr_or_id: &str, gnupghome: Option<PathBuf>) -> Result<Self, SignError> {
        let out = Self::command(&gnupghome)
            .args(["--with-colons", "--list-secret-keys", "--", fpr_or_id])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| SignError::Gpg(format!("cannot run gpg: {e}")))?;
        if !out.status.success() {
            return Err(SignError::Gpg(format!(
                "no secret key {fpr_or_id:?} in the GnuPG keyring: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        let primaries = primary_fingerprints(&String::from_utf8_lossy(&out.stdout));
        match primaries.as_slice() {
            [one] => {
                let fingerprint = one
                    .parse()
                    .map_err(|_| SignError::Gpg(format!("gpg reported an unexpected fingerprint {one:?}")))?;
                Ok(GpgSigner { fingerprint, gnupghome })
            }
            [] => Err(SignError::Gpg(format!("no secret key {fpr_or_id:?} in the GnuPG keyring"))),
            many => Err(SignError::Gpg(format!(
                "{fpr_or_id:?} matches {} secret keys ({}); give the full fingerprint",
                many.len(),
                many.join(", ")
            ))),
        }
    }
}

/// Primary-key fingerprints in `gpg --with-colons --list-secret-keys` output: the `fpr`
/// record that directly follows each `sec` record.
fn primary_fingerprints(colons: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut after_sec = false;
    for line in colons.lines() {
        let fields: Vec<&str> = line.split(':').collect();
        match fields.first().copied() {
            Some("sec") => after_sec = true,
            Some("fpr") if after_sec => {
                if let Some(f) = fields.get(9).filter(|f| !f.is_empty()) {
                    out.push(f.to_string());
                }
                after_sec = false;
            }
            _ => {}
        }
    }
    out.dedup();
    out
}

impl RequestSigner for GpgSigner {
    fn fingerprint(&self) -> &Fingerprint {
        &self.fingerprint
    }

    fn sign_detached(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        // --no-armor / --no-textmode override a gpg.conf that sets either.
        let mut child = Self::command(&self.gnupghome)
            .args(["--yes", "--no-armor", "--no-textmode", "--local-user"])
            .arg(self.fingerprint.as_str())
            .args(["--output", "-", "--detach-sign"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| SignError::Gpg(format!("cannot run gpg: {e}")))?;
        {
            let mut stdin = child.stdin.take().ok_or_else(|| SignError::Gpg("no stdin".into()))?;
            stdin.write_all(message).map_err(|e| SignError::Gpg(format!("writing to gpg: {e}")))?;
        }
        let out = child.wait_with_output().map_err(|e| SignError::Gpg(format!("waiting for gpg: {e}")))?;
        if !out.status.success() || out.stdout.is_empty() {
            return Err(SignError::Gpg(format!(
                "signing with {} failed: {}",
                self.fingerprint,
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(out.stdout)
    }
}

#[cfg(test)]
mod tests {
    use super::primary_fingerprints;

    #[test]
    fn colon_listing_yields_primary_fingerprints_only() {
        let listing = "\
sec:u:255:22:AAAAAAAAAAAAAAAA:1700000000:::u:::scESC:::+::ed25519:::0:
fpr:::::::::1111111111111111111111111111111111111111:
grp:::::::::0000000000000000000000000000000000000000:
uid:u::::1700000000::HASH::Test <t@example.org>::::::::::0:
ssb:u:255:18:BBBBBBBBBBBBBBBB:1700000000::::::e:::+::cv25519::
fpr:::::::::2222222222222222222222222222222222222222:
sec:u:3072:1:CCCCCCCCCCCCCCCC:1700000000:::u:::scSC:::+:::23::0:
fpr:::::::::3333333333333333333333333333333333333333:
";
        assert_eq!(
            primary_fingerprints(listing),
            vec!["1111111111111111111111111111111111111111", "3333333333333333333333333333333333333333"]
        );
    }
}

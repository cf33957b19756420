//! Certificate registration: the checks a public key must pass before trs links it to a
//! person. A registered key is what signed API calls and release signatures are verified
//! against, so this refuses anything that could not sign validly today, and says why in
//! words a release manager can act on.

use sequoia_openpgp as openpgp;

use crate::pgp;
use crate::policy::POLICY;
use openpgp::cert::prelude::*;
use openpgp::parse::Parse;
use openpgp::serialize::SerializeInto;
use openpgp::types::RevocationStatus;
use std::time::SystemTime;
use trs_core::Fingerprint;

/// The largest certificate trs registers or keeps after a merge, in its binary form. Real
/// keys, third-party certifications included, are a few KiB to a few tens; the cap keeps a
/// certificate from growing without bound through `keys add` merges.
pub const MAX_CERT_BYTES: usize = 128 * 1024;
/// The most user ids a registered certificate may hold (real keys: a handful).
pub const MAX_USER_IDS: usize = 64;
/// Input longer than this is refused before it is parsed (armor adds a third to the binary).
const MAX_INPUT_BYTES: usize = 2 * MAX_CERT_BYTES;

/// A certificate that passed [`validate_certificate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedCert {
    /// Primary key fingerprint (uppercase hex).
    pub fingerprint: Fingerprint,
    /// Valid, non-revoked user ids (lossy UTF-8).
    pub user_ids: Vec<String>,
    pub primary_user_id: Option<String>,
    /// Keys (primary and/or subkeys) that can make signatures now.
    pub signing_keys: Vec<Fingerprint>,
    /// The public certificate, ASCII-armored, secret parts stripped.
    pub armored: String,
    /// What the holder should fix although the certificate was accepted
    /// ([`certificate_warnings`]).
    pub warnings: Vec<String>,
}

/// Why a certificate was refused. `Display` is the message to show the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertError {
    #[error("no key given: paste the output of gpg --export --armor <your fingerprint>")]
    Empty,
    #[error("not an OpenPGP certificate: {0}")]
    Unparseable(String),
    #[error("contains {0} certificates; register one at a time")]
    MultipleCertificates(usize),
    #[error("this is a secret key; export the public key with gpg --export --armor")]
    SecretKey,
    #[error("certificate {fingerprint} is revoked ({reason})")]
    Revoked { fingerprint: Fingerprint, reason: String },
    #[error("certificate {fingerprint} expired on {}; extend its expiry (gpg --quick-set-expire) and export it again", pgp::datetime(*expired_at))]
    Expired { fingerprint: Fingerprint, expired_at: SystemTime },
    #[error("certificate {fingerprint} is not valid under the OpenPGP standard policy: {reason}")]
    PolicyRejected { fingerprint: Fingerprint, reason: String },
    #[error(
        "certificate {fingerprint} has no key that can sign now ({detail}); add a signing subkey (gpg --quick-add-key <fpr> ed25519 sign)"
    )]
    NoSigningKey { fingerprint: Fingerprint, detail: String },
    #[error(
        "the certificate is {bytes} bytes{}; at most {max} are kept: export it without third-party signatures (gpg --export --export-options export-minimal --armor <fpr>)",
        if *merged { " once merged with the registered copy" } else { "" }
    )]
    TooLarge { bytes: usize, max: usize, merged: bool },
    #[error(
        "the certificate has {count} user ids{}; at most {max} are accepted: revoke or delete the ones no longer used (gpg --quick-revoke-uid)",
        if *merged { " once merged with the registered copy" } else { "" }
    )]
    TooManyUserIds { count: usize, max: usize, merged: bool },
}

impl CertError {
    /// The certificate's fingerprint, when it parsed far enough to have one (the refusal is
    /// then about its validity, not its form).
    pub fn fingerprint(&self) -> Option<&Fingerprint> {
        match self {
            CertError::Revoked { fingerprint, .. }
            | CertError::Expired { fingerprint, .. }
            | CertError::PolicyRejected { fingerprint, .. }
            | CertError::NoSigningKey { fingerprint, .. } => Some(fingerprint),
            _ => None,
        }
    }

    /// Stable machine-readable reason.
    pub fn code(&self) -> &'static str {
        match self {
            CertError::Empty => "cert-empty",
            CertError::Unparseable(_) => "cert-unparseable",
            CertError::MultipleCertificates(_) => "cert-multiple",
            CertError::SecretKey => "cert-secret-key",
            CertError::Revoked { .. } => "cert-revoked",
            CertError::Expired { .. } => "cert-expired",
            CertError::PolicyRejected { .. } => "cert-policy-rejected",
            CertError::NoSigningKey { .. } => "cert-no-signing-key",
            CertError::TooLarge { .. } => "cert-too-large",
            CertError::TooManyUserIds { .. } => "cert-too-many-user-ids",
        }
    }
}

/// Parses `input` (ASCII-armored or binary) as exactly one OpenPGP public certificate and
/// checks it is usable for signing at `now` under the standard policy.
///
/// Checks, in order: not empty; at most twice [`MAX_CERT_BYTES`] of input; parses; exactly
/// one certificate; no secret key material; at most [`MAX_USER_IDS`] user ids and
/// [`MAX_CERT_BYTES`]; not revoked; primary key and self-signatures acceptable to the policy
/// ([`crate::policy`]: SHA-1 self-signatures pass with a warning); not expired; at least one
/// signing-capable, alive, non-revoked (sub)key.
pub fn validate_certificate(input: &[u8], now: SystemTime) -> Result<ValidatedCert, CertError> {
    let cert = parse_one_public(input)?;
    check_bounds(&cert, false)?;
    let fingerprint = pgp::fpr(&cert.fingerprint())
        .ok_or_else(|| CertError::Unparseable("unsupported (legacy v3) key version".into()))?;

    if let RevocationStatus::Revoked(sigs) = cert.revocation_status(&*POLICY, now) {
        return Err(CertError::Revoked { fingerprint, reason: pgp::revocation_reason(&sigs) });
    }
    let vc = cert
        .with_policy(&*POLICY, now)
        .map_err(|e| CertError::PolicyRejected { fingerprint: fingerprint.clone(), reason: format!("{e:#}") })?;
    if let Err(e) = vc.alive() {
        return Err(match vc.primary_key().key_expiration_time() {
            Some(expired_at) if expired_at <= now => CertError::Expired { fingerprint, expired_at },
            _ => CertError::PolicyRejected { fingerprint, reason: format!("{e:#}") },
        });
    }

    let signing_keys: Vec<Fingerprint> = vc
        .keys()
        .supported()
        .for_signing()
        .alive()
        .revoked(false)
        .filter_map(|ka| pgp::fpr(&ka.key().fingerprint()))
        .collect();
    if signing_keys.is_empty() {
        return Err(CertError::NoSigningKey { fingerprint, detail: describe_keys(&cert, now) });
    }

    let user_ids = vc
        .userids()
        .filter(|u| !matches!(u.revocation_status(), RevocationStatus::Revoked(_)))
        .map(|u| String::from_utf8_lossy(u.userid().value()).into_owned())
        .collect();
    let primary_user_id = vc.primary_userid().ok().map(|u| String::from_utf8_lossy(u.userid().value()).into_owned());

    let public = cert.clone().strip_secret_key_material();
    let armored =
        public.armored().to_vec().map_err(|e| CertError::Unparseable(format!("cannot re-serialize: {e:#}")))?;
    let armored = String::from_utf8(armored).map_err(|e| CertError::Unparseable(e.to_string()))?;

    let warnings = crate::policy::weak_self_signatures(&cert, now).into_iter().collect();
    Ok(ValidatedCert { fingerprint, user_ids, primary_user_id, signing_keys, armored, warnings })
}

/// What the holder of a registered certificate should fix, evaluated at `now`: for now,
/// self-signatures that use SHA-1 (accepted, as GnuPG does, but refused by other tools). Shown
/// with the person and in KEYS. An unreadable certificate has no warnings (it has bigger
/// problems, reported where it is used).
pub fn certificate_warnings(armored: &str, now: SystemTime) -> Vec<String> {
    match openpgp::Cert::from_bytes(armored.as_bytes()) {
        Ok(cert) => crate::policy::weak_self_signatures(&cert, now).into_iter().collect(),
        Err(_) => Vec::new(),
    }
}

/// The caps on what trs keeps: user ids, then size (of the public binary form).
fn check_bounds(cert: &openpgp::Cert, merged: bool) -> Result<(), CertError> {
    let count = cert.userids().count();
    if count > MAX_USER_IDS {
        return Err(CertError::TooManyUserIds { count, max: MAX_USER_IDS, merged });
    }
    let bytes = cert.to_vec().map_err(|e| CertError::Unparseable(format!("cannot re-serialize: {e:#}")))?.len();
    if bytes > MAX_CERT_BYTES {
        return Err(CertError::TooLarge { bytes, max: MAX_CERT_BYTES, merged });
    }
    Ok(())
}

/// Merges an update of an already registered certificate (a new expiry, a new subkey, a
/// revocation) into the stored one. Merging, rather than replacing, means an old copy cannot
/// strip a revocation that was registered before: signatures are only ever added. The update
/// may be revoked or expired — that is the point of sending a revocation — but must be the same
/// certificate and hold no secret key material, and the merged result stays within the caps
/// ([`MAX_USER_IDS`], [`MAX_CERT_BYTES`]). Returns the merged public certificate, armored.
pub fn merge_certificate_update(stored_armored: &str, update: &[u8]) -> Result<String, CertError> {
    let new = parse_one_public(update)?;
    check_bounds(&new, false)?;
    let stored = openpgp::Cert::from_bytes(stored_armored.as_bytes())
        .map_err(|e| CertError::Unparseable(format!("stored certificate: {e:#}")))?;
    if stored.fingerprint() != new.fingerprint() {
        return Err(CertError::Unparseable("the update is a different certificate".into()));
    }
    let merged = stored.merge_public(new).map_err(|e| CertError::Unparseable(format!("cannot merge: {e:#}")))?;
    check_bounds(&merged, true)?;
    let armored =
        merged.armored().to_vec().map_err(|e| CertError::Unparseable(format!("cannot re-serialize: {e:#}")))?;
    String::from_utf8(armored).map_err(|e| CertError::Unparseable(e.to_string()))
}

/// Exactly one certificate, without secret key material: what both registration and an
/// update accept before looking at validity.
fn parse_one_public(input: &[u8]) -> Result<openpgp::Cert, CertError> {
    if input.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(CertError::Empty);
    }
    if input.len() > MAX_INPUT_BYTES {
        return Err(CertError::TooLarge { bytes: input.len(), max: MAX_CERT_BYTES, merged: false });
    }
    let mut certs = parse_all(input)?;
    let cert = match certs.len() {
        0 => return Err(CertError::Unparseable("no certificate found".into())),
        1 => certs.remove(0),
        n => return Err(CertError::MultipleCertificates(n)),
    };
    if cert.is_tsk() {
        return Err(CertError::SecretKey);
    }
    Ok(cert)
}

/// Every certificate in `input`. Concatenated armor blocks (a pasted KEYS file, say) are
/// parsed block by block, because an armor reader stops at the first END line.
fn parse_all(input: &[u8]) -> Result<Vec<openpgp::Cert>, CertError> {
    const BEGIN: &[u8] = b"-----BEGIN PGP ";
    let starts: Vec<usize> =
        (0..input.len()).filter(|&i| input[i..].starts_with(BEGIN) && (i == 0 || input[i - 1] == b'\n')).collect();
    let blocks: Vec<&[u8]> = if starts.len() > 1 {
        starts.iter().enumerate().map(|(k, &s)| &input[s..*starts.get(k + 1).unwrap_or(&input.len())]).collect()
    } else {
        vec![input]
    };
    let mut certs = Vec::new();
    for block in blocks {
        let parser = CertParser::from_bytes(block).map_err(|e| CertError::Unparseable(format!("{e:#}")))?;
        for cert in parser {
            certs.push(cert.map_err(|e| CertError::Unparseable(format!("{e:#}")))?);
        }
    }
    Ok(certs)
}

/// One line per key saying why it cannot sign, for the "no signing key" message.
fn describe_keys(cert: &openpgp::Cert, now: SystemTime) -> String {
    let mut out = Vec::new();
    for ka in cert.keys() {
        let key = ka.key();
        let name = format!("{} {}", pgp::algo_name(key.pk_algo(), key.mpis()), key.fingerprint().to_hex());
        let why = match ka.with_policy(&*POLICY, now) {
            Err(e) => format!("rejected by policy: {e}"),
            Ok(vka) => {
                if let RevocationStatus::Revoked(sigs) = vka.revocation_status() {
                    format!("revoked: {}", pgp::revocation_reason(&sigs))
                } else if vka.alive().is_err() {
                    "expired or not yet valid".to_string()
                } else if !vka.for_signing() {
                    "not signing-capable".to_string()
                } else {
                    "unsupported algorithm".to_string()
                }
            }
        };
        out.push(format!("{name}: {why}"));
    }
    out.join("; ")
}

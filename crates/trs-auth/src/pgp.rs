//! Small shared helpers over sequoia-openpgp, so fingerprint conversion and the
//! human wording of key states are the same in registration, KEYS rendering and verification.

use sequoia_openpgp as openpgp;

use openpgp::crypto::mpi;
use openpgp::packet::Signature;
use openpgp::types::{Curve, PublicKeyAlgorithm};
use std::time::SystemTime;
use trs_core::Fingerprint;

/// sequoia fingerprint -> trs fingerprint (uppercase hex, no spaces). `None` only for legacy
/// v3 / unknown-version fingerprints, which trs never accepts.
pub(crate) fn fpr(f: &openpgp::Fingerprint) -> Option<Fingerprint> {
    f.to_hex().parse().ok()
}

/// `2024-01-31` (UTC) for a point in time.
pub(crate) fn date(t: SystemTime) -> String {
    time::OffsetDateTime::from(t).date().to_string()
}

/// `2024-01-31 12:00:00 UTC` for a point in time.
pub(crate) fn datetime(t: SystemTime) -> String {
    let t = time::OffsetDateTime::from(t);
    format!("{} {:02}:{:02}:{:02} UTC", t.date(), t.hour(), t.minute(), t.second())
}

/// Human wording of the first revocation signature's reason, e.g.
/// `key compromised: "lost laptop"`.
pub(crate) fn revocation_reason(sigs: &[&Signature]) -> String {
    let Some(sig) = sigs.first() else { return "revoked".into() };
    match sig.reason_for_revocation() {
        Some((code, text)) if !text.is_empty() => {
            format!("{code}: {:?}", String::from_utf8_lossy(text))
        }
        Some((code, _)) => code.to_string(),
        None => "no reason given".into(),
    }
}

/// GnuPG-style short algorithm name: `rsa4096`, `ed25519`, `cv25519`, `nistp256`, ...
pub(crate) fn algo_name(algo: PublicKeyAlgorithm, mpis: &mpi::PublicKey) -> String {
    let curve_name = |c: &Curve| match c {
        Curve::NistP256 => "nistp256".to_string(),
        Curve::NistP384 => "nistp384".to_string(),
        Curve::NistP521 => "nistp521".to_string(),
        Curve::BrainpoolP256 => "brainpoolP256r1".to_string(),
        Curve::BrainpoolP384 => "brainpoolP384r1".to_string(),
        Curve::BrainpoolP512 => "brainpoolP512r1".to_string(),
        Curve::Ed25519 => "ed25519".to_string(),
        Curve::Cv25519 => "cv25519".to_string(),
        other => format!("{other}").to_ascii_lowercase().replace(' ', ""),
    };
    match mpis {
        mpi::PublicKey::RSA { .. } => format!("rsa{}", mpis.bits().unwrap_or(0)),
        mpi::PublicKey::DSA { .. } => format!("dsa{}", mpis.bits().unwrap_or(0)),
        mpi::PublicKey::ElGamal { .. } => format!("elg{}", mpis.bits().unwrap_or(0)),
        mpi::PublicKey::EdDSA { curve, .. }
        | mpi::PublicKey::ECDSA { curve, .. }
        | mpi::PublicKey::ECDH { curve, .. } => curve_name(curve),
        mpi::PublicKey::Ed25519 { .. } => "ed25519".into(),
        mpi::PublicKey::X25519 { .. } => "cv25519".into(),
        mpi::PublicKey::Ed448 { .. } => "ed448".into(),
        mpi::PublicKey::X448 { .. } => "cv448".into(),
        _ => format!("{algo}").to_ascii_lowercase().replace(' ', "-"),
    }
}

/// Replaces control characters (newlines included) so that text taken from a certificate
/// (user ids) can never break the line structure of a file we write.
pub(crate) fn sanitize_line(s: &str) -> String {
    s.chars().flat_map(|c| if c.is_control() { c.escape_default().collect::<Vec<_>>() } else { vec![c] }).collect()
}

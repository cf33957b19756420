//! Detached OpenPGP signatures: the project's signer certificates, parsing a `.asc`, deciding
//! how each signature's digest is computed during the single read of the artifact, and
//! judging the signature once the digest is known.
//!
//! Digest routes (see [`Route`]): a v4 signature over SHA-512 — GnuPG's default for modern
//! keys — reuses the SHA-512 state the checksum check computes anyway: at end of data the
//! state is cloned, the signature's trailer (RFC 9580 §5.2.4) is appended to the clone and it
//! is finalized. So one SHA-512 pass serves both checks. A v4 SHA-256 signature likewise reuses
//! the SHA-256 state when a `.sha256` file made us compute one. Anything else (v6 signatures,
//! whose salt is hashed before the data; other algorithms) gets a sequoia hash context fed
//! from the same buffers in the same pass.

use sequoia_openpgp as openpgp;

use openpgp::cert::amalgamation::ValidAmalgamation;
use openpgp::cert::{Cert, CertParser};
use openpgp::crypto::hash;
use openpgp::packet::{Packet, Signature};
use openpgp::parse::{PacketParser, PacketParserResult, Parse};
use openpgp::policy::{HashAlgoSecurity, Policy, StandardPolicy};
use openpgp::serialize::MarshalInto;
use openpgp::types::{HashAlgorithm, RevocationStatus, SignatureType};
use openpgp::{Fingerprint, KeyHandle};
use std::time::{Duration, SystemTime};
use trs_core::{CheckKind, CheckResult, Signer};

/// A certificate registered to a person of the project (member, committer or release
/// manager). Parse these once per revision, not once per artifact.
#[derive(Debug, Clone)]
pub struct SignerCert {
    /// The trs person the certificate is registered to.
    pub person: String,
    pub cert: Cert,
}

impl SignerCert {
    /// Parses every certificate in `keyring` (armored or binary, e.g. a KEYS file or
    /// `gpg --export --armor` output) as registered to `person`.
    pub fn parse_keyring(person: &str, keyring: &[u8]) -> Result<Vec<SignerCert>, String> {
        let parser = CertParser::from_bytes(keyring).map_err(|e| format!("not an OpenPGP keyring: {e}"))?;
        let mut out = Vec::new();
        for cert in parser {
            let cert = cert.map_err(|e| format!("unreadable certificate: {e}"))?;
            out.push(SignerCert { person: person.to_string(), cert });
        }
        if out.is_empty() {
            return Err("no certificate found".into());
        }
        Ok(out)
    }
}

/// More signatures than this in one `.asc` is not a release signature.
const MAX_SIGNATURES: usize = 16;

/// How far in the future a signature may be dated (clocks of release managers drift).
const CLOCK_SKEW: Duration = Duration::from_secs(15 * 60);

/// Parses a detached signature file, armored or binary. Only signature packets are allowed.
pub fn parse_detached(bytes: &[u8]) -> Result<Vec<Signature>, String> {
    // Co-signers' `.asc` files concatenated (`cat a.asc b.asc`) are several armor blocks; the
    // parser reads one block, so each is parsed on its own, as GnuPG reads them all.
    const BEGIN: &[u8] = b"-----BEGIN PGP SIGNATURE-----";
    let starts: Vec<usize> =
        bytes.windows(BEGIN.len()).enumerate().filter(|(_, w)| *w == BEGIN).map(|(i, _)| i).collect();
    if starts.len() > 1 {
        let mut sigs = Vec::new();
        for (n, &start) in starts.iter().enumerate() {
            let end = starts.get(n + 1).copied().unwrap_or(bytes.len());
            sigs.extend(parse_packets(&bytes[start..end])?);
            if sigs.len() > MAX_SIGNATURES {
                return Err(format!("it holds more than {MAX_SIGNATURES} signatures"));
            }
        }
        return Ok(sigs);
    }
    parse_packets(bytes)
}

/// The signatures of one armor block or of binary packets.
fn parse_packets(bytes: &[u8]) -> Result<Vec<Signature>, String> {
    let mut ppr = PacketParser::from_bytes(bytes).map_err(|e| e.to_string())?;
    let mut sigs = Vec::new();
    while let PacketParserResult::Some(pp) = ppr {
        let (packet, next) = pp.next().map_err(|e| e.to_string())?;
        match packet {
            Packet::Signature(s) => sigs.push(s),
            Packet::Marker(_) => {}
            Packet::Unknown(u) => return Err(format!("unreadable {} packet: {}", u.tag(), u.error())),
            p => return Err(format!("it holds a {} packet, but a detached signature holds only signatures", p.tag())),
        }
        if sigs.len() > MAX_SIGNATURES {
            return Err(format!("it holds more than {MAX_SIGNATURES} signatures"));
        }
        ppr = next;
    }
    if sigs.is_empty() {
        return Err("it holds no signature".into());
    }
    Ok(sigs)
}

/// Where a signature's digest comes from at the end of the single pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    /// v4 over SHA-512: the shared sha2 SHA-512 state plus our own trailer.
    Sha512,
    /// v4 over SHA-256 while a `.sha256` file made us compute SHA-256 anyway.
    Sha256,
    /// A sequoia context (index into [`SigPlan::contexts`]), salted for v6.
    Context(usize),
    /// The digest cannot be computed (unsupported hash algorithm, …).
    Unsupported(String),
}

/// The parsed signatures of one `.asc` and what the single pass must feed for them.
pub(crate) struct SigPlan {
    pub sigs: Vec<(Signature, Route)>,
    /// Extra hash contexts to feed with the artifact's bytes.
    pub contexts: Vec<hash::Context>,
}

impl SigPlan {
    pub fn new(sigs: Vec<Signature>, have_sha256: bool) -> SigPlan {
        let mut contexts: Vec<hash::Context> = Vec::new();
        // Contexts are shared between signatures with the same version, algorithm and salt.
        let mut keys: Vec<(u8, HashAlgorithm, Vec<u8>)> = Vec::new();
        let sigs = sigs
            .into_iter()
            .map(|sig| {
                let route = match (sig.version(), sig.hash_algo()) {
                    (4, HashAlgorithm::SHA512) => Route::Sha512,
                    (4, HashAlgorithm::SHA256) if have_sha256 => Route::Sha256,
                    (version, algo) => {
                        let salt = match &sig {
                            Signature::V6(s) => s.salt().to_vec(),
                            _ => Vec::new(),
                        };
                        let key = (version, algo, salt);
                        match keys.iter().position(|k| *k == key) {
                            Some(i) => Route::Context(i),
                            None => match algo.context() {
                                Ok(builder) => {
                                    let mut ctx = builder.for_signature(version);
                                    // RFC 9580 §5.2.4: a v6 signature's salt is hashed first.
                                    ctx.update(&key.2);
                                    contexts.push(ctx);
                                    keys.push(key);
                                    Route::Context(contexts.len() - 1)
                                }
                                Err(e) => {
                                    Route::Unsupported(format!("its hash algorithm {algo} is not supported: {e}"))
                                }
                            },
                        }
                    }
                };
                (sig, route)
            })
            .collect();
        SigPlan { sigs, contexts }
    }
}

/// The bytes a v4 signature appends to the data before finalizing (RFC 9580 §5.2.4):
/// version, type, public-key algorithm, hash algorithm, hashed-subpacket length and data,
/// then `0x04 0xFF` and the four-byte big-endian length of what came before.
pub(crate) fn v4_trailer(sig: &Signature) -> Result<Vec<u8>, String> {
    let area = sig.hashed_area().to_vec().map_err(|e| e.to_string())?;
    let area_len = u16::try_from(area.len()).map_err(|_| "hashed subpacket area too large".to_string())?;
    let mut out = Vec::with_capacity(area.len() + 12);
    out.extend_from_slice(&[4, sig.typ().into(), sig.pk_algo().into(), sig.hash_algo().into()]);
    out.extend_from_slice(&area_len.to_be_bytes());
    out.extend_from_slice(&area);
    let hashed_len = (6 + area.len()) as u32;
    out.extend_from_slice(&[4, 0xFF]);
    out.extend_from_slice(&hashed_len.to_be_bytes());
    Ok(out)
}

/// Finalizes a clone of a sequoia context with the signature appended (any version).
pub(crate) fn context_digest(ctx: &hash::Context, sig: &Signature) -> Result<Vec<u8>, String> {
    let mut ctx = ctx.clone();
    openpgp::crypto::hash::Hash::hash(sig, &mut ctx).map_err(|e| e.to_string())?;
    ctx.into_digest().map_err(|e| e.to_string())
}

fn handle_hex(h: &KeyHandle) -> String {
    match h {
        KeyHandle::Fingerprint(fp) => fp.to_hex(),
        KeyHandle::KeyID(id) => id.to_hex(),
    }
}

fn fingerprint(fp: &Fingerprint) -> Option<trs_core::Fingerprint> {
    fp.to_hex().parse().ok()
}

/// The verdict on one signature; ordered from least to most telling for the report.
#[derive(Debug)]
enum Verdict {
    Unsupported(String),
    UnknownKey(String),
    KeyNotValid(String),
    Bad(String),
    Good(String, Signer),
}

impl Verdict {
    fn rank(&self) -> u8 {
        match self {
            Verdict::Unsupported(_) => 0,
            Verdict::UnknownKey(_) => 1,
            Verdict::KeyNotValid(_) => 2,
            Verdict::Bad(_) => 3,
            Verdict::Good(..) => 4,
        }
    }
}

pub(crate) const TAMPERED: &str = "bad signature: the file does not match (tampered?)";

/// Judges every signature of the `.asc` against its computed digest and returns the
/// signature check results. One signature (the usual case), or none good: one result, the
/// verdict or the most telling failure (a mismatching digest beats an unknown key). Several
/// signatures with at least one good (release managers co-signing): one result per
/// signature, so every signer is reported — a pass per good signature, a failure per bad one
/// (the file does not match it, or its key was revoked or expired: a problem even beside a
/// good one), a warning per signature by a key the project does not hold or in a form trs
/// cannot check.
pub(crate) fn judge(
    sigs: &[(Signature, Result<Vec<u8>, String>)],
    signers: &[SignerCert],
    policy_time: SystemTime,
) -> Vec<CheckResult> {
    // trs's one OpenPGP policy, at the time the release is judged: a SHA-1 self-signature
    // binds a key (as GnuPG accepts), a SHA-1 or MD5 signature over an artifact proves nothing.
    let policy = trs_auth::policy::at(Some(policy_time));
    let verdicts: Vec<Verdict> =
        sigs.iter().map(|(sig, digest)| judge_one(sig, digest, signers, &policy, policy_time)).collect();
    let any_good = verdicts.iter().any(|v| matches!(v, Verdict::Good(..)));
    if verdicts.len() > 1 && any_good {
        return verdicts
            .into_iter()
            .map(|v| match v {
                Verdict::Good(reason, signer) => {
                    CheckResult { signer: Some(signer), ..CheckResult::pass(CheckKind::Signature, reason) }
                }
                Verdict::Bad(r) | Verdict::KeyNotValid(r) => CheckResult::fail(CheckKind::Signature, r),
                Verdict::UnknownKey(r) | Verdict::Unsupported(r) => CheckResult::warn(CheckKind::Signature, r),
            })
            .collect();
    }
    vec![match verdicts.into_iter().max_by_key(Verdict::rank) {
        Some(Verdict::Good(reason, signer)) => {
            CheckResult { signer: Some(signer), ..CheckResult::pass(CheckKind::Signature, reason) }
        }
        Some(Verdict::Bad(r) | Verdict::KeyNotValid(r) | Verdict::UnknownKey(r) | Verdict::Unsupported(r)) => {
            CheckResult::fail(CheckKind::Signature, r)
        }
        None => CheckResult::fail(CheckKind::Signature, "the signature file holds no signature"),
    }]
}

fn judge_one(
    sig: &Signature,
    digest: &Result<Vec<u8>, String>,
    signers: &[SignerCert],
    policy: &StandardPolicy<'_>,
    policy_time: SystemTime,
) -> Verdict {
    let issuers = sig.get_issuers();
    let issuer_text = issuers.first().map(handle_hex).unwrap_or_else(|| "(no issuer given)".into());
    // Candidate keys: those named as issuer; every key if the signature names none
    // (`gpg --throw-keyids`).
    let mut candidates = Vec::new();
    for sc in signers {
        let keys: Vec<_> = if issuers.is_empty() {
            sc.cert.keys().collect()
        } else {
            sc.cert.keys().key_handles(issuers.iter()).collect()
        };
        for ka in keys {
            candidates.push((sc, ka.key().clone()));
        }
    }
    if candidates.is_empty() {
        return Verdict::UnknownKey(format!(
            "signed by key {issuer_text} which is not registered to any member, committer or release manager of the project"
        ));
    }
    let digest = match digest {
        Ok(d) => d,
        Err(e) => return Verdict::Unsupported(format!("cannot check the signature by {issuer_text}: {e}")),
    };
    if sig.typ() != SignatureType::Binary {
        // Text signatures hash line-ending-normalized text; release artifacts are binary.
        return Verdict::Unsupported(format!(
            "the signature by {issuer_text} is a {} signature; sign files with `gpg --detach-sign` in binary mode",
            sig.typ()
        ));
    }
    // The two digest bytes in the signature tell a mismatch without the public-key operation.
    if digest.get(..2) != Some(&sig.digest_prefix()[..]) {
        return Verdict::Bad(TAMPERED.into());
    }
    let Some((sc, key)) = candidates.into_iter().find(|(_, key)| sig.verify_digest(key, digest).is_ok()) else {
        return Verdict::Bad(TAMPERED.into());
    };
    let signing_fpr = key.fingerprint();
    let primary_fpr = sc.cert.fingerprint();
    let fpr_text = primary_fpr.to_hex();
    let Some(created) = sig.signature_creation_time() else {
        return Verdict::KeyNotValid("the signature has no creation time".into());
    };
    if created > policy_time + CLOCK_SKEW {
        return Verdict::KeyNotValid(format!("the signature by {fpr_text} is dated in the future"));
    }
    if let Err(e) = policy.signature(sig, HashAlgoSecurity::CollisionResistance) {
        return Verdict::KeyNotValid(format!("the signature by {fpr_text} is not acceptable: {e}"));
    }
    if sig.signature_alive(policy_time, CLOCK_SKEW).is_err() {
        return Verdict::KeyNotValid(format!("the signature by {fpr_text} has expired"));
    }
    // Everything about the key is judged at the moment of signing.
    let vc = match sc.cert.with_policy(policy, created) {
        Ok(vc) => vc,
        Err(e) => return Verdict::KeyNotValid(format!("key {fpr_text} was not valid at signing time: {e}")),
    };
    if let RevocationStatus::Revoked(_) = vc.revocation_status() {
        return Verdict::KeyNotValid(format!("key {fpr_text} was revoked at signing time"));
    }
    if vc.alive().is_err() {
        return Verdict::KeyNotValid(format!("key {fpr_text} was expired at signing time"));
    }
    let Some(vka) = vc.keys().key_handle(signing_fpr.clone()).next() else {
        return Verdict::KeyNotValid(format!(
            "signing key {} was not validly bound to {fpr_text} at signing time",
            signing_fpr.to_hex()
        ));
    };
    if let RevocationStatus::Revoked(_) = vka.revocation_status() {
        return Verdict::KeyNotValid(format!("key {} was revoked at signing time", signing_fpr.to_hex()));
    }
    if vka.alive().is_err() {
        return Verdict::KeyNotValid(format!("key {} was expired at signing time", signing_fpr.to_hex()));
    }
    if !vka.for_signing() {
        return Verdict::KeyNotValid(format!("key {} is not marked for signing", signing_fpr.to_hex()));
    }
    let user_id = vc.primary_userid().ok().map(|u| String::from_utf8_lossy(u.userid().value()).into_owned());
    let Some(fingerprint) = fingerprint(&primary_fpr) else {
        return Verdict::Unsupported(format!("unexpected fingerprint form {fpr_text}"));
    };
    let signer = Signer {
        fingerprint,
        signing_key: (signing_fpr != primary_fpr).then(|| crate::signature::fingerprint(&signing_fpr)).flatten(),
        user_id: user_id.clone(),
        person: sc.person.clone(),
    };
    let uid = user_id.map(|u| format!(" ({u})")).unwrap_or_default();
    Verdict::Good(format!("good signature by {fpr_text}{uid}, registered to {}", sc.person), signer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use openpgp::cert::{CertBuilder, CipherSuite};
    use openpgp::packet::signature::SignatureBuilder;
    use sha2::Digest;

    fn sign(algo: HashAlgorithm) -> (Cert, Signature) {
        let (cert, _) = CertBuilder::new()
            .add_userid("T <t@example.org>")
            .set_cipher_suite(CipherSuite::Cv25519)
            .add_signing_subkey()
            .generate()
            .unwrap();
        let p = StandardPolicy::new();
        let mut kp = cert
            .keys()
            .with_policy(&p, None)
            .secret()
            .for_signing()
            .next()
            .unwrap()
            .key()
            .clone()
            .into_keypair()
            .unwrap();
        let sig =
            SignatureBuilder::new(SignatureType::Binary).set_hash_algo(algo).sign_message(&mut kp, b"data").unwrap();
        (cert, sig)
    }

    #[test]
    fn routes_share_states_where_they_can() {
        let (_, s512) = sign(HashAlgorithm::SHA512);
        let (_, s256) = sign(HashAlgorithm::SHA256);
        let (_, s384) = sign(HashAlgorithm::SHA384);
        let plan = SigPlan::new(vec![s512.clone(), s256.clone(), s384.clone(), s256.clone()], false);
        let routes: Vec<_> = plan.sigs.iter().map(|(_, r)| r.clone()).collect();
        // Both SHA-256 signatures share one context.
        assert_eq!(routes, vec![Route::Sha512, Route::Context(0), Route::Context(1), Route::Context(0)]);
        assert_eq!(plan.contexts.len(), 2);
        let plan = SigPlan::new(vec![s256], true);
        assert_eq!(plan.sigs[0].1, Route::Sha256);
    }

    #[test]
    fn our_v4_trailer_gives_sequoias_digest() {
        for algo in [HashAlgorithm::SHA512, HashAlgorithm::SHA256] {
            let (cert, sig) = sign(algo);
            let mut ctx = algo.context().unwrap().for_signature(4);
            ctx.update(b"data");
            let theirs = context_digest(&ctx, &sig).unwrap();
            let trailer = v4_trailer(&sig).unwrap();
            let ours = match algo {
                HashAlgorithm::SHA512 => {
                    sha2::Sha512::new().chain_update(b"data").chain_update(&trailer).finalize().to_vec()
                }
                _ => sha2::Sha256::new().chain_update(b"data").chain_update(&trailer).finalize().to_vec(),
            };
            assert_eq!(ours, theirs);
            assert_eq!(&ours[..2], sig.digest_prefix());
            let signing = cert.keys().subkeys().next().unwrap().key().clone();
            sig.verify_digest(&signing, &ours).unwrap();
        }
    }
}

//! OpenPGP signatures on mail: whether a reply on a list was signed by one of a person's
//! registered keys.
//!
//! Two forms are in use: PGP/MIME (RFC 3156: a `multipart/signed` whose first part, headers
//! included, is signed by the detached signature in the second) and inline "traditional PGP"
//! (the Cleartext Signature Framework of RFC 9580: `-----BEGIN PGP SIGNED MESSAGE-----` in the
//! body). The caller finds the signed bytes in the mail; this module only verifies, under
//! trs's one policy ([`crate::policy`]), at the time it is given.

use sequoia_openpgp as openpgp;

use crate::registered::RegisteredCert;
use openpgp::parse::Parse;
use openpgp::parse::stream::{
    DetachedVerifierBuilder, MessageLayer, MessageStructure, VerificationHelper, VerifierBuilder,
};
use std::io::Read;
use std::time::SystemTime;
use trs_core::Fingerprint;

/// A signature found in a mail.
#[derive(Debug, Clone, Copy)]
pub enum MailSignature<'a> {
    /// PGP/MIME: the signed part exactly as it is framed (CRLF line ends), and the signature.
    Detached { data: &'a [u8], signature: &'a [u8] },
    /// An inline clear-signed block, from `-----BEGIN PGP SIGNED MESSAGE-----` to the end of
    /// its signature.
    Cleartext(&'a [u8]),
}

/// A signature that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailSigner {
    /// The primary fingerprint of the certificate whose key made the signature.
    pub fingerprint: Fingerprint,
    /// For a clear-signed block: the text it signs (what the reply says, as signed).
    pub signed_text: Option<String>,
    /// The signature's creation time, as the signature states it (signed, unlike the mail's
    /// `Date` header).
    pub signed_at: SystemTime,
}

struct Helper<'a> {
    certs: &'a [&'a RegisteredCert],
    good: Option<(openpgp::Fingerprint, SystemTime)>,
}

impl VerificationHelper for Helper<'_> {
    fn get_certs(&mut self, _ids: &[openpgp::KeyHandle]) -> openpgp::Result<Vec<openpgp::Cert>> {
        Ok(self.certs.iter().map(|c| c.cert().clone()).collect())
    }

    fn check(&mut self, structure: MessageStructure) -> openpgp::Result<()> {
        for layer in structure {
            if let MessageLayer::SignatureGroup { results } = layer {
                // One good signature by one of the person's keys is enough; the others (a
                // co-signer we do not know) neither help nor harm.
                if let Some(good) = results.into_iter().flatten().next() {
                    let made = good.sig.signature_creation_time().unwrap_or(std::time::UNIX_EPOCH);
                    self.good = Some((good.ka.cert().fingerprint(), made));
                    return Ok(());
                }
            }
        }
        Err(openpgp::Error::InvalidOperation("no signature by the sender's registered keys verifies".into()).into())
    }
}

/// Verifies `signature` against the certificates (a person's registered keys) at `at`: the
/// signing key must be valid, unrevoked and signing-capable then, under trs's policy.
pub fn verify_mail_signature(
    signature: MailSignature<'_>,
    certs: &[&RegisteredCert],
    at: SystemTime,
) -> Result<MailSigner, String> {
    let policy = &*crate::policy::POLICY;
    let helper = Helper { certs, good: None };
    let (helper, signed_text) = match signature {
        MailSignature::Detached { data, signature } => {
            let mut v = DetachedVerifierBuilder::from_bytes(signature)
                .map_err(|e| format!("the signature part is not an OpenPGP signature: {e}"))?
                .with_policy(policy, Some(at), helper)
                .map_err(|e| format!("{e:#}"))?;
            v.verify_bytes(data).map_err(|e| format!("{e:#}"))?;
            (v.into_helper(), None)
        }
        MailSignature::Cleartext(block) => {
            let mut v = VerifierBuilder::from_bytes(block)
                .map_err(|e| format!("the signed block is not an OpenPGP message: {e}"))?
                .with_policy(policy, Some(at), helper)
                .map_err(|e| format!("{e:#}"))?;
            let mut text = Vec::new();
            v.read_to_end(&mut text).map_err(|e| format!("{e:#}"))?;
            if !v.message_processed() {
                return Err("the signed block is incomplete".into());
            }
            (v.into_helper(), Some(String::from_utf8_lossy(&text).into_owned()))
        }
    };
    let (good, signed_at) =
        helper.good.ok_or_else(|| "no signature by the sender's registered keys verifies".to_string())?;
    let fingerprint = crate::pgp::fpr(&good).ok_or_else(|| "unsupported key version".to_string())?;
    Ok(MailSigner { fingerprint, signed_text, signed_at })
}

//! The one OpenPGP policy of trs: which algorithms and hashes make a signature acceptable.
//! Defined here once and handed explicitly to every verification (certificate registration,
//! KEYS summaries, signed API calls here; release signatures in trs-checks), so the rules
//! cannot differ between what a key may do and what its signatures prove.
//!
//! It is sequoia's standard policy with one relaxation, as GnuPG has: a **self-signature**
//! (the key holder's own binding of a user id or subkey, over data only the holder chose) may
//! use SHA-1. Such certificates are common among long-lived keys (one in five of a real
//! project's KEYS file) and GnuPG accepts them; trs registers them with a warning
//! ([`weak_self_signatures`]) asking the holder to refresh the key. Everything that needs a
//! collision-resistant hash stays refused: a **document signature** (a release artifact's
//! `.asc`, a signed API call) or a third-party certification made with SHA-1 or MD5.
//! See docs/security.md.

use sequoia_openpgp as openpgp;

use openpgp::policy::{HashAlgoSecurity, StandardPolicy};
use openpgp::types::HashAlgorithm;
use std::sync::LazyLock;
use std::time::SystemTime;

/// trs's policy evaluated at `time` (`None`: the moment of each check). Use [`POLICY`] for
/// "now"; a reference time is for judging what was valid then (a release signature at the
/// time of its verification).
pub fn at(time: Option<SystemTime>) -> StandardPolicy<'static> {
    let mut policy = match time {
        Some(t) => StandardPolicy::at(t),
        None => StandardPolicy::new(),
    };
    // sequoia stopped accepting SHA-1 even where only second-preimage resistance is needed
    // (self-signatures) on 2023-02-01; GnuPG did not. No SHA-1 second preimage is known.
    policy.accept_hash_property(HashAlgorithm::SHA1, HashAlgoSecurity::SecondPreImageResistance);
    policy
}

/// [`at`]`(None)`: the policy every check "now" uses.
pub static POLICY: LazyLock<StandardPolicy<'static>> = LazyLock::new(|| at(None));

/// The warning for a certificate whose valid self-signatures use a hash that only trs's
/// relaxation accepts (SHA-1), with what to do about it; `None` for a healthy certificate.
pub fn weak_self_signatures(cert: &openpgp::Cert, now: SystemTime) -> Option<String> {
    let vc = cert.with_policy(&*POLICY, now).ok()?;
    let mut sigs = Vec::new();
    if let Ok(sig) = vc.direct_key_signature() {
        sigs.push(sig);
    }
    sigs.extend(vc.userids().map(|u| u.binding_signature()));
    sigs.extend(vc.keys().subkeys().map(|k| k.binding_signature()));
    let weak = sigs.iter().filter(|s| s.hash_algo() == HashAlgorithm::SHA1).count();
    (weak > 0).then(|| {
        let fpr = cert.fingerprint().to_hex();
        format!(
            "{weak} of its {} self-signatures use SHA-1, which other OpenPGP tools refuse; refresh the key with a current GnuPG (gpg --quick-set-expire {fpr} 2y; gpg --quick-set-expire {fpr} 2y '*') and register it again (trs keys add)",
            sigs.len()
        )
    })
}

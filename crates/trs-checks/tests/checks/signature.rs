//! Signature check outcomes, with signatures made by real GnuPG where a user would make them
//! and by sequoia where GnuPG refuses (signing with an expired key, v6 keys).

use crate::common::{Gpg, Release, assert_outcome};
use openpgp::cert::{CertBuilder, CipherSuite};
use openpgp::packet::signature::SignatureBuilder;
use openpgp::policy::StandardPolicy;
use openpgp::serialize::SerializeInto;
use openpgp::types::SignatureType;
use sequoia_openpgp as openpgp;
use std::time::{Duration, SystemTime};
use trs_checks::SignerCert;
use trs_core::{CheckKind, Outcome};

const NAME: &str = "apache-foo-1.0.0.bin";

fn release_with_file() -> Release {
    let r = Release::new();
    let data: Vec<u8> = (0..300_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8).collect();
    r.write(NAME, &data);
    r.sha512sum(NAME);
    r
}

#[test]
fn good_armored_ed25519_signature_by_gnupg() {
    let gpg = Gpg::new("Alice Tester <alice@example.org>", "ed25519");
    let r = release_with_file();
    gpg.sign(&r.path(NAME), &["--armor"]);
    assert!(String::from_utf8_lossy(&r.read(&format!("{NAME}.asc"))).starts_with("-----BEGIN PGP SIGNATURE-----"));
    let fc = r.verify(NAME, &gpg.signers("alice"));
    let c = assert_outcome(&fc, CheckKind::Signature, Outcome::Pass, &format!("good signature by {}", gpg.fpr));
    assert!(c.reason.contains("(Alice Tester <alice@example.org>), registered to alice"), "{}", c.reason);
    let signer = c.signer.unwrap();
    assert_eq!(signer.fingerprint.as_str(), gpg.fpr);
    assert_eq!(signer.person, "alice");
    assert_eq!(signer.user_id.as_deref(), Some("Alice Tester <alice@example.org>"));
    assert_outcome(&fc, CheckKind::Checksum, Outcome::Pass, &format!("SHA-512 in {NAME}.sha512 matches"));
    assert!(fc.storage_matches);
}

#[test]
fn good_binary_rsa3072_signature_by_gnupg() {
    let gpg = Gpg::new("Rob RSA <rob@example.org>", "rsa3072");
    let r = release_with_file();
    gpg.sign(&r.path(NAME), &[]);
    assert!(!r.read(&format!("{NAME}.asc")).starts_with(b"-----"), "binary signature");
    let fc = r.verify(NAME, &gpg.signers("rob"));
    assert_outcome(&fc, CheckKind::Signature, Outcome::Pass, "registered to rob");
}

#[test]
fn sha256_signature_verifies_through_the_fallback_context() {
    let gpg = Gpg::new("Sam <sam@example.org>", "ed25519");
    let r = release_with_file();
    gpg.sign(&r.path(NAME), &["--armor", "--digest-algo", "SHA256"]);
    let sigs = trs_checks::signature::parse_detached(&r.read(&format!("{NAME}.asc"))).unwrap();
    assert_eq!(sigs[0].hash_algo(), openpgp::types::HashAlgorithm::SHA256);
    // No .sha256 beside it: SHA-256 comes from a sequoia context fed in the same pass.
    let fc = r.verify(NAME, &gpg.signers("sam"));
    assert_outcome(&fc, CheckKind::Signature, Outcome::Pass, "good signature");
    // With a .sha256 beside it, the shared SHA-256 state is used instead; still good.
    let out = r.sh("sha256sum", &[NAME]);
    r.write(&format!("{NAME}.sha256"), out.as_bytes());
    let fc = r.verify(NAME, &gpg.signers("sam"));
    assert_outcome(&fc, CheckKind::Signature, Outcome::Pass, "good signature");
    let sums: Vec<_> = fc.checks.iter().filter(|c| c.check == CheckKind::Checksum).collect();
    assert_eq!(sums.len(), 2, "{sums:?}");
    assert!(sums.iter().all(|c| c.result == Outcome::Pass), "{sums:?}");
}

#[test]
fn signature_by_an_unregistered_key_names_the_key() {
    let signer = Gpg::new("Mallory <m@example.org>", "ed25519");
    let registered = Gpg::new("Alice <alice@example.org>", "ed25519");
    let r = release_with_file();
    signer.sign(&r.path(NAME), &["--armor"]);
    let fc = r.verify(NAME, &registered.signers("alice"));
    let c = assert_outcome(
        &fc,
        CheckKind::Signature,
        Outcome::Fail,
        "which is not registered to any member, committer or release manager",
    );
    assert!(c.reason.contains(&signer.fpr), "{}", c.reason);
}

#[test]
fn tampered_file_is_a_bad_signature() {
    let gpg = Gpg::new("Alice <alice@example.org>", "ed25519");
    let r = release_with_file();
    gpg.sign(&r.path(NAME), &["--armor"]);
    let mut data = r.read(NAME);
    data[1000] ^= 1;
    r.write(NAME, &data);
    let fc = r.verify(NAME, &gpg.signers("alice"));
    assert_outcome(&fc, CheckKind::Signature, Outcome::Fail, "bad signature: the file does not match (tampered?)");
    assert_outcome(&fc, CheckKind::Checksum, Outcome::Fail, "does not match the file");
}

#[test]
fn missing_and_garbage_signatures() {
    let gpg = Gpg::new("Alice <alice@example.org>", "ed25519");
    let r = release_with_file();
    let fc = r.verify(NAME, &gpg.signers("alice"));
    assert_outcome(&fc, CheckKind::Signature, Outcome::Fail, &format!("no {NAME}.asc beside it"));
    r.write(&format!("{NAME}.asc"), b"this is not a signature\n");
    let fc = r.verify(NAME, &gpg.signers("alice"));
    assert_outcome(&fc, CheckKind::Signature, Outcome::Fail, "signature is not valid OpenPGP: ");
    // A public key where the signature should be.
    r.write(&format!("{NAME}.asc"), &gpg.export());
    let fc = r.verify(NAME, &gpg.signers("alice"));
    assert_outcome(&fc, CheckKind::Signature, Outcome::Fail, "signature is not valid OpenPGP: ");
}

#[test]
fn key_revoked_with_gnupgs_revocation_certificate() {
    let gpg = Gpg::new("Alice <alice@example.org>", "ed25519");
    let r = release_with_file();
    gpg.sign(&r.path(NAME), &["--armor"]);
    // GnuPG stores a revocation certificate with a ':' guarding its armor line.
    let rev_path = gpg.home.path().join("openpgp-revocs.d").join(format!("{}.rev", gpg.fpr));
    let rev = std::fs::read_to_string(&rev_path).unwrap().replace(":-----BEGIN", "-----BEGIN");
    let rev_file = gpg.home.path().join("rev.asc");
    std::fs::write(&rev_file, rev).unwrap();
    gpg.gpg(&["--import", rev_file.to_str().unwrap()]);
    let fc = r.verify(NAME, &gpg.signers("alice"));
    assert_outcome(&fc, CheckKind::Signature, Outcome::Fail, &format!("key {} was revoked at signing time", gpg.fpr));
}

/// A sequoia signature over `data` made at `when`.
fn sequoia_sign(cert: &openpgp::Cert, data: &[u8], when: SystemTime) -> Vec<u8> {
    let policy = StandardPolicy::new();
    let mut keypair = cert
        .keys()
        .secret()
        .with_policy(&policy, cert.primary_key().key().creation_time())
        .for_signing()
        .next()
        .unwrap()
        .key()
        .clone()
        .into_keypair()
        .unwrap();
    let sig = SignatureBuilder::new(SignatureType::Binary)
        .set_signature_creation_time(when)
        .unwrap()
        .sign_message(&mut keypair, data)
        .unwrap();
    openpgp::Packet::from(sig).to_vec().unwrap()
}

#[test]
fn key_expired_at_signing_time() {
    let now = SystemTime::now();
    let created = now - Duration::from_secs(10 * 86400);
    let (cert, _) = CertBuilder::new()
        .add_userid("Old <old@example.org>")
        .set_cipher_suite(CipherSuite::Cv25519)
        .set_creation_time(created)
        .set_validity_period(Duration::from_secs(86400))
        .add_signing_subkey()
        .generate()
        .unwrap();
    let r = release_with_file();
    r.write(&format!("{NAME}.asc"), &sequoia_sign(&cert, &r.read(NAME), now - Duration::from_secs(2 * 86400)));
    let signers = vec![SignerCert { person: "old".into(), cert: cert.clone().strip_secret_key_material() }];
    let fc = r.verify(NAME, &signers);
    assert_outcome(&fc, CheckKind::Signature, Outcome::Fail, "was expired at signing time");
    // Signed while the key was valid: good, even though it has expired since.
    r.write(&format!("{NAME}.asc"), &sequoia_sign(&cert, &r.read(NAME), created + Duration::from_secs(3600)));
    let fc = r.verify(NAME, &signers);
    let c = assert_outcome(&fc, CheckKind::Signature, Outcome::Pass, "good signature");
    // Signed by the subkey: reported as the signing key.
    let signer = c.signer.unwrap();
    assert_eq!(signer.fingerprint.as_str(), cert.fingerprint().to_hex());
    assert!(signer.signing_key.is_some_and(|k| k.as_str() != cert.fingerprint().to_hex()));
}

#[test]
fn v6_signature_verifies_through_the_salted_fallback_context() {
    let (cert, _) = CertBuilder::new()
        .set_profile(openpgp::Profile::RFC9580)
        .unwrap()
        .add_userid("Six <six@example.org>")
        .add_signing_subkey()
        .generate()
        .unwrap();
    let r = release_with_file();
    let created = cert.primary_key().key().creation_time() + Duration::from_secs(1);
    let sig = sequoia_sign(&cert, &r.read(NAME), created.max(SystemTime::now()));
    assert_eq!(trs_checks::signature::parse_detached(&sig).unwrap()[0].version(), 6);
    r.write(&format!("{NAME}.asc"), &sig);
    let signers = vec![SignerCert { person: "six".into(), cert: cert.strip_secret_key_material() }];
    let fc = r.verify(NAME, &signers);
    assert_outcome(&fc, CheckKind::Signature, Outcome::Pass, "registered to six");
    let mut data = r.read(NAME);
    data[0] ^= 0xFF;
    r.write(NAME, &data);
    let fc = r.verify(NAME, &signers);
    assert_outcome(&fc, CheckKind::Signature, Outcome::Fail, "tampered");
}

/// `gpg --detach-sign` by each of `who`, concatenated into one `.asc` (as co-signing release
/// managers do).
fn cosigned(r: &Release, who: &[&Gpg]) {
    let mut all = Vec::new();
    for g in who {
        g.sign(&r.path(NAME), &["--armor"]);
        all.extend(r.read(&format!("{NAME}.asc")));
    }
    r.write(&format!("{NAME}.asc"), &all);
}

fn signatures(fc: &trs_checks::FileChecks) -> Vec<&trs_core::CheckResult> {
    fc.checks.iter().filter(|c| c.check == CheckKind::Signature).collect()
}

#[test]
fn one_good_signature_among_several_is_enough_and_the_unknown_one_is_reported() {
    let a = Gpg::new("A <a@example.org>", "ed25519");
    let b = Gpg::new("B <b@example.org>", "ed25519");
    let r = release_with_file();
    cosigned(&r, &[&a, &b]);
    // Only b is registered.
    let fc = r.verify(NAME, &b.signers("bee"));
    let sigs = signatures(&fc);
    assert_eq!(sigs.len(), 2, "{sigs:#?}");
    let good: Vec<_> = sigs.iter().filter(|c| c.result == Outcome::Pass).collect();
    assert_eq!(good.len(), 1);
    assert_eq!(good[0].signer.as_ref().unwrap().fingerprint.as_str(), b.fpr);
    let unknown = sigs.iter().find(|c| c.result == Outcome::Warn).expect("the unregistered co-signer is reported");
    assert!(unknown.reason.contains("not registered"), "{}", unknown.reason);
    assert!(sigs.iter().all(|c| c.result != Outcome::Fail));
}

#[test]
fn every_signer_of_a_cosigned_file_is_reported() {
    let a = Gpg::new("A <a@example.org>", "ed25519");
    let b = Gpg::new("B <b@example.org>", "rsa3072");
    let c = Gpg::new("C <c@example.org>", "ed25519");
    let r = release_with_file();
    cosigned(&r, &[&a, &b, &c]);
    let mut signers = a.signers("ada");
    signers.extend(b.signers("bob"));
    signers.extend(c.signers("cy"));
    let fc = r.verify(NAME, &signers);
    let sigs = signatures(&fc);
    assert!(sigs.iter().all(|c| c.result == Outcome::Pass), "{sigs:#?}");
    let mut people: Vec<&str> = sigs.iter().map(|c| c.signer.as_ref().unwrap().person.as_str()).collect();
    people.sort();
    assert_eq!(people, ["ada", "bob", "cy"]);
}

#[test]
fn a_bad_signature_beside_a_good_one_fails_the_file() {
    let a = Gpg::new("A <a@example.org>", "ed25519");
    let b = Gpg::new("B <b@example.org>", "ed25519");
    let r = release_with_file();
    a.sign(&r.path(NAME), &["--armor"]);
    let good = r.read(&format!("{NAME}.asc"));
    // b signed other bytes: its signature does not match this file.
    r.write("other", b"other bytes");
    b.sign(&r.path("other"), &["--armor"]);
    let mut both = good;
    both.extend(r.read("other.asc"));
    r.write(&format!("{NAME}.asc"), &both);
    let mut signers = a.signers("ada");
    signers.extend(b.signers("bob"));
    let fc = r.verify(NAME, &signers);
    let sigs = signatures(&fc);
    assert_eq!(sigs.len(), 2, "{sigs:#?}");
    assert!(sigs.iter().any(|c| c.result == Outcome::Pass && c.signer.as_ref().unwrap().person == "ada"));
    let bad = sigs.iter().find(|c| c.result == Outcome::Fail).expect("the bad signature fails");
    assert!(bad.reason.contains("tampered"), "{}", bad.reason);
}

#[test]
fn a_key_self_signed_with_sha1_signs_releases_but_a_sha1_or_md5_release_signature_is_refused() {
    // Issue 14 item 5: one in five keys of a real KEYS file carries SHA-1 self-signatures;
    // GnuPG accepts them, so trs does (docs/security.md), but a signature over an artifact
    // must still use a collision-resistant hash.
    let gpg = Gpg::new_with("Old Key <old@example.org>", "rsa3072", &["--cert-digest-algo", "SHA1"]);
    let cert = gpg.signers("old").remove(0).cert;
    assert!(cert.with_policy(&StandardPolicy::new(), None).is_err(), "sequoia's standard policy refuses this key");
    let r = release_with_file();
    gpg.sign(&r.path(NAME), &["--digest-algo", "SHA256"]);
    let fc = r.verify(NAME, &gpg.signers("old"));
    assert_outcome(&fc, CheckKind::Signature, Outcome::Pass, &format!("good signature by {}", gpg.fpr));
    gpg.sign(&r.path(NAME), &["--digest-algo", "SHA1"]);
    let fc = r.verify(NAME, &gpg.signers("old"));
    assert_outcome(&fc, CheckKind::Signature, Outcome::Fail, "is not acceptable");
    // MD5 (GnuPG still makes such signatures, with a warning) is refused the same way.
    gpg.sign(&r.path(NAME), &["--digest-algo", "MD5"]);
    let fc = r.verify(NAME, &gpg.signers("old"));
    assert_outcome(&fc, CheckKind::Signature, Outcome::Fail, "is not acceptable");
}

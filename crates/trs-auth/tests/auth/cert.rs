//! Certificate registration checks.

use crate::common::*;
use sequoia_openpgp as openpgp;

use openpgp::cert::prelude::*;
use openpgp::packet::signature::SignatureBuilder;
use openpgp::serialize::SerializeInto;
use openpgp::types::ReasonForRevocation;
use std::time::{Duration, SystemTime};
use trs_auth::{CertError, validate_certificate};

#[test]
fn good_certificate_is_accepted_and_summarised() {
    let cert = gen_cert(CipherSuite::Cv25519, "Alice <alice@example.org>");
    let armored = public_armored(&cert);
    let v = validate_certificate(armored.as_bytes(), SystemTime::now()).unwrap();
    assert_eq!(v.fingerprint.as_str(), cert.fingerprint().to_hex());
    assert_eq!(v.user_ids, vec!["Alice <alice@example.org>".to_string()]);
    assert_eq!(v.primary_user_id.as_deref(), Some("Alice <alice@example.org>"));
    let subkey = cert.keys().subkeys().next().unwrap().key().fingerprint().to_hex();
    assert_eq!(v.signing_keys.iter().map(|f| f.as_str().to_string()).collect::<Vec<_>>(), vec![subkey]);
    assert!(v.armored.starts_with("-----BEGIN PGP PUBLIC KEY BLOCK-----"));
    // The re-armored cert is the same certificate.
    let again = validate_certificate(v.armored.as_bytes(), SystemTime::now()).unwrap();
    assert_eq!(again, v);
}

#[test]
fn binary_certificate_is_accepted() {
    let cert = gen_cert(CipherSuite::RSA3k, "Bob <bob@example.org>");
    let binary = cert.clone().strip_secret_key_material().to_vec().unwrap();
    let v = validate_certificate(&binary, SystemTime::now()).unwrap();
    assert_eq!(v.fingerprint.as_str(), cert.fingerprint().to_hex());
    assert!(v.armored.contains("BEGIN PGP PUBLIC KEY BLOCK"));
}

#[test]
fn revoked_certificate_is_refused_with_reason() {
    let cert = gen_cert(CipherSuite::Cv25519, "Carol <carol@example.org>");
    let revoked = revoke(&cert, ReasonForRevocation::KeyCompromised, b"lost laptop");
    let err = validate_certificate(public_armored(&revoked).as_bytes(), SystemTime::now()).unwrap_err();
    assert!(matches!(err, CertError::Revoked { .. }), "{err:?}");
    assert_eq!(err.code(), "cert-revoked");
    assert!(err.to_string().contains("lost laptop"), "{err}");
}

#[test]
fn expired_certificate_is_refused() {
    let day = Duration::from_secs(86_400);
    let (cert, _) = CertBuilder::new()
        .add_userid("Dave <dave@example.org>")
        .add_signing_subkey()
        .set_creation_time(SystemTime::now() - 3 * day)
        .set_validity_period(day)
        .generate()
        .unwrap();
    let err = validate_certificate(public_armored(&cert).as_bytes(), SystemTime::now()).unwrap_err();
    assert!(matches!(err, CertError::Expired { .. }), "{err:?}");
    assert!(err.to_string().contains("expired on"), "{err}");
    // It was fine while it lived.
    assert!(validate_certificate(public_armored(&cert).as_bytes(), SystemTime::now() - 5 * day / 2).is_ok());
}

#[test]
fn encryption_only_certificate_has_no_signing_key() {
    let (cert, _) =
        CertBuilder::new().add_userid("Eve <eve@example.org>").add_transport_encryption_subkey().generate().unwrap();
    let err = validate_certificate(public_armored(&cert).as_bytes(), SystemTime::now()).unwrap_err();
    assert!(matches!(err, CertError::NoSigningKey { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains("not signing-capable"), "{msg}");
}

#[test]
fn secret_key_is_refused() {
    let cert = gen_cert(CipherSuite::Cv25519, "Frank <frank@example.org>");
    let err = validate_certificate(secret_armored(&cert).as_bytes(), SystemTime::now()).unwrap_err();
    assert_eq!(err, CertError::SecretKey);
    assert_eq!(err.to_string(), "this is a secret key; export the public key with gpg --export --armor");
}

#[test]
fn garbage_and_empty_input_are_refused() {
    let err = validate_certificate(b"hello, I am not a key", SystemTime::now()).unwrap_err();
    assert!(matches!(err, CertError::Unparseable(_)), "{err:?}");
    let err = validate_certificate(
        b"-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n-----END PGP PUBLIC KEY BLOCK-----\n",
        SystemTime::now(),
    )
    .unwrap_err();
    assert!(matches!(err, CertError::Unparseable(_)), "{err:?}");
    assert_eq!(validate_certificate(b"  \n", SystemTime::now()).unwrap_err(), CertError::Empty);
}

#[test]
fn keyring_with_several_certificates_is_refused() {
    let a = gen_cert(CipherSuite::Cv25519, "A <a@example.org>");
    let b = gen_cert(CipherSuite::Cv25519, "B <b@example.org>");
    // Two armor blocks pasted together (what copying a KEYS file gives).
    let two_blocks = format!("{}\n{}", public_armored(&a), public_armored(&b));
    let err = validate_certificate(two_blocks.as_bytes(), SystemTime::now()).unwrap_err();
    assert_eq!(err, CertError::MultipleCertificates(2));
    assert_eq!(err.to_string(), "contains 2 certificates; register one at a time");
    // A binary keyring.
    let mut ring = a.clone().strip_secret_key_material().to_vec().unwrap();
    ring.extend(b.clone().strip_secret_key_material().to_vec().unwrap());
    assert_eq!(validate_certificate(&ring, SystemTime::now()).unwrap_err(), CertError::MultipleCertificates(2));
}

/// `cert` with `n` more user ids, each `len` bytes long, bound by its primary key.
fn with_user_ids(cert: &openpgp::Cert, n: usize, len: usize, tag: &str) -> openpgp::Cert {
    let mut signer = cert.primary_key().key().clone().parts_into_secret().unwrap().into_keypair().unwrap();
    let mut packets: Vec<openpgp::Packet> = Vec::new();
    for i in 0..n {
        let text = format!("{tag} {i} <{tag}{i}@example.org> {}", "x".repeat(len.saturating_sub(40)));
        let uid = openpgp::packet::UserID::from(text);
        let sig = uid
            .bind(&mut signer, cert, SignatureBuilder::new(openpgp::types::SignatureType::PositiveCertification))
            .unwrap();
        packets.push(uid.into());
        packets.push(sig.into());
    }
    cert.clone().insert_packets(packets).unwrap().0
}

#[test]
fn too_many_user_ids_or_too_many_bytes_are_refused_at_registration() {
    // Issue 13 item 3: the review registered a 155 KB certificate with 300 user ids.
    let cert = gen_cert(CipherSuite::Cv25519, "Alice <alice@example.org>");
    let fine = with_user_ids(&cert, 10, 60, "ok");
    assert!(validate_certificate(public_armored(&fine).as_bytes(), SystemTime::now()).is_ok());

    let many = with_user_ids(&cert, trs_auth::MAX_USER_IDS, 60, "many");
    let err = validate_certificate(public_armored(&many).as_bytes(), SystemTime::now()).unwrap_err();
    assert!(matches!(err, CertError::TooManyUserIds { count: 65, max: 64, merged: false }), "{err:?}");
    assert_eq!(err.code(), "cert-too-many-user-ids");
    assert!(err.to_string().contains("at most 64"), "{err}");

    // 40 user ids of 4 KB each: few enough ids, too many bytes.
    let big = with_user_ids(&cert, 40, 4000, "big");
    let err = validate_certificate(public_armored(&big).as_bytes(), SystemTime::now()).unwrap_err();
    assert!(matches!(err, CertError::TooLarge { merged: false, .. }), "{err:?}");
    assert_eq!(err.code(), "cert-too-large");
    // Far too big to be worth parsing.
    let err = validate_certificate(&vec![b'A'; 3 * trs_auth::MAX_CERT_BYTES], SystemTime::now()).unwrap_err();
    assert!(matches!(err, CertError::TooLarge { .. }), "{err:?}");
}

#[test]
fn a_merge_that_would_exceed_the_caps_is_refused_and_the_stored_copy_stays() {
    // The review grew a registered certificate from 129 KB to 258 KB in two `keys add` calls.
    let cert = gen_cert(CipherSuite::Cv25519, "Alice <alice@example.org>");
    let stored = public_armored(&with_user_ids(&cert, 40, 60, "first"));
    // An update holding 30 other user ids: each copy is within the caps, the union is not.
    let bare =
        openpgp::Cert::from_packets(std::iter::once(openpgp::Packet::from(cert.primary_key().key().clone()))).unwrap();
    let update = with_user_ids(&bare, 30, 60, "second");
    let update = public_armored(&update);
    let err = trs_auth::merge_certificate_update(&stored, update.as_bytes()).unwrap_err();
    assert!(matches!(err, CertError::TooManyUserIds { count: 71, merged: true, .. }), "{err:?}");
    assert!(err.to_string().contains("once merged"), "{err}");
    // A small update (a renewal) still merges.
    let renewal = public_armored(&with_user_ids(&bare, 2, 60, "renewed"));
    assert!(trs_auth::merge_certificate_update(&stored, renewal.as_bytes()).is_ok());
}

#[test]
fn the_cert_cache_parses_each_stored_text_once() {
    let cert = gen_cert(CipherSuite::Cv25519, "Alice <alice@example.org>");
    let fpr: trs_core::Fingerprint = cert.fingerprint().to_hex().parse().unwrap();
    let stored = public_armored(&cert);
    let cache = trs_auth::CertCache::new(8);
    for _ in 0..5 {
        cache.get(&fpr, &stored).unwrap();
    }
    assert_eq!(cache.parses(), 1, "one parse for five requests");
    // An updated stored copy (a merge) is a new text: parsed afresh, never the stale one.
    let updated = public_armored(&with_user_ids(&cert, 1, 60, "new"));
    cache.get(&fpr, &updated).unwrap();
    assert_eq!(cache.parses(), 2);
    cache.get(&fpr, &updated).unwrap();
    assert_eq!(cache.parses(), 2);
    // An unreadable stored copy is an unknown key for the caller, not a crash.
    let err = cache.get(&fpr, "garbage").unwrap_err();
    assert_eq!(err.code(), "unknown-key");
}

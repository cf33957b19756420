//! Certificate registration checks.

use crate::common::*;
use sequoia_openpgp as openpgp;

use openpgp::cert::prelude::*;
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

//! Key-file signer: loading, passphrases, key choice.

use crate::common::*;
use sequoia_openpgp as openpgp;

use openpgp::cert::prelude::*;
use openpgp::crypto::Password;
use trs_auth::*;

#[test]
fn key_file_signer_uses_the_primary_fingerprint_and_a_signing_subkey() {
    let dir = tempfile::tempdir().unwrap();
    let cert = gen_cert(CipherSuite::Cv25519, "A <a@example.org>");
    let path = write_tsk(dir.path(), &cert);
    let signer = KeyFileSigner::load_with_passphrase(&path, None).unwrap();
    assert_eq!(signer.fingerprint().as_str(), cert.fingerprint().to_hex());
    let sub = cert.keys().subkeys().next().unwrap().key().fingerprint().to_hex();
    assert_eq!(signer.signing_key().unwrap().as_str(), sub);
}

#[test]
fn public_key_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cert = gen_cert(CipherSuite::Cv25519, "A <a@example.org>");
    let path = dir.path().join("pub.asc");
    std::fs::write(&path, public_armored(&cert)).unwrap();
    let err = KeyFileSigner::load_with_passphrase(&path, None).unwrap_err();
    assert_eq!(err, SignError::NotASecretKey(path.clone()));
    let err = KeyFileSigner::load_with_passphrase(&dir.path().join("missing.asc"), None).unwrap_err();
    assert!(matches!(err, SignError::Io { .. }), "{err:?}");
}

#[test]
fn encrypted_key_file_needs_the_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, _) = CertBuilder::new()
        .add_userid("Locked <l@example.org>")
        .add_signing_subkey()
        .set_password(Some(Password::from("correct horse")))
        .generate()
        .unwrap();
    let path = write_tsk(dir.path(), &cert);
    let err = KeyFileSigner::load_with_passphrase(&path, None).unwrap_err();
    assert_eq!(err, SignError::Encrypted);
    assert_eq!(err.to_string(), "key is encrypted; set TRS_KEY_PASSPHRASE or use --gpg-key");
    let err = KeyFileSigner::load_with_passphrase(&path, Some("wrong")).unwrap_err();
    assert!(matches!(err, SignError::WrongPassphrase(_)), "{err:?}");

    let signer = KeyFileSigner::load_with_passphrase(&path, Some("correct horse")).unwrap();
    let now = now_unix();
    let h = sign_request(&signer, &audience(), "POST", "/x", None, b"body", now).unwrap();
    verify(&h, "POST", "/x", None, b"body", now, &public_armored(&cert)).unwrap();
    // `load` reads TRS_KEY_PASSPHRASE; unless the environment sets it, it refuses the same way.
    if std::env::var_os("TRS_KEY_PASSPHRASE").is_none() {
        assert_eq!(KeyFileSigner::load(&path).unwrap_err(), SignError::Encrypted);
    }
}

#[test]
fn request_lines_http_cannot_carry_are_not_signed() {
    let cert = gen_cert(CipherSuite::Cv25519, "A <a@example.org>");
    let signer = KeyFileSigner::from_cert(&cert, None).unwrap();
    for (m, p, q) in [("GET", "x", None), ("GE T", "/x", None), ("GET", "/x\n", None), ("GET", "/x", Some("a b"))] {
        let err = sign_request(&signer, &audience(), m, p, q, b"", 1).unwrap_err();
        assert!(matches!(err, SignError::InvalidRequest(_)), "{m:?} {p:?} {q:?}: {err:?}");
    }
}

//! The signed-request scheme: canonical string, headers, and every rejection.

use crate::common::*;
use sequoia_openpgp as openpgp;

use openpgp::cert::prelude::*;
use openpgp::types::ReasonForRevocation;
use std::collections::HashMap;
use std::time::{Duration, SystemTime};
use trs_auth::request::body_sha256_hex;
use trs_auth::*;

const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

#[test]
fn canonical_string_is_exactly_specified() {
    let s = canonical_string(
        "https://trs.example.org",
        "post",
        "/api/v1/projects/foo/releases/1.0.0%2Brc1/upload",
        Some("mode=append&x=%20"),
        1_700_000_000,
        "00112233445566778899aabbccddeeff",
        EMPTY_SHA256,
    );
    assert_eq!(
        s,
        "TRS-REQUEST-V2\nhttps://trs.example.org\nPOST\n/api/v1/projects/foo/releases/1.0.0%2Brc1/upload\nmode=append&x=%20\n1700000000\n\
         00112233445566778899aabbccddeeff\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    let no_query = canonical_string("a", "GET", "/x", None, 5, "00112233445566778899aabbccddeeff", EMPTY_SHA256);
    assert_eq!(
        no_query,
        canonical_string("a", "GET", "/x", Some(""), 5, "00112233445566778899aabbccddeeff", EMPTY_SHA256)
    );
    assert!(no_query.contains("\n/x\n\n5\n"));
    assert!(!no_query.ends_with('\n'));
    assert_eq!(body_sha256_hex(b""), EMPTY_SHA256);
}

fn lookup<'a>(pairs: &'a [(&'static str, String)]) -> impl Fn(&str) -> Option<String> + 'a {
    move |name: &str| pairs.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone())
}

fn signed(cert: &openpgp::Cert, method: &str, path: &str, query: Option<&str>, body: &[u8], t: i64) -> SignedHeaders {
    let signer = KeyFileSigner::from_cert(cert, None).unwrap();
    sign_request(&signer, &audience(), method, path, query, body, t).unwrap()
}

/// Headers survive the trip through HTTP (to_pairs -> from_header_lookup).
fn over_the_wire(h: &SignedHeaders) -> SignedHeaders {
    let pairs = h.to_pairs();
    SignedHeaders::from_header_lookup(lookup(&pairs)).unwrap()
}

fn round_trip(suite: CipherSuite) {
    let cert = gen_cert(suite, "Alice <alice@example.org>");
    let public = public_armored(&cert);
    let now = now_unix();
    let body = b"{\"files\":[\"a.tar.gz\"]}";
    let h = over_the_wire(&signed(&cert, "POST", "/api/v1/foo/releases", Some("a=1&b=%2F"), body, now));
    assert_eq!(h.nonce.len(), 32);
    let v = verify(&h, "POST", "/api/v1/foo/releases", Some("a=1&b=%2F"), body, now + 5, &public).unwrap();
    assert_eq!(v.fingerprint.as_str(), cert.fingerprint().to_hex());
    let subkey = cert.keys().subkeys().next().unwrap().key().fingerprint().to_hex();
    assert_eq!(v.signing_key.as_str(), subkey);
    // Lower-case method from the HTTP layer canonicalises the same way.
    assert!(verify(&h, "post", "/api/v1/foo/releases", Some("a=1&b=%2F"), body, now, &public).is_ok());
}

#[test]
fn round_trip_ed25519() {
    round_trip(CipherSuite::Cv25519);
}

#[test]
fn round_trip_rsa3072() {
    round_trip(CipherSuite::RSA3k);
}

#[test]
fn nonces_are_fresh() {
    let cert = gen_cert(CipherSuite::Cv25519, "A <a@example.org>");
    let a = signed(&cert, "GET", "/x", None, b"", 1);
    let b = signed(&cert, "GET", "/x", None, b"", 1);
    assert_ne!(a.nonce, b.nonce);
    assert!(a.nonce.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')));
    assert_eq!(a.content_sha256, EMPTY_SHA256);
}

#[test]
fn tampered_body_is_rejected() {
    let cert = gen_cert(CipherSuite::Cv25519, "A <a@example.org>");
    let public = public_armored(&cert);
    let now = now_unix();
    let h = signed(&cert, "PUT", "/f", None, b"original", now);
    let err = verify(&h, "PUT", "/f", None, b"tampered", now, &public).unwrap_err();
    assert!(matches!(err, AuthError::BodyHashMismatch { .. }), "{err:?}");
    assert_eq!(err.code(), "body-hash-mismatch");
    // Tampering body and hash header together breaks the signature instead.
    let mut h2 = h.clone();
    h2.content_sha256 = body_sha256_hex(b"tampered");
    let err = verify(&h2, "PUT", "/f", None, b"tampered", now, &public).unwrap_err();
    assert_eq!(err.code(), "bad-signature", "{err:?}");
}

#[test]
fn tampered_request_line_or_headers_are_rejected() {
    let cert = gen_cert(CipherSuite::Cv25519, "A <a@example.org>");
    let public = public_armored(&cert);
    let now = now_unix();
    let h = signed(&cert, "POST", "/api/v1/foo/promote", Some("v=1"), b"", now);
    let bad = |m: &str, p: &str, q: Option<&str>, h: &SignedHeaders| verify(h, m, p, q, b"", now, &public).unwrap_err();
    assert_eq!(bad("POST", "/api/v1/bar/promote", Some("v=1"), &h).code(), "bad-signature");
    assert_eq!(bad("POST", "/api/v1/foo/promote", Some("v=2"), &h).code(), "bad-signature");
    assert_eq!(bad("POST", "/api/v1/foo/promote", None, &h).code(), "bad-signature");
    assert_eq!(bad("DELETE", "/api/v1/foo/promote", Some("v=1"), &h).code(), "bad-signature");
    let mut other_nonce = h.clone();
    other_nonce.nonce = "ffffffffffffffffffffffffffffffff".into();
    assert_eq!(bad("POST", "/api/v1/foo/promote", Some("v=1"), &other_nonce).code(), "bad-signature");
    let mut other_time = h.clone();
    other_time.timestamp += 1;
    assert_eq!(bad("POST", "/api/v1/foo/promote", Some("v=1"), &other_time).code(), "bad-signature");
    let mut garbage = h.clone();
    garbage.signature = b"not a signature".to_vec();
    let err = bad("POST", "/api/v1/foo/promote", Some("v=1"), &garbage);
    assert!(matches!(err, AuthError::BadSignature(_)), "{err:?}");
    // Request lines that HTTP could not carry.
    assert_eq!(bad("POST", "/api/v1/foo/promote\nx", Some("v=1"), &h).code(), "malformed-request");
}

#[test]
fn timestamp_window_is_300_seconds() {
    let cert = gen_cert(CipherSuite::Cv25519, "A <a@example.org>");
    let public = public_armored(&cert);
    let now = now_unix();
    // Client clock behind / ahead of the server by the timestamp's offset.
    let at = |offset: i64| {
        let h = signed(&cert, "GET", "/x", None, b"", now + offset);
        verify(&h, "GET", "/x", None, b"", now, &public)
    };
    assert!(at(-300).is_ok());
    assert!(at(300).is_ok());
    let err = at(-301).unwrap_err();
    assert_eq!(err, AuthError::TimestampOutOfWindow { skew: 301 });
    assert_eq!(err.code(), "timestamp-out-of-window");
    assert_eq!(at(301).unwrap_err(), AuthError::TimestampOutOfWindow { skew: -301 });
    // A request replayed 301 s after it was made.
    let h = signed(&cert, "GET", "/x", None, b"", now);
    let err = verify(&h, "GET", "/x", None, b"", now + 301, &public).unwrap_err();
    assert_eq!(err, AuthError::TimestampOutOfWindow { skew: 301 });
}

#[test]
fn signature_by_another_key_is_rejected() {
    let alice = gen_cert(CipherSuite::Cv25519, "Alice <alice@example.org>");
    let mallory = gen_cert(CipherSuite::Cv25519, "Mallory <m@example.org>");
    let now = now_unix();
    // Mallory signs, but claims to be Alice.
    let mut h = signed(&mallory, "POST", "/x", None, b"", now);
    h.key = alice.fingerprint().to_hex().parse().unwrap();
    let err = verify(&h, "POST", "/x", None, b"", now, &public_armored(&alice)).unwrap_err();
    assert!(matches!(err, AuthError::BadSignature(ref m) if m.contains("not a key of certificate")), "{err:?}");
    // Claiming Mallory's key but the service looked up Alice's cert: unknown key.
    let h = signed(&mallory, "POST", "/x", None, b"", now);
    let err = verify(&h, "POST", "/x", None, b"", now, &public_armored(&alice)).unwrap_err();
    assert_eq!(err.code(), "unknown-key");
}

#[test]
fn certificate_expired_since_registration_is_rejected() {
    let hour = Duration::from_secs(3600);
    let (cert, _) = CertBuilder::new()
        .add_userid("Dave <dave@example.org>")
        .add_signing_subkey()
        .set_creation_time(SystemTime::now() - Duration::from_secs(60))
        .set_validity_period(hour)
        .generate()
        .unwrap();
    let public = public_armored(&cert);
    // Registered fine today.
    assert!(validate_certificate(public.as_bytes(), SystemTime::now()).is_ok());
    // Two hours later (signature made now, with a clock two hours ahead): the key has expired.
    let later = now_unix() + 7200;
    let h = signed(&cert, "POST", "/x", None, b"", later);
    let err = verify(&h, "POST", "/x", None, b"", later, &public).unwrap_err();
    assert!(matches!(err, AuthError::KeyExpired { .. }), "{err:?}");
    assert_eq!(err.code(), "key-expired");
    assert_eq!(err.status(), 401);
}

#[test]
fn certificate_revoked_since_registration_is_rejected() {
    let cert = gen_cert(CipherSuite::Cv25519, "Carol <carol@example.org>");
    let now = now_unix();
    let h = signed(&cert, "POST", "/x", None, b"", now);
    let revoked = revoke(&cert, ReasonForRevocation::KeyRetired, b"moved to a new key");
    let err = verify(&h, "POST", "/x", None, b"", now, &public_armored(&revoked)).unwrap_err();
    assert!(
        matches!(err, AuthError::KeyRevoked { ref reason, .. } if reason.contains("moved to a new key")),
        "{err:?}"
    );
    assert_eq!(err.code(), "key-revoked");
}

#[test]
fn headers_missing_or_malformed_are_rejected_distinctly() {
    let cert = gen_cert(CipherSuite::Cv25519, "A <a@example.org>");
    let good = signed(&cert, "GET", "/x", None, b"", 1_700_000_000).to_pairs();
    for name in [HEADER_KEY, HEADER_TIMESTAMP, HEADER_NONCE, HEADER_CONTENT_SHA256, HEADER_SIGNATURE] {
        let without: Vec<_> = good.iter().filter(|(k, _)| *k != name).cloned().collect();
        let err = SignedHeaders::from_header_lookup(lookup(&without)).unwrap_err();
        assert_eq!(err, AuthError::MissingHeader(name));
        assert_eq!(err.code(), "missing-header");
    }
    let with = |name: &str, value: &str| -> AuthError {
        let map: HashMap<String, String> = good
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), if *k == name { value.to_string() } else { v.clone() }))
            .collect();
        SignedHeaders::from_header_lookup(|n| map.get(&n.to_ascii_lowercase()).cloned()).unwrap_err()
    };
    for (name, value) in [
        (HEADER_KEY, "1234"),
        (HEADER_KEY, "0x1234567890ABCDEF1234567890ABCDEF12345678"),
        (HEADER_TIMESTAMP, "-5"),
        (HEADER_TIMESTAMP, "01700000000"),
        (HEADER_TIMESTAMP, "17e8"),
        (HEADER_NONCE, "00112233445566778899AABBCCDDEEFF"),
        (HEADER_NONCE, "0011"),
        (HEADER_CONTENT_SHA256, &EMPTY_SHA256.to_ascii_uppercase()),
        (HEADER_SIGNATURE, "!!!not base64!!!"),
        (HEADER_SIGNATURE, ""),
    ] {
        let err = with(name, value);
        assert!(
            matches!(err, AuthError::MalformedHeader { header, .. } if header == name),
            "{name}={value:?} gave {err:?}"
        );
        assert_eq!(err.code(), "malformed-header");
    }
    // Surrounding whitespace is HTTP's, not ours.
    let padded: Vec<_> = good.iter().map(|(k, v)| (*k, format!(" {v}\t"))).collect();
    assert!(SignedHeaders::from_header_lookup(lookup(&padded)).is_ok());
}

#[test]
fn every_error_is_a_401_with_a_stable_code() {
    let fpr: trs_core::Fingerprint = "1234567890ABCDEF1234567890ABCDEF12345678".parse().unwrap();
    let all = [
        (AuthError::MissingHeader(HEADER_KEY), "missing-header"),
        (AuthError::MalformedHeader { header: HEADER_NONCE, reason: "x".into() }, "malformed-header"),
        (AuthError::MalformedRequest("x".into()), "malformed-request"),
        (AuthError::BodyHashMismatch { header: "a".into(), actual: "b".into() }, "body-hash-mismatch"),
        (AuthError::TimestampOutOfWindow { skew: 999 }, "timestamp-out-of-window"),
        (AuthError::UnknownKey("x".into()), "unknown-key"),
        (AuthError::ReplayedNonce, "replayed-nonce"),
        (AuthError::BadSignature("x".into()), "bad-signature"),
        (AuthError::KeyExpired { key: fpr.clone(), detail: "x".into() }, "key-expired"),
        (AuthError::KeyRevoked { key: fpr, reason: "x".into() }, "key-revoked"),
    ];
    for (err, code) in all {
        assert_eq!(err.status(), 401);
        assert_eq!(err.code(), code);
        assert!(!err.to_string().is_empty());
    }
}

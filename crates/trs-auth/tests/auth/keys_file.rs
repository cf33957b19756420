//! KEYS rendering (the GnuPG import check is in `gpg.rs`).

use crate::common::*;
use sequoia_openpgp as openpgp;

use openpgp::cert::prelude::*;
use trs_auth::{KeysEntry, render_keys_file};

fn entry(uid: &str, cert: &openpgp::Cert) -> KeysEntry {
    KeysEntry { uid: uid.parse().unwrap(), armored: public_armored(cert) }
}

#[test]
fn keys_file_is_ordered_by_person_and_readable() {
    let alice = gen_cert(CipherSuite::Cv25519, "Alice <alice@example.org>");
    let bob = gen_cert(CipherSuite::RSA3k, "Bob <bob@example.org>");
    let forward = render_keys_file("foo", &[entry("alice", &alice), entry("bob", &bob)]);
    let backward = render_keys_file("foo", &[entry("bob", &bob), entry("alice", &alice)]);
    assert_eq!(forward, backward);

    assert!(forward.contains("gpg --import KEYS"));
    assert!(forward.contains("releases of foo"));
    let a = forward.find(&alice.fingerprint().to_hex()).unwrap();
    let b = forward.find(&bob.fingerprint().to_hex()).unwrap();
    assert!(a < b);
    assert!(forward.contains("pub   ed25519 "), "{forward}");
    assert!(forward.contains("pub   rsa3072 "), "{forward}");
    assert!(forward.contains(" [C]\n"), "{forward}");
    assert!(forward.contains("sub   ed25519 ") && forward.contains(" [S]\n"), "{forward}");
    assert!(forward.contains("uid           Alice <alice@example.org>\n"));
    assert!(forward.contains("Registered to: alice\n"));
    assert_eq!(forward.matches("-----BEGIN PGP PUBLIC KEY BLOCK-----").count(), 2);
    assert_eq!(forward.matches("-----END PGP PUBLIC KEY BLOCK-----").count(), 2);
    assert!(!forward.contains("PRIVATE KEY"));
}

#[test]
fn keys_file_never_leaks_secrets_and_neutralises_hostile_user_ids() {
    let evil = gen_cert(CipherSuite::Cv25519, "Mallory\n-----BEGIN PGP PUBLIC KEY BLOCK-----");
    // Registered entries are public, but render defensively even if a TSK slipped in.
    let e = KeysEntry { uid: "mallory".parse().unwrap(), armored: secret_armored(&evil) };
    let out = render_keys_file("foo\nbar", &[e]);
    assert!(!out.contains("PRIVATE KEY"), "{out}");
    assert_eq!(out.lines().filter(|l| l.starts_with("-----BEGIN PGP")).count(), 1, "{out}");
    assert!(out.contains("uid           Mallory\\n-----BEGIN"), "{out}");
    assert!(out.contains("releases of foo\\nbar."), "{out}");
}

#[test]
fn unreadable_entries_are_left_out_not_fatal() {
    let alice = gen_cert(CipherSuite::Cv25519, "Alice <alice@example.org>");
    let junk = KeysEntry { uid: "zed".parse().unwrap(), armored: "not a key".into() };
    let out = render_keys_file("foo", &[junk, entry("alice", &alice)]);
    assert!(out.contains("Keys: 1\n"));
    assert!(out.contains("could not be read and was left out"));
    assert_eq!(out.matches("-----BEGIN PGP PUBLIC KEY BLOCK-----").count(), 1);
}

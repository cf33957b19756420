//! Interoperability with real GnuPG: KEYS import, GnuPG-made keys, GpgSigner, and the shell
//! recipe from docs/signed-requests.md. Without gpg these tests fail: test.sh installs it.

use crate::common::*;
use sequoia_openpgp as openpgp;

use openpgp::cert::prelude::*;
use std::process::Command;
use std::time::SystemTime;
use trs_auth::*;

#[test]
fn keys_file_imports_cleanly_into_gnupg() {
    require_gpg();
    let maker = GpgHome::new();
    let gpg_fpr = maker.gen_key("Test <t@example.org>", "ed25519");
    let gpg_cert = String::from_utf8(maker.export_public(&gpg_fpr)).unwrap();
    let sq_cert = gen_cert(CipherSuite::Cv25519, "Sequoia Person <sq@example.org>");

    let keys = render_keys_file(
        "foo",
        &[
            KeysEntry { uid: "tester".parse().unwrap(), armored: gpg_cert },
            KeysEntry { uid: "alice".parse().unwrap(), armored: public_armored(&sq_cert) },
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let keys_path = dir.path().join("KEYS");
    std::fs::write(&keys_path, &keys).unwrap();

    let reader = GpgHome::new();
    let out = reader.gpg(&["--import", keys_path.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "gpg --import KEYS failed:\n{stderr}\n--- KEYS ---\n{keys}");
    assert!(stderr.contains("imported: 2"), "{stderr}");
    let mut listed = reader.public_fprs();
    listed.sort();
    let mut want = vec![gpg_fpr, sq_cert.fingerprint().to_hex()];
    want.sort();
    assert_eq!(listed, want);
}

#[test]
fn gnupg_made_keys_register_and_sign_requests_via_gpg_signer() {
    require_gpg();
    let home = GpgHome::new();
    for (uid, algo) in [("Ed Person <ed@example.org>", "ed25519"), ("Rsa Person <rsa@example.org>", "rsa3072")] {
        let fpr = home.gen_key(uid, algo);
        let v = validate_certificate(&home.export_public(&fpr), SystemTime::now())
            .unwrap_or_else(|e| panic!("{algo}: {e}"));
        assert_eq!(v.fingerprint.as_str(), fpr);
        assert_eq!(v.user_ids, vec![uid.to_string()]);
        assert_eq!(v.signing_keys, vec![v.fingerprint.clone()], "{algo}: gpg's 'sign' usage signs with the primary");

        // Resolve by e-mail address too: gpg finds the one key.
        let email = uid.split('<').nth(1).unwrap().trim_end_matches('>');
        let signer = GpgSigner::with_gnupghome(email, home.path()).unwrap();
        assert_eq!(signer.fingerprint().as_str(), fpr);

        let now = now_unix();
        let body = b"some upload bytes";
        let h = sign_request(&signer, &audience(), "PUT", "/api/v1/foo/files/a%20b.tar.gz", Some("part=1"), body, now)
            .unwrap();
        let v2 = verify(&h, "PUT", "/api/v1/foo/files/a%20b.tar.gz", Some("part=1"), body, now, &v.armored)
            .unwrap_or_else(|e| panic!("{algo}: {e}"));
        assert_eq!(v2.fingerprint, v.fingerprint);
        let err = verify(&h, "PUT", "/api/v1/foo/files/other", Some("part=1"), body, now, &v.armored).unwrap_err();
        assert_eq!(err.code(), "bad-signature");
    }
    let err = GpgSigner::with_gnupghome("nobody@example.org", home.path()).unwrap_err();
    assert!(matches!(err, SignError::Gpg(_)), "{err:?}");
    // Two keys match "example.org": ambiguous.
    let err = GpgSigner::with_gnupghome("example.org", home.path()).unwrap_err();
    assert!(err.to_string().contains("matches 2 secret keys"), "{err}");
}

/// The shell recipe in docs/signed-requests.md, run verbatim (with `curl` stubbed to print its
/// arguments), must produce headers the server accepts.
#[test]
fn shell_recipe_from_the_docs_produces_a_valid_signature() {
    require_gpg();
    let home = GpgHome::new();
    let fpr = home.gen_key("Shell User <sh@example.org>", "ed25519");
    let cert = validate_certificate(&home.export_public(&fpr), SystemTime::now()).unwrap();
    let recipe = docs_recipe();
    let dir = tempfile::tempdir().unwrap();
    let body_file = dir.path().join("body.json");
    let body = b"{\"vote\":\"+1\"}";
    std::fs::write(&body_file, body).unwrap();

    let cases: [(&str, &str, Option<&str>, bool); 3] = [
        (
            "/api/v1/projects/foo/releases/1.0.0%2Brc1/votes",
            "binding=true&x=%2F",
            Some(body_file.to_str().unwrap()),
            false,
        ),
        ("/api/v1/projects/foo/votes", "", Some(body_file.to_str().unwrap()), true),
        ("/api/v1/projects/foo/releases/1.0.0", "", None, false),
    ];
    for (path, query, body_path, textmode) in cases {
        let script =
            if textmode { recipe.replace("--detach-sign", "--textmode --detach-sign") } else { recipe.clone() };
        let script = format!("set -eu\ncurl() {{ for a in \"$@\"; do printf '%s\\n' \"$a\"; done; }}\n{script}");
        let out = Command::new("sh")
            .arg("-c")
            .arg(&script)
            .env("GNUPGHOME", home.path())
            .env("METHOD", "POST")
            .env("REQ_PATH", path)
            .env("QUERY", query)
            .env("BODY_FILE", body_path.unwrap_or("/dev/null"))
            .env("FPR", &fpr)
            .env("TRS_URL", "https://trs.example.org")
            .env("AUDIENCE", AUDIENCE)
            .output()
            .unwrap();
        assert!(out.status.success(), "recipe failed: {}", String::from_utf8_lossy(&out.stderr));
        let stdout = String::from_utf8(out.stdout).unwrap();
        let header = |name: &str| {
            stdout.lines().find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(": "))).map(str::to_string)
        };
        let h = SignedHeaders::from_header_lookup(header).unwrap_or_else(|e| panic!("{e}\n{stdout}"));
        let url = format!(
            "https://trs.example.org{path}{}",
            if query.is_empty() { String::new() } else { format!("?{query}") }
        );
        assert!(stdout.lines().any(|l| l == url), "{stdout}");
        let q = if query.is_empty() { None } else { Some(query) };
        let sent: &[u8] = if body_path.is_some() { body } else { b"" };
        verify(&h, "POST", path, q, sent, now_unix(), &cert.armored)
            .unwrap_or_else(|e| panic!("{path}?{query} textmode={textmode}: {e}"));
    }
}

fn docs_recipe() -> String {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/signed-requests.md")).unwrap();
    let start = doc.find("<!-- recipe:begin -->\n```sh\n").expect("recipe start marker")
        + "<!-- recipe:begin -->\n```sh\n".len();
    let end = doc.find("```\n<!-- recipe:end -->").expect("recipe end marker");
    doc[start..end].to_string()
}

#[test]
fn docs_worked_example_matches_the_implementation() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/signed-requests.md")).unwrap();
    // The real vote call (crates/trs-api/tests/worked_example.rs holds it to the contract).
    let body = br#"{"value":"+1","comment":"checked signatures"}"#;
    let body_sha = trs_auth::request::body_sha256_hex(body);
    let canon = canonical_string(
        "https://trs.example.org",
        "POST",
        "/api/v1/projects/foo/releases/1.0.0%2Brc1/vote/ballots",
        None,
        1_767_225_600,
        "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        &body_sha,
    );
    assert!(doc.contains(&format!("Trs-Content-SHA256: {body_sha}")));
    assert!(doc.contains(&format!("```text\n{canon}\n```")), "canonical block differs");
    assert!(doc.contains(&format!("{:?}", canon)), "string literal differs");
    assert!(doc.replace('\n', " ").contains(&format!("these {} bytes", canon.len())));
    assert!(doc.contains(&format!("The body is the {} bytes", body.len())));
    use sha2::Digest;
    assert!(doc.contains(&hex::encode(sha2::Sha256::digest(canon.as_bytes()))));
}

#[test]
fn gnupg_secret_export_and_weak_keys_are_refused() {
    require_gpg();
    let home = GpgHome::new();
    let fpr = home.gen_key("Secret <s@example.org>", "ed25519");
    let secret =
        home.gpg_ok(&["--pinentry-mode", "loopback", "--passphrase", "", "--armor", "--export-secret-keys", &fpr]);
    assert_eq!(validate_certificate(&secret, SystemTime::now()).unwrap_err(), CertError::SecretKey);

    let weak = home.gen_key("Weak <w@example.org>", "rsa1024");
    let err = validate_certificate(&home.export_public(&weak), SystemTime::now()).unwrap_err();
    assert!(matches!(err, CertError::PolicyRejected { .. }), "{err:?}");
    assert_eq!(err.code(), "cert-policy-rejected");
}

/// `GpgSigner::new` must use `GNUPGHOME` from the environment. The test process cannot set its
/// own environment safely, so it re-runs this test binary as a child with GNUPGHOME set.
#[test]
fn gpg_signer_new_honours_gnupghome_from_the_environment() {
    if let Ok(fpr) = std::env::var("TRS_AUTH_TEST_CHILD_FPR") {
        let signer = GpgSigner::new(&fpr).unwrap();
        assert_eq!(signer.fingerprint().as_str(), fpr);
        let h = sign_request(&signer, &audience(), "GET", "/x", None, b"", now_unix()).unwrap();
        println!(
            "CHILD-OK {}",
            h.to_pairs().into_iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ")
        );
        return;
    }
    require_gpg();
    let home = GpgHome::new();
    let fpr = home.gen_key("Env <env@example.org>", "ed25519");
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "gpg::gpg_signer_new_honours_gnupghome_from_the_environment", "--nocapture"])
        .env("GNUPGHOME", home.path())
        .env("TRS_AUTH_TEST_CHILD_FPR", &fpr)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("CHILD-OK"),
        "child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Issue 14 item 5: a GnuPG key whose self-signatures use SHA-1 (`--cert-digest-algo SHA1`, as
/// many long-lived keys are) registers, with a warning that KEYS shows too; its signed calls
/// work unless the call's own signature uses SHA-1; refreshing it with a current GnuPG clears
/// the warning.
#[test]
fn a_sha1_self_signed_gnupg_key_registers_with_a_warning_until_refreshed() {
    require_gpg();
    let home = GpgHome::new();
    let unlocked = ["--passphrase", "", "--pinentry-mode", "loopback"];
    let mut args = unlocked.to_vec();
    args.extend(["--cert-digest-algo", "SHA1", "--quick-gen-key", "Old <old@example.org>", "rsa3072", "sign", "never"]);
    home.gpg_ok(&args);
    let fpr = home.public_fprs().pop().unwrap();
    let public = home.export_public(&fpr);
    let parsed = {
        use openpgp::parse::Parse;
        openpgp::Cert::from_bytes(&public).unwrap()
    };
    assert!(
        parsed.with_policy(&openpgp::policy::StandardPolicy::new(), None).is_err(),
        "sequoia's standard policy refuses the key, as the issue reports"
    );

    let v = validate_certificate(&public, SystemTime::now()).unwrap();
    assert_eq!(v.warnings.len(), 1, "{:?}", v.warnings);
    assert!(v.warnings[0].contains("SHA-1") && v.warnings[0].contains("gpg --quick-set-expire"), "{:?}", v.warnings);
    assert_eq!(certificate_warnings(&v.armored, SystemTime::now()), v.warnings);
    let keys = render_keys_file("foo", &[KeysEntry { uid: "old".parse().unwrap(), armored: v.armored.clone() }]);
    assert!(keys.contains("warning       1 of its 1 self-signatures use SHA-1"), "{keys}");

    // Its signed calls verify...
    let signer = GpgSigner::with_gnupghome(&fpr, home.path()).unwrap();
    let h = sign_request(&signer, &audience(), "POST", "/x", None, b"", now_unix()).unwrap();
    verify(&h, "POST", "/x", None, b"", now_unix(), &v.armored).unwrap();
    // ... but not one whose own hash is SHA-1.
    let mut weak = h.clone();
    weak.nonce = "0123456789abcdef0123456789abcdef".into();
    let canonical = canonical_string(AUDIENCE, "POST", "/x", None, weak.timestamp, &weak.nonce, &weak.content_sha256);
    let mut args = unlocked.to_vec();
    args.extend(["--digest-algo", "SHA1", "--local-user", fpr.as_str(), "--detach-sign"]);
    let out = home.gpg_stdin(&args, canonical.as_bytes());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    weak.signature = out.stdout;
    let err = verify(&weak, "POST", "/x", None, b"", now_unix(), &v.armored).unwrap_err();
    assert_eq!(err.code(), "bad-signature", "{err}");
    assert!(err.to_string().contains("policy"), "{err}");

    // The refresh the warning recommends re-signs with a current hash.
    let mut args = unlocked.to_vec();
    args.extend(["--quick-set-expire", fpr.as_str(), "2y"]);
    home.gpg_ok(&args);
    let refreshed = validate_certificate(&home.export_public(&fpr), SystemTime::now()).unwrap();
    assert!(refreshed.warnings.is_empty(), "{:?}", refreshed.warnings);
    let merged = merge_certificate_update(&v.armored, &home.export_public(&fpr)).unwrap();
    assert!(certificate_warnings(&merged, SystemTime::now()).is_empty(), "the merged copy uses the new self-signature");
}

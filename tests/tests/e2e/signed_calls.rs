//! Signed API calls, end to end: every way a request can fail authentication gets its own 401
//! code (docs/signed-requests.md), authorisation failures are 403 `forbidden-role`, and
//! certificates that could not sign validly are refused at registration with a reason.
//! Bad requests are forged with the `trs_auth` crate and sent with reqwest; the happy paths
//! run the real `trs` binary.

use serde_json::{Value, json};
use std::time::Duration;
use trs_auth::RequestSigner;
use trs_tests::*;

const PROJECTS: &str = "/api/v1/projects";
const DAY: Duration = Duration::from_secs(24 * 3600);

fn new_project(name: &str) -> Value {
    json!({"name": name, "members": ["ada"]})
}

fn body(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

/// The project exists iff its KEYS file is served.
fn project_exists(t: &Team, name: &str) -> bool {
    let a = get(&t.server.url, &format!("/api/v1/projects/{name}/KEYS"));
    match a.status {
        200 => true,
        404 => false,
        other => panic!("unexpected answer for the KEYS of {name}: {other} {}", a.text),
    }
}

fn assert_cli_error(out: &std::process::Output, code: &str, http: u16) -> String {
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected exit 1\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        stderr(out)
    );
    let err = stderr(out);
    assert!(err.contains(code), "stderr should name {code}: {err}");
    assert!(err.contains(&format!("(HTTP {http})")), "stderr should give HTTP {http}: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one-line reason expected: {err}");
    err
}

#[test]
fn a_correctly_signed_call_is_accepted() {
    // The baseline the forgeries below deviate from.
    let t = Team::new();
    let a = signed_call(&t.server.url, &t.signer(&t.admin), "POST", PROJECTS, &new_project("bar"));
    assert_eq!(a.status, 201, "{}", a.text);
    assert!(project_exists(&t, "bar"));
}

#[test]
fn a_key_never_registered_is_unknown_key() {
    let t = Team::new();
    let (cert, _) = certs::signing_cert("Nobody <nobody@example.org>", None, None);
    let a = signed_call(&t.server.url, &certs::signer(&cert), "POST", PROJECTS, &new_project("bar"));
    a.assert_error(401, "unknown-key");
    assert!(a.message().contains(&certs::fingerprint(&cert)), "{}", a.text);
    assert!(!project_exists(&t, "bar"));
}

#[test]
fn a_body_changed_after_signing_is_body_hash_mismatch() {
    let t = Team::new();
    let signed = body(&new_project("bar"));
    let headers = sign_now(&t.server.url, &t.signer(&t.admin), "POST", PROJECTS, &signed);
    let sent = body(&json!({"name": "bar", "members": ["ada"], "release_managers": ["ada"]}));
    let a = send_raw(&t.server.url, "POST", PROJECTS, &headers.to_pairs(), sent);
    a.assert_error(401, "body-hash-mismatch");
    assert!(!project_exists(&t, "bar"));
}

#[test]
fn a_signature_over_another_path_is_bad_signature() {
    let t = Team::new();
    let b = body(&new_project("bar"));
    let headers = sign_now(&t.server.url, &t.signer(&t.admin), "POST", "/api/v1/people", &b);
    let a = send_raw(&t.server.url, "POST", PROJECTS, &headers.to_pairs(), b);
    a.assert_error(401, "bad-signature");
    assert!(!project_exists(&t, "bar"));
}

#[test]
fn a_signature_over_another_method_is_bad_signature() {
    let t = Team::new();
    let b = body(&new_project("bar"));
    let headers = sign_now(&t.server.url, &t.signer(&t.admin), "PUT", PROJECTS, &b);
    let a = send_raw(&t.server.url, "POST", PROJECTS, &headers.to_pairs(), b);
    a.assert_error(401, "bad-signature");
    assert!(!project_exists(&t, "bar"));
}

#[test]
fn a_signature_by_another_registered_key_is_bad_signature() {
    // Trs-Key names the admin, but the release manager made the signature.
    let t = Team::new();
    let b = body(&new_project("bar"));
    let mut headers = sign_now(&t.server.url, &t.signer(&t.rm), "POST", PROJECTS, &b);
    headers.key = t.signer(&t.admin).fingerprint().clone();
    let a = send_raw(&t.server.url, "POST", PROJECTS, &headers.to_pairs(), b);
    a.assert_error(401, "bad-signature");
    assert!(!project_exists(&t, "bar"));
}

#[test]
fn a_timestamp_more_than_300_seconds_old_is_out_of_window() {
    let t = Team::new();
    let signer = t.signer(&t.admin);
    let b = body(&new_project("bar"));
    // Well outside the ±300 s window, so the seconds a busy machine takes to deliver the
    // request cannot bring a timestamp back inside it (`trs serve` reads the wall clock).
    let headers =
        trs_auth::sign_request(&signer, &audience(&t.server.url), "POST", PROJECTS, None, &b, unix_now() - 400)
            .unwrap();
    let a = send_raw(&t.server.url, "POST", PROJECTS, &headers.to_pairs(), b.clone());
    a.assert_error(401, "timestamp-out-of-window");
    // The same in the future.
    let headers =
        trs_auth::sign_request(&signer, &audience(&t.server.url), "POST", PROJECTS, None, &b, unix_now() + 400)
            .unwrap();
    let a = send_raw(&t.server.url, "POST", PROJECTS, &headers.to_pairs(), b.clone());
    a.assert_error(401, "timestamp-out-of-window");
    assert!(!project_exists(&t, "bar"));
    // Well inside the window is fine.
    let headers =
        trs_auth::sign_request(&signer, &audience(&t.server.url), "POST", PROJECTS, None, &b, unix_now() - 200)
            .unwrap();
    let a = send_raw(&t.server.url, "POST", PROJECTS, &headers.to_pairs(), b);
    assert_eq!(a.status, 201, "{}", a.text);
}

#[test]
fn the_same_signed_request_twice_is_a_replayed_nonce() {
    let t = Team::new();
    let b = body(&new_project("bar"));
    let headers = sign_now(&t.server.url, &t.signer(&t.admin), "POST", PROJECTS, &b).to_pairs();
    let first = send_raw(&t.server.url, "POST", PROJECTS, &headers, b.clone());
    assert_eq!(first.status, 201, "{}", first.text);
    let second = send_raw(&t.server.url, "POST", PROJECTS, &headers, b);
    second.assert_error(401, "replayed-nonce");
}

#[test]
fn a_replayed_nonce_is_refused_even_with_a_fresh_signature() {
    // Re-signing with the same nonce (a client bug) is refused too: nonces are never reused.
    let t = Team::new();
    let signer = t.signer(&t.admin);
    let b1 = body(&new_project("bar"));
    let first = sign_now(&t.server.url, &signer, "POST", PROJECTS, &b1);
    assert_eq!(send_raw(&t.server.url, "POST", PROJECTS, &first.to_pairs(), b1).status, 201);
    let b2 = body(&new_project("baz"));
    let sha = trs_auth::request::body_sha256_hex(&b2);
    let ts = unix_now();
    let canonical = trs_auth::canonical_string(&first.audience, "POST", PROJECTS, None, ts, &first.nonce, &sha);
    let second = trs_auth::SignedHeaders {
        audience: first.audience.clone(),
        key: first.key.clone(),
        timestamp: ts,
        nonce: first.nonce.clone(),
        content_sha256: sha,
        signature: signer.sign_detached(canonical.as_bytes()).unwrap(),
    };
    let a = send_raw(&t.server.url, "POST", PROJECTS, &second.to_pairs(), b2);
    a.assert_error(401, "replayed-nonce");
    assert!(!project_exists(&t, "baz"));
}

#[test]
fn each_missing_header_is_missing_header() {
    let t = Team::new();
    let signer = t.signer(&t.admin);
    let b = body(&new_project("bar"));
    // No authentication at all.
    send_raw(&t.server.url, "POST", PROJECTS, &[], b.clone()).assert_error(401, "missing-header");
    for dropped in [
        trs_auth::HEADER_KEY,
        trs_auth::HEADER_TIMESTAMP,
        trs_auth::HEADER_NONCE,
        trs_auth::HEADER_CONTENT_SHA256,
        trs_auth::HEADER_SIGNATURE,
    ] {
        let headers: Vec<_> = sign_now(&t.server.url, &signer, "POST", PROJECTS, &b)
            .to_pairs()
            .into_iter()
            .filter(|(k, _)| *k != dropped)
            .collect();
        let a = send_raw(&t.server.url, "POST", PROJECTS, &headers, b.clone());
        a.assert_error(401, "missing-header");
        assert!(a.message().contains(dropped), "the message names {dropped}: {}", a.text);
    }
    assert!(!project_exists(&t, "bar"));
}

#[test]
fn a_malformed_header_is_malformed_header() {
    let t = Team::new();
    let b = body(&new_project("bar"));
    let headers = sign_now(&t.server.url, &t.signer(&t.admin), "POST", PROJECTS, &b);
    // An uppercase nonce is not the canonical form.
    let pairs: Vec<_> = headers
        .to_pairs()
        .into_iter()
        .map(
            |(k, v)| {
                if k == trs_auth::HEADER_NONCE { (k, "0123456789ABCDEF0123456789ABCDEF".to_string()) } else { (k, v) }
            },
        )
        .collect();
    let a = send_raw(&t.server.url, "POST", PROJECTS, &pairs, b);
    a.assert_error(401, "malformed-header");
    assert!(!project_exists(&t, "bar"));
}

#[test]
fn a_committer_cannot_upload() {
    let t = Team::new();
    let carl = t.add_gpg_person("carl");
    ok(&t.as_admin(&[
        "project",
        "create",
        "bar",
        "--members",
        "ada",
        "--committers",
        "carl",
        "--release-managers",
        "rita",
    ]));
    let file = t.file("RELEASE-NOTES.txt", b"notes\n");
    let files = t.signed_set(&file);
    let out = t.as_key(&carl, &args_with(&["upload", "bar", "1.0.0"], &files));
    assert_cli_error(&out, "forbidden-role", 403);
    let status = t.anonymous(&["status", "bar", "1.0.0"]);
    assert_cli_error(&status, "not-found", 404);
    // The release manager of the same project may.
    ok(&t.as_rm(&args_with(&["upload", "bar", "1.0.0"], &files)));
}

#[test]
fn a_non_admin_cannot_add_a_person() {
    let t = Team::new();
    let (cert, _) = certs::signing_cert("Eve <eve@example.org>", None, None);
    let path = t.path("eve.asc");
    certs::write_public(&cert, &path);
    let out = t.as_rm(&["person", "add", "eve", path.to_str().unwrap()]);
    assert_cli_error(&out, "forbidden-role", 403);
    // Nothing was stored: the admin can register the same uid and key afterwards.
    ok(&t.as_admin(&["person", "add", "eve", path.to_str().unwrap()]));
}

#[test]
fn a_non_admin_cannot_create_a_project_via_the_api() {
    let t = Team::new();
    let a = signed_call(&t.server.url, &t.signer(&t.rm), "POST", PROJECTS, &new_project("bar"));
    a.assert_error(403, "forbidden-role");
    assert!(!project_exists(&t, "bar"));
}

#[test]
fn a_key_that_expired_after_registration_is_key_expired() {
    let t = Team::new();
    let (cert, _) = certs::signing_cert("Shorty <shorty@example.org>", None, Some(DAY));
    let path = t.path("shorty.asc");
    certs::write_public(&cert, &path);
    ok(&t.as_admin(&["person", "add", "shorty", path.to_str().unwrap()]));
    let signer = certs::signer(&cert);

    // While valid, the key authenticates (the call is then refused for the role, not the key).
    let a = signed_call(&t.server.url, &signer, "POST", PROJECTS, &new_project("bar"));
    a.assert_error(403, "forbidden-role");

    // Two days on, on the server's clock and in the call's timestamp: the key expired a day
    // ago, however long the steps above took.
    t.server.clock.advance(2 * DAY.as_secs() as i64);
    let a = signed_call_at(&t.server.url, &signer, "POST", PROJECTS, &new_project("bar"), t.server.clock.now());
    a.assert_error(401, "key-expired");
    assert!(a.message().contains(&certs::fingerprint(&cert)) || a.message().contains("expired"), "{}", a.text);
}

fn refused_registration(t: &Team, uid: &str, cert_file: &std::path::Path, why: &str) {
    let out = t.as_admin(&["person", "add", uid, cert_file.to_str().unwrap()]);
    let err = assert_cli_error(&out, "invalid-certificate", 400);
    assert!(err.to_lowercase().contains(why), "the reason should say {why:?}: {err}");
    // Nothing was stored under that uid: a good certificate registers afterwards.
    let (good, _) = certs::signing_cert(&format!("{uid} <{uid}@example.org>"), None, None);
    let good_file = t.path(&format!("{uid}-good.asc"));
    certs::write_public(&good, &good_file);
    ok(&t.as_admin(&["person", "add", uid, good_file.to_str().unwrap()]));
}

#[test]
fn registering_a_revoked_certificate_is_refused() {
    let t = Team::new();
    let (cert, revocation) = certs::signing_cert("Rev <rev@example.org>", None, None);
    let path = t.path("revoked.asc");
    certs::write_public(&certs::revoked(cert, revocation), &path);
    refused_registration(&t, "rev", &path, "revoked");
}

#[test]
fn registering_an_expired_certificate_is_refused() {
    let t = Team::new();
    let ten_days_ago = certs::now_to_the_second() - 10 * DAY;
    let (cert, _) = certs::signing_cert("Old <old@example.org>", Some(ten_days_ago), Some(DAY));
    let path = t.path("expired.asc");
    certs::write_public(&cert, &path);
    refused_registration(&t, "old", &path, "expired");
}

#[test]
fn registering_an_encryption_only_certificate_is_refused() {
    let t = Team::new();
    let cert = certs::encryption_only_cert("Enc <enc@example.org>");
    let path = t.path("enc.asc");
    certs::write_public(&cert, &path);
    refused_registration(&t, "enc", &path, "no key that can sign");
}

#[test]
fn registering_a_secret_key_is_refused() {
    let t = Team::new();
    let fpr = t.gpg.gen_key("Sec <sec@example.org>", "ed25519");
    let path = t.path("sec-secret.asc");
    t.gpg.export_secret(&fpr, &path);
    refused_registration(&t, "sec", &path, "secret key");
}

#[test]
fn a_secret_key_file_exported_by_gpg_signs_a_full_upload() {
    let t = Team::new();
    let key = t.path("rita-secret.asc");
    t.gpg.export_secret(&t.rm, &key);
    let file = source_tarball(t.work.path(), "apache-foo-1.0.0-src.tar.gz", "apache-foo-1.0.0");
    let files = t.signed_set(&file);
    // No GnuPG for the API calls: only the key file.
    let out = t.server.trs(
        &t.gpg,
        &[],
        &args_with(&["--key", key.to_str().unwrap(), "upload", "foo", "1.0.0", "--json"], &files),
    );
    ok(&out);
    let status = stdout_json(&out)["status"].clone();
    assert_eq!(status["revision"], 1);
    assert_eq!(status["uploaded_by"], "rita");
    assert_eq!(status["summary"]["fail"], 0, "{status:#}");
    // TRS_KEY works the same, and TRS_UID naming the key's owner is accepted.
    let notes = t.file("RELEASE-NOTES.txt", b"notes\n");
    let more = t.signed_set(&notes);
    let out = t.server.trs(
        &t.gpg,
        &[("TRS_KEY", key.to_str().unwrap()), ("TRS_UID", "rita")],
        &args_with(&["upload", "foo", "1.0.0", "--json"], &more),
    );
    ok(&out);
    assert_eq!(stdout_json(&out)["status"]["revision"], 2);
}

#[test]
fn a_public_key_file_cannot_sign() {
    let t = Team::new();
    let key = t.path("rita-public.asc");
    t.gpg.export_public(&t.rm, &key);
    let file = t.file("RELEASE-NOTES.txt", b"notes\n");
    let files = t.signed_set(&file);
    let out =
        t.server.trs(&t.gpg, &[], &args_with(&["--key", key.to_str().unwrap(), "upload", "foo", "1.0.0"], &files));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("public key only"), "{}", stderr(&out));
    t.assert_no_release();
}

#[test]
fn a_uid_that_does_not_own_the_key_is_uid_mismatch() {
    let t = Team::new();
    let file = t.file("RELEASE-NOTES.txt", b"notes\n");
    let files = t.signed_set(&file);
    let out = t.as_rm(&args_with(&["--uid", "ada", "upload", "foo", "1.0.0"], &files));
    let err = assert_cli_error(&out, "uid-mismatch", 401);
    assert!(err.contains("rita"), "names the key's owner: {err}");
    t.assert_no_release();
}

#[test]
fn a_request_that_failed_authentication_does_not_use_up_its_nonce() {
    // The nonce is recorded only after the signature verifies, so whoever sees a request in
    // flight cannot block it by sending garbage with its nonce first.
    let t = Team::new();
    let b = body(&new_project("bar"));
    let headers = sign_now(&t.server.url, &t.signer(&t.admin), "POST", PROJECTS, &b).to_pairs();
    send_raw(&t.server.url, "POST", PROJECTS, &headers, body(&new_project("evil")))
        .assert_error(401, "body-hash-mismatch");
    send_raw(&t.server.url, "POST", "/api/v1/people", &headers, b.clone()).assert_error(401, "bad-signature");
    let a = send_raw(&t.server.url, "POST", PROJECTS, &headers, b);
    assert_eq!(a.status, 201, "the genuine request still goes through: {}", a.text);
    assert!(project_exists(&t, "bar") && !project_exists(&t, "evil"));
}

#[test]
fn the_first_failing_check_decides_the_code() {
    // The cheap checks (audience, timestamp: no store read, no public-key operation) come
    // before the key lookup, the body hash and the signature (docs/signed-requests.md).
    let t = Team::new();
    let admin = t.signer(&t.admin);
    let b = body(&new_project("bar"));
    let old = unix_now() - 1000;
    let here = audience(&t.server.url);
    let elsewhere: trs_auth::Audience = "https://staging.trs.example.org".parse().unwrap();
    let (stranger, _) = certs::signing_cert("Nobody <nobody@example.org>", None, None);
    let stranger = certs::signer(&stranger);
    // wrong-audience (3) before timestamp (5) and unknown-key (6).
    let h = trs_auth::sign_request(&stranger, &elsewhere, "POST", PROJECTS, None, &b, old).unwrap();
    send_raw(&t.server.url, "POST", PROJECTS, &h.to_pairs(), b.clone()).assert_error(401, "wrong-audience");
    // timestamp (5) before unknown-key (6).
    let h = trs_auth::sign_request(&stranger, &here, "POST", PROJECTS, None, &b, old).unwrap();
    send_raw(&t.server.url, "POST", PROJECTS, &h.to_pairs(), b.clone()).assert_error(401, "timestamp-out-of-window");
    // unknown-key (6) before body-hash-mismatch (7).
    let h = trs_auth::sign_request(&stranger, &here, "POST", PROJECTS, None, &b, unix_now()).unwrap();
    send_raw(&t.server.url, "POST", PROJECTS, &h.to_pairs(), body(&new_project("baz")))
        .assert_error(401, "unknown-key");
    // body-hash-mismatch (7) before signature (8).
    let h = trs_auth::sign_request(&admin, &here, "POST", "/api/v1/people", None, &b, unix_now()).unwrap();
    send_raw(&t.server.url, "POST", PROJECTS, &h.to_pairs(), body(&new_project("baz")))
        .assert_error(401, "body-hash-mismatch");
    // signature (8) before nonce (11): a used nonce with a bad signature is a bad signature.
    let h = sign_now(&t.server.url, &admin, "POST", PROJECTS, &b).to_pairs();
    assert_eq!(send_raw(&t.server.url, "POST", PROJECTS, &h, b.clone()).status, 201);
    send_raw(&t.server.url, "POST", "/api/v1/people", &h, b).assert_error(401, "bad-signature");
}

#[test]
fn a_request_signed_for_another_deployment_is_wrong_audience_and_an_old_client_is_told_to_update() {
    // Issue 13 item 2: staging and production know the same key and neither has seen the
    // nonce, so only the audience in the signed string tells them apart.
    let t = Team::new();
    let b = body(&new_project("bar"));
    let staging: trs_auth::Audience = "https://staging.trs.example.org".parse().unwrap();
    let h = trs_auth::sign_request(&t.signer(&t.admin), &staging, "POST", PROJECTS, None, &b, unix_now()).unwrap();
    let a = send_raw(&t.server.url, "POST", PROJECTS, &h.to_pairs(), b.clone());
    a.assert_error(401, "wrong-audience");
    assert!(a.message().contains(audience(&t.server.url).as_str()), "names this deployment: {}", a.text);
    // Claiming this deployment in the header does not help: the signature covers the audience.
    let mut pairs = h.to_pairs();
    for (k, v) in &mut pairs {
        if *k == trs_auth::HEADER_AUDIENCE {
            *v = audience(&t.server.url).to_string();
        }
    }
    send_raw(&t.server.url, "POST", PROJECTS, &pairs, b.clone()).assert_error(401, "bad-signature");
    // A client of the first scheme version sends no Trs-Audience.
    let h = sign_now(&t.server.url, &t.signer(&t.admin), "POST", PROJECTS, &b);
    let v1: Vec<_> = h.to_pairs().into_iter().filter(|(k, _)| *k != trs_auth::HEADER_AUDIENCE).collect();
    let a = send_raw(&t.server.url, "POST", PROJECTS, &v1, b);
    a.assert_error(401, "unsupported-scheme-version");
    assert!(a.message().contains("TRS-REQUEST-V2"), "{}", a.text);
    assert!(!project_exists(&t, "bar"));
}

#[test]
fn an_expiry_extended_with_gpg_and_registered_again_keeps_the_key_working() {
    // docs/signed-requests.md: "extend its expiry (gpg --quick-set-expire) and register the
    // updated certificate again". Done here before the key expires, as a careful RM would.
    let t = Team::new();
    let sam = t.gpg.gen_key_expiring("Sam RM <sam@example.org>", "ed25519", "1d");
    let cert = t.path("sam.asc");
    t.gpg.export_public(&sam, &cert);
    ok(&t.as_admin(&["person", "add", "sam", cert.to_str().unwrap()]));
    ok(&t.as_admin(&["project", "create", "bar", "--members", "ada", "--release-managers", "sam"]));

    t.gpg.set_expire(&sam, "1y");
    let renewed = t.path("sam-renewed.asc");
    t.gpg.export_public(&sam, &renewed);
    ok(&t.as_key(&sam, &["keys", "add", renewed.to_str().unwrap()]));

    // Two days on (the server's clock and the CLI's, which signs the calls), past the original
    // expiry: the key still signs API calls and artifacts.
    t.server.clock.advance(2 * DAY.as_secs() as i64);
    let file = t.file("RELEASE-NOTES.txt", b"notes\n");
    t.gpg.detach_sign(&sam, &file);
    sha512sum(&file);
    let files: Vec<String> = ["", ".asc", ".sha512"].iter().map(|e| format!("{}{e}", file.display())).collect();
    let out = t.as_key(&sam, &args_with(&["upload", "bar", "1.0.0", "--json"], &files));
    ok(&out);
    let status = stdout_json(&out)["status"].clone();
    assert_eq!(check(&status, "RELEASE-NOTES.txt", "signature").0, "pass", "{status:#}");
}

/// The revocation recipe of the README, run verbatim with real gpg and the real `trs`, for a
/// person whose only key is the one revoked (issue 13 item 16: importing the revocation
/// first, as the README once said, leaves gpg unable to sign the call that sends it).
#[test]
fn the_readme_revocation_recipe_works_for_a_person_with_a_single_key() {
    let t = Team::new();
    let solo = t.gpg.gen_key("Solo RM <solo@example.org>", "ed25519");
    let cert = t.path("solo.asc");
    t.gpg.export_public(&solo, &cert);
    ok(&t.as_admin(&["person", "add", "solo", cert.to_str().unwrap()]));
    ok(&t.as_admin(&["project", "create", "bar", "--members", "ada", "--release-managers", "solo"]));
    // The secret key as it is now, to sign a call later without asking gpg.
    let secret = t.path("solo-secret.asc");
    t.gpg.export_secret(&solo, &secret);
    let signer = trs_auth::KeyFileSigner::load_with_passphrase(&secret, None).unwrap();

    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let begin = "<!-- revoke-recipe:begin -->\n```sh\n";
    let start = readme.find(begin).expect("recipe start marker") + begin.len();
    let end = readme[start..].find("```\n<!-- revoke-recipe:end -->").expect("recipe end marker") + start;
    let recipe = &readme[start..end];
    let bin_dir = trs_bin().parent().unwrap().to_path_buf();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("set -eu\n{recipe}"))
        .current_dir(t.work.path())
        .env("GNUPGHOME", t.gpg.home.path())
        .env("FPR", &solo)
        .env("TRS_URL", &t.server.url)
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(out.status.success(), "recipe failed:\n{}\n{}", String::from_utf8_lossy(&out.stdout), stderr(&out));

    // trs has the revocation: KEYS marks it, and a call signed by the key is refused.
    let keys = get(&t.server.url, "/api/v1/projects/bar/KEYS");
    assert_eq!(keys.status, 200, "{}", keys.text);
    let block = keys.text.split("Registered to: ").find(|b| b.starts_with("solo")).expect("solo in KEYS");
    assert!(block.contains("[revoked]"), "{block}");
    let b = body(&new_project("baz"));
    let headers = sign_now(&t.server.url, &signer, "POST", PROJECTS, &b);
    send_raw(&t.server.url, "POST", PROJECTS, &headers.to_pairs(), b).assert_error(401, "key-revoked");
    // And the local keyring knows too: gpg no longer signs with it.
    let out = t.as_key(&solo, &["project", "create", "baz", "--members", "ada"]);
    assert!(!out.status.success(), "gpg must refuse to sign with the revoked key");
}

/// Issue 14 item 5, end to end: a GnuPG key whose self-signatures use SHA-1 registers; the
/// person and the project's KEYS show the warning; the key signs calls.
#[test]
fn a_sha1_self_signed_key_registers_with_a_warning_shown_with_the_person_and_in_keys() {
    let t = Team::new();
    let out = t
        .gpg
        .cmd()
        .args(["--passphrase", "", "--pinentry-mode", "loopback", "--cert-digest-algo", "SHA1"])
        .args(["--quick-gen-key", "Old Key <old@example.org>", "rsa3072", "sign", "never"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let listing = t.gpg.cmd().args(["--with-colons", "--list-keys", "old@example.org"]).output().unwrap();
    let old = String::from_utf8_lossy(&listing.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("fpr:").map(|r| r.trim_matches(':').to_string()))
        .unwrap();
    let cert = t.path("old.asc");
    t.gpg.export_public(&old, &cert);
    ok(&t.as_admin(&["person", "add", "old", cert.to_str().unwrap()]));
    ok(&t.as_admin(&["project", "create", "bar", "--members", "ada", "--release-managers", "old"]));

    let shown = stdout_json(ok(&t.anonymous(&["person", "show", "old", "--json"])));
    let warning = shown["registered_keys"][0]["warnings"][0].as_str().unwrap_or_default().to_string();
    assert!(warning.contains("SHA-1") && warning.contains("gpg --quick-set-expire"), "{shown:#}");
    let text = String::from_utf8_lossy(&ok(&t.anonymous(&["person", "show", "old"])).stdout).into_owned();
    assert!(text.contains("warning: ") && text.contains("SHA-1"), "{text}");
    let keys = get(&t.server.url, "/api/v1/projects/bar/KEYS");
    assert!(keys.text.contains("warning") && keys.text.contains("SHA-1"), "{}", keys.text);
    // The key signs calls (gpg's own choice of hash for the call's signature).
    ok(&t.as_key(&old, &["project", "edit", "bar", "--description", "signed by an old key"]));
}

//! Upload rules, end to end: hostile names are refused before anything is stored, a commit is
//! all-or-nothing (every declared file must have arrived whole), a stale base is refused
//! unless forced, upload URLs cannot be forged or overfilled, and the CLI's exit codes for
//! bad usage and unknown releases.

use serde_json::{Value, json};
use trs_tests::*;

const START: &str = "/api/v1/projects/foo/releases/1.0.0/uploads";
const RELEASE: &str = "/api/v1/projects/foo/releases/1.0.0";

/// The API steps of an upload, as the release manager.
struct Rm<'t> {
    t: &'t Team,
    signer: trs_auth::GpgSigner,
}

impl<'t> Rm<'t> {
    fn new(t: &'t Team) -> Self {
        Rm { t, signer: t.signer(&t.rm) }
    }

    fn start_raw(&self, files: Value, force: bool) -> Api {
        signed_call(&self.t.server.url, &self.signer, "POST", START, &json!({"files": files, "force": force}))
    }

    /// Starts an upload of `(name, bytes)` files; expects 201.
    fn start(&self, files: &[(&str, &[u8])], force: bool) -> Started {
        let declared: Vec<Value> = files.iter().map(|(n, b)| json!({"path": n, "size": b.len()})).collect();
        let a = self.start_raw(Value::Array(declared), force);
        assert_eq!(a.status, 201, "start failed: {}", a.text);
        let urls = a.body["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["upload"]["url"].as_str().unwrap().to_string())
            .collect();
        Started { id: a.body["id"].as_str().unwrap().to_string(), urls, body: a.body }
    }

    /// Asks for the commit, which the server answers at once (202, the commit task, whose id
    /// is the upload's, and its status URL), and waits for the task. Its outcome as an answer:
    /// the task's result with 201 (a revision made) or 200 (nothing changed), or the refusal
    /// it recorded, with the status and error document the API gives a refused call.
    fn commit(&self, id: &str) -> Api {
        let asked =
            signed_call(&self.t.server.url, &self.signer, "POST", &format!("/api/v1/uploads/{id}/commit"), &json!({}));
        if asked.status != 202 {
            return asked;
        }
        assert_eq!(asked.body["id"], id, "the commit task has the upload's id: {}", asked.text);
        let task = poll_until(format!("the commit task of upload {id}"), || {
            let t = get(&self.t.server.url, &format!("/api/v1/tasks/{id}"));
            match t.body["state"].as_str() {
                Some("done" | "failed") => Ok(t.body),
                other => Err(format!("{other:?}: {}", t.text)),
            }
        });
        let (status, body) = if task["state"] == "done" {
            (if task["result"]["changed"] == true { 201 } else { 200 }, task["result"].clone())
        } else {
            let status = task["result"]["status"].as_u64().expect("a failed task records the refusal's status");
            (status as u16, json!({"error": {"code": task["result"]["code"], "message": task["error"]}}))
        };
        Api { status, content_type: "application/json".into(), text: body.to_string(), body }
    }

    fn release(&self) -> Api {
        get(&self.t.server.url, RELEASE)
    }

    fn assert_no_release(&self) {
        self.release().assert_error(404, "not-found");
    }

    /// The release's latest revision and its file names.
    fn revision(&self) -> (u64, Vec<String>) {
        let a = self.release();
        assert_eq!(a.status, 200, "{}", a.text);
        let files =
            a.body["files"].as_array().unwrap().iter().map(|f| f["path"].as_str().unwrap().to_string()).collect();
        (a.body["revision"].as_u64().unwrap(), files)
    }
}

struct Started {
    id: String,
    urls: Vec<String>,
    body: Value,
}

fn put_ok(url: &str, bytes: &[u8]) {
    let a = put_bytes(url, bytes.to_vec());
    assert!((200..300).contains(&a.status), "PUT failed: {} {}", a.status, a.text);
}

// ---- hostile names ----------------------------------------------------------------------------

#[test]
fn the_cli_refuses_a_hidden_file_with_a_usage_error() {
    let t = Team::new();
    let good = t.file("RELEASE-NOTES.txt", b"notes\n");
    let hidden = t.file(".hidden", b"secret\n");
    let out = t.as_rm(&["upload", "foo", "1.0.0", good.to_str().unwrap(), hidden.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "stderr: {}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains(".hidden") && err.contains("dotfile"), "{err}");
    t.assert_no_release();
}

/// Starting an upload that declares `files` is refused with 400 hostile-file-name, and no
/// release comes into being.
fn assert_hostile(files: Value, name_in_message: &str) {
    let t = Team::new();
    let rm = Rm::new(&t);
    let a = rm.start_raw(files, false);
    a.assert_error(400, "hostile-file-name");
    assert!(a.message().contains(name_in_message), "the message names the file: {}", a.text);
    rm.assert_no_release();
    t.assert_no_release();
}

#[test]
fn a_dotdot_path_is_refused_at_start() {
    assert_hostile(
        json!([{"path": "RELEASE-NOTES.txt", "size": 6}, {"path": "../etc/passwd", "size": 1}]),
        "../etc/passwd",
    );
}

#[test]
fn an_absolute_path_is_refused_at_start() {
    assert_hostile(json!([{"path": "/abs", "size": 1}]), "/abs");
}

#[test]
fn a_backslash_is_refused_at_start() {
    assert_hostile(json!([{"path": "a\\b", "size": 1}]), "backslash");
}

#[test]
fn a_nul_in_a_name_is_refused_at_start() {
    assert_hostile(json!([{"path": "a\u{0}b.txt", "size": 1}]), "NUL");
}

#[test]
fn names_that_differ_only_in_case_are_refused_at_start() {
    assert_hostile(json!([{"path": "README", "size": 1}, {"path": "readme", "size": 1}]), "collides");
}

#[test]
fn a_non_nfc_name_is_refused_at_start() {
    // "é" as e + combining acute accent (NFD).
    assert_hostile(json!([{"path": "cafe\u{301}.txt", "size": 1}]), "NFC");
}

/// The review's reproduction (issue 13, item 1): a name carrying shell syntax is refused with
/// its own code before anything is stored, by the API and by the CLI before it sends anything.
#[test]
fn a_name_with_shell_syntax_is_refused_at_start_and_by_the_cli() {
    let t = Team::new();
    let rm = Rm::new(&t);
    let name = "apache-foo-6.2$(touch${IFS}PWNED).tar.gz";
    let a = rm.start_raw(json!([{"path": name, "size": 1}]), false);
    a.assert_error(400, "unportable-file-name");
    assert!(a.message().contains(name) && a.message().contains("'$'"), "{}", a.text);
    let file = t.file(name, b"x\n");
    let out = t.as_rm(&["upload", "foo", "1.0.0", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "stderr: {}", stderr(&out));
    assert!(stderr(&out).contains("ASCII letters, digits"), "{}", stderr(&out));
    t.assert_no_release();
}

/// The answer to an upload PUT says what arrived (size, SHA-512) and nothing of the store's
/// internal hash states, which hold the file's last bytes (issue 13, item 15).
#[test]
fn the_upload_answer_carries_no_internal_hash_state() {
    let t = Team::new();
    let rm = Rm::new(&t);
    let bytes = b"secret tail of the file\n";
    let started = rm.start(&[("notes.txt", bytes)], false);
    let a = put_bytes(&started.urls[0], bytes.to_vec());
    assert_eq!(a.status, 201, "{}", a.text);
    let mut fields: Vec<&str> = a.body.as_object().unwrap().keys().map(String::as_str).collect();
    fields.sort();
    assert_eq!(fields, ["sha512", "size"], "{}", a.text);
    assert_eq!(a.body["size"], bytes.len());
    assert!(!a.text.contains(&hex::encode(b"secret tail")), "{}", a.text);
}

// ---- commits ----------------------------------------------------------------------------------

#[test]
fn a_commit_on_a_stale_base_is_refused() {
    let t = Team::new();
    let rm = Rm::new(&t);
    let first = rm.start(&[("a.txt", b"first\n")], false);
    let second = rm.start(&[("b.txt", b"second\n")], false);
    assert!(first.body["base_revision"].is_null() && second.body["base_revision"].is_null());
    put_ok(&first.urls[0], b"first\n");
    put_ok(&second.urls[0], b"second\n");
    let c = rm.commit(&first.id);
    assert_eq!(c.status, 201, "{}", c.text);
    assert_eq!(c.body["revision"], 1);

    let c = rm.commit(&second.id);
    c.assert_error(409, "stale-base");
    assert!(c.message().contains("--force"), "{}", c.text);
    // Nothing changed: still revision 1 with only the first upload's file.
    assert_eq!(rm.revision(), (1, vec!["a.txt".to_string()]));
}

#[test]
fn a_forced_upload_commits_on_top_of_a_newer_revision() {
    let t = Team::new();
    let rm = Rm::new(&t);
    let first = rm.start(&[("a.txt", b"first\n")], false);
    let second = rm.start(&[("b.txt", b"second\n")], true);
    put_ok(&first.urls[0], b"first\n");
    put_ok(&second.urls[0], b"second\n");
    assert_eq!(rm.commit(&first.id).status, 201);

    let c = rm.commit(&second.id);
    assert_eq!(c.status, 201, "{}", c.text);
    assert_eq!(c.body["revision"], 2);
    let (revision, mut files) = rm.revision();
    files.sort();
    assert_eq!((revision, files), (2, vec!["a.txt".to_string(), "b.txt".to_string()]));
}

/// A commit asked for again (a client that retried after a lost answer) answers with the same
/// task and result: one revision.
#[test]
fn committing_the_same_upload_twice_makes_one_revision() {
    let t = Team::new();
    let rm = Rm::new(&t);
    let up = rm.start(&[("a.txt", b"first\n")], false);
    put_ok(&up.urls[0], b"first\n");
    let first = rm.commit(&up.id);
    assert_eq!(first.status, 201, "{}", first.text);
    let again = rm.commit(&up.id);
    assert_eq!((again.status, &again.body), (201, &first.body), "{}", again.text);
    assert_eq!(rm.revision().0, 1);
}

/// A commit refused because a file had not arrived leaves the session as it was: once the
/// file is sent, the same commit asked for again makes the revision.
#[test]
fn a_commit_refused_for_a_missing_file_succeeds_once_the_file_arrives() {
    let t = Team::new();
    let rm = Rm::new(&t);
    let up = rm.start(&[("a.txt", b"first\n"), ("b.txt", b"second\n")], false);
    put_ok(&up.urls[0], b"first\n");
    rm.commit(&up.id).assert_error(400, "file-not-uploaded");
    rm.assert_no_release();
    put_ok(&up.urls[1], b"second\n");
    let c = rm.commit(&up.id);
    assert_eq!(c.status, 201, "{}", c.text);
    assert_eq!(rm.revision(), (1, vec!["a.txt".to_string(), "b.txt".to_string()]));
}

#[test]
fn a_commit_with_a_file_never_uploaded_creates_nothing() {
    let t = Team::new();
    let rm = Rm::new(&t);
    let up = rm.start(&[("a.txt", b"first\n"), ("b.txt", b"second\n")], false);
    put_ok(&up.urls[0], b"first\n");
    let c = rm.commit(&up.id);
    c.assert_error(400, "file-not-uploaded");
    assert!(c.message().contains("b.txt"), "{}", c.text);
    rm.assert_no_release();
}

#[test]
fn a_commit_with_a_file_never_uploaded_leaves_the_release_unchanged() {
    let t = Team::new();
    let rm = Rm::new(&t);
    let up = rm.start(&[("a.txt", b"first\n")], false);
    put_ok(&up.urls[0], b"first\n");
    assert_eq!(rm.commit(&up.id).status, 201);
    let before = rm.release().body;

    let up = rm.start(&[("b.txt", b"second\n"), ("c.txt", b"third\n")], false);
    put_ok(&up.urls[0], b"second\n");
    rm.commit(&up.id).assert_error(400, "file-not-uploaded");
    let after = rm.release().body;
    assert_eq!(after["revision"], 1);
    assert_eq!(after["revision_key"], before["revision_key"]);
    assert_eq!(rm.revision(), (1, vec!["a.txt".to_string()]));
}

#[test]
fn an_upload_url_with_a_tampered_token_is_refused() {
    let t = Team::new();
    let rm = Rm::new(&t);
    let up = rm.start(&[("a.txt", b"first\n"), ("b.txt", b"second\n")], false);
    let url = &up.urls[0];
    let (prefix, token) = url.rsplit_once('/').unwrap();
    let (payload, tag) = token.split_once('.').unwrap();

    // One character of the tag changed.
    let mut tag2: Vec<char> = tag.chars().collect();
    tag2[5] = if tag2[5] == 'A' { 'B' } else { 'A' };
    let forged = format!("{prefix}/{payload}.{}", tag2.into_iter().collect::<String>());
    let a = put_bytes(&forged, b"first\n".to_vec());
    a.assert_error(401, "upload-url-refused");

    // The payload (object key, size limit) of one URL with the tag of the other.
    let (_, other_token) = up.urls[1].rsplit_once('/').unwrap();
    let (other_payload, _) = other_token.split_once('.').unwrap();
    let spliced = format!("{prefix}/{other_payload}.{tag}");
    put_bytes(&spliced, b"second\n".to_vec()).assert_error(401, "upload-url-refused");

    // Garbage.
    put_bytes(&format!("{prefix}/not-a-token"), b"x".to_vec()).assert_error(401, "upload-url-refused");

    // Nothing arrived, so the commit fails and no release exists.
    rm.commit(&up.id).assert_error(400, "file-not-uploaded");
    rm.assert_no_release();
}

#[test]
fn more_bytes_than_declared_are_refused_and_the_commit_fails() {
    let t = Team::new();
    let rm = Rm::new(&t);
    let up = rm.start(&[("a.txt", b"tiny\n")], false);
    let a = put_bytes(&up.urls[0], vec![b'x'; 64 * 1024]);
    assert_eq!(a.status, 413, "{}", a.text);
    assert_eq!(a.code(), "too-large", "{}", a.text);
    rm.commit(&up.id).assert_error(400, "file-not-uploaded");
    rm.assert_no_release();
}

#[test]
fn fewer_bytes_than_declared_fail_the_commit() {
    let t = Team::new();
    let rm = Rm::new(&t);
    let up = rm.start(&[("a.txt", b"twelve bytes")], false);
    put_ok(&up.urls[0], b"short");
    let c = rm.commit(&up.id);
    c.assert_error(400, "size-mismatch");
    assert!(c.message().contains("a.txt"), "{}", c.text);
    rm.assert_no_release();
}

// ---- the CLI ----------------------------------------------------------------------------------

#[test]
fn upload_no_wait_returns_after_the_commit_and_status_shows_the_checks_later() {
    let t = Team::new();
    let file = t.file("RELEASE-NOTES.txt", b"notes\n");
    sha512sum(&file);
    // No .asc: once verified, the signature check fails. --no-wait must not wait for that,
    // so it exits 0 and prints only the commit.
    let files = vec![file.to_str().unwrap().to_string(), format!("{}.sha512", file.display())];
    let out = t.as_rm(&args_with(&["upload", "foo", "1.0.0", "--no-wait", "--json"], &files));
    ok(&out);
    let committed = stdout_json(&out);
    assert_eq!(committed["revision"], 1, "{committed:#}");
    assert!(committed["task"].is_string(), "{committed:#}");
    assert!(committed.get("status").is_none(), "--no-wait prints the commit, not the report: {committed:#}");

    let status = poll_until("verification finished", || {
        let s = stdout_json(ok(&t.status()));
        assert_eq!(s["revision"], 1);
        if s["verification"] == "done" { Ok(s) } else { Err(format!("{s:#}")) }
    });
    let (result, reason) = check(&status, "RELEASE-NOTES.txt", "signature");
    assert_eq!(result, "fail", "{reason}");
    assert!(reason.contains("RELEASE-NOTES.txt.asc"), "{reason}");
    assert_eq!(check(&status, "RELEASE-NOTES.txt", "checksum").0, "pass");
    assert_eq!(status["summary"]["fail"], 1, "{status:#}");
}

#[test]
fn status_of_an_unknown_release_is_not_found() {
    let t = Team::new();
    let out = t.anonymous(&["status", "foo", "9.9.9"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("not-found") && err.contains("(HTTP 404)"), "{err}");
    // Also for a project that does not exist.
    let out = t.anonymous(&["status", "nosuch", "1.0.0", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not-found"), "{}", stderr(&out));
}

#[test]
fn upload_without_files_is_a_usage_error() {
    let t = Team::new();
    let out = t.as_rm(&["upload", "foo", "1.0.0"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    t.assert_no_release();
}

#[test]
fn an_invalid_project_name_is_a_usage_error() {
    let t = Team::new();
    let file = t.file("RELEASE-NOTES.txt", b"notes\n");
    for project in ["Foo/..", "../foo", "foo bar"] {
        let out = t.as_rm(&["upload", project, "1.0.0", file.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{project}: {}", stderr(&out));
        assert!(!stderr(&out).is_empty());
    }
    let out = t.anonymous(&["status", "Foo/..", "1.0.0"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    t.assert_no_release();
}

#[test]
fn an_invalid_version_is_a_usage_error() {
    let t = Team::new();
    let file = t.file("RELEASE-NOTES.txt", b"notes\n");
    let out = t.as_rm(&["upload", "foo", "1.0.0/../../x", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    t.assert_no_release();
}

#[test]
fn a_missing_local_file_is_an_error_before_anything_is_sent() {
    let t = Team::new();
    let file = t.file("RELEASE-NOTES.txt", b"notes\n");
    let missing = t.path("nope.tar.gz");
    let out = t.as_rm(&["upload", "foo", "1.0.0", file.to_str().unwrap(), missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("nope.tar.gz"), "{}", stderr(&out));
    t.assert_no_release();
}

#[test]
fn bytes_that_arrived_cannot_be_replaced_before_the_commit() {
    let t = Team::new();
    let rm = Rm::new(&t);
    let up = rm.start(&[("a.txt", b"good")], false);
    put_ok(&up.urls[0], b"good");
    // A second PUT to the same URL (same size, other bytes) is refused.
    put_bytes(&up.urls[0], b"evil".to_vec()).assert_error(409, "already-exists");
    assert_eq!(rm.commit(&up.id).status, 201);
    let status = rm.release().body;
    let sha512 = status["files"][0]["sha512"].as_str().unwrap().to_string();
    let expected = {
        let f = t.file("good.txt", b"good");
        let out = std::process::Command::new("sha512sum").arg(&f).output().unwrap();
        String::from_utf8(out.stdout).unwrap().split_whitespace().next().unwrap().to_string()
    };
    assert_eq!(sha512, expected, "the committed file holds the first bytes");
}

#[test]
fn colliding_names_through_the_cli_are_a_usage_error() {
    // README contract: exit 2 for a hostile file name caught before upload. The CLI knows
    // every name before it sends anything, so names that collide are caught there too.
    let t = Team::new();
    let upper = t.file("one/README", b"a\n");
    let lower = t.file("two/readme", b"b\n");
    let again = t.file("three/README", b"c\n");
    for (a, b) in [(&upper, &lower), (&upper, &again)] {
        let out = t.as_rm(&["upload", "foo", "1.0.0", a.to_str().unwrap(), b.to_str().unwrap()]);
        let err = stderr(&out);
        assert!(err.contains("README") || err.contains("readme"), "{err}");
        assert_eq!(out.status.code(), Some(2), "{} + {}: {err}", a.display(), b.display());
    }
    t.assert_no_release();
}

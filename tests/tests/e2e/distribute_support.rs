//! What the PyPI and npm distribution tests share: every output kept (to look for the
//! credential in it), the vote that makes a release current, a refusal's exit and code, and
//! the search for a secret in every place trs writes to.

use std::path::{Path, PathBuf};
use std::process::Output;
use trs_tests::*;

/// Every stdout and stderr of the `trs` runs of a test.
#[derive(Default)]
pub struct Run {
    pub outputs: Vec<String>,
}

impl Run {
    pub fn keep(&mut self, out: Output) -> Output {
        self.outputs.push(String::from_utf8_lossy(&out.stdout).into_owned());
        self.outputs.push(String::from_utf8_lossy(&out.stderr).into_owned());
        out
    }
}

/// Asserts exit 1 with `code` on stderr; returns stderr.
pub fn refused(out: &Output, code: &str) -> String {
    assert_eq!(out.status.code(), Some(1), "expected a refusal; stdout: {}", String::from_utf8_lossy(&out.stdout));
    let err = stderr(out);
    assert!(err.contains(code), "expected {code}: {err}");
    err
}

/// `trs upload foo VERSION FILES... --json` as the release manager, expecting every check to pass.
pub fn upload_version(team: &Team, run: &mut Run, version: &str, files: &[String]) {
    let out = run.keep(team.as_rm(&args_with(&["upload", "foo", version, "--json"], files)));
    assert_eq!(stdout_json(ok(&out))["status"]["summary"]["fail"], 0);
}

/// The current revision key of foo VERSION.
pub fn revision_key(team: &Team, version: &str) -> String {
    let status = stdout_json(ok(&team.anonymous(&["status", "foo", version, "--json"])));
    status["revision_key"].as_str().unwrap().to_string()
}

/// Starts, passes and closes the vote on foo VERSION, then promotes the release.
pub fn pass_vote_and_promote(team: &Team, run: &mut Run, version: &str) -> Output {
    ok(&run.keep(team.as_rm(&["vote", "start", "foo", version])));
    ok(&run.keep(team.as_admin(&["vote", "cast", "foo", version, "+1"])));
    ok(&run.keep(team.as_rm(&["vote", "close", "foo", version])));
    ok(&run.keep(team.as_rm(&["promote", "foo", version]))).clone()
}

/// `trs distributions foo VERSION --json`: the records.
pub fn records(team: &Team, run: &mut Run, version: &str) -> Vec<serde_json::Value> {
    let out = run.keep(team.anonymous(&["distributions", "foo", version, "--json"]));
    stdout_json(ok(&out))["distributions"].as_array().unwrap().clone()
}

/// Every file under `dir`, while the server runs on: a folder or file it removes meanwhile (a
/// temporary file renamed into place) is skipped.
fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Some(entries) = gone_is_none(std::fs::read_dir(dir)) else { return };
    for entry in entries.filter_map(gone_is_none) {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn gone_is_none<T>(read: std::io::Result<T>) -> Option<T> {
    match read {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        read => Some(read.unwrap()),
    }
}

/// Asserts no `secret` is in any kept output, the `trs serve` log, the project's events, any
/// byte of trs's data folder, or `registry_logs` (the registry servers' own log files).
/// Returns the events (`trs events --json`) for further checks.
pub fn assert_secrets_nowhere(team: &Team, run: &mut Run, secrets: &[String], registry_logs: &[String]) -> String {
    let events = run.keep(team.anonymous(&["events", "--project", "foo", "--json"]));
    let events = String::from_utf8_lossy(&ok(&events).stdout).into_owned();
    let log = team.server.log.lock().unwrap().join("\n");
    assert!(!log.is_empty(), "the server logged at debug level");
    for registry_log in registry_logs {
        assert!(!registry_log.is_empty(), "the registry wrote its log");
    }
    let mut stored = Vec::new();
    files_under(team.server.data.path(), &mut stored);
    assert!(stored.iter().any(|p| p.ends_with("events.ndjson")));
    for secret in secrets {
        for text in run.outputs.iter().chain([&log, &events]).chain(registry_logs) {
            assert!(!text.contains(secret), "the credential leaked: {text}");
        }
        for path in &stored {
            let Some(bytes) = gone_is_none(std::fs::read(path)) else { continue };
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "the credential is stored in {}",
                path.display()
            );
        }
    }
    events
}

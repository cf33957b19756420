//! The end-to-end harness: a GnuPG home with real keys, a `trs serve` on a free loopback port
//! with its own data folder, and the real `trs` binary run as a user would run it.
//! Tests live in `tests/tests/`, one file per area.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use tempfile::TempDir;

/// The `trs` binary of this build (cargo builds it before the tests run).
pub fn trs_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
    let bin = dir.join("trs");
    assert!(bin.exists(), "{} not built; run the tests through cargo so the binary is built", bin.display());
    bin
}

/// A private GnuPG home, removed (and its agent stopped) on drop.
pub struct Gpg {
    pub home: TempDir,
}

impl Default for Gpg {
    fn default() -> Self {
        Self::new()
    }
}

impl Gpg {
    pub fn new() -> Self {
        // Short path: gpg-agent's socket path has a length limit.
        let home = tempfile::Builder::new().prefix("g").tempdir_in("/tmp").expect("gnupg home");
        std::fs::write(home.path().join("gpg-agent.conf"), "allow-loopback-pinentry\n").unwrap();
        Self { home }
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::new("gpg");
        c.env("GNUPGHOME", self.home.path()).args(["--batch", "--yes", "--quiet"]);
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        let out = self.cmd().args(args).output().expect("run gpg");
        assert!(out.status.success(), "gpg {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        out
    }

    /// Generates a signing key (`ed25519` or `rsa3072`, …) without passphrase; returns its fingerprint.
    pub fn gen_key(&self, user_id: &str, algo: &str) -> String {
        self.run(&["--passphrase", "", "--pinentry-mode", "loopback", "--quick-gen-key", user_id, algo, "sign", "never"]);
        let out = self.run(&["--with-colons", "--list-keys", user_id]);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .find_map(|l| l.strip_prefix("fpr:").map(|r| r.trim_matches(':').to_string()))
            .expect("fingerprint in gpg listing")
    }

    /// `gpg --export --armor FPR` into `dir/NAME.asc`.
    pub fn export_public(&self, fpr: &str, path: &Path) {
        let out = self.run(&["--export", "--armor", fpr]);
        std::fs::write(path, out.stdout).unwrap();
    }

    /// `gpg --export-secret-keys --armor FPR` into a file (for `--key FILE`).
    pub fn export_secret(&self, fpr: &str, path: &Path) {
        let out = self.run(&["--pinentry-mode", "loopback", "--passphrase", "", "--export-secret-keys", "--armor", fpr]);
        std::fs::write(path, out.stdout).unwrap();
    }

    /// `gpg --armor --detach-sign` → `FILE.asc`, as release managers sign artifacts.
    pub fn detach_sign(&self, fpr: &str, file: &Path) {
        let asc = format!("{}.asc", file.display());
        self.run(&["--local-user", fpr, "--armor", "--output", &asc, "--detach-sign", file.to_str().unwrap()]);
    }
}

impl Drop for Gpg {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf").env("GNUPGHOME", self.home.path()).args(["--kill", "all"]).output();
    }
}

/// `sha512sum NAME > NAME.sha512`, run in the file's folder so the name is bare.
pub fn sha512sum(file: &Path) {
    let dir = file.parent().unwrap();
    let name = file.file_name().unwrap().to_str().unwrap();
    let out = Command::new("sha512sum").arg(name).current_dir(dir).output().expect("sha512sum");
    assert!(out.status.success());
    std::fs::write(dir.join(format!("{name}.sha512")), out.stdout).unwrap();
}

/// A source release tarball made with `tar czf`: one top folder with LICENSE, NOTICE, code.
pub fn source_tarball(dir: &Path, name: &str, top: &str) -> PathBuf {
    let tree = dir.join("tree").join(top);
    std::fs::create_dir_all(tree.join("src")).unwrap();
    std::fs::write(tree.join("LICENSE"), "Apache License 2.0\n").unwrap();
    std::fs::write(tree.join("NOTICE"), "Copyright the foo authors\n").unwrap();
    std::fs::write(tree.join("src/main.c"), "int main(void) { return 0; }\n").unwrap();
    let out_path = dir.join(name);
    let status = Command::new("tar")
        .args(["czf", out_path.to_str().unwrap(), "-C", dir.join("tree").to_str().unwrap(), top])
        .status()
        .expect("tar");
    assert!(status.success());
    out_path
}

/// A running `trs serve` with its own data folder; killed on drop.
pub struct Server {
    child: Child,
    pub url: String,
    pub data: TempDir,
}

impl Server {
    /// Bootstraps `admin_uid` with `admin_cert`, then starts the server on a free port.
    pub fn start(admin_uid: &str, admin_cert: &Path) -> Self {
        let data = tempfile::tempdir().unwrap();
        let out = Command::new(trs_bin())
            .args(["admin", "bootstrap", "--data", data.path().to_str().unwrap(), admin_uid, admin_cert.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(out.status.success(), "bootstrap failed: {}", String::from_utf8_lossy(&out.stderr));
        Self::start_on(data)
    }

    pub fn start_on(data: TempDir) -> Self {
        let mut child = Command::new(trs_bin())
            .args(["serve", "--data", data.path().to_str().unwrap(), "--listen", "127.0.0.1:0"])
            .env("TRS_LOG", "warn")
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("start trs serve");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let url = loop {
            let line = lines.next().expect("trs serve exited before it was ready").unwrap();
            if let Some(rest) = line.strip_prefix("trs serving on ") {
                break rest.split_whitespace().next().unwrap().to_string();
            }
        };
        // Keep draining the server's log so it never blocks on a full pipe.
        std::thread::spawn(move || for line in lines.map_while(Result::ok) { eprintln!("[serve] {line}") });
        Self { child, url, data }
    }

    /// Runs `trs ARGS` against this server, with extra environment (e.g. TRS_GPG_KEY).
    pub fn trs(&self, gpg: &Gpg, env: &[(&str, &str)], args: &[&str]) -> Output {
        let mut c = Command::new(trs_bin());
        c.env("TRS_URL", &self.url).env("GNUPGHOME", gpg.home.path()).env_remove("TRS_KEY").env_remove("TRS_GPG_KEY");
        for (k, v) in env {
            c.env(k, v);
        }
        c.args(args).output().expect("run trs")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn stdout_json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}\nstderr: {}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts success, showing stderr otherwise.
pub fn ok(out: &Output) -> &Output {
    assert!(out.status.success(), "exit {:?}\nstdout: {}\nstderr: {}", out.status.code(), String::from_utf8_lossy(&out.stdout), stderr(out));
    out
}

/// The checks of one file in a `trs status --json` document, as (check, result, reason).
pub fn checks_of(status: &Value, path: &str) -> Vec<(String, String, String)> {
    let file = status["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == path)
        .unwrap_or_else(|| panic!("{path} not in status: {status:#}"));
    file["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["check"].as_str().unwrap().into(), c["result"].as_str().unwrap().into(), c["reason"].as_str().unwrap().into()))
        .collect()
}

/// The result and reason of one check of one file.
pub fn check(status: &Value, path: &str, kind: &str) -> (String, String) {
    checks_of(status, path)
        .into_iter()
        .find(|(k, _, _)| k == kind)
        .map(|(_, r, reason)| (r, reason))
        .unwrap_or_else(|| panic!("no {kind} check for {path}: {status:#}"))
}

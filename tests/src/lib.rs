//! The end-to-end harness: a GnuPG home with real keys, a `trs serve` on a free loopback port
//! with its own data folder, and the real `trs` binary run as a user would run it.
//! Tests live in `tests/tests/e2e/`, one file per area, all in one test binary.

pub mod contract;
pub mod github_server;
pub mod maven_portal;
pub mod oci_registry;
pub mod poll;
pub mod pypi_server;
pub mod smtp_server;
pub mod verdaccio;

pub use poll::{POLL_LIMIT, poll_until};
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

/// Runs `trs serve` on a new data folder (listening on a free port) with `args` and `env`
/// added, expecting it to stop at start: asserts it failed, and returns its standard error.
pub fn serve_refused(args: &[&std::ffi::OsStr], env: &[(&str, &std::ffi::OsStr)]) -> String {
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(trs_bin())
        .args(["serve", "--data", data.path().to_str().unwrap(), "--listen", "127.0.0.1:0"])
        .args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = poll_until("trs serve to stop at start", || match child.try_wait() {
        Ok(Some(status)) => Ok(status),
        _ => Err("still running".into()),
    });
    let mut err = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
    assert!(!status.success(), "{err}");
    err
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
        self.run(&[
            "--passphrase",
            "",
            "--pinentry-mode",
            "loopback",
            "--quick-gen-key",
            user_id,
            algo,
            "sign",
            "never",
        ]);
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
        let out =
            self.run(&["--pinentry-mode", "loopback", "--passphrase", "", "--export-secret-keys", "--armor", fpr]);
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

/// The clock of a test's `trs` processes (`TRS_TEST_CLOCK_FILE`, read by debug builds of
/// `trs` on every reading of the time): the system clock plus an offset this test moves, so a
/// key's expiry or a deadline is passed by moving the clock, never by sleeping until it.
pub struct TestClock {
    dir: TempDir,
}

impl TestClock {
    /// The variable `trs` reads the clock file's path from (crates/trs-cli/src/clock.rs).
    pub const ENV: &'static str = "TRS_TEST_CLOCK_FILE";

    /// A clock at offset 0.
    pub fn new() -> Self {
        let clock = Self { dir: tempfile::tempdir().unwrap() };
        clock.set_offset(0);
        clock
    }

    pub fn path(&self) -> PathBuf {
        self.dir.path().join("offset")
    }

    pub fn offset(&self) -> i64 {
        std::fs::read_to_string(self.path()).unwrap().trim().parse().unwrap()
    }

    /// Writes the offset through a rename, so `trs` never reads a half-written file.
    pub fn set_offset(&self, secs: i64) {
        let tmp = self.dir.path().join("offset.new");
        std::fs::write(&tmp, secs.to_string()).unwrap();
        std::fs::rename(&tmp, self.path()).unwrap();
    }

    /// Moves every `trs` process of this test `secs` seconds on.
    pub fn advance(&self, secs: i64) {
        self.set_offset(self.offset() + secs);
    }

    /// Unix seconds on this clock (what the server reads now), for requests signed by the test.
    pub fn now(&self) -> i64 {
        unix_now() + self.offset()
    }
}

impl Default for TestClock {
    fn default() -> Self {
        Self::new()
    }
}

/// A running `trs serve` with its own data folder; killed on drop.
pub struct Server {
    child: Child,
    pub url: String,
    pub data: TempDir,
    /// Every line the server logged so far (also echoed to the test's stderr).
    pub log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    /// The clock of this server and of the `trs` commands run through [`Server::trs`].
    pub clock: TestClock,
}

impl Server {
    /// Bootstraps `admin_uid` with `admin_cert`, then starts the server on a free port.
    pub fn start(admin_uid: &str, admin_cert: &Path) -> Self {
        Self::start_with_env(admin_uid, admin_cert, &[])
    }

    /// A server whose only person is the admin `ada` (a fresh GnuPG ed25519 key), started with
    /// `env`: for tests of the server itself, which sign nothing.
    pub fn with_an_admin(env: &[(&str, String)]) -> Self {
        let gpg = Gpg::new();
        let work = tempfile::tempdir().unwrap();
        let ada = gpg.gen_key("Ada Admin <ada@example.org>", "ed25519");
        let cert = work.path().join("ada.asc");
        gpg.export_public(&ada, &cert);
        Self::start_with_env("ada", &cert, env)
    }

    /// [`Server::start`] with extra environment for both `trs admin bootstrap` and `trs serve`
    /// (e.g. `TRS_BACKEND=aws` and where its table and bucket are).
    pub fn start_with_env(admin_uid: &str, admin_cert: &Path, env: &[(&str, String)]) -> Self {
        let data = tempfile::tempdir().unwrap();
        let clock = TestClock::new();
        let out = Command::new(trs_bin())
            .args([
                "admin",
                "bootstrap",
                "--data",
                data.path().to_str().unwrap(),
                admin_uid,
                admin_cert.to_str().unwrap(),
            ])
            .env(TestClock::ENV, clock.path())
            .envs(env.iter().map(|(k, v)| (k, v)))
            .output()
            .unwrap();
        assert!(out.status.success(), "bootstrap failed: {}", String::from_utf8_lossy(&out.stderr));
        Self::start_on_with_env(data, env, clock)
    }

    pub fn start_on(data: TempDir) -> Self {
        Self::start_on_with_env(data, &[], TestClock::new())
    }

    fn start_on_with_env(data: TempDir, env: &[(&str, String)], clock: TestClock) -> Self {
        let mut child = Command::new(trs_bin())
            // A lifecycle tick every second, so dates in the past take effect within the test.
            .args([
                "serve",
                "--data",
                data.path().to_str().unwrap(),
                "--listen",
                "127.0.0.1:0",
                "--lifecycle-every",
                "1",
                // IMAP mailboxes (only those a test sets with `trs project mail --imap`).
                "--imap-poll-every",
                "1",
            ])
            .env("TRS_LOG", "warn")
            .env(TestClock::ENV, clock.path())
            .envs(env.iter().map(|(k, v)| (k, v)))
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
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = log.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                eprintln!("[serve] {line}");
                kept.lock().unwrap().push(line);
            }
        });
        Self { child, url, data, log, clock }
    }

    /// Stops the server, keeping its data folder (for commands that open the folder
    /// directly, such as `trs site build`).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts a new server on the same data folder (stopping this one if it still runs);
    /// the URL changes (a new free port). Extra environment given at start is not kept; the
    /// clock is.
    pub fn restart(&mut self) {
        self.restart_with_env(&[]);
    }

    /// [`Server::restart`] with extra environment for the new process (e.g. the IMAP password
    /// the first one was started with).
    pub fn restart_with_env(&mut self, env: &[(&str, String)]) {
        self.stop();
        let data = std::mem::replace(&mut self.data, tempfile::tempdir().unwrap());
        let clock = std::mem::take(&mut self.clock);
        let mut fresh = Server::start_on_with_env(data, env, clock);
        std::mem::swap(self, &mut fresh);
    }

    /// Sends SIGTERM (what systemd and container runtimes stop a service with) and waits for
    /// the server to exit; returns how it exited.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        self.send_sigterm();
        self.child.wait().expect("wait for trs serve")
    }

    /// Sends SIGTERM without waiting for the server to exit.
    pub fn send_sigterm(&self) {
        let sent = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().expect("run kill");
        assert!(sent.success(), "kill -TERM failed");
    }

    /// Waits for the server to exit (after [`Server::send_sigterm`]); kills it and panics if it
    /// still runs after two minutes (a stop that never ends).
    pub fn wait(&mut self) -> std::process::ExitStatus {
        for _ in 0..1200 {
            if let Some(status) = self.child.try_wait().expect("wait for trs serve") {
                return status;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        self.stop();
        panic!("trs serve did not exit within two minutes of the signal");
    }

    /// Waits until the server has logged a line containing `text` and returns it (panics if
    /// none came within a minute: the server is stuck or never says it).
    pub fn wait_for_log(&self, text: &str) -> String {
        for _ in 0..600 {
            if let Some(line) = self.log.lock().unwrap().iter().find(|l| l.contains(text)) {
                return line.clone();
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("trs serve never logged {text:?}: {:#?}", self.log.lock().unwrap());
    }

    /// Where the `trs` commands run through [`Server::trs`] keep their state (`TRS_STATE_DIR`).
    pub fn client_state(&self) -> PathBuf {
        self.data.path().join("client-state")
    }

    /// The server's process id (to read its memory use from /proc).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Runs `trs ARGS` against this server, with extra environment (e.g. TRS_GPG_KEY).
    pub fn trs(&self, gpg: &Gpg, env: &[(&str, &str)], args: &[&str]) -> Output {
        let mut c = Command::new(trs_bin());
        c.env("TRS_URL", &self.url).env("GNUPGHOME", gpg.home.path()).env_remove("TRS_KEY").env_remove("TRS_GPG_KEY");
        c.env(TestClock::ENV, self.clock.path());
        // What `trs upload` remembers to resume an upload stays with this server's test.
        c.env("TRS_STATE_DIR", self.client_state());
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
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts success, showing stderr otherwise.
pub fn ok(out: &Output) -> &Output {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        stderr(out)
    );
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
        .map(|c| {
            (
                c["check"].as_str().unwrap().into(),
                c["result"].as_str().unwrap().into(),
                c["reason"].as_str().unwrap().into(),
            )
        })
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

// ---------------------------------------------------------------------------------------------
// Shared setup for the area tests (verification failures, signed calls, upload rules).
// ---------------------------------------------------------------------------------------------

/// Unix seconds now.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

impl Gpg {
    /// `gpg --detach-sign` without `--armor` → `FILE.asc` holding a binary signature.
    pub fn detach_sign_binary(&self, fpr: &str, file: &Path) {
        let asc = format!("{}.asc", file.display());
        self.run(&["--local-user", fpr, "--no-armor", "--output", &asc, "--detach-sign", file.to_str().unwrap()]);
    }

    /// `gpg --print-md SHA512 NAME > NAME.sha512`, run in the file's folder so the name is bare.
    pub fn print_md_sha512(&self, file: &Path) {
        let dir = file.parent().unwrap();
        let name = file.file_name().unwrap().to_str().unwrap();
        let out = self.cmd().args(["--print-md", "SHA512", name]).current_dir(dir).output().expect("gpg --print-md");
        assert!(out.status.success(), "gpg --print-md: {}", String::from_utf8_lossy(&out.stderr));
        std::fs::write(dir.join(format!("{name}.sha512")), out.stdout).unwrap();
    }

    /// Like [`Gpg::gen_key`], with an expiry as `gpg --quick-gen-key` takes it (`1y`,
    /// `seconds=5`, …).
    pub fn gen_key_expiring(&self, user_id: &str, algo: &str, expire: &str) -> String {
        self.run(&[
            "--passphrase",
            "",
            "--pinentry-mode",
            "loopback",
            "--quick-gen-key",
            user_id,
            algo,
            "sign",
            expire,
        ]);
        let out = self.run(&["--with-colons", "--list-keys", user_id]);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .find_map(|l| l.strip_prefix("fpr:").map(|r| r.trim_matches(':').to_string()))
            .expect("fingerprint in gpg listing")
    }

    /// `gpg --quick-set-expire FPR EXPIRE` (e.g. `1y`).
    pub fn set_expire(&self, fpr: &str, expire: &str) {
        self.run(&["--pinentry-mode", "loopback", "--passphrase", "", "--quick-set-expire", fpr, expire]);
    }

    /// A request signer that signs through this GnuPG home.
    pub fn signer(&self, fpr: &str) -> trs_auth::GpgSigner {
        trs_auth::GpgSigner::with_gnupghome(fpr, self.home.path()).expect("gpg signer")
    }
}

/// Runs `TOOL ARGS NAME` in the file's folder and writes its stdout to `NAME.EXT`.
fn sidecar_from(tool: &str, args: &[&str], file: &Path, ext: &str) {
    let dir = file.parent().unwrap();
    let name = file.file_name().unwrap().to_str().unwrap();
    let out =
        Command::new(tool).args(args).arg(name).current_dir(dir).output().unwrap_or_else(|e| panic!("{tool}: {e}"));
    assert!(out.status.success(), "{tool} failed: {}", String::from_utf8_lossy(&out.stderr));
    std::fs::write(dir.join(format!("{name}.{ext}")), out.stdout).unwrap();
}

/// `sha512sum --tag NAME > NAME.sha512` (BSD style: `SHA512 (NAME) = HEX`).
pub fn sha512sum_tag(file: &Path) {
    sidecar_from("sha512sum", &["--tag"], file, "sha512");
}

/// `sha256sum NAME > NAME.sha256`.
pub fn sha256sum(file: &Path) {
    sidecar_from("sha256sum", &[], file, "sha256");
}

/// `md5sum NAME > NAME.md5`.
pub fn md5sum(file: &Path) {
    sidecar_from("md5sum", &[], file, "md5");
}

/// `tar -czPf OUT -C DIR MEMBERS...`: GNU tar with `--absolute-names`, so member names such as
/// `../evil` or `/tmp/x/evil` are stored as given instead of being made safe.
pub fn tar_gz_verbatim(out: &Path, dir: &Path, members: &[&str]) {
    let status = Command::new("tar")
        .args(["-czPf", out.to_str().unwrap(), "-C", dir.to_str().unwrap()])
        .args(members)
        .status()
        .expect("tar");
    assert!(status.success(), "tar -czPf failed");
}

/// Arguments for a `trs` run: `fixed` followed by every path.
pub fn args_with<'a>(fixed: &[&'a str], files: &'a [String]) -> Vec<&'a str> {
    let mut v: Vec<&str> = fixed.to_vec();
    v.extend(files.iter().map(String::as_str));
    v
}

/// A running trs with people: the admin `ada` and the release manager `rita` (both ed25519,
/// made by GnuPG), and project `foo` (members ada, release managers rita).
pub struct Team {
    pub gpg: Gpg,
    pub server: Server,
    pub admin: String,
    pub rm: String,
    pub work: TempDir,
}

impl Default for Team {
    fn default() -> Self {
        Self::new()
    }
}

impl Team {
    pub fn new() -> Self {
        Self::with_rm_algo("ed25519")
    }

    /// The same team with the release manager's key of another GnuPG algorithm (`rsa3072`, …).
    pub fn with_rm_algo(algo: &str) -> Self {
        Self::with_server_env(algo, &[])
    }

    /// The same team on a server started with extra environment (see [`Server::start_with_env`]).
    pub fn with_server_env(algo: &str, env: &[(&str, String)]) -> Self {
        let gpg = Gpg::new();
        let work = tempfile::tempdir().unwrap();
        let admin = gpg.gen_key("Ada Admin <ada@example.org>", "ed25519");
        let rm = gpg.gen_key("Rita RM <rita@example.org>", algo);
        let ada_cert = work.path().join("ada.asc");
        let rita_cert = work.path().join("rita.asc");
        gpg.export_public(&admin, &ada_cert);
        gpg.export_public(&rm, &rita_cert);
        let server = Server::start_with_env("ada", &ada_cert, env);
        let team = Team { gpg, server, admin, rm, work };
        ok(&team.as_admin(&["person", "add", "rita", rita_cert.to_str().unwrap(), "--name", "Rita RM"]));
        ok(&team.as_admin(&["project", "create", "foo", "--members", "ada", "--release-managers", "rita"]));
        team
    }

    /// `trs ARGS` signed through GnuPG with the admin's key.
    pub fn as_admin(&self, args: &[&str]) -> Output {
        self.server.trs(&self.gpg, &[("TRS_GPG_KEY", self.admin.as_str())], args)
    }

    /// `trs ARGS` signed through GnuPG with the release manager's key.
    pub fn as_rm(&self, args: &[&str]) -> Output {
        self.server.trs(&self.gpg, &[("TRS_GPG_KEY", self.rm.as_str())], args)
    }

    /// `trs ARGS` signed through GnuPG with `fpr`.
    pub fn as_key(&self, fpr: &str, args: &[&str]) -> Output {
        self.server.trs(&self.gpg, &[("TRS_GPG_KEY", fpr)], args)
    }

    /// `trs ARGS` without any key (public reads).
    pub fn anonymous(&self, args: &[&str]) -> Output {
        self.server.trs(&self.gpg, &[], args)
    }

    /// A path in the work folder.
    pub fn path(&self, name: &str) -> PathBuf {
        self.work.path().join(name)
    }

    /// Writes `contents` to `NAME` in the work folder.
    pub fn file(&self, name: &str, contents: &[u8]) -> PathBuf {
        let p = self.path(name);
        if let Some(dir) = p.parent() {
            std::fs::create_dir_all(dir).unwrap();
        }
        std::fs::write(&p, contents).unwrap();
        p
    }

    /// Registers a new person `uid` with a fresh GnuPG ed25519 key; returns its fingerprint.
    pub fn add_gpg_person(&self, uid: &str) -> String {
        let fpr = self.gpg.gen_key(&format!("{uid} <{uid}@example.org>"), "ed25519");
        let cert = self.path(&format!("{uid}.asc"));
        self.gpg.export_public(&fpr, &cert);
        ok(&self.as_admin(&["person", "add", uid, cert.to_str().unwrap()]));
        fpr
    }

    /// Uploads `files` as foo `version`, votes it through (the release manager opens and
    /// closes, the admin casts +1: the policy must let one binding vote pass at once) and
    /// promotes it; the promotion must be done.
    pub fn vote_through_and_promote(&self, version: &str, files: &[String]) {
        let mut upload = vec!["upload".to_string(), "foo".into(), version.into()];
        upload.extend(files.iter().cloned());
        let upload: Vec<&str> = upload.iter().map(String::as_str).collect();
        ok(&self.as_rm(&upload));
        ok(&self.as_rm(&["vote", "start", "foo", version]));
        ok(&self.as_admin(&["vote", "cast", "foo", version, "+1"]));
        ok(&self.as_rm(&["vote", "close", "foo", version]));
        let task = stdout_json(ok(&self.as_rm(&["promote", "foo", version, "--json"])));
        assert_eq!(task["state"], "done", "{task:#}");
    }

    /// `FILE`, `FILE.asc` (armored, by the release manager) and `FILE.sha512`, as paths.
    pub fn signed_set(&self, file: &Path) -> Vec<String> {
        self.gpg.detach_sign(&self.rm, file);
        sha512sum(file);
        ["", ".asc", ".sha512"].iter().map(|ext| format!("{}{}", file.display(), ext)).collect()
    }

    /// `trs upload foo 1.0.0 FILES... --json` as the release manager.
    pub fn upload(&self, files: &[String]) -> Output {
        self.as_rm(&args_with(&["upload", "foo", "1.0.0", "--json"], files))
    }

    /// Uploads and expects exit 3 (a failing check); returns the `status` document.
    pub fn upload_failing(&self, files: &[String]) -> Value {
        let out = self.upload(files);
        assert_eq!(
            out.status.code(),
            Some(3),
            "expected exit 3 (a check failed)\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            stderr(&out)
        );
        let doc = stdout_json(&out);
        assert!(doc["upload"].is_object(), "upload part missing: {doc:#}");
        doc["status"].clone()
    }

    /// Uploads and expects success (exit 0); returns the `status` document.
    pub fn upload_passing(&self, files: &[String]) -> Value {
        let out = self.upload(files);
        ok(&out);
        stdout_json(&out)["status"].clone()
    }

    /// `trs status foo 1.0.0 --json`.
    pub fn status(&self) -> Output {
        self.anonymous(&["status", "foo", "1.0.0", "--json"])
    }

    /// Asserts that release foo 1.0.0 does not exist (`trs status` says not-found).
    pub fn assert_no_release(&self) {
        let out = self.status();
        assert_eq!(
            out.status.code(),
            Some(1),
            "release should not exist; stdout: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        // With --json the reason is the API's error document (README: exit codes).
        let err: Value = serde_json::from_str(stderr(&out).trim()).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
        assert_eq!((&err["error"]["code"], &err["error"]["status"]), (&"not-found".into(), &404.into()), "{err}");
    }

    /// A request signer through GnuPG for `fpr`.
    pub fn signer(&self, fpr: &str) -> trs_auth::GpgSigner {
        self.gpg.signer(fpr)
    }
}

/// The results of every check named `kind` for `path` (a file may have one per checksum file).
pub fn checks_named(status: &Value, path: &str, kind: &str) -> Vec<(String, String)> {
    checks_of(status, path).into_iter().filter(|(k, _, _)| k == kind).map(|(_, r, reason)| (r, reason)).collect()
}

/// An HTTP answer: status and JSON body (`Value::Null` if the body was not JSON; `text` has it).
#[derive(Debug, Clone)]
pub struct Api {
    pub status: u16,
    /// The answer's `Content-Type` header (empty without one).
    pub content_type: String,
    pub body: Value,
    pub text: String,
}

impl Api {
    /// `error.code` of an error body (empty if none).
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    /// `error.message` of an error body (empty if none).
    pub fn message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or("")
    }

    /// Asserts an error answer with this status and code, and a non-empty message.
    pub fn assert_error(&self, status: u16, code: &str) -> &Self {
        assert_eq!((self.status, self.code()), (status, code), "unexpected answer: {} {}", self.status, self.text);
        assert!(!self.message().is_empty(), "error without a message: {}", self.text);
        self
    }
}

fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder().timeout(std::time::Duration::from_secs(30)).build().unwrap()
}

fn answer(resp: reqwest::blocking::Response) -> Api {
    let status = resp.status().as_u16();
    let content_type =
        resp.headers().get(reqwest::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let text = resp.text().unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    Api { status, content_type, body, text }
}

/// Sends `METHOD base+path_and_query` with these headers and body, nothing added.
pub fn send_raw(base: &str, method: &str, path_and_query: &str, headers: &[(&str, String)], body: Vec<u8>) -> Api {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = http().request(method, format!("{base}{path_and_query}")).header("content-type", "application/json");
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    answer(req.body(body).send().expect("HTTP request"))
}

/// The audience of the server at `base`, as the CLI derives it from `--url`.
pub fn audience(base: &str) -> trs_auth::Audience {
    base.parse().expect("server URL as audience")
}

/// The authentication headers for a request to the server at `base`, signed now.
pub fn sign_now(
    base: &str,
    signer: &dyn trs_auth::RequestSigner,
    method: &str,
    path: &str,
    body: &[u8],
) -> trs_auth::SignedHeaders {
    trs_auth::sign_request(signer, &audience(base), method, path, None, body, unix_now()).expect("sign request")
}

/// A correctly signed call: `body` is sent as compact JSON, exactly the bytes signed.
pub fn signed_call(base: &str, signer: &dyn trs_auth::RequestSigner, method: &str, path: &str, body: &Value) -> Api {
    signed_call_at(base, signer, method, path, body, unix_now())
}

/// [`signed_call`] with the timestamp `now` (a server's [`TestClock::now`]).
pub fn signed_call_at(
    base: &str,
    signer: &dyn trs_auth::RequestSigner,
    method: &str,
    path: &str,
    body: &Value,
    now: i64,
) -> Api {
    let bytes = serde_json::to_vec(body).unwrap();
    let headers =
        trs_auth::sign_request(signer, &audience(base), method, path, None, &bytes, now).expect("sign request");
    send_raw(base, method, path, &headers.to_pairs(), bytes)
}

/// An unsigned GET of `base+path_and_query`.
pub fn get(base: &str, path_and_query: &str) -> Api {
    answer(http().get(format!("{base}{path_and_query}")).send().expect("HTTP GET"))
}

/// An unsigned GET of `base+path_and_query` with this `Accept` header (a page or JSON, for
/// the answers that are either).
pub fn get_accepting(base: &str, path_and_query: &str, accept: &str) -> Api {
    answer(http().get(format!("{base}{path_and_query}")).header("accept", accept).send().expect("HTTP GET"))
}

/// PUT of raw bytes to an absolute upload URL.
pub fn put_bytes(url: &str, bytes: Vec<u8>) -> Api {
    answer(http().put(url).body(bytes).send().expect("HTTP PUT"))
}

/// Certificates made with sequoia, for keys GnuPG would not make on demand (short-lived,
/// revoked, encryption-only).
pub mod certs {
    use sequoia_openpgp as openpgp;

    use openpgp::cert::prelude::*;
    use openpgp::packet::Signature;
    use openpgp::serialize::SerializeInto;
    use std::path::Path;
    use std::time::{Duration, SystemTime};

    /// A new certificate with a signing subkey, created at `created` (default: now, to the
    /// second) and valid for `validity` (default: forever). Returns it with its revocation.
    pub fn signing_cert(user_id: &str, created: Option<SystemTime>, validity: Option<Duration>) -> (Cert, Signature) {
        let created = created.unwrap_or_else(now_to_the_second);
        CertBuilder::new()
            .add_userid(user_id)
            .add_signing_subkey()
            .set_creation_time(created)
            .set_validity_period(validity)
            .generate()
            .expect("generate certificate")
    }

    /// A certificate whose only subkey is for encryption (the primary only certifies).
    pub fn encryption_only_cert(user_id: &str) -> Cert {
        CertBuilder::new()
            .add_userid(user_id)
            .add_transport_encryption_subkey()
            .set_creation_time(now_to_the_second())
            .generate()
            .expect("generate certificate")
            .0
    }

    /// `cert` with its revocation certificate merged in.
    pub fn revoked(cert: Cert, revocation: Signature) -> Cert {
        let (cert, _) = cert.insert_packets(revocation).expect("insert revocation");
        cert
    }

    pub fn now_to_the_second() -> SystemTime {
        let secs = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    /// The public certificate, ASCII-armored, written to `path`.
    pub fn write_public(cert: &Cert, path: &Path) {
        std::fs::write(path, cert.armored().to_vec().expect("armor")).unwrap();
    }

    /// The certificate with its secret keys (a TSK), ASCII-armored, written to `path`.
    pub fn write_secret(cert: &Cert, path: &Path) {
        std::fs::write(path, cert.as_tsk().armored().to_vec().expect("armor")).unwrap();
    }

    /// Primary fingerprint, uppercase hex.
    pub fn fingerprint(cert: &Cert) -> String {
        cert.fingerprint().to_hex()
    }

    /// A request signer holding the secret key of `cert`.
    pub fn signer(cert: &Cert) -> trs_auth::KeyFileSigner {
        trs_auth::KeyFileSigner::from_cert(cert, None).expect("key file signer")
    }
}

/// Every file under `dir` with its size and modification time: what a registry server stored.
/// A write there shows as a changed entry; reads change nothing.
pub fn stored_files(dir: &Path) -> std::collections::BTreeMap<PathBuf, (u64, std::time::SystemTime)> {
    fn walk(dir: &Path, out: &mut std::collections::BTreeMap<PathBuf, (u64, std::time::SystemTime)>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let meta = entry.metadata().unwrap();
            if meta.is_dir() {
                walk(&entry.path(), out);
            } else {
                out.insert(entry.path(), (meta.len(), meta.modified().unwrap()));
            }
        }
    }
    let mut out = std::collections::BTreeMap::new();
    walk(dir, &mut out);
    out
}

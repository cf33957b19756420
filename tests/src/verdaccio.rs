//! verdaccio (the npm registry test.sh installs) for end-to-end tests: a child process on a free
//! loopback port, storage and log file in a temporary folder, htpasswd users, no uplinks;
//! stopped on drop. Plus `npm pack` to make a package tarball and `npm view` to read the
//! registry as users do.
//!
//! The npm client's own tests (crates/trs-registry-clients/tests/registries/npm.rs) start verdaccio
//! the same way; they are async tests of a crate that does not depend on this one, so they keep
//! their own copy.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::SystemTime;
use tempfile::TempDir;

/// Where test.sh installs verdaccio, unless `TRS_VERDACCIO` names the binary.
fn verdaccio_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("TRS_VERDACCIO") {
        return bin.into();
    }
    let home = std::env::var_os("HOME").expect("HOME is set");
    Path::new(&home).join(".cache/trs-tools/node_modules/.bin/verdaccio")
}

pub struct Verdaccio {
    dir: TempDir,
    pub port: u16,
    child: Child,
}

impl Verdaccio {
    pub fn start() -> Verdaccio {
        let dir = tempfile::tempdir().expect("temporary folder");
        let config = format!(
            "storage: {storage}\n\
             auth:\n  htpasswd:\n    file: {htpasswd}\n    max_users: 10\n\
             uplinks: {{}}\n\
             packages:\n  '@*/*':\n    access: $all\n    publish: $authenticated\n  \
             '**':\n    access: $all\n    publish: $authenticated\n\
             web:\n  enable: false\n\
             log: {{ type: file, path: {log}, format: json, level: http }}\n",
            storage = dir.path().join("storage").display(),
            htpasswd = dir.path().join("htpasswd").display(),
            log = dir.path().join("verdaccio.log").display(),
        );
        std::fs::write(dir.path().join("config.yaml"), config).unwrap();
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let bin = verdaccio_bin();
        assert!(bin.exists(), "verdaccio is installed by test.sh at {}", bin.display());
        let child = Command::new(bin)
            .arg("--config")
            .arg(dir.path().join("config.yaml"))
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("verdaccio starts");
        let mut server = Verdaccio { dir, port, child };
        let http = reqwest::blocking::Client::new();
        crate::poll_until(format_args!("verdaccio answering on port {port}"), || {
            if let Some(status) = server.child.try_wait().unwrap() {
                panic!("verdaccio exited at start ({status})");
            }
            match http.get(format!("{}-/ping", server.url())).send() {
                Ok(r) if r.status().is_success() => Ok(()),
                Ok(r) => Err(r.status().to_string()),
                Err(e) => Err(e.to_string()),
            }
        });
        server
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    /// The server's log file.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("verdaccio.log")).unwrap_or_default()
    }

    /// Creates a user (npm's `adduser`) and returns its token.
    pub fn token(&self, name: &str, password: &str) -> String {
        let response = reqwest::blocking::Client::new()
            .put(format!("{}-/user/org.couchdb.user:{name}", self.url()))
            .json(&serde_json::json!({ "name": name, "password": password }))
            .send()
            .unwrap();
        assert!(response.status().is_success(), "adduser: {}", response.status());
        let body: serde_json::Value = response.json().unwrap();
        body["token"].as_str().expect("adduser returns a token").to_string()
    }

    /// The registry's package document, read directly.
    pub fn packument(&self, package: &str) -> serde_json::Value {
        let url = format!("{}{}", self.url(), package.replace('/', "%2f"));
        reqwest::blocking::get(url).unwrap().json().unwrap()
    }

    /// GET of an absolute URL the registry gave (a tarball): the body's bytes.
    pub fn download(&self, url: &str) -> Vec<u8> {
        let response = reqwest::blocking::get(url).unwrap();
        assert!(response.status().is_success(), "GET {url}: {}", response.status());
        response.bytes().unwrap().to_vec()
    }

    /// Every stored file with its size and modification time: a publish or a dist-tag change
    /// writes here, reads do not.
    pub fn snapshot(&self) -> BTreeMap<PathBuf, (u64, SystemTime)> {
        crate::stored_files(&self.dir.path().join("storage"))
    }

    /// `npm view ARGS --json` against this registry, with no user configuration or cache.
    pub fn npm_view(&self, args: &[&str]) -> serde_json::Value {
        let scratch = tempfile::tempdir().unwrap();
        let userconfig = scratch.path().join("npmrc");
        std::fs::write(&userconfig, "").unwrap();
        let output = Command::new("npm")
            .arg("view")
            .args(args)
            .args(["--json", "--prefer-online", "--registry", &self.url(), "--userconfig"])
            .arg(&userconfig)
            .arg("--cache")
            .arg(scratch.path().join("cache"))
            .output()
            .expect("npm runs");
        assert!(output.status.success(), "npm view {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        serde_json::from_slice(&output.stdout).unwrap()
    }
}

impl Drop for Verdaccio {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A package tarball made by `npm pack` in `dir` (`@scope/name` packs as `scope-name-VERSION.tgz`).
/// Returns its path.
pub fn npm_pack(dir: &Path, name: &str, version: &str, source: &str) -> PathBuf {
    let package = tempfile::tempdir().unwrap();
    let manifest = serde_json::json!({
        "name": name, "version": version, "description": "A test package of trs", "main": "index.js",
        "license": "Apache-2.0",
    });
    std::fs::write(package.path().join("package.json"), manifest.to_string()).unwrap();
    std::fs::write(package.path().join("index.js"), source).unwrap();
    let output = Command::new("npm")
        .args(["pack", "--json", "--pack-destination"])
        .arg(dir)
        .current_dir(package.path())
        .output()
        .expect("npm runs");
    assert!(output.status.success(), "npm pack: {}", String::from_utf8_lossy(&output.stderr));
    let packed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    dir.join(packed[0]["filename"].as_str().unwrap().trim_start_matches('@').replace('/', "-"))
}

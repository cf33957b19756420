//! Debian's `docker-registry` (the CNCF distribution registry) for end-to-end tests: a child
//! process on a free loopback port, filesystem storage in a temporary folder, htpasswd
//! (bcrypt) basic authentication; stopped on drop.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::SystemTime;
use tempfile::TempDir;

pub struct OciRegistry {
    dir: TempDir,
    pub port: u16,
    child: Child,
    username: String,
    password: String,
}

impl OciRegistry {
    /// A registry where `username` signs in with `password`.
    pub fn start(username: &str, password: &str) -> OciRegistry {
        let dir = tempfile::tempdir().expect("temporary folder");
        let htpasswd = Command::new("htpasswd")
            .args(["-nbB", username, password])
            .output()
            .expect("htpasswd (apache2-utils) is installed by test.sh");
        assert!(htpasswd.status.success());
        std::fs::write(dir.path().join("htpasswd"), htpasswd.stdout).unwrap();
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let config = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n\
             http:\n  addr: 127.0.0.1:{port}\n  secret: trs-e2e\n\
             auth:\n  htpasswd:\n    realm: trs-e2e\n    path: {}\n",
            dir.path().join("storage").display(),
            dir.path().join("htpasswd").display()
        );
        std::fs::write(dir.path().join("config.yml"), config).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(dir.path().join("config.yml"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("docker-registry (Debian package) is installed by test.sh");
        let registry = OciRegistry { dir, port, child, username: username.to_string(), password: password.to_string() };
        crate::poll_until(format_args!("docker-registry listening on port {port}"), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())
        });
        registry
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// GET `/v2/{path}` with the registry's credentials, asking for OCI manifests: the status,
    /// the `Docker-Content-Digest` header and the body.
    pub fn get(&self, path: &str) -> (u16, Option<String>, Vec<u8>) {
        let response = reqwest::blocking::Client::new()
            .get(format!("{}/v2/{path}", self.url()))
            .basic_auth(&self.username, Some(&self.password))
            .header("accept", "application/vnd.oci.image.manifest.v1+json")
            .send()
            .expect("registry reachable");
        let status = response.status().as_u16();
        let digest = response.headers().get("docker-content-digest").and_then(|v| v.to_str().ok()).map(String::from);
        (status, digest, response.bytes().unwrap().to_vec())
    }

    /// The tags of `repository`, sorted (empty when it has none).
    pub fn tags(&self, repository: &str) -> Vec<String> {
        let (status, _, body) = self.get(&format!("{repository}/tags/list"));
        if status == 404 {
            return Vec::new();
        }
        let list: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let mut tags: Vec<String> =
            list["tags"].as_array().into_iter().flatten().map(|t| t.as_str().unwrap().to_string()).collect();
        tags.sort();
        tags
    }

    /// Every stored file with its size and modification time: a push writes here, reads do not.
    pub fn snapshot(&self) -> BTreeMap<PathBuf, (u64, SystemTime)> {
        crate::stored_files(&self.dir.path().join("storage"))
    }
}

impl Drop for OciRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

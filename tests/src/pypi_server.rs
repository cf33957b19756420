//! pypiserver for end-to-end tests: a child process on a free loopback port serving a temporary
//! folder, htpasswd (passlib) authentication for uploads, a log file; stopped on drop. Plus a
//! real wheel and sdist to release, and `pip download` to read an index as users do.
//!
//! The PyPI client's own tests (crates/trs-registry-clients/tests/registries/pypi.rs) start pypiserver
//! the same way; they are async tests of a crate that does not depend on this one, so they keep
//! their own copy.

use base64::Engine as _;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::SystemTime;
use tempfile::TempDir;

pub struct PypiServer {
    dir: TempDir,
    pub port: u16,
    child: Child,
}

impl PypiServer {
    /// An index where `username` uploads with `password` (reads need no credentials).
    pub fn start(username: &str, password: &str) -> PypiServer {
        let dir = tempfile::tempdir().expect("temporary folder");
        std::fs::create_dir(dir.path().join("packages")).unwrap();
        let htpasswd = dir.path().join("htpasswd");
        let made = Command::new("python3")
            .args([
                "-c",
                "import sys; from passlib.apache import HtpasswdFile; \
                 h = HtpasswdFile(sys.argv[1], new=True); h.set_password(sys.argv[2], sys.argv[3]); h.save()",
            ])
            .arg(&htpasswd)
            .args([username, password])
            .status()
            .expect("python3 runs");
        assert!(made.success(), "passlib is installed by test.sh (pip install pypiserver passlib)");
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("python3")
            .args(["-m", "pypiserver", "run", "-v", "-i", "127.0.0.1", "-p"])
            .arg(port.to_string())
            .arg("-P")
            .arg(&htpasswd)
            .args(["-a", "update", "--disable-fallback", "--hash-algo", "sha256", "--log-file"])
            .arg(dir.path().join("pypiserver.log"))
            .arg(dir.path().join("packages"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("pypiserver is installed by test.sh (pip install pypiserver passlib)");
        let mut server = PypiServer { dir, port, child };
        crate::poll_until(format_args!("pypiserver answering HTTP on port {port}"), || {
            if let Some(status) = server.child.try_wait().unwrap() {
                panic!("pypiserver exited at start ({status}); log: {}", server.log_text());
            }
            let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
            // Listening; make sure it answers HTTP, not just accepts.
            let _ = s.write_all(b"GET /health HTTP/1.0\r\n\r\n");
            let mut answer = String::new();
            let _ = std::io::Read::read_to_string(&mut s, &mut answer);
            if answer.starts_with("HTTP/") { Ok(()) } else { Err(format!("answered {answer:?}")) }
        });
        server
    }

    /// The upload URL (`twine --repository-url`), also the index's root.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    /// The server's log file (every request, every stored file).
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("pypiserver.log")).unwrap_or_default()
    }

    /// How many times the server stored `file` (its log line for every accepted upload).
    pub fn times_stored(&self, file: &str) -> usize {
        self.log_text().matches(&format!("stored '{file}'")).count()
    }

    /// The names of the files the index holds, sorted.
    pub fn stored_files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.dir.path().join("packages"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// The bytes of a stored file.
    pub fn stored(&self, file: &str) -> Vec<u8> {
        std::fs::read(self.dir.path().join("packages").join(file)).unwrap()
    }

    /// Every stored file with its size and modification time: an upload writes here, reads do not.
    pub fn snapshot(&self) -> BTreeMap<String, (u64, SystemTime)> {
        std::fs::read_dir(self.dir.path().join("packages"))
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let meta = e.metadata().unwrap();
                (e.file_name().to_string_lossy().into_owned(), (meta.len(), meta.modified().unwrap()))
            })
            .collect()
    }

    /// `pip download` of `requirement` from this index, a wheel (`binary`) or an sdist: the
    /// downloaded file's name and SHA-256, or pip's error output.
    pub fn pip_download(&self, requirement: &str, binary: bool) -> Result<(String, String), String> {
        let out = tempfile::tempdir().unwrap();
        let output = Command::new("python3")
            .args(["-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "--no-cache-dir"])
            .args(["--isolated", "--index-url", &format!("{}simple/", self.url()), "--dest"])
            .arg(out.path())
            .args(if binary { ["--only-binary", ":all:"] } else { ["--no-binary", ":all:"] })
            .arg(requirement)
            .output()
            .expect("pip runs");
        if !output.status.success() {
            return Err(String::from_utf8_lossy(&output.stderr).into_owned());
        }
        let entry = std::fs::read_dir(out.path()).unwrap().next().expect("pip downloaded a file").unwrap();
        Ok((entry.file_name().to_string_lossy().into_owned(), sha256_hex(&std::fs::read(entry.path()).unwrap())))
    }
}

impl Drop for PypiServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn metadata(name: &str, version: &str) -> String {
    format!(
        "Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: A test distribution of trs\n\
         License: Apache-2.0\nClassifier: Programming Language :: Python :: 3\n\nThe description.\n"
    )
}

/// A valid pure-Python wheel (PEP 427) in `dir`: module, METADATA, WHEEL and a RECORD with
/// digests. Returns its path.
pub fn wheel(dir: &Path, name: &str, version: &str, module_text: &str) -> PathBuf {
    let dist = name.replace('-', "_");
    let dist_info = format!("{dist}-{version}.dist-info");
    let files = [
        (format!("{dist}/__init__.py"), module_text.to_string()),
        (format!("{dist_info}/METADATA"), metadata(name, version)),
        (
            format!("{dist_info}/WHEEL"),
            "Wheel-Version: 1.0\nGenerator: trs-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n".into(),
        ),
    ];
    let mut record = String::new();
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    for (path, text) in &files {
        zip.start_file(path.as_str(), options).unwrap();
        zip.write_all(text.as_bytes()).unwrap();
        let digest = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(text.as_bytes()));
        record.push_str(&format!("{path},sha256={digest},{}\n", text.len()));
    }
    record.push_str(&format!("{dist_info}/RECORD,,\n"));
    zip.start_file(format!("{dist_info}/RECORD"), options).unwrap();
    zip.write_all(record.as_bytes()).unwrap();
    let path = dir.join(format!("{dist}-{version}-py3-none-any.whl"));
    std::fs::write(&path, zip.finish().unwrap().into_inner()).unwrap();
    path
}

/// An sdist (PEP 625 name) in `dir`, made with `tar czf`: PKG-INFO, LICENSE, NOTICE and an
/// in-tree PEP 517 backend that needs nothing installed, so that pip reads its metadata without
/// fetching a build system. Returns its path.
pub fn sdist(dir: &Path, name: &str, version: &str) -> PathBuf {
    let dist = name.replace('-', "_");
    let top = format!("{dist}-{version}");
    let tree = dir.join("sdist-tree");
    std::fs::create_dir_all(tree.join(&top)).unwrap();
    let backend = format!(
        "import os\n\
         def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):\n    \
             info = '{dist}-{version}.dist-info'\n    \
             os.makedirs(os.path.join(metadata_directory, info))\n    \
             with open(os.path.join(metadata_directory, info, 'METADATA'), 'w') as f:\n        \
                 f.write(open('PKG-INFO').read())\n    \
             return info\n"
    );
    let files = [
        ("PKG-INFO", metadata(name, version)),
        (
            "pyproject.toml",
            "[build-system]\nrequires = []\nbuild-backend = \"backend\"\nbackend-path = [\".\"]\n".into(),
        ),
        ("backend.py", backend),
        ("LICENSE", "Apache License 2.0\n".into()),
        ("NOTICE", "Copyright the foo authors\n".into()),
    ];
    for (file, text) in files {
        std::fs::write(tree.join(&top).join(file), text).unwrap();
    }
    let path = dir.join(format!("{top}.tar.gz"));
    let status = Command::new("tar").arg("czf").arg(&path).arg("-C").arg(&tree).arg(&top).status().expect("tar");
    assert!(status.success());
    path
}

//! The PyPI client against real indexes: two pypiserver processes (production and staging, as
//! PyPI and TestPyPI), each on a free loopback port with htpasswd authentication for uploads.
//! Results are checked with `pip download` from the index and with the server's own log of
//! stored files.

use std::io::Write;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use sha2::{Digest, Sha256, Sha512};
use tempfile::TempDir;
use trs_distribute::{Artifact, Credentials, DistributeError, Endpoint, RegistryClient, Target};
use trs_registry_clients::pypi::PypiClient;

const USER: &str = "rita";
const SECRET: &str = "pypi-AgEIcHlwaS5vcmc-s3cr3t-token";

/// A pypiserver child process serving a temporary folder; stopped on drop.
struct PypiServer {
    dir: TempDir,
    port: u16,
    child: Option<Child>,
    /// Whether the index's links carry `#sha256=` digests (pypiserver's default).
    digests: bool,
    /// The actions that need credentials (pypiserver's `-a`).
    authenticate: &'static str,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl PypiServer {
    fn start() -> PypiServer {
        Self::start_with(true, "update")
    }

    fn start_with(digests: bool, authenticate: &'static str) -> PypiServer {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("packages")).unwrap();
        let htpasswd = dir.path().join("htpasswd");
        let made = Command::new("python3")
            .args([
                "-c",
                "import sys; from passlib.apache import HtpasswdFile; \
                 h = HtpasswdFile(sys.argv[1], new=True); h.set_password(sys.argv[2], sys.argv[3]); h.save()",
            ])
            .arg(&htpasswd)
            .args([USER, SECRET])
            .status()
            .expect("python3 runs");
        assert!(made.success(), "passlib is installed by test.sh (pip install pypiserver passlib)");
        let mut server = PypiServer { port: free_port(), dir, child: None, digests, authenticate };
        server.run();
        server
    }

    fn log(&self) -> PathBuf {
        self.dir.path().join("pypiserver.log")
    }

    fn run(&mut self) {
        let child = Command::new("python3")
            .args(["-m", "pypiserver", "run", "-v", "-i", "127.0.0.1", "-p"])
            .arg(self.port.to_string())
            .arg("-P")
            .arg(self.dir.path().join("htpasswd"))
            .args(["-a", self.authenticate, "--disable-fallback", "--hash-algo"])
            .arg(if self.digests { "sha256" } else { "off" })
            .arg("--log-file")
            .arg(self.log())
            .arg(self.dir.path().join("packages"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("pypiserver is installed by test.sh (pip install pypiserver passlib)");
        self.child = Some(child);
        for _ in 0..400 {
            if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
                // Listening; make sure it answers HTTP, not just accepts.
                let _ = s.write_all(b"GET /health HTTP/1.0\r\n\r\n");
                let mut answer = String::new();
                let _ = std::io::Read::read_to_string(&mut s, &mut answer);
                if answer.starts_with("HTTP/") {
                    return;
                }
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("pypiserver exited at start ({status}); log: {}", self.log_text());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("pypiserver did not start on port {}", self.port);
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(self.log()).unwrap_or_default()
    }

    /// How many times the server stored `file` (its log line for every accepted upload).
    fn times_stored(&self, file: &str) -> usize {
        self.log_text().matches(&format!("stored '{file}'")).count()
    }

    fn stored_files(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.dir.path().join("packages"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// `pip download` of `requirement` from this index: the downloaded file's name and SHA-256,
    /// or pip's error output.
    fn pip_download(&self, requirement: &str, binary: bool) -> Result<(String, String), String> {
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
        let bytes = std::fs::read(entry.path()).unwrap();
        Ok((entry.file_name().to_string_lossy().into_owned(), hex::encode(Sha256::digest(bytes))))
    }
}

impl Drop for PypiServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn artifact(file_name: &str, bytes: Vec<u8>) -> Artifact {
    Artifact {
        file_name: file_name.to_string(),
        sha512: hex::encode(Sha512::digest(&bytes)),
        bytes: Bytes::from(bytes),
        signature: None,
    }
}

fn sha256(a: &Artifact) -> String {
    hex::encode(Sha256::digest(&a.bytes))
}

fn metadata(name: &str, version: &str) -> String {
    format!(
        "Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: A test distribution of trs\n\
         License: Apache-2.0\nClassifier: Programming Language :: Python :: 3\n\nThe description.\n"
    )
}

/// A valid pure-Python wheel (PEP 427): module, METADATA, WHEEL and a RECORD with digests.
fn wheel(name: &str, version: &str, module_text: &str) -> Artifact {
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
    let bytes = zip.finish().unwrap().into_inner();
    artifact(&format!("{dist}-{version}-py3-none-any.whl"), bytes)
}

/// An sdist (PEP 625 name) with PKG-INFO and an in-tree PEP 517 backend that needs nothing
/// installed, so that pip can read its metadata without fetching a build system.
fn sdist(name: &str, version: &str) -> Artifact {
    let dist = name.replace('-', "_");
    let top = format!("{dist}-{version}");
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
        (format!("{top}/PKG-INFO"), metadata(name, version)),
        (
            format!("{top}/pyproject.toml"),
            "[build-system]\nrequires = []\nbuild-backend = \"backend\"\nbackend-path = [\".\"]\n".into(),
        ),
        (format!("{top}/backend.py"), backend),
    ];
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default()));
    for (path, text) in &files {
        let mut header = tar::Header::new_gnu();
        header.set_size(text.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(1_700_000_000);
        tar.append_data(&mut header, path, text.as_bytes()).unwrap();
    }
    let bytes = tar.into_inner().unwrap().finish().unwrap();
    artifact(&format!("{top}.tar.gz"), bytes)
}

fn target(package: &str, version: &str) -> Target {
    Target { namespace: None, package: package.into(), version: version.into() }
}

fn client(production: &PypiServer, staging: Option<&PypiServer>, secret: &str) -> PypiClient {
    PypiClient::new(Endpoint {
        base_url: production.url(),
        staging_url: staging.map(PypiServer::url),
        repository_url: None,
        credentials: Credentials::new(Some(USER.into()), Some(secret.into())),
        timeouts: Default::default(),
    })
}

#[tokio::test]
async fn staging_then_promotion_puts_the_voted_bytes_on_each_index() {
    let production = PypiServer::start();
    let staging = PypiServer::start();
    let pypi = client(&production, Some(&staging), SECRET);
    let mut files = vec![wheel("apache-foo", "1.2.0", "VALUE = 1\n"), sdist("apache-foo", "1.2.0")];
    // The detached signature travels as the upload's `gpg_signature`: pypiserver keeps it beside the
    // file; pypi.org has discarded such signatures since 2023 (the upload still succeeds).
    let signature = "-----BEGIN PGP SIGNATURE-----\n\niQ==\n-----END PGP SIGNATURE-----\n";
    files[1].signature = Some(Bytes::from(signature));
    let names: Vec<String> = files.iter().map(|f| f.file_name.clone()).collect();
    assert_eq!(pypi.select(&names), names);
    let foo = target("apache-foo", "1.2.0");
    assert_eq!(pypi.lookup(&foo, true).await.unwrap(), None);

    let staged = pypi.upload(&foo, &files, true).await.unwrap();
    assert!(!staged.already_present);
    assert_eq!(staged.details["files"].as_array().unwrap().len(), 2, "{staged:?}");
    assert_eq!(staged.web_url, format!("{}/project/apache-foo/1.2.0/", staging.url().trim_end_matches('/')));
    assert_eq!(
        staging.stored_files(),
        ["apache_foo-1.2.0-py3-none-any.whl", "apache_foo-1.2.0.tar.gz", "apache_foo-1.2.0.tar.gz.asc"]
    );
    let stored_signature = std::fs::read(staging.dir.path().join("packages/apache_foo-1.2.0.tar.gz.asc")).unwrap();
    assert_eq!(stored_signature, signature.as_bytes());
    assert!(production.stored_files().is_empty(), "staging leaves production alone");
    assert_eq!(staging.pip_download("apache-foo==1.2.0", true).unwrap(), (names[0].clone(), sha256(&files[0])));
    assert_eq!(staging.pip_download("apache-foo==1.2.0", false).unwrap(), (names[1].clone(), sha256(&files[1])));
    assert!(production.pip_download("apache-foo==1.2.0", true).is_err());
    assert!(pypi.lookup(&foo, true).await.unwrap().is_some());
    assert_eq!(pypi.lookup(&foo, false).await.unwrap(), None);

    let promoted = pypi.promote(&foo, &files).await.unwrap();
    assert!(!promoted.already_present);
    assert_eq!(production.stored_files(), staging.stored_files());
    assert!(pypi.promote(&foo, &files).await.unwrap().already_present, "promoting again sends nothing");
    assert_eq!(production.pip_download("apache-foo==1.2.0", true).unwrap(), (names[0].clone(), sha256(&files[0])));
    assert_eq!(production.pip_download("apache-foo==1.2.0", false).unwrap(), (names[1].clone(), sha256(&files[1])));
    let found = pypi.lookup(&foo, false).await.unwrap().expect("on production");
    assert_eq!(found.details["files"], promoted.details["files"]);
    assert_eq!(found.api_url, format!("{}/pypi/apache-foo/1.2.0/json", production.url().trim_end_matches('/')));
}

#[tokio::test]
async fn promotion_needs_the_same_files_on_staging() {
    let production = PypiServer::start();
    let staging = PypiServer::start();
    let pypi = client(&production, Some(&staging), SECRET);
    let foo = target("apache-foo", "2.0.0");
    let voted = vec![wheel("apache-foo", "2.0.0", "VALUE = 2\n")];

    let refused = pypi.promote(&foo, &voted).await.unwrap_err();
    assert!(matches!(refused, DistributeError::Refused(_)), "{refused:?}");
    assert!(refused.to_string().contains("not on the staging index"), "{refused}");

    pypi.upload(&foo, &[wheel("apache-foo", "2.0.0", "VALUE = 'other'\n")], true).await.unwrap();
    let mismatch = pypi.promote(&foo, &voted).await.unwrap_err();
    assert!(matches!(mismatch, DistributeError::DigestMismatch(_)), "{mismatch:?}");
    assert!(production.stored_files().is_empty());
}

#[tokio::test]
async fn running_again_uploads_nothing_twice() {
    let production = PypiServer::start();
    let pypi = client(&production, None, SECRET);
    let foo = target("Apache_Foo", "1.0");
    let files = vec![wheel("apache-foo", "1.0.0", "VALUE = 1\n"), sdist("apache-foo", "1.0.0")];

    let first = pypi.upload(&foo, &files, false).await.unwrap();
    assert!(!first.already_present);
    let again = pypi.upload(&foo, &files, false).await.unwrap();
    assert!(again.already_present, "{again:?}");
    assert_eq!(again.details["files"], first.details["files"]);
    for file in &files {
        assert_eq!(production.times_stored(&file.file_name), 1, "{}", production.log_text());
    }

    // Two runs at once: both look before either uploads, so one of them meets the index's
    // "already exists" and must find the same bytes there rather than fail.
    let bar = target("apache-bar", "3.0");
    let bar_files = vec![wheel("apache-bar", "3.0", "VALUE = 3\n")];
    let (a, b) = tokio::join!(pypi.upload(&bar, &bar_files, false), pypi.upload(&bar, &bar_files, false));
    a.unwrap();
    b.unwrap();
    assert_eq!(production.times_stored(&bar_files[0].file_name), 1, "{}", production.log_text());
    let (_, digest) = production.pip_download("apache-bar==3.0", true).unwrap();
    assert_eq!(digest, sha256(&bar_files[0]));
}

#[tokio::test]
async fn the_same_file_name_with_other_bytes_is_a_digest_mismatch() {
    let production = PypiServer::start();
    let pypi = client(&production, None, SECRET);
    let foo = target("apache-foo", "1.0.0");
    let original = wheel("apache-foo", "1.0.0", "VALUE = 1\n");
    pypi.upload(&foo, std::slice::from_ref(&original), false).await.unwrap();

    let rebuilt = wheel("apache-foo", "1.0.0", "VALUE = 'rebuilt'\n");
    assert_eq!(rebuilt.file_name, original.file_name);
    let err = pypi.upload(&foo, &[rebuilt], false).await.unwrap_err();
    assert!(matches!(err, DistributeError::DigestMismatch(_)), "{err:?}");
    assert!(err.to_string().contains(&sha256(&original)), "{err}");
    assert_eq!(production.times_stored(&original.file_name), 1);
    let (_, digest) = production.pip_download("apache-foo==1.0.0", true).unwrap();
    assert_eq!(digest, sha256(&original), "the index keeps the first bytes");
}

#[tokio::test]
async fn files_that_are_not_the_target_are_not_sent() {
    let production = PypiServer::start();
    let pypi = client(&production, None, SECRET);
    let files = vec![wheel("apache-foo-plugin", "1.0.0", "X = 1\n"), artifact("apache-foo-1.0.0-src.tar.gz", vec![1])];
    let err = pypi.upload(&target("apache-foo", "1.0.0"), &files, false).await.unwrap_err();
    assert!(matches!(err, DistributeError::Unsupported(_)), "{err:?}");
    assert!(err.to_string().contains("apache_foo_plugin-1.0.0-py3-none-any.whl (apache-foo-plugin 1.0.0)"), "{err}");

    // A wheel whose name claims another version than its metadata is refused before sending.
    let mut liar = wheel("apache-foo", "1.0.0", "X = 1\n");
    liar.file_name = "apache_foo-1.0.1-py3-none-any.whl".into();
    let err = pypi.upload(&target("apache-foo", "1.0.1"), &[liar], false).await.unwrap_err();
    assert!(matches!(err, DistributeError::Refused(_)), "{err:?}");
    assert!(production.stored_files().is_empty());
}

#[tokio::test]
async fn wrong_credentials_are_refused_and_never_shown() {
    let production = PypiServer::start();
    let wrong = "pypi-WRONG-t0ken-never-to-be-shown";
    let pypi = client(&production, None, wrong);
    let err =
        pypi.upload(&target("apache-foo", "1.0.0"), &[wheel("apache-foo", "1.0.0", "")], false).await.unwrap_err();
    assert!(matches!(err, DistributeError::Refused(_)), "{err:?}");
    assert!(err.to_string().contains("401") || err.to_string().contains("403"), "{err}");
    for text in [err.to_string(), format!("{err:?}"), format!("{pypi:?}")] {
        assert!(!text.contains(wrong), "{text}");
        assert!(!text.contains("t0ken"), "{text}");
    }
    assert!(production.stored_files().is_empty());

    let right = client(&production, None, SECRET);
    assert!(!format!("{right:?}").contains(SECRET));
}

#[tokio::test]
async fn a_stopped_index_is_transient_and_a_rerun_completes() {
    let mut production = PypiServer::start();
    let pypi = client(&production, None, SECRET);
    let foo = target("apache-foo", "1.0.0");
    let files = vec![wheel("apache-foo", "1.0.0", "VALUE = 1\n"), sdist("apache-foo", "1.0.0")];

    production.stop();
    let err = pypi.upload(&foo, &files, false).await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    assert!(!err.to_string().contains(SECRET) && !format!("{err:?}").contains(SECRET));

    // The first file got there before the interruption; the rerun sends only the rest.
    production.run();
    pypi.upload(&foo, &files[..1], false).await.unwrap();
    let done = pypi.upload(&foo, &files, false).await.unwrap();
    assert!(!done.already_present);
    let uploads = done.details["uploads"].as_array().unwrap();
    assert_eq!(uploads.iter().map(|u| u["uploaded"].as_bool().unwrap()).collect::<Vec<_>>(), [false, true]);
    for file in &files {
        assert_eq!(production.times_stored(&file.file_name), 1, "{}", production.log_text());
    }
    assert_eq!(production.pip_download("apache-foo==1.0.0", false).unwrap().1, sha256(&files[1]));
}

#[tokio::test]
async fn an_index_without_digests_is_checked_by_the_bytes_it_serves() {
    let production = PypiServer::start_with(false, "update");
    let pypi = client(&production, None, SECRET);
    let foo = target("apache-foo", "1.0.0");
    let original = wheel("apache-foo", "1.0.0", "VALUE = 1\n");
    pypi.upload(&foo, std::slice::from_ref(&original), false).await.unwrap();
    let page = reqwest::get(format!("{}simple/apache-foo/", production.url())).await.unwrap().text().await.unwrap();
    assert!(page.contains(&original.file_name) && !page.contains("sha256="), "{page}");

    assert!(pypi.upload(&foo, std::slice::from_ref(&original), false).await.unwrap().already_present);
    let err = pypi.upload(&foo, &[wheel("apache-foo", "1.0.0", "VALUE = 2\n")], false).await.unwrap_err();
    assert!(matches!(err, DistributeError::DigestMismatch(_)), "{err:?}");
    assert_eq!(production.times_stored(&original.file_name), 1);
}

#[tokio::test]
async fn a_private_index_is_read_with_the_credentials() {
    let production = PypiServer::start_with(false, "list,download,update");
    let anonymous = reqwest::get(format!("{}simple/apache-foo/", production.url())).await.unwrap();
    assert_eq!(anonymous.status(), reqwest::StatusCode::UNAUTHORIZED);
    let pypi = client(&production, None, SECRET);
    let foo = target("apache-foo", "1.0.0");
    let files = vec![wheel("apache-foo", "1.0.0", "VALUE = 1\n")];
    assert!(!pypi.upload(&foo, &files, false).await.unwrap().already_present);
    assert!(pypi.upload(&foo, &files, false).await.unwrap().already_present);
    assert!(pypi.lookup(&foo, false).await.unwrap().is_some());
    let err = pypi.upload(&foo, &[wheel("apache-foo", "1.0.0", "VALUE = 2\n")], false).await.unwrap_err();
    assert!(matches!(err, DistributeError::DigestMismatch(_)), "{err:?}");
    assert_eq!(production.times_stored(&files[0].file_name), 1);
}

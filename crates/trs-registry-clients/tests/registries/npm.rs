//! The npm client against a real registry: verdaccio (installed by test.sh into a local npm
//! prefix), on a free loopback port with htpasswd users, its storage in a temporary folder and
//! no uplinks, so it never reaches the network. Tarballs are made with `npm pack`; results are
//! checked with `npm view` and the registry's package document.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use sha2::{Digest, Sha512};
use tempfile::TempDir;
use trs_distribute::{Artifact, Credentials, DistributeError, Endpoint, RegistryClient, Target};
use trs_registry_clients::npm::NpmClient;

const USER: &str = "rita";
const PASSWORD: &str = "verdaccio-s3cr3t-password";

/// Where test.sh installs verdaccio, unless `TRS_VERDACCIO` names the binary.
fn verdaccio_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("TRS_VERDACCIO") {
        return bin.into();
    }
    let home = std::env::var_os("HOME").expect("HOME is set");
    Path::new(&home).join(".cache/trs-tools/node_modules/.bin/verdaccio")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A verdaccio child process; stopped on drop.
struct Verdaccio {
    dir: TempDir,
    port: u16,
    child: Option<Child>,
}

impl Verdaccio {
    async fn start() -> Verdaccio {
        let dir = tempfile::tempdir().unwrap();
        let config = format!(
            "storage: {storage}\n\
             auth:\n  htpasswd:\n    file: {htpasswd}\n    max_users: 10\n\
             uplinks: {{}}\n\
             packages:\n  '@*/*':\n    access: $all\n    publish: $authenticated\n  \
             '**':\n    access: $all\n    publish: $authenticated\n\
             web:\n  enable: false\n\
             log: {{ type: stdout, format: pretty, level: warn }}\n",
            storage = dir.path().join("storage").display(),
            htpasswd = dir.path().join("htpasswd").display(),
        );
        std::fs::write(dir.path().join("config.yaml"), config).unwrap();
        let mut server = Verdaccio { port: free_port(), dir, child: None };
        server.run().await;
        server
    }

    async fn run(&mut self) {
        let bin = verdaccio_bin();
        assert!(bin.exists(), "verdaccio is installed by test.sh at {}", bin.display());
        let child = Command::new(bin)
            .arg("--config")
            .arg(self.dir.path().join("config.yaml"))
            .arg("--listen")
            .arg(format!("127.0.0.1:{}", self.port))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("verdaccio starts");
        self.child = Some(child);
        let http = reqwest::Client::new();
        for _ in 0..600 {
            if http.get(format!("{}-/ping", self.url())).send().await.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("verdaccio exited at start ({status})");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("verdaccio did not start on port {}", self.port);
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

    /// Creates a user (npm's `adduser`) and returns its token.
    async fn token(&self, name: &str, password: &str) -> String {
        let response = reqwest::Client::new()
            .put(format!("{}-/user/org.couchdb.user:{name}", self.url()))
            .json(&serde_json::json!({ "name": name, "password": password }))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "adduser: {}", response.status());
        let body: serde_json::Value = response.json().await.unwrap();
        body["token"].as_str().expect("adduser returns a token").to_string()
    }

    /// The registry's package document, read directly.
    async fn packument(&self, package: &str) -> serde_json::Value {
        let url = format!("{}{}", self.url(), package.replace('/', "%2f"));
        reqwest::get(url).await.unwrap().json().await.unwrap()
    }

    /// `npm view ARGS --json` against this registry, with no user configuration or cache.
    fn npm_view(&self, args: &[&str]) -> serde_json::Value {
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
        self.stop();
    }
}

/// A package tarball made by `npm pack`.
fn pack(name: &str, version: &str, source: &str) -> Artifact {
    let dir = tempfile::tempdir().unwrap();
    let manifest = serde_json::json!({
        "name": name, "version": version, "description": "A test package of trs", "main": "index.js",
        "license": "Apache-2.0",
    });
    std::fs::write(dir.path().join("package.json"), manifest.to_string()).unwrap();
    std::fs::write(dir.path().join("index.js"), source).unwrap();
    let output = Command::new("npm")
        .args(["pack", "--json", "--pack-destination"])
        .arg(dir.path())
        .current_dir(dir.path())
        .output()
        .expect("npm runs");
    assert!(output.status.success(), "npm pack: {}", String::from_utf8_lossy(&output.stderr));
    let packed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let file_name = packed[0]["filename"].as_str().unwrap().to_string();
    let bytes = std::fs::read(dir.path().join(&file_name)).unwrap();
    Artifact {
        file_name: file_name.trim_start_matches('@').replace('/', "-"),
        sha512: hex::encode(Sha512::digest(&bytes)),
        bytes: Bytes::from(bytes),
        signature: None,
    }
}

fn integrity(a: &Artifact) -> String {
    format!("sha512-{}", base64::engine::general_purpose::STANDARD.encode(Sha512::digest(&a.bytes)))
}

fn target(package: &str, version: &str) -> Target {
    Target { namespace: None, package: package.into(), version: version.into() }
}

fn client(registry: &Verdaccio, token: &str) -> NpmClient {
    NpmClient::new(Endpoint {
        base_url: registry.url(),
        staging_url: None,
        repository_url: None,
        credentials: Credentials::new(None, Some(token.into())),
        timeouts: Default::default(),
    })
}

#[tokio::test]
async fn staging_then_promotion_moves_latest_to_the_voted_version() {
    let registry = Verdaccio::start().await;
    let npm = client(&registry, &registry.token(USER, PASSWORD).await);
    let name = "@apache/foo";
    let first = pack(name, "1.0.0", "module.exports = 1;\n");
    let next = pack(name, "1.1.0", "module.exports = 2;\n");
    let names = [first.file_name.clone(), "foo.tar.gz".into()];
    assert_eq!(npm.select(&names), names[..1]);

    // A package's first version becomes `latest` on any registry, so staging a candidate of a
    // new package is refused (the core asks before staging a candidate); once it has a
    // `latest`, staging keeps new versions out of it.
    let refused = npm.check_staging_keeps_it_private(&target(name, "1.0.0")).await.unwrap_err();
    assert!(
        matches!(&refused, DistributeError::Unsupported(m) if m.contains("first version") && m.contains(name)),
        "{refused:?}"
    );
    npm.upload(&target(name, "1.0.0"), std::slice::from_ref(&first), false).await.unwrap();
    npm.check_staging_keeps_it_private(&target(name, "1.1.0")).await.unwrap();
    let staged = npm.upload(&target(name, "1.1.0"), &[first.clone(), next.clone()], true).await.unwrap();
    assert!(!staged.already_present);
    assert_eq!(staged.details["integrity"], integrity(&next));
    assert_eq!(registry.npm_view(&[&format!("{name}@1.1.0"), "dist.integrity"]), integrity(&next));
    assert_eq!(registry.npm_view(&[name, "dist-tags"]), serde_json::json!({"latest": "1.0.0", "staging": "1.1.0"}));
    assert!(npm.lookup(&target(name, "1.1.0"), true).await.unwrap().is_some());
    assert_eq!(npm.lookup(&target(name, "1.1.0"), false).await.unwrap(), None);

    let promoted = npm.promote(&target(name, "1.1.0"), &[first.clone(), next.clone()]).await.unwrap();
    assert!(!promoted.already_present);
    assert_eq!(registry.npm_view(&[name, "dist-tags"]), serde_json::json!({"latest": "1.1.0", "staging": "1.1.0"}));
    assert_eq!(registry.npm_view(&[name, "version"]), "1.1.0");
    let found = npm.lookup(&target(name, "1.1.0"), false).await.unwrap().expect("promoted");
    assert_eq!(found.details["integrity"], integrity(&next));
    assert!(found.upload_date.is_some());

    let rev = registry.packument(name).await["_rev"].clone();
    let again = npm.promote(&target(name, "1.1.0"), std::slice::from_ref(&next)).await.unwrap();
    assert!(again.already_present);
    assert_eq!(registry.packument(name).await["_rev"], rev, "a repeated promotion writes nothing");
}

#[tokio::test]
async fn promotion_needs_the_voted_bytes_on_the_registry() {
    let registry = Verdaccio::start().await;
    let npm = client(&registry, &registry.token(USER, PASSWORD).await);
    let voted = pack("trs-foo", "2.0.0", "module.exports = 'voted';\n");

    let err = npm.promote(&target("trs-foo", "2.0.0"), std::slice::from_ref(&voted)).await.unwrap_err();
    assert!(matches!(err, DistributeError::Refused(_)), "{err:?}");
    assert!(err.to_string().contains("stage it before promoting it"), "{err}");

    npm.upload(&target("trs-foo", "1.0.0"), &[pack("trs-foo", "1.0.0", "1;\n")], false).await.unwrap();
    npm.upload(&target("trs-foo", "2.0.0"), &[pack("trs-foo", "2.0.0", "'other';\n")], true).await.unwrap();
    let err = npm.promote(&target("trs-foo", "2.0.0"), &[voted]).await.unwrap_err();
    assert!(matches!(err, DistributeError::DigestMismatch(_)), "{err:?}");
    assert_eq!(registry.npm_view(&["trs-foo", "dist-tags.latest"]), "1.0.0");
}

#[tokio::test]
async fn running_again_publishes_nothing_twice() {
    let registry = Verdaccio::start().await;
    let npm = client(&registry, &registry.token(USER, PASSWORD).await);
    let foo = target("trs-foo", "1.0.0");
    let tarball = pack("trs-foo", "1.0.0", "module.exports = 1;\n");

    let first = npm.upload(&foo, std::slice::from_ref(&tarball), false).await.unwrap();
    assert!(!first.already_present);
    let rev = registry.packument("trs-foo").await["_rev"].clone();
    let again = npm.upload(&foo, std::slice::from_ref(&tarball), false).await.unwrap();
    assert!(again.already_present, "{again:?}");
    assert_eq!(registry.packument("trs-foo").await["_rev"], rev, "the second run wrote nothing");

    // Two runs at once: the later publish meets the registry's conflict and must find the same
    // bytes there rather than fail.
    let next = target("trs-foo", "1.1.0");
    let next_tarball = pack("trs-foo", "1.1.0", "module.exports = 2;\n");
    let (a, b) = tokio::join!(
        npm.upload(&next, std::slice::from_ref(&next_tarball), false),
        npm.upload(&next, std::slice::from_ref(&next_tarball), false)
    );
    a.unwrap();
    b.unwrap();
    assert_eq!(registry.npm_view(&["trs-foo@1.1.0", "dist.integrity"]), integrity(&next_tarball));
    assert_eq!(registry.npm_view(&["trs-foo", "versions"]), serde_json::json!(["1.0.0", "1.1.0"]));
}

#[tokio::test]
async fn the_same_version_with_other_bytes_is_a_digest_mismatch() {
    let registry = Verdaccio::start().await;
    let npm = client(&registry, &registry.token(USER, PASSWORD).await);
    let foo = target("trs-foo", "1.0.0");
    let original = pack("trs-foo", "1.0.0", "module.exports = 1;\n");
    npm.upload(&foo, std::slice::from_ref(&original), false).await.unwrap();

    let rebuilt = pack("trs-foo", "1.0.0", "module.exports = 'rebuilt';\n");
    for staging in [false, true] {
        let err = npm.upload(&foo, std::slice::from_ref(&rebuilt), staging).await.unwrap_err();
        assert!(matches!(err, DistributeError::DigestMismatch(_)), "{err:?}");
        assert!(err.to_string().contains(&integrity(&original)), "{err}");
    }
    assert_eq!(registry.npm_view(&["trs-foo@1.0.0", "dist.integrity"]), integrity(&original));
    assert_eq!(registry.npm_view(&["trs-foo", "dist-tags"]), serde_json::json!({"latest": "1.0.0"}));
}

#[tokio::test]
async fn a_release_without_the_package_is_unsupported() {
    let registry = Verdaccio::start().await;
    let npm = client(&registry, &registry.token(USER, PASSWORD).await);
    let other = pack("trs-bar", "1.0.0", "1;\n");
    let err = npm.upload(&target("trs-foo", "1.0.0"), &[other], false).await.unwrap_err();
    assert!(matches!(err, DistributeError::Unsupported(_)), "{err:?}");
    assert!(err.to_string().contains("trs-bar-1.0.0.tgz (trs-bar@1.0.0)"), "{err}");
}

#[tokio::test]
async fn wrong_credentials_are_refused_and_never_shown() {
    let registry = Verdaccio::start().await;
    let real = registry.token(USER, PASSWORD).await;
    let wrong = "npm_WRONGt0kenNeverToBeShown0123456789";
    let npm = client(&registry, wrong);
    let tarball = pack("trs-foo", "1.0.0", "1;\n");
    let err = npm.upload(&target("trs-foo", "1.0.0"), &[tarball], false).await.unwrap_err();
    assert!(matches!(err, DistributeError::Refused(_)), "{err:?}");
    for text in [err.to_string(), format!("{err:?}"), format!("{npm:?}"), format!("{:?}", client(&registry, &real))] {
        assert!(!text.contains(wrong) && !text.contains("t0ken"), "{text}");
        assert!(!text.contains(&real), "{text}");
    }
    let packument = reqwest::get(format!("{}trs-foo", registry.url())).await.unwrap();
    assert_eq!(packument.status(), reqwest::StatusCode::NOT_FOUND, "nothing was published");
}

#[tokio::test]
async fn a_stopped_registry_is_transient_and_a_rerun_completes() {
    let mut registry = Verdaccio::start().await;
    let token = registry.token(USER, PASSWORD).await;
    let npm = client(&registry, &token);
    npm.upload(&target("trs-foo", "1.0.0"), &[pack("trs-foo", "1.0.0", "1;\n")], false).await.unwrap();
    let staged = pack("trs-foo", "1.1.0", "2;\n");
    npm.upload(&target("trs-foo", "1.1.0"), std::slice::from_ref(&staged), true).await.unwrap();

    registry.stop();
    for result in [
        npm.promote(&target("trs-foo", "1.1.0"), std::slice::from_ref(&staged)).await,
        npm.upload(&target("trs-foo", "1.1.0"), std::slice::from_ref(&staged), true).await,
    ] {
        let err = result.unwrap_err();
        assert!(err.is_transient(), "{err:?}");
        assert!(!err.to_string().contains(&token) && !format!("{err:?}").contains(&token));
    }

    registry.run().await;
    let promoted = npm.promote(&target("trs-foo", "1.1.0"), std::slice::from_ref(&staged)).await.unwrap();
    assert!(!promoted.already_present);
    assert_eq!(registry.npm_view(&["trs-foo", "dist-tags.latest"]), "1.1.0");
    assert_eq!(registry.npm_view(&["trs-foo@1.1.0", "dist.integrity"]), integrity(&staged));
}

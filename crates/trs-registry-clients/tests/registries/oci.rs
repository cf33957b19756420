//! The OCI client against a real registry: Debian's `docker-registry` (the CNCF distribution
//! registry), started on a free loopback port with filesystem storage in a temporary folder and
//! htpasswd (bcrypt) basic authentication. Results are checked through the registry's own API
//! and its storage folder.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use sha2::{Digest, Sha256, Sha512};
use tempfile::TempDir;
use trs_distribute::{Artifact, Credentials, DistributeError, Endpoint, RegistryClient, Staging, Target};
use trs_registry_clients::oci::{ARTIFACT_TYPE, MANIFEST_MEDIA_TYPE, OciClient};

const USER: &str = "rita";
const SECRET: &str = "oci-s3cr3t-token-value";

/// A `docker-registry` child process; stopped on drop.
struct Registry {
    dir: TempDir,
    port: u16,
    child: Option<Child>,
    /// The `auth:` section of its configuration.
    auth: String,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Registry {
    /// A registry with htpasswd (bcrypt) basic authentication.
    fn start() -> Registry {
        let dir = tempfile::tempdir().unwrap();
        let htpasswd = Command::new("htpasswd")
            .args(["-nbB", USER, SECRET])
            .output()
            .expect("htpasswd (apache2-utils) is installed by test.sh");
        assert!(htpasswd.status.success());
        std::fs::write(dir.path().join("htpasswd"), htpasswd.stdout).unwrap();
        let auth = format!("  htpasswd:\n    realm: trs-test\n    path: {}\n", dir.path().join("htpasswd").display());
        let mut registry = Registry { port: free_port(), dir, child: None, auth };
        registry.run();
        registry
    }

    /// A registry with token authentication: tokens from `realm`, signed by the key of `cert`.
    fn start_with_token_auth(realm: &str, cert: &Path) -> Registry {
        let auth = format!(
            "  token:\n    realm: {realm}\n    service: {TOKEN_SERVICE}\n    issuer: {TOKEN_ISSUER}\n    \
             rootcertbundle: {}\n",
            cert.display()
        );
        let mut registry = Registry { port: free_port(), dir: tempfile::tempdir().unwrap(), child: None, auth };
        registry.run();
        registry
    }

    fn storage(&self) -> PathBuf {
        self.dir.path().join("storage")
    }

    fn run(&mut self) {
        let config = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n\
             http:\n  addr: 127.0.0.1:{}\n  secret: trs-test-secret\nauth:\n{}",
            self.storage().display(),
            self.port,
            self.auth
        );
        let config_path = self.dir.path().join("config.yml");
        std::fs::write(&config_path, config).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("docker-registry (Debian package) is installed by test.sh");
        self.child = Some(child);
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("docker-registry did not start on port {}", self.port);
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn client(&self) -> OciClient {
        client_for(&self.url(), SECRET)
    }

    /// Every stored file with its size and modification time: a push writes here, reads do not.
    fn snapshot(&self) -> BTreeMap<PathBuf, (u64, SystemTime)> {
        fn walk(dir: &Path, out: &mut BTreeMap<PathBuf, (u64, SystemTime)>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let meta = entry.metadata().unwrap();
                if meta.is_dir() {
                    walk(&entry.path(), out);
                } else {
                    out.insert(entry.path(), (meta.len(), meta.modified().unwrap()));
                }
            }
        }
        let mut out = BTreeMap::new();
        walk(&self.storage(), &mut out);
        out
    }

    fn blob_file(&self, bytes: &[u8]) -> PathBuf {
        let hex = hex::encode(Sha256::digest(bytes));
        self.storage().join(format!("docker/registry/v2/blobs/sha256/{}/{hex}/data", &hex[..2]))
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
    }
}

fn client_for(url: &str, secret: &str) -> OciClient {
    OciClient::new(Endpoint {
        base_url: url.into(),
        staging_url: None,
        repository_url: None,
        credentials: Credentials::new(Some(USER.into()), Some(secret.into())),
        timeouts: Default::default(),
    })
}

fn artifact(name: &str, bytes: Vec<u8>) -> Artifact {
    let sha512 = hex::encode(Sha512::digest(&bytes));
    Artifact { file_name: name.into(), bytes: Bytes::from(bytes), sha512, signature: None }
}

fn release(content: &str) -> Vec<Artifact> {
    vec![
        artifact("foo-1.2.0.tar.gz", format!("source tarball {content}").into_bytes()),
        artifact("foo-1.2.0-bin.zip", format!("binary zip {content}").into_bytes()),
    ]
}

fn target() -> Target {
    Target { namespace: Some("apache".into()), package: "foo".into(), version: "1.2.0".into() }
}

fn staging_tag() -> String {
    match trs_distribute::platform(trs_distribute::PlatformName::Oci).staging {
        Staging::TagSuffix { suffix } => format!("1.2.0{suffix}"),
        other => panic!("OCI stages with a tag suffix, not {other:?}"),
    }
}

/// Reads the registry directly (not through the client under test).
struct Reader {
    base: String,
    http: reqwest::Client,
}

impl Reader {
    fn new(registry: &Registry) -> Reader {
        Reader { base: format!("{}/v2/apache/foo", registry.url()), http: reqwest::Client::new() }
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}/{path}", self.base))
            .basic_auth(USER, Some(SECRET))
            .header("accept", MANIFEST_MEDIA_TYPE)
            .send()
            .await
            .unwrap()
    }

    async fn tags(&self) -> Vec<String> {
        let list: serde_json::Value = self.get("tags/list").await.json().await.unwrap();
        let mut tags: Vec<String> =
            list["tags"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_string()).collect();
        tags.sort();
        tags
    }

    /// The manifest at `tag`: its digest header and its JSON.
    async fn manifest(&self, tag: &str) -> (String, serde_json::Value) {
        let response = self.get(&format!("manifests/{tag}")).await;
        assert_eq!(response.status(), 200, "manifest {tag}");
        let digest = response.headers()["docker-content-digest"].to_str().unwrap().to_string();
        (digest, response.json().await.unwrap())
    }
}

#[tokio::test]
async fn staging_pushes_an_artifact_under_the_staging_tag_and_promotion_retags_it_by_digest() {
    let registry = Registry::start();
    let client = registry.client();
    let reader = Reader::new(&registry);
    let mut files = release("one");
    let signature = Bytes::from_static(b"-----BEGIN PGP SIGNATURE-----\n\n...\n-----END PGP SIGNATURE-----\n");
    files[0].signature = Some(signature.clone());

    assert!(client.lookup(&target(), true).await.unwrap().is_none());
    let staged = client.upload(&target(), &files, true).await.unwrap();
    assert!(!staged.already_present);
    assert_eq!(reader.tags().await, vec![staging_tag()]);
    assert_eq!(staged.api_url, format!("{}/v2/apache/foo/manifests/{}", registry.url(), staging_tag()));

    let (digest, manifest) = reader.manifest(&staging_tag()).await;
    assert_eq!(staged.details["digest"], digest);
    assert_eq!(manifest["mediaType"], MANIFEST_MEDIA_TYPE);
    assert_eq!(manifest["artifactType"], ARTIFACT_TYPE);
    assert_eq!(manifest["config"]["mediaType"], "application/vnd.oci.empty.v1+json");
    // Each file is a layer named by its title annotation, and the blob holds exactly its bytes.
    // The signature travels with its file, as `{file}.asc`.
    let layers = manifest["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 3);
    let expected = files
        .iter()
        .map(|f| (f.file_name.clone(), f.bytes.clone()))
        .chain([("foo-1.2.0.tar.gz.asc".to_string(), signature)]);
    for (name, bytes) in expected {
        let layer = layers
            .iter()
            .find(|l| l["annotations"]["org.opencontainers.image.title"] == name.as_str())
            .unwrap_or_else(|| panic!("no layer for {name}"));
        let blob = reader.get(&format!("blobs/{}", layer["digest"].as_str().unwrap())).await;
        assert_eq!(blob.bytes().await.unwrap(), bytes);
    }
    assert!(client.lookup(&target(), false).await.unwrap().is_none(), "staging is not production");

    let promoted = client.promote(&target(), &files).await.unwrap();
    assert!(!promoted.already_present);
    assert_eq!(reader.tags().await, vec!["1.2.0".to_string(), staging_tag()]);
    let (production_digest, _) = reader.manifest("1.2.0").await;
    assert_eq!(production_digest, digest, "promotion retags the staged manifest, it pushes no new one");
    assert_eq!(promoted.details["digest"], digest);
    let found = client.lookup(&target(), false).await.unwrap().unwrap();
    assert_eq!(found.details["digest"], digest);
}

#[tokio::test]
async fn running_again_pushes_nothing_and_reports_already_present() {
    let registry = Registry::start();
    let client = registry.client();
    let files = release("one");
    client.upload(&target(), &files, true).await.unwrap();
    client.promote(&target(), &files).await.unwrap();
    let before = registry.snapshot();

    // Files in another order are the same artifact.
    let reordered: Vec<Artifact> = files.iter().rev().cloned().collect();
    assert!(client.upload(&target(), &reordered, true).await.unwrap().already_present);
    assert!(client.promote(&target(), &files).await.unwrap().already_present);
    assert!(client.upload(&target(), &files, false).await.unwrap().already_present);
    assert_eq!(registry.snapshot(), before, "nothing was written to the registry's storage");
}

#[tokio::test]
async fn different_bytes_under_an_existing_tag_are_a_digest_mismatch_and_change_nothing() {
    let registry = Registry::start();
    let client = registry.client();
    let reader = Reader::new(&registry);
    client.upload(&target(), &release("one"), true).await.unwrap();
    let before = registry.snapshot();

    let err = client.upload(&target(), &release("two"), true).await.unwrap_err();
    assert!(matches!(err, DistributeError::DigestMismatch(_)), "{err:?}");
    assert!(err.to_string().contains(&staging_tag()), "{err}");

    // The staged artifact is not the voted one: promotion refuses, and no release tag appears.
    let err = client.promote(&target(), &release("two")).await.unwrap_err();
    assert!(matches!(err, DistributeError::DigestMismatch(_)), "{err:?}");
    assert_eq!(reader.tags().await, vec![staging_tag()]);
    assert_eq!(registry.snapshot(), before);

    // Production already holding other bytes is a mismatch too.
    client.upload(&target(), &release("one"), false).await.unwrap();
    let err = client.upload(&target(), &release("two"), false).await.unwrap_err();
    assert!(matches!(err, DistributeError::DigestMismatch(_)), "{err:?}");
}

#[tokio::test]
async fn promoting_without_a_staged_artifact_is_refused() {
    let registry = Registry::start();
    let err = registry.client().promote(&target(), &release("one")).await.unwrap_err();
    assert!(matches!(err, DistributeError::Refused(_)), "{err:?}");
    assert!(err.to_string().contains("nothing is staged"), "{err}");
}

#[tokio::test]
async fn a_stopped_registry_is_a_transient_failure_and_the_push_succeeds_once_it_is_back() {
    let mut registry = Registry::start();
    let client = registry.client();
    registry.stop();
    let err = client.upload(&target(), &release("one"), true).await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    assert!(!format!("{err} {err:?}").contains(SECRET));

    registry.run();
    let published = client.upload(&target(), &release("one"), true).await.unwrap();
    assert!(!published.already_present);
    assert_eq!(Reader::new(&registry).tags().await, vec![staging_tag()]);
}

/// A loopback TCP proxy that forwards to `upstream` and cuts every connection once `limit`
/// request bytes have gone through: a network failure in the middle of a push.
async fn cutting_proxy(upstream: u16, limit: usize) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let sent = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        loop {
            let Ok((client, _)) = listener.accept().await else { return };
            let sent = sent.clone();
            tokio::spawn(async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let addr: SocketAddr = ([127, 0, 0, 1], upstream).into();
                let Ok(server) = tokio::net::TcpStream::connect(addr).await else { return };
                let (mut client_read, mut client_write) = client.into_split();
                let (mut server_read, mut server_write) = server.into_split();
                let back = tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
                });
                let mut buffer = vec![0u8; 16 * 1024];
                while let Ok(n) = client_read.read(&mut buffer).await {
                    if n == 0 || sent.fetch_add(n, Ordering::SeqCst) + n > limit {
                        break;
                    }
                    if server_write.write_all(&buffer[..n]).await.is_err() {
                        break;
                    }
                }
                back.abort();
            });
        }
    });
    port
}

#[tokio::test]
async fn an_interrupted_push_resumes_without_pushing_the_finished_blobs_again() {
    let registry = Registry::start();
    let files: Vec<Artifact> =
        (0..3u8).map(|i| artifact(&format!("foo-1.2.0-part{i}.bin"), vec![i; 1024 * 1024])).collect();
    // The connection breaks about half-way through the second file.
    let proxy = cutting_proxy(registry.port, 1024 * 1024 + 512 * 1024).await;
    let err =
        client_for(&format!("http://127.0.0.1:{proxy}"), SECRET).upload(&target(), &files, true).await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    let first = registry.blob_file(&files[0].bytes);
    let first_written =
        std::fs::metadata(&first).expect("the first file was pushed before the cut").modified().unwrap();
    assert!(!registry.blob_file(&files[2].bytes).exists());
    assert_eq!(Reader::new(&registry).get("tags/list").await.status(), 404, "no tag yet");

    let published = registry.client().upload(&target(), &files, true).await.unwrap();
    assert!(!published.already_present);
    assert_eq!(std::fs::metadata(&first).unwrap().modified().unwrap(), first_written, "not pushed again");
    for file in &files {
        assert!(registry.blob_file(&file.bytes).exists(), "{}", file.file_name);
    }
    assert_eq!(Reader::new(&registry).tags().await, vec![staging_tag()]);
}

#[tokio::test]
async fn wrong_credentials_are_refused_and_no_secret_reaches_an_error_or_debug_output() {
    let registry = Registry::start();
    let wrong = "wrong-s3cr3t-value";
    let client = client_for(&registry.url(), wrong);
    let err = client.upload(&target(), &release("one"), true).await.unwrap_err();
    assert!(matches!(err, DistributeError::Refused(_)), "{err:?}");
    assert!(err.to_string().contains("401"), "{err}");
    let good = registry.client();
    for text in [format!("{err}"), format!("{err:?}"), format!("{client:?}"), format!("{good:?}")] {
        assert!(!text.contains(wrong) && !text.contains(SECRET), "{text}");
    }
    assert!(registry.snapshot().keys().all(|p| !p.to_string_lossy().contains("_manifests")));
}

const TOKEN_SERVICE: &str = "trs-test-registry";
const TOKEN_ISSUER: &str = "trs-test-issuer";

/// A token realm as distribution's token auth expects one: checks the basic credentials and
/// answers a JWT (RS256, signed with `openssl`, the certificate in `x5c`) granting the asked
/// repository scope. Counts the tokens it gave.
struct TokenRealm {
    dir: TempDir,
    port: u16,
    issued: Arc<AtomicUsize>,
}

fn b64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

impl TokenRealm {
    async fn start() -> TokenRealm {
        let dir = tempfile::tempdir().unwrap();
        let status = Command::new("openssl")
            .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=trs-test-token"])
            .arg("-keyout")
            .arg(dir.path().join("key.pem"))
            .arg("-out")
            .arg(dir.path().join("cert.pem"))
            .stderr(Stdio::null())
            .status()
            .expect("openssl");
        assert!(status.success());
        let der = Command::new("openssl")
            .args(["x509", "-outform", "DER", "-in"])
            .arg(dir.path().join("cert.pem"))
            .output()
            .unwrap()
            .stdout;
        let issued = Arc::new(AtomicUsize::new(0));
        let key = dir.path().join("key.pem");
        let x5c = {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode(der)
        };
        let counter = issued.clone();
        let app = axum::Router::new().route(
            "/token",
            axum::routing::get(
                move |headers: axum::http::HeaderMap,
                      axum::extract::Query(query): axum::extract::Query<BTreeMap<String, String>>| {
                    let (key, x5c, counter) = (key.clone(), x5c.clone(), counter.clone());
                    async move {
                        use axum::response::IntoResponse;
                        let expected = {
                            use base64::Engine;
                            format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{SECRET}")))
                        };
                        if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
                            return (axum::http::StatusCode::UNAUTHORIZED, "bad credentials").into_response();
                        }
                        let access: Vec<serde_json::Value> = query
                            .get("scope")
                            .into_iter()
                            .flat_map(|s| s.split(' '))
                            .filter_map(|scope| {
                                let mut parts = scope.splitn(3, ':');
                                let (kind, name, actions) = (parts.next()?, parts.next()?, parts.next()?);
                                Some(serde_json::json!({"type": kind, "name": name, "actions": actions.split(',').collect::<Vec<_>>()}))
                            })
                            .collect();
                        let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
                        let header = serde_json::json!({"typ": "JWT", "alg": "RS256", "x5c": [x5c]});
                        let claims = serde_json::json!({
                            "iss": TOKEN_ISSUER, "sub": USER, "aud": query.get("service"),
                            "exp": now + 300, "nbf": now - 10, "iat": now - 10,
                            "jti": format!("t{}", counter.fetch_add(1, Ordering::SeqCst)), "access": access,
                        });
                        let input = format!("{}.{}", b64url(header.to_string().as_bytes()), b64url(claims.to_string().as_bytes()));
                        let mut sign = Command::new("openssl")
                            .args(["dgst", "-sha256", "-sign"])
                            .arg(&key)
                            .stdin(Stdio::piped())
                            .stdout(Stdio::piped())
                            .spawn()
                            .unwrap();
                        use std::io::Write;
                        sign.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
                        let signature = sign.wait_with_output().unwrap().stdout;
                        let token = format!("{input}.{}", b64url(&signature));
                        axum::Json(serde_json::json!({"token": token, "expires_in": 300})).into_response()
                    }
                },
            ),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        TokenRealm { dir, port, issued }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/token", self.port)
    }

    fn cert(&self) -> PathBuf {
        self.dir.path().join("cert.pem")
    }
}

#[tokio::test]
async fn a_registry_with_token_auth_is_signed_in_with_a_token_from_its_realm() {
    let realm = TokenRealm::start().await;
    let registry = Registry::start_with_token_auth(&realm.url(), &realm.cert());
    let client = registry.client();
    let files = release("one");
    let staged = client.upload(&target(), &files, true).await.unwrap();
    client.promote(&target(), &files).await.unwrap();
    assert!(realm.issued.load(Ordering::SeqCst) >= 1);

    // Read back with a token of our own: both tags point at the staged manifest.
    let token: serde_json::Value = reqwest::Client::new()
        .get(realm.url())
        .query(&[("service", TOKEN_SERVICE), ("scope", "repository:apache/foo:pull")])
        .basic_auth(USER, Some(SECRET))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["token"].as_str().unwrap();
    for tag in [staging_tag(), "1.2.0".to_string()] {
        let response = reqwest::Client::new()
            .get(format!("{}/v2/apache/foo/manifests/{tag}", registry.url()))
            .header("accept", MANIFEST_MEDIA_TYPE)
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{tag}");
        assert_eq!(response.headers()["docker-content-digest"], staged.details["digest"].as_str().unwrap());
    }

    let wrong = client_for(&registry.url(), "wrong-s3cr3t-value");
    let err = wrong.upload(&target(), &files, true).await.unwrap_err();
    assert!(matches!(err, DistributeError::Refused(_)), "{err:?}");
    assert!(err.to_string().contains("token"), "{err}");
    assert!(!format!("{err:?} {client:?}").contains("s3cr3t"));
}

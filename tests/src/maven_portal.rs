//! A stateful stand-in for the Maven Central Publisher Portal API
//! (<https://central.sonatype.org/publish/publish-portal-api/>), for testing the Maven client:
//! no runnable portal exists outside Sonatype. It implements exactly the documented endpoints
//! the client uses, under `/api/v1/publisher`, with state in memory:
//!
//! - `POST /upload?publishingType=AUTOMATIC|USER_MANAGED&name=` with the multipart part
//!   `bundle` (a zip with a file name): `201` and the new deployment id as text.
//! - `POST /status?id=`: the deployment's `deploymentId`, `deploymentName`,
//!   `deploymentState`, `purls` and, when failed, `errors`. Each poll moves a deployment one
//!   step: `PENDING` → `VALIDATING` → `VALIDATED` or `FAILED`; for `AUTOMATIC`, then
//!   `PUBLISHING` → `PUBLISHED`.
//! - `POST /deployment/{id}`: publish a `VALIDATED` deployment (`204`); it is `PUBLISHING`
//!   until the next poll, then `PUBLISHED`.
//! - `DELETE /deployment/{id}`: drop a `VALIDATED` or `FAILED` deployment (`204`).
//! - `GET /deployment/{id}/download/{path}`: a file of the deployment.
//! - `GET /published?namespace=&name=&version=`: `{"published": bool}`.
//!
//! Every call needs `Authorization: Bearer base64(username:password)` (or the older
//! `UserToken` scheme) of a known user token, else `401`. Validation fails when the layout is
//! not `group/path/artifactId/version/artifactId-version[-classifier].ext`, when the component
//! has no POM or its POM names other coordinates, when a file lacks its `.asc` signature or
//! `.md5`/`.sha1` checksum, when a checksum (also `.sha256`/`.sha512` if present) does not match,
//! when the namespace is not the user's, and when the version is already published.
//!
//! Published files are also served under `/maven2/` as the Maven repository
//! (`repo1.maven.org/maven2`) would. [`MavenPortal::fail_after`] makes requests answer `503`,
//! [`MavenPortal::stop`]/[`MavenPortal::restart`] take the server off the network and back,
//! keeping its state, and [`MavenPortal::stop_after_next_upload`] takes it off right after it
//! answered an upload (the deployment id is the last thing the client hears).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Multipart, Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use serde::Deserialize;
use serde_json::json;
use sha2::Digest;

/// Maven coordinates: `(groupId, artifactId, version)`.
pub type Gav = (String, String, String);
/// Validation errors by purl (or `common`), as the status endpoint reports them.
type Errors = BTreeMap<String, Vec<String>>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublishingType {
    Automatic,
    UserManaged,
}

/// A deployment as the portal keeps it.
#[derive(Debug, Clone)]
pub struct Deployment {
    pub id: String,
    pub name: String,
    pub owner: String,
    pub publishing_type: PublishingType,
    pub state: &'static str,
    /// Path in the bundle → bytes.
    pub files: BTreeMap<String, Bytes>,
    /// The components, as `(groupId, artifactId, version)`.
    pub components: BTreeSet<(String, String, String)>,
    pub errors: BTreeMap<String, Vec<String>>,
}

impl Deployment {
    fn purls(&self) -> Vec<String> {
        self.components.iter().map(|(g, a, v)| format!("pkg:maven/{g}/{a}@{v}")).collect()
    }
}

#[derive(Default)]
struct PortalState {
    /// Bearer token value (base64 of `username:password`) → username.
    tokens: BTreeMap<String, String>,
    /// Username → the namespaces (groupId prefixes) it may publish to.
    namespaces: BTreeMap<String, Vec<String>>,
    deployments: BTreeMap<String, Deployment>,
    /// Every deployment id ever created, in order (dropped ones included).
    created: Vec<String>,
    /// Published files by repository path, as Maven Central serves them.
    repository: BTreeMap<String, Bytes>,
    published: BTreeSet<(String, String, String)>,
}

#[derive(Clone)]
struct Shared {
    state: Arc<Mutex<PortalState>>,
    /// Requests still to pass before the injected failures start.
    pass_first: Arc<AtomicUsize>,
    fail_next: Arc<AtomicUsize>,
    /// Stops the server once the next upload is answered.
    stop_after_upload: Arc<AtomicBool>,
    /// Signals the running server to stop.
    shutdown: Arc<Mutex<Option<tokio::sync::oneshot::Sender<()>>>>,
    /// Set from the stop until the next start: a stopped portal changes nothing.
    off: Arc<AtomicBool>,
}

impl Shared {
    fn signal_shutdown(&self) {
        self.off.store(true, Ordering::SeqCst);
        if let Some(tx) = self.shutdown.lock().unwrap().take() {
            let _ = tx.send(());
        }
    }
}

/// The stand-in portal on a loopback port.
pub struct MavenPortal {
    shared: Shared,
    port: u16,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl MavenPortal {
    /// A portal where `username` (password `password`) owns the namespace `namespace`.
    pub async fn start(username: &str, password: &str, namespace: &str) -> MavenPortal {
        let mut state = PortalState::default();
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
        state.tokens.insert(token, username.to_string());
        state.namespaces.insert(username.to_string(), vec![namespace.to_string()]);
        let shared = Shared {
            state: Arc::new(Mutex::new(state)),
            pass_first: Arc::new(AtomicUsize::new(0)),
            fail_next: Arc::new(AtomicUsize::new(0)),
            stop_after_upload: Arc::new(AtomicBool::new(false)),
            shutdown: Arc::new(Mutex::new(None)),
            off: Arc::new(AtomicBool::new(false)),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a loopback port");
        let port = listener.local_addr().unwrap().port();
        let mut portal = MavenPortal { shared, port, task: None };
        portal.serve(listener);
        portal
    }

    fn serve(&mut self, listener: tokio::net::TcpListener) {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let app = router(self.shared.clone());
        self.task = Some(tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await;
        }));
        *self.shared.shutdown.lock().unwrap() = Some(tx);
        self.shared.off.store(false, Ordering::SeqCst);
    }

    /// The portal's base URL (`https://central.sonatype.com` for the real one).
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The Maven repository's base URL (`https://repo1.maven.org/maven2` for the real one).
    pub fn repository_url(&self) -> String {
        format!("{}/maven2", self.url())
    }

    /// Takes the portal off the network (connections refused); its state is kept.
    pub async fn stop(&mut self) {
        self.shared.signal_shutdown();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Serves again on the same port, with the same state (after [`MavenPortal::stop`], or
    /// once a [`MavenPortal::stop_after_next_upload`] stop has happened).
    pub async fn restart(&mut self) {
        self.stop().await;
        for _ in 0..100 {
            if let Ok(listener) = tokio::net::TcpListener::bind(("127.0.0.1", self.port)).await {
                self.serve(listener);
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("port {} did not become free again", self.port);
    }

    /// Takes the portal off the network right after it has answered the next upload (with the
    /// new deployment's id): every later request, the status polls first, finds no server.
    pub fn stop_after_next_upload(&self) {
        self.shared.stop_after_upload.store(true, Ordering::SeqCst);
    }

    /// After the next `pass` requests, `n` requests answer `503 Service Unavailable`.
    pub fn fail_after(&self, pass: usize, n: usize) {
        self.shared.pass_first.store(pass, Ordering::SeqCst);
        self.shared.fail_next.store(n, Ordering::SeqCst);
    }

    /// The deployments the portal holds now (dropped ones are gone), in creation order.
    pub fn deployments(&self) -> Vec<Deployment> {
        let state = self.shared.state.lock().unwrap();
        state.created.iter().filter_map(|id| state.deployments.get(id).cloned()).collect()
    }

    /// How many bundles were ever uploaded.
    pub fn uploads(&self) -> usize {
        self.shared.state.lock().unwrap().created.len()
    }

    pub fn published(&self) -> BTreeSet<(String, String, String)> {
        self.shared.state.lock().unwrap().published.clone()
    }

    /// A file of Maven Central's repository, as published.
    pub fn repository_file(&self, path: &str) -> Option<Bytes> {
        self.shared.state.lock().unwrap().repository.get(path).cloned()
    }
}

impl Drop for MavenPortal {
    fn drop(&mut self) {
        self.shared.signal_shutdown();
    }
}

fn router(shared: Shared) -> Router {
    let api = Router::new()
        .route("/upload", post(upload))
        .route("/status", post(status))
        .route("/published", get(published))
        .route("/deployment/{id}", post(publish).delete(drop_deployment))
        .route("/deployment/{id}/download/{*path}", get(download))
        .route_layer(middleware::from_fn_with_state(shared.clone(), authenticate));
    Router::new()
        .nest("/api/v1/publisher", api)
        .route("/maven2/{*path}", get(repository))
        .layer(middleware::from_fn_with_state(shared.clone(), injected_failures))
        .with_state(shared)
}

async fn injected_failures(State(shared): State<Shared>, request: Request, next: Next) -> Response {
    // A graceful stop lets a kept-alive connection carry one more request when the machine is
    // busy (the client's status poll right after the upload): it must not reach a stopped
    // portal's state. It is answered as the client would find an unreachable portal: a
    // transient failure, and the connection closed.
    if shared.off.load(Ordering::SeqCst) {
        return (StatusCode::SERVICE_UNAVAILABLE, [(axum::http::header::CONNECTION, "close")], "the portal is stopped")
            .into_response();
    }
    let passing = shared.pass_first.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
    let failing =
        !passing && shared.fail_next.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
    if failing {
        return (StatusCode::SERVICE_UNAVAILABLE, "injected failure").into_response();
    }
    next.run(request).await
}

/// The caller's username, put in the request by [`authenticate`].
#[derive(Clone)]
struct User(String);

async fn authenticate(State(shared): State<Shared>, mut request: Request, next: Next) -> Response {
    let header = request.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let token = header.strip_prefix("Bearer ").or_else(|| header.strip_prefix("UserToken "));
    let user = token.and_then(|t| shared.state.lock().unwrap().tokens.get(t.trim()).cloned());
    match user {
        Some(user) => {
            request.extensions_mut().insert(User(user));
            next.run(request).await
        }
        None => (StatusCode::UNAUTHORIZED, "Invalid token").into_response(),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UploadQuery {
    publishing_type: Option<String>,
    name: Option<String>,
}

async fn upload(
    State(shared): State<Shared>,
    axum::Extension(User(user)): axum::Extension<User>,
    Query(query): Query<UploadQuery>,
    mut multipart: Multipart,
) -> Response {
    let publishing_type = match query.publishing_type.as_deref() {
        None | Some("AUTOMATIC") => PublishingType::Automatic,
        Some("USER_MANAGED") => PublishingType::UserManaged,
        Some(other) => return (StatusCode::BAD_REQUEST, format!("unknown publishingType {other}")).into_response(),
    };
    let mut bundle = None;
    while let Ok(Some(field)) = multipart.next_field().await {
        if field.name() == Some("bundle") {
            if field.file_name().is_none_or(str::is_empty) {
                return (StatusCode::BAD_REQUEST, "the bundle part needs a file name").into_response();
            }
            match field.bytes().await {
                Ok(bytes) => bundle = Some(bytes),
                Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
            }
        }
    }
    let Some(bundle) = bundle else {
        return (StatusCode::BAD_REQUEST, "no multipart part named bundle").into_response();
    };
    let mut state = shared.state.lock().unwrap();
    let id = format!("{:08x}-7e57-4000-8000-{:012x}", std::process::id(), state.created.len() + 1);
    let (files, unreadable) = match unzip(&bundle) {
        Ok(files) => (files, None),
        Err(e) => (BTreeMap::new(), Some(e)),
    };
    let mut deployment = Deployment {
        id: id.clone(),
        name: query.name.unwrap_or_else(|| "Deployment".into()),
        owner: user,
        publishing_type,
        state: "PENDING",
        files,
        components: BTreeSet::new(),
        errors: BTreeMap::new(),
    };
    if let Some(e) = unreadable {
        deployment.errors.insert("common".into(), vec![format!("the bundle is not a readable zip: {e}")]);
    }
    state.created.push(id.clone());
    state.deployments.insert(id.clone(), deployment);
    if shared.stop_after_upload.swap(false, Ordering::SeqCst) {
        // A graceful stop: this answer still goes out, then the listener and the connections close.
        shared.signal_shutdown();
    }
    (StatusCode::CREATED, id).into_response()
}

fn unzip(bundle: &[u8]) -> Result<BTreeMap<String, Bytes>, String> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bundle)).map_err(|e| e.to_string())?;
    let mut files = BTreeMap::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|e| e.to_string())?;
        if entry.is_dir() {
            continue;
        }
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
        let name = entry.name().map_err(|e| e.to_string())?.to_string();
        files.insert(name, Bytes::from(bytes));
    }
    Ok(files)
}

const SIDECARS: &[&str] = &[".asc", ".md5", ".sha1", ".sha256", ".sha512"];

fn hex_of<D: Digest>(bytes: &[u8]) -> String {
    hex::encode(D::digest(bytes))
}

/// The portal's checks of a bundle; the components found, or the errors by purl (or `common`).
fn validate(state: &PortalState, owner: &str, files: &BTreeMap<String, Bytes>) -> Result<BTreeSet<Gav>, Errors> {
    let mut errors: Errors = BTreeMap::new();
    let mut components = BTreeSet::new();
    let mains: Vec<&String> = files.keys().filter(|p| !SIDECARS.iter().any(|s| p.ends_with(s))).collect();
    if mains.is_empty() {
        errors.entry("common".into()).or_default().push("the bundle holds no files".into());
    }
    for path in mains {
        let segments: Vec<&str> = path.split('/').collect();
        if segments.len() < 4 || segments.iter().any(|s| s.is_empty()) {
            errors
                .entry("common".into())
                .or_default()
                .push(format!("{path}: not in Maven repository layout (group/path/artifactId/version/file)"));
            continue;
        }
        let n = segments.len();
        let (group, artifact, version, file) =
            (segments[..n - 3].join("."), segments[n - 3], segments[n - 2], segments[n - 1]);
        let purl = format!("pkg:maven/{group}/{artifact}@{version}");
        let mut problems = Vec::new();
        let prefix = format!("{artifact}-{version}");
        if !file.strip_prefix(&prefix).is_some_and(|rest| rest.starts_with('.') || rest.starts_with('-')) {
            problems.push(format!("{path}: the file name does not start with {prefix}"));
        }
        let bytes = &files[path];
        let sidecar = |suffix: &str| files.get(&format!("{path}{suffix}"));
        match sidecar(".asc") {
            Some(sig) if sig.starts_with(b"-----BEGIN PGP SIGNATURE-----") => {}
            Some(_) => problems.push(format!("{path}.asc: not an ASCII-armoured OpenPGP signature")),
            None => problems.push(format!("Missing signature for file: {file}")),
        }
        let checks: [(&str, String, bool); 4] = [
            (".md5", hex_of::<md5::Md5>(bytes), true),
            (".sha1", hex_of::<sha1::Sha1>(bytes), true),
            (".sha256", hex_of::<sha2::Sha256>(bytes), false),
            (".sha512", hex_of::<sha2::Sha512>(bytes), false),
        ];
        for (suffix, expected, required) in checks {
            match sidecar(suffix) {
                Some(text) if String::from_utf8_lossy(text).split_whitespace().next() == Some(&expected) => {}
                Some(_) => problems.push(format!("Invalid checksum {suffix} for file: {file}")),
                None if required => problems.push(format!("Missing {suffix} checksum for file: {file}")),
                None => {}
            }
        }
        components.insert((group.clone(), artifact.to_string(), version.to_string()));
        if !problems.is_empty() {
            errors.entry(purl).or_default().extend(problems);
        }
    }
    for (group, artifact, version) in &components {
        let purl = format!("pkg:maven/{group}/{artifact}@{version}");
        let folder = format!("{}/{artifact}/{version}", group.replace('.', "/"));
        let pom = files.get(&format!("{folder}/{artifact}-{version}.pom"));
        let mut problems = Vec::new();
        match pom.map(|p| String::from_utf8_lossy(p).into_owned()) {
            None => problems.push(format!("Missing POM file: {artifact}-{version}.pom")),
            Some(pom) => {
                for (tag, value) in [("groupId", group.as_str()), ("artifactId", artifact), ("version", version)] {
                    if !pom.contains(&format!("<{tag}>{value}</{tag}>")) {
                        problems.push(format!("POM: {tag} is not {value}"));
                    }
                }
            }
        }
        let allowed = state
            .namespaces
            .get(owner)
            .into_iter()
            .flatten()
            .any(|ns| group == ns || group.strip_prefix(ns.as_str()).is_some_and(|rest| rest.starts_with('.')));
        if !allowed {
            problems.push(format!("Namespace '{group}' is not allowed"));
        }
        if state.published.contains(&(group.clone(), artifact.clone(), version.clone())) {
            problems.push(format!("Component with package url: '{purl}' already exists"));
        }
        if !problems.is_empty() {
            errors.entry(purl).or_default().extend(problems);
        }
    }
    if errors.is_empty() { Ok(components) } else { Err(errors) }
}

/// Moves a published deployment's files into the repository.
fn publish_files(state: &mut PortalState, id: &str) {
    let deployment = state.deployments.get_mut(id).expect("known deployment");
    deployment.state = "PUBLISHED";
    let files = deployment.files.clone();
    let components = deployment.components.clone();
    state.repository.extend(files);
    state.published.extend(components);
}

#[derive(Deserialize)]
struct IdQuery {
    id: String,
}

async fn status(
    State(shared): State<Shared>,
    axum::Extension(User(user)): axum::Extension<User>,
    Query(query): Query<IdQuery>,
) -> Response {
    let mut guard = shared.state.lock().unwrap();
    let state = &mut *guard;
    let Some(deployment) = state.deployments.get(&query.id).filter(|d| d.owner == user).cloned() else {
        return (StatusCode::NOT_FOUND, "Deployment not found").into_response();
    };
    let body = json!({
        "deploymentId": deployment.id,
        "deploymentName": deployment.name,
        "deploymentState": deployment.state,
        "purls": deployment.purls(),
        "errors": (deployment.state == "FAILED").then_some(&deployment.errors),
    });
    // The poll has seen this state; the portal moves on one step.
    let next = match deployment.state {
        "PENDING" => Some("VALIDATING"),
        "VALIDATING" => Some(if deployment.errors.is_empty() {
            match validate(state, &deployment.owner, &deployment.files) {
                Ok(components) => {
                    state.deployments.get_mut(&query.id).unwrap().components = components;
                    "VALIDATED"
                }
                Err(errors) => {
                    state.deployments.get_mut(&query.id).unwrap().errors = errors;
                    "FAILED"
                }
            }
        } else {
            "FAILED"
        }),
        "VALIDATED" if deployment.publishing_type == PublishingType::Automatic => Some("PUBLISHING"),
        "PUBLISHING" => {
            publish_files(state, &query.id);
            None
        }
        _ => None,
    };
    if let Some(next) = next {
        state.deployments.get_mut(&query.id).unwrap().state = next;
    }
    axum::Json(body).into_response()
}

async fn publish(
    State(shared): State<Shared>,
    axum::Extension(User(user)): axum::Extension<User>,
    Path(id): Path<String>,
) -> Response {
    let mut state = shared.state.lock().unwrap();
    let Some(deployment) = state.deployments.get_mut(&id).filter(|d| d.owner == user) else {
        return (StatusCode::NOT_FOUND, "Deployment not found").into_response();
    };
    if deployment.state != "VALIDATED" {
        return (StatusCode::BAD_REQUEST, format!("Deployment is {}, not VALIDATED", deployment.state)).into_response();
    }
    deployment.state = "PUBLISHING";
    StatusCode::NO_CONTENT.into_response()
}

async fn drop_deployment(
    State(shared): State<Shared>,
    axum::Extension(User(user)): axum::Extension<User>,
    Path(id): Path<String>,
) -> Response {
    let mut state = shared.state.lock().unwrap();
    let Some(deployment) = state.deployments.get(&id).filter(|d| d.owner == user) else {
        return (StatusCode::NOT_FOUND, "Deployment not found").into_response();
    };
    if !matches!(deployment.state, "VALIDATED" | "FAILED") {
        return (
            StatusCode::BAD_REQUEST,
            format!("Deployment is {}; only VALIDATED or FAILED can be dropped", deployment.state),
        )
            .into_response();
    }
    state.deployments.remove(&id);
    StatusCode::NO_CONTENT.into_response()
}

async fn download(
    State(shared): State<Shared>,
    axum::Extension(User(user)): axum::Extension<User>,
    Path((id, path)): Path<(String, String)>,
) -> Response {
    let state = shared.state.lock().unwrap();
    match state.deployments.get(&id).filter(|d| d.owner == user).and_then(|d| d.files.get(&path)) {
        Some(bytes) => bytes.clone().into_response(),
        None => (StatusCode::NOT_FOUND, "Not found").into_response(),
    }
}

#[derive(Deserialize)]
struct PublishedQuery {
    namespace: String,
    name: String,
    version: String,
}

async fn published(State(shared): State<Shared>, Query(q): Query<PublishedQuery>) -> Response {
    let state = shared.state.lock().unwrap();
    let published = state.published.contains(&(q.namespace, q.name, q.version));
    axum::Json(json!({ "published": published })).into_response()
}

async fn repository(State(shared): State<Shared>, Path(path): Path<String>) -> Response {
    let state = shared.state.lock().unwrap();
    match state.repository.get(&path) {
        Some(bytes) => bytes.clone().into_response(),
        None => (StatusCode::NOT_FOUND, "Not found").into_response(),
    }
}

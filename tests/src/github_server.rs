//! A stateful stand-in for the GitHub Releases REST API (version 2022-11-28), since no real
//! GitHub runs here. It implements exactly the endpoints trs uses, with their documented
//! answers, and keeps its state in memory:
//!
//! | endpoint | answers |
//! |---|---|
//! | `POST /repos/{owner}/{repo}/releases` | 201 release; 422 `already_exists` when the tag has a release; 404 unknown repository |
//! | `GET /repos/{owner}/{repo}/releases/tags/{tag}` | 200 release; 404 |
//! | `PATCH /repos/{owner}/{repo}/releases/{release_id}` | 200 release; 404 |
//! | `POST /repos/{owner}/{repo}/releases/{release_id}/assets?name=` (the upload host) | 201 asset; 422 `already_exists` for a taken name; 404 |
//! | `GET /repos/{owner}/{repo}/releases/assets/{asset_id}` | 200 asset; with `Accept: application/octet-stream`, 302 to the asset's bytes; 404 |
//! | `DELETE /repos/{owner}/{repo}/releases/assets/{asset_id}` | 204; 404 |
//!
//! Every request needs `Authorization: Bearer TOKEN` (401 `Requires authentication` without
//! it, 401 `Bad credentials` with another token) and a `User-Agent` (403 without one, as
//! GitHub does). Assets carry `digest: "sha256:HEX"`, `size` and `state`; those of older
//! releases have `digest: null` (GitHub did not compute digests for assets uploaded before it
//! introduced them): [`GitHubServer::forget_digests`] makes a release's assets such. The bytes of an
//! asset are served, like GitHub's signed download links, at a `/downloads/…` URL that needs
//! no token, valid for the asset's id and name.
//!
//! Faults for tests: [`GitHubServer::interrupt_upload_after`] makes one later upload break off
//! after `n` more complete ones (a partial asset in state `starter` stays behind and the
//! connection drops before the answer is complete), and
//! [`GitHubServer::fail_next_requests`] answers the next requests with 503.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
pub struct Asset {
    pub id: u64,
    pub name: String,
    pub size: u64,
    /// `sha256:HEX`, or `None` for an asset older than GitHub's digests.
    pub digest: Option<String>,
    pub state: String,
    pub bytes: Bytes,
}

#[derive(Debug, Clone)]
pub struct Release {
    pub id: u64,
    pub owner: String,
    pub repo: String,
    pub tag_name: String,
    pub name: String,
    pub prerelease: bool,
    pub draft: bool,
    pub created_at: String,
    pub assets: Vec<Asset>,
}

#[derive(Default)]
struct Inner {
    repos: BTreeSet<(String, String)>,
    releases: BTreeMap<u64, Release>,
    next_id: u64,
    /// Complete uploads still allowed before one is interrupted.
    interrupt_after: Option<usize>,
    fail_next: usize,
    /// Every request: `METHOD path`.
    log: Vec<String>,
}

#[derive(Clone)]
struct Shared {
    inner: Arc<Mutex<Inner>>,
    token: String,
    base: String,
}

/// The running server; stops when dropped.
pub struct GitHubServer {
    pub url: String,
    shared: Shared,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl GitHubServer {
    /// Starts on a free loopback port, accepting `token` only. Works from sync and async tests
    /// (the server has its own thread and runtime).
    pub fn start(token: &str) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let shared = Shared { inner: Default::default(), token: token.to_string(), base: url.clone() };
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let router = router(shared.clone());
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                axum::serve(listener, router)
                    .with_graceful_shutdown(async move {
                        let _ = rx.await;
                    })
                    .await
                    .unwrap();
            });
        });
        GitHubServer { url, shared, shutdown: Some(tx), thread: Some(thread) }
    }

    /// Makes `owner/repo` exist (GitHub answers 404 for releases of repositories it lacks).
    pub fn add_repo(&self, owner: &str, repo: &str) {
        self.shared.inner.lock().unwrap().repos.insert((owner.into(), repo.into()));
    }

    /// The release of `owner/repo` for `tag`, as stored.
    pub fn release(&self, owner: &str, repo: &str, tag: &str) -> Option<Release> {
        let inner = self.shared.inner.lock().unwrap();
        inner.releases.values().find(|r| r.owner == owner && r.repo == repo && r.tag_name == tag).cloned()
    }

    /// Makes the assets of `owner/repo`'s release `tag` what older releases have: no digest.
    pub fn forget_digests(&self, owner: &str, repo: &str, tag: &str) {
        let mut inner = self.shared.inner.lock().unwrap();
        for r in inner.releases.values_mut().filter(|r| r.owner == owner && r.repo == repo && r.tag_name == tag) {
            for a in &mut r.assets {
                a.digest = None;
            }
        }
    }

    /// Replaces the bytes of an asset in place (size kept when `bytes` is as long), as if
    /// someone had uploaded other bytes under the name: for digest-mismatch tests.
    pub fn replace_asset_bytes(&self, owner: &str, repo: &str, tag: &str, name: &str, bytes: &[u8]) {
        let mut inner = self.shared.inner.lock().unwrap();
        let release =
            inner.releases.values_mut().find(|r| r.owner == owner && r.repo == repo && r.tag_name == tag).unwrap();
        let asset = release.assets.iter_mut().find(|a| a.name == name).unwrap();
        asset.size = bytes.len() as u64;
        asset.digest = asset.digest.as_ref().map(|_| format!("sha256:{}", hex::encode(Sha256::digest(bytes))));
        asset.bytes = Bytes::copy_from_slice(bytes);
    }

    /// After `n` more complete asset uploads, the next one breaks off (once).
    pub fn interrupt_upload_after(&self, n: usize) {
        self.shared.inner.lock().unwrap().interrupt_after = Some(n);
    }

    /// The next `n` requests are answered 503.
    pub fn fail_next_requests(&self, n: usize) {
        self.shared.inner.lock().unwrap().fail_next = n;
    }

    /// Every request received so far, as `METHOD path`.
    pub fn requests(&self) -> Vec<String> {
        self.shared.inner.lock().unwrap().log.clone()
    }
}

impl Drop for GitHubServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn router(shared: Shared) -> Router {
    Router::new()
        .route("/repos/{owner}/{repo}/releases", post(create_release))
        .route("/repos/{owner}/{repo}/releases/tags/{tag}", get(get_by_tag))
        .route("/repos/{owner}/{repo}/releases/{release_id}", patch(update_release))
        .route("/repos/{owner}/{repo}/releases/{release_id}/assets", post(upload_asset))
        .route("/repos/{owner}/{repo}/releases/assets/{asset_id}", get(get_asset).delete(delete_asset))
        .route("/downloads/{asset_id}/{name}", get(download_asset))
        .layer(DefaultBodyLimit::max(1 << 30))
        .with_state(shared)
}

fn message(status: StatusCode, text: &str) -> Response {
    (status, Json(json!({"message": text, "documentation_url": "https://docs.github.com/rest"}))).into_response()
}

fn already_exists(resource: &str, field: &str) -> Response {
    let body = json!({
        "message": "Validation Failed",
        "errors": [{"resource": resource, "code": "already_exists", "field": field}],
        "documentation_url": "https://docs.github.com/rest",
    });
    (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
}

/// Authentication, the user agent and injected failures; logs the request. (The refusal is
/// the handler's whole answer, so its size does not matter.)
#[allow(clippy::result_large_err)]
fn admit(shared: &Shared, headers: &HeaderMap, line: String) -> Result<(), Response> {
    let mut inner = shared.inner.lock().unwrap();
    inner.log.push(line);
    if inner.fail_next > 0 {
        inner.fail_next -= 1;
        return Err(message(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable"));
    }
    if !headers.contains_key("user-agent") {
        return Err(message(
            StatusCode::FORBIDDEN,
            "Request forbidden by administrative rules. Please make sure your request has a User-Agent header",
        ));
    }
    match headers.get("authorization").and_then(|v| v.to_str().ok()) {
        None => Err(message(StatusCode::UNAUTHORIZED, "Requires authentication")),
        Some(v) if v.strip_prefix("Bearer ") == Some(shared.token.as_str()) => Ok(()),
        Some(_) => Err(message(StatusCode::UNAUTHORIZED, "Bad credentials")),
    }
}

fn now_text() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

fn release_json(base: &str, r: &Release) -> Value {
    let api = format!("{base}/repos/{}/{}/releases/{}", r.owner, r.repo, r.id);
    json!({
        "id": r.id,
        "url": api,
        "assets_url": format!("{api}/assets"),
        "upload_url": format!("{api}/assets{{?name,label}}"),
        "html_url": format!("{base}/{}/{}/releases/tag/{}", r.owner, r.repo, r.tag_name),
        "tag_name": r.tag_name,
        "name": r.name,
        "draft": r.draft,
        "prerelease": r.prerelease,
        "created_at": r.created_at,
        "published_at": r.created_at,
        "assets": r.assets.iter().map(|a| asset_json(base, r, a)).collect::<Vec<_>>(),
    })
}

fn asset_json(base: &str, r: &Release, a: &Asset) -> Value {
    json!({
        "id": a.id,
        "url": format!("{base}/repos/{}/{}/releases/assets/{}", r.owner, r.repo, a.id),
        "browser_download_url": format!("{base}/{}/{}/releases/download/{}/{}", r.owner, r.repo, r.tag_name, a.name),
        "name": a.name,
        "label": null,
        "state": a.state,
        "content_type": "application/octet-stream",
        "size": a.size,
        "digest": a.digest,
        "download_count": 0,
    })
}

async fn create_release(
    State(s): State<Shared>,
    Path((owner, repo)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Err(r) = admit(&s, &headers, format!("POST /repos/{owner}/{repo}/releases")) {
        return r;
    }
    let mut inner = s.inner.lock().unwrap();
    if !inner.repos.contains(&(owner.clone(), repo.clone())) {
        return message(StatusCode::NOT_FOUND, "Not Found");
    }
    let Some(tag) = body["tag_name"].as_str().filter(|t| !t.is_empty()).map(str::to_string) else {
        return (StatusCode::UNPROCESSABLE_ENTITY, Json(json!({"message": "Validation Failed", "errors": [{"resource": "Release", "code": "missing_field", "field": "tag_name"}]}))).into_response();
    };
    if inner.releases.values().any(|r| r.owner == owner && r.repo == repo && r.tag_name == tag) {
        return already_exists("Release", "tag_name");
    }
    inner.next_id += 1;
    let release = Release {
        id: inner.next_id,
        owner,
        repo,
        name: body["name"].as_str().unwrap_or(&tag).to_string(),
        tag_name: tag,
        prerelease: body["prerelease"].as_bool().unwrap_or(false),
        draft: body["draft"].as_bool().unwrap_or(false),
        created_at: now_text(),
        assets: Vec::new(),
    };
    let out = release_json(&s.base, &release);
    inner.releases.insert(release.id, release);
    (StatusCode::CREATED, Json(out)).into_response()
}

async fn get_by_tag(
    State(s): State<Shared>,
    Path((owner, repo, tag)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = admit(&s, &headers, format!("GET /repos/{owner}/{repo}/releases/tags/{tag}")) {
        return r;
    }
    let inner = s.inner.lock().unwrap();
    // Drafts are not found by tag.
    match inner.releases.values().find(|r| r.owner == owner && r.repo == repo && r.tag_name == tag && !r.draft) {
        Some(r) => Json(release_json(&s.base, r)).into_response(),
        None => message(StatusCode::NOT_FOUND, "Not Found"),
    }
}

async fn update_release(
    State(s): State<Shared>,
    Path((owner, repo, id)): Path<(String, String, u64)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    if let Err(r) = admit(&s, &headers, format!("PATCH /repos/{owner}/{repo}/releases/{id}")) {
        return r;
    }
    let mut inner = s.inner.lock().unwrap();
    let Some(r) = inner.releases.get_mut(&id).filter(|r| r.owner == owner && r.repo == repo) else {
        return message(StatusCode::NOT_FOUND, "Not Found");
    };
    if let Some(p) = body["prerelease"].as_bool() {
        r.prerelease = p;
    }
    if let Some(d) = body["draft"].as_bool() {
        r.draft = d;
    }
    if let Some(n) = body["name"].as_str() {
        r.name = n.to_string();
    }
    Json(release_json(&s.base, r)).into_response()
}

async fn upload_asset(
    State(s): State<Shared>,
    Path((owner, repo, id)): Path<(String, String, u64)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(r) = admit(&s, &headers, format!("POST /repos/{owner}/{repo}/releases/{id}/assets")) {
        return r;
    }
    let Some(name) = query.get("name").filter(|n| !n.is_empty()).cloned() else {
        return message(StatusCode::UNPROCESSABLE_ENTITY, "Validation Failed: name is missing");
    };
    if !headers.contains_key("content-type") {
        return message(StatusCode::UNPROCESSABLE_ENTITY, "Validation Failed: Content-Type is missing");
    }
    let mut inner = s.inner.lock().unwrap();
    let interrupt = match inner.interrupt_after {
        Some(0) => {
            inner.interrupt_after = None;
            true
        }
        Some(n) => {
            inner.interrupt_after = Some(n - 1);
            false
        }
        None => false,
    };
    inner.next_id += 1;
    let asset_id = inner.next_id;
    let Some(release) = inner.releases.get_mut(&id).filter(|r| r.owner == owner && r.repo == repo) else {
        return message(StatusCode::NOT_FOUND, "Not Found");
    };
    if release.assets.iter().any(|a| a.name == name) {
        return already_exists("ReleaseAsset", "name");
    }
    let (bytes, state) = if interrupt { (body.slice(..body.len() / 2), "starter") } else { (body, "uploaded") };
    let asset = Asset {
        id: asset_id,
        name,
        size: bytes.len() as u64,
        digest: Some(format!("sha256:{}", hex::encode(Sha256::digest(&bytes)))),
        state: state.into(),
        bytes,
    };
    let out = asset_json(&s.base, release, &asset);
    release.assets.push(asset);
    if interrupt {
        // The connection drops before the answer is complete: headers, then a broken body.
        let broken = futures::stream::once(async {
            Err::<Bytes, _>(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "connection dropped"))
        });
        return Response::builder()
            .status(StatusCode::CREATED)
            .header("content-type", "application/json")
            .body(axum::body::Body::from_stream(broken))
            .unwrap();
    }
    (StatusCode::CREATED, Json(out)).into_response()
}

/// Get a release asset: its JSON, or with `Accept: application/octet-stream` a redirect to its
/// bytes (GitHub may also answer 200 with the bytes; clients must take both).
async fn get_asset(
    State(s): State<Shared>,
    Path((owner, repo, asset_id)): Path<(String, String, u64)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = admit(&s, &headers, format!("GET /repos/{owner}/{repo}/releases/assets/{asset_id}")) {
        return r;
    }
    let inner = s.inner.lock().unwrap();
    let found = inner
        .releases
        .values()
        .filter(|r| r.owner == owner && r.repo == repo)
        .find_map(|r| r.assets.iter().find(|a| a.id == asset_id).map(|a| (r, a)));
    let Some((release, asset)) = found else {
        return message(StatusCode::NOT_FOUND, "Not Found");
    };
    let binary = headers.get("accept").and_then(|v| v.to_str().ok()) == Some("application/octet-stream");
    if binary {
        let location = format!("{}/downloads/{}/{}", s.base, asset.id, asset.name);
        return (StatusCode::FOUND, [("location", location)]).into_response();
    }
    Json(asset_json(&s.base, release, asset)).into_response()
}

/// The bytes behind the redirect (no token: the link itself is the permission).
async fn download_asset(State(s): State<Shared>, Path((asset_id, name)): Path<(u64, String)>) -> Response {
    let mut inner = s.inner.lock().unwrap();
    inner.log.push(format!("GET /downloads/{asset_id}/{name}"));
    let found = inner.releases.values().flat_map(|r| &r.assets).find(|a| a.id == asset_id && a.name == name);
    match found {
        Some(a) => ([("content-type", "application/octet-stream")], a.bytes.clone()).into_response(),
        None => message(StatusCode::NOT_FOUND, "Not Found"),
    }
}

async fn delete_asset(
    State(s): State<Shared>,
    Path((owner, repo, asset_id)): Path<(String, String, u64)>,
    headers: HeaderMap,
) -> Response {
    if let Err(r) = admit(&s, &headers, format!("DELETE /repos/{owner}/{repo}/releases/assets/{asset_id}")) {
        return r;
    }
    let mut inner = s.inner.lock().unwrap();
    for r in inner.releases.values_mut().filter(|r| r.owner == owner && r.repo == repo) {
        if let Some(i) = r.assets.iter().position(|a| a.id == asset_id) {
            r.assets.remove(i);
            return StatusCode::NO_CONTENT.into_response();
        }
    }
    message(StatusCode::NOT_FOUND, "Not Found")
}

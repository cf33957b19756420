//! The stream function: the read side of the release stream, public and unsigned (the role
//! table lets everyone view release events). Events page by page, the point-in-time views,
//! each release's history, the CLE and endoflife.date exports, and a server-side re-hash of a
//! stored chain.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use trs_api::stream::{ChainVerification, ProjectStates, ReleasesView};
use trs_app::release_views::{self, Scope};
use trs_app::{App, AppError, api_views, exports, projects, public, stream};
use trs_core::{ProductName, ProjectName, ReleaseId, StreamId, Version};
use trs_http::downloads;
use trs_http::{ApiResult, Path, Query, parse_segment};
use trs_storage::headers::{EXPIRING_REDIRECT, REVALIDATE};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/api/v1/events", get(events))
        .route("/api/v1/events/verify", get(verify))
        .route("/api/v1/releases", get(all_releases))
        .route("/api/v1/projects/{project}/releases", get(project_releases))
        .route("/api/v1/projects/{project}/states", get(project_states))
        .route("/api/v1/projects/{project}/releases/{version}/history", get(history))
        .route("/api/v1/projects/{project}/cle", get(cle))
        .route("/api/v1/projects/{project}/endoflife.json", get(endoflife))
}

/// The download paths a host that serves the objects statically sends here (CloudFront in
/// front of the release-files bucket): the views, which are not objects (`latest` answers a
/// redirect to the latest current release's versioned path, a candidate's file a redirect to a
/// download URL of its content-addressed bytes), and any other `/current/…` or `/archive/…`
/// path when the bucket has no object for it. `trs serve` resolves these paths itself and
/// streams the bytes, so it does not mount these routes. One route per stage directory: the
/// router cannot hold `/current/{project}/latest/…` beside `/current/{*path}`.
pub fn download_view_routes() -> Router<App> {
    // `/current/…` also takes `P/[PRODUCT/]latest/FILE` (CloudFront sends `/current/*/latest/*`
    // here first).
    let stage = |segment: &'static str| {
        get(move |app: State<App>, path: Path<String>, headers: HeaderMap| not_in_bucket(app, segment, path, headers))
    };
    Router::new()
        .route("/candidate/{*path}", get(candidate))
        .route("/current/{*path}", stage("current"))
        .route("/archive/{*path}", stage("archive"))
}

fn redirect(location: String, cache_control: &'static str) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, location), (header::CACHE_CONTROL, cache_control.to_string())])
        .into_response()
}

/// A released path the bucket has no object for: CloudFront asks the bucket first and comes
/// here on its 403 or 404 (the `release-files-else-api` origin group). The same answers as
/// `trs serve` gives ([`trs_http::downloads`]): a folder's listing, a permanent redirect from
/// an archived release's `/current/…` path to its `/archive/…` path, `410 Gone` with the reason
/// for a revoked release, and a 404 page that says what is missing. A `latest` path is
/// redirected to the object it names.
async fn not_in_bucket(
    State(app): State<App>,
    segment: &'static str,
    Path(rest): Path<String>,
    headers: HeaderMap,
) -> Response {
    let full = format!("/{segment}/{rest}");
    match downloads::locate(&app, segment, &rest, &headers).await {
        Err(answer) => answer,
        Ok(file) if file.via_latest => match public::object_redirect(&app, &file, &full).await {
            Ok(to) => redirect(to, REVALIDATE),
            Err(e) => downloads::public_error(&headers, e),
        },
        // The release shows the file at this path, but the bucket had no object: it is being
        // placed (a promotion copies before it commits) or was removed by hand. Not a
        // redirect to itself: a 404 that caches revalidate within a minute.
        Ok(file) => {
            tracing::warn!(object = %file.object, "a released file's object is missing from the bucket");
            downloads::public_error(&headers, AppError::NotFound(format!("{full} is not in place yet")))
        }
    }
}

async fn candidate(State(app): State<App>, Path(path): Path<String>) -> ApiResult<Response> {
    let to = public::candidate_redirect(&app, &path, app.now()).await?;
    Ok(redirect(to, EXPIRING_REDIRECT))
}

/// `?project=P` names a project's stream; without it, the foundation's (people, keys).
/// The stream of a named project (which must exist: an unknown project is a 404, not an
/// empty and therefore "intact" stream), or the foundation's.
async fn stream_of(app: &App, project: Option<&str>) -> ApiResult<StreamId> {
    Ok(match project {
        Some(p) => {
            let name = parse_segment::<ProjectName>(p)?;
            trs_app::projects::get_project(app, &name).await?;
            StreamId::Project(name)
        }
        None => StreamId::Foundation,
    })
}

fn product_of(product: Option<&str>) -> ApiResult<Option<ProductName>> {
    product.map(parse_segment::<ProductName>).transpose()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventsQuery {
    project: Option<String>,
    #[serde(default)]
    after: u64,
    limit: Option<usize>,
}

/// Events after sequence number `after`, as stored (so a follower can re-hash them).
async fn events(State(app): State<App>, Query(q): Query<EventsQuery>) -> ApiResult<impl IntoResponse> {
    let stream = stream_of(&app, q.project.as_deref()).await?;
    let page = stream::events_page_raw(&app, &stream, q.after, q.limit.unwrap_or(100)).await?;
    Ok(Json(api_views::events_page(&stream, page, q.after)?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyQuery {
    project: Option<String>,
}

/// Re-hashes one stream (`?project=P`) now; without a project, reports every stream (the
/// foundation's and each project's) as the site publisher checked it up to its head, and
/// re-hashes only a stream the publisher has not caught up with.
async fn verify(State(app): State<App>, Query(q): Query<VerifyQuery>) -> ApiResult<impl IntoResponse> {
    let mut reports = Vec::new();
    match q.project.as_deref() {
        Some(p) => reports.push(release_views::verify_stream(&app, &stream_of(&app, Some(p)).await?).await?),
        None => {
            let streams = std::iter::once(StreamId::Foundation)
                .chain(release_views::project_names(&app).await?.into_iter().map(StreamId::Project));
            for s in streams {
                reports.push(release_views::published_chain_report(&app, &s).await?);
            }
        }
    }
    let ok = reports.iter().all(|r| r.ok);
    Ok(Json(ChainVerification { ok, streams: reports.into_iter().map(Into::into).collect() }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ViewQuery {
    project: Option<String>,
    product: Option<String>,
    state: Option<String>,
    /// Unix seconds.
    at: Option<i64>,
    /// A view of every project is paged by project: the project the previous page's `next`
    /// named, and how many projects a page holds (at most `PROJECTS_PER_PAGE`).
    after: Option<String>,
    limit: Option<usize>,
}

async fn releases(app: &App, scope: Scope, q: &ViewQuery) -> ApiResult<impl IntoResponse + use<>> {
    if scope.product.is_some() && scope.project.is_none() {
        return Err(AppError::bad_request("product-needs-project", "?product= needs ?project=").into());
    }
    if scope.project.is_some() {
        let view = release_views::releases_view(app, &scope, q.at, q.state.as_deref()).await?;
        return Ok(Json(ReleasesView::from(view)));
    }
    let after = q.after.as_deref().map(parse_segment::<ProjectName>).transpose()?;
    let limit = q.limit.unwrap_or(release_views::PROJECTS_PER_PAGE);
    let page = release_views::releases_page(app, &scope, q.at, q.state.as_deref(), after.as_ref(), limit).await?;
    Ok(Json(ReleasesView::from(page)))
}

async fn all_releases(State(app): State<App>, Query(q): Query<ViewQuery>) -> ApiResult<impl IntoResponse> {
    let project = q.project.as_deref().map(parse_segment::<ProjectName>).transpose()?;
    let scope = Scope { project, product: product_of(q.product.as_deref())? };
    releases(&app, scope, &q).await
}

async fn project_releases(
    State(app): State<App>,
    Path(project): Path<String>,
    Query(q): Query<ViewQuery>,
) -> ApiResult<impl IntoResponse> {
    let scope = Scope { project: Some(parse_segment(&project)?), product: product_of(q.product.as_deref())? };
    releases(&app, scope, &q).await
}

/// States by release (the other way round of `releases`).
async fn project_states(
    State(app): State<App>,
    Path(project): Path<String>,
    Query(q): Query<ViewQuery>,
) -> ApiResult<impl IntoResponse> {
    let scope = Scope { project: Some(parse_segment(&project)?), product: product_of(q.product.as_deref())? };
    let view = release_views::releases_view(&app, &scope, q.at, None).await?;
    Ok(Json(ProjectStates::from(view)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProductQuery {
    product: Option<String>,
}

async fn history(
    State(app): State<App>,
    Path((project, version)): Path<(String, String)>,
    Query(q): Query<ProductQuery>,
) -> ApiResult<impl IntoResponse> {
    let id = ReleaseId {
        project: parse_segment(&project)?,
        product: product_of(q.product.as_deref())?,
        version: parse_segment::<Version>(&version)?,
    };
    let events = release_views::release_history(&app, &id).await?;
    Ok(Json(api_views::release_history(&id, &events)))
}

async fn cle(
    State(app): State<App>,
    Path(project): Path<String>,
    Query(q): Query<ProductQuery>,
) -> ApiResult<impl IntoResponse> {
    let project: ProjectName = parse_segment(&project)?;
    let product = product_of(q.product.as_deref())?;
    let scope = Scope { project: Some(project.clone()), product: None };
    let events = release_views::scope_events(&app, &scope).await?;
    let advisories = trs_app::cve::release_advisories(&app, &project).await?;
    let updated_at = events.last().map_or(0, |e| e.at);
    Ok(Json(exports::cle::document(&events, &project, product.as_ref(), updated_at, &advisories)))
}

async fn endoflife(
    State(app): State<App>,
    Path(project): Path<String>,
    Query(q): Query<ProductQuery>,
) -> ApiResult<impl IntoResponse> {
    let name: ProjectName = parse_segment(&project)?;
    let product = product_of(q.product.as_deref())?;
    let project = projects::get_project(&app, &name).await?;
    let scope = Scope { project: Some(name), product: None };
    let view = release_views::view_at(&app, &scope, None).await?;
    Ok(Json(exports::endoflife::document(&project, &view, product.as_ref())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;
    use trs_app::test_support::{commit_files, force_current_for_tests, release, world};

    async fn send(app: &App, request: Request<Body>) -> Response {
        download_view_routes().with_state(app.clone()).oneshot(request).await.unwrap()
    }

    async fn get(app: &App, path: &str) -> Response {
        send(app, Request::builder().uri(path).body(Body::empty()).unwrap()).await
    }

    fn location(response: &Response) -> &str {
        response.headers()[header::LOCATION].to_str().unwrap()
    }

    #[tokio::test]
    async fn latest_redirects_to_the_latest_current_versioned_path() {
        let w = world().await;
        let id = release();
        let file = "foo-1.0.0+final.tar.gz";
        commit_files(&w.app, &w.blobs, &w.rm.caller(), &id, &[(file, b"the archive")]).await;
        let before = get(&w.app, "/current/foo/latest/foo-1.0.0+final.tar.gz").await;
        assert_eq!(before.status(), StatusCode::NOT_FOUND, "no current release yet");

        force_current_for_tests(&w.app, &id, &w.rm.caller()).await;
        let answer = get(&w.app, "/current/foo/latest/foo-1.0.0+final.tar.gz").await;
        assert_eq!(answer.status(), StatusCode::FOUND);
        assert_eq!(location(&answer), "/current/foo/1.0.0/foo-1.0.0+final.tar.gz");
        assert_eq!(answer.headers()[header::CACHE_CONTROL], "public, max-age=60, must-revalidate");
        // The target is an object the bucket serves: the promotion stored it under that key.
        assert!(w.app.blobs.head("current/foo/1.0.0/foo-1.0.0+final.tar.gz").await.unwrap().is_some());

        assert_eq!(get(&w.app, "/current/foo/latest/other.tar.gz").await.status(), StatusCode::NOT_FOUND);
        assert_eq!(get(&w.app, "/current/bar/latest/foo.tar.gz").await.status(), StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn a_candidate_file_needs_a_store_with_download_urls() {
        let w = world().await;
        let id = release();
        commit_files(&w.app, &w.blobs, &w.rm.caller(), &id, &[("foo-1.0.0.tar.gz", b"the archive")]).await;
        // The embedded store has no download URLs (trs serve streams candidates itself): a
        // clear 404, never a redirect to nowhere. The S3 side is tested against moto.
        let answer = get(&w.app, "/candidate/foo/1.0.0/foo-1.0.0.tar.gz").await;
        assert_eq!(answer.status(), StatusCode::NOT_FOUND);
        assert!(answer.headers().get(header::LOCATION).is_none());
    }

    async fn get_accepting(app: &App, path: &str, accept: &str) -> Response {
        send(app, Request::builder().uri(path).header(header::ACCEPT, accept).body(Body::empty()).unwrap()).await
    }

    async fn text(response: Response) -> String {
        String::from_utf8(axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap().to_vec()).unwrap()
    }

    /// What CloudFront gets from here when the bucket has no object at a released path: the
    /// archived release's old path redirects, the revoked one is gone with its reason, a
    /// folder is listed, and a path nothing ever had is a 404 page.
    #[tokio::test]
    async fn a_path_the_bucket_lacks_is_redirected_gone_listed_or_not_found() {
        let w = world().await;
        let id = release();
        let file = "foo-1.0.0.tar.gz";
        commit_files(&w.app, &w.blobs, &w.rm.caller(), &id, &[(file, b"the archive")]).await;
        force_current_for_tests(&w.app, &id, &w.rm.caller()).await;

        let listing = get_accepting(&w.app, "/current/foo/1.0.0/", "application/json").await;
        assert_eq!(listing.status(), StatusCode::OK);
        let listing: serde_json::Value = serde_json::from_str(&text(listing).await).unwrap();
        assert_eq!(listing["entries"][0]["url"], "/current/foo/1.0.0/foo-1.0.0.tar.gz", "{listing}");
        assert_eq!(listing["entries"][0]["size"], 11, "{listing}");
        let folder = get(&w.app, "/current/foo/1.0.0").await;
        assert_eq!((folder.status(), location(&folder)), (StatusCode::MOVED_PERMANENTLY, "/current/foo/1.0.0/"));

        trs_app::lifecycle::archive_release(&w.app, Some(&w.rm.caller()), &id).await.unwrap();
        let moved = get(&w.app, "/current/foo/1.0.0/foo-1.0.0.tar.gz").await;
        assert_eq!(moved.status(), StatusCode::MOVED_PERMANENTLY);
        assert_eq!(location(&moved), "/archive/foo/1.0.0/foo-1.0.0.tar.gz");
        assert_eq!(moved.headers()[header::CACHE_CONTROL], "public, max-age=86400");

        trs_app::lifecycle::revoke(&w.app, &w.rm.caller(), &id, "signing key <compromised>").await.unwrap();
        for path in ["/archive/foo/1.0.0/foo-1.0.0.tar.gz", "/current/foo/1.0.0/foo-1.0.0.tar.gz"] {
            let gone = get_accepting(&w.app, path, "text/html").await;
            assert_eq!(gone.status(), StatusCode::GONE, "{path}");
            assert_eq!(gone.headers()[header::CONTENT_TYPE], "text/html; charset=utf-8");
            let page = text(gone).await;
            assert!(page.contains("signing key &lt;compromised&gt;"), "{path}: the reason, escaped: {page}");
        }
        let gone = get_accepting(&w.app, "/archive/foo/1.0.0/foo-1.0.0.tar.gz", "application/json").await;
        let error: serde_json::Value = serde_json::from_str(&text(gone).await).unwrap();
        assert_eq!(error["error"]["code"], "release-revoked", "{error}");

        let missing = get(&w.app, "/current/foo/9.9.9/foo-9.9.9.tar.gz").await;
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        assert_eq!(missing.headers()[header::CACHE_CONTROL], "public, max-age=60, must-revalidate", "a 404 may end");
        assert!(text(missing).await.contains("<h1>Not found</h1>"));
    }

    /// The traversal and normalisation forms of `trs_app::test_support::traversal` (the table
    /// the e2e test sends to `trs serve`) against the download paths as the stream function
    /// routes them on AWS, and against the shared resolver they end in
    /// (`trs_http::downloads::locate`, `public::locate`), aimed at a draft's file through the
    /// URL space, at an archived release's file and at `/etc/passwd`: never a file, a redirect or a listing; while the real
    /// file under each prefix still resolves (`latest` to its redirect).
    #[tokio::test]
    async fn traversal_forms_never_reach_a_file_through_the_stream_routes_or_the_resolver() {
        use trs_app::test_support::pass_vote_for_tests;
        use trs_app::test_support::traversal::forms;
        let w = world().await;
        let caller = w.rm.caller();
        let version = |v: &str| ReleaseId { version: v.parse().unwrap(), ..release() };
        let legit = |v: &str| format!("foo-{v}.txt");
        for (v, text) in [("0.9.0", "LEGIT 0.9.0"), ("1.0.0", "LEGIT 1.0.0"), ("1.1.0", "LEGIT 1.1.0")] {
            commit_files(&w.app, &w.blobs, &caller, &version(v), &[(&legit(v), text.as_bytes())]).await;
        }
        force_current_for_tests(&w.app, &version("0.9.0"), &caller).await;
        trs_app::lifecycle::archive_release(&w.app, Some(&caller), &version("0.9.0")).await.unwrap();
        force_current_for_tests(&w.app, &version("1.0.0"), &caller).await;
        pass_vote_for_tests(&w.app, &version("1.1.0")).await;
        commit_files(&w.app, &w.blobs, &caller, &version("2.0.0"), &[("secret.txt", b"DRAFT")]).await;

        let prefixes = [
            ("current", "foo/1.0.0/", legit("1.0.0")),
            ("current", "foo/latest/", legit("1.0.0")),
            ("archive", "foo/0.9.0/", legit("0.9.0")),
            ("candidate", "foo/1.1.0/", legit("1.1.0")),
        ];
        let headers = HeaderMap::new();
        let (mut tried, mut unparsable) = (0, 0);
        for (segment, prefix, name) in &prefixes {
            let real = format!("{prefix}{name}");
            let file = downloads::locate(&w.app, segment, &real, &headers).await.expect("the real file resolves");
            assert_eq!(file.name, *name);
            // Up to the URL root (a draft's would-be path, another release's public file), and far
            // past it (a file system's root): a resolver that folded `..` would serve the second.
            let up_to_root = [(3, "current/foo/2.0.0/secret.txt"), (3, "archive/foo/0.9.0/foo-0.9.0.txt")];
            for (up, target) in up_to_root.into_iter().chain([(24, "etc/passwd")]) {
                for form in forms(up, target, name) {
                    tried += 1;
                    let path = format!("/{segment}/{prefix}{}", form.suffix);
                    // What the router hands the handler: the wildcard, percent-decoded once.
                    let rest = format!("{prefix}{}", form.suffix);
                    if let Ok(rest) = percent_encoding::percent_decode_str(&rest).decode_utf8() {
                        let at = format!("{segment} {rest:?} ({})", form.name);
                        assert!(public::locate(&w.app, segment, &rest).await.is_err(), "{at}: resolved");
                        match downloads::locate(&w.app, segment, &rest, &headers).await {
                            Ok(file) => panic!("{at}: resolved to {}", file.object),
                            Err(answer) => assert!(answer.status().is_client_error(), "{at}: {}", answer.status()),
                        }
                    }
                    let Ok(request) = Request::builder().uri(path.as_str()).body(Body::empty()) else {
                        unparsable += 1; // refused before any route, as hyper refuses it
                        continue;
                    };
                    let answer = send(&w.app, request).await;
                    assert!(answer.status().is_client_error(), "{path} ({}): {}", form.name, answer.status());
                    assert!(answer.headers().get(header::LOCATION).is_none(), "{path}: a redirect");
                    let body = text(answer).await;
                    assert!(!body.contains("not in place yet") && !body.contains("DRAFT"), "{path}: {body}");
                }
            }
        }
        assert!(tried >= 4 * 3 * 77 && unparsable < tried / 2, "{tried} forms, {unparsable} not even a URI");
        // The real files through the routes: latest redirects to its versioned object.
        let latest = get(&w.app, "/current/foo/latest/foo-1.0.0.txt").await;
        assert_eq!((latest.status(), location(&latest)), (StatusCode::FOUND, "/current/foo/1.0.0/foo-1.0.0.txt"));
    }
}

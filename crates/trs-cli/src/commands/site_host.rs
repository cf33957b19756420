//! The public site under `trs serve`: published into `DATA/site` after every committed event
//! (a full build at start-up when the folder is empty), and served at `/` with the headers a
//! CDN would serve (Content-Type, Cache-Control, ETag; conditional and range requests as
//! [`trs_http::files`] answers them; HEAD with the object's length; text in gzip or brotli as
//! the client accepts, [`trs_http::encoding`]). An unknown path gets the
//! site's 404 page. The site is the router's fallback, so it never shadows an API route or the
//! public release files.

use crate::error::{CliResult, failed};
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use trs_app::{App, AppError};
use trs_core::StreamId;
use trs_http::downloads::{public_error, wants_json};
use trs_http::encoding::{self, Coding};
use trs_http::files::{self, Validators};
use trs_site::Site;
use trs_site::config::SiteSource;
use trs_site::render::Renderer;
use trs_storage::embedded::FolderSiteStore;
use trs_storage::{NoCdn, ObjectHeaders, SiteStore};

/// Where `trs serve` keeps the site in its data folder.
pub fn site_folder(data: &Path) -> PathBuf {
    data.join("site")
}

/// The renderer from the embedded sources, with `templates` laid on top, verification
/// commands pointing at `download_url` when given.
pub fn renderer(templates: Option<&Path>, download_url: Option<&str>) -> CliResult<Renderer> {
    let mut source = SiteSource::embedded();
    if let Some(dir) = templates {
        source = source.with_overrides(dir).map_err(failed)?;
    }
    if let Some(url) = download_url
        && source.config.extra.download_url.is_empty()
    {
        source.config.set_download_url(url);
    }
    Renderer::new(source).map_err(failed)
}

/// The publisher over `folder` (no CDN in front).
pub fn open(folder: &Path, renderer: Renderer) -> CliResult<Arc<Site>> {
    let store = FolderSiteStore::open(folder)
        .map_err(|e| failed(format!("cannot open the site folder {}: {e}", folder.display())))?;
    Ok(Arc::new(Site::new(renderer, Arc::new(store), Arc::new(NoCdn))))
}

/// Builds the whole site if the folder holds none yet, then publishes what the site misses of
/// every stream and, after that, of each stream woken.
pub async fn run(app: App, site: Arc<Site>, events: tokio::sync::mpsc::UnboundedReceiver<StreamId>) {
    let empty = match site.store().list().await {
        Ok(list) => list.is_none_or(|l| l.is_empty()),
        Err(e) => {
            tracing::error!(error = %e, "cannot list the site folder");
            false
        }
    };
    if empty {
        match site.full_build(&app).await {
            Ok(report) => tracing::info!("{}", report.summary()),
            Err(e) => tracing::error!(error = %e, "site full build failed"),
        }
    }
    trs_site::publish::run_publisher(app, site, events).await
}

/// The site as the router's fallback.
pub fn routes(store: Arc<dyn SiteStore>) -> Router {
    Router::new().fallback(serve).with_state(store)
}

/// The site's own 404 page (HTML), or JSON for a client that asks for JSON and not HTML.
async fn not_found(store: &dyn SiteStore, headers: &HeaderMap, path: &str) -> Response {
    if !wants_json(headers)
        && let Ok(Some(page)) = store.get(trs_site::paths::NOT_FOUND).await
    {
        return (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, page.content_type)], Body::from(page.bytes))
            .into_response();
    }
    public_error(headers, AppError::NotFound(format!("no page or file at {path}")))
}

async fn serve(State(store): State<Arc<dyn SiteStore>>, method: Method, uri: Uri, headers: HeaderMap) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let Ok(path) = percent_encoding::percent_decode_str(uri.path()).decode_utf8() else {
        return not_found(store.as_ref(), &headers, uri.path()).await;
    };
    let rel = path.trim_start_matches('/');
    let key = if rel.is_empty() || rel.ends_with('/') { format!("{rel}index.html") } else { rel.to_string() };
    let object = match store.get(&key).await {
        Ok(Some(object)) => object,
        Ok(None) => {
            // A folder asked for without its slash: send the reader to the folder's URL.
            let index = format!("{rel}/index.html");
            if !rel.is_empty() && matches!(store.digest(&index).await, Ok(Some(_))) {
                return (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, format!("/{rel}/"))]).into_response();
            }
            return not_found(store.as_ref(), &headers, &path).await;
        }
        Err(trs_storage::SiteError::InvalidPath(_)) => return not_found(store.as_ref(), &headers, &path).await,
        Err(e) => {
            tracing::error!(path = %key, error = %e, "cannot read the site");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let object_headers = ObjectHeaders {
        content_type: object.content_type,
        cache_control: object.cache_control,
        content_disposition: None,
    };
    // Text goes gzip or brotli when the client takes it, except for a range of it (ranges are
    // of the stored bytes) and what is too small to gain (trs_http::encoding).
    let compressible = trs_storage::headers::compressible(object.content_type);
    let coding = if compressible && object.bytes.len() >= encoding::MIN_SIZE && !headers.contains_key(header::RANGE) {
        encoding::negotiate(&headers)
    } else {
        Coding::Identity
    };
    let mut validators = Validators::from_digest(&object.digest, None);
    validators.etag = coding.etag(&validators.etag);
    let answer = files::decide(&method, &headers, &validators, object.bytes.len() as u64);
    let bytes = match (coding, answer) {
        (Coding::Identity, _) | (_, files::Answer::NotModified) => object.bytes,
        (coding, _) => coding.encode(&object.bytes).into(),
    };
    let size = bytes.len() as u64;
    let body = match answer.range(size) {
        Some((start, end)) if method == Method::GET => Body::from(bytes.slice(start as usize..end as usize)),
        _ => Body::empty(),
    };
    let mut response = files::response(answer, &validators, &object_headers, size, body);
    if compressible {
        response.headers_mut().insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    if let (Some(token), Some(_)) = (coding.token(), answer.range(size)) {
        response.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static(token));
    }
    response
}

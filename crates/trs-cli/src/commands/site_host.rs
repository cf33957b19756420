//! The public site under `trs serve`: published into `DATA/site` after every committed event
//! (a full build at start-up when the folder is empty), and served at `/` with the headers a
//! CDN would serve (Content-Type, Cache-Control, ETag; `If-None-Match` answers 304). The site
//! is the router's fallback, so it never shadows an API route or the public release files.

use crate::error::{CliResult, failed};
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use trs_app::App;
use trs_core::StreamId;
use trs_site::Site;
use trs_site::config::SiteSource;
use trs_site::render::Renderer;
use trs_storage::embedded::FolderSiteStore;
use trs_storage::{NoCdn, SiteStore};

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
        source.config.extra.download_url = url.to_string();
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

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "not found\n").into_response()
}

async fn serve(State(store): State<Arc<dyn SiteStore>>, method: Method, uri: Uri, headers: HeaderMap) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return not_found();
    }
    let Ok(path) = percent_encoding::percent_decode_str(uri.path()).decode_utf8() else { return not_found() };
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
            return not_found();
        }
        Err(trs_storage::SiteError::InvalidPath(_)) => return not_found(),
        Err(e) => {
            tracing::error!(path = %key, error = %e, "cannot read the site");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let etag = format!("\"{}\"", object.digest);
    let fresh = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim() == etag || t.trim() == "*");
    let common = [(header::ETAG, etag), (header::CACHE_CONTROL, object.cache_control.to_string())];
    if fresh {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    let body = if method == Method::HEAD { Body::empty() } else { Body::from(object.bytes) };
    (common, [(header::CONTENT_TYPE, object.content_type)], body).into_response()
}

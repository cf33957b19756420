//! The public download directory as `trs serve` answers it: `GET /candidate/…`,
//! `GET /current/…` and `GET /archive/…` at the coordinates of DESIGN.md. Behind a CDN the same objects are served
//! from the bucket, and `latest` and candidates' files are redirects from the stream function
//! (`trs_function_stream::download_view_routes`); here the embedded host resolves them and
//! streams the object.

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use trs_app::{App, AppError, public};
use trs_http::ApiError;

pub fn routes() -> Router<App> {
    Router::new()
        .route("/candidate/{*rest}", get(|s, p| serve(s, public::CANDIDATE, p)))
        .route("/current/{*rest}", get(|s, p| serve(s, "current", p)))
        .route("/archive/{*rest}", get(|s, p| serve(s, "archive", p)))
}

/// Files at a released version's path never change (the same headers S3 keeps on them for
/// the CDN); `latest` moves and a candidate's files change with each revision, so those are
/// revalidated.
const IMMUTABLE: &str = trs_storage::blob::IMMUTABLE_PUBLIC;
const MAY_CHANGE: &str = "public, max-age=60, must-revalidate";

async fn serve(State(app): State<App>, segment: &'static str, Path(rest): Path<String>) -> Result<Response, ApiError> {
    let file = public::resolve(&app, segment, &rest).await?;
    let meta = app
        .blobs
        .head(&file.object)
        .await
        .map_err(AppError::from)?
        .ok_or_else(|| AppError::NotFound(format!("no public file at /{segment}/{rest}")))?;
    let body = app.blobs.get(&file.object).await.map_err(AppError::from)?;
    Ok((
        [
            (header::CONTENT_TYPE, trs_storage::object_headers(&file.object).content_type.to_string()),
            (header::CONTENT_LENGTH, meta.size.to_string()),
            (header::CACHE_CONTROL, if file.may_change { MAY_CHANGE } else { IMMUTABLE }.to_string()),
        ],
        Body::from_stream(body),
    )
        .into_response())
}

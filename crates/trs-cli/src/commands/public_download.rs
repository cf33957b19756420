//! The public download directory as `trs serve` answers it: `GET`/`HEAD /candidate/…`,
//! `/current/…` and `/archive/…` at the coordinates of DESIGN.md. Behind a CDN the same objects
//! are served from the bucket, and `latest` and candidates' files are redirects from the stream
//! function (`trs_function_stream::download_view_routes`); here the embedded host resolves them
//! and streams the object, with ranges and revalidation ([`trs_http::files`]). A path whose
//! release was archived (or promoted, for a candidate's path) is a permanent redirect to where
//! the file is now; a revoked release's paths answer `410 Gone` with the reason
//! ([`trs_http::downloads`], the same answers the stream function gives on AWS).

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use axum::routing::get;
use trs_app::{App, AppError};
use trs_http::Path;
use trs_http::downloads::{self, public_error};
use trs_http::files::{self, Validators};
use trs_storage::headers::{moving_file_headers, object_headers};

pub fn routes() -> Router<App> {
    let mut router = Router::new();
    for segment in trs_core::StageSegment::ALL.map(|s| s.as_str()) {
        router = router.route(
            &format!("/{segment}/{{*rest}}"),
            get(
                move |State(app): State<App>, Path(rest): Path<String>, method: Method, headers: HeaderMap| async move {
                    match serve(&app, segment, &rest, &method, &headers).await {
                        Ok(response) => response,
                        Err(e) => public_error(&headers, e),
                    }
                },
            ),
        );
    }
    router
}

async fn serve(
    app: &App,
    segment: &str,
    rest: &str,
    method: &Method,
    headers: &HeaderMap,
) -> Result<Response, AppError> {
    let file = match downloads::locate(app, segment, rest, headers).await {
        Ok(file) => file,
        Err(answer) => return Ok(answer),
    };
    // The headers of the path asked for: a version's path is immutable, `latest` and a
    // candidate's files move (and a candidate's object key says nothing of its type).
    let object_headers = if file.may_change { moving_file_headers(&file.name) } else { object_headers(&file.object) };
    let validators = Validators::from_digest(&file.sha512.to_hex(), Some(file.published_at));
    let answer = files::decide(method, headers, &validators, file.size);
    let body = match answer.range(file.size) {
        Some(_) if *method == Method::HEAD => Body::empty(),
        Some((0, end)) if end == file.size => Body::from_stream(app.blobs.get(&file.object).await?),
        Some((start, end)) => Body::from_stream(app.blobs.get_range(&file.object, start, end).await?),
        None => Body::empty(),
    };
    Ok(files::response(answer, &validators, &object_headers, file.size, body))
}

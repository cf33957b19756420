//! The public download directory as `trs serve` answers it: `GET`/`HEAD /candidate/…`,
//! `/current/…` and `/archive/…` at the coordinates of DESIGN.md. Behind a CDN the same objects
//! are served from the bucket, and `latest` and candidates' files are redirects from the stream
//! function (`trs_function_stream::download_view_routes`); here the embedded host resolves them
//! and streams the object, with ranges and revalidation ([`trs_http::files`]). A path whose
//! release was archived (or promoted, for a candidate's path) is a permanent redirect to where
//! the file is now; a revoked release's paths answer `410 Gone` with the reason.

use super::site_host::{escape_html, public_error, wants_json};
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use trs_app::public::{self, Located};
use trs_app::{App, AppError};
use trs_http::files::{self, Validators};
use trs_storage::headers::{moving_file_headers, object_headers};

pub fn routes() -> Router<App> {
    let mut router = Router::new();
    for segment in [public::CANDIDATE, "current", "archive"] {
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
    if let Some(folder) = rest.strip_suffix('/') {
        let listing = public::listing(app, segment, folder).await?;
        return Ok(listing_response(&listing, headers));
    }
    let file = match public::locate(app, segment, rest).await {
        Ok(Located::File(file)) => file,
        Ok(Located::Moved(to)) => return Ok((StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, to)]).into_response()),
        // A folder asked for without its slash: to the folder's listing.
        Err(AppError::NotFound(why)) => {
            return match public::listing(app, segment, rest).await {
                Ok(listing) => Ok((StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, listing.path)]).into_response()),
                Err(_) => Err(AppError::NotFound(why)),
            };
        }
        Err(e) => return Err(e),
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

/// A folder of the download tree: JSON for a script that asks for it, else a plain HTML index
/// whose links a mirror tool (`wget -r`, `lftp mirror`) follows. It changes as releases move,
/// so it is revalidated like a page.
fn listing_response(listing: &public::Listing, headers: &HeaderMap) -> Response {
    let cache = [(header::CACHE_CONTROL, trs_storage::headers::REVALIDATE)];
    if wants_json(headers) {
        return (cache, axum::Json(listing)).into_response();
    }
    let rows: String = listing
        .entries
        .iter()
        .map(|e| {
            format!(
                "<tr><td><a href=\"{}\">{}</a></td><td>{}</td><td><code>{}</code></td></tr>\n",
                escape_html(&e.url),
                escape_html(&e.name),
                e.size.map(|s| s.to_string()).unwrap_or_default(),
                e.sha512.as_deref().unwrap_or_default()
            )
        })
        .collect();
    let title = escape_html(&listing.path);
    let html = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Index of {title}</title><link rel=\"stylesheet\" href=\"/site.css\"></head>\n\
         <body><main id=\"main\"><h1>Index of {title}</h1>\n<div class=\"table-wrap\"><table>\n\
         <thead><tr><th scope=\"col\">Name</th><th scope=\"col\">Size (bytes)</th><th scope=\"col\">SHA-512</th></tr></thead>\n\
         <tbody>\n{rows}</tbody></table></div></main></body>\n</html>\n"
    );
    (cache, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
}

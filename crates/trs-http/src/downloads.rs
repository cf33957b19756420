//! What a public download path answers when it is not a file's bytes, for both hosts: the
//! embedded host (`trs serve`, which then streams the file) and, on AWS, the stream function
//! that CloudFront falls back to when the release-files bucket has no object at the path
//! (infra/template.json's `release-files-else-api` origin group). One answer for both: a
//! folder's listing, a permanent redirect for a file whose release moved (archived, or
//! promoted from candidate), `410 Gone` with the reason for a revoked release, and a 404 that
//! says what is missing; a browser gets these as pages, a script asking for JSON as JSON.

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use trs_api::downloads::FolderListing;
use trs_app::public::{self, Located, PublicFile};
use trs_app::{App, AppError};
use trs_storage::headers::{MOVED, REVALIDATE};

/// Where `/{segment}/{rest}` leads: the file to serve, or the answer that replaces it.
pub async fn locate(app: &App, segment: &str, rest: &str, headers: &HeaderMap) -> Result<PublicFile, Response> {
    if let Some(folder) = rest.strip_suffix('/') {
        return Err(match public::listing(app, segment, folder).await {
            Ok(listing) => listing_response(listing.into(), headers),
            Err(e) => public_error(headers, e),
        });
    }
    match public::locate(app, segment, rest).await {
        Ok(Located::File(file)) => Ok(file),
        Ok(Located::Moved(to)) => Err(moved_permanently(to)),
        // A folder asked for without its slash: to the folder's listing.
        Err(AppError::NotFound(why)) => Err(match public::listing(app, segment, rest).await {
            Ok(listing) => moved_permanently(listing.path),
            Err(_) => public_error(headers, AppError::NotFound(why)),
        }),
        Err(e) => Err(public_error(headers, e)),
    }
}

/// A path that moved for good, cached for a day ([`MOVED`] says why not for ever).
fn moved_permanently(to: String) -> Response {
    (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, to), (header::CACHE_CONTROL, MOVED.to_string())])
        .into_response()
}

/// Whether the client asks for JSON rather than a page (a script's `Accept: application/json`).
pub fn wants_json(headers: &HeaderMap) -> bool {
    let accept = headers.get(header::ACCEPT).and_then(|a| a.to_str().ok()).unwrap_or_default();
    accept.contains("application/json") && !accept.contains("text/html")
}

/// An error on a release file's path: a browser gets a page saying why (a 404 says what is
/// missing, e.g. that a line has only pre-releases; a revoked release's `410 Gone` its reason),
/// a script asking for JSON the API's error document, with the same status either way. A 404
/// may stop being one (the release is promoted a minute later), so caches revalidate it.
pub fn public_error(headers: &HeaderMap, error: AppError) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = if wants_json(headers) || !matches!(status, StatusCode::NOT_FOUND | StatusCode::GONE) {
        crate::ApiError(error).into_response()
    } else {
        let title = if status == StatusCode::GONE { "Gone" } else { "Not found" };
        let html = format!(
            "<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{title}</title><link rel=\"stylesheet\" href=\"/site.css\"></head>\n\
             <body><main id=\"main\"><h1>{title}</h1>\n<p>{}</p>\n<p><a href=\"/\">All projects</a></p></main></body>\n</html>\n",
            escape_html(&error.to_string())
        );
        (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
    };
    if matches!(status, StatusCode::NOT_FOUND | StatusCode::GONE) {
        response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static(REVALIDATE));
        // A page or the error document, by `Accept`: see `listing_response`.
        response.headers_mut().insert(header::VARY, header::HeaderValue::from_static("Accept"));
    }
    response
}

/// Text for an HTML element's content or a quoted attribute.
pub fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// A folder of the download tree (its API view): JSON for a script that asks for it, else a
/// plain HTML index whose links a mirror tool (`wget -r`, `lftp mirror`) follows. It changes
/// as releases move, so it is revalidated like a page.
pub fn listing_response(listing: FolderListing, headers: &HeaderMap) -> Response {
    // The body depends on `Accept`: a shared cache must not hand a browser the JSON or a
    // script the page.
    let cache = [(header::CACHE_CONTROL, REVALIDATE), (header::VARY, "Accept")];
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

#[cfg(test)]
mod tests {
    use super::*;
    use trs_api::downloads::FolderEntry;

    fn accept(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, value.parse().unwrap());
        h
    }

    #[test]
    fn answers_that_depend_on_accept_say_so_to_caches() {
        let listing = FolderListing {
            path: "/current/foo/1.0.0/".into(),
            entries: vec![FolderEntry {
                name: "a.tar.gz".into(),
                url: "/current/foo/1.0.0/a.tar.gz".into(),
                size: Some(1),
                sha512: None,
            }],
        };
        for wanted in ["application/json", "text/html"] {
            let listed = listing_response(listing.clone(), &accept(wanted));
            assert_eq!(listed.headers()[header::VARY], "Accept", "listing for {wanted}");
            let missing = public_error(&accept(wanted), AppError::NotFound("no release 9.9.9".into()));
            assert_eq!(missing.status(), StatusCode::NOT_FOUND);
            assert_eq!(missing.headers()[header::VARY], "Accept", "404 for {wanted}");
        }
    }
}

//! Where every object of the site lives, and the URL it is linked by. Nothing else formats a
//! site path.
//!
//! | object | path |
//! |---|---|
//! | directory | `index.html` |
//! | the page of a path that does not exist | `404.html` |
//! | search index | `search-index.json` |
//! | site feed (new releases) | `feed.xml` |
//! | static assets (zola's `static/`, copied to the root) | `NAME` |
//! | project page | `projects/P/index.html` |
//! | KEYS | `projects/P/KEYS` |
//! | release page | `projects/P/releases/VERSION/index.html`, `projects/P/releases/PRODUCT/VERSION/index.html` |
//! | a release's files for scripts: path, size, SHA-512, URL, signature, signers | `…/releases/[PRODUCT/]VERSION/files.json` |
//! | a release's checksums, as `sha512sum -c` reads them | `…/releases/[PRODUCT/]VERSION/SHA512SUMS` |
//! | each line's latest current release and its files | `projects/P/latest.json` |
//! | history, newest events | `projects/P/history/index.html` |
//! | history, fixed pages (1 = oldest) | `projects/P/history/N/index.html` |
//! | releases by state / states by release | `projects/P/releases.json` |
//! | CLE | `projects/P/cle.json`, `projects/P/cle-PRODUCT.json` |
//! | endoflife.date API v1 | `projects/P/endoflife.json`, `projects/P/endoflife-PRODUCT.json` |
//! | endoflife.date API v0 | `projects/P/endoflife-v0.json`, `projects/P/endoflife-PRODUCT.v0.json` (product names hold no `.`) |
//! | project feed | `projects/P/feed.xml` |
//!
//! A release page's path does not depend on the release's stage, so links to it never break.
//! Every HTML page but `404.html` is a folder's `index.html`, as zola writes its sections and
//! pages (crate::zola).

use trs_core::{ProductName, ProjectName, ReleaseId};

pub const DIRECTORY: &str = "index.html";
/// Served with status 404 for any unknown path (zola's name for it).
pub const NOT_FOUND: &str = "404.html";
pub const SEARCH_INDEX: &str = "search-index.json";
pub const SITE_FEED: &str = "feed.xml";

/// A file of the site's `static/` folder: at the site's root, where zola copies it.
pub fn static_asset(name: &str) -> String {
    name.to_string()
}

pub fn project_page(p: &ProjectName) -> String {
    format!("projects/{p}/index.html")
}

pub fn keys(p: &ProjectName) -> String {
    format!("projects/{p}/KEYS")
}

pub fn release_page(id: &ReleaseId) -> String {
    match &id.product {
        Some(product) => format!("projects/{}/releases/{product}/{}/index.html", id.project, id.version),
        None => format!("projects/{}/releases/{}/index.html", id.project, id.version),
    }
}

/// The folder of a release's page (`projects/P/releases/[PRODUCT/]VERSION/`).
fn release_folder(id: &ReleaseId) -> String {
    release_page(id).trim_end_matches("index.html").to_string()
}

/// Every object the site writes for a release (`Renderer::release`): its page, `files.json`
/// and `SHA512SUMS`.
pub fn release_objects(id: &ReleaseId) -> [String; 3] {
    [release_page(id), release_files_json(id), release_sha512sums(id)]
}

pub fn release_files_json(id: &ReleaseId) -> String {
    format!("{}files.json", release_folder(id))
}

pub fn release_sha512sums(id: &ReleaseId) -> String {
    format!("{}SHA512SUMS", release_folder(id))
}

pub fn latest_json(p: &ProjectName) -> String {
    format!("projects/{p}/latest.json")
}

pub fn history_index(p: &ProjectName) -> String {
    format!("projects/{p}/history/index.html")
}

/// Page `n` (from 1, the oldest events) of a project's history.
pub fn history_page(p: &ProjectName, n: usize) -> String {
    format!("projects/{p}/history/{n}/index.html")
}

/// Read back by `GET /api/v1/releases` (trs-app owns the path for both).
pub fn releases_json(p: &ProjectName) -> String {
    trs_app::storage_keys::site_releases_json(p)
}

pub fn cle_json(p: &ProjectName, product: Option<&ProductName>) -> String {
    match product {
        Some(product) => format!("projects/{p}/cle-{product}.json"),
        None => format!("projects/{p}/cle.json"),
    }
}

pub fn endoflife_json(p: &ProjectName, product: Option<&ProductName>) -> String {
    match product {
        Some(product) => format!("projects/{p}/endoflife-{product}.json"),
        None => format!("projects/{p}/endoflife.json"),
    }
}

pub fn endoflife_v0_json(p: &ProjectName, product: Option<&ProductName>) -> String {
    match product {
        Some(product) => format!("projects/{p}/endoflife-{product}.v0.json"),
        None => format!("projects/{p}/endoflife-v0.json"),
    }
}

pub fn project_feed(p: &ProjectName) -> String {
    format!("projects/{p}/feed.xml")
}

/// The URL a page is linked by, under `base_url` (ends with `/`): `…/index.html` is linked as
/// its folder.
pub fn url(base_url: &str, path: &str) -> String {
    let path = path.strip_suffix("index.html").unwrap_or(path);
    format!("{base_url}{path}")
}

/// The paths a CDN must forget when the object at `path` changes (a folder's index is also
/// served at the folder's URL). Both, because CloudFront's viewer-request function rewrites
/// `/folder/` to `/folder/index.html`, and CloudFront's guide on invalidating paths asks for
/// both URIs when a function changes the request's URI ("the URI in the viewer request" and
/// "the URI after the function changed it").
pub fn invalidation_paths(path: &str) -> Vec<String> {
    match path.strip_suffix("index.html") {
        Some(folder) => vec![format!("/{folder}"), format!("/{path}")],
        None => vec![format!("/{path}")],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn release_pages_of_products_and_the_main_line_do_not_collide() {
        let main = ReleaseId { project: "foo".parse().unwrap(), product: None, version: "1.0".parse().unwrap() };
        let prod = ReleaseId { product: Some("conn".parse().unwrap()), ..main.clone() };
        assert_eq!(release_page(&main), "projects/foo/releases/1.0/index.html");
        assert_eq!(release_page(&prod), "projects/foo/releases/conn/1.0/index.html");
        assert_eq!(url("/", &release_page(&main)), "/projects/foo/releases/1.0/");
        assert_eq!(release_files_json(&prod), "projects/foo/releases/conn/1.0/files.json");
        assert_eq!(release_sha512sums(&main), "projects/foo/releases/1.0/SHA512SUMS");
        assert_eq!(invalidation_paths("index.html"), vec!["/", "/index.html"]);
        assert_eq!(invalidation_paths("feed.xml"), vec!["/feed.xml"]);
    }
}

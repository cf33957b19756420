//! Every HTTP header rule of what trs serves, decided here once: the Content-Type of a file by
//! its name, the Cache-Control of each kind of object (release files, content-addressed files,
//! staged uploads, site pages, views that move such as `latest`), the attachment disposition of
//! release files a browser would otherwise render, and `X-Content-Type-Options: nosniff`.
//! The stores write these headers with each object (S3 keeps them, so CloudFront serves them
//! as they are) and `trs serve` answers with the same ones.

/// Files at a release's public path never change (a public path is never overwritten), so
/// caches keep them for a year without asking again.
pub const IMMUTABLE_PUBLIC: &str = "public, max-age=31536000, immutable";
/// Content-addressed files (`files/sha512/…`) never change either, but are not public.
pub const IMMUTABLE_PRIVATE: &str = "private, max-age=31536000, immutable";
/// Staged uploads, answers made for one caller (a vote's rendered mails, which change with
/// every ballot) and anything else: not to be cached.
pub const NO_STORE: &str = "no-store";
/// Site pages and views that move (`latest` and its redirects, a candidate's files, which
/// change with each revision): caches may keep them briefly but must revalidate (ETag,
/// Last-Modified) after that, so a vote or promotion shows within a minute even without a CDN
/// invalidation.
pub const REVALIDATE: &str = "public, max-age=60, must-revalidate";
/// A redirect to a download URL that expires (a candidate's file, redirected to a presigned
/// URL): neither a shared cache nor the browser may keep it past the URL's life.
pub const EXPIRING_REDIRECT: &str = "private, no-store";
/// A download path that moved for good (a release's `current/` path once it is archived).
/// Cached for a day, not for ever: a release archived today may be revoked later, and its
/// archive path then answers `410 Gone` with the reason.
pub const MOVED: &str = "public, max-age=86400";

/// Sent with every answer: browsers must not guess a type other than the one served (a
/// released text file that looks like HTML must not render as HTML on the site's origin).
pub const NOSNIFF: (&str, &str) = ("x-content-type-options", "nosniff");

/// Key prefixes of the public download tree (trs-app's `storage_keys::public_prefix`).
pub const PUBLIC_PREFIXES: [&str; 2] = ["current/", "archive/"];

/// The HTTP headers an object is stored and served with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectHeaders {
    pub content_type: &'static str,
    pub cache_control: &'static str,
    /// `attachment` for release files a browser would render (see [`release_file_disposition`]).
    pub content_disposition: Option<String>,
}

/// The headers of a blob-store object by its key.
pub fn object_headers(key: &str) -> ObjectHeaders {
    let public = PUBLIC_PREFIXES.iter().any(|p| key.starts_with(p));
    let cache_control = if public {
        IMMUTABLE_PUBLIC
    } else if key.starts_with("files/") {
        IMMUTABLE_PRIVATE
    } else {
        NO_STORE
    };
    let name = key.rsplit('/').next().unwrap_or(key);
    let content_disposition = if public { release_file_disposition(name) } else { None };
    ObjectHeaders { content_type: content_type(key), cache_control, content_disposition }
}

/// The headers a release file is served with at a public path whose bytes may move (`latest`,
/// a candidate's file): typed by the file's name (not by the content-addressed key that holds
/// it), revalidated, and an attachment where a browser would render it.
pub fn moving_file_headers(file_name: &str) -> ObjectHeaders {
    ObjectHeaders {
        content_type: content_type(file_name),
        cache_control: REVALIDATE,
        content_disposition: release_file_disposition(file_name),
    }
}

/// Types a browser renders (and runs scripts in) rather than downloads.
pub fn renders_in_browser(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    matches!(
        essence,
        "text/html" | "application/xhtml+xml" | "image/svg+xml" | "text/javascript" | "application/xml" | "text/xml"
    )
}

/// Text worth compressing when the site serves it (pages, JSON views, feeds, CSS, scripts,
/// SVG, checksum lists): a type of `text/*`, JSON, XML, JavaScript or SVG. Archives and
/// images are compressed already. Only the site's own objects are ever compressed: release
/// files are served as the bytes that were voted on, whatever their type.
pub fn compressible(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence.starts_with("text/")
        || essence.ends_with("+json")
        || essence.ends_with("+xml")
        || matches!(essence.as_str(), "application/json" | "application/xml" | "application/javascript")
}

/// A release file that a browser would render is served as an attachment: released bytes
/// never run as a page of the site's own origin. Other files keep the browser's default
/// (archives download anyway; checksums and KEYS stay readable in the browser).
pub fn release_file_disposition(file_name: &str) -> Option<String> {
    renders_in_browser(content_type(file_name)).then(|| attachment_disposition(file_name))
}

/// The media type of a file by its name. Archives are served as themselves (never
/// `Content-Encoding: gzip`, which would make browsers unpack a `.tar.gz` on download).
pub fn content_type(key: &str) -> &'static str {
    let name = key.rsplit('/').next().unwrap_or(key).to_ascii_lowercase();
    let ext = |e: &str| name.ends_with(e);
    if ext(".tar.gz") || ext(".tgz") || ext(".gz") {
        "application/gzip"
    } else if ext(".tar") {
        "application/x-tar"
    } else if ext(".zip") || ext(".whl") {
        "application/zip"
    } else if ext(".jar") || ext(".war") {
        "application/java-archive"
    } else if ext(".bz2") {
        "application/x-bzip2"
    } else if ext(".xz") {
        "application/x-xz"
    } else if ext(".zst") {
        "application/zstd"
    } else if ext(".asc") || ext(".sig") {
        "application/pgp-signature"
    } else if ext(".sha512") || ext(".sha256") || ext(".sha1") || ext(".md5") || ext(".txt") || name == "keys" {
        "text/plain; charset=utf-8"
    } else if matches!(name.as_str(), "sha512sums" | "sha256sums") {
        // Checksum lists (the site's `SHA512SUMS`, a release's own).
        "text/plain; charset=utf-8"
    } else if ext(".md") {
        "text/markdown; charset=utf-8"
    } else if ext(".json") {
        "application/json"
    } else if ext(".html") || ext(".htm") {
        "text/html; charset=utf-8"
    } else if ext(".xhtml") {
        "application/xhtml+xml"
    } else if name == "feed.xml" {
        // The site's Atom feeds.
        "application/atom+xml; charset=utf-8"
    } else if ext(".xml") || ext(".pom") {
        "application/xml"
    } else if ext(".css") {
        "text/css; charset=utf-8"
    } else if ext(".js") || ext(".mjs") {
        "text/javascript; charset=utf-8"
    } else if ext(".svg") {
        "image/svg+xml"
    } else if ext(".png") {
        "image/png"
    } else if ext(".pdf") {
        "application/pdf"
    } else {
        "application/octet-stream"
    }
}

/// `Content-Disposition` naming a download `file_name` (RFC 6266): an ASCII fallback with
/// quotes, backslashes and non-ASCII replaced, and the exact name percent-encoded as UTF-8.
pub fn attachment_disposition(file_name: &str) -> String {
    let fallback: String = file_name
        .chars()
        .map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' })
        .collect();
    // RFC 5987's attr-char: alphanumerics and `!#$&+-.^_`|~` stay, everything else is encoded.
    const NOT_ATTR_CHAR: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'!')
        .remove(b'#')
        .remove(b'$')
        .remove(b'&')
        .remove(b'+')
        .remove(b'-')
        .remove(b'.')
        .remove(b'^')
        .remove(b'_')
        .remove(b'`')
        .remove(b'|')
        .remove(b'~');
    let encoded = percent_encoding::utf8_percent_encode(file_name, NOT_ATTR_CHAR);
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downloads_keep_their_file_name_even_a_hostile_one() {
        assert_eq!(
            attachment_disposition("apache-foo-1.0.0.tar.gz"),
            "attachment; filename=\"apache-foo-1.0.0.tar.gz\"; filename*=UTF-8''apache-foo-1.0.0.tar.gz"
        );
        assert_eq!(
            attachment_disposition("a \"b\"\\ü.zip"),
            "attachment; filename=\"a _b___.zip\"; filename*=UTF-8''a%20%22b%22%5C%C3%BC.zip"
        );
    }

    #[test]
    fn public_release_files_are_immutable_and_typed() {
        let h = object_headers("current/foo/1.0/foo-1.0.tar.gz");
        assert_eq!(
            (h.content_type, h.cache_control, h.content_disposition),
            ("application/gzip", IMMUTABLE_PUBLIC, None)
        );
        assert_eq!(object_headers("archive/foo/0.9/foo-0.9.zip.asc").content_type, "application/pgp-signature");
        assert_eq!(object_headers("uploads/abc/0").cache_control, NO_STORE);
        assert_eq!(object_headers("files/sha512/ab/abcd").cache_control, IMMUTABLE_PRIVATE);
        assert_eq!(object_headers("current/foo/1.0/KEYS").content_type, "text/plain; charset=utf-8");
        assert_eq!(object_headers("current/foo/1.0/SHA512SUMS").content_type, "text/plain; charset=utf-8");
        assert_eq!(object_headers("current/foo/1.0/foo-1.0.pom").content_type, "application/xml");
    }

    #[test]
    fn released_files_a_browser_would_render_are_attachments() {
        for name in ["index.html", "logo.svg", "app.js", "page.xhtml", "build.xml"] {
            let h = object_headers(&format!("current/foo/1.0/{name}"));
            assert_eq!(h.content_disposition, Some(attachment_disposition(name)), "{name}");
            assert_eq!(moving_file_headers(name).content_disposition, Some(attachment_disposition(name)));
        }
        for name in ["foo-1.0.tar.gz", "foo-1.0.tar.gz.sha512", "KEYS", "README.md"] {
            assert_eq!(object_headers(&format!("current/foo/1.0/{name}")).content_disposition, None, "{name}");
        }
        // Site pages are the site's own: never attachments.
        assert_eq!(object_headers("projects/foo/index.html").content_disposition, None);
        assert_eq!(moving_file_headers("a.tar.gz").cache_control, REVALIDATE);
    }

    #[test]
    fn the_sites_text_is_compressible_and_archives_and_images_are_not() {
        for name in ["index.html", "releases.json", "feed.xml", "site.css", "search.js", "logo.svg", "SHA512SUMS"] {
            assert!(compressible(content_type(name)), "{name}");
        }
        for name in ["a.tar.gz", "a.zip", "a.png", "a.tar.xz", "a.asc", "a.pdf", "unknown"] {
            assert!(!compressible(content_type(name)), "{name}");
        }
        assert!(compressible("application/vnd.api+json") && compressible("Text/HTML; charset=utf-8"));
    }
}

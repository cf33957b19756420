//! Answering `GET` and `HEAD` for a stored file as caches, download managers and mirror
//! scripts expect (RFC 9110): validators (a strong `ETag` from the file's digest,
//! `Last-Modified`), conditional requests (`If-None-Match` with the weak comparison the RFC
//! asks for, `If-Modified-Since`, `If-Range`) and byte ranges (`206`, `416`), so a broken
//! download resumes (`curl -C -`, `wget -c`) and a moving view (`latest`) revalidates.
//!
//! One range per request: a request for several ranges is answered with the whole file (RFC
//! 9110 §14.2 lets a server ignore `Range`), which every client handles. The headers a file is
//! served with (type, caching, disposition) come from [`trs_storage::headers`].

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::time::{Duration, SystemTime};
use trs_storage::ObjectHeaders;

/// What identifies one version of a file's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validators {
    /// A strong entity tag, quoted (`"…"`): equal tags mean equal bytes.
    pub etag: String,
    /// Unix seconds the bytes were published at this path, if known.
    pub last_modified: Option<i64>,
}

impl Validators {
    /// A strong ETag from a hex digest of the bytes.
    pub fn from_digest(hex: &str, last_modified: Option<i64>) -> Self {
        Validators { etag: format!("\"{hex}\""), last_modified }
    }
}

/// How a request for a file of `size` bytes is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// `304 Not Modified`: the client's copy is current.
    NotModified,
    /// `200` with the whole file.
    Full,
    /// `206` with bytes `start..end` (end exclusive).
    Partial { start: u64, end: u64 },
    /// `416`: the one range asked for starts after the end of the file.
    Unsatisfiable,
}

impl Answer {
    /// The bytes to read for this answer (`None`: no body).
    pub fn range(&self, size: u64) -> Option<(u64, u64)> {
        match *self {
            Answer::Full => Some((0, size)),
            Answer::Partial { start, end } => Some((start, end)),
            Answer::NotModified | Answer::Unsatisfiable => None,
        }
    }
}

/// Decides the answer to `method` with `headers` for a file of `size` bytes.
pub fn decide(method: &Method, headers: &HeaderMap, v: &Validators, size: u64) -> Answer {
    if not_modified(headers, v) {
        return Answer::NotModified;
    }
    // Ranges apply to GET only (RFC 9110 §14.2); HEAD describes the whole file.
    if method != Method::GET {
        return Answer::Full;
    }
    let Some(range) = headers.get(header::RANGE).and_then(|r| r.to_str().ok()) else { return Answer::Full };
    if let Some(if_range) = headers.get(header::IF_RANGE)
        && !if_range_matches(if_range, v)
    {
        return Answer::Full;
    }
    byte_range(range, size).unwrap_or(Answer::Full)
}

/// The response for `answer`: status, validators, the file's headers and `body` (the bytes of
/// [`Answer::range`], or empty for `HEAD`).
pub fn response(answer: Answer, v: &Validators, h: &ObjectHeaders, size: u64, body: Body) -> Response {
    let mut builder = Response::builder()
        .header(header::ETAG, &v.etag)
        .header(header::CACHE_CONTROL, h.cache_control)
        .header(header::ACCEPT_RANGES, "bytes");
    if let Some(at) = v.last_modified {
        builder = builder.header(header::LAST_MODIFIED, http_date(at));
    }
    let (status, length) = match answer {
        Answer::NotModified => (StatusCode::NOT_MODIFIED, None),
        Answer::Full => (StatusCode::OK, Some(size)),
        Answer::Partial { start, end } => {
            builder = builder.header(header::CONTENT_RANGE, format!("bytes {start}-{}/{size}", end - 1));
            (StatusCode::PARTIAL_CONTENT, Some(end - start))
        }
        Answer::Unsatisfiable => {
            builder = builder.header(header::CONTENT_RANGE, format!("bytes */{size}"));
            (StatusCode::RANGE_NOT_SATISFIABLE, Some(0))
        }
    };
    if let Some(length) = length {
        builder = builder.header(header::CONTENT_LENGTH, length);
        if answer != Answer::Unsatisfiable {
            builder = builder.header(header::CONTENT_TYPE, h.content_type);
            if let Some(d) = &h.content_disposition
                && let Ok(value) = HeaderValue::from_str(d)
            {
                builder = builder.header(header::CONTENT_DISPOSITION, value);
            }
        }
    }
    let body = if answer.range(size).is_some() { body } else { Body::empty() };
    builder.status(status).body(body).unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// An HTTP date (IMF-fixdate) of unix seconds.
pub fn http_date(unix: i64) -> String {
    httpdate::fmt_http_date(SystemTime::UNIX_EPOCH + Duration::from_secs(unix.max(0) as u64))
}

fn parse_http_date(text: &str) -> Option<i64> {
    let at = httpdate::parse_http_date(text.trim()).ok()?;
    Some(at.duration_since(SystemTime::UNIX_EPOCH).ok()?.as_secs() as i64)
}

/// `If-None-Match` (weak comparison: `W/"x"` matches `"x"`), else `If-Modified-Since`
/// (RFC 9110 §13.1.3: ignored when `If-None-Match` is present).
fn not_modified(headers: &HeaderMap, v: &Validators) -> bool {
    let inm: Vec<&str> = headers.get_all(header::IF_NONE_MATCH).iter().filter_map(|h| h.to_str().ok()).collect();
    if !inm.is_empty() {
        let ours = opaque(&v.etag);
        return inm.iter().flat_map(|h| h.split(',')).map(str::trim).any(|t| t == "*" || opaque(t) == ours);
    }
    let since = headers.get(header::IF_MODIFIED_SINCE).and_then(|h| h.to_str().ok()).and_then(parse_http_date);
    matches!((since, v.last_modified), (Some(since), Some(modified)) if modified <= since)
}

/// An entity tag without its weakness indicator.
fn opaque(tag: &str) -> &str {
    tag.strip_prefix("W/").unwrap_or(tag)
}

/// `If-Range`: an entity tag must match strongly (neither weak), a date exactly.
fn if_range_matches(value: &HeaderValue, v: &Validators) -> bool {
    let Ok(text) = value.to_str() else { return false };
    let text = text.trim();
    if text.starts_with('"') || text.starts_with("W/") {
        return !text.starts_with("W/") && text == v.etag;
    }
    matches!((parse_http_date(text), v.last_modified), (Some(date), Some(modified)) if date == modified)
}

/// One `bytes` range of a file of `size` bytes; `None` when the header is not one valid byte
/// range (another unit, a syntax error, several ranges): the whole file is sent.
fn byte_range(header: &str, size: u64) -> Option<Answer> {
    let (unit, spec) = header.split_once('=')?;
    if !unit.trim().eq_ignore_ascii_case("bytes") || spec.contains(',') {
        return None;
    }
    let (first, last) = spec.trim().split_once('-')?;
    let number = |s: &str| -> Option<Option<u64>> {
        match s.trim() {
            "" => Some(None),
            t if t.bytes().all(|b| b.is_ascii_digit()) => t.parse().ok().map(Some),
            _ => None,
        }
    };
    let answer = match (number(first)?, number(last)?) {
        (Some(start), last) => {
            if last.is_some_and(|l| l < start) {
                return None;
            }
            if start >= size {
                Answer::Unsatisfiable
            } else {
                let end = last.map_or(size, |l| l.saturating_add(1).min(size));
                Answer::Partial { start, end }
            }
        }
        (None, Some(suffix)) if suffix > 0 && size > 0 => {
            Answer::Partial { start: size.saturating_sub(suffix), end: size }
        }
        (None, Some(_)) => Answer::Unsatisfiable,
        (None, None) => return None,
    };
    Some(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v() -> Validators {
        Validators::from_digest("abc", Some(1_700_000_000))
    }

    fn ask(pairs: &[(header::HeaderName, &str)]) -> Answer {
        let mut h = HeaderMap::new();
        for (k, val) in pairs {
            h.append(k.clone(), HeaderValue::from_str(val).unwrap());
        }
        decide(&Method::GET, &h, &v(), 1000)
    }

    #[test]
    fn single_ranges_follow_rfc_9110() {
        use Answer::*;
        let r = |s: &str| ask(&[(header::RANGE, s)]);
        assert_eq!(r("bytes=0-99"), Partial { start: 0, end: 100 });
        assert_eq!(r("bytes=900-"), Partial { start: 900, end: 1000 });
        assert_eq!(r("bytes=-10"), Partial { start: 990, end: 1000 });
        assert_eq!(r("bytes=-5000"), Partial { start: 0, end: 1000 });
        assert_eq!(r("bytes=990-5000"), Partial { start: 990, end: 1000 });
        assert_eq!(r("BYTES=1-1"), Partial { start: 1, end: 2 });
        assert_eq!(r("bytes=1000-"), Unsatisfiable);
        assert_eq!(r("bytes=-0"), Unsatisfiable);
        // Not one valid byte range: the whole file.
        for whole in ["bytes=0-1,5-6", "bytes=5-1", "items=0-1", "bytes=a-b", "bytes=-", "bytes=+1-2"] {
            assert_eq!(r(whole), Full, "{whole}");
        }
        assert_eq!(
            decide(
                &Method::HEAD,
                &[(header::RANGE, HeaderValue::from_static("bytes=0-1"))].into_iter().collect(),
                &v(),
                1000
            ),
            Full
        );
        assert_eq!(byte_range("bytes=0-", 0), Some(Unsatisfiable));
    }

    #[test]
    fn revalidation_compares_tags_weakly_and_dates_when_no_tag_is_sent() {
        use Answer::*;
        assert_eq!(ask(&[(header::IF_NONE_MATCH, "\"abc\"")]), NotModified);
        assert_eq!(ask(&[(header::IF_NONE_MATCH, "W/\"abc\"")]), NotModified);
        assert_eq!(ask(&[(header::IF_NONE_MATCH, "\"x\", W/\"abc\"")]), NotModified);
        assert_eq!(ask(&[(header::IF_NONE_MATCH, "*")]), NotModified);
        assert_eq!(ask(&[(header::IF_NONE_MATCH, "\"abcd\"")]), Full);
        let at = http_date(1_700_000_000);
        let before = http_date(1_699_999_999);
        assert_eq!(ask(&[(header::IF_MODIFIED_SINCE, &at)]), NotModified);
        assert_eq!(ask(&[(header::IF_MODIFIED_SINCE, &before)]), Full);
        assert_eq!(ask(&[(header::IF_MODIFIED_SINCE, "not a date")]), Full);
        // A tag that does not match wins over a date that would.
        assert_eq!(ask(&[(header::IF_NONE_MATCH, "\"x\""), (header::IF_MODIFIED_SINCE, &at)]), Full);
    }

    #[test]
    fn if_range_needs_the_same_bytes() {
        use Answer::*;
        let at = http_date(1_700_000_000);
        assert_eq!(
            ask(&[(header::RANGE, "bytes=10-"), (header::IF_RANGE, "\"abc\"")]),
            Partial { start: 10, end: 1000 }
        );
        assert_eq!(ask(&[(header::RANGE, "bytes=10-"), (header::IF_RANGE, &at)]), Partial { start: 10, end: 1000 });
        assert_eq!(ask(&[(header::RANGE, "bytes=10-"), (header::IF_RANGE, "W/\"abc\"")]), Full);
        assert_eq!(ask(&[(header::RANGE, "bytes=10-"), (header::IF_RANGE, "\"old\"")]), Full);
        assert_eq!(ask(&[(header::RANGE, "bytes=10-"), (header::IF_RANGE, &http_date(5))]), Full);
    }
}

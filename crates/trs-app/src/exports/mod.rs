//! The release stream in formats other tools already read: ECMA-428 Common Lifecycle
//! Enumeration ([`cle`]) and endoflife.date's per-cycle JSON ([`endoflife`]); a project's
//! published security advisories as OSV records ([`osv`]) and CVE JSON 5 records ([`cve5`]).
//! All are pure functions of stored data, so the same bytes come out for the same stream.

pub mod cle;
pub mod cve5;
pub mod endoflife;
pub mod osv;

/// Unix seconds as RFC 3339 in UTC (`2025-01-31T12:00:00Z`); exports need a time, so one
/// outside the calendar reads as the epoch.
pub fn rfc3339(unix: i64) -> String {
    crate::time_text::rfc3339_checked(unix).unwrap_or_else(|| "1970-01-01T00:00:00Z".into())
}

/// Unix seconds as a calendar date in UTC (`2025-01-31`).
pub fn date(unix: i64) -> String {
    rfc3339(unix)[..10].to_string()
}

//! Times as people and exports read them: one formatter for every RFC 3339 string trs prints.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Unix seconds as RFC 3339 in UTC (`2025-01-31T12:00:00Z`); `None` outside the calendar.
pub fn rfc3339_checked(unix: i64) -> Option<String> {
    OffsetDateTime::from_unix_timestamp(unix).ok().and_then(|t| t.format(&Rfc3339).ok())
}

/// [`rfc3339_checked`], or the number itself when it is no calendar time.
pub fn rfc3339(unix: i64) -> String {
    rfc3339_checked(unix).unwrap_or_else(|| unix.to_string())
}

/// `2 h 5 min`, `40 min`, `12 s`: how long until something.
pub fn duration_text(secs: i64) -> String {
    let secs = secs.max(0);
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    match (h, m) {
        (0, 0) => format!("{s} s"),
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

//! `trs revoke`, `trs eol`, `trs archive`, `trs state enter|leave`: signed calls to the
//! lifecycle function.

use crate::client::Client;
use crate::error::{CliError, CliResult};
use crate::output;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};
use trs_api::common::ProductOnly;
use trs_api::lifecycle::{ArchivedRelease, RevokeRelease, SetDates};
use trs_api::stream::StreamEvent;

/// A release on the command line.
pub struct Target<'a> {
    pub project: &'a str,
    pub version: &'a str,
    pub product: Option<&'a str>,
}

impl Target<'_> {
    pub fn path(&self, action: &str) -> String {
        format!("/api/v1/projects/{}/releases/{}/{action}", self.project, self.version)
    }

    fn name(&self) -> String {
        match self.product {
            Some(p) => format!("{}/{p}/{}", self.project, self.version),
            None => format!("{}/{}", self.project, self.version),
        }
    }

    /// The body of the calls that take only the release's product.
    pub fn product_only(&self) -> ProductOnly {
        ProductOnly { product: self.product.map(str::to_string) }
    }
}

/// A date or time from the command line, as unix seconds: `YYYY-MM-DD` (midnight UTC),
/// RFC 3339 (`2025-06-30T12:00:00Z`) or plain unix seconds.
pub fn parse_time(text: &str) -> CliResult<i64> {
    if let Ok(secs) = text.parse::<i64>() {
        return Ok(secs);
    }
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return Ok(t.unix_timestamp());
    }
    if let Some(d) = calendar_date(text) {
        return Ok(d.midnight().assume_utc().unix_timestamp());
    }
    Err(CliError::Usage(format!(
        "{text:?} is not a date: write YYYY-MM-DD, RFC 3339 (2025-06-30T12:00:00Z) or unix seconds"
    )))
}

/// `YYYY-MM-DD`.
fn calendar_date(text: &str) -> Option<Date> {
    let parts: Vec<&str> = text.split('-').collect();
    let [y, m, d] = parts.as_slice() else { return None };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let month = time::Month::try_from(m.parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?).ok()
}

/// Unix seconds as RFC 3339, for people.
pub use trs_app::time_text::rfc3339 as show_time;

pub async fn revoke(client: &Client, t: &Target<'_>, reason: &str, as_json: bool) -> CliResult<()> {
    if reason.trim().is_empty() {
        return Err(CliError::Usage("--reason must say why the release is revoked".into()));
    }
    let event: StreamEvent = client
        .post(&t.path("revoke"), &RevokeRelease { product: t.product.map(str::to_string), reason: reason.to_string() })
        .await?;
    if as_json {
        output::answer_json(&event);
    } else {
        say!("{} revoked: {} (event {})", t.name(), reason.trim(), event.seq);
        say!("it is no longer served, and never listed as current or latest");
    }
    Ok(())
}

pub struct Dates {
    pub end_of_life: Option<i64>,
    pub support_until: Option<i64>,
}

pub async fn eol(
    client: &Client,
    project: &str,
    target: &str,
    product: Option<&str>,
    dates: Dates,
    as_json: bool,
) -> CliResult<()> {
    if dates.end_of_life.is_none() && dates.support_until.is_none() {
        return Err(CliError::Usage("give --at DATE (end-of-life), --support-until DATE, or both".into()));
    }
    let is_line = target.ends_with(".x");
    let path = if is_line {
        trs_core::views::check_line(target).map_err(CliError::Usage)?;
        format!("/api/v1/projects/{project}/lines/{target}/dates")
    } else {
        crate::check_version(target)?;
        format!("/api/v1/projects/{project}/releases/{target}/eol")
    };
    let body = SetDates {
        product: product.map(str::to_string),
        end_of_life: dates.end_of_life,
        support_until: dates.support_until,
    };
    let event: StreamEvent = client.post(&path, &body).await?;
    if as_json {
        output::answer_json(&event);
        return Ok(());
    }
    let what = if is_line { format!("line {target} of {project}") } else { format!("{project}/{target}") };
    // The dates are fields of the event's kind, which trs_api keeps untyped (EventDetails).
    let date =
        |name| event.details.get(name).and_then(Value::as_i64).map(show_time).unwrap_or_else(|| "not set".into());
    let (eol, support) = (date("end_of_life"), date("support_until"));
    say!("{what}: end-of-life {eol}, support until {support} (event {})", event.seq);
    say!("the lifecycle schedule moves current releases to end-of-life once the date has passed");
    Ok(())
}

pub async fn archive(client: &Client, t: &Target<'_>, as_json: bool) -> CliResult<()> {
    let done: ArchivedRelease = client.post(&t.path("archive"), &t.product_only()).await?;
    if as_json {
        output::answer_json(&done);
    } else if done.already {
        say!("{} was already archived; its files are at {}", t.name(), done.public_prefix);
    } else {
        say!("{} archived: {} file(s) now at {}", t.name(), done.files, done.public_prefix);
    }
    Ok(())
}

pub async fn state(client: &Client, t: &Target<'_>, state: &str, enter: bool, as_json: bool) -> CliResult<()> {
    let path = t.path(&format!("states/{state}"));
    let event: StreamEvent = if enter {
        client.post(&path, &t.product_only()).await?
    } else {
        let query = t.product.map(|p| format!("product={p}"));
        client.delete(&path, query.as_deref()).await?
    };
    if as_json {
        output::answer_json(&event);
        return Ok(());
    }
    // Fields of the event's kind, which trs_api keeps untyped (EventDetails).
    let flag = |name| event.details.get(name) == Some(&Value::Bool(true));
    let line = match (enter, flag("already_held"), flag("was_held")) {
        (true, false, _) => format!("{} entered {state}", t.name()),
        (true, true, _) => format!("{} already held {state} (recorded, nothing changed)", t.name()),
        (false, _, true) => format!("{} left {state}", t.name()),
        (false, _, false) => format!("{} did not hold {state} (recorded, nothing changed)", t.name()),
    };
    say!("{line} (event {})", event.seq);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_time;

    #[test]
    fn dates_parse_as_utc() {
        assert_eq!(parse_time("2025-01-02").unwrap(), 1_735_776_000);
        assert_eq!(parse_time("2025-01-02T01:00:00Z").unwrap(), 1_735_779_600);
        assert_eq!(parse_time("2025-01-02T03:00:00+02:00").unwrap(), 1_735_779_600);
        assert_eq!(parse_time("1735776000").unwrap(), 1_735_776_000);
        assert!(parse_time("2025-13-01").is_err());
        assert!(parse_time("next week").is_err());
    }
}

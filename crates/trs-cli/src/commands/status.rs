//! `trs status`: a release's stage, latest revision and per-file checks.

use crate::client::Client;
use crate::error::{CliError, CliResult};
use crate::output;
use trs_api::releases::{AdvisoryNote, Outcome, ReleaseStatus};
use trs_api::votes::VoteState;

pub async fn fetch(client: &Client, project: &str, version: &str, product: Option<&str>) -> CliResult<ReleaseStatus> {
    let query = product.map(|p| format!("?product={p}")).unwrap_or_default();
    client.get(&format!("/api/v1/projects/{project}/releases/{version}{query}")).await
}

pub async fn run(client: &Client, project: &str, version: &str, product: Option<&str>, as_json: bool) -> CliResult<()> {
    let report = fetch(client, project, version, product).await?;
    if as_json {
        output::json(&report);
    } else {
        print_human(&report);
    }
    Ok(())
}

/// Exit 3 when verification finished with any failing check.
pub fn exit_for(report: &ReleaseStatus) -> CliResult<()> {
    if report.summary.is_some_and(|s| s.fail > 0) { Err(CliError::VerificationFailed) } else { Ok(()) }
}

/// An optional value as the report shows it (`null` when absent, as the JSON has it).
fn or_null<T: std::fmt::Display>(value: Option<T>) -> String {
    value.map_or_else(|| "null".to_string(), |v| v.to_string())
}

pub fn print_human(r: &ReleaseStatus) {
    let name = match &r.product {
        Some(p) => format!("{}/{}/{}", r.project, p, r.version),
        None => format!("{}/{}", r.project, r.version),
    };
    say!(
        "{name}  stage {}  revision {}  ({})",
        output::api_text(&r.stage),
        or_null(r.revision),
        r.revision_key.as_deref().unwrap_or("-")
    );
    if let Some(vote) = &r.vote {
        let t = &vote.tally;
        let when = |v: Option<i64>| v.map(trs_app::time_text::rfc3339).unwrap_or_else(|| "-".into());
        let timing = match vote.state {
            VoteState::Open => format!("can be closed from {}", when(Some(vote.closes_not_before))),
            _ => format!("ended {}", when(vote.closed_at)),
        };
        say!(
            "vote {}: {} on revision {}; binding {} × +1, {} × 0, {} × -1; non-binding {} × +1; {timing}",
            vote.number,
            output::api_text(&vote.state),
            vote.revision.number,
            t.binding_plus,
            t.binding_zero,
            t.binding_minus,
            t.non_binding_plus
        );
    }
    if let Some(voted) = &r.voted_revision {
        say!("voted revision: {} ({})", voted.number, voted.key);
    }
    print_advisories(r);
    if let Some(sum) = &r.summary {
        say!("checks: {} pass, {} warn, {} fail", sum.pass, sum.warn, sum.fail);
    } else {
        say!("checks: verification {}", r.verification);
    }
    for f in &r.files {
        if f.checks.is_empty() {
            continue;
        }
        say!("\n{}  ({} bytes)", f.path, f.size);
        for c in &f.checks {
            let mark = match c.result {
                Outcome::Pass => "ok  ",
                Outcome::Warn => "WARN",
                Outcome::Fail => "FAIL",
            };
            say!("  {mark} {:<9} {}", c.check, c.reason);
        }
    }
}

/// The published advisories that affect the release (with what fixes each) and those it fixes.
fn print_advisories(r: &ReleaseStatus) {
    let severity = |n: &AdvisoryNote| n.severity.as_ref().map(|s| format!(" ({s})")).unwrap_or_default();
    for n in &r.affected_by {
        let fix = match (&n.fixed, &n.fixed_by) {
            (Some(f), Some(by)) => format!("fixed in {f} ({})", output::api_text(&by.stage)),
            (Some(f), None) => format!("to be fixed in {f} (not released yet)"),
            (None, _) => "no fix yet".into(),
        };
        say!("AFFECTED by {}{}: {}; {fix}", n.id, severity(n), n.summary);
    }
    for n in &r.fixes {
        say!("fixes {}{}: {}", n.id, severity(n), n.summary);
    }
}

//! `trs status`: a release's stage, latest revision and per-file checks.

use crate::client::Client;
use crate::error::{CliError, CliResult};
use crate::output;
use serde_json::Value;

pub async fn fetch(client: &Client, project: &str, version: &str, product: Option<&str>) -> CliResult<Value> {
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
pub fn exit_for(report: &Value) -> CliResult<()> {
    if report["summary"]["fail"].as_u64().unwrap_or(0) > 0 { Err(CliError::VerificationFailed) } else { Ok(()) }
}

pub fn print_human(r: &Value) {
    let s = |v: &Value| v.as_str().unwrap_or("-").to_string();
    let name = match r["product"].as_str() {
        Some(p) => format!("{}/{}/{}", s(&r["project"]), p, s(&r["version"])),
        None => format!("{}/{}", s(&r["project"]), s(&r["version"])),
    };
    say!("{name}  stage {}  revision {}  ({})", s(&r["stage"]), r["revision"], s(&r["revision_key"]));
    if let Some(vote) = r.get("vote").filter(|v| v.is_object()) {
        let t = &vote["tally"];
        let when = |v: &Value| v.as_i64().map(trs_app::time_text::rfc3339).unwrap_or_else(|| "-".into());
        let timing = match vote["state"].as_str() {
            Some("open") => format!("can be closed from {}", when(&vote["closes_not_before"])),
            _ => format!("ended {}", when(&vote["closed_at"])),
        };
        say!(
            "vote {}: {} on revision {}; binding {} × +1, {} × 0, {} × -1; non-binding {} × +1; {timing}",
            vote["number"],
            s(&vote["state"]),
            vote["revision"]["number"],
            t["binding_plus"],
            t["binding_zero"],
            t["binding_minus"],
            t["non_binding_plus"]
        );
    }
    if let Some(voted) = r.get("voted_revision").filter(|v| v.is_object()) {
        say!("voted revision: {} ({})", voted["number"], s(&voted["key"]));
    }
    if let Some(sum) = r.get("summary").filter(|v| !v.is_null()) {
        say!("checks: {} pass, {} warn, {} fail", sum["pass"], sum["warn"], sum["fail"]);
    } else {
        say!("checks: verification {}", s(&r["verification"]));
    }
    for f in r["files"].as_array().into_iter().flatten() {
        let checks = f["checks"].as_array().cloned().unwrap_or_default();
        if checks.is_empty() {
            continue;
        }
        say!("\n{}  ({} bytes)", s(&f["path"]), f["size"]);
        for c in checks {
            let mark = match c["result"].as_str() {
                Some("pass") => "ok  ",
                Some("warn") => "WARN",
                _ => "FAIL",
            };
            say!("  {mark} {:<9} {}", s(&c["check"]), s(&c["reason"]));
        }
    }
}

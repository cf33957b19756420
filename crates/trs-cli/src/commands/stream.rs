//! `trs releases`, `trs events [--follow]`, `trs events verify`: the release stream's public
//! read side.

use super::lifecycle::show_time;
use crate::client::Client;
use crate::error::{CliError, CliResult};
use crate::output;
use serde_json::Value;
use std::time::Duration;
use trs_api::stream::ChainVerification;

/// How often `trs events --follow` asks for new events.
const FOLLOW_EVERY: Duration = Duration::from_secs(1);

pub struct ViewQuery<'a> {
    pub project: Option<&'a str>,
    pub product: Option<&'a str>,
    pub state: Option<&'a str>,
    pub at: Option<i64>,
}

pub async fn releases(client: &Client, q: &ViewQuery<'_>, as_json: bool) -> CliResult<()> {
    let mut params = Vec::new();
    for (k, v) in [("project", q.project), ("product", q.product), ("state", q.state)] {
        if let Some(v) = v {
            params.push(format!("{k}={v}"));
        }
    }
    if let Some(at) = q.at {
        params.push(format!("at={at}"));
    }
    // A view of every project comes a page of projects at a time: the pages are joined.
    let mut view: Value = client.get(&format!("/api/v1/releases?{}", params.join("&"))).await?;
    while let Some(next) = view.get("next").and_then(Value::as_str).map(str::to_string) {
        let page: Value = client.get(&format!("/api/v1/releases?{}&after={next}", params.join("&"))).await?;
        join_page(&mut view, page);
    }
    if as_json {
        output::json(&view);
        return Ok(());
    }
    say!("releases at {}", view["at"].as_i64().map(show_time).unwrap_or_default());
    let by_release = view["by_release"].as_object().cloned().unwrap_or_default();
    if by_release.is_empty() {
        say!("  (none)");
    }
    for r in view["releases"].as_array().into_iter().flatten() {
        let name = release_name(&r["release"]);
        let states: Vec<&str> =
            by_release.get(&name).and_then(|v| v.as_array()).into_iter().flatten().filter_map(|s| s.as_str()).collect();
        let mut extra = Vec::new();
        if let Some(t) = r["end_of_life"].as_i64() {
            extra.push(format!("end-of-life {}", show_time(t)));
        }
        if let Some(t) = r["support_until"].as_i64() {
            extra.push(format!("support until {}", show_time(t)));
        }
        if let Some(reason) = r["revoked_reason"].as_str() {
            extra.push(format!("revoked: {reason}"));
        }
        let extra = if extra.is_empty() { String::new() } else { format!("  ({})", extra.join("; ")) };
        say!("  {name:<32} {}{extra}", states.join(", "));
    }
    Ok(())
}

/// Adds the next page of a releases view to `view` (its lists continue those of the page
/// before; `next` moves on).
fn join_page(view: &mut Value, page: Value) {
    for key in ["by_state", "by_release", "latest"] {
        for (k, v) in page[key].as_object().cloned().unwrap_or_default() {
            match (&mut view[key][&k], v) {
                (Value::Array(have), Value::Array(more)) => have.extend(more),
                (have, v) => *have = v,
            }
        }
    }
    if let (Some(have), Some(more)) = (view["releases"].as_array_mut(), page["releases"].as_array()) {
        have.extend(more.iter().cloned());
    }
    view["next"] = page.get("next").cloned().unwrap_or(Value::Null);
    if view["next"].is_null() {
        view.as_object_mut().map(|o| o.remove("next"));
    }
}

fn release_name(r: &Value) -> String {
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    match r["product"].as_str() {
        Some(p) => format!("{}/{p}/{}", s(&r["project"]), s(&r["version"])),
        None => format!("{}/{}", s(&r["project"]), s(&r["version"])),
    }
}

/// One event as a line for people.
fn event_line(e: &Value) -> String {
    let who = e["actor"]["uid"].as_str().unwrap_or("trs");
    let release = e.get("release").filter(|r| !r.is_null()).map(release_name).unwrap_or_default();
    let stage = match (e["stage"]["from"].as_str(), e["stage"]["to"].as_str()) {
        (Some(f), Some(t)) => format!(" {f} → {t}"),
        (None, Some(t)) => format!(" → {t}"),
        _ => String::new(),
    };
    let detail = ["state", "reason", "line"]
        .iter()
        .filter_map(|k| e[*k].as_str().map(|v| format!(" {k}={v}")))
        .collect::<String>();
    format!(
        "#{:<4} {}  {:<20} {release}{stage}{detail}  by {who}",
        e["seq"],
        e["at"].as_i64().map(show_time).unwrap_or_default(),
        e["type"].as_str().unwrap_or("?"),
    )
}

pub async fn events(
    client: &Client,
    project: Option<&str>,
    mut after: u64,
    follow: bool,
    as_json: bool,
) -> CliResult<()> {
    let base = match project {
        Some(p) => format!("/api/v1/events?project={p}"),
        None => "/api/v1/events?".to_string(),
    };
    loop {
        let page: Value = client.get(&format!("{base}&after={after}&limit=500")).await?;
        let events = page["events"].as_array().cloned().unwrap_or_default();
        for e in &events {
            if as_json {
                // One event per line (NDJSON), as the server's events.ndjson holds them.
                println!("{}", serde_json::to_string(e).unwrap_or_default());
            } else {
                say!("{}", event_line(e));
            }
        }
        after = page["last_seq"].as_u64().unwrap_or(after);
        if events.len() == 500 {
            continue;
        }
        if !follow {
            return Ok(());
        }
        tokio::time::sleep(FOLLOW_EVERY).await;
    }
}

pub async fn verify(client: &Client, project: Option<&str>, as_json: bool) -> CliResult<()> {
    let query = project.map(|p| format!("?project={p}")).unwrap_or_default();
    let report: ChainVerification = client.get(&format!("/api/v1/events/verify{query}")).await?;
    if as_json {
        output::json(&report);
    } else {
        for s in &report.streams {
            if s.ok {
                let head = s.head.as_deref().map(|h| format!(", head {}", &h[..h.len().min(16)])).unwrap_or_default();
                say!("{}: {} event(s), chain intact{head}", s.stream, s.events);
            } else {
                say!("{}: BROKEN: {}", s.stream, s.error.as_deref().unwrap_or("?"));
            }
        }
    }
    let broken: Vec<String> = report
        .streams
        .iter()
        .filter(|s| !s.ok)
        .map(|s| format!("{}: {}", s.stream, s.error.as_deref().unwrap_or("?")))
        .collect();
    if broken.is_empty() { Ok(()) } else { Err(CliError::ChainBroken(broken.join("; "))) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pages_of_a_releases_view_join_into_one_view() {
        let mut view = json!({
            "at": 1, "next": "demo",
            "by_state": {"current": ["demo/1.0"], "latest": ["demo/1.0"]},
            "by_release": {"demo/1.0": ["current", "latest"]},
            "latest": {"demo": "demo/1.0"},
            "releases": [{"release": {"project": "demo", "version": "1.0"}}],
        });
        let page = json!({
            "at": 1,
            "by_state": {"current": ["zeta/2.0"], "revoked": ["zeta/1.0"]},
            "by_release": {"zeta/2.0": ["current"], "zeta/1.0": ["revoked"]},
            "latest": {},
            "releases": [{"release": {"project": "zeta", "version": "1.0"}}, {"release": {"project": "zeta", "version": "2.0"}}],
        });
        join_page(&mut view, page);
        assert_eq!(view["by_state"]["current"], json!(["demo/1.0", "zeta/2.0"]));
        assert_eq!(view["by_state"]["revoked"], json!(["zeta/1.0"]));
        assert_eq!(view["by_release"].as_object().unwrap().len(), 3);
        assert_eq!(view["releases"].as_array().unwrap().len(), 3);
        assert!(view.get("next").is_none(), "the last page names no next one");
    }
}

//! `trs releases`, `trs events [--follow]`, `trs events verify`: the release stream's public
//! read side.

use super::lifecycle::show_time;
use crate::client::Client;
use crate::error::{CliError, CliResult, failed};
use crate::output;
use serde_json::Value;
use std::time::Duration;
use trs_api::stream::{ChainVerification, EventsPage, ReleasesView, StageMove, StreamEvent};

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
    let mut view: ReleasesView = client.get(&format!("/api/v1/releases?{}", params.join("&"))).await?;
    while let Some(next) = view.next.clone() {
        let page: ReleasesView = client.get(&format!("/api/v1/releases?{}&after={next}", params.join("&"))).await?;
        join_page(&mut view, page);
    }
    if as_json {
        output::answer_json(&view);
        return Ok(());
    }
    say!("releases at {}", show_time(view.at));
    if view.by_release.is_empty() {
        say!("  (none)");
    }
    for r in &view.releases {
        let name = r.release.to_string();
        let states = view.by_release.get(&name).map(|s| s.join(", ")).unwrap_or_default();
        let mut extra = Vec::new();
        if let Some(t) = r.end_of_life {
            extra.push(format!("end-of-life {}", show_time(t)));
        }
        if let Some(t) = r.support_until {
            extra.push(format!("support until {}", show_time(t)));
        }
        if let Some(reason) = &r.revoked_reason {
            extra.push(format!("revoked: {reason}"));
        }
        let extra = if extra.is_empty() { String::new() } else { format!("  ({})", extra.join("; ")) };
        say!("  {name:<32} {states}{extra}");
    }
    Ok(())
}

/// Adds the next page of a releases view to `view` (its lists continue those of the page
/// before; `next` moves on).
fn join_page(view: &mut ReleasesView, page: ReleasesView) {
    for (have, more) in [(&mut view.by_state, page.by_state), (&mut view.by_release, page.by_release)] {
        for (k, v) in more {
            have.entry(k).or_default().extend(v);
        }
    }
    view.latest.extend(page.latest);
    view.releases.extend(page.releases);
    view.next = page.next;
}

/// One event as a line for people.
fn event_line(e: &StreamEvent) -> String {
    let who = e.actor.as_ref().map_or("trs", |a| a.uid.as_str());
    let release = e.release.as_ref().map(ToString::to_string).unwrap_or_default();
    let stage = match &e.stage {
        Some(StageMove { from: Some(f), to }) => format!(" {} → {}", output::api_text(f), output::api_text(to)),
        Some(StageMove { from: None, to }) => format!(" → {}", output::api_text(to)),
        None => String::new(),
    };
    // Fields of some kinds of event (`state-entered`, `release-revoked`, `line-dates-set`).
    let detail = ["state", "reason", "line"]
        .iter()
        .filter_map(|k| e.details.get(k).and_then(Value::as_str).map(|v| format!(" {k}={v}")))
        .collect::<String>();
    format!("#{:<4} {}  {:<20} {release}{stage}{detail}  by {who}", e.seq, show_time(e.at), e.kind)
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
        let page: EventsPage = client.get(&format!("{base}&after={after}&limit=500")).await?;
        for e in &page.events {
            if as_json {
                // One event per line (NDJSON), as the server's events.ndjson holds them.
                crate::output::json_line(e);
            } else {
                let event: StreamEvent = serde_json::from_value(Value::Object(e.clone()))
                    .map_err(|err| failed(format!("unexpected response: event: {err}")))?;
                say!("{}", event_line(&event));
            }
        }
        after = page.last_seq;
        if page.events.len() == 500 {
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

    fn view(v: Value) -> ReleasesView {
        serde_json::from_value(v).unwrap()
    }

    fn release(project: &str, version: &str) -> Value {
        json!({"release": {"project": project, "version": version}, "stage": "current", "states": [],
            "promoted_revision": null, "promoted_at": null, "promoted_seq": null, "end_of_life": null,
            "support_until": null, "revoked_reason": null, "first_seen": 1, "last_change": 1})
    }

    #[test]
    fn pages_of_a_releases_view_join_into_one_view() {
        let mut joined = view(json!({
            "at": 1, "next": "demo",
            "by_state": {"current": ["demo/1.0"], "latest": ["demo/1.0"]},
            "by_release": {"demo/1.0": ["current", "latest"]},
            "latest": {"demo": "demo/1.0"},
            "releases": [release("demo", "1.0")],
        }));
        let page = view(json!({
            "at": 1,
            "by_state": {"current": ["zeta/2.0"], "revoked": ["zeta/1.0"]},
            "by_release": {"zeta/2.0": ["current"], "zeta/1.0": ["revoked"]},
            "latest": {"zeta": "zeta/2.0"},
            "releases": [release("zeta", "1.0"), release("zeta", "2.0")],
        }));
        join_page(&mut joined, page);
        assert_eq!(joined.by_state["current"], ["demo/1.0", "zeta/2.0"]);
        assert_eq!(joined.by_state["revoked"], ["zeta/1.0"]);
        assert_eq!(joined.by_release.len(), 3);
        assert_eq!(joined.latest.len(), 2);
        assert_eq!(joined.releases.len(), 3);
        assert!(joined.next.is_none(), "the last page names no next one");
        let printed = serde_json::to_value(&joined).unwrap();
        assert!(printed.get("next").is_none(), "--json names no next page: {printed}");
    }

    #[test]
    fn an_event_line_names_its_move_and_fields() {
        let e: StreamEvent = serde_json::from_value(json!({
            "stream": "project/foo", "seq": 7, "at": 0, "actor": {"uid": "rita", "key": "AB"},
            "release": {"project": "foo", "version": "1.0"}, "stage": {"from": "candidate", "to": "current"},
            "type": "state-entered", "state": "lts", "prev": null, "hash": "h",
        }))
        .unwrap();
        assert_eq!(
            event_line(&e),
            "#7    1970-01-01T00:00:00Z  state-entered        foo/1.0 candidate → current state=lts  by rita"
        );
    }
}

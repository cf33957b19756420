//! endoflife.date-style per-cycle JSON for one product line, the shape of that site's API
//! (`/api/PRODUCT.json`): one object per release cycle, newest first, with `cycle`,
//! `releaseDate`, `latest`, `latestReleaseDate`, `eol`, `support` and `lts`.
//!
//! A cycle is the most specific release line configured for the project that contains the
//! version (`1.x` → cycle `1`), otherwise `MAJOR.MINOR` of a semver version, otherwise the
//! version itself. Only released (promoted, not revoked) versions count. `eol` and `support`
//! are dates where known (the line's, or the latest release's own), otherwise booleans
//! (`eol: true` once every release of the cycle reached end-of-life or was archived after it).

use super::date;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use trs_core::views::{governing_line, latest_version};
use trs_core::{LineDates, ProductName, Project, ReleaseView, Stage, StreamView, Version};

fn cycle_of(lines: &BTreeMap<String, LineDates>, r: &ReleaseView) -> (String, Option<LineDates>) {
    if let Some((key, dates)) = governing_line(lines, &r.release) {
        let line = key.rsplit('/').next().unwrap_or(key);
        return (line.trim_end_matches(".x").to_string(), Some(dates.clone()));
    }
    let v = r.release.version.as_str();
    let core: Vec<&str> = v.split(['-', '+']).next().unwrap_or(v).split('.').collect();
    if r.release.version.is_semver() && core.len() >= 2 {
        (format!("{}.{}", core[0], core[1]), None)
    } else {
        (v.to_string(), None)
    }
}

/// The per-cycle document for the project's main line (`product` `None`) or one product.
pub fn document(project: &Project, view: &StreamView, product: Option<&ProductName>) -> Value {
    let mut cycles: BTreeMap<String, (Option<LineDates>, Vec<&ReleaseView>)> = BTreeMap::new();
    let released = view.releases.values().filter(|r| {
        r.release.project == project.name
            && r.release.product.as_ref() == product
            && r.promoted_at.is_some()
            && r.stage != Stage::Revoked
    });
    for r in released {
        let (cycle, dates) = cycle_of(&project.lines, r);
        let entry = cycles.entry(cycle).or_insert_with(|| (dates, Vec::new()));
        entry.1.push(r);
    }
    let mut out: Vec<(Version, Value)> = Vec::new();
    for (cycle, (line_dates, rs)) in cycles {
        let versions: Vec<(&Version, u64)> =
            rs.iter().map(|r| (&r.release.version, r.promoted_seq.unwrap_or(0))).collect();
        let Some(latest) = latest_version(&versions).cloned() else { continue };
        let latest_r = rs.iter().find(|r| r.release.version == latest).expect("latest is one of them");
        let first = rs.iter().filter_map(|r| r.promoted_at).min().unwrap_or(0);
        let eol_date = latest_r.end_of_life.or(line_dates.as_ref().and_then(|d| d.end_of_life));
        let support_date = latest_r.support_until.or(line_dates.as_ref().and_then(|d| d.support_until));
        let all_ended = rs.iter().all(|r| r.stage == Stage::EndOfLife);
        let eol = eol_date.map(|t| json!(date(t))).unwrap_or(json!(all_ended));
        let mut v = json!({
            "cycle": cycle,
            "releaseDate": date(first),
            "latest": latest.as_str(),
            "latestReleaseDate": date(latest_r.promoted_at.unwrap_or(first)),
            "eol": eol,
            "lts": rs.iter().any(|r| r.states.contains("lts")),
        });
        if let Some(s) = support_date {
            v["support"] = json!(date(s));
        }
        out.push((latest, v));
    }
    out.sort_by_key(|e| std::cmp::Reverse(e.0.order_key()));
    Value::Array(out.into_iter().map(|(_, v)| v).collect())
}

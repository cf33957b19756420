//! endoflife.date-style per-cycle JSON for one product line, the shape of that site's API
//! (`/api/PRODUCT.json`): one object per release cycle, newest first, with `cycle`,
//! `releaseDate`, `latest`, `latestReleaseDate`, `eol`, `support` and `lts`.
//!
//! A cycle is the most specific release line configured for the project that contains the
//! version (`1.x` → cycle `1`), otherwise the first two numbers of the version (`1.2.3` → `1.2`),
//! otherwise the version itself. Only released (promoted, not revoked) versions count, and
//! `latest` is the cycle's highest version that is not a pre-release (any, with the policy's
//! `prerelease_latest`; a cycle without one is left out). Cycles are newest first in the
//! version order of `trs_core::version_order`. `eol` and `support`
//! are dates where known (the line's, or the latest release's own), otherwise booleans
//! (`eol: true` once every release of the cycle reached end-of-life or was archived after it).

use super::date;
use crate::cve::ReleaseAdvisories;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use trs_core::views::{governing_line, latest_version};
use trs_core::{LineDates, ProductName, Project, ReleaseId, ReleaseView, Stage, StreamView, Version};

fn cycle_of(lines: &BTreeMap<String, LineDates>, r: &ReleaseView) -> (String, Option<LineDates>) {
    if let Some((key, dates)) = governing_line(lines, &r.release) {
        let line = key.rsplit('/').next().unwrap_or(key);
        return (line.trim_end_matches(".x").to_string(), Some(dates.clone()));
    }
    match r.release.version.numbers()[..] {
        [major, minor, ..] => (format!("{major}.{minor}"), None),
        _ => (r.release.version.to_string(), None),
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
    let prerelease_latest = project.policy_for(product).prerelease_latest;
    let mut out: Vec<(Version, Value)> = Vec::new();
    for (cycle, (line_dates, rs)) in cycles {
        // A cycle of pre-releases only is not listed, as its `latest` would be one.
        let Some(latest) = latest_version(rs.iter().map(|r| &r.release.version), prerelease_latest).cloned() else {
            continue;
        };
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
    out.sort_by(|a, b| b.0.cmp(&a.0));
    Value::Array(out.into_iter().map(|(_, v)| v).collect())
}

/// Where the v1 document links: the product line's page and each release's page (absolute
/// URLs where the site knows its origin).
pub struct Links<'a> {
    pub line_page: String,
    pub release_page: &'a dyn Fn(&trs_core::ReleaseId) -> String,
}

/// The version of endoflife.date's API v1 (its `api_v1/openapi.yml`) whose `ProductResponse`
/// [`document_v1`] follows.
pub const API_V1_SCHEMA_VERSION: &str = "1.2.1";

/// The product line as endoflife.date's API v1 serves a product (`/api/v1/products/P/`, a
/// `ProductResponse`): `{schema_version, generated_at, last_modified, result: {name, label,
/// …, releases: [{name, releaseDate, isLts, ltsFrom, isEoas, eoasFrom, isEol, eolFrom,
/// isMaintained, latest: {name, date, link}}]}}`, cycles as in [`document`]. trs's dates map
/// to endoflife.date's phases: a release's or line's end of support (the end of bug and
/// security fixes) is `eoasFrom`, the end of its active support, and its end of life is
/// `eolFrom`. Without a clock (the document is a pure function of the stream), `isEol` says
/// every release of the cycle reached end-of-life, and `isEoas` that, or that one holds the
/// `security-only` state. `generated_at` is `last_modified`, the time of the stream's newest
/// event.
///
/// Security advisories: endoflife.date's schema has no field for them, so they go where it
/// puts a product's own fields, each cycle's `custom` object (string values):
/// `affectedBy`, the published advisories that affect the cycle's `latest` release (what a
/// reader running it is exposed to), and `fixes`, those fixed by a release of the cycle, as
/// `CVE-… (version)`; comma-separated, `null` when none. `advisories` are the published
/// advisories by release (embargoed ones never reach it).
pub fn document_v1(
    project: &Project,
    view: &StreamView,
    product: Option<&ProductName>,
    last_modified: &str,
    links: &Links<'_>,
    advisories: &BTreeMap<ReleaseId, ReleaseAdvisories>,
) -> Value {
    let name = match product {
        Some(p) => format!("{}-{p}", project.name),
        None => project.name.to_string(),
    };
    let mut cycles: BTreeMap<String, (Option<LineDates>, Vec<&ReleaseView>)> = BTreeMap::new();
    let released = view.releases.values().filter(|r| {
        r.release.project == project.name
            && r.release.product.as_ref() == product
            && r.promoted_at.is_some()
            && r.stage != Stage::Revoked
    });
    for r in released {
        let (cycle, dates) = cycle_of(&project.lines, r);
        cycles.entry(cycle).or_insert_with(|| (dates, Vec::new())).1.push(r);
    }
    let prerelease_latest = project.policy_for(product).prerelease_latest;
    let mut releases: Vec<(Version, Value)> = Vec::new();
    for (cycle, (line_dates, rs)) in cycles {
        let Some(latest) = latest_version(rs.iter().map(|r| &r.release.version), prerelease_latest).cloned() else {
            continue;
        };
        let latest_r = rs.iter().find(|r| r.release.version == latest).expect("latest is one of them");
        let first = rs.iter().filter_map(|r| r.promoted_at).min().unwrap_or(0);
        let eol_from = latest_r.end_of_life.or(line_dates.as_ref().and_then(|d| d.end_of_life));
        let eoas_from = latest_r.support_until.or(line_dates.as_ref().and_then(|d| d.support_until));
        let is_eol = rs.iter().all(|r| r.stage == Stage::EndOfLife);
        let is_eoas = is_eol || rs.iter().any(|r| r.states.contains("security-only"));
        let is_lts = rs.iter().any(|r| r.states.contains("lts"));
        let joined = |v: Vec<String>| (!v.is_empty()).then(|| v.join(", "));
        let affected_by: Vec<String> = advisories
            .get(&latest_r.release)
            .map(|a| a.affected_by.iter().map(ToString::to_string).collect())
            .unwrap_or_default();
        let mut fixes: Vec<String> = rs
            .iter()
            .flat_map(|r| {
                let fixed = advisories.get(&r.release).map(|a| a.fixes.as_slice()).unwrap_or_default();
                fixed.iter().map(move |c| format!("{c} ({})", r.release.version))
            })
            .collect();
        fixes.sort();
        releases.push((
            latest.clone(),
            json!({
                "name": cycle,
                "codename": null,
                "label": cycle,
                "releaseDate": date(first),
                "isLts": is_lts,
                "ltsFrom": null,
                "isEoas": is_eoas,
                "eoasFrom": eoas_from.map(date),
                "isEol": is_eol,
                "eolFrom": eol_from.map(date),
                "isMaintained": !is_eol,
                "latest": {
                    "name": latest.as_str(),
                    "date": date(latest_r.promoted_at.unwrap_or(first)),
                    "link": (links.release_page)(&latest_r.release),
                },
                "custom": {
                    "affectedBy": joined(affected_by),
                    "fixes": joined(fixes),
                },
            }),
        ));
    }
    releases.sort_by(|a, b| b.0.cmp(&a.0));
    json!({
        "schema_version": API_V1_SCHEMA_VERSION,
        "generated_at": last_modified,
        "last_modified": last_modified,
        "result": {
            "name": name,
            "label": name,
            "aliases": [],
            "category": "app",
            "tags": ["app"],
            "versionCommand": null,
            "identifiers": [],
            "labels": {"eoas": "Active support", "discontinued": null, "eol": "Security support", "eoes": null},
            "links": {"icon": null, "html": links.line_page, "releasePolicy": null},
            "releases": releases.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
        },
    })
}

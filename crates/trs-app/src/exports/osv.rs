//! A published advisory as an OSV record (<https://ossf.github.io/osv-schema/>, schema version
//! [`SCHEMA_VERSION`]), and a project's feed of them.
//!
//! Each affected range becomes an OSV range: of type `SEMVER` when every bound is a semver
//! version, of type `ECOSYSTEM` when it is not but the advisory names its package (the
//! ecosystem then defines the order). `>=A` is `introduced: A` (`0` when open below), `<B`
//! `fixed: B`, `<=B` `last_affected: B`. Whatever the ranges, `versions` lists the releases
//! trs holds that the advisory affects, so a scanner that does not read ranges still matches.
//! The qualitative severity, the project and a link back to trs are in `database_specific`
//! (OSV's own `severity` takes CVSS vectors only).

use super::rfc3339;
use crate::cve::AdvisoryView;
use serde_json::{Value, json};
use trs_core::advisory::{RangeEnd, VersionRange};

/// The OSV schema version the records follow (the schema in schemas/osv-schema.json).
pub const SCHEMA_VERSION: &str = "1.7.5";

fn all_semver(range: &VersionRange) -> bool {
    range.bounds().iter().all(|v| v.semver().is_some())
}

fn range(r: &VersionRange, ecosystem: bool) -> Option<Value> {
    let VersionRange::Between { introduced, end } = r else { return None };
    let kind = if all_semver(r) {
        "SEMVER"
    } else if ecosystem {
        "ECOSYSTEM"
    } else {
        return None;
    };
    let mut events = vec![json!({"introduced": introduced.as_ref().map(|v| v.to_string()).unwrap_or("0".into())})];
    match end {
        Some(RangeEnd::Fixed(v)) => events.push(json!({"fixed": v.to_string()})),
        Some(RangeEnd::LastAffected(v)) => events.push(json!({"last_affected": v.to_string()})),
        None => {}
    }
    Some(json!({"type": kind, "events": events}))
}

/// The OSV record of one published advisory. `api_url`: trs's public URL, for the link back.
pub fn record(view: &AdvisoryView, api_url: Option<&str>) -> Value {
    let a = &view.advisory;
    let ranges: Vec<Value> = a.affected.iter().filter_map(|r| range(r, a.package.is_some())).collect();
    let mut affected = json!({
        "versions": view.affected_releases.iter().map(|r| r.version.to_string()).collect::<Vec<_>>(),
    });
    if !ranges.is_empty() {
        affected["ranges"] = json!(ranges);
    }
    if let Some(p) = &a.package {
        affected["package"] = json!({"ecosystem": p.ecosystem, "name": p.name});
    }
    let mut trs = json!({"project": a.project, "affected": a.affected});
    if let Some(product) = &a.product {
        trs["product"] = json!(product);
    }
    if let Some(s) = a.severity {
        trs["severity"] = json!(s);
    }
    if let Some(f) = &a.fixed {
        trs["fixed"] = json!(f);
    }
    if let Some(url) = api_url {
        trs["url"] = json!(format!("{}{}", url.trim_end_matches('/'), crate::cve::api_path(&a.project, &a.id)));
    }
    let mut out = json!({
        "schema_version": SCHEMA_VERSION,
        "id": a.id,
        "modified": rfc3339(a.updated_at),
        "summary": a.summary,
        "affected": [affected],
        "database_specific": {"trs": trs},
    });
    if let Some(at) = a.published_at {
        out["published"] = json!(rfc3339(at));
    }
    if let Some(d) = &a.details {
        out["details"] = json!(d);
    }
    if !a.references.is_empty() {
        out["references"] = json!(a.references.iter().map(|u| json!({"type": "WEB", "url": u})).collect::<Vec<_>>());
    }
    if !a.credits.is_empty() {
        out["credits"] = json!(a.credits.iter().map(|c| json!({"name": c})).collect::<Vec<_>>());
    }
    out
}

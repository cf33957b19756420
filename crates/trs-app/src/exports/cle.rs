//! ECMA-428 Common Lifecycle Enumeration (CLE) 1.0.0 for one project (or one product of it).
//!
//! Mapping from the stream:
//! | trs event | CLE event |
//! |---|---|
//! | `promoted` | `released` (`version`) |
//! | dates set on a release | `endOfLife` / `endOfSupport` (`versions: [{version}]`) |
//! | dates set on a line (`1.x`) | the same, with `versions: [{range: "vers:semver/>=1.0.0\|<2.0.0"}]` |
//! | a date changed or cleared | `withdrawn` of the earlier `endOfLife` / `endOfSupport`, then the new one |
//! | `archived` | `endOfDistribution` (left the main download directory) |
//! | `revoked` (after release) | `withdrawn` of the `released` event (`eventId`, `reason`) |
//!
//! `effective` is when the event takes effect (the date set, or the time of the change),
//! `published` when trs recorded it. Ids count up in stream order and the list is newest id
//! first, as the standard's processing rules ask; CLE events are immutable, so a changed date
//! withdraws the earlier event rather than leaving two that disagree. `endOfSupport` names the
//! one support policy trs knows, `standard` (bug and security fixes by the project), defined
//! under `definitions`. The document names its component by a version-less PURL
//! (`pkg:generic/PROJECT`, `pkg:generic/PROJECT/PRODUCT`) and says when it last changed
//! (`updatedAt`).
//!
//! Security advisories: CLE 1.0.0 has no event type or field for vulnerabilities, and its
//! events may not change after publication (an advisory usually comes after the release it
//! names). The document therefore carries them beside the events, in a top-level
//! `advisories` member shaped as in `releases.json` (version → `affected_by`, `fixes`), which
//! CLE readers ignore; embargoed advisories are never in it.

use super::rfc3339;
use crate::cve::ReleaseAdvisories;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use trs_core::{Change, Event, ProductName, ProjectName, ReleaseId};

pub const SUPPORT_POLICY: &str = "standard";

/// A `vers` range for a release line: `1.x` → `vers:semver/>=1.0.0|<2.0.0`, `2.4.x` →
/// `vers:semver/>=2.4.0|<2.5.0`. Deeper lines are not semver and use the generic scheme.
pub fn line_range(line: &str) -> Option<String> {
    let prefix = line.strip_suffix(".x")?;
    let mut nums: Vec<u64> = prefix.split('.').map(|n| n.parse().ok()).collect::<Option<_>>()?;
    let scheme = if nums.len() <= 2 { "semver" } else { "generic" };
    let pad = |v: &[u64]| {
        let mut v = v.to_vec();
        while v.len() < 3 {
            v.push(0);
        }
        v.iter().map(u64::to_string).collect::<Vec<_>>().join(".")
    };
    let low = pad(&nums);
    *nums.last_mut()? += 1;
    Some(format!("vers:{scheme}/>={low}|<{}", pad(&nums)))
}

/// The URI of the CLE 1.0.0 schema a document names in `$schema`: the stable URI pattern
/// ECMA-428 (1st edition, §5.1) gives, `…/cle-<major>.<minor>.<patch>.schema.json`. Ecma
/// publishes no schema file at it (yet); schemas/README.md says what trs validates against.
pub const SCHEMA_URI: &str = "https://cle.example.com/schema/cle-1.0.0.schema.json";

/// The component's PURL without a version (CLE's `identifier`): trs's projects are no
/// package ecosystem's, so the `generic` type, with the project as namespace of a product.
pub fn identifier(project: &ProjectName, product: Option<&ProductName>) -> String {
    match product {
        Some(product) => format!("pkg:generic/{project}/{product}"),
        None => format!("pkg:generic/{project}"),
    }
}

/// The CLE document of one component from a project's stream (`events` in stream order): the
/// project's main line when `product` is `None`, else that product. `updated_at` is when the
/// document last changed (the newest event or advisory it shows); `advisories` are the
/// published advisories by release (see the module's notes), of any line: only this line's
/// are shown.
pub fn document(
    events: &[Event],
    project: &ProjectName,
    product: Option<&ProductName>,
    updated_at: i64,
    advisories: &BTreeMap<ReleaseId, ReleaseAdvisories>,
) -> Value {
    let mut out: Vec<Value> = Vec::new();
    let mut released: BTreeMap<String, i64> = BTreeMap::new();
    // Per subject: the dates last set, and the ids of the events that stand for them.
    let mut last_dates: BTreeMap<String, (Option<i64>, Option<i64>)> = BTreeMap::new();
    let mut standing: BTreeMap<(String, &'static str), i64> = BTreeMap::new();
    // Ids count from 1 in the order events are added, as CLE asks.
    fn push(out: &mut Vec<Value>, mut v: Value) -> i64 {
        let id = out.len() as i64 + 1;
        v["id"] = id.into();
        out.push(v);
        id
    }
    for e in events {
        let published = rfc3339(e.at);
        // Which versions the event speaks of, if it belongs to this component.
        let subject: Option<(String, Value)> = match (&e.release, &e.change) {
            (Some(r), _) if r.product.as_ref() == product => {
                Some((r.version.to_string(), json!([{"version": r.version.as_str()}])))
            }
            (None, Change::LifecycleDatesSet { line: Some(key), .. }) => {
                let (p, line) = match key.split_once('/') {
                    Some((p, l)) => (Some(p), l),
                    None => (None, key.as_str()),
                };
                (p == product.map(|p| p.as_str()))
                    .then(|| line_range(line).map(|r| (key.clone(), json!([{"range": r}]))))
                    .flatten()
            }
            _ => None,
        };
        let Some((subject, versions)) = subject else { continue };
        match &e.change {
            Change::Promoted { .. } => {
                let v = json!({"type": "released", "effective": published, "published": published, "version": subject});
                let id = push(&mut out, v);
                released.insert(subject, id);
            }
            // Released long before it was imported: effective at its original date.
            Change::Imported { released_at, .. } => {
                let v = json!({"type": "released", "effective": rfc3339(*released_at), "published": published,
                    "version": subject});
                let id = push(&mut out, v);
                released.insert(subject, id);
            }
            Change::LifecycleDatesSet { end_of_life, support_until, .. } => {
                let before = last_dates.insert(subject.clone(), (*end_of_life, *support_until)).unwrap_or_default();
                let changes = [
                    ("endOfLife", "end of life", before.0, *end_of_life),
                    ("endOfSupport", "end of support", before.1, *support_until),
                ];
                for (kind, what, old, new) in changes {
                    if old == new {
                        continue;
                    }
                    let key = (subject.clone(), kind);
                    if let Some(earlier) = standing.remove(&key) {
                        let reason = match new {
                            Some(t) => format!("The {what} date changed to {}.", super::date(t)),
                            None => format!("The {what} date was withdrawn."),
                        };
                        let v = json!({"type": "withdrawn", "effective": published, "published": published,
                            "eventId": earlier, "reason": reason});
                        push(&mut out, v);
                    }
                    if let Some(t) = new {
                        let mut v = json!({"type": kind, "effective": rfc3339(t), "published": published,
                            "versions": versions});
                        if kind == "endOfSupport" {
                            v["supportId"] = SUPPORT_POLICY.into();
                        }
                        standing.insert(key, push(&mut out, v));
                    }
                }
            }
            Change::Archived => {
                let v = json!({"type": "endOfDistribution", "effective": published, "published": published, "versions": versions});
                push(&mut out, v);
            }
            Change::Revoked { reason } => {
                if let Some(released_id) = released.get(&subject) {
                    let v = json!({"type": "withdrawn", "effective": published, "published": published,
                        "eventId": released_id, "reason": reason});
                    push(&mut out, v);
                }
            }
            _ => {}
        }
    }
    out.reverse();
    let mut doc = json!({
        "$schema": SCHEMA_URI,
        "identifier": identifier(project, product),
        "updatedAt": rfc3339(updated_at),
        "definitions": {"support": [{
            "id": SUPPORT_POLICY,
            "description": "Bug and security fixes released by the project",
        }]},
        "events": out,
    });
    let shown: BTreeMap<&str, &ReleaseAdvisories> = advisories
        .iter()
        .filter(|(id, _)| id.project == *project && id.product.as_ref() == product)
        .map(|(id, a)| (id.version.as_str(), a))
        .collect();
    if !shown.is_empty() {
        doc["advisories"] = json!(shown);
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_become_vers_ranges() {
        assert_eq!(line_range("1.x").as_deref(), Some("vers:semver/>=1.0.0|<2.0.0"));
        assert_eq!(line_range("2.4.x").as_deref(), Some("vers:semver/>=2.4.0|<2.5.0"));
        assert_eq!(line_range("1.2.3.x").as_deref(), Some("vers:generic/>=1.2.3|<1.2.4"));
        assert_eq!(line_range("x"), None);
    }
}

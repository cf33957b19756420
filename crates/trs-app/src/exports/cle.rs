//! ECMA-428 Common Lifecycle Enumeration (CLE) for one project (or one product of it).
//!
//! Mapping from the stream:
//! | trs event | CLE event |
//! |---|---|
//! | `promoted` | `released` (`version`) |
//! | dates set on a release | `endOfLife` / `endOfSupport` (`versions: [{version}]`) |
//! | dates set on a line (`1.x`) | the same, with `versions: [{range: "vers:semver/>=1.0.0\|<2.0.0"}]` |
//! | `archived` | `endOfDistribution` (left the main download directory) |
//! | `revoked` (after release) | `withdrawn` of the `released` event (`eventId`, `reason`) |
//!
//! `effective` is when the event takes effect (the date set, or the time of the change),
//! `published` when trs recorded it. Ids count up in stream order; the list is ordered by
//! effective time, newest first. A date changed later is a new event with a higher id (in CLE
//! the highest id of a type wins). `endOfSupport` names the one support policy trs knows,
//! `standard` (bug and security fixes by the project), defined under `definitions`.

use super::rfc3339;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use trs_core::{Change, Event, ProductName};

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

/// The CLE document of one component from a project's stream (`events` in stream order): the
/// project's main line when `product` is `None`, else that product.
pub fn document(events: &[Event], product: Option<&ProductName>) -> Value {
    let mut out: Vec<(i64, i64, Value)> = Vec::new();
    let mut released: BTreeMap<String, i64> = BTreeMap::new();
    let mut last_dates: BTreeMap<String, (Option<i64>, Option<i64>)> = BTreeMap::new();
    let mut next_id = 1i64;
    let mut push = |out: &mut Vec<(i64, i64, Value)>, effective: i64, mut v: Value| -> i64 {
        let id = next_id;
        next_id += 1;
        v["id"] = id.into();
        out.push((effective, id, v));
        id
    };
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
                let id = push(&mut out, e.at, v);
                released.insert(subject, id);
            }
            // Released long before it was imported: effective at its original date.
            Change::Imported { released_at, .. } => {
                let v = json!({"type": "released", "effective": rfc3339(*released_at), "published": published,
                    "version": subject});
                let id = push(&mut out, *released_at, v);
                released.insert(subject, id);
            }
            Change::LifecycleDatesSet { end_of_life, support_until, .. } => {
                let before = last_dates.insert(subject, (*end_of_life, *support_until)).unwrap_or_default();
                if let Some(eol) = end_of_life.filter(|t| Some(*t) != before.0) {
                    let v = json!({"type": "endOfLife", "effective": rfc3339(eol), "published": published, "versions": versions});
                    push(&mut out, eol, v);
                }
                if let Some(eos) = support_until.filter(|t| Some(*t) != before.1) {
                    let v = json!({"type": "endOfSupport", "effective": rfc3339(eos), "published": published,
                        "versions": versions, "supportId": SUPPORT_POLICY});
                    push(&mut out, eos, v);
                }
            }
            Change::Archived => {
                let v = json!({"type": "endOfDistribution", "effective": published, "published": published, "versions": versions});
                push(&mut out, e.at, v);
            }
            Change::Revoked { reason } => {
                if let Some(released_id) = released.get(&subject) {
                    let v = json!({"type": "withdrawn", "effective": published, "published": published,
                        "eventId": released_id, "reason": reason});
                    push(&mut out, e.at, v);
                }
            }
            _ => {}
        }
    }
    out.sort_by_key(|e| std::cmp::Reverse((e.0, e.1)));
    json!({
        "events": out.into_iter().map(|(_, _, v)| v).collect::<Vec<_>>(),
        "definitions": {"support": [{
            "id": SUPPORT_POLICY,
            "description": "Bug and security fixes released by the project",
        }]},
    })
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

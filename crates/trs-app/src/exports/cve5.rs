//! A published advisory as a CVE JSON 5.1 record (the CVE Program's format, schema in
//! schemas/cve-record-5.1.1.json), and reading the fields trs keeps from a record a CNA
//! already wrote (`trs cve add --import`).
//!
//! The record's `affected` entry names the project (vendor: its display name, else its name)
//! and the product (the product line, else the project), `defaultStatus: unaffected`, and one
//! `versions` entry per range: `version` is the range's first affected version (`0` when open
//! below), with `lessThan` (`<B`) or `lessThanOrEqual` (`<=B`), `status: affected` and
//! `versionType: semver` when every bound is semver, else `custom`; an exact version is
//! `{version, status}`. The fixed version, when known, is an `unaffected` entry. A CVE 5
//! record must carry the assigning CNA's organisation UUID and at least one reference: an
//! advisory without a CNA id cannot be exported (409 `no-cna-org-id`), and one without
//! references gets the link to its record in trs (when trs knows its public URL).

use super::rfc3339;
use crate::cve::AdvisoryView;
use crate::error::{AppError, AppResult};
use serde_json::{Value, json};
use trs_core::advisory::{RangeEnd, VersionRange};
use trs_core::{CveId, Project, Severity, Version};

pub const DATA_VERSION: &str = "5.1";

fn version_type(r: &VersionRange) -> &'static str {
    if r.bounds().iter().all(|v| v.semver().is_some()) { "semver" } else { "custom" }
}

fn version_entry(r: &VersionRange) -> Value {
    match r {
        VersionRange::Exactly(v) => json!({"version": v, "status": "affected"}),
        VersionRange::Between { introduced, end } => {
            let start = introduced.as_ref().map(|v| v.to_string()).unwrap_or("0".into());
            let mut entry = json!({"version": start, "status": "affected", "versionType": version_type(r)});
            match end {
                Some(RangeEnd::Fixed(v)) => entry["lessThan"] = json!(v),
                Some(RangeEnd::LastAffected(v)) => entry["lessThanOrEqual"] = json!(v),
                // Open above: up to every later version ("*" is the schema's wildcard).
                None => entry["lessThanOrEqual"] = json!("*"),
            }
            entry
        }
    }
}

/// The CVE 5 record of one published advisory of `project`.
pub fn record(project: &Project, view: &AdvisoryView, api_url: Option<&str>) -> AppResult<Value> {
    let a = &view.advisory;
    let org = a.cna_org_id.as_deref().ok_or_else(|| {
        AppError::conflict(
            "no-cna-org-id",
            format!("{} has no CNA organisation id: set it with `trs cve edit … --cna-org-id UUID`", a.id),
        )
    })?;
    let mut references: Vec<Value> = a.references.iter().map(|u| json!({"url": u})).collect();
    if references.is_empty() {
        match api_url {
            Some(url) => references.push(json!({
                "url": format!("{}{}", url.trim_end_matches('/'), crate::cve::api_path(&a.project, &a.id)),
                "tags": ["vendor-advisory"],
            })),
            None => {
                return Err(AppError::conflict(
                    "no-references",
                    format!("{}: a CVE record needs a reference: add one with `trs cve edit … --reference URL`", a.id),
                ));
            }
        }
    }
    let mut versions: Vec<Value> = a.affected.iter().map(version_entry).collect();
    if let Some(f) = &a.fixed {
        versions.push(json!({"version": f, "status": "unaffected"}));
    }
    let vendor = project.display_name.clone().unwrap_or_else(|| project.name.to_string());
    let product = a.product.as_ref().map(|p| p.to_string()).unwrap_or_else(|| project.name.to_string());
    let updated = rfc3339(a.updated_at);
    let mut cna = json!({
        "providerMetadata": {"orgId": org, "dateUpdated": updated},
        "title": a.summary,
        "descriptions": [{"lang": "en", "value": a.details.as_deref().unwrap_or(&a.summary)}],
        "affected": [{"vendor": vendor, "product": product, "defaultStatus": "unaffected", "versions": versions}],
        "references": references,
    });
    if !a.credits.is_empty() {
        cna["credits"] = json!(a.credits.iter().map(|c| json!({"lang": "en", "value": c})).collect::<Vec<_>>());
    }
    if let Some(s) = a.severity {
        cna["metrics"] = json!([{"other": {"type": "Textual description of severity", "content": {"text": s}}}]);
    }
    let mut meta = json!({"cveId": a.id, "assignerOrgId": org, "state": "PUBLISHED", "dateUpdated": updated});
    if let Some(at) = a.published_at {
        meta["datePublished"] = json!(rfc3339(at));
    }
    Ok(json!({
        "dataType": "CVE_RECORD",
        "dataVersion": DATA_VERSION,
        "cveMetadata": meta,
        "containers": {"cna": cna},
    }))
}

/// The fields trs keeps, as read from a CVE 5 record (`trs cve add --import`); what the
/// command line gives wins over them.
#[derive(Debug, Default)]
pub struct Imported {
    pub id: Option<CveId>,
    pub summary: Option<String>,
    pub details: Option<String>,
    pub severity: Option<Severity>,
    pub affected: Vec<VersionRange>,
    pub fixed: Option<Version>,
    pub credits: Vec<String>,
    pub references: Vec<String>,
    pub cna_org_id: Option<String>,
}

fn invalid(message: impl Into<String>) -> AppError {
    AppError::bad_request("invalid-cve-record", message)
}

/// One `versions` entry as a range, or `None` for a status trs does not record (unaffected
/// or unknown entries describe what is *not* affected).
fn read_version(entry: &Value) -> AppResult<Option<VersionRange>> {
    let text = |k: &str| entry.get(k).and_then(Value::as_str);
    if text("status") != Some("affected") {
        return Ok(None);
    }
    let version = text("version").ok_or_else(|| invalid("a versions entry has no version"))?;
    let low = if version == "0" { String::new() } else { format!(">={version}") };
    let range = match (text("lessThan"), text("lessThanOrEqual")) {
        (Some(b), _) => [low, format!("<{b}")].join(","),
        (None, Some("*")) if low.is_empty() => ">=0".to_string(),
        (None, Some("*")) => low,
        (None, Some(b)) => [low, format!("<={b}")].join(","),
        (None, None) => format!("={version}"),
    };
    range
        .trim_start_matches(',')
        .parse()
        .map(Some)
        .map_err(|e: trs_core::advisory::RangeError| invalid(format!("an affected version entry: {}", e.reason)))
}

/// Reads a CVE 5 record (`dataType: CVE_RECORD`): its id, the CNA container's title or first
/// English description, affected ranges, credits, references, a textual severity, and the
/// CNA's organisation id.
pub fn import(record: &Value) -> AppResult<Imported> {
    if record.get("dataType").and_then(Value::as_str) != Some("CVE_RECORD") {
        return Err(invalid("not a CVE JSON 5 record (its dataType is not CVE_RECORD)"));
    }
    let meta = &record["cveMetadata"];
    let cna = &record["containers"]["cna"];
    let id = meta["cveId"].as_str().map(|s| s.parse::<CveId>()).transpose()?;
    let english = cna["descriptions"]
        .as_array()
        .and_then(|d| d.iter().find(|d| d["lang"].as_str().is_some_and(|l| l.starts_with("en"))))
        .and_then(|d| d["value"].as_str())
        .map(str::to_string);
    let title = cna["title"].as_str().map(str::to_string);
    let (summary, details) = match title {
        Some(t) => (Some(t), english),
        None => (english.as_ref().map(|d| d.lines().next().unwrap_or_default().to_string()), english),
    };
    let mut affected = Vec::new();
    let mut fixed = None;
    for product in cna["affected"].as_array().into_iter().flatten() {
        for entry in product["versions"].as_array().into_iter().flatten() {
            if let Some(r) = read_version(entry)? {
                affected.push(r);
            } else if entry["status"] == "unaffected"
                && entry.get("lessThan").is_none()
                && entry.get("lessThanOrEqual").is_none()
                && fixed.is_none()
            {
                fixed = entry["version"].as_str().and_then(|v| v.parse().ok());
            }
        }
    }
    let texts = |v: &Value, field: &str| -> Vec<String> {
        v.as_array().into_iter().flatten().filter_map(|c| c[field].as_str().map(str::to_string)).collect()
    };
    let severity = cna["metrics"]
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|m| {
            m["cvssV4_0"]["baseSeverity"]
                .as_str()
                .or(m["cvssV3_1"]["baseSeverity"].as_str())
                .or(m["cvssV3_0"]["baseSeverity"].as_str())
                .or(m["other"]["content"]["text"].as_str())
        })
        .and_then(|s| s.parse().ok());
    Ok(Imported {
        id,
        summary,
        details,
        severity,
        affected,
        fixed,
        credits: texts(&cna["credits"], "value"),
        references: texts(&cna["references"], "url"),
        cna_org_id: meta["assignerOrgId"].as_str().map(str::to_string),
    })
}

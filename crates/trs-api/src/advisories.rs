//! A project's security advisories (docs/security-data.md): recorded, changed and published
//! by its security team; read by anyone once published. Their OSV and CVE JSON 5 exports are
//! those formats' own documents, not described here.

use crate::releases::AdvisoryRelease;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// CVSS's qualitative severity rating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    None,
    Low,
    Medium,
    High,
    Critical,
}

/// The package an advisory concerns in a package ecosystem (`PyPI`, `Maven`, `npm`, …), for
/// its OSV record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Package {
    pub ecosystem: String,
    pub name: String,
}

/// An advisory with the releases it resolves to: what every advisory call answers. Until
/// `published_at` is set only the project's security team sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Advisory {
    /// `CVE-YYYY-NNNN`.
    pub id: String,
    pub project: String,
    /// The product line it concerns; absent for the project's main line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    pub summary: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// Version ranges (`=1.0.0`, `>=1.0.0, <1.2.0`, …): a release is affected when any
    /// contains its version.
    pub affected: Vec<String>,
    /// The version that resolves it, released or still to come.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub credits: Vec<String>,
    /// URLs (the upstream advisory, the fix, the mailing-list post).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<Package>,
    /// The CNA's organisation UUID a CVE 5 record carries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cna_org_id: Option<String>,
    /// The date agreed for disclosure (unix seconds): publishing earlier needs `force`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embargoed_until: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// The releases of its line whose version lies in an affected range, oldest first.
    pub affected_releases: Vec<AdvisoryRelease>,
    /// The release of the `fixed` version, once trs holds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_by: Option<AdvisoryRelease>,
}

/// `GET /api/v1/projects/{project}/advisories`: the project's advisories (the unpublished
/// ones only to its security team).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AdvisoryList {
    pub advisories: Vec<Advisory>,
}

/// The body of `POST /api/v1/projects/{project}/advisories`: a new advisory (`trs cve add`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordAdvisory {
    /// `CVE-YYYY-NNNN`; may come from `import` instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub affected: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub credits: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<Package>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cna_org_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embargoed_until: Option<i64>,
    /// A CVE JSON 5 record to take the fields not given from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import: Option<serde_json::Value>,
}

/// The body of `POST /api/v1/projects/{project}/advisories/{id}`: only the fields given
/// change. A list given replaces the list; an empty text clears an optional field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditAdvisory {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affected: Option<Vec<String>>,
    /// Empty text: no fix yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credits: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub references: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<Package>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cna_org_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embargoed_until: Option<i64>,
}

/// The body of `POST …/advisories/{id}/publish`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishAdvisory {
    /// Publish before the embargo date.
    #[serde(default)]
    pub force: bool,
}

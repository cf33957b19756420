//! Projects (committees): rosters, products, metadata, policy.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

type Object = serde_json::Map<String, serde_json::Value>;

/// The body of `POST /api/v1/projects` (admins only).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProject {
    pub name: String,
    /// The committee: binding voters.
    pub members: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub committers: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub release_managers: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub products: Vec<String>,
}

/// A project as stored: rosters, products, metadata, policy, release lines, distributions,
/// mail settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Project {
    pub name: String,
    /// Committee members: binding voters.
    pub members: Vec<String>,
    pub committers: Vec<String>,
    pub release_managers: Vec<String>,
    #[serde(default)]
    pub products: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub product_descriptions: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub homepage: Option<String>,
    pub created_at: i64,
    /// The release policy (docs/vote.md).
    #[schema(value_type = Object)]
    pub policy: Object,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schema(value_type = BTreeMap<String, Object>)]
    pub product_policies: BTreeMap<String, Object>,
    /// Lifecycle dates of release lines (`1.x` → dates).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schema(value_type = BTreeMap<String, Object>)]
    pub lines: BTreeMap<String, Object>,
    /// The distributions a promotion runs when the policy's `auto_distribute` is on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<Object>)]
    pub distributions: Vec<Object>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub mail: Option<Object>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schema(value_type = BTreeMap<String, Object>)]
    pub product_mail: BTreeMap<String, Object>,
}

/// `GET /api/v1/projects/{project}`: the project and the keys its KEYS file holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProjectDetail {
    #[serde(flatten)]
    pub project: Project,
    pub keys: Vec<KeyRef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct KeyRef {
    pub person: String,
    pub fingerprint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

/// `GET /api/v1/projects`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProjectList {
    pub projects: Vec<ProjectSummary>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProjectSummary {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub products: Vec<String>,
}

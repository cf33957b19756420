//! Projects (committees): rosters, products, metadata, policy.

use crate::distributions::AutoDistribution;
use crate::mail::MailSettings;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

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
    /// The release policy of the main line (docs/vote.md).
    pub policy: Policy,
    /// Each product's changes to `policy`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub product_policies: BTreeMap<String, PolicyOverride>,
    /// Lifecycle dates of release lines (`1.x` → dates).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub lines: BTreeMap<String, LineDates>,
    /// The distributions a promotion runs when the policy's `auto_distribute` is on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub distributions: Vec<AutoDistribution>,
    /// Where the project's mails go (absent while nothing is set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mail: Option<MailSettings>,
    /// Each product's changes to `mail`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub product_mail: BTreeMap<String, MailSettings>,
}

/// A release line's lifecycle dates (unix seconds), applied to every release of the line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LineDates {
    pub end_of_life: Option<i64>,
    pub support_until: Option<i64>,
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

/// The body of `POST /api/v1/projects/{project}`: only the fields given change; an empty one
/// clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditProject {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// An absolute `http` or `https` URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub homepage: Option<String>,
}

/// A role in a project's roster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ProjectRole {
    /// Committee member: a binding voter (the project's `members`).
    Committee,
    Committer,
    ReleaseManager,
}

/// The body of `POST /api/v1/projects/{project}/members`: people to add to and remove from
/// one role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeMembers {
    pub role: ProjectRole,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub add: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<String>,
}

/// The body of `POST /api/v1/projects/{project}/products`: a product to declare.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddProduct {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A release policy: what a vote needs and what a promotion does (docs/vote.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Policy {
    /// A vote cannot be closed before it has been open this long.
    pub min_vote_hours: u32,
    /// Binding +1 votes needed to pass.
    pub min_binding: u32,
    /// A vote cannot open while any check of the revision fails.
    pub strict: bool,
    /// Promoting a release archives the previous current release of the same line.
    pub archive_previous: bool,
    /// The lifecycle schedule closes votes whose minimum duration has passed.
    pub auto_close_votes: bool,
    /// After promotion, publish the site in the same task.
    pub auto_publish: bool,
    /// After promotion, run the project's distributions in the same task.
    pub auto_distribute: bool,
    /// A pre-release (`1.0.0-rc.1`) may be the line's `latest`.
    pub prerelease_latest: bool,
    /// A vote opens only on a revision holding an SBOM.
    pub require_sbom: bool,
    /// Replies on the list count as ballots.
    pub email_votes: bool,
    /// Licence categories an SBOM's components must not have (absent: none denied).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub denied_licences: Vec<LicenceCategory>,
}

/// A product's changes to its project's policy: the rules given replace the project's, the
/// others inherit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PolicyOverride {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_vote_hours: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_binding: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive_previous: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_close_votes: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_publish: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_distribute: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prerelease_latest: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_sbom: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_votes: Option<bool>,
    /// Replaces the whole set when given (an empty list denies none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub denied_licences: Option<Vec<LicenceCategory>>,
}

/// How restrictive a component's licence is, as an SBOM's check classifies it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum LicenceCategory {
    /// OSI-approved or FSF-free without copyleft (Apache-2.0, MIT, BSD, …).
    Permissive,
    /// Copyleft limited to the licensed files or library (LGPL, MPL, EPL, …).
    WeakCopyleft,
    /// Copyleft over the whole combined work (GPL, AGPL, …).
    StrongCopyleft,
    /// Known to SPDX but neither OSI-approved nor FSF-free (CC-BY-NC-4.0, BUSL-1.1, …).
    Restricted,
    /// No licence, `NOASSERTION`, or a licence trs does not recognise.
    Unknown,
}

impl LicenceCategory {
    /// `permissive`, `weak-copyleft`, …, as the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            LicenceCategory::Permissive => "permissive",
            LicenceCategory::WeakCopyleft => "weak-copyleft",
            LicenceCategory::StrongCopyleft => "strong-copyleft",
            LicenceCategory::Restricted => "restricted",
            LicenceCategory::Unknown => "unknown",
        }
    }
}

/// The body of `POST /api/v1/projects/{project}/policy`: the rules to change (at least one),
/// of the main line or of one product. Unknown fields are refused, so a misspelt rule is a
/// 400 rather than a silent no-op.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPolicy {
    /// The product whose policy changes; absent for the project's main line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_vote_hours: Option<u32>,
    /// At least 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_binding: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive_previous: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_close_votes: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_publish: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_distribute: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prerelease_latest: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_sbom: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_votes: Option<bool>,
    /// Replaces the whole set (an empty list denies none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub denied_licences: Option<Vec<LicenceCategory>>,
}

/// `GET` and `POST /api/v1/projects/{project}/policy`: the policy in force for the main line
/// or one product (what `trs project policy` shows).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProjectPolicy {
    pub project: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// The policy in force: the project's, with the product's changes applied.
    pub policy: Policy,
    /// The product's own changes (present, maybe empty, when a product was asked for).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_override: Option<PolicyOverride>,
}

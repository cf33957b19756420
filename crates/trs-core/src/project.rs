//! Projects (committees) and people.

use crate::ids::{Fingerprint, PersonUid, ProductName, ProjectName};
use crate::vote::{Policy, PolicyOverride};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Project {
    pub name: ProjectName,
    /// Committee members: binding voters.
    pub members: BTreeSet<PersonUid>,
    pub committers: BTreeSet<PersonUid>,
    pub release_managers: BTreeSet<PersonUid>,
    #[serde(default)]
    pub products: BTreeSet<ProductName>,
    pub created_at: i64,
    #[serde(default)]
    pub policy: Policy,
    /// Per-product changes to `policy`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub product_policies: BTreeMap<ProductName, PolicyOverride>,
    /// Lifecycle dates of release lines (`1.x` → dates), applied to every release of the line.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub lines: BTreeMap<String, LineDates>,
    /// The distributions the promotion of a release runs when the policy's `auto_distribute`
    /// is on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub distributions: Vec<AutoDistribution>,
}

/// A distribution run on every promotion (with `auto_distribute`): to production, or, with
/// `staging`, the promotion of the staged distribution (staged first if it was not).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoDistribution {
    /// A platform name of trs-distribute (`github`, `pypi`, ...), checked when set.
    pub platform: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub package: String,
    #[serde(default)]
    pub staging: bool,
}

impl Project {
    /// The policy in force for a product, or for the main line.
    pub fn policy_for(&self, product: Option<&ProductName>) -> Policy {
        crate::vote::effective_policy(&self.policy, &self.product_policies, product)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineDates {
    pub end_of_life: Option<i64>,
    pub support_until: Option<i64>,
}

impl Project {
    /// Everyone whose key may sign this project's artifacts.
    pub fn signers(&self) -> BTreeSet<&PersonUid> {
        self.members.iter().chain(&self.committers).chain(&self.release_managers).collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub uid: PersonUid,
    pub name: Option<String>,
    pub email: Option<String>,
    /// Primary fingerprints of this person's registered certificates.
    pub keys: Vec<Fingerprint>,
    /// Foundation-wide administrator.
    #[serde(default)]
    pub admin: bool,
    /// Member of the foundation (votes, non-binding, on every project).
    #[serde(default)]
    pub foundation_member: bool,
    pub created_at: i64,
}

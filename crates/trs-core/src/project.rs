//! Projects (committees) and people.

use crate::ids::{Fingerprint, PersonUid, ProductName, ProjectName};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

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

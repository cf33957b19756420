//! A release: (project, product, version), its stage and its revision history head.

use crate::ids::{ProductName, ProjectName, RevisionKey, Version};
use crate::stage::Stage;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The coordinates of a release.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ReleaseId {
    pub project: ProjectName,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub product: Option<ProductName>,
    pub version: Version,
}

impl fmt::Display for ReleaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.product {
            Some(p) => write!(f, "{}/{}/{}", self.project, p, self.version),
            None => write!(f, "{}/{}", self.project, self.version),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevisionRef {
    pub number: u32,
    pub key: RevisionKey,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    pub id: ReleaseId,
    pub stage: Stage,
    /// The newest revision; `None` before the first upload commits.
    pub latest: Option<RevisionRef>,
    pub created_at: i64,
    pub updated_at: i64,
}

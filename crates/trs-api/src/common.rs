//! Small pieces several answers share.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A release's coordinates: project, product (absent for the project's main line), version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReleaseRef {
    pub project: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    pub version: String,
}

/// `project/version`, or `project/product/version`: how trs names a release everywhere.
impl std::fmt::Display for ReleaseRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.product {
            Some(p) => write!(f, "{}/{}/{}", self.project, p, self.version),
            None => write!(f, "{}/{}", self.project, self.version),
        }
    }
}

/// Who made a change: the person and the primary fingerprint of the key that signed the call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Actor {
    pub uid: String,
    pub key: String,
}

/// One revision of a release: its number (1, 2, …) and its content key (a hash over the
/// sorted manifest, so equal file sets have equal keys).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RevisionRef {
    pub number: u32,
    pub key: String,
}

/// A release's stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    CandidateDraft,
    Candidate,
    Current,
    Archived,
    EndOfLife,
    Revoked,
}

/// A body or query that names only the product of the release in the path (absent for the
/// project's main line).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductOnly {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
}

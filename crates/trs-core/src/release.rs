//! A release: (project, product, version), its stage and its revision history head.

use crate::ids::{ProductName, ProjectName, RevisionKey, Version};
use crate::stage::Stage;
use crate::vote::{Policy, Resolution};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

/// The coordinates of a release. Ordered by project, then the main line before products, then
/// by version ([`crate::version_order`]).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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
    /// The newest vote (open, or how it ended).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vote: Option<VoteRecord>,
    /// The revision whose vote passed: the only one that may be promoted, and the "staged
    /// revision" every later distribution records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voted_revision: Option<RevisionRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promoted_at: Option<i64>,
    /// Freeform states currently held (`lts`, `security-only`, …).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub states: BTreeSet<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_of_life: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support_until: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_reason: Option<String>,
}

impl Release {
    pub fn new(id: ReleaseId, now: i64) -> Self {
        Release {
            id,
            stage: Stage::CandidateDraft,
            latest: None,
            created_at: now,
            updated_at: now,
            vote: None,
            voted_revision: None,
            promoted_at: None,
            states: BTreeSet::new(),
            end_of_life: None,
            support_until: None,
            revoked_reason: None,
        }
    }

    /// The vote, if one is open now.
    pub fn open_vote(&self) -> Option<&VoteRecord> {
        self.vote.as_ref().filter(|v| v.state == VoteState::Open)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VoteState {
    Open,
    Passed,
    Failed,
    Cancelled,
}

/// A vote on one pinned revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoteRecord {
    /// 1 for the release's first vote, then 2, … (a cancelled or failed vote is followed by a
    /// new one on a new revision).
    pub number: u32,
    pub revision: RevisionRef,
    pub opened_at: i64,
    /// The earliest time the vote may be closed.
    pub closes_not_before: i64,
    /// The policy in force when the vote opened: changing the policy later does not change the
    /// rules of a running vote.
    pub policy: Policy,
    pub state: VoteState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<Resolution>,
    /// Where the candidate was built from, as the release manager declared it on opening.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceRef>,
}

/// The source a candidate was built from (`trs vote start --tag --commit --source-url`),
/// declared by the release manager and shown in the call for a vote; trs does not check it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRef {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

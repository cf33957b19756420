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
    /// What each declared product is (`trs project products --add NAME --description …`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub product_descriptions: BTreeMap<ProductName, String>,
    /// Metadata set with `trs project edit`: a display name (the project's `name` is its
    /// identifier in every path and never changes), a description and a homepage URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub homepage: Option<String>,
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
    /// Where the project's vote and announcement mails go (`trs project mail`).
    #[serde(default, skip_serializing_if = "MailSettings::is_empty")]
    pub mail: MailSettings,
    /// Per-product changes to `mail` (each field set replaces the project's).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub product_mail: BTreeMap<ProductName, MailSettings>,
}

/// The lists a project's mails are written to, and their sender. Addresses are kept as the
/// text given (`Name <addr@host>` or `addr@host`), checked by the mail layer when set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailSettings {
    /// Where `[VOTE]`, `[RESULT]` and `[CANCELLED]` go (e.g. `dev@`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vote_to: Vec<String>,
    /// Where `[ANNOUNCE]` goes (e.g. `announce@`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub announce_to: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    /// The list's IMAP mailbox trs polls for replies to `[VOTE]` mails (votes opened with
    /// `email_votes`): `imaps://USER@HOST[:PORT]/MAILBOX` or `imap://…`. The password is never
    /// part of it (the host's environment gives it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imap: Option<String>,
}

impl MailSettings {
    pub fn is_empty(&self) -> bool {
        *self == MailSettings::default()
    }

    /// `self` with every field `change` sets replaced.
    pub fn merged(&self, change: &MailSettings) -> MailSettings {
        MailSettings {
            vote_to: if change.vote_to.is_empty() { self.vote_to.clone() } else { change.vote_to.clone() },
            announce_to: if change.announce_to.is_empty() {
                self.announce_to.clone()
            } else {
                change.announce_to.clone()
            },
            from: change.from.clone().or_else(|| self.from.clone()),
            reply_to: change.reply_to.clone().or_else(|| self.reply_to.clone()),
            imap: change.imap.clone().or_else(|| self.imap.clone()),
        }
    }
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

    /// The mail settings in force for a product (the project's, with the product's changes),
    /// or for the main line.
    pub fn mail_for(&self, product: Option<&ProductName>) -> MailSettings {
        match product.and_then(|p| self.product_mail.get(p)) {
            Some(change) => self.mail.merged(change),
            None => self.mail.clone(),
        }
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

/// A role given in a project's roster (`trs project members --as`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProjectRole {
    /// Committee member: a binding voter.
    Committee,
    Committer,
    ReleaseManager,
}

impl ProjectRole {
    pub const ALL: [ProjectRole; 3] = [ProjectRole::Committee, ProjectRole::Committer, ProjectRole::ReleaseManager];

    pub fn as_str(self) -> &'static str {
        match self {
            ProjectRole::Committee => "committee",
            ProjectRole::Committer => "committer",
            ProjectRole::ReleaseManager => "release-manager",
        }
    }
}

impl std::fmt::Display for ProjectRole {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ProjectRole {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        ProjectRole::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown role {s:?}: one of committee, committer, release-manager"))
    }
}

impl Project {
    /// The people holding `role` in this project.
    pub fn roster(&self, role: ProjectRole) -> &BTreeSet<PersonUid> {
        match role {
            ProjectRole::Committee => &self.members,
            ProjectRole::Committer => &self.committers,
            ProjectRole::ReleaseManager => &self.release_managers,
        }
    }

    pub fn roster_mut(&mut self, role: ProjectRole) -> &mut BTreeSet<PersonUid> {
        match role {
            ProjectRole::Committee => &mut self.members,
            ProjectRole::Committer => &mut self.committers,
            ProjectRole::ReleaseManager => &mut self.release_managers,
        }
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

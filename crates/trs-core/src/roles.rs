//! The role table from DESIGN.md as code. A [`Permit`] can only be obtained from
//! [`authorize`], and every mutating service function takes one, so no handler can perform an
//! action without this table having said yes.

use crate::ids::{PersonUid, ProjectName};
use crate::project::{Person, Project};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    CommitteeMember,
    ReleaseManager,
    Committer,
    Visitor,
    FoundationMember,
    Admin,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    BindingVote,
    Vote,
    ManageRelease,
    ManagePolicyOrMetadata,
    ManageKeys,
    ManageOwnKey,
    ViewReleaseEvents,
    /// Giving and taking roles in a project (committee, committer, release manager): the
    /// committee and admins. Not the release managers: the committee's roster decides who
    /// votes binding, so no one outside it may add themselves to it.
    ManageMembers,
    /// Foundation administration: registering people, creating projects.
    Administer,
    /// Laying an upload on a revision that is no longer the latest (`--force`): only the
    /// project's release managers, who own the shared draft.
    ForceUpload,
    /// Recording, reading before publication, and publishing security advisories: the
    /// project's security team, its committee members and release managers (issue 19).
    /// Not admins: an embargoed advisory is seen by as few people as possible.
    ManageAdvisories,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::BindingVote => "binding vote",
            Action::Vote => "vote",
            Action::ManageRelease => "manage release",
            Action::ManagePolicyOrMetadata => "manage policy / metadata",
            Action::ManageKeys => "manage keys",
            Action::ManageOwnKey => "manage own key",
            Action::ViewReleaseEvents => "view release events",
            Action::ManageMembers => "manage members",
            Action::Administer => "administer the foundation",
            Action::ForceUpload => "force an upload onto a stale base",
            Action::ManageAdvisories => "manage security advisories",
        }
    }
}

/// The table, row by row. Keep it literally in the shape of DESIGN.md's table.
pub fn role_allows(role: Role, action: Action) -> bool {
    use Action::*;
    use Role::*;
    match action {
        BindingVote => matches!(role, CommitteeMember),
        Vote => matches!(role, CommitteeMember | Committer | Visitor | FoundationMember),
        ManageRelease => matches!(role, CommitteeMember | ReleaseManager | Admin),
        ManagePolicyOrMetadata => matches!(role, CommitteeMember | ReleaseManager | Admin),
        ManageKeys => matches!(role, CommitteeMember | Admin),
        ManageOwnKey => matches!(role, CommitteeMember | ReleaseManager),
        ViewReleaseEvents => true,
        ManageMembers => matches!(role, CommitteeMember | Admin),
        Administer => matches!(role, Admin),
        ForceUpload => matches!(role, ReleaseManager),
        ManageAdvisories => matches!(role, CommitteeMember | ReleaseManager),
    }
}

/// The roles a person holds, in a project if one is given.
pub fn roles_of(person: &Person, project: Option<&Project>) -> Vec<Role> {
    let mut roles = vec![Role::Visitor];
    if person.admin {
        roles.push(Role::Admin);
    }
    if person.foundation_member {
        roles.push(Role::FoundationMember);
    }
    if let Some(p) = project {
        if p.members.contains(&person.uid) {
            roles.push(Role::CommitteeMember);
        }
        if p.release_managers.contains(&person.uid) {
            roles.push(Role::ReleaseManager);
        }
        if p.committers.contains(&person.uid) {
            roles.push(Role::Committer);
        }
    }
    roles
}

/// Proof that the role table allowed `action` to `caller` (in `project`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permit {
    caller: PersonUid,
    project: Option<ProjectName>,
    action: Action,
}

impl Permit {
    pub fn caller(&self) -> &PersonUid {
        &self.caller
    }
    pub fn project(&self) -> Option<&ProjectName> {
        self.project.as_ref()
    }
    pub fn action(&self) -> Action {
        self.action
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{caller} may not {} {}", action.as_str(), project.as_ref().map(|p| format!("in project {p}")).unwrap_or_default())]
pub struct Denied {
    pub caller: PersonUid,
    pub project: Option<ProjectName>,
    pub action: Action,
}

pub fn authorize(person: &Person, project: Option<&Project>, action: Action) -> Result<Permit, Denied> {
    if roles_of(person, project).into_iter().any(|r| role_allows(r, action)) {
        Ok(Permit { caller: person.uid.clone(), project: project.map(|p| p.name.clone()), action })
    } else {
        Err(Denied { caller: person.uid.clone(), project: project.map(|p| p.name.clone()), action })
    }
}

/// Manage-own-key is about a person's own keys, so it holds for every registered person,
/// whatever their roles: a key is how a person signs calls, and one without a project role
/// (a former release manager, someone about to be given a role) must still be able to renew
/// or revoke it, and to add a new one before the old one expires. The table's row names the
/// roles that hold it in a project; outside a project it is the person's own business.
pub fn authorize_own_key(person: &Person) -> Permit {
    Permit { caller: person.uid.clone(), project: None, action: Action::ManageOwnKey }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn person(uid: &str, admin: bool) -> Person {
        Person {
            uid: uid.parse().unwrap(),
            name: None,
            email: None,
            keys: vec![],
            admin,
            foundation_member: false,
            created_at: 0,
        }
    }

    fn project() -> Project {
        let set = |s: &[&str]| s.iter().map(|u| u.parse().unwrap()).collect::<BTreeSet<PersonUid>>();
        Project {
            name: "foo".parse().unwrap(),
            members: set(&["pmc"]),
            committers: set(&["dev"]),
            release_managers: set(&["rm"]),
            products: BTreeSet::new(),
            product_descriptions: Default::default(),
            display_name: None,
            description: None,
            homepage: None,
            created_at: 0,
            policy: Default::default(),
            product_policies: Default::default(),
            lines: Default::default(),
            distributions: Vec::new(),
            mail: Default::default(),
            product_mail: Default::default(),
        }
    }

    #[test]
    fn table_matches_design() {
        use Action::*;
        let p = project();
        let can = |uid: &str, admin: bool, a: Action| authorize(&person(uid, admin), Some(&p), a).is_ok();
        assert!(can("pmc", false, BindingVote));
        assert!(!can("rm", false, BindingVote));
        assert!(!can("dev", false, BindingVote));
        assert!(can("dev", false, Vote));
        assert!(can("stranger", false, Vote));
        assert!(can("rm", false, Vote), "everyone is at least a visitor, and visitors vote");
        assert!(can("rm", false, ManageRelease));
        assert!(!can("dev", false, ManageRelease));
        assert!(!can("stranger", false, ManageRelease));
        assert!(can("admin", true, ManageRelease));
        assert!(can("pmc", false, ManageKeys));
        assert!(!can("rm", false, ManageKeys));
        assert!(can("stranger", false, ViewReleaseEvents));
        assert!(can("pmc", false, ManageMembers));
        assert!(!can("rm", false, ManageMembers), "a release manager may not make themselves a binding voter");
        assert!(can("admin", true, ManageMembers));
        assert!(!can("pmc", false, Administer));
        assert!(can("admin", true, Administer));
        // Issue 19: the security team is the committee and the release managers, no one else.
        assert!(can("pmc", false, ManageAdvisories));
        assert!(can("rm", false, ManageAdvisories));
        assert!(!can("dev", false, ManageAdvisories));
        assert!(!can("stranger", false, ManageAdvisories));
        assert!(!can("admin", true, ManageAdvisories), "an admin sees no embargoed advisory");
    }

    #[test]
    fn permit_records_who_and_what() {
        let p = project();
        let permit = authorize(&person("rm", false), Some(&p), Action::ManageRelease).unwrap();
        assert_eq!(permit.caller().as_str(), "rm");
        assert_eq!(permit.project().unwrap().as_str(), "foo");
        let denied = authorize(&person("dev", false), Some(&p), Action::ManageRelease).unwrap_err();
        assert_eq!(denied.to_string(), "dev may not manage release in project foo");
    }

    #[test]
    fn everyone_manages_their_own_key() {
        for (uid, admin) in [("rm", false), ("dev", false), ("stranger", false), ("root", true)] {
            let permit = authorize_own_key(&person(uid, admin));
            assert_eq!((permit.caller().as_str(), permit.action()), (uid, Action::ManageOwnKey));
        }
    }
}

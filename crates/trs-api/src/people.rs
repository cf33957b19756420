//! People and their OpenPGP keys.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The body of `POST /api/v1/people` (admins only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddPerson {
    pub uid: String,
    /// The person's OpenPGP certificate, ASCII-armored.
    pub certificate: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// A person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Person {
    pub uid: String,
    pub name: Option<String>,
    pub email: Option<String>,
    /// Primary fingerprints of the person's registered certificates.
    pub keys: Vec<String>,
    /// Foundation-wide administrator.
    #[serde(default)]
    pub admin: bool,
    /// Member of the foundation (votes, non-binding, on every project).
    #[serde(default)]
    pub foundation_member: bool,
    pub created_at: i64,
}

/// `GET /api/v1/people/{uid}`: the person, their keys in detail and their roles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PersonDetail {
    #[serde(flatten)]
    pub person: Person,
    pub registered_keys: Vec<KeySummary>,
    pub projects: Vec<ProjectRoles>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct KeySummary {
    pub fingerprint: String,
    pub user_ids: Vec<String>,
    pub registered_at: i64,
    /// What the holder should fix (a SHA-1 self-signed key: refresh it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// The roles a person holds in one project (`committee`, `committer`, `release-manager`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProjectRoles {
    pub project: String,
    pub roles: Vec<String>,
}

/// `GET /api/v1/people`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PeopleList {
    pub people: Vec<Person>,
}

/// The body of `POST /api/v1/keys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddKey {
    /// The OpenPGP certificate, ASCII-armored.
    pub certificate: String,
    /// Another person's uid: needs the "manage keys" role. Default: the caller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
}

/// A registered key: what adding and removing a key answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RegisteredKey {
    pub fingerprint: String,
    pub person: String,
    pub user_ids: Vec<String>,
    pub primary_user_id: Option<String>,
    /// The certificate as registered, ASCII-armored.
    pub armored: String,
    pub registered_at: i64,
}

/// The body of `POST /api/v1/people/{uid}`: only the fields given change; an empty one
/// clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditPerson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

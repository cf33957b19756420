//! A release after its promotion: revoke, archive, end-of-life and support dates, freeform
//! states. Each change answers the stream event it recorded (`StreamEvent`), but for an
//! archive, which answers what it moved.

use crate::common::ReleaseRef;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The body of `POST …/releases/{version}/revoke`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeRelease {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// Why, shown wherever the release is (its page, its downloads' 410 answer, the mail).
    #[serde(default)]
    pub reason: String,
}

/// The body of `POST …/releases/{version}/eol` and `POST …/lines/{line}/dates`: dates as unix
/// seconds; either may be left out (it keeps its previous value).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetDates {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_of_life: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub support_until: Option<i64>,
}

/// `POST …/releases/{version}/archive`: what the archive moved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ArchivedRelease {
    pub release: ReleaseRef,
    /// How many files moved.
    pub files: usize,
    /// `/archive/…/`, where the files are now served.
    pub public_prefix: String,
    /// The release was already archived (this call only finished leftover clean-up).
    pub already: bool,
}

//! The release stream's read side: events page by page, a release's history, the views by
//! state and by release, and the chains' verification.

use crate::common::{Actor, ReleaseRef, Stage};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// `GET /api/v1/events`: the events of one stream after `?after=SEQ`, as stored (so a
/// follower can re-hash the chain; docs/release-stream.md has the fields of each kind).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EventsPage {
    /// `foundation`, or `project/NAME`.
    pub stream: String,
    /// Each a `StreamEvent`, kept here as the stored JSON object it is so that a follower
    /// re-hashes exactly what was stored.
    #[schema(value_type = Vec<StreamEvent>)]
    pub events: Vec<serde_json::Map<String, serde_json::Value>>,
    /// The sequence number of the last event on this page (`after` when it is empty): the
    /// next page's `after`.
    pub last_seq: u64,
}

/// One event of a stream (docs/release-stream.md): the fields every event has, and those of
/// its `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StreamEvent {
    /// `foundation`, or `project/NAME`.
    pub stream: String,
    /// Position in the stream, from 1 without gaps.
    pub seq: u64,
    /// Unix seconds.
    pub at: i64,
    /// Who made the change; `null` when trs itself acted (the lifecycle schedule).
    pub actor: Option<Actor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<ReleaseRef>,
    /// The revision the change concerns (pushed, voted on, promoted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<StageMove>,
    /// What happened: `release-promoted`, `vote-opened`, `state-entered`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// The fields of its `type`, beside the others.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub details: EventDetails,
    /// The hash of the previous event in the stream (`null` for the first).
    pub prev: Option<String>,
    /// SHA-256 (hex) of this event's canonical text.
    pub hash: String,
}

/// A release's stage before and after an event (`from` is `null` when the release is new).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StageMove {
    pub from: Option<Stage>,
    pub to: Stage,
}

/// The fields of an event's type, in the order the event has them: a list of pairs, not a
/// map, because serde_json's map sorts its keys and the answer would then list them
/// otherwise than the stored event does.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventDetails(pub Vec<(String, serde_json::Value)>);

impl EventDetails {
    /// The value of field `name`.
    pub fn get(&self, name: &str) -> Option<&serde_json::Value> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
}

impl Serialize for EventDetails {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for EventDetails {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Fields;
        impl<'de> serde::de::Visitor<'de> for Fields {
            type Value = EventDetails;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an event's fields")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<EventDetails, A::Error> {
                let mut fields = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    fields.push(entry);
                }
                Ok(EventDetails(fields))
            }
        }
        deserializer.deserialize_map(Fields)
    }
}

/// `GET /api/v1/projects/{project}/releases/{version}/history`: the release's events, oldest
/// first.
// Fields in the order the answer has always had them (alphabetical).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReleaseHistory {
    pub events: Vec<StreamEvent>,
    /// `project/version` or `project/product/version`.
    pub release: String,
}

/// `GET /api/v1/releases` and `GET /api/v1/projects/{project}/releases`: releases by state
/// and states by release, at one time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReleasesView {
    /// The time the view is for (unix seconds).
    pub at: i64,
    /// Stage or state → releases (`project/version` or `project/product/version`).
    pub by_state: BTreeMap<String, Vec<String>>,
    /// Release → its stage, `latest` where it is, then its freeform states.
    pub by_release: BTreeMap<String, Vec<String>>,
    /// Product line → its latest current release.
    pub latest: BTreeMap<String, String>,
    /// Each release in full, by project, main line before products, then by version.
    pub releases: Vec<ReleaseLifecycle>,
    /// More projects follow: ask again with `after` set to this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// One release as the stream says it was at the view's time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReleaseLifecycle {
    pub release: ReleaseRef,
    pub stage: Stage,
    /// Freeform states (`lts`, …).
    pub states: Vec<String>,
    /// The revision key it was promoted from (once promoted).
    pub promoted_revision: Option<String>,
    pub promoted_at: Option<i64>,
    /// Position of the promotion in the stream.
    pub promoted_seq: Option<u64>,
    pub end_of_life: Option<i64>,
    pub support_until: Option<i64>,
    pub revoked_reason: Option<String>,
    pub first_seen: i64,
    pub last_change: i64,
}

/// `GET /api/v1/projects/{project}/states`: each release's stage, `latest` where it is, then
/// its freeform states.
// Fields in the order the answer has always had them (alphabetical).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ProjectStates {
    /// The time the view is for (unix seconds).
    pub at: i64,
    pub by_release: BTreeMap<String, Vec<String>>,
}

/// `GET /api/v1/events/verify`: the hash chains re-hashed (or as the site publisher checked
/// them up to their heads).
// Fields in the order the answer has always had them (alphabetical).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChainVerification {
    /// Every stream's chain is intact.
    pub ok: bool,
    pub streams: Vec<ChainReport>,
}

/// The outcome of re-hashing one stored stream end to end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ChainReport {
    pub stream: String,
    /// How many events it holds.
    pub events: usize,
    pub ok: bool,
    /// The hash of the last event: what a verifier compares with its own copy.
    pub head: Option<String>,
    /// What is wrong, when not ok.
    pub error: Option<String>,
}

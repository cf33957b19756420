//! The release stream's read side: events page by page.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `GET /api/v1/events`: the events of one stream after `?after=SEQ`, as stored (so a
/// follower can re-hash the chain; docs/release-stream.md has the fields of each kind).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EventsPage {
    /// `foundation`, or the project's stream.
    pub stream: serde_json::Value,
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<serde_json::Map<String, serde_json::Value>>,
    /// The sequence number of the last event on this page (`after` when it is empty): the
    /// next page's `after`.
    pub last_seq: u64,
}

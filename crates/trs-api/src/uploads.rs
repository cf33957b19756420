//! Uploads: declare the files (`POST …/uploads`), send each file's bytes to its upload URL,
//! then ask for the commit (`POST /api/v1/uploads/{id}/commit`, a task whose result is a
//! [`CommittedUpload`]).

use crate::common::ReleaseRef;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The body of `POST /api/v1/projects/{project}/releases/{version}/uploads`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartUpload {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    pub files: Vec<DeclaredFile>,
    /// Upload on top of whatever is latest at commit time, even if it changed meanwhile.
    #[serde(default)]
    pub force: bool,
    /// The revision this upload builds on, as the uploader last saw the draft (0: a new
    /// release). If another revision was pushed since, the upload is refused (`stale-base`)
    /// unless forced. Absent: the latest now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<u32>,
    /// Files of the latest revision to leave out of the new one, with their sidecars.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<String>,
    /// The new revision is exactly `files`: nothing of the previous one is kept.
    #[serde(default)]
    pub replace: bool,
}

/// A file the upload will send: its path in the release and its size in bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclaredFile {
    pub path: String,
    pub size: u64,
}

/// The answer to starting an upload: where to send each file's bytes, until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StartedUpload {
    /// The upload's id: commit it with `POST /api/v1/uploads/{id}/commit`.
    pub id: String,
    pub release: ReleaseRef,
    /// The revision the upload builds on (none for a new release).
    pub base_revision: Option<u32>,
    pub files: Vec<FileUploadUrl>,
    /// Unix seconds after which the upload can no longer be committed.
    pub expires_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FileUploadUrl {
    pub path: String,
    pub size: u64,
    pub upload: UploadUrl,
}

/// The HTTP request that uploads one file's bytes: straight to the blob store, never through
/// the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UploadUrl {
    pub method: String,
    pub url: String,
    /// Headers to send with the body, as `[name, value]` pairs.
    #[schema(value_type = Vec<Vec<String>>)]
    pub headers: Vec<(String, String)>,
    /// Unix seconds after which the URL is refused.
    pub expires_at: i64,
}

/// The result of a commit task once done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CommittedUpload {
    pub release: ReleaseRef,
    /// False when the upload's file set equals the latest revision's: no revision was made,
    /// and `revision` is that latest one.
    pub changed: bool,
    pub revision: u32,
    pub revision_key: String,
    /// How many files the upload sent.
    pub files: usize,
    /// Files of the previous revision the new one leaves out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<String>,
    /// The verification task of the new revision (none when nothing changed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
}

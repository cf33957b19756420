//! Uploads: declare the files (`POST …/uploads`), send each file's bytes to its upload URL
//! (or, for a file larger than one part of the blob store, each part to its part URL), then
//! ask for the commit (`POST /api/v1/uploads/{id}/commit`, naming the ETags of the parts
//! sent; a task whose result is a [`CommittedUpload`]). An interrupted upload is continued
//! with `POST /api/v1/uploads/{id}/resume`: the same [`StartedUpload`] with fresh URLs and
//! what has arrived.

use crate::common::ReleaseRef;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
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

/// The answer to starting (or resuming) an upload: where to send each file's bytes, until
/// when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StartedUpload {
    /// The upload's id: commit it with `POST /api/v1/uploads/{id}/commit`, continue it with
    /// `POST /api/v1/uploads/{id}/resume`.
    pub id: String,
    pub release: ReleaseRef,
    /// The revision the upload builds on (none for a new release).
    pub base_revision: Option<u32>,
    pub files: Vec<FileTarget>,
    /// Unix seconds after which the upload can no longer be committed.
    pub expires_at: i64,
}

/// Where a client sends one file of an upload: one PUT of the whole file (`upload`), or one
/// PUT per part (`parts`), for a file larger than one part of the blob store. In the answer
/// to a resume, a file that has arrived whole has neither.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FileTarget {
    pub path: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload: Option<UploadUrl>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parts: Option<PartUrls>,
}

/// The parts of one file: part `n` is bytes `[(n-1)*part_size, n*part_size)` of the file (the
/// last one shorter), PUT to `urls[n-1]`; the `ETag` header of each answer is what the commit
/// request names the part by (`CommitUpload`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PartUrls {
    pub part_size: u64,
    pub urls: Vec<UploadUrl>,
    /// In the answer to a resume: the parts the store holds already, with their ETags (a
    /// client skips those whose ETag is the one it got when it sent them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub present: Vec<StoredPart>,
}

/// One part of a file as the blob store holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StoredPart {
    /// 1 for the first part.
    pub number: u32,
    pub size: u64,
    /// What the store answered to the part's PUT (S3: the MD5 of its bytes, quoted); a part
    /// sent again with other bytes has another.
    pub etag: String,
}

/// The body of `POST /api/v1/uploads/{id}/commit`: for each file sent in parts, the ETags of
/// its parts in order (part 1 first), as the answers to their PUTs gave them (`{}` when no
/// file was sent in parts). A file left out keeps the ETags an earlier commit request named,
/// so the commit asked for again with `{}` answers its task.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommitUpload {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parts: BTreeMap<String, Vec<String>>,
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

/// `POST …/releases/{version}/discard`: the draft dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DiscardedDraft {
    pub release: ReleaseRef,
    /// Its latest revision when it was dropped (`null`: none was committed).
    pub revision: Option<u32>,
}

/// The stage an imported release is created in (docs/import.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ImportStage {
    /// From the distribution tree: public at `/current/…`.
    Current,
    /// From the archive tree: public at `/archive/…`.
    Archived,
}

/// The body of `POST …/releases/{version}/import`: a release of an existing history, with
/// the files it had.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartImport {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    pub stage: ImportStage,
    /// Unix seconds: when the release was originally published (not in the future).
    pub released_at: i64,
    pub files: Vec<ImportedFile>,
}

/// A file of an imported release: its path in the release, size and SHA-512 (hex).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportedFile {
    pub path: String,
    pub size: u64,
    pub sha512: String,
}

/// What starting an import answers: 201 and where to send the bytes the store lacks, or 200
/// when the release was imported before with exactly these files in this stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StartedImport {
    pub release: ReleaseRef,
    /// Nothing to do: no session was started, and `id` is absent.
    pub already_imported: bool,
    /// The import's id: `POST /api/v1/imports/{id}/commit` commits it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Where to send the files whose bytes the store does not hold yet: one URL each, or one
    /// per part for a file larger than one part of the blob store (as an upload's start
    /// answers); the commit names the parts' ETags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uploads: Vec<FileTarget>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

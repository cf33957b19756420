//! The public download tree's folders: what `GET /current/{path}` and `GET /archive/{path}`
//! answer for a folder (a path ending in `/`) when the client asks for JSON
//! (`Accept: application/json`); a browser gets the same listing as an HTML page.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A folder of the public download tree, as a mirror script walks it: a project's folder
/// lists its product folders, `latest/` (under `current`) and each version, newest first; a
/// version's folder its files with their size and SHA-512 (docs/site.md, "The download
/// folders").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FolderListing {
    /// The folder's URL path (`/current/foo/1.0.0/`; ends with `/`).
    pub path: String,
    pub entries: Vec<FolderEntry>,
}

/// One entry of a folder: a file, or a folder (its name ends with `/`, and it has no size or
/// SHA-512).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FolderEntry {
    /// The name in the folder; a folder's name ends with `/`.
    pub name: String,
    /// The entry's URL path.
    pub url: String,
    /// A file's size in bytes; absent for a folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// A file's SHA-512 (hex); absent for a folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha512: Option<String>,
}

//! The copies of voted bytes at their public coordinates (`current/…`, `archive/…`), which a
//! CDN or static host serves as they are: placed by promotion, archiving and import, removed
//! by archiving (from `current/`) and revocation (from both). Every copy is made from the
//! file's content-addressed original (`files/…`, the voted bytes, never deleted and never
//! public), with put-if-absent: a public path never changes content.

use crate::app::App;
use crate::error::{AppError, AppResult};
use crate::releases::{get_release, get_revision};
use crate::storage_keys as keys;
use futures::StreamExt;
use trs_core::{ManifestEntry, Release, ReleaseId, Sha512, Stage, StageSegment};
use trs_sha512::Sha512 as Sha512Hasher;
use trs_storage::BlobError;

/// Size and SHA-512 of an object's bytes, computed here by reading them (never taken from
/// stored metadata: what is checked is what will be copied, or what a path holds).
pub async fn rehash(app: &App, object: &str) -> AppResult<(u64, Sha512)> {
    let mut stream = app.blobs.get(object).await?;
    let mut hasher = Sha512Hasher::new();
    let mut size = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(BlobError::Io)?;
        size += chunk.len() as u64;
        hasher.update(&chunk);
    }
    Ok((size, Sha512::from_bytes(hasher.finalize())))
}

/// The first 16 hex digits of a digest, for messages.
pub(crate) fn short(d: &Sha512) -> String {
    d.to_hex()[..16].to_string()
}

/// Copies `entry`'s voted bytes to its path under `segment`, put-if-absent. A path that
/// already holds exactly those bytes (an earlier, interrupted run) counts as done; anything
/// else there is refused: a public path is never overwritten.
pub(crate) async fn place(app: &App, segment: StageSegment, id: &ReleaseId, entry: &ManifestEntry) -> AppResult<()> {
    let to = keys::public_object(segment, id, entry.path.as_str());
    match app.blobs.copy_if_absent(&keys::file_object(&entry.sha512), &to).await {
        Ok(_) => Ok(()),
        Err(BlobError::AlreadyExists(_)) => {
            let (size, digest) = rehash(app, &to).await?;
            if size == entry.size && digest == entry.sha512 {
                return Ok(());
            }
            Err(AppError::conflict(
                "public-path-taken",
                format!(
                    "{to} already holds other bytes (sha512 {}…); a public path is never overwritten",
                    short(&digest)
                ),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

/// Deletes the copies of `entries` under `segment` (a missing one is no error, so this can
/// run any number of times). Returns the public paths handled.
pub(crate) async fn remove(
    app: &App,
    segment: StageSegment,
    id: &ReleaseId,
    entries: &[ManifestEntry],
) -> AppResult<Vec<String>> {
    let mut removed = Vec::new();
    for entry in entries {
        let object = keys::public_object(segment, id, entry.path.as_str());
        app.blobs.delete(&object).await?;
        removed.push(format!("/{object}"));
    }
    Ok(removed)
}

/// Deletes a release's files from its public paths, under both segments a release is ever
/// published in (a promotion or an archiving racing the revocation may have placed some).
/// Returns the public paths handled (`/current/…`, `/archive/…`).
pub(crate) async fn withdraw(app: &App, release: &Release) -> AppResult<Vec<String>> {
    // Only a voted revision is ever copied to a public path.
    let Some(voted) = &release.voted_revision else { return Ok(Vec::new()) };
    let revision = get_revision(app, &release.id, voted.number).await?;
    let mut withdrawn = Vec::new();
    for entry in revision.manifest.entries() {
        for segment in StageSegment::RELEASED {
            withdrawn.extend(remove(app, segment, &release.id, std::slice::from_ref(entry)).await?);
        }
    }
    Ok(withdrawn)
}

/// After a promotion or an archiving failed: if the release was revoked meanwhile, deletes
/// whatever that run placed at public paths after the revocation withdrew them.
pub(crate) async fn withdraw_if_revoked(app: &App, id: &ReleaseId) -> AppResult<()> {
    if let Some((release, _)) = get_release(app, id).await?
        && release.stage == Stage::Revoked
    {
        withdraw(app, &release).await?;
    }
    Ok(())
}

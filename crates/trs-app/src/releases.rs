//! Reading a release and its revisions: what every use case (upload, vote, promotion,
//! lifecycle, distribution, the public paths, the site) starts from, in one place rather
//! than in the upload module that happened to write them first.

use crate::app::App;
use crate::error::{AppError, AppResult};
use crate::storage_keys as keys;
use trs_core::{Release, ReleaseId, Revision};
use trs_storage::Item;

/// The release `id` and the item it was read from (for a conditional write after), or none.
pub async fn get_release(app: &App, id: &ReleaseId) -> AppResult<Option<(Release, Item)>> {
    match app.items.get(&keys::release(id)).await? {
        Some(item) => Ok(Some((item.parse()?, item))),
        None => Ok(None),
    }
}

/// Revision `number` of `id`; a revision the release names but the store lacks is an
/// internal error (revisions are never removed).
pub async fn get_revision(app: &App, id: &ReleaseId, number: u32) -> AppResult<Revision> {
    match crate::large_item::get(app, &keys::revision(id, number)).await? {
        Some(body) => {
            serde_json::from_value(body).map_err(|e| AppError::Internal(format!("revision {number} of {id}: {e}")))
        }
        None => Err(AppError::Internal(format!("revision {number} of {id} is missing"))),
    }
}

/// The stored revision `voted` names, refused (`manifest-differs`) unless its manifest still
/// hashes to the key that was voted on: what is sent anywhere is exactly what was voted on.
/// `what` names the refused action in the message.
pub async fn get_revision_as_voted(
    app: &App,
    id: &ReleaseId,
    voted: &trs_core::RevisionRef,
    what: &str,
) -> AppResult<Revision> {
    let stored = get_revision(app, id, voted.number).await?;
    if stored.manifest.key() != voted.key {
        return Err(AppError::conflict(
            "manifest-differs",
            format!(
                "{what}: the stored manifest of revision {} hashes to {}, not to the voted key {}",
                voted.number,
                stored.manifest.key(),
                voted.key
            ),
        ));
    }
    Ok(stored)
}

//! Both storage primitives on one machine, with no service to run: items in a redb file, blobs
//! as files in a folder. Used by `trs` when it runs as a single server; AWS deployments use
//! DynamoDB and S3 behind the same traits.

mod blob;
mod files;
mod items;
mod keys;
mod site;
mod upload;

#[cfg(test)]
mod tests;

use std::path::Path;

pub use blob::EmbeddedBlobStore;
pub use items::{DiskFaults, EmbeddedItemStore};
pub use site::FolderSiteStore;
pub use upload::load_or_create_secret;

/// Opens the stores of a data folder, creating it if needed: `dir/items.redb`, `dir/blobs/`,
/// and the upload-URL secret `dir/upload-secret`.
pub fn open_data_dir(dir: &Path, upload_base_url: String) -> Result<(EmbeddedItemStore, EmbeddedBlobStore), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create data folder {}: {e}", dir.display()))?;
    let secret = load_or_create_secret(dir)
        .map_err(|e| format!("cannot read or create the upload secret in {}: {e}", dir.display()))?;
    let items = EmbeddedItemStore::open(&dir.join("items.redb"))
        .map_err(|e| format!("cannot open the item store in {}: {e}", dir.display()))?;
    let blobs = EmbeddedBlobStore::open(&dir.join("blobs"), upload_base_url, secret)
        .map_err(|e| format!("cannot open the blob store in {}: {e}", dir.display()))?;
    Ok((items, blobs))
}

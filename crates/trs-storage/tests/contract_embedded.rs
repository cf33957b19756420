//! The storage contract suite, run against the embedded stores.

use trs_storage::embedded::{EmbeddedBlobStore, EmbeddedItemStore};

async fn item_store() -> (EmbeddedItemStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedItemStore::open(&dir.path().join("items.redb")).unwrap();
    (store, dir)
}

async fn blob_store() -> (EmbeddedBlobStore, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = EmbeddedBlobStore::open(dir.path(), "http://localhost:8080".into(), [9; 32]).unwrap();
    (store, dir)
}

trs_storage::item_store_contract!(item_store());
trs_storage::blob_store_contract!(blob_store());

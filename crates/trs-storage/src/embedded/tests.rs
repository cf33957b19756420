//! Behaviour of the embedded stores beyond the shared contract: upload URLs, persistence,
//! crash leftovers, and the limits of keeping blob keys as paths.

use bytes::Bytes;
use futures::StreamExt;
use serde_json::json;
use sha2::Digest;

use super::*;
use crate::blob::{BlobError, BlobStore, ByteStream};
use crate::item::{Condition, Item, ItemStore, Key, StoreError};

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn blobs(dir: &tempfile::TempDir) -> EmbeddedBlobStore {
    EmbeddedBlobStore::open(&dir.path().join("blobs"), "http://trs.test/".into(), [3; 32]).unwrap()
}

fn body(data: &[u8], chunk: usize) -> ByteStream {
    let chunks: Vec<_> = data.chunks(chunk).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
    futures::stream::iter(chunks).boxed()
}

async fn read(store: &EmbeddedBlobStore, key: &str) -> Vec<u8> {
    let mut s = store.get(key).await.unwrap();
    let mut out = Vec::new();
    while let Some(c) = s.next().await {
        out.extend_from_slice(&c.unwrap());
    }
    out
}

async fn token_for(store: &EmbeddedBlobStore, key: &str, expires_at: i64, max: u64) -> String {
    let url = store.upload_url(key, expires_at, max).await.unwrap();
    assert!(url.url.contains("/api/v1/blob-upload/"), "{}", url.url);
    url.url.rsplit('/').next().unwrap().to_string()
}

/// Nothing left in the store's folders but finished objects and their sidecars.
fn leftovers(dir: &tempfile::TempDir) -> usize {
    std::fs::read_dir(dir.path().join("blobs/tmp")).unwrap().count()
        + std::fs::read_dir(dir.path().join("blobs/meta")).unwrap().count()
        + std::fs::read_dir(dir.path().join("blobs/objects")).unwrap().count()
}

#[tokio::test]
async fn upload_with_a_good_token_stores_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = blobs(&dir);
    let url = store.upload_url("up/a.bin", now() + 60, 1000).await.unwrap();
    let token = url.url.strip_prefix("http://trs.test/api/v1/blob-upload/").expect("URL under the base URL");
    let meta = store.accept_upload(token, now(), body(&[5; 1000], 100)).await.unwrap();
    assert_eq!((meta.key.as_str(), meta.size), ("up/a.bin", 1000));
    assert_eq!(read(&store, "up/a.bin").await, vec![5; 1000]);
    let again = store.accept_upload(token, now(), body(b"other", 2)).await;
    assert!(matches!(again, Err(BlobError::AlreadyExists(_))), "{again:?}");
}

#[tokio::test]
async fn upload_refuses_tampered_and_foreign_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let store = blobs(&dir);
    let token = token_for(&store, "up/a.bin", now() + 60, 1000).await;
    // Flip one character of the signed payload, keeping it valid base64url.
    let mut tampered = token.clone().into_bytes();
    tampered[2] = if tampered[2] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let refused = store.accept_upload(&tampered, now(), body(b"x", 1)).await;
    assert!(matches!(refused, Err(BlobError::UploadRefused(_))), "{refused:?}");

    let other_dir = tempfile::tempdir().unwrap();
    let other = EmbeddedBlobStore::open(other_dir.path(), "http://x".into(), [4; 32]).unwrap();
    let foreign = token_for(&other, "up/a.bin", now() + 60, 1000).await;
    let refused = store.accept_upload(&foreign, now(), body(b"x", 1)).await;
    assert!(matches!(refused, Err(BlobError::UploadRefused("bad signature"))), "{refused:?}");
    assert!(store.head("up/a.bin").await.unwrap().is_none());
}

#[tokio::test]
async fn upload_refuses_expired_token() {
    let dir = tempfile::tempdir().unwrap();
    let store = blobs(&dir);
    let token = token_for(&store, "up/a.bin", now() - 1, 1000).await;
    let refused = store.accept_upload(&token, now(), body(b"x", 1)).await;
    assert!(matches!(refused, Err(BlobError::UploadRefused("expired"))), "{refused:?}");
    assert!(store.head("up/a.bin").await.unwrap().is_none());
}

#[tokio::test]
async fn upload_over_the_size_limit_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = blobs(&dir);
    let token = token_for(&store, "up/big", now() + 60, 1000).await;
    let refused = store.accept_upload(&token, now(), body(&[1; 1001], 100)).await;
    assert!(matches!(refused, Err(BlobError::TooLarge { limit: 1000 })), "{refused:?}");
    assert!(store.head("up/big").await.unwrap().is_none());
    assert_eq!(leftovers(&dir), 0, "a refused upload leaves no file behind");
    // Exactly at the limit is fine.
    store.accept_upload(&token, now(), body(&[1; 1000], 100)).await.unwrap();
}

/// 64 MiB generated and streamed chunk by chunk, never whole in memory on either side.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_streamed_put() {
    const CHUNK: usize = 64 * 1024;
    const CHUNKS: usize = 1024;
    let chunk = |i: usize| Bytes::from(vec![(i % 251) as u8; CHUNK]);
    let mut expected = sha2::Sha512::new();
    for i in 0..CHUNKS {
        expected.update(chunk(i));
    }
    let dir = tempfile::tempdir().unwrap();
    let store = blobs(&dir);
    let stream = futures::stream::iter(0..CHUNKS).map(move |i| Ok(chunk(i))).boxed();
    let meta = store.put_if_absent("big/64m", stream).await.unwrap();
    assert_eq!(meta.size, (CHUNK * CHUNKS) as u64);
    assert_eq!(meta.sha512.as_deref(), Some(hex::encode(expected.finalize()).as_str()));

    let mut read_back = sha2::Sha512::new();
    let mut size = 0;
    let mut s = store.get("big/64m").await.unwrap();
    while let Some(c) = s.next().await {
        let c = c.unwrap();
        size += c.len();
        read_back.update(&c);
    }
    assert_eq!(size, CHUNK * CHUNKS);
    assert_eq!(Some(hex::encode(read_back.finalize())), meta.sha512);
    let path = store.local_path("big/64m").unwrap();
    assert_eq!(std::fs::metadata(path).unwrap().len(), meta.size);
}

#[tokio::test]
async fn local_path_only_for_stored_objects() {
    let dir = tempfile::tempdir().unwrap();
    let store = blobs(&dir);
    store.put_if_absent("p/x.zip", body(b"zip", 2)).await.unwrap();
    let path = store.local_path("p/x.zip").unwrap();
    assert_eq!(std::fs::read(path).unwrap(), b"zip");
    assert_eq!(store.local_path("p/missing"), None);
    assert_eq!(store.local_path("p"), None, "a folder is not an object");
    assert_eq!(store.local_path("../etc/passwd"), None);
}

#[tokio::test]
async fn keys_that_are_each_others_folders_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let store = blobs(&dir);
    store.put_if_absent("a", body(b"a", 1)).await.unwrap();
    let r = store.put_if_absent("a/b", body(b"b", 1)).await;
    assert!(matches!(r, Err(BlobError::InvalidKey { .. })), "{r:?}");
    store.put_if_absent("x/y", body(b"y", 1)).await.unwrap();
    let r = store.put_if_absent("x", body(b"x", 1)).await;
    assert!(matches!(r, Err(BlobError::InvalidKey { .. })), "{r:?}");
    assert!(store.head("x").await.unwrap().is_none());
    // Deleting the inner object frees the folder name.
    store.delete("x/y").await.unwrap();
    store.put_if_absent("x", body(b"x", 1)).await.unwrap();
    assert_eq!(read(&store, "x").await, b"x");
}

#[tokio::test]
async fn reopening_removes_interrupted_writes() {
    let dir = tempfile::tempdir().unwrap();
    let store = blobs(&dir);
    store.put_if_absent("kept", body(b"kept", 2)).await.unwrap();
    drop(store);
    // As if a put had crashed after claiming its key, and another while streaming.
    std::fs::create_dir_all(dir.path().join("blobs/meta/half")).unwrap();
    std::fs::write(dir.path().join("blobs/meta/half/done"), br#"{"size":1,"sha512":null}"#).unwrap();
    std::fs::write(dir.path().join("blobs/tmp/0123"), b"partial").unwrap();
    let store = blobs(&dir);
    assert_eq!(std::fs::read_dir(dir.path().join("blobs/tmp")).unwrap().count(), 0);
    assert!(!dir.path().join("blobs/meta/half").exists());
    store.put_if_absent("half/done", body(b"now", 1)).await.expect("the key is free again");
    assert_eq!(read(&store, "kept").await, b"kept");
}

#[test]
fn upload_secret_persists_privately() {
    let dir = tempfile::tempdir().unwrap();
    let first = load_or_create_secret(dir.path()).unwrap();
    assert_eq!(load_or_create_secret(dir.path()).unwrap(), first);
    assert_ne!(first, [0; 32]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("upload-secret")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file left");
}

#[tokio::test]
async fn data_dir_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (items, blobs) = open_data_dir(&data, "http://trs.test".into()).unwrap();
    let item = Item::new(Key::new("p", "k"), json!({ "a": 1 })).with_gsi1(Key::new("g", "s"));
    items.put(item.clone(), Condition::Absent).await.unwrap();
    items.put(Item::new(Key::new("p", "old"), json!({})).with_expiry(now() - 10), Condition::None).await.unwrap();
    blobs.put_if_absent("b/1", body(b"blob", 3)).await.unwrap();
    let token = token_for(&blobs, "b/2", now() + 60, 10).await;
    drop((items, blobs));

    let (items, blobs) = open_data_dir(&data, "http://trs.test".into()).unwrap();
    assert_eq!(items.get(&item.key).await.unwrap(), Some(item.clone()));
    assert_eq!(items.purge_expired().await.unwrap(), 1);
    assert_eq!(items.purge_expired().await.unwrap(), 0);
    assert_eq!(read(&blobs, "b/1").await, b"blob");
    blobs.accept_upload(&token, now(), body(b"later", 5)).await.expect("upload URLs survive a restart");
}

#[tokio::test]
async fn item_errors_read_well() {
    let dir = tempfile::tempdir().unwrap();
    let items = EmbeddedItemStore::open(&dir.path().join("i.redb")).unwrap();
    let err = items.put(Item::new(Key::new("p\0", "k"), json!({})), Condition::None).await.unwrap_err();
    assert_eq!(err.to_string(), "invalid request: item partition key \"p\\0\" contains a NUL character");
    let err = EmbeddedItemStore::open(dir.path()).err().unwrap();
    assert!(err.to_string().contains(&dir.path().display().to_string()), "{err}");
}

/// Issue 13, item 5: after one `ENOSPC` redb refused every later call ("Previous I/O
/// error… close and re-open the database") until trs was restarted. Now each write on the
/// full disk is refused as `InsufficientStorage`, health says so, and once there is room
/// again the same store (no restart) writes, with everything written before intact.
#[tokio::test]
async fn a_full_disk_is_refused_cleanly_and_the_store_recovers_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let disk = DiskFaults::new();
    let items = EmbeddedItemStore::open_with_disk_faults(&dir.path().join("i.redb"), disk.clone()).unwrap();
    let item = |k: &str| Item::new(Key::new("p", k), json!({"k": k}));
    items.put(item("before"), Condition::Absent).await.unwrap();
    items.health().await.unwrap();

    disk.fill();
    for k in ["a", "b", "c"] {
        let err = items.put(item(k), Condition::Absent).await.unwrap_err();
        assert!(matches!(err, StoreError::InsufficientStorage(_)), "write {k}: {err}");
        assert!(err.to_string().contains("full"), "{err}");
    }
    let err = items.health().await.unwrap_err();
    assert!(matches!(err, StoreError::InsufficientStorage(_)), "{err}");

    disk.free();
    items.health().await.expect("healthy once there is room, without a restart");
    items.put(item("a"), Condition::Absent).await.expect("writes work again");
    for k in ["before", "a"] {
        assert!(items.get(&Key::new("p", k)).await.unwrap().is_some(), "{k} is stored");
    }
    for k in ["b", "c"] {
        assert!(items.get(&Key::new("p", k)).await.unwrap().is_none(), "refused write {k} left nothing");
    }
}

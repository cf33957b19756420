//! Contract cases for [`BlobStore`]: S3's semantics as domain code relies on them.

use std::sync::Arc;

use bytes::Bytes;

use super::{body_of, chunked, now, pseudo_random, read_all, sha512_hex};
use crate::blob::{BlobError, BlobMeta, BlobStore};

type Store = Arc<dyn BlobStore>;

async fn put(store: &Store, key: &str, data: &[u8]) -> BlobMeta {
    store.put_if_absent(key, chunked(data, 1000)).await.unwrap_or_else(|e| panic!("put {key}: {e}"))
}

async fn content(store: &Store, key: &str) -> Vec<u8> {
    read_all(store.get(key).await.unwrap_or_else(|e| panic!("get {key}: {e}"))).await
}

async fn range(store: &Store, key: &str, start: u64, end: u64) -> Result<Vec<u8>, BlobError> {
    Ok(read_all(store.get_range(key, start, end).await?).await)
}

fn keys(list: &[BlobMeta]) -> Vec<&str> {
    list.iter().map(|m| m.key.as_str()).collect()
}

fn check_meta(meta: &BlobMeta, key: &str, data: &[u8]) {
    assert_eq!((meta.key.as_str(), meta.size), (key, data.len() as u64), "metadata of {key}");
    if let Some(sha) = &meta.sha512 {
        assert_eq!(sha, &sha512_hex(data), "sha512 of {key}");
    }
}

pub async fn blob_missing(store: Store) {
    assert!(store.head("no/such").await.unwrap().is_none());
    assert!(matches!(store.get("no/such").await, Err(BlobError::NotFound(k)) if k == "no/such"));
    assert!(matches!(store.get_range("no/such", 0, 1).await, Err(BlobError::NotFound(_))));
    assert!(matches!(store.copy_if_absent("no/such", "to").await, Err(BlobError::NotFound(k)) if k == "no/such"));
    assert!(store.head("to").await.unwrap().is_none(), "a failed copy must not create the target");
    assert!(store.list("", None, 100).await.unwrap().is_empty());
}

pub async fn blob_put_if_absent_once(store: Store) {
    put(&store, "dir/a.txt", b"hello").await;
    let again = store.put_if_absent("dir/a.txt", chunked(b"other content", 3)).await;
    assert!(matches!(&again, Err(BlobError::AlreadyExists(k)) if k == "dir/a.txt"), "second put: {again:?}");
    assert_eq!(content(&store, "dir/a.txt").await, b"hello");
    check_meta(&store.head("dir/a.txt").await.unwrap().unwrap(), "dir/a.txt", b"hello");
}

pub async fn blob_head_meta(store: Store) {
    let data = pseudo_random(100_000, 1);
    let from_put = put(&store, "h/x.bin", &data).await;
    check_meta(&from_put, "h/x.bin", &data);
    let head = store.head("h/x.bin").await.unwrap().expect("head of a stored object");
    check_meta(&head, "h/x.bin", &data);
}

pub async fn blob_empty_object(store: Store) {
    let meta = store.put_if_absent("empty", body_of(vec![])).await.unwrap();
    check_meta(&meta, "empty", b"");
    check_meta(&store.head("empty").await.unwrap().unwrap(), "empty", b"");
    assert!(content(&store, "empty").await.is_empty());
}

/// A multi-MiB body in hundreds of uneven chunks comes back byte for byte.
pub async fn blob_large_chunked(store: Store) {
    let data = pseudo_random(6 * 1024 * 1024 + 123, 2);
    let meta = store.put_if_absent("big/file.tar.gz", chunked(&data, 40_000)).await.unwrap();
    check_meta(&meta, "big/file.tar.gz", &data);
    let back = content(&store, "big/file.tar.gz").await;
    assert!(back == data, "read back {} bytes that differ from the {} written", back.len(), data.len());
}

pub async fn blob_get_range(store: Store) {
    let data = pseudo_random(1000, 3);
    put(&store, "r", &data).await;
    for (start, end) in [(0, 10), (990, 1000), (100, 600), (0, 1000), (500, 500), (1000, 1000)] {
        let got = range(&store, "r", start, end).await.unwrap_or_else(|e| panic!("range {start}..{end}: {e}"));
        assert_eq!(got, &data[start as usize..end as usize], "range {start}..{end}");
    }
    for (start, end) in [(10, 1001), (600, 500), (1001, 1002)] {
        match range(&store, "r", start, end).await {
            Err(BlobError::InvalidRange { key, size, .. }) => assert_eq!((key.as_str(), size), ("r", 1000)),
            other => panic!("range {start}..{end}: expected InvalidRange, got {other:?}"),
        }
    }
}

/// A body that fails midway leaves nothing: no object, no listing, and the key stays free.
pub async fn blob_failed_body_leaves_nothing(store: Store) {
    let good = Bytes::from(pseudo_random(1024 * 1024, 4));
    let failing = futures::stream::iter(vec![
        Ok(good.clone()),
        Ok(good.clone()),
        Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "client went away")),
        Ok(good.clone()),
    ]);
    let result = store.put_if_absent("f/broken", Box::pin(failing)).await;
    assert!(result.is_err(), "a failing body must fail the put");
    assert!(store.head("f/broken").await.unwrap().is_none());
    assert!(store.list("f/", None, 100).await.unwrap().is_empty());
    assert!(matches!(store.get("f/broken").await, Err(BlobError::NotFound(_))));
    put(&store, "f/broken", b"second try").await;
    assert_eq!(content(&store, "f/broken").await, b"second try");
}

pub async fn blob_copy_if_absent(store: Store) {
    let data = pseudo_random(300_000, 5);
    put(&store, "src/a", &data).await;
    put(&store, "dst/taken", b"taken").await;
    let meta = store.copy_if_absent("src/a", "dst/b").await.unwrap();
    check_meta(&meta, "dst/b", &data);
    check_meta(&store.head("dst/b").await.unwrap().unwrap(), "dst/b", &data);
    assert_eq!(content(&store, "dst/b").await, data);
    assert!(matches!(store.copy_if_absent("src/a", "dst/b").await, Err(BlobError::AlreadyExists(k)) if k == "dst/b"));
    assert!(matches!(store.copy_if_absent("src/a", "dst/taken").await, Err(BlobError::AlreadyExists(_))));
    assert_eq!(content(&store, "dst/taken").await, b"taken");
    // The copy does not depend on its source.
    store.delete("src/a").await.unwrap();
    assert_eq!(content(&store, "dst/b").await, data);
}

pub async fn blob_list(store: Store) {
    for key in ["r/c", "r/a", "r/b/2", "r2/x", "s", "r/b0", "r/b/1"] {
        put(&store, key, key.as_bytes()).await;
    }
    let list = |prefix: &'static str, after: Option<&'static str>, limit: usize| {
        let store = store.clone();
        async move { store.list(prefix, after, limit).await.unwrap() }
    };
    // Byte order: '/' (0x2f) sorts before '0' (0x30).
    let all = list("", None, 100).await;
    assert_eq!(keys(&all), ["r/a", "r/b/1", "r/b/2", "r/b0", "r/c", "r2/x", "s"]);
    for meta in &all {
        check_meta(meta, &meta.key, meta.key.as_bytes());
    }
    assert_eq!(keys(&list("r/", None, 100).await), ["r/a", "r/b/1", "r/b/2", "r/b0", "r/c"]);
    assert_eq!(keys(&list("r/b", None, 100).await), ["r/b/1", "r/b/2", "r/b0"]);
    assert_eq!(keys(&list("r/b/", None, 100).await), ["r/b/1", "r/b/2"]);
    assert_eq!(keys(&list("r", None, 100).await), ["r/a", "r/b/1", "r/b/2", "r/b0", "r/c", "r2/x"]);
    assert_eq!(keys(&list("r/", Some("r/b/1"), 2).await), ["r/b/2", "r/b0"]);
    assert_eq!(keys(&list("r/", Some("r/b"), 100).await), ["r/b/1", "r/b/2", "r/b0", "r/c"]);
    assert!(list("nothing/", None, 100).await.is_empty());
    assert!(list("r/", Some("r/c"), 100).await.is_empty());

    // Paging with `after` = last key returned visits every key once.
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = store.list("", after.as_deref(), 2).await.unwrap();
        assert!(page.len() <= 2);
        let Some(last) = page.last() else { break };
        after = Some(last.key.clone());
        seen.extend(page.into_iter().map(|m| m.key));
    }
    assert_eq!(seen, keys(&all));
}

pub async fn blob_delete_idempotent(store: Store) {
    store.delete("d/missing").await.expect("deleting a missing object is not an error");
    put(&store, "d/x", b"one").await;
    store.delete("d/x").await.unwrap();
    assert!(store.head("d/x").await.unwrap().is_none());
    assert!(matches!(store.get("d/x").await, Err(BlobError::NotFound(_))));
    assert!(store.list("d/", None, 10).await.unwrap().is_empty());
    store.delete("d/x").await.expect("deleting twice is not an error");
    put(&store, "d/x", b"two").await;
    assert_eq!(content(&store, "d/x").await, b"two", "a deleted key is free again");
}

pub async fn blob_invalid_keys(store: Store) {
    for key in ["../x", "/abs", "a//b", "a/./b", "a/../b", "", "a/", "a\\b", "a\nb"] {
        let invalid = |r: Result<(), BlobError>, op: &str| {
            assert!(matches!(r, Err(BlobError::InvalidKey { .. })), "{op} {key:?}: expected InvalidKey, got {r:?}");
        };
        invalid(store.put_if_absent(key, chunked(b"x", 1)).await.map(drop), "put");
        invalid(store.head(key).await.map(drop), "head");
        invalid(store.get(key).await.map(drop), "get");
        invalid(store.get_range(key, 0, 1).await.map(drop), "get_range");
        invalid(store.delete(key).await, "delete");
        invalid(store.upload_url(key, now() + 60, 10).await.map(drop), "upload_url");
        put(&store, "valid", b"v").await;
        invalid(store.copy_if_absent("valid", key).await.map(drop), "copy to");
        invalid(store.copy_if_absent(key, "valid2").await.map(drop), "copy from");
        store.delete("valid").await.unwrap();
    }
    assert!(store.list("", None, 100).await.unwrap().is_empty(), "nothing was written");
}

pub async fn blob_upload_url(store: Store) {
    let expires_at = now() + 600;
    let url = store.upload_url("up/file.zip", expires_at, 1 << 20).await.unwrap();
    assert_eq!((url.method.as_str(), url.expires_at), ("PUT", expires_at));
    assert!(url.url.starts_with("http://") || url.url.starts_with("https://"), "not a URL: {}", url.url);
    assert!(store.head("up/file.zip").await.unwrap().is_none(), "an upload URL creates nothing by itself");
}

pub async fn blob_concurrent_put_one_wins(store: Store) {
    let tasks: Vec<_> = (0..16u64)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let data = pseudo_random(200_000, 100 + i);
                (data.clone(), store.put_if_absent("race/k", chunked(&data, 8192)).await)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            (data, Ok(meta)) => {
                check_meta(&meta, "race/k", &data);
                winners.push(data);
            }
            (_, Err(BlobError::AlreadyExists(_))) => {}
            (_, Err(e)) => panic!("unexpected error {e}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one put_if_absent must win");
    assert!(content(&store, "race/k").await == winners[0], "the stored bytes are the winner's");
    assert_eq!(store.list("race/", None, 10).await.unwrap().len(), 1);
}

/// A store in front of another that counts ranged reads and can misreport: `head` adding
/// `head_extra` bytes to the size (an object shorter than its HEAD said), `get_range`
/// answering one byte short (`short_ranges`). For [`blob_range_reader`], and for callers that
/// count the ranged reads a check costs.
pub struct Probe {
    pub inner: Store,
    pub ranged_reads: std::sync::atomic::AtomicUsize,
    pub head_extra: u64,
    pub short_ranges: bool,
}

impl Probe {
    pub fn new(inner: Store) -> Self {
        Probe { inner, ranged_reads: Default::default(), head_extra: 0, short_ranges: false }
    }

    pub fn ranged_reads(&self) -> usize {
        self.ranged_reads.load(std::sync::atomic::Ordering::SeqCst)
    }
}

#[async_trait::async_trait]
impl BlobStore for Probe {
    async fn put_if_absent(&self, key: &str, body: crate::ByteStream) -> Result<BlobMeta, BlobError> {
        self.inner.put_if_absent(key, body).await
    }
    async fn head(&self, key: &str) -> Result<Option<BlobMeta>, BlobError> {
        Ok(self.inner.head(key).await?.map(|m| BlobMeta { size: m.size + self.head_extra, ..m }))
    }
    async fn get(&self, key: &str) -> Result<crate::ByteStream, BlobError> {
        self.inner.get(key).await
    }
    async fn get_range(&self, key: &str, start: u64, end: u64) -> Result<crate::ByteStream, BlobError> {
        self.ranged_reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let end = if self.short_ranges && end > start { end - 1 } else { end };
        self.inner.get_range(key, start, end).await
    }
    async fn copy_if_absent(&self, from: &str, to: &str) -> Result<BlobMeta, BlobError> {
        self.inner.copy_if_absent(from, to).await
    }
    async fn list(&self, prefix: &str, after: Option<&str>, limit: usize) -> Result<Vec<BlobMeta>, BlobError> {
        self.inner.list(prefix, after, limit).await
    }
    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        self.inner.delete(key).await
    }
    async fn upload_url(&self, key: &str, expires_at: i64, max_size: u64) -> Result<crate::UploadUrl, BlobError> {
        self.inner.upload_url(key, expires_at, max_size).await
    }
}

/// [`crate::RangeReader`]: `Read + Seek` over ranged reads, a window per request. Seeks from
/// the start, the end and the current position; reads across window boundaries and served
/// from the window without a request; a read past the end answers nothing; an object shorter
/// than its HEAD said, or a ranged read answering short, is an error, not a short file.
pub async fn blob_range_reader(store: Store) {
    use std::io::{ErrorKind, Read, Seek, SeekFrom};
    let data = pseudo_random(10_000, 9);
    put(&store, "rr/zipish", &data).await;
    put(&store, "rr/empty", b"").await;
    let probe = Arc::new(Probe::new(store.clone()));
    let reader = crate::RangeReader::open(probe.clone(), "rr/zipish", 1000).await.unwrap();
    assert_eq!(reader.len(), 10_000);
    let data = Arc::new(data);
    let (d, p) = (data.clone(), probe.clone());
    // The reader blocks on the runtime: it runs on a blocking thread, as the checks' do.
    tokio::task::spawn_blocking(move || {
        let (data, probe, mut r) = (d, p, reader);
        let mut all = Vec::new();
        r.read_to_end(&mut all).unwrap();
        assert!(all == *data, "read {} bytes that differ from the 10000 stored", all.len());
        assert_eq!(probe.ranged_reads(), 10, "one ranged read per 1000-byte window");

        // A seek into the middle fetches the window from there; a read crossing its end
        // fetches the next one.
        assert_eq!(r.seek(SeekFrom::Start(2500)).unwrap(), 2500);
        let mut buf = vec![0u8; 1500];
        r.read_exact(&mut buf).unwrap();
        assert_eq!(buf, data[2500..4000]);
        assert_eq!(probe.ranged_reads(), 12, "the 1500 bytes from 2500 span two windows");
        r.read_exact(&mut buf[..100]).unwrap();
        assert_eq!(buf[..100], data[4000..4100]);
        assert_eq!(probe.ranged_reads(), 12, "bytes 4000..4100 are in the window just read");
        assert_eq!(r.seek(SeekFrom::Current(-700)).unwrap(), 3400);
        r.read_exact(&mut buf[..10]).unwrap();
        assert_eq!(buf[..10], data[3400..3410]);
        assert_eq!(probe.ranged_reads(), 13, "3400 is before the window [3500, 4500): fetched again");

        // From the end: the window ends at the object's end, so the tail costs one read.
        assert_eq!(r.seek(SeekFrom::End(-22)).unwrap(), 9978);
        let mut tail = Vec::new();
        r.read_to_end(&mut tail).unwrap();
        assert_eq!(tail, data[9978..]);
        assert_eq!(r.seek(SeekFrom::End(-900)).unwrap(), 9100);
        r.read_exact(&mut buf[..50]).unwrap();
        assert_eq!(buf[..50], data[9100..9150]);
        assert_eq!(probe.ranged_reads(), 14, "the window fetched for the last 22 bytes holds the last 1000");

        // Past the end: nothing to read, no request; before the start: an error, position kept.
        assert_eq!(r.seek(SeekFrom::End(5)).unwrap(), 10_005);
        assert_eq!(r.read(&mut buf).unwrap(), 0);
        assert_eq!(r.seek(SeekFrom::Current(-20_000)).unwrap_err().kind(), ErrorKind::InvalidInput);
        assert_eq!(r.stream_position().unwrap(), 10_005);
        assert_eq!(probe.ranged_reads(), 14);
    })
    .await
    .unwrap();

    // An object shorter than its HEAD said: the read that reaches the missing bytes fails.
    let lying = Arc::new(Probe { head_extra: 10, ..Probe::new(store.clone()) });
    let mut r = crate::RangeReader::open(lying, "rr/zipish", 4096).await.unwrap();
    let err = tokio::task::spawn_blocking(move || r.read_to_end(&mut Vec::new())).await.unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedEof, "{err}");
    assert!(err.to_string().contains("rr/zipish"), "{err}");

    // A ranged read answering fewer bytes than asked is an error, not a short window.
    let short = Arc::new(Probe { short_ranges: true, ..Probe::new(store.clone()) });
    let mut r = crate::RangeReader::open(short, "rr/zipish", 4096).await.unwrap();
    let err = tokio::task::spawn_blocking(move || r.read(&mut [0u8; 10])).await.unwrap().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedEof, "{err}");
    assert!(err.to_string().contains("answered 4095 bytes"), "{err}");

    let mut r = crate::RangeReader::open(store.clone(), "rr/empty", 4096).await.unwrap();
    assert_eq!(tokio::task::spawn_blocking(move || r.read(&mut [0u8; 10]).unwrap()).await.unwrap(), 0);
    assert!(matches!(crate::RangeReader::open(store, "rr/none", 4096).await, Err(BlobError::NotFound(_))));
}

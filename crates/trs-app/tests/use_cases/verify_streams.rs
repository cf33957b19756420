//! Verification on a blob store without local files (S3): the checks read each object as a
//! stream when they need its bytes, and not at all when the hash states the store kept serve
//! every check; a zip is inspected through ranged reads; nothing is copied into a temporary
//! folder first.

use async_trait::async_trait;
use sha2::Digest;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use trs_app::test_support::{release, upload_files_to_store, world};
use trs_core::{CheckKind, Outcome};
use trs_storage::{BlobError, BlobMeta, BlobStore, ByteStream, UploadUrl};

/// The embedded store seen as S3 is: no local paths; every `get` and `get_range` counted by
/// key.
struct Remote {
    inner: Arc<dyn BlobStore>,
    gets: Mutex<BTreeMap<String, usize>>,
    ranged: Mutex<BTreeMap<String, usize>>,
}

#[async_trait]
impl BlobStore for Remote {
    async fn put_if_absent(&self, key: &str, body: ByteStream) -> Result<BlobMeta, BlobError> {
        self.inner.put_if_absent(key, body).await
    }
    async fn head(&self, key: &str) -> Result<Option<BlobMeta>, BlobError> {
        self.inner.head(key).await
    }
    async fn get(&self, key: &str) -> Result<ByteStream, BlobError> {
        *self.gets.lock().unwrap().entry(key.to_string()).or_default() += 1;
        self.inner.get(key).await
    }
    async fn get_range(&self, key: &str, start: u64, end: u64) -> Result<ByteStream, BlobError> {
        *self.ranged.lock().unwrap().entry(key.to_string()).or_default() += 1;
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
    async fn upload_url(&self, key: &str, expires_at: i64, max_size: u64) -> Result<UploadUrl, BlobError> {
        self.inner.upload_url(key, expires_at, max_size).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checks_stream_objects_and_skip_those_the_kept_hash_states_serve() {
    use trs_auth::RequestSigner;
    let mut w = world().await;
    let remote = Arc::new(Remote { inner: w.app.blobs.clone(), gets: Default::default(), ranged: Default::default() });
    w.app.blobs = remote.clone();
    let signer = trs_auth::KeyFileSigner::from_cert(&w.rm.tsk, None).unwrap();
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    // A plain file (its checks need only the states at its end), a tar archive (inspected:
    // read once, streamed) and a zip (streamed once for its hashes, inspected by seeking
    // through ranged reads: no temporary file), each signed and summed.
    let artifacts = [
        ("foo-1.0.0.bin", b"plain bytes".to_vec()),
        ("foo-1.0.0.tar.gz", b"not a tar".to_vec()),
        ("foo-1.0.0.zip", b"not a zip".to_vec()),
    ];
    for (name, bytes) in artifacts.clone() {
        let sum = format!("{}  {name}\n", hex::encode(sha2::Sha512::digest(&bytes)));
        files.push((format!("{name}.asc"), signer.sign_detached(&bytes).unwrap()));
        files.push((format!("{name}.sha512"), sum.into_bytes()));
        files.push((name.to_string(), bytes));
    }
    let borrowed: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
    upload_files_to_store(&w.app, &w.rm.caller(), &release(), &borrowed).await;

    let status = trs_app::status::release_status(&w.app, &release()).await.unwrap();
    assert!(status.verified());
    // The artifacts' checks; the sidecars are the evidence, not checked themselves.
    let artifact_names: Vec<&str> = artifacts.iter().map(|(name, _)| *name).collect();
    let checked: Vec<_> = status.files.iter().filter(|f| artifact_names.contains(&f.path.as_str())).collect();
    assert_eq!(checked.len(), artifact_names.len(), "{:#?}", status.files);
    for file in checked {
        let passed = |kind| file.checks.iter().any(|c| c.check == kind && c.result == Outcome::Pass);
        assert!(passed(CheckKind::Signature) && passed(CheckKind::Checksum), "{file:#?}");
    }
    let gets = remote.gets.lock().unwrap().clone();
    let ranged = remote.ranged.lock().unwrap().clone();
    let object_of = |name: &str| {
        let (_, bytes) = files.iter().find(|(n, _)| n == name).unwrap();
        trs_app::storage_keys::file_object(&trs_core::Sha512::from_bytes(sha2::Sha512::digest(bytes).into()))
    };
    let reads_of = |name: &str| gets.get(&object_of(name)).copied().unwrap_or(0);
    let ranged_reads_of = |name: &str| ranged.get(&object_of(name)).copied().unwrap_or(0);
    assert_eq!(reads_of("foo-1.0.0.bin"), 0, "served by the kept states: {gets:?}");
    assert_eq!(reads_of("foo-1.0.0.tar.gz"), 1, "one streamed pass: {gets:?}");
    assert_eq!(reads_of("foo-1.0.0.zip"), 1, "one streamed pass for the hashes: {gets:?}");
    // Its inspection: the whole (small) object in one window; then refused as no zip.
    assert_eq!(ranged_reads_of("foo-1.0.0.zip"), 1, "{ranged:?}");
    assert_eq!(ranged_reads_of("foo-1.0.0.tar.gz"), 0, "a tar is inspected from the pass: {ranged:?}");
    assert_eq!(reads_of("foo-1.0.0.tar.gz.asc"), 1, "{gets:?}");
}

//! [`BlobStore`] on a local folder, for the single-machine deployment.
//!
//! Layout under the store's folder:
//! - `objects/<key>`: the bytes, one file per object, at its key as a path (so operators can
//!   read them and checks can open them directly through [`BlobStore::local_path`]);
//! - `meta/<key>`: a JSON sidecar with size and SHA-512, computed while the bytes streamed in;
//! - `tmp/`: bodies being written, never visible as objects.
//!
//! A put streams into `tmp/`, fsyncs, then *claims* the key by hard-linking a sidecar into
//! `meta/` (hard links fail if the name exists: that is the put-if-absent), then makes the object
//! visible by hard-linking it into `objects/`. An object is visible iff its file exists, and its
//! sidecar always exists first. A crash between the two links leaves a sidecar without object,
//! which [`EmbeddedBlobStore::open`] removes (so one process per folder).
//!
//! Limitation of keeping keys as paths: objects "a" and "a/b" cannot both exist; the second
//! put is refused with [`BlobError::InvalidKey`].

use std::io::{ErrorKind, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use sha2::Digest;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

use super::files::{self, Linked, TmpFile};
use crate::blob::{BlobError, BlobMeta, BlobStore, ByteStream, UploadUrl, check_key};
use crate::intake::Intake;

/// Read buffer for streaming objects out: large enough to keep syscalls rare.
///
/// Objects go out through tokio's `fs::File`, which takes a blocking thread for each read and
/// gives it back between reads, not through a reader thread of their own as `trs upload`
/// sends files (`file_range` in trs-cli, one copy fewer): a download runs as slowly as its
/// client reads, and a thread held per download would let a few hundred slow mirrors use up
/// the blocking pool that the item store and the upload intake run on.
const READ_CHUNK: usize = 256 * 1024;

#[derive(Clone)]
pub struct EmbeddedBlobStore {
    pub(super) inner: Arc<Inner>,
}

pub(super) struct Inner {
    objects: PathBuf,
    meta: PathBuf,
    tmp: PathBuf,
    pub(super) upload_base_url: String,
    pub(super) secret: [u8; 32],
}

#[derive(Serialize, Deserialize)]
struct Sidecar {
    size: u64,
    sha512: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sha512_state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sha256_state: Option<String>,
}

fn io_err(action: &str, path: &Path, e: std::io::Error) -> BlobError {
    BlobError::Io(std::io::Error::new(e.kind(), format!("{action} {}: {e}", path.display())))
}

fn path_conflict(key: &str) -> BlobError {
    BlobError::InvalidKey {
        key: key.to_string(),
        reason: "another object's key is this key's folder or lies inside it (\"a\" and \"a/b\"), \
                 which the embedded store cannot hold at once",
    }
}

impl EmbeddedBlobStore {
    /// Opens (or creates) a store in `dir`. Upload URLs will point at `upload_base_url` and be
    /// signed with `secret`.
    pub fn open(dir: &Path, upload_base_url: String, secret: [u8; 32]) -> Result<Self, BlobError> {
        let inner = Inner {
            objects: dir.join("objects"),
            meta: dir.join("meta"),
            tmp: dir.join("tmp"),
            upload_base_url: upload_base_url.trim_end_matches('/').to_string(),
            secret,
        };
        for d in [&inner.objects, &inner.meta, &inner.tmp] {
            std::fs::create_dir_all(d).map_err(|e| io_err("creating", d, e))?;
        }
        // Leftovers of writes interrupted by a crash: bodies never linked, claims never finished.
        for entry in std::fs::read_dir(&inner.tmp).map_err(|e| io_err("reading", &inner.tmp, e))? {
            let path = entry.map_err(|e| io_err("reading", &inner.tmp, e))?.path();
            std::fs::remove_file(&path).map_err(|e| io_err("removing", &path, e))?;
        }
        for key in walk(&inner.meta, "").map_err(|e| io_err("reading", &inner.meta, e))? {
            if !inner.objects.join(&key).is_file() {
                let orphan = inner.meta.join(&key);
                tracing::warn!(key, "removing the metadata of an object whose write was interrupted");
                std::fs::remove_file(&orphan).map_err(|e| io_err("removing", &orphan, e))?;
                files::prune_empty_parents(&orphan, &inner.meta);
            }
        }
        Ok(Self { inner: Arc::new(inner) })
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Inner) -> Result<T, BlobError> + Send + 'static,
    ) -> Result<T, BlobError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || f(&inner))
            .await
            .map_err(|e| BlobError::Backend(format!("blob store worker thread: {e}")))?
    }

    /// [`BlobStore::put_if_absent`], refusing bodies longer than `limit` with
    /// [`BlobError::TooLarge`] as soon as the excess arrives.
    pub(super) async fn put_limited(
        &self,
        key: &str,
        mut body: ByteStream,
        limit: Option<u64>,
    ) -> Result<BlobMeta, BlobError> {
        check_key(key)?;
        let tmp = TmpFile::new(&self.inner.tmp, "");
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp.path)
            .await
            .map_err(|e| io_err("creating", &tmp.path, e))?
            .into_std()
            .await;
        // The writer and both hashes each on a thread of their own (crate::intake).
        let mut intake = Intake::start(file);
        let mut receive_wait = std::time::Duration::ZERO;
        loop {
            let waiting = std::time::Instant::now();
            let next = body.next().await;
            receive_wait += waiting.elapsed();
            let Some(chunk) = next else { break };
            let chunk = chunk
                .map_err(|e| BlobError::Io(std::io::Error::new(e.kind(), format!("reading the body of {key}: {e}"))))?;
            if let Some(limit) = limit.filter(|l| intake.size() + chunk.len() as u64 > *l) {
                return Err(BlobError::TooLarge { limit });
            }
            if intake.feed(chunk).await.is_err() {
                break; // the writer stopped: `finish` has its error
            }
        }
        let (hashes, timings) = intake.finish(receive_wait).await.map_err(|e| io_err("writing", &tmp.path, e))?;
        timings.log(key, hashes.size);
        let sidecar = Sidecar {
            size: hashes.size,
            sha512_state: Some(crate::blob::hash_state::encode(&hashes.sha512)),
            sha256_state: Some(crate::blob::hash_state::encode(&hashes.sha256)),
            sha512: Some(hex::encode(hashes.sha512.finalize())),
        };
        let key = key.to_string();
        // In one blocking task so that cancelling the caller cannot stop between the links.
        self.blocking(move |inner| {
            inner.publish(&key, &tmp.path, &sidecar)?;
            Ok(BlobMeta {
                key,
                size: sidecar.size,
                sha512: sidecar.sha512,
                sha512_state: sidecar.sha512_state,
                sha256_state: sidecar.sha256_state,
            })
        })
        .await
    }
}

impl Inner {
    /// Claims `key` with its sidecar, then makes `data` visible under it.
    fn publish(&self, key: &str, data: &Path, sidecar: &Sidecar) -> Result<(), BlobError> {
        let meta_tmp = TmpFile::new(&self.tmp, ".meta");
        let json = serde_json::to_vec(sidecar).map_err(|e| BlobError::Backend(e.to_string()))?;
        files::write_new_synced(&meta_tmp.path, &json).map_err(|e| io_err("writing", &meta_tmp.path, e))?;
        let meta_path = self.meta.join(key);
        match files::link_new(&meta_tmp.path, &meta_path, &self.meta).map_err(|e| io_err("linking", &meta_path, e))? {
            Linked::Done => {}
            Linked::Exists => return Err(BlobError::AlreadyExists(key.to_string())),
            Linked::PathConflict => return Err(path_conflict(key)),
        }
        let object = self.objects.join(key);
        let linked = files::link_new(data, &object, &self.objects);
        if !matches!(linked, Ok(Linked::Done)) {
            // Release the claim so the key stays free.
            let _ = std::fs::remove_file(&meta_path);
            files::prune_empty_parents(&meta_path, &self.meta);
        }
        match linked.map_err(|e| io_err("linking", &object, e))? {
            Linked::Done => Ok(()),
            Linked::Exists => Err(BlobError::AlreadyExists(key.to_string())),
            Linked::PathConflict => Err(path_conflict(key)),
        }
    }

    fn head(&self, key: &str) -> Result<Option<BlobMeta>, BlobError> {
        let object = self.objects.join(key);
        let stat = match std::fs::metadata(&object) {
            Ok(m) if m.is_file() => m,
            Ok(_) => return Ok(None),
            Err(e) if e.kind() == ErrorKind::NotFound || e.kind() == ErrorKind::NotADirectory => return Ok(None),
            Err(e) => return Err(io_err("reading", &object, e)),
        };
        let sidecar = std::fs::read(self.meta.join(key)).ok().and_then(|b| serde_json::from_slice::<Sidecar>(&b).ok());
        // Only a delete racing this read leaves an object without sidecar; its size is still known.
        let sidecar =
            sidecar.unwrap_or(Sidecar { size: stat.len(), sha512: None, sha512_state: None, sha256_state: None });
        Ok(Some(BlobMeta {
            key: key.to_string(),
            size: sidecar.size,
            sha512: sidecar.sha512,
            sha512_state: sidecar.sha512_state,
            sha256_state: sidecar.sha256_state,
        }))
    }

    fn copy(&self, from: &str, to: &str) -> Result<BlobMeta, BlobError> {
        let meta = self.head(from)?.ok_or_else(|| BlobError::NotFound(from.to_string()))?;
        let sidecar = Sidecar {
            size: meta.size,
            sha512: meta.sha512.clone(),
            sha512_state: meta.sha512_state.clone(),
            sha256_state: meta.sha256_state.clone(),
        };
        // Objects never change, so the copy can share the original's bytes.
        match self.publish(to, &self.objects.join(from), &sidecar) {
            Err(BlobError::Io(e)) if e.kind() == ErrorKind::NotFound => Err(BlobError::NotFound(from.to_string())),
            Err(e) => Err(e),
            Ok(()) => Ok(BlobMeta { key: to.to_string(), ..meta }),
        }
    }

    fn delete(&self, key: &str) -> Result<(), BlobError> {
        let object = self.objects.join(key);
        // Without an object, a sidecar is an in-flight put's claim: not ours to remove.
        if files::remove_file_if_present(&object).map_err(|e| io_err("removing", &object, e))? {
            files::prune_empty_parents(&object, &self.objects);
            let meta = self.meta.join(key);
            files::remove_file_if_present(&meta).map_err(|e| io_err("removing", &meta, e))?;
            files::prune_empty_parents(&meta, &self.meta);
        }
        Ok(())
    }

    fn list(&self, prefix: &str, after: Option<&str>, limit: usize) -> Result<Vec<BlobMeta>, BlobError> {
        // Only the folder part of the prefix needs walking.
        let folder = prefix.rfind('/').map_or("", |i| &prefix[..i]);
        if !folder.is_empty() {
            check_key(folder)?;
        }
        let mut keys = walk(&self.objects, folder)
            .map_err(|e| io_err("listing", &self.objects.join(folder), e))?
            .into_iter()
            .filter(|k| k.starts_with(prefix) && after.is_none_or(|a| k.as_str() > a))
            .collect::<Vec<_>>();
        keys.sort_unstable();
        let mut out = Vec::new();
        for key in keys {
            if out.len() == limit {
                break;
            }
            // Skips objects deleted since the walk.
            if let Some(meta) = self.head(&key)? {
                out.push(meta);
            }
        }
        Ok(out)
    }
}

/// Keys of all files under `root/folder`, as `/`-joined paths relative to `root`.
fn walk(root: &Path, folder: &str) -> std::io::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut pending = vec![folder.to_string()];
    while let Some(dir) = pending.pop() {
        let entries = match std::fs::read_dir(root.join(&dir)) {
            Ok(entries) => entries,
            Err(e) if e.kind() == ErrorKind::NotFound || e.kind() == ErrorKind::NotADirectory => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            let Ok(name) = entry.file_name().into_string() else { continue };
            let key = if dir.is_empty() { name } else { format!("{dir}/{name}") };
            let kind = entry.file_type()?;
            if kind.is_dir() {
                pending.push(key);
            } else if kind.is_file() {
                out.push(key);
            }
        }
    }
    Ok(out)
}

#[async_trait]
impl BlobStore for EmbeddedBlobStore {
    async fn put_if_absent(&self, key: &str, body: ByteStream) -> Result<BlobMeta, BlobError> {
        self.put_limited(key, body, None).await
    }

    async fn head(&self, key: &str) -> Result<Option<BlobMeta>, BlobError> {
        check_key(key)?;
        let key = key.to_string();
        self.blocking(move |inner| inner.head(&key)).await
    }

    async fn get(&self, key: &str) -> Result<ByteStream, BlobError> {
        let (file, _) = self.open_object(key).await?;
        Ok(ReaderStream::with_capacity(file, READ_CHUNK).boxed())
    }

    async fn get_range(&self, key: &str, start: u64, end: u64) -> Result<ByteStream, BlobError> {
        let (mut file, size) = self.open_object(key).await?;
        if start > end || end > size {
            return Err(BlobError::InvalidRange { key: key.to_string(), start, end, size });
        }
        let path = self.inner.objects.join(key);
        file.seek(SeekFrom::Start(start)).await.map_err(|e| io_err("seeking in", &path, e))?;
        Ok(ReaderStream::with_capacity(file.take(end - start), READ_CHUNK).boxed())
    }

    async fn copy_if_absent(&self, from: &str, to: &str) -> Result<BlobMeta, BlobError> {
        check_key(from)?;
        check_key(to)?;
        let (from, to) = (from.to_string(), to.to_string());
        self.blocking(move |inner| inner.copy(&from, &to)).await
    }

    async fn list(&self, prefix: &str, after: Option<&str>, limit: usize) -> Result<Vec<BlobMeta>, BlobError> {
        let (prefix, after) = (prefix.to_string(), after.map(str::to_string));
        self.blocking(move |inner| inner.list(&prefix, after.as_deref(), limit)).await
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        check_key(key)?;
        let key = key.to_string();
        self.blocking(move |inner| inner.delete(&key)).await
    }

    async fn upload_url(&self, key: &str, expires_at: i64, max_size: u64) -> Result<UploadUrl, BlobError> {
        check_key(key)?;
        let token = super::upload::sign(&self.inner.secret, key, expires_at, max_size);
        Ok(UploadUrl {
            method: "PUT".into(),
            url: format!("{}/api/v1/blob-upload/{token}", self.inner.upload_base_url),
            headers: vec![],
            expires_at,
        })
    }

    fn local_path(&self, key: &str) -> Option<PathBuf> {
        let path = self.inner.objects.join(key);
        (check_key(key).is_ok() && path.is_file()).then_some(path)
    }
}

impl EmbeddedBlobStore {
    async fn open_object(&self, key: &str) -> Result<(tokio::fs::File, u64), BlobError> {
        check_key(key)?;
        let path = self.inner.objects.join(key);
        let file = match tokio::fs::File::open(&path).await {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound || e.kind() == ErrorKind::NotADirectory => {
                return Err(BlobError::NotFound(key.to_string()));
            }
            Err(e) => return Err(io_err("opening", &path, e)),
        };
        let stat = file.metadata().await.map_err(|e| io_err("reading", &path, e))?;
        if !stat.is_file() {
            return Err(BlobError::NotFound(key.to_string()));
        }
        Ok((file, stat.len()))
    }
}

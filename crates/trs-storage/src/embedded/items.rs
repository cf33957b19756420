//! [`ItemStore`] on one redb file, for the single-machine deployment.
//!
//! Every write (put, delete, transact) is one redb write transaction. redb runs write
//! transactions one at a time, so conditions checked inside one cannot be invalidated before it
//! commits: that is what makes `VersionIs` safe under concurrency. Reads use read transactions,
//! which see a consistent snapshot without blocking writers.
//!
//! A full disk does not take the store down until a restart: after redb reports an I/O
//! failure it refuses every later call ("Previous I/O error"), so the store closes the
//! database and opens it again before the next call, and answers
//! [`StoreError::InsufficientStorage`] while the disk has no room (reads too, if the file
//! cannot be opened again until then). [`ItemStore::health`] says so, and probes whether room
//! came back. [`DiskFaults`] makes the disk "full" on purpose, at redb's I/O layer, for tests.
//!
//! Pagination of `query_gsi1` continues after an index sort key, so index sort keys should be
//! unique within an index partition (items sharing one could be skipped across a page boundary;
//! DynamoDB has the same caveat with its own cursor).

use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use async_trait::async_trait;
use redb::backends::FileBackend;
use redb::{
    BackendError, Builder, Database, ReadableDatabase, ReadableTable, StorageBackend, TableDefinition, WriteTransaction,
};

use super::keys::{self, End};
use crate::item::{
    Condition, Item, ItemStore, Key, Page, Query, StoreError, WriteOp, validate_transaction, validate_write,
};

/// `keys::encode(key)` -> the item as JSON.
const ITEMS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("items");
/// `keys::encode_index(gsi1, key)` -> nothing; the item itself is read from [`ITEMS`].
const GSI1: TableDefinition<&[u8], ()> = TableDefinition::new("gsi1");

#[derive(Clone)]
pub struct EmbeddedItemStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    disk: Option<Arc<DiskFaults>>,
    /// The open database; `None` once a failure of the storage layer closed it, until it is
    /// opened again.
    db: RwLock<Option<Database>>,
    /// Why writes are refused (the disk is full), until a write succeeds again.
    full: Mutex<Option<String>>,
}

/// What redb reports when the disk is full: `ENOSPC` (or a quota, `EDQUOT`).
fn is_disk_full(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::StorageFull
        || e.kind() == std::io::ErrorKind::QuotaExceeded
        || e.raw_os_error() == Some(28)
}

/// A redb failure as a store error: a full disk is [`StoreError::InsufficientStorage`].
fn backend(what: &str, e: impl Into<redb::Error>) -> StoreError {
    match e.into() {
        redb::Error::Io(io) if is_disk_full(&io) => {
            StoreError::InsufficientStorage(format!("{what}: the disk holding the item store is full ({io})"))
        }
        other => StoreError::Backend(format!("{what}: {other}")),
    }
}

/// Whether an error leaves the database unusable until it is opened again (redb answers
/// "Previous I/O error" to every call after a failed write or sync).
fn closes_database(e: &StoreError) -> bool {
    matches!(e, StoreError::Backend(_) | StoreError::InsufficientStorage(_))
}

impl Inner {
    fn open_database(&self) -> Result<Database, StoreError> {
        let what = format!("opening {}", self.path.display());
        let db = match &self.disk {
            None => Database::create(&self.path).map_err(|e| backend(&what, e))?,
            Some(faults) => {
                let file = std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create(true)
                    .truncate(false)
                    .open(&self.path)
                    .map_err(|e| backend(&what, e))?;
                let backend_ = FaultyDisk {
                    inner: FileBackend::new(file).map_err(|e| backend(&what, e))?,
                    faults: faults.clone(),
                };
                Builder::new().create_with_backend(backend_).map_err(|e| backend(&what, e))?
            }
        };
        // Read transactions cannot open tables that were never created.
        let txn = db.begin_write().map_err(|e| backend("starting a write transaction", e))?;
        txn.open_table(ITEMS).map_err(|e| backend("creating the items table", e))?;
        txn.open_table(GSI1).map_err(|e| backend("creating the gsi1 table", e))?;
        txn.commit().map_err(|e| backend("committing", e))?;
        Ok(db)
    }

    /// Runs `f` on the open database, opening it again first if a failure closed it. A
    /// failure of the storage layer closes it (the next call opens it again); a full disk is
    /// remembered for [`ItemStore::health`] until a write succeeds.
    fn with_db<T>(&self, write: bool, f: impl FnOnce(&Database) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let result = {
            let guard = self.db.read().unwrap_or_else(|p| p.into_inner());
            match guard.as_ref() {
                Some(db) => f(db),
                None => {
                    drop(guard);
                    self.reopen()?;
                    return self.with_db(write, f);
                }
            }
        };
        match &result {
            Err(e) if closes_database(e) => {
                if let StoreError::InsufficientStorage(reason) = e {
                    *self.full.lock().unwrap_or_else(|p| p.into_inner()) = Some(reason.clone());
                }
                tracing::error!(error = %e, "item store failed; closing it, to open it again at the next call");
                *self.db.write().unwrap_or_else(|p| p.into_inner()) = None;
            }
            Ok(_) if write => *self.full.lock().unwrap_or_else(|p| p.into_inner()) = None,
            _ => {}
        }
        result
    }

    /// Opens the database again unless another call did meanwhile. While the disk is still
    /// full this fails too (redb writes when it opens a file that was not closed cleanly), and
    /// the caller gets that error: the store refuses cleanly until room comes back.
    fn reopen(&self) -> Result<(), StoreError> {
        let mut slot = self.db.write().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            let db = self.open_database().inspect_err(|e| {
                if let StoreError::InsufficientStorage(reason) = e {
                    *self.full.lock().unwrap_or_else(|p| p.into_inner()) = Some(reason.clone());
                }
            })?;
            tracing::info!(path = %self.path.display(), "item store opened again");
            *slot = Some(db);
        }
        Ok(())
    }
}

/// A disk that fills up on demand, at redb's I/O layer (the file itself stays as it is): for
/// tests that the store and everything above it survive `ENOSPC` without a restart.
#[derive(Debug, Default)]
pub struct DiskFaults {
    full: AtomicBool,
}

impl DiskFaults {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// From now on every write, sync and growth of the file fails with `ENOSPC`.
    pub fn fill(&self) {
        self.full.store(true, Ordering::SeqCst);
    }

    /// Room again.
    pub fn free(&self) {
        self.full.store(false, Ordering::SeqCst);
    }

    fn check(&self) -> std::io::Result<()> {
        if self.full.load(Ordering::SeqCst) {
            return Err(std::io::Error::from_raw_os_error(28));
        }
        Ok(())
    }
}

#[derive(Debug)]
struct FaultyDisk {
    inner: FileBackend,
    faults: Arc<DiskFaults>,
}

impl StorageBackend for FaultyDisk {
    fn len(&self) -> Result<u64, std::io::Error> {
        self.inner.len()
    }
    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), std::io::Error> {
        self.inner.read(offset, out)
    }
    fn set_len(&self, len: u64) -> Result<(), std::io::Error> {
        if len > self.inner.len()? {
            self.faults.check()?;
        }
        self.inner.set_len(len)
    }
    fn sync_data(&self) -> Result<(), std::io::Error> {
        self.faults.check()?;
        self.inner.sync_data()
    }
    fn write(&self, offset: u64, data: &[u8]) -> Result<(), std::io::Error> {
        self.faults.check()?;
        self.inner.write(offset, data)
    }
    fn close(&self) -> Result<(), std::io::Error> {
        self.inner.close()
    }
    fn try_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.inner.try_lock_range(start, end)
    }
    fn try_lock_shared_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.inner.try_lock_shared_range(start, end)
    }
    fn lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.inner.lock_range(start, end)
    }
    fn lock_shared_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.inner.lock_shared_range(start, end)
    }
    fn unlock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.inner.unlock_range(start, end)
    }
    fn query_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.inner.query_lock_range(start, end)
    }
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

fn is_live(item: &Item, now: i64) -> bool {
    crate::item::is_live(item.expires_at, now)
}

fn decode_item(bytes: &[u8], key: &Key) -> Result<Item, StoreError> {
    serde_json::from_slice(bytes)
        .map_err(|e| StoreError::Corrupt { key: key.clone(), reason: format!("stored item is not valid JSON: {e}") })
}

impl EmbeddedItemStore {
    /// Opens (or creates) the database file at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_inner(path, None)
    }

    /// [`EmbeddedItemStore::open`] on a disk that `faults` can fill up (tests).
    pub fn open_with_disk_faults(path: &Path, faults: Arc<DiskFaults>) -> Result<Self, StoreError> {
        Self::open_inner(path, Some(faults))
    }

    fn open_inner(path: &Path, disk: Option<Arc<DiskFaults>>) -> Result<Self, StoreError> {
        let inner = Inner { path: path.to_path_buf(), disk, db: RwLock::new(None), full: Mutex::new(None) };
        let db = inner.open_database()?;
        *inner.db.write().unwrap_or_else(|p| p.into_inner()) = Some(db);
        Ok(Self { inner: Arc::new(inner) })
    }

    /// Physically removes expired items and their index entries (reads already ignore them);
    /// returns how many were removed. Meant to be run now and then, like DynamoDB's TTL sweeper.
    pub async fn purge_expired(&self) -> Result<usize, StoreError> {
        self.blocking(true, |db| {
            let now = now();
            let txn = db.begin_write().map_err(|e| backend("starting a write transaction", e))?;
            let mut removed = 0;
            {
                let mut items = txn.open_table(ITEMS).map_err(|e| backend("opening items", e))?;
                let mut index = txn.open_table(GSI1).map_err(|e| backend("opening gsi1", e))?;
                let mut expired = Vec::new();
                for entry in items.iter().map_err(|e| backend("scanning items", e))? {
                    let (k, v) = entry.map_err(|e| backend("scanning items", e))?;
                    let item = decode_item(v.value(), &keys::decode(k.value()))?;
                    if !is_live(&item, now) {
                        expired.push(item);
                    }
                }
                for item in expired {
                    items.remove(keys::encode(&item.key).as_slice()).map_err(|e| backend("removing", e))?;
                    if let Some(g) = &item.gsi1 {
                        index
                            .remove(keys::encode_index(g, &item.key).as_slice())
                            .map_err(|e| backend("removing", e))?;
                    }
                    removed += 1;
                }
            }
            txn.commit().map_err(|e| backend("committing", e))?;
            Ok(removed)
        })
        .await
    }

    async fn blocking<T: Send + 'static>(
        &self,
        write: bool,
        f: impl FnOnce(&Database) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || inner.with_db(write, f))
            .await
            .map_err(|e| StoreError::Backend(format!("item store worker thread: {e}")))?
    }

    /// Applies `ops` in one write transaction; `single` selects the error a failed condition
    /// reports (a lone put/delete fails with `ConditionFailed`, a transaction is cancelled).
    async fn write(&self, ops: Vec<WriteOp>, single: bool) -> Result<(), StoreError> {
        self.blocking(true, move |db| {
            let txn = db.begin_write().map_err(|e| backend("starting a write transaction", e))?;
            match apply(&txn, &ops, single) {
                Ok(()) => txn.commit().map_err(|e| backend("committing", e)),
                Err(e) => {
                    txn.abort().map_err(|e| backend("aborting", e))?;
                    Err(e)
                }
            }
        })
        .await
    }
}

fn holds(condition: Condition, current: Option<&Item>) -> bool {
    match condition {
        Condition::None => true,
        Condition::Absent => current.is_none(),
        Condition::VersionIs(v) => current.is_some_and(|i| i.version == v),
    }
}

fn apply(txn: &WriteTransaction, ops: &[WriteOp], single: bool) -> Result<(), StoreError> {
    let now = now();
    let mut items = txn.open_table(ITEMS).map_err(|e| backend("opening items", e))?;
    let mut index = txn.open_table(GSI1).map_err(|e| backend("opening gsi1", e))?;
    // All conditions first: ops touch distinct keys, so one op's write cannot affect another's
    // condition, and checking up front keeps a cancelled transaction from writing anything.
    let mut stored = Vec::with_capacity(ops.len());
    for (i, op) in ops.iter().enumerate() {
        let key = op.key();
        let raw = items.get(keys::encode(key).as_slice()).map_err(|e| backend("reading", e))?;
        let current = raw.map(|g| decode_item(g.value(), key)).transpose()?;
        let live = current.as_ref().filter(|c| is_live(c, now));
        let condition = match op {
            WriteOp::Put { condition, .. } | WriteOp::Delete { condition, .. } | WriteOp::Check { condition, .. } => {
                *condition
            }
        };
        if !holds(condition, live) {
            return Err(if single {
                StoreError::ConditionFailed { key: key.clone() }
            } else {
                StoreError::TransactionCancelled { index: i, key: key.clone() }
            });
        }
        stored.push(current);
    }
    for (op, current) in ops.iter().zip(stored) {
        // Expired items still hold index entries until overwritten, so clean up regardless.
        let old_index = current.and_then(|c| c.gsi1.map(|g| keys::encode_index(&g, &c.key)));
        match op {
            WriteOp::Check { .. } => {}
            WriteOp::Delete { key, .. } => {
                items.remove(keys::encode(key).as_slice()).map_err(|e| backend("deleting", e))?;
                if let Some(old) = old_index {
                    index.remove(old.as_slice()).map_err(|e| backend("deleting index entry", e))?;
                }
            }
            WriteOp::Put { item, .. } => {
                let new_index = item.gsi1.as_ref().map(|g| keys::encode_index(g, &item.key));
                if let Some(old) = old_index.filter(|o| Some(o) != new_index.as_ref()) {
                    index.remove(old.as_slice()).map_err(|e| backend("deleting index entry", e))?;
                }
                let json = serde_json::to_vec(item).map_err(|e| StoreError::Invalid(e.to_string()))?;
                items.insert(keys::encode(&item.key).as_slice(), json.as_slice()).map_err(|e| backend("writing", e))?;
                if let Some(new) = new_index {
                    index.insert(new.as_slice(), ()).map_err(|e| backend("writing index entry", e))?;
                }
            }
        }
    }
    Ok(())
}

/// Reads at most `query.limit` live entries of `table` in the query's range; `item_of` turns
/// an entry into (its sort key, the item), or `None` if it no longer points at a live item.
fn scan<V: redb::Value + 'static>(
    table: &impl ReadableTable<&'static [u8], V>,
    query: &Query,
    mut item_of: impl FnMut(&[u8], V::SelfType<'_>) -> Result<Option<(String, Item)>, StoreError>,
) -> Result<Page, StoreError> {
    crate::item::validate_query(query)?;
    let Some((lower, upper)) = keys::query_range(query) else {
        return Ok(Page { items: vec![], next: None });
    };
    let range =
        table.range::<&[u8]>((End::bound(&lower), End::bound(&upper))).map_err(|e| backend("reading a range", e))?;
    let entries: Box<dyn Iterator<Item = _>> = if query.reverse { Box::new(range.rev()) } else { Box::new(range) };
    let mut items = Vec::new();
    let mut last_sort_key = None;
    for entry in entries {
        let (k, v) = entry.map_err(|e| backend("reading a range", e))?;
        let Some((sort_key, item)) = item_of(k.value(), v.value())? else { continue };
        if items.len() == query.limit {
            // One more live item exists, so the caller needs a cursor.
            return Ok(Page { items, next: last_sort_key });
        }
        last_sort_key = Some(sort_key);
        items.push(item);
    }
    Ok(Page { items, next: None })
}

#[async_trait]
impl ItemStore for EmbeddedItemStore {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        keys::check_key(key, "item")?;
        let encoded = keys::encode(key);
        let key = key.clone();
        self.blocking(false, move |db| {
            let txn = db.begin_read().map_err(|e| backend("starting a read transaction", e))?;
            let table = txn.open_table(ITEMS).map_err(|e| backend("opening items", e))?;
            let raw = table.get(encoded.as_slice()).map_err(|e| backend("reading", e))?;
            let item = raw.map(|g| decode_item(g.value(), &key)).transpose()?;
            Ok(item.filter(|i| is_live(i, now())))
        })
        .await
    }

    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        let op = WriteOp::Put { item, condition };
        validate_write(&op)?;
        self.write(vec![op], true).await
    }

    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError> {
        let op = WriteOp::Delete { key: key.clone(), condition };
        validate_write(&op)?;
        self.write(vec![op], true).await
    }

    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        validate_transaction(&ops)?;
        if ops.is_empty() {
            return Ok(());
        }
        self.write(ops, false).await
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        self.blocking(false, move |db| {
            let now = now();
            let txn = db.begin_read().map_err(|e| backend("starting a read transaction", e))?;
            let table = txn.open_table(ITEMS).map_err(|e| backend("opening items", e))?;
            scan(&table, &query, |k, v| {
                let item = decode_item(v, &keys::decode(k))?;
                Ok(is_live(&item, now).then(|| (item.key.sk.clone(), item)))
            })
        })
        .await
    }

    async fn health(&self) -> Result<(), StoreError> {
        let full = self.inner.full.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if full.is_none() {
            return Ok(());
        }
        // Was full: an empty commit writes and syncs, so it succeeds only once there is room.
        self.blocking(true, |db| {
            let txn = db.begin_write().map_err(|e| backend("starting a write transaction", e))?;
            txn.commit().map_err(|e| backend("committing", e))
        })
        .await
    }

    async fn query_gsi1(&self, query: Query) -> Result<Page, StoreError> {
        self.blocking(false, move |db| {
            let now = now();
            let txn = db.begin_read().map_err(|e| backend("starting a read transaction", e))?;
            let items = txn.open_table(ITEMS).map_err(|e| backend("opening items", e))?;
            let index = txn.open_table(GSI1).map_err(|e| backend("opening gsi1", e))?;
            scan(&index, &query, |k, ()| {
                let (sort_key, base) = keys::decode_index(k).ok_or_else(|| StoreError::Corrupt {
                    key: Key::new(query.pk.clone(), "?"),
                    reason: "malformed gsi1 index entry".into(),
                })?;
                let raw = items.get(keys::encode(&base).as_slice()).map_err(|e| backend("reading", e))?;
                let item = raw.map(|g| decode_item(g.value(), &base)).transpose()?;
                Ok(item.filter(|i| is_live(i, now)).map(|i| (sort_key, i)))
            })
        })
        .await
    }
}

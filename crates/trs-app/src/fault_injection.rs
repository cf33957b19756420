//! Stores that fail on purpose, for tests that an operation interrupted at any step is
//! finished by running it again. Wrap the real stores, count calls, and make the Nth call
//! fail either before it reaches the store (the write never happened) or after (the write
//! happened but the caller never heard: the harder case, as with a timeout). And
//! [`ObservedItems`], which shows a test every item-store call and lets it fail a chosen one.

use async_trait::async_trait;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use trs_storage::{
    BlobError, BlobMeta, BlobStore, ByteStream, Condition, Item, ItemStore, Key, Page, Query, StoreError, UploadUrl,
    WriteOp,
};

/// Where the injected fault strikes the failing call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strike {
    /// The call fails without touching the store.
    Before,
    /// The call is performed, then reported as failed.
    After,
}

/// The shared call counter of a pair of faulty stores.
#[derive(Debug)]
pub struct Faults {
    calls: AtomicUsize,
    fail_at: usize,
    strike: Strike,
}

impl Faults {
    /// Fails call number `fail_at` (0-based, counting item and blob calls together), once.
    pub fn new(fail_at: usize, strike: Strike) -> Arc<Self> {
        Arc::new(Faults { calls: AtomicUsize::new(0), fail_at, strike })
    }

    /// Calls seen so far; a run that saw fewer calls than `fail_at` met no fault.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    fn this_call_fails(&self) -> bool {
        self.calls.fetch_add(1, Ordering::SeqCst) == self.fail_at
    }
}

const INJECTED: &str = "injected fault";

pub struct FaultyItems {
    pub inner: Arc<dyn ItemStore>,
    pub faults: Arc<Faults>,
}

impl FaultyItems {
    async fn call<T>(&self, op: impl Future<Output = Result<T, StoreError>>) -> Result<T, StoreError> {
        if !self.faults.this_call_fails() {
            return op.await;
        }
        if self.faults.strike == Strike::After {
            op.await?;
        }
        Err(StoreError::Backend(INJECTED.into()))
    }
}

#[async_trait]
impl ItemStore for FaultyItems {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.call(self.inner.get(key)).await
    }
    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        self.call(self.inner.put(item, condition)).await
    }
    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError> {
        self.call(self.inner.delete(key, condition)).await
    }
    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        self.call(self.inner.transact(ops)).await
    }
    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        self.call(self.inner.query(query)).await
    }
    async fn query_gsi1(&self, query: Query) -> Result<Page, StoreError> {
        self.call(self.inner.query_gsi1(query)).await
    }
}

pub struct FaultyBlobs {
    pub inner: Arc<dyn BlobStore>,
    pub faults: Arc<Faults>,
}

impl FaultyBlobs {
    async fn call<T>(&self, op: impl Future<Output = Result<T, BlobError>>) -> Result<T, BlobError> {
        if !self.faults.this_call_fails() {
            return op.await;
        }
        if self.faults.strike == Strike::After {
            op.await?;
        }
        Err(BlobError::Backend(INJECTED.into()))
    }
}

#[async_trait]
impl BlobStore for FaultyBlobs {
    async fn put_if_absent(&self, key: &str, body: ByteStream) -> Result<BlobMeta, BlobError> {
        self.call(self.inner.put_if_absent(key, body)).await
    }
    async fn head(&self, key: &str) -> Result<Option<BlobMeta>, BlobError> {
        self.call(self.inner.head(key)).await
    }
    async fn get(&self, key: &str) -> Result<ByteStream, BlobError> {
        self.call(self.inner.get(key)).await
    }
    async fn get_range(&self, key: &str, start: u64, end: u64) -> Result<ByteStream, BlobError> {
        self.call(self.inner.get_range(key, start, end)).await
    }
    async fn copy_if_absent(&self, from: &str, to: &str) -> Result<BlobMeta, BlobError> {
        self.call(self.inner.copy_if_absent(from, to)).await
    }
    async fn list(&self, prefix: &str, after: Option<&str>, limit: usize) -> Result<Vec<BlobMeta>, BlobError> {
        self.call(self.inner.list(prefix, after, limit)).await
    }
    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        self.call(self.inner.delete(key)).await
    }
    async fn upload_url(&self, key: &str, expires_at: i64, max_size: u64) -> Result<UploadUrl, BlobError> {
        self.call(self.inner.upload_url(key, expires_at, max_size)).await
    }
    fn local_path(&self, key: &str) -> Option<std::path::PathBuf> {
        self.inner.local_path(key)
    }
}

/// `app` with both stores wrapped to fail at one call.
pub fn faulty_app(app: &crate::App, faults: &Arc<Faults>) -> crate::App {
    crate::App {
        items: Arc::new(FaultyItems { inner: app.items.clone(), faults: faults.clone() }),
        blobs: Arc::new(FaultyBlobs { inner: app.blobs.clone(), faults: faults.clone() }),
        ..app.clone()
    }
}

/// One call an [`ObservedItems`] store sees, before it reaches the store.
#[derive(Debug)]
pub enum ItemCall<'a> {
    Get(&'a Key),
    Put(&'a Item),
    Delete(&'a Key),
    Transact(&'a [WriteOp]),
    Query(&'a Query),
    QueryGsi1(&'a Query),
}

/// What a test does with each call: note it, and answer `Some(error)` to fail it without
/// touching the store (a lost race, an outage) or `None` to let it through.
pub type Observer = Box<dyn Fn(ItemCall<'_>) -> Option<StoreError> + Send + Sync>;

/// The item store with an [`Observer`] in front of every call: the one delegating wrapper for
/// tests that count what an operation reads or make a chosen call fail.
pub struct ObservedItems {
    pub inner: Arc<dyn ItemStore>,
    pub observer: Observer,
}

impl ObservedItems {
    pub fn new(
        inner: Arc<dyn ItemStore>,
        observer: impl Fn(ItemCall<'_>) -> Option<StoreError> + Send + Sync + 'static,
    ) -> Self {
        ObservedItems { inner, observer: Box::new(observer) }
    }

    fn check(&self, call: ItemCall<'_>) -> Result<(), StoreError> {
        (self.observer)(call).map_or(Ok(()), Err)
    }
}

#[async_trait]
impl ItemStore for ObservedItems {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.check(ItemCall::Get(key))?;
        self.inner.get(key).await
    }
    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        self.check(ItemCall::Put(&item))?;
        self.inner.put(item, condition).await
    }
    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError> {
        self.check(ItemCall::Delete(key))?;
        self.inner.delete(key, condition).await
    }
    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        self.check(ItemCall::Transact(&ops))?;
        self.inner.transact(ops).await
    }
    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        self.check(ItemCall::Query(&query))?;
        self.inner.query(query).await
    }
    async fn query_gsi1(&self, query: Query) -> Result<Page, StoreError> {
        self.check(ItemCall::QueryGsi1(&query))?;
        self.inner.query_gsi1(query).await
    }
}

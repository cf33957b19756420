//! The item store: DynamoDB's semantics, written small.
//!
//! Items live in partitions (`pk`) ordered by sort key (`sk`). An item carries a `version` that
//! the application bumps on every write; a write conditioned on [`Condition::VersionIs`] fails if
//! anyone else wrote in between, which is how many Lambda instances at once never lose an update.
//! One secondary index (`gsi1`) maps a second partition/sort pair to the item.
//! Items with `expires_at` in the past are invisible to reads (DynamoDB's TTL deletes them
//! eventually; readers must not depend on when).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// Largest number of operations in one [`ItemStore::transact`] (DynamoDB's limit is 100;
/// domain code must be designed to stay below it).
pub const MAX_TRANSACTION_ITEMS: usize = 100;

/// Largest item body, as serialised JSON (DynamoDB's item limit is 400 KB).
pub const MAX_ITEM_BYTES: usize = 350 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self { pk: pk.into(), sk: sk.into() }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub key: Key,
    /// Application-managed version: 1 on creation, +1 on every update.
    pub version: u64,
    /// The item's attributes.
    pub body: serde_json::Value,
    /// Secondary index key, if the item is in the index.
    pub gsi1: Option<Key>,
    /// Unix seconds after which the item is treated as absent (TTL).
    pub expires_at: Option<i64>,
}

impl Item {
    pub fn new(key: Key, body: serde_json::Value) -> Self {
        Self { key, version: 1, body, gsi1: None, expires_at: None }
    }

    pub fn with_gsi1(mut self, key: Key) -> Self {
        self.gsi1 = Some(key);
        self
    }

    pub fn with_expiry(mut self, unix_seconds: i64) -> Self {
        self.expires_at = Some(unix_seconds);
        self
    }

    /// The same item as the next version, with a new body (keeps index and expiry).
    pub fn updated(&self, body: serde_json::Value) -> Self {
        Self { body, version: self.version + 1, ..self.clone() }
    }

    pub fn parse<T: serde::de::DeserializeOwned>(&self) -> Result<T, StoreError> {
        serde_json::from_value(self.body.clone())
            .map_err(|e| StoreError::Corrupt { key: self.key.clone(), reason: e.to_string() })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Condition {
    /// Write unconditionally.
    None,
    /// The item must not exist (or be expired).
    Absent,
    /// The item must exist with exactly this version.
    VersionIs(u64),
}

#[derive(Debug, Clone, PartialEq)]
pub enum WriteOp {
    Put {
        item: Item,
        condition: Condition,
    },
    Delete {
        key: Key,
        condition: Condition,
    },
    /// Write nothing, but fail the transaction unless the condition holds.
    Check {
        key: Key,
        condition: Condition,
    },
}

impl WriteOp {
    pub fn key(&self) -> &Key {
        match self {
            WriteOp::Put { item, .. } => &item.key,
            WriteOp::Delete { key, .. } | WriteOp::Check { key, .. } => key,
        }
    }
}

/// Which part of a partition to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortKeyRange {
    All,
    /// Sort keys starting with this prefix.
    Prefix(String),
    /// Sort keys in `[from, to)`.
    Between {
        from: String,
        to: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub pk: String,
    pub range: SortKeyRange,
    /// Descending order if true.
    pub reverse: bool,
    /// At most this many items (the store may return fewer, with a cursor).
    pub limit: usize,
    /// Continue after this sort key (from [`Page::next`]).
    pub after: Option<String>,
}

impl Query {
    pub fn partition(pk: impl Into<String>) -> Self {
        Self { pk: pk.into(), range: SortKeyRange::All, reverse: false, limit: 1000, after: None }
    }

    pub fn prefix(pk: impl Into<String>, prefix: impl Into<String>) -> Self {
        Self { range: SortKeyRange::Prefix(prefix.into()), ..Self::partition(pk) }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub items: Vec<Item>,
    /// Sort key (of the base table or the index) to continue from, if more items may follow.
    pub next: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("condition failed for {key:?}")]
    ConditionFailed { key: Key },
    /// A transaction was cancelled; `index` is the first operation whose condition failed.
    #[error("transaction cancelled: operation {index} ({key:?}) failed its condition")]
    TransactionCancelled { index: usize, key: Key },
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("stored item {key:?} is corrupt: {reason}")]
    Corrupt { key: Key, reason: String },
    #[error("item store backend: {0}")]
    Backend(String),
    /// The store cannot write for lack of space (a full disk); nothing was written. Clears
    /// once there is room again, without a restart.
    #[error("insufficient storage: {0}")]
    InsufficientStorage(String),
}

impl StoreError {
    /// True for a failed condition, alone or inside a transaction: "someone else wrote first".
    pub fn is_conflict(&self) -> bool {
        matches!(self, StoreError::ConditionFailed { .. } | StoreError::TransactionCancelled { .. })
    }
}

/// DynamoDB's limits for key attributes, so that every store refuses what AWS refuses.
pub const MAX_PK_BYTES: usize = 2048;
pub const MAX_SK_BYTES: usize = 1024;

/// Checks one key (of an item or of its index entry) as every store must: both parts present,
/// within DynamoDB's sizes, and without NUL (which the embedded store's encoding reserves).
pub fn check_key(key: &Key, what: &str) -> Result<(), StoreError> {
    let check = |part: &str, name: &str, max: usize| {
        if part.is_empty() {
            return Err(StoreError::Invalid(format!("{what} {name} must not be empty")));
        }
        if part.len() > max {
            return Err(StoreError::Invalid(format!("{what} {name} is longer than {max} bytes")));
        }
        if part.contains('\0') {
            return Err(StoreError::Invalid(format!("{what} {name} {part:?} contains a NUL character")));
        }
        Ok(())
    };
    check(&key.pk, "partition key", MAX_PK_BYTES)?;
    check(&key.sk, "sort key", MAX_SK_BYTES)
}

/// Checks one write as every store must before sending it: keys, index key and body size.
pub fn validate_write(op: &WriteOp) -> Result<(), StoreError> {
    check_key(op.key(), "item")?;
    if let WriteOp::Put { item, .. } = op {
        if let Some(g) = &item.gsi1 {
            check_key(g, "gsi1")?;
        }
        let size = serde_json::to_vec(&item.body).map_err(|e| StoreError::Invalid(e.to_string()))?.len();
        if size > MAX_ITEM_BYTES {
            return Err(StoreError::Invalid(format!(
                "item {:?} body is {size} bytes, more than the limit of {MAX_ITEM_BYTES}",
                item.key
            )));
        }
    }
    Ok(())
}

/// Checks a transaction as every store must: at most [`MAX_TRANSACTION_ITEMS`] operations, each
/// valid, no two on one key.
pub fn validate_transaction(ops: &[WriteOp]) -> Result<(), StoreError> {
    if ops.len() > MAX_TRANSACTION_ITEMS {
        return Err(StoreError::Invalid(format!(
            "a transaction has {} operations, more than the limit of {MAX_TRANSACTION_ITEMS}",
            ops.len()
        )));
    }
    let mut seen = std::collections::HashSet::new();
    for op in ops {
        validate_write(op)?;
        if !seen.insert(op.key()) {
            return Err(StoreError::Invalid(format!(
                "a transaction has more than one operation on item {:?}",
                op.key()
            )));
        }
    }
    Ok(())
}

/// Checks a query as every store must: a limit of at least one and a usable partition key.
pub fn validate_query(query: &Query) -> Result<(), StoreError> {
    if query.limit == 0 {
        return Err(StoreError::Invalid("query limit must be at least 1".into()));
    }
    if query.pk.is_empty() || query.pk.contains('\0') {
        return Err(StoreError::Invalid(format!("query partition key {:?} is empty or contains NUL", query.pk)));
    }
    Ok(())
}

/// Whether an item with this expiry is visible at `now` (unix seconds): expired items are
/// absent to reads and conditions alike, whenever the store physically removes them.
pub fn is_live(expires_at: Option<i64>, now: i64) -> bool {
    expires_at.is_none_or(|at| at >= now)
}

#[async_trait]
pub trait ItemStore: Send + Sync + 'static {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError>;

    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError>;

    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError>;

    /// All operations or none. At most [`MAX_TRANSACTION_ITEMS`] operations, each on a
    /// different key (DynamoDB's rules), else [`StoreError::Invalid`].
    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError>;

    /// Items of one partition in sort-key order.
    async fn query(&self, query: Query) -> Result<Page, StoreError>;

    /// Items by their `gsi1` key: `query.pk` is the index partition, ranges apply to the
    /// index sort key, and [`Page::next`] is an index sort key.
    async fn query_gsi1(&self, query: Query) -> Result<Page, StoreError>;

    /// Whether the store can take writes now (`/api/v1/health`): the embedded store reports a
    /// full disk until it can write again. Stores that cannot tell answer `Ok`.
    async fn health(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

//! Commits that lose a race back off before they try again (issue 13 item 12).

use async_trait::async_trait;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use trs_app::stream::{Committed, commit_with_event};
use trs_app::test_support::world;
use trs_core::{Change, EventDraft, StreamId};
use trs_storage::{Condition, Item, ItemStore, Key, Page, Query, StoreError, WriteOp};

/// Answers the first `losses` transactions as if another writer had moved the stream head.
struct LosesRaces {
    inner: Arc<dyn ItemStore>,
    losses: AtomicUsize,
}

#[async_trait]
impl ItemStore for LosesRaces {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.inner.get(key).await
    }
    async fn put(&self, item: Item, condition: Condition) -> Result<(), StoreError> {
        self.inner.put(item, condition).await
    }
    async fn delete(&self, key: &Key, condition: Condition) -> Result<(), StoreError> {
        self.inner.delete(key, condition).await
    }
    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        let lose = self.losses.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
        if lose {
            let index = ops.len() - 2;
            // The stream head's write, which commit_with_event puts before the event's.
            return Err(StoreError::TransactionCancelled { index, key: ops[index].key().clone() });
        }
        self.inner.transact(ops).await
    }
    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        self.inner.query(query).await
    }
    async fn query_gsi1(&self, query: Query) -> Result<Page, StoreError> {
        self.inner.query_gsi1(query).await
    }
}

#[tokio::test]
async fn a_commit_that_loses_the_stream_head_backs_off_before_each_retry() {
    let w = world().await;
    let mut app = w.app.clone();
    app.items = Arc::new(LosesRaces { inner: w.app.items.clone(), losses: AtomicUsize::new(3) });
    let before = trs_app::retry::back_offs();
    let draft = EventDraft::new(None, Change::AdminGranted { uid: "rita".parse().unwrap() });
    let committed = commit_with_event(&app, &StreamId::Foundation, draft, Vec::new()).await.unwrap();
    assert!(matches!(committed, Committed::Done(_)), "the fourth attempt commits");
    assert_eq!(trs_app::retry::back_offs() - before, 3, "one back-off per lost race, none before the first try");
}

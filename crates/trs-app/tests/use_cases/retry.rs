//! Commits that lose a race back off before they try again (issue 13 item 12).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use trs_app::fault_injection::{ItemCall, ObservedItems};
use trs_app::stream::{Committed, commit_with_event};
use trs_app::test_support::world;
use trs_core::{Change, EventDraft, StreamId};
use trs_storage::StoreError;

#[tokio::test]
async fn a_commit_that_loses_the_stream_head_backs_off_before_each_retry() {
    let w = world().await;
    let mut app = w.app.clone();
    // The first three transactions lose a race: another writer moved the stream head, whose
    // write commit_with_event puts before the event's.
    let losses = AtomicUsize::new(3);
    app.items = Arc::new(ObservedItems::new(w.app.items.clone(), move |call| match call {
        ItemCall::Transact(ops)
            if losses.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok() =>
        {
            let index = ops.len() - 2;
            Some(StoreError::TransactionCancelled { index, key: ops[index].key().clone() })
        }
        _ => None,
    }));
    let before = trs_app::retry::back_offs();
    let draft = EventDraft::new(None, Change::AdminGranted { uid: "rita".parse().unwrap() });
    let committed = commit_with_event(&app, &StreamId::Foundation, draft, Vec::new()).await.unwrap();
    assert!(matches!(committed, Committed::Done(_)), "the fourth attempt commits");
    assert_eq!(trs_app::retry::back_offs() - before, 3, "one back-off per lost race, none before the first try");
}

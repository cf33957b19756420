//! Contract cases for [`ItemStore`]: DynamoDB's semantics as domain code relies on them.

use std::sync::Arc;

use serde_json::json;

use super::now;
use crate::item::{
    Condition, Item, ItemStore, Key, MAX_ITEM_BYTES, MAX_TRANSACTION_ITEMS, Page, Query, SortKeyRange, StoreError,
    WriteOp,
};

type Store = Arc<dyn ItemStore>;

fn item(pk: &str, sk: &str, n: i64) -> Item {
    Item::new(Key::new(pk, sk), json!({ "n": n }))
}

fn put(item: Item, condition: Condition) -> WriteOp {
    WriteOp::Put { item, condition }
}

async fn put_all(store: &Store, items: impl IntoIterator<Item = Item>) {
    for i in items {
        store.put(i, Condition::None).await.expect("put");
    }
}

fn sort_keys(page: &Page) -> Vec<&str> {
    page.items.iter().map(|i| i.key.sk.as_str()).collect()
}

fn index_sort_keys(page: &Page) -> Vec<&str> {
    page.items.iter().map(|i| i.gsi1.as_ref().expect("item from the index has gsi1").sk.as_str()).collect()
}

fn query(pk: &str, range: SortKeyRange, reverse: bool) -> Query {
    Query { range, reverse, ..Query::partition(pk) }
}

fn assert_condition_failed(result: Result<(), StoreError>, key: &Key) {
    match result {
        Err(StoreError::ConditionFailed { key: k }) => assert_eq!(&k, key),
        other => panic!("expected ConditionFailed for {key:?}, got {other:?}"),
    }
}

fn assert_invalid<T: std::fmt::Debug>(result: Result<T, StoreError>, what: &str) {
    assert!(matches!(result, Err(StoreError::Invalid(_))), "{what}: expected Invalid, got {result:?}");
}

/// Reads every page of `q` (following `next`) and returns the items in the order received.
async fn all_pages(store: &Store, mut q: Query, gsi1: bool) -> Vec<Item> {
    let mut out = Vec::new();
    for _ in 0..1000 {
        let page = if gsi1 { store.query_gsi1(q.clone()).await } else { store.query(q.clone()).await }.expect("query");
        assert!(page.items.len() <= q.limit, "page of {} items exceeds limit {}", page.items.len(), q.limit);
        out.extend(page.items);
        match page.next {
            Some(next) => q.after = Some(next),
            None => return out,
        }
    }
    panic!("pagination did not end after 1000 pages");
}

pub async fn item_get_missing(store: Store) {
    assert_eq!(store.get(&Key::new("p", "missing")).await.unwrap(), None);
}

pub async fn item_put_get_round_trip(store: Store) {
    let original = Item::new(Key::new("p", "k"), json!({ "name": "x", "list": [1, 2, 3], "nested": { "ok": true } }))
        .with_gsi1(Key::new("g", "s"))
        .with_expiry(now() + 3600);
    store.put(original.clone(), Condition::None).await.unwrap();
    assert_eq!(store.get(&original.key).await.unwrap(), Some(original.clone()));
    // Unconditional put replaces the whole item.
    let replaced = Item::new(original.key.clone(), json!({ "other": "y" }));
    store.put(replaced.clone(), Condition::None).await.unwrap();
    assert_eq!(store.get(&original.key).await.unwrap(), Some(replaced));
}

pub async fn item_put_absent_conflicts(store: Store) {
    let first = item("p", "k", 1);
    store.put(first.clone(), Condition::Absent).await.unwrap();
    let err = store.put(item("p", "k", 2), Condition::Absent).await;
    assert!(err.as_ref().is_err_and(StoreError::is_conflict), "second Absent put: {err:?}");
    assert_condition_failed(err, &first.key);
    assert_eq!(store.get(&first.key).await.unwrap(), Some(first), "a failed put must not write");
}

pub async fn item_version_is(store: Store) {
    let v1 = item("p", "k", 1);
    assert_condition_failed(store.put(v1.clone(), Condition::VersionIs(1)).await, &v1.key);
    assert_eq!(store.get(&v1.key).await.unwrap(), None, "VersionIs on a missing item must not create it");
    store.put(v1.clone(), Condition::Absent).await.unwrap();
    let v2 = v1.updated(json!({ "n": 2 }));
    store.put(v2.clone(), Condition::VersionIs(1)).await.unwrap();
    let stale = v1.updated(json!({ "n": 99 }));
    assert_condition_failed(store.put(stale, Condition::VersionIs(1)).await, &v1.key);
    let got = store.get(&v1.key).await.unwrap().unwrap();
    assert_eq!((got.version, got.body), (2, json!({ "n": 2 })));
}

pub async fn item_delete_conditions(store: Store) {
    let key = Key::new("p", "k");
    store.delete(&key, Condition::None).await.expect("deleting a missing item is not an error");
    store.delete(&key, Condition::Absent).await.expect("Absent holds for a missing item");
    assert_condition_failed(store.delete(&key, Condition::VersionIs(1)).await, &key);
    store.put(item("p", "k", 1), Condition::Absent).await.unwrap();
    assert_condition_failed(store.delete(&key, Condition::VersionIs(2)).await, &key);
    assert_condition_failed(store.delete(&key, Condition::Absent).await, &key);
    assert!(store.get(&key).await.unwrap().is_some(), "a failed delete must not delete");
    store.delete(&key, Condition::VersionIs(1)).await.unwrap();
    assert_eq!(store.get(&key).await.unwrap(), None);
}

pub async fn item_transact_all_or_nothing(store: Store) {
    let a = item("t", "a", 1);
    let c = item("t", "c", 1);
    let d = item("t", "d", 1);
    put_all(&store, [a.clone(), c.clone(), d.clone()]).await;
    let b = item("t", "b", 1);

    // The fourth operation fails: nothing of the first three may happen.
    let ops = vec![
        put(b.clone(), Condition::Absent),
        put(a.updated(json!({ "n": 2 })), Condition::VersionIs(1)),
        WriteOp::Delete { key: c.key.clone(), condition: Condition::None },
        put(item("t", "d", 2), Condition::Absent),
    ];
    match store.transact(ops).await {
        Err(StoreError::TransactionCancelled { index, key }) => assert_eq!((index, key), (3, d.key.clone())),
        other => panic!("expected TransactionCancelled at 3, got {other:?}"),
    }
    assert_eq!(store.get(&b.key).await.unwrap(), None);
    assert_eq!(store.get(&a.key).await.unwrap(), Some(a.clone()));
    assert_eq!(store.get(&c.key).await.unwrap(), Some(c.clone()));
    assert_eq!(store.get(&d.key).await.unwrap(), Some(d.clone()));

    // A failing Check cancels too, and names its own index.
    let ops = vec![
        put(b.clone(), Condition::Absent),
        WriteOp::Check { key: a.key.clone(), condition: Condition::VersionIs(5) },
    ];
    match store.transact(ops).await {
        Err(e @ StoreError::TransactionCancelled { .. }) => {
            assert!(e.is_conflict());
            let StoreError::TransactionCancelled { index, key } = e else { unreachable!() };
            assert_eq!((index, key), (1, a.key.clone()));
        }
        other => panic!("expected TransactionCancelled at 1, got {other:?}"),
    }
    assert_eq!(store.get(&b.key).await.unwrap(), None);

    let ops = vec![
        put(b.clone(), Condition::Absent),
        WriteOp::Check { key: a.key.clone(), condition: Condition::VersionIs(1) },
        WriteOp::Delete { key: c.key.clone(), condition: Condition::VersionIs(1) },
        put(d.updated(json!({ "n": 5 })), Condition::VersionIs(1)),
    ];
    store.transact(ops).await.unwrap();
    assert_eq!(store.get(&b.key).await.unwrap(), Some(b));
    assert_eq!(store.get(&a.key).await.unwrap(), Some(a));
    assert_eq!(store.get(&c.key).await.unwrap(), None);
    assert_eq!(store.get(&d.key).await.unwrap().unwrap().body, json!({ "n": 5 }));
}

pub async fn item_transact_limits(store: Store) {
    let ops = |n: usize, pk: &str| (0..n).map(|i| put(item(pk, &format!("{i:03}"), 0), Condition::None)).collect();
    assert_invalid(store.transact(ops(MAX_TRANSACTION_ITEMS + 1, "big")).await, "too many operations");
    assert!(store.query(Query::partition("big")).await.unwrap().items.is_empty(), "an invalid transaction wrote");
    store.transact(ops(MAX_TRANSACTION_ITEMS, "max")).await.expect("the maximum number of operations");
    assert_eq!(store.query(Query::partition("max")).await.unwrap().items.len(), MAX_TRANSACTION_ITEMS);

    let dup = vec![
        put(item("dup", "k", 1), Condition::None),
        WriteOp::Check { key: Key::new("dup", "k"), condition: Condition::None },
    ];
    assert_invalid(store.transact(dup).await, "two operations on one key");
    assert_eq!(store.get(&Key::new("dup", "k")).await.unwrap(), None);
}

pub async fn item_rejects_invalid_items(store: Store) {
    let big = Item::new(Key::new("p", "big"), json!({ "s": "x".repeat(MAX_ITEM_BYTES + 1) }));
    assert_invalid(store.put(big.clone(), Condition::None).await, "oversized body");
    assert_invalid(store.transact(vec![put(big, Condition::None)]).await, "oversized body in a transaction");
    assert_eq!(store.get(&Key::new("p", "big")).await.unwrap(), None);
    let fits = Item::new(Key::new("p", "fits"), json!({ "s": "x".repeat(MAX_ITEM_BYTES - 100) }));
    store.put(fits.clone(), Condition::None).await.expect("a body just under the limit");
    assert_eq!(store.get(&fits.key).await.unwrap(), Some(fits));
    assert_invalid(store.put(item("", "k", 1), Condition::None).await, "empty partition key");
    assert_invalid(store.put(item("p", "", 1), Condition::None).await, "empty sort key");
}

pub async fn item_query_order_and_ranges(store: Store) {
    let sks = ["a", "a#1", "a#2", "b", "b#1", "c"];
    // Inserted out of order, next to partitions whose names extend this one's.
    for sk in sks.iter().rev() {
        store.put(item("q", sk, 0), Condition::None).await.unwrap();
    }
    put_all(&store, [item("q2", "a", 0), item("q#", "a", 0), item("p", "z", 0), item("qq", "a#1", 0)]).await;

    let page = store.query(Query::partition("q")).await.unwrap();
    assert_eq!(sort_keys(&page), sks);
    assert_eq!(page.next, None);
    assert!(page.items.iter().all(|i| i.key.pk == "q"));
    let rev = store.query(query("q", SortKeyRange::All, true)).await.unwrap();
    assert_eq!(sort_keys(&rev), ["c", "b#1", "b", "a#2", "a#1", "a"]);

    assert_eq!(sort_keys(&store.query(Query::prefix("q", "a#")).await.unwrap()), ["a#1", "a#2"]);
    assert_eq!(sort_keys(&store.query(Query::prefix("q", "a")).await.unwrap()), ["a", "a#1", "a#2"]);
    assert_eq!(
        sort_keys(&store.query(query("q", SortKeyRange::Prefix("b".into()), true)).await.unwrap()),
        ["b#1", "b"]
    );
    assert!(store.query(Query::prefix("q", "zz")).await.unwrap().items.is_empty());

    let between = |from: &str, to: &str| SortKeyRange::Between { from: from.into(), to: to.into() };
    assert_eq!(sort_keys(&store.query(query("q", between("a#2", "b#1"), false)).await.unwrap()), ["a#2", "b"]);
    assert_eq!(sort_keys(&store.query(query("q", between("a#2", "b#1"), true)).await.unwrap()), ["b", "a#2"]);
    assert_eq!(sort_keys(&store.query(query("q", between("0", "a#"), false)).await.unwrap()), ["a"]);
    assert!(store.query(query("q", between("b", "b"), false)).await.unwrap().items.is_empty());

    let empty = store.query(Query::partition("nothing")).await.unwrap();
    assert_eq!((empty.items.len(), empty.next), (0, None));
}

pub async fn item_query_pagination(store: Store) {
    let sks: Vec<String> = (0..25).map(|i| format!("k{i:02}")).collect();
    put_all(&store, sks.iter().map(|sk| item("pg", sk, 0))).await;
    put_all(&store, [item("pg2", "k00", 0), item("pf", "k99", 0)]).await;
    let keys = |items: &[Item]| items.iter().map(|i| i.key.sk.clone()).collect::<Vec<_>>();
    let reversed: Vec<String> = sks.iter().rev().cloned().collect();
    for limit in [1, 3, 7, 25, 30] {
        let forward = all_pages(&store, Query { limit, ..Query::partition("pg") }, false).await;
        assert_eq!(keys(&forward), sks, "forward pages of {limit}");
        let backward = all_pages(&store, Query { limit, reverse: true, ..Query::partition("pg") }, false).await;
        assert_eq!(keys(&backward), reversed, "reverse pages of {limit}");
    }
    let first = store.query(Query { limit: 10, ..Query::partition("pg") }).await.unwrap();
    assert_eq!(first.items.len(), 10);
    assert_eq!(first.next.as_deref(), Some("k09"), "next is the sort key of the last item returned");

    let range = SortKeyRange::Between { from: "k05".into(), to: "k15".into() };
    let between = all_pages(&store, Query { limit: 4, ..query("pg", range.clone(), false) }, false).await;
    assert_eq!(keys(&between), sks[5..15]);
    let between_rev = all_pages(&store, Query { limit: 4, ..query("pg", range, true) }, false).await;
    assert_eq!(keys(&between_rev), sks[5..15].iter().rev().cloned().collect::<Vec<_>>());
    let prefix = all_pages(&store, Query { limit: 3, ..Query::prefix("pg", "k1") }, false).await;
    assert_eq!(keys(&prefix), sks[10..20]);
}

/// The empty string is below every sort key, so it is a valid lower bound (and prefix) that
/// matches from the start of the partition. DynamoDB refuses an empty key-condition value, so
/// a store must not send one; the domain's "everything due until now" is such a range.
pub async fn item_query_open_bounds(store: Store) {
    put_all(&store, ["a", "b", "b#1", "c"].map(|sk| item("ob", sk, 0))).await;
    put_all(&store, ["a", "b"].map(|sk| item("ob", sk, 0).with_gsi1(Key::new("obg", sk)))).await;
    let keys = |items: &[Item]| items.iter().map(|i| i.key.sk.clone()).collect::<Vec<_>>();
    let until_b = SortKeyRange::Between { from: String::new(), to: "b#".into() };
    for limit in [1, 2, 10] {
        let forward = all_pages(&store, Query { limit, ..query("ob", until_b.clone(), false) }, false).await;
        assert_eq!(keys(&forward), ["a", "b"], "[\"\", b#) in pages of {limit}");
        let backward = all_pages(&store, Query { limit, ..query("ob", until_b.clone(), true) }, false).await;
        assert_eq!(keys(&backward), ["b", "a"], "[\"\", b#) reversed in pages of {limit}");
        let everything = all_pages(&store, Query { limit, ..Query::prefix("ob", "") }, false).await;
        assert_eq!(keys(&everything), ["a", "b", "b#1", "c"], "prefix \"\" in pages of {limit}");
        let indexed = all_pages(&store, Query { limit, ..query("obg", until_b.clone(), true) }, true).await;
        assert_eq!(keys(&indexed), ["b", "a"], "[\"\", b#) on the index in pages of {limit}");
    }
    let nothing = SortKeyRange::Between { from: String::new(), to: String::new() };
    assert!(store.query(query("ob", nothing, false)).await.unwrap().items.is_empty(), "[\"\", \"\") is empty");
}

/// One query a caller of the store makes, named for the failure message; `index` queries
/// `gsi1`.
#[derive(Debug, Clone)]
pub struct NamedQuery {
    pub name: String,
    pub query: Query,
    pub index: bool,
}

/// Not a case of its own: the queries a caller makes (with the bounds and cursors it uses),
/// run over `items` and compared with what the trait's semantics say they return: every
/// query, in pages of 1, 2 and its own limit, forward and reversed. The domain crate runs it
/// with every query it builds, once per backend, so a query a backend refuses or answers
/// differently fails here and not first in production.
pub async fn item_queries_match_the_model(store: Store, items: Vec<Item>, queries: Vec<NamedQuery>) {
    put_all(&store, items.clone()).await;
    assert!(!queries.is_empty(), "no queries given");
    for NamedQuery { name, query: q, index } in queries {
        for reverse in [false, true] {
            let q = Query { reverse, ..q.clone() };
            let expected = model_query(&items, &q, index);
            for limit in [1, 2, q.limit] {
                let got = all_pages(&store, Query { limit, ..q.clone() }, index).await;
                let got: Vec<&Key> = got.iter().map(|i| &i.key).collect();
                let want: Vec<&Key> = expected.iter().map(|i| &i.key).collect();
                assert_eq!(got, want, "{name} (reverse: {reverse}, pages of {limit}): {q:?}");
            }
        }
    }
}

/// What a query returns by the trait's definition, over `items` (none expire).
fn model_query<'a>(items: &'a [Item], q: &Query, index: bool) -> Vec<&'a Item> {
    let sort_key =
        |i: &'a Item| if index { i.gsi1.as_ref().map(|g| (&g.pk, &g.sk)) } else { Some((&i.key.pk, &i.key.sk)) };
    let mut out: Vec<(&String, &Item)> = items
        .iter()
        .filter_map(|i| sort_key(i).map(|(pk, sk)| (pk, sk, i)))
        .filter(|(pk, _, _)| **pk == q.pk)
        .filter(|(_, sk, _)| match &q.range {
            SortKeyRange::All => true,
            SortKeyRange::Prefix(p) => sk.starts_with(p.as_str()),
            SortKeyRange::Between { from, to } => sk.as_str() >= from.as_str() && sk.as_str() < to.as_str(),
        })
        .filter(|(_, sk, _)| match (&q.after, q.reverse) {
            (None, _) => true,
            (Some(a), false) => sk.as_str() > a.as_str(),
            (Some(a), true) => sk.as_str() < a.as_str(),
        })
        .map(|(_, sk, i)| (sk, i))
        .collect();
    out.sort_by(|a, b| a.0.cmp(b.0));
    if q.reverse {
        out.reverse();
    }
    out.into_iter().map(|(_, i)| i).collect()
}

pub async fn item_gsi1_query(store: Store) {
    // Releases indexed by state; the index sort key is unique within each index partition.
    let rel = |sk: &str, state: &str, isk: &str| item("rel", sk, 0).with_gsi1(Key::new(state, isk));
    put_all(
        &store,
        [
            rel("r1", "open", "2024-03#r1"),
            rel("r2", "open", "2024-01#r2"),
            rel("r3", "closed", "2024-02#r3"),
            rel("r4", "open", "2024-02#r4"),
            item("rel", "r5", 0),
            item("other", "x", 0).with_gsi1(Key::new("open", "2023-12#x")),
            item("rel", "r6", 0).with_gsi1(Key::new("open2", "2024-01#r6")),
        ],
    )
    .await;
    let page = store.query_gsi1(Query::partition("open")).await.unwrap();
    assert_eq!(index_sort_keys(&page), ["2023-12#x", "2024-01#r2", "2024-02#r4", "2024-03#r1"]);
    assert_eq!(page.items[1], rel("r2", "open", "2024-01#r2"), "the index returns whole items");
    let rev = store.query_gsi1(query("open", SortKeyRange::All, true)).await.unwrap();
    assert_eq!(index_sort_keys(&rev), ["2024-03#r1", "2024-02#r4", "2024-01#r2", "2023-12#x"]);
    assert_eq!(
        index_sort_keys(&store.query_gsi1(Query::prefix("open", "2024-0")).await.unwrap()),
        ["2024-01#r2", "2024-02#r4", "2024-03#r1"]
    );
    let range = SortKeyRange::Between { from: "2024-01#r2".into(), to: "2024-03".into() };
    assert_eq!(
        index_sort_keys(&store.query_gsi1(query("open", range, false)).await.unwrap()),
        ["2024-01#r2", "2024-02#r4"]
    );
    for limit in [1, 2, 3] {
        let pages = all_pages(&store, Query { limit, ..Query::partition("open") }, true).await;
        let got: Vec<_> = pages.iter().map(|i| i.gsi1.clone().unwrap().sk).collect();
        assert_eq!(got, ["2023-12#x", "2024-01#r2", "2024-02#r4", "2024-03#r1"], "index pages of {limit}");
        let pages = all_pages(&store, Query { limit, reverse: true, ..Query::partition("open") }, true).await;
        let got: Vec<_> = pages.iter().map(|i| i.gsi1.clone().unwrap().sk).collect();
        assert_eq!(got, ["2024-03#r1", "2024-02#r4", "2024-01#r2", "2023-12#x"], "reverse index pages of {limit}");
    }
    assert!(store.query_gsi1(Query::partition("rel")).await.unwrap().items.is_empty(), "base keys are not indexed");
}

pub async fn item_gsi1_follows_updates(store: Store) {
    let in_index = |pk: &'static str| {
        let store = store.clone();
        async move { sort_keys(&store.query_gsi1(Query::partition(pk)).await.unwrap()).join(",") }
    };
    let v1 = item("p", "k", 1).with_gsi1(Key::new("g1", "s"));
    store.put(v1.clone(), Condition::Absent).await.unwrap();
    assert_eq!(in_index("g1").await, "k");

    // Moving the item in the index removes its old entry.
    let mut v2 = v1.updated(json!({ "n": 2 }));
    v2.gsi1 = Some(Key::new("g2", "s"));
    store.put(v2.clone(), Condition::VersionIs(1)).await.unwrap();
    assert_eq!((in_index("g1").await, in_index("g2").await), ("".into(), "k".into()));

    // Same index key, new body: the index serves the new body.
    let v3 = v2.updated(json!({ "n": 3 }));
    store.put(v3.clone(), Condition::VersionIs(2)).await.unwrap();
    let page = store.query_gsi1(Query::partition("g2")).await.unwrap();
    assert_eq!(page.items, vec![v3.clone()]);

    // Leaving the index.
    let mut v4 = v3.updated(json!({ "n": 4 }));
    v4.gsi1 = None;
    store.put(v4.clone(), Condition::VersionIs(3)).await.unwrap();
    assert_eq!(in_index("g2").await, "");

    // Rejoining through a transaction, then deleting.
    let v5 = v4.updated(json!({ "n": 5 })).with_gsi1(Key::new("g1", "t"));
    store.transact(vec![put(v5.clone(), Condition::VersionIs(4))]).await.unwrap();
    assert_eq!(in_index("g1").await, "k");
    store.delete(&v5.key, Condition::VersionIs(5)).await.unwrap();
    assert_eq!((in_index("g1").await, in_index("g2").await), ("".into(), "".into()));

    // A cancelled transaction leaves the index as it was.
    let w = item("p", "w", 1).with_gsi1(Key::new("g3", "a"));
    store.put(w.clone(), Condition::Absent).await.unwrap();
    let mut moved = w.updated(json!({}));
    moved.gsi1 = Some(Key::new("g4", "a"));
    let ops =
        vec![put(moved, Condition::VersionIs(1)), WriteOp::Check { key: v5.key, condition: Condition::VersionIs(1) }];
    assert!(store.transact(ops).await.is_err_and(|e| e.is_conflict()));
    assert_eq!((in_index("g3").await, in_index("g4").await), ("w".into(), "".into()));
}

pub async fn item_expiry(store: Store) {
    let past = now() - 60;
    let expired = item("e", "old", 1).with_expiry(past).with_gsi1(Key::new("eg", "old"));
    let live = item("e", "new", 1).with_expiry(now() + 3600).with_gsi1(Key::new("eg", "new"));
    put_all(&store, [expired.clone(), live.clone()]).await;

    assert_eq!(store.get(&expired.key).await.unwrap(), None, "an expired item is invisible");
    assert_eq!(store.get(&live.key).await.unwrap(), Some(live.clone()));
    assert_eq!(store.query(Query::partition("e")).await.unwrap().items, vec![live.clone()]);
    assert_eq!(store.query_gsi1(Query::partition("eg")).await.unwrap().items, vec![live.clone()]);
    let one = store.query(Query { limit: 1, ..Query::partition("e") }).await.unwrap();
    assert_eq!(one.items, vec![live.clone()], "expired items do not take a place in a page");

    // Conditions see an expired item as absent.
    assert_condition_failed(store.put(expired.updated(json!({})), Condition::VersionIs(1)).await, &expired.key);
    store
        .transact(vec![WriteOp::Check { key: expired.key.clone(), condition: Condition::Absent }])
        .await
        .expect("Absent holds over an expired item");
    let reborn = item("e", "old", 7);
    store.put(reborn.clone(), Condition::Absent).await.expect("Absent put over an expired item");
    assert_eq!(store.get(&reborn.key).await.unwrap(), Some(reborn));
    assert_eq!(
        store.query_gsi1(Query::partition("eg")).await.unwrap().items,
        vec![live],
        "the replaced item's index entry is gone"
    );
}

/// Many writers incrementing one counter with optimistic concurrency lose no update.
/// (Requests grow with TASKS² × EACH, as every round's losers retry: 16 × 10 keeps the case
/// within seconds on an emulator that serves one request at a time, with contention still on
/// every single increment.)
pub async fn item_concurrent_increments(store: Store) {
    const TASKS: u64 = 16;
    const EACH: u64 = 10;
    let key = Key::new("counter", "c");
    store.put(Item::new(key.clone(), json!({ "n": 0 })), Condition::Absent).await.unwrap();
    let tasks: Vec<_> = (0..TASKS)
        .map(|_| {
            let (store, key) = (store.clone(), key.clone());
            tokio::spawn(async move {
                for _ in 0..EACH {
                    loop {
                        let current = store.get(&key).await.unwrap().expect("counter exists");
                        let n = current.body["n"].as_u64().unwrap();
                        match store
                            .put(current.updated(json!({ "n": n + 1 })), Condition::VersionIs(current.version))
                            .await
                        {
                            Ok(()) => break,
                            Err(e) if e.is_conflict() => continue,
                            Err(e) => panic!("increment failed: {e}"),
                        }
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("increment task panicked");
    }
    let end = store.get(&key).await.unwrap().unwrap();
    assert_eq!(end.body["n"], json!(TASKS * EACH), "lost updates");
    assert_eq!(end.version, TASKS * EACH + 1);
}

pub async fn item_concurrent_absent_one_wins(store: Store) {
    let tasks: Vec<_> = (0..32)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move { (i, store.put(item("race", "k", i), Condition::Absent).await) })
        })
        .collect();
    let mut winners = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            (i, Ok(())) => winners.push(i),
            (_, Err(e)) => assert!(matches!(e, StoreError::ConditionFailed { .. }), "unexpected error {e}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one Absent put must win, got {winners:?}");
    let stored = store.get(&Key::new("race", "k")).await.unwrap().unwrap();
    assert_eq!(stored.body, json!({ "n": winners[0] }));
}

/// Concurrent transfers between two items, each a transaction conditioned on both versions,
/// keep the total: no transaction is half applied or applied over a stale read.
pub async fn item_concurrent_transactions(store: Store) {
    const TASKS: i64 = 16;
    const EACH: i64 = 10;
    let (a, b) = (Key::new("acct", "a"), Key::new("acct", "b"));
    put_all(&store, [item("acct", "a", 1000), item("acct", "b", 1000)]).await;
    let tasks: Vec<_> = (0..TASKS)
        .map(|_| {
            let (store, a, b) = (store.clone(), a.clone(), b.clone());
            tokio::spawn(async move {
                for _ in 0..EACH {
                    loop {
                        let ia = store.get(&a).await.unwrap().unwrap();
                        let ib = store.get(&b).await.unwrap().unwrap();
                        let (na, nb) = (ia.body["n"].as_i64().unwrap(), ib.body["n"].as_i64().unwrap());
                        let ops = vec![
                            put(ia.updated(json!({ "n": na - 1 })), Condition::VersionIs(ia.version)),
                            put(ib.updated(json!({ "n": nb + 1 })), Condition::VersionIs(ib.version)),
                        ];
                        match store.transact(ops).await {
                            Ok(()) => break,
                            Err(e) if e.is_conflict() => continue,
                            Err(e) => panic!("transfer failed: {e}"),
                        }
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("transfer task panicked");
    }
    let na = store.get(&a).await.unwrap().unwrap().body["n"].as_i64().unwrap();
    let nb = store.get(&b).await.unwrap().unwrap().body["n"].as_i64().unwrap();
    assert_eq!((na, nb), (1000 - TASKS * EACH, 1000 + TASKS * EACH));
}

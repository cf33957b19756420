//! The contract test suite every [`ItemStore`](crate::ItemStore) and
//! [`BlobStore`](crate::BlobStore) implementation must pass, written once so that the embedded
//! store and AWS are held to exactly the same behaviour.
//!
//! Each case is a public async fn taking a fresh store and panicking on a violation. An
//! implementation's test file runs them all, one named `#[tokio::test]` per case:
//!
//! ```ignore
//! async fn make() -> (MyItemStore, impl Sized) { /* store, plus whatever must outlive it */ }
//! trs_storage::item_store_contract!(make());
//! trs_storage::blob_store_contract!(make_blobs());
//! ```
//!
//! The macro argument is an expression evaluating to a future of `(store, guard)`; it is
//! evaluated anew in every case, and `guard` (a temporary folder, a table to drop) is kept
//! alive until the case ends. The test crate must depend on `tokio` (with `macros` and
//! `rt-multi-thread`).
//!
//! Cases expect read-your-writes everywhere, including the secondary index (DynamoDB's GSIs are
//! only eventually consistent; its emulators are not, and domain code must not rely on it).

mod blob;
mod item;

pub use blob::*;
pub use item::*;

use bytes::Bytes;
use futures::StreamExt;

use crate::blob::ByteStream;

#[doc(hidden)]
#[macro_export]
macro_rules! __contract_cases {
    ($make:expr; $store:ident; $($case:ident),* $(,)?) => {$(
        #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $case() {
            let (store, _guard) = $make.await;
            let store: ::std::sync::Arc<dyn $crate::$store> = ::std::sync::Arc::new(store);
            $crate::contract::$case(store).await;
        }
    )*};
}

/// One `#[tokio::test]` per item-store contract case; see the [module docs](crate::contract).
#[macro_export]
macro_rules! item_store_contract {
    ($make:expr) => {
        $crate::__contract_cases!($make; ItemStore;
            item_get_missing,
            item_put_get_round_trip,
            item_put_absent_conflicts,
            item_version_is,
            item_delete_conditions,
            item_transact_all_or_nothing,
            item_transact_limits,
            item_rejects_invalid_items,
            item_query_order_and_ranges,
            item_query_pagination,
            item_query_open_bounds,
            item_gsi1_query,
            item_gsi1_follows_updates,
            item_expiry,
            item_concurrent_increments,
            item_concurrent_absent_one_wins,
            item_concurrent_transactions,
        );
    };
}

/// One `#[tokio::test]` per blob-store contract case; see the [module docs](crate::contract).
#[macro_export]
macro_rules! blob_store_contract {
    ($make:expr) => {
        $crate::__contract_cases!($make; BlobStore;
            blob_missing,
            blob_put_if_absent_once,
            blob_head_meta,
            blob_empty_object,
            blob_large_chunked,
            blob_get_range,
            blob_range_reader,
            blob_failed_body_leaves_nothing,
            blob_copy_if_absent,
            blob_list,
            blob_delete_idempotent,
            blob_invalid_keys,
            blob_upload_url,
            blob_concurrent_put_one_wins,
        );
    };
}

/// Unix seconds now.
pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// A body delivered as the given chunks.
pub fn body_of(chunks: Vec<Bytes>) -> ByteStream {
    futures::stream::iter(chunks.into_iter().map(Ok)).boxed()
}

/// `data` delivered in chunks of irregular sizes up to `max_chunk`, as from a network.
pub fn chunked(data: &[u8], max_chunk: usize) -> ByteStream {
    let mut chunks = Vec::new();
    let mut rest = Bytes::copy_from_slice(data);
    let mut n = 0usize;
    while !rest.is_empty() {
        n += 1;
        let size = (1 + (n * 7919) % max_chunk).min(rest.len());
        chunks.push(rest.split_to(size));
    }
    body_of(chunks)
}

/// Deterministic bytes that do not compress or repeat, so that misplaced chunks show.
pub fn pseudo_random(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

pub async fn read_all(mut stream: ByteStream) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk.expect("reading a body stream"));
    }
    out
}

pub fn sha512_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha512::digest(data))
}

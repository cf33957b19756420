//! The two storage primitives trs is written against, with DynamoDB's and S3's semantics so
//! that the embedded store and AWS behave the same:
//! - [`item::ItemStore`]: conditional puts, all-or-nothing transactions, ordered partition
//!   queries, one secondary index, optimistic concurrency through a version attribute;
//! - [`blob::BlobStore`]: immutable put-if-absent objects, streaming and range reads,
//!   server-side copy, listing by prefix, upload URLs.
//!
//! [`embedded`] implements both on one machine (redb file + folder of blobs). The
//! [`contract`] module (feature `contract`) is the test suite every implementation must pass.

pub mod blob;
pub mod embedded;
pub mod headers;
pub mod intake;
pub mod item;
pub mod range_reader;
pub mod site;

#[cfg(feature = "contract")]
pub mod contract;

pub use blob::{BlobError, BlobMeta, BlobStore, ByteStream, StoredPart, UploadUrl};
pub use headers::{ObjectHeaders, object_headers};
pub use item::{Condition, Item, ItemStore, Key, Page, Query, SortKeyRange, StoreError, WriteOp};
pub use range_reader::RangeReader;
pub use site::{CdnInvalidator, NoCdn, SiteError, SiteObject, SiteStore};

//! trs application services: each module is one area of use cases, written over the domain
//! core and the storage traits. Hosts (the embedded server, Lambda functions) only translate
//! HTTP or events into these calls.
//!
//! Error policy: every use case returns [`error::AppError`], which carries its HTTP status and
//! a stable code; library crates below use their own `thiserror` enums.

pub mod api_views;
pub mod app;
pub mod authenticate;
pub mod cve;
pub mod distribute;
pub mod draft;
pub mod error;
pub mod exports;
#[cfg(feature = "test-support")]
pub mod fault_injection;
pub mod import;
pub mod large_item;
pub mod lifecycle;
pub mod mail;
pub mod people;
pub mod projects;
pub mod promote;
pub mod public;
pub mod public_copies;
pub mod release_views;
pub mod releases;
pub mod retry;
pub mod shell;
pub mod status;
pub mod storage_keys;
pub mod stream;
pub mod stream_file;
pub mod tasks;
pub mod time_text;
pub mod upload;
pub mod verify_task;
pub mod vote;

#[cfg(feature = "test-support")]
pub mod test_support;

#[cfg(feature = "test-support")]
pub mod imap_server;

#[cfg(feature = "test-support")]
pub mod test_ca;

pub use app::{App, Clock, Limits, NoNotifier, NoSite, OffsetFileClock, SitePublisher, SystemClock, TaskNotifier};
pub use error::{AppError, AppResult};

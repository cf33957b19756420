//! trs's HTTP API contract: the request and response types ("views") of the endpoints, apart
//! from the stored types the server keeps (as crates.io keeps its views apart from its
//! models), and the OpenAPI 3.1 document generated from them ([`document`]).
//!
//! The server's handlers take the request types and answer with the response types, which
//! trs-app's `api_views` builds from the stored records (a stored type never goes to the wire
//! itself); the CLI reads answers as these types. Only the exports of other standards (OSV,
//! CVE JSON 5, CLE, endoflife.date) are answered as documents of their own standard. The document is served at [`OPENAPI_PATH`] and committed as
//! `docs/openapi.json` (`scripts/openapi.sh` regenerates it; a test fails when it drifts).
//!
//! Only serde and utoipa: no HTTP server or client, so any client may depend on it.

pub mod advisories;
pub mod common;
pub mod distributions;
mod document;
pub mod downloads;
pub mod error;
pub mod lifecycle;
pub mod mail;
pub mod people;
pub mod projects;
pub mod releases;
pub mod stream;
pub mod task_results;
pub mod tasks;
pub mod uploads;
pub mod votes;

pub use document::{Auth, Body, Endpoint, document, document_json, endpoints};
pub use error::ErrorBody;

/// Where every host serves the document.
pub const OPENAPI_PATH: &str = "/api/v1/openapi.json";

#![allow(dead_code)] // not every test file uses every helper
pub mod aws_stack;
/// The GitHub Releases stand-in the end-to-end tests distribute to (one file, shared).
#[path = "../../../../../tests/src/github_server.rs"]
pub mod github_server;
pub mod iam;
pub mod runtime_api;

use serde_json::Value;

/// A recorded event from tests/fixtures/ (API Gateway, SQS, EventBridge, DynamoDB stream).
pub fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

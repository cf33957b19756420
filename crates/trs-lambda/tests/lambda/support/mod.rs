#![allow(dead_code)] // not every test file uses every helper
pub mod runtime_api;

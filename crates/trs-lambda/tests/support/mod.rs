pub mod runtime_api;

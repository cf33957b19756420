//! One module per command group; each turns parsed arguments into API calls and output.

pub mod admin;
pub mod backend;
pub mod bench;
pub mod bench_site;
pub mod bench_upload;
pub mod cve;
pub mod distribute;
pub mod import;
pub mod keys;
pub mod lifecycle;
pub mod mail;
pub mod person;
pub mod project;
pub mod promote;
pub mod public_download;
pub mod serve;
pub mod site;
pub mod site_host;
pub mod status;
pub mod stream;
pub mod task;
pub mod upload;
pub mod upload_resume;
pub mod vote;

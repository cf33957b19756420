//! End-to-end tests: the real `trs` binary against `trs serve`, GnuPG, moto and registry servers.
//! One test binary per crate: every test file is a module here, so the workspace links
//! one executable instead of one per file (link time and disk on a 2-core CI machine).

mod advisories;
mod api_contract;
mod aws_backend;
mod bench_upload;
mod distribute;
mod distribute_maven;
mod distribute_npm;
mod distribute_oci;
mod distribute_pypi;
mod distribute_support;
mod downloads;
mod drafts;
mod errors;
mod github_client;
mod import;
mod keys_import;
mod large_upload;
mod mail;
mod mail_tls;
mod manage;
mod maven_portal;
mod path_traversal;
mod public_site;
mod release_manager_flow;
mod release_path;
mod serve_connections;
mod serve_signals;
mod signed_calls;
mod site_browser;
mod site_build;
mod site_check;
mod site_support;
mod site_zola;
mod stream_views;
mod task_recovery;
mod upload_rules;
mod verification_failures;
mod version_order;
mod vote_flow;
mod vote_mail;

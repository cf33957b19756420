//! The AWS stores on moto: the store contract, S3 behaviour, provisioning, the site bucket and the CDN.
//! One test binary per crate: every test file is a module here, so the workspace links
//! one executable instead of one per file (link time and disk on a 2-core CI machine).

mod cdn;
mod contract;
mod provision;
mod s3_behaviour;
mod site_store;

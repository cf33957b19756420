//! The registry clients against real registry servers on loopback.
//! One test binary per crate: every test file is a module here, so the workspace links
//! one executable instead of one per file (link time and disk on a 2-core CI machine).

mod npm;
mod oci;
mod pypi;
mod silent;

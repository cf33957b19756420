//! The verification checks against files and signatures made by the usual tools.
//! One test binary per crate: every test file is a module here, so the workspace links
//! one executable instead of one per file (link time and disk on a 2-core CI machine).

mod archive;
mod checksum;
mod common;
mod revision;
mod sbom;
mod signature;

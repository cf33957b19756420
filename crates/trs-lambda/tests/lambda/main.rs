//! The Lambda adapters: runtime API, routes, AWS wiring on moto.
//! One test binary per crate: every test file is a module here, so the workspace links
//! one executable instead of one per file (link time and disk on a 2-core CI machine).

mod adapters;
mod artifacts;
mod aws;
mod aws_flows;
mod iam;
mod operator_stack;
mod release_path;
mod routes;
mod runtime_api;
mod secrets;
mod support;
mod template_roles;

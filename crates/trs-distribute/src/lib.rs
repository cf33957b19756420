//! Distribution to package registries.
//!
//! A [`Platform`] is one value that declares everything about a registry: its name, URL
//! templates, whether it needs an owner namespace, how it stages and how a staged distribution
//! is promoted ([`PromotionMechanism`]). [`PLATFORMS`] is the only list of platforms; no other
//! code keeps its own list of which platforms stage or promote. Each platform has one
//! [`RegistryClient`] that talks to the registry's real API; [`config::client_for`] makes it.

pub mod client;
pub mod config;
#[doc(hidden)]
pub mod fuzzing;
pub mod github;
pub mod maven;
pub mod npm;
pub mod oci;
pub mod platform;
pub mod pypi;

pub use client::{
    Artifact, Credentials, DistributeError, Endpoint, Journal, Published, RegistryClient, Target, Timeouts,
};
pub use config::{client_for, clients, endpoints_from, endpoints_from_env};
pub use platform::{PLATFORMS, Platform, PlatformName, PromotionMechanism, Staging, platform};

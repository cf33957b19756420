//! Distribution to package registries: what trs knows about them, without talking to them.
//!
//! A [`Platform`] is one value that declares everything about a registry: its name, URL
//! templates, whether it needs an owner namespace, how it stages and how a staged distribution
//! is promoted ([`PromotionMechanism`]). [`PLATFORMS`] is the only list of platforms; no other
//! code keeps its own list of which platforms stage or promote. Each platform has one
//! [`RegistryClient`] that talks to the registry's real API; the clients, and the
//! [`Downloader`] of the `[ANNOUNCE]` check, are in `trs-registry-clients`, so this crate and
//! the use cases above it (`trs-app`) link no HTTP client: only the hosts (`trs-cli`,
//! `trs-lambda`) build them and hand them to the use cases.

pub mod client;
pub mod config;
pub mod downloads;
pub mod platform;

pub use client::{
    Artifact, Credentials, DistributeError, Endpoint, Journal, Published, RegistryClient, Target, Timeouts,
};
pub use config::{endpoints_from, endpoints_from_env};
pub use downloads::{Download, Downloader};
pub use platform::{PLATFORMS, Platform, PlatformName, PromotionMechanism, Staging, platform};

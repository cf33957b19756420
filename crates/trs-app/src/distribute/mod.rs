//! Distribution: pushing exactly the voted bytes to package registries, staging them there
//! before the vote ends, and promoting the staged distribution once the release is current.
//!
//! - [`Registries`] (held by [`crate::App`]) is the configured client per platform.
//! - A [`DistributionRecord`] per (release, platform, namespace, package, version) says what
//!   trs did there: staged or production, pending, retries, URLs, creator, the staged
//!   revision key and the last error ([`record`]).
//! - [`request`] checks the rules and queues one tracked task (`TaskKind::Distribute`);
//!   [`execute`] runs it, platform by platform, with per-platform progress steps.
//!
//! Rules ([`rules`]): staging is allowed for a candidate (a release with a revision; the
//! staged revision key is recorded); a production distribution, or the promotion of a staged
//! one, only once the release is current, and a staged distribution is promoted only if its
//! staged revision key is the release's voted revision key.

pub mod auto;
pub mod record;
pub mod registries;
pub mod rules;
pub mod run;

pub use auto::{on_promotion, set_auto_distributions};
pub use record::{DistributionRecord, list_records};
pub use registries::{Backoff, Registries};
pub use rules::DistributionSpec;
pub use run::{execute, request, run_distributions};

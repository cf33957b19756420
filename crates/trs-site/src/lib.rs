//! The public download site: a static directory of projects, releases, KEYS, history, feeds and
//! JSON views, rendered from the item store with the templates of `site/`, a zola site (Tera 1,
//! zola's context).
//!
//! - [`paths`]: where each page lives (the one place site paths are formatted);
//! - [`config`]: `site/zola.toml` and the templates, embedded, overridable from a folder;
//! - [`load`]: reads what pages show, through trs-app;
//! - [`context`]: one typed context per page kind, pure functions of loaded data;
//! - [`render`]: context → [`trs_storage::SiteObject`];
//! - [`zola`]: each page as zola content (section or page, template, front matter), the context
//!   zola renders it with, and the whole tree `zola build` reads ([`zola::write_tree`]);
//! - [`plan`]: which pages an event changes;
//! - [`publish`]: renders those, writes only objects whose digest changed, invalidates the CDN;
//!   or renders everything ([`publish::Site::full_build`]).
//!
//! Pages are a pure function of stored data (no "generated at" time), so rendering twice gives
//! the same bytes and an unchanged page is never rewritten.

pub mod config;
pub mod context;
pub mod load;
pub mod paths;
pub mod plan;
pub mod publish;
pub mod render;
pub mod zola;

pub use config::SiteConfig;
pub use publish::{PublishReport, Site, SiteBuildError};

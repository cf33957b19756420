//! The `publish-site` function: on each release-stream event, render the site pages the event
//! changed, write those whose bytes changed to the site store, and invalidate them in the CDN;
//! or rebuild the whole site (disaster recovery, template changes). A thin adapter over
//! `trs-site`, shared by `trs serve` (a folder) and the Lambda host (an S3 bucket behind
//! CloudFront).

use std::sync::{Arc, LazyLock};
use trs_app::App;
use trs_core::Event;
use trs_site::render::Renderer;
use trs_site::{PublishReport, Site, SiteBuildError};
use trs_storage::{CdnInvalidator, SiteStore};

pub use trs_site::publish::{PublishingSink, run_publisher};

/// The embedded templates, parsed once per process (a warm Lambda reuses them).
static EMBEDDED: LazyLock<Arc<Renderer>> = LazyLock::new(|| Arc::new(Renderer::embedded()));

/// A publisher with the embedded templates over `store` and `cdn`.
pub fn site(store: Arc<dyn SiteStore>, cdn: Arc<dyn CdnInvalidator>) -> Site {
    Site::with_renderer(EMBEDDED.clone(), store, cdn)
}

/// Publishes what `event` changed.
pub async fn publish_event(
    app: &App,
    store: Arc<dyn SiteStore>,
    cdn: Arc<dyn CdnInvalidator>,
    event: &Event,
) -> Result<PublishReport, SiteBuildError> {
    site(store, cdn).publish_event(app, event).await
}

/// Renders every page; writes what changed and deletes what no page produces.
pub async fn full_build(
    app: &App,
    store: Arc<dyn SiteStore>,
    cdn: Arc<dyn CdnInvalidator>,
) -> Result<PublishReport, SiteBuildError> {
    site(store, cdn).full_build(app).await
}

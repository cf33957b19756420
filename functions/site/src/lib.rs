//! The `publish-site` function: on each release-stream event, render the site pages the event
//! changed, write those whose bytes changed to the site store, and invalidate them in the CDN;
//! or rebuild the whole site (disaster recovery, template changes). A thin adapter over
//! `trs-site`, shared by `trs serve` (a folder) and the Lambda host (an S3 bucket behind
//! CloudFront).

use std::sync::Arc;
use trs_app::App;
use trs_core::Event;
use trs_site::config::SiteSource;
use trs_site::{PublishReport, Site, SiteBuildError};
use trs_storage::{CdnInvalidator, SiteStore};

pub use trs_site::publish::{PublishingSink, run_publisher};
pub use trs_site::render::Renderer;

/// The embedded templates, rendering under `download_url` (the public origin the site and its
/// files are served from: `TRS_DOWNLOAD_URL` on AWS, as `trs serve` passes its own URL) when
/// given. Without it the Atom feeds' ids fall back to `urn:trs:` names that are the same on
/// every installation, and their links, `endoflife.json`'s `latest.link` and `files.json`'s
/// URLs stay relative. The Lambda host builds it once, at cold start (a warm Lambda reuses it).
pub fn renderer(download_url: Option<&str>) -> Arc<Renderer> {
    let mut source = SiteSource::embedded();
    if let Some(url) = download_url {
        source.config.set_download_url(url);
    }
    Arc::new(Renderer::new(source).expect("the embedded site templates parse"))
}

/// A publisher with `renderer` over `store` and `cdn`.
pub fn site(renderer: Arc<Renderer>, store: Arc<dyn SiteStore>, cdn: Arc<dyn CdnInvalidator>) -> Site {
    Site::with_renderer(renderer, store, cdn)
}

/// Publishes what `event` changed.
pub async fn publish_event(
    app: &App,
    renderer: Arc<Renderer>,
    store: Arc<dyn SiteStore>,
    cdn: Arc<dyn CdnInvalidator>,
    event: &Event,
) -> Result<PublishReport, SiteBuildError> {
    site(renderer, store, cdn).publish_event(app, event).await
}

/// Renders every page; writes what changed and deletes what no page produces.
pub async fn full_build(
    app: &App,
    renderer: Arc<Renderer>,
    store: Arc<dyn SiteStore>,
    cdn: Arc<dyn CdnInvalidator>,
) -> Result<PublishReport, SiteBuildError> {
    site(renderer, store, cdn).full_build(app).await
}

//! `trs site build --full`: renders the whole public site from the data (the data folder, or
//! the AWS backend's table and bucket) into a folder or the site bucket, writing only objects
//! whose bytes changed, deleting objects no page produces, and invalidating what changed in the
//! CloudFront distribution when one is given. For disaster recovery, template changes, and
//! checks over a full build.
//!
//! `trs site zola --out DIR`: the same site as a zola site (`trs_site::zola::write_tree`).

use crate::cli::BackendArgs;
use crate::error::{CliResult, failed};
use crate::output;
use serde::Serialize;
use std::path::Path;
use std::sync::Arc;
use trs_app::App;
use trs_site::Site;
use trs_storage::{CdnInvalidator, NoCdn};

/// Where the site goes.
pub enum Target<'a> {
    /// A folder (default: DATA/site, which `trs serve` serves).
    Folder(Option<&'a Path>),
    /// An S3 bucket, with the CloudFront distribution in front of it if given.
    Bucket { bucket: &'a str, distribution: Option<&'a str> },
}

#[derive(Serialize)]
struct BuildOutput {
    out: String,
    #[serde(flatten)]
    report: trs_site::PublishReport,
    seconds: f64,
    pages_per_second: f64,
}

/// The stores the site is rendered from, opened by this command (not through a server).
async fn open_app(data: &Path, backend: &BackendArgs) -> CliResult<App> {
    let stores = super::backend::open(backend, data, "http://127.0.0.1")
        .await
        .map_err(|e| failed(format!("{e} (`trs serve` keeps the data folder open and publishes the site itself)")))?;
    let mut app = App::new(stores.items, stores.blobs);
    app.clock = crate::clock::clock();
    Ok(app)
}

/// `trs site zola`: writes the zola tree of the whole site into `out`.
pub async fn zola(
    data: &Path,
    backend: &BackendArgs,
    out: &Path,
    templates: Option<&Path>,
    download_url: Option<&str>,
    as_json: bool,
) -> CliResult<()> {
    let app = open_app(data, backend).await?;
    let renderer = super::site_host::renderer(templates, download_url)?;
    let report = trs_site::zola::write_tree(&app, &renderer, out).await.map_err(failed)?;
    if as_json {
        output::json(&report);
    } else {
        say!(
            "zola site written to {}: {} content files, {} data files and {} static files under static/, {} templates; \
             build it with `zola build` in that folder",
            out.display(),
            report.content_files,
            report.assets,
            report.statics,
            report.templates
        );
    }
    Ok(())
}

pub async fn build(
    data: &Path,
    backend: &BackendArgs,
    target: Target<'_>,
    templates: Option<&Path>,
    download_url: Option<&str>,
    as_json: bool,
) -> CliResult<()> {
    let app = open_app(data, backend).await?;
    let renderer = super::site_host::renderer(templates, download_url)?;
    let (out, site) = match target {
        Target::Folder(out) => {
            let folder = out.map(Path::to_path_buf).unwrap_or_else(|| super::site_host::site_folder(data));
            (folder.display().to_string(), super::site_host::open(&folder, renderer)?)
        }
        Target::Bucket { bucket, distribution } => {
            let endpoint = backend.aws_endpoint.as_deref();
            let (store, cdn) = trs_storage_aws::open_site(endpoint, bucket, distribution, backend.aws_create)
                .await
                .map_err(|e| failed(format!("site bucket {bucket}: {e}")))?;
            let cdn: Arc<dyn CdnInvalidator> = match cdn {
                Some(cdn) => Arc::new(cdn),
                None => Arc::new(NoCdn),
            };
            (format!("s3://{bucket}"), Arc::new(Site::new(renderer, Arc::new(store), cdn)))
        }
    };
    let start = std::time::Instant::now();
    let report = site.full_build(&app).await.map_err(failed)?;
    let seconds = start.elapsed().as_secs_f64();
    let result =
        BuildOutput { out, pages_per_second: report.pages_rendered as f64 / seconds.max(1e-9), report, seconds };
    if as_json {
        output::json(&result);
    } else {
        say!(
            "site built in {}: {} objects rendered, {} written, {} deleted in {:.2} s ({:.0} pages/s)",
            result.out,
            result.report.pages_rendered,
            result.report.objects_written,
            result.report.objects_deleted,
            result.seconds,
            result.pages_per_second
        );
        if let Some(id) = &result.report.invalidation_id {
            say!("CDN invalidation {id}: {} paths", result.report.invalidate.len());
        }
    }
    Ok(())
}

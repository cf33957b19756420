//! `trs site build --full`: renders the whole public site from the data folder (as `trs serve`
//! reads it) into a folder, writing only objects whose bytes changed and deleting objects no
//! page produces. For disaster recovery, template changes, and checks over a full build.

use crate::cli::BackendArgs;
use crate::error::{CliResult, failed};
use crate::output;
use serde::Serialize;
use std::path::Path;
use trs_app::App;

#[derive(Serialize)]
struct BuildOutput {
    out: String,
    #[serde(flatten)]
    report: trs_site::PublishReport,
    seconds: f64,
    pages_per_second: f64,
}

pub async fn build(
    data: &Path,
    backend: &BackendArgs,
    out: Option<&Path>,
    templates: Option<&Path>,
    as_json: bool,
) -> CliResult<()> {
    let stores = super::backend::open(backend, data, "http://127.0.0.1")
        .await
        .map_err(|e| failed(format!("{e} (`trs serve` keeps the data folder open and publishes the site itself)")))?;
    let app = App::new(stores.items, stores.blobs);
    let folder = out.map(Path::to_path_buf).unwrap_or_else(|| super::site_host::site_folder(data));
    let site = super::site_host::open(&folder, super::site_host::renderer(templates, None)?)?;
    let start = std::time::Instant::now();
    let report = site.full_build(&app).await.map_err(failed)?;
    let seconds = start.elapsed().as_secs_f64();
    let result = BuildOutput {
        out: folder.display().to_string(),
        pages_per_second: report.pages_rendered as f64 / seconds.max(1e-9),
        report,
        seconds,
    };
    if as_json {
        output::json(&result);
    } else {
        println!(
            "site built in {}: {} objects rendered, {} written, {} deleted in {:.2} s ({:.0} pages/s)",
            result.out,
            result.report.pages_rendered,
            result.report.objects_written,
            result.report.objects_deleted,
            result.seconds,
            result.pages_per_second
        );
    }
    Ok(())
}

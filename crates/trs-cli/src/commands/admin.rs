//! `trs admin bootstrap`: registers the first admin directly in the data folder, before the
//! server runs (there is nobody yet who could sign an API call to do it).

use crate::cli::{BackendArgs, BackendKind};
use crate::error::{CliResult, failed};
use crate::output;
use std::path::Path;
use trs_app::{App, people};

pub async fn bootstrap(data: &Path, backend: &BackendArgs, uid: &str, cert: &Path, json: bool) -> CliResult<()> {
    let uid = uid.parse().map_err(failed)?;
    let certificate = std::fs::read(cert).map_err(|e| failed(format!("cannot read {}: {e}", cert.display())))?;
    let stores = super::backend::open(backend, data, "http://127.0.0.1").await.map_err(|e| match backend.backend {
        BackendKind::Embedded => failed(format!("{e} (is `trs serve` running on it?)")),
        BackendKind::Aws => e,
    })?;
    // The bootstrap's event belongs in the same event file as those `trs serve` appends later.
    let events = trs_app::stream_file::EventFile::open(data, stores.items.clone())
        .map_err(|e| failed(format!("cannot open the event file in {}: {e}", data.display())))?;
    let mut app = App::new(stores.items, stores.blobs);
    app.clock = crate::clock::clock();
    app.events = std::sync::Arc::new(events);
    let person = people::bootstrap_admin(&app, people::NewPerson { uid, name: None, email: None, certificate })
        .await
        .map_err(failed)?;
    if json {
        output::json(&person);
    } else {
        say!("admin {} registered with key {}", person.uid, person.keys[0]);
    }
    Ok(())
}

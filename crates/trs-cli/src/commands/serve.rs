//! `trs serve`: the embedded host. Every function handler's routes behind one HTTP server,
//! over the embedded stores in one data folder or DynamoDB and S3 (`--backend aws`), the
//! verify worker on tokio, and a scheduler tick that sweeps queued tasks (so nothing queued
//! before a crash is forgotten).

use super::backend::Stores;
use crate::cli::BackendArgs;
use crate::error::{CliResult, failed};
use axum::Router;
use axum::routing::get;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use trs_app::{App, TaskNotifier};
use trs_core::OpaqueId;
use trs_storage::embedded::EmbeddedItemStore;

/// How often queued tasks are swept even if no announcement arrived.
const SWEEP_EVERY: Duration = Duration::from_secs(30);

struct ChannelNotifier(mpsc::UnboundedSender<OpaqueId>);

impl TaskNotifier for ChannelNotifier {
    fn task_queued(&self, id: &OpaqueId) {
        let _ = self.0.send(id.clone());
    }
}

/// Builds the router with every function's routes over already opened stores, and its worker.
pub fn build(stores: Stores) -> (Router, Worker) {
    let (tx, rx) = mpsc::unbounded_channel();
    let mut app = App::new(stores.items, stores.blobs);
    app.notifier = Arc::new(ChannelNotifier(tx));
    let router = Router::new()
        .route("/api/v1/health", get(|| async { "ok\n" }))
        .merge(trs_function_admin::routes())
        .merge(trs_function_upload::routes())
        .merge(trs_function_verify::routes())
        .merge(trs_function_promote::routes())
        .merge(super::public_download::routes())
        .with_state(app.clone())
        .merge(stores.routes);
    (router, Worker { app, purge: stores.purge, rx })
}

/// The background half of the host: runs announced tasks, and on every tick sweeps queued
/// tasks and purges expired items (nonces, abandoned upload sessions) where the store needs it.
pub struct Worker {
    app: App,
    purge: Option<Arc<EmbeddedItemStore>>,
    rx: mpsc::UnboundedReceiver<OpaqueId>,
}

impl Worker {
    pub async fn run(mut self) {
        let mut tick = tokio::time::interval(SWEEP_EVERY);
        loop {
            tokio::select! {
                Some(id) = self.rx.recv() => run_one(&self.app, &id).await,
                _ = tick.tick() => {
                    match trs_app::tasks::unfinished_tasks(&self.app).await {
                        Ok(tasks) => for t in tasks { run_one(&self.app, &t.id).await },
                        Err(e) => tracing::error!(error = %e, "could not list queued tasks"),
                    }
                    if let Some(items) = &self.purge
                        && let Err(e) = items.purge_expired().await
                    {
                        tracing::error!(error = %e, "could not purge expired items");
                    }
                }
            }
        }
    }
}

async fn run_one(app: &App, id: &OpaqueId) {
    if let Err(e) = trs_app::tasks::run(app, id).await {
        tracing::error!(task = %id, error = %e, "task failed");
    }
}

pub async fn run(
    data: &std::path::Path,
    backend: &BackendArgs,
    listen: SocketAddr,
    public_url: Option<String>,
) -> CliResult<()> {
    let listener =
        tokio::net::TcpListener::bind(listen).await.map_err(|e| failed(format!("cannot listen on {listen}: {e}")))?;
    let bound = listener.local_addr().map_err(failed)?;
    let public_url = public_url.unwrap_or_else(|| format!("http://{bound}"));
    let stores = super::backend::open(backend, data, &public_url).await?;
    let description = stores.description.clone();
    let (router, worker) = build(stores);
    tokio::spawn(worker.run());
    eprintln!("trs serving on {public_url} (listening on {bound}), {description}");
    axum::serve(listener, router)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(failed)
}

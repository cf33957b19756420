//! `trs serve`: the embedded host. Every function handler's routes behind one HTTP server,
//! the embedded stores in one data folder, the verify worker on tokio, and a scheduler tick
//! that sweeps queued tasks (so nothing queued before a crash is forgotten), and the lifecycle
//! tick on its own interval. Committed events are appended to `DATA/events.ndjson`.

use crate::error::{CliResult, failed};
use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::response::IntoResponse;
use axum::routing::{get, put};
use futures::TryStreamExt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use trs_app::{App, AppError, TaskNotifier};
use trs_core::OpaqueId;
use trs_http::ApiError;
use trs_storage::embedded::{EmbeddedBlobStore, EmbeddedItemStore};

/// How often queued tasks are swept even if no announcement arrived.
const SWEEP_EVERY: Duration = Duration::from_secs(30);

struct ChannelNotifier(mpsc::UnboundedSender<OpaqueId>);

impl TaskNotifier for ChannelNotifier {
    fn task_queued(&self, id: &OpaqueId) {
        let _ = self.0.send(id.clone());
    }
}

/// Builds the router with every function's routes over the data folder, and its worker.
pub fn build(data: &std::path::Path, public_url: &str, lifecycle_every: Duration) -> CliResult<(Router, Worker)> {
    let (items, blobs) = trs_storage::embedded::open_data_dir(data, public_url.to_string())
        .map_err(|e| failed(format!("cannot open data folder {}: {e}", data.display())))?;
    let blobs = Arc::new(blobs);
    let items = Arc::new(items);
    let (tx, rx) = mpsc::unbounded_channel();
    let mut app = App::new(items.clone(), blobs.clone());
    app.notifier = Arc::new(ChannelNotifier(tx));
    app.events = Arc::new(
        super::ndjson_sink::NdjsonSink::open(data)
            .map_err(|e| failed(format!("cannot open the event file in {}: {e}", data.display())))?,
    );
    let blob_upload = Router::new()
        .route("/api/v1/blob-upload/{token}", put(accept_upload))
        .layer(DefaultBodyLimit::disable())
        .with_state(blobs);
    let router = Router::new()
        .route("/api/v1/health", get(|| async { "ok\n" }))
        .merge(trs_function_admin::routes())
        .merge(trs_function_upload::routes())
        .merge(trs_function_verify::routes())
        .merge(trs_function_promote::routes())
        .merge(trs_function_vote::routes())
        .merge(trs_function_lifecycle::routes())
        .merge(trs_function_stream::routes())
        .merge(super::public_download::routes())
        .with_state(app.clone())
        .merge(blob_upload);
    Ok((router, Worker { app, items, rx, lifecycle_every }))
}

/// The background half of the host: runs announced tasks, and on every tick sweeps queued
/// tasks and purges expired items (nonces, abandoned upload sessions).
pub struct Worker {
    app: App,
    items: Arc<EmbeddedItemStore>,
    rx: mpsc::UnboundedReceiver<OpaqueId>,
    lifecycle_every: Duration,
}

/// The embedded blob store's upload URL endpoint (the role S3's presigned PUT plays on AWS).
async fn accept_upload(
    State(blobs): State<Arc<EmbeddedBlobStore>>,
    Path(token): Path<String>,
    body: Body,
) -> Result<impl IntoResponse, ApiError> {
    let stream = body.into_data_stream().map_err(std::io::Error::other);
    let meta = blobs.accept_upload(&token, Box::pin(stream)).await.map_err(AppError::from)?;
    Ok((axum::http::StatusCode::CREATED, axum::Json(meta)))
}

impl Worker {
    pub async fn run(mut self) {
        let mut tick = tokio::time::interval(SWEEP_EVERY);
        let mut lifecycle = tokio::time::interval(self.lifecycle_every);
        lifecycle.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                Some(id) = self.rx.recv() => run_one(&self.app, &id).await,
                _ = lifecycle.tick() => run_lifecycle(&self.app).await,
                _ = tick.tick() => {
                    match trs_app::tasks::unfinished_tasks(&self.app).await {
                        Ok(tasks) => for t in tasks { run_one(&self.app, &t.id).await },
                        Err(e) => tracing::error!(error = %e, "could not list queued tasks"),
                    }
                    if let Err(e) = self.items.purge_expired().await {
                        tracing::error!(error = %e, "could not purge expired items");
                    }
                }
            }
        }
    }
}

async fn run_lifecycle(app: &App) {
    match trs_function_lifecycle::tick(app).await {
        Ok(report) if report.items.is_empty() => {}
        Ok(report) => {
            tracing::info!(items = report.items.len(), moved = ?report.moved_to_end_of_life(), "lifecycle tick")
        }
        Err(e) => tracing::error!(error = %e, "lifecycle tick failed"),
    }
}

async fn run_one(app: &App, id: &OpaqueId) {
    if let Err(e) = trs_app::tasks::run(app, id).await {
        tracing::error!(task = %id, error = %e, "task failed");
    }
}

pub async fn run(
    data: &std::path::Path,
    listen: SocketAddr,
    public_url: Option<String>,
    lifecycle_every: Duration,
) -> CliResult<()> {
    let listener =
        tokio::net::TcpListener::bind(listen).await.map_err(|e| failed(format!("cannot listen on {listen}: {e}")))?;
    let bound = listener.local_addr().map_err(failed)?;
    let public_url = public_url.unwrap_or_else(|| format!("http://{bound}"));
    let (router, worker) = build(data, &public_url, lifecycle_every)?;
    tokio::spawn(worker.run());
    eprintln!("trs serving on {public_url} (listening on {bound}), data in {}", data.display());
    axum::serve(listener, router)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(failed)
}

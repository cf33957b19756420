//! The verify function: runs a queued verify task (triggered by the upload commit: a channel
//! in `trs serve`, a queue message on AWS) and answers task progress for clients that wait.

use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use trs_app::{App, AppResult, tasks};
use trs_core::OpaqueId;
use trs_http::{ApiResult, parse_segment};

pub fn routes() -> Router<App> {
    Router::new().route("/api/v1/tasks/{id}", get(task_status))
}

/// Runs one task to its end. Safe to call twice: a finished task is left alone.
pub async fn run_task(app: &App, id: &OpaqueId) -> AppResult<()> {
    tasks::run(app, id).await
}

async fn task_status(State(app): State<App>, Path(id): Path<String>) -> ApiResult<impl IntoResponse> {
    let id: OpaqueId = parse_segment(&id)?;
    let (task, _) = tasks::get_task(&app, &id).await?;
    Ok(Json(task))
}

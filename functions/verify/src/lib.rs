//! The verify function: runs a queued verify task (triggered by the upload commit: a channel
//! in `trs serve`, a queue message on AWS) and answers task progress for clients that wait.

use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use std::time::Duration;
use trs_app::{App, AppResult, tasks};
use trs_core::OpaqueId;
use trs_http::{ApiResult, Path, Query, parse_segment};

pub fn routes() -> Router<App> {
    Router::new().route("/api/v1/tasks/{id}", get(task_status)).route("/api/v1/mail/polls", get(mail_polls))
}

/// Runs one task to its end. Safe to call twice: a finished task is left alone.
pub async fn run_task(app: &App, id: &OpaqueId) -> AppResult<()> {
    tasks::run(app, id).await
}

/// `?wait=SECS&steps=N`: answer once the task is finished or has a step beyond the first N,
/// or after SECS (at most 20); on a host that cannot tell (Lambda) at once. Without `wait`,
/// at once.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WaitQuery {
    wait: Option<u64>,
    #[serde(default)]
    steps: usize,
}

async fn task_status(
    State(app): State<App>,
    Path(id): Path<String>,
    Query(q): Query<WaitQuery>,
) -> ApiResult<impl IntoResponse> {
    let id: OpaqueId = parse_segment(&id)?;
    let task = match q.wait {
        Some(secs) => tasks::wait_for_change(&app, &id, q.steps, Duration::from_secs(secs)).await?,
        None => tasks::get_task(&app, &id).await?.0,
    };
    Ok(Json(trs_api::tasks::Task::from(task)))
}

/// The latest IMAP poll rounds of `trs serve`, as their tasks (none on AWS, which polls in the
/// lifecycle function's scheduled run).
async fn mail_polls(State(app): State<App>) -> ApiResult<impl IntoResponse> {
    let rounds = trs_app::vote::mail_poll::recent_rounds(&app).await?;
    Ok(Json(trs_api::mail::MailPolls { polls: rounds.into_iter().map(Into::into).collect() }))
}

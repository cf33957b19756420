//! The promote function: a signed call checks that a release's vote passed and queues the
//! promotion task, which publishes exactly the voted bytes (see `trs_app::promote`). A thin
//! adapter; the task itself runs wherever tasks run (the worker of `trs serve`, a queue
//! consumer on AWS).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use trs_api::common::ProductOnly;
use trs_app::{App, promote};
use trs_http::{ApiResult, Path, SignedCall, body_product, release_id};

pub fn routes() -> Router<App> {
    Router::new().route("/api/v1/projects/{project}/releases/{version}/promote", post(request_promotion))
}

async fn request_promotion(
    State(app): State<App>,
    Path((project, version)): Path<(String, String)>,
    call: SignedCall,
) -> ApiResult<impl IntoResponse> {
    let req: ProductOnly = call.json()?;
    let id = release_id(&project, body_product(req.product.as_deref())?, &version)?;
    let task = promote::request(&app, &call.caller, &id).await?;
    Ok((StatusCode::ACCEPTED, Json(trs_api::tasks::Task::from(task))))
}

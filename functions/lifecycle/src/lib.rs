//! The lifecycle function: signed calls that set end-of-life and support dates (per release or
//! per release line), revoke, archive, and enter or leave freeform states. A thin adapter over
//! `trs_app::lifecycle`; the scheduled tick ([`tick`]) is what an EventBridge schedule (or
//! `trs serve`'s own interval) invokes.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use trs_api::lifecycle::{RevokeRelease, SetDates};
use trs_app::lifecycle::{self, DatesTarget};
use trs_app::{App, AppResult, api_views};
use trs_http::{ApiResult, Path, ProductOnly, Query, SignedCall, body_product, parse_segment, release_id};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/api/v1/projects/{project}/releases/{version}/revoke", post(revoke))
        .route("/api/v1/projects/{project}/releases/{version}/archive", post(archive))
        .route("/api/v1/projects/{project}/releases/{version}/eol", post(release_dates))
        .route("/api/v1/projects/{project}/lines/{line}/dates", post(line_dates))
        .route("/api/v1/projects/{project}/releases/{version}/states/{state}", post(enter).delete(leave))
}

/// The scheduled entry point: one lifecycle tick.
pub async fn tick(app: &App) -> AppResult<lifecycle::Report> {
    lifecycle::run_scheduled(app).await
}

async fn revoke(
    State(app): State<App>,
    Path((project, version)): Path<(String, String)>,
    call: SignedCall,
) -> ApiResult<impl IntoResponse> {
    let req: RevokeRelease = call.json()?;
    let id = release_id(&project, body_product(req.product.as_deref())?, &version)?;
    Ok(Json(api_views::event(&lifecycle::revoke(&app, &call.caller, &id, &req.reason).await?)))
}

async fn archive(
    State(app): State<App>,
    Path((project, version)): Path<(String, String)>,
    call: SignedCall,
) -> ApiResult<impl IntoResponse> {
    let req: trs_api::common::ProductOnly = call.json()?;
    let id = release_id(&project, body_product(req.product.as_deref())?, &version)?;
    let archived = lifecycle::archive_release(&app, Some(&call.caller), &id).await?;
    Ok(Json(trs_api::lifecycle::ArchivedRelease::from(archived)))
}

async fn release_dates(
    State(app): State<App>,
    Path((project, version)): Path<(String, String)>,
    call: SignedCall,
) -> ApiResult<impl IntoResponse> {
    let req: SetDates = call.json()?;
    let id = release_id(&project, body_product(req.product.as_deref())?, &version)?;
    let event =
        lifecycle::set_dates(&app, &call.caller, DatesTarget::Release(id), req.end_of_life, req.support_until).await?;
    Ok(Json(api_views::event(&event)))
}

async fn line_dates(
    State(app): State<App>,
    Path((project, line)): Path<(String, String)>,
    call: SignedCall,
) -> ApiResult<impl IntoResponse> {
    let req: SetDates = call.json()?;
    let product = body_product(req.product.as_deref())?;
    let target = DatesTarget::Line { project: parse_segment(&project)?, product, line };
    let event = lifecycle::set_dates(&app, &call.caller, target, req.end_of_life, req.support_until).await?;
    Ok(Json(api_views::event(&event)))
}

async fn enter(
    State(app): State<App>,
    Path((project, version, state)): Path<(String, String, String)>,
    call: SignedCall,
) -> ApiResult<impl IntoResponse> {
    let req: trs_api::common::ProductOnly = call.json()?;
    let id = release_id(&project, body_product(req.product.as_deref())?, &version)?;
    Ok((StatusCode::OK, Json(api_views::event(&lifecycle::enter_state(&app, &call.caller, &id, &state).await?))))
}

/// `DELETE` carries no body: the product, if any, is in the query (`?product=P`), which the
/// signature covers.
async fn leave(
    State(app): State<App>,
    Path((project, version, state)): Path<(String, String, String)>,
    Query(q): Query<ProductOnly>,
    call: SignedCall,
) -> ApiResult<impl IntoResponse> {
    let id = release_id(&project, q.product, &version)?;
    Ok(Json(api_views::event(&lifecycle::leave_state(&app, &call.caller, &id, &state).await?)))
}

//! A project's security advisories (`trs cve …`): recorded, changed and published by signed
//! calls of the project's security team; read by anyone once published, and before that by the
//! team signing the read; exported as OSV and CVE JSON 5 records. See docs/security-data.md.

use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use trs_api::advisories::{Advisory, AdvisoryList, PublishAdvisory};
use trs_app::{App, cve};
use trs_core::{CveId, ProjectName};
use trs_http::{ApiResult, MaybeSigned, Path, SignedCall, parse_segment};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/api/v1/projects/{project}/advisories", post(add).get(list))
        .route("/api/v1/projects/{project}/advisories/{id}", get(show).post(edit))
        .route("/api/v1/projects/{project}/advisories/{id}/publish", post(publish))
        .route("/api/v1/projects/{project}/advisories/{id}/osv", get(osv))
        .route("/api/v1/projects/{project}/advisories/{id}/cve5", get(cve5))
        .route("/api/v1/projects/{project}/osv", get(osv_feed))
}

fn ids(project: &str, id: &str) -> ApiResult<(ProjectName, CveId)> {
    Ok((parse_segment(project)?, parse_segment(id)?))
}

async fn add(State(app): State<App>, Path(project): Path<String>, call: SignedCall) -> ApiResult<impl IntoResponse> {
    let project: ProjectName = parse_segment(&project)?;
    let req: cve::NewAdvisory = call.json()?;
    let view = cve::add_advisory(&app, &call.caller, &project, req).await?;
    Ok((axum::http::StatusCode::CREATED, Json(Advisory::from(view))))
}

async fn list(
    State(app): State<App>,
    Path(project): Path<String>,
    MaybeSigned(call): MaybeSigned,
) -> ApiResult<impl IntoResponse> {
    let project: ProjectName = parse_segment(&project)?;
    let viewer = call.as_ref().map(|c| &c.caller);
    let advisories = cve::list_advisories(&app, viewer, &project).await?;
    Ok(Json(AdvisoryList { advisories: advisories.into_iter().map(Advisory::from).collect() }))
}

async fn show(
    State(app): State<App>,
    Path((project, id)): Path<(String, String)>,
    MaybeSigned(call): MaybeSigned,
) -> ApiResult<impl IntoResponse> {
    let (project, id) = ids(&project, &id)?;
    Ok(Json(Advisory::from(cve::show_advisory(&app, call.as_ref().map(|c| &c.caller), &project, &id).await?)))
}

async fn edit(
    State(app): State<App>,
    Path((project, id)): Path<(String, String)>,
    call: SignedCall,
) -> ApiResult<impl IntoResponse> {
    let (project, id) = ids(&project, &id)?;
    let req: cve::AdvisoryEdit = call.json()?;
    Ok(Json(Advisory::from(cve::edit_advisory(&app, &call.caller, &project, &id, req).await?)))
}

async fn publish(
    State(app): State<App>,
    Path((project, id)): Path<(String, String)>,
    call: SignedCall,
) -> ApiResult<impl IntoResponse> {
    let (project, id) = ids(&project, &id)?;
    let req: PublishAdvisory = call.json()?;
    Ok(Json(Advisory::from(cve::publish_advisory(&app, &call.caller, &project, &id, req.force).await?)))
}

async fn osv(State(app): State<App>, Path((project, id)): Path<(String, String)>) -> ApiResult<impl IntoResponse> {
    let (project, id) = ids(&project, &id)?;
    Ok(Json(cve::osv_record(&app, &project, &id).await?))
}

async fn cve5(State(app): State<App>, Path((project, id)): Path<(String, String)>) -> ApiResult<impl IntoResponse> {
    let (project, id) = ids(&project, &id)?;
    Ok(Json(cve::cve5_record(&app, &project, &id).await?))
}

async fn osv_feed(State(app): State<App>, Path(project): Path<String>) -> ApiResult<impl IntoResponse> {
    let project: ProjectName = parse_segment(&project)?;
    Ok(Json(cve::osv_feed(&app, &project).await?))
}

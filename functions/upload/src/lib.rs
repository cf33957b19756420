//! The upload function: a release manager starts an upload (declares files, receives upload
//! URLs: one per file, or one per part for files larger than a part of the blob store), sends
//! the bytes straight to the blob store (an interrupted upload is resumed: the answer lists
//! what arrived), then asks for the commit, which is a
//! tracked task (answered at once with 202; the task checks, hashes and stores the files and
//! makes the revision wherever tasks run: the worker of `trs serve`, this function's own
//! queue on AWS). Also
//! answers the release status that `trs status` shows, and discards drafts that never went to
//! a vote, and imports releases of an existing history (`trs import`: an upload whose commit
//! task stores the files here, then hands on to the promote function, which verifies them and
//! makes the release current or archived at once). A thin adapter over
//! `trs_app::upload`, `trs_app::draft` and `trs_app::import`.

use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use trs_api::uploads::{CommitUpload, StartImport, StartUpload};
use trs_app::{App, draft, import, status, upload};
use trs_core::{OpaqueId, ProductName};
use trs_http::{ApiResult, Path, Query, SignedCall, body_name, body_product, parse_segment, release_id};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/api/v1/projects/{project}/releases/{version}/uploads", post(start))
        .route("/api/v1/uploads/{id}/commit", post(commit))
        .route("/api/v1/uploads/{id}/resume", post(resume))
        .route("/api/v1/projects/{project}/releases/{version}", get(release_status))
        .route("/api/v1/projects/{project}/releases/{version}/discard", post(discard))
        .route("/api/v1/projects/{project}/releases/{version}/import", post(start_import))
        .route("/api/v1/imports/{id}/commit", post(commit_import))
}

/// The upload a request starts, its product parsed: a bad one is 400 `malformed-request`, as
/// when the body was read into typed fields (the paths are checked by the upload itself).
fn upload_of(req: StartUpload) -> ApiResult<upload::StartUpload> {
    Ok(upload::StartUpload {
        product: body_product(req.product.as_deref())?,
        files: req.files.into_iter().map(Into::into).collect(),
        force: req.force,
        base: req.base,
        remove: req.remove,
        replace: req.replace,
    })
}

/// The import a request starts, its product and digests parsed (as [`upload_of`]).
fn import_of(req: StartImport) -> ApiResult<import::StartImport> {
    let files = req.files.into_iter().map(|f| {
        Ok(import::DeclaredImportFile { sha512: body_name("sha512", &f.sha512)?, path: f.path, size: f.size })
    });
    Ok(import::StartImport {
        product: body_product(req.product.as_deref())?,
        stage: req.stage.into(),
        released_at: req.released_at,
        files: files.collect::<ApiResult<_>>()?,
    })
}

async fn start_import(
    State(app): State<App>,
    Path((project, version)): Path<(String, String)>,
    call: SignedCall,
) -> ApiResult<impl IntoResponse> {
    let req: StartImport = call.json()?;
    let req = import_of(req)?;
    let id = release_id(&project, req.product.clone(), &version)?;
    let started = import::start_import(&app, &call.caller, id, req).await?;
    let status = if started.already_imported { axum::http::StatusCode::OK } else { axum::http::StatusCode::CREATED };
    Ok((status, Json(trs_api::uploads::StartedImport::from(started))))
}

/// 202 and the import's commit task (its id is the import's), with its status URL as
/// `Location`; its result, once done, is the `ImportedRelease`. The body names the ETags of
/// the parts of files sent in parts, as an upload's commit does (`{}` when there are none).
async fn commit_import(
    State(app): State<App>,
    Path(id): Path<String>,
    call: SignedCall,
) -> ApiResult<impl IntoResponse> {
    let id: OpaqueId = parse_segment(&id)?;
    let req: CommitUpload = call.json()?;
    let task = import::request_commit(&app, &call.caller, &id, &req).await?;
    let status_url = format!("/api/v1/tasks/{}", task.id);
    Ok((
        axum::http::StatusCode::ACCEPTED,
        [(axum::http::header::LOCATION, status_url)],
        Json(trs_api::tasks::Task::from(task)),
    ))
}

async fn start(
    State(app): State<App>,
    Path((project, version)): Path<(String, String)>,
    call: SignedCall,
) -> ApiResult<impl IntoResponse> {
    let req: StartUpload = call.json()?;
    let req = upload_of(req)?;
    let id = release_id(&project, req.product.clone(), &version)?;
    let started = upload::start_upload(&app, &call.caller, id, req).await?;
    Ok((axum::http::StatusCode::CREATED, Json(trs_api::uploads::StartedUpload::from(started))))
}

/// 202 and the commit task (its id is the upload's), with its status URL as `Location`; its
/// result, once done, is the `CommittedUpload`. The body names the ETags of the parts of
/// files sent in parts (`{"parts": {"NAME": ["ETAG", ...]}}`; `{}` when there are none).
async fn commit(State(app): State<App>, Path(id): Path<String>, call: SignedCall) -> ApiResult<impl IntoResponse> {
    let id: OpaqueId = parse_segment(&id)?;
    let req: CommitUpload = call.json()?;
    let task = upload::request_commit(&app, &call.caller, &id, &req).await?;
    let status_url = format!("/api/v1/tasks/{}", task.id);
    Ok((
        axum::http::StatusCode::ACCEPTED,
        [(axum::http::header::LOCATION, status_url)],
        Json(trs_api::tasks::Task::from(task)),
    ))
}

/// The upload's targets again, with fresh URLs and what has arrived: an interrupted
/// `trs upload` sends only the rest.
async fn resume(State(app): State<App>, Path(id): Path<String>, call: SignedCall) -> ApiResult<impl IntoResponse> {
    let id: OpaqueId = parse_segment(&id)?;
    Ok(Json(trs_api::uploads::StartedUpload::from(upload::resume_upload(&app, &call.caller, &id).await?)))
}

async fn discard(
    State(app): State<App>,
    Path((project, version)): Path<(String, String)>,
    call: SignedCall,
) -> ApiResult<impl IntoResponse> {
    let req: trs_api::common::ProductOnly = call.json()?;
    let id = release_id(&project, body_product(req.product.as_deref())?, &version)?;
    Ok(Json(trs_api::uploads::DiscardedDraft::from(draft::discard(&app, &call.caller, &id).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProductQuery {
    product: Option<String>,
}

async fn release_status(
    State(app): State<App>,
    Path((project, version)): Path<(String, String)>,
    Query(q): Query<ProductQuery>,
) -> ApiResult<impl IntoResponse> {
    let product = q.product.as_deref().map(parse_segment::<ProductName>).transpose()?;
    let id = release_id(&project, product, &version)?;
    Ok(Json(trs_api::releases::ReleaseStatus::from(status::release_status(&app, &id).await?)))
}

//! The stream function: the read side of the release stream, public and unsigned (the role
//! table lets everyone view release events). Events page by page, the point-in-time views,
//! each release's history, the CLE and endoflife.date exports, and a server-side re-hash of a
//! stored chain.

use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use trs_app::release_views::{self, Scope};
use trs_app::{App, AppError, exports, projects, stream};
use trs_core::{ProductName, ProjectName, ReleaseId, StreamId, Version};
use trs_http::{ApiResult, Query, parse_segment};

pub fn routes() -> Router<App> {
    Router::new()
        .route("/api/v1/events", get(events))
        .route("/api/v1/events/verify", get(verify))
        .route("/api/v1/releases", get(all_releases))
        .route("/api/v1/projects/{project}/releases", get(project_releases))
        .route("/api/v1/projects/{project}/states", get(project_states))
        .route("/api/v1/projects/{project}/releases/{version}/history", get(history))
        .route("/api/v1/projects/{project}/cle", get(cle))
        .route("/api/v1/projects/{project}/endoflife.json", get(endoflife))
}

/// `?project=P` names a project's stream; without it, the foundation's (people, keys).
/// The stream of a named project (which must exist: an unknown project is a 404, not an
/// empty and therefore "intact" stream), or the foundation's.
async fn stream_of(app: &App, project: Option<&str>) -> ApiResult<StreamId> {
    Ok(match project {
        Some(p) => {
            let name = parse_segment::<ProjectName>(p)?;
            trs_app::projects::get_project(app, &name).await?;
            StreamId::Project(name)
        }
        None => StreamId::Foundation,
    })
}

fn product_of(product: Option<&str>) -> ApiResult<Option<ProductName>> {
    product.map(parse_segment::<ProductName>).transpose()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventsQuery {
    project: Option<String>,
    #[serde(default)]
    after: u64,
    limit: Option<usize>,
}

/// Events after sequence number `after`, as stored (so a follower can re-hash them).
async fn events(State(app): State<App>, Query(q): Query<EventsQuery>) -> ApiResult<impl IntoResponse> {
    let stream = stream_of(&app, q.project.as_deref()).await?;
    let page = stream::events_page_raw(&app, &stream, q.after, q.limit.unwrap_or(100)).await?;
    let last = page.last().and_then(|e| e.get("seq")).and_then(|s| s.as_u64()).unwrap_or(q.after);
    Ok(Json(json!({"stream": stream, "events": page, "last_seq": last})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VerifyQuery {
    project: Option<String>,
}

/// Re-hashes one stream (`?project=P`), or every stream (the foundation's and each
/// project's) when no project is named.
async fn verify(State(app): State<App>, Query(q): Query<VerifyQuery>) -> ApiResult<impl IntoResponse> {
    let streams = match q.project.as_deref() {
        Some(p) => vec![stream_of(&app, Some(p)).await?],
        None => std::iter::once(StreamId::Foundation)
            .chain(release_views::project_names(&app).await?.into_iter().map(StreamId::Project))
            .collect(),
    };
    let mut reports = Vec::new();
    for s in &streams {
        reports.push(release_views::verify_stream(&app, s).await?);
    }
    let ok = reports.iter().all(|r| r.ok);
    Ok(Json(json!({"ok": ok, "streams": reports})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ViewQuery {
    project: Option<String>,
    product: Option<String>,
    state: Option<String>,
    /// Unix seconds.
    at: Option<i64>,
}

async fn releases(app: &App, scope: Scope, q: &ViewQuery) -> ApiResult<impl IntoResponse + use<>> {
    if scope.product.is_some() && scope.project.is_none() {
        return Err(AppError::bad_request("product-needs-project", "?product= needs ?project=").into());
    }
    Ok(Json(release_views::releases_view(app, &scope, q.at, q.state.as_deref()).await?))
}

async fn all_releases(State(app): State<App>, Query(q): Query<ViewQuery>) -> ApiResult<impl IntoResponse> {
    let project = q.project.as_deref().map(parse_segment::<ProjectName>).transpose()?;
    let scope = Scope { project, product: product_of(q.product.as_deref())? };
    releases(&app, scope, &q).await
}

async fn project_releases(
    State(app): State<App>,
    Path(project): Path<String>,
    Query(q): Query<ViewQuery>,
) -> ApiResult<impl IntoResponse> {
    let scope = Scope { project: Some(parse_segment(&project)?), product: product_of(q.product.as_deref())? };
    releases(&app, scope, &q).await
}

/// States by release (the other way round of `releases`).
async fn project_states(
    State(app): State<App>,
    Path(project): Path<String>,
    Query(q): Query<ViewQuery>,
) -> ApiResult<impl IntoResponse> {
    let scope = Scope { project: Some(parse_segment(&project)?), product: product_of(q.product.as_deref())? };
    let view = release_views::releases_view(&app, &scope, q.at, None).await?;
    Ok(Json(json!({"at": view.at, "by_release": view.by_release})))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProductQuery {
    product: Option<String>,
}

async fn history(
    State(app): State<App>,
    Path((project, version)): Path<(String, String)>,
    Query(q): Query<ProductQuery>,
) -> ApiResult<impl IntoResponse> {
    let id = ReleaseId {
        project: parse_segment(&project)?,
        product: product_of(q.product.as_deref())?,
        version: parse_segment::<Version>(&version)?,
    };
    let events = release_views::release_history(&app, &id).await?;
    Ok(Json(json!({"release": id.to_string(), "events": events})))
}

async fn cle(
    State(app): State<App>,
    Path(project): Path<String>,
    Query(q): Query<ProductQuery>,
) -> ApiResult<impl IntoResponse> {
    let project: ProjectName = parse_segment(&project)?;
    let product = product_of(q.product.as_deref())?;
    let scope = Scope { project: Some(project), product: None };
    let events = release_views::scope_events(&app, &scope).await?;
    Ok(Json(exports::cle::document(&events, product.as_ref())))
}

async fn endoflife(
    State(app): State<App>,
    Path(project): Path<String>,
    Query(q): Query<ProductQuery>,
) -> ApiResult<impl IntoResponse> {
    let name: ProjectName = parse_segment(&project)?;
    let product = product_of(q.product.as_deref())?;
    let project = projects::get_project(&app, &name).await?;
    let scope = Scope { project: Some(name), product: None };
    let view = release_views::view_at(&app, &scope, None).await?;
    Ok(Json(exports::endoflife::document(&project, &view, product.as_ref())))
}

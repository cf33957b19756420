//! The views of the release stream as JSON: releases by state and states by release at any
//! point in time, each release's history, and the stream's own verification. Everything here
//! is derived by replaying stored events ([`StreamView::replay`]); nothing is kept on the side.

use crate::app::App;
use crate::error::{AppError, AppResult};
use crate::storage_keys as keys;
use crate::stream::{all_events, all_events_raw};
use serde::Serialize;
use std::collections::BTreeMap;
use trs_core::events::verify_chain;
use trs_core::{
    Event, PrereleaseLatest, ProductName, Project, ProjectName, ReleaseId, ReleaseView, StreamId, StreamView,
};

/// Which releases a view covers.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// One project, or every project.
    pub project: Option<ProjectName>,
    /// Only this product's line (requires `project`); `None` is every line.
    pub product: Option<ProductName>,
}

/// Every project name (for views over all of them).
pub async fn project_names(app: &App) -> AppResult<Vec<ProjectName>> {
    Ok(all_projects(app).await?.into_iter().map(|p| p.name).collect())
}

async fn all_projects(app: &App) -> AppResult<Vec<Project>> {
    app.all_in_gsi1(keys::PROJECTS_INDEX).await
}

/// The projects a scope covers (its one project must exist).
async fn scope_projects(app: &App, scope: &Scope) -> AppResult<Vec<Project>> {
    match &scope.project {
        Some(p) => Ok(vec![crate::projects::get_project(app, p).await?]),
        None => all_projects(app).await,
    }
}

/// The events of the scope's project streams, each stream in order.
pub async fn scope_events(app: &App, scope: &Scope) -> AppResult<Vec<Event>> {
    events_of(app, &scope_projects(app, scope).await?).await
}

async fn events_of(app: &App, projects: &[Project]) -> AppResult<Vec<Event>> {
    let mut out = Vec::new();
    for p in projects {
        out.extend(all_events(app, &StreamId::Project(p.name.clone())).await?);
    }
    Ok(out)
}

/// The replayed view of a scope at time `at` (now when `None`).
pub async fn view_at(app: &App, scope: &Scope, at: Option<i64>) -> AppResult<StreamView> {
    view_of(app, &scope_projects(app, scope).await?, scope, at).await
}

async fn view_of(app: &App, projects: &[Project], scope: &Scope, at: Option<i64>) -> AppResult<StreamView> {
    let events = events_of(app, projects).await?;
    let mut view = StreamView::replay(&events, at);
    if let Some(product) = &scope.product {
        view.releases.retain(|_, r| r.release.product.as_ref() == Some(product));
    }
    Ok(view)
}

/// Releases by state and states by release, at one time.
#[derive(Debug, Clone, Serialize)]
pub struct ReleasesView {
    /// The time the view is for (unix seconds).
    pub at: i64,
    /// Stage or state → releases (`project/version` or `project/product/version`).
    pub by_state: BTreeMap<String, Vec<String>>,
    /// Release → its stage, `latest` where it is, then its freeform states.
    pub by_release: BTreeMap<String, Vec<String>>,
    /// Product line → its latest current release.
    pub latest: BTreeMap<String, String>,
    /// Each release in full (dates, promoted revision, revocation reason), in order: by
    /// project, main line before products, then by version.
    pub releases: Vec<ReleaseView>,
}

/// The releases view at `at` (now when `None`), optionally only releases in `state` (a stage
/// name, a freeform state, or `latest`).
pub async fn releases_view(app: &App, scope: &Scope, at: Option<i64>, state: Option<&str>) -> AppResult<ReleasesView> {
    let at = at.unwrap_or_else(|| app.now());
    let projects = scope_projects(app, scope).await?;
    let view = view_of(app, &projects, scope, Some(at)).await?;
    // `latest` as the projects' policies say now, also for a view of an earlier time.
    let rule = PrereleaseLatest::of(&projects);
    let mut by_state = view.by_state(&rule);
    let mut by_release = view.by_release(&rule);
    let mut releases: Vec<ReleaseView> = view.in_order().into_iter().cloned().collect();
    if let Some(state) = state {
        let keep: Vec<String> = by_state.get(state).cloned().unwrap_or_default();
        by_state.retain(|k, _| k == state);
        by_release.retain(|k, _| keep.contains(k));
        releases.retain(|r| keep.contains(&r.release.to_string()));
    }
    Ok(ReleasesView { at, by_state, by_release, latest: view.latest(&rule), releases })
}

/// Every event about one release, in order (line dates that apply to it included).
pub async fn release_history(app: &App, id: &ReleaseId) -> AppResult<Vec<Event>> {
    let events = all_events(app, &StreamId::Project(id.project.clone())).await?;
    let history: Vec<Event> = events
        .into_iter()
        .filter(|e| match (&e.release, &e.change) {
            (Some(r), _) => r == id,
            (None, trs_core::Change::LifecycleDatesSet { line: Some(line), .. }) => {
                trs_core::views::line_applies(line, id)
            }
            _ => false,
        })
        .collect();
    if !history.iter().any(|e| e.release.as_ref() == Some(id)) {
        return Err(AppError::NotFound(format!("release {id} has no events")));
    }
    Ok(history)
}

/// The outcome of re-hashing a stored stream end to end.
#[derive(Debug, Clone, Serialize)]
pub struct ChainReport {
    pub stream: String,
    pub events: usize,
    pub ok: bool,
    /// The hash of the last event: what a verifier compares with its own copy.
    pub head: Option<String>,
    /// What is wrong, when not ok.
    pub error: Option<String>,
}

/// Re-hashes a stored stream from its first event (the server's own check; outsiders run
/// `scripts/verify-stream.py` over the events API).
pub async fn verify_stream(app: &App, stream: &StreamId) -> AppResult<ChainReport> {
    let raw = all_events_raw(app, stream).await?;
    let head = raw.last().and_then(|e| e.get("hash")).and_then(|h| h.as_str()).map(str::to_string);
    let (ok, error) = match verify_chain(&raw) {
        Ok(_) => (true, None),
        Err(e) => (false, Some(e.to_string())),
    };
    Ok(ChainReport { stream: stream.to_string(), events: raw.len(), ok, head, error })
}

//! The views of the release stream as JSON: releases by state and states by release at any
//! point in time, each release's history, and the stream's own verification. Everything here
//! is derived from stored events ([`StreamView::replay`]).
//!
//! The current views are precomputed on write: the site publisher (trs-site) keeps each
//! project's `releases.json` in the site store and a durable mark per stream saying up to
//! which event its objects are written and its hash chain checked ([`PublishedMark`]). A view
//! of now reads a project's object while the mark covers the project's stream head (two
//! `GetItem`s and one object), and replays only a project whose mark is behind (an event
//! the publisher has not reached yet). Views of another time (`at`) replay the stream of each
//! project they show. Views over every project are paged by project
//! ([`PROJECTS_PER_PAGE`]), so no answer grows with the foundation.

use crate::app::App;
use crate::error::{AppError, AppResult};
use crate::storage_keys as keys;
use crate::stream::{all_events, all_events_raw};
use serde::{Deserialize, Serialize};
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

/// How far the site publisher has published a stream (an item in the item store,
/// `storage_keys::site_mark`): the site's objects show every event up to `seq`, and the
/// stream's hash chain was checked up to there.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PublishedMark {
    pub seq: u64,
    /// The hash of event `seq` (marks written before chains were checked have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hash: Option<String>,
    /// The first break the publisher found in the chain; kept once found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_error: Option<String>,
}

/// The publisher's mark of `stream` and its item (the version a move is conditioned on).
pub async fn published_mark(app: &App, stream: &StreamId) -> AppResult<Option<(PublishedMark, trs_storage::Item)>> {
    match app.items.get(&keys::site_mark(stream)).await? {
        Some(item) => Ok(Some((item.parse()?, item))),
        None => Ok(None),
    }
}

/// At most this many projects in one answer of a view over every project; `next` names the
/// project to continue after. A page of 100 projects stays far below Lambda's 6 MB response
/// limit (about 400 bytes per release were measured).
pub const PROJECTS_PER_PAGE: usize = 100;

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
    /// More projects follow: ask again with `after` set to this one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<ProjectName>,
}

/// One project's share of a view: what its precomputed `releases.json` holds.
#[derive(Debug, Deserialize)]
struct ProjectPart {
    by_state: BTreeMap<String, Vec<String>>,
    by_release: BTreeMap<String, Vec<String>>,
    latest: BTreeMap<String, String>,
    releases: Vec<ReleaseView>,
}

/// The releases view at `at` (now when `None`) of every project the scope covers, optionally
/// only releases in `state` (a stage name, a freeform state, or `latest`).
pub async fn releases_view(app: &App, scope: &Scope, at: Option<i64>, state: Option<&str>) -> AppResult<ReleasesView> {
    let projects = scope_projects(app, scope).await?;
    assemble(app, &projects, scope, at, state, None).await
}

/// [`releases_view`] a page at a time: the projects after `after` (in name order), at most
/// `limit` of them (at most [`PROJECTS_PER_PAGE`]).
pub async fn releases_page(
    app: &App,
    scope: &Scope,
    at: Option<i64>,
    state: Option<&str>,
    after: Option<&ProjectName>,
    limit: usize,
) -> AppResult<ReleasesView> {
    let mut projects = scope_projects(app, scope).await?;
    projects.sort_by(|a, b| a.name.cmp(&b.name));
    if let Some(after) = after {
        projects.retain(|p| &p.name > after);
    }
    let limit = limit.clamp(1, PROJECTS_PER_PAGE);
    let next = (projects.len() > limit).then(|| projects[limit - 1].name.clone());
    projects.truncate(limit);
    assemble(app, &projects, scope, at, state, next).await
}

async fn assemble(
    app: &App,
    projects: &[Project],
    scope: &Scope,
    at: Option<i64>,
    state: Option<&str>,
    next: Option<ProjectName>,
) -> AppResult<ReleasesView> {
    let now = app.now();
    let mut view = ReleasesView {
        at: at.unwrap_or(now),
        by_state: BTreeMap::new(),
        by_release: BTreeMap::new(),
        latest: BTreeMap::new(),
        releases: Vec::new(),
        next,
    };
    for project in projects {
        let precomputed = match (at, &scope.product) {
            (None, None) => precomputed(app, &project.name).await?,
            _ => None,
        };
        let part = match precomputed {
            Some(part) => part,
            None => replayed(app, project, scope.product.as_ref(), Some(at.unwrap_or(now))).await?,
        };
        // Projects come in name order and each part is in order, so the lists stay in the
        // order one replay of every project gives (by project, then line, then version).
        for (key, releases) in part.by_state {
            view.by_state.entry(key).or_default().extend(releases);
        }
        view.by_release.extend(part.by_release);
        view.latest.extend(part.latest);
        view.releases.extend(part.releases);
    }
    if let Some(state) = state {
        let keep: Vec<String> = view.by_state.get(state).cloned().unwrap_or_default();
        view.by_state.retain(|k, _| k == state);
        view.by_release.retain(|k, _| keep.contains(k));
        view.releases.retain(|r| keep.contains(&r.release.to_string()));
    }
    Ok(view)
}

/// One project's view replayed from its stream at `at`.
async fn replayed(
    app: &App,
    project: &Project,
    product: Option<&ProductName>,
    at: Option<i64>,
) -> AppResult<ProjectPart> {
    let events = all_events(app, &StreamId::Project(project.name.clone())).await?;
    let mut view = StreamView::replay(&events, at);
    if let Some(product) = product {
        view.releases.retain(|_, r| r.release.product.as_ref() == Some(product));
    }
    // `latest` as the project's policy says now, also for a view of an earlier time.
    let rule = PrereleaseLatest::of([project]);
    Ok(ProjectPart {
        by_state: view.by_state(&rule),
        by_release: view.by_release(&rule),
        latest: view.latest(&rule),
        releases: view.in_order().into_iter().cloned().collect(),
    })
}

/// The project's view as the publisher last wrote it, if its mark covers the project's
/// stream head (nothing happened since); `None` sends the caller to the replay.
async fn precomputed(app: &App, project: &ProjectName) -> AppResult<Option<ProjectPart>> {
    let Some(views) = &app.views else { return Ok(None) };
    let stream = StreamId::Project(project.clone());
    let head = crate::stream::head(app, &stream).await?.map_or(0, |(seq, _)| seq);
    let Some((mark, _)) = published_mark(app, &stream).await? else { return Ok(None) };
    if mark.seq < head {
        return Ok(None);
    }
    let object = views.get(&keys::site_releases_json(project)).await.map_err(|e| AppError::Internal(e.to_string()))?;
    let Some(object) = object else { return Ok(None) };
    match serde_json::from_slice(&object.bytes) {
        Ok(part) => Ok(Some(part)),
        Err(e) => {
            tracing::warn!(%project, error = %e, "precomputed releases view unreadable; replaying");
            Ok(None)
        }
    }
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

/// The chain report of `stream` as the site publisher recorded it, when its mark is at the
/// stream's head (it checked each event as it published it, [`PublishedMark`]); otherwise the
/// stream is re-hashed now ([`verify_stream`]). The foundation-wide check costs two
/// `GetItem`s per stream instead of reading every event.
pub async fn published_chain_report(app: &App, stream: &StreamId) -> AppResult<ChainReport> {
    if let (Some((seq, hash)), Some((mark, _))) =
        (crate::stream::head(app, stream).await?, published_mark(app, stream).await?)
        && mark.seq == seq
        && mark.hash.as_deref() == Some(hash.as_str())
    {
        return Ok(ChainReport {
            stream: stream.to_string(),
            events: seq as usize,
            ok: mark.chain_error.is_none(),
            head: Some(hash),
            error: mark.chain_error,
        });
    }
    verify_stream(app, stream).await
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

//! Publishing: render the planned pages, compare each object's digest with the stored one,
//! write only those that changed, then ask the CDN to forget exactly those paths. A full build
//! renders everything, project by project in parallel, and deletes objects no page produces.
//!
//! Publishes through one [`Site`] run one at a time and each renders from what is stored when
//! it runs, so the last publish leaves the newest state even when events arrive together.
//!
//! The site follows the stored streams: a durable mark per stream in the item store
//! ([`trs_app::release_views::PublishedMark`]) says up to which event the objects are written
//! and the stream's hash chain checked. Under `trs serve` a publish renders every event after
//! the mark ([`Site::catch_up`]), then moves it; events are only a wake-up, so a crash that
//! loses them leaves pages stale only until the next start. On Lambda each event from the bus
//! is published ([`Site::publish_event`]) and moves the mark when it is the next one; an event
//! that arrives before an earlier one is published with everything after the mark. The API
//! serves a project's precomputed `releases.json` only while the mark covers its stream.

use crate::load::{self, Details, Foundation, ProjectData};
use crate::plan::{self, Target};
use crate::render::{Output, RenderError, Renderer};
use futures::StreamExt;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Instant;
use trs_app::release_views::{PublishedMark, published_mark};
use trs_app::{App, AppError, projects, storage_keys};
use trs_core::{Event, ProjectName, Release, ReleaseId, Stage, StreamId, views::line_applies};
use trs_storage::{CdnInvalidator, Condition, Item, SiteError, SiteObject, SiteStore};

/// Projects loaded and rendered at once by a full build.
const PARALLEL_PROJECTS: usize = 8;

/// Objects of one incremental publish compared with the store and written at once. A
/// promotion's 81 objects written one after another took 47–58 ms, most of it waiting on
/// the disk.
const PARALLEL_WRITES: usize = 16;

/// Above this many changed objects a full build invalidates everything (`/*`): one
/// invalidation instead of thousands of paths.
const INVALIDATE_ALL_ABOVE: usize = 1000;

#[derive(Debug, thiserror::Error)]
pub enum SiteBuildError {
    #[error(transparent)]
    App(#[from] AppError),
    #[error(transparent)]
    Store(#[from] SiteError),
    #[error(transparent)]
    Render(#[from] RenderError),
}

impl From<SiteBuildError> for AppError {
    fn from(e: SiteBuildError) -> Self {
        match e {
            SiteBuildError::App(e) => e,
            other => AppError::Internal(format!("site: {other}")),
        }
    }
}

/// What one publish did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PublishReport {
    /// Objects rendered (pages, JSON documents, feeds, KEYS, static files).
    pub pages_rendered: usize,
    /// Objects whose bytes changed and were written.
    pub objects_written: usize,
    pub objects_deleted: usize,
    /// Paths handed to the CDN to forget (each starting with `/`).
    pub invalidate: Vec<String>,
    /// The CDN's id of the invalidation, if it made one.
    pub invalidation_id: Option<String>,
    pub millis: u64,
}

impl PublishReport {
    pub fn summary(&self) -> String {
        format!(
            "site: {} objects rendered, {} written, {} deleted, {} paths invalidated ({} ms)",
            self.pages_rendered,
            self.objects_written,
            self.objects_deleted,
            self.invalidate.len(),
            self.millis
        )
    }
}

/// The publisher: templates, where the site is stored, the CDN in front of it.
pub struct Site {
    renderer: Arc<Renderer>,
    store: Arc<dyn SiteStore>,
    cdn: Arc<dyn CdnInvalidator>,
    one_at_a_time: tokio::sync::Mutex<()>,
    known_releases: tokio::sync::Mutex<KnownReleases>,
}

/// The releases of every project as the directory, the search index and the site feed last
/// showed them, each with the site's published mark of the project's stream when they were
/// read. Those three pages show every project, and a publish renders them after a promotion,
/// a revocation or an end-of-life; reading every project's releases for that made a publish
/// cost as much as the foundation is large (300 queries for 300 projects). With this, a
/// publish reads the projects list and the marks (one query each) and again only the
/// projects whose mark moved since: those some publisher (this one or, on Lambda, another
/// instance) published events of, so a change is never missed, only read once more.
#[derive(Default)]
struct KnownReleases {
    by_project: BTreeMap<ProjectName, (u64, Arc<Vec<Release>>)>,
}

/// Objects written so far and their CDN paths.
#[derive(Default)]
struct Written {
    rendered: usize,
    written: usize,
    invalidate: Vec<String>,
}

impl Site {
    pub fn new(renderer: Renderer, store: Arc<dyn SiteStore>, cdn: Arc<dyn CdnInvalidator>) -> Self {
        Self::with_renderer(Arc::new(renderer), store, cdn)
    }

    /// A publisher sharing already parsed templates (a Lambda parses them once per instance).
    pub fn with_renderer(renderer: Arc<Renderer>, store: Arc<dyn SiteStore>, cdn: Arc<dyn CdnInvalidator>) -> Self {
        Self {
            renderer,
            store,
            cdn,
            one_at_a_time: tokio::sync::Mutex::new(()),
            known_releases: tokio::sync::Mutex::new(KnownReleases::default()),
        }
    }

    pub fn store(&self) -> &Arc<dyn SiteStore> {
        &self.store
    }

    pub fn renderer(&self) -> &Renderer {
        &self.renderer
    }

    /// Publishes the pages `event` changed, and moves the stream's mark to it when it is the
    /// next event after the mark. An event further ahead (an earlier one was not published
    /// yet: the bus keeps no order, or its publish failed) publishes everything after the
    /// mark instead, so the mark never passes an event whose pages were not written.
    pub async fn publish_event(&self, app: &App, event: &Event) -> Result<PublishReport, SiteBuildError> {
        let _turn = self.one_at_a_time.lock().await;
        let start = Instant::now();
        let marked = published_mark(app, &event.stream).await?;
        let through = marked.as_ref().map_or(0, |(m, _)| m.seq);
        if event.seq > through + 1 {
            return Ok(self.catch_up_locked(app, &event.stream).await?.unwrap_or_default());
        }
        let report = self.publish_targets(app, &plan::plan(event), plan::file_invalidations(event), start).await?;
        if event.seq == through + 1 {
            let raw = trs_app::stream::events_page_raw(app, &event.stream, through, 1).await?;
            if !raw.is_empty() {
                let (prev, item) = marked.unzip();
                let mark = next_mark(app, &event.stream, &prev.unwrap_or_default(), &raw).await?;
                write_mark(app, &event.stream, item, &mark).await?;
            }
        }
        Ok(report)
    }

    /// Renders and stores the pages of `targets`, deletes those of releases gone since (a
    /// discarded draft), and invalidates them with the release-file paths `files`.
    async fn publish_targets(
        &self,
        app: &App,
        targets: &[Target],
        files: Vec<String>,
        start: Instant,
    ) -> Result<PublishReport, SiteBuildError> {
        let objects = self.render_targets(app, targets).await?;
        let mut written = Written::default();
        store_changed(self.store.as_ref(), objects, &mut written, PARALLEL_WRITES).await?;
        let deleted = self.delete_gone_releases(app, targets, &mut written).await?;
        written.invalidate.extend(files);
        self.finish(written, deleted, start).await
    }

    /// The pages of planned releases that no longer exist (a discarded draft): deleted, so the
    /// site keeps no trace of them.
    async fn delete_gone_releases(
        &self,
        app: &App,
        targets: &[Target],
        written: &mut Written,
    ) -> Result<usize, SiteBuildError> {
        let mut deleted = 0;
        for t in targets {
            let Target::Release(id) = t else { continue };
            if trs_app::releases::get_release(app, id).await?.is_some() {
                continue;
            }
            // The page and what it lists for scripts (files.json, SHA512SUMS: empty for a draft).
            for object in crate::paths::release_objects(id) {
                if self.store.digest(&object).await?.is_none() {
                    continue;
                }
                self.store.delete(&object).await?;
                written.invalidate.extend(crate::paths::invalidation_paths(&object));
                deleted += 1;
            }
        }
        Ok(deleted)
    }

    /// Publishes the pages of every event of `stream` after the site's mark (all of them at
    /// once: each page is rendered once from what is stored now), checks that those events
    /// continue the stream's hash chain, then moves the mark to the last of them. `None` when
    /// nothing was rendered. A crash before the mark moves means the same pages are rendered
    /// again, which changes nothing that is already right.
    pub async fn catch_up(&self, app: &App, stream: &StreamId) -> Result<Option<PublishReport>, SiteBuildError> {
        let _turn = self.one_at_a_time.lock().await;
        self.catch_up_locked(app, stream).await
    }

    async fn catch_up_locked(&self, app: &App, stream: &StreamId) -> Result<Option<PublishReport>, SiteBuildError> {
        let start = Instant::now();
        let (prev, item) = published_mark(app, stream).await?.unzip();
        let prev = prev.unwrap_or_default();
        let mut after = prev.seq;
        let mut raw: Vec<serde_json::Value> = Vec::new();
        loop {
            let page = trs_app::stream::events_page_raw(app, stream, after, 1000).await?;
            let Some(last) = page.last() else { break };
            after = last["seq"].as_u64().ok_or_else(|| AppError::Internal("a stored event has no seq".into()))?;
            raw.extend(page);
        }
        if raw.is_empty() {
            return Ok(None);
        }
        let mut targets: Vec<Target> = Vec::new();
        let mut files: Vec<String> = Vec::new();
        for value in &raw {
            let event: Event = serde_json::from_value(value.clone())
                .map_err(|e| AppError::Internal(format!("stored event is corrupt: {e}")))?;
            for t in plan::plan(&event) {
                if !targets.contains(&t) {
                    targets.push(t);
                }
            }
            files.extend(
                plan::file_invalidations(&event).into_iter().filter(|f| !files.contains(f)).collect::<Vec<_>>(),
            );
        }
        let report = if targets.is_empty() && files.is_empty() {
            None
        } else {
            Some(self.publish_targets(app, &targets, files, start).await?)
        };
        let mark = next_mark(app, stream, &prev, &raw).await?;
        write_mark(app, stream, item, &mark).await?;
        Ok(report)
    }

    /// [`Site::catch_up`] for every stream (the foundation's and each project's): at start.
    pub async fn catch_up_all(&self, app: &App) -> Result<Vec<PublishReport>, SiteBuildError> {
        let mut streams = vec![StreamId::Foundation];
        streams.extend(projects::list_projects(app).await?.into_iter().map(|p| StreamId::Project(p.name)));
        let mut reports = Vec::new();
        for stream in streams {
            reports.extend(self.catch_up(app, &stream).await?);
        }
        Ok(reports)
    }

    async fn finish(&self, w: Written, deleted: usize, start: Instant) -> Result<PublishReport, SiteBuildError> {
        let mut invalidate = w.invalidate;
        if invalidate.len() > INVALIDATE_ALL_ABOVE {
            invalidate = vec!["/*".to_string()];
        }
        let invalidation_id = if invalidate.is_empty() { None } else { self.cdn.invalidate(&invalidate).await? };
        Ok(PublishReport {
            pages_rendered: w.rendered,
            objects_written: w.written,
            objects_deleted: deleted,
            invalidate,
            invalidation_id,
            millis: start.elapsed().as_millis() as u64,
        })
    }

    /// Renders the objects of `targets`, reading each project once.
    pub async fn render_targets(&self, app: &App, targets: &[Target]) -> Result<Vec<SiteObject>, SiteBuildError> {
        let r = &self.renderer;
        let mut out = Vec::new();
        // Per project: the targets and the releases whose details are needed.
        let mut by_project: BTreeMap<ProjectName, Vec<&Target>> = BTreeMap::new();
        for t in targets {
            if let Some(p) = t.project() {
                by_project.entry(p.clone()).or_default().push(t);
            }
        }
        // The marks before any project is read, so each project read below is at least as new
        // as its mark says (what `KnownReleases` relies on).
        let every_project = targets.iter().any(|t| matches!(t, Target::Directory | Target::SiteFeed));
        let marks = if every_project { published_marks(app).await? } else { BTreeMap::new() };
        // The releases of the projects read here, for the pages that show every project.
        let mut read_now: BTreeMap<ProjectName, Arc<Vec<Release>>> = BTreeMap::new();
        for (name, ts) in by_project {
            let mut data = load::project(app, &name, &Details::Only(Vec::new())).await?;
            if every_project {
                read_now.insert(name.clone(), Arc::new(data.releases.clone()));
            }
            let mut wanted: Vec<ReleaseId> = Vec::new();
            // Releases whose page alone changes (not their files.json or SHA512SUMS).
            let mut pages_only: Vec<ReleaseId> = Vec::new();
            for t in &ts {
                match t {
                    Target::Release(id) => wanted.push(id.clone()),
                    Target::Line(_, line) => {
                        wanted.extend(data.releases.iter().filter(|r| line_applies(line, &r.id)).map(|r| r.id.clone()))
                    }
                    Target::AllReleases(_) => wanted.extend(data.releases.iter().map(|r| r.id.clone())),
                    Target::Unsupported(_, product) => pages_only.extend(
                        data.releases
                            .iter()
                            .filter(|r| r.id.product == *product)
                            .filter(|r| matches!(r.stage, Stage::EndOfLife | Stage::Archived | Stage::Revoked))
                            .map(|r| r.id.clone()),
                    ),
                    _ => {}
                }
            }
            // latest.json lists the files of each line's latest release.
            // Each page shows its release's details (files, checks, vote).
            let mut to_load: Vec<ReleaseId> = [wanted.as_slice(), pages_only.as_slice()].concat();
            if ts.iter().any(|t| matches!(t, Target::ProjectJson(_))) {
                to_load.extend(crate::context::latest_by_line(&data.project, &data.releases).into_values());
            }
            for id in &to_load {
                if let Some(release) = data.release(id).cloned()
                    && !data.details.contains_key(&id.to_string())
                {
                    data.details.insert(id.to_string(), load::release_details(app, &release, &data.events).await?);
                }
            }
            for t in ts {
                match t {
                    Target::Project(_) => out.push(r.project(&data)),
                    Target::Keys(_) => out.push(r.keys(&data, load::keys_file(app, &name).await?)),
                    Target::HistoryTail(_) => {
                        let n = r.history_page_count(&data);
                        out.extend(r.history(&data, [n.saturating_sub(1), n]));
                    }
                    Target::ProjectJson(_) => out.extend(r.project_json(&data)?),
                    Target::ProjectFeed(_) => out.push(Output::Object(r.project_feed(&data)?)),
                    _ => {}
                }
            }
            // A release can be planned twice (its own page, and as an unsupported one).
            let mut seen = BTreeSet::new();
            wanted.retain(|id| seen.insert(id.clone()));
            pages_only.retain(|id| seen.insert(id.clone()));
            for id in &pages_only {
                if let Some(release) = data.release(id) {
                    out.push(r.release_page_only(&data, release));
                }
            }
            for id in &wanted {
                if let Some(release) = data.release(id) {
                    out.extend(r.release(&data, release)?);
                }
            }
        }
        if every_project {
            let foundation = self.foundation(app, &marks, read_now).await?;
            if targets.contains(&Target::Directory) {
                out.extend(r.directory(&foundation)?);
            }
            if targets.contains(&Target::SiteFeed) {
                out.push(Output::Object(r.site_feed(&foundation)?));
            }
        }
        for t in targets {
            if let Target::KeysOf(uid) = t {
                for project in projects::projects_of(app, uid).await? {
                    let text = load::keys_file(app, &project.name).await?;
                    out.push(Output::Object(SiteObject::page(crate::paths::keys(&project.name), text)));
                }
            }
        }
        Ok(r.objects(out)?)
    }

    /// Every project with its releases, read again only where the project's mark moved since
    /// they were read ([`KnownReleases`]); `read_now` are releases this publish just read,
    /// after it read `marks`.
    async fn foundation(
        &self,
        app: &App,
        marks: &BTreeMap<StreamId, u64>,
        mut read_now: BTreeMap<ProjectName, Arc<Vec<Release>>>,
    ) -> Result<Foundation, SiteBuildError> {
        let projects = load::all_projects(app).await?;
        let mut known = self.known_releases.lock().await;
        let mut by_project = BTreeMap::new();
        let mut foundation = Foundation::default();
        for project in projects {
            let mark = marks.get(&StreamId::Project(project.name.clone())).copied();
            let releases = match (read_now.remove(&project.name), known.by_project.remove(&project.name)) {
                (Some(releases), _) => releases,
                (None, Some((seen, releases))) if Some(seen) == mark => releases,
                (None, _) => Arc::new(load::releases_of(app, &project.name).await?),
            };
            // A project never published has no mark: read each time until it has one.
            if let Some(mark) = mark {
                by_project.insert(project.name.clone(), (mark, releases.clone()));
            }
            foundation.projects.push((project, releases));
        }
        // Projects that are gone are forgotten with the rest of what was known.
        known.by_project = by_project;
        Ok(foundation)
    }

    /// Renders every page and JSON view, writes those that changed, deletes objects no page
    /// produces any more (when the store can list), and invalidates what changed. Then each
    /// stream's mark moves to the head it had before rendering began (its chain checked).
    pub async fn full_build(&self, app: &App) -> Result<PublishReport, SiteBuildError> {
        let _turn = self.one_at_a_time.lock().await;
        let start = Instant::now();
        let mut streams = vec![StreamId::Foundation];
        streams.extend(projects::list_projects(app).await?.into_iter().map(|p| StreamId::Project(p.name)));
        let mut heads = Vec::new();
        for stream in streams {
            if let Some((seq, _)) = trs_app::stream::head(app, &stream).await? {
                heads.push((stream, seq));
            }
        }
        let r = self.renderer.clone();
        let mut written = Written::default();
        let mut produced: BTreeSet<String> = BTreeSet::new();
        let foundation = load::foundation(app).await?;
        let mut top = r.statics();
        top.extend(r.objects(r.directory(&foundation)?)?);
        top.push(r.site_feed(&foundation)?);
        top.push(r.not_found_page()?);
        produced.extend(top.iter().map(|o| o.path.clone()));
        store_changed(self.store.as_ref(), top, &mut written, PARALLEL_WRITES).await?;

        let Foundation { projects } = foundation;
        // Each project's releases were read after its stream's head: they show at least the
        // events up to it, the mark the build moves the stream to.
        let head_of: BTreeMap<&StreamId, u64> = heads.iter().map(|(stream, seq)| (stream, *seq)).collect();
        let mut known = BTreeMap::new();
        for (project, releases) in &projects {
            if let Some(seq) = head_of.get(&StreamId::Project(project.name.clone())) {
                known.insert(project.name.clone(), (*seq, releases.clone()));
            }
        }
        self.known_releases.lock().await.by_project = known;
        let mut builds = futures::stream::iter(projects.into_iter().map(|(project, _)| {
            let (app, r, store) = (app.clone(), r.clone(), self.store.clone());
            async move { build_project(&app, r, store.as_ref(), &project.name).await }
        }))
        .buffer_unordered(PARALLEL_PROJECTS);
        while let Some(result) = builds.next().await {
            let (paths, w) = result?;
            produced.extend(paths);
            written.rendered += w.rendered;
            written.written += w.written;
            written.invalidate.extend(w.invalidate);
        }
        drop(builds);

        let mut deleted = 0;
        if let Some(existing) = self.store.list().await? {
            for path in existing.into_iter().filter(|p| !produced.contains(p)) {
                self.store.delete(&path).await?;
                written.invalidate.extend(crate::paths::invalidation_paths(&path));
                deleted += 1;
            }
        }
        for (stream, seq) in heads {
            let (prev, item) = published_mark(app, &stream).await?.unzip();
            if prev.as_ref().is_some_and(|m| m.seq >= seq) {
                continue;
            }
            let mut raw = trs_app::stream::all_events_raw(app, &stream).await?;
            raw.truncate(seq as usize);
            let mark = next_mark(app, &stream, &PublishedMark::default(), &raw).await?;
            write_mark(app, &stream, item, &mark).await?;
        }
        self.finish(written, deleted, start).await
    }
}

/// Every object of one project: loads it with every release's details, renders on a blocking
/// thread (templates are CPU work), stores what changed. Returns the paths produced.
async fn build_project(
    app: &App,
    r: Arc<Renderer>,
    store: &dyn SiteStore,
    name: &ProjectName,
) -> Result<(Vec<String>, Written), SiteBuildError> {
    let data = load::project(app, name, &Details::All).await?;
    let keys = load::keys_file(app, name).await?;
    let objects = tokio::task::spawn_blocking(move || render_project(&r, &data, keys))
        .await
        .map_err(|e| RenderError(format!("rendering {name}: {e}")))??;
    let paths = objects.iter().map(|o| o.path.clone()).collect();
    let mut w = Written::default();
    // One object at a time: the build runs PARALLEL_PROJECTS of these at once already, and
    // more writes in flight would only queue on the disk.
    store_changed(store, objects, &mut w, 1).await?;
    Ok((paths, w))
}

fn render_project(r: &Renderer, data: &ProjectData, keys: String) -> Result<Vec<SiteObject>, RenderError> {
    r.objects(r.project_outputs(data, keys)?)
}

/// The mark after publishing `raw` (the events right after `prev`, in order): their chain is
/// checked on from `prev`'s hash (from the stream's start when `prev` has none), and a break
/// found once stays in the mark.
async fn next_mark(
    app: &App,
    stream: &StreamId,
    prev: &PublishedMark,
    raw: &[serde_json::Value],
) -> Result<PublishedMark, SiteBuildError> {
    let last = raw.last().ok_or_else(|| AppError::Internal("no event to mark".into()))?;
    let chain_error = match &prev.chain_error {
        Some(error) => Some(error.clone()),
        None => {
            let checked = match (prev.seq, &prev.hash) {
                (0, _) => trs_core::events::verify_chain_from(None, raw),
                (seq, Some(hash)) => trs_core::events::verify_chain_from(Some((seq, hash)), raw),
                // A mark from before hashes were kept: the stream is checked from its start once.
                (_, None) => trs_core::events::verify_chain(&trs_app::stream::all_events_raw(app, stream).await?),
            };
            checked.err().map(|e| e.to_string())
        }
    };
    if let Some(error) = &chain_error {
        tracing::error!(%stream, "the stream's hash chain is broken: {error}");
    }
    Ok(PublishedMark {
        seq: last["seq"].as_u64().unwrap_or(prev.seq),
        hash: last["hash"].as_str().map(str::to_string),
        chain_error,
    })
}

/// The published mark of every stream, in one query of the marks' partition.
async fn published_marks(app: &App) -> Result<BTreeMap<StreamId, u64>, SiteBuildError> {
    let mut marks = BTreeMap::new();
    let mut query = storage_keys::site_marks();
    loop {
        let page = app.items.query(query.clone()).await.map_err(AppError::from)?;
        for item in &page.items {
            let stream = storage_keys::site_mark_stream(&item.key);
            let mark: PublishedMark = item.parse().map_err(AppError::from)?;
            if let Some(stream) = stream {
                marks.insert(stream, mark.seq);
            }
        }
        match page.next {
            Some(next) => query.after = Some(next),
            None => return Ok(marks),
        }
    }
}

/// Moves the stream's mark (conditionally on the item read: a publisher that moved it
/// meanwhile wins, and the pages are right either way).
async fn write_mark(app: &App, stream: &StreamId, item: Option<Item>, mark: &PublishedMark) -> Result<(), AppError> {
    let moved = match item {
        Some(item) => app.items.put(item.updated(serde_json::json!(mark)), Condition::VersionIs(item.version)).await,
        None => {
            app.items.put(Item::new(storage_keys::site_mark(stream), serde_json::json!(mark)), Condition::Absent).await
        }
    };
    match moved {
        Err(e) if !e.is_conflict() => Err(e.into()),
        _ => Ok(()),
    }
}

/// Writes each object whose stored digest differs (or that is absent), `parallel` at once:
/// each is a read and a write that wait on the disk (or on S3), not on a core.
async fn store_changed(
    store: &dyn SiteStore,
    objects: Vec<SiteObject>,
    w: &mut Written,
    parallel: usize,
) -> Result<(), SiteError> {
    let mut writes = futures::stream::iter(objects.into_iter().map(|object| async move {
        if store.digest(&object.path).await?.as_deref() == Some(object.digest.as_str()) {
            return Ok(None);
        }
        store.put(&object).await?;
        Ok::<_, SiteError>(Some(object.path))
    }))
    .buffered(parallel);
    while let Some(written) = writes.next().await {
        w.rendered += 1;
        if let Some(path) = written? {
            w.written += 1;
            w.invalidate.extend(crate::paths::invalidation_paths(&path));
        }
    }
    Ok(())
}

#[async_trait::async_trait]
impl trs_app::SitePublisher for Site {
    async fn publish(&self, app: &App, event: &Event) -> trs_app::AppResult<Option<String>> {
        Ok(Some(self.publish_event(app, event).await?.summary()))
    }
}

/// An event sink that wakes the background publisher for the event's stream after passing
/// the event on to `inner` (so answering the call that made the change does not wait for the
/// site). The wake-up carries no data: the publisher reads the stream from the store.
pub struct PublishingSink {
    inner: Arc<dyn trs_app::stream::EventSink>,
    tx: tokio::sync::mpsc::UnboundedSender<StreamId>,
}

impl PublishingSink {
    /// The sink, and the receiving end to hand to [`run_publisher`].
    pub fn new(inner: Arc<dyn trs_app::stream::EventSink>) -> (Self, tokio::sync::mpsc::UnboundedReceiver<StreamId>) {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        (Self { inner, tx }, rx)
    }
}

#[async_trait::async_trait]
impl trs_app::stream::EventSink for PublishingSink {
    async fn published(&self, event: &Event) {
        self.inner.published(event).await;
        let _ = self.tx.send(event.stream.clone());
    }
}

/// Publishes whatever the site misses of every stream (events committed while no publisher
/// ran: before a crash, or by `trs admin`), then, for each stream woken, what it misses of
/// it; wake-ups that queued up meanwhile are served by one catch-up. A failure is logged;
/// the next wake-up of the stream, or the next start, publishes it again.
pub async fn run_publisher(app: App, site: Arc<Site>, mut rx: tokio::sync::mpsc::UnboundedReceiver<StreamId>) {
    match site.catch_up_all(&app).await {
        Ok(reports) => {
            for report in reports {
                tracing::info!("caught up: {}", report.summary());
            }
        }
        Err(e) => tracing::error!(error = %e, "site catch-up at start failed"),
    }
    while let Some(first) = rx.recv().await {
        let mut streams = vec![first];
        while let Ok(more) = rx.try_recv() {
            if !streams.contains(&more) {
                streams.push(more);
            }
        }
        for stream in streams {
            match site.catch_up(&app, &stream).await {
                Ok(Some(report)) => tracing::debug!(%stream, "{}", report.summary()),
                Ok(None) => {}
                Err(e) => tracing::error!(%stream, error = %e, "site publish failed"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use trs_app::fault_injection::{ItemCall, ObservedItems};
    use trs_app::test_support::{add_project, commit_files, force_current_for_tests, world};
    use trs_storage::NoCdn;
    use trs_storage::embedded::FolderSiteStore;

    /// The partitions queried through an item store, logged by an observer in front of it.
    #[derive(Default)]
    struct QueryLog {
        queried: Mutex<Vec<String>>,
    }

    impl QueryLog {
        /// The store `items` with this log noting every partition queried.
        fn observing(self: &Arc<Self>, items: Arc<dyn trs_storage::ItemStore>) -> Arc<dyn trs_storage::ItemStore> {
            let log = self.clone();
            Arc::new(ObservedItems::new(items, move |call| {
                if let ItemCall::Query(query) = call {
                    log.queried.lock().unwrap().push(query.pk.clone());
                }
                None
            }))
        }

        /// How often the partition of `project` (its releases, advisories) was queried since
        /// the log was last cleared.
        fn reads_of(&self, project: &str) -> usize {
            let partition = format!("project#{project}");
            self.queried.lock().unwrap().iter().filter(|pk| **pk == partition).count()
        }

        fn clear(&self) {
            self.queried.lock().unwrap().clear();
        }
    }

    async fn last_event(app: &App, project: &str) -> Event {
        let stream = StreamId::Project(project.parse().unwrap());
        trs_app::stream::all_events(app, &stream).await.unwrap().pop().unwrap()
    }

    fn id(project: &str, version: &str) -> ReleaseId {
        ReleaseId { project: project.parse().unwrap(), product: None, version: version.parse().unwrap() }
    }

    /// The directory, the search index and the site feed show every project; a promotion
    /// re-renders them, and reads again only the projects whose published mark moved since it
    /// last read them: never the unchanged ones, always one another publisher (on Lambda,
    /// another instance) published meanwhile, whose new release the directory then shows.
    #[tokio::test]
    async fn the_pages_of_every_project_read_again_only_the_projects_that_changed() {
        let w = world().await;
        let log = Arc::new(QueryLog::default());
        let mut app = w.app.clone();
        app.items = log.observing(w.app.items.clone());
        for name in ["bar", "baz"] {
            add_project(&app, &w.admin, name).await;
        }
        let promote = async |project: &str, version: &str| {
            let release = id(project, version);
            let file = format!("{project}-{version}.tar.gz");
            commit_files(&app, &w.blobs, &w.rm.caller(), &release, &[(&file, b"the source")]).await;
            force_current_for_tests(&app, &release, &w.rm.caller()).await;
            last_event(&app, project).await
        };
        for project in ["foo", "bar", "baz"] {
            promote(project, "1.0.0").await;
        }
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(FolderSiteStore::open(dir.path()).unwrap());
        let site = Site::new(Renderer::embedded(), store.clone(), Arc::new(NoCdn));
        let other_instance = Site::new(Renderer::embedded(), store.clone(), Arc::new(NoCdn));
        site.full_build(&app).await.unwrap();

        // After a full build (which read every project) a promotion reads only its project.
        log.clear();
        let promoted = promote("foo", "1.1.0").await;
        site.publish_event(&app, &promoted).await.unwrap();
        assert_eq!((log.reads_of("bar"), log.reads_of("baz")), (0, 0));
        assert!(log.reads_of("foo") > 0, "foo's pages read foo");

        // Another publisher (a new Lambda instance, knowing nothing yet) publishes bar's
        // promotion: it reads every other project once, and moves bar's mark.
        log.clear();
        let promoted = promote("bar", "2.0.0").await;
        other_instance.publish_event(&app, &promoted).await.unwrap();
        assert_eq!((log.reads_of("foo"), log.reads_of("baz")), (1, 1), "every other project once");
        // bar's mark moved under the first publisher: bar is read again, baz is not.
        log.clear();
        let promoted = promote("foo", "1.3.0").await;
        site.publish_event(&app, &promoted).await.unwrap();
        assert_eq!((log.reads_of("bar"), log.reads_of("baz")), (1, 0), "bar's mark moved, baz's did not");
        let index = store.get(crate::paths::SEARCH_INDEX).await.unwrap().unwrap();
        let index: serde_json::Value = serde_json::from_slice(&index.bytes).unwrap();
        let bar = index["projects"].as_array().unwrap().iter().find(|p| p["name"] == "bar").unwrap();
        assert_eq!(bar["versions"], serde_json::json!(["2.0.0", "1.0.0"]), "{index}");
        let foo = index["projects"].as_array().unwrap().iter().find(|p| p["name"] == "foo").unwrap();
        assert_eq!(foo["versions"][0], "1.3.0", "{index}");
    }

    /// An archived release's page names its line's newest supported release; a promotion moves
    /// it, and the incremental publish re-renders the page as a full build would.
    #[tokio::test]
    async fn a_promotion_updates_the_newest_supported_release_on_the_lines_older_pages() {
        let w = world().await;
        let app = w.app.clone();
        let promote = async |version: &str| {
            let release = id("foo", version);
            let file = format!("foo-{version}.tar.gz");
            commit_files(&app, &w.blobs, &w.rm.caller(), &release, &[(&file, b"the source")]).await;
            force_current_for_tests(&app, &release, &w.rm.caller()).await;
            last_event(&app, "foo").await
        };
        promote("1.0.0").await;
        promote("1.1.0").await;
        trs_app::lifecycle::archive_release(&app, Some(&w.rm.caller()), &id("foo", "1.0.0")).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(FolderSiteStore::open(dir.path()).unwrap());
        let site = Site::new(Renderer::embedded(), store.clone(), Arc::new(NoCdn));
        site.full_build(&app).await.unwrap();
        let archived_page = crate::paths::release_page(&id("foo", "1.0.0"));
        let page =
            async || String::from_utf8(store.get(&archived_page).await.unwrap().unwrap().bytes.to_vec()).unwrap();
        assert!(page().await.contains("releases&#x2F;1.1.0&#x2F;"), "{}", page().await);

        let promoted = promote("1.2.0").await;
        site.publish_event(&app, &promoted).await.unwrap();
        let now = page().await;
        assert!(now.contains("releases&#x2F;1.2.0&#x2F;") && !now.contains("releases&#x2F;1.1.0&#x2F;"), "{now}");
    }
}

//! Reads what the pages show, through trs-app's own functions and keys: a project with all its
//! releases and its stream (one query each), the KEYS file, and per release the revision the
//! page lists (with the signers its verification found) and the vote summary. Details are
//! loaded only for the releases whose pages are rendered, so an incremental publish reads a
//! handful of items.

use std::collections::BTreeMap;
use std::sync::Arc;
use trs_app::releases::get_revision;
use trs_app::status::get_report;
use trs_app::storage_keys as keys;
use trs_app::vote::VoteSummary;
use trs_app::{App, AppResult, projects, stream};
use trs_core::{Event, Project, ProjectName, Release, ReleaseId, Revision, Signer, Stage, StreamId};

/// One project as its pages need it.
#[derive(Debug, Clone)]
pub struct ProjectData {
    pub project: Project,
    /// Every release, every product line, in key order.
    pub releases: Vec<Release>,
    /// The project's stream, in order.
    pub events: Vec<Event>,
    /// Details of the releases whose pages (or project-page entries) are rendered.
    pub details: BTreeMap<String, ReleaseDetails>,
    /// The published security advisories that affect or are fixed by each release
    /// (docs/security-data.md); releases no advisory names are absent.
    pub advisories: BTreeMap<ReleaseId, trs_app::cve::ReleaseAdvisories>,
}

/// What a release page lists beyond the release item.
#[derive(Debug, Clone, Default)]
pub struct ReleaseDetails {
    /// The revision shown: the voted (promoted) one once there is one, else the latest.
    pub revision: Option<Revision>,
    /// Signers per file path, from the revision's verification report.
    pub signers: BTreeMap<String, Vec<Signer>>,
    /// Every file's check results from the revision's verification report.
    pub checks: Vec<trs_core::FileReport>,
    pub vote: Option<VoteSummary>,
    /// Its distributions to package registries (read only for releases whose stream has
    /// distribution events).
    pub distributions: Vec<trs_app::distribute::DistributionRecord>,
}

impl ProjectData {
    pub fn release(&self, id: &ReleaseId) -> Option<&Release> {
        self.releases.iter().find(|r| &r.id == id)
    }

    pub fn details(&self, id: &ReleaseId) -> Option<&ReleaseDetails> {
        self.details.get(&id.to_string())
    }

    /// The time of the newest event: the project's pages' last-modified time.
    pub fn last_modified(&self) -> i64 {
        self.events.last().map(|e| e.at).unwrap_or(self.project.created_at)
    }
}

/// The revision a release page lists.
pub fn shown_revision(release: &Release) -> Option<u32> {
    release.voted_revision.as_ref().or(release.latest.as_ref()).map(|r| r.number)
}

/// Releases the project page lists with their files and tally: the ones under vote.
pub fn needs_details_for_project_page(release: &Release) -> bool {
    release.stage == Stage::Candidate
}

/// Which releases to load details for.
#[derive(Debug, Clone)]
pub enum Details {
    /// Every release (full build).
    All,
    /// These, plus those the project page needs.
    Only(Vec<ReleaseId>),
}

/// Every release of a project, in one query (paginated).
pub async fn releases_of(app: &App, project: &ProjectName) -> AppResult<Vec<Release>> {
    app.all_items(keys::releases_of_project(project)).await
}

/// Whether the stream records any distribution of the release.
pub fn has_distributions(events: &[Event], id: &ReleaseId) -> bool {
    use trs_core::Change::*;
    events.iter().any(|e| {
        e.release.as_ref() == Some(id)
            && matches!(e.change, Distributed { .. } | DistributionPromoted { .. } | DistributionFailed { .. })
    })
}

pub async fn release_details(app: &App, release: &Release, events: &[Event]) -> AppResult<ReleaseDetails> {
    let mut details = ReleaseDetails { vote: trs_app::vote::summary(app, release).await?, ..Default::default() };
    if has_distributions(events, &release.id) {
        details.distributions = trs_app::distribute::list_records(app, &release.id).await?;
    }
    if let Some(number) = shown_revision(release) {
        details.revision = Some(get_revision(app, &release.id, number).await?);
        if let Some(stored) = get_report(app, &release.id, number).await? {
            for f in &stored.report.files {
                let signers: Vec<Signer> = f.checks.iter().filter_map(|c| c.signer.clone()).collect();
                if !signers.is_empty() {
                    details.signers.insert(f.path.to_string(), signers);
                }
            }
            details.checks = stored.report.files;
        }
    }
    Ok(details)
}

/// A project, its releases, its stream, and the details `which` asks for.
pub async fn project(app: &App, name: &ProjectName, which: &Details) -> AppResult<ProjectData> {
    let project = projects::get_project(app, name).await?;
    let releases = releases_of(app, name).await?;
    let events = stream::all_events(app, &StreamId::Project(name.clone())).await?;
    let mut details = BTreeMap::new();
    for r in &releases {
        let wanted = match which {
            Details::All => true,
            Details::Only(ids) => ids.contains(&r.id) || needs_details_for_project_page(r),
        };
        if wanted {
            details.insert(r.id.to_string(), release_details(app, r, &events).await?);
        }
    }
    let advisories = trs_app::cve::release_advisories(app, name).await?;
    Ok(ProjectData { project, releases, events, details, advisories })
}

/// The project's KEYS file.
pub async fn keys_file(app: &App, name: &ProjectName) -> AppResult<String> {
    projects::keys_file(app, name).await
}

/// Every project with its releases: what the directory, the search index and the site feed show.
#[derive(Debug, Clone, Default)]
pub struct Foundation {
    /// By name. The releases are shared with [`crate::publish`]'s cache of them.
    pub projects: Vec<(Project, Arc<Vec<Release>>)>,
}

/// Every project, by name (one query of the projects' index).
pub async fn all_projects(app: &App) -> AppResult<Vec<Project>> {
    let mut all: Vec<Project> = app.all_in_gsi1(keys::PROJECTS_INDEX).await?;
    all.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(all)
}

pub async fn foundation(app: &App) -> AppResult<Foundation> {
    let mut projects = Vec::new();
    for project in all_projects(app).await? {
        let releases = releases_of(app, &project.name).await?;
        projects.push((project, Arc::new(releases)));
    }
    Ok(Foundation { projects })
}

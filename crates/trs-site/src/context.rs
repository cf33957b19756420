//! One typed context per page kind, each a pure function of loaded data (no clock, no I/O):
//! rendering the same data twice gives the same bytes, so an unchanged page is never
//! rewritten. A page's context is its zola front matter's `extra` (crate::zola); the site's
//! title and base URL are zola's `config`. Text is escaped by the templates; only the site
//! description (Markdown from `zola.toml`, raw HTML escaped) is passed as HTML.

use crate::config::SiteConfig;
use crate::load::{self, Foundation, ProjectData, ReleaseDetails};
use crate::paths;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use trs_app::exports::{cle, date, endoflife, rfc3339};
use trs_app::shell;
use trs_app::storage_keys::{public_object, url_path};
use trs_core::views::latest_version;
use trs_core::{
    Change, Event, ManifestEntry, PrereleaseLatest, ProductName, Project, Release, ReleaseId, ReleaseView, Stage,
    StageSegment, StreamView, Tally, VoteState,
};

/// The version of every JSON document's shape; raised when a field changes meaning or goes.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Link {
    pub label: String,
    pub url: String,
}

/// What every context is built with: the config.
pub struct Builder<'a> {
    pub config: &'a SiteConfig,
}

impl<'a> Builder<'a> {
    pub fn new(config: &'a SiteConfig) -> Self {
        Self { config }
    }

    fn url(&self, path: &str) -> String {
        paths::url(&self.config.base_url, path)
    }

    fn project_crumbs(&self, project: &Project) -> Vec<Link> {
        vec![
            Link { label: self.config.title.clone(), url: self.config.base_url.clone() },
            Link { label: project.name.to_string(), url: self.url(&paths::project_page(&project.name)) },
        ]
    }
}

/// Markdown to HTML, with raw HTML in the source shown as text.
pub fn markdown(text: &str) -> String {
    use pulldown_cmark::{Event as Md, Parser, html};
    let parser = Parser::new(text).map(|e| match e {
        Md::Html(h) | Md::InlineHtml(h) => Md::Text(h),
        other => other,
    });
    let mut out = String::new();
    html::push_html(&mut out, parser);
    out
}

/// `1.5 MiB`, `812 B`.
pub fn size_text(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// `foo 1.0.0` or `foo conn 1.0.0`.
pub fn release_title(id: &ReleaseId) -> String {
    match &id.product {
        Some(p) => format!("{} {p} {}", id.project, id.version),
        None => format!("{} {}", id.project, id.version),
    }
}

/// The latest current release of each product line (`None` is the main line), as
/// `trs_app::public` serves `latest` ([`latest_version`]: no pre-release unless the line's
/// policy allows it).
pub fn latest_by_line(project: &Project, releases: &[Release]) -> BTreeMap<Option<ProductName>, ReleaseId> {
    let mut lines: BTreeMap<Option<ProductName>, Vec<&Release>> = BTreeMap::new();
    for r in releases.iter().filter(|r| r.stage == Stage::Current) {
        lines.entry(r.id.product.clone()).or_default().push(r);
    }
    lines
        .into_iter()
        .filter_map(|(line, rs)| {
            let allowed = project.policy_for(line.as_ref()).prerelease_latest;
            let v = latest_version(rs.iter().map(|r| &r.id.version), allowed)?;
            let id = rs.iter().find(|r| &r.id.version == v)?.id.clone();
            Some((line, id))
        })
        .collect()
}

fn newest_first(releases: &mut [&Release]) {
    releases.sort_by(|a, b| b.id.version.cmp(&a.id.version));
}

// ---------------------------------------------------------------- directory and search index

#[derive(Debug, Clone, Serialize)]
pub struct DirectoryPage {
    /// The description from zola.toml, rendered from Markdown (raw HTML shown as text).
    pub description_html: String,
    pub crumbs: Vec<Link>,
    pub projects: Vec<DirectoryEntry>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DirectoryEntry {
    pub name: String,
    pub url: String,
    /// The latest current release of each product line.
    pub latest: Vec<Link>,
}

pub fn directory(b: &Builder, foundation: &Foundation) -> DirectoryPage {
    let projects = foundation
        .projects
        .iter()
        .map(|(project, releases)| DirectoryEntry {
            name: project.name.to_string(),
            url: b.url(&paths::project_page(&project.name)),
            latest: latest_by_line(project, releases)
                .into_values()
                .map(|id| Link {
                    label: match &id.product {
                        Some(p) => format!("{p} {}", id.version),
                        None => id.version.to_string(),
                    },
                    url: b.url(&paths::release_page(&id)),
                })
                .collect(),
        })
        .collect();
    DirectoryPage { description_html: markdown(&b.config.description), crumbs: Vec::new(), projects }
}

#[derive(Debug, Clone, Serialize)]
pub struct SearchIndex {
    pub schema_version: u32,
    pub last_modified: String,
    pub projects: Vec<SearchEntry>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SearchEntry {
    pub name: String,
    pub url: String,
    pub products: Vec<String>,
    /// Versions downloadable from the main directory (current and end-of-life), newest first.
    pub versions: Vec<String>,
}

/// When a release last changed what the search index shows: a shown release (current, end of
/// life) when it was promoted, an archived or revoked one when it left (its last update).
/// Candidates and a shown release's dates or states are not in the index, so they do not move
/// its `last_modified` (which only a publish that renders the index could show).
fn search_index_change(release: &Release) -> Option<i64> {
    match release.stage {
        Stage::Current | Stage::EndOfLife => Some(release.promoted_at.unwrap_or(release.updated_at)),
        Stage::Archived | Stage::Revoked => Some(release.updated_at),
        _ => None,
    }
}

pub fn search_index(b: &Builder, foundation: &Foundation) -> SearchIndex {
    let mut last = 0;
    let projects = foundation
        .projects
        .iter()
        .map(|(project, releases)| {
            last =
                releases.iter().filter_map(search_index_change).chain([project.created_at, last]).max().unwrap_or(last);
            let mut shown: Vec<&Release> =
                releases.iter().filter(|r| matches!(r.stage, Stage::Current | Stage::EndOfLife)).collect();
            newest_first(&mut shown);
            SearchEntry {
                name: project.name.to_string(),
                url: b.url(&paths::project_page(&project.name)),
                products: project.products.iter().map(|p| p.to_string()).collect(),
                versions: {
                    // Newest first; a version of several products once.
                    let mut versions: Vec<String> = shown.iter().map(|r| r.id.version.to_string()).collect();
                    versions.dedup();
                    versions
                },
            }
        })
        .collect();
    SearchIndex { schema_version: SCHEMA_VERSION, last_modified: rfc3339(last), projects }
}

// ---------------------------------------------------------------- project page

#[derive(Debug, Clone, Serialize)]
pub struct ProjectPage {
    pub crumbs: Vec<Link>,
    pub name: String,
    pub keys_url: String,
    pub history_url: String,
    pub feed_url: String,
    pub releases_json_url: String,
    pub lines: Vec<LineSection>,
}

/// The main line or one product.
#[derive(Debug, Clone, Serialize)]
pub struct LineSection {
    pub anchor: String,
    pub label: String,
    pub latest: Option<Link>,
    /// Where `latest` resolves to files: `/current/P[/PRODUCT]/latest/FILE`.
    pub latest_dir: String,
    /// The line's current releases: shown first, above the candidates.
    pub current: Option<ReleaseGroup>,
    /// Candidates under vote: shown below the current releases, as not releases.
    pub candidates: Vec<CandidateEntry>,
    /// End of life, archived, revoked, drafts: below the candidates.
    pub groups: Vec<ReleaseGroup>,
    pub dates: Vec<LineDatesRow>,
    pub cle_url: String,
    pub endoflife_url: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CandidateEntry {
    pub version: String,
    pub url: String,
    pub vote_number: u32,
    pub revision: u32,
    pub vote_state: String,
    pub tally: Tally,
    pub closes_not_before: String,
    /// The candidate's files at `/candidate/…`.
    pub files: Vec<Link>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReleaseGroup {
    pub heading: String,
    pub rows: Vec<ReleaseRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReleaseRow {
    pub version: String,
    pub url: String,
    pub stage: String,
    pub latest: bool,
    pub states: Vec<String>,
    /// Dates as shown: `—` when not set.
    pub promoted: String,
    pub end_of_life: String,
    pub support_until: String,
    pub revoked_reason: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LineDatesRow {
    pub line: String,
    pub end_of_life: String,
    pub support_until: String,
}

/// The product lines a project shows: the main line when it has releases or no products, then
/// each product.
fn lines_of(data: &ProjectData) -> Vec<Option<ProductName>> {
    let mut products: BTreeSet<ProductName> = data.project.products.clone();
    products.extend(data.releases.iter().filter_map(|r| r.id.product.clone()));
    let main = data.releases.iter().any(|r| r.id.product.is_none()) || products.is_empty();
    main.then_some(None).into_iter().chain(products.into_iter().map(Some)).collect()
}

fn release_row(b: &Builder, r: &Release, latest: bool) -> ReleaseRow {
    ReleaseRow {
        version: r.id.version.to_string(),
        url: b.url(&paths::release_page(&r.id)),
        stage: r.stage.to_string(),
        latest,
        states: r.states.iter().cloned().collect(),
        promoted: shown(r.promoted_at.map(rfc3339), DASH),
        end_of_life: shown(r.end_of_life.map(date), DASH),
        support_until: shown(r.support_until.map(date), DASH),
        revoked_reason: r.revoked_reason.clone(),
    }
}

const DASH: &str = "—";

/// A value as a page shows it, `none` when absent (templates print strings, not nulls).
fn shown(value: Option<String>, none: &str) -> String {
    value.unwrap_or_else(|| none.to_string())
}

pub fn project_page(b: &Builder, data: &ProjectData) -> ProjectPage {
    let name = &data.project.name;
    let latest = latest_by_line(&data.project, &data.releases);
    let lines = lines_of(data)
        .into_iter()
        .map(|line| {
            let mut rs: Vec<&Release> = data.releases.iter().filter(|r| r.id.product == line).collect();
            newest_first(&mut rs);
            let latest_id = latest.get(&line);
            let candidates = rs
                .iter()
                .filter(|r| r.stage == Stage::Candidate)
                .filter_map(|r| candidate_entry(b, r, data.details(&r.id)))
                .collect();
            let group = |heading: &str, stages: &[Stage]| ReleaseGroup {
                heading: heading.to_string(),
                rows: rs
                    .iter()
                    .filter(|r| stages.contains(&r.stage))
                    .map(|r| release_row(b, r, latest_id == Some(&r.id)))
                    .collect(),
            };
            let current = Some(group("Current releases", &[Stage::Current])).filter(|g| !g.rows.is_empty());
            let groups = [
                group("End of life", &[Stage::EndOfLife]),
                group("Archived", &[Stage::Archived]),
                group("Revoked", &[Stage::Revoked]),
                group("Drafts (uploaded, no vote yet)", &[Stage::CandidateDraft]),
            ]
            .into_iter()
            .filter(|g| !g.rows.is_empty())
            .collect();
            let dates = data
                .project
                .lines
                .iter()
                .filter_map(|(key, d)| {
                    let (product, line_name) = match key.split_once('/') {
                        Some((p, l)) => (Some(p), l),
                        None => (None, key.as_str()),
                    };
                    (product == line.as_ref().map(|p| p.as_str())).then(|| LineDatesRow {
                        line: line_name.to_string(),
                        end_of_life: shown(d.end_of_life.map(date), DASH),
                        support_until: shown(d.support_until.map(date), DASH),
                    })
                })
                .collect();
            let (anchor, label) = match &line {
                Some(p) => (format!("product-{p}"), format!("Product {p}")),
                None if data.project.products.is_empty() => ("releases".to_string(), "Releases".to_string()),
                None => ("main-line".to_string(), format!("{name} (main line)")),
            };
            let latest_dir = match &line {
                Some(p) => format!("/current/{name}/{p}/latest/"),
                None => format!("/current/{name}/latest/"),
            };
            LineSection {
                anchor,
                label,
                latest: latest_id.map(|id| Link { label: release_title(id), url: b.url(&paths::release_page(id)) }),
                latest_dir,
                current,
                candidates,
                groups,
                dates,
                cle_url: b.url(&paths::cle_json(name, line.as_ref())),
                endoflife_url: b.url(&paths::endoflife_json(name, line.as_ref())),
            }
        })
        .collect();
    ProjectPage {
        crumbs: b.project_crumbs(&data.project),
        name: name.to_string(),
        keys_url: b.url(&paths::keys(name)),
        history_url: b.url(&paths::history_index(name)),
        feed_url: b.url(&paths::project_feed(name)),
        releases_json_url: b.url(&paths::releases_json(name)),
        lines,
    }
}

fn candidate_entry(b: &Builder, r: &Release, details: Option<&ReleaseDetails>) -> Option<CandidateEntry> {
    let details = details?;
    let vote = details.vote.as_ref()?;
    let files = details
        .revision
        .iter()
        .flat_map(|rev| rev.manifest.entries())
        .map(|e| Link {
            label: e.path.to_string(),
            url: url_path(&public_object(StageSegment::Candidate, &r.id, e.path.as_str())),
        })
        .collect();
    Some(CandidateEntry {
        version: r.id.version.to_string(),
        url: b.url(&paths::release_page(&r.id)),
        vote_number: vote.number,
        revision: vote.revision.number,
        vote_state: vote_state_text(vote.state).to_string(),
        tally: vote.tally.clone(),
        closes_not_before: rfc3339(vote.closes_not_before),
        files,
    })
}

fn vote_state_text(state: VoteState) -> &'static str {
    match state {
        VoteState::Open => "open",
        VoteState::Passed => "passed",
        VoteState::Failed => "failed",
        VoteState::Cancelled => "cancelled",
    }
}

// ---------------------------------------------------------------- release page

#[derive(Debug, Clone, Serialize)]
pub struct ReleasePage {
    pub crumbs: Vec<Link>,
    pub title: String,
    pub project: String,
    pub project_url: String,
    pub keys_url: String,
    pub history_url: String,
    pub stage: String,
    pub states: Vec<String>,
    pub revoked_reason: Option<String>,
    /// What a draft or candidate is not: a release (said plainly at the top of its page).
    pub not_a_release: Option<String>,
    /// A draft: its files are not listed (private to the project until a vote opens).
    pub files_private: bool,
    pub files_caption: String,
    /// The key of the revision listed.
    pub revision_key: Option<String>,
    pub files: Vec<FileRow>,
    pub verify: Option<VerifyBlock>,
    pub vote: Option<VoteBlock>,
    pub distributions: Vec<DistributionRow>,
    pub created_at: String,
    pub promoted_at: String,
    pub end_of_life: String,
    pub support_until: String,
    /// For a release no longer supported (end of life, archived, revoked): the line's newest
    /// supported release (its `latest`), if there is one.
    pub newest_supported: Option<Link>,
    /// Whether the release is no longer supported (then `newest_supported` is shown).
    pub unsupported: bool,
    /// The verification report of the listed revision, one row per check of each file.
    pub checks: Vec<CheckRow>,
    /// "N passed, N warnings, N failed".
    pub checks_summary: String,
    pub checks_failed: bool,
    /// Whether any check ran (a draft's page counts them but lists none).
    pub checks_counted: bool,
    /// Published security advisories that affect this release, and those it fixes.
    pub affected_by: Vec<String>,
    pub fixes: Vec<String>,
    /// The SBOMs among the listed files, with what their `sbom` check read.
    pub sboms: Vec<SbomRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SbomRow {
    pub path: String,
    pub url: Option<String>,
    /// The worst result of the file's `sbom` checks: `pass`, `warn` or `fail`.
    pub result: String,
    /// E.g. `CycloneDX 1.6 JSON`.
    pub format: String,
    /// `foo 1.0.0`: the component the SBOM describes.
    pub describes: Option<String>,
    pub components: u64,
    pub licences: Vec<LicenceRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LicenceRow {
    /// A [`trs_core::LicenceCategory`]: `permissive`, `weak-copyleft`, …
    pub category: String,
    pub components: u64,
    pub examples: Vec<String>,
}

/// The SBOM rows of a release page: each file whose checks carry an SBOM summary.
fn sbom_rows(files: &[trs_core::FileReport], url: impl Fn(&str) -> Option<String>) -> Vec<SbomRow> {
    files
        .iter()
        .filter_map(|f| {
            let summary = f.sbom()?;
            let result = f.checks.iter().filter(|c| c.check == trs_core::CheckKind::Sbom).map(|c| c.result).max()?;
            Some(SbomRow {
                path: f.path.to_string(),
                url: url(f.path.as_str()),
                result: result.to_string(),
                format: summary.format.clone(),
                describes: summary.top.as_ref().map(|t| match &t.version {
                    Some(v) => format!("{} {v}", t.name),
                    None => t.name.clone(),
                }),
                components: summary.components,
                licences: summary
                    .licences
                    .iter()
                    .map(|(c, t)| LicenceRow {
                        category: c.to_string(),
                        components: t.components,
                        examples: t.examples.clone(),
                    })
                    .collect(),
            })
        })
        .collect()
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckRow {
    pub path: String,
    pub check: String,
    /// `pass`, `warn` or `fail`.
    pub result: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct FileRow {
    pub path: String,
    /// Where the file is downloaded (absent once revoked).
    pub url: Option<String>,
    pub size: u64,
    pub size_text: String,
    pub sha512: String,
    /// From the verification report, where it recorded one.
    pub sha256: Option<String>,
    pub signature_url: Option<String>,
    pub checksum_url: Option<String>,
    pub signers: Vec<SignerView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SignerView {
    /// The certificate's user id, else the trs person.
    pub name: String,
    pub person: String,
    pub user_id: Option<String>,
    pub fingerprint: String,
}

/// Copy-paste verification of the release's first artifact: the command lines, every name
/// and URL in them already quoted for a POSIX shell (`trs_app::shell`), so a template shows
/// them as they are and cannot forget to quote one.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyBlock {
    /// The files are a candidate's (under vote, not a release): the page says they are for
    /// checking before a vote, not for use.
    pub candidate: bool,
    /// The commands use `$SITE` for the site's address (no `download_url` configured).
    pub needs_site: bool,
    pub commands: Vec<String>,
}

impl VerifyBlock {
    /// `key` is the artifact's public object key, `keys_key` the project's KEYS file's;
    /// `checksum` says whether the release has the artifact's `.sha512` beside it.
    fn new(origin: shell::Origin<'_>, keys_key: &str, key: &str, sha512: &str, checksum: bool) -> Self {
        let name = key.rsplit('/').next().unwrap_or(key);
        // A name starting with '-' (stored before the portable set) must not read as an option.
        let arg = |suffix: &str| {
            let file = format!("{name}{suffix}");
            shell::quote(&if file.starts_with('-') { format!("./{file}") } else { file }).into_owned()
        };
        let fetch =
            |suffix: &str| format!("curl -fsSL -o {} {}", arg(suffix), shell::url(origin, &format!("{key}{suffix}")));
        let mut commands = vec![
            format!("curl -fsSL -o KEYS {}", shell::url(origin, keys_key)),
            "gpg --import KEYS".to_string(),
            fetch(""),
            fetch(".asc"),
            format!("gpg --verify {} {}", arg(".asc"), arg("")),
        ];
        if checksum {
            commands.push(fetch(".sha512"));
            commands.push(format!("sha512sum -c {}", arg(".sha512")));
        }
        commands.push(format!("printf '%s  %s\\n' {} {} | sha512sum -c", shell::quote(sha512), arg("")));
        Self { candidate: false, needs_site: matches!(origin, shell::Origin::Variable(_)), commands }
    }
}

/// One package-registry distribution of the release.
#[derive(Debug, Clone, Serialize)]
pub struct DistributionRow {
    pub platform: String,
    /// `namespace/package` or `package`.
    pub package: String,
    pub version: String,
    /// `published`, `staged`, `in progress` or `failed: …`.
    pub status: String,
    pub url: Option<String>,
}

fn distribution_row(d: &trs_app::distribute::DistributionRecord) -> DistributionRow {
    let status = match (&d.last_error, d.pending, d.staging) {
        (Some(e), _, _) => format!("failed: {e}"),
        (None, true, _) => "in progress".into(),
        (None, false, true) => "staged".into(),
        (None, false, false) => "published".into(),
    };
    DistributionRow {
        platform: d.platform.as_str().to_string(),
        package: match &d.namespace {
            Some(ns) => format!("{ns}/{}", d.package),
            None => d.package.clone(),
        },
        version: d.version.clone(),
        status,
        url: d.web_url.clone().filter(|u| u.starts_with("https://") || u.starts_with("http://")),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct VoteBlock {
    pub number: u32,
    pub state: String,
    pub revision: u32,
    pub revision_key: String,
    pub opened_at: String,
    pub closes_not_before: String,
    pub closed_at: Option<String>,
    pub tally: Tally,
    pub explanation: Option<String>,
}

/// A file's SHA-256 as the release's verification report recorded it.
fn recorded_sha256(details: &ReleaseDetails, entry: &ManifestEntry) -> Option<String> {
    trs_core::recorded_sha256(&details.checks, &entry.path, &entry.sha512).map(|d| d.to_hex())
}

/// Files that accompany an artifact rather than being one.
fn is_sidecar(path: &str) -> bool {
    [".asc", ".sig", ".sha512", ".sha256", ".md5", ".sha1"].iter().any(|s| path.ends_with(s))
}

pub fn release_page(b: &Builder, data: &ProjectData, release: &Release) -> ReleasePage {
    let id = &release.id;
    let advisories = data.advisories.get(id).cloned().unwrap_or_default();
    let details = data.details(id).cloned().unwrap_or_default();
    // None for a draft (its files are private to its project until a vote opens) or a revoked release.
    let segment = StageSegment::of(release.stage);
    let public = |path: &str| segment.map(|s| url_path(&public_object(s, id, path)));
    let configured = b.config.extra.download_url.trim_end_matches('/');
    let mut files = Vec::new();
    let mut verify = None;
    let keys_url = b.url(&paths::keys(&id.project));
    let files_private = release.stage == Stage::CandidateDraft;
    if let Some(revision) = details.revision.as_ref().filter(|_| !files_private) {
        let present: BTreeSet<&str> = revision.manifest.entries().iter().map(|e| e.path.as_str()).collect();
        for e in revision.manifest.entries() {
            let path = e.path.as_str();
            let beside = |suffix: &str| {
                let name = format!("{path}{suffix}");
                present.contains(name.as_str()).then(|| public(&name)).flatten()
            };
            files.push(FileRow {
                path: path.to_string(),
                url: public(path),
                size: e.size,
                size_text: size_text(e.size),
                sha512: e.sha512.to_hex(),
                sha256: recorded_sha256(&details, e),
                signature_url: beside(".asc"),
                checksum_url: beside(".sha512"),
                signers: details
                    .signers
                    .get(path)
                    .or_else(|| details.signers.get(&format!("{path}.asc")))
                    .into_iter()
                    .flatten()
                    .map(|s| SignerView {
                        name: s.user_id.clone().unwrap_or_else(|| s.person.clone()),
                        person: s.person.clone(),
                        user_id: s.user_id.clone(),
                        fingerprint: s.fingerprint.to_string(),
                    })
                    .collect(),
            });
            if verify.is_none()
                && !is_sidecar(path)
                && let Some(segment) = segment
            {
                let origin = if configured.is_empty() {
                    shell::Origin::Variable("SITE")
                } else {
                    shell::Origin::Url(configured)
                };
                verify = Some(VerifyBlock {
                    candidate: release.stage == Stage::Candidate,
                    ..VerifyBlock::new(
                        origin,
                        &keys_url,
                        &public_object(segment, id, path),
                        &e.sha512.to_hex(),
                        present.contains(format!("{path}.sha512").as_str()),
                    )
                });
            }
        }
    }
    let files_caption = match (&details.revision, release.stage) {
        (Some(rev), Stage::CandidateDraft | Stage::Candidate) => {
            format!("Files of candidate revision {} (key {})", rev.number, rev.key)
        }
        (Some(rev), _) => format!("Files of voted revision {} (key {})", rev.number, rev.key),
        (None, _) => String::new(),
    };
    let vote = details.vote.as_ref().map(|v| VoteBlock {
        number: v.number,
        state: vote_state_text(v.state).to_string(),
        revision: v.revision.number,
        revision_key: v.revision.key.to_string(),
        opened_at: rfc3339(v.opened_at),
        closes_not_before: rfc3339(v.closes_not_before),
        closed_at: v.closed_at.map(rfc3339),
        tally: v.tally.clone(),
        explanation: v.explanation.clone(),
    });
    let mut crumbs = b.project_crumbs(&data.project);
    crumbs.push(Link { label: release_title(id), url: b.url(&paths::release_page(id)) });
    // A release's own date wins over its line's (`1.x`), field by field, as in the JSON views.
    let line = trs_core::views::governing_line(&data.project.lines, id);
    let dated = |own: Option<i64>, of_line: Option<i64>| match (own, of_line, line) {
        (Some(at), _, _) => date(at),
        (None, Some(at), Some((key, _))) => format!("{} (line {key})", date(at)),
        _ => "not set".to_string(),
    };
    let end_of_life = dated(release.end_of_life, line.and_then(|(_, d)| d.end_of_life));
    let support_until = dated(release.support_until, line.and_then(|(_, d)| d.support_until));
    let unsupported = matches!(release.stage, Stage::EndOfLife | Stage::Archived | Stage::Revoked);
    let newest_supported = latest_by_line(&data.project, &data.releases)
        .remove(&id.product)
        .filter(|latest| unsupported && latest != id)
        .map(|latest| Link { label: release_title(&latest), url: b.url(&paths::release_page(&latest)) });
    let mut checks = Vec::new();
    let (mut passed, mut warned, mut failed) = (0, 0, 0);
    for f in &details.checks {
        for c in &f.checks {
            match c.result {
                trs_core::Outcome::Pass => passed += 1,
                trs_core::Outcome::Warn => warned += 1,
                trs_core::Outcome::Fail => failed += 1,
            }
            // A draft's file names are private to the project (docs/drafts.md): its page counts
            // the results without naming the files.
            if files_private {
                continue;
            }
            checks.push(CheckRow {
                path: f.path.to_string(),
                check: c.check.as_str().to_string(),
                result: c.result.to_string(),
                reason: c.reason.clone(),
            });
        }
    }
    ReleasePage {
        crumbs,
        title: release_title(id),
        project: id.project.to_string(),
        project_url: b.url(&paths::project_page(&id.project)),
        keys_url,
        history_url: b.url(&paths::history_index(&id.project)),
        stage: release.stage.to_string(),
        states: release.states.iter().cloned().collect(),
        revoked_reason: release.revoked_reason.clone(),
        not_a_release: not_a_release(release),
        files_private,
        files_caption,
        revision_key: details.revision.as_ref().map(|r| r.key.to_string()),
        files,
        verify,
        vote,
        distributions: details.distributions.iter().map(distribution_row).collect(),
        created_at: rfc3339(release.created_at),
        promoted_at: shown(release.promoted_at.map(rfc3339), "not yet"),
        end_of_life,
        support_until,
        newest_supported,
        unsupported,
        checks_summary: format!("{passed} passed, {warned} warnings, {failed} failed"),
        checks_failed: failed > 0,
        checks_counted: passed + warned + failed > 0,
        checks,
        affected_by: advisories.affected_by.iter().map(|c| c.to_string()).collect(),
        fixes: advisories.fixes.iter().map(|c| c.to_string()).collect(),
        // A draft's files are private, its SBOMs too.
        sboms: if files_private { Vec::new() } else { sbom_rows(&details.checks, public) },
    }
}

/// `files.json` of a release: its files as a script or mirror needs them.
#[derive(Debug, Clone, Serialize)]
pub struct FilesJson {
    pub schema_version: u32,
    pub release: String,
    pub project: String,
    pub product: Option<String>,
    pub version: String,
    pub stage: String,
    /// The revision listed: the voted one once there is one.
    pub revision: Option<u32>,
    pub revision_key: Option<String>,
    pub release_page: String,
    pub files: Vec<FileJson>,
    /// Published security advisories (CVE ids) that affect this release, and those it fixes
    /// (absent when none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub affected_by: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fixes: Vec<String>,
    /// The SBOMs among the files with what their `sbom` check read, as on the release page
    /// (absent when none): a script deciding on a release reads the licence summary here.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sboms: Vec<SbomRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FileJson {
    pub path: String,
    pub size: u64,
    pub sha512: String,
    /// `null` where the verification did not record it (reports made before it did).
    pub sha256: Option<String>,
    /// Where it is downloaded (`download_url` + path when configured, else the path on the
    /// site's host); `null` once revoked.
    pub url: Option<String>,
    pub signature_url: Option<String>,
    /// Fingerprints of the keys whose signatures on this file verified.
    pub signers: Vec<String>,
}

/// The download URL of a public path: absolute when `download_url` is configured.
fn download(b: &Builder, path: Option<&String>) -> Option<String> {
    path.map(|p| format!("{}{p}", b.config.extra.download_url.trim_end_matches('/')))
}

pub fn files_json(b: &Builder, release: &Release, page: &ReleasePage) -> FilesJson {
    let id = &release.id;
    let shown = load::shown_revision(release);
    FilesJson {
        schema_version: SCHEMA_VERSION,
        release: id.to_string(),
        project: id.project.to_string(),
        product: id.product.as_ref().map(|p| p.to_string()),
        version: id.version.to_string(),
        stage: page.stage.clone(),
        revision: shown,
        revision_key: page.revision_key.clone(),
        release_page: absolute(b, b.url(&paths::release_page(id))),
        files: page
            .files
            .iter()
            .map(|f| FileJson {
                path: f.path.clone(),
                size: f.size,
                sha512: f.sha512.clone(),
                sha256: f.sha256.clone(),
                url: download(b, f.url.as_ref()),
                signature_url: download(b, f.signature_url.as_ref()),
                signers: f.signers.iter().map(|s| s.fingerprint.clone()).collect(),
            })
            .collect(),
        affected_by: page.affected_by.clone(),
        fixes: page.fixes.clone(),
        sboms: page.sboms.iter().map(|s| SbomRow { url: download(b, s.url.as_ref()), ..s.clone() }).collect(),
    }
}

/// `SHA512SUMS`: one `HEX  PATH` line per file of the release, the format `sha512sum -c`
/// checks in the folder the files were downloaded to.
pub fn sha512sums(page: &ReleasePage) -> String {
    page.files.iter().map(|f| format!("{}  {}\n", f.sha512, f.path)).collect()
}

/// `latest.json`: each product line's latest current release (as `/current/…/latest/` serves
/// it) with its files, so a script needs no version to download the newest release.
#[derive(Debug, Clone, Serialize)]
pub struct LatestJson {
    pub schema_version: u32,
    pub last_modified: String,
    pub project: String,
    pub lines: Vec<LatestLine>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LatestLine {
    /// `null` for the project's main line.
    pub product: Option<String>,
    pub version: String,
    pub release_page: String,
    pub files_json: String,
    /// The files, each with its versioned URL and its `latest` URL.
    pub files: Vec<LatestFile>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LatestFile {
    pub path: String,
    pub size: u64,
    pub sha512: String,
    pub sha256: Option<String>,
    pub url: String,
    pub latest_url: String,
}

pub fn latest_json(b: &Builder, data: &ProjectData) -> LatestJson {
    let lines = latest_by_line(&data.project, &data.releases)
        .into_iter()
        .map(|(product, id)| {
            let latest_prefix = match &product {
                Some(p) => format!("current/{}/{p}/latest/", id.project),
                None => format!("current/{}/latest/", id.project),
            };
            let details = data.details(&id);
            let files = details
                .and_then(|d| Some((d, d.revision.as_ref()?)))
                .map(|(details, rev)| {
                    rev.manifest
                        .entries()
                        .iter()
                        .map(|e| {
                            let path = e.path.as_str();
                            let url = url_path(&public_object(StageSegment::Current, &id, path));
                            let latest = url_path(&format!("{latest_prefix}{path}"));
                            LatestFile {
                                path: path.to_string(),
                                size: e.size,
                                sha512: e.sha512.to_hex(),
                                sha256: recorded_sha256(details, e),
                                url: download(b, Some(&url)).unwrap_or(url),
                                latest_url: download(b, Some(&latest)).unwrap_or(latest),
                            }
                        })
                        .collect()
                })
                .unwrap_or_default();
            LatestLine {
                product: product.map(|p| p.to_string()),
                version: id.version.to_string(),
                release_page: absolute(b, b.url(&paths::release_page(&id))),
                files_json: absolute(b, b.url(&paths::release_files_json(&id))),
                files,
            }
        })
        .collect();
    LatestJson {
        schema_version: SCHEMA_VERSION,
        last_modified: rfc3339(data.last_modified()),
        project: data.project.name.to_string(),
        lines,
    }
}

/// The plain sentence a page of a release that is not (yet) one shows.
fn not_a_release(release: &Release) -> Option<String> {
    let passed = release.vote.as_ref().is_some_and(|v| v.state == VoteState::Passed);
    match release.stage {
        Stage::Candidate if passed => Some("Release candidate — vote passed, not yet a release".into()),
        Stage::Candidate => Some("Release candidate — under vote, not a release".into()),
        Stage::CandidateDraft => {
            Some("Draft — not a release: its files are private to the project until a vote opens on it".into())
        }
        Stage::Current | Stage::Archived | Stage::EndOfLife | Stage::Revoked => None,
    }
}

// ---------------------------------------------------------------- history

#[derive(Debug, Clone, Serialize)]
pub struct HistoryPage {
    pub crumbs: Vec<Link>,
    pub project: String,
    /// 1 = the oldest events.
    pub page: usize,
    pub pages: usize,
    /// Newest first.
    pub events: Vec<HistoryEvent>,
    pub newer_url: Option<String>,
    pub older_url: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HistoryEvent {
    pub seq: u64,
    pub kind: String,
    pub release: Option<String>,
    pub release_url: Option<String>,
    pub stage: Option<String>,
    pub at: String,
    pub actor: Option<String>,
    pub details: Option<String>,
    pub revision_key: Option<String>,
    pub hash: String,
}

/// How many history pages `events` fill.
pub fn history_page_count(events: usize, page_size: usize) -> usize {
    events.div_ceil(page_size.max(1)).max(1)
}

fn describe(change: &Change) -> Option<String> {
    Some(match change {
        Change::ProjectCreated { .. } => return None,
        Change::PersonAdded { uid, fingerprint } => format!("{uid} with key {fingerprint}"),
        Change::KeyAdded { uid, fingerprint, .. } => format!("{uid}: key {fingerprint}"),
        Change::PolicyChanged { product, .. } => match product {
            Some(p) => format!("policy of product {p}"),
            None => "policy of the main line".into(),
        },
        Change::MailSettingsChanged { product, .. } => match product {
            Some(p) => format!("mail settings of product {p}"),
            None => "mail settings of the main line".into(),
        },
        Change::RevisionPushed { revision, files, forced, removed, replaced, .. } => format!(
            "revision {revision}, {files} file(s){}{}{}",
            if *removed > 0 { format!(", {removed} removed") } else { String::new() },
            if *replaced { ", replacing the previous files" } else { "" },
            if *forced { ", forced" } else { "" }
        ),
        Change::DraftDiscarded { .. } => "draft discarded (never voted on)".into(),
        Change::VoteOpened { vote, revision, closes_not_before } => {
            format!("vote {vote} on revision {revision}, may close {}", rfc3339(*closes_not_before))
        }
        Change::VoteCast { vote, value, binding, .. } => {
            let value = serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_string));
            format!("vote {vote}: {} ({})", value.unwrap_or_default(), if *binding { "binding" } else { "non-binding" })
        }
        Change::VoteClosed { vote, passed, .. } => format!("vote {vote} {}", if *passed { "passed" } else { "failed" }),
        Change::VoteCancelled { vote } => format!("vote {vote} cancelled"),
        Change::Promoted { revision } => format!("revision {revision} published"),
        Change::Imported { revision, released_at, files } => {
            format!(
                "imported from an earlier release history: released {}, revision {revision}, {files} file(s)",
                date(*released_at)
            )
        }
        Change::Archived | Change::EndOfLife => return None,
        Change::Revoked { reason } => format!("reason: {reason}"),
        Change::LifecycleDatesSet { line, end_of_life, support_until } => format!(
            "{}end of life {}, support until {}",
            line.as_ref().map(|l| format!("line {l}: ")).unwrap_or_default(),
            end_of_life.map(date).unwrap_or_else(|| "unset".into()),
            support_until.map(date).unwrap_or_else(|| "unset".into())
        ),
        Change::StateEntered { state, .. } => format!("entered {state}"),
        Change::StateLeft { state, .. } => format!("left {state}"),
        Change::Distributed { platform, package, version, staging, .. } => {
            format!("{platform}: {package} {version} {}", if *staging { "staged" } else { "published" })
        }
        Change::DistributionPromoted { platform, package, version, .. } => {
            format!("{platform}: {package} {version} promoted from staging")
        }
        Change::AutoDistributionsSet { distributions } if distributions.is_empty() => {
            "automatic distribution turned off".into()
        }
        Change::AutoDistributionsSet { distributions } => format!(
            "distributed automatically on promotion to {}",
            distributions.iter().map(|d| format!("{} ({})", d.platform, d.package)).collect::<Vec<_>>().join(", ")
        ),
        Change::DistributionFailed { platform, package, version, error, .. } => {
            format!("{platform}: {package} {version} failed: {error}")
        }
        Change::MembersChanged { role, added, removed } => {
            let list = |uids: &[trs_core::PersonUid]| uids.iter().map(|u| u.as_str()).collect::<Vec<_>>().join(", ");
            match (added.is_empty(), removed.is_empty()) {
                (false, true) => format!("{role}: added {}", list(added.as_slice())),
                (true, false) => format!("{role}: removed {}", list(removed.as_slice())),
                _ => format!("{role}: added {}; removed {}", list(added.as_slice()), list(removed.as_slice())),
            }
        }
        Change::ProductAdded { product, .. } => format!("product {product} declared"),
        Change::ProjectEdited { .. } => "project details changed".into(),
        Change::PersonEdited { uid, .. } => format!("{uid}: details changed"),
        Change::AdminGranted { uid } => format!("{uid} made an admin"),
        Change::AdminRevoked { uid } => format!("{uid} no longer an admin"),
        Change::KeyRemoved { uid, fingerprint } => format!("{uid}: key {fingerprint} removed"),
        Change::AdvisoryPublished { id, summary, updated, .. } => {
            format!("security advisory {id} {}: {summary}", if *updated { "updated" } else { "published" })
        }
    })
}

fn history_event(b: &Builder, e: &Event) -> HistoryEvent {
    HistoryEvent {
        seq: e.seq,
        kind: e.change.type_name(),
        release: e.release.as_ref().map(release_title),
        release_url: e.release.as_ref().map(|id| b.url(&paths::release_page(id))),
        stage: e.stage.map(|m| match m.from {
            Some(from) => format!("{from} → {}", m.to),
            None => m.to.to_string(),
        }),
        at: rfc3339(e.at),
        actor: e.actor.as_ref().map(|a| format!("{} (key {})", a.uid, a.key)),
        details: describe(&e.change),
        revision_key: e.revision_key.map(|k| k.to_string()),
        hash: e.hash.clone(),
    }
}

/// Page `page` (1 = oldest) of the project's history.
pub fn history_page(b: &Builder, data: &ProjectData, page: usize) -> HistoryPage {
    let size = b.config.extra.history_page_size.max(1);
    let name = &data.project.name;
    let pages = history_page_count(data.events.len(), size);
    let page = page.clamp(1, pages);
    let start = (page - 1) * size;
    let end = (start + size).min(data.events.len());
    let events = data.events.get(start..end).unwrap_or_default().iter().rev().map(|e| history_event(b, e)).collect();
    let mut crumbs = b.project_crumbs(&data.project);
    crumbs.push(Link { label: "History".into(), url: b.url(&paths::history_index(name)) });
    HistoryPage {
        crumbs,
        project: name.to_string(),
        page,
        pages,
        events,
        newer_url: (page < pages).then(|| b.url(&paths::history_page(name, page + 1))),
        older_url: (page > 1).then(|| b.url(&paths::history_page(name, page - 1))),
    }
}

// ---------------------------------------------------------------- JSON views

#[derive(Debug, Clone, Serialize)]
pub struct ReleasesJson {
    pub schema_version: u32,
    pub last_modified: String,
    pub project: String,
    /// Stage or state → releases.
    pub by_state: BTreeMap<String, Vec<String>>,
    /// Release → its stage, `latest` where it is, then its freeform states.
    pub by_release: BTreeMap<String, Vec<String>>,
    /// Product line → its latest current release.
    pub latest: BTreeMap<String, String>,
    /// In order: main line before products, then by version.
    pub releases: Vec<ReleaseView>,
    /// Release → the published security advisories that affect it (`affected_by`) and that
    /// it fixes (`fixes`); releases no advisory names are absent (and the field, when none is).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub advisories: BTreeMap<String, trs_app::cve::ReleaseAdvisories>,
}

pub fn releases_json(data: &ProjectData) -> ReleasesJson {
    let view = StreamView::replay(&data.events, None);
    let rule = PrereleaseLatest::of([&data.project]);
    ReleasesJson {
        schema_version: SCHEMA_VERSION,
        last_modified: rfc3339(data.last_modified()),
        project: data.project.name.to_string(),
        by_state: view.by_state(&rule),
        by_release: view.by_release(&rule),
        latest: view.latest(&rule),
        releases: view.in_order().into_iter().cloned().collect(),
        advisories: data.advisories.iter().map(|(id, a)| (id.to_string(), a.clone())).collect(),
    }
}

/// The CLE document of a product line, with the site's schema version and last-modified time.
pub fn cle_json(data: &ProjectData, product: Option<&ProductName>) -> serde_json::Value {
    let mut doc = cle::document(&data.events, &data.project.name, product, data.last_modified(), &data.advisories);
    doc["schema_version"] = SCHEMA_VERSION.into();
    doc["last_modified"] = rfc3339(data.last_modified()).into();
    doc
}

/// endoflife.date's API v1 `ProductResponse` for a product line (`endoflife.json`).
pub fn endoflife_json(b: &Builder, data: &ProjectData, product: Option<&ProductName>) -> serde_json::Value {
    let view = StreamView::replay(&data.events, None);
    let release_page = |id: &ReleaseId| absolute(b, b.url(&paths::release_page(id)));
    let links = endoflife::Links {
        line_page: absolute(b, b.url(&paths::project_page(&data.project.name))),
        release_page: &release_page,
    };
    endoflife::document_v1(&data.project, &view, product, &rfc3339(data.last_modified()), &links, &data.advisories)
}

/// endoflife.date's older per-cycle array (API v0, `endoflife-v0.json`), for tools that read
/// that shape: no envelope, exactly as that API served it.
pub fn endoflife_v0_json(data: &ProjectData, product: Option<&ProductName>) -> serde_json::Value {
    let view = StreamView::replay(&data.events, None);
    endoflife::document(&data.project, &view, product)
}

/// Every product line with a JSON view: the main line and each product.
pub fn json_lines(data: &ProjectData) -> Vec<Option<ProductName>> {
    lines_of(data)
}

// ---------------------------------------------------------------- Atom feeds

#[derive(Debug, Clone, Serialize)]
pub struct FeedPage {
    pub title: String,
    /// The feed's author (RFC 4287 §4.1.1 requires one): the site's title.
    pub author: String,
    pub id: String,
    pub updated: String,
    pub self_url: String,
    pub alternate_url: String,
    pub entries: Vec<FeedEntry>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FeedEntry {
    pub title: String,
    pub id: String,
    pub updated: String,
    pub url: String,
    pub summary: String,
}

/// `url` made absolute with the site's origin (`download_url`) when `base_url` is a path, as
/// Atom readers resolve `rel=self` and ids without a base. Stays as it is when no origin is
/// configured.
fn absolute(b: &Builder, url: String) -> String {
    let origin = b.config.extra.download_url.trim_end_matches('/');
    if url.starts_with("http://") || url.starts_with("https://") || origin.is_empty() {
        url
    } else {
        format!("{origin}{url}")
    }
}

/// An Atom id (an absolute IRI, RFC 4287 §4.2.6): the absolute URL when the site knows its
/// origin, else a `urn:trs:` name (the same on every installation without an origin).
fn atom_id(url: &str, fallback: impl FnOnce() -> String) -> String {
    if url.starts_with("http://") || url.starts_with("https://") { url.to_string() } else { fallback() }
}

/// When an entry last changed: its promotion, or its revocation (readers show an entry again
/// when `updated` moves).
fn entry_updated(r: &Release) -> i64 {
    match r.stage {
        Stage::Revoked => r.updated_at.max(r.promoted_at.unwrap_or(0)),
        _ => r.promoted_at.unwrap_or(r.updated_at),
    }
}

fn feed_entries<'r>(b: &Builder, releases: impl Iterator<Item = &'r Release>) -> Vec<FeedEntry> {
    let mut promoted: Vec<&Release> = releases.filter(|r| r.promoted_at.is_some()).collect();
    promoted.sort_by(|a, b| (b.promoted_at, &b.id).cmp(&(a.promoted_at, &a.id)));
    promoted
        .into_iter()
        .take(b.config.extra.feed_entries)
        .map(|r| {
            let title = release_title(&r.id);
            let when = rfc3339(r.promoted_at.unwrap_or(0));
            // The release page's absolute URL: permanent, and unique across installations
            // (a `urn:trs:` id was the same for `foo/1.0.0` on every trs).
            let url = absolute(b, b.url(&paths::release_page(&r.id)));
            FeedEntry {
                title: match r.stage {
                    Stage::Revoked => format!("{title} (revoked)"),
                    _ => title.clone(),
                },
                id: atom_id(&url, || format!("urn:trs:release:{}", r.id)),
                updated: rfc3339(entry_updated(r)),
                url,
                summary: match &r.revoked_reason {
                    Some(reason) => format!("{title} was released on {when}, then revoked: {reason}"),
                    None => format!("{title} released on {when}"),
                },
            }
        })
        .collect()
}

pub fn project_feed(b: &Builder, data: &ProjectData) -> FeedPage {
    let name = &data.project.name;
    let entries = feed_entries(b, data.releases.iter());
    let self_url = absolute(b, b.url(&paths::project_feed(name)));
    FeedPage {
        title: format!("{name} releases"),
        author: b.config.title.clone(),
        id: atom_id(&self_url, || format!("urn:trs:feed:{name}")),
        updated: feed_updated(&entries, data.project.created_at),
        self_url,
        alternate_url: absolute(b, b.url(&paths::project_page(name))),
        entries,
    }
}

pub fn site_feed(b: &Builder, foundation: &Foundation) -> FeedPage {
    let entries = feed_entries(b, foundation.projects.iter().flat_map(|(_, rs)| rs.iter()));
    // Without releases, the feed is as old as the newest project (never 1970 while one exists).
    let newest_project = foundation.projects.iter().map(|(p, _)| p.created_at).max().unwrap_or(0);
    let self_url = absolute(b, b.url(paths::SITE_FEED));
    FeedPage {
        title: format!("{}: new releases", b.config.title),
        author: b.config.title.clone(),
        id: atom_id(&self_url, || "urn:trs:feed".into()),
        updated: feed_updated(&entries, newest_project),
        self_url,
        alternate_url: absolute(b, b.config.base_url.clone()),
        entries,
    }
}

/// A feed's `updated`: its newest entry's (a revocation moves an older entry), else `otherwise`.
fn feed_updated(entries: &[FeedEntry], otherwise: i64) -> String {
    // RFC 3339 UTC texts of one format order as their times.
    entries.iter().map(|e| e.updated.clone()).max().unwrap_or_else(|| rfc3339(otherwise))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the block's commands with `sh` in a fresh folder, `curl`, `gpg` and `sha512sum`
    /// replaced by functions that log their arguments one per line; returns the log and
    /// whether the file `PWNED` came into being.
    fn run_block(block: &VerifyBlock) -> (String, bool) {
        let dir = tempfile::tempdir().unwrap();
        let stubs = "log() { for a in \"$@\"; do printf '%s\\n' \"$a\" >> log; done; }\n\
                     curl() { log curl \"$@\"; }\ngpg() { log gpg \"$@\"; }\n\
                     sha512sum() { log sha512sum \"$@\"; while IFS= read -r l; do log \"$l\"; done; }\n\
                     SITE=https://s.example\n";
        let script = format!("{stubs}{}\n", block.commands.join("\n"));
        let out = std::process::Command::new("sh").arg("-c").arg(&script).current_dir(dir.path()).output().unwrap();
        assert!(out.status.success(), "{script}\n{}", String::from_utf8_lossy(&out.stderr));
        let log = std::fs::read_to_string(dir.path().join("log")).unwrap_or_default();
        (log, dir.path().join("PWNED").exists())
    }

    /// The copy-paste block runs nothing a file name chose, even for names the portable set
    /// refuses today (stored before it): issue 13, item 1.
    #[test]
    fn the_verification_commands_quote_every_name_and_url() {
        let hex = "ab".repeat(64);
        for name in [
            "apache-foo-6.2$(touch${IFS}PWNED).tar.gz",
            "a`touch PWNED`.zip",
            "x; touch PWNED; y.zip",
            "x' ; touch PWNED ; '.zip",
            "x\" ; touch PWNED ; \".zip",
            "-x|touch PWNED",
            "plain-1.0.tar.gz",
        ] {
            let key = format!("current/foo/1.0/{name}");
            for origin in [shell::Origin::Variable("SITE"), shell::Origin::Url("https://s.example")] {
                let block = VerifyBlock::new(origin, "/projects/foo/KEYS", &key, &hex, true);
                let (log, pwned) = run_block(&block);
                assert!(!pwned, "{name:?} ran code:\n{}", block.commands.join("\n"));
                let file = if name.starts_with('-') { format!("./{name}") } else { name.to_string() };
                let lines: Vec<&str> = log.lines().collect();
                let url = format!("https://s.example{}", url_path(&key));
                for expected in [
                    vec!["curl", "-fsSL", "-o", "KEYS", "https://s.example/projects/foo/KEYS"],
                    vec!["gpg", "--import", "KEYS"],
                    vec!["curl", "-fsSL", "-o", &file, &url],
                    vec!["gpg", "--verify", &format!("{file}.asc"), &file],
                    vec!["sha512sum", "-c", &format!("{file}.sha512")],
                    vec!["sha512sum", "-c", &format!("{hex}  {file}")],
                ] {
                    assert!(
                        lines.windows(expected.len()).any(|w| w == expected.as_slice()),
                        "{expected:?} not run:\n{log}"
                    );
                }
            }
        }
    }

    #[test]
    fn sizes_read_as_people_read_them() {
        assert_eq!(size_text(812), "812 B");
        assert_eq!(size_text(1536), "1.5 KiB");
        assert_eq!(size_text(5 * 1024 * 1024), "5.0 MiB");
    }

    #[test]
    fn markdown_renders_and_raw_html_is_text() {
        let html = markdown("**bold** <script>alert(1)</script>");
        assert!(html.contains("<strong>bold</strong>"), "{html}");
        assert!(!html.contains("<script>"), "{html}");
    }
}

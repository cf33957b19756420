//! The public coordinates as a reader sees them:
//! `/<stage>/<project>[/<product>]/<version>/<file>` and `…/latest/<file>`, with the stage
//! segment `candidate`, `current` or `archive`.
//!
//! Current and archived files are stored under exactly these keys, so a static host serves
//! them as they are; what a host must add is `latest` (a view, not a copy) and the rule that a
//! release's files are visible only while the release is in that stage (so a promotion that
//! has not finished, or a revoked release, serves nothing). A candidate's files are those of
//! its latest revision, served from the content-addressed store (no copy: they change with
//! each upload, so they are never cached as immutable), and only while a vote is open on it
//! or has passed (stage `candidate`): a draft, including one a failed or cancelled vote
//! returned to draft, is private to its project and answers 404 here.

use crate::app::App;
use crate::error::{AppError, AppResult};
use crate::storage_keys as keys;
use crate::{projects, releases};
use trs_core::views::latest_version;
use trs_core::{
    ManifestEntry, ProductName, Project, ProjectName, Release, ReleaseId, Sha512, Stage, StageSegment, Version,
};

/// A resolved public path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicFile {
    pub release: ReleaseId,
    /// The blob-store key holding the bytes.
    pub object: String,
    /// The file's name (its last path segment): what its content type is decided by.
    pub name: String,
    /// Size and SHA-512 as the release's manifest records them.
    pub size: u64,
    pub sha512: Sha512,
    /// When these bytes appeared at this path (promotion, or a candidate's revision): the
    /// `Last-Modified` of the file.
    pub published_at: i64,
    /// The path asked for went through `latest` (so the answer may change: not immutable).
    pub via_latest: bool,
    /// The bytes at this path may change (`latest`, or a candidate's next revision).
    pub may_change: bool,
}

/// Where a public path leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Located {
    File(PublicFile),
    /// The release moved to another stage directory (archived, or promoted from candidate):
    /// the same file's canonical path there, without query, for a permanent redirect, so
    /// pinned scripts and links in vote emails keep working.
    Moved(String),
}

fn not_found(path: &str) -> AppError {
    AppError::NotFound(format!("no public file at /{path}"))
}

/// Every release of a product line (main line when `product` is `None`).
pub async fn releases_of_line(
    app: &App,
    project: &ProjectName,
    product: Option<&ProductName>,
) -> AppResult<Vec<Release>> {
    app.all_items(keys::releases_of_line(project, product)).await
}

/// The `latest` current release of a product line ([`latest_version`]: the highest version
/// that is not a pre-release, unless the line's policy sets `prerelease_latest`).
pub async fn latest_current(
    app: &App,
    project: &ProjectName,
    product: Option<&ProductName>,
) -> AppResult<Option<Release>> {
    let project = projects::get_project(app, project).await?;
    Ok(latest_of_line(app, &project, product).await?.ok())
}

/// The `latest` current release of a line, or why there is none (a sentence for a 404).
async fn latest_of_line(
    app: &App,
    project: &Project,
    product: Option<&ProductName>,
) -> AppResult<Result<Release, String>> {
    let mut current: Vec<Release> = releases_of_line(app, &project.name, product)
        .await?
        .into_iter()
        .filter(|r| r.stage == Stage::Current)
        .collect();
    let allowed = project.policy_for(product).prerelease_latest;
    let latest = latest_version(current.iter().map(|r| &r.id.version), allowed).cloned();
    if let Some(i) = latest.and_then(|v| current.iter().position(|r| r.id.version == v)) {
        return Ok(Ok(current.swap_remove(i)));
    }
    let line = trs_core::views::product_line(&project.name, product);
    if current.is_empty() {
        return Ok(Err(format!("{line} has no current release")));
    }
    let versions: Vec<&str> = current.iter().map(|r| r.id.version.as_str()).collect();
    Ok(Err(format!(
        "{line} has only pre-releases current ({}), and a pre-release is latest only where the policy allows it \
         (trs project policy {}{} --prerelease-latest true)",
        versions.join(", "),
        project.name,
        product.map(|p| format!(" --product {p}")).unwrap_or_default(),
    )))
}

/// Resolves `segment/rest` (e.g. `current`, `foo/1.0/foo-1.0.tar.gz`) to the object to serve;
/// a path whose release moved to another stage directory is [`AppError::NotFound`] here (see
/// [`locate`] for where it went).
pub async fn resolve(app: &App, segment: &str, rest: &str) -> AppResult<PublicFile> {
    match locate(app, segment, rest).await? {
        Located::File(file) => Ok(file),
        Located::Moved(_) => Err(not_found(&format!("{segment}/{rest}"))),
    }
}

/// Where `segment/rest` leads: a file, or the path the same file has now that its release is
/// in another stage directory. A revoked release's paths are [`AppError::Gone`] with the reason.
pub async fn locate(app: &App, segment: &str, rest: &str) -> AppResult<Located> {
    let full = format!("{segment}/{rest}");
    let segment = StageSegment::parse(segment).ok_or_else(|| not_found(&full))?;
    let parts: Vec<&str> = rest.split('/').collect();
    if parts.len() < 3 || parts.iter().any(|p| p.is_empty()) {
        return Err(not_found(&full));
    }
    let project: ProjectName = parts[0].parse().map_err(|_| not_found(&full))?;
    let known = projects::get_project(app, &project).await.map_err(|_| not_found(&full))?;
    // `/P/PRODUCT/…` when the second segment names one of the project's products.
    let (product, after) = match parts[1].parse::<ProductName>() {
        Ok(p) if known.products.contains(&p) && parts.len() >= 4 => (Some(p), &parts[2..]),
        _ => (None, &parts[1..]),
    };
    let file = after[1..].join("/");
    let (release, via_latest) = if after[0] == "latest" {
        if segment != StageSegment::Current {
            return Err(not_found(&full));
        }
        let latest = latest_of_line(app, &known, product.as_ref()).await?;
        (latest.map_err(|why| AppError::NotFound(format!("no public file at /{full}: {why}")))?, true)
    } else {
        let version: Version = after[0].parse().map_err(|_| not_found(&full))?;
        let id = ReleaseId { project, product, version };
        (releases::get_release(app, &id).await?.ok_or_else(|| not_found(&full))?.0, false)
    };
    if release.stage == Stage::Revoked {
        let reason = release.revoked_reason.as_deref().unwrap_or("no reason recorded");
        return Err(AppError::Gone(format!("/{full}: {} was revoked: {reason}", release.id)));
    }
    if !segment.shows().contains(&release.stage) {
        // Moved on: promoted from candidate, archived from current. Only a released file is
        // redirected to (never a path into the candidate directory).
        let moved_to = StageSegment::of(release.stage).filter(|s| StageSegment::RELEASED.contains(s));
        return match moved_to {
            Some(to) if !via_latest => {
                let entry = released_entry(app, &release, &file).await?.ok_or_else(|| not_found(&full))?;
                Ok(Located::Moved(keys::url_path(&keys::public_object(to, &release.id, entry.path.as_str()))))
            }
            _ => Err(not_found(&full)),
        };
    }
    if segment == StageSegment::Candidate {
        let latest = release.latest.as_ref().ok_or_else(|| not_found(&full))?;
        let revision = releases::get_revision(app, &release.id, latest.number).await?;
        let entry =
            revision.manifest.entries().iter().find(|e| e.path.as_str() == file).ok_or_else(|| not_found(&full))?;
        return Ok(Located::File(PublicFile {
            object: keys::file_object(&entry.sha512),
            name: file_name(&file),
            size: entry.size,
            sha512: entry.sha512,
            published_at: revision.created_at,
            release: release.id,
            via_latest,
            may_change: true,
        }));
    }
    let entry = released_entry(app, &release, &file).await?.ok_or_else(|| not_found(&full))?;
    Ok(Located::File(PublicFile {
        object: keys::public_object(segment, &release.id, &file),
        name: file_name(&file),
        size: entry.size,
        sha512: entry.sha512,
        published_at: release.promoted_at.unwrap_or(release.updated_at),
        release: release.id,
        via_latest,
        may_change: via_latest,
    }))
}

fn file_name(path: &str) -> String {
    path.rsplit('/').next().unwrap_or(path).to_string()
}

/// The manifest entry of `path` in the revision a release was promoted with.
async fn released_entry(app: &App, release: &Release, path: &str) -> AppResult<Option<ManifestEntry>> {
    let Some(voted) = &release.voted_revision else { return Ok(None) };
    let revision = releases::get_revision(app, &release.id, voted.number).await?;
    Ok(revision.manifest.entries().iter().find(|e| e.path.as_str() == path).cloned())
}

/// How long a candidate's download URL works: long enough for a voter's slow download to start.
pub const CANDIDATE_URL_SECONDS: i64 = 3600;

/// Where a host with no resolver of its own (CloudFront in front of the release-files bucket)
/// sends a request for a candidate's file (`rest`: the path after `/candidate/`): a download
/// URL of its content-addressed object that works for [`CANDIDATE_URL_SECONDS`].
pub async fn candidate_redirect(app: &App, rest: &str, now: i64) -> AppResult<String> {
    let file = resolve(app, StageSegment::Candidate.as_str(), rest).await?;
    let name = rest.rsplit('/').next().unwrap_or(rest);
    app.blobs.download_url(&file.object, name, now + CANDIDATE_URL_SECONDS).await?.ok_or_else(|| {
        AppError::NotFound(format!("/candidate/{rest}: this store has no download URLs (its host serves the file)"))
    })
}

/// Where such a host sends `path`, which resolved to `file` through `latest` (a view, not an
/// object): the latest current release's versioned path, an object the bucket serves. A
/// release without that file is a 404 here, not a redirect to a missing object.
pub async fn object_redirect(app: &App, file: &PublicFile, path: &str) -> AppResult<String> {
    if app.blobs.head(&file.object).await?.is_none() {
        return Err(AppError::NotFound(format!("no public file at {path}")));
    }
    Ok(keys::url_path(&file.object))
}

/// One entry of a folder of the public download tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingEntry {
    /// The name in the folder; a folder's name ends with `/`.
    pub name: String,
    /// The entry's URL path.
    pub url: String,
    /// A file's size; `None` for a folder.
    pub size: Option<u64>,
    /// A file's SHA-512 (hex); `None` for a folder.
    pub sha512: Option<String>,
}

/// A folder of the public download tree, as a mirror script walks it. What a host answers
/// is its view, `trs_api::downloads::FolderListing` (`api_views`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    /// The folder's URL path (ends with `/`).
    pub path: String,
    pub entries: Vec<ListingEntry>,
}

/// The folder `segment/rest/` of released files (`current` or `archive`): a project's folder
/// lists its versions (and product folders, and `latest/` under `current`), a version's (or
/// `latest`'s) folder its files with size and SHA-512.
pub async fn listing(app: &App, segment: &str, rest: &str) -> AppResult<Listing> {
    let full = format!("{segment}/{rest}/");
    let segment =
        StageSegment::parse(segment).filter(|s| StageSegment::RELEASED.contains(s)).ok_or_else(|| not_found(&full))?;
    let stages = segment.shows();
    let parts: Vec<&str> = rest.split('/').collect();
    if parts.iter().any(|p| p.is_empty()) || parts.len() > 3 {
        return Err(not_found(&full));
    }
    let project: ProjectName = parts[0].parse().map_err(|_| not_found(&full))?;
    let known = projects::get_project(app, &project).await.map_err(|_| not_found(&full))?;
    let (product, after) = match parts.get(1).map(|p| p.parse::<ProductName>()) {
        Some(Ok(p)) if known.products.contains(&p) => (Some(p), &parts[2..]),
        _ => (None, &parts[1..]),
    };
    let folder = format!("/{full}");
    let entry = |name: String| ListingEntry { url: format!("{folder}{name}"), name, size: None, sha512: None };
    match after {
        [] => {
            let mut entries = Vec::new();
            if product.is_none() {
                entries.extend(known.products.iter().map(|p| entry(format!("{p}/"))));
            }
            let mut releases: Vec<Release> = releases_of_line(app, &project, product.as_ref())
                .await?
                .into_iter()
                .filter(|r| stages.contains(&r.stage))
                .collect();
            releases.sort_by(|a, b| b.id.version.cmp(&a.id.version));
            if segment == StageSegment::Current && latest_of_line(app, &known, product.as_ref()).await?.is_ok() {
                entries.push(entry("latest/".into()));
            }
            entries.extend(releases.iter().map(|r| entry(format!("{}/", r.id.version))));
            Ok(Listing { path: folder, entries })
        }
        [version] => {
            let release = if *version == "latest" && segment == StageSegment::Current {
                latest_of_line(app, &known, product.as_ref())
                    .await?
                    .map_err(|why| AppError::NotFound(format!("{full}: {why}")))?
            } else {
                let version: Version = version.parse().map_err(|_| not_found(&full))?;
                let id = ReleaseId { project, product, version };
                releases::get_release(app, &id).await?.ok_or_else(|| not_found(&full))?.0
            };
            if release.stage == Stage::Revoked {
                let reason = release.revoked_reason.as_deref().unwrap_or("no reason recorded");
                return Err(AppError::Gone(format!("/{full}: {} was revoked: {reason}", release.id)));
            }
            if !stages.contains(&release.stage) {
                return Err(not_found(&full));
            }
            let voted = release.voted_revision.as_ref().ok_or_else(|| not_found(&full))?;
            let revision = releases::get_revision(app, &release.id, voted.number).await?;
            let entries = revision
                .manifest
                .entries()
                .iter()
                .map(|e| ListingEntry {
                    name: e.path.to_string(),
                    url: format!("{folder}{}", keys::url_path(e.path.as_str()).trim_start_matches('/')),
                    size: Some(e.size),
                    sha512: Some(e.sha512.to_hex()),
                })
                .collect();
            Ok(Listing { path: folder, entries })
        }
        _ => Err(not_found(&full)),
    }
}

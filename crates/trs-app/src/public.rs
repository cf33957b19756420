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
use crate::{projects, upload};
use trs_core::views::latest_version;
use trs_core::{ProductName, Project, ProjectName, Release, ReleaseId, Stage, Version};

/// A resolved public path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicFile {
    pub release: ReleaseId,
    /// The blob-store key holding the bytes.
    pub object: String,
    /// The path asked for went through `latest` (so the answer may change: not immutable).
    pub via_latest: bool,
    /// The bytes at this path may change (`latest`, or a candidate's next revision).
    pub may_change: bool,
}

fn not_found(path: &str) -> AppError {
    AppError::NotFound(format!("no public file at /{path}"))
}

/// The stage segment of candidates' files (those of the latest revision, for voters, while a
/// vote is open or has passed).
pub const CANDIDATE: &str = "candidate";

/// The stages whose files a stage segment shows. End-of-life releases stay in the main
/// directory until archived.
fn shown_in(segment: &str) -> Option<&'static [Stage]> {
    match segment {
        "current" => Some(&[Stage::Current, Stage::EndOfLife]),
        "archive" => Some(&[Stage::Archived]),
        // Not `CandidateDraft`: nobody has been asked to look at a draft yet.
        CANDIDATE => Some(&[Stage::Candidate]),
        _ => None,
    }
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

/// Resolves `segment/rest` (e.g. `current`, `foo/1.0/foo-1.0.tar.gz`) to the object to serve.
pub async fn resolve(app: &App, segment: &str, rest: &str) -> AppResult<PublicFile> {
    let full = format!("{segment}/{rest}");
    let stages = shown_in(segment).ok_or_else(|| not_found(&full))?;
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
        if segment != "current" {
            return Err(not_found(&full));
        }
        let latest = latest_of_line(app, &known, product.as_ref()).await?;
        (latest.map_err(|why| AppError::NotFound(format!("no public file at /{full}: {why}")))?, true)
    } else {
        let version: Version = after[0].parse().map_err(|_| not_found(&full))?;
        let id = ReleaseId { project, product, version };
        (upload::get_release(app, &id).await?.ok_or_else(|| not_found(&full))?.0, false)
    };
    if !stages.contains(&release.stage) {
        return Err(not_found(&full));
    }
    if segment == CANDIDATE {
        let latest = release.latest.as_ref().ok_or_else(|| not_found(&full))?;
        let revision = upload::get_revision(app, &release.id, latest.number).await?;
        let entry =
            revision.manifest.entries().iter().find(|e| e.path.as_str() == file).ok_or_else(|| not_found(&full))?;
        let object = keys::file_object(&entry.sha512);
        return Ok(PublicFile { object, release: release.id, via_latest, may_change: true });
    }
    let object = keys::public_object(segment, &release.id, &file);
    Ok(PublicFile { object, release: release.id, via_latest, may_change: via_latest })
}

/// How long a candidate's download URL works: long enough for a voter's slow download to start.
pub const CANDIDATE_URL_SECONDS: i64 = 3600;

/// Where a host with no resolver of its own (CloudFront in front of the release-files bucket)
/// sends a request for a path that is a view, not an object: `/current/…/latest/FILE` to the
/// latest current release's versioned path (an object the bucket serves), a candidate's file
/// to a download URL of its content-addressed object that works for [`CANDIDATE_URL_SECONDS`].
/// Any other path is not a view, so answering it with a redirect would loop: not found.
pub async fn view_redirect(app: &App, segment: &str, rest: &str, now: i64) -> AppResult<String> {
    let file = resolve(app, segment, rest).await?;
    if segment == CANDIDATE {
        let name = rest.rsplit('/').next().unwrap_or(rest);
        return app.blobs.download_url(&file.object, name, now + CANDIDATE_URL_SECONDS).await?.ok_or_else(|| {
            AppError::NotFound(format!("/{segment}/{rest}: this store has no download URLs (its host serves the file)"))
        });
    }
    if !file.via_latest {
        return Err(AppError::NotFound(format!("/{segment}/{rest} is not a latest path")));
    }
    // The release has no such file: a 404 here, not a redirect to a missing object.
    if app.blobs.head(&file.object).await?.is_none() {
        return Err(not_found(&format!("{segment}/{rest}")));
    }
    Ok(keys::url_path(&file.object))
}

//! Whether a promoted release can be downloaded, checked the way a downloader would: every
//! file fetched over HTTP from its public URL (under [`App::download_url`]: `trs serve`'s own
//! address, the CDN in front of the site on AWS), answering 200 with exactly the voted bytes.
//! Reading the store instead would say the files exist, not that anyone can get them: a CDN
//! that has not picked them up, a mirror behind, or a host that does not serve the release yet
//! must hold the `[ANNOUNCE]` back. The fetching is the host's [`App::downloader`] (HTTP, in
//! `trs-registry-clients`): the use cases link no HTTP client.

use crate::app::App;
use crate::error::{AppError, AppResult};
use crate::releases::{get_release, get_revision};
use crate::storage_keys as keys;
use futures::StreamExt;
use trs_core::{ManifestEntry, ReleaseId, Sha512, Stage, StageSegment};
use trs_distribute::Downloader;
use trs_sha512::Sha512 as Sha512Hasher;

/// What a check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    /// Every file answers 200 with its voted size and SHA-512.
    Ready,
    /// Some file does not (yet): what is wrong with each, one per line.
    NotYet(String),
    /// It never will: the release is no longer published (revoked), or there is no URL to
    /// check.
    Never(String),
}

/// The public URL of one of a current release's files.
pub fn file_url(base: &str, id: &ReleaseId, path: &str) -> String {
    format!("{}{}", base.trim_end_matches('/'), keys::url_path(&keys::public_object(StageSegment::Current, id, path)))
}

/// Checks every file of the release's promoted revision at its public URL.
pub async fn check(app: &App, id: &ReleaseId) -> AppResult<Checked> {
    let Some(base) = app.download_url.as_deref() else {
        return Ok(Checked::Never("no download URL configured to check the files at (TRS_DOWNLOAD_URL on AWS)".into()));
    };
    let Some(downloader) = app.downloader.as_deref() else {
        return Ok(Checked::Never("this host has no downloader to check the files with".into()));
    };
    let (release, _) =
        get_release(app, id).await?.ok_or_else(|| AppError::NotFound(format!("release {id} not found")))?;
    if release.stage == Stage::Revoked {
        return Ok(Checked::Never(format!("release {id} was revoked before its files were all downloadable")));
    }
    let voted = release
        .voted_revision
        .as_ref()
        .ok_or_else(|| AppError::Internal(format!("promoted release {id} has no voted revision")))?;
    let revision = get_revision(app, id, voted.number).await?;
    let mut problems = Vec::new();
    for entry in revision.manifest.entries() {
        let url = file_url(base, id, entry.path.as_str());
        if let Err(why) = fetch_as_voted(downloader, &url, entry).await {
            problems.push(format!("{}: {why}", entry.path));
        }
    }
    Ok(if problems.is_empty() { Checked::Ready } else { Checked::NotYet(problems.join("\n")) })
}

/// Downloads `url` and compares what arrives with the manifest entry.
async fn fetch_as_voted(downloader: &dyn Downloader, url: &str, entry: &ManifestEntry) -> Result<(), String> {
    let mut response = downloader.get(url).await.map_err(|why| format!("{url}: {why}"))?;
    if response.status != 200 {
        return Err(format!("HTTP {} at {url}", response.status));
    }
    let (mut size, mut hasher) = (0u64, Sha512Hasher::new());
    while let Some(chunk) = response.body.next().await {
        let chunk = chunk.map_err(|why| format!("{url}: {why}"))?;
        size += chunk.len() as u64;
        hasher.update(&chunk);
    }
    let digest = Sha512::from_bytes(hasher.finalize());
    if size != entry.size || digest != entry.sha512 {
        return Err(format!(
            "{url} serves other bytes ({size} bytes, sha512 {}…; voted {} bytes, sha512 {}…)",
            &digest.to_hex()[..16],
            entry.size,
            &entry.sha512.to_hex()[..16]
        ));
    }
    Ok(())
}

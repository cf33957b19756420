//! Whether a promoted release can be downloaded, checked the way a downloader would: every
//! file fetched over HTTP from its public URL (under [`App::download_url`]: `trs serve`'s own
//! address, the CDN in front of the site on AWS), answering 200 with exactly the voted bytes.
//! Reading the store instead would say the files exist, not that anyone can get them: a CDN
//! that has not picked them up, a mirror behind, or a host that does not serve the release yet
//! must hold the `[ANNOUNCE]` back.

use crate::app::App;
use crate::error::{AppError, AppResult};
use crate::promote::CURRENT;
use crate::releases::{get_release, get_revision};
use crate::storage_keys as keys;
use futures::StreamExt;
use sha2::{Digest, Sha512 as Sha512Hasher};
use std::sync::LazyLock;
use std::time::Duration;
use trs_core::{ManifestEntry, ReleaseId, Sha512, Stage};

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

/// One client for every check (connections reused); a file that takes longer than this to
/// arrive counts as not downloadable this time.
static CLIENT: LazyLock<reqwest::Client> = LazyLock::new(|| {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(300))
        .user_agent("trs announcement check")
        .build()
        .unwrap_or_default()
});

/// The public URL of one of a current release's files.
pub fn file_url(base: &str, id: &ReleaseId, path: &str) -> String {
    format!("{}{}", base.trim_end_matches('/'), keys::url_path(&keys::public_object(CURRENT, id, path)))
}

/// Checks every file of the release's promoted revision at its public URL.
pub async fn check(app: &App, id: &ReleaseId) -> AppResult<Checked> {
    let Some(base) = app.download_url.as_deref() else {
        return Ok(Checked::Never("no download URL configured to check the files at (TRS_DOWNLOAD_URL on AWS)".into()));
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
        if let Err(why) = fetch_as_voted(&url, entry).await {
            problems.push(format!("{}: {why}", entry.path));
        }
    }
    Ok(if problems.is_empty() { Checked::Ready } else { Checked::NotYet(problems.join("\n")) })
}

/// Downloads `url` and compares what arrives with the manifest entry.
async fn fetch_as_voted(url: &str, entry: &ManifestEntry) -> Result<(), String> {
    let response = CLIENT.get(url).send().await.map_err(|e| format!("{url}: {}", error_chain(&e)))?;
    let status = response.status();
    if status != reqwest::StatusCode::OK {
        return Err(format!("HTTP {} at {url}", status.as_u16()));
    }
    let mut body = response.bytes_stream();
    let (mut size, mut hasher) = (0u64, Sha512Hasher::new());
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| format!("{url}: {}", error_chain(&e)))?;
        size += chunk.len() as u64;
        hasher.update(&chunk);
    }
    let digest = Sha512::from_bytes(hasher.finalize().into());
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

/// The error with its causes (reqwest's own message alone says only "error sending request").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

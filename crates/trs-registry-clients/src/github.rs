//! GitHub Releases: a release for the tag `v{version}` whose assets are the release's files.
//!
//! Staging creates the release with `prerelease: true` (the staging act is the `POST
//! …/releases`); production is the release found at `GET …/releases/tags/v{version}` without
//! the flag; promotion is `PATCH …/releases/{id}` with `prerelease: false`. Assets go to the
//! release's `upload_url` (on github.com that is another host, `uploads.github.com`).
//!
//! Idempotence: an asset already there with the same name, size and SHA-256 digest (the
//! `digest` field, `sha256:HEX`, of the REST API) counts as uploaded; one with other bytes is
//! [`DistributeError::DigestMismatch`] and is never replaced. An asset without a digest (older
//! ones have `digest: null`) of the right size is downloaded and its SHA-256 computed. An asset left behind by an
//! interrupted upload (its `state` is not `uploaded`) is deleted and uploaded again.
//!
//! Endpoints used (REST API version 2022-11-28):
//! `POST /repos/{owner}/{repo}/releases`, `GET /repos/{owner}/{repo}/releases/tags/{tag}`,
//! `PATCH /repos/{owner}/{repo}/releases/{release_id}`,
//! `POST {upload_url}?name={name}`, `DELETE /repos/{owner}/{repo}/releases/assets/{asset_id}`,
//! `GET /repos/{owner}/{repo}/releases/assets/{asset_id}` with `Accept: application/octet-stream`
//! (answered with the bytes or a redirect to them, which reqwest follows, without the token
//! when it leads to another host).

use crate::http::HttpErrors as _;
use async_trait::async_trait;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use trs_distribute::platform::{GITHUB, Platform};
use trs_distribute::{Artifact, DistributeError, Endpoint, Published, RegistryClient, Target};

/// The REST API version this client is written against.
const API_VERSION: &str = "2022-11-28";

pub struct GitHubClient {
    http: reqwest::Client,
    endpoint: Endpoint,
}

#[derive(Debug, Clone, Deserialize)]
struct Release {
    id: u64,
    url: String,
    html_url: String,
    upload_url: String,
    prerelease: bool,
    #[serde(default)]
    created_at: Option<String>,
    #[serde(default)]
    published_at: Option<String>,
    #[serde(default)]
    assets: Vec<Asset>,
}

#[derive(Debug, Clone, Deserialize)]
struct Asset {
    id: u64,
    name: String,
    size: u64,
    #[serde(default)]
    digest: Option<String>,
    #[serde(default)]
    state: Option<String>,
}

impl GitHubClient {
    pub fn new(endpoint: Endpoint) -> Self {
        GitHubClient { http: crate::http::client_for_registry(endpoint.timeouts), endpoint }
    }

    fn base(&self) -> &str {
        self.endpoint.base_url.trim_end_matches('/')
    }

    fn request(&self, method: Method, url: &str) -> RequestBuilder {
        self.request_accepting(method, url, "application/vnd.github+json")
    }

    fn request_accepting(&self, method: Method, url: &str, accept: &str) -> RequestBuilder {
        let mut request =
            self.http.request(method, url).header("Accept", accept).header("X-GitHub-Api-Version", API_VERSION);
        if let Some(token) = self.endpoint.credentials.expose() {
            request = request.bearer_auth(token);
        }
        request
    }

    fn repo(&self, target: &Target) -> Result<String, DistributeError> {
        let owner = target.namespace.as_deref().filter(|o| !o.is_empty()).ok_or_else(|| {
            DistributeError::Unsupported("GitHub Releases needs the owner as the namespace (--namespace)".into())
        })?;
        Ok(format!("{}/repos/{owner}/{}", self.base(), target.package))
    }

    fn tag(target: &Target) -> String {
        format!("v{}", target.version)
    }

    async fn send(&self, context: &str, request: RequestBuilder) -> Result<(StatusCode, String), DistributeError> {
        let response = request.send().await.map_err(|e| DistributeError::from_reqwest(context, e))?;
        let status = response.status();
        let body = response.text().await.map_err(|e| DistributeError::from_reqwest(context, e))?;
        Ok((status, body))
    }

    fn parse<T: for<'de> Deserialize<'de>>(context: &str, body: &str) -> Result<T, DistributeError> {
        serde_json::from_str(body)
            .map_err(|e| DistributeError::Refused(format!("{context}: unexpected answer from GitHub: {e}")))
    }

    async fn get_by_tag(&self, target: &Target) -> Result<Option<Release>, DistributeError> {
        let tag = Self::tag(target);
        let context = format!("get release {tag}");
        let url = format!("{}/releases/tags/{tag}", self.repo(target)?);
        match self.send(&context, self.request(Method::GET, &url)).await? {
            (StatusCode::OK, body) => Ok(Some(Self::parse(&context, &body)?)),
            (StatusCode::NOT_FOUND, _) => Ok(None),
            (status, body) => Err(DistributeError::from_status(&context, status, &body)),
        }
    }

    /// The release for the tag: the existing one, or a new one with `prerelease` set as asked.
    async fn get_or_create(&self, target: &Target, prerelease: bool) -> Result<(Release, bool), DistributeError> {
        if let Some(release) = self.get_by_tag(target).await? {
            return Ok((release, false));
        }
        let tag = Self::tag(target);
        let context = format!("create release {tag}");
        let body = json!({
            "tag_name": tag,
            "name": format!("{} {}", target.package, target.version),
            "prerelease": prerelease,
            "draft": false,
        });
        let url = format!("{}/releases", self.repo(target)?);
        match self.send(&context, self.request(Method::POST, &url).json(&body)).await? {
            (StatusCode::CREATED, body) => Ok((Self::parse(&context, &body)?, true)),
            // Created meanwhile by an earlier, interrupted attempt that did not see its answer.
            (StatusCode::UNPROCESSABLE_ENTITY, answer) => match self.get_by_tag(target).await? {
                Some(release) => Ok((release, false)),
                None => Err(DistributeError::from_status(&context, StatusCode::UNPROCESSABLE_ENTITY, &answer)),
            },
            (status, body) => Err(DistributeError::from_status(&context, status, &body)),
        }
    }

    /// Uploads the artifacts missing from `release`; returns how many were uploaded.
    async fn upload_assets(
        &self,
        target: &Target,
        release: &Release,
        artifacts: &[Artifact],
    ) -> Result<usize, DistributeError> {
        let upload_base = release.upload_url.split('{').next().unwrap_or_default().to_string();
        let mut uploaded = 0;
        for artifact in artifacts {
            let digest = sha256_digest(artifact);
            if let Some(existing) = release.assets.iter().find(|a| a.name == artifact.file_name) {
                if existing.state.as_deref().is_some_and(|s| s != "uploaded") {
                    // Left behind by an interrupted upload: not a published asset.
                    self.delete_asset(target, existing).await?;
                } else {
                    self.check_existing(target, existing, artifact, &digest).await?;
                    continue;
                }
            }
            let context = format!("upload {}", artifact.file_name);
            let mut url = reqwest::Url::parse(&upload_base)
                .map_err(|e| DistributeError::Refused(format!("{context}: bad upload_url from GitHub: {e}")))?;
            url.query_pairs_mut().append_pair("name", &artifact.file_name);
            let request = self
                .request(Method::POST, url.as_str())
                .header("Content-Type", "application/octet-stream")
                .body(artifact.bytes.clone());
            match self.send(&context, request).await? {
                (StatusCode::CREATED, body) => {
                    let asset: Asset = Self::parse(&context, &body)?;
                    check_same(&asset, artifact, &digest)?;
                    uploaded += 1;
                }
                // Another attempt got there first: what is there must be these bytes.
                (StatusCode::UNPROCESSABLE_ENTITY, answer) => {
                    let now = self.get_by_tag(target).await?;
                    match now.as_ref().and_then(|r| r.assets.iter().find(|a| a.name == artifact.file_name)) {
                        Some(existing) if existing.state.as_deref().is_none_or(|s| s == "uploaded") => {
                            self.check_existing(target, existing, artifact, &digest).await?
                        }
                        _ => {
                            return Err(DistributeError::from_status(
                                &context,
                                StatusCode::UNPROCESSABLE_ENTITY,
                                &answer,
                            ));
                        }
                    }
                }
                (status, body) => return Err(DistributeError::from_status(&context, status, &body)),
            }
        }
        Ok(uploaded)
    }

    /// [`check_same`] for an asset that was already there; one without a digest (older assets)
    /// but of the right size is downloaded and hashed, so other bytes of the same length are
    /// still a mismatch.
    async fn check_existing(
        &self,
        target: &Target,
        asset: &Asset,
        artifact: &Artifact,
        digest: &str,
    ) -> Result<(), DistributeError> {
        if asset.digest.is_some() || asset.size != artifact.bytes.len() as u64 {
            return check_same(asset, artifact, digest);
        }
        let there = self.download_sha256(target, asset).await?;
        if there == digest {
            return Ok(());
        }
        Err(DistributeError::DigestMismatch(format!(
            "asset {} already exists with other bytes (it has no digest; its {} bytes hash to {there}); the \
             voted file hashes to {digest}",
            asset.name, asset.size
        )))
    }

    /// `sha256:HEX` of an asset's bytes, downloaded.
    async fn download_sha256(&self, target: &Target, asset: &Asset) -> Result<String, DistributeError> {
        let context = format!("download asset {} to compare it", asset.name);
        let url = format!("{}/releases/assets/{}", self.repo(target)?, asset.id);
        let request = self.request_accepting(Method::GET, &url, "application/octet-stream");
        let mut response = request.send().await.map_err(|e| DistributeError::from_reqwest(&context, e))?;
        if response.status() != StatusCode::OK {
            let status = response.status();
            let body = response.text().await.unwrap_or_default();
            return Err(DistributeError::from_status(&context, status, &body));
        }
        let mut hasher = Sha256::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| DistributeError::from_reqwest(&context, e))? {
            hasher.update(&chunk);
        }
        Ok(format!("sha256:{}", hex::encode(hasher.finalize())))
    }

    async fn delete_asset(&self, target: &Target, asset: &Asset) -> Result<(), DistributeError> {
        let context = format!("delete the incomplete asset {}", asset.name);
        let url = format!("{}/releases/assets/{}", self.repo(target)?, asset.id);
        match self.send(&context, self.request(Method::DELETE, &url)).await? {
            (StatusCode::NO_CONTENT | StatusCode::NOT_FOUND, _) => Ok(()),
            (status, body) => Err(DistributeError::from_status(&context, status, &body)),
        }
    }

    fn published(&self, release: &Release, already_present: bool) -> Published {
        let date = release.published_at.as_deref().or(release.created_at.as_deref());
        Published {
            api_url: release.url.clone(),
            web_url: release.html_url.clone(),
            upload_date: date.and_then(parse_rfc3339),
            already_present,
            details: json!({
                "release_id": release.id,
                "prerelease": release.prerelease,
                "assets": release.assets.len(),
            }),
        }
    }
}

/// `sha256:HEX` of the artifact's bytes, as GitHub reports an asset's digest.
fn sha256_digest(artifact: &Artifact) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(&artifact.bytes)))
}

fn check_same(asset: &Asset, artifact: &Artifact, digest: &str) -> Result<(), DistributeError> {
    let same_size = asset.size == artifact.bytes.len() as u64;
    // Without a digest: the asset just uploaded from these bytes (or one whose size already
    // differs); an existing one is downloaded and hashed first (`check_existing`).
    let same_digest = asset.digest.as_deref().is_none_or(|d| d.eq_ignore_ascii_case(digest));
    if same_size && same_digest {
        return Ok(());
    }
    Err(DistributeError::DigestMismatch(format!(
        "asset {} already exists with other bytes ({} bytes, {}); the voted file has {} bytes, {}",
        asset.name,
        asset.size,
        asset.digest.as_deref().unwrap_or("no digest"),
        artifact.bytes.len(),
        digest
    )))
}

/// Unix seconds of a GitHub timestamp (`2026-11-29T11:36:01Z`).
fn parse_rfc3339(text: &str) -> Option<i64> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok().map(|t| t.unix_timestamp())
}

#[async_trait]
impl RegistryClient for GitHubClient {
    fn platform(&self) -> &'static Platform {
        &GITHUB
    }

    /// Every file of the release becomes an asset (signatures and checksums included).
    fn select(&self, file_names: &[String]) -> Vec<String> {
        file_names.iter().filter(|n| !n.contains('/')).cloned().collect()
    }

    async fn upload(
        &self,
        target: &Target,
        artifacts: &[Artifact],
        staging: bool,
    ) -> Result<Published, DistributeError> {
        let (release, created) = self.get_or_create(target, staging).await?;
        if release.prerelease && !staging {
            return Err(DistributeError::Refused(format!(
                "release v{} exists as a prerelease (staged); promote it instead of distributing it again",
                target.version
            )));
        }
        if !release.prerelease && staging {
            return Err(DistributeError::Refused(format!(
                "release v{} is already a full release; it cannot be staged",
                target.version
            )));
        }
        let uploaded = self.upload_assets(target, &release, artifacts).await?;
        let now = self.get_by_tag(target).await?.unwrap_or(release);
        Ok(self.published(&now, !created && uploaded == 0))
    }

    async fn promote(&self, target: &Target, artifacts: &[Artifact]) -> Result<Published, DistributeError> {
        let release = self.get_by_tag(target).await?.ok_or_else(|| {
            DistributeError::Refused(format!("no release v{} to promote; stage it first", target.version))
        })?;
        // Finish an interrupted staging, and check what is there is exactly the voted files.
        self.upload_assets(target, &release, artifacts).await?;
        if !release.prerelease {
            return Ok(self.published(&release, true));
        }
        let context = format!("promote release v{}", target.version);
        let url = format!("{}/releases/{}", self.repo(target)?, release.id);
        let request = self.request(Method::PATCH, &url).json(&json!({"prerelease": false}));
        match self.send(&context, request).await? {
            (StatusCode::OK, body) => {
                let release: Release = Self::parse(&context, &body)?;
                Ok(self.published(&release, false))
            }
            (status, body) => Err(DistributeError::from_status(&context, status, &body)),
        }
    }

    async fn lookup(&self, target: &Target, staging: bool) -> Result<Option<Published>, DistributeError> {
        Ok(self.get_by_tag(target).await?.filter(|r| r.prerelease == staging).map(|r| self.published(&r, true)))
    }
}

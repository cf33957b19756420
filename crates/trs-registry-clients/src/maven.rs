//! Maven Central, through the Central Publisher Portal API
//! (<https://central.sonatype.org/publish/publish-portal-api/>).
//!
//! The release's Maven files (`{artifactId}-{version}[-classifier].{ext}`, a POM among them)
//! go up as one bundle: a zip in Maven repository layout (`group/path/artifactId/version/`),
//! each file with its OpenPGP signature (`.asc`) and checksums (`.md5`, `.sha1`, `.sha256`,
//! `.sha512`). The portal validates it as a *deployment*. trs always uploads with
//! `publishingType=USER_MANAGED`: staging is a validated deployment that waits for an explicit
//! publish, and promotion publishes that deployment, after checking that its files are the
//! voted bytes. A distribution straight to production uploads, waits for validation, and
//! publishes.
//!
//! The portal knows a deployment only by the id it returns at upload, and has no documented
//! call to list deployments. The id is given to the [`Journal`] as soon as the upload returns
//! it, before any poll, so a run that loses the portal afterwards leaves it recorded, and the
//! next run ([`RegistryClient::upload_resuming`]) polls, checks and publishes that deployment
//! instead of uploading a second one. [`Published::details`] records it too (`deployment_id`),
//! and [`RegistryClient::promote_recorded`] and [`RegistryClient::lookup_recorded`] take it
//! back. Whether a version is already on Maven
//! Central is asked of the portal (`/api/v1/publisher/published`); its bytes are compared with
//! the `.sha1` files of the Maven repository.

use std::io::Write;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use bytes::Bytes;
use reqwest::{Method, RequestBuilder, Response, StatusCode, header};
use serde::Deserialize;
use sha2::{Digest, Sha256, Sha512};

use crate::http::HttpErrors as _;
use trs_distribute::platform::{MAVEN, Platform};
use trs_distribute::{Artifact, DistributeError, Endpoint, Journal, Published, RegistryClient, Target};

/// Maven Central's repository, where published files are read back (unless
/// `TRS_MAVEN_REPOSITORY_URL` names another, [`trs_distribute::Endpoint::repository_url`]).
pub const MAVEN_CENTRAL_REPOSITORY: &str = "https://repo1.maven.org/maven2";

/// The file types a Maven component is made of (signatures and checksums are made by trs).
const MAVEN_EXTENSIONS: &[&str] = &[".pom", ".jar", ".aar", ".war", ".ear", ".module", ".klib"];

/// How often and how long to ask the portal about a deployment in progress.
#[derive(Debug, Clone, Copy)]
pub struct Polling {
    /// The longest pause between two polls (the first ones come sooner).
    pub interval: Duration,
    /// How long a call waits for validation (or publication) before reporting a transient
    /// failure; network failures while waiting are retried within this time.
    pub max_wait: Duration,
}

impl Default for Polling {
    fn default() -> Self {
        Polling { interval: Duration::from_secs(5), max_wait: Duration::from_secs(600) }
    }
}

/// Distributes releases to Maven Central.
#[derive(Debug, Clone)]
pub struct MavenClient {
    endpoint: Endpoint,
    repository_url: String,
    polling: Polling,
    http: reqwest::Client,
}

/// The portal's deployment states (`deploymentState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeploymentState {
    Pending,
    Validating,
    Validated,
    Publishing,
    Published,
    Failed,
}

impl DeploymentState {
    fn as_str(self) -> &'static str {
        match self {
            DeploymentState::Pending => "PENDING",
            DeploymentState::Validating => "VALIDATING",
            DeploymentState::Validated => "VALIDATED",
            DeploymentState::Publishing => "PUBLISHING",
            DeploymentState::Published => "PUBLISHED",
            DeploymentState::Failed => "FAILED",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeploymentStatus {
    deployment_state: DeploymentState,
    #[serde(default)]
    purls: Vec<String>,
    #[serde(default)]
    errors: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct PublishedAnswer {
    published: bool,
}

/// Maven coordinates of a target, checked.
struct Coordinates<'a> {
    group: &'a str,
    artifact: &'a str,
    version: &'a str,
}

impl Coordinates<'_> {
    /// `group/path/artifactId/version`, the folder of the component's files.
    fn folder(&self) -> String {
        format!("{}/{}/{}", self.group.replace('.', "/"), self.artifact, self.version)
    }
}

fn coordinates(target: &Target) -> Result<Coordinates<'_>, DistributeError> {
    let group = target.namespace.as_deref().ok_or_else(|| {
        DistributeError::Unsupported(
            "a Maven Central distribution needs a groupId as its namespace (--namespace)".into(),
        )
    })?;
    let valid = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    for (what, value) in [("groupId", group), ("artifactId", &target.package), ("version", &target.version)] {
        if !valid(value) || value.starts_with('.') || value.ends_with('.') || value.contains("..") {
            return Err(DistributeError::Unsupported(format!("{value:?} is not a valid Maven {what}")));
        }
    }
    Ok(Coordinates { group, artifact: &target.package, version: &target.version })
}

fn is_maven_file(name: &str) -> bool {
    MAVEN_EXTENSIONS.iter().any(|ext| name.ends_with(ext))
}

/// Whether `name` is a file of the component `artifact`:`version`: the Maven layout names every
/// file `{artifactId}-{version}.{ext}` or `{artifactId}-{version}-{classifier}.{ext}`.
fn belongs_to(name: &str, artifact: &str, version: &str) -> bool {
    let prefix = format!("{artifact}-{version}");
    is_maven_file(name) && name.strip_prefix(&prefix).is_some_and(|rest| rest.starts_with('.') || rest.starts_with('-'))
}

fn hex_digest<D: Digest>(bytes: &[u8]) -> String {
    hex::encode(D::digest(bytes))
}

/// The bundle: every file with its signature and checksums, in Maven repository layout. Entry
/// times are fixed, so the same files make the same bundle.
fn bundle(folder: &str, files: &[&Artifact]) -> Result<Bytes, DistributeError> {
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let broken = |e: &dyn std::fmt::Display| DistributeError::Refused(format!("building the bundle: {e}"));
    for file in files {
        let signature = file.signature.as_ref().ok_or_else(|| {
            DistributeError::Unsupported(format!(
                "{} has no OpenPGP signature; Maven Central requires one for every file",
                file.file_name
            ))
        })?;
        let sidecars: [(&str, Bytes); 5] = [
            ("", file.bytes.clone()),
            (".asc", signature.clone()),
            (".md5", hex_digest::<md5::Md5>(&file.bytes).into()),
            (".sha1", hex_digest::<sha1::Sha1>(&file.bytes).into()),
            (".sha256", hex_digest::<Sha256>(&file.bytes).into()),
        ];
        let sha512 = (".sha512", Bytes::from(hex_digest::<Sha512>(&file.bytes)));
        for (suffix, bytes) in sidecars.into_iter().chain([sha512]) {
            zip.start_file(format!("{folder}/{}{suffix}", file.file_name), options).map_err(|e| broken(&e))?;
            zip.write_all(&bytes).map_err(|e| broken(&e))?;
        }
    }
    Ok(Bytes::from(zip.finish().map_err(|e| broken(&e))?.into_inner()))
}

impl MavenClient {
    /// A client of the portal at `endpoint.base_url` (`https://central.sonatype.com`), signing
    /// in with the portal user token (`credentials.username` and secret).
    pub fn new(endpoint: Endpoint) -> Self {
        MavenClient {
            http: crate::http::client_for_registry(endpoint.timeouts),
            endpoint,
            repository_url: MAVEN_CENTRAL_REPOSITORY.into(),
            polling: Polling::default(),
        }
    }

    /// Where published files are read back (Maven Central's repository by default).
    pub fn with_repository_url(mut self, url: impl Into<String>) -> Self {
        self.repository_url = url.into();
        self
    }

    pub fn with_polling(mut self, polling: Polling) -> Self {
        self.polling = polling;
        self
    }

    /// The release files that make the component `target`, by their names.
    pub fn select_for(&self, target: &Target, file_names: &[String]) -> Vec<String> {
        file_names.iter().filter(|n| belongs_to(n, &target.package, &target.version)).cloned().collect()
    }

    fn base(&self) -> &str {
        self.endpoint.base_url.trim_end_matches('/')
    }

    fn api(&self, path: &str) -> String {
        format!("{}/api/v1/publisher/{path}", self.base())
    }

    /// A request to the portal, with its `Authorization: Bearer base64(username:password)`.
    fn request(&self, method: Method, url: &str) -> RequestBuilder {
        let request = self.http.request(method, url);
        let credentials = &self.endpoint.credentials;
        match (&credentials.username, credentials.expose()) {
            (Some(user), Some(secret)) => {
                let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{secret}"));
                request.header(header::AUTHORIZATION, format!("Bearer {token}"))
            }
            _ => request,
        }
    }

    async fn send(&self, context: &str, request: RequestBuilder) -> Result<Response, DistributeError> {
        request.send().await.map_err(|e| DistributeError::from_reqwest(context, e))
    }

    async fn fail(context: &str, response: Response) -> DistributeError {
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        DistributeError::from_status(context, status, &body)
    }

    /// The files of `target` among `artifacts`, and the coordinates; refused when the release
    /// has no POM for the component.
    fn component<'a>(
        &self,
        target: &'a Target,
        artifacts: &'a [Artifact],
    ) -> Result<(Coordinates<'a>, Vec<&'a Artifact>), DistributeError> {
        let coordinates = coordinates(target)?;
        let files: Vec<&Artifact> =
            artifacts.iter().filter(|a| belongs_to(&a.file_name, coordinates.artifact, coordinates.version)).collect();
        let pom = format!("{}-{}.pom", coordinates.artifact, coordinates.version);
        if !files.iter().any(|a| a.file_name == pom) {
            return Err(DistributeError::Unsupported(format!(
                "the release has no {pom}; Maven Central needs the component's POM"
            )));
        }
        Ok((coordinates, files))
    }

    async fn is_published(&self, c: &Coordinates<'_>) -> Result<bool, DistributeError> {
        let context = format!("asking Maven Central whether {}:{}:{} is published", c.group, c.artifact, c.version);
        let request = self.request(Method::GET, &self.api("published")).query(&[
            ("namespace", c.group),
            ("name", c.artifact),
            ("version", c.version),
        ]);
        let response = self.send(&context, request).await?;
        if response.status() != StatusCode::OK {
            return Err(Self::fail(&context, response).await);
        }
        let answer: PublishedAnswer = response.json().await.map_err(|e| DistributeError::from_reqwest(&context, e))?;
        Ok(answer.published)
    }

    /// Compares the published files with the voted ones through the repository's `.sha1` files.
    async fn check_published_files(&self, c: &Coordinates<'_>, files: &[&Artifact]) -> Result<(), DistributeError> {
        for file in files {
            let context = format!("reading the published checksum of {}", file.file_name);
            let url = format!("{}/{}/{}.sha1", self.repository_url.trim_end_matches('/'), c.folder(), file.file_name);
            let response = self.send(&context, self.http.get(&url)).await?;
            match response.status() {
                StatusCode::OK => {}
                // The portal says published before the repository has synced: ask again later.
                StatusCode::NOT_FOUND => {
                    return Err(DistributeError::Transient(format!(
                        "{context}: not in the repository yet (Maven Central syncs after publishing)"
                    )));
                }
                _ => return Err(Self::fail(&context, response).await),
            }
            let text = response.text().await.map_err(|e| DistributeError::from_reqwest(&context, e))?;
            let there = text.split_whitespace().next().unwrap_or_default().to_ascii_lowercase();
            let ours = hex_digest::<sha1::Sha1>(&file.bytes);
            if there != ours {
                return Err(DistributeError::DigestMismatch(format!(
                    "{}:{}:{} is already on Maven Central, and its {} has SHA-1 {there}, not the voted {ours}",
                    c.group, c.artifact, c.version, file.file_name
                )));
            }
        }
        Ok(())
    }

    async fn upload_bundle(&self, c: &Coordinates<'_>, bundle: Bytes) -> Result<String, DistributeError> {
        let name = format!("{}:{}:{}", c.group, c.artifact, c.version);
        let context = format!("uploading the bundle of {name}");
        let part = reqwest::multipart::Part::bytes(bundle.to_vec())
            .file_name(format!("{}-{}-bundle.zip", c.artifact, c.version))
            .mime_str("application/octet-stream")
            .expect("a valid media type");
        let form = reqwest::multipart::Form::new().part("bundle", part);
        let request = self
            .request(Method::POST, &self.api("upload"))
            .query(&[("publishingType", "USER_MANAGED"), ("name", name.as_str())])
            .multipart(form);
        let response = self.send(&context, request).await?;
        if !response.status().is_success() {
            return Err(Self::fail(&context, response).await);
        }
        let id = response.text().await.map_err(|e| DistributeError::from_reqwest(&context, e))?.trim().to_string();
        if id.is_empty() {
            return Err(DistributeError::Refused(format!("{context}: the portal returned no deployment id")));
        }
        tracing::info!(deployment = id, name, "uploaded Maven Central bundle");
        Ok(id)
    }

    /// The deployment's status, or `None` when the portal does not know it (dropped).
    async fn status(&self, id: &str) -> Result<Option<DeploymentStatus>, DistributeError> {
        let context = format!("reading the status of deployment {id}");
        let response =
            self.send(&context, self.request(Method::POST, &self.api("status")).query(&[("id", id)])).await?;
        match response.status() {
            StatusCode::OK => {}
            StatusCode::NOT_FOUND => return Ok(None),
            _ => return Err(Self::fail(&context, response).await),
        }
        Ok(Some(response.json().await.map_err(|e| DistributeError::from_reqwest(&context, e))?))
    }

    /// Polls until the deployment leaves the states in `waiting`. When the id is recorded
    /// (`recorded`), a transient failure ends the wait: a later try resumes from the id. When
    /// only this call knows the id, transient failures are retried until `max_wait`.
    async fn wait_while(
        &self,
        id: &str,
        waiting: &[DeploymentState],
        recorded: bool,
    ) -> Result<DeploymentStatus, DistributeError> {
        let deadline = tokio::time::Instant::now() + self.polling.max_wait;
        // Quick first polls (small bundles validate in seconds), then every `interval`.
        let mut delay = self.polling.interval.min(Duration::from_millis(500));
        loop {
            let outcome = self.status(id).await;
            match outcome {
                Ok(Some(status)) if !waiting.contains(&status.deployment_state) => return Ok(status),
                Ok(Some(_)) => {}
                Ok(None) => {
                    return Err(DistributeError::Refused(format!("the portal no longer knows deployment {id}")));
                }
                Err(e) if e.is_transient() && !recorded && tokio::time::Instant::now() < deadline => {
                    tracing::warn!(deployment = id, error = %e, "portal status failed; retrying");
                }
                Err(e) => return Err(e),
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(DistributeError::Transient(format!(
                    "deployment {id} is still in progress after {:?}",
                    self.polling.max_wait
                )));
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(self.polling.interval);
        }
    }

    /// Waits for validation; a failed validation is refused with the portal's errors (and the
    /// failed deployment dropped, so it does not linger in the portal).
    async fn wait_validated(&self, id: &str, recorded: bool) -> Result<DeploymentStatus, DistributeError> {
        let status = self.wait_while(id, &[DeploymentState::Pending, DeploymentState::Validating], recorded).await?;
        if status.deployment_state == DeploymentState::Failed {
            let errors = status.errors.map(|e| e.to_string()).unwrap_or_else(|| "no details".into());
            if let Err(e) = self.drop_deployment(id).await {
                tracing::warn!(deployment = id, error = %e, "could not drop the failed deployment");
            }
            return Err(DistributeError::Refused(format!("Maven Central refused deployment {id}: {errors}")));
        }
        Ok(status)
    }

    async fn publish(&self, id: &str, recorded: bool) -> Result<DeploymentStatus, DistributeError> {
        let context = format!("publishing deployment {id}");
        let response = self.send(&context, self.request(Method::POST, &self.api(&format!("deployment/{id}")))).await?;
        if !response.status().is_success() {
            return Err(Self::fail(&context, response).await);
        }
        // The portal took the publish: it cannot be undone, and an error now would make the
        // distribution run again. Publishing can take long; not seeing it end is no failure.
        match self.wait_while(id, &[DeploymentState::Publishing], recorded).await {
            Err(e) if e.is_transient() => {
                tracing::warn!(deployment = id, error = %e, "publishing continues on the portal");
                Ok(DeploymentStatus { deployment_state: DeploymentState::Publishing, purls: Vec::new(), errors: None })
            }
            other => other,
        }
    }

    /// Drops (deletes) a deployment that is validated or failed.
    pub async fn drop_deployment(&self, id: &str) -> Result<(), DistributeError> {
        let context = format!("dropping deployment {id}");
        let response =
            self.send(&context, self.request(Method::DELETE, &self.api(&format!("deployment/{id}")))).await?;
        if !response.status().is_success() {
            return Err(Self::fail(&context, response).await);
        }
        Ok(())
    }

    /// Checks that the staged deployment holds exactly the voted files, through the portal's
    /// download of a deployment's files.
    async fn check_staged_files(
        &self,
        id: &str,
        c: &Coordinates<'_>,
        files: &[&Artifact],
    ) -> Result<(), DistributeError> {
        for file in files {
            let context = format!("reading {} from deployment {id}", file.file_name);
            let url = self.api(&format!("deployment/{id}/download/{}/{}", c.folder(), file.file_name));
            let response = self.send(&context, self.request(Method::GET, &url)).await?;
            if response.status() == StatusCode::NOT_FOUND {
                return Err(DistributeError::DigestMismatch(format!(
                    "deployment {id} has no {}: it is not the voted release",
                    file.file_name
                )));
            }
            if !response.status().is_success() {
                return Err(Self::fail(&context, response).await);
            }
            let bytes = response.bytes().await.map_err(|e| DistributeError::from_reqwest(&context, e))?;
            let there = hex_digest::<Sha512>(&bytes);
            if there != hex_digest::<Sha512>(&file.bytes) {
                return Err(DistributeError::DigestMismatch(format!(
                    "{} in deployment {id} has SHA-512 {there}, not the voted {}; it is not published",
                    file.file_name, file.sha512
                )));
            }
        }
        Ok(())
    }

    /// Uploads the component (or, with a deployment id in `in_flight`, resumes that
    /// deployment), waits for validation and, unless `staging`, publishes.
    async fn upload_or_resume(
        &self,
        target: &Target,
        artifacts: &[Artifact],
        staging: bool,
        in_flight: &serde_json::Value,
        journal: Option<&dyn Journal>,
    ) -> Result<Published, DistributeError> {
        let (c, files) = self.component(target, artifacts)?;
        let pending = recorded_id(in_flight);
        if let Some(done) = self.already_published(&c, &files, pending).await? {
            return Ok(done);
        }
        let resumed = match pending {
            Some(id) => self.resume(id, &c, &files).await?,
            None => None,
        };
        let recorded = journal.is_some();
        let (id, status) = match resumed {
            Some(resumed) => resumed,
            None => {
                let id = self.upload_bundle(&c, bundle(&c.folder(), &files)?).await?;
                if let Some(journal) = journal {
                    journal.record(serde_json::json!({ "deployment_id": id })).await?;
                }
                let validated = self.wait_validated(&id, recorded).await?;
                (id, validated)
            }
        };
        let status = match status.deployment_state {
            DeploymentState::Validated if staging => status,
            DeploymentState::Validated => self.publish(&id, recorded).await?,
            DeploymentState::Publishing | DeploymentState::Published if !staging => {
                self.wait_while(&id, &[DeploymentState::Publishing], recorded).await?
            }
            other => {
                return Err(DistributeError::Refused(format!("deployment {id} is {}", other.as_str())));
            }
        };
        Ok(self.published(&c, Some(&id), Some(&status), false))
    }

    /// The deployment an earlier run uploaded and recorded, validated (or publishing), if it is
    /// still there with the voted files; `None` when a new one must be uploaded: the portal no
    /// longer knows it, or it holds other files (a revision since replaced), then it is dropped.
    async fn resume(
        &self,
        id: &str,
        c: &Coordinates<'_>,
        files: &[&Artifact],
    ) -> Result<Option<(String, DeploymentStatus)>, DistributeError> {
        if self.status(id).await?.is_none() {
            tracing::info!(deployment = id, "the recorded deployment is gone; uploading again");
            return Ok(None);
        }
        let status = self.wait_validated(id, true).await?;
        if status.deployment_state == DeploymentState::Validated {
            match self.check_staged_files(id, c, files).await {
                Ok(()) => {}
                Err(DistributeError::DigestMismatch(why)) => {
                    tracing::info!(deployment = id, why, "the recorded deployment holds other files; dropping it");
                    self.drop_deployment(id).await?;
                    return Ok(None);
                }
                Err(e) => return Err(e),
            }
        }
        tracing::info!(deployment = id, "resuming the recorded deployment");
        Ok(Some((id.to_string(), status)))
    }

    fn published(
        &self,
        c: &Coordinates<'_>,
        id: Option<&str>,
        status: Option<&DeploymentStatus>,
        already: bool,
    ) -> Published {
        let platform = self.platform();
        let state = status.map(|s| s.deployment_state.as_str()).unwrap_or(DeploymentState::Published.as_str());
        let purls = status.map(|s| s.purls.clone()).unwrap_or_default();
        Published {
            api_url: Platform::url(platform.api_url, self.base(), Some(c.group), c.artifact, c.version),
            web_url: Platform::url(platform.web_url, self.base(), Some(c.group), c.artifact, c.version),
            upload_date: None,
            already_present: already,
            details: serde_json::json!({ "deployment_id": id, "state": state, "purls": purls }),
        }
    }

    /// Already on Maven Central: the same bytes are success, others a mismatch.
    async fn already_published(
        &self,
        c: &Coordinates<'_>,
        files: &[&Artifact],
        id: Option<&str>,
    ) -> Result<Option<Published>, DistributeError> {
        if !self.is_published(c).await? {
            return Ok(None);
        }
        self.check_published_files(c, files).await?;
        Ok(Some(self.published(c, id, None, true)))
    }
}

fn recorded_id(recorded: &serde_json::Value) -> Option<&str> {
    recorded.get("deployment_id").and_then(|v| v.as_str())
}

#[async_trait]
impl RegistryClient for MavenClient {
    fn platform(&self) -> &'static Platform {
        &MAVEN
    }

    /// The Maven files (POMs, jars...). Which of them make the component `{package}-{version}`
    /// is decided at upload ([`MavenClient::select_for`]), where the target is known.
    fn select(&self, file_names: &[String]) -> Vec<String> {
        file_names.iter().filter(|n| is_maven_file(n)).cloned().collect()
    }

    /// Without a journal the new deployment's id is known to this call only: the wait for
    /// validation outlasts transient failures ([`Polling::max_wait`]). Use
    /// [`RegistryClient::upload_resuming`].
    async fn upload(
        &self,
        target: &Target,
        artifacts: &[Artifact],
        staging: bool,
    ) -> Result<Published, DistributeError> {
        self.upload_or_resume(target, artifacts, staging, &serde_json::Value::Null, None).await
    }

    /// The deployment id is given to `journal` as soon as the portal returns it (`{"deployment_id":
    /// ID}`), before any poll; with it as `in_flight`, a later run polls, checks and publishes
    /// that deployment instead of uploading another.
    async fn upload_resuming(
        &self,
        target: &Target,
        artifacts: &[Artifact],
        staging: bool,
        in_flight: &serde_json::Value,
        journal: &dyn Journal,
    ) -> Result<Published, DistributeError> {
        self.upload_or_resume(target, artifacts, staging, in_flight, Some(journal)).await
    }

    /// Without the deployment id recorded at staging there is nothing to publish: use
    /// [`RegistryClient::promote_recorded`].
    async fn promote(&self, target: &Target, artifacts: &[Artifact]) -> Result<Published, DistributeError> {
        self.promote_recorded(target, artifacts, &serde_json::Value::Null).await
    }

    async fn promote_recorded(
        &self,
        target: &Target,
        artifacts: &[Artifact],
        recorded: &serde_json::Value,
    ) -> Result<Published, DistributeError> {
        let (c, files) = self.component(target, artifacts)?;
        let id = recorded_id(recorded);
        if let Some(done) = self.already_published(&c, &files, id).await? {
            return Ok(done);
        }
        let id = id.ok_or_else(|| {
            DistributeError::Refused(
                "promoting on Maven Central publishes the staged deployment, and no deployment id was recorded \
                 at staging"
                    .into(),
            )
        })?;
        let status = self.wait_validated(id, true).await?;
        match status.deployment_state {
            DeploymentState::Validated => {
                self.check_staged_files(id, &c, &files).await?;
                let status = self.publish(id, true).await?;
                Ok(self.published(&c, Some(id), Some(&status), false))
            }
            DeploymentState::Publishing | DeploymentState::Published => {
                let status = self.wait_while(id, &[DeploymentState::Publishing], true).await?;
                Ok(self.published(&c, Some(id), Some(&status), true))
            }
            other => Err(DistributeError::Refused(format!("deployment {id} is {}", other.as_str()))),
        }
    }

    /// Production: whether the version is on Maven Central. Staging needs the recorded
    /// deployment id ([`RegistryClient::lookup_recorded`]); without it, nothing is found.
    async fn lookup(&self, target: &Target, staging: bool) -> Result<Option<Published>, DistributeError> {
        self.lookup_recorded(target, staging, &serde_json::Value::Null).await
    }

    async fn lookup_recorded(
        &self,
        target: &Target,
        staging: bool,
        recorded: &serde_json::Value,
    ) -> Result<Option<Published>, DistributeError> {
        let c = coordinates(target)?;
        if !staging && self.is_published(&c).await? {
            return Ok(Some(self.published(&c, recorded_id(recorded), None, true)));
        }
        // The recorded deployment: staged (validated), or publishing to production (the portal
        // says "published" only once it is done).
        let Some(id) = recorded_id(recorded) else { return Ok(None) };
        let Some(status) = self.status(id).await? else { return Ok(None) };
        let found = match status.deployment_state {
            DeploymentState::Publishing | DeploymentState::Published => true,
            DeploymentState::Failed => false,
            _ => staging,
        };
        Ok(found.then(|| self.published(&c, Some(id), Some(&status), true)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn component_files_are_named_artifact_dash_version() {
        assert!(belongs_to("foo-1.2.0.jar", "foo", "1.2.0"));
        assert!(belongs_to("foo-1.2.0-sources.jar", "foo", "1.2.0"));
        assert!(belongs_to("foo-1.2.0.pom", "foo", "1.2.0"));
        assert!(!belongs_to("foo-1.2.0.jar.asc", "foo", "1.2.0"));
        assert!(!belongs_to("foo-1.2.00.jar", "foo", "1.2.0"));
        assert!(!belongs_to("foo-plugin-1.2.0.jar", "foo", "1.2.0"));
        assert!(!belongs_to("foo-1.2.0.tar.gz", "foo", "1.2.0"));
    }

    #[test]
    fn coordinates_are_checked() {
        let t = |ns: Option<&str>, v: &str| Target {
            namespace: ns.map(Into::into),
            package: "foo".into(),
            version: v.into(),
        };
        assert_eq!(coordinates(&t(Some("org.apache.foo"), "1.0")).unwrap().folder(), "org/apache/foo/foo/1.0");
        assert!(coordinates(&t(None, "1.0")).is_err());
        assert!(coordinates(&t(Some("org/apache"), "1.0")).is_err());
        assert!(coordinates(&t(Some("org.apache"), "../1.0")).is_err());
    }
}

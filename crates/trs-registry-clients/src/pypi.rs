//! PyPI: wheels and sdists uploaded with the legacy upload API that `twine` uses.
//!
//! The endpoint's `base_url` is the upload URL, as `twine --repository-url` takes it
//! (`https://upload.pypi.org/legacy/`, `https://test.pypi.org/legacy/`, a pypiserver's root);
//! `staging_url` is the staging index's upload URL (TestPyPI-like). Staging uploads there;
//! promotion uploads the same files to production ([`PromotionMechanism::Reupload`]).
//!
//! Files are looked up before they are sent, in the index's simple API (PEP 503 HTML or PEP 691
//! JSON), by file name and SHA-256: the same bytes already there count as done, other bytes
//! under that name are a [`DistributeError::DigestMismatch`]. PyPI never lets a file name be
//! reused, so that check is also what makes a retried upload safe.
//!
//! [`PromotionMechanism::Reupload`]: trs_distribute::PromotionMechanism::Reupload

use crate::http::HttpErrors as _;
use async_trait::async_trait;
use reqwest::{StatusCode, Url, multipart};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Read;
use std::str::FromStr;
use trs_distribute::platform::{PYPI, Platform};
use trs_distribute::{Artifact, DistributeError, Endpoint, Published, RegistryClient, Target};

/// Posts of one file before a send error counts (see `send`); the core retries on top of this.
const SEND_ATTEMPTS: u32 = 3;

/// The user name that tells PyPI the password is an API token.
const TOKEN_USER: &str = "__token__";

#[derive(Debug)]
pub struct PypiClient {
    endpoint: Endpoint,
    http: reqwest::Client,
}

impl PypiClient {
    pub fn new(endpoint: Endpoint) -> Self {
        PypiClient { http: crate::http::client_for_registry(endpoint.timeouts), endpoint }
    }

    /// The upload URL of production, or of the staging index.
    fn upload_url(&self, staging: bool) -> Result<&str, DistributeError> {
        if !staging {
            return Ok(&self.endpoint.base_url);
        }
        self.endpoint.staging_url.as_deref().ok_or_else(|| {
            DistributeError::Unsupported("PyPI staging needs a staging index URL (a TestPyPI-like index)".into())
        })
    }

    /// Uploads the files of `target` to the index at `upload_url`, each unless already there.
    async fn upload_to(
        &self,
        upload_url: &str,
        target: &Target,
        artifacts: &[Artifact],
    ) -> Result<Published, DistributeError> {
        let dists = distributions_of(target, artifacts)?;
        let index = Index::new(upload_url)?;
        let existing = self.index_files(&index, &target.package).await?;
        let mut reports = Vec::new();
        for dist in &dists {
            let uploaded = match self.check_existing(&existing, dist).await? {
                Presence::Same => false,
                Presence::Absent => self.send(&index, upload_url, dist).await?,
            };
            reports.push(serde_json::json!({
                "file": dist.artifact.file_name, "sha256": dist.sha256, "uploaded": uploaded,
            }));
        }
        let already_present = reports.iter().all(|r| r["uploaded"] == false);
        let files = self.index_files(&index, &target.package).await?;
        Ok(index.published(target, &dists_of_version(&files, target), already_present, reports))
    }

    /// Posts one file. `Ok(false)` when the index answered that it already has the file and a
    /// fresh look confirms it is the same bytes (a retry after an interrupted upload).
    async fn send(&self, index: &Index, upload_url: &str, dist: &Dist<'_>) -> Result<bool, DistributeError> {
        let context = format!("upload of {} to {}", dist.artifact.file_name, index.base);
        let post = || self.authorized(self.http.post(upload_url)).multipart(dist.form()).send();
        // An index that refuses the credentials may answer before reading the body and close
        // the connection; the client then sees a reset instead of the answer. Posting again
        // reads the answer in most cases (and is safe: a file that did land is "already exists").
        let mut attempt = 1;
        let response = loop {
            match post().await {
                Ok(response) => break response,
                Err(_) if attempt < SEND_ATTEMPTS => attempt += 1,
                Err(e) => return Err(DistributeError::from_reqwest(&context, e)),
            }
        };
        let status = response.status();
        if status.is_success() {
            return Ok(true);
        }
        let body = response.text().await.unwrap_or_default();
        if matches!(status, StatusCode::CONFLICT | StatusCode::BAD_REQUEST)
            && body.to_ascii_lowercase().contains("already exist")
        {
            let files = self.index_files(index, &dist.name).await?;
            match self.check_existing(&files, dist).await? {
                Presence::Same => return Ok(false),
                Presence::Absent => {}
            }
        }
        Err(self.status_error(&context, status, &body))
    }

    /// The files the index lists for `project`, by file name.
    async fn index_files(&self, index: &Index, project: &str) -> Result<BTreeMap<String, IndexFile>, DistributeError> {
        let url = index.simple_url(project)?;
        let context = format!("look-up of {project} in {}", index.base);
        let response = self.read(url, "application/vnd.pypi.simple.v1+json, text/html;q=0.1", &context).await?;
        let status = response.status();
        if status == StatusCode::NOT_FOUND {
            return Ok(BTreeMap::new());
        }
        let is_json = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("json"));
        let page_url = response.url().clone();
        let body = response.text().await.map_err(|e| DistributeError::from_reqwest(&context, e))?;
        if !status.is_success() {
            return Err(self.status_error(&context, status, &body));
        }
        let listed = if is_json { parse_simple_json(&body) } else { Ok(parse_simple_html(&body)) }
            .map_err(|e| DistributeError::Refused(format!("{context}: unreadable index page: {e}")))?;
        Ok(listed
            .into_iter()
            .map(|mut file| {
                file.url = page_url.join(&file.url).map(String::from).unwrap_or(file.url);
                (file.filename.clone(), file)
            })
            .collect())
    }

    /// Whether the index's `files` hold `dist`: absent, or there with the same bytes (other
    /// bytes are a [`DistributeError::DigestMismatch`]).
    async fn check_existing(
        &self,
        files: &BTreeMap<String, IndexFile>,
        dist: &Dist<'_>,
    ) -> Result<Presence, DistributeError> {
        let Some(file) = files.get(&dist.artifact.file_name) else { return Ok(Presence::Absent) };
        let sha256 = match &file.sha256 {
            Some(sha256) => sha256.clone(),
            // An index that publishes no digests: the bytes themselves are the answer.
            None => self.download_sha256(&file.url, &format!("download of {}", file.filename)).await?,
        };
        if sha256.eq_ignore_ascii_case(&dist.sha256) {
            return Ok(Presence::Same);
        }
        Err(DistributeError::DigestMismatch(format!(
            "{} is already on the index with SHA-256 {sha256}, the release's is {}; PyPI files are never replaced",
            dist.artifact.file_name, dist.sha256
        )))
    }

    /// GETs `url` from an index. Public indexes need no credentials to be read, and their files
    /// may be served from another host, so they are sent only when the index asks for them.
    async fn read(&self, url: Url, accept: &str, context: &str) -> Result<reqwest::Response, DistributeError> {
        let get = |authorized: bool| {
            let request = self.http.get(url.clone()).header(reqwest::header::ACCEPT, accept);
            if authorized { self.authorized(request) } else { request }
        };
        let response = get(false).send().await.map_err(|e| DistributeError::from_reqwest(context, e))?;
        if matches!(response.status(), StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN)
            && self.endpoint.credentials.expose().is_some()
        {
            return get(true).send().await.map_err(|e| DistributeError::from_reqwest(context, e));
        }
        Ok(response)
    }

    async fn download_sha256(&self, url: &str, context: &str) -> Result<String, DistributeError> {
        let url = Url::parse(url).map_err(|e| DistributeError::Refused(format!("{context}: bad URL {url:?}: {e}")))?;
        let response = self.read(url, "*/*", context).await?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| DistributeError::from_reqwest(context, e))?;
        if !status.is_success() {
            return Err(self.status_error(context, status, &String::from_utf8_lossy(&bytes)));
        }
        Ok(hex::encode(Sha256::digest(&bytes)))
    }

    fn authorized(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let credentials = &self.endpoint.credentials;
        match credentials.expose() {
            Some(secret) => request.basic_auth(credentials.username.as_deref().unwrap_or(TOKEN_USER), Some(secret)),
            None => request,
        }
    }

    fn status_error(&self, context: &str, status: StatusCode, body: &str) -> DistributeError {
        DistributeError::from_status(context, status, &self.endpoint.credentials.scrub(body))
    }
}

#[async_trait]
impl RegistryClient for PypiClient {
    fn platform(&self) -> &'static Platform {
        &PYPI
    }

    fn select(&self, file_names: &[String]) -> Vec<String> {
        file_names.iter().filter(|name| DistFile::parse(name).is_some()).cloned().collect()
    }

    async fn upload(
        &self,
        target: &Target,
        artifacts: &[Artifact],
        staging: bool,
    ) -> Result<Published, DistributeError> {
        self.upload_to(self.upload_url(staging)?, target, artifacts).await
    }

    async fn promote(&self, target: &Target, artifacts: &[Artifact]) -> Result<Published, DistributeError> {
        // Promotion re-uploads the voted files; first make sure they are what was staged.
        let staging = Index::new(self.upload_url(true)?)?;
        let staged = self.index_files(&staging, &target.package).await?;
        for dist in distributions_of(target, artifacts)? {
            if self.check_existing(&staged, &dist).await? == Presence::Absent {
                return Err(DistributeError::Refused(format!(
                    "{} is not on the staging index {}: stage the release before promoting it",
                    dist.artifact.file_name, staging.base
                )));
            }
        }
        self.upload_to(&self.endpoint.base_url, target, artifacts).await
    }

    async fn lookup(&self, target: &Target, staging: bool) -> Result<Option<Published>, DistributeError> {
        let index = Index::new(self.upload_url(staging)?)?;
        let files = self.index_files(&index, &target.package).await?;
        let of_version = dists_of_version(&files, target);
        if of_version.is_empty() {
            return Ok(None);
        }
        Ok(Some(index.published(target, &of_version, true, Vec::new())))
    }
}

/// An index, named by its upload URL, and where it is read.
struct Index {
    /// The index's web root: `https://pypi.org` for `https://upload.pypi.org/legacy/`.
    base: String,
}

impl Index {
    fn new(upload_url: &str) -> Result<Self, DistributeError> {
        let mut url = Url::parse(upload_url)
            .map_err(|e| DistributeError::Unsupported(format!("PyPI upload URL {upload_url:?}: {e}")))?;
        // PyPI takes uploads on a host of their own; everything else is served on the web host.
        if url.host_str() == Some("upload.pypi.org") {
            url.set_host(Some("pypi.org")).expect("pypi.org is a valid host");
        }
        let path = url.path().trim_end_matches('/');
        let path = path.strip_suffix("/legacy").unwrap_or(path).to_string();
        url.set_path(&path);
        url.set_query(None);
        url.set_fragment(None);
        Ok(Index { base: url.as_str().trim_end_matches('/').to_string() })
    }

    fn simple_url(&self, project: &str) -> Result<Url, DistributeError> {
        let url = format!("{}/simple/{}/", self.base, normalize_name(project));
        Url::parse(&url).map_err(|e| DistributeError::Unsupported(format!("PyPI index URL {url:?}: {e}")))
    }

    fn published(
        &self,
        target: &Target,
        files: &[&IndexFile],
        already_present: bool,
        reports: Vec<serde_json::Value>,
    ) -> Published {
        let url =
            |template| Platform::url(template, &self.base, None, &normalize_name(&target.package), &target.version);
        let listed: Vec<_> =
            files.iter().map(|f| serde_json::json!({"file": f.filename, "sha256": f.sha256, "url": f.url})).collect();
        let mut details = serde_json::json!({ "index": self.base, "files": listed });
        if !reports.is_empty() {
            details["uploads"] = serde_json::Value::Array(reports);
        }
        Published {
            api_url: url(PYPI.api_url),
            web_url: url(PYPI.web_url),
            upload_date: files.iter().filter_map(|f| f.upload_time).max(),
            already_present,
            details,
        }
    }
}

/// The files of `files` that belong to `target`'s version (going by their names).
fn dists_of_version<'a>(files: &'a BTreeMap<String, IndexFile>, target: &Target) -> Vec<&'a IndexFile> {
    let version = pep440_rs::Version::from_str(&target.version).ok();
    files
        .values()
        .filter(|f| {
            DistFile::parse(&f.filename).is_some_and(|d| {
                normalize_name(&d.name) == normalize_name(&target.package) && Some(&d.version) == version.as_ref()
            })
        })
        .collect()
}

/// PEP 503 normalisation: lowercase, runs of `-`, `_` and `.` become one `-`.
pub fn normalize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DistKind {
    Wheel,
    Sdist,
}

/// What a file name says about a Python distribution (wheel: PEP 427; sdist: PEP 625).
#[derive(Debug, Clone)]
struct DistFile {
    kind: DistKind,
    name: String,
    version: pep440_rs::Version,
    /// The wheel's Python tag (`py3`, `cp312`...); `source` for an sdist, as twine sends it.
    pyversion: String,
}

impl DistFile {
    fn parse(file_name: &str) -> Option<DistFile> {
        if let Some(stem) = file_name.strip_suffix(".whl") {
            let parts: Vec<&str> = stem.split('-').collect();
            // name-version(-build)?-python-abi-platform
            if !(5..=6).contains(&parts.len()) || parts.iter().any(|p| p.is_empty()) {
                return None;
            }
            return Some(DistFile {
                kind: DistKind::Wheel,
                name: parts[0].to_string(),
                version: pep440_rs::Version::from_str(parts[1]).ok()?,
                pyversion: parts[parts.len() - 3].to_string(),
            });
        }
        let stem = file_name.strip_suffix(".tar.gz")?;
        // Older sdists may have `-` in the name; the version is what follows the last one, and
        // must be a PEP 440 version (so `apache-foo-1.0-src.tar.gz` is no Python sdist).
        let (name, version) = stem.rsplit_once('-')?;
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) {
            return None;
        }
        Some(DistFile {
            kind: DistKind::Sdist,
            name: name.to_string(),
            version: pep440_rs::Version::from_str(version).ok()?,
            pyversion: "source".into(),
        })
    }
}

/// One release file to upload, with the core metadata read from inside it.
struct Dist<'a> {
    artifact: &'a Artifact,
    file: DistFile,
    /// Name as the metadata spells it.
    name: String,
    metadata: CoreMetadata,
    sha256: String,
}

impl Dist<'_> {
    /// The upload form, as twine builds it: the metadata fields, the digest and the file.
    fn form(&self) -> multipart::Form {
        let mut form = multipart::Form::new()
            .text(":action", "file_upload")
            .text("protocol_version", "1")
            .text("filetype", if self.file.kind == DistKind::Wheel { "bdist_wheel" } else { "sdist" })
            .text("pyversion", self.file.pyversion.clone())
            .text("sha256_digest", self.sha256.clone());
        for (field, value) in self.metadata.form_fields() {
            form = form.text(field, value);
        }
        let content = multipart::Part::bytes(self.artifact.bytes.to_vec())
            .file_name(self.artifact.file_name.clone())
            .mime_str("application/octet-stream")
            .expect("a valid MIME type");
        form = form.part("content", content);
        if let Some(signature) = &self.artifact.signature {
            let part = multipart::Part::bytes(signature.to_vec())
                .file_name(format!("{}.asc", self.artifact.file_name))
                .mime_str("application/octet-stream")
                .expect("a valid MIME type");
            form = form.part("gpg_signature", part);
        }
        form
    }
}

/// The artifacts that are distributions of `target`, their metadata read and checked.
fn distributions_of<'a>(target: &Target, artifacts: &'a [Artifact]) -> Result<Vec<Dist<'a>>, DistributeError> {
    let wanted_version = pep440_rs::Version::from_str(&target.version).map_err(|e| {
        DistributeError::Unsupported(format!("{:?} is not a Python (PEP 440) version: {e}", target.version))
    })?;
    let wanted_name = normalize_name(&target.package);
    let mut dists = Vec::new();
    let mut others = Vec::new();
    for artifact in artifacts {
        let Some(file) = DistFile::parse(&artifact.file_name) else { continue };
        let metadata = CoreMetadata::read(file.kind, &artifact.bytes)
            .map_err(|e| DistributeError::Refused(format!("{}: {e}", artifact.file_name)))?;
        let (name, version) = metadata
            .name_and_version()
            .map_err(|e| DistributeError::Refused(format!("{}: {e}", artifact.file_name)))?;
        if normalize_name(&name) != normalize_name(&file.name) || version != file.version {
            return Err(DistributeError::Refused(format!(
                "{}: the file name says {} {}, its metadata says {name} {version}",
                artifact.file_name, file.name, file.version
            )));
        }
        if normalize_name(&name) != wanted_name || version != wanted_version {
            others.push(format!("{} ({name} {version})", artifact.file_name));
            continue;
        }
        let sha256 = hex::encode(Sha256::digest(&artifact.bytes));
        dists.push(Dist { artifact, file, name, metadata, sha256 });
    }
    if dists.is_empty() {
        let found = if others.is_empty() { "none".to_string() } else { others.join(", ") };
        return Err(DistributeError::Unsupported(format!(
            "the release has no wheel or sdist of {} {}; Python distributions found: {found}",
            target.package, target.version
        )));
    }
    Ok(dists)
}

#[derive(Debug, PartialEq, Eq)]
enum Presence {
    Absent,
    Same,
}

/// The core metadata (PKG-INFO / METADATA): email-style headers, then the description.
#[derive(Debug, Clone, Default)]
struct CoreMetadata {
    headers: Vec<(String, String)>,
    body: String,
}

impl CoreMetadata {
    /// Reads `METADATA` from a wheel's `.dist-info`, or `PKG-INFO` from an sdist's top folder.
    fn read(kind: DistKind, bytes: &[u8]) -> Result<CoreMetadata, String> {
        let text = match kind {
            DistKind::Wheel => {
                let mut zip =
                    zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| format!("not a wheel: {e}"))?;
                let name = zip
                    .file_names()
                    .filter_map(Result::ok)
                    .find(|n| {
                        n.split_once('/').is_some_and(|(dir, file)| dir.ends_with(".dist-info") && file == "METADATA")
                    })
                    .map(|n| n.to_string())
                    .ok_or("the wheel has no .dist-info/METADATA")?;
                let mut text = String::new();
                zip.by_name(&name)
                    .map_err(|e| e.to_string())?
                    .read_to_string(&mut text)
                    .map_err(|e| format!("{name}: {e}"))?;
                text
            }
            DistKind::Sdist => {
                let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
                let mut found = None;
                for entry in archive.entries().map_err(|e| format!("not a gzipped tar: {e}"))? {
                    let mut entry = entry.map_err(|e| format!("not a gzipped tar: {e}"))?;
                    let path = entry.path().map_err(|e| e.to_string())?.to_string_lossy().into_owned();
                    let parts: Vec<&str> = path.trim_start_matches("./").split('/').collect();
                    if parts.len() == 2 && parts[1] == "PKG-INFO" {
                        let mut text = String::new();
                        entry.read_to_string(&mut text).map_err(|e| format!("{path}: {e}"))?;
                        found = Some(text);
                        break;
                    }
                }
                found.ok_or("the sdist has no PKG-INFO in its top folder")?
            }
        };
        Ok(CoreMetadata::parse(&text))
    }

    fn parse(text: &str) -> CoreMetadata {
        let text = text.replace("\r\n", "\n");
        let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in head.lines() {
            if line.starts_with([' ', '\t']) {
                // A folded line continues the previous header's value; old tools indent a
                // multi-line Description by 8 columns (or 7 and a `|`), which is not part of it.
                if let Some((_, value)) = headers.last_mut() {
                    let unfolded = match line.strip_prefix("       |") {
                        Some(rest) => rest,
                        None => line.strip_prefix("        ").unwrap_or(line.trim_start()),
                    };
                    value.push('\n');
                    value.push_str(unfolded.trim_end());
                }
            } else if let Some((name, value)) = line.split_once(':') {
                headers.push((name.trim().to_string(), value.trim().to_string()));
            }
        }
        CoreMetadata { headers, body: body.to_string() }
    }

    fn get(&self, header: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(header)).map(|(_, v)| v.as_str())
    }

    fn name_and_version(&self) -> Result<(String, pep440_rs::Version), String> {
        let name = self.get("Name").filter(|n| !n.is_empty()).ok_or("the metadata has no Name")?;
        let version = self.get("Version").ok_or("the metadata has no Version")?;
        let version = pep440_rs::Version::from_str(version)
            .map_err(|e| format!("the metadata's version {version:?} is not a PEP 440 version: {e}"))?;
        Ok((name.to_string(), version))
    }

    /// The metadata as upload form fields, named as twine and PyPI name them.
    fn form_fields(&self) -> Vec<(&'static str, String)> {
        let mut fields: Vec<(&'static str, String)> =
            self.headers.iter().filter_map(|(name, value)| Some((form_field(name)?, value.clone()))).collect();
        if !self.body.trim().is_empty() && self.get("Description").is_none() {
            fields.push(("description", self.body.clone()));
        }
        fields
    }
}

/// The upload form's name for a core metadata header (None: not sent).
fn form_field(header: &str) -> Option<&'static str> {
    Some(match header.to_ascii_lowercase().as_str() {
        "metadata-version" => "metadata_version",
        "name" => "name",
        "version" => "version",
        "summary" => "summary",
        "description" => "description",
        "description-content-type" => "description_content_type",
        "keywords" => "keywords",
        "home-page" => "home_page",
        "download-url" => "download_url",
        "author" => "author",
        "author-email" => "author_email",
        "maintainer" => "maintainer",
        "maintainer-email" => "maintainer_email",
        "license" => "license",
        "license-expression" => "license_expression",
        "license-file" => "license_files",
        "classifier" => "classifiers",
        "platform" => "platform",
        "supported-platform" => "supported_platform",
        "requires-dist" => "requires_dist",
        "requires-python" => "requires_python",
        "requires-external" => "requires_external",
        "project-url" => "project_urls",
        "provides-extra" => "provides_extra",
        "provides-dist" => "provides_dist",
        "obsoletes-dist" => "obsoletes_dist",
        "dynamic" => "dynamic",
        "requires" => "requires",
        "provides" => "provides",
        "obsoletes" => "obsoletes",
        _ => return None,
    })
}

/// One file an index lists.
#[derive(Debug, Clone, PartialEq, Eq)]
struct IndexFile {
    filename: String,
    url: String,
    sha256: Option<String>,
    /// Unix seconds, where the index says (PEP 700 `upload-time`).
    upload_time: Option<i64>,
}

/// A PEP 691 JSON project page.
fn parse_simple_json(body: &str) -> Result<Vec<IndexFile>, String> {
    #[derive(serde::Deserialize)]
    struct Page {
        files: Vec<File>,
    }
    #[derive(serde::Deserialize)]
    struct File {
        filename: String,
        url: String,
        #[serde(default)]
        hashes: BTreeMap<String, String>,
        #[serde(default, rename = "upload-time")]
        upload_time: Option<String>,
    }
    let page: Page = serde_json::from_str(body).map_err(|e| e.to_string())?;
    Ok(page
        .files
        .into_iter()
        .map(|f| IndexFile {
            upload_time: f.upload_time.as_deref().and_then(unix_seconds),
            sha256: f.hashes.get("sha256").cloned(),
            filename: f.filename,
            url: f.url,
        })
        .collect())
}

fn unix_seconds(rfc3339: &str) -> Option<i64> {
    time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

/// A PEP 503 HTML project page: one anchor per file, the digest in the link's fragment. The
/// format is a flat list of `<a href="...">file</a>`, so a scan for anchors reads it whole.
fn parse_simple_html(body: &str) -> Vec<IndexFile> {
    // ASCII lowercasing keeps every byte offset, so `lower` finds and `body` gives the text.
    let lower = body.to_ascii_lowercase();
    let mut files = Vec::new();
    let mut at = 0;
    while let Some(start) = lower[at..].find("<a ").map(|i| at + i + 3) {
        let Some(tag_end) = lower[start..].find('>').map(|i| start + i) else { break };
        let Some(text_end) = lower[tag_end..].find("</a>").map(|i| tag_end + i) else { break };
        at = text_end;
        let Some(href) = attribute(&body[start..tag_end], "href") else { continue };
        let href = unescape(&href);
        let (url, fragment) = href.split_once('#').unwrap_or((&href, ""));
        let text = unescape(body[tag_end + 1..text_end].trim());
        let filename = if text.is_empty() { url.rsplit('/').next().unwrap_or_default().to_string() } else { text };
        let sha256 = fragment.strip_prefix("sha256=").map(str::to_ascii_lowercase);
        files.push(IndexFile { filename, url: url.to_string(), sha256, upload_time: None });
    }
    files
}

fn attribute(attributes: &str, name: &str) -> Option<String> {
    let lower = attributes.to_ascii_lowercase();
    let mut from = 0;
    while let Some(at) = lower[from..].find(name) {
        let at = from + at;
        from = at + name.len();
        let preceded = at == 0 || lower.as_bytes()[at - 1].is_ascii_whitespace();
        let rest = attributes[from..].trim_start();
        if !preceded || !rest.starts_with('=') {
            continue;
        }
        let rest = rest[1..].trim_start();
        let quote = rest.chars().next()?;
        return Some(if quote == '"' || quote == '\'' {
            rest[1..].split(quote).next().unwrap_or_default().to_string()
        } else {
            rest.split(|c: char| c.is_ascii_whitespace()).next().unwrap_or_default().to_string()
        });
    }
    None
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&")
}

/// The readers [`crate::fuzzing`] drives: the distributions of a release (their core
/// metadata, name, version and upload form fields) and a registry's project page.
pub(crate) fn fuzz_distributions(target: &Target, artifacts: &[Artifact]) -> Result<usize, DistributeError> {
    let dists = distributions_of(target, artifacts)?;
    Ok(dists.iter().map(|d| d.metadata.form_fields().len() + d.name.len() + d.sha256.len()).sum())
}

pub(crate) fn fuzz_index_page(body: &str) -> usize {
    let json = parse_simple_json(body).map_or(0, |files| files.len());
    json + parse_simple_html(body).len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_normalise_per_pep_503() {
        assert_eq!(normalize_name("Foo.Bar__baz-Qux"), "foo-bar-baz-qux");
        assert_eq!(normalize_name("apache_foo"), "apache-foo");
    }

    #[test]
    fn only_python_distributions_are_selected() {
        let client = PypiClient::new(Endpoint {
            base_url: "http://127.0.0.1:1/".into(),
            staging_url: None,
            repository_url: None,
            credentials: trs_distribute::Credentials::none(),
            timeouts: Default::default(),
        });
        let names: Vec<String> = [
            "apache_foo-1.0.0.tar.gz",
            "apache_foo-1.0.0-py3-none-any.whl",
            "apache_foo-1.0.0-1-cp312-cp312-manylinux_2_17_x86_64.whl",
            "apache-foo-1.0.0-src.tar.gz",
            "apache-foo-1.0.0.tar.gz.asc",
            "foo-1.0.0.tgz",
            "foo-1.0.0.zip",
        ]
        .map(String::from)
        .into();
        assert_eq!(
            client.select(&names),
            ["apache_foo-1.0.0.tar.gz", "apache_foo-1.0.0-py3-none-any.whl", names[2].as_str()]
        );
    }

    #[test]
    fn index_urls_follow_the_upload_url() {
        for (upload, base) in [
            ("https://upload.pypi.org/legacy/", "https://pypi.org"),
            ("https://test.pypi.org/legacy/", "https://test.pypi.org"),
            ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
            ("http://127.0.0.1:8080/pypi/", "http://127.0.0.1:8080/pypi"),
        ] {
            assert_eq!(Index::new(upload).unwrap().base, base, "{upload}");
        }
        let simple = Index::new("https://test.pypi.org/legacy/").unwrap().simple_url("Apache_Foo").unwrap();
        assert_eq!(simple.as_str(), "https://test.pypi.org/simple/apache-foo/");
    }

    #[test]
    fn simple_pages_give_names_and_digests() {
        let html = r#"<html><body><h1>Links</h1>
            <a href="../../packages/foo-1.0.tar.gz#sha256=ABCD">foo-1.0.tar.gz</a><br>
            <a data-requires-python="&gt;=3.8" href="/p/foo-1.0-py3-none-any.whl">foo-1.0-py3-none-any.whl</a>
            </body></html>"#;
        let files = parse_simple_html(html);
        assert_eq!(files.len(), 2);
        assert_eq!(files[0].filename, "foo-1.0.tar.gz");
        assert_eq!(files[0].url, "../../packages/foo-1.0.tar.gz");
        assert_eq!(files[0].sha256.as_deref(), Some("abcd"));
        assert_eq!(files[1].sha256, None);

        let json = r#"{"meta":{"api-version":"1.1"},"name":"foo","files":[{"filename":"foo-1.0.tar.gz",
            "url":"https://files/foo-1.0.tar.gz","hashes":{"sha256":"ab"},"upload-time":"2024-01-02T03:04:05.123456Z"}]}"#;
        let files = parse_simple_json(json).unwrap();
        assert_eq!(files[0].sha256.as_deref(), Some("ab"));
        assert_eq!(files[0].upload_time, Some(1_704_164_645));
    }

    #[test]
    fn metadata_becomes_twine_form_fields() {
        let m = CoreMetadata::parse(
            "Metadata-Version: 2.1\nName: apache-foo\nVersion: 1.0.0\nClassifier: A\nClassifier: B\n\
             Project-URL: Home, https://x\nX-Unknown: y\n\nThe description.\n",
        );
        let folded =
            CoreMetadata::parse("Name: a\nDescription: first\n        second\n          indented\n       |third\n");
        assert_eq!(folded.get("Description"), Some("first\nsecond\n  indented\nthird"));
        let (name, version) = m.name_and_version().unwrap();
        assert_eq!((name.as_str(), version.to_string().as_str()), ("apache-foo", "1.0.0"));
        let fields = m.form_fields();
        assert!(fields.contains(&("classifiers", "A".into())) && fields.contains(&("classifiers", "B".into())));
        assert!(fields.contains(&("project_urls", "Home, https://x".into())));
        assert!(fields.contains(&("description", "The description.\n".into())));
        assert!(!fields.iter().any(|(_, v)| v == "y"));
    }
}

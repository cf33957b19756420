//! npm: a package tarball published with the registry's publish document, staged under a
//! dist-tag other than `latest` and promoted by moving `latest` to its version.
//!
//! The endpoint's `base_url` is the registry (`https://registry.npmjs.org`); the credentials'
//! secret is an automation token, sent as a Bearer token. The staging dist-tag is the one the
//! platform value declares ([`Staging::DistTag`]).
//!
//! Registries add a version once and never replace it, so the packument (the package document)
//! is read first: the version there with the same integrity counts as done, with another
//! integrity it is a [`DistributeError::DigestMismatch`].
//!
//! Registries point `latest` at the first version a package ever gets, whatever tag it was
//! published under; staging keeps a version out of `latest` only for a package that already has
//! one, so staging a candidate of a package without `latest` is refused
//! (`check_staging_keeps_it_private`).

use crate::http::HttpErrors as _;
use async_trait::async_trait;
use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha1::Sha1;
use sha2::{Digest, Sha512};
use std::io::Read;
use trs_distribute::platform::{NPM, Platform, Staging};
use trs_distribute::{Artifact, DistributeError, Endpoint, Published, RegistryClient, Target};

/// The dist-tag users install by default.
const LATEST: &str = "latest";

#[derive(Debug)]
pub struct NpmClient {
    endpoint: Endpoint,
    http: reqwest::Client,
}

impl NpmClient {
    pub fn new(endpoint: Endpoint) -> Self {
        NpmClient { http: crate::http::client_for_registry(endpoint.timeouts), endpoint }
    }

    fn registry(&self) -> &str {
        self.endpoint.base_url.trim_end_matches('/')
    }

    /// The dist-tag a staged version is published under.
    fn staging_tag() -> Result<&'static str, DistributeError> {
        match NPM.staging {
            Staging::DistTag { tag } => Ok(tag),
            other => Err(DistributeError::Unsupported(format!("npm stages with dist-tags, not {other:?}"))),
        }
    }

    fn authorized(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self.endpoint.credentials.expose() {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    fn status_error(&self, context: &str, status: StatusCode, body: &str) -> DistributeError {
        DistributeError::from_status(context, status, &self.endpoint.credentials.scrub(body))
    }

    /// The package's document, or `None` if the registry has no such package.
    async fn packument(&self, package: &str) -> Result<Option<Packument>, DistributeError> {
        let context = format!("look-up of {package} in {}", self.registry());
        let url = format!("{}/{}", self.registry(), escape_name(package)?);
        let response = self
            .authorized(self.http.get(url))
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| DistributeError::from_reqwest(&context, e))?;
        let status = response.status();
        let body = response.text().await.map_err(|e| DistributeError::from_reqwest(&context, e))?;
        if status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(self.status_error(&context, status, &body));
        }
        let document: Value = serde_json::from_str(&body)
            .map_err(|e| DistributeError::Refused(format!("{context}: unreadable package document: {e}")))?;
        Ok(Some(Packument(document)))
    }

    /// Publishes `tarball` under `tag`. `Ok(false)` when the registry already had the version
    /// with the same integrity (a retry after an interrupted publish).
    async fn publish(&self, tarball: &Tarball<'_>, tag: &str) -> Result<bool, DistributeError> {
        let name = &tarball.name;
        let context = format!("publish of {name}@{} to {}", tarball.version, self.registry());
        let response = self
            .authorized(self.http.put(format!("{}/{}", self.registry(), escape_name(name)?)))
            .json(&tarball.publish_document(self.registry(), tag))
            .send()
            .await
            .map_err(|e| DistributeError::from_reqwest(&context, e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(true);
        }
        let body = response.text().await.unwrap_or_default();
        // The version got there first (an earlier, interrupted run, or a concurrent one): same
        // bytes is success. A publish still in flight elsewhere is refused as already present
        // before its package document shows the version (verdaccio, under load), so the
        // document is read again a few times before the refusal stands.
        if matches!(status, StatusCode::CONFLICT | StatusCode::FORBIDDEN) {
            for attempt in 0..5u64 {
                if let Some(existing) = self.packument(name).await?
                    && existing.integrity(&tarball.version).is_some()
                {
                    tarball.check(&existing)?;
                    return Ok(false);
                }
                tokio::time::sleep(std::time::Duration::from_millis(200 * (attempt + 1))).await;
            }
        }
        Err(self.status_error(&context, status, &body))
    }

    /// Points `tag` at `version`.
    async fn set_tag(&self, package: &str, tag: &str, version: &str) -> Result<(), DistributeError> {
        let context = format!("setting dist-tag {tag} of {package} to {version} in {}", self.registry());
        let url = format!("{}/-/package/{}/dist-tags/{tag}", self.registry(), escape_name(package)?);
        let response = self
            .authorized(self.http.put(url))
            .json(&version)
            .send()
            .await
            .map_err(|e| DistributeError::from_reqwest(&context, e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let body = response.text().await.unwrap_or_default();
        Err(self.status_error(&context, status, &body))
    }

    /// Makes sure the registry has `tarball` with `tag` on its version: publishes it unless it is
    /// there, then moves the tag unless it already points there.
    async fn distribute(&self, tarball: &Tarball<'_>, tag: &str) -> Result<Published, DistributeError> {
        let mut wrote = false;
        match self.packument(&tarball.name).await? {
            Some(existing) if existing.integrity(&tarball.version).is_some() => {
                tarball.check(&existing)?;
                if existing.tag(tag) != Some(tarball.version.as_str()) {
                    self.set_tag(&tarball.name, tag, &tarball.version).await?;
                    wrote = true;
                }
            }
            _ => wrote = self.publish(tarball, tag).await?,
        }
        let after = self.packument(&tarball.name).await?.ok_or_else(|| {
            DistributeError::Transient(format!("{} is not in {} right after publishing", tarball.name, self.registry()))
        })?;
        if after.tag(tag) != Some(tarball.version.as_str()) {
            // A retried publish found the version already there, under another tag.
            self.set_tag(&tarball.name, tag, &tarball.version).await?;
            wrote = true;
        }
        Ok(self.published(&tarball.name, &tarball.version, &after, !wrote))
    }

    fn published(&self, package: &str, version: &str, packument: &Packument, already_present: bool) -> Published {
        let url = |template| Platform::url(template, self.registry(), None, package, version);
        let manifest = packument.version(version);
        Published {
            api_url: url(NPM.api_url),
            web_url: url(NPM.web_url),
            upload_date: packument.0["time"][version].as_str().and_then(unix_seconds),
            already_present,
            details: json!({
                "integrity": manifest.and_then(|m| m["dist"].get("integrity")),
                "shasum": manifest.and_then(|m| m["dist"].get("shasum")),
                "tarball": manifest.and_then(|m| m["dist"].get("tarball")),
                "dist_tags": packument.0.get("dist-tags"),
            }),
        }
    }
}

#[async_trait]
impl RegistryClient for NpmClient {
    fn platform(&self) -> &'static Platform {
        &NPM
    }

    fn select(&self, file_names: &[String]) -> Vec<String> {
        file_names.iter().filter(|name| name.ends_with(".tgz")).cloned().collect()
    }

    async fn upload(
        &self,
        target: &Target,
        artifacts: &[Artifact],
        staging: bool,
    ) -> Result<Published, DistributeError> {
        let tarball = Tarball::of(target, artifacts)?;
        let tag = if staging { Self::staging_tag()? } else { LATEST };
        self.distribute(&tarball, tag).await
    }

    async fn promote(&self, target: &Target, artifacts: &[Artifact]) -> Result<Published, DistributeError> {
        let tarball = Tarball::of(target, artifacts)?;
        let existing = self.packument(&tarball.name).await?;
        let Some(existing) = existing.filter(|p| p.integrity(&tarball.version).is_some()) else {
            return Err(DistributeError::Refused(format!(
                "{}@{} is not in {}: stage it before promoting it",
                tarball.name,
                tarball.version,
                self.registry()
            )));
        };
        // Promotion moves a tag; it must point at exactly the voted bytes.
        tarball.check(&existing)?;
        if existing.tag(LATEST) == Some(tarball.version.as_str()) {
            return Ok(self.published(&tarball.name, &tarball.version, &existing, true));
        }
        self.set_tag(&tarball.name, LATEST, &tarball.version).await?;
        let after = self.packument(&tarball.name).await?.unwrap_or(existing);
        Ok(self.published(&tarball.name, &tarball.version, &after, false))
    }

    async fn check_staging_keeps_it_private(&self, target: &Target) -> Result<(), DistributeError> {
        let has_latest = self.packument(&target.package).await?.is_some_and(|p| p.tag(LATEST).is_some());
        if has_latest {
            return Ok(());
        }
        Err(DistributeError::Unsupported(format!(
            "{package} has no version on {registry} yet, and npm makes a package's first version \
             `latest` whatever dist-tag it is published under: staging this candidate would make its \
             unvoted files what `npm install {package}` gets. Distribute the first version once it is \
             voted and promoted, without --staging",
            package = target.package,
            registry = self.registry()
        )))
    }

    async fn lookup(&self, target: &Target, staging: bool) -> Result<Option<Published>, DistributeError> {
        let Some(packument) = self.packument(&target.package).await? else { return Ok(None) };
        let tag = if staging { Self::staging_tag()? } else { LATEST };
        if packument.integrity(&target.version).is_none() || packument.tag(tag) != Some(target.version.as_str()) {
            return Ok(None);
        }
        Ok(Some(self.published(&target.package, &target.version, &packument, true)))
    }
}

/// A package document as the registry serves it.
struct Packument(Value);

impl Packument {
    fn version(&self, version: &str) -> Option<&Value> {
        self.0["versions"].get(version)
    }

    fn integrity(&self, version: &str) -> Option<Integrity> {
        let dist = &self.version(version)?["dist"];
        Some(Integrity {
            sri: dist["integrity"].as_str().map(String::from),
            shasum: dist["shasum"].as_str().map(String::from),
        })
    }

    fn tag(&self, tag: &str) -> Option<&str> {
        self.0["dist-tags"][tag].as_str()
    }
}

/// What a registry says about a version's tarball. Very old versions carry only the SHA-1.
struct Integrity {
    sri: Option<String>,
    shasum: Option<String>,
}

/// The release's npm package tarball for the target, with what its package.json says.
struct Tarball<'a> {
    artifact: &'a Artifact,
    name: String,
    version: String,
    manifest: serde_json::Map<String, Value>,
    /// Subresource integrity: `sha512-` and the base64 SHA-512.
    integrity: String,
    /// Hex SHA-1, npm's legacy `shasum`.
    shasum: String,
}

impl<'a> Tarball<'a> {
    /// The one tarball of `artifacts` whose package.json names `target`'s package and version.
    fn of(target: &Target, artifacts: &'a [Artifact]) -> Result<Tarball<'a>, DistributeError> {
        let mut found = Vec::new();
        let mut others = Vec::new();
        for artifact in artifacts.iter().filter(|a| a.file_name.ends_with(".tgz")) {
            let manifest = match read_package_json(&artifact.bytes) {
                Ok(manifest) => manifest,
                Err(e) => {
                    others.push(format!("{} (not an npm package: {e})", artifact.file_name));
                    continue;
                }
            };
            let name = manifest.get("name").and_then(Value::as_str).unwrap_or_default().to_string();
            let version = manifest.get("version").and_then(Value::as_str).unwrap_or_default().to_string();
            if name == target.package && version == target.version.trim_start_matches('v') {
                found.push((artifact, name, version, manifest));
            } else {
                others.push(format!("{} ({name}@{version})", artifact.file_name));
            }
        }
        if found.len() > 1 {
            let names: Vec<_> = found.iter().map(|(a, ..)| a.file_name.as_str()).collect();
            return Err(DistributeError::Refused(format!(
                "more than one tarball is {}@{}: {}",
                target.package,
                target.version,
                names.join(", ")
            )));
        }
        let Some((artifact, name, version, manifest)) = found.pop() else {
            let others = if others.is_empty() { "none".to_string() } else { others.join(", ") };
            return Err(DistributeError::Unsupported(format!(
                "the release has no npm package tarball of {}@{}; package tarballs found: {others}",
                target.package, target.version
            )));
        };
        escape_name(&name)?;
        Ok(Tarball {
            integrity: format!(
                "sha512-{}",
                base64::engine::general_purpose::STANDARD.encode(Sha512::digest(&artifact.bytes))
            ),
            shasum: hex::encode(Sha1::digest(&artifact.bytes)),
            artifact,
            name,
            version,
            manifest,
        })
    }

    /// Ok if `existing` has this version with these bytes.
    fn check(&self, existing: &Packument) -> Result<(), DistributeError> {
        let Some(there) = existing.integrity(&self.version) else { return Ok(()) };
        let same = match (&there.sri, &there.shasum) {
            (Some(sri), _) if sri.starts_with("sha512-") => *sri == self.integrity,
            (_, Some(shasum)) => shasum.eq_ignore_ascii_case(&self.shasum),
            (Some(sri), None) => *sri == self.integrity,
            (None, None) => false,
        };
        if same {
            return Ok(());
        }
        Err(DistributeError::DigestMismatch(format!(
            "{}@{} is already published with integrity {}, the release's tarball {} has {}; npm versions are never replaced",
            self.name,
            self.version,
            there.sri.or(there.shasum).unwrap_or_else(|| "unknown".into()),
            self.artifact.file_name,
            self.integrity
        )))
    }

    /// The document `npm publish` sends: the version's manifest with its `dist`, the dist-tag,
    /// and the tarball as an attachment.
    fn publish_document(&self, registry: &str, tag: &str) -> Value {
        let unscoped = self.name.rsplit('/').next().unwrap_or(&self.name);
        let file = format!("{}-{}.tgz", self.name, self.version);
        let mut manifest = self.manifest.clone();
        manifest.insert("_id".into(), json!(format!("{}@{}", self.name, self.version)));
        manifest.insert(
            "dist".into(),
            json!({
                "integrity": self.integrity,
                "shasum": self.shasum,
                "tarball": format!("{registry}/{}/-/{unscoped}-{}.tgz", self.name, self.version),
            }),
        );
        json!({
            "_id": self.name,
            "name": self.name,
            "description": self.manifest.get("description").cloned().unwrap_or(Value::Null),
            "dist-tags": { tag: self.version },
            "versions": { self.version.clone(): manifest },
            "access": null,
            "_attachments": {
                file: {
                    "content_type": "application/octet-stream",
                    "data": base64::engine::general_purpose::STANDARD.encode(&self.artifact.bytes),
                    "length": self.artifact.bytes.len(),
                }
            }
        })
    }
}

/// `package.json` from the tarball's top folder (`package/` as `npm pack` makes it).
fn read_package_json(bytes: &[u8]) -> Result<serde_json::Map<String, Value>, String> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    for entry in archive.entries().map_err(|e| format!("not a gzipped tar: {e}"))? {
        let mut entry = entry.map_err(|e| format!("not a gzipped tar: {e}"))?;
        let path = entry.path().map_err(|e| e.to_string())?.to_string_lossy().into_owned();
        let parts: Vec<&str> = path.trim_start_matches("./").split('/').collect();
        if parts.len() == 2 && parts[1] == "package.json" {
            let mut text = String::new();
            entry.read_to_string(&mut text).map_err(|e| format!("{path}: {e}"))?;
            return match serde_json::from_str(&text) {
                Ok(Value::Object(map)) => Ok(map),
                Ok(_) => Err(format!("{path} is not a JSON object")),
                Err(e) => Err(format!("{path}: {e}")),
            };
        }
    }
    Err("no package.json in the tarball's top folder".into())
}

/// A package name as a URL path segment: `@scope/name` becomes `@scope%2fname`, as npm sends it.
/// Names outside npm's URL-safe set are refused rather than escaped.
fn escape_name(name: &str) -> Result<String, DistributeError> {
    let (scope, bare) = match name.strip_prefix('@') {
        Some(scoped) => match scoped.split_once('/') {
            Some((scope, bare)) => (Some(scope), bare),
            None => (None, ""),
        },
        None => (None, name),
    };
    let safe = |part: &str| {
        !part.is_empty()
            && !part.starts_with('.')
            && part.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-._~".contains(c))
    };
    if !safe(bare) || scope.is_some_and(|s| !safe(s)) || name.len() > 214 {
        return Err(DistributeError::Unsupported(format!("{name:?} is not a valid npm package name")));
    }
    Ok(match scope {
        Some(scope) => format!("@{scope}%2f{bare}"),
        None => bare.to_string(),
    })
}

fn unix_seconds(rfc3339: &str) -> Option<i64> {
    time::OffsetDateTime::parse(rfc3339, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}

/// The reader [`crate::fuzzing`] drives: the package tarball of a release, its package.json
/// and the document `npm publish` would send.
pub(crate) fn fuzz_tarball(target: &Target, artifacts: &[Artifact]) -> Result<usize, DistributeError> {
    let tarball = Tarball::of(target, artifacts)?;
    Ok(tarball.publish_document("http://registry.invalid", "latest").to_string().len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_names_escape_as_npm_does() {
        assert_eq!(escape_name("left-pad").unwrap(), "left-pad");
        assert_eq!(escape_name("@apache/foo.js").unwrap(), "@apache%2ffoo.js");
        for bad in ["", "@apache", "Foo", "../x", "a b", "@a/b/c", ".hidden"] {
            assert!(escape_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_tarballs_are_selected() {
        let client = NpmClient::new(Endpoint {
            base_url: "http://127.0.0.1:1".into(),
            staging_url: None,
            repository_url: None,
            credentials: trs_distribute::Credentials::none(),
            timeouts: Default::default(),
        });
        let names = ["foo-1.0.0.tgz", "foo-1.0.0.tgz.asc", "foo-1.0.0.tar.gz"].map(String::from);
        assert_eq!(client.select(&names), ["foo-1.0.0.tgz"]);
    }

    #[test]
    fn staging_uses_the_platforms_dist_tag() {
        assert_eq!(NpmClient::staging_tag().unwrap(), "staging");
    }
}

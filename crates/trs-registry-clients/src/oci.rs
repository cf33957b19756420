//! OCI registries (Docker Hub-like), through the OCI Distribution API.
//!
//! The release files become one OCI artifact in the repository `{namespace}/{package}`: each
//! file a blob (and its OpenPGP signature, as `{file}.asc`), the empty config blob, and an image manifest whose layers carry the file names
//! as `org.opencontainers.image.title` annotations (as `oras` does). The manifest is built
//! deterministically from the voted files, so its digest identifies exactly those bytes:
//! staging pushes it under the tag `{version}{suffix}` (the suffix from the platform value),
//! promotion puts the same manifest bytes, checked by digest, under the tag `{version}`.
//!
//! Sign-in follows the registry's `401` challenge: `Basic` (htpasswd registries) gets the
//! credentials as HTTP basic authentication; `Bearer` (Docker Hub, GHCR, distribution's token
//! auth) gets the token flow of the distribution spec: the credentials go to the challenge's
//! realm only, for a token of the challenged scope, which then signs the requests.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use reqwest::{Method, RequestBuilder, Response, StatusCode, header};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::http::HttpErrors as _;
use trs_distribute::platform::{OCI, Platform, Staging};
use trs_distribute::{Artifact, DistributeError, Endpoint, Published, RegistryClient, Target};

/// The manifest media type trs pushes (and asks for when reading a tag).
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// What the artifact is, for tools that list artifacts by type.
pub const ARTIFACT_TYPE: &str = "application/vnd.trs.release.v1";
/// The config of an artifact that has none (OCI image spec, "Guidance for an empty descriptor").
pub const EMPTY_CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";
const EMPTY_CONFIG: &[u8] = b"{}";
const LAYER_MEDIA_TYPE: &str = "application/octet-stream";
const SIGNATURE_MEDIA_TYPE: &str = "application/pgp-signature";
const TITLE_ANNOTATION: &str = "org.opencontainers.image.title";

/// Pushes releases to an OCI registry.
#[derive(Clone)]
pub struct OciClient {
    endpoint: Endpoint,
    http: reqwest::Client,
    /// How the registry wants requests signed, once it has said so (holds a secret: never
    /// formatted).
    auth: Arc<Mutex<Auth>>,
}

#[derive(Clone)]
enum Auth {
    /// No challenge seen yet: requests go unsigned.
    Unknown,
    Basic,
    /// The last token a token realm gave.
    Bearer(String),
}

impl std::fmt::Debug for OciClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OciClient").field("endpoint", &self.endpoint).finish_non_exhaustive()
    }
}

#[derive(serde::Deserialize)]
struct TokenAnswer {
    token: Option<String>,
    access_token: Option<String>,
}

/// The parameters of a `WWW-Authenticate: Bearer k="v",...` challenge, if it is one.
fn bearer_challenge(value: &str) -> Option<BTreeMap<String, String>> {
    let rest = value.trim().strip_prefix("Bearer ")?;
    let mut params = BTreeMap::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if key.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            value = chars.by_ref().take_while(|c| *c != ',').collect();
        }
        params.insert(key.trim().to_ascii_lowercase(), value);
    }
    Some(params)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Manifest<'a> {
    schema_version: u32,
    media_type: &'a str,
    artifact_type: &'a str,
    config: Descriptor<'a>,
    layers: Vec<Descriptor<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Descriptor<'a> {
    media_type: &'a str,
    digest: String,
    size: usize,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    annotations: BTreeMap<&'a str, &'a str>,
}

/// The manifest of a set of files, with its digest: what a tag points to.
struct BuiltManifest {
    bytes: Bytes,
    digest: String,
}

/// What a tag holds in the registry.
struct TagManifest {
    bytes: Bytes,
    digest: String,
    media_type: String,
}

fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// The artifact manifest of `artifacts`, independent of their order.
/// One layer of the artifact: a release file, or the signature of one.
struct Layer<'a> {
    title: String,
    media_type: &'static str,
    bytes: &'a Bytes,
}

/// The layers of `artifacts`, by name: each file, and its signature as `{file}.asc` when the
/// release has one (so that users of the registry can check the files as users of the
/// download site do).
fn layers(artifacts: &[Artifact]) -> Vec<Layer<'_>> {
    let mut layers: Vec<Layer<'_>> = artifacts
        .iter()
        .flat_map(|a| {
            let file = Layer { title: a.file_name.clone(), media_type: LAYER_MEDIA_TYPE, bytes: &a.bytes };
            let signature = a.signature.as_ref().map(|bytes| Layer {
                title: format!("{}.asc", a.file_name),
                media_type: SIGNATURE_MEDIA_TYPE,
                bytes,
            });
            std::iter::once(file).chain(signature)
        })
        .collect();
    layers.sort_by(|a, b| a.title.cmp(&b.title));
    layers
}

fn build_manifest(artifacts: &[Artifact]) -> BuiltManifest {
    let layers = layers(artifacts);
    let manifest = Manifest {
        schema_version: 2,
        media_type: MANIFEST_MEDIA_TYPE,
        artifact_type: ARTIFACT_TYPE,
        config: Descriptor {
            media_type: EMPTY_CONFIG_MEDIA_TYPE,
            digest: sha256_digest(EMPTY_CONFIG),
            size: EMPTY_CONFIG.len(),
            annotations: BTreeMap::new(),
        },
        layers: layers
            .iter()
            .map(|l| Descriptor {
                media_type: l.media_type,
                digest: sha256_digest(l.bytes),
                size: l.bytes.len(),
                annotations: BTreeMap::from([(TITLE_ANNOTATION, l.title.as_str())]),
            })
            .collect(),
    };
    let bytes = Bytes::from(serde_json::to_vec(&manifest).expect("a manifest always serialises"));
    BuiltManifest { digest: sha256_digest(&bytes), bytes }
}

/// OCI repository name components: lowercase alphanumerics joined by `.`, `_`, `__` or `-`s.
fn valid_component(s: &str) -> bool {
    let bytes = s.as_bytes();
    !s.is_empty()
        && bytes.first().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && bytes.last().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))
}

/// OCI tags: `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`. Semver build metadata (`+`) is not allowed.
fn valid_tag(s: &str) -> bool {
    s.len() <= 128
        && s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

impl OciClient {
    pub fn new(endpoint: Endpoint) -> Self {
        OciClient {
            http: crate::http::client_for_registry(endpoint.timeouts),
            endpoint,
            auth: Arc::new(Mutex::new(Auth::Unknown)),
        }
    }

    fn base(&self) -> &str {
        self.endpoint.base_url.trim_end_matches('/')
    }

    /// The repository `{namespace}/{package}`, checked against the OCI naming rules.
    fn repository(&self, target: &Target) -> Result<String, DistributeError> {
        let namespace = target.namespace.as_deref().ok_or_else(|| {
            DistributeError::Unsupported("an OCI distribution needs a namespace (--namespace)".into())
        })?;
        for part in namespace.split('/').chain([target.package.as_str()]) {
            if !valid_component(part) {
                return Err(DistributeError::Unsupported(format!(
                    "{part:?} is not a valid OCI repository name component \
                     (lowercase letters, digits, and . _ - between them)"
                )));
            }
        }
        Ok(format!("{namespace}/{}", target.package))
    }

    fn staging_suffix(&self) -> &'static str {
        match self.platform().staging {
            Staging::TagSuffix { suffix } => suffix,
            _ => "",
        }
    }

    fn tag(&self, target: &Target, staging: bool) -> Result<String, DistributeError> {
        let tag = if staging { format!("{}{}", target.version, self.staging_suffix()) } else { target.version.clone() };
        if !valid_tag(&tag) {
            return Err(DistributeError::Unsupported(format!(
                "{tag:?} is not a valid OCI tag (letters, digits, _ . - ; at most 128 characters)"
            )));
        }
        Ok(tag)
    }

    fn request(&self, method: Method, url: &str) -> RequestBuilder {
        self.http.request(method, url)
    }

    fn with_basic_auth(&self, request: RequestBuilder) -> RequestBuilder {
        let credentials = &self.endpoint.credentials;
        match (&credentials.username, credentials.expose()) {
            (Some(user), Some(secret)) => request.basic_auth(user, Some(secret)),
            _ => request,
        }
    }

    fn sign(&self, request: RequestBuilder, auth: &Auth) -> RequestBuilder {
        match auth {
            Auth::Unknown => request,
            Auth::Basic => self.with_basic_auth(request),
            Auth::Bearer(token) => request.bearer_auth(token),
        }
    }

    /// Sends `request` signed as the registry asked; on a `401` challenge it has not met yet
    /// (or a token that no longer covers the scope), signs as challenged and sends it once more.
    async fn send(&self, context: &str, request: RequestBuilder) -> Result<Response, DistributeError> {
        let retry = request.try_clone();
        let auth = self.auth.lock().expect("auth lock").clone();
        let response = self.sign(request, &auth).send().await.map_err(|e| DistributeError::from_reqwest(context, e))?;
        if response.status() != StatusCode::UNAUTHORIZED {
            return Ok(response);
        }
        let challenge = response.headers().get(header::WWW_AUTHENTICATE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let next = if let Some(params) = bearer_challenge(challenge) {
            Auth::Bearer(self.fetch_token(context, &params).await?)
        } else if challenge.trim_start().starts_with("Basic") && !matches!(auth, Auth::Basic) {
            Auth::Basic
        } else {
            return Ok(response);
        };
        let Some(retry) = retry else { return Ok(response) };
        let retry = self.sign(retry, &next);
        *self.auth.lock().expect("auth lock") = next;
        retry.send().await.map_err(|e| DistributeError::from_reqwest(context, e))
    }

    /// A token from the challenge's realm, for its service and scope, signed in with the
    /// credentials (anonymous without them).
    async fn fetch_token(
        &self,
        context: &str,
        challenge: &BTreeMap<String, String>,
    ) -> Result<String, DistributeError> {
        let context = format!("{context}: getting a registry token");
        let realm = challenge
            .get("realm")
            .ok_or_else(|| DistributeError::Refused(format!("{context}: the Bearer challenge names no realm")))?;
        let mut request = self.with_basic_auth(self.http.get(realm));
        for key in ["service", "scope"] {
            if let Some(value) = challenge.get(key) {
                request = request.query(&[(key, value)]);
            }
        }
        let response = request.send().await.map_err(|e| DistributeError::from_reqwest(&context, e))?;
        if !response.status().is_success() {
            return Err(Self::fail(&context, response).await);
        }
        let answer: TokenAnswer = response.json().await.map_err(|e| DistributeError::from_reqwest(&context, e))?;
        answer
            .token
            .or(answer.access_token)
            .ok_or_else(|| DistributeError::Refused(format!("{context}: the realm's answer has no token")))
    }

    async fn fail(context: &str, response: Response) -> DistributeError {
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        DistributeError::from_status(context, status, &body)
    }

    /// The manifest a tag points to, or `None` when the tag does not exist.
    async fn get_manifest(&self, repository: &str, tag: &str) -> Result<Option<TagManifest>, DistributeError> {
        let context = format!("reading the manifest {repository}:{tag}");
        let url = format!("{}/v2/{repository}/manifests/{tag}", self.base());
        let response =
            self.send(&context, self.request(Method::GET, &url).header(header::ACCEPT, MANIFEST_MEDIA_TYPE)).await?;
        match response.status() {
            StatusCode::OK => {}
            StatusCode::NOT_FOUND => return Ok(None),
            _ => return Err(Self::fail(&context, response).await),
        }
        let media_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or(MANIFEST_MEDIA_TYPE)
            .to_string();
        let bytes = response.bytes().await.map_err(|e| DistributeError::from_reqwest(&context, e))?;
        // The digest of the bytes received, not the registry's header: what we compare is what we got.
        Ok(Some(TagManifest { digest: sha256_digest(&bytes), bytes, media_type }))
    }

    async fn blob_exists(&self, repository: &str, digest: &str) -> Result<bool, DistributeError> {
        let context = format!("checking the blob {digest} in {repository}");
        let url = format!("{}/v2/{repository}/blobs/{digest}", self.base());
        let response = self.send(&context, self.request(Method::HEAD, &url)).await?;
        match response.status() {
            StatusCode::OK => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => Err(Self::fail(&context, response).await),
        }
    }

    /// Pushes a blob unless the repository already has it (which makes an interrupted push
    /// resume where it stopped): POST an upload session, then PUT the bytes with their digest.
    async fn push_blob(&self, repository: &str, name: &str, bytes: &Bytes) -> Result<bool, DistributeError> {
        let digest = sha256_digest(bytes);
        if self.blob_exists(repository, &digest).await? {
            return Ok(false);
        }
        let context = format!("uploading {name} to {repository}");
        let url = format!("{}/v2/{repository}/blobs/uploads/", self.base());
        let response = self.send(&context, self.request(Method::POST, &url)).await?;
        if response.status() != StatusCode::ACCEPTED {
            return Err(Self::fail(&context, response).await);
        }
        let location = response
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| DistributeError::Refused(format!("{context}: the registry gave no upload location")))?;
        let mut upload_url = reqwest::Url::parse(&url).and_then(|base| base.join(location)).map_err(|_| {
            DistributeError::Refused(format!("{context}: the registry gave an invalid upload location"))
        })?;
        upload_url.query_pairs_mut().append_pair("digest", &digest);
        let response = self
            .send(
                &context,
                self.request(Method::PUT, upload_url.as_str())
                    .header(header::CONTENT_TYPE, "application/octet-stream")
                    .body(bytes.clone()),
            )
            .await?;
        if response.status() != StatusCode::CREATED {
            return Err(Self::fail(&context, response).await);
        }
        Ok(true)
    }

    async fn put_manifest(
        &self,
        repository: &str,
        tag: &str,
        bytes: &Bytes,
        media_type: &str,
        digest: &str,
    ) -> Result<(), DistributeError> {
        let context = format!("tagging {repository}:{tag}");
        let url = format!("{}/v2/{repository}/manifests/{tag}", self.base());
        let response = self
            .send(
                &context,
                self.request(Method::PUT, &url).header(header::CONTENT_TYPE, media_type).body(bytes.clone()),
            )
            .await?;
        if response.status() != StatusCode::CREATED {
            return Err(Self::fail(&context, response).await);
        }
        let stored = response.headers().get("docker-content-digest").and_then(|v| v.to_str().ok());
        if let Some(stored) = stored
            && stored != digest
        {
            return Err(DistributeError::DigestMismatch(format!(
                "{context}: the registry stored the manifest as {stored}, trs pushed {digest}"
            )));
        }
        Ok(())
    }

    fn published(&self, target: &Target, repository: &str, tag: &str, digest: &str, already: bool) -> Published {
        let platform = self.platform();
        let namespace = target.namespace.as_deref();
        Published {
            api_url: Platform::url(platform.api_url, self.base(), namespace, &target.package, tag),
            web_url: Platform::url(platform.web_url, self.base(), namespace, &target.package, tag),
            upload_date: None,
            already_present: already,
            details: serde_json::json!({ "repository": repository, "tag": tag, "digest": digest }),
        }
    }

    fn mismatch(repository: &str, tag: &str, there: &str, ours: &str) -> DistributeError {
        DistributeError::DigestMismatch(format!(
            "{repository}:{tag} already holds the manifest {there}; the voted files make {ours}; \
             trs never overwrites a tag"
        ))
    }
}

#[async_trait]
impl RegistryClient for OciClient {
    fn platform(&self) -> &'static Platform {
        &OCI
    }

    /// Every release file: an OCI artifact can carry any file.
    fn select(&self, file_names: &[String]) -> Vec<String> {
        file_names.to_vec()
    }

    async fn upload(
        &self,
        target: &Target,
        artifacts: &[Artifact],
        staging: bool,
    ) -> Result<Published, DistributeError> {
        if artifacts.is_empty() {
            return Err(DistributeError::Unsupported("no files to push as an OCI artifact".into()));
        }
        let repository = self.repository(target)?;
        let tag = self.tag(target, staging)?;
        let manifest = build_manifest(artifacts);
        if let Some(there) = self.get_manifest(&repository, &tag).await? {
            if there.digest != manifest.digest {
                return Err(Self::mismatch(&repository, &tag, &there.digest, &manifest.digest));
            }
            return Ok(self.published(target, &repository, &tag, &manifest.digest, true));
        }
        self.push_blob(&repository, "the empty config", &Bytes::from_static(EMPTY_CONFIG)).await?;
        for layer in layers(artifacts) {
            self.push_blob(&repository, &layer.title, layer.bytes).await?;
        }
        self.put_manifest(&repository, &tag, &manifest.bytes, MANIFEST_MEDIA_TYPE, &manifest.digest).await?;
        tracing::info!(repository, tag, digest = manifest.digest, "pushed OCI artifact");
        Ok(self.published(target, &repository, &tag, &manifest.digest, false))
    }

    /// Retags by digest: the staged manifest must be exactly the one the voted files make; its
    /// bytes, unchanged, go under the release tag.
    async fn promote(&self, target: &Target, artifacts: &[Artifact]) -> Result<Published, DistributeError> {
        let repository = self.repository(target)?;
        let staging_tag = self.tag(target, true)?;
        let tag = self.tag(target, false)?;
        let voted = build_manifest(artifacts);
        if let Some(there) = self.get_manifest(&repository, &tag).await? {
            if there.digest != voted.digest {
                return Err(Self::mismatch(&repository, &tag, &there.digest, &voted.digest));
            }
            return Ok(self.published(target, &repository, &tag, &voted.digest, true));
        }
        let staged = self.get_manifest(&repository, &staging_tag).await?.ok_or_else(|| {
            DistributeError::Refused(format!("nothing is staged at {repository}:{staging_tag} to promote"))
        })?;
        if staged.digest != voted.digest {
            return Err(DistributeError::DigestMismatch(format!(
                "the staged manifest {repository}:{staging_tag} is {}; the voted files make {}; \
                 it is not promoted",
                staged.digest, voted.digest
            )));
        }
        self.put_manifest(&repository, &tag, &staged.bytes, &staged.media_type, &staged.digest).await?;
        tracing::info!(repository, tag, digest = staged.digest, "promoted OCI artifact by digest");
        Ok(self.published(target, &repository, &tag, &staged.digest, false))
    }

    async fn lookup(&self, target: &Target, staging: bool) -> Result<Option<Published>, DistributeError> {
        let repository = self.repository(target)?;
        let tag = self.tag(target, staging)?;
        Ok(self
            .get_manifest(&repository, &tag)
            .await?
            .map(|there| self.published(target, &repository, &tag, &there.digest, true)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn artifact(name: &str, bytes: &'static [u8]) -> Artifact {
        Artifact { file_name: name.into(), bytes: Bytes::from_static(bytes), sha512: String::new(), signature: None }
    }

    #[test]
    fn the_manifest_depends_on_the_files_not_their_order() {
        let a = build_manifest(&[artifact("a.tar.gz", b"a"), artifact("b.zip", b"b")]);
        let b = build_manifest(&[artifact("b.zip", b"b"), artifact("a.tar.gz", b"a")]);
        assert_eq!(a.digest, b.digest);
        let c = build_manifest(&[artifact("a.tar.gz", b"A"), artifact("b.zip", b"b")]);
        assert_ne!(a.digest, c.digest);
        let json: serde_json::Value = serde_json::from_slice(&a.bytes).unwrap();
        assert_eq!(json["artifactType"], ARTIFACT_TYPE);
        assert_eq!(json["layers"][0]["annotations"][TITLE_ANNOTATION], "a.tar.gz");
        assert_eq!(json["config"]["digest"], sha256_digest(b"{}"));

        let mut signed = artifact("a.tar.gz", b"a");
        signed.signature = Some(Bytes::from_static(b"-----BEGIN PGP SIGNATURE-----"));
        let d = build_manifest(&[signed]);
        let json: serde_json::Value = serde_json::from_slice(&d.bytes).unwrap();
        assert_eq!(json["layers"][1]["annotations"][TITLE_ANNOTATION], "a.tar.gz.asc");
        assert_eq!(json["layers"][1]["mediaType"], SIGNATURE_MEDIA_TYPE);
    }

    #[test]
    fn bearer_challenges_are_parsed() {
        let c = bearer_challenge(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:apache/foo:pull,push""#,
        )
        .unwrap();
        assert_eq!(c["realm"], "https://auth.docker.io/token");
        assert_eq!(c["service"], "registry.docker.io");
        assert_eq!(c["scope"], "repository:apache/foo:pull,push");
        assert!(bearer_challenge(r#"Basic realm="trs""#).is_none());
    }

    #[test]
    fn names_and_tags_follow_the_distribution_spec() {
        assert!(valid_component("apache") && valid_component("commons-io") && valid_component("a.b_c"));
        assert!(!valid_component("Apache") && !valid_component("-x") && !valid_component(""));
        assert!(valid_tag("1.2.0") && valid_tag("1.2.0-rc1-staging"));
        assert!(!valid_tag("1.2.0+build") && !valid_tag(".1"));
    }
}

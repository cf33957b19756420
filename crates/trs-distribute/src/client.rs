//! What every platform client does, and the values it works with.

use crate::platform::Platform;
use async_trait::async_trait;
use bytes::Bytes;

/// Where a platform's registry is and how to sign in. Comes from configuration (environment
/// locally, AWS Secrets Manager in the AWS deployment).
#[derive(Clone)]
pub struct Endpoint {
    /// Production registry/API base URL.
    pub base_url: String,
    /// Staging index base URL, for platforms whose staging is a separate index.
    pub staging_url: Option<String>,
    /// Where published files are read back, for platforms that serve them elsewhere than
    /// their API (Maven Central's repository); `None` is the platform's public one.
    pub repository_url: Option<String>,
    pub credentials: Credentials,
    pub timeouts: Timeouts,
}

/// How long a registry may take. A registry that accepts the connection and then never
/// answers fails the attempt (transient: the task retries it later) instead of stalling the
/// task forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// To open the TCP (and TLS) connection.
    pub connect: std::time::Duration,
    /// For one whole request, body included: room for a large upload to a slow registry.
    pub overall: std::time::Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts { connect: std::time::Duration::from_secs(10), overall: std::time::Duration::from_secs(600) }
    }
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("base_url", &self.base_url)
            .field("staging_url", &self.staging_url)
            .field("repository_url", &self.repository_url)
            .field("credentials", &self.credentials)
            .field("timeouts", &self.timeouts)
            .finish()
    }
}

/// A secret. Its `Debug` and `Display` never show it, so it cannot reach a log, an event or an
/// error message by formatting; only [`Credentials::expose`] gives it to a request.
#[derive(Clone, Default)]
pub struct Credentials {
    pub username: Option<String>,
    secret: Option<String>,
}

impl Credentials {
    pub fn new(username: Option<String>, secret: Option<String>) -> Self {
        Credentials { username, secret }
    }
    pub fn none() -> Self {
        Credentials::default()
    }
    /// The secret, for building one request's authorization header.
    pub fn expose(&self) -> Option<&str> {
        self.secret.as_deref()
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials {{ username: {:?}, secret: {} }}", self.username, self.redacted())
    }
}

impl std::fmt::Display for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.redacted())
    }
}

impl Credentials {
    /// `text` with the secret, and its HTTP Basic encoding, replaced: for messages built from
    /// what a server sent back, as a server may echo a request.
    pub fn scrub(&self, text: &str) -> String {
        use base64::Engine as _;
        let Some(secret) = self.secret.as_deref().filter(|s| !s.is_empty()) else {
            return text.to_string();
        };
        let user = self.username.as_deref().unwrap_or_default();
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{secret}"));
        text.replace(&basic, "<redacted>").replace(secret, "<redacted>")
    }

    fn redacted(&self) -> &'static str {
        if self.secret.is_some() { "<redacted>" } else { "<none>" }
    }
}

/// Which distribution: the coordinates on the platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Owner namespace (GitHub owner, Maven groupId, OCI repository namespace).
    pub namespace: Option<String>,
    pub package: String,
    pub version: String,
}

/// One file of the voted release, with its bytes (exactly those that were voted on).
#[derive(Debug, Clone)]
pub struct Artifact {
    /// The file's name within the release (no folders).
    pub file_name: String,
    pub bytes: Bytes,
    /// Hex SHA-512 of `bytes` (from the voted manifest, checked when read).
    pub sha512: String,
    /// The detached ASCII-armoured OpenPGP signature of the file, if the release has one.
    pub signature: Option<Bytes>,
}

/// What the platform reports about a distribution after a call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub api_url: String,
    pub web_url: String,
    /// When the platform says it was uploaded (Unix seconds), if it says.
    pub upload_date: Option<i64>,
    /// True when everything was already there with the same digests (nothing was written).
    pub already_present: bool,
    /// Platform-specific facts worth recording (e.g. the OCI manifest digest, the Maven
    /// deployment id, the GitHub release id).
    pub details: serde_json::Value,
}

#[derive(Debug, thiserror::Error)]
pub enum DistributeError {
    /// A network failure, timeout, 5xx or 429: worth retrying with backoff.
    #[error("{0}")]
    Transient(String),
    /// The distribution exists on the platform with different bytes: never overwritten.
    #[error("{0}")]
    DigestMismatch(String),
    /// The platform refused the request (bad credentials, forbidden, invalid package...).
    #[error("{0}")]
    Refused(String),
    /// The release has nothing this platform can take (e.g. no wheel or sdist for PyPI), or
    /// the request asks for something the platform does not do.
    #[error("{0}")]
    Unsupported(String),
}

impl DistributeError {
    pub fn is_transient(&self) -> bool {
        matches!(self, DistributeError::Transient(_))
    }
}

/// Where a client records, durably, what it learned in the middle of a call (the id of the
/// Maven Central deployment it just uploaded) before it goes on: a later run gets it back as
/// the `in_flight` of [`RegistryClient::upload_resuming`] and resumes that work instead of
/// starting it again. The core writes it into the distribution record.
#[async_trait]
pub trait Journal: Send + Sync {
    /// Stores `in_flight`; an error means it is not stored and the call must stop.
    async fn record(&self, in_flight: serde_json::Value) -> Result<(), DistributeError>;
}

/// One platform's client. Every call is idempotent: running it again after success (or after
/// an interruption) never publishes twice; a file already there with the same digest counts as
/// done, one with a different digest is [`DistributeError::DigestMismatch`].
#[async_trait]
pub trait RegistryClient: Send + Sync {
    fn platform(&self) -> &'static Platform;

    /// The release files this platform takes (by name), e.g. wheels and sdists for PyPI.
    /// Empty means the release has nothing for this platform.
    fn select(&self, file_names: &[String]) -> Vec<String>;

    /// Uploads `artifacts` as the distribution `target`: to staging when `staging` (the
    /// platform's [`crate::Staging`]), else to production.
    async fn upload(
        &self,
        target: &Target,
        artifacts: &[Artifact],
        staging: bool,
    ) -> Result<Published, DistributeError>;

    /// Refuses to stage `target` where staging would not keep it out of what users get by
    /// default. Staging a candidate must leave its unvoted bytes off the default install; on
    /// most platforms staging does, so the default is to allow it. npm makes a package's first
    /// version `latest` whatever dist-tag it is published under, so it refuses a package that
    /// has no `latest` yet ([`DistributeError::Unsupported`], with the reason).
    async fn check_staging_keeps_it_private(&self, target: &Target) -> Result<(), DistributeError> {
        let _ = target;
        Ok(())
    }

    /// [`RegistryClient::upload`], resuming the work an earlier, unfinished call recorded
    /// (`in_flight`, what it gave `journal`; `Null` if none) and recording through `journal`
    /// what a later run would need to resume this one. Most platforms find their work by its
    /// coordinates and need neither; the Maven Central portal knows an uploaded deployment only
    /// by the id it returned, and has no call to list deployments.
    async fn upload_resuming(
        &self,
        target: &Target,
        artifacts: &[Artifact],
        staging: bool,
        in_flight: &serde_json::Value,
        journal: &dyn Journal,
    ) -> Result<Published, DistributeError> {
        let _ = (in_flight, journal);
        self.upload(target, artifacts, staging).await
    }

    /// Promotes the staged distribution `target` to production with the platform's
    /// [`crate::PromotionMechanism`]. `artifacts` are the voted files (re-uploaded by
    /// platforms whose mechanism is [`crate::PromotionMechanism::Reupload`], checked against
    /// by the others).
    async fn promote(&self, target: &Target, artifacts: &[Artifact]) -> Result<Published, DistributeError>;

    /// What the platform currently has for `target` (production unless `staging`), or `None`.
    async fn lookup(&self, target: &Target, staging: bool) -> Result<Option<Published>, DistributeError>;

    /// [`RegistryClient::promote`], given what the staging call reported
    /// ([`Published::details`] of the staging record). Most platforms find the staged
    /// distribution by its coordinates and need no more; the Maven Central portal knows a
    /// staged deployment only by the id it returned at upload.
    async fn promote_recorded(
        &self,
        target: &Target,
        artifacts: &[Artifact],
        recorded: &serde_json::Value,
    ) -> Result<Published, DistributeError> {
        let _ = recorded;
        self.promote(target, artifacts).await
    }

    /// [`RegistryClient::lookup`], given what an earlier call for this distribution reported
    /// ([`Published::details`] of its record), for the same reason as
    /// [`RegistryClient::promote_recorded`].
    async fn lookup_recorded(
        &self,
        target: &Target,
        staging: bool,
        recorded: &serde_json::Value,
    ) -> Result<Option<Published>, DistributeError> {
        let _ = recorded;
        self.lookup(target, staging).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_format_their_secret() {
        let c = Credentials::new(Some("rita".into()), Some("pypi-AgEIcHlwaS5vcmc-s3cr3t".into()));
        let e = Endpoint {
            base_url: "http://x".into(),
            staging_url: None,
            repository_url: None,
            credentials: c.clone(),
            timeouts: Default::default(),
        };
        for text in [format!("{c:?}"), format!("{c}"), format!("{e:?}")] {
            assert!(!text.contains("s3cr3t"), "{text}");
        }
        assert!(format!("{c:?}").contains("rita"));
        assert_eq!(c.expose(), Some("pypi-AgEIcHlwaS5vcmc-s3cr3t"));
        let echoed = "bad token pypi-AgEIcHlwaS5vcmc-s3cr3t in Basic cml0YTpweXBpLUFnRUljSGx3YVM1dmNtYy1zM2NyM3Q=";
        assert_eq!(c.scrub(echoed), "bad token <redacted> in Basic <redacted>");
    }
}

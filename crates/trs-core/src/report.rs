//! Verification results as data: one [`CheckResult`] per check per file, never a bare bool.

use crate::artifact_path::ArtifactPath;
use crate::ids::{Fingerprint, Sha256, Sha512};
use crate::sbom::SbomSummary;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckKind {
    Checksum,
    Signature,
    Archive,
    License,
    Paths,
    /// A software bill of materials (`*.cdx.json`, `*.spdx`, …): schema, NTIA minimum
    /// elements, its top component, licences (trs-checks' `sbom` module).
    Sbom,
}

impl CheckKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckKind::Checksum => "checksum",
            CheckKind::Signature => "signature",
            CheckKind::Archive => "archive",
            CheckKind::License => "license",
            CheckKind::Paths => "paths",
            CheckKind::Sbom => "sbom",
        }
    }
}

impl fmt::Display for CheckKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Pass,
    Warn,
    Fail,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Outcome::Pass => "pass",
            Outcome::Warn => "warn",
            Outcome::Fail => "fail",
        })
    }
}

/// Who made a valid artifact signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signer {
    /// Primary fingerprint of the registered certificate.
    pub fingerprint: Fingerprint,
    /// The signing (sub)key's fingerprint, when it differs from the primary key.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub signing_key: Option<Fingerprint>,
    /// The certificate's primary user id, e.g. `Alice <alice@example.org>`.
    pub user_id: Option<String>,
    /// The trs person the certificate is registered to.
    pub person: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    pub check: CheckKind,
    pub result: Outcome,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub signer: Option<Signer>,
    /// On the `sbom` check that read the SBOM: what it holds.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sbom: Option<Box<SbomSummary>>,
}

impl CheckResult {
    pub fn pass(check: CheckKind, reason: impl Into<String>) -> Self {
        Self { check, result: Outcome::Pass, reason: reason.into(), signer: None, sbom: None }
    }
    pub fn warn(check: CheckKind, reason: impl Into<String>) -> Self {
        Self { check, result: Outcome::Warn, reason: reason.into(), signer: None, sbom: None }
    }
    pub fn fail(check: CheckKind, reason: impl Into<String>) -> Self {
        Self { check, result: Outcome::Fail, reason: reason.into(), signer: None, sbom: None }
    }
}

impl FileReport {
    /// The summary of the SBOM this file is, if it is one that was read.
    pub fn sbom(&self) -> Option<&SbomSummary> {
        self.checks.iter().find_map(|c| c.sbom.as_deref())
    }
}

/// All checks of one file of a revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileReport {
    pub path: ArtifactPath,
    pub size: u64,
    pub sha512: Sha512,
    /// SHA-256 of the same bytes, where the verification had it (the states the store kept
    /// at intake, or a read that hashed SHA-256 too): `files.json` lists it for scripts and
    /// mirrors that check SHA-256. Absent in reports made before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<Sha256>,
    pub checks: Vec<CheckResult>,
    /// The SHA-256 of each sidecar beside it (`F.asc`, `F.sha512`, …) that the verification
    /// had: sidecars have no report of their own, and `files.json` lists every file.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sidecars: Vec<SidecarDigest>,
}

/// A sidecar's SHA-256, recorded with the artifact it accompanies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SidecarDigest {
    pub path: ArtifactPath,
    pub sha256: Sha256,
}

/// The SHA-256 the reports recorded for the file at `path` with these bytes: an artifact's
/// own, or a sidecar's beside it.
pub fn recorded_sha256(reports: &[FileReport], path: &ArtifactPath, sha512: &Sha512) -> Option<Sha256> {
    let own = reports.iter().find(|f| &f.path == path && &f.sha512 == sha512).and_then(|f| f.sha256);
    own.or_else(|| reports.iter().flat_map(|f| &f.sidecars).find(|s| &s.path == path).map(|s| s.sha256))
}

impl FileReport {
    pub fn worst(&self) -> Outcome {
        self.checks.iter().map(|c| c.result).max().unwrap_or(Outcome::Pass)
    }
}

/// The verification report of a whole revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RevisionReport {
    pub files: Vec<FileReport>,
}

impl RevisionReport {
    pub fn worst(&self) -> Outcome {
        self.files.iter().map(FileReport::worst).max().unwrap_or(Outcome::Pass)
    }

    pub fn count(&self, outcome: Outcome) -> usize {
        self.files.iter().flat_map(|f| &f.checks).filter(|c| c.result == outcome).count()
    }
}

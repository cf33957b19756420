//! Verification of one artifact in a single read of its bytes.
//!
//! The small sidecars (`F.sha512`, `F.sha256`, `F.asc`) are parsed first, so that the one pass
//! over `F` knows every digest it must compute: SHA-512 always (the manifest's digest, the
//! `.sha512` file and, for the usual v4 SHA-512 signature, the signature digest too — see
//! [`crate::signature`]), SHA-256 only when a `.sha256` file is there, and a sequoia context
//! only for signatures that cannot share those states. For tar archives (any compression) the
//! same chunks are teed into the archive inspector on another thread through a bounded channel;
//! for `.zip` and `.jar` the inspector opens the file itself (random access) on another thread
//! during the pass.

use crate::archive::{self, ArchiveKind, ArchiveLimits};
use crate::checksum_file::{self, Algo};
use crate::hashing::{self, ChunkReader, PassOutput, ReadMode};
use crate::revision::Source;
use crate::sbom;
use crate::signature::{self, Route, SigPlan, SignerCert};
use sha2::Digest;
use std::path::Path;
use std::sync::mpsc::sync_channel;
use std::time::SystemTime;
use trs_core::{ArtifactPath, CheckKind, CheckResult, FileReport, Sha256, Sha512};

/// Everything [`verify_artifact`] needs besides the artifact's bytes.
#[derive(Debug, Clone)]
pub struct ArtifactInputs<'a> {
    /// Size and digest the manifest records; the bytes read must match them.
    pub expected_size: u64,
    pub expected_sha512: Sha512,
    /// Contents of `F.sha512` / `F.sha256` / `F.asc`: `None` when absent, `Some(Err(reason))`
    /// when present but unreadable (too large, changed in storage). Bytes, not strings:
    /// checksum files may be UTF-16 (PowerShell) and `.asc` may be binary.
    pub sha512_file: Option<Result<&'a [u8], String>>,
    pub sha256_file: Option<Result<&'a [u8], String>>,
    pub asc: Option<Result<&'a [u8], String>>,
    /// The project's registered certificates.
    pub signers: &'a [SignerCert],
    /// "Now" for the OpenPGP policy, a signature's own expiry, and refusing future dates.
    pub policy_time: SystemTime,
    pub limits: ArchiveLimits,
    /// The hash states at the end of the artifact's bytes, as the store computed them while
    /// they streamed in. When they serve every check (no archive to inspect, no signature
    /// over another hash), the artifact is not read at all.
    pub end_states: Option<EndStates>,
}

/// SHA-512 and SHA-256 states after the last byte of a file, before finalization.
#[derive(Debug, Clone)]
pub struct EndStates {
    pub sha512: sha2::Sha512,
    pub sha256: sha2::Sha256,
}

/// The checks of one artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChecks {
    pub checks: Vec<CheckResult>,
    /// Whether the bytes read had the manifest's size and SHA-512. When false the results
    /// describe what storage holds now and must not be cached under the manifest's digest.
    pub storage_matches: bool,
    /// SHA-256 of the bytes when the pass had it (the stored end states, or a read that
    /// hashed SHA-256 for a `.sha256` file) and they matched the manifest.
    pub sha256: Option<Sha256>,
}

impl FileChecks {
    pub fn into_report(self, path: ArtifactPath, size: u64, sha512: Sha512) -> FileReport {
        FileReport { path, size, sha512, sha256: self.sha256, checks: self.checks, sidecars: Vec::new() }
    }
}

/// Verifies one artifact: checksum file(s), signature, for archives their safety and, for
/// source archives, LICENSE/NOTICE, and for SBOMs the [`sbom`] checks. `file` is where its bytes are; `path_in_release`
/// names it in reasons.
pub fn verify_artifact(path_in_release: &ArtifactPath, file: &Path, inputs: &ArtifactInputs<'_>) -> FileChecks {
    verify_artifact_with(path_in_release, &Source::File(file.to_path_buf()), inputs, ReadMode::Overlapped)
}

/// [`verify_artifact`] with a chosen read mode: [`crate::revision`] reads inline while every
/// core already has an artifact to hash.
pub(crate) fn verify_artifact_with(
    path_in_release: &ArtifactPath,
    source: &Source,
    inputs: &ArtifactInputs<'_>,
    mode: ReadMode,
) -> FileChecks {
    let name = path_in_release.file_name();
    let parse_sum = |bytes: &Option<Result<&[u8], String>>, algo: Algo| {
        bytes.as_ref().map(|b| {
            b.clone()
                .and_then(|b| checksum_file::decode_text(b).map(|t| t.into_owned()))
                .and_then(|text| checksum_file::parse_checksum_file(&text, name, algo))
                .map_err(|reason| format!("{name}.{} cannot be used: {reason}", algo.extension()))
        })
    };
    let sum512 = parse_sum(&inputs.sha512_file, Algo::Sha512);
    let sum256 = parse_sum(&inputs.sha256_file, Algo::Sha256);
    // With stored end states SHA-256 costs nothing, so v4 SHA-256 signatures share it.
    let want_sha256 = matches!(sum256, Some(Ok(_))) || inputs.end_states.is_some();
    let plan = inputs.asc.as_ref().map(|asc| match asc {
        Ok(bytes) => signature::parse_detached(bytes)
            .map(|sigs| SigPlan::new(sigs, want_sha256))
            .map_err(|e| format!("signature is not valid OpenPGP: {e}")),
        Err(reason) => Err(format!("{name}.asc cannot be used: {reason}")),
    });
    let (sigs, contexts) = match plan {
        Some(Ok(SigPlan { sigs, contexts })) => (Some(Ok(sigs)), contexts),
        Some(Err(e)) => (Some(Err(e)), Vec::new()),
        None => (None, Vec::new()),
    };

    let kind = ArchiveKind::of(name);
    let compressed_len = match source {
        Source::File(file) => std::fs::metadata(file).map(|m| m.len()).unwrap_or(inputs.expected_size),
        Source::Stream { .. } => inputs.expected_size,
    };
    let limits = inputs.limits;
    let (pass, inspected) = std::thread::scope(|s| {
        let (tee, inspector) = match kind {
            Some(kind) if kind.is_tar() => {
                let (tx, rx) = sync_channel(8);
                let h = s.spawn(move || archive::inspect_tar(kind, ChunkReader::new(rx), compressed_len, &limits));
                (Some(tx), Some(h))
            }
            Some(kind) => (None, Some(s.spawn(move || archive::inspect_zip_source(source, kind, &limits)))),
            None => (None, None),
        };
        let pass = match (&inputs.end_states, &tee, &inspector) {
            (Some(states), None, None) if contexts.is_empty() => Ok(hashing::PassOutput {
                size: inputs.expected_size,
                sha512: states.sha512.clone(),
                sha256: Some(states.sha256.clone()),
                contexts: Vec::new(),
            }),
            _ => source.open().and_then(|reader| hashing::read_once(reader, want_sha256, contexts, tee, mode)),
        };
        let inspected = inspector.map(|h| h.join().unwrap_or_else(|_| Err("the archive inspector crashed".into())));
        (pass, inspected)
    });

    let mut checks = Vec::new();
    let pass = match pass {
        Ok(p) => p,
        Err(e) => return unreadable(e),
    };
    let sha512: [u8; 64] = pass.sha512.clone().finalize().into();
    let storage_matches = pass.size == inputs.expected_size && sha512 == *inputs.expected_sha512.as_bytes();
    if !storage_matches {
        checks.push(CheckResult::fail(
            CheckKind::Checksum,
            format!(
                "file changed in storage: the manifest records {} bytes with sha512 {}, storage holds {} bytes with sha512 {}",
                inputs.expected_size,
                inputs.expected_sha512,
                pass.size,
                hex::encode(sha512)
            ),
        ));
    }
    let sha256: Option<[u8; 32]> = pass.sha256.clone().map(|h| h.finalize().into());
    checks.extend(checksum_checks(name, &sha512, sha256.as_ref(), sum512, sum256));
    checks.extend(match sigs {
        None => vec![CheckResult::fail(CheckKind::Signature, format!("no {name}.asc beside it"))],
        Some(Err(reason)) => vec![CheckResult::fail(CheckKind::Signature, reason)],
        Some(Ok(sigs)) => {
            let judged: Vec<_> = sigs
                .into_iter()
                .map(|(sig, route)| {
                    let digest = signature_digest(&pass, &sig, &route);
                    (sig, digest)
                })
                .collect();
            signature::judge(&judged, inputs.signers, inputs.policy_time)
        }
    });
    if let (Some(kind), Some(result)) = (kind, inspected) {
        checks.extend(archive::archive_checks(name, kind, result));
    }
    if let Some(format) = sbom::SbomFormat::of(name)
        && storage_matches
    {
        // SBOMs are small next to the archives they describe: read again, whole.
        let read = || source.open();
        checks.extend(sbom::check_sbom_from(name, format, read, inputs.expected_size, &inputs.expected_sha512));
    }
    let sha256 = sha256.filter(|_| storage_matches).map(Sha256::from_bytes);
    FileChecks { checks, storage_matches, sha256 }
}

/// The checks of an artifact whose bytes could not be read.
fn unreadable(e: std::io::Error) -> FileChecks {
    let reason = format!("could not read the file from storage: {e}");
    FileChecks {
        checks: vec![
            CheckResult::fail(CheckKind::Checksum, reason.clone()),
            CheckResult::fail(CheckKind::Signature, reason),
        ],
        storage_matches: false,
        sha256: None,
    }
}

fn checksum_checks(
    name: &str,
    sha512: &[u8; 64],
    sha256: Option<&[u8; 32]>,
    sum512: Option<Result<Vec<u8>, String>>,
    sum256: Option<Result<Vec<u8>, String>>,
) -> Vec<CheckResult> {
    if sum512.is_none() && sum256.is_none() {
        return vec![CheckResult::fail(CheckKind::Checksum, format!("no {name}.sha512 or {name}.sha256 beside it"))];
    }
    let mut out = Vec::new();
    for (algo, parsed, actual) in
        [(Algo::Sha512, sum512, Some(&sha512[..])), (Algo::Sha256, sum256, sha256.map(|h| &h[..]))]
    {
        let file = format!("{name}.{}", algo.extension());
        out.push(match (parsed, actual) {
            (None, _) => continue,
            (Some(Err(reason)), _) => CheckResult::fail(CheckKind::Checksum, reason),
            (Some(Ok(expected)), Some(actual)) if expected == actual => {
                CheckResult::pass(CheckKind::Checksum, format!("{} in {file} matches the file", algo.name()))
            }
            (Some(Ok(expected)), Some(actual)) => CheckResult::fail(
                CheckKind::Checksum,
                format!(
                    "{} in {file} does not match the file: expected {}, got {}",
                    algo.extension(),
                    hex::encode(expected),
                    hex::encode(actual)
                ),
            ),
            // SHA-256 is computed whenever a parsable .sha256 exists; unreachable in practice.
            (Some(Ok(_)), None) => CheckResult::fail(CheckKind::Checksum, format!("{} was not computed", algo.name())),
        });
    }
    out
}

/// The digest a signature is checked against, finalized from the pass's shared states.
fn signature_digest(
    pass: &PassOutput,
    sig: &sequoia_openpgp::packet::Signature,
    route: &Route,
) -> Result<Vec<u8>, String> {
    match route {
        Route::Sha512 => {
            let mut h = pass.sha512.clone();
            h.update(signature::v4_trailer(sig)?);
            Ok(h.finalize().to_vec())
        }
        Route::Sha256 => {
            let mut h = pass.sha256.clone().ok_or("SHA-256 was not computed")?;
            h.update(signature::v4_trailer(sig)?);
            Ok(h.finalize().to_vec())
        }
        Route::Context(i) => signature::context_digest(&pass.contexts[*i], sig),
        Route::Unsupported(reason) => Err(reason.clone()),
    }
}

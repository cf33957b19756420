//! The verify task: checks every file of one revision (trs-checks does the work, in parallel
//! across cores) and stores the typed report beside the revision. Results are cached by the
//! files' digests, so an unchanged file is never verified twice, even across releases.

use crate::app::App;
use crate::error::{AppError, AppResult};
use crate::projects;
use crate::releases::get_revision;
use crate::status::StoredReport;
use crate::storage_keys as keys;
use futures::StreamExt;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use trs_checks::EndStates;
use trs_checks::revision::{LocatedSource, ReadSeek, Source};
use trs_core::{CheckResult, Outcome, ReleaseId, Revision, RevisionReport, Sha512};
use trs_storage::{Condition, Item};

/// Where each file's bytes are for the checks: a local file where the store keeps one, else a
/// stream of the object opened when a check reads it, or ranged reads of it for a zip's
/// inspection (no copy into a temporary folder: on Lambda, `/tmp` is small and writing it
/// costs a second pass). With the hash states the store kept at their end, a file whose
/// checks those states serve is not read at all. Also the import's legacy checksums read
/// through these.
pub(crate) async fn locate_sources(app: &App, digests: &[Sha512]) -> AppResult<HashMap<Sha512, LocatedSource>> {
    let mut out = HashMap::new();
    for digest in digests {
        if out.contains_key(digest) {
            continue;
        }
        let object = keys::file_object(digest);
        let meta = app.blobs.head(&object).await?;
        let end_states = meta.as_ref().and_then(|m| {
            use trs_storage::blob::hash_state::decode;
            Some(EndStates { sha512: decode(m.sha512_state.as_deref()?)?, sha256: decode(m.sha256_state.as_deref()?)? })
        });
        let size = meta.map(|m| m.size);
        let source = match app.blobs.local_path(&object) {
            Some(path) => Source::File(path),
            None => {
                let (blobs, runtime) = (app.blobs.clone(), tokio::runtime::Handle::current());
                let (seek_blobs, seek_runtime, seek_object) = (blobs.clone(), runtime.clone(), object.clone());
                Source::Stream {
                    read: Arc::new(move || {
                        let stream =
                            runtime.block_on(blobs.get(&object)).map_err(|e| std::io::Error::other(e.to_string()))?;
                        let reader = BlockingReader {
                            stream,
                            runtime: runtime.clone(),
                            current: bytes::Bytes::new(),
                            ended: false,
                        };
                        Ok(Box::new(reader) as Box<dyn std::io::Read + Send>)
                    }),
                    // A zip's inspection: ranged reads of a window each, of the size the HEAD
                    // above answered (a shorter object fails the read, not the size check).
                    seek: Arc::new(move || {
                        // Missing, it fails its checks as an unreadable file, as a stream does.
                        let size = size.ok_or_else(|| {
                            std::io::Error::new(std::io::ErrorKind::NotFound, format!("object {seek_object} not found"))
                        })?;
                        let reader = trs_storage::RangeReader::with_size(
                            seek_blobs.clone(),
                            &seek_object,
                            size,
                            trs_storage::range_reader::DEFAULT_WINDOW,
                            seek_runtime.clone(),
                        );
                        Ok(Box::new(reader) as Box<dyn ReadSeek>)
                    }),
                }
            }
        };
        out.insert(*digest, LocatedSource { source, end_states });
    }
    Ok(out)
}

/// `Read` over an object's byte stream for the checks' plain threads (never a runtime
/// thread): each read that needs a chunk waits for it on the runtime.
struct BlockingReader {
    stream: trs_storage::ByteStream,
    runtime: tokio::runtime::Handle,
    current: bytes::Bytes,
    /// Set once the stream ended: a reader may be asked again after answering 0 (the hashing
    /// pass does), and a finished stream must not be polled again.
    ended: bool,
}

impl std::io::Read for BlockingReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            if self.ended {
                return Ok(0);
            }
            match self.runtime.block_on(self.stream.next()) {
                Some(chunk) => self.current = chunk?,
                None => self.ended = true,
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

pub(crate) async fn verify(app: &App, release: &ReleaseId, number: u32) -> AppResult<serde_json::Value> {
    let revision = get_revision(app, release, number).await?;
    let report = check_revision(app, release, &revision).await?;
    let summary = json!({
        "pass": report.count(Outcome::Pass),
        "warn": report.count(Outcome::Warn),
        "fail": report.count(Outcome::Fail),
    });
    crate::people::link_signers(app, release, number, &signers_of(&report)).await?;
    let stored = StoredReport { revision_key: revision.key, report, finished_at: app.now() };
    crate::large_item::put(app, Item::new(keys::revision_report(release, number), json!(stored)), Condition::None)
        .await?;
    Ok(summary)
}

/// The keys that made the report's signatures.
pub(crate) fn signers_of(report: &RevisionReport) -> std::collections::BTreeSet<trs_core::Fingerprint> {
    report
        .files
        .iter()
        .flat_map(|f| &f.checks)
        .filter_map(|c| c.signer.as_ref())
        .map(|s| s.fingerprint.clone())
        .collect()
}

/// Runs every check on `revision`'s files (whose bytes are in the content-addressed store),
/// against the keys of `release`'s project, and caches the results by digest. Shared by the
/// verify task and the import ([`crate::import`]), which checks before anything is public.
pub(crate) async fn check_revision(app: &App, release: &ReleaseId, revision: &Revision) -> AppResult<RevisionReport> {
    let project = projects::get_project(app, &release.project).await?;
    let mut signers = Vec::new();
    for key in projects::signer_keys(app, &project).await? {
        let certs = trs_checks::signature::SignerCert::parse_keyring(key.person.as_str(), key.armored.as_bytes())
            .map_err(|e| AppError::Internal(format!("stored certificate {} is unreadable: {e}", key.fingerprint)))?;
        signers.extend(certs);
    }
    let started = std::time::Instant::now();
    let digests: Vec<Sha512> = revision.manifest.entries().iter().map(|e| e.sha512).collect();
    let located = locate_sources(app, &digests).await?;
    let was_located = started.elapsed();

    let options = trs_checks::revision::VerifyOptions::new(app.now_system_time());
    let manifest = revision.manifest.clone();
    let cache_app = app.clone();
    let runtime = tokio::runtime::Handle::current();
    let verification = tokio::task::spawn_blocking(move || {
        // The checks run on plain threads; cache lookups hop back onto the runtime.
        let cached = |key: &str| -> Option<Vec<CheckResult>> {
            let item = runtime.block_on(cache_app.items.get(&keys::check_cache(key))).ok()??;
            item.parse().ok()
        };
        trs_checks::revision::verify_revision(&manifest, |e| located[&e.sha512].clone(), &signers, &options, cached)
    })
    .await
    .map_err(|e| AppError::Internal(format!("verification panicked: {e}")))?;
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    tracing::debug!(
        target: "trs::timing",
        stage = "checks",
        files = verification.files.len(),
        locate_ms = ms(was_located),
        checks_ms = ms(started.elapsed() - was_located),
    );

    for f in &verification.files {
        if let (Some(key), false) = (&f.cache_key, f.from_cache) {
            let item = Item::new(keys::check_cache(key), json!(f.report.checks));
            app.items.put(item, Condition::None).await?;
        }
    }
    let mut report = verification.into_report();
    // After caching: the name check, and whether an SBOM describes this release within the
    // project's licence policy, depend on the release, not on the bytes.
    let denied = project.policy_for(release.product.as_ref()).denied_licences;
    let names: Vec<&str> =
        std::iter::once(release.project.as_str()).chain(release.product.as_ref().map(|p| p.as_str())).collect();
    for file in &mut report.files {
        file.checks.extend(trs_checks::revision::version_in_name(file.path.file_name(), release.version.as_str()));
        if let Some(summary) = file.sbom().cloned() {
            file.checks.extend(trs_checks::sbom::release_checks(&summary, &names, release.version.as_str(), &denied));
        }
    }
    Ok(report)
}

//! Verification of a whole revision: classify the manifest into artifacts and their sidecars,
//! verify artifacts in parallel (one worker per core, largest first so the slowest file does
//! not start last), and report one [`FileReport`] per artifact in manifest order.
//!
//! Sidecars (`F.asc`, `F.sha512`, `F.sha256`, `F.md5`, `F.sha1`) are not reported as files of
//! their own. A sidecar without its artifact is (`paths` fails: "signature for a missing
//! file"), and `F.md5`/`F.sha1` add a `paths` warning to `F`, since those algorithms are
//! broken and are not accepted as checksums.
//!
//! This module reads the sidecars itself from the located paths (capped at
//! [`MAX_SIDECAR_SIZE`], and checked against the manifest's digest like the artifact), so
//! callers only say where files are.
//!
//! Caching: an artifact's results depend only on its bytes and name, its sidecars' bytes,
//! the signer set and the archive limits, so [`artifact_cache_key`] hashes exactly those
//! (from the manifest, without reading anything). [`verify_revision`] asks `cached` for each
//! key before doing any work, and returns the key with each freshly computed result that
//! may be stored. The policy time is not part of the key: validity is judged at signing
//! time, so only a signature's own expiry could change a stored verdict.

use crate::archive::ArchiveLimits;
use crate::artifact::{ArtifactInputs, EndStates, verify_artifact_with};
use crate::hashing::ReadMode;
use crate::signature::SignerCert;
use sequoia_openpgp::serialize::MarshalInto;
use sha2::Digest;
use std::collections::HashMap;
use std::io::{Read, Seek};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;
use trs_core::{CheckKind, CheckResult, FileReport, Manifest, ManifestEntry, RevisionReport, Sha256, SidecarDigest};

/// Sidecar files larger than this are refused unread: a signature or checksum file is tiny.
pub const MAX_SIDECAR_SIZE: u64 = 1 << 20;

/// The kinds of sidecar file, by suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Sidecar {
    Asc,
    Sha512,
    Sha256,
    Md5,
    Sha1,
}

impl Sidecar {
    pub const ALL: [Sidecar; 5] = [Sidecar::Asc, Sidecar::Sha512, Sidecar::Sha256, Sidecar::Md5, Sidecar::Sha1];

    pub fn extension(self) -> &'static str {
        match self {
            Sidecar::Asc => "asc",
            Sidecar::Sha512 => "sha512",
            Sidecar::Sha256 => "sha256",
            Sidecar::Md5 => "md5",
            Sidecar::Sha1 => "sha1",
        }
    }

    /// `("x.tar.gz.asc")` → `(Asc, "x.tar.gz")`.
    pub fn of(path: &str) -> Option<(Sidecar, &str)> {
        Self::ALL.into_iter().find_map(|k| {
            let base = path.strip_suffix(k.extension())?.strip_suffix('.')?;
            (!base.is_empty() && !base.ends_with('/')).then_some((k, base))
        })
    }
}

/// Opens a reader of an entry's bytes from their start, for bytes that are not in a local
/// file (an object streamed from S3). Called once per read: the artifact's one pass, a
/// sidecar's read, an SBOM's second read.
pub type OpenReader = Arc<dyn Fn() -> std::io::Result<Box<dyn Read + Send>> + Send + Sync>;

/// `Read + Seek` as one trait object.
pub trait ReadSeek: Read + Seek + Send {}

impl<T: Read + Seek + Send> ReadSeek for T {}

/// Opens an entry's bytes with random access, for bytes that are not in a local file: ranged
/// reads of the stored object (`trs_storage::RangeReader`).
pub type OpenSeekable = Arc<dyn Fn() -> std::io::Result<Box<dyn ReadSeek>> + Send + Sync>;

/// Where an entry's bytes are: a local file, or an object read where it is stored. The checks
/// read every byte in order (`read`); only a zip or jar's inspection seeks (its central
/// directory is at the end), through `seek`, so nothing is ever copied to a temporary file.
#[derive(Clone)]
pub enum Source {
    File(PathBuf),
    Stream { read: OpenReader, seek: OpenSeekable },
}

impl Source {
    pub fn open(&self) -> std::io::Result<Box<dyn Read + Send>> {
        match self {
            Source::File(path) => Ok(Box::new(std::fs::File::open(path)?)),
            Source::Stream { read, .. } => read(),
        }
    }

    /// The bytes with random access; a local file through a buffer, since a zip reader makes
    /// many small reads.
    pub fn open_seekable(&self) -> std::io::Result<Box<dyn ReadSeek>> {
        match self {
            Source::File(path) => Ok(Box::new(std::io::BufReader::with_capacity(1 << 16, std::fs::File::open(path)?))),
            Source::Stream { seek, .. } => seek(),
        }
    }
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::File(path) => write!(f, "File({})", path.display()),
            Source::Stream { .. } => f.write_str("Stream"),
        }
    }
}

/// Where a manifest entry's bytes are, and the SHA-512 state at their end if the store kept
/// them (see [`ArtifactInputs::end_states`]). A bare path converts into one.
#[derive(Debug, Clone)]
pub struct LocatedSource {
    pub source: Source,
    pub end_states: Option<EndStates>,
}

impl From<PathBuf> for LocatedSource {
    fn from(path: PathBuf) -> Self {
        LocatedSource { source: Source::File(path), end_states: None }
    }
}

/// Knobs of a revision verification.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    pub policy_time: SystemTime,
    pub limits: ArchiveLimits,
    /// Artifacts verified at once; 0 means one per available core.
    pub workers: usize,
}

impl VerifyOptions {
    pub fn new(policy_time: SystemTime) -> Self {
        Self { policy_time, limits: ArchiveLimits::default(), workers: 0 }
    }
}

/// The warning for a file whose name carries a version but not `release_version`:
/// `foo-1.0.1.tar.gz` uploaded as 1.0.0 is usually the wrong file. A version in a name is a run
/// of dot-separated numbers (`2.4.68`, `2.13`); the name is fine when it holds the release's
/// version with no digit or `.digit` continuing it (`foo_2.13-1.0.0.jar` is fine for 1.0.0,
/// `foo-1.0.0.tar.gz` is not for 1.0). Names without a version (`KEYS`) are not judged. It
/// depends on the release, not the bytes, so the caller adds it after the cached checks.
pub fn version_in_name(file_name: &str, release_version: &str) -> Option<CheckResult> {
    let bytes = file_name.as_bytes();
    let continues = |at: usize| match bytes.get(at) {
        Some(b) if b.is_ascii_digit() => true,
        Some(b'.') => bytes.get(at + 1).is_some_and(u8::is_ascii_digit),
        _ => false,
    };
    let starts_clean = |at: usize| at == 0 || !(bytes[at - 1].is_ascii_digit() || bytes[at - 1] == b'.');
    if !release_version.is_empty() {
        let found =
            file_name.match_indices(release_version).any(|(at, v)| starts_clean(at) && !continues(at + v.len()));
        if found {
            return None;
        }
    }
    // The dotted-number runs the name carries.
    let mut carried = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() && starts_clean(i) {
            let mut end = i;
            while end < bytes.len() && (bytes[end].is_ascii_digit() || (bytes[end] == b'.' && continues(end))) {
                end += 1;
            }
            if file_name[i..end].contains('.') {
                carried.push(&file_name[i..end]);
            }
            i = end;
        }
        i += 1;
    }
    (!carried.is_empty()).then(|| {
        CheckResult::warn(
            CheckKind::Paths,
            format!(
                "the file name carries version {} but it is uploaded as version {release_version}; is it the right file?",
                carried.join(" and ")
            ),
        )
    })
}

/// One reported file with what the caller needs for caching.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedFile {
    pub report: FileReport,
    /// Where `report.checks` may be stored; `None` when it must not be (storage did not
    /// match the manifest, a sidecar was unreadable, or the file is an orphan sidecar).
    pub cache_key: Option<String>,
    /// Whether the checks came from `cached` rather than being computed now.
    pub from_cache: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RevisionVerification {
    /// In manifest order.
    pub files: Vec<VerifiedFile>,
}

impl RevisionVerification {
    pub fn reports(&self) -> Vec<FileReport> {
        self.files.iter().map(|f| f.report.clone()).collect()
    }

    pub fn into_report(self) -> RevisionReport {
        RevisionReport { files: self.files.into_iter().map(|f| f.report).collect() }
    }
}

/// Digest of the signer set (people and their certificates' bytes, order-independent), for
/// [`artifact_cache_key`]. Compute once per revision.
pub fn signers_digest(signers: &[SignerCert]) -> String {
    let mut items: Vec<Vec<u8>> = signers
        .iter()
        .map(|s| {
            let mut item = s.person.as_bytes().to_vec();
            item.push(0);
            item.extend_from_slice(&sha2::Sha256::digest(s.cert.to_vec().unwrap_or_default()));
            item
        })
        .collect();
    items.sort();
    let mut h = sha2::Sha256::new();
    for i in items {
        h.update((i.len() as u64).to_be_bytes());
        h.update(i);
    }
    hex::encode(h.finalize())
}

/// The cache key of one artifact's results. See the module documentation for what it covers.
pub fn artifact_cache_key(
    artifact: &ManifestEntry,
    sidecars: &[(Sidecar, &ManifestEntry)],
    signers_digest: &str,
    limits: &ArchiveLimits,
) -> String {
    let mut sidecars = sidecars.to_vec();
    sidecars.sort_by_key(|(k, _)| *k);
    let mut text = format!("trs-checks-v1\n{}\t{}\t{}\n", artifact.path.file_name(), artifact.size, artifact.sha512);
    for (k, e) in sidecars {
        text.push_str(&format!("{}\t{}\t{}\n", k.extension(), e.size, e.sha512));
    }
    text.push_str(&format!(
        "signers\t{signers_digest}\nlimits\t{} {} {} {}\n",
        limits.max_total_size, limits.max_entries, limits.max_ratio, limits.ratio_floor
    ));
    // Results cached before SBOMs were checked lack the `sbom` check: an SBOM's key differs.
    if crate::sbom::SbomFormat::of(artifact.path.file_name()).is_some() {
        text.push_str(&format!("sbom\t{}\n", crate::sbom::SBOM_CHECK_VERSION));
    }
    format!("v1-{}", hex::encode(sha2::Sha256::digest(text.as_bytes())))
}

/// An artifact with its sidecars, or an orphan sidecar, at its manifest position.
enum Item<'m> {
    Artifact { entry: &'m ManifestEntry, sidecars: Vec<(Sidecar, &'m ManifestEntry)> },
    Orphan { entry: &'m ManifestEntry, kind: Sidecar, base: &'m str },
}

fn classify(manifest: &Manifest) -> Vec<Item<'_>> {
    let by_path: HashMap<&str, &ManifestEntry> = manifest.entries().iter().map(|e| (e.path.as_str(), e)).collect();
    let is_artifact = |p: &str| Sidecar::of(p).is_none() && by_path.contains_key(p);
    let mut sidecars: HashMap<&str, Vec<(Sidecar, &ManifestEntry)>> = HashMap::new();
    let mut items = Vec::new();
    for e in manifest.entries() {
        match Sidecar::of(e.path.as_str()) {
            Some((kind, base)) if is_artifact(base) => sidecars.entry(base).or_default().push((kind, e)),
            Some((kind, base)) => items.push(Item::Orphan { entry: e, kind, base }),
            None => items.push(Item::Artifact { entry: e, sidecars: Vec::new() }),
        }
    }
    for item in &mut items {
        if let Item::Artifact { entry, sidecars: s } = item {
            *s = sidecars.remove(entry.path.as_str()).unwrap_or_default();
        }
    }
    items
}

/// Reads a sidecar, refusing oversized files (unread beyond [`MAX_SIDECAR_SIZE`]) and bytes
/// that differ from the manifest.
pub fn read_sidecar(entry: &ManifestEntry, source: &Source) -> Result<Vec<u8>, String> {
    if entry.size > MAX_SIDECAR_SIZE {
        return Err(format!("it is larger than {} bytes", MAX_SIDECAR_SIZE));
    }
    let mut bytes = Vec::new();
    source
        .open()
        .and_then(|f| f.take(MAX_SIDECAR_SIZE + 1).read_to_end(&mut bytes))
        .map_err(|e| format!("could not read it from storage: {e}"))?;
    let digest: [u8; 64] = sha2::Sha512::digest(&bytes).into();
    if bytes.len() as u64 != entry.size || digest != *entry.sha512.as_bytes() {
        return Err("it changed in storage (its bytes no longer match the manifest)".into());
    }
    Ok(bytes)
}

/// The SHA-256 of each sidecar: from the states the store kept for its bytes, else from the
/// bytes the checks already read (`read`), else from reading them (small: [`MAX_SIDECAR_SIZE`]
/// at most); none for one that cannot be read as recorded.
fn sidecar_digests<'a, L, R>(
    sidecars: &[(Sidecar, &ManifestEntry)],
    locate: &L,
    read: impl Fn(Sidecar) -> Option<&'a [u8]>,
) -> Vec<SidecarDigest>
where
    L: Fn(&ManifestEntry) -> R,
    R: Into<LocatedSource>,
{
    let digest = |kind: Sidecar, entry: &ManifestEntry| -> Option<[u8; 32]> {
        let located: LocatedSource = locate(entry).into();
        if let Some(states) = located.end_states {
            return Some(states.sha256.finalize().into());
        }
        match read(kind) {
            Some(bytes) => Some(sha2::Sha256::digest(bytes).into()),
            None => read_sidecar(entry, &located.source).ok().map(|bytes| sha2::Sha256::digest(bytes).into()),
        }
    };
    sidecars
        .iter()
        .filter_map(|(kind, e)| {
            Some(SidecarDigest { path: e.path.clone(), sha256: Sha256::from_bytes(digest(*kind, e)?) })
        })
        .collect()
}

/// Verifies every artifact of `manifest`. `locate` says where a manifest entry's bytes are;
/// `cached` returns stored checks for a cache key (see [`artifact_cache_key`]), or `None` to
/// verify.
pub fn verify_revision<L, R, C>(
    manifest: &Manifest,
    locate: L,
    signers: &[SignerCert],
    options: &VerifyOptions,
    cached: C,
) -> RevisionVerification
where
    L: Fn(&ManifestEntry) -> R + Sync,
    R: Into<LocatedSource>,
    C: Fn(&str) -> Option<Vec<CheckResult>> + Sync,
{
    let items = classify(manifest);
    let signers_digest = signers_digest(signers);
    let results: Vec<Mutex<Option<VerifiedFile>>> = items.iter().map(|_| Mutex::new(None)).collect();

    // Largest artifacts first: the revision finishes when its slowest worker does.
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by_key(|&i| match &items[i] {
        Item::Artifact { entry, .. } => std::cmp::Reverse(entry.size),
        Item::Orphan { .. } => std::cmp::Reverse(0),
    });
    let next = AtomicUsize::new(0);
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let workers = if options.workers == 0 { cores } else { options.workers }.clamp(1, items.len().max(1));

    let work = || {
        loop {
            let n = next.fetch_add(1, Ordering::Relaxed);
            let Some(&i) = order.get(n) else { break };
            // While every core has an artifact of its own, a reader thread per artifact only
            // adds copying; the last ones, or a run limited to fewer workers, overlap reads.
            let mode =
                if workers >= cores && order.len() - n >= workers { ReadMode::Inline } else { ReadMode::Overlapped };
            let done = verify_item(&items[i], &locate, signers, &signers_digest, options, &cached, mode);
            *results[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(done);
        }
    };
    std::thread::scope(|s| {
        for _ in 1..workers {
            s.spawn(work);
        }
        work();
    });
    RevisionVerification {
        files: results.into_iter().filter_map(|m| m.into_inner().unwrap_or_else(|p| p.into_inner())).collect(),
    }
}

fn borrow(s: &Option<Result<Vec<u8>, String>>) -> Option<Result<&[u8], String>> {
    s.as_ref().map(|r| r.as_deref().map_err(Clone::clone))
}

fn verify_item<L, R, C>(
    item: &Item<'_>,
    locate: &L,
    signers: &[SignerCert],
    signers_digest: &str,
    options: &VerifyOptions,
    cached: &C,
    mode: ReadMode,
) -> VerifiedFile
where
    L: Fn(&ManifestEntry) -> R + Sync,
    R: Into<LocatedSource>,
    C: Fn(&str) -> Option<Vec<CheckResult>> + Sync,
{
    let (entry, sidecars) = match item {
        Item::Orphan { entry, kind, base } => {
            let what = if *kind == Sidecar::Asc { "signature" } else { "checksum" };
            let check = CheckResult::fail(CheckKind::Paths, format!("{what} for a missing file: there is no {base}"));
            return VerifiedFile {
                report: FileReport {
                    path: entry.path.clone(),
                    size: entry.size,
                    sha512: entry.sha512,
                    sha256: None,
                    checks: vec![check],
                    sidecars: Vec::new(),
                },
                cache_key: None,
                from_cache: false,
            };
        }
        Item::Artifact { entry, sidecars } => (*entry, sidecars),
    };
    let key = artifact_cache_key(entry, sidecars, signers_digest, &options.limits);
    let report = |checks, sha256, sidecars| FileReport {
        path: entry.path.clone(),
        size: entry.size,
        sha512: entry.sha512,
        sha256,
        checks,
        sidecars,
    };
    if let Some(checks) = cached(&key) {
        // The cache keeps the checks, which depend on more than the bytes; the SHA-256 comes
        // from the bytes' kept states (not read again), as a computed check would have it.
        let located: LocatedSource = locate(entry).into();
        let sha256 = located.end_states.map(|s| Sha256::from_bytes(s.sha256.finalize().into()));
        let sidecars = sidecar_digests(sidecars, locate, |_| None);
        return VerifiedFile { report: report(checks, sha256, sidecars), cache_key: Some(key), from_cache: true };
    }

    let read = |kind: Sidecar| {
        sidecars.iter().find(|(k, _)| *k == kind).map(|(_, e)| read_sidecar(e, &locate(e).into().source))
    };
    let (asc, sha512, sha256) = (read(Sidecar::Asc), read(Sidecar::Sha512), read(Sidecar::Sha256));
    let sidecars_ok = [&asc, &sha512, &sha256].iter().all(|s| !matches!(s, Some(Err(_))));
    let inputs = ArtifactInputs {
        expected_size: entry.size,
        expected_sha512: entry.sha512,
        sha512_file: borrow(&sha512),
        sha256_file: borrow(&sha256),
        asc: borrow(&asc),
        signers,
        policy_time: options.policy_time,
        limits: options.limits,
        end_states: None,
    };
    let located: LocatedSource = locate(entry).into();
    let inputs = ArtifactInputs { end_states: located.end_states, ..inputs };
    let checked = verify_artifact_with(&entry.path, &located.source, &inputs, mode);
    let mut checks = checked.checks;
    for (kind, e) in sidecars {
        if matches!(kind, Sidecar::Md5 | Sidecar::Sha1) {
            checks.push(CheckResult::warn(
                CheckKind::Paths,
                format!("weak checksum file {} present; MD5/SHA-1 are not accepted as checksums", e.path.file_name()),
            ));
        }
    }
    let cacheable = checked.storage_matches && sidecars_ok;
    let read_here = |kind: Sidecar| {
        let bytes = match kind {
            Sidecar::Asc => &asc,
            Sidecar::Sha512 => &sha512,
            Sidecar::Sha256 => &sha256,
            Sidecar::Md5 | Sidecar::Sha1 => return None,
        };
        bytes.as_ref()?.as_deref().ok()
    };
    let sidecars = sidecar_digests(sidecars, locate, read_here);
    VerifiedFile {
        report: report(checks, checked.sha256, sidecars),
        cache_key: cacheable.then_some(key),
        from_cache: false,
    }
}

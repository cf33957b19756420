//! Uploading a release candidate, in two signed calls:
//! 1. **start**: the release manager declares the files (path and size). Every name is checked
//!    before anything is stored; the session remembers which revision it builds on, and answers
//!    with one upload URL per file, so bytes go straight to the blob store.
//! 2. **commit**: the call only queues a tracked task and answers at once (202, the task,
//!    whose id is the upload's: [`request_commit`]); the task ([`execute_commit`]) checks
//!    that every declared file arrived with its declared size, hashes each and moves it to its
//!    content address, then one transaction writes the new revision, moves the release head,
//!    queues the verify task and marks the session committed: all files or none. If another
//!    upload committed since the session started, the commit is refused unless it was started
//!    with `force`. Hashing gigabytes takes longer than an API request may (API Gateway ends
//!    one after 29 s), hence the task; asking again for the same commit finds the same task
//!    (a failed one is run again), and running it again finds the session committed and
//!    answers what it recorded, so a retried or duplicated commit makes one revision.
//!
//! The new revision is the previous one with the uploaded files laid on top (same name:
//! replaced, new name: added), minus the files named in `remove` and their sidecars
//! ([`next_manifest`]); with `replace` it is exactly the uploaded files. A commit whose file
//! set (names and digests) equals the latest revision's makes no revision: it answers
//! `changed: false`.

use crate::app::App;
use crate::authenticate::Caller;
use crate::error::{AppError, AppResult};
use crate::projects;
use crate::releases::{get_release, get_revision};
use crate::retry::{self, Attempt};
use crate::storage_keys as keys;
use crate::stream::{self, Committed};
use crate::tasks::{Task, TaskKind, TaskRun};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::Digest;
use std::collections::BTreeSet;
// The commit request's body is the contract's own type: the file names and ETags it carries
// are matched as text against the session, so a copy here would be the same struct twice.
use trs_api::uploads::CommitUpload;
use trs_core::{
    Action, Actor, ArtifactPath, Change, EventDraft, Manifest, ManifestEntry, OpaqueId, PersonUid, ProductName,
    Release, ReleaseId, Revision, RevisionRef, Sha512, Stage, StreamId, authorize,
};
use trs_storage::{BlobError, Condition, Item, UploadUrl, WriteOp};

/// A file the upload will send: its path (checked by [`start_upload`]) and size.
#[derive(Debug, Clone)]
pub struct DeclaredFile {
    pub path: String,
    pub size: u64,
}

/// What an upload's start declares. Requests carry it as trs_api's `StartUpload` (the upload
/// function parses its product into this).
#[derive(Debug, Clone, Default)]
pub struct StartUpload {
    pub product: Option<ProductName>,
    pub files: Vec<DeclaredFile>,
    /// Upload on top of whatever is latest at commit time, even if it changed meanwhile.
    pub force: bool,
    /// The revision this upload builds on, as the uploader last saw the draft (0: a new
    /// release). If another revision was pushed since, the upload is refused (`stale-base`)
    /// unless forced, as a push to a shared staging branch is. Absent: the latest now.
    pub base: Option<u32>,
    /// Files of the latest revision to leave out of the new one (each must be in it); their
    /// sidecars (`F.asc`, `F.sha512`, …) go with them unless this upload sends them again.
    pub remove: Vec<String>,
    /// The new revision is exactly `files`: nothing of the previous one is kept.
    pub replace: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StagedFile {
    pub path: ArtifactPath,
    pub size: u64,
    pub object: String,
    /// The multipart upload that becomes `object` at the commit, for a file larger than one
    /// part of the blob store ([`trs_storage::BlobStore::part_size`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multipart: Option<StagedParts>,
}

/// A file sent in parts: the store's multipart upload, and the ETags the client got for its
/// parts, which the commit request names and the commit completes the upload with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StagedParts {
    pub upload_id: String,
    pub part_size: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub etags: Vec<String>,
}

impl StagedParts {
    /// Parts of a file of `size` bytes: all full but the last.
    pub fn count(&self, size: u64) -> u32 {
        size.div_ceil(self.part_size) as u32
    }

    /// Bytes of part `number` (1-based) of a file of `size` bytes.
    pub fn part_len(&self, size: u64, number: u32) -> u64 {
        let start = u64::from(number - 1) * self.part_size;
        size.saturating_sub(start).min(self.part_size)
    }
}

/// Where a client sends one file of an upload: one PUT of the whole file (`upload`), or one
/// PUT per part (`parts`), for files larger than one part of the blob store. When an upload
/// is resumed, a file that has arrived whole has neither.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileTarget {
    pub path: ArtifactPath,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload: Option<UploadUrl>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parts: Option<PartUrls>,
}

/// The parts of one file: part `n` is bytes `[(n-1)*part_size, n*part_size)` of the file (the
/// last one shorter), PUT to `urls[n-1]`; the `ETag` header of each answer is what the
/// commit request names the part by.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PartUrls {
    pub part_size: u64,
    pub urls: Vec<UploadUrl>,
    /// When an upload is resumed: the parts the store holds already, with their ETags (a
    /// client skips those whose ETag is the one it got when it sent them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub present: Vec<trs_storage::StoredPart>,
}

/// A started, uncommitted upload (stored until it expires).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UploadSession {
    pub id: OpaqueId,
    pub release: ReleaseId,
    /// The release's latest revision when the session started.
    pub base: Option<RevisionRef>,
    pub force: bool,
    pub files: Vec<StagedFile>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<ArtifactPath>,
    #[serde(default)]
    pub replace: bool,
    pub created_by: PersonUid,
    pub created_at: i64,
    pub expires_at: i64,
    /// What the commit made, written in the commit's own transaction: a commit task run
    /// again answers this instead of committing twice. The session stays until it expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub committed: Option<CommittedUpload>,
}

/// A started upload: where to send each file (the API's answer is its view: `api_views`).
#[derive(Debug, Clone)]
pub struct StartedUpload {
    pub id: OpaqueId,
    pub release: ReleaseId,
    pub base_revision: Option<u32>,
    pub files: Vec<FileTarget>,
    pub expires_at: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CommittedUpload {
    pub release: ReleaseId,
    /// False when the upload's file set equals the latest revision's: no revision was made,
    /// and `revision` is that latest one.
    pub changed: bool,
    pub revision: u32,
    pub revision_key: trs_core::RevisionKey,
    /// Files the upload sent.
    pub files: usize,
    /// Files of the previous revision the new one leaves out (named, their sidecars, or not
    /// sent again under `replace`), by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<ArtifactPath>,
    /// The verification of the new revision (none when nothing changed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<OpaqueId>,
}

/// The file set an upload makes: `previous` with `uploaded` laid on top, minus `remove` and
/// the sidecars of what it removes (a sidecar this upload sends again stays), or exactly
/// `uploaded` when `replace`. Returns the manifest and the paths of `previous` it leaves out.
/// Refused: a named file that is not in `previous` (`not-in-revision`), and a result with no
/// files (`empty-revision`: a draft is dropped with `trs draft discard`).
pub fn next_manifest(
    previous: Option<&Manifest>,
    uploaded: Vec<ManifestEntry>,
    remove: &[ArtifactPath],
    replace: bool,
) -> AppResult<(Manifest, Vec<ArtifactPath>)> {
    let empty = Manifest::default();
    let previous = previous.unwrap_or(&empty);
    check_removable(previous, remove)?;
    let sent: BTreeSet<&str> = uploaded.iter().map(|e| e.path.as_str()).collect();
    let named: BTreeSet<&str> = remove.iter().map(ArtifactPath::as_str).collect();
    // A sidecar of a removed file: `F.asc` for a removed `F` (the checks' own sidecar list).
    let sidecar_of_removed = |path: &str| {
        trs_checks::Sidecar::of(path).is_some_and(|(_, base)| named.contains(base) && !sent.contains(path))
    };
    let kept: Vec<ManifestEntry> = if replace {
        Vec::new()
    } else {
        previous
            .entries()
            .iter()
            .filter(|e| !named.contains(e.path.as_str()) && !sidecar_of_removed(e.path.as_str()))
            .cloned()
            .collect()
    };
    let manifest = Manifest::new(kept)?.overlay(uploaded)?;
    if manifest.entries().is_empty() {
        return Err(AppError::bad_request(
            "empty-revision",
            "this upload would leave the draft without files; to drop a draft, use `trs draft discard`",
        ));
    }
    let removed: Vec<ArtifactPath> =
        previous.entries().iter().filter(|e| manifest.get(e.path.as_str()).is_none()).map(|e| e.path.clone()).collect();
    Ok((manifest, removed))
}

/// Every file named for removal must be in `latest` (a typo must not pass as a no-op).
fn check_removable(latest: &Manifest, remove: &[ArtifactPath]) -> AppResult<()> {
    let missing: Vec<&str> = remove.iter().filter(|p| latest.get(p.as_str()).is_none()).map(|p| p.as_str()).collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(AppError::conflict(
        "not-in-revision",
        format!("not in the latest revision, so not removed: {} (`trs status` lists its files)", missing.join(", ")),
    ))
}

fn stage_refuses_upload(release: &Release) -> AppError {
    if let Some(vote) = release.open_vote() {
        return AppError::conflict(
            "vote-open",
            format!(
                "vote {} on revision {} of {} is open; a new upload means a new vote: cancel this one first \
                 (`trs vote cancel`), then upload",
                vote.number, vote.revision.number, release.id
            ),
        );
    }
    AppError::conflict(
        "release-not-draft",
        format!(
            "release {} is in stage {}; uploads are only accepted while it is a candidate draft{}",
            release.id,
            release.stage,
            if release.stage == Stage::Candidate { " (cancel the vote to upload again)" } else { "" }
        ),
    )
}

/// A release's product must be declared (its files are public only under a declared
/// product's paths, so an undeclared one would upload files nobody can download), and a
/// main-line version must not be a product's name (`/current/P/NAME/…` would name both).
pub(crate) fn check_product_line(project: &trs_core::Project, release: &ReleaseId) -> AppResult<()> {
    match &release.product {
        Some(p) if !project.products.contains(p) => Err(AppError::bad_request(
            "unknown-product",
            format!(
                "project {} has no product {p}; declare it first with `trs project products {} --add {p}`",
                project.name, project.name
            ),
        )),
        None if project.products.iter().any(|p| p.as_str() == release.version.as_str()) => Err(AppError::bad_request(
            "version-is-a-product",
            format!(
                "{} is a product of {}; a main-line version of that name would share its paths \
                 (upload with --product {} for that product)",
                release.version, project.name, release.version
            ),
        )),
        _ => Ok(()),
    }
}

pub async fn start_upload(
    app: &App,
    caller: &Caller,
    release: ReleaseId,
    req: StartUpload,
) -> AppResult<StartedUpload> {
    if req.files.is_empty() && (req.remove.is_empty() || req.replace) {
        return Err(AppError::bad_request("no-files", "an upload needs at least one file, or a file to remove"));
    }
    if req.replace && !req.remove.is_empty() {
        return Err(AppError::bad_request(
            "replace-and-remove",
            "--replace keeps only the files sent, so --remove has nothing to do beside it; use one of them",
        ));
    }
    if req.files.len() > app.limits.max_files_per_upload {
        return Err(AppError::bad_request(
            "too-many-files",
            format!("{} files in one upload; the limit is {}", req.files.len(), app.limits.max_files_per_upload),
        ));
    }
    let mut paths = Vec::with_capacity(req.files.len());
    for f in &req.files {
        paths.push(app.limits.admit_file(&f.path, f.size)?);
    }
    trs_core::artifact_path::check_distinct(&paths)?;
    let remove: Vec<ArtifactPath> = req.remove.iter().map(|p| p.parse()).collect::<Result<_, _>>()?;
    if let Some(both) = remove.iter().find(|r| paths.contains(r)) {
        return Err(AppError::bad_request(
            "removed-and-uploaded",
            format!("{both} is both sent and named for removal; sending it replaces it already"),
        ));
    }

    let project = projects::get_project(app, &release.project).await?;
    authorize(&caller.person, Some(&project), Action::ManageRelease)?;
    check_product_line(&project, &release)?;
    if req.force && !project.release_managers.contains(&caller.person.uid) {
        return Err(AppError::Forbidden(trs_core::Denied {
            caller: caller.person.uid.clone(),
            project: Some(project.name.clone()),
            action: Action::ForceUpload,
        }));
    }
    let existing = get_release(app, &release).await?;
    if let Some((r, _)) = &existing
        && !r.stage.accepts_uploads()
    {
        return Err(stage_refuses_upload(r));
    }
    let latest = existing.as_ref().and_then(|(r, _)| r.latest.as_ref()).map(|l| l.number).unwrap_or(0);
    if let Some(base) = req.base
        && base != latest
        && !req.force
    {
        return Err(AppError::conflict(
            "stale-base",
            format!(
                "this upload builds on revision {base} of {release}, but the latest is revision {latest}; \
                 look at it (`trs status`) and upload again on top of it, or force (release managers only)"
            ),
        ));
    }

    if !remove.is_empty() {
        let latest_files = match existing.as_ref().and_then(|(r, _)| r.latest.as_ref()) {
            Some(l) => get_revision(app, &release, l.number).await?.manifest,
            None => Manifest::default(),
        };
        check_removable(&latest_files, &remove)?;
    }

    let id = App::new_id();
    let now = app.now();
    let sizes: Vec<u64> = req.files.iter().map(|f| f.size).collect();
    check_part_count(app, &sizes, "send them in several `trs upload` calls (each lays its files on top of the last)")?;
    let mut files: Vec<StagedFile> = Vec::with_capacity(paths.len());
    for (i, (path, f)) in paths.into_iter().zip(&req.files).enumerate() {
        files.push(stage_file(app, path, f.size, keys::staged_object(&id, i)).await?);
    }
    let session = UploadSession {
        id: id.clone(),
        release: release.clone(),
        base: existing.and_then(|(r, _)| r.latest),
        force: req.force,
        files,
        remove,
        replace: req.replace,
        created_by: caller.person.uid.clone(),
        created_at: now,
        expires_at: now + app.limits.upload_session_ttl_secs,
        committed: None,
    };
    let item = Item::new(keys::upload_session(&id), json!(session)).with_expiry(session.expires_at);
    let targets = open_session(app, &id, item, &session.files, session.expires_at).await?;
    Ok(StartedUpload {
        id,
        release,
        base_revision: session.base.as_ref().map(|b| b.number),
        files: targets,
        expires_at: session.expires_at,
    })
}

/// Parts one upload may have in all: each is a URL in the answer that starts it (about 700
/// bytes: 4,096 make under 3 MB, within Lambda's 6 MB answer) and an ETag in the session
/// item (4,096 make about 150 KB, within DynamoDB's 400 KB). With 64 MiB parts: 256 GiB.
pub const MAX_PARTS_PER_UPLOAD: u64 = 4096;

/// Refuses (`upload-too-large`) files of these sizes that would make more parts in all than
/// [`MAX_PARTS_PER_UPLOAD`]; `instead` tells the caller what to do.
pub(crate) fn check_part_count(app: &App, sizes: &[u64], instead: &str) -> AppResult<()> {
    let Some(part_size) = app.blobs.part_size() else { return Ok(()) };
    let parts: u64 = sizes.iter().filter(|&&size| size > part_size).map(|size| size.div_ceil(part_size)).sum();
    if parts > MAX_PARTS_PER_UPLOAD {
        return Err(AppError::bad_request(
            "upload-too-large",
            format!(
                "these files make {parts} parts of {} MiB, more than the {MAX_PARTS_PER_UPLOAD} one upload may have; {instead}",
                part_size >> 20
            ),
        ));
    }
    Ok(())
}

/// A file to be sent to `object`: in parts (a multipart upload started here) when it is
/// larger than one part of the blob store, else in one PUT. A multipart upload started and
/// never committed is aborted by the store (S3's lifecycle rule, a day after it started).
pub(crate) async fn stage_file(app: &App, path: ArtifactPath, size: u64, object: String) -> AppResult<StagedFile> {
    let multipart = match app.blobs.part_size() {
        Some(part_size) if size > part_size => {
            Some(StagedParts { upload_id: app.blobs.create_multipart(&object).await?, part_size, etags: Vec::new() })
        }
        _ => None,
    };
    Ok(StagedFile { path, size, object, multipart })
}

/// Where the client sends `f`, with fresh URLs. With `resuming`, a single-PUT file whose
/// object exists gets no URL, and a file in parts lists the parts the store holds. An object
/// of another size than the file's (a body cut short that the store still kept: S3 stores
/// what a presigned PUT sends) would fail the commit forever, so resuming removes it and
/// hands out a URL to send the file again.
/// A URL never outlives its session (`session_expires_at`): past it nothing can commit what
/// the URL stores, and the staged objects are collected from then on, so a later PUT would
/// leave an object nothing collects.
async fn file_target(app: &App, f: &StagedFile, resuming: bool, session_expires_at: i64) -> AppResult<FileTarget> {
    let expires_at = (app.now() + app.limits.upload_url_ttl_secs).min(session_expires_at);
    let target = FileTarget { path: f.path.clone(), size: f.size, upload: None, parts: None };
    let staged = match (&f.multipart, resuming) {
        (None, true) => app.blobs.head(&f.object).await?,
        _ => None,
    };
    match &f.multipart {
        None if staged.as_ref().is_some_and(|meta| meta.size == f.size) => Ok(target),
        None => {
            // The upload URL creates only an absent object (S3: `If-None-Match: *`), so the
            // short one goes first (on AWS the upload role may delete under `uploads/`).
            if staged.is_some() {
                app.blobs.delete(&f.object).await?;
            }
            Ok(FileTarget { upload: Some(app.blobs.upload_url(&f.object, expires_at, f.size).await?), ..target })
        }
        Some(parts) => {
            let present = if resuming { app.blobs.list_parts(&f.object, &parts.upload_id).await? } else { Vec::new() };
            let urls =
                app.blobs.part_upload_urls(&f.object, &parts.upload_id, 1..=parts.count(f.size), expires_at).await?;
            Ok(FileTarget { parts: Some(PartUrls { part_size: parts.part_size, urls, present }), ..target })
        }
    }
}

/// Answers an upload's targets again, with fresh URLs and what has arrived (`POST
/// /api/v1/uploads/ID/resume`): a client interrupted mid-upload sends only what is missing,
/// into the same session. Only its starter may, while it is open and not committed.
pub async fn resume_upload(app: &App, caller: &Caller, id: &OpaqueId) -> AppResult<StartedUpload> {
    let session = own_session(app, caller, id).await?.0;
    if session.committed.is_some() {
        return Err(AppError::conflict(
            "upload-committed",
            format!("upload {id} is committed already; start a new upload to send files again"),
        ));
    }
    let mut targets = Vec::with_capacity(session.files.len());
    for f in &session.files {
        targets.push(file_target(app, f, true, session.expires_at).await?);
    }
    Ok(StartedUpload {
        id: session.id,
        release: session.release,
        base_revision: session.base.as_ref().map(|b| b.number),
        files: targets,
        expires_at: session.expires_at,
    })
}

/// The session `id`, if `caller` started it (and still may manage its release).
async fn own_session(app: &App, caller: &Caller, id: &OpaqueId) -> AppResult<(UploadSession, Item)> {
    let item = app
        .items
        .get(&keys::upload_session(id))
        .await?
        .ok_or_else(|| AppError::NotFound(format!("upload {id} not found (unknown, or expired uncommitted)")))?;
    let session: UploadSession = item.parse()?;
    let project = projects::get_project(app, &session.release.project).await?;
    let permit = authorize(&caller.person, Some(&project), Action::ManageRelease)?;
    if session.created_by != *permit.caller() {
        return Err(not_your_upload(id, &session.created_by));
    }
    Ok((session, item))
}

/// Stores a new session (`item`, put if absent) with the record that collects its staged
/// objects, and answers where the client sends each staged file: one URL, or one per part.
/// Shared by uploads and imports.
pub(crate) async fn open_session(
    app: &App,
    id: &OpaqueId,
    item: Item,
    staged: &[StagedFile],
    expires_at: i64,
) -> AppResult<Vec<FileTarget>> {
    let objects: Vec<&str> = staged.iter().map(|f| f.object.as_str()).collect();
    store_session(app, id, item, &objects, expires_at).await?;
    let mut targets = Vec::with_capacity(staged.len());
    for f in staged {
        targets.push(file_target(app, f, false, expires_at).await?);
    }
    Ok(targets)
}

/// Stores a new session (`item`, put if absent) with the record that collects its staged
/// `objects`. Shared by uploads and imports.
async fn store_session(app: &App, id: &OpaqueId, item: Item, objects: &[&str], expires_at: i64) -> AppResult<()> {
    let now = app.now();
    // Staged objects outlive a commit (so a second PUT to a URL finds its object there and is
    // refused) and an abandoned session; they are collected once neither the session nor its
    // URLs can be used any more (`collect_staged`). A week's expiry removes the record where
    // the store collects instead (S3's lifecycle rule on `uploads/`, infra/template.json).
    let collect_at = expires_at.max(now + app.limits.upload_url_ttl_secs);
    let collect = Item::new(keys::staged_collection(id), json!({ "at": collect_at, "objects": objects }))
        .with_gsi1(keys::staged_collection_index(collect_at, id))
        .with_expiry(collect_at + 7 * 24 * 3600);
    app.items
        .transact(vec![
            WriteOp::Put { item, condition: Condition::Absent },
            WriteOp::Put { item: collect, condition: Condition::Absent },
        ])
        .await?;
    Ok(())
}

/// SHA-512 of a stored object: the store's own digest when it computed one while the bytes
/// streamed in, else by reading the object once ([`object_hashes`]).
pub(crate) async fn object_sha512(app: &App, object: &str, meta: &trs_storage::BlobMeta) -> AppResult<Sha512> {
    let hashed = object_hashes(app, object, meta).await?;
    parse_sha512(&hashed)
}

fn parse_sha512(meta: &trs_storage::BlobMeta) -> AppResult<Sha512> {
    let hex = meta.sha512.as_deref().ok_or_else(|| AppError::Internal(format!("{} was not hashed", meta.key)))?;
    hex.parse().map_err(|e: trs_core::IdError| AppError::Internal(e.to_string()))
}

/// `meta` with the object's SHA-512 and hash states: as the store has them (the embedded
/// store computed them while the bytes streamed in), else computed reading the object once,
/// SHA-512 and SHA-256 each on a thread of its own beside the reading
/// ([`trs_storage::intake`]), so the pass takes as long as SHA-512 alone.
pub(crate) async fn object_hashes(
    app: &App,
    object: &str,
    meta: &trs_storage::BlobMeta,
) -> AppResult<trs_storage::BlobMeta> {
    if meta.sha512.is_some() {
        return Ok(meta.clone());
    }
    let mut stream = app.blobs.get(object).await?;
    let mut intake = trs_storage::intake::Intake::hash_only();
    let mut receive_wait = std::time::Duration::ZERO;
    loop {
        let waiting = std::time::Instant::now();
        let Some(chunk) = stream.next().await else { break };
        receive_wait += waiting.elapsed();
        if intake.feed(chunk.map_err(BlobError::Io)?).await.is_err() {
            break;
        }
    }
    let (hashes, timings) =
        intake.finish(receive_wait).await.map_err(|e| AppError::Internal(format!("hashing {object}: {e}")))?;
    timings.log(object, hashes.size);
    use trs_storage::blob::hash_state::encode;
    Ok(trs_storage::BlobMeta {
        key: meta.key.clone(),
        size: hashes.size,
        sha512_state: Some(encode(&hashes.sha512)),
        sha256_state: Some(encode(&hashes.sha256)),
        sha512: Some(hex::encode(hashes.sha512.finalize())),
    })
}

/// The commit call: checks that the caller may commit this upload, then queues its commit
/// task and answers with it at once (the task's id is the upload's; `GET /api/v1/tasks/ID`
/// follows it). Idempotent: a commit asked for again answers the task already queued,
/// running or done (announcing a queued one again), and queues a failed one again, so a
/// commit refused because a file had not arrived yet can be asked for again once it has.
/// After the session expired (a day after the start), the task still answers.
///
/// `req` names the ETags of the parts of every file sent in parts; they are kept in the
/// session (replacing those of an earlier request; a file left out keeps those named
/// before) for the commit to complete each multipart upload with (`parts-not-named` when a
/// file's list has the wrong length, or is missing and was never named).
pub async fn request_commit(app: &App, caller: &Caller, id: &OpaqueId, req: &CommitUpload) -> AppResult<Task> {
    let Some(session_item) = app.items.get(&keys::upload_session(id)).await? else {
        return crate::tasks::commit_after_session(app, &caller.person.uid, "upload", id, |kind| match kind {
            TaskKind::Commit { requested_by, .. } => Some(requested_by),
            _ => None,
        })
        .await;
    };
    let session: UploadSession = session_item.parse()?;
    let project = projects::get_project(app, &session.release.project).await?;
    let permit = authorize(&caller.person, Some(&project), Action::ManageRelease)?;
    if session.created_by != *permit.caller() {
        return Err(not_your_upload(id, &session.created_by));
    }
    if session.committed.is_none() {
        record_part_etags(app, &session, &session_item, req).await?;
    }
    let kind = TaskKind::Commit { upload: id.clone(), release: session.release.clone(), requested_by: caller.actor() };
    crate::tasks::queue_once(app, id, kind, &format!("the commit of upload {id}")).await
}

/// Keeps the ETags `req` names for the session's files sent in parts (a conditional write:
/// a concurrent change of the session is a `concurrent-update` the client asks again after).
async fn record_part_etags(app: &App, session: &UploadSession, item: &Item, req: &CommitUpload) -> AppResult<()> {
    let mut files = session.files.clone();
    if !name_part_etags(&format!("upload {}", session.id), &mut files, req)? {
        return Ok(());
    }
    let updated = json!(UploadSession { files, ..session.clone() });
    put_named_etags(app, item, updated, &format!("upload {}", session.id)).await
}

/// Writes a session (`what`) with the ETags its commit request named, over the version read:
/// a concurrent change is a `concurrent-update` the client asks again after. Shared by
/// uploads and imports.
pub(crate) async fn put_named_etags(app: &App, read: &Item, session: serde_json::Value, what: &str) -> AppResult<()> {
    match app.items.put(read.updated(session), Condition::VersionIs(read.version)).await {
        Ok(()) => Ok(()),
        Err(e) if e.is_conflict() => Err(AppError::conflict(
            "concurrent-update",
            format!("{what} changed while its commit was asked for; retry"),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Lays the ETags `req` names on the `files` sent in parts (of `session`, named in errors):
/// `parts-not-named` when `req` names a file that is not one of them, a file's list has the
/// wrong length, or a file's list is missing and no earlier request named it. A file `req`
/// leaves out keeps the ETags an earlier request named, so a commit asked for again with
/// `{}` (a script polling, a retry after a timeout) answers its task. Whether any changed.
pub(crate) fn name_part_etags(session: &str, files: &mut [StagedFile], req: &CommitUpload) -> AppResult<bool> {
    if let Some(unknown) = req.parts.keys().find(|p| !files.iter().any(|f| f.path.as_str() == p.as_str())) {
        return Err(AppError::bad_request("parts-not-named", format!("{unknown} is not a file sent in {session}")));
    }
    let mut changed = false;
    for f in files.iter_mut() {
        let size = f.size;
        let Some(parts) = f.multipart.as_mut() else { continue };
        let count = parts.count(size) as usize;
        let named = req.parts.get(f.path.as_str());
        match named {
            Some(etags) if etags.len() == count => {
                changed |= parts.etags != *etags;
                parts.etags = etags.clone();
            }
            None if parts.etags.len() == count => {}
            _ => {
                return Err(AppError::bad_request(
                    "parts-not-named",
                    format!(
                        "{} was sent in {count} parts; the commit must name the ETag of each ({} named)",
                        f.path,
                        named.map(Vec::len).unwrap_or(0)
                    ),
                ));
            }
        }
    }
    Ok(changed)
}

/// The staged object of `f` once its bytes are all there: a file sent in parts has its
/// multipart upload completed first ([`complete_parts`]); `file-not-uploaded` when they never
/// arrived. What an upload's and an import's commit read each staged file from.
pub(crate) async fn arrived(app: &App, f: &StagedFile) -> AppResult<trs_storage::BlobMeta> {
    if let Some(parts) = &f.multipart {
        complete_parts(app, f, parts).await?;
    }
    app.blobs.head(&f.object).await?.ok_or_else(|| {
        AppError::bad_request("file-not-uploaded", format!("{} was declared but its bytes never arrived", f.path))
    })
}

/// Makes a file sent in parts its staged object: every part present, of its size, and the
/// one the client sent (its ETag is the one the commit request named: `part-changed`
/// otherwise), then the multipart upload completed. A run after an earlier one completed it
/// finds the object.
async fn complete_parts(app: &App, f: &StagedFile, parts: &StagedParts) -> AppResult<()> {
    if app.blobs.head(&f.object).await?.is_some() {
        return Ok(());
    }
    let count = parts.count(f.size);
    if parts.etags.len() != count as usize {
        return Err(AppError::bad_request(
            "parts-not-named",
            format!("{} was sent in {count} parts; the commit must name the ETag of each", f.path),
        ));
    }
    let listed = match app.blobs.list_parts(&f.object, &parts.upload_id).await {
        Ok(listed) => listed,
        Err(BlobError::UploadNotFound { .. }) => return Err(upload_gone(f)),
        Err(e) => return Err(e.into()),
    };
    let unquoted = |etag: &str| etag.trim_matches('"').to_string();
    for number in 1..=count {
        let Some(stored) = listed.iter().find(|p| p.number == number) else {
            return Err(AppError::bad_request(
                "file-not-uploaded",
                format!("part {number} of {count} of {} never arrived; run the upload again to send it", f.path),
            ));
        };
        let expected = parts.part_len(f.size, number);
        if stored.size != expected {
            return Err(AppError::bad_request(
                "size-mismatch",
                format!("part {number} of {} should hold {expected} bytes but {} arrived", f.path, stored.size),
            ));
        }
        if unquoted(&stored.etag) != unquoted(&parts.etags[number as usize - 1]) {
            return Err(part_changed(f, Some(number)));
        }
    }
    match app.blobs.complete_multipart(&f.object, &parts.upload_id, &parts.etags).await {
        Ok(()) | Err(BlobError::AlreadyExists(_)) => Ok(()),
        // Changed between the listing and the completion.
        Err(BlobError::PartMismatch(_)) => Err(part_changed(f, None)),
        // Completed by a concurrent run of this commit, or aborted.
        Err(BlobError::UploadNotFound { .. }) if app.blobs.head(&f.object).await?.is_some() => Ok(()),
        Err(BlobError::UploadNotFound { .. }) => Err(upload_gone(f)),
        Err(e) => Err(e.into()),
    }
}

fn part_changed(f: &StagedFile, number: Option<u32>) -> AppError {
    let which = number.map(|n| format!("part {n}")).unwrap_or_else(|| "a part".into());
    AppError::conflict(
        "part-changed",
        format!(
            "{which} of {} is not the part this upload sent: its bytes were replaced after it was sent; \
             run the upload again to send it anew",
            f.path
        ),
    )
}

fn upload_gone(f: &StagedFile) -> AppError {
    AppError::conflict(
        "upload-expired",
        format!("the parts of {} are gone (the store aborted the incomplete upload); upload the files again", f.path),
    )
}

fn not_your_upload(id: &OpaqueId, by: &PersonUid) -> AppError {
    crate::tasks::not_yours("upload", id, by)
}

/// The commit task: every declared file must be complete (`file-not-uploaded`,
/// `size-mismatch`) before anything becomes visible; each is hashed and copied to its content
/// address (if absent: a copy made by an earlier, interrupted run is found there), with a
/// progress line after a file at most once per percent of the bytes; then [`commit_revision`]
/// writes the revision. Returns the
/// [`CommittedUpload`] as the task's result.
pub(crate) async fn execute_commit(
    run: &mut TaskRun<'_>,
    id: &OpaqueId,
    requested_by: &Actor,
) -> AppResult<serde_json::Value> {
    let app = run.app;
    let session_item = app.items.get(&keys::upload_session(id)).await?.ok_or_else(|| {
        AppError::NotFound(format!("upload {id} expired before its commit ran; upload the files again"))
    })?;
    let session: UploadSession = session_item.parse()?;
    if let Some(done) = &session.committed {
        return Ok(json!(done));
    }
    let total = session.files.len();
    let total_bytes: u64 = session.files.iter().map(|f| f.size).sum();
    let (mut done_bytes, mut reported) = (0u64, 0u64);
    let mut entries = Vec::with_capacity(total);
    for (i, f) in session.files.iter().enumerate() {
        let started = std::time::Instant::now();
        let meta = arrived(app, f).await?;
        let arrived_at = std::time::Instant::now();
        if meta.size != f.size {
            return Err(AppError::bad_request(
                "size-mismatch",
                format!(
                    "{} was declared as {} bytes but {} arrived; run the upload again to send the file anew",
                    f.path, f.size, meta.size
                ),
            ));
        }
        let hashed = object_hashes(app, &f.object, &meta).await?;
        let sha512 = parse_sha512(&hashed)?;
        let hashed_at = std::time::Instant::now();
        match app.blobs.copy_if_absent_with_hashes(&f.object, &keys::file_object(&sha512), &hashed).await {
            Ok(_) | Err(BlobError::AlreadyExists(_)) => {}
            Err(e) => return Err(e.into()),
        }
        // Where a file's commit went: completing its multipart upload (AWS), reading it back
        // to hash it (where the store did not hash it on the way in), copying it to its
        // content address.
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
        tracing::debug!(
            target: "trs::timing",
            stage = "commit-file",
            key = %f.object,
            bytes = f.size,
            arrived_ms = ms(arrived_at - started),
            hash_ms = ms(hashed_at - arrived_at),
            copy_ms = ms(hashed_at.elapsed()),
            total_ms = ms(started.elapsed()),
        );
        entries.push(ManifestEntry { path: f.path.clone(), size: f.size, sha512 });
        // A progress line per file, but at most one per percent of the bytes: each is a write
        // of the task item, and 500 small files must not cost 500 writes.
        done_bytes += f.size;
        let percent = (done_bytes * 100).checked_div(total_bytes).unwrap_or(100);
        if percent > reported || i + 1 == total {
            reported = percent;
            let line = format!("{} of {total} files stored ({}, {} bytes)", i + 1, f.path, f.size);
            run.progress("commit", line).await?;
        }
    }

    // The staged objects stay until `collect_staged`: while a URL is valid, a second PUT to it
    // must find its object present and be refused, not store bytes nobody will read.
    let committed = commit_revision(app, requested_by, &session, &session_item, entries).await?;
    Ok(json!(committed))
}

/// The whole commit in this process: [`request_commit`], then its task run here rather than
/// by a worker (tools and tests; the hosts answer the request and leave the task to their
/// workers). A refused commit is the error the task failed with.
pub async fn commit_upload(app: &App, caller: &Caller, id: &OpaqueId) -> AppResult<CommittedUpload> {
    let task = request_commit(app, caller, id, &CommitUpload::default()).await?;
    let result = crate::tasks::run_through(app, &task.id, &format!("upload {id}")).await?;
    serde_json::from_value(result).map_err(|e| AppError::Internal(e.to_string()))
}

/// Deletes the staged objects of upload sessions that can no longer be used — committed or
/// abandoned, their URLs and the session expired — and their collection records. Run by the
/// embedded host's sweep; on AWS, S3's lifecycle rule on `uploads/` collects instead.
/// Idempotent: a record is removed only after all its objects are gone. Returns how many
/// sessions were collected.
pub async fn collect_staged(app: &App) -> AppResult<usize> {
    #[derive(serde::Deserialize)]
    struct Collection {
        objects: Vec<String>,
    }
    let mut collected = 0;
    let due: Vec<Item> = {
        let mut out = Vec::new();
        let mut query = keys::staged_collections_until(app.now());
        loop {
            let page = app.items.query_gsi1(query.clone()).await?;
            out.extend(page.items);
            match page.next {
                Some(next) => query.after = Some(next),
                None => break out,
            }
        }
    };
    for item in due {
        let collection: Collection = item.parse()?;
        for object in &collection.objects {
            match app.blobs.delete(object).await {
                Ok(()) | Err(BlobError::NotFound(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        app.items.delete(&item.key, Condition::VersionIs(item.version)).await?;
        collected += 1;
    }
    Ok(collected)
}

/// The all-or-nothing step: revision, release head, verify task, and the session marked
/// committed with what the commit made. When the file set equals the latest revision's, only
/// the session is marked.
async fn commit_revision(
    app: &App,
    actor: &Actor,
    session: &UploadSession,
    session_item: &Item,
    entries: Vec<ManifestEntry>,
) -> AppResult<CommittedUpload> {
    let entries = &entries;
    retry::on_conflict(retry::ATTEMPTS, retry::too_busy("the release"), || async move {
        let now = app.now();
        let existing = get_release(app, &session.release).await?;
        let (release, release_condition, previous) = match existing {
            Some((r, item)) => {
                if !r.stage.accepts_uploads() {
                    return Err(stage_refuses_upload(&r));
                }
                if r.latest != session.base && !session.force {
                    let latest = r.latest.as_ref().map(|l| l.number).unwrap_or(0);
                    return Err(AppError::conflict(
                        "stale-base",
                        format!(
                            "revision {latest} of {} was committed after this upload started from revision {}; \
                             upload again to build on it, or use --force to lay these files on top of it",
                            r.id,
                            session.base.as_ref().map(|b| b.number).unwrap_or(0)
                        ),
                    ));
                }
                let previous = match &r.latest {
                    Some(l) => Some(get_revision(app, &r.id, l.number).await?),
                    None => None,
                };
                (r, Some(item), previous)
            }
            None => {
                if session.base.is_some() && !session.force {
                    return Err(AppError::conflict(
                        "stale-base",
                        format!(
                            "{} was discarded after this upload started; upload again to start it afresh",
                            session.release
                        ),
                    ));
                }
                (Release::new(session.release.clone(), now), None, None)
            }
        };
        let (manifest, removed) =
            next_manifest(previous.as_ref().map(|p| &p.manifest), entries.clone(), &session.remove, session.replace)?;
        if let Some(prev) = previous.as_ref().filter(|p| p.manifest.key() == manifest.key()) {
            return Ok(Attempt::Done(nothing_changed(app, session, session_item, prev).await?));
        }
        // A version uploaded again after its draft was discarded numbers on from the
        // discarded revisions, which stay on record (the stream names them).
        let number = match &previous {
            Some(p) => p.number + 1,
            None => crate::draft::discarded_revisions(app, &session.release).await? + 1,
        };
        let revision = Revision {
            number,
            key: manifest.key(),
            parent: previous.as_ref().map(|p| p.key),
            manifest,
            uploaded_by: session.created_by.clone(),
            created_at: now,
        };
        let forced = release.latest != session.base;
        let next_release =
            Release { latest: Some(RevisionRef { number, key: revision.key }), updated_at: now, ..release };
        let task = Task::new(TaskKind::Verify { release: session.release.clone(), revision: number }, now);
        let committed = CommittedUpload {
            release: session.release.clone(),
            changed: true,
            revision: number,
            revision_key: revision.key,
            files: entries.len(),
            removed: removed.clone(),
            task: Some(task.id.clone()),
        };
        let release_put = match &release_condition {
            Some(item) => {
                WriteOp::Put { item: item.updated(json!(next_release)), condition: Condition::VersionIs(item.version) }
            }
            None => WriteOp::Put {
                item: Item::new(keys::release(&session.release), json!(next_release)),
                condition: Condition::Absent,
            },
        };
        // A manifest of thousands of files spills into parts (`large_item`), written after the
        // revision's head item.
        let mut revision_ops = crate::large_item::put_ops(
            Item::new(keys::revision(&session.release, number), json!(revision)),
            Condition::Absent,
        );
        let revision_head = revision_ops.remove(0);
        let mut ops = vec![
            release_put,
            revision_head,
            WriteOp::Put { item: task.queued_item(), condition: Condition::Absent },
            WriteOp::Put {
                item: committed_session(session, session_item, &committed),
                condition: Condition::VersionIs(session_item.version),
            },
        ];
        ops.extend(revision_ops);
        let draft = EventDraft::new(
            Some(actor.clone()),
            Change::RevisionPushed {
                revision: number,
                base: session.base.as_ref().map(|b| b.number),
                forced,
                files: entries.len(),
                removed: removed.len(),
                replaced: session.replace,
            },
        )
        .release(&session.release)
        .revision(revision.key);
        let draft = if release_condition.is_none() { draft.stage(None, Stage::CandidateDraft) } else { draft };
        let stream = StreamId::Project(session.release.project.clone());
        match stream::commit_with_event(app, &stream, draft, ops).await? {
            Committed::Done(_) => {
                crate::tasks::announce(app, &task).await;
                Ok(Attempt::Done(committed))
            }
            // The session changed: another run of this commit finished first.
            Committed::Conflict { key, .. } if key == session_item.key => {
                Ok(Attempt::Done(recorded_commit(app, session).await?))
            }
            // Someone else moved the release head: look again (the stale-base check decides).
            Committed::Conflict { .. } => Ok(Attempt::Conflicted),
        }
    })
    .await
}

/// The session's next version, marked committed with `committed`; written on the condition
/// that the session is still the version the commit read, so a second run of the same commit
/// cannot also write.
fn committed_session(session: &UploadSession, item: &Item, committed: &CommittedUpload) -> Item {
    item.updated(json!(UploadSession { committed: Some(committed.clone()), ..session.clone() }))
}

/// What another run of this commit recorded (it won the race to the session).
async fn recorded_commit(app: &App, session: &UploadSession) -> AppResult<CommittedUpload> {
    let item = app.items.get(&keys::upload_session(&session.id)).await?;
    let recorded = item.map(|i| i.parse::<UploadSession>()).transpose()?.and_then(|s| s.committed);
    recorded.ok_or_else(|| {
        AppError::conflict("concurrent-update", format!("upload {} changed while it was committed; retry", session.id))
    })
}

/// The upload's file set is the latest revision's: no revision, no verification, no event;
/// the session is marked committed (conditionally, as a commit that makes a revision).
async fn nothing_changed(
    app: &App,
    session: &UploadSession,
    session_item: &Item,
    latest: &Revision,
) -> AppResult<CommittedUpload> {
    let committed = CommittedUpload {
        release: session.release.clone(),
        changed: false,
        revision: latest.number,
        revision_key: latest.key,
        files: session.files.len(),
        removed: Vec::new(),
        task: None,
    };
    let marked = committed_session(session, session_item, &committed);
    match app.items.put(marked, Condition::VersionIs(session_item.version)).await {
        Ok(()) => Ok(committed),
        Err(e) if e.is_conflict() => recorded_commit(app, session).await,
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str, byte: u8) -> ManifestEntry {
        ManifestEntry { path: path.parse().unwrap(), size: 1, sha512: Sha512::from_bytes([byte; 64]) }
    }

    fn paths(m: &Manifest) -> Vec<&str> {
        m.entries().iter().map(|e| e.path.as_str()).collect()
    }

    fn names(list: &[&str]) -> Vec<ArtifactPath> {
        list.iter().map(|p| p.parse().unwrap()).collect()
    }

    fn previous() -> Manifest {
        Manifest::new(vec![
            entry("a.tar.gz", 1),
            entry("a.tar.gz.asc", 2),
            entry("a.tar.gz.sha512", 3),
            entry("a.tar.gz.md5", 4),
            entry("b.zip", 5),
            entry("b.zip.asc", 6),
            entry("a.tar.gz.txt", 7),
        ])
        .unwrap()
    }

    #[test]
    fn uploads_lay_files_on_top_of_the_previous_revision() {
        let (m, removed) =
            next_manifest(Some(&previous()), vec![entry("b.zip", 9), entry("c", 1)], &[], false).unwrap();
        assert_eq!(m.entries().len(), 8);
        assert_eq!(m.get("b.zip").unwrap().sha512, Sha512::from_bytes([9; 64]));
        assert!(removed.is_empty());
    }

    #[test]
    fn a_removed_file_takes_its_sidecars_but_not_a_look_alike_nor_one_sent_again() {
        let (m, removed) =
            next_manifest(Some(&previous()), vec![entry("a.tar.gz.asc", 8)], &names(&["a.tar.gz"]), false).unwrap();
        assert_eq!(paths(&m), ["a.tar.gz.asc", "a.tar.gz.txt", "b.zip", "b.zip.asc"]);
        assert_eq!(removed, names(&["a.tar.gz", "a.tar.gz.md5", "a.tar.gz.sha512"]));
    }

    #[test]
    fn removing_a_sidecar_removes_only_it() {
        let (m, removed) = next_manifest(Some(&previous()), vec![], &names(&["b.zip.asc"]), false).unwrap();
        assert!(m.get("b.zip").is_some() && m.get("b.zip.asc").is_none());
        assert_eq!(removed, names(&["b.zip.asc"]));
    }

    #[test]
    fn replace_keeps_exactly_the_files_sent() {
        let (m, removed) = next_manifest(Some(&previous()), vec![entry("b.zip", 5)], &[], true).unwrap();
        assert_eq!(paths(&m), ["b.zip"]);
        assert_eq!(removed.len(), 6);
    }

    #[test]
    fn removing_a_file_that_is_not_there_or_everything_is_refused() {
        let err = next_manifest(Some(&previous()), vec![], &names(&["nope.tar.gz"]), false).unwrap_err();
        assert_eq!(err.code(), "not-in-revision");
        assert!(err.to_string().contains("nope.tar.gz"), "{err}");
        let err = next_manifest(None, vec![], &names(&["a"]), false).unwrap_err();
        assert_eq!(err.code(), "not-in-revision");
        let err = next_manifest(Some(&previous()), vec![], &names(&["a.tar.gz", "b.zip", "a.tar.gz.txt"]), false)
            .unwrap_err();
        assert_eq!(err.code(), "empty-revision");
    }

    fn staged_in_parts(path: &str, etags: &[&str]) -> StagedFile {
        StagedFile {
            path: path.parse().unwrap(),
            object: format!("staging/u/{path}"),
            size: 3,
            multipart: Some(StagedParts {
                upload_id: "mp".into(),
                part_size: 1,
                etags: etags.iter().map(|e| e.to_string()).collect(),
            }),
        }
    }

    fn naming(path: &str, etags: &[&str]) -> CommitUpload {
        CommitUpload { parts: [(path.to_string(), etags.iter().map(|e| e.to_string()).collect())].into() }
    }

    #[test]
    fn a_commit_asked_again_without_parts_keeps_those_named_before() {
        let mut files = [staged_in_parts("a.tar.gz", &[])];
        let err = name_part_etags("upload u", &mut files, &CommitUpload::default()).unwrap_err();
        assert_eq!(err.code(), "parts-not-named", "nothing named yet");

        assert!(name_part_etags("upload u", &mut files, &naming("a.tar.gz", &["1", "2", "3"])).unwrap());
        assert!(!name_part_etags("upload u", &mut files, &CommitUpload::default()).unwrap(), "kept as named");
        assert_eq!(files[0].multipart.as_ref().unwrap().etags, ["1", "2", "3"]);

        assert!(name_part_etags("upload u", &mut files, &naming("a.tar.gz", &["1", "X", "3"])).unwrap());
        assert_eq!(files[0].multipart.as_ref().unwrap().etags, ["1", "X", "3"], "a new list replaces the old");
        let err = name_part_etags("upload u", &mut files, &naming("a.tar.gz", &["1"])).unwrap_err();
        assert_eq!(err.code(), "parts-not-named", "too few");
        let err = name_part_etags("upload u", &mut files, &naming("b.zip", &["1"])).unwrap_err();
        assert_eq!(err.code(), "parts-not-named", "not a file of the session");
    }

    #[test]
    fn the_same_files_again_make_the_same_key() {
        let (m, _) = next_manifest(Some(&previous()), vec![entry("b.zip", 5)], &[], false).unwrap();
        assert_eq!(m.key(), previous().key(), "an identical re-upload is recognised by its key");
    }
}

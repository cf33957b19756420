//! Importing an existing release history (`trs import`): a release published before trs
//! existed is created directly as `current` or `archived`, with its original date, once its
//! files' signatures and checksums verify. Two signed calls per release, admin only:
//!
//! 1. **start**: the importer declares the files (path, size, SHA-512) and the release's
//!    stage and date. A release already imported with exactly these files in that stage is
//!    answered `already_imported` (a second run changes nothing); any other existing release of
//!    that version is refused (`release-exists`: an import never changes a release). Files
//!    whose bytes the content-addressed store already holds get no upload URL: bytes are stored
//!    once, however many releases or runs name them. A file larger than one part of the blob
//!    store is sent in parts, as an upload's is (S3 takes at most 5 GiB in one PUT).
//! 2. **commit**: the call (naming the ETags of the parts of files sent in parts) queues a
//!    tracked task and answers at once ([`request_commit`]; the task's id is the import's), as
//!    an upload's commit does: hashing and checking many files
//!    takes longer than an API request may. The task has two phases, each run by the worker
//!    whose role may do it ([`ImportPhase`]): **store**, the staged bytes must hash to what was
//!    declared and move to the content-addressed store; then **publish**, every check runs on
//!    them, the same checks as an upload's verification
//!    ([`crate::verify_task::check_revision`]), plus the old `.md5`/`.sha1` of an artifact that
//!    has no `.sha512`/`.sha256` ([`trs_checks::legacy`]). **Verified before public**: if any
//!    signature fails, or any checksum file present does not match, nothing is published and
//!    the task fails with `import-refused` naming each file and reason. Else the files are
//!    copied to their public paths (put-if-absent, as a promotion does), and one transaction
//!    writes the release, its revision, its report and the `imported` event.
//!
//! Resumable: every step before the transaction is idempotent, and nothing is public (trs
//! serves a release's files only once the release exists) until it commits; an import killed
//! midway is finished by running it again.

use crate::app::App;
use crate::authenticate::Caller;
use crate::error::{AppError, AppResult};
use crate::projects;
use crate::public_copies;
use crate::releases::{get_release, get_revision};
use crate::status::StoredReport;
use crate::storage_keys as keys;
use crate::stream::{self, Committed};
use crate::tasks::{Ran, Task, TaskKind, TaskRun};
use crate::upload::{
    FileTarget, StagedFile, StagedParts, arrived, check_part_count, check_product_line, name_part_etags, object_sha512,
    open_session, put_named_etags, stage_file,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeSet;
use trs_api::uploads::CommitUpload;
use trs_checks::Sidecar;
use trs_core::{
    Action, Actor, ArtifactPath, Change, CheckKind, CheckResult, EventDraft, Manifest, ManifestEntry, OpaqueId,
    Outcome, PersonUid, ProductName, Release, ReleaseId, Revision, RevisionKey, RevisionRef, RevisionReport, Sha512,
    Stage, StageSegment, StreamId, authorize,
};
use trs_storage::{BlobError, Condition, Item, WriteOp};

/// The two phases of an import's commit task ([`TaskKind::Import`]), each run by the worker
/// whose role may do it: the upload function writes the content-addressed files, the promote
/// function the public paths (infra/template.json's bucket policy lets no one role do both).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImportPhase {
    /// Check each staged file's bytes against its declared digest and move it to the
    /// content-addressed store.
    Store,
    /// Check the stored files, then publish the release (or refuse it).
    Publish,
}

/// The stage an imported release is created in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImportStage {
    /// From the distribution tree (`trs import ROOT`): public at `/current/…`.
    Current,
    /// From the archive tree (`--archive ROOT2`): public at `/archive/…`.
    Archived,
}

impl ImportStage {
    pub fn stage(self) -> Stage {
        match self {
            ImportStage::Current => Stage::Current,
            ImportStage::Archived => Stage::Archived,
        }
    }

    /// The stage segment of its public paths.
    fn segment(self) -> StageSegment {
        match self {
            ImportStage::Current => StageSegment::Current,
            ImportStage::Archived => StageSegment::Archive,
        }
    }
}

/// A file of an imported release: its path (checked by [`start_import`]), size and digest.
#[derive(Debug, Clone)]
pub struct DeclaredImportFile {
    pub path: String,
    pub size: u64,
    pub sha512: Sha512,
}

/// What an import's start declares. Requests carry it as trs_api's `StartImport` (the upload
/// function parses its product and digests into this).
#[derive(Debug, Clone)]
pub struct StartImport {
    pub product: Option<ProductName>,
    pub stage: ImportStage,
    /// Unix seconds: when the release was originally published (not in the future).
    pub released_at: i64,
    pub files: Vec<DeclaredImportFile>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ImportFile {
    path: ArtifactPath,
    size: u64,
    sha512: Sha512,
    /// Where its bytes are staged; `None` when the content-addressed store already held them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    object: Option<String>,
    /// The multipart upload that becomes `object`, for a file larger than one part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    multipart: Option<StagedParts>,
}

impl ImportFile {
    /// The file as an upload stages it, when its bytes are sent.
    fn staged(&self) -> Option<StagedFile> {
        Some(StagedFile {
            path: self.path.clone(),
            size: self.size,
            object: self.object.clone()?,
            multipart: self.multipart.clone(),
        })
    }
}

/// A started, uncommitted import (stored until it expires).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ImportSession {
    id: OpaqueId,
    release: ReleaseId,
    stage: ImportStage,
    released_at: i64,
    files: Vec<ImportFile>,
    created_by: PersonUid,
    created_at: i64,
    expires_at: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StartedImport {
    pub release: ReleaseId,
    /// The release was imported before with exactly these files in this stage: nothing to do
    /// (no session; `id` is absent).
    pub already_imported: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<OpaqueId>,
    /// Where to send the files whose bytes the store does not hold yet: one URL each, or one
    /// per part for a file larger than one part of the blob store.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uploads: Vec<FileTarget>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImportedRelease {
    pub release: ReleaseId,
    pub stage: Stage,
    pub released_at: i64,
    pub revision_key: RevisionKey,
    pub files: usize,
    /// Already imported before this call (by an earlier run, or a concurrent one).
    pub already_imported: bool,
    /// Checks that warn or fail without refusing the import (a missing checksum file, a
    /// source archive without NOTICE…), as `FILE: CHECK: REASON`; `trs status` shows them all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<String>,
}

fn manifest_of(files: &[ImportFile]) -> AppResult<Manifest> {
    Ok(Manifest::new(
        files.iter().map(|f| ManifestEntry { path: f.path.clone(), size: f.size, sha512: f.sha512 }).collect(),
    )?)
}

/// `Ok(true)` when `existing` is this very import done already; `release-exists` when it is
/// anything else.
async fn matches_existing(app: &App, existing: &Release, stage: ImportStage, manifest: &Manifest) -> AppResult<bool> {
    let same_files = match &existing.latest {
        Some(latest) => get_revision(app, &existing.id, latest.number).await?.manifest.key() == manifest.key(),
        None => false,
    };
    if same_files && existing.stage == stage.stage() {
        return Ok(true);
    }
    Err(AppError::conflict(
        "release-exists",
        format!(
            "{} already exists in stage {}{}; an import never changes an existing release",
            existing.id,
            existing.stage,
            if same_files { "" } else { " with other files" }
        ),
    ))
}

async fn authorized(app: &App, caller: &Caller, release: &ReleaseId) -> AppResult<()> {
    let project = projects::get_project(app, &release.project).await?;
    authorize(&caller.person, Some(&project), Action::Administer)?;
    check_product_line(&project, release)
}

pub async fn start_import(
    app: &App,
    caller: &Caller,
    release: ReleaseId,
    req: StartImport,
) -> AppResult<StartedImport> {
    if req.files.is_empty() {
        return Err(AppError::bad_request("no-files", "an imported release needs at least one file"));
    }
    if req.files.len() > app.limits.max_files_per_upload {
        return Err(AppError::bad_request(
            "too-many-files",
            format!("{} files in one release; the limit is {}", req.files.len(), app.limits.max_files_per_upload),
        ));
    }
    let now = app.now();
    if req.released_at <= 0 || req.released_at > now {
        return Err(AppError::bad_request(
            "invalid-date",
            format!("released_at {} is not a past date (unix seconds, now is {now})", req.released_at),
        ));
    }
    let mut files = Vec::with_capacity(req.files.len());
    for f in &req.files {
        let path = app.limits.admit_file(&f.path, f.size)?;
        files.push(ImportFile { path, size: f.size, sha512: f.sha512, object: None, multipart: None });
    }
    let manifest = manifest_of(&files)?;
    authorized(app, caller, &release).await?;
    if let Some((existing, _)) = get_release(app, &release).await? {
        matches_existing(app, &existing, req.stage, &manifest).await?;
        return Ok(StartedImport { release, already_imported: true, id: None, uploads: Vec::new(), expires_at: None });
    }

    let id = App::new_id();
    let mut to_send = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let stored = app.blobs.head(&keys::file_object(&f.sha512)).await?;
        if stored.is_none_or(|m| m.size != f.size) {
            to_send.push(i);
        }
    }
    let sizes: Vec<u64> = to_send.iter().map(|&i| files[i].size).collect();
    check_part_count(app, &sizes, "import this release's largest files on their own first")?;
    let mut staged = Vec::with_capacity(to_send.len());
    for i in to_send {
        let f = stage_file(app, files[i].path.clone(), files[i].size, keys::staged_object(&id, i)).await?;
        files[i].object = Some(f.object.clone());
        files[i].multipart = f.multipart.clone();
        staged.push(f);
    }
    let session = ImportSession {
        id: id.clone(),
        release: release.clone(),
        stage: req.stage,
        released_at: req.released_at,
        files,
        created_by: caller.person.uid.clone(),
        created_at: now,
        expires_at: now + app.limits.upload_session_ttl_secs,
    };
    let item = Item::new(keys::import_session(&id), json!(session)).with_expiry(session.expires_at);
    let uploads = open_session(app, &id, item, &staged, session.expires_at).await?;
    Ok(StartedImport { release, already_imported: false, id: Some(id), uploads, expires_at: Some(session.expires_at) })
}

/// Moves every staged file into the content-addressed store after checking its bytes hash to
/// what was declared; a file that was not staged must be there already. Returns how many
/// were staged (sent by the importer).
async fn store_files(app: &App, session: &ImportSession) -> AppResult<usize> {
    let mut sent = 0;
    for f in &session.files {
        let cas = keys::file_object(&f.sha512);
        let Some(staged) = f.staged() else {
            if app.blobs.head(&cas).await?.is_none() {
                return Err(AppError::Internal(format!("{}: stored bytes {cas} are missing", f.path)));
            }
            continue;
        };
        let meta = arrived(app, &staged).await?;
        let object = &staged.object;
        let sha512 = object_sha512(app, object, &meta).await?;
        if meta.size != f.size || sha512 != f.sha512 {
            return Err(AppError::bad_request(
                "digest-mismatch",
                format!(
                    "{}: {} bytes with SHA-512 {} arrived, but {} bytes with SHA-512 {} were declared",
                    f.path, meta.size, sha512, f.size, f.sha512
                ),
            ));
        }
        match app.blobs.copy_if_absent(object, &cas).await {
            Ok(_) | Err(BlobError::AlreadyExists(_)) => {}
            Err(e) => return Err(e.into()),
        }
        sent += 1;
    }
    Ok(sent)
}

/// Checks the old `.md5`/`.sha1` of every artifact that has no `.sha512`/`.sha256`, in place
/// of the "no checksum file" failure, and adds the results to `report`.
async fn check_legacy_sums(app: &App, manifest: &Manifest, report: &mut RevisionReport) -> AppResult<()> {
    let has = |base: &str, kind: Sidecar| manifest.get(&format!("{base}.{}", kind.extension())).is_some();
    let mut wanted: Vec<(usize, Sidecar, ManifestEntry, ManifestEntry)> = Vec::new();
    for (i, file) in report.files.iter().enumerate() {
        let base = file.path.as_str();
        if has(base, Sidecar::Sha512) || has(base, Sidecar::Sha256) {
            continue;
        }
        for kind in [Sidecar::Md5, Sidecar::Sha1] {
            if let (Some(artifact), Some(sum)) =
                (manifest.get(base), manifest.get(&format!("{base}.{}", kind.extension())))
            {
                wanted.push((i, kind, artifact.clone(), sum.clone()));
            }
        }
    }
    if wanted.is_empty() {
        return Ok(());
    }
    // Read where they are stored (no copy into a temporary folder): the artifact streamed once
    // through the hash, the sum file into memory, capped and checked against the manifest as
    // every sidecar is.
    let digests: Vec<Sha512> = wanted.iter().flat_map(|(_, _, a, s)| [a.sha512, s.sha512]).collect();
    let located = crate::verify_task::locate_sources(app, &digests).await?;
    let results = tokio::task::spawn_blocking(move || {
        wanted
            .into_iter()
            .map(|(i, kind, artifact, sum)| {
                let name = artifact.path.file_name().to_string();
                let result = match trs_checks::revision::read_sidecar(&sum, &located[&sum.sha512].source) {
                    Ok(text) => {
                        trs_checks::legacy::legacy_checksum(&located[&artifact.sha512].source, &name, kind, &text)
                    }
                    Err(reason) => Some(CheckResult::fail(
                        CheckKind::Checksum,
                        format!("{} cannot be used: {reason}", sum.path.file_name()),
                    )),
                };
                (i, result)
            })
            .collect::<Vec<_>>()
    })
    .await
    .map_err(|e| AppError::Internal(format!("checksum check panicked: {e}")))?;
    let replaced: BTreeSet<usize> = results.iter().map(|(i, _)| *i).collect();
    for i in replaced {
        report.files[i].checks.retain(|c| !(c.check == CheckKind::Checksum && c.result == Outcome::Fail));
    }
    for (i, result) in results {
        report.files[i].checks.extend(result);
    }
    Ok(())
}

/// What refuses an import: a failed signature, or a checksum file present that does not match
/// (an artifact with no checksum file at all is imported on its signature, its report saying
/// so). Returns `FILE: CHECK: REASON` for each.
fn refusals(manifest: &Manifest, report: &RevisionReport) -> Vec<String> {
    let mut out = Vec::new();
    for file in &report.files {
        let base = file.path.as_str();
        let has_sum = [Sidecar::Sha512, Sidecar::Sha256, Sidecar::Md5, Sidecar::Sha1]
            .iter()
            .any(|k| manifest.get(&format!("{base}.{}", k.extension())).is_some());
        for c in &file.checks {
            let refuses = c.result == Outcome::Fail
                && match c.check {
                    CheckKind::Signature => true,
                    CheckKind::Checksum => has_sum,
                    CheckKind::Archive | CheckKind::License | CheckKind::Paths | CheckKind::Sbom => false,
                };
            if refuses {
                out.push(format!("{}: {}: {}", file.path, c.check, c.reason));
            }
        }
    }
    out
}

fn findings(report: &RevisionReport) -> Vec<String> {
    report
        .files
        .iter()
        .flat_map(|f| f.checks.iter().filter(|c| c.result != Outcome::Pass).map(move |c| (f, c)))
        .map(|(f, c)| format!("{}: {} {}: {}", f.path, c.check, c.result, c.reason))
        .collect()
}

/// The commit call: checks that the caller may commit this import, then queues its task
/// ([`TaskKind::Import`], whose id is the import's) and answers with it at once. Idempotent as
/// an upload's commit ([`crate::tasks::queue_once`]): asked again, it answers the same task, and
/// queues a failed one again. After the session expired, the task still answers.
///
/// `req` names the ETags of the parts of every file sent in parts, kept in the session for the
/// store phase to complete each multipart upload with (as an upload's commit request does).
pub async fn request_commit(app: &App, caller: &Caller, id: &OpaqueId, req: &CommitUpload) -> AppResult<Task> {
    let Some(session_item) = app.items.get(&keys::import_session(id)).await? else {
        return crate::tasks::commit_after_session(app, &caller.person.uid, "import", id, |kind| match kind {
            TaskKind::Import { requested_by, .. } => Some(requested_by),
            _ => None,
        })
        .await;
    };
    let session: ImportSession = session_item.parse()?;
    authorized(app, caller, &session.release).await?;
    if session.created_by != caller.person.uid {
        return Err(not_yours(id, &session.created_by));
    }
    record_part_etags(app, &session, &session_item, req).await?;
    let kind = TaskKind::Import {
        import: id.clone(),
        release: session.release.clone(),
        requested_by: caller.actor(),
        phase: ImportPhase::Store,
    };
    crate::tasks::queue_once(app, id, kind, &format!("the commit of import {id}")).await
}

/// Keeps the ETags `req` names in the session ([`put_named_etags`]).
async fn record_part_etags(app: &App, session: &ImportSession, item: &Item, req: &CommitUpload) -> AppResult<()> {
    let mut staged: Vec<StagedFile> = session.files.iter().filter_map(ImportFile::staged).collect();
    if !name_part_etags(&format!("import {}", session.id), &mut staged, req)? {
        return Ok(());
    }
    let mut files = session.files.clone();
    for f in files.iter_mut() {
        if let Some(named) = staged.iter().find(|s| s.path == f.path) {
            f.multipart = named.multipart.clone();
        }
    }
    let updated = json!(ImportSession { files, ..session.clone() });
    put_named_etags(app, item, updated, &format!("import {}", session.id)).await
}

fn not_yours(id: &OpaqueId, by: &PersonUid) -> AppError {
    crate::tasks::not_yours("import", id, by)
}

/// The whole commit in this process: [`request_commit`], then both phases of its task run
/// here (tools and tests). A refused import is the error its task failed with.
pub async fn commit_import(app: &App, caller: &Caller, id: &OpaqueId) -> AppResult<ImportedRelease> {
    let task = request_commit(app, caller, id, &CommitUpload::default()).await?;
    let result = crate::tasks::run_through(app, &task.id, &format!("import {id}")).await?;
    serde_json::from_value(result).map_err(|e| AppError::Internal(e.to_string()))
}

/// One phase of an import's commit task: `store` moves the staged bytes to the
/// content-addressed store and hands the task on to `publish`, which verifies and publishes.
pub(crate) async fn execute(
    run: &mut TaskRun<'_>,
    id: &OpaqueId,
    requested_by: &Actor,
    phase: ImportPhase,
) -> AppResult<Ran> {
    let app = run.app;
    let session: ImportSession = app
        .items
        .get(&keys::import_session(id))
        .await?
        .ok_or_else(|| AppError::NotFound(format!("import {id} expired before its commit ran; run the import again")))?
        .parse()?;
    match phase {
        ImportPhase::Store => {
            let sent = store_files(app, &session).await?;
            let next = TaskKind::Import {
                import: id.clone(),
                release: session.release.clone(),
                requested_by: requested_by.clone(),
                phase: ImportPhase::Publish,
            };
            let why = format!("store: {} files stored ({sent} sent); verifying next", session.files.len());
            Ok(Ran::HandOff { next, why })
        }
        ImportPhase::Publish => Ok(Ran::Done(json!(publish(app, &session, requested_by).await?))),
    }
}

/// Verified before public: every check on the stored files, refused if a signature or a
/// checksum file present fails; else the files at their public paths and one transaction for
/// the release, its revision, its report and the `imported` event. Idempotent: a release
/// already there as this import made it is answered `already_imported`.
async fn publish(app: &App, session: &ImportSession, requested_by: &Actor) -> AppResult<ImportedRelease> {
    let manifest = manifest_of(&session.files)?;
    let done = |already_imported: bool, findings: Vec<String>| ImportedRelease {
        release: session.release.clone(),
        stage: session.stage.stage(),
        released_at: session.released_at,
        revision_key: manifest.key(),
        files: manifest.entries().len(),
        already_imported,
        findings,
    };
    if let Some((existing, _)) = get_release(app, &session.release).await? {
        matches_existing(app, &existing, session.stage, &manifest).await?;
        return Ok(done(true, Vec::new()));
    }

    let now = app.now();
    let revision = Revision {
        number: 1,
        key: manifest.key(),
        parent: None,
        manifest: manifest.clone(),
        uploaded_by: requested_by.uid.clone(),
        created_at: now,
    };
    let mut report = crate::verify_task::check_revision(app, &session.release, &revision).await?;
    check_legacy_sums(app, &manifest, &mut report).await?;
    let refused = refusals(&manifest, &report);
    if !refused.is_empty() {
        return Err(AppError::bad_request(
            "import-refused",
            format!("{} was not imported (nothing of it is public): {}", session.release, refused.join("; ")),
        ));
    }
    crate::people::link_signers(app, &session.release, 1, &crate::verify_task::signers_of(&report)).await?;
    for entry in manifest.entries() {
        public_copies::place(app, session.stage.segment(), &session.release, entry).await?;
    }

    let head = RevisionRef { number: 1, key: revision.key };
    let release = Release {
        stage: session.stage.stage(),
        latest: Some(head.clone()),
        created_at: session.released_at,
        voted_revision: Some(head),
        promoted_at: Some(session.released_at),
        ..Release::new(session.release.clone(), now)
    };
    let findings = findings(&report);
    let stored = StoredReport { revision_key: revision.key, report, finished_at: now };
    // Manifest and report spill into parts past the three ops a conflict may name.
    let mut revision_ops =
        crate::large_item::put_ops(Item::new(keys::revision(&session.release, 1), json!(revision)), Condition::Absent);
    let mut report_ops = crate::large_item::put_ops(
        Item::new(keys::revision_report(&session.release, 1), json!(stored)),
        Condition::None,
    );
    let mut ops = vec![
        WriteOp::Put { item: Item::new(keys::release(&session.release), json!(release)), condition: Condition::Absent },
        revision_ops.remove(0),
        report_ops.remove(0),
    ];
    ops.extend(revision_ops);
    ops.extend(report_ops);
    let draft = EventDraft::new(
        Some(requested_by.clone()),
        Change::Imported { revision: 1, released_at: session.released_at, files: manifest.entries().len() },
    )
    .release(&session.release)
    .revision(revision.key)
    .stage(None, session.stage.stage());
    match stream::commit_with_event(app, &StreamId::Project(session.release.project.clone()), draft, ops).await? {
        Committed::Done(_) => Ok(done(false, findings)),
        // Imported meanwhile by another run: the same import, or refused as another release
        // (only the release and the revision head are written on a condition).
        Committed::Conflict { .. } => {
            let (existing, _) = get_release(app, &session.release)
                .await?
                .ok_or_else(|| AppError::conflict("concurrent-update", "the release changed concurrently; retry"))?;
            matches_existing(app, &existing, session.stage, &manifest).await?;
            Ok(done(true, Vec::new()))
        }
    }
}

//! Requesting a distribution (a signed call queues a task) and running it.

use crate::app::App;
use crate::authenticate::Caller;
use crate::distribute::record::{DistributionRecord, get_record};
use crate::distribute::rules::{DistributionSpec, revision_for};
use crate::error::{AppError, AppResult};
use crate::projects;
use crate::releases::{get_release, get_revision_as_voted};
use crate::storage_keys as keys;
use crate::stream::{self, Committed};
use crate::tasks::{Task, TaskKind, TaskRun};
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use serde::Serialize;
use serde_json::json;
use trs_core::{
    Action, Actor, Change, EventDraft, Release, ReleaseId, RevisionRef, Sha512, Stage, StreamId, authorize,
};
use trs_distribute::{Artifact, DistributeError, Journal, Published, RegistryClient, Target};
use trs_sha512::Sha512 as Sha512Hasher;
use trs_storage::{BlobError, Condition, Item, WriteOp};

/// The task stage label of distribution steps.
pub const STAGE: &str = "distribute";

fn release_not_found(id: &ReleaseId) -> AppError {
    AppError::NotFound(format!("release {id} not found"))
}

/// Checks the distributions may run now and queues one task for them.
pub async fn request(app: &App, caller: &Caller, id: &ReleaseId, specs: Vec<DistributionSpec>) -> AppResult<Task> {
    let project = projects::get_project(app, &id.project).await?;
    authorize(&caller.person, Some(&project), Action::ManageRelease)?;
    if specs.is_empty() {
        return Err(AppError::bad_request("no-distribution", "name at least one platform (--platform)"));
    }
    let (release, _) = get_release(app, id).await?.ok_or_else(|| release_not_found(id))?;
    for spec in &specs {
        spec.validate()?;
        client_of(app, spec)?;
        let existing =
            get_record(app, id, spec.platform, spec.namespace.as_deref(), &spec.package, version(id)).await?;
        revision_for(&release, spec, existing.as_ref().map(|(r, _)| r))?;
    }
    let task = Task::new(
        TaskKind::Distribute { release: id.clone(), distributions: specs, requested_by: caller.actor() },
        app.now(),
    );
    app.items.put(task.queued_item(), Condition::Absent).await?;
    crate::tasks::announce(app, &task).await;
    Ok(task)
}

fn version(id: &ReleaseId) -> &str {
    id.version.as_str()
}

fn client_of<'a>(app: &'a App, spec: &DistributionSpec) -> AppResult<&'a std::sync::Arc<dyn RegistryClient>> {
    app.registries.client(spec.platform).ok_or_else(|| {
        AppError::conflict(
            "registry-not-configured",
            format!("this trs has no {} registry configured (see docs/distribute.md)", spec.platform),
        )
    })
}

/// The distribution task: every distribution in turn. A distribution that fails records its
/// error and the others still run; the task fails at the end if any did.
pub async fn execute(
    run: &mut TaskRun<'_>,
    id: &ReleaseId,
    specs: &[DistributionSpec],
    by: &Actor,
) -> AppResult<serde_json::Value> {
    let outcomes = run_distributions(run, id, specs, by).await?;
    let failed: Vec<String> =
        outcomes.iter().filter_map(|o| o.error.as_ref().map(|e| format!("{}: {e}", o.label))).collect();
    if !failed.is_empty() {
        return Err(AppError::conflict(
            "distribution-failed",
            format!("{} of {} distribution(s) failed: {}", failed.len(), outcomes.len(), failed.join("; ")),
        ));
    }
    Ok(json!({"release": id.to_string(), "distributions": outcomes}))
}

/// What became of one distribution.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub label: String,
    pub platform: String,
    pub staging: bool,
    pub promoted: bool,
    /// `distributed`, `already-present`, `already-done` or `failed`.
    pub status: &'static str,
    pub revision_key: Option<String>,
    pub web_url: Option<String>,
    pub code: Option<&'static str>,
    pub error: Option<String>,
}

/// Runs `specs` one after the other, with a progress step per distribution. Refusals and
/// registry failures become failed outcomes; only backend faults (the task is retried) stop.
pub async fn run_distributions(
    run: &mut TaskRun<'_>,
    id: &ReleaseId,
    specs: &[DistributionSpec],
    by: &Actor,
) -> AppResult<Vec<Outcome>> {
    let mut outcomes = Vec::new();
    for spec in specs {
        let what = if spec.promote {
            "promoting the staged distribution"
        } else if spec.staging {
            "staging"
        } else {
            "distributing"
        };
        run.step(STAGE, format!("{}: {what}", spec.label())).await?;
        let outcome = match distribute_one(run, id, spec, by).await {
            Ok(outcome) => outcome,
            Err(e @ AppError::Internal(_)) => return Err(e),
            Err(e) => Outcome {
                label: spec.label(),
                platform: spec.platform.to_string(),
                staging: spec.staging,
                promoted: false,
                status: "failed",
                revision_key: None,
                web_url: None,
                code: Some(e.code()),
                error: Some(run.app.registries.redact(&e.to_string())),
            },
        };
        let line = match (&outcome.error, outcome.status) {
            (Some(e), _) => format!("{}: failed: {e}", outcome.label),
            (None, status) => format!(
                "{}: {status}{} (revision {}){}",
                outcome.label,
                if outcome.promoted {
                    ", promoted"
                } else if outcome.staging {
                    " to staging"
                } else {
                    ""
                },
                outcome.revision_key.as_deref().unwrap_or("?"),
                outcome.web_url.as_deref().map(|u| format!(" at {u}")).unwrap_or_default()
            ),
        };
        run.step(STAGE, line).await?;
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

fn done(spec: &DistributionSpec, status: &'static str, record: &DistributionRecord, key: &RevisionRef) -> Outcome {
    Outcome {
        label: spec.label(),
        platform: spec.platform.to_string(),
        staging: record.staging,
        promoted: spec.promote,
        status,
        revision_key: Some(key.key.to_string()),
        web_url: record.web_url.clone(),
        code: None,
        error: None,
    }
}

async fn distribute_one(
    run: &mut TaskRun<'_>,
    id: &ReleaseId,
    spec: &DistributionSpec,
    by: &Actor,
) -> AppResult<Outcome> {
    let app = run.app;
    spec.validate()?;
    let client = client_of(app, spec)?.clone();
    let (release, _) = get_release(app, id).await?.ok_or_else(|| release_not_found(id))?;
    let existing = get_record(app, id, spec.platform, spec.namespace.as_deref(), &spec.package, version(id)).await?;
    let revision = revision_for(&release, spec, existing.as_ref().map(|(r, _)| r))?;

    // Finished by an earlier run: never sent twice.
    if let Some((record, _)) = &existing {
        let finished = if spec.promote || !spec.staging {
            record.in_production() && record.production_revision_key == Some(revision.key)
        } else {
            // Promoted since: the staging index still holds that revision; staging it again
            // would only mark the record as not in production.
            (record.staged() || record.in_production()) && record.staged_revision_key == Some(revision.key)
        };
        if finished {
            return Ok(done(spec, "already-done", record, &revision));
        }
    }
    let mut existing = existing;
    if spec.promote && spec.stage_if_missing && existing.as_ref().is_none_or(|(r, _)| !r.staging && !r.in_production())
    {
        run.step(STAGE, format!("{}: nothing staged yet: staging revision {} first", spec.label(), revision.number))
            .await?;
        let staging = DistributionSpec { staging: true, promote: false, stage_if_missing: false, ..spec.clone() };
        Box::pin(distribute_one(run, id, &staging, by)).await?;
        existing = get_record(app, id, spec.platform, spec.namespace.as_deref(), &spec.package, version(id)).await?;
    }

    let artifacts = read_artifacts(app, &release, &revision, client.as_ref()).await?;
    run.progress(
        STAGE,
        format!("{}: {} file(s) of revision {} re-hashed", spec.label(), artifacts.len(), revision.number),
    )
    .await?;
    let (mut record, mut item) = start_record(app, id, spec, &revision, by, existing).await?;
    let target =
        Target { namespace: spec.namespace.clone(), package: spec.package.clone(), version: version(id).into() };
    let backoff = app.registries.backoff;
    let mut tries = 0;
    let result = loop {
        tries += 1;
        let result = if spec.promote {
            // With what staging recorded: Maven Central names a staged deployment only by its id.
            client.promote_recorded(&target, &artifacts, &record.details).await
        } else if spec.staging
            && matches!(release.stage, Stage::CandidateDraft | Stage::Candidate)
            && let Err(refused) = client.check_staging_keeps_it_private(&target).await
        {
            Err(refused)
        } else {
            let in_flight = record.in_flight.clone();
            let journal = RecordJournal::new(app, record, item);
            let result = client.upload_resuming(&target, &artifacts, spec.staging, &in_flight, &journal).await;
            let (stored, failure) = journal.into_parts();
            (record, item) = stored;
            if let Some(e) = failure {
                // Not recorded: the storage failed; the task is retried like any backend fault.
                return Err(e);
            }
            result
        };
        match result {
            Err(e) if e.is_transient() && tries < backoff.attempts.max(1) => {
                record.retries += 1;
                record.last_error = Some(app.registries.redact(&e.to_string()));
                record.updated_at = app.now();
                item = put_record(app, &item, &record).await?;
                let wait = backoff.delay(tries);
                run.progress(
                    STAGE,
                    format!(
                        "{}: retry {} in {} ms: {}",
                        spec.label(),
                        tries,
                        wait.as_millis(),
                        record.last_error.as_deref().unwrap_or("")
                    ),
                )
                .await?;
                tokio::time::sleep(wait).await;
            }
            other => break other,
        }
    };
    match result {
        Ok(published) => finish(app, spec, &revision, record, &item, published, by).await,
        Err(e) => {
            let message = app.registries.redact(&e.to_string());
            fail(app, spec, record, &item, &message, by).await?;
            let code = match e {
                DistributeError::Transient(_) => "registry-unavailable",
                DistributeError::DigestMismatch(_) => "digest-mismatch",
                DistributeError::Refused(_) => "registry-refused",
                DistributeError::Unsupported(_) => "unsupported-distribution",
            };
            let tried = if tries > 1 { format!(" (after {tries} tries)") } else { String::new() };
            Err(AppError::conflict(code, format!("{message}{tried}")))
        }
    }
}

/// The voted (or staged) files this platform takes, read from their content-addressed blobs
/// and re-hashed: what is sent is what the manifest names.
async fn read_artifacts(
    app: &App,
    release: &Release,
    revision: &RevisionRef,
    client: &dyn RegistryClient,
) -> AppResult<Vec<Artifact>> {
    let id = &release.id;
    let stored = get_revision_as_voted(app, id, revision, "distribution refused").await?;
    let names: Vec<String> = stored.manifest.entries().iter().map(|e| e.path.as_str().to_string()).collect();
    let selected = client.select(&names);
    if selected.is_empty() {
        return Err(AppError::conflict(
            "nothing-to-distribute",
            format!("revision {} of {id} has no file {} takes", revision.number, client.platform().title),
        ));
    }
    let mut out = Vec::new();
    for name in selected {
        let entry = stored.manifest.get(&name).ok_or_else(|| {
            AppError::Internal(format!("the {} client chose {name}, which the revision lacks", client.platform().title))
        })?;
        let bytes = read_checked(app, &entry.sha512, entry.size, &name).await?;
        let signature = match stored.manifest.get(&format!("{name}.asc")) {
            Some(sig) => Some(read_checked(app, &sig.sha512, sig.size, sig.path.as_str()).await?),
            None => None,
        };
        out.push(Artifact { file_name: name, bytes, sha512: entry.sha512.to_hex(), signature });
    }
    Ok(out)
}

/// A file's bytes, refused unless they hash to the manifest's digest and size.
async fn read_checked(app: &App, digest: &Sha512, size: u64, name: &str) -> AppResult<Bytes> {
    let mut stream = app.blobs.get(&keys::file_object(digest)).await?;
    let mut hasher = Sha512Hasher::new();
    let mut bytes = BytesMut::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(BlobError::Io)?;
        hasher.update(&chunk);
        bytes.extend_from_slice(&chunk);
    }
    let actual = Sha512::from_bytes(hasher.finalize());
    if actual != *digest || bytes.len() as u64 != size {
        return Err(AppError::conflict(
            "bytes-differ",
            format!("{name}: the stored bytes hash to {actual}, not to the manifest's {digest}; nothing was sent"),
        ));
    }
    Ok(bytes.freeze())
}

/// Marks the distribution pending (creating its record), recording the staged revision.
async fn start_record(
    app: &App,
    id: &ReleaseId,
    spec: &DistributionSpec,
    revision: &RevisionRef,
    by: &Actor,
    existing: Option<(DistributionRecord, Item)>,
) -> AppResult<(DistributionRecord, Item)> {
    let now = app.now();
    match existing {
        Some((mut record, item)) => {
            record.pending = true;
            if spec.staging {
                record.staging = true;
                record.staged_revision_key = Some(revision.key);
            }
            record.updated_at = now;
            let item = put_record(app, &item, &record).await?;
            Ok((record, item))
        }
        None => {
            let record = DistributionRecord {
                release: id.clone(),
                platform: spec.platform,
                namespace: spec.namespace.clone(),
                package: spec.package.clone(),
                version: version(id).into(),
                staging: spec.staging,
                pending: true,
                retries: 0,
                upload_date: None,
                api_url: None,
                web_url: None,
                created_by: Some(by.uid.clone()),
                staged_revision_key: spec.staging.then_some(revision.key),
                production_revision_key: None,
                last_error: None,
                details: serde_json::Value::Null,
                in_flight: serde_json::Value::Null,
                created_at: now,
                updated_at: now,
            };
            let item = Item::new(record.key(), json!(record));
            match app.items.put(item.clone(), Condition::Absent).await {
                Ok(()) => Ok((record, item)),
                Err(e) if e.is_conflict() => Err(AppError::conflict(
                    "concurrent-update",
                    format!("another run started {} at the same time; retry", spec.label()),
                )),
                Err(e) => Err(e.into()),
            }
        }
    }
}

/// Records what a client reports mid-call ([`Journal`]) in the distribution record's
/// `in_flight`, with the same conditional write as the rest of a run's progress, before the
/// client goes on.
struct RecordJournal<'a> {
    app: &'a App,
    stored: tokio::sync::Mutex<(DistributionRecord, Item)>,
    failure: std::sync::Mutex<Option<AppError>>,
}

impl<'a> RecordJournal<'a> {
    fn new(app: &'a App, record: DistributionRecord, item: Item) -> Self {
        RecordJournal { app, stored: tokio::sync::Mutex::new((record, item)), failure: Default::default() }
    }

    /// The record as last stored, and why recording failed, if it did.
    fn into_parts(self) -> ((DistributionRecord, Item), Option<AppError>) {
        (self.stored.into_inner(), self.failure.into_inner().unwrap_or_else(|e| e.into_inner()))
    }
}

#[async_trait::async_trait]
impl Journal for RecordJournal<'_> {
    async fn record(&self, in_flight: serde_json::Value) -> Result<(), DistributeError> {
        let mut stored = self.stored.lock().await;
        let (record, item) = &mut *stored;
        let mut next = record.clone();
        next.in_flight = in_flight;
        next.updated_at = self.app.now();
        match put_record(self.app, item, &next).await {
            Ok(written) => {
                *record = next;
                *item = written;
                Ok(())
            }
            Err(e) => {
                let message = format!("could not record the distribution's progress: {e}");
                *self.failure.lock().unwrap_or_else(|e| e.into_inner()) = Some(e);
                Err(DistributeError::Refused(message))
            }
        }
    }
}

/// Writes the record's progress (pending, retries): bookkeeping of a running task, like the
/// task item itself; the outcome is written with its event by [`finish`] or [`fail`].
async fn put_record(app: &App, item: &Item, record: &DistributionRecord) -> AppResult<Item> {
    let next = item.updated(json!(record));
    app.items.put(next.clone(), Condition::VersionIs(item.version)).await?;
    Ok(next)
}

async fn commit_outcome(app: &App, item: &Item, record: &DistributionRecord, draft: EventDraft) -> AppResult<()> {
    let ops = vec![WriteOp::Put { item: item.updated(json!(record)), condition: Condition::VersionIs(item.version) }];
    match stream::commit_with_event(app, &StreamId::Project(record.release.project.clone()), draft, ops).await? {
        Committed::Done(_) => Ok(()),
        Committed::Conflict { .. } => Err(AppError::conflict(
            "concurrent-update",
            format!("the record of {} {} changed meanwhile; run again", record.platform, record.package),
        )),
    }
}

async fn finish(
    app: &App,
    spec: &DistributionSpec,
    revision: &RevisionRef,
    mut record: DistributionRecord,
    item: &Item,
    published: Published,
    by: &Actor,
) -> AppResult<Outcome> {
    record.pending = false;
    record.last_error = None;
    record.staging = spec.staging;
    if !spec.staging {
        record.production_revision_key = Some(revision.key);
    }
    record.api_url = Some(published.api_url.clone());
    record.web_url = Some(published.web_url.clone());
    record.upload_date = published.upload_date.or(record.upload_date).or(Some(app.now()));
    record.details = published.details.clone();
    record.in_flight = serde_json::Value::Null;
    record.updated_at = app.now();
    let change = if spec.promote {
        Change::DistributionPromoted {
            platform: spec.platform.to_string(),
            namespace: spec.namespace.clone(),
            package: spec.package.clone(),
            version: record.version.clone(),
        }
    } else {
        Change::Distributed {
            platform: spec.platform.to_string(),
            namespace: spec.namespace.clone(),
            package: spec.package.clone(),
            version: record.version.clone(),
            staging: spec.staging,
            already_present: published.already_present,
        }
    };
    let draft = EventDraft::new(Some(by.clone()), change).release(&record.release).revision(revision.key);
    commit_outcome(app, item, &record, draft).await?;
    let status = if published.already_present { "already-present" } else { "distributed" };
    Ok(done(spec, status, &record, revision))
}

async fn fail(
    app: &App,
    spec: &DistributionSpec,
    mut record: DistributionRecord,
    item: &Item,
    message: &str,
    by: &Actor,
) -> AppResult<()> {
    record.pending = false;
    record.last_error = Some(message.to_string());
    record.updated_at = app.now();
    let change = Change::DistributionFailed {
        platform: spec.platform.to_string(),
        namespace: spec.namespace.clone(),
        package: spec.package.clone(),
        version: record.version.clone(),
        staging: spec.staging,
        error: message.to_string(),
    };
    let draft = EventDraft::new(Some(by.clone()), change).release(&record.release);
    commit_outcome(app, item, &record, draft).await
}

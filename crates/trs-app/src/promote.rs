//! Promotion: exactly the voted revision becomes the current release.
//!
//! A signed call checks the release may be promoted and queues one tracked task; the task
//! 1. re-derives the revision key from the stored manifest (the manifest is what was voted on),
//! 2. re-reads and re-hashes every file's bytes and compares them with the manifest, before any
//!    public byte is written: any difference refuses the promotion, naming the files,
//! 3. copies each file to its public coordinates with put-if-absent (a public path is never
//!    overwritten; a path already holding the same bytes counts as done),
//! 4. moves the release to `current` and records the `promoted` event in one transaction,
//!    with the `[ANNOUNCE]` mail it queues (sent once the files download as voted),
//! 5. follows the project's policy: archives the releases of the same line it supersedes,
//!    then publishes and distributes (when those exist).
//!
//! Every step is idempotent, so a promotion interrupted anywhere is finished by running it
//! again, and until step 4 the release is not current (and `trs serve` does not serve its
//! public files).

use crate::app::App;
use crate::authenticate::Caller;
use crate::error::{AppError, AppResult};
use crate::mail::{self, MailKind};
use crate::projects;
use crate::public_copies::{self, short};
use crate::releases::{get_release, get_revision_as_voted};
use crate::retry::{self, Attempt};
use crate::storage_keys as keys;
use crate::stream::{self, Committed};
use crate::tasks::{Task, TaskKind, TaskRun};
use serde_json::json;
use trs_core::{
    Action, Actor, Change, EventDraft, ManifestEntry, Release, ReleaseId, RevisionRef, Stage, StageSegment, StreamId,
    VoteState, authorize,
};
use trs_storage::{Condition, WriteOp};

/// Why a release cannot be promoted now, or `Ok` with the revision that would be.
pub fn promotable(release: &Release) -> AppResult<RevisionRef> {
    if release.stage == Stage::Current {
        return Err(AppError::conflict("already-promoted", format!("release {} is already current", release.id)));
    }
    if release.stage != Stage::Candidate {
        return Err(AppError::conflict(
            "not-a-candidate",
            format!(
                "release {} is in stage {}; only a candidate whose vote passed can be promoted",
                release.id, release.stage
            ),
        ));
    }
    let vote_state = release.vote.as_ref().map(|v| v.state);
    let voted = match (vote_state, &release.voted_revision) {
        (Some(VoteState::Passed), Some(voted)) => voted.clone(),
        (Some(VoteState::Open), _) => {
            return Err(AppError::conflict(
                "vote-not-passed",
                format!("the vote on {} is still open; close it first (`trs vote close`)", release.id),
            ));
        }
        _ => {
            return Err(AppError::conflict(
                "vote-not-passed",
                format!("release {} has no passed vote; only a voted revision can be promoted", release.id),
            ));
        }
    };
    // Uploads are refused while a vote runs, so the voted revision is the latest; if that ever
    // stopped holding, promoting would publish something nobody voted on.
    if release.latest.as_ref() != Some(&voted) {
        return Err(AppError::conflict(
            "revision-changed",
            format!(
                "release {} has revision {} but the vote passed on revision {} ({})",
                release.id,
                release.latest.as_ref().map(|l| l.number).unwrap_or(0),
                voted.number,
                voted.key
            ),
        ));
    }
    Ok(voted)
}

/// Checks the release can be promoted and queues the promotion task.
pub async fn request(app: &App, caller: &Caller, id: &ReleaseId) -> AppResult<Task> {
    let project = projects::get_project(app, &id.project).await?;
    authorize(&caller.person, Some(&project), Action::ManageRelease)?;
    let (release, item) =
        get_release(app, id).await?.ok_or_else(|| AppError::NotFound(format!("release {id} not found")))?;
    let voted = promotable(&release)?;
    let task = Task::new(
        TaskKind::Promote { release: id.clone(), revision: voted.number, requested_by: caller.actor() },
        app.now(),
    );
    // The task is only queued if the release is still exactly what was checked.
    let ops = vec![
        WriteOp::Check { key: item.key.clone(), condition: Condition::VersionIs(item.version) },
        WriteOp::Put { item: task.queued_item(), condition: Condition::Absent },
    ];
    app.items.transact(ops).await?;
    crate::tasks::announce(app, &task).await;
    Ok(task)
}

/// Step 2: every file's bytes against the voted manifest. Returns the differences.
async fn differing_files(run: &mut TaskRun<'_>, entries: &[ManifestEntry]) -> AppResult<Vec<String>> {
    let mut differing = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        match public_copies::rehash(run.app, &keys::file_object(&entry.sha512)).await {
            Ok((size, digest)) if size == entry.size && digest == entry.sha512 => {}
            Ok((size, digest)) => differing.push(format!(
                "{} (voted: {} bytes, sha512 {}…; stored: {} bytes, sha512 {}…)",
                entry.path,
                entry.size,
                short(&entry.sha512),
                size,
                short(&digest)
            )),
            Err(AppError::NotFound(_)) => differing.push(format!("{} (its bytes are missing)", entry.path)),
            Err(e) => return Err(e),
        }
        run.progress("promote", format!("checked {} of {} files against the voted revision", i + 1, entries.len()))
            .await?;
    }
    Ok(differing)
}

/// Step 3: copies every file to its public path; a path that already holds exactly the
/// voted bytes (an earlier, interrupted run) counts as copied, anything else is refused.
async fn copy_to_public(run: &mut TaskRun<'_>, id: &ReleaseId, entries: &[ManifestEntry]) -> AppResult<()> {
    for (i, entry) in entries.iter().enumerate() {
        public_copies::place(run.app, StageSegment::Current, id, entry).await?;
        run.progress("promote", format!("published {} of {} files", i + 1, entries.len())).await?;
    }
    Ok(())
}

/// Step 4: the release becomes current, with its event, in one transaction.
async fn make_current(app: &App, id: &ReleaseId, revision: u32, by: &Actor) -> AppResult<Release> {
    retry::on_conflict(retry::ATTEMPTS, retry::too_busy(format!("release {id}")), || async move {
        let (release, item) =
            get_release(app, id).await?.ok_or_else(|| AppError::NotFound(format!("release {id} not found")))?;
        if release.stage == Stage::Current {
            return Ok(Attempt::Done(release));
        }
        let voted = promotable(&release)?;
        let now = app.now();
        let next = Release {
            stage: release.stage.promote().map_err(|e| AppError::conflict("wrong-stage", e.to_string()))?,
            promoted_at: Some(now),
            updated_at: now,
            ..release.clone()
        };
        let draft = EventDraft::new(Some(by.clone()), Change::Promoted { revision })
            .release(id)
            .revision(voted.key)
            .stage(Some(release.stage), Stage::Current);
        let ops = vec![WriteOp::Put { item: item.updated(json!(next)), condition: Condition::VersionIs(item.version) }];
        // The [ANNOUNCE], queued with the event; it waits until the files download as voted.
        let vote = release.vote.as_ref().map_or(0, |v| v.number);
        let queue_mail = |event: &trs_core::Event| mail::queue_ops(app, event, id, vote, MailKind::Announce, None);
        match stream::commit_with_event_and(app, &StreamId::Project(id.project.clone()), draft, ops, queue_mail).await?
        {
            Committed::Done(event) => {
                mail::announce(app, &event).await;
                Ok(Attempt::Done(next))
            }
            Committed::Conflict { .. } => Ok(Attempt::Conflicted),
        }
    })
    .await
}

/// The other current releases of `id`'s product line that `id` supersedes: those with a lower
/// version ([`trs_core::version_order`]). A pre-release supersedes nothing unless the line's
/// policy lets a pre-release be `latest`: promoting `2.0.0-rc.1` leaves `1.9.0` current, and
/// `latest`.
async fn superseded(app: &App, id: &ReleaseId, prerelease_latest: bool) -> AppResult<Vec<ReleaseId>> {
    if id.version.is_prerelease() && !prerelease_latest {
        return Ok(Vec::new());
    }
    let line = crate::public::releases_of_line(app, &id.project, id.product.as_ref()).await?;
    Ok(line.iter().filter(|r| r.stage == Stage::Current && r.id.version < id.version).map(|r| r.id.clone()).collect())
}

/// The publish step: the site pages of the promotion (its stored `promoted` event).
async fn publish_site(app: &App, id: &ReleaseId) -> AppResult<String> {
    let history = crate::release_views::release_history(app, id).await?;
    let Some(promoted) = history.iter().rev().find(|e| matches!(e.change, Change::Promoted { .. })) else {
        return Err(AppError::Internal(format!("current release {id} has no promoted event")));
    };
    Ok(app.site.publish(app, promoted).await?.unwrap_or_else(|| "skipped: no site configured".into()))
}

/// The promotion task (steps in the module docs). Returns the task's result.
pub async fn execute(run: &mut TaskRun<'_>, id: &ReleaseId, revision: u32, by: &Actor) -> AppResult<serde_json::Value> {
    let app = run.app;
    let (release, _) =
        get_release(app, id).await?.ok_or_else(|| AppError::NotFound(format!("release {id} not found")))?;
    let voted = match release.stage {
        // Finished by an earlier run: only the follow-up steps may remain.
        Stage::Current => release
            .voted_revision
            .clone()
            .ok_or_else(|| AppError::Internal(format!("current release {id} has no voted revision")))?,
        _ => promotable(&release)?,
    };
    if voted.number != revision {
        return Err(AppError::conflict(
            "revision-changed",
            format!("this task promotes revision {revision}, but the voted revision of {id} is {}", voted.number),
        ));
    }
    let stored = get_revision_as_voted(app, id, &voted, "promotion refused").await?;
    let entries = stored.manifest.entries().to_vec();
    if release.stage != Stage::Current {
        let differing = differing_files(run, &entries).await?;
        if !differing.is_empty() {
            return Err(AppError::conflict(
                "bytes-differ",
                format!(
                    "promotion refused: {} file(s) differ from voted revision {} ({}): {}",
                    differing.len(),
                    voted.number,
                    voted.key,
                    differing.join("; ")
                ),
            ));
        }
        run.step("promote", format!("{} files match voted revision {} ({})", entries.len(), voted.number, voted.key))
            .await?;
        let published = async {
            copy_to_public(run, id, &entries).await?;
            run.step(
                "promote",
                format!("{} files at /{}", entries.len(), keys::public_prefix(StageSegment::Current, id)),
            )
            .await?;
            make_current(app, id, revision, by).await
        };
        if let Err(e) = published.await {
            // Revoked while this run copied: what it placed after the revocation must go too.
            public_copies::withdraw_if_revoked(app, id).await?;
            return Err(e);
        }
        run.step("promote", format!("{id} is current")).await?;
    }
    let project = projects::get_project(app, &id.project).await?;
    let policy = project.policy_for(id.product.as_ref());
    if policy.archive_previous {
        for previous in superseded(app, id, policy.prerelease_latest).await? {
            let archived = crate::lifecycle::archive_release(app, None, &previous).await?;
            run.step("archive", format!("{previous} archived: files at {}", archived.public_prefix)).await?;
        }
    }
    if policy.auto_publish {
        let summary = publish_site(app, id).await?;
        run.step("publish", summary).await?;
    }
    if policy.auto_distribute {
        crate::distribute::on_promotion(run, id, by).await?;
    }
    Ok(json!({
        "release": id.to_string(),
        "revision": voted.number,
        "revision_key": voted.key,
        "files": entries.len(),
        "public_prefix": format!("/{}", keys::public_prefix(StageSegment::Current, id)),
    }))
}

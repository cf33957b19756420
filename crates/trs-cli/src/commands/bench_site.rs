//! `trs bench site`: a foundation-sized download directory (by default 300 projects, 20,000
//! releases, 100,000 files), generated straight into an embedded store (items written in
//! batches as trs-app writes them: releases, revisions with their manifests, verification
//! reports with signers, hash-chained events; no GnuPG, no file bytes — pages never read
//! them), then timed: a full build into a folder (against `cp -r` of that folder, the floor
//! of writing the same tree), and incremental publishes after one vote cast and after one
//! promotion.

use crate::error::{CliResult, failed};
use crate::output;
use openpgp::serialize::SerializeInto;
use sequoia_openpgp as openpgp;
use serde::Serialize;
use serde_json::json;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;
use trs_app::authenticate::Caller;
use trs_app::status::StoredReport;
use trs_app::storage_keys as keys;
use trs_app::{App, people, stream};
use trs_core::{
    Action, Actor, Change, CheckKind, CheckResult, Event, EventDraft, FileReport, Manifest, ManifestEntry, Policy,
    Project, ProjectName, Release, ReleaseId, Revision, RevisionRef, RevisionReport, Sha512, Signer, Stage, StreamId,
    VoteRecord, VoteState, VoteValue, authorize,
};
use trs_site::Site;
use trs_storage::{Condition, Item, WriteOp};

#[derive(Debug, Serialize)]
pub struct SiteBenchReport {
    pub projects: usize,
    pub releases: usize,
    pub files: usize,
    pub generate_seconds: f64,
    pub full_build: Phase,
    /// `cp -r` of the built folder: the cost of writing the same tree with no rendering.
    pub baseline_cp_seconds: Option<f64>,
    pub full_build_again: Phase,
    pub after_vote_cast: Phase,
    pub after_promotion: Phase,
}

#[derive(Debug, Serialize)]
pub struct Phase {
    pub pages_rendered: usize,
    pub objects_written: usize,
    pub seconds: f64,
    pub pages_per_second: f64,
}

impl Phase {
    fn of(report: &trs_site::PublishReport, start: Instant) -> Self {
        let seconds = start.elapsed().as_secs_f64();
        Phase {
            pages_rendered: report.pages_rendered,
            objects_written: report.objects_written,
            seconds,
            pages_per_second: report.pages_rendered as f64 / seconds.max(1e-9),
        }
    }
}

impl std::fmt::Display for SiteBenchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "store: {} projects, {} releases, {} files (generated in {:.1} s)",
            self.projects, self.releases, self.files, self.generate_seconds
        )?;
        let line = |f: &mut std::fmt::Formatter<'_>, name: &str, p: &Phase| {
            writeln!(
                f,
                "{name:<24} {:>7} objects rendered {:>7} written {:>9.3} s {:>9.0} pages/s",
                p.pages_rendered, p.objects_written, p.seconds, p.pages_per_second
            )
        };
        line(f, "full build", &self.full_build)?;
        if let Some(cp) = self.baseline_cp_seconds {
            writeln!(f, "{:<24} {:>7} {:>24} {cp:>9.3} s", "baseline: cp -r of it", "", "")?;
        }
        line(f, "full build, unchanged", &self.full_build_again)?;
        line(f, "after one vote cast", &self.after_vote_cast)?;
        line(f, "after one promotion", &self.after_promotion)
    }
}

fn cert(uid: &str) -> Vec<u8> {
    let (cert, _) = openpgp::cert::CertBuilder::general_purpose(Some(format!("{uid} <{uid}@example.org>")))
        .generate()
        .expect("generate key");
    cert.armored().to_vec().expect("armor")
}

/// Writes `ops` in transactions of at most the store's limit.
async fn write_all(app: &App, ops: Vec<WriteOp>) -> CliResult<()> {
    let mut ops = ops.into_iter().peekable();
    while ops.peek().is_some() {
        let batch: Vec<WriteOp> = ops.by_ref().take(trs_storage::item::MAX_TRANSACTION_ITEMS).collect();
        app.items.transact(batch).await.map_err(failed)?;
    }
    Ok(())
}

fn put(item: Item) -> WriteOp {
    WriteOp::Put { item, condition: Condition::Absent }
}

fn digest(seed: &str) -> Sha512 {
    use sha2::Digest;
    Sha512::from_bytes(sha2::Sha512::digest(seed.as_bytes()).into())
}

/// What one generated release looks like.
fn release_stage(k: usize, count: usize) -> Stage {
    match count - 1 - k {
        0 => Stage::Candidate,
        1 => Stage::Current,
        _ if k % 20 == 7 => Stage::Revoked,
        _ if k % 10 == 3 => Stage::EndOfLife,
        _ => Stage::Archived,
    }
}

/// One project with `count` releases, written as trs-app writes them.
async fn generate_project(
    app: &App,
    name: &ProjectName,
    count: usize,
    files_per_release: usize,
    by: &Actor,
    signer: &Signer,
    now: i64,
) -> CliResult<usize> {
    let project: Project = serde_json::from_value(json!({
        "name": name, "members": ["ada"], "committers": ["carl"], "release_managers": ["rita"],
        "products": [], "created_at": now - 1_000_000,
        "policy": Policy { min_vote_hours: 0, min_binding: 1, strict: false, ..Policy::default() },
    }))
    .map_err(failed)?;
    let stream_id = StreamId::Project(name.clone());
    let mut ops = vec![put(Item::new(keys::project(name), json!(project)).with_gsi1(keys::projects_index(name)))];
    let mut events: Vec<Event> = Vec::new();
    let seal = |draft: EventDraft, at: i64, events: &mut Vec<Event>| {
        let prev = events.last().map(|e| (e.seq, e.hash.clone()));
        let event = draft.seal(stream_id.clone(), prev.as_ref().map(|(s, h)| (*s, h.as_str())), at);
        events.push(event);
    };
    seal(
        EventDraft::new(Some(by.clone()), Change::ProjectCreated { project: name.clone() }),
        now - 1_000_000,
        &mut events,
    );
    let mut files = 0;
    for k in 0..count {
        let id = ReleaseId {
            project: name.clone(),
            product: None,
            version: format!("{}.{}.{}", 1 + k / 100, (k / 10) % 10, k % 10).parse().map_err(failed)?,
        };
        let at = now - 900_000 + (k as i64) * 10;
        let stage = release_stage(k, count);
        let mut entries = Vec::new();
        let base = format!("{name}-{}", id.version);
        let names = [".tar.gz", ".tar.gz.asc", ".tar.gz.sha512", ".zip", ".zip.asc", ".zip.sha512", "-bin.tar.gz"];
        for suffix in names.iter().cycle().take(files_per_release) {
            let path = format!("{base}{suffix}");
            if entries.iter().any(|e: &ManifestEntry| e.path.as_str() == path) {
                continue;
            }
            entries.push(ManifestEntry {
                path: path.parse().map_err(failed)?,
                size: 1000 + k as u64,
                sha512: digest(&path),
            });
        }
        files += entries.len();
        let manifest = Manifest::new(entries).map_err(failed)?;
        let rev = RevisionRef { number: 1, key: manifest.key() };
        let artifact = manifest.entries()[0].clone();
        let revision =
            Revision { number: 1, key: rev.key, parent: None, manifest, uploaded_by: by.uid.clone(), created_at: at };
        let report = StoredReport {
            revision_key: rev.key,
            report: RevisionReport {
                files: vec![FileReport {
                    path: artifact.path.clone(),
                    size: artifact.size,
                    sha512: artifact.sha512,
                    sha256: None,
                    sidecars: Vec::new(),
                    checks: vec![CheckResult {
                        signer: Some(signer.clone()),
                        ..CheckResult::pass(CheckKind::Signature, "good signature")
                    }],
                }],
            },
            finished_at: at,
        };
        let open = stage == Stage::Candidate;
        let vote = VoteRecord {
            number: 1,
            revision: rev.clone(),
            opened_at: at + 1,
            closes_not_before: at + 1,
            policy: project.policy.clone(),
            state: if open { VoteState::Open } else { VoteState::Passed },
            closed_at: (!open).then_some(at + 2),
            resolution: None,
            source: None,
        };
        let release = Release {
            stage,
            latest: Some(rev.clone()),
            vote: Some(vote),
            voted_revision: (!open).then(|| rev.clone()),
            promoted_at: (!open).then_some(at + 3),
            revoked_reason: (stage == Stage::Revoked).then(|| format!("withdrawn: defect found in {}", id.version)),
            created_at: at,
            updated_at: at + 4,
            ..Release::new(id.clone(), at)
        };
        ops.push(put(Item::new(keys::revision(&id, 1), json!(revision))));
        ops.push(put(Item::new(keys::revision_report(&id, 1), json!(report))));
        ops.push(put(Item::new(keys::release(&id), json!(release))));
        let draft = |change| EventDraft::new(Some(by.clone()), change).release(&id).revision(rev.key);
        seal(
            draft(Change::RevisionPushed {
                revision: 1,
                base: None,
                forced: false,
                files: revision.manifest.entries().len(),
                removed: 0,
                replaced: false,
            })
            .stage(None, Stage::CandidateDraft),
            at,
            &mut events,
        );
        seal(
            draft(Change::VoteOpened { vote: 1, revision: 1, closes_not_before: at + 1 })
                .stage(Some(Stage::CandidateDraft), Stage::Candidate),
            at + 1,
            &mut events,
        );
        if !open {
            seal(
                draft(Change::VoteClosed { vote: 1, passed: true, explanation: "1 binding +1".into() }),
                at + 2,
                &mut events,
            );
            seal(
                draft(Change::Promoted { revision: 1 }).stage(Some(Stage::Candidate), Stage::Current),
                at + 3,
                &mut events,
            );
            let last = match stage {
                Stage::Archived => Some(Change::Archived),
                Stage::EndOfLife => Some(Change::EndOfLife),
                Stage::Revoked => Some(Change::Revoked { reason: release.revoked_reason.clone().unwrap_or_default() }),
                _ => None,
            };
            if let Some(change) = last {
                seal(draft(change).stage(Some(Stage::Current), stage), at + 4, &mut events);
            }
        }
    }
    let head = events.last().map(|e| json!({"seq": e.seq, "hash": e.hash})).unwrap_or_default();
    for e in &events {
        ops.push(put(Item::new(keys::stream_event(&stream_id, e.seq), serde_json::to_value(e).map_err(failed)?)));
    }
    ops.push(put(Item::new(keys::stream_head(&stream_id), head)));
    write_all(app, ops).await?;
    Ok(files)
}

async fn last_event(app: &App, project: &ProjectName) -> CliResult<Event> {
    let events = stream::all_events(app, &StreamId::Project(project.clone())).await.map_err(failed)?;
    events.last().cloned().ok_or_else(|| failed(format!("{project} has no events")))
}

pub async fn site(projects: usize, releases: usize, files: usize, dir: Option<&Path>, as_json: bool) -> CliResult<()> {
    if projects == 0 || releases < projects * 2 {
        return Err(crate::error::CliError::Usage("need at least one project and two releases per project".into()));
    }
    let tmp;
    let workdir = match dir {
        Some(d) => d.to_path_buf(),
        None => {
            tmp = tempfile::tempdir().map_err(failed)?;
            tmp.path().to_path_buf()
        }
    };
    let start = Instant::now();
    let (items, blobs) =
        trs_storage::embedded::open_data_dir(&workdir.join("data"), "http://127.0.0.1:1".into()).map_err(failed)?;
    let app = App::new(Arc::new(items), Arc::new(blobs));
    let now = app.now();
    let ada = people::bootstrap_admin(
        &app,
        people::NewPerson { uid: "ada".parse().unwrap(), name: None, email: None, certificate: cert("ada") },
    )
    .await
    .map_err(failed)?;
    let permit = authorize(&ada, None, Action::Administer).map_err(failed)?;
    let by = Actor { uid: ada.uid.clone(), key: ada.keys[0].clone() };
    let mut rita = None;
    for uid in ["rita", "carl"] {
        let p = people::NewPerson { uid: uid.parse().unwrap(), name: None, email: None, certificate: cert(uid) };
        let person = people::add_person(&app, &permit, &by, p).await.map_err(failed)?;
        if uid == "rita" {
            rita = Some(person);
        }
    }
    let rita = rita.expect("rita registered");
    let rita_actor = Actor { uid: rita.uid.clone(), key: rita.keys[0].clone() };
    let signer = Signer {
        fingerprint: rita.keys[0].clone(),
        signing_key: None,
        user_id: Some("rita <rita@example.org>".into()),
        person: "rita".into(),
    };
    let mut total_files = 0;
    for i in 0..projects {
        let name: ProjectName = format!("project-{i:03}").parse().map_err(failed)?;
        let count = releases / projects + usize::from(i < releases % projects);
        total_files += generate_project(&app, &name, count, files, &rita_actor, &signer, now).await?;
    }
    let generate_seconds = start.elapsed().as_secs_f64();

    let out = workdir.join("site");
    let site: Arc<Site> = super::site_host::open(&out, super::site_host::renderer(None, None)?)?;
    let t = Instant::now();
    let report = site.full_build(&app).await.map_err(failed)?;
    let full_build = Phase::of(&report, t);

    let t = Instant::now();
    let copied = std::process::Command::new("cp").arg("-r").arg(&out).arg(workdir.join("site-copy")).status();
    let baseline_cp_seconds = copied.ok().filter(|s| s.success()).map(|_| t.elapsed().as_secs_f64());

    let t = Instant::now();
    let report = site.full_build(&app).await.map_err(failed)?;
    let full_build_again = Phase::of(&report, t);

    // One vote cast on the candidate of the first project.
    let first: ProjectName = "project-000".parse().unwrap();
    let candidate = trs_site::load::releases_of(&app, &first)
        .await
        .map_err(failed)?
        .into_iter()
        .find(|r| r.stage == Stage::Candidate)
        .ok_or_else(|| failed("no candidate generated"))?;
    let caller = Caller { person: ada.clone(), key: ada.keys[0].clone() };
    trs_app::vote::cast(&app, &caller, &candidate.id, VoteValue::Plus, None).await.map_err(failed)?;
    let event = last_event(&app, &first).await?;
    let t = Instant::now();
    let report = site.publish_event(&app, &event).await.map_err(failed)?;
    let after_vote_cast = Phase::of(&report, t);

    // One promotion: the candidate of the second project passes and becomes current, committed
    // as the promotion task commits it (the file copy before it is not the site's work).
    let second: ProjectName = "project-001".parse().unwrap();
    let (release, item) = {
        let rs = trs_site::load::releases_of(&app, &second).await.map_err(failed)?;
        let r = rs.into_iter().find(|r| r.stage == Stage::Candidate).ok_or_else(|| failed("no candidate generated"))?;
        let item = app.items.get(&keys::release(&r.id)).await.map_err(failed)?.ok_or_else(|| failed("release item"))?;
        (r, item)
    };
    let rev = release.latest.clone().ok_or_else(|| failed("no revision"))?;
    let promoted = Release {
        stage: Stage::Current,
        vote: release.vote.clone().map(|v| VoteRecord { state: VoteState::Passed, closed_at: Some(now), ..v }),
        voted_revision: Some(rev.clone()),
        promoted_at: Some(now),
        updated_at: now,
        ..release.clone()
    };
    let draft = EventDraft::new(Some(by.clone()), Change::Promoted { revision: rev.number })
        .release(&release.id)
        .revision(rev.key)
        .stage(Some(Stage::Candidate), Stage::Current);
    let ops = vec![WriteOp::Put { item: item.updated(json!(promoted)), condition: Condition::VersionIs(item.version) }];
    let event =
        stream::commit_or_conflict(&app, &StreamId::Project(second.clone()), draft, ops).await.map_err(failed)?;
    let t = Instant::now();
    let report = site.publish_event(&app, &event).await.map_err(failed)?;
    let after_promotion = Phase::of(&report, t);

    let result = SiteBenchReport {
        projects,
        releases,
        files: total_files,
        generate_seconds,
        full_build,
        baseline_cp_seconds,
        full_build_again,
        after_vote_cast,
        after_promotion,
    };
    if as_json {
        output::json(&result);
    } else {
        print!("{result}");
    }
    Ok(())
}

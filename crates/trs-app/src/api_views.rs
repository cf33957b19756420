//! Stored records as the API's views (`trs_api`): the one place that decides what of a stored
//! record an answer shows, so a stored field added for the server's own use does not leak
//! into the API, and the answer keeps the contract the OpenAPI document states.

use crate::tasks::{Task, TaskKind, TaskState};
use trs_api::common::{Actor, ReleaseRef, Stage};
use trs_api::tasks as view;
use trs_api::{
    advisories, distributions, downloads, lifecycle, mail, people, projects, releases, stream, task_results, uploads,
    votes,
};
use trs_core::ReleaseId;

/// A release's coordinates as the API writes them.
pub(crate) fn release(id: ReleaseId) -> ReleaseRef {
    ReleaseRef {
        project: id.project.to_string(),
        product: id.product.map(|p| p.to_string()),
        version: id.version.to_string(),
    }
}

fn actor(a: trs_core::Actor) -> Actor {
    Actor { uid: a.uid.to_string(), key: a.key.to_string() }
}

impl From<Task> for view::Task {
    fn from(t: Task) -> Self {
        let result = task_result(&t);
        let mut v = view::Task {
            id: t.id.to_string(),
            kind: view::TaskKind::Commit,
            upload: None,
            import: None,
            phase: None,
            release: None,
            revision: None,
            requested_by: None,
            distributions: None,
            project: None,
            event_seq: None,
            round: None,
            state: match t.state {
                TaskState::Queued => view::TaskState::Queued,
                TaskState::Running => view::TaskState::Running,
                TaskState::Done => view::TaskState::Done,
                TaskState::Failed => view::TaskState::Failed,
            },
            progress: t.progress,
            error: t.error,
            result,
            steps: t
                .steps
                .into_iter()
                .map(|s| view::TaskStep { stage: s.stage, message: s.message, at: s.at })
                .collect(),
            attempts: t.attempts,
            lease: t.lease.map(|l| view::Lease { worker: l.worker, until: l.until }),
            not_before: t.not_before,
            created_at: t.created_at,
            updated_at: t.updated_at,
        };
        match t.kind {
            TaskKind::Commit { upload, release: id, requested_by } => {
                v.upload = Some(upload.to_string());
                v.release = Some(release(id));
                v.requested_by = Some(actor(requested_by));
            }
            TaskKind::Import { import, release: id, requested_by, phase } => {
                v.kind = view::TaskKind::Import;
                v.import = Some(import.to_string());
                v.release = Some(release(id));
                v.requested_by = Some(actor(requested_by));
                v.phase = Some(match phase {
                    crate::import::ImportPhase::Store => view::ImportPhase::Store,
                    crate::import::ImportPhase::Publish => view::ImportPhase::Publish,
                });
            }
            TaskKind::Verify { release: id, revision } => {
                v.kind = view::TaskKind::Verify;
                v.release = Some(release(id));
                v.revision = Some(revision);
            }
            TaskKind::Promote { release: id, revision, requested_by } => {
                v.kind = view::TaskKind::Promote;
                v.release = Some(release(id));
                v.revision = Some(revision);
                v.requested_by = Some(actor(requested_by));
            }
            TaskKind::Distribute { release: id, distributions, requested_by } => {
                v.kind = view::TaskKind::Distribute;
                v.release = Some(release(id));
                v.distributions = Some(
                    distributions.iter().map(|d| serde_json::to_value(d).expect("a distribution serialises")).collect(),
                );
                v.requested_by = Some(actor(requested_by));
            }
            TaskKind::SendMail { project, event_seq } => {
                v.kind = view::TaskKind::SendMail;
                v.project = Some(project.to_string());
                v.event_seq = Some(event_seq);
            }
            TaskKind::PollMail { round } => {
                v.kind = view::TaskKind::PollMail;
                v.round = Some(round);
            }
        }
        v
    }
}

/// A task's stored result as the API shows it: a failed task's refusal (the code and status it
/// recorded, its error as the message), or a done task's result read as its kind's. A stored
/// result of another shape (none is written) is left out, and logged.
fn task_result(t: &Task) -> Option<task_results::TaskResult> {
    use task_results::TaskResult as R;
    let stored = t.result.as_ref();
    match t.state {
        TaskState::Queued | TaskState::Running => None,
        TaskState::Failed => Some(R::Failed(task_results::TaskFailure {
            code: stored.and_then(|r| r["code"].as_str()).unwrap_or("task-failed").to_string(),
            status: stored.and_then(|r| r["status"].as_u64()).and_then(|s| u16::try_from(s).ok()).unwrap_or(500),
            message: t.error.clone().unwrap_or_else(|| "unknown error".to_string()),
        })),
        TaskState::Done => {
            let stored = stored?.clone();
            let read = match &t.kind {
                TaskKind::Commit { .. } => serde_json::from_value(stored).map(R::Commit),
                TaskKind::Import { .. } => serde_json::from_value(stored).map(R::Import),
                TaskKind::Verify { .. } => serde_json::from_value(stored).map(R::Verify),
                TaskKind::Promote { .. } => serde_json::from_value(stored).map(R::Promote),
                TaskKind::Distribute { .. } => serde_json::from_value(stored).map(R::Distribute),
                TaskKind::SendMail { .. } => serde_json::from_value(stored).map(R::SendMail),
                TaskKind::PollMail { .. } => serde_json::from_value(stored).map(R::PollMail),
            };
            read.inspect_err(|e| tracing::warn!(task = %t.id, error = %e, "a task's stored result is not its kind's"))
                .ok()
        }
    }
}

fn licences(set: std::collections::BTreeSet<trs_core::LicenceCategory>) -> Vec<projects::LicenceCategory> {
    set.into_iter().map(licence_category).collect()
}

/// A licence category as the API writes it (also what `trs project policy` sends).
pub fn licence_category(c: trs_core::LicenceCategory) -> projects::LicenceCategory {
    use trs_core::LicenceCategory as Stored;
    match c {
        Stored::Permissive => projects::LicenceCategory::Permissive,
        Stored::WeakCopyleft => projects::LicenceCategory::WeakCopyleft,
        Stored::StrongCopyleft => projects::LicenceCategory::StrongCopyleft,
        Stored::Restricted => projects::LicenceCategory::Restricted,
        Stored::Unknown => projects::LicenceCategory::Unknown,
    }
}

/// A project role as the API writes it (also what `trs project members` sends).
pub fn project_role(role: trs_core::ProjectRole) -> projects::ProjectRole {
    match role {
        trs_core::ProjectRole::Committee => projects::ProjectRole::Committee,
        trs_core::ProjectRole::Committer => projects::ProjectRole::Committer,
        trs_core::ProjectRole::ReleaseManager => projects::ProjectRole::ReleaseManager,
    }
}

/// A project role a request names (`trs project members --as`): [`project_role`] turned round.
pub fn project_role_from_api(role: projects::ProjectRole) -> trs_core::ProjectRole {
    match role {
        projects::ProjectRole::Committee => trs_core::ProjectRole::Committee,
        projects::ProjectRole::Committer => trs_core::ProjectRole::Committer,
        projects::ProjectRole::ReleaseManager => trs_core::ProjectRole::ReleaseManager,
    }
}

/// A licence category a request names (`trs project policy`): [`licence_category`] turned round.
pub fn licence_category_from_api(c: projects::LicenceCategory) -> trs_core::LicenceCategory {
    use trs_core::LicenceCategory as Stored;
    match c {
        projects::LicenceCategory::Permissive => Stored::Permissive,
        projects::LicenceCategory::WeakCopyleft => Stored::WeakCopyleft,
        projects::LicenceCategory::StrongCopyleft => Stored::StrongCopyleft,
        projects::LicenceCategory::Restricted => Stored::Restricted,
        projects::LicenceCategory::Unknown => Stored::Unknown,
    }
}

// The stored types of trs-core convert by functions (the orphan rule forbids a `From`
// between two other crates' types); trs-app's own by `From`.

/// A person edit as a request carries it (`trs person edit`).
impl From<people::EditPerson> for crate::people::PersonEdit {
    fn from(e: people::EditPerson) -> Self {
        crate::people::PersonEdit { name: e.name, email: e.email }
    }
}

/// A project edit as a request carries it (`trs project edit`).
impl From<projects::EditProject> for crate::projects::ProjectEdit {
    fn from(e: projects::EditProject) -> Self {
        crate::projects::ProjectEdit { display_name: e.display_name, description: e.description, homepage: e.homepage }
    }
}

/// A stored policy as the API shows it.
pub fn policy(p: trs_core::Policy) -> projects::Policy {
    {
        projects::Policy {
            min_vote_hours: p.min_vote_hours,
            min_binding: p.min_binding,
            strict: p.strict,
            archive_previous: p.archive_previous,
            auto_close_votes: p.auto_close_votes,
            auto_publish: p.auto_publish,
            auto_distribute: p.auto_distribute,
            prerelease_latest: p.prerelease_latest,
            require_sbom: p.require_sbom,
            email_votes: p.email_votes,
            denied_licences: licences(p.denied_licences),
        }
    }
}

/// A product's stored policy changes as the API shows them.
pub fn policy_override(p: trs_core::PolicyOverride) -> projects::PolicyOverride {
    {
        projects::PolicyOverride {
            min_vote_hours: p.min_vote_hours,
            min_binding: p.min_binding,
            strict: p.strict,
            archive_previous: p.archive_previous,
            auto_close_votes: p.auto_close_votes,
            auto_publish: p.auto_publish,
            auto_distribute: p.auto_distribute,
            prerelease_latest: p.prerelease_latest,
            require_sbom: p.require_sbom,
            email_votes: p.email_votes,
            denied_licences: p.denied_licences.map(licences),
        }
    }
}

impl From<crate::projects::PolicyView> for projects::ProjectPolicy {
    fn from(v: crate::projects::PolicyView) -> Self {
        projects::ProjectPolicy {
            project: v.project.to_string(),
            product: v.product.map(|p| p.to_string()),
            policy: policy(v.policy),
            product_override: v.product_override.map(policy_override),
        }
    }
}

/// Stored mail settings as the API shows them.
pub fn mail_settings(m: trs_core::MailSettings) -> mail::MailSettings {
    mail::MailSettings {
        vote_to: m.vote_to,
        announce_to: m.announce_to,
        from: m.from,
        reply_to: m.reply_to,
        imap: m.imap,
    }
}

impl From<crate::mail::MailView> for mail::ProjectMail {
    fn from(v: crate::mail::MailView) -> Self {
        mail::ProjectMail {
            project: v.project.to_string(),
            product: v.product.map(|p| p.to_string()),
            mail: mail_settings(v.mail),
        }
    }
}

impl From<crate::mail::MailRecord> for mail::MailRecord {
    fn from(r: crate::mail::MailRecord) -> Self {
        use crate::mail::{MailKind as Kind, MailState as State};
        mail::MailRecord {
            project: r.project.to_string(),
            event_seq: r.event_seq,
            release: release(r.release),
            advisory: r.advisory.map(|a| a.to_string()),
            vote: r.vote,
            kind: match r.kind {
                Kind::Vote => mail::MailKind::Vote,
                Kind::Result => mail::MailKind::Result,
                Kind::Cancelled => mail::MailKind::Cancelled,
                Kind::Announce => mail::MailKind::Announce,
                Kind::EndOfLife => mail::MailKind::EndOfLife,
                Kind::Archived => mail::MailKind::Archived,
                Kind::Revoked => mail::MailKind::Revoked,
                Kind::Advisory => mail::MailKind::Advisory,
            },
            message_id: r.message_id,
            sent_as: r.sent_as,
            in_reply_to: r.in_reply_to,
            state: match r.state {
                State::Queued => mail::MailState::Queued,
                State::Sent => mail::MailState::Sent,
                State::NotSent => mail::MailState::NotSent,
            },
            reason: r.reason,
            to: r.to,
            subject: r.subject,
            queued_at: r.queued_at,
            finished_at: r.finished_at,
            waiting: r.waiting,
            checks: r.checks,
            next_check_at: r.next_check_at,
        }
    }
}

/// A stored automatic distribution as the API shows it.
pub fn auto_distribution(d: trs_core::AutoDistribution) -> distributions::AutoDistribution {
    distributions::AutoDistribution {
        platform: d.platform,
        namespace: d.namespace,
        package: d.package,
        staging: d.staging,
    }
}

/// A distribution a request asks every promotion to run: [`auto_distribution`] turned round.
pub fn auto_distribution_from_api(d: distributions::AutoDistribution) -> trs_core::AutoDistribution {
    trs_core::AutoDistribution { platform: d.platform, namespace: d.namespace, package: d.package, staging: d.staging }
}

impl From<crate::distribute::DistributionRecord> for distributions::DistributionRecord {
    fn from(r: crate::distribute::DistributionRecord) -> Self {
        distributions::DistributionRecord {
            release: release(r.release),
            platform: r.platform.as_str().to_string(),
            namespace: r.namespace,
            package: r.package,
            version: r.version,
            staging: r.staging,
            pending: r.pending,
            retries: r.retries,
            upload_date: r.upload_date,
            api_url: r.api_url,
            web_url: r.web_url,
            created_by: r.created_by.map(|u| u.to_string()),
            staged_revision_key: r.staged_revision_key.map(|k| k.to_string()),
            production_revision_key: r.production_revision_key.map(|k| k.to_string()),
            last_error: r.last_error,
            details: r.details,
            in_flight: r.in_flight,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// A stored project as the API shows it.
pub fn project(p: trs_core::Project) -> projects::Project {
    {
        let names =
            |set: std::collections::BTreeSet<trs_core::PersonUid>| set.into_iter().map(|u| u.to_string()).collect();
        projects::Project {
            name: p.name.to_string(),
            members: names(p.members),
            committers: names(p.committers),
            release_managers: names(p.release_managers),
            products: p.products.into_iter().map(|n| n.to_string()).collect(),
            product_descriptions: p.product_descriptions.into_iter().map(|(n, d)| (n.to_string(), d)).collect(),
            display_name: p.display_name,
            description: p.description,
            homepage: p.homepage,
            created_at: p.created_at,
            policy: policy(p.policy),
            product_policies: p
                .product_policies
                .into_iter()
                .map(|(n, o)| (n.to_string(), policy_override(o)))
                .collect(),
            lines: p
                .lines
                .into_iter()
                .map(|(line, d)| {
                    (line, projects::LineDates { end_of_life: d.end_of_life, support_until: d.support_until })
                })
                .collect(),
            distributions: p.distributions.into_iter().map(auto_distribution).collect(),
            // The stored settings are left out while empty; so is the view's.
            mail: (!p.mail.is_empty()).then(|| mail_settings(p.mail)),
            product_mail: p.product_mail.into_iter().map(|(n, m)| (n.to_string(), mail_settings(m))).collect(),
        }
    }
}

/// A stored event as the API shows it. Through the event's JSON text: the fields of its type
/// keep their order only that way (a `serde_json::Map` sorts them).
pub fn event(e: &trs_core::Event) -> stream::StreamEvent {
    let text = serde_json::to_string(e).expect("an event serialises");
    serde_json::from_str(&text).expect("an event reads as the API's StreamEvent")
}

fn stage(s: trs_core::Stage) -> Stage {
    match s {
        trs_core::Stage::CandidateDraft => Stage::CandidateDraft,
        trs_core::Stage::Candidate => Stage::Candidate,
        trs_core::Stage::Current => Stage::Current,
        trs_core::Stage::Archived => Stage::Archived,
        trs_core::Stage::EndOfLife => Stage::EndOfLife,
        trs_core::Stage::Revoked => Stage::Revoked,
    }
}

/// A release as a stream view tells it, as the API shows it.
pub fn release_lifecycle(r: trs_core::ReleaseView) -> stream::ReleaseLifecycle {
    stream::ReleaseLifecycle {
        release: release(r.release),
        stage: stage(r.stage),
        states: r.states.into_iter().collect(),
        promoted_revision: r.promoted_revision.map(|k| k.to_string()),
        promoted_at: r.promoted_at,
        promoted_seq: r.promoted_seq,
        end_of_life: r.end_of_life,
        support_until: r.support_until,
        revoked_reason: r.revoked_reason,
        first_seen: r.first_seen,
        last_change: r.last_change,
    }
}

impl From<crate::release_views::ReleasesView> for stream::ReleasesView {
    fn from(v: crate::release_views::ReleasesView) -> Self {
        stream::ReleasesView {
            at: v.at,
            by_state: v.by_state,
            by_release: v.by_release,
            latest: v.latest,
            releases: v.releases.into_iter().map(release_lifecycle).collect(),
            next: v.next.map(|p| p.to_string()),
        }
    }
}

/// States by release, at the view's time: what `GET /api/v1/projects/{project}/states` answers.
impl From<crate::release_views::ReleasesView> for stream::ProjectStates {
    fn from(v: crate::release_views::ReleasesView) -> Self {
        stream::ProjectStates { at: v.at, by_release: v.by_release }
    }
}

/// A release's events, oldest first, as `GET …/releases/{version}/history` answers.
pub fn release_history(id: &ReleaseId, events: &[trs_core::Event]) -> stream::ReleaseHistory {
    stream::ReleaseHistory { events: events.iter().map(event).collect(), release: id.to_string() }
}

/// A page of a stream's events as `GET /api/v1/events` answers: each event the JSON object
/// stored (a follower re-hashes exactly what was stored), and the `after` of the next page
/// (`after` itself when the page is empty).
pub fn events_page(
    id: &trs_core::StreamId,
    stored: Vec<serde_json::Value>,
    after: u64,
) -> crate::AppResult<stream::EventsPage> {
    let events = stored
        .into_iter()
        .map(|e| match e {
            serde_json::Value::Object(fields) => Ok(fields),
            other => Err(crate::AppError::Internal(format!("an event of stream {id} is stored as {other}"))),
        })
        .collect::<crate::AppResult<Vec<_>>>()?;
    let last_seq = events.last().and_then(|e| e.get("seq")).and_then(|s| s.as_u64()).unwrap_or(after);
    Ok(stream::EventsPage { stream: id.to_string(), events, last_seq })
}

impl From<crate::release_views::ChainReport> for stream::ChainReport {
    fn from(r: crate::release_views::ChainReport) -> Self {
        stream::ChainReport { stream: r.stream, events: r.events, ok: r.ok, head: r.head, error: r.error }
    }
}

impl From<crate::lifecycle::Archived> for lifecycle::ArchivedRelease {
    fn from(a: crate::lifecycle::Archived) -> Self {
        lifecycle::ArchivedRelease {
            release: release(a.release),
            files: a.files,
            public_prefix: a.public_prefix,
            already: a.already,
        }
    }
}

impl From<crate::vote::email::Email> for mail::RenderedMail {
    fn from(e: crate::vote::email::Email) -> Self {
        mail::RenderedMail { subject: e.subject, body: e.body }
    }
}

fn advisory_release(r: crate::cve::ReleaseRef) -> trs_api::releases::AdvisoryRelease {
    trs_api::releases::AdvisoryRelease { version: r.version.to_string(), stage: stage(r.stage) }
}

/// A severity as the API writes it (also what `trs cve add|edit` send).
pub fn severity(s: trs_core::Severity) -> advisories::Severity {
    use trs_core::Severity as Stored;
    match s {
        Stored::None => advisories::Severity::None,
        Stored::Low => advisories::Severity::Low,
        Stored::Medium => advisories::Severity::Medium,
        Stored::High => advisories::Severity::High,
        Stored::Critical => advisories::Severity::Critical,
    }
}

/// A severity a request names (`trs cve add|edit --severity`): [`severity`] turned round.
pub fn severity_from_api(s: advisories::Severity) -> trs_core::Severity {
    use trs_core::Severity as Stored;
    match s {
        advisories::Severity::None => Stored::None,
        advisories::Severity::Low => Stored::Low,
        advisories::Severity::Medium => Stored::Medium,
        advisories::Severity::High => Stored::High,
        advisories::Severity::Critical => Stored::Critical,
    }
}

/// The package a request names for an advisory's OSV record (`trs cve add|edit --package`).
pub fn package_from_api(p: advisories::Package) -> trs_core::advisory::Package {
    trs_core::advisory::Package { ecosystem: p.ecosystem, name: p.name }
}

impl From<crate::cve::AdvisoryView> for advisories::Advisory {
    fn from(v: crate::cve::AdvisoryView) -> Self {
        let a = v.advisory;
        advisories::Advisory {
            id: a.id.to_string(),
            project: a.project.to_string(),
            product: a.product.map(|p| p.to_string()),
            summary: a.summary,
            details: a.details,
            severity: a.severity.map(severity),
            affected: a.affected.into_iter().map(String::from).collect(),
            fixed: a.fixed.map(|v| v.to_string()),
            credits: a.credits,
            references: a.references,
            package: a.package.map(|p| advisories::Package { ecosystem: p.ecosystem, name: p.name }),
            cna_org_id: a.cna_org_id,
            embargoed_until: a.embargoed_until,
            published_at: a.published_at,
            created_at: a.created_at,
            updated_at: a.updated_at,
            affected_releases: v.affected_releases.into_iter().map(advisory_release).collect(),
            fixed_by: v.fixed_by.map(advisory_release),
        }
    }
}

impl From<crate::draft::Discarded> for uploads::DiscardedDraft {
    fn from(d: crate::draft::Discarded) -> Self {
        uploads::DiscardedDraft { release: release(d.release), revision: d.revision }
    }
}

impl From<crate::import::ImportStage> for uploads::ImportStage {
    fn from(s: crate::import::ImportStage) -> Self {
        match s {
            crate::import::ImportStage::Current => uploads::ImportStage::Current,
            crate::import::ImportStage::Archived => uploads::ImportStage::Archived,
        }
    }
}

/// The stage a request imports a release in (`trs import`, `--archive`).
impl From<uploads::ImportStage> for crate::import::ImportStage {
    fn from(s: uploads::ImportStage) -> Self {
        match s {
            uploads::ImportStage::Current => crate::import::ImportStage::Current,
            uploads::ImportStage::Archived => crate::import::ImportStage::Archived,
        }
    }
}

/// A file a request declares for an upload (its path is checked when the upload starts).
impl From<uploads::DeclaredFile> for crate::upload::DeclaredFile {
    fn from(f: uploads::DeclaredFile) -> Self {
        crate::upload::DeclaredFile { path: f.path, size: f.size }
    }
}

impl From<crate::import::StartedImport> for uploads::StartedImport {
    fn from(s: crate::import::StartedImport) -> Self {
        uploads::StartedImport {
            release: release(s.release),
            already_imported: s.already_imported,
            id: s.id.map(|id| id.to_string()),
            uploads: s.uploads.into_iter().map(uploads::FileTarget::from).collect(),
            expires_at: s.expires_at,
        }
    }
}

impl From<crate::upload::FileTarget> for uploads::FileTarget {
    fn from(f: crate::upload::FileTarget) -> Self {
        uploads::FileTarget {
            path: f.path.to_string(),
            size: f.size,
            upload: f.upload.map(upload_url),
            parts: f.parts.map(|p| uploads::PartUrls {
                part_size: p.part_size,
                urls: p.urls.into_iter().map(upload_url).collect(),
                present: p
                    .present
                    .into_iter()
                    .map(|s| uploads::StoredPart { number: s.number, size: s.size, etag: s.etag })
                    .collect(),
            }),
        }
    }
}

fn upload_url(u: trs_storage::UploadUrl) -> uploads::UploadUrl {
    uploads::UploadUrl { method: u.method, url: u.url, headers: u.headers, expires_at: u.expires_at }
}

/// A stored person as the API shows it: field by field, so a field stored for the server's
/// own use stays out of every answer that names a person.
pub fn person(p: trs_core::Person) -> people::Person {
    people::Person {
        uid: p.uid.to_string(),
        name: p.name,
        email: p.email,
        keys: p.keys.into_iter().map(|k| k.to_string()).collect(),
        admin: p.admin,
        foundation_member: p.foundation_member,
        created_at: p.created_at,
    }
}

/// A folder of the public download tree as `GET /current/…/` and `/archive/…/` answer it
/// (as JSON, or as the page built from it).
impl From<crate::public::Listing> for downloads::FolderListing {
    fn from(l: crate::public::Listing) -> Self {
        downloads::FolderListing {
            path: l.path,
            entries: l
                .entries
                .into_iter()
                .map(|e| downloads::FolderEntry { name: e.name, url: e.url, size: e.size, sha512: e.sha512 })
                .collect(),
        }
    }
}

impl From<crate::people::RegisteredKey> for people::RegisteredKey {
    fn from(k: crate::people::RegisteredKey) -> Self {
        people::RegisteredKey {
            fingerprint: k.fingerprint.to_string(),
            person: k.person.to_string(),
            user_ids: k.user_ids,
            primary_user_id: k.primary_user_id,
            armored: k.armored,
            registered_at: k.registered_at,
        }
    }
}

impl From<crate::people::PersonView> for people::PersonDetail {
    fn from(v: crate::people::PersonView) -> Self {
        people::PersonDetail {
            person: person(v.person),
            registered_keys: v
                .key_details
                .into_iter()
                .map(|k| people::KeySummary {
                    fingerprint: k.fingerprint.to_string(),
                    user_ids: k.user_ids,
                    registered_at: k.registered_at,
                    warnings: k.warnings,
                })
                .collect(),
            projects: v
                .projects
                .into_iter()
                .map(|p| people::ProjectRoles {
                    project: p.project.to_string(),
                    roles: p.roles.into_iter().map(|r| r.as_str().to_string()).collect(),
                })
                .collect(),
        }
    }
}

/// Every person, by uid, as `GET /api/v1/people` answers.
pub fn people_list(all: Vec<trs_core::Person>) -> people::PeopleList {
    people::PeopleList { people: all.into_iter().map(person).collect() }
}

impl From<crate::projects::ProjectSummary> for projects::ProjectSummary {
    fn from(p: crate::projects::ProjectSummary) -> Self {
        projects::ProjectSummary {
            name: p.name.to_string(),
            display_name: p.display_name,
            description: p.description,
            products: p.products.into_iter().map(|n| n.to_string()).collect(),
        }
    }
}

/// Every project, by name, as `GET /api/v1/projects` answers.
pub fn project_list(all: Vec<crate::projects::ProjectSummary>) -> projects::ProjectList {
    projects::ProjectList { projects: all.into_iter().map(Into::into).collect() }
}

impl From<crate::projects::ProjectView> for projects::ProjectDetail {
    fn from(v: crate::projects::ProjectView) -> Self {
        projects::ProjectDetail {
            project: project(v.project),
            keys: v
                .keys
                .into_iter()
                .map(|k| projects::KeyRef {
                    person: k.person.to_string(),
                    fingerprint: k.fingerprint.to_string(),
                    user_id: k.user_id,
                })
                .collect(),
        }
    }
}

impl From<crate::upload::StartedUpload> for uploads::StartedUpload {
    fn from(s: crate::upload::StartedUpload) -> Self {
        uploads::StartedUpload {
            id: s.id.to_string(),
            release: release(s.release),
            base_revision: s.base_revision,
            files: s.files.into_iter().map(uploads::FileTarget::from).collect(),
            expires_at: s.expires_at,
        }
    }
}

fn revision_ref(r: trs_core::RevisionRef) -> trs_api::common::RevisionRef {
    trs_api::common::RevisionRef { number: r.number, key: r.key.to_string() }
}

fn outcome(o: trs_core::Outcome) -> releases::Outcome {
    match o {
        trs_core::Outcome::Pass => releases::Outcome::Pass,
        trs_core::Outcome::Warn => releases::Outcome::Warn,
        trs_core::Outcome::Fail => releases::Outcome::Fail,
    }
}

/// A stored check result as the API shows it. The SBOM's summary is described by
/// docs/security-data.md, not field by field in the contract: it goes as the JSON it is.
fn check_result(c: trs_core::CheckResult) -> releases::CheckResult {
    releases::CheckResult {
        check: c.check.as_str().to_string(),
        result: outcome(c.result),
        reason: c.reason,
        signer: c.signer.map(|s| releases::Signer {
            fingerprint: s.fingerprint.to_string(),
            signing_key: s.signing_key.map(|k| k.to_string()),
            user_id: s.user_id,
            person: s.person,
        }),
        sbom: c.sbom.map(|s| serde_json::to_value(&*s).expect("an SBOM summary serialises")),
    }
}

fn vote_state(s: trs_core::VoteState) -> votes::VoteState {
    match s {
        trs_core::VoteState::Open => votes::VoteState::Open,
        trs_core::VoteState::Passed => votes::VoteState::Passed,
        trs_core::VoteState::Failed => votes::VoteState::Failed,
        trs_core::VoteState::Cancelled => votes::VoteState::Cancelled,
    }
}

fn tally(t: trs_core::Tally) -> votes::Tally {
    votes::Tally {
        binding_plus: t.binding_plus,
        binding_zero: t.binding_zero,
        binding_minus: t.binding_minus,
        non_binding_plus: t.non_binding_plus,
        non_binding_zero: t.non_binding_zero,
        non_binding_minus: t.non_binding_minus,
    }
}

fn advisory_note(n: crate::cve::AdvisoryNote) -> releases::AdvisoryNote {
    releases::AdvisoryNote {
        id: n.id.to_string(),
        summary: n.summary,
        severity: n.severity.map(|s| s.as_str().to_string()),
        fixed: n.fixed.map(|v| v.to_string()),
        fixed_by: n.fixed_by.map(advisory_release),
    }
}

impl From<crate::status::ReleaseStatus> for releases::ReleaseStatus {
    fn from(s: crate::status::ReleaseStatus) -> Self {
        let verification = if s.verified() { "done" } else { "pending" }.to_string();
        let release = release(s.release);
        releases::ReleaseStatus {
            project: release.project,
            product: release.product,
            version: release.version,
            stage: stage(s.stage),
            revision: s.revision.as_ref().map(|r| r.number),
            revision_key: s.revision.map(|r| r.key.to_string()),
            uploaded_by: s.uploaded_by.map(|u| u.to_string()),
            verification,
            summary: s.summary.map(|c| releases::Summary { pass: c.pass, warn: c.warn, fail: c.fail }),
            files: s
                .files
                .into_iter()
                .map(|f| releases::FileStatus {
                    path: f.path,
                    size: f.size,
                    sha512: f.sha512.to_string(),
                    checks: f.checks.into_iter().map(check_result).collect(),
                })
                .collect(),
            vote: s.vote.map(|v| releases::VoteSummary {
                number: v.number,
                state: vote_state(v.state),
                revision: revision_ref(v.revision),
                opened_at: v.opened_at,
                closes_not_before: v.closes_not_before,
                closed_at: v.closed_at,
                tally: tally(v.tally),
                explanation: v.explanation,
            }),
            voted_revision: s.voted_revision.map(revision_ref),
            affected_by: s.affected_by.into_iter().map(advisory_note).collect(),
            fixes: s.fixes.into_iter().map(advisory_note).collect(),
        }
    }
}

/// A vote value as the API writes it (also what `trs vote cast` sends).
pub fn vote_value(v: trs_core::VoteValue) -> votes::VoteValue {
    match v {
        trs_core::VoteValue::Plus => votes::VoteValue::Plus,
        trs_core::VoteValue::Zero => votes::VoteValue::Zero,
        trs_core::VoteValue::Minus => votes::VoteValue::Minus,
    }
}

/// A vote value a request carries (`trs vote cast`), as trs records it: [`vote_value`] turned round.
pub fn vote_value_from_api(v: votes::VoteValue) -> trs_core::VoteValue {
    match v {
        votes::VoteValue::Plus => trs_core::VoteValue::Plus,
        votes::VoteValue::Zero => trs_core::VoteValue::Zero,
        votes::VoteValue::Minus => trs_core::VoteValue::Minus,
    }
}

/// Where a candidate was built from, as a request declares it (`trs vote start --tag …`).
pub fn source_ref_from_api(s: votes::SourceRef) -> trs_core::SourceRef {
    trs_core::SourceRef { tag: s.tag, commit: s.commit, url: s.url }
}

fn ballot_source(s: trs_core::BallotSource) -> votes::BallotSource {
    match s {
        trs_core::BallotSource::Call => votes::BallotSource::Call,
        trs_core::BallotSource::Email => votes::BallotSource::Email,
    }
}

fn ballot(b: trs_core::Ballot) -> votes::Ballot {
    votes::Ballot {
        voter: b.voter.to_string(),
        key: b.key.map(|k| k.to_string()),
        value: vote_value(b.value),
        binding: b.binding,
        comment: b.comment,
        cast_at: b.cast_at,
        earlier: b
            .earlier
            .into_iter()
            .map(|e| votes::EarlierBallot {
                value: vote_value(e.value),
                binding: e.binding,
                comment: e.comment,
                cast_at: e.cast_at,
                source: ballot_source(e.source),
                message_id: e.message_id,
            })
            .collect(),
        source: ballot_source(b.source),
        message_id: b.message_id,
    }
}

fn resolution(r: trs_core::Resolution) -> votes::Resolution {
    votes::Resolution {
        passed: r.passed,
        tally: tally(r.tally),
        rules: r.rules.into_iter().map(|c| votes::RuleCheck { rule: c.rule, met: c.met, detail: c.detail }).collect(),
        explanation: r.explanation,
    }
}

/// A stored vote as the API shows it; its policy as the project's policy document shows it.
fn vote_record(v: trs_core::VoteRecord) -> votes::VoteRecord {
    votes::VoteRecord {
        number: v.number,
        revision: revision_ref(v.revision),
        opened_at: v.opened_at,
        closes_not_before: v.closes_not_before,
        policy: policy(v.policy),
        state: vote_state(v.state),
        closed_at: v.closed_at,
        resolution: v.resolution.map(resolution),
        source: v.source.map(|s| votes::SourceRef { tag: s.tag, commit: s.commit, url: s.url }),
    }
}

fn mail_reply(r: crate::vote::mail_import::MailReply) -> votes::MailReply {
    use crate::vote::mail_import::ReplyOutcome as Stored;
    votes::MailReply {
        message_id: r.message_id,
        from: r.from,
        voter: r.voter.map(|u| u.to_string()),
        sent_at: r.sent_at,
        outcome: match r.outcome {
            Stored::Counted => votes::ReplyOutcome::Counted,
            Stored::Kept => votes::ReplyOutcome::Kept,
            Stored::Ambiguous => votes::ReplyOutcome::Ambiguous,
            Stored::NoVote => votes::ReplyOutcome::NoVote,
            Stored::UnknownSender => votes::ReplyOutcome::UnknownSender,
            Stored::BeforeVote => votes::ReplyOutcome::BeforeVote,
        },
        value: r.value.map(vote_value),
        signed_by: r.signed_by.map(|k| k.to_string()),
        detail: r.detail,
        read_at: r.read_at,
    }
}

impl From<crate::vote::VoteView> for votes::VoteView {
    fn from(v: crate::vote::VoteView) -> Self {
        votes::VoteView {
            release: release(v.release),
            stage: stage(v.stage),
            vote: vote_record(v.vote),
            ballots: v.ballots.into_iter().map(ballot).collect(),
            tally: tally(v.tally),
            resolution: resolution(v.resolution),
            closes_in_secs: v.closes_in_secs,
            voted_revision: v.voted_revision.map(revision_ref),
            vote_message_id: v.vote_message_id,
            mail_replies: v.mail_replies.into_iter().map(mail_reply).collect(),
        }
    }
}

impl From<crate::vote::CastReceipt> for votes::CastReceipt {
    fn from(r: crate::vote::CastReceipt) -> Self {
        votes::CastReceipt {
            release: release(r.release),
            vote: r.vote,
            revision: revision_ref(r.revision),
            ballot: ballot(r.ballot),
            replaces: r.replaces.map(vote_value),
        }
    }
}

impl From<crate::vote::mail_import::ImportReport> for votes::ImportReport {
    fn from(r: crate::vote::mail_import::ImportReport) -> Self {
        votes::ImportReport {
            release: release(r.release),
            vote: r.vote,
            vote_message_id: r.vote_message_id,
            replies: r.replies.into_iter().map(mail_reply).collect(),
            already_read: r.already_read,
            not_in_thread: r.not_in_thread,
            unreadable: r.unreadable,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The view of every kind of task is the JSON the stored task had: clients that read the
    /// stored JSON before the views existed read the same fields.
    #[test]
    fn a_task_view_has_the_json_of_the_stored_task() {
        let id: ReleaseId = serde_json::from_value(serde_json::json!({"project": "foo", "version": "1.0.0"})).unwrap();
        let by: trs_core::Actor = serde_json::from_value(
            serde_json::json!({"uid": "rita", "key": "0123456789ABCDEF0123456789ABCDEF01234567"}),
        )
        .unwrap();
        let kinds = [
            TaskKind::Commit { upload: crate::App::new_id(), release: id.clone(), requested_by: by.clone() },
            TaskKind::Import {
                import: crate::App::new_id(),
                release: id.clone(),
                requested_by: by.clone(),
                phase: crate::import::ImportPhase::Publish,
            },
            TaskKind::Verify { release: id.clone(), revision: 2 },
            TaskKind::Promote { release: id.clone(), revision: 2, requested_by: by.clone() },
            TaskKind::Distribute { release: id.clone(), distributions: Vec::new(), requested_by: by.clone() },
            TaskKind::SendMail { project: id.project.clone(), event_seq: 7 },
            TaskKind::PollMail { round: 1_700_000_000 },
        ];
        for kind in kinds {
            let mut task = Task::new(kind, 100);
            task.steps.push(crate::tasks::TaskStep { stage: "promote".into(), message: "copied".into(), at: 101 });
            task.lease = Some(crate::tasks::Lease { worker: "w".into(), until: 200 });
            task.state = TaskState::Done;
            task.result = Some(stored_result(&task.kind, &id));
            let stored = serde_json::to_value(&task).unwrap();
            let viewed = view::Task::from(task);
            assert!(viewed.result.is_some(), "{:?}: the result is shown", viewed.kind);
            let json = serde_json::to_value(&viewed).unwrap();
            assert_eq!(json, stored);
            // A client reads each kind's result back as that kind's (the shapes do not overlap).
            let read: view::Task = serde_json::from_value(json).unwrap();
            assert_eq!(read, viewed);
        }
    }

    /// A done task's result as trs-app stores it, by kind (the types and JSON its runs write).
    fn stored_result(kind: &TaskKind, id: &ReleaseId) -> serde_json::Value {
        let key: trs_core::RevisionKey = serde_json::from_value(serde_json::json!("a".repeat(64))).unwrap();
        match kind {
            TaskKind::Commit { .. } => serde_json::to_value(crate::upload::CommittedUpload {
                release: id.clone(),
                changed: true,
                revision: 2,
                revision_key: key,
                files: 3,
                removed: vec!["old.tar.gz".parse().unwrap()],
                task: Some(crate::App::new_id()),
            })
            .unwrap(),
            TaskKind::Import { .. } => serde_json::to_value(crate::import::ImportedRelease {
                release: id.clone(),
                stage: trs_core::Stage::Archived,
                released_at: 50,
                revision_key: key,
                files: 3,
                already_imported: false,
                findings: vec!["foo.tar.gz: notice: no NOTICE".into()],
            })
            .unwrap(),
            TaskKind::Verify { .. } => serde_json::json!({"pass": 3, "warn": 1, "fail": 0}),
            TaskKind::Promote { .. } => serde_json::json!({
                "release": id.to_string(), "revision": 2, "revision_key": key, "files": 3,
                "public_prefix": "/current/foo/1.0.0",
            }),
            TaskKind::Distribute { .. } => serde_json::json!({"release": id.to_string(), "distributions": [
                crate::distribute::run::Outcome {
                    label: "maven org.example:foo".into(),
                    platform: "maven".into(),
                    staging: true,
                    promoted: false,
                    status: "distributed",
                    revision_key: Some(key.to_string()),
                    web_url: Some("https://repo.example/foo".into()),
                    code: None,
                    error: None,
                },
                crate::distribute::run::Outcome {
                    label: "npm foo".into(),
                    platform: "npm".into(),
                    staging: false,
                    promoted: false,
                    status: "failed",
                    revision_key: None,
                    web_url: None,
                    code: Some("registry-refused"),
                    error: Some("403".into()),
                },
            ]}),
            TaskKind::SendMail { .. } => {
                serde_json::json!({"message_id": "<1@trs>", "state": "not-sent", "reason": "template failed"})
            }
            TaskKind::PollMail { round } => serde_json::json!({
                "round": round, "mailboxes": 1, "fetched": 4, "replies": 2,
                "polled": [{"project": "foo", "mailbox": "imaps://trs@mail.example/INBOX", "fetched": 4, "votes": [
                    {"release": {"project": "foo", "version": "1.0.0"}, "replies": 2, "already_read": 1,
                     "not_in_thread": 1, "unreadable": 0, "error": null},
                ]}],
            }),
        }
    }

    /// A failed task's result is its refusal: the code and status it recorded, its error as
    /// the message; a task given up after interruptions (no status recorded) is a 500.
    #[test]
    fn a_failed_tasks_result_is_its_refusal() {
        let id: ReleaseId = serde_json::from_value(serde_json::json!({"project": "foo", "version": "1.0.0"})).unwrap();
        let mut task = Task::new(TaskKind::Verify { release: id, revision: 1 }, 100);
        task.state = TaskState::Failed;
        task.error = Some("vote not passed".into());
        task.result = Some(serde_json::json!({"code": "vote-not-passed", "status": 409}));
        let viewed = view::Task::from(task.clone());
        assert_eq!(
            viewed.failure(),
            Some(&task_results::TaskFailure {
                code: "vote-not-passed".into(),
                status: 409,
                message: "vote not passed".into()
            })
        );
        assert_eq!(
            serde_json::to_value(&viewed).unwrap()["result"],
            serde_json::json!({"code": "vote-not-passed", "status": 409, "message": "vote not passed"})
        );
        task.result = Some(serde_json::json!({"code": "task-interrupted"}));
        let failure = view::Task::from(task).failure().cloned().unwrap();
        assert_eq!((failure.code.as_str(), failure.status), ("task-interrupted", 500));
    }

    /// The upload answers (`StartedUpload` of a start or a resume: whole files, files in
    /// parts with the parts present, files arrived whole) keep every field in their view and
    /// read back as the contract's types without losing one. The e2e contract test runs on
    /// the embedded store, which sends no file in parts.
    #[test]
    fn upload_answers_are_the_contracts() {
        use crate::upload::{FileTarget, PartUrls, StartedUpload};
        use trs_storage::{StoredPart, UploadUrl};
        let id: ReleaseId = serde_json::from_value(serde_json::json!({"project": "foo", "version": "1.0.0"})).unwrap();
        let url = |n: u32| UploadUrl {
            method: "PUT".into(),
            url: format!("https://store.example/o?partNumber={n}"),
            headers: vec![("content-length".into(), "5".into())],
            expires_at: 300,
        };
        let target = |path: &str| FileTarget { path: path.parse().unwrap(), size: 12, upload: None, parts: None };
        let started = StartedUpload {
            id: crate::App::new_id(),
            release: id,
            base_revision: Some(1),
            files: vec![
                FileTarget { upload: Some(url(0)), ..target("foo-1.0.0.tar.gz.asc") },
                FileTarget {
                    parts: Some(PartUrls {
                        part_size: 5,
                        urls: (1..=3).map(url).collect(),
                        present: vec![StoredPart { number: 1, size: 5, etag: "\"a\"".into() }],
                    }),
                    ..target("foo-1.0.0.tar.gz")
                },
                target("foo-1.0.0.tar.gz.sha512"),
            ],
            expires_at: 400,
        };
        // Each file's view is the JSON of the file as the app made it (URLs, parts present).
        let expected = serde_json::json!({"id": started.id.to_string(), "release": {"project": "foo", "version": "1.0.0"},
            "base_revision": 1, "files": serde_json::to_value(&started.files).unwrap(), "expires_at": 400});
        let viewed = serde_json::to_value(uploads::StartedUpload::from(started)).unwrap();
        assert_eq!(viewed, expected);
        let read: trs_api::uploads::StartedUpload = serde_json::from_value(viewed.clone()).unwrap();
        assert_eq!(serde_json::to_value(read).unwrap(), viewed);
    }

    /// `stored`, read as the stored type, answers the same JSON, byte for byte, through its
    /// view: the views changed the contract's description, not what clients get.
    fn same_json<S, V>(view: impl Fn(S) -> V, stored: serde_json::Value)
    where
        S: serde::de::DeserializeOwned + serde::Serialize,
        V: serde::Serialize,
    {
        let record: S = serde_json::from_value(stored).unwrap();
        let before = serde_json::to_string(&record).unwrap();
        assert_eq!(serde_json::to_string(&view(record)).unwrap(), before);
    }

    #[test]
    fn project_policy_mail_and_distribution_views_answer_the_stored_json() {
        use serde_json::json;
        let policy = json!({"min_vote_hours": 0, "min_binding": 1, "strict": false, "archive_previous": true,
            "auto_close_votes": true, "auto_publish": true, "auto_distribute": true, "prerelease_latest": true,
            "require_sbom": true, "email_votes": true, "denied_licences": ["strong-copyleft", "unknown"]});
        let mail = json!({"vote_to": ["dev@foo.example"], "announce_to": ["announce@foo.example"],
            "from": "Foo <rm@foo.example>", "reply_to": "dev@foo.example", "imap": "imaps://u@imap.example/INBOX"});
        let full = json!({"name": "foo", "members": ["ada", "bob"], "committers": ["carl"], "release_managers": ["rita"],
            "products": ["cli"], "product_descriptions": {"cli": "The CLI"}, "display_name": "Foo",
            "description": "Foo things", "homepage": "https://foo.example", "created_at": 100, "policy": policy,
            "product_policies": {"cli": {"min_binding": 2, "denied_licences": []}},
            "lines": {"1.x": {"end_of_life": 5, "support_until": null}},
            "distributions": [{"platform": "pypi", "package": "foo", "staging": true},
                {"platform": "github", "namespace": "foo", "package": "foo", "staging": false}],
            "mail": mail, "product_mail": {"cli": {"vote_to": ["cli@foo.example"]}}});
        let bare =
            json!({"name": "bar", "members": ["ada"], "committers": [], "release_managers": [], "created_at": 1});
        for project in [full.clone(), bare] {
            same_json(super::project, project);
        }
        for (product, product_override) in
            [(None, None), (Some("cli"), Some(json!({}))), (Some("cli"), Some(json!({"strict": true})))]
        {
            let mut view = json!({"project": "foo", "policy": full["policy"]});
            if let Some(p) = product {
                view["product"] = json!(p);
                view["product_override"] = product_override.unwrap();
            }
            same_json::<crate::projects::PolicyView, _>(projects::ProjectPolicy::from, view);
        }
        same_json::<crate::projects::PolicyView, _>(
            projects::ProjectPolicy::from,
            json!({"project": "foo", "policy": {}}),
        );
        same_json::<crate::mail::MailView, _>(
            mail::ProjectMail::from,
            json!({"project": "foo", "product": "cli", "mail": mail}),
        );
        same_json::<crate::mail::MailView, _>(mail::ProjectMail::from, json!({"project": "foo", "mail": {}}));
        let sent = json!({"project": "foo", "event_seq": 7, "release": {"project": "foo", "product": "cli", "version": "1.0.0"},
            "advisory": "CVE-2026-1234", "vote": 1, "kind": "announce", "message_id": "<m@trs>", "in_reply_to": "<v@trs>",
            "state": "not-sent", "reason": "no list", "to": ["announce@foo.example"], "subject": "[ANNOUNCE] foo 1.0.0",
            "queued_at": 10, "finished_at": 11, "waiting": "foo-1.0.0.tar.gz: 404", "checks": 2, "next_check_at": 12});
        same_json::<crate::mail::MailRecord, _>(mail::MailRecord::from, sent);
        same_json::<crate::mail::MailRecord, _>(
            mail::MailRecord::from,
            json!({"project": "foo", "event_seq": 7,
            "release": {"project": "foo", "version": "1.0.0"}, "vote": 1, "kind": "vote", "message_id": "<m@trs>",
            "state": "queued", "queued_at": 10}),
        );
        let key = "ab".repeat(32);
        same_json::<crate::distribute::DistributionRecord, _>(
            distributions::DistributionRecord::from,
            json!({
            "release": {"project": "foo", "version": "1.0.0"}, "platform": "maven", "namespace": "org.foo",
            "package": "foo", "version": "1.0.0", "staging": true, "pending": false, "retries": 2, "upload_date": 5,
            "api_url": "https://api.example/1", "web_url": "https://web.example/1", "created_by": "rita",
            "staged_revision_key": key, "production_revision_key": key, "last_error": "timeout",
            "details": {"deployment": "d"}, "in_flight": {"deployment_id": "d"}, "created_at": 1, "updated_at": 2}),
        );
        same_json::<crate::distribute::DistributionRecord, _>(
            distributions::DistributionRecord::from,
            json!({
            "release": {"project": "foo", "version": "1.0.0"}, "platform": "pypi", "package": "foo", "version": "1.0.0",
            "staging": false, "pending": true, "retries": 0, "upload_date": null, "api_url": null, "web_url": null,
            "created_by": null, "staged_revision_key": null, "last_error": null, "created_at": 1, "updated_at": 2}),
        );
    }

    #[test]
    fn event_view_and_stream_views_answer_the_stored_json() {
        use serde_json::json;
        let key = "cd".repeat(32);
        // A vote's fields are stored vote, revision, closes_not_before: not in alphabetical
        // order, which the view keeps.
        let opened = json!({"stream": "project/foo", "seq": 4, "at": 10,
            "actor": {"uid": "rita", "key": "0123456789ABCDEF0123456789ABCDEF01234567"},
            "release": {"project": "foo", "product": "cli", "version": "1.0.0"}, "revision_key": key,
            "stage": {"from": "candidate-draft", "to": "candidate"},
            "type": "vote-opened", "vote": 1, "revision": 2, "closes_not_before": 100,
            "prev": "ab".repeat(32), "hash": "ef".repeat(32)});
        let first = json!({"stream": "foundation", "seq": 1, "at": 1, "actor": null,
            "type": "project-created", "project": "foo", "prev": null, "hash": "ef".repeat(32)});
        for e in [opened, first] {
            same_json(|e: trs_core::Event| super::event(&e), e);
        }
        let release: trs_core::ReleaseView = serde_json::from_value(json!({
            "release": {"project": "foo", "version": "1.0.0"}, "stage": "current", "states": ["lts", "security-only"],
            "promoted_revision": key, "promoted_at": 5, "promoted_seq": 9, "end_of_life": null, "support_until": 7,
            "revoked_reason": null, "first_seen": 1, "last_change": 5}))
        .unwrap();
        let before = serde_json::to_string(&release).unwrap();
        assert_eq!(serde_json::to_string(&release_lifecycle(release.clone())).unwrap(), before);
        for next in [None, Some("foo".parse().unwrap())] {
            let view = crate::release_views::ReleasesView {
                at: 10,
                by_state: [("current".to_string(), vec!["foo/1.0.0".to_string()])].into(),
                by_release: [("foo/1.0.0".to_string(), vec!["current".to_string(), "latest".to_string()])].into(),
                latest: [("foo".to_string(), "foo/1.0.0".to_string())].into(),
                releases: vec![release.clone()],
                next,
            };
            let before = serde_json::to_string(&view).unwrap();
            assert_eq!(serde_json::to_string(&stream::ReleasesView::from(view)).unwrap(), before);
        }
        for (ok, head, error) in [(true, Some("ab".repeat(32)), None), (false, None, Some("seq 3: hash".to_string()))] {
            let report = crate::release_views::ChainReport { stream: "foo".into(), events: 3, ok, head, error };
            let before = serde_json::to_string(&report).unwrap();
            assert_eq!(serde_json::to_string(&stream::ChainReport::from(report)).unwrap(), before);
        }
    }

    #[test]
    fn draft_and_import_views_answer_the_stored_json() {
        use serde_json::json;
        let release = json!({"project": "foo", "product": "cli", "version": "1.0.0"});
        for revision in [json!(3), json!(null)] {
            same_json::<crate::draft::Discarded, _>(
                uploads::DiscardedDraft::from,
                json!({"release": release, "revision": revision}),
            );
        }
        let url = json!({"method": "PUT", "url": "https://store.example/o", "headers": [["content-length", "12"]], "expires_at": 300});
        same_json::<crate::import::StartedImport, _>(
            uploads::StartedImport::from,
            json!({"release": release,
            "already_imported": false, "id": "0123456789abcdef0123456789abcdef",
            "uploads": [{"path": "foo-1.0.0.tar.gz", "size": 12, "upload": url},
                {"path": "foo-1.0.0.bin", "size": 12, "parts": {"part_size": 5, "urls": [url, url, url]}}],
            "expires_at": 400}),
        );
        same_json::<crate::import::StartedImport, _>(
            uploads::StartedImport::from,
            json!({"release": release, "already_imported": true}),
        );
        // A request's stage is the stage the import is stored with, both ways round.
        for stage in [crate::import::ImportStage::Current, crate::import::ImportStage::Archived] {
            assert_eq!(crate::import::ImportStage::from(uploads::ImportStage::from(stage)), stage);
        }
    }

    #[test]
    fn an_advisory_view_answers_the_stored_json() {
        use serde_json::json;
        let full = json!({"id": "CVE-2026-1234", "project": "foo", "product": "cli", "summary": "A flaw",
            "details": "In the parser.", "severity": "high", "affected": [">=1.0.0, <1.2.0", "=0.9.0"], "fixed": "1.2.0",
            "credits": ["Eve"], "references": ["https://foo.example/sec"], "package": {"ecosystem": "PyPI", "name": "foo"},
            "cna_org_id": "8254265b-2729-46b6-b9e3-3dfca2d5bfca", "embargoed_until": 5, "published_at": 6,
            "created_at": 1, "updated_at": 2, "affected_releases": [{"version": "1.0.0", "stage": "archived"}],
            "fixed_by": {"version": "1.2.0", "stage": "current"}});
        let bare = json!({"id": "CVE-2026-1234", "project": "foo", "summary": "A flaw", "affected": [],
            "created_at": 1, "updated_at": 2, "affected_releases": []});
        for advisory in [full, bare] {
            same_json::<crate::cve::AdvisoryView, _>(advisories::Advisory::from, advisory);
        }
    }

    #[test]
    fn people_and_project_views_answer_the_stored_json() {
        use serde_json::json;
        let fpr = "0123456789ABCDEF0123456789ABCDEF01234567";
        for stored in [
            json!({"uid": "rita", "name": "Rita", "email": "rita@foo.example", "keys": [fpr], "admin": true,
                "foundation_member": true, "created_at": 5}),
            json!({"uid": "bob", "name": null, "email": null, "keys": [], "admin": false,
                "foundation_member": false, "created_at": 1}),
        ] {
            same_json(super::person, stored.clone());
            let list: Vec<trs_core::Person> = vec![serde_json::from_value(stored.clone()).unwrap()];
            assert_eq!(serde_json::to_value(people_list(list)).unwrap(), json!({"people": [stored]}));
        }
        let key = json!({"fingerprint": fpr, "person": "rita", "user_ids": ["Rita <rita@foo.example>"],
            "primary_user_id": "Rita <rita@foo.example>", "armored": "-----BEGIN PGP PUBLIC KEY BLOCK-----",
            "registered_at": 5});
        same_json::<crate::people::RegisteredKey, _>(people::RegisteredKey::from, key);
        same_json::<crate::people::PersonView, _>(
            people::PersonDetail::from,
            json!({"uid": "rita", "name": "Rita", "email": null, "keys": [fpr], "admin": false,
                "foundation_member": false, "created_at": 5,
                "registered_keys": [{"fingerprint": fpr, "user_ids": ["Rita"], "registered_at": 5,
                    "warnings": ["SHA-1 self-signature: refresh the key"]},
                    {"fingerprint": fpr, "user_ids": [], "registered_at": 6}],
                "projects": [{"project": "foo", "roles": ["committee", "committer", "release-manager"]}]}),
        );
        let summary = json!({"name": "foo", "display_name": "Foo", "description": "Foo things", "products": ["cli"]});
        same_json::<crate::projects::ProjectSummary, _>(projects::ProjectSummary::from, summary.clone());
        let all: Vec<crate::projects::ProjectSummary> = vec![serde_json::from_value(summary.clone()).unwrap()];
        assert_eq!(serde_json::to_value(project_list(all)).unwrap(), json!({"projects": [summary]}));
        same_json::<crate::projects::ProjectView, _>(
            projects::ProjectDetail::from,
            json!({"name": "foo", "members": ["ada"], "committers": [], "release_managers": ["rita"],
                "products": [], "created_at": 1, "policy": {"min_vote_hours": 72, "min_binding": 3},
                "keys": [{"person": "rita", "fingerprint": fpr, "user_id": "Rita"}, {"person": "ada", "fingerprint": fpr}]}),
        );
    }

    /// The status a release had before the views: every field, every kind of check result
    /// (a signer, an SBOM), a vote, advisories; and the bare status of a release without a
    /// revision.
    #[test]
    fn a_release_status_view_has_every_field_of_the_status() {
        use serde_json::json;
        let (key, sum) = ("cd".repeat(32), "ab".repeat(64));
        let fpr = "0123456789ABCDEF0123456789ABCDEF01234567";
        let checks = json!([
            {"check": "signature", "result": "pass", "reason": "good signature",
                "signer": {"fingerprint": fpr, "signing_key": "89ABCDEF0123456789ABCDEF0123456789ABCDEF", "user_id": "Rita", "person": "rita"}},
            {"check": "sbom", "result": "warn", "reason": "read", "sbom": {"format": "CycloneDX 1.6 JSON", "components": 2}},
            {"check": "archive", "result": "fail", "reason": "not gzip"}]);
        let vote = json!({"number": 1, "state": "passed", "revision": {"number": 2, "key": key}, "opened_at": 1,
            "closes_not_before": 2, "closed_at": 3, "tally": {"binding_plus": 3, "binding_zero": 0, "binding_minus": 0,
            "non_binding_plus": 1, "non_binding_zero": 0, "non_binding_minus": 1}, "explanation": "passed"});
        let note = json!({"id": "CVE-2026-1234", "summary": "A flaw", "severity": "high", "fixed": "1.2.0",
            "fixed_by": {"version": "1.2.0", "stage": "current"}});
        let status = crate::status::ReleaseStatus {
            release: serde_json::from_value(json!({"project": "foo", "product": "cli", "version": "1.0.0"})).unwrap(),
            stage: trs_core::Stage::Candidate,
            revision: Some(serde_json::from_value(json!({"number": 2, "key": key})).unwrap()),
            uploaded_by: Some("rita".parse().unwrap()),
            summary: Some(crate::status::Summary { pass: 1, warn: 1, fail: 1 }),
            files: vec![crate::status::FileStatus {
                path: "foo-1.0.0.tar.gz".into(),
                size: 12,
                sha512: sum.parse().unwrap(),
                checks: serde_json::from_value(checks.clone()).unwrap(),
            }],
            vote: Some(serde_json::from_value(vote.clone()).unwrap()),
            voted_revision: Some(serde_json::from_value(json!({"number": 2, "key": key})).unwrap()),
            affected_by: vec![serde_json::from_value(note.clone()).unwrap()],
            fixes: vec![serde_json::from_value(json!({"id": "CVE-2026-1235", "summary": "Another"})).unwrap()],
        };
        let bare = crate::status::ReleaseStatus {
            release: serde_json::from_value(json!({"project": "foo", "version": "1.0.0"})).unwrap(),
            stage: trs_core::Stage::CandidateDraft,
            revision: None,
            uploaded_by: None,
            summary: None,
            files: Vec::new(),
            vote: None,
            voted_revision: None,
            affected_by: Vec::new(),
            fixes: Vec::new(),
        };
        assert_eq!(
            serde_json::to_value(releases::ReleaseStatus::from(status)).unwrap(),
            json!({"project": "foo", "product": "cli", "version": "1.0.0", "stage": "candidate", "revision": 2,
                "revision_key": key, "uploaded_by": "rita", "verification": "done",
                "summary": {"pass": 1, "warn": 1, "fail": 1},
                "files": [{"path": "foo-1.0.0.tar.gz", "size": 12, "sha512": sum, "checks": checks}],
                "vote": vote, "voted_revision": {"number": 2, "key": key}, "affected_by": [note],
                "fixes": [{"id": "CVE-2026-1235", "summary": "Another"}]})
        );
        assert_eq!(
            serde_json::to_value(releases::ReleaseStatus::from(bare)).unwrap(),
            json!({"project": "foo", "product": null, "version": "1.0.0", "stage": "candidate-draft", "revision": null,
                "revision_key": null, "uploaded_by": null, "verification": "pending", "summary": null, "files": []})
        );
    }

    /// A vote's view holds each stored part as stored: the vote with its policy, resolution and
    /// source, ballots with their history and sources, and the replies read from the list.
    #[test]
    fn a_vote_view_a_cast_receipt_and_an_import_report_have_the_stored_json() {
        use serde_json::json;
        let key = "cd".repeat(32);
        let fpr = "0123456789ABCDEF0123456789ABCDEF01234567";
        let release_json = json!({"project": "foo", "product": "cli", "version": "1.0.0"});
        let tally = json!({"binding_plus": 1, "binding_zero": 0, "binding_minus": 0, "non_binding_plus": 0,
            "non_binding_zero": 1, "non_binding_minus": 0});
        let resolution = json!({"passed": true, "tally": tally, "rules": [{"rule": "at least 1 binding +1",
            "met": true, "detail": "1"}], "explanation": "passed"});
        let policy = json!({"min_vote_hours": 72, "min_binding": 1, "strict": true, "archive_previous": true,
            "auto_close_votes": false, "auto_publish": false, "auto_distribute": false, "prerelease_latest": false,
            "require_sbom": false, "email_votes": true, "denied_licences": ["unknown"]});
        let vote = json!({"number": 1, "revision": {"number": 2, "key": key}, "opened_at": 1, "closes_not_before": 2,
            "policy": policy, "state": "passed", "closed_at": 3, "resolution": resolution,
            "source": {"tag": "v1.0.0", "commit": "abc", "url": "https://foo.example/src"}});
        let by_mail = json!({"voter": "ada", "key": null, "value": "0", "binding": false, "comment": null, "cast_at": 2,
            "earlier": [], "source": "email", "message_id": "<r@list>"});
        let by_call = json!({"voter": "rita", "key": fpr, "value": "+1", "binding": true, "comment": "good",
            "cast_at": 3, "earlier": [{"value": "-1", "binding": true, "comment": null, "cast_at": 1},
                {"value": "0", "binding": true, "comment": "hm", "cast_at": 2, "source": "email", "message_id": "<e@list>"}]});
        let reply = json!({"message_id": "<r@list>", "from": "Ada <ada@foo.example>", "voter": "ada", "sent_at": 2,
            "outcome": "counted", "value": "0", "signed_by": fpr, "detail": "counted", "read_at": 4});
        let unknown = json!({"message_id": "<u@list>", "from": "x@elsewhere.example", "outcome": "unknown-sender",
            "detail": "nobody", "read_at": 4});
        let view = crate::vote::VoteView {
            release: serde_json::from_value(release_json.clone()).unwrap(),
            stage: trs_core::Stage::Candidate,
            vote: serde_json::from_value(vote.clone()).unwrap(),
            ballots: serde_json::from_value(json!([by_call, by_mail])).unwrap(),
            tally: serde_json::from_value(tally.clone()).unwrap(),
            resolution: serde_json::from_value(resolution.clone()).unwrap(),
            closes_in_secs: 0,
            voted_revision: Some(serde_json::from_value(json!({"number": 2, "key": key})).unwrap()),
            vote_message_id: Some("<v@trs>".into()),
            mail_replies: serde_json::from_value(json!([reply, unknown])).unwrap(),
        };
        assert_eq!(
            serde_json::to_value(votes::VoteView::from(view)).unwrap(),
            json!({"release": release_json, "stage": "candidate", "vote": vote, "ballots": [by_call, by_mail],
                "tally": tally, "resolution": resolution, "closes_in_secs": 0,
                "voted_revision": {"number": 2, "key": key}, "vote_message_id": "<v@trs>",
                "mail_replies": [reply, unknown]})
        );
        let receipt = crate::vote::CastReceipt {
            release: serde_json::from_value(release_json.clone()).unwrap(),
            vote: 1,
            revision: serde_json::from_value(json!({"number": 2, "key": key})).unwrap(),
            ballot: serde_json::from_value(by_call.clone()).unwrap(),
            replaces: Some(trs_core::VoteValue::Zero),
        };
        assert_eq!(
            serde_json::to_value(votes::CastReceipt::from(receipt)).unwrap(),
            json!({"release": release_json, "vote": 1, "revision": {"number": 2, "key": key}, "ballot": by_call,
                "replaces": "0"})
        );
        for report in [
            json!({"release": release_json, "vote": 1, "vote_message_id": "<v@trs>", "replies": [reply],
                "already_read": ["<a@list>"], "not_in_thread": ["<n@list>"], "unreadable": ["message 3: no headers"]}),
            json!({"release": release_json, "vote": 1, "vote_message_id": "<v@trs>", "replies": []}),
        ] {
            same_json::<crate::vote::mail_import::ImportReport, _>(votes::ImportReport::from, report);
        }
    }

    #[test]
    fn an_events_page_keeps_the_stored_events_and_names_the_next_after() {
        use serde_json::json;
        let stream: trs_core::StreamId = "project/foo".parse().unwrap();
        let stored = vec![json!({"seq": 4, "type": "vote-opened", "b": 1, "a": 2}), json!({"seq": 5, "type": "x"})];
        let page = events_page(&stream, stored.clone(), 3).unwrap();
        assert_eq!(
            serde_json::to_value(&page).unwrap(),
            json!({"stream": "project/foo", "events": stored, "last_seq": 5})
        );
        let empty = events_page(&trs_core::StreamId::Foundation, Vec::new(), 7).unwrap();
        assert_eq!((empty.stream.as_str(), empty.last_seq), ("foundation", 7));
        let corrupt = events_page(&stream, vec![json!("not an event")], 3).unwrap_err();
        assert_eq!(corrupt.status(), 500);
    }

    /// A folder listing's view is the JSON the listing was answered as before the view (docs/
    /// site.md, "The download folders"): a file with its size and SHA-512, a folder without.
    #[test]
    fn a_folder_listing_view_answers_the_documented_json() {
        use crate::public::{Listing, ListingEntry};
        let listing = Listing {
            path: "/current/foo/".into(),
            entries: vec![
                ListingEntry { name: "1.0.0/".into(), url: "/current/foo/1.0.0/".into(), size: None, sha512: None },
                ListingEntry {
                    name: "a b.txt".into(),
                    url: "/current/foo/a%20b.txt".into(),
                    size: Some(0),
                    sha512: Some("ab".into()),
                },
            ],
        };
        // Byte for byte, in the field order the listing always had.
        assert_eq!(
            serde_json::to_string(&downloads::FolderListing::from(listing)).unwrap(),
            concat!(
                r#"{"path":"/current/foo/","entries":[{"name":"1.0.0/","url":"/current/foo/1.0.0/"},"#,
                r#"{"name":"a b.txt","url":"/current/foo/a%20b.txt","size":0,"sha512":"ab"}]}"#
            )
        );
    }
}

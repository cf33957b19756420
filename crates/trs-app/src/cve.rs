//! The project's security advisories (CVE records): recorded, changed and published by the
//! project's security team (its committee members and release managers), linked to the
//! releases trs holds.
//!
//! An advisory is private until it is published: it is stored beside the project, but no
//! event names it (the release stream is public) and only the security team can read it.
//! Publishing writes the `advisory-published` event in the same transaction that marks it
//! published, with the notice to the project's announce lists ([`crate::mail`]); a change to a published advisory is another such event (`updated`). Which
//! releases it affects, and which release fixes it, are worked out when read, from the
//! ranges and the releases stored then, by trs's one version order (`trs_core::advisory`),
//! so a release uploaded after the advisory is covered without anyone editing it.

use crate::app::App;
use crate::authenticate::Caller;
use crate::error::{AppError, AppResult, check_typed_text};
use crate::retry::{self, Attempt};
use crate::storage_keys as keys;
use crate::stream::{self, Committed};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
use trs_core::advisory::{Package, VersionRange};
use trs_core::{
    Action, Advisory, Change, CveId, EventDraft, ProductName, Project, ProjectName, Release, ReleaseId, Severity,
    Stage, StreamId, Version, authorize,
};
use trs_storage::{Condition, Item, WriteOp};

/// Longest summary (one line) and details: the CVE JSON 5 schema's limits for a record's
/// `title` and description `value`, so every advisory can be exported as a valid record.
pub const MAX_SUMMARY: usize = 256;
pub const MAX_DETAILS: usize = 4096;
/// At most this many ranges, credits and references each: an advisory is read by people.
pub const MAX_LIST: usize = 50;

/// What `trs cve add` records. Requests carry it as trs_api's `RecordAdvisory` (the admin
/// function parses its names and versions into this).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewAdvisory {
    pub id: Option<CveId>,
    pub product: Option<ProductName>,
    pub summary: Option<String>,
    pub details: Option<String>,
    pub severity: Option<Severity>,
    pub affected: Vec<VersionRange>,
    pub fixed: Option<Version>,
    pub credits: Vec<String>,
    pub references: Vec<String>,
    pub package: Option<Package>,
    pub cna_org_id: Option<String>,
    pub embargoed_until: Option<i64>,
    /// A CVE JSON 5 record to take the fields not given from (`--import`).
    pub import: Option<serde_json::Value>,
}

/// What `trs cve edit` changes: only the fields given. A list given replaces the list; an
/// empty text clears an optional field. Requests carry it as trs_api's `EditAdvisory`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdvisoryEdit {
    pub summary: Option<String>,
    pub details: Option<String>,
    pub severity: Option<Severity>,
    pub affected: Option<Vec<VersionRange>>,
    /// Empty text: no fix yet.
    pub fixed: Option<String>,
    pub credits: Option<Vec<String>>,
    pub references: Option<Vec<String>>,
    pub package: Option<Package>,
    pub cna_org_id: Option<String>,
    pub embargoed_until: Option<i64>,
}

/// A release an advisory concerns, with its stage (a revoked or archived one is still
/// named: people run old versions).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseRef {
    pub version: Version,
    pub stage: Stage,
}

/// An advisory with the releases it resolves to, as `trs cve show` and the API answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdvisoryView {
    #[serde(flatten)]
    pub advisory: Advisory,
    /// The releases of its line whose version lies in an affected range, oldest first.
    pub affected_releases: Vec<ReleaseRef>,
    /// The release of the `fixed` version, once trs holds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_by: Option<ReleaseRef>,
}

/// What a release page and `releases.json` say about one release.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseAdvisories {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub affected_by: Vec<CveId>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fixes: Vec<CveId>,
}

fn bad(code: &'static str, message: impl Into<String>) -> AppError {
    AppError::bad_request(code, message)
}

/// The advisory of `project` named `id`, as stored (with its item), if there is one.
async fn get(app: &App, project: &ProjectName, id: &CveId) -> AppResult<Option<(Advisory, Item)>> {
    match app.items.get(&keys::advisory(project, id)).await? {
        Some(item) => Ok(Some((item.parse()?, item))),
        None => Ok(None),
    }
}

/// Whether `viewer` may see the project's unpublished advisories.
fn is_security_team(viewer: Option<&Caller>, project: &Project) -> bool {
    viewer.is_some_and(|c| authorize(&c.person, Some(project), Action::ManageAdvisories).is_ok())
}

fn not_found(project: &ProjectName, id: &CveId) -> AppError {
    AppError::NotFound(format!("project {project} has no advisory {id}"))
}

fn check_text_list(field: &'static str, list: &[String], max_len: usize) -> AppResult<()> {
    if list.len() > MAX_LIST {
        return Err(bad("invalid-advisory", format!("at most {MAX_LIST} {field}")));
    }
    for item in list {
        crate::projects::check_line(field, item, max_len)?;
    }
    Ok(())
}

fn check_reference(url: &str) -> AppResult<()> {
    crate::projects::check_line("reference", url, 2048)?;
    match url::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "https" | "http") && u.host_str().is_some() => Ok(()),
        _ => Err(bad("invalid-reference", format!("reference {url:?} must be an absolute http or https URL"))),
    }
}

/// The CVE 5 schema's `uuidType`: a version 4 UUID.
fn check_org_id(id: &str) -> AppResult<()> {
    let groups: Vec<&str> = id.split('-').collect();
    let hex = |s: &str| s.bytes().all(|b| b.is_ascii_hexdigit());
    let shaped = groups.len() == 5
        && groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups.iter().all(|g| hex(g))
        && groups[2].starts_with('4')
        && groups[3].starts_with(['8', '9', 'a', 'b', 'A', 'B']);
    if shaped {
        Ok(())
    } else {
        Err(bad("invalid-cna-org-id", format!("CNA organisation id {id:?} is not a version 4 UUID")))
    }
}

/// The rules every stored advisory keeps.
fn check(a: &Advisory, project: &Project) -> AppResult<()> {
    if let Some(p) = &a.product
        && !project.products.contains(p)
    {
        return Err(bad("unknown-product", format!("{} has no product {p}", project.name)));
    }
    if a.summary.trim().is_empty() {
        return Err(bad("invalid-advisory", "an advisory needs a --summary"));
    }
    crate::projects::check_line("summary", &a.summary, MAX_SUMMARY)?;
    if let Some(d) = &a.details {
        if d.chars().count() > MAX_DETAILS {
            return Err(bad("invalid-text", format!("details has more than {MAX_DETAILS} characters")));
        }
        check_typed_text("details", d, trs_core::text::Lines::Many)?;
    }
    if a.affected.is_empty() {
        return Err(bad("invalid-advisory", "an advisory names the versions it affects (--affected '>=1.0,<1.2')"));
    }
    if a.affected.len() > MAX_LIST {
        return Err(bad("invalid-advisory", format!("at most {MAX_LIST} affected ranges")));
    }
    if let Some(fixed) = &a.fixed
        && a.affects(fixed)
    {
        return Err(bad(
            "invalid-advisory",
            format!("the fixed version {fixed} lies in an affected range; a release cannot both have and fix it"),
        ));
    }
    check_text_list("credits", &a.credits, 200)?;
    if a.references.len() > MAX_LIST {
        return Err(bad("invalid-advisory", format!("at most {MAX_LIST} references")));
    }
    a.references.iter().try_for_each(|r| check_reference(r))?;
    if let Some(p) = &a.package {
        crate::projects::check_line("package ecosystem", &p.ecosystem, 100)?;
        crate::projects::check_line("package name", &p.name, 500)?;
        if p.ecosystem.is_empty() || p.name.is_empty() {
            return Err(bad("invalid-package", "a package is ECOSYSTEM:NAME, e.g. PyPI:foo"));
        }
    }
    if let Some(id) = &a.cna_org_id {
        check_org_id(id)?;
    }
    Ok(())
}

/// Records a new, unpublished advisory. Only the security team sees it until it is published.
pub async fn add_advisory(
    app: &App,
    caller: &Caller,
    project: &ProjectName,
    new: NewAdvisory,
) -> AppResult<AdvisoryView> {
    let p = crate::projects::get_project(app, project).await?;
    authorize(&caller.person, Some(&p), Action::ManageAdvisories)?;
    let imported = match &new.import {
        Some(record) => crate::exports::cve5::import(record)?,
        None => Default::default(),
    };
    let id = new.id.or(imported.id).ok_or_else(|| bad("invalid-advisory", "give the advisory's --id CVE-YYYY-NNNN"))?;
    let now = app.now();
    let advisory = Advisory {
        id: id.clone(),
        project: project.clone(),
        product: new.product,
        summary: new.summary.or(imported.summary).unwrap_or_default(),
        details: new.details.or(imported.details).filter(|d| !d.is_empty()),
        severity: new.severity.or(imported.severity),
        affected: if new.affected.is_empty() { imported.affected } else { new.affected },
        fixed: new.fixed.or(imported.fixed),
        credits: if new.credits.is_empty() { imported.credits } else { new.credits },
        references: if new.references.is_empty() { imported.references } else { new.references },
        package: new.package,
        cna_org_id: new.cna_org_id.or(imported.cna_org_id),
        embargoed_until: new.embargoed_until,
        published_at: None,
        created_at: now,
        updated_at: now,
    };
    check(&advisory, &p)?;
    let item = Item::new(keys::advisory(project, &id), json!(advisory));
    match app.items.put(item, Condition::Absent).await {
        Ok(()) => {}
        Err(e) if e.is_conflict() => {
            return Err(AppError::conflict("advisory-exists", format!("{project} already has an advisory {id}")));
        }
        Err(e) => return Err(e.into()),
    }
    view(app, advisory).await
}

fn apply(a: &mut Advisory, edit: &AdvisoryEdit) -> AppResult<()> {
    if *edit == AdvisoryEdit::default() {
        return Err(bad("nothing-to-change", "give a field to change (--summary, --affected, --fixed, …)"));
    }
    if let Some(s) = &edit.summary {
        a.summary = s.clone();
    }
    if let Some(d) = &edit.details {
        a.details = Some(d.clone()).filter(|d| !d.is_empty());
    }
    if let Some(s) = edit.severity {
        a.severity = Some(s);
    }
    if let Some(r) = &edit.affected {
        a.affected = r.clone();
    }
    if let Some(f) = &edit.fixed {
        a.fixed = if f.is_empty() { None } else { Some(f.parse()?) };
    }
    if let Some(c) = &edit.credits {
        a.credits = c.clone();
    }
    if let Some(r) = &edit.references {
        a.references = r.clone();
    }
    if let Some(p) = &edit.package {
        a.package = Some(p.clone());
    }
    if let Some(o) = &edit.cna_org_id {
        a.cna_org_id = Some(o.clone()).filter(|o| !o.is_empty());
    }
    if let Some(e) = edit.embargoed_until {
        a.embargoed_until = Some(e);
    }
    Ok(())
}

fn published_event(caller: &Caller, a: &Advisory, updated: bool) -> EventDraft {
    EventDraft::new(
        Some(caller.actor()),
        Change::AdvisoryPublished {
            id: a.id.clone(),
            product: a.product.clone(),
            summary: a.summary.clone(),
            severity: a.severity,
            affected: a.affected.clone(),
            fixed: a.fixed.clone(),
            updated,
        },
    )
}

/// The release an advisory's notice points users to (the mail record's `release`): the fixing
/// version, else the newest version its ranges name (every range names one).
fn notice_release(a: &Advisory) -> Option<ReleaseId> {
    let version = a.fixed.clone().or_else(|| a.affected.iter().flat_map(|r| r.bounds()).max().cloned())?;
    Some(ReleaseId { project: a.project.clone(), product: a.product.clone(), version })
}

/// Writes `next` over `item` (read at `item.version`): with its `advisory-published` event when
/// `event` is given, and with the first publication's event the notice to the announce lists
/// (queued in the same transaction, [`crate::mail`]). `Ok(false)` when another writer got
/// there first (read again).
async fn write(
    app: &App,
    project: &ProjectName,
    item: &Item,
    next: &Advisory,
    event: Option<EventDraft>,
) -> AppResult<bool> {
    let op = WriteOp::Put { item: item.updated(json!(next)), condition: Condition::VersionIs(item.version) };
    match event {
        Some(draft) => {
            let notice = match &draft.change {
                Change::AdvisoryPublished { updated: false, .. } => notice_release(next),
                _ => None,
            };
            let queue_mail = |event: &trs_core::Event| match &notice {
                Some(release) => crate::mail::queue_advisory_ops(app, event, release, &next.id),
                None => Vec::new(),
            };
            let stream = StreamId::Project(project.clone());
            match stream::commit_with_event_and(app, &stream, draft, vec![op], queue_mail).await? {
                Committed::Done(event) => {
                    if notice.is_some() {
                        crate::mail::announce(app, &event).await;
                    }
                    Ok(true)
                }
                Committed::Conflict { .. } => Ok(false),
            }
        }
        None => match app.items.transact(vec![op]).await {
            Ok(()) => Ok(true),
            Err(e) if e.is_conflict() => Ok(false),
            Err(e) => Err(e.into()),
        },
    }
}

/// Reads the advisory, lets `change` change it and say which event goes with the change, and
/// writes it over what was read; read and changed again, after a back-off, while another
/// writer got there first.
async fn update(
    app: &App,
    project: &ProjectName,
    id: &CveId,
    change: impl Fn(&mut Advisory) -> AppResult<Option<EventDraft>>,
) -> AppResult<AdvisoryView> {
    let change = &change;
    let advisory = retry::on_conflict(retry::ATTEMPTS, retry::too_busy(format!("advisory {id}")), || async move {
        let (mut advisory, item) = get(app, project, id).await?.ok_or_else(|| not_found(project, id))?;
        let event = change(&mut advisory)?;
        let written = write(app, project, &item, &advisory, event).await?;
        Ok(if written { Attempt::Done(advisory) } else { Attempt::Conflicted })
    })
    .await?;
    view(app, advisory).await
}

/// Changes an advisory (only the fields given). A published advisory's change is public at
/// once: an `advisory-published` event with `updated`.
pub async fn edit_advisory(
    app: &App,
    caller: &Caller,
    project: &ProjectName,
    id: &CveId,
    edit: AdvisoryEdit,
) -> AppResult<AdvisoryView> {
    let p = crate::projects::get_project(app, project).await?;
    authorize(&caller.person, Some(&p), Action::ManageAdvisories)?;
    update(app, project, id, |advisory| {
        apply(advisory, &edit)?;
        advisory.updated_at = app.now();
        check(advisory, &p)?;
        Ok(advisory.is_published().then(|| published_event(caller, advisory, true)))
    })
    .await
}

/// Makes an advisory public: its event goes into the project's release stream, and from then
/// on anyone can read it and the exports carry it. Before its embargo date only with `force`.
pub async fn publish_advisory(
    app: &App,
    caller: &Caller,
    project: &ProjectName,
    id: &CveId,
    force: bool,
) -> AppResult<AdvisoryView> {
    let p = crate::projects::get_project(app, project).await?;
    authorize(&caller.person, Some(&p), Action::ManageAdvisories)?;
    update(app, project, id, |advisory| {
        if advisory.is_published() {
            return Err(AppError::conflict("already-published", format!("{id} is already published")));
        }
        let now = app.now();
        if let Some(until) = advisory.embargoed_until
            && now < until
            && !force
        {
            return Err(AppError::conflict(
                "under-embargo",
                format!(
                    "{id} is under embargo until {}; publish with --force to disclose it earlier",
                    crate::exports::rfc3339(until)
                ),
            ));
        }
        advisory.published_at = Some(now);
        advisory.updated_at = now;
        Ok(Some(published_event(caller, advisory, false)))
    })
    .await
}

/// One advisory. An unpublished one is answered to the security team only; anyone else gets
/// the same 404 as for an advisory that does not exist, so its existence does not leak.
pub async fn show_advisory(
    app: &App,
    viewer: Option<&Caller>,
    project: &ProjectName,
    id: &CveId,
) -> AppResult<AdvisoryView> {
    let p = crate::projects::get_project(app, project).await?;
    match get(app, project, id).await? {
        Some((a, _)) if a.is_published() || is_security_team(viewer, &p) => view(app, a).await,
        _ => Err(not_found(project, id)),
    }
}

/// The project's advisories, newest id first: the published ones, and to the security team
/// the unpublished ones too.
pub async fn list_advisories(
    app: &App,
    viewer: Option<&Caller>,
    project: &ProjectName,
) -> AppResult<Vec<AdvisoryView>> {
    let p = crate::projects::get_project(app, project).await?;
    let team = is_security_team(viewer, &p);
    let mut all: Vec<Advisory> = app.all_items(keys::advisories(project)).await?;
    all.retain(|a| team || a.is_published());
    all.sort_by(|a, b| b.id.cmp(&a.id));
    let releases = releases_of(app, project).await?;
    Ok(all.into_iter().map(|a| resolve(a, &releases)).collect())
}

/// The published advisories of a project (what the exports and the site show).
pub async fn published(app: &App, project: &ProjectName) -> AppResult<Vec<Advisory>> {
    let mut all: Vec<Advisory> = app.all_items(keys::advisories(project)).await?;
    all.retain(Advisory::is_published);
    all.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(all)
}

async fn releases_of(app: &App, project: &ProjectName) -> AppResult<Vec<Release>> {
    app.all_items(keys::releases_of_project(project)).await
}

async fn view(app: &App, advisory: Advisory) -> AppResult<AdvisoryView> {
    let releases = releases_of(app, &advisory.project).await?;
    Ok(resolve(advisory, &releases))
}

/// The advisory with the releases of its line that it affects and that fix it. A draft that
/// never went to a vote is nobody's release yet and is left out.
pub fn resolve(advisory: Advisory, releases: &[Release]) -> AdvisoryView {
    let line: Vec<&Release> =
        releases.iter().filter(|r| r.id.product == advisory.product && r.stage != Stage::CandidateDraft).collect();
    let mut affected: Vec<&Release> = line.iter().copied().filter(|r| advisory.affects(&r.id.version)).collect();
    affected.sort_by(|a, b| a.id.version.cmp(&b.id.version));
    let as_ref = |r: &Release| ReleaseRef { version: r.id.version.clone(), stage: r.stage };
    let fixed_by = advisory.fixed.as_ref().and_then(|f| line.iter().find(|r| r.id.version == *f)).map(|r| as_ref(r));
    AdvisoryView { affected_releases: affected.into_iter().map(as_ref).collect(), fixed_by, advisory }
}

/// For each release of the project that a published advisory names: the advisories that
/// affect it and those it fixes (release pages, `releases.json`, `trs releases`).
pub fn by_release(advisories: &[Advisory], releases: &[Release]) -> BTreeMap<ReleaseId, ReleaseAdvisories> {
    let mut out: BTreeMap<ReleaseId, ReleaseAdvisories> = BTreeMap::new();
    for a in advisories.iter().filter(|a| a.is_published()) {
        let v = resolve(a.clone(), releases);
        let id = |version: Version| ReleaseId { project: a.project.clone(), product: a.product.clone(), version };
        for r in v.affected_releases {
            out.entry(id(r.version)).or_default().affected_by.push(a.id.clone());
        }
        if let Some(r) = v.fixed_by {
            out.entry(id(r.version)).or_default().fixes.push(a.id.clone());
        }
    }
    out
}

/// [`by_release`] for one project, read from the store.
pub async fn release_advisories(app: &App, project: &ProjectName) -> AppResult<BTreeMap<ReleaseId, ReleaseAdvisories>> {
    let advisories = published(app, project).await?;
    if advisories.is_empty() {
        return Ok(BTreeMap::new());
    }
    Ok(by_release(&advisories, &releases_of(app, project).await?))
}

/// A published advisory as `trs status` names it beside a release: what it is, and the
/// release that fixes it (once trs holds it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdvisoryNote {
    pub id: CveId,
    pub summary: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// The version that fixes it, released or still to come.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<Version>,
    /// The release of that version, once trs holds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_by: Option<ReleaseRef>,
}

/// What `trs status` says of one release: the published advisories that affect it, and
/// those it fixes ("is the version I run affected?", and what to move to). Unpublished
/// advisories are never named: the status is public.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseAdvisoryNotes {
    pub affected_by: Vec<AdvisoryNote>,
    pub fixes: Vec<AdvisoryNote>,
}

/// [`ReleaseAdvisoryNotes`] of release `id`, from the advisories and releases stored now.
pub async fn release_notes(app: &App, id: &ReleaseId) -> AppResult<ReleaseAdvisoryNotes> {
    let advisories = published(app, &id.project).await?;
    let mut out = ReleaseAdvisoryNotes::default();
    if advisories.is_empty() {
        return Ok(out);
    }
    let releases = releases_of(app, &id.project).await?;
    for a in advisories.into_iter().filter(|a| a.product == id.product) {
        let v = resolve(a, &releases);
        let affected = v.affected_releases.iter().any(|r| r.version == id.version);
        let fixes = v.fixed_by.as_ref().is_some_and(|r| r.version == id.version);
        let note = AdvisoryNote {
            id: v.advisory.id.clone(),
            summary: v.advisory.summary.clone(),
            severity: v.advisory.severity,
            fixed: v.advisory.fixed.clone(),
            fixed_by: v.fixed_by.clone(),
        };
        if affected {
            out.affected_by.push(note);
        } else if fixes {
            out.fixes.push(note);
        }
    }
    Ok(out)
}

/// The releases a published advisory affects (`trs releases --affected-by CVE-…`): 404 when
/// the project has no published advisory of that id.
pub async fn affected_by(app: &App, project: &ProjectName, id: &CveId) -> AppResult<AdvisoryView> {
    show_advisory(app, None, project, id).await
}

/// Where the API serves an advisory (`GET`, public once published): the OSV and CVE 5 links
/// point here.
pub fn api_path(project: &ProjectName, id: &CveId) -> String {
    format!("/api/v1/projects/{project}/advisories/{id}")
}

/// The project's published advisories as OSV records, oldest id first (`GET
/// /api/v1/projects/P/osv.json`, the site's `/P/osv.json`).
pub async fn osv_feed(app: &App, project: &ProjectName) -> AppResult<Vec<serde_json::Value>> {
    crate::projects::get_project(app, project).await?;
    let releases = releases_of(app, project).await?;
    let advisories = published(app, project).await?;
    Ok(advisories
        .into_iter()
        .map(|a| crate::exports::osv::record(&resolve(a, &releases), app.public_url.as_deref()))
        .collect())
}

/// One published advisory as an OSV record.
pub async fn osv_record(app: &App, project: &ProjectName, id: &CveId) -> AppResult<serde_json::Value> {
    let view = show_advisory(app, None, project, id).await?;
    Ok(crate::exports::osv::record(&view, app.public_url.as_deref()))
}

/// One published advisory as a CVE JSON 5 record.
pub async fn cve5_record(app: &App, project: &ProjectName, id: &CveId) -> AppResult<serde_json::Value> {
    let p = crate::projects::get_project(app, project).await?;
    let view = show_advisory(app, None, project, id).await?;
    crate::exports::cve5::record(&p, &view, app.public_url.as_deref())
}

//! End-of-life and end-of-support dates, for one release or for a release line (`1.x`).
//!
//! Setting a date writes a due item (`storage_keys::due`) at the end-of-life time in the same
//! transaction as the change and its event; the tick picks it up once the time has passed.
//! A date moved later leaves no stale item behind: the previous one is deleted in the same
//! transaction (and the tick ignores any item whose date no longer matches anyway).

use super::{Planned, change_release, not_found};
use crate::app::App;
use crate::authenticate::Caller;
use crate::error::{AppError, AppResult};
use crate::retry::{self, Attempt};
use crate::storage_keys as keys;
use crate::stream::{self, Committed};
use serde_json::json;
use trs_core::views::{check_line, line_key};
use trs_core::{
    Action, Change, Event, EventDraft, LineDates, ProductName, Project, ProjectName, Release, ReleaseId, Stage,
    StreamId, Version, authorize,
};
use trs_storage::{Condition, Item, WriteOp};

/// The due-item kind for one release's end-of-life.
pub(crate) const END_OF_LIFE: &str = "end-of-life";
/// The due-item kind for a release line's end-of-life.
pub(crate) const LINE_END_OF_LIFE: &str = "line-end-of-life";

/// What the dates are set on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatesTarget {
    Release(ReleaseId),
    /// Every release of a product line whose version is in `line` (e.g. `1.x`), including
    /// releases promoted later. A release's own dates win over its line's, field by field.
    Line {
        project: ProjectName,
        product: Option<ProductName>,
        line: String,
    },
}

fn check_dates(end_of_life: Option<i64>, support_until: Option<i64>) -> AppResult<()> {
    if end_of_life.is_none() && support_until.is_none() {
        return Err(AppError::bad_request("no-dates", "give an end-of-life date, an end-of-support date, or both"));
    }
    if end_of_life.into_iter().chain(support_until).any(|t| t < 0) {
        return Err(AppError::bad_request("invalid-date", "dates are unix seconds after 1970"));
    }
    if let (Some(eol), Some(support)) = (end_of_life, support_until)
        && support > eol
    {
        return Err(AppError::bad_request(
            "support-after-end-of-life",
            "support cannot end after the end-of-life date (support-until must be at or before --at)",
        ));
    }
    Ok(())
}

/// The identifier a line's due item is filed under: the line in place of the version.
pub(crate) fn line_due_id(project: &ProjectName, product: Option<&ProductName>, line: &str) -> AppResult<ReleaseId> {
    let version: Version = line.parse()?;
    Ok(ReleaseId { project: project.clone(), product: product.cloned(), version })
}

fn due_item(at: i64, kind: &str, id: &ReleaseId) -> WriteOp {
    WriteOp::Put {
        item: Item::new(keys::due(at, kind, id), json!({"kind": kind, "release": id, "at": at})),
        condition: Condition::None,
    }
}

/// The due-item writes for a date change: the new item, and the removal of the old one.
fn due_ops(old: Option<i64>, new: Option<i64>, kind: &str, id: &ReleaseId) -> Vec<WriteOp> {
    let mut ops = Vec::new();
    if let Some(old) = old.filter(|o| Some(*o) != new) {
        ops.push(WriteOp::Delete { key: keys::due(old, kind, id), condition: Condition::None });
    }
    if let Some(new) = new {
        ops.push(due_item(new, kind, id));
    }
    ops
}

/// Sets end-of-life and/or end-of-support dates (unix seconds). A field left `None` keeps
/// its previous value. Returns the `lifecycle-dates-set` event.
pub async fn set_dates(
    app: &App,
    caller: &Caller,
    target: DatesTarget,
    end_of_life: Option<i64>,
    support_until: Option<i64>,
) -> AppResult<Event> {
    check_dates(end_of_life, support_until)?;
    match target {
        DatesTarget::Release(id) => set_release_dates(app, caller, &id, end_of_life, support_until).await,
        DatesTarget::Line { project, product, line } => {
            check_line(&line).map_err(|m| AppError::bad_request("invalid-line", m))?;
            set_line_dates(app, caller, &project, product.as_ref(), &line, end_of_life, support_until).await
        }
    }
}

async fn set_release_dates(
    app: &App,
    caller: &Caller,
    id: &ReleaseId,
    end_of_life: Option<i64>,
    support_until: Option<i64>,
) -> AppResult<Event> {
    super::authorized_project(app, caller, id).await?;
    let actor = caller.actor();
    let (_, event) = change_release(app, id, |release| {
        if release.stage == Stage::Revoked {
            return Err(AppError::conflict("revoked", format!("release {id} is revoked; its dates no longer matter")));
        }
        let eol = end_of_life.or(release.end_of_life);
        let support = support_until.or(release.support_until);
        check_dates(eol, support)?;
        let next = Release { end_of_life: eol, support_until: support, updated_at: app.now(), ..release.clone() };
        let draft = EventDraft::new(
            Some(actor.clone()),
            Change::LifecycleDatesSet { line: None, end_of_life: eol, support_until: support },
        );
        let extra = due_ops(release.end_of_life, eol, END_OF_LIFE, id);
        Ok(Some(Planned { next: Some(next), draft, extra, mail: None }))
    })
    .await?;
    event.ok_or_else(|| not_found(id))
}

async fn set_line_dates(
    app: &App,
    caller: &Caller,
    project_name: &ProjectName,
    product: Option<&ProductName>,
    line: &str,
    end_of_life: Option<i64>,
    support_until: Option<i64>,
) -> AppResult<Event> {
    let due_id = line_due_id(project_name, product, line)?;
    let key = line_key(product, line);
    let (stream, due_id, key) = (&StreamId::Project(project_name.clone()), &due_id, &key);
    retry::on_conflict(retry::ATTEMPTS, retry::too_busy(format!("project {project_name}")), || async move {
        let item = app
            .items
            .get(&keys::project(project_name))
            .await?
            .ok_or_else(|| AppError::NotFound(format!("project {project_name} not found")))?;
        let mut project: Project = item.parse()?;
        authorize(&caller.person, Some(&project), Action::ManageRelease)?;
        if let Some(p) = product
            && !project.products.contains(p)
        {
            return Err(AppError::NotFound(format!("project {project_name} has no product {p}")));
        }
        let old = project.lines.get(key).cloned().unwrap_or_default();
        let dates = LineDates {
            end_of_life: end_of_life.or(old.end_of_life),
            support_until: support_until.or(old.support_until),
        };
        check_dates(dates.end_of_life, dates.support_until)?;
        project.lines.insert(key.clone(), dates.clone());
        let mut ops =
            vec![WriteOp::Put { item: item.updated(json!(project)), condition: Condition::VersionIs(item.version) }];
        ops.extend(due_ops(old.end_of_life, dates.end_of_life, LINE_END_OF_LIFE, due_id));
        let draft = EventDraft::new(
            Some(caller.actor()),
            Change::LifecycleDatesSet {
                line: Some(key.clone()),
                end_of_life: dates.end_of_life,
                support_until: dates.support_until,
            },
        );
        match stream::commit_with_event(app, stream, draft, ops).await? {
            Committed::Done(event) => Ok(Attempt::Done(event)),
            Committed::Conflict { .. } => Ok(Attempt::Conflicted),
        }
    })
    .await
}

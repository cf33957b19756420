//! Projects (committees): creation by an admin, lookup, the release policy, and the project's
//! KEYS file.

use crate::app::App;
use crate::authenticate::Caller;
use crate::error::{AppError, AppResult};
use crate::people;
use crate::storage_keys as keys;
use crate::stream::{self, Committed};
use serde_json::json;
use std::collections::BTreeSet;
use trs_core::{
    Action, Actor, Change, EventDraft, Permit, PersonUid, Policy, PolicyOverride, ProductName, Project, ProjectName,
    StreamId, authorize,
};
use trs_storage::{Condition, Item, WriteOp};

pub struct NewProject {
    pub name: ProjectName,
    pub members: BTreeSet<PersonUid>,
    pub committers: BTreeSet<PersonUid>,
    pub release_managers: BTreeSet<PersonUid>,
    pub products: BTreeSet<ProductName>,
}

/// Creates a project; its creation is the first event of the project's stream.
pub async fn create_project(app: &App, _permit: &Permit, by: &Actor, p: NewProject) -> AppResult<Project> {
    if p.members.is_empty() {
        return Err(AppError::bad_request("no-members", "a project needs at least one committee member (--members)"));
    }
    let everyone: BTreeSet<&PersonUid> = p.members.iter().chain(&p.committers).chain(&p.release_managers).collect();
    let mut unknown = Vec::new();
    for uid in &everyone {
        if people::get_person(app, uid).await?.is_none() {
            unknown.push(uid.to_string());
        }
    }
    if !unknown.is_empty() {
        return Err(AppError::bad_request(
            "unknown-person",
            format!("not registered: {} (add them with `trs person add` first)", unknown.join(", ")),
        ));
    }
    let project = Project {
        name: p.name,
        members: p.members,
        committers: p.committers,
        release_managers: p.release_managers,
        products: p.products,
        created_at: app.now(),
        policy: Default::default(),
        product_policies: Default::default(),
        lines: Default::default(),
        distributions: Vec::new(),
    };
    let item = Item::new(keys::project(&project.name), json!(project)).with_gsi1(keys::projects_index(&project.name));
    let draft = EventDraft::new(Some(by.clone()), Change::ProjectCreated { project: project.name.clone() });
    let ops = vec![WriteOp::Put { item, condition: Condition::Absent }];
    match stream::commit_with_event(app, &StreamId::Project(project.name.clone()), draft, ops).await? {
        Committed::Done(_) => Ok(project),
        Committed::Conflict { .. } => {
            Err(AppError::conflict("project-exists", format!("project {} already exists", project.name)))
        }
    }
}

pub async fn get_project(app: &App, name: &ProjectName) -> AppResult<Project> {
    match app.items.get(&keys::project(name)).await? {
        Some(item) => Ok(item.parse()?),
        None => Err(AppError::NotFound(format!("project {name} not found"))),
    }
}

/// Every registered key of everyone who may sign the project's releases.
pub async fn signer_keys(app: &App, project: &Project) -> AppResult<Vec<people::RegisteredKey>> {
    let mut out = Vec::new();
    for uid in project.signers() {
        out.extend(people::keys_of(app, uid).await?);
    }
    out.sort_by(|a, b| (&a.person, &a.fingerprint).cmp(&(&b.person, &b.fingerprint)));
    Ok(out)
}

/// The project's `KEYS` file, importable with `gpg --import`.
pub async fn keys_file(app: &App, name: &ProjectName) -> AppResult<String> {
    let project = get_project(app, name).await?;
    let entries: Vec<trs_auth::KeysEntry> = signer_keys(app, &project)
        .await?
        .into_iter()
        .map(|k| trs_auth::KeysEntry { uid: k.person, armored: k.armored })
        .collect();
    Ok(trs_auth::render_keys_file(name.as_str(), &entries))
}

/// Every project in which the person holds a role. Scans the project index: fine for a
/// foundation's few hundred projects; a membership index is the next step past that.
pub async fn projects_of(app: &App, uid: &PersonUid) -> AppResult<Vec<Project>> {
    let all: Vec<Project> = app.all_in_gsi1(keys::PROJECTS_INDEX).await?;
    Ok(all.into_iter().filter(|p| p.signers().contains(uid)).collect())
}

/// The policy in force for a project's main line or one product, with the product's own
/// changes (what `trs project policy` shows).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PolicyView {
    pub project: ProjectName,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<ProductName>,
    /// The effective policy (the project's, with the product's changes applied).
    pub policy: Policy,
    /// The product's changes to the project's policy (empty for the main line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_override: Option<PolicyOverride>,
}

/// Longest minimum vote duration a policy may ask for (a year): beyond it is a typo.
pub const MAX_VOTE_HOURS: u32 = 24 * 366;

fn policy_view(project: &Project, product: Option<&ProductName>) -> PolicyView {
    PolicyView {
        project: project.name.clone(),
        product: product.cloned(),
        policy: project.policy_for(product),
        product_override: product.map(|p| project.product_policies.get(p).cloned().unwrap_or_default()),
    }
}

pub async fn get_policy(app: &App, name: &ProjectName, product: Option<&ProductName>) -> AppResult<PolicyView> {
    Ok(policy_view(&get_project(app, name).await?, product))
}

fn check_policy_change(change: &PolicyOverride) -> AppResult<()> {
    if *change == PolicyOverride::default() {
        return Err(AppError::bad_request("nothing-to-change", "the policy change names no rule to change"));
    }
    if change.min_binding == Some(0) {
        return Err(AppError::bad_request(
            "invalid-policy",
            "min_binding must be at least 1: a release needs at least one binding +1",
        ));
    }
    if let Some(h) = change.min_vote_hours
        && h > MAX_VOTE_HOURS
    {
        return Err(AppError::bad_request(
            "invalid-policy",
            format!("min_vote_hours {h} is longer than a year ({MAX_VOTE_HOURS} hours)"),
        ));
    }
    Ok(())
}

/// Changes the policy of a project's main line (`product` `None`) or of one product (only the
/// fields `change` sets; the others keep their value or keep inheriting). Release managers,
/// committee members and admins ("manage policy / metadata"). Votes already open keep the
/// policy they opened under.
pub async fn set_policy(
    app: &App,
    caller: &Caller,
    name: &ProjectName,
    product: Option<ProductName>,
    change: PolicyOverride,
) -> AppResult<PolicyView> {
    check_policy_change(&change)?;
    for _attempt in 0..8 {
        let item = app
            .items
            .get(&keys::project(name))
            .await?
            .ok_or_else(|| AppError::NotFound(format!("project {name} not found")))?;
        let mut project: Project = item.parse()?;
        authorize(&caller.person, Some(&project), Action::ManagePolicyOrMetadata)?;
        match &product {
            None => project.policy = change.apply(&project.policy),
            Some(p) => {
                let merged = project.product_policies.get(p).cloned().unwrap_or_default().merge(&change);
                project.product_policies.insert(p.clone(), merged);
            }
        }
        let view = policy_view(&project, product.as_ref());
        let recorded = serde_json::to_value(&view.policy).map_err(|e| AppError::Internal(e.to_string()))?;
        let draft =
            EventDraft::new(Some(caller.actor()), Change::PolicyChanged { product: product.clone(), policy: recorded });
        let ops =
            vec![WriteOp::Put { item: item.updated(json!(project)), condition: Condition::VersionIs(item.version) }];
        match stream::commit_with_event(app, &StreamId::Project(name.clone()), draft, ops).await? {
            Committed::Done(_) => return Ok(view),
            Committed::Conflict { .. } => continue,
        }
    }
    Err(AppError::conflict("concurrent-update", format!("project {name} changed concurrently too often; retry")))
}

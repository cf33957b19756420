//! Projects (committees): creation by an admin, lookup, and the project's KEYS file.

use crate::app::App;
use crate::error::{AppError, AppResult};
use crate::people;
use crate::storage_keys as keys;
use serde_json::json;
use std::collections::BTreeSet;
use trs_core::{Permit, PersonUid, ProductName, Project, ProjectName};
use trs_storage::{Condition, Item};

pub struct NewProject {
    pub name: ProjectName,
    pub members: BTreeSet<PersonUid>,
    pub committers: BTreeSet<PersonUid>,
    pub release_managers: BTreeSet<PersonUid>,
    pub products: BTreeSet<ProductName>,
}

pub async fn create_project(app: &App, _permit: &Permit, p: NewProject) -> AppResult<Project> {
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
    };
    let item = Item::new(keys::project(&project.name), json!(project)).with_gsi1(keys::projects_index(&project.name));
    match app.items.put(item, Condition::Absent).await {
        Ok(()) => Ok(project),
        Err(e) if e.is_conflict() => {
            Err(AppError::conflict("project-exists", format!("project {} already exists", project.name)))
        }
        Err(e) => Err(e.into()),
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

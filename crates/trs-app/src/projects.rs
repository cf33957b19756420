//! Projects (committees): creation by an admin, listing and showing them, their rosters,
//! products and metadata after day one, the release policy, and the project's KEYS file.

use crate::app::App;
use crate::authenticate::Caller;
use crate::error::{AppError, AppResult, check_typed_text};
use crate::people;
use crate::storage_keys as keys;
use crate::stream::{self, Committed, Update};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeSet;
use trs_core::{
    Action, Actor, Change, EventDraft, Fingerprint, Permit, PersonUid, Policy, PolicyOverride, ProductName, Project,
    ProjectName, ProjectRole, ReleaseId, StreamId, authorize,
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
    ensure_registered(app, everyone).await?;
    let project = Project {
        name: p.name,
        members: p.members,
        committers: p.committers,
        release_managers: p.release_managers,
        products: p.products,
        product_descriptions: Default::default(),
        display_name: None,
        description: None,
        homepage: None,
        created_at: app.now(),
        policy: Default::default(),
        product_policies: Default::default(),
        lines: Default::default(),
        distributions: Vec::new(),
        mail: Default::default(),
        product_mail: Default::default(),
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
    let stream = StreamId::Project(name.clone());
    let project = stream::update_with_event(
        app,
        &stream,
        &keys::project(name),
        project_missing(name),
        |project: &mut Project| {
            authorize(&caller.person, Some(&*project), Action::ManagePolicyOrMetadata)?;
            match &product {
                None => project.policy = change.apply(&project.policy),
                Some(p) => {
                    let merged = project.product_policies.get(p).cloned().unwrap_or_default().merge(&change);
                    project.product_policies.insert(p.clone(), merged);
                }
            }
            let policy = policy_view(project, product.as_ref()).policy;
            let recorded = serde_json::to_value(&policy).map_err(|e| AppError::Internal(e.to_string()))?;
            let draft = EventDraft::new(
                Some(caller.actor()),
                Change::PolicyChanged { product: product.clone(), policy: recorded },
            );
            Ok(Update { draft, also: Vec::new() })
        },
    )
    .await?;
    Ok(policy_view(&project, product.as_ref()))
}

fn project_missing(name: &ProjectName) -> impl Fn() -> AppError + '_ {
    move || AppError::NotFound(format!("project {name} not found"))
}

/// One line of `trs project list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectSummary {
    pub name: ProjectName,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub products: BTreeSet<ProductName>,
}

/// Every project, by name.
pub async fn list_projects(app: &App) -> AppResult<Vec<ProjectSummary>> {
    let mut all: Vec<Project> = app.all_in_gsi1(keys::PROJECTS_INDEX).await?;
    all.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(all
        .into_iter()
        .map(|p| ProjectSummary {
            name: p.name,
            display_name: p.display_name,
            description: p.description,
            products: p.products,
        })
        .collect())
}

/// A key in the project's KEYS file: whose, and its fingerprint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRef {
    pub person: PersonUid,
    pub fingerprint: Fingerprint,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

/// What `trs project show` answers: the stored project (rosters, products, policy, lines,
/// distributions, metadata) and the fingerprints its KEYS file holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectView {
    #[serde(flatten)]
    pub project: Project,
    pub keys: Vec<KeyRef>,
}

pub async fn show_project(app: &App, name: &ProjectName) -> AppResult<ProjectView> {
    let project = get_project(app, name).await?;
    let keys = signer_keys(app, &project)
        .await?
        .into_iter()
        .map(|k| KeyRef { person: k.person, fingerprint: k.fingerprint, user_id: k.primary_user_id })
        .collect();
    Ok(ProjectView { project, keys })
}

/// Free text kept on one line (names, descriptions, emails): no control characters (they
/// would forge lines in terminals, logs and emails), at most `max` characters.
pub(crate) fn check_line(field: &'static str, value: &str, max: usize) -> AppResult<()> {
    if value.chars().count() > max {
        return Err(AppError::bad_request("invalid-text", format!("{field} has more than {max} characters")));
    }
    // The one rule for typed text (no control or bidirectional characters), on one line.
    check_typed_text(field, value, trs_core::text::Lines::One)
}

/// Refuses (`unknown-person`) when any of `uids` is not a registered person.
async fn ensure_registered<'u>(app: &App, uids: impl IntoIterator<Item = &'u PersonUid>) -> AppResult<()> {
    let mut unknown = Vec::new();
    for uid in uids {
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
    Ok(())
}

/// The people added to or removed from one role of a project's roster.
#[derive(Debug, Clone, Default)]
pub struct MembersChange {
    pub add: BTreeSet<PersonUid>,
    pub remove: BTreeSet<PersonUid>,
}

/// Gives people `role` in the project or takes it from them (committee members and admins).
/// Every added person must be registered; adding someone who holds the role already, or
/// removing someone who does not, is refused (a typo should not pass as a no-op), and the
/// committee keeps at least one member. Ballots already cast keep the binding status
/// recorded when they were cast: a change applies to later votes only.
pub async fn change_members(
    app: &App,
    caller: &Caller,
    name: &ProjectName,
    role: ProjectRole,
    change: MembersChange,
) -> AppResult<Project> {
    if change.add.is_empty() && change.remove.is_empty() {
        return Err(AppError::bad_request("nothing-to-change", "name people to --add or --remove"));
    }
    if let Some(both) = change.add.intersection(&change.remove).next() {
        return Err(AppError::bad_request("invalid-change", format!("{both} is both added and removed")));
    }
    ensure_registered(app, &change.add).await?;
    let stream = StreamId::Project(name.clone());
    stream::update_with_event(app, &stream, &keys::project(name), project_missing(name), |project: &mut Project| {
        authorize(&caller.person, Some(&*project), Action::ManageMembers)?;
        let roster = project.roster_mut(role);
        if let Some(uid) = change.add.iter().find(|u| roster.contains(*u)) {
            return Err(AppError::conflict("already-in-role", format!("{uid} is already {role} of {name}")));
        }
        if let Some(uid) = change.remove.iter().find(|u| !roster.contains(*u)) {
            return Err(AppError::conflict("not-in-role", format!("{uid} is not {role} of {name}")));
        }
        roster.extend(change.add.iter().cloned());
        roster.retain(|u| !change.remove.contains(u));
        if role == ProjectRole::Committee && roster.is_empty() {
            return Err(AppError::conflict(
                "no-members",
                format!("the committee of {name} would be empty; a project keeps at least one committee member"),
            ));
        }
        let draft = EventDraft::new(
            Some(caller.actor()),
            Change::MembersChanged {
                role,
                added: change.add.iter().cloned().collect(),
                removed: change.remove.iter().cloned().collect(),
            },
        );
        Ok(Update { draft, also: Vec::new() })
    })
    .await
}

/// Longest product description.
pub const MAX_DESCRIPTION: usize = 2000;

/// Declares a product of the project (release managers, committee members, admins): its
/// releases may then be uploaded (`--product`), and their files are public at
/// `/STAGE/PROJECT/PRODUCT/VERSION/FILE` and `…/PRODUCT/latest/FILE`. A name the main line
/// already uses as a version is refused: `/current/P/NAME/…` would name both.
pub async fn add_product(
    app: &App,
    caller: &Caller,
    name: &ProjectName,
    product: ProductName,
    description: Option<String>,
) -> AppResult<Project> {
    let description = description.filter(|d| !d.is_empty());
    if let Some(d) = &description {
        check_line("description", d, MAX_DESCRIPTION)?;
    }
    let main_line_version: trs_core::Version = product.as_str().parse()?;
    let clash = ReleaseId { project: name.clone(), product: None, version: main_line_version };
    if crate::releases::get_release(app, &clash).await?.is_some() {
        return Err(AppError::conflict(
            "product-name-taken",
            format!("{name} has a release {product} on its main line; a product of that name would share its paths"),
        ));
    }
    let stream = StreamId::Project(name.clone());
    stream::update_with_event(app, &stream, &keys::project(name), project_missing(name), |project: &mut Project| {
        authorize(&caller.person, Some(&*project), Action::ManagePolicyOrMetadata)?;
        if !project.products.insert(product.clone()) {
            return Err(AppError::conflict("product-exists", format!("{name} already has a product {product}")));
        }
        if let Some(d) = &description {
            project.product_descriptions.insert(product.clone(), d.clone());
        }
        let draft = EventDraft::new(
            Some(caller.actor()),
            Change::ProductAdded { product: product.clone(), description: description.clone() },
        );
        Ok(Update { draft, also: Vec::new() })
    })
    .await
}

/// The metadata `trs project edit` changes: only the fields given; an empty one clears it.
/// Requests carry it as trs_api's `EditProject` (`api_views` converts).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectEdit {
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub homepage: Option<String>,
}

/// Longest display name of a project or person.
pub const MAX_NAME: usize = 200;

/// The checks of a project edit before anything is read or written (also run by the fuzz targets).
pub fn check_edit(edit: &ProjectEdit) -> AppResult<()> {
    if *edit == ProjectEdit::default() {
        return Err(AppError::bad_request("nothing-to-change", "give --name, --description or --homepage"));
    }
    if let Some(n) = &edit.display_name {
        check_line("name", n, MAX_NAME)?;
    }
    if let Some(d) = &edit.description {
        check_line("description", d, MAX_DESCRIPTION)?;
    }
    if let Some(h) = edit.homepage.as_deref().filter(|h| !h.is_empty()) {
        check_line("homepage", h, MAX_DESCRIPTION)?;
        let parsed = url::Url::parse(h)
            .map_err(|e| AppError::bad_request("invalid-homepage", format!("homepage {h:?} is not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "https" | "http") || parsed.host_str().is_none() {
            return Err(AppError::bad_request(
                "invalid-homepage",
                format!("homepage {h:?} must be an absolute http or https URL"),
            ));
        }
    }
    Ok(())
}

/// Changes a project's display name, description or homepage (release managers, committee
/// members, admins: "manage policy / metadata").
pub async fn edit_project(app: &App, caller: &Caller, name: &ProjectName, edit: ProjectEdit) -> AppResult<Project> {
    check_edit(&edit)?;
    let set = |field: &mut Option<String>, value: &Option<String>| {
        if let Some(v) = value {
            *field = Some(v.clone()).filter(|v| !v.is_empty());
        }
    };
    let stream = StreamId::Project(name.clone());
    stream::update_with_event(app, &stream, &keys::project(name), project_missing(name), |project: &mut Project| {
        authorize(&caller.person, Some(&*project), Action::ManagePolicyOrMetadata)?;
        set(&mut project.display_name, &edit.display_name);
        set(&mut project.description, &edit.description);
        set(&mut project.homepage, &edit.homepage);
        let draft = EventDraft::new(
            Some(caller.actor()),
            Change::ProjectEdited {
                display_name: edit.display_name.clone(),
                description: edit.description.clone(),
                homepage: edit.homepage.clone(),
            },
        );
        Ok(Update { draft, also: Vec::new() })
    })
    .await
}

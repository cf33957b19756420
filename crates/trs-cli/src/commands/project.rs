//! `trs project create`: an admin creates a project with its committee.
//! `trs project list|show|members|products|edit`: the project after day one.
//! `trs project policy`: show or change a project's (or product's) release policy.

use crate::client::Client;
use crate::error::CliResult;
use crate::output;
use serde_json::{Value, json};
use trs_api::projects::{
    AddProduct, ChangeMembers, CreateProject, EditProject, Project, ProjectDetail, ProjectList, ProjectPolicy,
    SetPolicy,
};
use trs_core::ProjectRole;

pub async fn create(
    client: &Client,
    name: &str,
    members: &[String],
    committers: &[String],
    release_managers: &[String],
    as_json: bool,
) -> CliResult<()> {
    let body = CreateProject {
        name: name.to_string(),
        members: members.to_vec(),
        committers: committers.to_vec(),
        release_managers: release_managers.to_vec(),
        products: Vec::new(),
    };
    let project: Project = client.post("/api/v1/projects", &body).await?;
    if as_json {
        output::answer_json(&project);
    } else {
        say!("created project {name}: members {}", members.join(", "));
    }
    Ok(())
}

/// `trs project policy`: with no rule flags, shows the policy in force; otherwise a signed
/// call changes exactly the rules given.
pub async fn policy(client: &Client, project: &str, change: SetPolicy, as_json: bool) -> CliResult<()> {
    let path = format!("/api/v1/projects/{project}/policy");
    let product = change.product.as_deref();
    let changing = change != SetPolicy { product: change.product.clone(), ..SetPolicy::default() };
    let view: ProjectPolicy = if changing {
        client.post(&path, &change).await?
    } else {
        let query = product.map(|p| format!("?product={p}")).unwrap_or_default();
        client.get(&format!("{path}{query}")).await?
    };
    if as_json {
        output::json(&view);
        return Ok(());
    }
    let line = match product {
        Some(p) => format!("{project} product {p}"),
        None => project.to_string(),
    };
    say!("{} policy of {line}:", if changing { "new" } else { "release" });
    let p = &view.policy;
    say!("  min-vote-hours    {}", p.min_vote_hours);
    say!("  min-binding       {}", p.min_binding);
    say!("  strict            {}", p.strict);
    say!("  archive-previous  {}", p.archive_previous);
    say!("  auto-close-votes  {}", p.auto_close_votes);
    say!("  auto-publish      {}", p.auto_publish);
    say!("  auto-distribute   {}", p.auto_distribute);
    say!("  prerelease-latest {}", p.prerelease_latest);
    say!("  require-sbom      {}", p.require_sbom);
    say!("  email-votes       {}", p.email_votes);
    let denied: Vec<&str> = p.denied_licences.iter().map(|c| c.as_str()).collect();
    say!("  deny-licences     {}", if denied.is_empty() { "none".to_string() } else { denied.join(",") });
    Ok(())
}

pub async fn list(client: &Client, as_json: bool) -> CliResult<()> {
    let list: ProjectList = client.get("/api/v1/projects").await?;
    if as_json {
        output::answer_json(&list);
        return Ok(());
    }
    for p in &list.projects {
        let title = p.display_name.as_deref().map(|n| format!("  {n}")).unwrap_or_default();
        println!("{}{title}", p.name);
    }
    Ok(())
}

fn names<T: std::fmt::Display>(set: impl IntoIterator<Item = T>) -> String {
    let all: Vec<String> = set.into_iter().map(|u| u.to_string()).collect();
    if all.is_empty() { "-".into() } else { all.join(", ") }
}

fn print_project(p: &Project) {
    println!("project {}", p.name);
    if let Some(n) = &p.display_name {
        println!("  name              {n}");
    }
    if let Some(d) = &p.description {
        println!("  description       {d}");
    }
    if let Some(h) = &p.homepage {
        println!("  homepage          {h}");
    }
    println!("  committee         {}", names(&p.members));
    println!("  committers        {}", names(&p.committers));
    println!("  release managers  {}", names(&p.release_managers));
    println!("  products          {}", names(&p.products));
}

pub async fn show(client: &Client, project: &str, as_json: bool) -> CliResult<()> {
    let view: ProjectDetail = client.get(&format!("/api/v1/projects/{project}")).await?;
    if as_json {
        output::json(&view);
        return Ok(());
    }
    let p = &view.project;
    print_project(p);
    let rules = &p.policy;
    println!(
        "  policy            min-vote-hours {}, min-binding {}, strict {}",
        rules.min_vote_hours, rules.min_binding, rules.strict
    );
    println!("  KEYS");
    for k in &view.keys {
        println!(
            "    {}  {}{}",
            k.fingerprint,
            k.person,
            k.user_id.as_deref().map(|u| format!("  {u}")).unwrap_or_default()
        );
    }
    Ok(())
}

pub async fn members(
    client: &Client,
    project: &str,
    role: ProjectRole,
    add: &[String],
    remove: &[String],
    as_json: bool,
) -> CliResult<()> {
    let body =
        ChangeMembers { role: trs_app::api_views::project_role(role), add: add.to_vec(), remove: remove.to_vec() };
    let p: Project = client.post(&format!("/api/v1/projects/{project}/members"), &body).await?;
    if as_json {
        output::json(&p);
    } else {
        let roster = match role {
            ProjectRole::Committee => &p.members,
            ProjectRole::Committer => &p.committers,
            ProjectRole::ReleaseManager => &p.release_managers,
        };
        println!("{role} of {project}: {}", names(roster));
    }
    Ok(())
}

pub async fn products(
    client: &Client,
    project: &str,
    add: Option<&str>,
    description: Option<&str>,
    as_json: bool,
) -> CliResult<()> {
    let p: Project = match add {
        Some(name) => {
            let body = AddProduct { name: name.to_string(), description: description.map(str::to_string) };
            client.post(&format!("/api/v1/projects/{project}/products"), &body).await?
        }
        None => client.get::<ProjectDetail>(&format!("/api/v1/projects/{project}")).await?.project,
    };
    if as_json {
        let products: Vec<Value> = p
            .products
            .iter()
            .map(|name| json!({"name": name, "description": p.product_descriptions.get(name)}))
            .collect();
        output::json(&json!({"project": p.name, "products": products}));
        return Ok(());
    }
    if let Some(name) = add {
        println!("declared product {name} of {project}");
    }
    for name in &p.products {
        let about = p.product_descriptions.get(name).map(|d| format!("  {d}")).unwrap_or_default();
        println!("{name}{about}");
    }
    Ok(())
}

pub async fn edit(client: &Client, project: &str, edit: &EditProject, as_json: bool) -> CliResult<()> {
    let p: Project = client.post(&format!("/api/v1/projects/{project}"), edit).await?;
    if as_json {
        output::json(&p);
    } else {
        print_project(&p);
    }
    Ok(())
}

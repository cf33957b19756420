//! `trs project create`: an admin creates a project with its committee.
//! `trs project policy`: show or change a project's (or product's) release policy.

use crate::client::Client;
use crate::error::CliResult;
use crate::output;
use serde_json::{Value, json};

pub async fn create(
    client: &Client,
    name: &str,
    members: &[String],
    committers: &[String],
    release_managers: &[String],
    as_json: bool,
) -> CliResult<()> {
    let body =
        json!({"name": name, "members": members, "committers": committers, "release_managers": release_managers});
    let project: Value = client.post("/api/v1/projects", &body).await?;
    if as_json {
        output::json(&project);
    } else {
        say!("created project {name}: members {}", members.join(", "));
    }
    Ok(())
}

/// `trs project policy`: with no rule flags, shows the policy in force; otherwise a signed
/// call changes exactly the rules given.
pub async fn policy(
    client: &Client,
    project: &str,
    product: Option<&str>,
    change: Value,
    as_json: bool,
) -> CliResult<()> {
    let path = format!("/api/v1/projects/{project}/policy");
    let changing = change.as_object().is_some_and(|m| m.values().any(|v| !v.is_null()));
    let view: Value = if changing {
        let mut body = change;
        body["product"] = json!(product);
        client.post(&path, &body).await?
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
    let p = &view["policy"];
    say!("  min-vote-hours    {}", p["min_vote_hours"]);
    say!("  min-binding       {}", p["min_binding"]);
    say!("  strict            {}", p["strict"]);
    say!("  archive-previous  {}", p["archive_previous"]);
    say!("  auto-close-votes  {}", p["auto_close_votes"]);
    say!("  auto-publish      {}", p["auto_publish"]);
    say!("  auto-distribute   {}", p["auto_distribute"]);
    say!("  prerelease-latest {}", p["prerelease_latest"]);
    Ok(())
}

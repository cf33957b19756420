//! `trs project create`: an admin creates a project with its committee.

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
        println!("created project {name}: members {}", members.join(", "));
    }
    Ok(())
}

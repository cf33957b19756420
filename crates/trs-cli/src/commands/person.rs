//! `trs person add`: an admin registers a person with their certificate.

use crate::client::Client;
use crate::error::{CliResult, failed};
use crate::output;
use serde_json::{Value, json};
use std::path::Path;

pub fn read_cert(path: &Path) -> CliResult<String> {
    let bytes = std::fs::read(path).map_err(|e| failed(format!("cannot read {}: {e}", path.display())))?;
    String::from_utf8(bytes).map_err(|_| {
        failed(format!("{} is not an armored certificate; export it with `gpg --export --armor FPR`", path.display()))
    })
}

pub async fn add(
    client: &Client,
    uid: &str,
    cert: &Path,
    name: Option<&str>,
    email: Option<&str>,
    as_json: bool,
) -> CliResult<()> {
    let body = json!({"uid": uid, "certificate": read_cert(cert)?, "name": name, "email": email});
    let person: Value = client.post("/api/v1/people", &body).await?;
    if as_json {
        output::json(&person);
    } else {
        say!(
            "registered {} with key {}",
            person["uid"].as_str().unwrap_or(uid),
            person["keys"][0].as_str().unwrap_or("?")
        );
    }
    Ok(())
}

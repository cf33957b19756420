//! `trs keys add` (another key of your own, or an update of one), `trs keys remove` (a key
//! no release names as signer) and `trs keys export` (a project's KEYS file).

use crate::client::Client;
use crate::commands::person::read_cert;
use crate::error::CliResult;
use crate::output;
use serde_json::{Value, json};
use std::path::Path;

pub async fn add(client: &Client, cert: &Path, as_json: bool) -> CliResult<()> {
    let key: Value = client.post("/api/v1/keys", &json!({"certificate": read_cert(cert)?})).await?;
    if as_json {
        output::json(&key);
    } else {
        say!("added key {} for {}", key["fingerprint"].as_str().unwrap_or("?"), key["person"].as_str().unwrap_or("?"));
    }
    Ok(())
}

pub async fn export(client: &Client, project: &str) -> CliResult<()> {
    let text = client.get_text(&format!("/api/v1/projects/{project}/KEYS")).await?;
    print!("{}", crate::output::terminal_text(&text));
    Ok(())
}

pub async fn remove(client: &Client, fingerprint: &str, as_json: bool) -> CliResult<()> {
    let key: trs_app::people::RegisteredKey = client.delete(&format!("/api/v1/keys/{fingerprint}"), None).await?;
    if as_json {
        output::json(&key);
    } else {
        println!("removed key {} of {}", key.fingerprint, key.person);
    }
    Ok(())
}

//! `trs person add`: an admin registers a person with their certificate.
//! `trs person list|show|edit`, and `trs admin grant|revoke`.

use crate::client::Client;
use crate::error::{CliResult, failed};
use crate::output;
use serde_json::json;
use std::path::Path;
use trs_api::people::{AddPerson, EditPerson, PeopleList, Person, PersonDetail};

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
    let body = AddPerson {
        uid: uid.to_string(),
        certificate: read_cert(cert)?,
        name: name.map(str::to_string),
        email: email.map(str::to_string),
    };
    let person: Person = client.post("/api/v1/people", &body).await?;
    if as_json {
        output::answer_json(&person);
    } else {
        say!("registered {} with key {}", person.uid, person.keys.first().map_or("?", String::as_str));
    }
    Ok(())
}

fn describe(p: &Person) -> String {
    let mut line = p.uid.to_string();
    if let Some(n) = &p.name {
        line.push_str(&format!("  {n}"));
    }
    if let Some(e) = &p.email {
        line.push_str(&format!("  <{e}>"));
    }
    if p.admin {
        line.push_str("  (admin)");
    }
    line
}

pub async fn list(client: &Client, as_json: bool) -> CliResult<()> {
    let list: PeopleList = client.get("/api/v1/people").await?;
    if as_json {
        output::answer_json(&list);
        return Ok(());
    }
    for p in &list.people {
        println!("{}", describe(p));
    }
    Ok(())
}

pub async fn show(client: &Client, uid: &str, as_json: bool) -> CliResult<()> {
    let view: PersonDetail = client.get(&format!("/api/v1/people/{uid}")).await?;
    if as_json {
        output::json(&view);
        return Ok(());
    }
    println!("{}", describe(&view.person));
    for k in &view.registered_keys {
        println!("  key {}  {}", k.fingerprint, output::terminal_text(&k.user_ids.join("; ")));
        for w in &k.warnings {
            println!("    warning: {}", output::terminal_text(w));
        }
    }
    for p in &view.projects {
        println!("  {}: {}", p.project, p.roles.join(", "));
    }
    Ok(())
}

pub async fn edit(client: &Client, uid: &str, edit: &EditPerson, as_json: bool) -> CliResult<()> {
    let person: Person = client.post(&format!("/api/v1/people/{uid}"), edit).await?;
    if as_json {
        output::json(&person);
    } else {
        println!("{}", describe(&person));
    }
    Ok(())
}

/// `trs admin grant|revoke UID`.
pub async fn set_admin(client: &Client, uid: &str, admin: bool, as_json: bool) -> CliResult<()> {
    let path = format!("/api/v1/people/{uid}/admin");
    let person: Person = if admin { client.post(&path, &json!({})).await? } else { client.delete(&path, None).await? };
    if as_json {
        output::json(&person);
    } else if admin {
        println!("{uid} is an admin");
    } else {
        println!("{uid} is no longer an admin");
    }
    Ok(())
}

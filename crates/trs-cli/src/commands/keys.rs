//! `trs keys add` (another key of your own, or an update of one), `trs keys remove` (a key
//! no release names as signer), `trs keys export` (a project's KEYS file) and `trs keys import`
//! (every key of an existing KEYS file, with people for them).

use crate::client::Client;
use crate::commands::person::read_cert;
use crate::error::{CliError, CliResult, failed};
use crate::output;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use trs_api::people::{AddKey, AddPerson, PeopleList, Person, RegisteredKey};
use trs_api::projects::{ChangeMembers, ProjectDetail, ProjectRole};
use trs_core::PersonUid;

pub async fn add(client: &Client, cert: &Path, as_json: bool) -> CliResult<()> {
    let key: RegisteredKey = client.post("/api/v1/keys", &AddKey { certificate: read_cert(cert)?, uid: None }).await?;
    if as_json {
        output::answer_json(&key);
    } else {
        say!("added key {} for {}", key.fingerprint, key.person);
    }
    Ok(())
}

pub async fn export(client: &Client, project: &str) -> CliResult<()> {
    let text = client.get_text(&format!("/api/v1/projects/{project}/KEYS")).await?;
    print!("{}", crate::output::terminal_text(&text));
    Ok(())
}

pub async fn remove(client: &Client, fingerprint: &str, as_json: bool) -> CliResult<()> {
    let key: RegisteredKey = client.delete(&format!("/api/v1/keys/{fingerprint}"), None).await?;
    if as_json {
        output::json(&key);
    } else {
        println!("removed key {} of {}", key.fingerprint, key.person);
    }
    Ok(())
}

/// What happened to one key of a KEYS file.
#[derive(Debug, Serialize)]
pub(crate) struct ImportedKey {
    /// Absent for a block that does not parse.
    pub fingerprint: Option<String>,
    pub person: Option<String>,
    /// `added`, `already-present` or `refused`.
    pub result: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct ImportReport {
    pub project: String,
    pub keys: Vec<ImportedKey>,
    /// People of the KEYS file who held no role in the project, made its committers (so their
    /// signatures count).
    pub committers_added: Vec<String>,
}

/// `--people MAP.json`: `{"FINGERPRINT or email": "uid"}`, keys compared without spaces and
/// case.
pub(crate) fn read_people_map(path: &Path) -> CliResult<BTreeMap<String, PersonUid>> {
    let text = std::fs::read_to_string(path).map_err(|e| failed(format!("cannot read {}: {e}", path.display())))?;
    let map: BTreeMap<String, String> = serde_json::from_str(&text)
        .map_err(|e| CliError::Usage(format!("{}: not a JSON object of strings: {e}", path.display())))?;
    map.into_iter()
        .map(|(k, v)| {
            let uid = v.parse::<PersonUid>().map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))?;
            Ok((map_key(&k), uid))
        })
        .collect()
}

fn map_key(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_lowercase()
}

/// The user id a key's person gets: mapped by fingerprint or email, else the local part of
/// the email (what Apache ids are), lowercased.
fn person_for(cert: &trs_auth::KeysFileCert, map: &BTreeMap<String, PersonUid>) -> Result<(PersonUid, bool), String> {
    let email = cert.name_and_email().map(|(_, e)| e);
    let mapped = map.get(&map_key(&cert.fingerprint)).or_else(|| email.as_deref().and_then(|e| map.get(&map_key(e))));
    if let Some(uid) = mapped {
        return Ok((uid.clone(), true));
    }
    let Some(email) = email else {
        return Err(
            "no user id with an email to name its person; map its fingerprint to a user id with --people".into()
        );
    };
    let local = email.split('@').next().unwrap_or_default().to_lowercase();
    local
        .parse::<PersonUid>()
        .map(|uid| (uid, false))
        .map_err(|e| format!("{e} (from {email}); map its fingerprint to a user id with --people"))
}

/// `trs keys import PROJECT KEYS`: registers every key of an Apache KEYS file through the
/// ordinary signed calls (an admin's: people are created), each reported; idempotent (a key
/// already registered to its person is left alone).
pub async fn import(
    client: &Client,
    project: &str,
    keys_file: &Path,
    people_map: Option<&Path>,
    as_json: bool,
) -> CliResult<()> {
    let map = people_map.map(read_people_map).transpose()?.unwrap_or_default();
    let report = import_keys(client, project, keys_file, &map).await?;
    if as_json {
        output::json(&report);
        return Ok(());
    }
    for k in &report.keys {
        let fpr = k.fingerprint.as_deref().unwrap_or("?");
        match (&k.reason, &k.person) {
            (Some(reason), _) => say!("refused          {fpr}: {reason}"),
            (None, Some(uid)) => say!("{:<16} {fpr} {uid}", k.result),
            (None, None) => say!("{:<16} {fpr}", k.result),
        }
    }
    if !report.committers_added.is_empty() {
        say!("committers of {project} now: {} (they held no role there)", report.committers_added.join(", "));
    }
    let count = |r: &str| report.keys.iter().filter(|k| k.result == r).count();
    say!("{} added, {} already present, {} refused", count("added"), count("already-present"), count("refused"));
    Ok(())
}

/// Registers every key of `keys_file` for `project` (the work of `trs keys import`, also
/// done by `trs import` for each project of a tree) and returns what happened to each.
pub(crate) async fn import_keys(
    client: &Client,
    project: &str,
    keys_file: &Path,
    map: &BTreeMap<String, PersonUid>,
) -> CliResult<ImportReport> {
    let text =
        std::fs::read_to_string(keys_file).map_err(|e| failed(format!("cannot read {}: {e}", keys_file.display())))?;
    let rosters: ProjectDetail = client.get(&format!("/api/v1/projects/{project}")).await?;
    let mut people: Vec<Person> = client.get::<PeopleList>("/api/v1/people").await?.people;
    let mut report = ImportReport { project: project.to_string(), keys: Vec::new(), committers_added: Vec::new() };
    let mut signers: BTreeSet<PersonUid> = BTreeSet::new();
    for read in trs_auth::read_keys_file(&text) {
        let cert = match read {
            Ok(c) => c,
            Err(reason) => {
                report.keys.push(ImportedKey {
                    fingerprint: None,
                    person: None,
                    result: "refused",
                    reason: Some(reason),
                });
                continue;
            }
        };
        let key = import_one(client, &cert, map, &mut people).await;
        if let (Some(uid), "added" | "already-present") = (&key.person, key.result) {
            signers.insert(uid.parse().map_err(|e: trs_core::IdError| failed(e.to_string()))?);
        }
        report.keys.push(key);
    }
    let p = &rosters.project;
    let roled = |u: &PersonUid| {
        [&p.members, &p.committers, &p.release_managers].into_iter().flatten().any(|m| m.as_str() == u.as_str())
    };
    let new: Vec<&PersonUid> = signers.iter().filter(|u| !roled(u)).collect();
    if !new.is_empty() {
        let body = ChangeMembers {
            role: ProjectRole::Committer,
            add: new.iter().map(|u| u.to_string()).collect(),
            remove: Vec::new(),
        };
        let _: Value = client.post(&format!("/api/v1/projects/{project}/members"), &body).await?;
        report.committers_added = new.iter().map(|u| u.to_string()).collect();
    }
    Ok(report)
}

async fn import_one(
    client: &Client,
    cert: &trs_auth::KeysFileCert,
    map: &BTreeMap<String, PersonUid>,
    people: &mut Vec<Person>,
) -> ImportedKey {
    let fingerprint = Some(cert.fingerprint.clone());
    let refused = |person: Option<String>, reason: String| ImportedKey {
        fingerprint: fingerprint.clone(),
        person,
        result: "refused",
        reason: Some(reason),
    };
    let (uid, mapped) = match person_for(cert, map) {
        Ok(found) => found,
        Err(reason) => return refused(None, reason),
    };
    let owner = people.iter().find(|p| p.keys.contains(&cert.fingerprint));
    if let Some(owner) = owner {
        if owner.uid != uid.as_str() && mapped {
            return refused(Some(uid.to_string()), format!("the key is registered to {}", owner.uid));
        }
        return ImportedKey { fingerprint, person: Some(owner.uid.clone()), result: "already-present", reason: None };
    }
    let (name, email) = cert.name_and_email().map(|(n, e)| (n, Some(e))).unwrap_or((None, None));
    let answer: CliResult<Value> = match people.iter().find(|p| p.uid == uid.as_str()) {
        // Two people may share an email's local part: only a mapping joins a key to someone
        // registered under another address.
        Some(p) if !mapped && p.email.is_some() && p.email.as_deref() != email.as_deref() => {
            return refused(
                Some(uid.to_string()),
                format!(
                    "{uid} is registered with another email ({}); map this key to a user id with --people",
                    p.email.as_deref().unwrap_or_default()
                ),
            );
        }
        Some(_) => {
            let body = AddKey { certificate: cert.armored.clone(), uid: Some(uid.to_string()) };
            client.post("/api/v1/keys", &body).await
        }
        None => {
            let body = AddPerson {
                uid: uid.to_string(),
                certificate: cert.armored.clone(),
                name: name.clone(),
                email: email.clone(),
            };
            client.post("/api/v1/people", &body).await
        }
    };
    match answer {
        Ok(_) => {
            match people.iter_mut().find(|p| p.uid == uid.as_str()) {
                Some(p) => p.keys.push(cert.fingerprint.clone()),
                None => people.push(Person {
                    uid: uid.to_string(),
                    name,
                    email,
                    keys: vec![cert.fingerprint.clone()],
                    admin: false,
                    foundation_member: false,
                    created_at: 0,
                }),
            }
            ImportedKey { fingerprint, person: Some(uid.to_string()), result: "added", reason: None }
        }
        Err(e) => refused(Some(uid.to_string()), e.to_string()),
    }
}

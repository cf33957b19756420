//! People and their OpenPGP certificates: bootstrap of the first admin, registration by an
//! admin, and a person adding another key of their own. A certificate is registered to one
//! person only, and is validated (sequoia, standard policy) before anything is written.
//! Every change is an event of the foundation's stream, written in the same transaction.

use crate::app::App;
use crate::error::{AppError, AppResult, check_typed_text};
use crate::storage_keys as keys;
use crate::stream::{self, Committed};
use serde::{Deserialize, Serialize};
use serde_json::json;
use trs_core::text::Lines;
use trs_core::{Actor, Change, EventDraft, Fingerprint, Permit, Person, PersonUid, StreamId};
use trs_storage::{Condition, Item, WriteOp};

/// A certificate as stored: who it belongs to and its public armored form.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RegisteredKey {
    pub fingerprint: Fingerprint,
    pub person: PersonUid,
    pub user_ids: Vec<String>,
    pub primary_user_id: Option<String>,
    pub armored: String,
    pub registered_at: i64,
}

pub struct NewPerson {
    pub uid: PersonUid,
    pub name: Option<String>,
    pub email: Option<String>,
    pub certificate: Vec<u8>,
}

fn refused(e: trs_auth::CertError) -> AppError {
    AppError::bad_request("invalid-certificate", format!("certificate refused: {e}"))
}

fn validate(app: &App, certificate: &[u8]) -> AppResult<trs_auth::ValidatedCert> {
    trs_auth::validate_certificate(certificate, app.now_system_time()).map_err(refused)
}

fn key_item(app: &App, uid: &PersonUid, cert: &trs_auth::ValidatedCert) -> Item {
    let key = RegisteredKey {
        fingerprint: cert.fingerprint.clone(),
        person: uid.clone(),
        user_ids: cert.user_ids.clone(),
        primary_user_id: cert.primary_user_id.clone(),
        armored: cert.armored.clone(),
        registered_at: app.now(),
    };
    Item::new(keys::certificate(&cert.fingerprint), json!(key))
        .with_gsi1(keys::person_keys_index(uid, &cert.fingerprint))
}

fn person_item(person: &Person) -> Item {
    Item::new(keys::person(&person.uid), json!(person)).with_gsi1(keys::people_index(&person.uid))
}

/// Explains which of the written items already existed.
async fn explain_conflict(app: &App, uid: &PersonUid, fpr: &Fingerprint) -> AppError {
    if let Ok(Some(item)) = app.items.get(&keys::certificate(fpr)).await
        && let Ok(k) = item.parse::<RegisteredKey>()
    {
        return AppError::conflict(
            "key-already-registered",
            format!("key {fpr} is already registered to {}", k.person),
        );
    }
    if let Ok(Some(_)) = app.items.get(&keys::person(uid)).await {
        return AppError::conflict("person-exists", format!("person {uid} already exists"));
    }
    AppError::conflict("concurrent-update", "someone else changed this at the same time; retry")
}

fn new_person(app: &App, p: &NewPerson, cert: &trs_auth::ValidatedCert, admin: bool) -> AppResult<Person> {
    for (field, text) in [("name", &p.name), ("email", &p.email)] {
        if let Some(text) = text {
            check_typed_text(field, text, Lines::One)?;
        }
    }
    Ok(Person {
        uid: p.uid.clone(),
        name: p.name.clone(),
        email: p.email.clone(),
        keys: vec![cert.fingerprint.clone()],
        admin,
        foundation_member: false,
        created_at: app.now(),
    })
}

/// Registers the first admin. Refused once any admin has been bootstrapped. The event's actor
/// is the admin with the key registered (nobody signs a bootstrap: it runs on the data itself).
pub async fn bootstrap_admin(app: &App, p: NewPerson) -> AppResult<Person> {
    let cert = validate(app, &p.certificate)?;
    let person = new_person(app, &p, &cert, true)?;
    let by = Actor { uid: p.uid.clone(), key: cert.fingerprint.clone() };
    let ops = vec![
        WriteOp::Put {
            item: Item::new(keys::bootstrap_marker(), json!({"admin": p.uid, "at": app.now()})),
            condition: Condition::Absent,
        },
        WriteOp::Put { item: person_item(&person), condition: Condition::Absent },
        WriteOp::Put { item: key_item(app, &p.uid, &cert), condition: Condition::Absent },
    ];
    match stream::commit_with_event(app, &StreamId::Foundation, person_added(&by, &p.uid, &cert), ops).await? {
        Committed::Done(_) => Ok(person),
        Committed::Conflict { index: 0 } => {
            Err(AppError::conflict("already-bootstrapped", "an admin already exists; add people with `trs person add`"))
        }
        Committed::Conflict { .. } => Err(explain_conflict(app, &p.uid, &cert.fingerprint).await),
    }
}

fn person_added(by: &Actor, uid: &PersonUid, cert: &trs_auth::ValidatedCert) -> EventDraft {
    EventDraft::new(Some(by.clone()), Change::PersonAdded { uid: uid.clone(), fingerprint: cert.fingerprint.clone() })
}

fn key_added(by: &Actor, uid: &PersonUid, fingerprint: &Fingerprint, updated: bool) -> EventDraft {
    EventDraft::new(Some(by.clone()), Change::KeyAdded { uid: uid.clone(), fingerprint: fingerprint.clone(), updated })
}

/// Registers a person with their first certificate (admin only).
pub async fn add_person(app: &App, _permit: &Permit, by: &Actor, p: NewPerson) -> AppResult<Person> {
    let cert = validate(app, &p.certificate)?;
    let person = new_person(app, &p, &cert, false)?;
    let ops = vec![
        WriteOp::Put { item: person_item(&person), condition: Condition::Absent },
        WriteOp::Put { item: key_item(app, &p.uid, &cert), condition: Condition::Absent },
    ];
    match stream::commit_with_event(app, &StreamId::Foundation, person_added(by, &p.uid, &cert), ops).await? {
        Committed::Done(_) => Ok(person),
        Committed::Conflict { .. } => Err(explain_conflict(app, &p.uid, &cert.fingerprint).await),
    }
}

/// Adds another certificate to a person (their own, or any person's for a key manager).
///
/// Sending a certificate that is already registered to the same person updates it (a renewed
/// expiry, a revocation): the update is merged into the stored copy, never replacing it.
pub async fn add_key(
    app: &App,
    permit: &Permit,
    by: &Actor,
    uid: &PersonUid,
    certificate: &[u8],
) -> AppResult<RegisteredKey> {
    let validated = trs_auth::validate_certificate(certificate, app.now_system_time());
    let fingerprint = match &validated {
        Ok(c) => Some(&c.fingerprint),
        Err(e) => e.fingerprint(),
    };
    if let Some(fpr) = fingerprint
        && let Some(item) = app.items.get(&keys::certificate(fpr)).await?
    {
        return update_key(app, permit, by, uid, item, certificate).await;
    }
    let cert = validated.map_err(refused)?;
    for _attempt in 0..5 {
        let item = app
            .items
            .get(&keys::person(uid))
            .await?
            .ok_or_else(|| AppError::NotFound(format!("person {uid} not found")))?;
        let mut person: Person = item.parse()?;
        person.keys.push(cert.fingerprint.clone());
        let key = key_item(app, uid, &cert);
        let registered: RegisteredKey = key.parse()?;
        let ops = vec![
            WriteOp::Put { item: key, condition: Condition::Absent },
            WriteOp::Put { item: item.updated(json!(person)), condition: Condition::VersionIs(item.version) },
        ];
        let draft = key_added(by, uid, &cert.fingerprint, false);
        match stream::commit_with_event(app, &StreamId::Foundation, draft, ops).await? {
            Committed::Done(_) => return Ok(registered),
            Committed::Conflict { index: 1 } => continue,
            Committed::Conflict { .. } => return Err(explain_conflict(app, uid, &cert.fingerprint).await),
        }
    }
    Err(AppError::conflict("concurrent-update", "the person was changed concurrently too often; retry"))
}

async fn update_key(
    app: &App,
    _permit: &Permit,
    by: &Actor,
    uid: &PersonUid,
    item: Item,
    certificate: &[u8],
) -> AppResult<RegisteredKey> {
    let mut key: RegisteredKey = item.parse()?;
    if key.person != *uid {
        return Err(AppError::conflict(
            "key-already-registered",
            format!("key {} is already registered to {}", key.fingerprint, key.person),
        ));
    }
    key.armored = trs_auth::merge_certificate_update(&key.armored, certificate)
        .map_err(|e| AppError::bad_request("invalid-certificate", format!("certificate update refused: {e}")))?;
    let ops = vec![WriteOp::Put { item: item.updated(json!(key)), condition: Condition::VersionIs(item.version) }];
    stream::commit_or_conflict(app, &StreamId::Foundation, key_added(by, uid, &key.fingerprint, true), ops).await?;
    Ok(key)
}

pub async fn get_person(app: &App, uid: &PersonUid) -> AppResult<Option<Person>> {
    match app.items.get(&keys::person(uid)).await? {
        Some(item) => Ok(Some(item.parse()?)),
        None => Ok(None),
    }
}

pub async fn get_key(app: &App, fpr: &Fingerprint) -> AppResult<Option<RegisteredKey>> {
    match app.items.get(&keys::certificate(fpr)).await? {
        Some(item) => Ok(Some(item.parse()?)),
        None => Ok(None),
    }
}

/// Every certificate registered to a person.
pub async fn keys_of(app: &App, uid: &PersonUid) -> AppResult<Vec<RegisteredKey>> {
    app.all_in_gsi1(&keys::person_keys_partition(uid)).await
}

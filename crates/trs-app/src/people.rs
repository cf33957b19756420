//! People and their OpenPGP certificates: bootstrap of the first admin, registration by an
//! admin, a person adding, renewing or removing a key of their own, listing and editing
//! people, and granting and revoking admin. A certificate is registered to one person only,
//! and is validated (sequoia, standard policy) before anything is written. Every change is an
//! event of the foundation's stream, written in the same transaction.

use crate::app::App;
use crate::authenticate::Caller;
use crate::error::{AppError, AppResult, check_typed_text};
use crate::retry::{self, Attempt};
use crate::storage_keys as keys;
use crate::stream::{self, Committed, Update};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeSet;
use trs_core::text::Lines;
use trs_core::{
    Action, Actor, Change, EventDraft, Fingerprint, Permit, Person, PersonUid, ProjectName, ProjectRole, StreamId,
    authorize,
};
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
    AppError::bad_request(cert_code(&e), format!("certificate refused: {e}"))
}

/// The size caps have codes of their own (a client can tell "too big" from "not a key");
/// every other refusal is `invalid-certificate`, its message saying why.
fn cert_code(e: &trs_auth::CertError) -> &'static str {
    match e {
        trs_auth::CertError::TooLarge { .. } | trs_auth::CertError::TooManyUserIds { .. } => e.code(),
        _ => "invalid-certificate",
    }
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
        Committed::Conflict { key, .. } if key == keys::bootstrap_marker() => {
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
    let cert = &validated.map_err(refused)?;
    retry::on_conflict(retry::ATTEMPTS, retry::too_busy(format!("person {uid}")), || async move {
        let item = app
            .items
            .get(&keys::person(uid))
            .await?
            .ok_or_else(|| AppError::NotFound(format!("person {uid} not found")))?;
        let mut person: Person = item.parse()?;
        person.keys.push(cert.fingerprint.clone());
        let key = key_item(app, uid, cert);
        let registered: RegisteredKey = key.parse()?;
        let ops = vec![
            WriteOp::Put { item: key, condition: Condition::Absent },
            WriteOp::Put { item: item.updated(json!(person)), condition: Condition::VersionIs(item.version) },
        ];
        let draft = key_added(by, uid, &cert.fingerprint, false);
        match stream::commit_with_event(app, &StreamId::Foundation, draft, ops).await? {
            Committed::Done(_) => Ok(Attempt::Done(registered)),
            // The person changed meanwhile (another key added): read again.
            Committed::Conflict { key, .. } if key == keys::person(uid) => Ok(Attempt::Conflicted),
            Committed::Conflict { .. } => Err(explain_conflict(app, uid, &cert.fingerprint).await),
        }
    })
    .await
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
        .map_err(|e| AppError::bad_request(cert_code(&e), format!("certificate update refused: {e}")))?;
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

fn person_missing(uid: &PersonUid) -> impl Fn() -> AppError + '_ {
    move || AppError::NotFound(format!("person {uid} not found"))
}

/// Everyone registered, by uid.
pub async fn list_people(app: &App) -> AppResult<Vec<Person>> {
    let mut all: Vec<Person> = app.all_in_gsi1(keys::PEOPLE_INDEX).await?;
    all.sort_by(|a, b| a.uid.cmp(&b.uid));
    Ok(all)
}

/// A registered key as `trs person show` lists it (without the certificate itself: KEYS and
/// `trs keys export` serve that).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeySummary {
    pub fingerprint: Fingerprint,
    pub user_ids: Vec<String>,
    pub registered_at: i64,
    /// What the holder should fix (a SHA-1 self-signed key: refresh it), evaluated now.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// The roles a person holds in one project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectRoles {
    pub project: ProjectName,
    pub roles: Vec<ProjectRole>,
}

/// What `trs person show` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonView {
    #[serde(flatten)]
    pub person: Person,
    #[serde(rename = "registered_keys")]
    pub key_details: Vec<KeySummary>,
    pub projects: Vec<ProjectRoles>,
}

pub async fn show_person(app: &App, uid: &PersonUid) -> AppResult<PersonView> {
    let person = get_person(app, uid).await?.ok_or_else(person_missing(uid))?;
    let key_details = keys_of(app, uid)
        .await?
        .into_iter()
        .map(|k| KeySummary {
            warnings: trs_auth::certificate_warnings(&k.armored, app.now_system_time()),
            fingerprint: k.fingerprint,
            user_ids: k.user_ids,
            registered_at: k.registered_at,
        })
        .collect();
    let projects = crate::projects::projects_of(app, uid)
        .await?
        .into_iter()
        .map(|p| ProjectRoles {
            roles: ProjectRole::ALL.into_iter().filter(|r| p.roster(*r).contains(uid)).collect(),
            project: p.name,
        })
        .collect();
    Ok(PersonView { person, key_details, projects })
}

/// What `trs person edit` changes: only the fields given; an empty one clears it. Requests
/// carry it as trs_api's `EditPerson` (`api_views` converts).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonEdit {
    pub name: Option<String>,
    pub email: Option<String>,
}

/// Longest email address (RFC 5321's path limit).
const MAX_EMAIL: usize = 254;

/// The checks of a person edit before anything is read or written (also run by the fuzz targets).
pub fn check_person_edit(edit: &PersonEdit) -> AppResult<()> {
    if *edit == PersonEdit::default() {
        return Err(AppError::bad_request("nothing-to-change", "give --name or --email"));
    }
    if let Some(n) = &edit.name {
        crate::projects::check_line("name", n, crate::projects::MAX_NAME)?;
    }
    if let Some(e) = edit.email.as_deref().filter(|e| !e.is_empty()) {
        crate::projects::check_line("email", e, MAX_EMAIL)?;
        let plausible = matches!(e.split_once('@'), Some((local, domain))
            if !local.is_empty() && domain.contains('.') && !domain.contains('@') && !e.contains(char::is_whitespace));
        if !plausible {
            return Err(AppError::bad_request("invalid-email", format!("{e:?} is not an email address")));
        }
    }
    Ok(())
}

/// Changes a person's name or email: the person themselves, or an admin.
pub async fn edit_person(app: &App, caller: &Caller, uid: &PersonUid, edit: PersonEdit) -> AppResult<Person> {
    check_person_edit(&edit)?;
    if caller.person.uid != *uid {
        authorize(&caller.person, None, Action::Administer)?;
    }
    stream::update_with_event(app, &StreamId::Foundation, &keys::person(uid), person_missing(uid), |p: &mut Person| {
        if let Some(n) = &edit.name {
            p.name = Some(n.clone()).filter(|n| !n.is_empty());
        }
        if let Some(e) = &edit.email {
            p.email = Some(e.clone()).filter(|e| !e.is_empty());
        }
        let change = Change::PersonEdited { uid: uid.clone(), name: edit.name.clone(), email: edit.email.clone() };
        Ok(Update { draft: EventDraft::new(Some(caller.actor()), change), also: Vec::new() })
    })
    .await
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Admins {
    admins: BTreeSet<PersonUid>,
}

/// The admins as their registry item records them (built from the people when no grant or
/// revoke has written it yet), and that item, if it exists.
async fn admins(app: &App) -> AppResult<(BTreeSet<PersonUid>, Option<Item>)> {
    match app.items.get(&keys::admins()).await? {
        Some(item) => Ok((item.parse::<Admins>()?.admins, Some(item))),
        None => {
            let all = list_people(app).await?;
            Ok((all.into_iter().filter(|p| p.admin).map(|p| p.uid).collect(), None))
        }
    }
}

/// Grants (`admin`) or revokes admin. Every grant and revoke writes the admins' registry item
/// conditionally with the person, so two admins revoking each other at the same time cannot
/// both succeed: the loser re-reads and finds itself the last admin.
async fn set_admin(app: &App, caller: &Caller, uid: &PersonUid, admin: bool) -> AppResult<Person> {
    authorize(&caller.person, None, Action::Administer)?;
    retry::on_conflict(retry::ATTEMPTS, retry::too_busy(uid), || async move {
        let item = app.items.get(&keys::person(uid)).await?.ok_or_else(person_missing(uid))?;
        let mut person: Person = item.parse()?;
        match (admin, person.admin) {
            (true, true) => return Err(AppError::conflict("already-admin", format!("{uid} is already an admin"))),
            (false, false) => return Err(AppError::conflict("not-admin", format!("{uid} is not an admin"))),
            _ => {}
        }
        let (mut all, registry) = admins(app).await?;
        if admin {
            all.insert(uid.clone());
        } else {
            all.remove(uid);
        }
        if all.is_empty() {
            return Err(AppError::conflict(
                "last-admin",
                format!("{uid} is the last admin; grant admin to someone else first (`trs admin grant UID`)"),
            ));
        }
        person.admin = admin;
        let body = json!(Admins { admins: all });
        let registry_op = match registry {
            Some(r) => WriteOp::Put { item: r.updated(body), condition: Condition::VersionIs(r.version) },
            None => WriteOp::Put { item: Item::new(keys::admins(), body), condition: Condition::Absent },
        };
        let ops = vec![
            WriteOp::Put { item: item.updated(json!(person)), condition: Condition::VersionIs(item.version) },
            registry_op,
        ];
        let change =
            if admin { Change::AdminGranted { uid: uid.clone() } } else { Change::AdminRevoked { uid: uid.clone() } };
        match stream::commit_with_event(app, &StreamId::Foundation, EventDraft::new(Some(caller.actor()), change), ops)
            .await?
        {
            Committed::Done(_) => Ok(Attempt::Done(person)),
            Committed::Conflict { .. } => Ok(Attempt::Conflicted),
        }
    })
    .await
}

/// Makes a registered person an admin (admins only).
pub async fn grant_admin(app: &App, caller: &Caller, uid: &PersonUid) -> AppResult<Person> {
    set_admin(app, caller, uid, true).await
}

/// Takes admin from a person (admins only, themselves included), refused for the last admin:
/// nobody could register people or create projects again.
pub async fn revoke_admin(app: &App, caller: &Caller, uid: &PersonUid) -> AppResult<Person> {
    set_admin(app, caller, uid, false).await
}

/// Removes a registered key: its owner, or an admin. Refused while any revision's
/// verification names the key as a signer (the release would point at a key nobody can
/// fetch; send a revocation with `trs keys add` to retire such a key), and for a person's
/// last key (they could never sign a call again).
pub async fn remove_key(app: &App, caller: &Caller, fpr: &Fingerprint) -> AppResult<RegisteredKey> {
    retry::on_conflict(retry::ATTEMPTS, retry::too_busy(format!("key {fpr}")), || async move {
        let key_item = app
            .items
            .get(&keys::certificate(fpr))
            .await?
            .ok_or_else(|| AppError::NotFound(format!("key {fpr} not found")))?;
        let key: RegisteredKey = key_item.parse()?;
        if key.person != caller.person.uid {
            authorize(&caller.person, None, Action::ManageKeys)?;
        }
        let mut query = keys::signed_by(fpr);
        query.limit = 1;
        if let Some(link) = app.items.query(query).await?.items.first() {
            let what = link.body["release"].as_str().unwrap_or("a release").to_string();
            return Err(AppError::conflict(
                "key-in-use",
                format!(
                    "key {fpr} signed {what} (revision {}); a key that signed a release stays registered: \
                     retire it by sending its revocation with `trs keys add`",
                    link.body["revision"]
                ),
            ));
        }
        let person_item = app.items.get(&keys::person(&key.person)).await?.ok_or_else(person_missing(&key.person))?;
        let mut person: Person = person_item.parse()?;
        person.keys.retain(|k| k != fpr);
        if person.keys.is_empty() {
            return Err(AppError::conflict(
                "last-key",
                format!("{fpr} is the only key of {}; add another key first (`trs keys add`)", key.person),
            ));
        }
        let ops = vec![
            // Conditioned on the version read: a verification that links the key to a
            // revision bumps it, so a removal racing one is retried and then sees the link.
            WriteOp::Delete { key: keys::certificate(fpr), condition: Condition::VersionIs(key_item.version) },
            WriteOp::Put {
                item: person_item.updated(json!(person)),
                condition: Condition::VersionIs(person_item.version),
            },
        ];
        let draft = EventDraft::new(
            Some(caller.actor()),
            Change::KeyRemoved { uid: key.person.clone(), fingerprint: fpr.clone() },
        );
        match stream::commit_with_event(app, &StreamId::Foundation, draft, ops).await? {
            Committed::Done(_) => Ok(Attempt::Done(key)),
            Committed::Conflict { .. } => Ok(Attempt::Conflicted),
        }
    })
    .await
}

/// Records, for every key a verification report names as signer, that it signed this
/// revision (what [`remove_key`] looks for). Each key's item is rewritten with its version
/// bumped in the same transaction, so a removal that read the key before cannot succeed
/// afterwards. A key removed while the revision was verified makes the verification stale: an
/// internal error, so the task runs again (and finds the key gone).
pub(crate) async fn link_signers(
    app: &App,
    release: &trs_core::ReleaseId,
    number: u32,
    signers: &BTreeSet<Fingerprint>,
) -> AppResult<()> {
    if signers.is_empty() {
        return Ok(());
    }
    // Internal, not a conflict: the verification task fails over to its next run.
    let stale = AppError::Internal(format!("signer keys of {release} changed concurrently too often; verifying again"));
    retry::on_conflict(retry::ATTEMPTS, stale, || async move {
        let mut ops = Vec::new();
        for fpr in signers {
            let item = app.items.get(&keys::certificate(fpr)).await?.ok_or_else(|| {
                AppError::Internal(format!(
                    "signer key {fpr} was removed while {release} was verified; verifying again"
                ))
            })?;
            let link = json!({"release": release.to_string(), "revision": number});
            ops.push(WriteOp::Put {
                item: item.updated(item.body.clone()),
                condition: Condition::VersionIs(item.version),
            });
            ops.push(WriteOp::Put {
                item: Item::new(keys::key_signed(fpr, release, number), link),
                condition: Condition::None,
            });
        }
        match app.items.transact(ops).await {
            Ok(()) => Ok(Attempt::Done(())),
            Err(e) if e.is_conflict() => Ok(Attempt::Conflicted),
            Err(e) => Err(e.into()),
        }
    })
    .await
}

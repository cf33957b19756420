//! Authentication of signed API calls (scheme: docs/signed-requests.md). The cryptographic
//! check is trs-auth's; this module adds what needs storage: the key must be registered to a
//! person, and each nonce is accepted once, remembered in the item store so that many server
//! instances share the memory. Cheap checks come first (audience, request line, timestamp:
//! no store read), the certificate is parsed once per stored text (`App::certs`), and only
//! then is the signature checked.

use crate::app::App;
use crate::error::{AppError, AppResult};
use crate::{people, storage_keys as keys};
use serde_json::json;
use trs_core::{Fingerprint, Person};
use trs_storage::{Condition, Item};

/// How long a nonce is remembered: longer than the whole timestamp window on both sides.
const NONCE_TTL_SECS: i64 = 2 * 300 + 60;

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub person: Person,
    pub key: Fingerprint,
}

impl Caller {
    /// Who the release stream records for changes this caller makes.
    pub fn actor(&self) -> trs_core::Actor {
        trs_core::Actor { uid: self.person.uid.clone(), key: self.key.clone() }
    }
}

/// The parts of an HTTP request that the signature covers.
pub struct SignedRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub body: &'a [u8],
}

fn unauthenticated(e: trs_auth::AuthError) -> AppError {
    AppError::Unauthenticated { code: e.code(), message: e.to_string() }
}

pub async fn authenticate(app: &App, headers: &trs_auth::SignedHeaders, req: SignedRequest<'_>) -> AppResult<Caller> {
    let audience = app.audience.as_ref().ok_or_else(|| {
        AppError::Internal("no audience configured (trs serve --audience, TRS_AUDIENCE or TRS_API_URL)".into())
    })?;
    let parts = trs_auth::RequestParts { method: req.method, path: req.path, query: req.query, body: req.body };
    let now = app.now();
    trs_auth::check_cheap(headers, audience, parts, now).map_err(unauthenticated)?;
    let fpr = headers.key.clone();
    let key = people::get_key(app, &fpr)
        .await?
        .ok_or_else(|| unauthenticated(trs_auth::AuthError::UnknownKey(fpr.to_string())))?;
    let cert = app.certs.get(&fpr, &key.armored).map_err(unauthenticated)?;
    trs_auth::verify_request(headers, audience, parts, now, &cert).map_err(unauthenticated)?;
    let person = people::get_person(app, &key.person)
        .await?
        .filter(|p| p.keys.contains(&fpr))
        .ok_or_else(|| unauthenticated(trs_auth::AuthError::UnknownKey(fpr.to_string())))?;
    let nonce = Item::new(keys::nonce(&fpr, &headers.nonce), json!({"at": headers.timestamp}))
        .with_expiry(app.now() + NONCE_TTL_SECS);
    match app.items.put(nonce, Condition::Absent).await {
        Ok(()) => Ok(Caller { person, key: fpr }),
        Err(e) if e.is_conflict() => Err(unauthenticated(trs_auth::AuthError::ReplayedNonce)),
        Err(e) => Err(e.into()),
    }
}

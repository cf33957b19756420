//! A ready world for tests of use cases and handlers: embedded stores in a temporary folder,
//! an admin, a release manager and a committer with sequoia-made keys, and project `foo`.
//! The crypto backend is chosen by the test binary (a dev-dependency), not here.

use crate::{App, people, projects};
use openpgp::serialize::SerializeInto;
use sequoia_openpgp as openpgp;
use std::sync::Arc;
use trs_core::{Action, Person, ReleaseId, authorize};
use trs_storage::embedded::EmbeddedBlobStore;

pub struct Actor {
    pub person: Person,
    /// The certificate with its secret key, for signing requests.
    pub tsk: openpgp::Cert,
}

impl Actor {
    pub fn signer(&self) -> trs_auth::KeyFileSigner {
        trs_auth::KeyFileSigner::from_cert(&self.tsk, None).expect("signer")
    }

    /// The authenticated caller this actor is when signing with their (first) key.
    pub fn caller(&self) -> crate::authenticate::Caller {
        crate::authenticate::Caller { person: self.person.clone(), key: self.person.keys[0].clone() }
    }
}

pub struct World {
    pub app: App,
    pub blobs: Arc<EmbeddedBlobStore>,
    pub admin: Actor,
    pub rm: Actor,
    pub committer: Actor,
    _dir: tempfile::TempDir,
}

pub fn new_cert(user_id: &str) -> openpgp::Cert {
    openpgp::cert::CertBuilder::general_purpose(Some(user_id)).generate().expect("generate key").0
}

pub fn armored_public(cert: &openpgp::Cert) -> Vec<u8> {
    cert.armored().to_vec().expect("armor")
}

/// The main line release `foo 1.0.0`.
pub fn release() -> ReleaseId {
    ReleaseId { project: "foo".parse().unwrap(), product: None, version: "1.0.0".parse().unwrap() }
}

pub async fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let (items, blobs) = trs_storage::embedded::open_data_dir(dir.path(), "http://127.0.0.1:1".into()).unwrap();
    let blobs = Arc::new(blobs);
    let app = App::new(Arc::new(items), blobs.clone());
    let admin_tsk = new_cert("Ada <ada@example.org>");
    let admin = people::bootstrap_admin(
        &app,
        people::NewPerson {
            uid: "ada".parse().unwrap(),
            name: None,
            email: None,
            certificate: armored_public(&admin_tsk),
        },
    )
    .await
    .unwrap();
    let permit = authorize(&admin, None, Action::Administer).unwrap();
    let add = async |uid: &str| {
        let tsk = new_cert(&format!("{uid} <{uid}@example.org>"));
        let person = people::add_person(
            &app,
            &permit,
            people::NewPerson { uid: uid.parse().unwrap(), name: None, email: None, certificate: armored_public(&tsk) },
        )
        .await
        .unwrap();
        Actor { person, tsk }
    };
    let rm = add("rita").await;
    let committer = add("carl").await;
    projects::create_project(
        &app,
        &permit,
        projects::NewProject {
            name: "foo".parse().unwrap(),
            members: ["ada".parse().unwrap()].into(),
            committers: ["carl".parse().unwrap()].into(),
            release_managers: ["rita".parse().unwrap()].into(),
            products: Default::default(),
        },
    )
    .await
    .unwrap();
    World { app, blobs, admin: Actor { person: admin, tsk: admin_tsk }, rm, committer, _dir: dir }
}

/// The headers of a signed call by `actor` (scheme: docs/signed-requests.md).
pub fn signed_headers(actor: &Actor, method: &str, path: &str, body: &[u8]) -> Vec<(&'static str, String)> {
    let now = crate::Clock::now(&crate::SystemClock);
    trs_auth::sign_request(&actor.signer(), method, path, None, body, now).expect("sign").to_pairs()
}

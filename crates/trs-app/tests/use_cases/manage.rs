//! Use-case tests of managing a project after day one: products (declared before their
//! releases can be uploaded, and then public at their own paths), rosters, metadata, people,
//! admins and key removal. Embedded stores in a temporary folder, sequoia-made keys.

use sha2::Digest;
use trs_app::authenticate::Caller;
use trs_app::projects::{self, MembersChange, ProjectEdit};
use trs_app::test_support::{
    Actor, World, armored_public, commit_files, force_current_for_tests, new_cert, upload_files, world,
};
use trs_app::upload::{DeclaredFile, StartUpload, start_upload};
use trs_app::{AppError, people, public, stream};
use trs_core::{Change, Fingerprint, ProjectName, ProjectRole, ReleaseId, StreamId};

fn foo() -> ProjectName {
    "foo".parse().unwrap()
}

fn product_release(product: &str, version: &str) -> ReleaseId {
    ReleaseId { project: foo(), product: Some(product.parse().unwrap()), version: version.parse().unwrap() }
}

fn code<T: std::fmt::Debug>(r: Result<T, AppError>) -> (u16, &'static str, String) {
    let e = r.expect_err("expected an error");
    (e.status(), e.code(), e.to_string())
}

fn one_file(name: &str) -> StartUpload {
    StartUpload {
        product: None,
        files: vec![DeclaredFile { path: name.into(), size: 3 }],
        force: false,
        base: None,
        ..Default::default()
    }
}

async fn project_events(w: &World) -> Vec<Change> {
    stream::all_events(&w.app, &StreamId::Project(foo())).await.unwrap().into_iter().map(|e| e.change).collect()
}

#[tokio::test]
async fn an_undeclared_product_refuses_uploads_and_a_declared_ones_files_are_public_at_its_paths() {
    let w = world().await;
    let conn = product_release("conn", "1.0.0");
    let req = StartUpload { product: conn.product.clone(), ..one_file("conn-1.0.0.tar.gz") };
    let (status, c, message) = code(start_upload(&w.app, &w.rm.caller(), conn.clone(), req.clone()).await);
    assert_eq!((status, c), (400, "unknown-product"), "{message}");
    assert!(message.contains("trs project products foo --add conn"), "the message says how: {message}");

    // A committer may not declare products ("manage policy / metadata"); the release manager may.
    let refused = projects::add_product(&w.app, &w.committer.caller(), &foo(), "conn".parse().unwrap(), None).await;
    assert_eq!(code(refused).1, "forbidden-role");
    let about = Some("the connector".to_string());
    let project = projects::add_product(&w.app, &w.rm.caller(), &foo(), "conn".parse().unwrap(), about).await.unwrap();
    assert_eq!(project.product_descriptions[&"conn".parse().unwrap()], "the connector");
    let again = projects::add_product(&w.app, &w.rm.caller(), &foo(), "conn".parse().unwrap(), None).await;
    assert_eq!(code(again).1, "product-exists");
    assert!(project_events(&w).await.contains(&Change::ProductAdded {
        product: "conn".parse().unwrap(),
        description: Some("the connector".into())
    }));

    // Now its release uploads, and once current its files are served at
    // /current/foo/conn/1.0.0/FILE and /current/foo/conn/latest/FILE.
    upload_files(&w.app, &w.blobs, &w.rm.caller(), &conn, &[("conn-1.0.0.tar.gz", b"abc".as_slice())]).await;
    force_current_for_tests(&w.app, &conn, &w.rm.caller()).await;
    let by_version = public::resolve(&w.app, "current", "foo/conn/1.0.0/conn-1.0.0.tar.gz").await.unwrap();
    assert_eq!(
        (by_version.release.clone(), by_version.object.as_str()),
        (conn.clone(), "current/foo/conn/1.0.0/conn-1.0.0.tar.gz")
    );
    assert!(w.app.blobs.head(&by_version.object).await.unwrap().is_some(), "the promoted object is there");
    let latest = public::resolve(&w.app, "current", "foo/conn/latest/conn-1.0.0.tar.gz").await.unwrap();
    assert_eq!((latest.object, latest.via_latest), (by_version.object, true));
}

#[tokio::test]
async fn a_product_and_a_main_line_version_never_share_a_name() {
    let w = world().await;
    // The main line has a release `tools`: a product of that name would share its paths.
    let tools_version = ReleaseId { project: foo(), product: None, version: "tools".parse().unwrap() };
    commit_files(&w.app, &w.blobs, &w.rm.caller(), &tools_version, &[("x.txt", b"abc".as_slice())]).await;
    let clash = projects::add_product(&w.app, &w.rm.caller(), &foo(), "tools".parse().unwrap(), None).await;
    assert_eq!(code(clash).1, "product-name-taken");
    // And the other way round: a declared product's name is not a main-line version.
    projects::add_product(&w.app, &w.rm.caller(), &foo(), "conn".parse().unwrap(), None).await.unwrap();
    let main_conn = ReleaseId { project: foo(), product: None, version: "conn".parse().unwrap() };
    let (status, c, _) = code(start_upload(&w.app, &w.rm.caller(), main_conn, one_file("x.txt")).await);
    assert_eq!((status, c), (400, "version-is-a-product"));
}

#[tokio::test]
async fn rosters_change_by_the_committee_with_their_event_and_specific_refusals() {
    let w = world().await;
    let mona = w.add_person("mona").await;
    let add =
        |uids: &[&str]| MembersChange { add: uids.iter().map(|u| u.parse().unwrap()).collect(), ..Default::default() };
    let remove = |uids: &[&str]| MembersChange {
        remove: uids.iter().map(|u| u.parse().unwrap()).collect(),
        ..Default::default()
    };

    // A release manager may not make anyone (themselves included) a binding voter.
    let refused =
        projects::change_members(&w.app, &w.rm.caller(), &foo(), ProjectRole::Committee, add(&["rita"])).await;
    assert_eq!(code(refused).1, "forbidden-role");
    let p = projects::change_members(&w.app, &w.admin.caller(), &foo(), ProjectRole::Committee, add(&["mona"]))
        .await
        .unwrap();
    assert!(p.members.contains(&mona.person.uid));
    // Now a committee member, mona manages the roster too.
    let p = projects::change_members(&w.app, &mona.caller(), &foo(), ProjectRole::ReleaseManager, add(&["carl"]))
        .await
        .unwrap();
    assert_eq!(p.release_managers.len(), 2);

    let ghost = projects::change_members(&w.app, &mona.caller(), &foo(), ProjectRole::Committer, add(&["ghost"])).await;
    assert_eq!(code(ghost).1, "unknown-person");
    let twice = projects::change_members(&w.app, &mona.caller(), &foo(), ProjectRole::Committee, add(&["ada"])).await;
    assert_eq!(code(twice).1, "already-in-role");
    let absent =
        projects::change_members(&w.app, &mona.caller(), &foo(), ProjectRole::Committer, remove(&["rita"])).await;
    assert_eq!(code(absent).1, "not-in-role");
    let nothing =
        projects::change_members(&w.app, &mona.caller(), &foo(), ProjectRole::Committer, MembersChange::default())
            .await;
    assert_eq!(code(nothing).1, "nothing-to-change");
    let empty =
        projects::change_members(&w.app, &mona.caller(), &foo(), ProjectRole::Committee, remove(&["ada", "mona"]))
            .await;
    assert_eq!(code(empty).1, "no-members", "a project keeps a committee");

    let after = projects::get_project(&w.app, &foo()).await.unwrap();
    assert_eq!(after.members.len(), 2, "refusals changed nothing");
    let changes: Vec<Change> =
        project_events(&w).await.into_iter().filter(|c| matches!(c, Change::MembersChanged { .. })).collect();
    assert_eq!(
        changes,
        vec![
            Change::MembersChanged {
                role: ProjectRole::Committee,
                added: vec!["mona".parse().unwrap()],
                removed: vec![]
            },
            Change::MembersChanged {
                role: ProjectRole::ReleaseManager,
                added: vec!["carl".parse().unwrap()],
                removed: vec![]
            },
        ]
    );
    // The KEYS file follows the roster.
    let keys = projects::show_project(&w.app, &foo()).await.unwrap().keys;
    assert!(keys.iter().any(|k| k.person == mona.person.uid), "{keys:?}");
}

#[tokio::test]
async fn a_project_is_listed_shown_and_edited() {
    let w = world().await;
    let edit = ProjectEdit {
        display_name: Some("Apache Foo".into()),
        homepage: Some("https://foo.example.org/".into()),
        ..Default::default()
    };
    let refused = projects::edit_project(&w.app, &w.committer.caller(), &foo(), edit.clone()).await;
    assert_eq!(code(refused).1, "forbidden-role");
    projects::edit_project(&w.app, &w.rm.caller(), &foo(), edit).await.unwrap();
    for (bad, expected) in [
        (ProjectEdit { homepage: Some("javascript:alert(1)".into()), ..Default::default() }, "invalid-homepage"),
        (ProjectEdit { homepage: Some("not a url".into()), ..Default::default() }, "invalid-homepage"),
        (ProjectEdit { description: Some("two\nlines".into()), ..Default::default() }, "invalid-text"),
        (ProjectEdit { display_name: Some("x".repeat(201)), ..Default::default() }, "invalid-text"),
        (ProjectEdit::default(), "nothing-to-change"),
    ] {
        assert_eq!(
            code(projects::edit_project(&w.app, &w.rm.caller(), &foo(), bad.clone()).await).1,
            expected,
            "{bad:?}"
        );
    }
    // An empty value clears a field.
    let cleared =
        ProjectEdit { homepage: Some(String::new()), description: Some("Tools".into()), ..Default::default() };
    projects::edit_project(&w.app, &w.rm.caller(), &foo(), cleared).await.unwrap();

    let view = projects::show_project(&w.app, &foo()).await.unwrap();
    assert_eq!(view.project.display_name.as_deref(), Some("Apache Foo"));
    assert_eq!((view.project.homepage.as_deref(), view.project.description.as_deref()), (None, Some("Tools")));
    let mut people: Vec<&str> = view.keys.iter().map(|k| k.person.as_str()).collect();
    people.sort();
    assert_eq!(people, ["ada", "carl", "rita"], "KEYS fingerprints of every signer");
    let list = projects::list_projects(&w.app).await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!((list[0].name.as_str(), list[0].display_name.as_deref()), ("foo", Some("Apache Foo")));
}

#[tokio::test]
async fn people_are_listed_shown_and_edit_themselves_or_by_an_admin() {
    let w = world().await;
    let everyone: Vec<String> = people::list_people(&w.app).await.unwrap().iter().map(|p| p.uid.to_string()).collect();
    assert_eq!(everyone, ["ada", "carl", "rita"]);
    let rita = people::show_person(&w.app, &w.rm.person.uid).await.unwrap();
    assert_eq!(rita.projects.len(), 1);
    assert_eq!(rita.projects[0].roles, vec![ProjectRole::ReleaseManager]);
    assert_eq!(rita.key_details[0].fingerprint, w.rm.person.keys[0]);

    let edit = people::PersonEdit { name: Some("Rita R. Manager".into()), email: Some("rita@apache.example".into()) };
    let refused = people::edit_person(&w.app, &w.committer.caller(), &w.rm.person.uid, edit.clone()).await;
    assert_eq!(code(refused).1, "forbidden-role");
    let p = people::edit_person(&w.app, &w.rm.caller(), &w.rm.person.uid, edit).await.unwrap();
    assert_eq!(p.email.as_deref(), Some("rita@apache.example"));
    let by_admin = people::PersonEdit { email: Some(String::new()), ..Default::default() };
    let p = people::edit_person(&w.app, &w.admin.caller(), &w.rm.person.uid, by_admin).await.unwrap();
    assert_eq!((p.name.as_deref(), p.email), (Some("Rita R. Manager"), None));
    let bad = people::PersonEdit { email: Some("rita at apache".into()), ..Default::default() };
    assert_eq!(code(people::edit_person(&w.app, &w.rm.caller(), &w.rm.person.uid, bad).await).1, "invalid-email");
    let ghost = people::show_person(&w.app, &"ghost".parse().unwrap()).await;
    assert_eq!(code(ghost).0, 404);
}

#[tokio::test]
async fn at_least_one_admin_always_remains() {
    let w = world().await;
    let last = people::revoke_admin(&w.app, &w.admin.caller(), &w.admin.person.uid).await;
    let (status, c, message) = code(last);
    assert_eq!((status, c), (409, "last-admin"), "{message}");
    assert_eq!(code(people::grant_admin(&w.app, &w.rm.caller(), &w.rm.person.uid).await).1, "forbidden-role");

    people::grant_admin(&w.app, &w.admin.caller(), &w.rm.person.uid).await.unwrap();
    assert_eq!(code(people::grant_admin(&w.app, &w.admin.caller(), &w.rm.person.uid).await).1, "already-admin");
    // A refreshed caller: rita is an admin now and takes it from ada.
    let rita = Caller { person: people::get_person(&w.app, &w.rm.person.uid).await.unwrap().unwrap(), ..w.rm.caller() };
    people::revoke_admin(&w.app, &rita, &w.admin.person.uid).await.unwrap();
    assert!(!people::get_person(&w.app, &w.admin.person.uid).await.unwrap().unwrap().admin);
    assert_eq!(code(people::revoke_admin(&w.app, &rita, &w.rm.person.uid).await).1, "last-admin");

    let changes: Vec<Change> = stream::all_events(&w.app, &StreamId::Foundation)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.change)
        .filter(|c| matches!(c, Change::AdminGranted { .. } | Change::AdminRevoked { .. }))
        .collect();
    assert_eq!(
        changes,
        vec![
            Change::AdminGranted { uid: "rita".parse().unwrap() },
            Change::AdminRevoked { uid: "ada".parse().unwrap() }
        ]
    );
}

#[tokio::test]
async fn two_admins_revoking_each_other_at_once_leave_one() {
    let w = world().await;
    people::grant_admin(&w.app, &w.admin.caller(), &w.rm.person.uid).await.unwrap();
    let rita = Caller { person: people::get_person(&w.app, &w.rm.person.uid).await.unwrap().unwrap(), ..w.rm.caller() };
    let ada = w.admin.caller();
    let (a, b) = tokio::join!(
        people::revoke_admin(&w.app, &ada, &w.rm.person.uid),
        people::revoke_admin(&w.app, &rita, &w.admin.person.uid),
    );
    assert!(a.is_ok() != b.is_ok(), "exactly one revocation lands: {a:?} {b:?}");
    let admins = people::list_people(&w.app).await.unwrap().into_iter().filter(|p| p.admin).count();
    assert_eq!(admins, 1);
}

/// Registers another key of `actor`'s (as them) and returns its secret certificate.
async fn second_key(w: &World, actor: &Actor, user_id: &str) -> sequoia_openpgp::Cert {
    let tsk = new_cert(user_id);
    let permit = trs_core::roles::authorize_own_key(&actor.person);
    people::add_key(&w.app, &permit, &actor.caller().actor(), &actor.person.uid, &armored_public(&tsk)).await.unwrap();
    tsk
}

fn fingerprint(cert: &sequoia_openpgp::Cert) -> Fingerprint {
    cert.fingerprint().to_hex().parse().unwrap()
}

#[tokio::test]
async fn a_key_that_signed_a_release_cannot_be_removed_and_an_unused_one_can() {
    use trs_auth::RequestSigner;
    let w = world().await;
    let signing = second_key(&w, &w.rm, "Rita signing <rita@example.org>").await;
    let unused = second_key(&w, &w.rm, "Rita spare <rita@example.org>").await;

    // A release signed with the second key: verification names it as signer.
    let bytes = b"release bytes".as_slice();
    let signer = trs_auth::KeyFileSigner::from_cert(&signing, None).unwrap();
    let asc = signer.sign_detached(bytes).unwrap();
    let sum = format!("{}  foo-1.0.0.tar.gz\n", hex::encode(sha2::Sha512::digest(bytes)));
    let id = trs_app::test_support::release();
    let files: [(&str, &[u8]); 3] =
        [("foo-1.0.0.tar.gz", bytes), ("foo-1.0.0.tar.gz.asc", &asc), ("foo-1.0.0.tar.gz.sha512", sum.as_bytes())];
    upload_files(&w.app, &w.blobs, &w.rm.caller(), &id, &files).await;
    let status = trs_app::status::release_status(&w.app, &id).await.unwrap();
    let signers: Vec<String> = serde_json::to_value(trs_api::releases::ReleaseStatus::from(status)).unwrap()["files"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["checks"].as_array().unwrap().clone())
        .filter_map(|c| c["signer"]["fingerprint"].as_str().map(str::to_string))
        .collect();
    assert_eq!(signers, [fingerprint(&signing).to_string()], "the release names the second key");

    let (status, c, message) = code(people::remove_key(&w.app, &w.rm.caller(), &fingerprint(&signing)).await);
    assert_eq!((status, c), (409, "key-in-use"), "{message}");
    assert!(message.contains("signed foo/1.0.0 (revision 1)"), "{message}");
    assert!(people::get_key(&w.app, &fingerprint(&signing)).await.unwrap().is_some(), "still registered");

    // Someone else may not remove it; its owner may remove the unused one, with an event.
    let others = people::remove_key(&w.app, &w.committer.caller(), &fingerprint(&unused)).await;
    assert_eq!(code(others).1, "forbidden-role");
    people::remove_key(&w.app, &w.rm.caller(), &fingerprint(&unused)).await.unwrap();
    assert!(people::get_key(&w.app, &fingerprint(&unused)).await.unwrap().is_none());
    let rita = people::get_person(&w.app, &w.rm.person.uid).await.unwrap().unwrap();
    assert!(!rita.keys.contains(&fingerprint(&unused)));
    assert_eq!(people::keys_of(&w.app, &w.rm.person.uid).await.unwrap().len(), 2);
    let removed = stream::all_events(&w.app, &StreamId::Foundation).await.unwrap().pop().unwrap().change;
    assert_eq!(removed, Change::KeyRemoved { uid: w.rm.person.uid.clone(), fingerprint: fingerprint(&unused) });
    assert_eq!(code(people::remove_key(&w.app, &w.rm.caller(), &fingerprint(&unused)).await).0, 404);
}

#[tokio::test]
async fn a_persons_only_key_stays_and_an_admin_removes_anyones_unused_key() {
    let w = world().await;
    let carl_key = w.committer.person.keys[0].clone();
    let (status, c, _) = code(people::remove_key(&w.app, &w.committer.caller(), &carl_key).await);
    assert_eq!((status, c), (409, "last-key"));
    let spare = second_key(&w, &w.committer, "Carl spare <carl@example.org>").await;
    people::remove_key(&w.app, &w.admin.caller(), &fingerprint(&spare)).await.unwrap();
}

/// A second bootstrap loses on the bootstrap marker (the transaction's first step, told apart
/// by its key): `already-bootstrapped`, and nothing of the second admin is written.
#[tokio::test]
async fn a_second_bootstrap_is_refused_and_writes_nothing() {
    let w = world().await;
    let cert = new_cert("Mallory <mallory@example.org>");
    let second = people::NewPerson {
        uid: "mallory".parse().unwrap(),
        name: None,
        email: None,
        certificate: armored_public(&cert),
    };
    let (status, code_, _) = code(people::bootstrap_admin(&w.app, second).await);
    assert_eq!((status, code_), (409, "already-bootstrapped"));
    assert!(people::get_person(&w.app, &"mallory".parse().unwrap()).await.unwrap().is_none(), "no second admin");
}

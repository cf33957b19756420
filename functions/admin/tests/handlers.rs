//! The admin function's routes without a server.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt;
use trs_app::test_support::{Actor, World, armored_public, new_cert, signed_headers, world};

async fn post(w: &World, actor: &Actor, path: &str, body: Value) -> (StatusCode, Value) {
    signed(w, actor, "POST", path, body).await
}

fn cert_text(user_id: &str) -> String {
    String::from_utf8(armored_public(&new_cert(user_id))).unwrap()
}

#[tokio::test]
async fn only_admins_register_people() {
    let w = world().await;
    let body = json!({"uid": "newbie", "certificate": cert_text("N <n@example.org>")});
    let (status, err) = post(&w, &w.rm, "/api/v1/people", body.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(err["error"]["code"], "forbidden-role");
    let (status, person) = post(&w, &w.admin, "/api/v1/people", body.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{person}");
    assert_eq!(person["uid"], "newbie");
    let (status, err) = post(&w, &w.admin, "/api/v1/people", body).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(err["error"]["code"], "key-already-registered");
}

/// A person's name and address are shown on terminals and pages: no terminal control, no
/// line break (issue 13, item 15), and nobody is registered when they are refused.
#[tokio::test]
async fn a_name_or_email_with_terminal_controls_is_refused() {
    let w = world().await;
    for (field, text) in [("name", "Mallory\u{1b}[2J"), ("name", "two\nlines"), ("email", "m@example.org\u{7}")] {
        let mut body = json!({"uid": "mallory", "certificate": cert_text("M <m@example.org>")});
        body[field] = json!(text);
        let (status, err) = post(&w, &w.admin, "/api/v1/people", body).await;
        assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid-text")), "{err}");
        assert!(err["error"]["message"].as_str().unwrap().starts_with(&format!("the {field} contains")), "{err}");
    }
    let body = json!({"uid": "mallory", "name": "Zoë Ñúñez", "certificate": cert_text("M <m@example.org>")});
    let (status, person) = post(&w, &w.admin, "/api/v1/people", body).await;
    assert_eq!(status, StatusCode::CREATED, "nothing of the refusals was kept: {person}");
}

#[tokio::test]
async fn a_certificate_that_is_not_one_is_refused_with_the_reason() {
    let w = world().await;
    let (status, err) = post(&w, &w.admin, "/api/v1/people", json!({"uid": "x", "certificate": "hello"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err["error"]["code"], "invalid-certificate");
}

#[tokio::test]
async fn anyone_registered_adds_a_key_of_their_own_but_not_to_someone_else() {
    let w = world().await;
    let (status, key) =
        post(&w, &w.rm, "/api/v1/keys", json!({"certificate": cert_text("Rita 2 <r2@example.org>")})).await;
    assert_eq!(status, StatusCode::CREATED, "{key}");
    assert_eq!(key["person"], "rita");
    // A committer, and someone with no role in any project, renew and add their own keys too
    // (they were refused `forbidden-role` before).
    let (status, key) =
        post(&w, &w.committer, "/api/v1/keys", json!({"certificate": cert_text("C2 <c2@example.org>")})).await;
    assert_eq!(status, StatusCode::CREATED, "{key}");
    let loner = w.add_person("lone").await;
    let (status, key) =
        post(&w, &loner, "/api/v1/keys", json!({"certificate": cert_text("Lone 2 <l2@example.org>")})).await;
    assert_eq!((status, key["person"].as_str()), (StatusCode::CREATED, Some("lone")), "{key}");
    // Someone else's key needs "manage keys" (an admin).
    let body = json!({"certificate": cert_text("For Carl <c3@example.org>"), "uid": "carl"});
    let (status, err) = post(&w, &loner, "/api/v1/keys", body).await;
    assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden-role")));
}

#[tokio::test]
async fn projects_need_registered_members() {
    let w = world().await;
    let (status, err) = post(&w, &w.admin, "/api/v1/projects", json!({"name": "bar", "members": ["ghost"]})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(err["error"]["code"], "unknown-person");
    assert!(err["error"]["message"].as_str().unwrap().contains("ghost"));
    let (status, _) = post(&w, &w.admin, "/api/v1/projects", json!({"name": "bar", "members": ["ada"]})).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = post(&w, &w.admin, "/api/v1/projects", json!({"name": "bar", "members": ["ada"]})).await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn the_keys_file_lists_every_signer() {
    let w = world().await;
    let resp = trs_function_admin::routes()
        .with_state(w.app.clone())
        .oneshot(Request::builder().uri("/api/v1/projects/foo/KEYS").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let text = String::from_utf8(axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap().to_vec()).unwrap();
    assert_eq!(text.matches("-----BEGIN PGP PUBLIC KEY BLOCK-----").count(), 3, "{text}");
}

#[tokio::test]
async fn a_revocation_sent_as_a_key_update_stops_the_key_and_cannot_be_undone() {
    use sequoia_openpgp::types::ReasonForRevocation;
    let w = world().await;
    let tsk = w.rm.tsk.clone();
    let mut primary = tsk.primary_key().key().clone().parts_into_secret().unwrap().into_keypair().unwrap();
    let revocation = tsk.revoke(&mut primary, ReasonForRevocation::KeyCompromised, b"laptop stolen").unwrap();
    let revoked = tsk.clone().insert_packets(revocation).unwrap().0;
    let revoked_text = String::from_utf8(armored_public(&revoked)).unwrap();

    let (status, key) = post(&w, &w.rm, "/api/v1/keys", json!({"certificate": revoked_text})).await;
    assert_eq!(status, StatusCode::CREATED, "{key}");

    // The next call signed with the revoked key is refused as such.
    let (status, err) = post(&w, &w.rm, "/api/v1/keys", json!({"certificate": cert_text("R3 <r3@example.org>")})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(err["error"]["code"], "key-revoked", "{err}");

    // An old copy sent later (here by the admin) merges in and cannot strip the revocation.
    let old = String::from_utf8(armored_public(&tsk)).unwrap();
    let (status, _) = post(&w, &w.admin, "/api/v1/keys", json!({"certificate": old, "uid": "rita"})).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, err) = post(&w, &w.rm, "/api/v1/keys", json!({"certificate": cert_text("R4 <r4@example.org>")})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(err["error"]["code"], "key-revoked");
}

#[tokio::test]
async fn a_key_registered_to_someone_else_cannot_be_updated_by_another_person() {
    let w = world().await;
    let rita_cert = String::from_utf8(armored_public(&w.rm.tsk)).unwrap();
    // Ada (admin and committee member) adds Rita's certificate as her *own* key: refused.
    let (status, err) = post(&w, &w.admin, "/api/v1/keys", json!({"certificate": rita_cert})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(err["error"]["code"], "key-already-registered");
}

async fn get_json(w: &World, path: &str) -> (StatusCode, Value) {
    answer(w, Request::builder().uri(path).body(Body::empty()).unwrap()).await
}

/// The routes' answer to `req`: its status and JSON body (`null` when not JSON).
async fn answer(w: &World, req: Request<Body>) -> (StatusCode, Value) {
    let resp = trs_function_admin::routes().with_state(w.app.clone()).oneshot(req).await.unwrap();
    let status = resp.status();
    let body = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

#[tokio::test]
async fn release_managers_change_the_policy_and_anyone_reads_it() {
    let w = world().await;
    let (status, err) = post(&w, &w.committer, "/api/v1/projects/foo/policy", json!({"min_vote_hours": 1})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(err["error"]["code"], "forbidden-role");
    let (status, err) = post(&w, &w.rm, "/api/v1/projects/foo/policy", json!({"min_vote_hourz": 1})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a misspelt rule is refused, not ignored");
    assert_eq!(err["error"]["code"], "malformed-request");
    let (status, err) = post(&w, &w.rm, "/api/v1/projects/foo/policy", json!({"min_binding": 0})).await;
    assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid-policy")));

    let body = json!({"min_vote_hours": 1, "strict": false});
    let (status, view) = post(&w, &w.rm, "/api/v1/projects/foo/policy", body).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["policy"]["min_vote_hours"], 1);
    let (status, view) =
        post(&w, &w.admin, "/api/v1/projects/foo/policy", json!({"product": "conn", "min_binding": 5})).await;
    assert_eq!(status, StatusCode::OK, "{view}");

    let (status, main) = get_json(&w, "/api/v1/projects/foo/policy").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((main["policy"]["min_vote_hours"].as_u64(), main["policy"]["strict"].as_bool()), (Some(1), Some(false)));
    assert_eq!(main["policy"]["min_binding"], 3);
    let (_, conn) = get_json(&w, "/api/v1/projects/foo/policy?product=conn").await;
    assert_eq!((conn["policy"]["min_binding"].as_u64(), conn["policy"]["min_vote_hours"].as_u64()), (Some(5), Some(1)));
    let (status, _) = get_json(&w, "/api/v1/projects/nope/policy").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// A signed call of any method (`post` above is the POST case).
async fn signed(w: &World, actor: &Actor, method: &str, path: &str, body: Value) -> (StatusCode, Value) {
    let bytes = if body.is_null() { Vec::new() } else { serde_json::to_vec(&body).unwrap() };
    let mut req = Request::builder().method(method).uri(path);
    for (k, v) in signed_headers(actor, method, path, &bytes) {
        req = req.header(k, v);
    }
    answer(w, req.body(Body::from(bytes)).unwrap()).await
}

#[tokio::test]
async fn projects_are_listed_shown_and_managed_over_http() {
    let w = world().await;
    let (status, list) = get_json(&w, "/api/v1/projects").await;
    assert_eq!((status, list["projects"][0]["name"].as_str()), (StatusCode::OK, Some("foo")), "{list}");
    let (status, shown) = get_json(&w, "/api/v1/projects/foo").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((shown["members"].clone(), shown["release_managers"].clone()), (json!(["ada"]), json!(["rita"])));
    assert_eq!(shown["keys"].as_array().unwrap().len(), 3, "{shown}");
    assert_eq!(shown["policy"]["min_binding"], 3);
    assert_eq!(get_json(&w, "/api/v1/projects/nope").await.0, StatusCode::NOT_FOUND);

    let body = json!({"role": "committee", "add": ["carl"]});
    let (status, err) = post(&w, &w.rm, "/api/v1/projects/foo/members", body.clone()).await;
    assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden-role")));
    let (status, p) = post(&w, &w.admin, "/api/v1/projects/foo/members", body).await;
    assert_eq!((status, p["members"].clone()), (StatusCode::OK, json!(["ada", "carl"])), "{p}");
    let (status, err) =
        post(&w, &w.admin, "/api/v1/projects/foo/members", json!({"role": "boss", "add": ["carl"]})).await;
    assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("malformed-request")));

    let (status, p) =
        post(&w, &w.rm, "/api/v1/projects/foo/products", json!({"name": "conn", "description": "C"})).await;
    assert_eq!((status, p["products"].clone()), (StatusCode::CREATED, json!(["conn"])), "{p}");
    let (status, err) = post(&w, &w.rm, "/api/v1/projects/foo/products", json!({"name": "latest"})).await;
    assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("malformed-request")), "{err}");

    let (status, err) = post(&w, &w.rm, "/api/v1/projects/foo", json!({"homepage": "ftp://foo.example.org"})).await;
    assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid-homepage")));
    let (status, p) = post(&w, &w.rm, "/api/v1/projects/foo", json!({"display_name": "Apache Foo"})).await;
    assert_eq!((status, p["display_name"].as_str()), (StatusCode::OK, Some("Apache Foo")), "{p}");
}

#[tokio::test]
async fn people_admins_and_key_removal_over_http() {
    let w = world().await;
    let (status, list) = get_json(&w, "/api/v1/people").await;
    assert_eq!((status, list["people"].as_array().unwrap().len()), (StatusCode::OK, 3), "{list}");
    let (status, rita) = get_json(&w, "/api/v1/people/rita").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rita["projects"], json!([{"project": "foo", "roles": ["release-manager"]}]), "{rita}");
    assert_eq!(get_json(&w, "/api/v1/people/ghost").await.0, StatusCode::NOT_FOUND);

    let (status, _) = post(&w, &w.committer, "/api/v1/people/rita", json!({"name": "Not Rita"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, p) = post(&w, &w.rm, "/api/v1/people/rita", json!({"email": "rita@apache.example"})).await;
    assert_eq!((status, p["email"].as_str()), (StatusCode::OK, Some("rita@apache.example")));

    let (status, err) = signed(&w, &w.admin, "DELETE", "/api/v1/people/ada/admin", Value::Null).await;
    assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("last-admin")), "{err}");
    let (status, p) = post(&w, &w.admin, "/api/v1/people/rita/admin", json!({})).await;
    assert_eq!((status, p["admin"].as_bool()), (StatusCode::OK, Some(true)), "{p}");
    let (status, p) = signed(&w, &w.admin, "DELETE", "/api/v1/people/ada/admin", Value::Null).await;
    assert_eq!((status, p["admin"].as_bool()), (StatusCode::OK, Some(false)), "{p}");

    let spare = new_cert("Rita spare <rita@example.org>");
    let (status, key) =
        post(&w, &w.rm, "/api/v1/keys", json!({"certificate": String::from_utf8(armored_public(&spare)).unwrap()}))
            .await;
    assert_eq!(status, StatusCode::CREATED, "{key}");
    let path = format!("/api/v1/keys/{}", key["fingerprint"].as_str().unwrap());
    let (status, err) = signed(&w, &w.committer, "DELETE", &path, Value::Null).await;
    assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden-role")));
    let (status, removed) = signed(&w, &w.rm, "DELETE", &path, Value::Null).await;
    assert_eq!((status, removed["fingerprint"].clone()), (StatusCode::OK, key["fingerprint"].clone()), "{removed}");
    assert_eq!(signed(&w, &w.rm, "DELETE", &path, Value::Null).await.0, StatusCode::NOT_FOUND);
    let (status, err) = signed(&w, &w.rm, "DELETE", "/api/v1/keys/xyz", Value::Null).await;
    assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid-name")));
}

/// Issue 13, item 5: with the item store's disk full, a signed call (which writes at least its
/// nonce) answers 507 `insufficient-storage` with a reason, health answers the same instead
/// of 200, nothing is half written, and once there is room both work again without a restart.
#[tokio::test]
async fn a_full_disk_answers_507_and_health_says_so_until_there_is_room() {
    let disk = trs_storage::embedded::DiskFaults::new();
    let w = trs_app::test_support::world_with_disk_faults(disk.clone()).await;
    let health = || async {
        let resp = axum::Router::new()
            .route("/api/v1/health", axum::routing::get(trs_http::health))
            .with_state(w.app.clone())
            .oneshot(Request::builder().uri("/api/v1/health").body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let body = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
        (status, String::from_utf8_lossy(&body).into_owned())
    };
    assert_eq!(health().await, (StatusCode::OK, "ok\n".to_string()));
    let body = |uid: &str| json!({"uid": uid, "certificate": cert_text(&format!("{uid} <{uid}@example.org>"))});

    disk.fill();
    let (status, err) = post(&w, &w.admin, "/api/v1/people", body("newbie")).await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (StatusCode::INSUFFICIENT_STORAGE, Some("insufficient-storage"))
    );
    assert!(err["error"]["message"].as_str().unwrap().contains("no room"), "{err}");
    let (status, text) = health().await;
    assert_eq!(status, StatusCode::INSUFFICIENT_STORAGE, "{text}");
    assert!(text.contains("insufficient-storage"), "{text}");

    disk.free();
    assert_eq!(health().await, (StatusCode::OK, "ok\n".to_string()));
    let (status, person) = post(&w, &w.admin, "/api/v1/people", body("newbie")).await;
    assert_eq!(status, StatusCode::CREATED, "nothing of the refused call was kept: {person}");
}

/// Issue 19: an unpublished advisory is answered to a read signed by the project's security
/// team, to no one else (the same 404 as for no advisory); a bad range or id is a 400 with
/// its code, and an unsigned write is refused.
#[tokio::test]
async fn advisories_over_http_are_private_until_published_and_bad_input_is_a_400() {
    let w = world().await;
    let body = json!({"id": "CVE-2026-20001", "summary": "Heap overflow", "affected": [">=1.0,<1.1"], "fixed": "1.1"});
    let (status, made) = post(&w, &w.rm, "/api/v1/projects/foo/advisories", body.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made["affected"], json!([">=1.0,<1.1"]));

    let one = "/api/v1/projects/foo/advisories/CVE-2026-20001";
    assert_eq!(get_json(&w, one).await.0, StatusCode::NOT_FOUND);
    assert_eq!(signed(&w, &w.committer, "GET", one, Value::Null).await.0, StatusCode::NOT_FOUND);
    let (status, seen) = signed(&w, &w.admin, "GET", one, Value::Null).await;
    assert_eq!((status, seen["summary"].as_str()), (StatusCode::OK, Some("Heap overflow")), "{seen}");
    let (_, list) = get_json(&w, "/api/v1/projects/foo/advisories").await;
    assert_eq!(list["advisories"], json!([]));
    let (_, list) = signed(&w, &w.rm, "GET", "/api/v1/projects/foo/advisories", Value::Null).await;
    assert_eq!(list["advisories"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(get_json(&w, &format!("{one}/osv")).await.0, StatusCode::NOT_FOUND);

    for (bad, code) in [
        (json!({"id": "CVE-2026-20002", "summary": "x", "affected": [">1.0"]}), "malformed-request"),
        (json!({"id": "CVE-26-1", "summary": "x", "affected": ["<1.0"]}), "malformed-request"),
        (json!({"id": "CVE-2026-20002", "summary": "x", "affected": ["<1.0"], "colour": "red"}), "malformed-request"),
        (json!({"id": "CVE-2026-20002", "summary": "x", "affected": []}), "invalid-advisory"),
    ] {
        let (status, err) = post(&w, &w.rm, "/api/v1/projects/foo/advisories", bad.clone()).await;
        assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::BAD_REQUEST, Some(code)), "{bad}: {err}");
    }
    assert_eq!(get_json(&w, "/api/v1/projects/foo/advisories/CVE-26-1").await.0, StatusCode::BAD_REQUEST);
    let (status, _) =
        answer(&w, Request::builder().method("POST").uri(format!("{one}/publish")).body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (status, published) = post(&w, &w.rm, &format!("{one}/publish"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{published}");
    assert_eq!(get_json(&w, one).await.0, StatusCode::OK);
    let (status, feed) = get_json(&w, "/api/v1/projects/foo/osv").await;
    assert_eq!((status, feed[0]["id"].as_str()), (StatusCode::OK, Some("CVE-2026-20001")), "{feed}");
    let (status, err) = get_json(&w, &format!("{one}/cve5")).await;
    assert_eq!((status, err["error"]["code"].as_str()), (StatusCode::CONFLICT, Some("no-cna-org-id")), "{err}");
}

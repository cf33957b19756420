//! A project after day one, through the real `trs` binary against `trs serve`: products
//! declared and their releases downloadable at `/current/P/PRODUCT/…`, uploads for an
//! undeclared product refused, rosters, metadata, people, admins, and keys added and removed
//! by people without a project role.

use trs_tests::*;

fn get(team: &Team, path: &str) -> reqwest::blocking::Response {
    reqwest::blocking::get(format!("{}{path}", team.server.url)).unwrap()
}

/// The `type` of every event `trs events ARGS --json` prints (one JSON object per line).
fn event_types(team: &Team, args: &[&str]) -> Vec<String> {
    let mut all = vec!["events", "--json"];
    all.extend_from_slice(args);
    let out = ok(&team.anonymous(&all)).stdout.clone();
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["type"].as_str().unwrap().to_string())
        .collect()
}

fn refused(out: &std::process::Output, code: &str) {
    assert_eq!(out.status.code(), Some(1), "expected a refusal; stdout: {}", String::from_utf8_lossy(&out.stdout));
    assert!(stderr(out).contains(code), "expected {code}: {}", stderr(out));
}

#[test]
fn a_declared_products_release_is_downloadable_and_an_undeclared_product_is_refused() {
    let team = Team::new();
    let dir = team.path("conn");
    std::fs::create_dir_all(&dir).unwrap();
    let tarball = source_tarball(&dir, "apache-foo-conn-1.0.0-src.tar.gz", "apache-foo-conn-1.0.0");
    let files = team.signed_set(&tarball);

    // Before the product is declared, its upload is refused: nothing would serve its files.
    let out = team.as_rm(&args_with(&["upload", "foo", "1.0.0", "--product", "conn"], &files));
    refused(&out, "unknown-product");
    assert!(stderr(&out).contains("trs project products foo --add conn"), "{}", stderr(&out));

    let out =
        ok(&team.as_rm(&["project", "products", "foo", "--add", "conn", "--description", "The connector", "--json"]))
            .clone();
    assert_eq!(stdout_json(&out)["products"], serde_json::json!([{"name": "conn", "description": "The connector"}]));
    refused(&team.as_rm(&["project", "products", "foo", "--add", "conn"]), "product-exists");

    ok(&team.as_rm(&["project", "policy", "foo", "--product", "conn", "--min-vote-hours", "0", "--min-binding", "1"]));
    ok(&team.as_rm(&args_with(&["upload", "foo", "1.0.0", "--product", "conn"], &files)));
    ok(&team.as_rm(&["vote", "start", "foo", "1.0.0", "--product", "conn"]));
    ok(&team.as_admin(&["vote", "cast", "foo", "1.0.0", "+1", "--product", "conn"]));
    ok(&team.as_rm(&["vote", "close", "foo", "1.0.0", "--product", "conn"]));
    let task = stdout_json(ok(&team.as_rm(&["promote", "foo", "1.0.0", "--product", "conn", "--json"])));
    assert_eq!(task["state"], "done", "{task:#}");

    let bytes = std::fs::read(&tarball).unwrap();
    for path in [
        "/current/foo/conn/1.0.0/apache-foo-conn-1.0.0-src.tar.gz",
        "/current/foo/conn/latest/apache-foo-conn-1.0.0-src.tar.gz",
    ] {
        let resp = get(&team, path);
        assert_eq!(resp.status(), 200, "GET {path}");
        assert_eq!(resp.bytes().unwrap().as_ref(), bytes.as_slice(), "GET {path}");
    }
    // The release names Rita's key as signer: it stays registered.
    refused(&team.as_rm(&["keys", "remove", &team.rm]), "key-in-use");
}

#[test]
fn projects_people_and_admins_are_managed_after_day_one() {
    let team = Team::new();
    let mona = team.add_gpg_person("mona");

    let list = stdout_json(ok(&team.anonymous(&["project", "list", "--json"])));
    assert_eq!(list["projects"][0]["name"], "foo", "{list:#}");

    // Only the committee (and admins) change the roster; a change is shown at once.
    refused(&team.as_rm(&["project", "members", "foo", "--add", "rita"]), "forbidden-role");
    ok(&team.as_admin(&["project", "members", "foo", "--add", "mona"]));
    ok(&team.as_key(&mona, &["project", "members", "foo", "--add", "mona", "--as", "committer"]));
    refused(&team.as_key(&mona, &["project", "members", "foo", "--remove", "ada,mona"]), "no-members");
    let out = team.as_admin(&["project", "members", "foo", "--add", "x", "--as", "boss"]);
    assert_eq!(out.status.code(), Some(2), "an unknown role is a usage error: {}", stderr(&out));

    ok(&team.as_rm(&["project", "edit", "foo", "--name", "Apache Foo", "--homepage", "https://foo.example.org/"]));
    refused(&team.as_rm(&["project", "edit", "foo", "--homepage", "javascript:alert(1)"]), "invalid-homepage");
    let shown = stdout_json(ok(&team.anonymous(&["project", "show", "foo", "--json"])));
    assert_eq!(shown["members"], serde_json::json!(["ada", "mona"]), "{shown:#}");
    assert_eq!(shown["committers"], serde_json::json!(["mona"]));
    assert_eq!(
        (shown["display_name"].as_str(), shown["homepage"].as_str()),
        (Some("Apache Foo"), Some("https://foo.example.org/"))
    );
    let fingerprints: Vec<&str> =
        shown["keys"].as_array().unwrap().iter().map(|k| k["fingerprint"].as_str().unwrap()).collect();
    assert!(fingerprints.contains(&team.rm.as_str()) && fingerprints.contains(&mona.as_str()), "{fingerprints:?}");
    let text = String::from_utf8(ok(&team.anonymous(&["project", "show", "foo"])).stdout.clone()).unwrap();
    assert!(text.contains("committee         ada, mona") && text.contains(&team.rm), "{text}");

    // People: listed, shown with their roles, edited by themselves.
    let people = stdout_json(ok(&team.anonymous(&["person", "list", "--json"])));
    let uids: Vec<&str> = people["people"].as_array().unwrap().iter().map(|p| p["uid"].as_str().unwrap()).collect();
    assert_eq!(uids, ["ada", "mona", "rita"]);
    ok(&team.as_rm(&["person", "edit", "rita", "--email", "rita@apache.example"]));
    refused(&team.as_key(&mona, &["person", "edit", "rita", "--name", "Not Rita"]), "forbidden-role");
    let rita = stdout_json(ok(&team.anonymous(&["person", "show", "rita", "--json"])));
    assert_eq!((rita["email"].as_str(), rita["name"].as_str()), (Some("rita@apache.example"), Some("Rita RM")));
    assert_eq!(rita["projects"], serde_json::json!([{"project": "foo", "roles": ["release-manager"]}]));

    // A second admin; the last one cannot go.
    refused(&team.as_admin(&["admin", "revoke", "ada"]), "last-admin");
    refused(&team.as_rm(&["admin", "grant", "rita"]), "forbidden-role");
    ok(&team.as_admin(&["admin", "grant", "rita"]));
    ok(&team.as_rm(&["admin", "revoke", "ada"]));
    refused(&team.as_rm(&["admin", "revoke", "rita"]), "last-admin");
    let ada = stdout_json(ok(&team.anonymous(&["person", "show", "ada", "--json"])));
    assert_eq!(ada["admin"], false);

    // Every change is in the streams.
    assert!(event_types(&team, &["--project", "foo"]).iter().any(|t| t == "members-changed"));
    assert!(event_types(&team, &["--project", "foo"]).iter().any(|t| t == "project-edited"));
    let foundation = event_types(&team, &[]);
    for t in ["admin-granted", "admin-revoked", "person-edited"] {
        assert!(foundation.iter().any(|f| f == t), "{t} missing: {foundation:?}");
    }
}

#[test]
fn someone_without_a_project_role_adds_and_removes_their_own_keys() {
    let team = Team::new();
    let eve = team.add_gpg_person("eve");
    let second = team.gpg.gen_key("Eve Second <eve@example.org>", "ed25519");
    let cert = team.path("eve2.asc");
    team.gpg.export_public(&second, &cert);
    // Refused `forbidden-role` before: eve holds no role in any project.
    ok(&team.as_key(&eve, &["keys", "add", cert.to_str().unwrap()]));
    let shown = stdout_json(ok(&team.anonymous(&["person", "show", "eve", "--json"])));
    assert_eq!(shown["registered_keys"].as_array().unwrap().len(), 2, "{shown:#}");

    refused(&team.as_rm(&["keys", "remove", &second]), "forbidden-role");
    let removed = stdout_json(ok(&team.as_key(&eve, &["keys", "remove", &second, "--json"])));
    assert_eq!(removed["fingerprint"], second.as_str());
    refused(&team.as_key(&eve, &["keys", "remove", &eve]), "last-key");
    let out = team.as_key(&eve, &["keys", "remove", "not-a-fingerprint"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

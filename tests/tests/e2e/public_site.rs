//! The public site as a downloader meets it, from `trs serve`: after `trs promote`, the release
//! page at `/projects/foo/releases/1.0.0/` lists every file with its SHA-512 and links to it
//! at its public coordinates; pages carry ETags (If-None-Match answers 304) and short,
//! revalidated caching; the API and the release files are still served beside the site; and
//! `trs site build --full` renders a data folder into a folder.

use trs_tests::*;

fn get(team: &Team, path: &str) -> reqwest::blocking::Response {
    reqwest::blocking::get(format!("{}{path}", team.server.url)).unwrap()
}

/// Waits until the page at `path` contains `needle` (the site is published in the background,
/// right after each event).
fn page_with(team: &Team, path: &str, needle: &str) -> String {
    poll_until(format_args!("GET {path} with {needle:?}"), || {
        let resp = get(team, path);
        let status = resp.status();
        // As a browser reads it: Tera 1 (zola's engine) writes `/` as `&#x2F;`.
        let text = resp.text().unwrap().replace("&#x2F;", "/");
        if status == 200 && text.contains(needle) { Ok(text) } else { Err(format!("{status}:\n{text}")) }
    })
}

#[test]
fn after_promote_the_site_lists_the_release_files() {
    let team = Team::new();
    ok(&team.as_admin(&["project", "policy", "foo", "--min-vote-hours", "0", "--min-binding", "1"]));
    let dir = team.path("src");
    std::fs::create_dir_all(&dir).unwrap();
    let tarball = source_tarball(&dir, "foo-1.0.0.tar.gz", "foo-1.0.0");
    let files = team.signed_set(&tarball);
    ok(&team.upload(&files));
    ok(&team.as_rm(&["vote", "start", "foo", "1.0.0"]));
    ok(&team.as_admin(&["vote", "cast", "foo", "1.0.0", "+1"]));
    // The candidate is on the project page while the vote runs, with its tally.
    page_with(&team, "/projects/foo/", "binding +1 1");
    ok(&team.as_rm(&["vote", "close", "foo", "1.0.0"]));
    let task = stdout_json(ok(&team.as_rm(&["promote", "foo", "1.0.0", "--json"])));
    assert_eq!(task["state"], "done", "{task:#}");

    let page = page_with(&team, "/projects/foo/releases/1.0.0/", "<strong class=\"stage-current\">current</strong>");
    let sha512 = std::fs::read_to_string(format!("{}.sha512", tarball.display())).unwrap();
    let digest = sha512.split_whitespace().next().unwrap();
    for needle in [
        "href=\"/current/foo/1.0.0/foo-1.0.0.tar.gz\"",
        "href=\"/current/foo/1.0.0/foo-1.0.0.tar.gz.asc\"",
        "href=\"/current/foo/1.0.0/foo-1.0.0.tar.gz.sha512\"",
        digest,
        "Rita RM &lt;rita@example.org&gt;",
        team.rm.as_str(),
        &format!("curl -fsSL -o KEYS {}/projects/foo/KEYS", team.server.url),
        "gpg --verify foo-1.0.0.tar.gz.asc foo-1.0.0.tar.gz",
    ] {
        assert!(page.contains(needle), "{needle} missing from the release page:\n{page}");
    }
    run_verification_block(&page);
    // Every linked file is downloadable, byte for byte.
    let file = get(&team, "/current/foo/1.0.0/foo-1.0.0.tar.gz");
    assert_eq!(file.status(), 200);
    assert_eq!(file.bytes().unwrap().as_ref(), std::fs::read(&tarball).unwrap().as_slice());

    // The directory and the project page show it as the latest release.
    page_with(&team, "/", "href=\"/projects/foo/releases/1.0.0/\"");
    page_with(&team, "/projects/foo/", "<span class=\"badge\">latest</span>");
    let keys = get(&team, "/projects/foo/KEYS");
    assert_eq!(keys.headers()["content-type"], "text/plain; charset=utf-8");
    assert!(keys.text().unwrap().contains("-----BEGIN PGP PUBLIC KEY BLOCK-----"));

    // Pages: short caching, revalidated by ETag.
    let resp = get(&team, "/projects/foo/releases/1.0.0/");
    assert_eq!(resp.headers()["content-type"], "text/html; charset=utf-8");
    assert_eq!(resp.headers()["cache-control"], "public, max-age=60, must-revalidate");
    let etag = resp.headers()["etag"].to_str().unwrap().to_string();
    let again = reqwest::blocking::Client::new()
        .get(format!("{}/projects/foo/releases/1.0.0/", team.server.url))
        .header("If-None-Match", &etag)
        .send()
        .unwrap();
    assert_eq!(again.status(), 304);
    // A folder asked for without its slash is redirected to it; an unknown page is a 404.
    let no_redirect = reqwest::blocking::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let moved = no_redirect.get(format!("{}/projects/foo", team.server.url)).send().unwrap();
    assert_eq!((moved.status().as_u16(), moved.headers()["location"].to_str().unwrap()), (301, "/projects/foo/"));
    assert_eq!(get(&team, "/projects/nope/").status(), 404);
    // The site shadows no API route.
    assert_eq!(get(&team, "/api/v1/health").text().unwrap(), "ok\n");
    let json: serde_json::Value = get(&team, "/projects/foo/releases.json").json().unwrap();
    assert_eq!(json["by_state"]["current"][0], "foo/1.0.0", "{json:#}");
    assert_eq!(json["schema_version"], 1);
}

/// Copies the release page's "Verify your download" commands as a downloader would (the text
/// of the block, HTML entities decoded) and runs them with `sh -e` in an empty folder with its
/// own GnuPG home: they download, import KEYS and check the signature and both checksums.
fn run_verification_block(page: &str) {
    let section = &page[page.find("id=\"verify\"").expect("a verification block")..];
    let code = &section[section.find("<pre><code>").unwrap() + "<pre><code>".len()..];
    let code = &code[..code.find("</code></pre>").unwrap()];
    let script = ["&quot;", "&#x27;", "&#39;", "&lt;", "&gt;", "&#x2F;", "&amp;"]
        .iter()
        .zip(["\"", "'", "'", "<", ">", "/", "&"])
        .fold(code.to_string(), |text, (entity, c)| text.replace(entity, c));
    let dir = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let out = std::process::Command::new("sh")
        .args(["-e", "-c", &script])
        .current_dir(dir.path())
        .env("GNUPGHOME", home.path())
        .output()
        .unwrap();
    let log = format!("{script}\n{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the copied commands fail:\n{log}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("Good signature"), "{log}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).matches(": OK").count(), 2, "both checksums: {log}");
}

#[test]
fn site_build_renders_a_data_folder_into_a_folder() {
    let gpg = Gpg::new();
    let work = tempfile::tempdir().unwrap();
    let ada = gpg.gen_key("Ada Admin <ada@example.org>", "ed25519");
    let cert = work.path().join("ada.asc");
    gpg.export_public(&ada, &cert);
    let data = work.path().join("data");
    let out = work.path().join("site");
    let run = |args: &[&str]| std::process::Command::new(trs_bin()).args(args).output().unwrap();
    ok(&run(&["admin", "bootstrap", "--data", data.to_str().unwrap(), "ada", cert.to_str().unwrap()]));
    let built =
        run(&["site", "build", "--full", "--data", data.to_str().unwrap(), "--out", out.to_str().unwrap(), "--json"]);
    let report = stdout_json(ok(&built));
    assert!(report["pages_rendered"].as_u64().unwrap() >= 4, "{report:#}");
    assert!(std::fs::read_to_string(out.join("index.html")).unwrap().contains("<main id=\"main\">"));
    assert!(out.join("site.css").is_file() && out.join("search-index.json").is_file());
    // Building again writes nothing: every object's bytes are unchanged.
    let again = stdout_json(ok(&run(&[
        "site",
        "build",
        "--full",
        "--data",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--json",
    ])))
    .clone();
    assert_eq!(again["objects_written"], 0, "{again:#}");
}

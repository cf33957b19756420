//! Release files as download managers, mirrors and scripts fetch them from `trs serve`, with
//! real clients (curl, wget): a broken download resumes (`Range`, `206`, `416`, `wget -c`),
//! files carry a strong ETag (their SHA-512) and Last-Modified and revalidate (`304`, also for
//! a weak `If-None-Match`), `HEAD` tells the length, every answer says `nosniff`, a released
//! page is an attachment, a candidate's file has its real type, an unknown path gets the
//! site's 404 page (a browser) or the JSON error (a script), and the site's text is compressed
//! as the client accepts while release files never are.

use std::process::Command;
use trs_tests::*;

/// `curl -sS -D - -o BODY ARGS URL`: (status, lower-cased headers, body).
fn curl(url: &str, args: &[&str]) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let body = tempfile::NamedTempFile::new().unwrap();
    let out = Command::new("curl")
        .args(["-sS", "-D", "-", "-o", body.path().to_str().unwrap()])
        .args(args)
        .arg(url)
        .output()
        .expect("curl is installed (./test.sh)");
    assert!(out.status.success(), "curl {args:?} {url}: {}", String::from_utf8_lossy(&out.stderr));
    let head = String::from_utf8(out.stdout).unwrap();
    let mut lines = head.lines();
    let status = lines.next().unwrap().split_whitespace().nth(1).unwrap().parse().unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers, std::fs::read(body.path()).unwrap())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

#[test]
fn release_files_resume_revalidate_and_are_served_safely() {
    let team = Team::new();
    ok(&team.as_admin(&["project", "policy", "foo", "--min-vote-hours", "0", "--min-binding", "1"]));
    let dir = team.path("src");
    std::fs::create_dir_all(&dir).unwrap();
    let tarball = source_tarball(&dir, "foo-1.0.0.tar.gz", "foo-1.0.0");
    let page = team.file("src/foo-1.0.0-docs.html", b"<!doctype html><script>alert(document.cookie)</script>\n");
    let mut files = team.signed_set(&tarball);
    files.extend(team.signed_set(&page));
    ok(&team.upload(&files));
    let base = &team.server.url;

    // A candidate's file (downloadable once its vote opens) has the type of its name (it is
    // stored content-addressed).
    ok(&team.as_rm(&["vote", "start", "foo", "1.0.0"]));
    let (status, h, _) = curl(&format!("{base}/candidate/foo/1.0.0/foo-1.0.0.tar.gz"), &[]);
    assert_eq!((status, header(&h, "content-type")), (200, Some("application/gzip")), "{h:?}");
    ok(&team.as_admin(&["vote", "cast", "foo", "1.0.0", "+1"]));
    ok(&team.as_rm(&["vote", "close", "foo", "1.0.0"]));
    ok(&team.as_rm(&["promote", "foo", "1.0.0"]));

    let bytes = std::fs::read(&tarball).unwrap();
    let size = bytes.len();
    let sha512 = std::fs::read_to_string(format!("{}.sha512", tarball.display())).unwrap();
    let digest = sha512.split_whitespace().next().unwrap().to_string();
    let url = format!("{base}/current/foo/1.0.0/foo-1.0.0.tar.gz");

    // The whole file: a strong ETag of its SHA-512, Last-Modified, ranges accepted, nosniff.
    let (status, h, body) = curl(&url, &[]);
    assert_eq!((status, body.as_slice()), (200, bytes.as_slice()));
    assert_eq!(header(&h, "etag"), Some(format!("\"{digest}\"").as_str()));
    assert_eq!(header(&h, "accept-ranges"), Some("bytes"));
    assert_eq!(header(&h, "x-content-type-options"), Some("nosniff"));
    assert_eq!(header(&h, "cache-control"), Some("public, max-age=31536000, immutable"));
    let modified = header(&h, "last-modified").expect("Last-Modified").to_string();

    // HEAD: the length of the file (curl -I reads no body).
    let (status, h, _) = curl(&url, &["-I"]);
    assert_eq!((status, header(&h, "content-length")), (200, Some(size.to_string().as_str())));

    // Ranges: one range (206), a suffix, past the end (416), several (the whole file).
    let (status, h, body) = curl(&url, &["-r", "0-9"]);
    assert_eq!((status, body.as_slice()), (206, &bytes[..10]));
    assert_eq!(header(&h, "content-range"), Some(format!("bytes 0-9/{size}").as_str()));
    let (status, _, body) = curl(&url, &["-H", "Range: bytes=-7"]);
    assert_eq!((status, body.as_slice()), (206, &bytes[size - 7..]));
    let (status, h, _) = curl(&url, &["-r", &format!("{size}-")]);
    assert_eq!((status, header(&h, "content-range")), (416, Some(format!("bytes */{size}").as_str())));
    let (status, _, body) = curl(&url, &["-r", "0-1,4-5"]);
    assert_eq!((status, body.len()), (200, size));

    // Revalidation: the ETag (also compared weakly), or the date.
    for condition in [format!("If-None-Match: \"{digest}\""), format!("If-None-Match: W/\"{digest}\"")] {
        let (status, _, body) = curl(&url, &["-H", &condition]);
        assert_eq!((status, body.len()), (304, 0), "{condition}");
    }
    assert_eq!(curl(&url, &["-H", "If-None-Match: \"other\""]).0, 200);
    assert_eq!(curl(&url, &["-H", &format!("If-Modified-Since: {modified}")]).0, 304);
    // `latest` revalidates too, by the same tag.
    let (status, h, _) =
        curl(&format!("{base}/current/foo/latest/foo-1.0.0.tar.gz"), &["-H", &format!("If-None-Match: \"{digest}\"")]);
    assert_eq!((status, header(&h, "cache-control")), (304, Some("public, max-age=60, must-revalidate")));

    // A broken download resumes: curl -C - and wget -c append exactly the missing bytes.
    let partial = team.file("resume/curl/foo-1.0.0.tar.gz", &bytes[..size / 3]);
    let out = Command::new("curl").args(["-sSf", "-C", "-", "-o"]).arg(&partial).arg(&url).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read(&partial).unwrap(), bytes);
    let partial = team.file("resume/wget/foo-1.0.0.tar.gz", &bytes[..size / 2]);
    let out = Command::new("wget")
        .args(["-q", "-c", &url])
        .current_dir(partial.parent().unwrap())
        .output()
        .expect("wget runs (test.sh installs it)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(std::fs::read(&partial).unwrap(), bytes, "wget -c appended the rest");

    // A released page never renders on the site's origin.
    let (status, h, _) = curl(&format!("{base}/current/foo/1.0.0/foo-1.0.0-docs.html"), &[]);
    assert_eq!(status, 200);
    assert_eq!(header(&h, "content-type"), Some("text/html; charset=utf-8"));
    assert!(header(&h, "content-disposition").is_some_and(|d| d.starts_with("attachment;")), "{h:?}");

    // Site pages: HEAD tells their length; nosniff on pages and on the API.
    let (status, h, _) = curl(&format!("{base}/projects/foo/KEYS"), &[]);
    assert_eq!(status, 200);
    let length = header(&h, "content-length").unwrap().to_string();
    let (status, h, _) = curl(&format!("{base}/projects/foo/KEYS"), &["-I"]);
    assert_eq!((status, header(&h, "content-length")), (200, Some(length.as_str())));
    assert_ne!(length, "0");
    let (_, h, _) = curl(&format!("{base}/api/v1/health"), &[]);
    assert_eq!(header(&h, "x-content-type-options"), Some("nosniff"));

    // Unknown paths: the site's 404 page for a browser, the JSON error for a script.
    for path in ["/projects/nope/", "/current/foo/1.0.0/nope.tar.gz", "/current/nope/1.0/x"] {
        let (status, h, body) = curl(&format!("{base}{path}"), &["-H", "Accept: text/html"]);
        assert_eq!((status, header(&h, "content-type")), (404, Some("text/html; charset=utf-8")), "{path}");
        assert!(String::from_utf8_lossy(&body).contains("<h1>Not found</h1>"), "{path}");
        assert_eq!(header(&h, "x-content-type-options"), Some("nosniff"));
        let (status, _, body) = curl(&format!("{base}{path}"), &["-H", "Accept: application/json"]);
        let error: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!((status, error["error"]["code"].as_str()), (404, Some("not-found")), "{path}");
    }

    mirror_and_script_views(&team, &[&tarball, &page], &digest);
    compression(&team, &bytes);
}

/// The site's text goes gzip or brotli as the client's `Accept-Encoding` asks (q-values,
/// identity), each coding with its own strong ETag and `Vary: Accept-Encoding`; curl decodes
/// each to the stored bytes. A range of a page, and every release file (text or not), are the
/// stored bytes.
fn compression(team: &Team, tarball: &[u8]) {
    let base = &team.server.url;
    for path in ["/projects/foo/", "/projects/foo/releases.json", "/projects/foo/releases/1.0.0/SHA512SUMS"] {
        let url = format!("{base}{path}");
        let (status, h, plain) = curl(&url, &[]);
        assert_eq!((status, header(&h, "content-encoding")), (200, None), "{path}: {h:?}");
        assert_eq!(header(&h, "vary"), Some("accept-encoding"), "{path}");
        let plain_tag = header(&h, "etag").unwrap().to_string();
        let mut tags = vec![plain_tag.clone()];
        for (accept, coding) in [
            ("gzip", "gzip"),
            ("br", "br"),
            ("gzip, deflate, br, zstd", "br"),
            ("br;q=0.5, gzip;q=0.8", "gzip"),
            ("*", "br"),
        ] {
            let ae = format!("Accept-Encoding: {accept}");
            let (status, h, raw) = curl(&url, &["-H", &ae]);
            assert_eq!((status, header(&h, "content-encoding")), (200, Some(coding)), "{path} {accept}: {h:?}");
            assert_eq!(header(&h, "vary"), Some("accept-encoding"));
            assert_eq!(header(&h, "content-length"), Some(raw.len().to_string().as_str()));
            assert!(raw.len() < plain.len() && raw != plain, "{path} {accept}: {} of {}", raw.len(), plain.len());
            if coding == "gzip" {
                assert_eq!(&raw[..2], &[0x1f, 0x8b], "a gzip member");
            }
            let (_, _, decoded) = curl(&url, &["--compressed", "-H", &ae]);
            assert_eq!(decoded, plain, "{path} {accept}: curl decodes it to the stored bytes");
            // HEAD says what GET would send.
            let (_, head, _) = curl(&url, &["-I", "-H", &ae]);
            assert_eq!(header(&head, "content-length"), header(&h, "content-length"), "{path} HEAD {accept}");
            assert_eq!(header(&head, "content-encoding"), Some(coding));
            let tag = header(&h, "etag").unwrap().to_string();
            // Revalidation is per representation: its own tag gives 304, the plain one does not.
            let (status, h304, body) = curl(&url, &["-H", &ae, "-H", &format!("If-None-Match: {tag}")]);
            assert_eq!((status, body.len(), header(&h304, "etag")), (304, 0, Some(tag.as_str())), "{path} {accept}");
            assert_eq!(header(&h304, "vary"), Some("accept-encoding"));
            assert_eq!(curl(&url, &["-H", &ae, "-H", &format!("If-None-Match: {plain_tag}")]).0, 200);
            tags.push(tag);
        }
        tags.sort();
        tags.dedup();
        assert_eq!(tags.len(), 3, "one strong tag per coding: {tags:?}");
        for refused in ["gzip;q=0, br;q=0", "identity", "deflate", "gzip;q=0.5, br;q=0.4, identity"] {
            let (_, h, body) = curl(&url, &["-H", &format!("Accept-Encoding: {refused}")]);
            assert_eq!((header(&h, "content-encoding"), body.as_slice()), (None, plain.as_slice()), "{refused}");
        }
        // A range is of the stored bytes, whatever the client accepts.
        let (status, h, body) = curl(&url, &["-H", "Accept-Encoding: gzip, br", "-r", "0-9"]);
        assert_eq!((status, header(&h, "content-encoding"), body.as_slice()), (206, None, &plain[..10]), "{path}");
    }
    // Release files are the bytes voted on: never encoded, text or not.
    for (path, expected) in [
        ("/current/foo/1.0.0/foo-1.0.0.tar.gz", Some(tarball)),
        ("/current/foo/1.0.0/foo-1.0.0-docs.html", None),
        ("/current/foo/1.0.0/foo-1.0.0.tar.gz.sha512", None),
        ("/current/foo/latest/foo-1.0.0.tar.gz", Some(tarball)),
    ] {
        let (status, h, body) = curl(&format!("{base}{path}"), &["-H", "Accept-Encoding: gzip, br"]);
        assert_eq!((status, header(&h, "content-encoding")), (200, None), "{path}: {h:?}");
        if let Some(bytes) = expected {
            assert_eq!(body, bytes, "{path}");
        }
    }
}

/// What a script or mirror reads: the release's `files.json` and `SHA512SUMS` (which
/// `sha512sum -c` accepts beside the downloaded files), the project's `latest.json`, and the
/// download folders as listings (JSON for scripts, HTML links for mirror tools).
fn mirror_and_script_views(team: &Team, artifacts: &[&std::path::Path], digest: &str) {
    let base = &team.server.url;
    let json = |path: &str| -> serde_json::Value {
        let (status, _, body) = curl(&format!("{base}{path}"), &["-H", "Accept: application/json"]);
        assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
        serde_json::from_slice(&body).unwrap()
    };
    let files = json("/projects/foo/releases/1.0.0/files.json");
    assert_eq!((files["release"].as_str(), files["stage"].as_str()), (Some("foo/1.0.0"), Some("current")), "{files:#}");
    assert_eq!(files["release_page"], format!("{base}/projects/foo/releases/1.0.0/"), "{files:#}");
    let listed = files["files"].as_array().unwrap();
    assert_eq!(listed.len(), 6, "two artifacts with .asc and .sha512: {files:#}");
    let tar = listed.iter().find(|f| f["path"] == "foo-1.0.0.tar.gz").unwrap();
    assert_eq!(tar["sha512"], digest);
    // Absolute: `trs serve` sets the site's download_url to its own address.
    assert_eq!(tar["url"], format!("{base}/current/foo/1.0.0/foo-1.0.0.tar.gz"));
    assert_eq!(tar["signature_url"], format!("{base}/current/foo/1.0.0/foo-1.0.0.tar.gz.asc"));
    assert_eq!(tar["signers"].as_array().unwrap().len(), 1, "{tar:#}");
    assert_eq!(tar["size"], std::fs::metadata(artifacts[0]).unwrap().len());

    // Download every file by its listed URL, then check them all with SHA512SUMS.
    let dir = team.path("mirror");
    std::fs::create_dir_all(&dir).unwrap();
    for f in listed {
        let out = Command::new("curl")
            .args(["-sSf", "-o", f["path"].as_str().unwrap(), f["url"].as_str().unwrap()])
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let (status, _, sums) = curl(&format!("{base}/projects/foo/releases/1.0.0/SHA512SUMS"), &[]);
    assert_eq!(status, 200);
    std::fs::write(dir.join("SHA512SUMS"), &sums).unwrap();
    let out = Command::new("sha512sum").args(["-c", "SHA512SUMS"]).current_dir(&dir).output().unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{report}{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(report.matches(": OK").count(), 6, "{report}");
    // Every file's `sha256` (kept from the upload's intake) is what sha256sum says of the
    // downloaded bytes.
    let sha256sums: String = listed
        .iter()
        .map(|f| {
            format!(
                "{}  {}\n",
                f["sha256"].as_str().unwrap_or_else(|| panic!("{files:#}")),
                f["path"].as_str().unwrap()
            )
        })
        .collect();
    std::fs::write(dir.join("SHA256SUMS"), &sha256sums).unwrap();
    let out = Command::new("sha256sum").args(["-c", "SHA256SUMS"]).current_dir(&dir).output().unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{sha256sums}{report}{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(report.matches(": OK").count(), 6, "{report}");

    // latest.json: no version needed.
    let latest = json("/projects/foo/latest.json");
    let line = &latest["lines"][0];
    assert_eq!(
        (line["product"].clone(), line["version"].as_str()),
        (serde_json::Value::Null, Some("1.0.0")),
        "{latest:#}"
    );
    let file = line["files"].as_array().unwrap().iter().find(|f| f["path"] == "foo-1.0.0.tar.gz").unwrap();
    assert_eq!(file["latest_url"], format!("{base}/current/foo/latest/foo-1.0.0.tar.gz"));
    assert_eq!((&file["sha512"], &file["sha256"]), (&tar["sha512"], &tar["sha256"]), "{latest:#}");
    let (status, _, body) = curl(file["latest_url"].as_str().unwrap(), &[]);
    assert_eq!((status, body), (200, std::fs::read(artifacts[0]).unwrap()));

    // Listings a mirror script walks: the project folder, a version's and latest's.
    let names = |doc: &serde_json::Value| -> Vec<String> {
        doc["entries"].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(names(&json("/current/foo/")), ["latest/", "1.0.0/"]);
    let version = json("/current/foo/1.0.0/");
    let in_folder = names(&version);
    assert_eq!(in_folder.len(), 6);
    assert!(in_folder.contains(&"foo-1.0.0.tar.gz".to_string()), "{version:#}");
    assert_eq!(version["entries"][0]["url"].as_str().unwrap(), format!("/current/foo/1.0.0/{}", in_folder[0]));
    assert_eq!(names(&json("/current/foo/latest/")), in_folder);
    let (status, h, html) = curl(&format!("{base}/current/foo/1.0.0/"), &[]);
    assert_eq!((status, header(&h, "content-type")), (200, Some("text/html; charset=utf-8")));
    assert!(String::from_utf8_lossy(&html).contains("<a href=\"/current/foo/1.0.0/foo-1.0.0.tar.gz\">"));
    // A folder without its slash is sent to it.
    let (status, h, _) = curl(&format!("{base}/current/foo/1.0.0"), &[]);
    assert_eq!((status, header(&h, "location")), (301, Some("/current/foo/1.0.0/")));
}

/// A current release's folder serves exactly the files of the manifest it was voted with
/// (issue 13 item 9): an object that lies in the blob store under the release's public keys
/// without being in that manifest (left by another line, a manual copy, a bug) is a 404, by
/// version and through `latest`, and no listing names it; the voted files beside it are served.
#[test]
fn only_the_voted_manifests_files_are_served_from_a_release_folder() {
    let team = Team::new();
    ok(&team.as_admin(&["project", "policy", "foo", "--min-vote-hours", "0", "--min-binding", "1"]));
    let dir = team.path("src");
    std::fs::create_dir_all(&dir).unwrap();
    let tarball = source_tarball(&dir, "foo-1.0.0.tar.gz", "foo-1.0.0");
    ok(&team.upload(&team.signed_set(&tarball)));
    ok(&team.as_rm(&["vote", "start", "foo", "1.0.0"]));
    ok(&team.as_admin(&["vote", "cast", "foo", "1.0.0", "+1"]));
    ok(&team.as_rm(&["vote", "close", "foo", "1.0.0"]));
    ok(&team.as_rm(&["promote", "foo", "1.0.0"]));

    // `trs serve` keeps a current file's bytes at its public key under the data folder's
    // blob objects: plant strays beside the promoted tarball, at the top and in a subfolder.
    let folder = team.server.data.path().join("blobs/objects/current/foo/1.0.0");
    assert!(folder.join("foo-1.0.0.tar.gz").is_file(), "the promoted file lies at its public key");
    let stray = b"#!/bin/sh\necho never voted\n";
    std::fs::write(folder.join("install.sh"), stray).unwrap();
    std::fs::create_dir_all(folder.join("extra")).unwrap();
    std::fs::write(folder.join("extra/foo-1.0.0.tar.gz"), stray).unwrap();

    let base = &team.server.url;
    for path in
        ["1.0.0/install.sh", "1.0.0/extra/foo-1.0.0.tar.gz", "latest/install.sh", "latest/extra/foo-1.0.0.tar.gz"]
    {
        for get_or_head in [&[][..], &["-I"][..]] {
            let args = [get_or_head, &["-H", "Accept: application/json"]].concat();
            let (status, _, body) = curl(&format!("{base}/current/foo/{path}"), &args);
            assert_eq!(status, 404, "/current/foo/{path} {args:?}: {}", String::from_utf8_lossy(&body));
            assert!(!body.windows(stray.len()).any(|w| w == stray), "/current/foo/{path}: the stray's bytes were sent");
        }
    }
    let (status, _, body) = curl(&format!("{base}/current/foo/1.0.0/foo-1.0.0.tar.gz"), &[]);
    assert_eq!((status, body), (200, std::fs::read(&tarball).unwrap()), "the voted file beside the strays");
    for listed in ["/current/foo/1.0.0/", "/current/foo/latest/"] {
        let (status, _, body) = curl(&format!("{base}{listed}"), &["-H", "Accept: application/json"]);
        let listing: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let mut names: Vec<&str> =
            listing["entries"].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect();
        names.sort();
        assert_eq!(
            (status, names),
            (200, vec!["foo-1.0.0.tar.gz", "foo-1.0.0.tar.gz.asc", "foo-1.0.0.tar.gz.sha512"]),
            "{listed}"
        );
    }
}

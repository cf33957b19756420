//! Path traversal on the public side of `trs serve`: every traversal and normalisation form of
//! the shared table (`trs_app::test_support::traversal`: dots × separators in every encoding,
//! and the tricks around a real file's name) against every public download prefix (a current
//! release, `latest`, an archived release, a candidate under vote) and the site's folders,
//! aimed at files outside the release folder: a draft release's bytes in the blob store, a
//! file and the item database in the data folder, `/etc/passwd`, another project's KEYS, and
//! (through the URL space) another release's public file. Each answer must be a refusal (4xx)
//! holding none of those files' bytes, while the real file under each prefix is still served
//! (so the test cannot pass by serving nothing). curl sends each
//! form with `--path-as-is`; what curl would rewrite (backslashes, `#`, spaces, raw non-ASCII
//! bytes) goes over a raw socket, as do absolute-form and relative request targets.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use trs_app::test_support::traversal::forms;
use trs_tests::*;

const DRAFT_SECRET: &[u8] = b"TRS-TRAVERSAL-SECRET of the draft foo 2.0.0\n";
const PLANTED_SECRET: &[u8] = b"TRS-TRAVERSAL-SECRET planted in the data folder\n";
/// Enough `..` to climb from any folder of the data folder (or of the URL space) to `/`.
const TO_ROOT: usize = 24;

/// What a real file under a prefix must answer with.
enum Legit {
    Bytes(Vec<u8>),
    Contains(&'static str),
}

struct Prefix {
    path: String,
    legit_name: String,
    legit: Legit,
}

/// Where a form aims: a file by its absolute path (climbing to `/` first), or a URL path
/// (climbing exactly to the URL root, as a server that normalises `..` would).
enum Aim {
    File(PathBuf),
    Url(&'static str),
}

/// A request's answer: status (0: the connection closed without one) and body.
struct Answer {
    status: u16,
    body: Vec<u8>,
}

/// Uploads `foo VERSION`: a source tarball and a text file holding `text`, each signed and
/// with its SHA-512 file.
fn upload(team: &Team, version: &str, name: &str, text: &[u8]) {
    let dir = team.path(&format!("src-{version}"));
    std::fs::create_dir_all(&dir).unwrap();
    let tarball = source_tarball(&dir, &format!("foo-{version}.tar.gz"), &format!("foo-{version}"));
    let file = dir.join(name);
    std::fs::write(&file, text).unwrap();
    let mut files = team.signed_set(&tarball);
    files.extend(team.signed_set(&file));
    ok(&team.as_rm(&args_with(&["upload", "foo", version, "--json"], &files)));
}

fn pass_vote(team: &Team, version: &str) {
    ok(&team.as_rm(&["vote", "start", "foo", version]));
    ok(&team.as_admin(&["vote", "cast", "foo", version, "+1"]));
    ok(&team.as_rm(&["vote", "close", "foo", version]));
}

fn curl_get(url: &str) -> Answer {
    let body = tempfile::NamedTempFile::new().unwrap();
    let out = Command::new("curl")
        .args(["-sS", "-g", "--path-as-is", "-w", "%{http_code}", "-o", body.path().to_str().unwrap(), url])
        .output()
        .expect("curl is installed (./test.sh)");
    assert!(out.status.success(), "curl {url}: {}", String::from_utf8_lossy(&out.stderr));
    Answer { status: String::from_utf8_lossy(&out.stdout).trim().parse().unwrap(), body: std::fs::read(body).unwrap() }
}

/// One curl run for many paths (`--path-as-is`, no globbing, one connection kept alive):
/// each answer in order.
fn curl_batch(base: &str, paths: &[&str], work: &Path) -> Vec<Answer> {
    let dir = tempfile::tempdir_in(work).unwrap();
    let mut config = String::new();
    for (i, path) in paths.iter().enumerate() {
        assert!(curl_sends_as_is(path), "{path}");
        config
            .push_str(&format!("url = \"{base}{path}\"\noutput = \"{}\"\n", dir.path().join(i.to_string()).display()));
    }
    let config_file = dir.path().join("curl.config");
    std::fs::write(&config_file, config).unwrap();
    let out = Command::new("curl")
        .args(["-s", "-g", "--path-as-is", "-w", "%{http_code}\\n", "-K"])
        .arg(&config_file)
        .output()
        .expect("curl is installed (./test.sh)");
    let codes: Vec<u16> = String::from_utf8_lossy(&out.stdout).lines().map(|l| l.trim().parse().unwrap()).collect();
    assert_eq!(codes.len(), paths.len(), "one answer per path: {}", String::from_utf8_lossy(&out.stderr));
    codes
        .into_iter()
        .enumerate()
        .map(|(i, status)| Answer { status, body: std::fs::read(dir.path().join(i.to_string())).unwrap_or_default() })
        .collect()
}

/// Whether curl sends `path` byte for byte with `--path-as-is`: printable ASCII without a
/// backslash (which curl may turn into a slash), `#` (a fragment, never sent) or a quote.
fn curl_sends_as_is(path: &str) -> bool {
    path.bytes().all(|b| b.is_ascii_graphic() && !b"\\#\"".contains(&b))
}

/// `GET TARGET HTTP/1.0` over a raw socket, exactly these bytes: (status, body). HTTP/1.0, so
/// the body comes whole (not chunked) and the server closes the connection after it.
fn raw_get(addr: &str, target: &[u8]) -> Answer {
    let mut stream = TcpStream::connect(addr).unwrap();
    let mut request = b"GET ".to_vec();
    request.extend_from_slice(target);
    request.extend_from_slice(format!(" HTTP/1.0\r\nHost: {addr}\r\n\r\n").as_bytes());
    stream.write_all(&request).unwrap();
    let mut response = Vec::new();
    // A reset after the answer still leaves the answer read.
    let _ = stream.read_to_end(&mut response);
    let Some(end) = response.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Answer { status: 0, body: response };
    };
    let head = String::from_utf8_lossy(&response[..end]);
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    Answer { status, body: response[end + 4..].to_vec() }
}

fn first_line(path: &Path) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap();
    bytes.split(|&b| b == b'\n').next().unwrap().to_vec()
}

/// Every file under `dir` whose bytes contain `needle`.
fn files_holding(dir: &Path, needle: &[u8], out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_holding(&path, needle, out);
        } else if std::fs::read(&path).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle)) {
            out.push(path);
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn traversal_forms_against_every_public_prefix_are_refused_and_the_real_files_still_served() {
    let team = Team::new();
    let base = team.server.url.clone();
    let addr = base.strip_prefix("http://").unwrap().to_string();
    let data = team.server.data.path().to_path_buf();
    ok(&team.as_admin(&["project", "policy", "foo", "--min-vote-hours", "0", "--min-binding", "1"]));

    // foo 0.9.0 archived, 1.0.0 current (and latest), 1.1.0 a candidate under vote, 2.0.0 a
    // draft nobody may read; project bar with a key of its own in its KEYS.
    let text = |v: &str| format!("LEGIT public file of foo {v}\n").into_bytes();
    upload(&team, "0.9.0", "foo-0.9.0-notice.txt", &text("0.9.0"));
    pass_vote(&team, "0.9.0");
    ok(&team.as_rm(&["promote", "foo", "0.9.0"]));
    ok(&team.as_rm(&["archive", "foo", "0.9.0"]));
    upload(&team, "1.0.0", "foo-1.0.0-notice.txt", &text("1.0.0"));
    pass_vote(&team, "1.0.0");
    ok(&team.as_rm(&["promote", "foo", "1.0.0"]));
    upload(&team, "1.1.0", "foo-1.1.0-notice.txt", &text("1.1.0"));
    ok(&team.as_rm(&["vote", "start", "foo", "1.1.0"]));
    upload(&team, "2.0.0", "foo-2.0.0-secret.txt", DRAFT_SECRET);
    team.add_gpg_person("tom");
    ok(&team.as_admin(&["project", "create", "bar", "--members", "tom"]));

    let site_file = |path: &str, needle: &str| {
        poll_until(format_args!("the site's {path}"), || {
            let answer = curl_get(&format!("{base}{path}"));
            let body = String::from_utf8_lossy(&answer.body).into_owned();
            if answer.status == 200 && body.contains(needle) {
                Ok(answer.body)
            } else {
                Err(format!("{}", answer.status))
            }
        })
    };
    let bar_keys = site_file("/projects/bar/KEYS", "BEGIN PGP PUBLIC KEY BLOCK");
    site_file("/projects/foo/releases/1.0.0/SHA512SUMS", "foo-1.0.0-notice.txt");
    site_file("/projects/foo/KEYS", "BEGIN PGP PUBLIC KEY BLOCK");
    assert!(!contains(&site_file("/projects/foo/KEYS", "BEGIN"), &bar_keys), "bar's KEYS differs from foo's");

    // The files aimed at, and bytes of each that no answer may hold.
    let planted = data.join("planted-secret.txt");
    std::fs::write(&planted, PLANTED_SECRET).unwrap();
    let mut draft_blobs = Vec::new();
    files_holding(&data.join("blobs"), DRAFT_SECRET, &mut draft_blobs);
    let draft_blob = draft_blobs.first().expect("the draft's file is stored in the blob store").clone();
    let passwd = first_line(Path::new("/etc/passwd"));
    assert!(passwd.starts_with(b"root:"), "{}", String::from_utf8_lossy(&passwd));
    let items = data.join("items.redb");
    let items_head = std::fs::read(&items).unwrap()[..9].to_vec();
    let needles: Vec<(&str, Vec<u8>)> = vec![
        ("the draft's file", DRAFT_SECRET.to_vec()),
        ("the planted file", PLANTED_SECRET.to_vec()),
        ("/etc/passwd", passwd),
        ("the item database", items_head),
        ("bar's KEYS", bar_keys),
    ];
    let aims = [
        Aim::File(draft_blob),
        Aim::File(planted),
        Aim::File(PathBuf::from("/etc/passwd")),
        Aim::File(items),
        Aim::File(data.join("site/projects/bar/KEYS")),
        Aim::Url("projects/bar/KEYS"),
        // Public at its own path: a server that folded `..` would serve it here.
        Aim::Url("archive/foo/0.9.0/foo-0.9.0-notice.txt"),
    ];

    let download = |path: &str, name: &str, version: &str| Prefix {
        path: path.to_string(),
        legit_name: name.to_string(),
        legit: Legit::Bytes(text(version)),
    };
    let site = |path: &str, name: &str, needle: &'static str| Prefix {
        path: path.to_string(),
        legit_name: name.to_string(),
        legit: Legit::Contains(needle),
    };
    let prefixes = [
        download("/current/foo/1.0.0/", "foo-1.0.0-notice.txt", "1.0.0"),
        download("/current/foo/latest/", "foo-1.0.0-notice.txt", "1.0.0"),
        download("/archive/foo/0.9.0/", "foo-0.9.0-notice.txt", "0.9.0"),
        download("/candidate/foo/1.1.0/", "foo-1.1.0-notice.txt", "1.1.0"),
        site("/projects/foo/", "KEYS", "BEGIN PGP PUBLIC KEY BLOCK"),
        site("/projects/foo/releases/1.0.0/", "SHA512SUMS", "foo-1.0.0-notice.txt"),
        site("/", "index.html", "<html"),
    ];

    let mut problems = Vec::new();
    let mut judge = |what: &str, answer: &Answer| {
        if !(400..500).contains(&answer.status) {
            problems.push(format!("{what}: {} (not a refusal)", answer.status));
        }
        for (name, needle) in &needles {
            if contains(&answer.body, needle) {
                problems.push(format!("{what}: the answer holds {name}"));
            }
        }
    };
    let (mut sent, mut by_curl, mut form_count) = (0, 0, 0);
    for prefix in &prefixes {
        // The real file is served, by curl and over the raw socket alike.
        let legit_path = format!("{}{}", prefix.path, prefix.legit_name);
        for answer in [curl_get(&format!("{base}{legit_path}")), raw_get(&addr, legit_path.as_bytes())] {
            assert_eq!(answer.status, 200, "{legit_path}");
            match &prefix.legit {
                Legit::Bytes(bytes) => assert_eq!(&answer.body, bytes, "{legit_path}"),
                Legit::Contains(needle) => assert!(contains(&answer.body, needle.as_bytes()), "{legit_path}"),
            }
        }

        let depth = prefix.path.split('/').filter(|s| !s.is_empty()).count();
        let mut as_is = Vec::new();
        for aim in &aims {
            let (up, target) = match aim {
                Aim::File(path) => (TO_ROOT, path.to_str().unwrap().trim_start_matches('/').to_string()),
                // From `/` there is nothing to climb: the URL is the public path itself.
                Aim::Url(_) if depth == 0 => continue,
                Aim::Url(path) => (depth, path.to_string()),
            };
            let all = forms(up, &target, &prefix.legit_name);
            form_count = form_count.max(all.len());
            for form in all {
                let path = format!("{}{}", prefix.path, form.suffix);
                if curl_sends_as_is(&path) {
                    as_is.push((form.name, path));
                } else {
                    sent += 1;
                    judge(&format!("raw {} ({})", path.escape_debug(), form.name), &raw_get(&addr, path.as_bytes()));
                }
            }
            // The plain climb as an absolute-form request target, and without the leading slash.
            let climb = format!("{}{}{target}", prefix.path, "../".repeat(up));
            for request_target in [format!("{base}{climb}"), climb.trim_start_matches('/').to_string()] {
                sent += 1;
                judge(&format!("raw {request_target}"), &raw_get(&addr, request_target.as_bytes()));
            }
        }
        let paths: Vec<&str> = as_is.iter().map(|(_, p)| p.as_str()).collect();
        for ((name, path), answer) in as_is.iter().zip(curl_batch(&base, &paths, team.work.path())) {
            judge(&format!("curl {path} ({name})"), &answer);
        }
        sent += as_is.len();
        by_curl += as_is.len();
    }
    eprintln!(
        "{form_count} forms, {} aims (the URL ones not from /), {} prefixes: {sent} requests ({by_curl} by curl \
         --path-as-is, the rest raw)",
        aims.len(),
        prefixes.len()
    );
    assert!(form_count >= 77 && by_curl > 0 && sent > by_curl, "{form_count} forms, {by_curl} by curl of {sent}");
    assert!(
        problems.is_empty(),
        "{} of {sent} requests not refused:\n{}",
        problems.len(),
        problems[..problems.len().min(60)].join("\n")
    );
}

//! What the site tests share: a project with releases in the stages a downloader meets
//! (current, archived, a candidate under vote), made through the real `trs` binary with
//! GnuPG keys, and headless Chromium run as a downloader's browser.

#![allow(dead_code)] // each test binary that includes this module uses part of it

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use trs_tests::*;

/// The project the site tests publish: committee ada, mona, max; release manager rita; no
/// minimum vote duration; a promotion archives the release it supersedes.
pub const PROJECT: &str = "bar";

/// A promoted release's files as the release manager uploaded them.
pub struct Released {
    pub version: String,
    pub tarball: PathBuf,
    pub name: String,
    /// Hex SHA-512 of the tarball, as `sha512sum` prints it.
    pub sha512: String,
}

/// Creates [`PROJECT`] with its committee; returns the fingerprints of mona and max.
pub fn project(team: &Team) -> (String, String) {
    let mona = team.add_gpg_person("mona");
    let max = team.add_gpg_person("max");
    ok(&team.as_admin(&["project", "create", PROJECT, "--members", "ada,mona,max", "--release-managers", "rita"]));
    ok(&team.as_rm(&["project", "policy", PROJECT, "--min-vote-hours", "0", "--archive-previous", "true"]));
    (mona, max)
}

/// Uploads a signed source release of `VERSION` (tarball, `.asc`, `.sha512`).
pub fn upload(team: &Team, version: &str) -> Released {
    let dir = team.path(version);
    std::fs::create_dir_all(&dir).unwrap();
    let name = format!("apache-{PROJECT}-{version}-src.tar.gz");
    let tarball = source_tarball(&dir, &name, &format!("apache-{PROJECT}-{version}"));
    let files = team.signed_set(&tarball);
    ok(&team.as_rm(&args_with(&["upload", PROJECT, version, "--json"], &files)));
    let sums = std::fs::read_to_string(format!("{}.sha512", tarball.display())).unwrap();
    let sha512 = sums.split_whitespace().next().unwrap().to_string();
    Released { version: version.into(), tarball, name, sha512 }
}

/// Opens the vote on `version` and casts ada's +1 (the vote stays open).
pub fn open_vote(team: &Team, version: &str) {
    ok(&team.as_rm(&["vote", "start", PROJECT, version]));
    ok(&team.as_admin(&["vote", "cast", PROJECT, version, "+1"]));
}

/// Uploads `version`, votes it through (ada, mona, max) and promotes it.
pub fn release(team: &Team, voters: &(String, String), version: &str) -> Released {
    let released = upload(team, version);
    open_vote(team, version);
    ok(&team.as_key(&voters.0, &["vote", "cast", PROJECT, version, "+1"]));
    ok(&team.as_key(&voters.1, &["vote", "cast", PROJECT, version, "+1"]));
    let closed = stdout_json(ok(&team.as_rm(&["vote", "close", PROJECT, version, "--json"])));
    assert_eq!(closed["vote"]["state"], "passed", "{closed:#}");
    let task = stdout_json(ok(&team.as_rm(&["promote", PROJECT, version, "--json"])));
    assert_eq!(task["state"], "done", "{task:#}");
    released
}

/// GETs `path` from the server until `ready` accepts the body (the site is published in the
/// background after each event); returns the body.
pub fn wait_for_page(team: &Team, path: &str, ready: impl Fn(&str) -> bool) -> String {
    poll_until(format_args!("GET {path} ready"), || {
        let answer = get(&team.server.url, path);
        if answer.status == 200 && ready(&answer.text) {
            Ok(answer.text)
        } else {
            Err(format!("{} {}", answer.status, answer.text))
        }
    })
}

/// Where test artifacts (screenshots) go: `target/test-artifacts/`, beside the build.
pub fn artifacts_dir() -> PathBuf {
    let target = trs_bin().parent().and_then(Path::parent).expect("target folder").to_path_buf();
    let dir = target.join("test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Headless Chromium with a fresh profile, no network of its own (no updates, sync,
/// telemetry), no sandbox (tests run as root in containers).
pub struct Chromium {
    profile: tempfile::TempDir,
}

const CHROMIUM_LIMIT: Duration = Duration::from_secs(90);

impl Chromium {
    pub fn new() -> Self {
        Chromium { profile: tempfile::tempdir().unwrap() }
    }

    fn run(&self, extra: &[String], url: &str) -> Output {
        let mut child = Command::new("chromium")
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
            ])
            .arg(format!("--user-data-dir={}", self.profile.path().display()))
            .args(extra)
            .arg(url)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run chromium (test.sh installs Debian's chromium package)");
        // Read both pipes while it runs, so a full pipe never stalls it.
        let mut stdout = child.stdout.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let out = std::thread::spawn(move || {
            let mut v = Vec::new();
            std::io::Read::read_to_end(&mut stdout, &mut v).ok();
            v
        });
        let err = std::thread::spawn(move || {
            let mut v = Vec::new();
            std::io::Read::read_to_end(&mut stderr, &mut v).ok();
            v
        });
        let start = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if start.elapsed() > CHROMIUM_LIMIT {
                let _ = child.kill();
                let _ = child.wait();
                panic!("chromium did not finish {url} within {CHROMIUM_LIMIT:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        Output { status, stdout: out.join().unwrap(), stderr: err.join().unwrap() }
    }

    /// The DOM after Chromium loaded `url` (scripts run, styles applied).
    pub fn dump_dom(&self, url: &str) -> String {
        let out = self.run(&["--dump-dom".into()], url);
        assert!(out.status.success(), "chromium --dump-dom {url}: {}", String::from_utf8_lossy(&out.stderr));
        let dom = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(dom.contains("<html"), "no document from {url}: {dom:?}");
        dom
    }

    /// `document.documentElement.scrollWidth` of the page at `base` + `path` laid out `width`
    /// CSS pixels wide (WCAG 1.4.10 reflow: at 320–390 px nothing may scroll sideways). Headless
    /// Chromium's window is at least 500 px wide, so the page (its HTML as served, with
    /// `<base href>` so its stylesheet and scripts load from the server) is laid out in an
    /// iframe of that width, from `srcdoc` so the outer page may read its layout.
    pub fn document_width(&self, base: &str, path: &str, width: u32) -> u32 {
        let html = reqwest::blocking::get(format!("{base}{path}")).unwrap().text().unwrap();
        let page = html.replacen("<head>", &format!("<head><base href=\"{base}{path}\">"), 1);
        let escaped = page.replace('&', "&amp;").replace('"', "&quot;");
        let wrapper = format!(
            "<!doctype html><html><body style=\"margin:0\"><iframe id=\"f\" style=\"width:{width}px;height:800px;border:0\" \
             srcdoc=\"{escaped}\"></iframe><script>document.getElementById('f').addEventListener('load', function () {{\
             document.body.setAttribute('data-scroll-width', this.contentDocument.documentElement.scrollWidth); }});</script></body></html>"
        );
        let file = self.profile.path().join(format!("reflow-{width}.html"));
        std::fs::write(&file, wrapper).unwrap();
        let out = self
            .run(&["--dump-dom".into(), "--virtual-time-budget=10000".into()], &format!("file://{}", file.display()));
        let dom = String::from_utf8_lossy(&out.stdout);
        let at = dom.find("data-scroll-width=\"").unwrap_or_else(|| panic!("no width measured for {path}: {dom}"));
        let rest = &dom[at + "data-scroll-width=\"".len()..];
        rest[..rest.find('"').unwrap()].parse().unwrap()
    }

    /// A PNG of `url` at 1280×1600 in `path`.
    pub fn screenshot(&self, url: &str, path: &Path) {
        let _ = std::fs::remove_file(path);
        let out = self.run(&[format!("--screenshot={}", path.display()), "--window-size=1280,1600".into()], url);
        assert!(out.status.success(), "chromium --screenshot {url}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

/// Width and height from a PNG's header, if `bytes` is a PNG.
pub fn png_size(bytes: &[u8]) -> Option<(u32, u32)> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    if bytes.len() < 24 || &bytes[..8] != SIGNATURE || &bytes[12..16] != b"IHDR" {
        return None;
    }
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    Some((be(&bytes[16..20]), be(&bytes[20..24])))
}

//! `trs import`, end to end with real GnuPG keys and signatures against `trs serve`: a small
//! Apache-style tree (two projects, one with a product; versions in folders and in file names;
//! `.sha512`, `.sha256`, `.md5` and `.sha1`; an archive tree) becomes current and archived
//! releases with their original dates, downloadable, their KEYS registered; a second run
//! changes nothing; a tampered file's release is refused with the reason while the others are
//! imported; an import killed midway finishes when run again, nothing duplicated.

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};
use trs_tests::*;

/// `sha1sum NAME > NAME.sha1`, in the file's folder.
fn sha1sum(file: &Path) {
    let name = file.file_name().unwrap().to_str().unwrap();
    let out = Command::new("sha1sum").arg(name).current_dir(file.parent().unwrap()).output().unwrap();
    assert!(out.status.success());
    std::fs::write(file.with_file_name(format!("{name}.sha1")), out.stdout).unwrap();
}

/// Sets the modification time of `path` to `unix` seconds.
fn set_mtime(path: &Path, unix: i64) {
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(unix as u64)).unwrap();
}

struct Tree {
    root: PathBuf,
    archive: PathBuf,
    /// Carl, from the KEYS files: signs every artifact.
    carl: String,
}

impl Tree {
    /// `DIR/NAME` with `contents`, signed by carl, with the checksum files `sums` makes.
    fn artifact(&self, team: &Team, dir: &Path, name: &str, contents: &[u8], sums: &[fn(&Path)]) -> PathBuf {
        std::fs::create_dir_all(dir).unwrap();
        let file = dir.join(name);
        std::fs::write(&file, contents).unwrap();
        team.gpg.detach_sign(&self.carl, &file);
        for sum in sums {
            sum(&file);
        }
        file
    }

    fn keys(&self, team: &Team, project: &str) {
        let dir = self.root.join(project);
        std::fs::create_dir_all(&dir).unwrap();
        team.gpg.export_public(&self.carl, &dir.join("KEYS"));
    }
}

/// ROOT/foo/KEYS, ROOT/foo/1.0.0/ (sha512), ROOT/foo/conn/2.0.0/ (a product, sha256),
/// ROOT/bar/KEYS, ROOT/bar/bar-3.1.tar.gz (md5, version in the name), ROOT/bar/bar-3.2.zip
/// (sha1), ARCHIVE/foo/0.9.0/ (sha512).
fn small_tree(team: &Team) -> Tree {
    let carl = team.gpg.gen_key("Carl Committer <carl@example.org>", "ed25519");
    let tree = Tree { root: team.path("dist"), archive: team.path("archive"), carl };
    tree.keys(team, "foo");
    tree.keys(team, "bar");
    let foo_dir = tree.root.join("foo");
    let src = foo_dir.join("1.0.0");
    std::fs::create_dir_all(&src).unwrap();
    let tarball = source_tarball(&src, "apache-foo-1.0.0-src.tar.gz", "apache-foo-1.0.0");
    std::fs::remove_dir_all(src.join("tree")).unwrap();
    team.gpg.detach_sign(&tree.carl, &tarball);
    sha512sum(&tarball);
    tree.artifact(team, &foo_dir.join("conn/2.0.0"), "foo-conn-2.0.0.zip", b"conn 2.0.0\n", &[sha256sum]);
    let bar = tree.root.join("bar");
    tree.artifact(team, &bar, "bar-3.1.tar.gz", b"bar 3.1\n", &[md5sum]);
    tree.artifact(team, &bar, "bar-3.2.zip", b"bar 3.2\n", &[sha1sum]);
    for f in std::fs::read_dir(&bar).unwrap() {
        let f = f.unwrap().path();
        if f.file_name().unwrap().to_str().unwrap().starts_with("bar-3.1") {
            set_mtime(&f, 1_433_116_800); // 2015-06-01
        }
    }
    tree.artifact(team, &tree.archive.join("foo/0.9.0"), "apache-foo-0.9.0.tar.gz", b"foo 0.9.0\n", &[sha512sum]);
    tree
}

fn import(team: &Team, tree: &Tree, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "import",
        tree.root.to_str().unwrap(),
        "--archive",
        tree.archive.to_str().unwrap(),
        "--members",
        "ada",
        "--json",
    ];
    args.extend_from_slice(extra);
    team.as_admin(&args)
}

fn results(report: &Value) -> Vec<(String, String)> {
    report["releases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["release"].as_str().unwrap().to_string(), r["result"].as_str().unwrap().to_string()))
        .collect()
}

fn events(team: &Team, project: &str) -> Vec<Value> {
    let out = ok(&team.anonymous(&["events", "--project", project, "--json"])).stdout.clone();
    String::from_utf8(out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn download(team: &Team, path: &str) -> (u16, Vec<u8>) {
    let resp = reqwest::blocking::get(format!("{}{path}", team.server.url)).unwrap();
    (resp.status().as_u16(), resp.bytes().unwrap().to_vec())
}

/// The stream's view of a project's releases: release name → (stage, promoted_at).
fn views(team: &Team, project: &str) -> Vec<(String, String, i64)> {
    let view = stdout_json(ok(&team.anonymous(&["releases", "--project", project, "--json"])));
    view["releases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let id = &r["release"];
            let name = match id["product"].as_str() {
                Some(p) => format!("{}/{p}/{}", id["project"].as_str().unwrap(), id["version"].as_str().unwrap()),
                None => format!("{}/{}", id["project"].as_str().unwrap(), id["version"].as_str().unwrap()),
            };
            (name, r["stage"].as_str().unwrap().to_string(), r["promoted_at"].as_i64().unwrap_or(0))
        })
        .collect()
}

#[test]
fn a_release_tree_becomes_current_and_archived_releases_and_a_second_run_changes_nothing() {
    let team = Team::new();
    let tree = small_tree(&team);
    let dates = team.file(
        "dates.json",
        json!({"foo/1.0.0": "2020-01-02", "foo/0.9.0": "2019-03-04T05:06:07Z"}).to_string().as_bytes(),
    );

    // --dry-run reads the trees and sends nothing.
    let dry = stdout_json(ok(&import(&team, &tree, &["--dry-run"])));
    assert_eq!(dry["summary"], json!({"would-import": 5}), "{dry:#}");
    assert!(events(&team, "foo").iter().all(|e| e["type"] != "imported"));

    let first = stdout_json(ok(&import(&team, &tree, &["--dates", dates.to_str().unwrap()])));
    let mut got = results(&first);
    got.sort();
    let expected = ["bar/3.1", "bar/3.2", "foo/0.9.0", "foo/1.0.0", "foo/conn/2.0.0"];
    assert_eq!(got, expected.map(|r| (r.to_string(), "imported".to_string())), "{first:#}");
    assert_eq!(first["projects"][0]["project"], "bar");
    assert_eq!(first["projects"][0]["result"], "created", "{first:#}");
    assert_eq!(first["projects"][1]["products_added"], json!(["conn"]), "{first:#}");

    // Stages and original dates: from the date map, else the files' modification times.
    let mut foo_views = views(&team, "foo");
    foo_views.sort();
    assert_eq!(
        foo_views,
        [
            ("foo/0.9.0".to_string(), "archived".to_string(), 1_551_675_967),
            ("foo/1.0.0".to_string(), "current".to_string(), 1_577_923_200),
            ("foo/conn/2.0.0".to_string(), "current".to_string(), foo_views[2].2),
        ]
    );
    let bar = views(&team, "bar");
    assert!(bar.contains(&("bar/3.1".to_string(), "current".to_string(), 1_433_116_800)), "{bar:?}");

    // Downloadable at the public coordinates, byte for byte; the archive under /archive/.
    let tarball = std::fs::read(tree.root.join("foo/1.0.0/apache-foo-1.0.0-src.tar.gz")).unwrap();
    assert_eq!(download(&team, "/current/foo/1.0.0/apache-foo-1.0.0-src.tar.gz"), (200, tarball));
    assert_eq!(download(&team, "/current/foo/conn/2.0.0/foo-conn-2.0.0.zip").0, 200);
    assert_eq!(download(&team, "/current/bar/3.2/bar-3.2.zip.sha1").0, 200);
    assert_eq!(download(&team, "/archive/foo/0.9.0/apache-foo-0.9.0.tar.gz"), (200, b"foo 0.9.0\n".to_vec()));
    assert_eq!(download(&team, "/current/bar/latest/bar-3.2.zip").0, 200, "latest is the newest imported release");

    // Verified like any upload: the signature names carl; the old md5 was checked.
    let status = stdout_json(ok(&team.anonymous(&["status", "bar", "3.1", "--json"])));
    assert_eq!(status["stage"], "current");
    let (result, reason) = check(&status, "bar-3.1.tar.gz", "signature");
    assert_eq!(result, "pass", "{reason}");
    assert!(
        checks_named(&status, "bar-3.1.tar.gz", "checksum").iter().any(|(r, why)| r == "pass" && why.contains("MD5"))
    );

    // The KEYS registered: carl is a person, his key in both projects' KEYS.
    for p in ["foo", "bar"] {
        let keys = ok(&team.anonymous(&["keys", "export", p])).stdout.clone();
        assert!(String::from_utf8_lossy(&keys).contains(&tree.carl), "{p}'s KEYS lacks carl's key");
    }
    // One `imported` event per release, with the stage it entered.
    let imported: Vec<Value> = events(&team, "foo").into_iter().filter(|e| e["type"] == "imported").collect();
    assert_eq!(imported.len(), 3);
    let one = imported.iter().find(|e| e["release"]["version"] == "1.0.0").unwrap();
    assert_eq!(one["stage"], json!({"from": null, "to": "current"}), "{one:#}");
    assert_eq!(one["released_at"], 1_577_923_200);

    // The site shows them like any release (published in the background, after each event).
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (code, page) = download(&team, "/projects/foo/releases/1.0.0/");
        let page = String::from_utf8_lossy(&page);
        if code == 200 && page.contains("apache-foo-1.0.0-src.tar.gz") && page.contains("2020-01-02") {
            break;
        }
        assert!(Instant::now() < deadline, "release page not as expected ({code}):\n{page}");
        std::thread::sleep(Duration::from_millis(100));
    }

    // A second run changes nothing, and says so.
    let before = (events(&team, "foo").len(), events(&team, "bar").len());
    let second = stdout_json(ok(&import(&team, &tree, &["--dates", dates.to_str().unwrap()])));
    assert_eq!(second["summary"], json!({"already-imported": 5}), "{second:#}");
    assert_eq!((events(&team, "foo").len(), events(&team, "bar").len()), before);
    let text = ok(&team.as_admin(&[
        "import",
        tree.root.to_str().unwrap(),
        "--archive",
        tree.archive.to_str().unwrap(),
        "--dates",
        dates.to_str().unwrap(),
    ]))
    .stdout
    .clone();
    assert!(String::from_utf8_lossy(&text).contains("nothing changed"), "{}", String::from_utf8_lossy(&text));

    // Only an admin imports.
    let out = team.as_rm(&["import", tree.root.to_str().unwrap(), "--project", "foo", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn a_tampered_file_refuses_its_release_with_the_reason_and_the_others_are_imported() {
    let team = Team::new();
    let tree = small_tree(&team);
    let foo_dir = tree.root.join("foo");
    let bad = tree.artifact(&team, &foo_dir.join("1.1.0"), "foo-1.1.0.tar.gz", b"foo 1.1.0\n", &[sha512sum]);
    // Changed after signing and summing, as a corrupted mirror copy would be.
    std::fs::write(&bad, b"foo 1.1.0 with a backdoor\n").unwrap();
    // A checksum that lies while the signature is good.
    let lying = tree.artifact(&team, &foo_dir.join("1.2.0"), "foo-1.2.0.tar.gz", b"foo 1.2.0\n", &[]);
    std::fs::write(
        lying.with_file_name("foo-1.2.0.tar.gz.md5"),
        "00000000000000000000000000000000  foo-1.2.0.tar.gz\n",
    )
    .unwrap();

    let out = import(&team, &tree, &[]);
    assert_eq!(out.status.code(), Some(1), "something was refused: exit 1; {}", stderr(&out));
    let report = stdout_json(&out);
    let outcome =
        |name: &str| report["releases"].as_array().unwrap().iter().find(|r| r["release"] == name).cloned().unwrap();
    let refused = outcome("foo/1.1.0");
    assert_eq!(refused["result"], "refused", "{report:#}");
    let reason = refused["reason"].as_str().unwrap();
    assert!(reason.contains("import-refused") && reason.contains("foo-1.1.0.tar.gz: signature"), "{reason}");
    let lied = outcome("foo/1.2.0");
    assert_eq!(lied["result"], "refused", "{report:#}");
    assert!(lied["reason"].as_str().unwrap().contains("MD5"), "{lied:#}");
    assert_eq!(report["summary"], json!({"imported": 5, "refused": 2}), "{report:#}");
    // Nothing of a refused release is public or recorded.
    assert_eq!(download(&team, "/current/foo/1.1.0/foo-1.1.0.tar.gz").0, 404);
    assert!(!views(&team, "foo").iter().any(|(r, _, _)| r == "foo/1.1.0" || r == "foo/1.2.0"));
    let status = team.anonymous(&["status", "foo", "1.1.0", "--json"]);
    assert!(stderr(&status).contains("not-found"), "{}", stderr(&status));
}

#[test]
fn an_import_killed_midway_finishes_when_run_again_and_nothing_is_duplicated() {
    let team = Team::new();
    let tree = small_tree(&team);
    let many = tree.root.join("foo");
    for i in 0..12 {
        tree.artifact(&team, &many, &format!("foo-4.{i}.0.tar.gz"), format!("foo 4.{i}\n").as_bytes(), &[sha512sum]);
    }
    let total = 5 + 12;

    // Killed once the first releases are in (signing each call through GnuPG keeps the rest
    // waiting), then run again.
    let mut child = Command::new(trs_bin())
        .env("TRS_URL", &team.server.url)
        .env("GNUPGHOME", team.gpg.home.path())
        .env("TRS_GPG_KEY", &team.admin)
        .args(["import", tree.root.to_str().unwrap(), "--archive", tree.archive.to_str().unwrap(), "--members", "ada"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Project bar exists only once the import has created it.
    let imported = |team: &Team| {
        ["foo", "bar"]
            .iter()
            .filter(|p| team.anonymous(&["events", "--project", p, "--json"]).status.success())
            .flat_map(|p| events(team, p))
            .filter(|e| e["type"] == "imported")
            .map(|e| e["release"].to_string())
            .collect::<Vec<_>>()
    };
    let deadline = Instant::now() + Duration::from_secs(120);
    while imported(&team).len() < 2 {
        assert!(Instant::now() < deadline, "the import never got going");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let partial = imported(&team).len();
    assert!(partial < total, "killed midway: {partial} of {total} imported");

    let report = stdout_json(ok(&import(&team, &tree, &[])));
    let n = |k: &str| report["summary"][k].as_u64().unwrap_or(0) as usize;
    assert_eq!(n("imported") + n("already-imported"), total, "{report:#}");
    assert!(n("already-imported") >= partial, "{report:#}");
    let mut all = imported(&team);
    assert_eq!(all.len(), total, "one imported event per release");
    all.sort();
    all.dedup();
    assert_eq!(all.len(), total, "nothing imported twice");
    let again = stdout_json(ok(&import(&team, &tree, &[])));
    assert_eq!(again["summary"], json!({"already-imported": total}), "{again:#}");
}

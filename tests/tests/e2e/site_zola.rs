//! The site is a real zola site: `zola build` over the tree `trs site zola --out DIR` writes
//! (zola.toml, templates/, static/, content/) gives the same objects, byte for byte, as
//! `trs site build --full`. zola itself: `$TRS_ZOLA`, else `zola` on PATH, else the binary
//! test.sh builds into `~/.cache/trs-tools/bin/zola`; without one the test fails.

use crate::site_check::files;
use crate::site_support::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use trs_tests::*;

fn zola_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("TRS_ZOLA") {
        return bin.into();
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join("zola"))
        .find(|p| p.is_file());
    on_path.unwrap_or_else(|| {
        let home = std::env::var_os("HOME").expect("HOME is set");
        Path::new(&home).join(".cache/trs-tools/bin/zola")
    })
}

/// A project with an archived release, a current one, a candidate under vote and a draft,
/// history pages of 4 events (so numbered pages exist), built both ways.
#[test]
fn zola_builds_the_same_site_as_trs_from_the_tree_trs_writes() {
    let zola = zola_bin();
    assert!(zola.is_file(), "no zola at {} (test.sh builds it; or set TRS_ZOLA)", zola.display());
    let mut team = Team::new();
    let voters = project(&team);
    release(&team, &voters, "1.0.0");
    release(&team, &voters, "1.1.0");
    upload(&team, "1.2.0");
    open_vote(&team, "1.2.0");
    upload(&team, "2.0.0-beta.1");

    // Both sides read the same overrides: a smaller history page, so numbered pages exist.
    let overrides = tempfile::tempdir().unwrap();
    let config = include_str!("../../../site/zola.toml").replace("history_page_size = 50", "history_page_size = 4");
    assert!(config.contains("history_page_size = 4"));
    std::fs::write(overrides.path().join("zola.toml"), config).unwrap();

    team.server.stop();
    let run = |args: &[&str], out: &Path| {
        let output = Command::new(trs_bin())
            .args(args)
            .arg("--data")
            .arg(team.server.data.path())
            .arg("--templates")
            .arg(overrides.path())
            .arg("--out")
            .arg(out)
            .output()
            .unwrap();
        ok(&output);
    };
    let work = tempfile::tempdir().unwrap();
    let (trs_site, tree, zola_site) = (work.path().join("trs"), work.path().join("tree"), work.path().join("public"));
    // Both rendered for the origin they will be served from: absolute URLs on both sides.
    const ORIGIN: &str = "https://downloads.example.org";
    run(&["site", "build", "--full", "--download-url", ORIGIN], &trs_site);
    run(&["site", "zola", "--download-url", ORIGIN], &tree);
    team.server.restart();

    assert!(tree.join("zola.toml").is_file() && tree.join("templates/release.html").is_file());
    let release_md = std::fs::read_to_string(tree.join(format!("content/projects/{PROJECT}/releases/1.1.0/index.md")))
        .expect("the release is a page bundle");
    assert!(release_md.starts_with("+++\n") && release_md.contains("template = \"release.html\""), "{release_md}");
    // Data objects are static files: zola would drop a page bundle's KEYS or SHA512SUMS (no
    // extension) as an editor's temp file.
    let files_json = std::fs::read_to_string(tree.join(format!("static/projects/{PROJECT}/releases/1.1.0/files.json")))
        .expect("files.json is a static file");
    let listed: serde_json::Value = serde_json::from_str(&files_json).unwrap();
    let url = listed["files"][0]["url"].as_str().unwrap_or_default();
    assert!(url.starts_with(&format!("{ORIGIN}/current/{PROJECT}/1.1.0/")), "{listed:#}");
    assert!(tree.join(format!("static/projects/{PROJECT}/releases/1.1.0/SHA512SUMS")).is_file());
    assert!(tree.join(format!("static/projects/{PROJECT}/KEYS")).is_file());
    assert!(tree.join(format!("content/projects/{PROJECT}/_index.md")).is_file());

    let built =
        Command::new(&zola).current_dir(&tree).args(["build", "--output-dir"]).arg(&zola_site).output().unwrap();
    assert!(
        built.status.success(),
        "zola build failed:\n{}{}",
        String::from_utf8_lossy(&built.stdout),
        String::from_utf8_lossy(&built.stderr)
    );

    // Nothing is normalised: zola writes exactly the objects trs writes.
    let (ours, zolas) = (files(&trs_site), files(&zola_site));
    assert_eq!(
        ours.symmetric_difference(&zolas).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "objects only one side wrote"
    );
    for expected in [
        "index.html".to_string(),
        "404.html".into(),
        "site.css".into(),
        format!("projects/{PROJECT}/index.html"),
        format!("projects/{PROJECT}/history/index.html"),
        format!("projects/{PROJECT}/history/2/index.html"),
        format!("projects/{PROJECT}/releases/2.0.0-beta.1/index.html"),
    ] {
        assert!(ours.contains(&expected), "{expected} not built: {ours:?}");
    }
    let mut differ = Vec::new();
    for path in &ours {
        let (a, b) = (std::fs::read(trs_site.join(path)).unwrap(), std::fs::read(zola_site.join(path)).unwrap());
        if a != b {
            differ.push(format!(
                "{path}:\n--- trs\n{}\n--- zola\n{}",
                String::from_utf8_lossy(&a),
                String::from_utf8_lossy(&b)
            ));
        }
    }
    assert!(differ.is_empty(), "{} of {} objects differ:\n{}", differ.len(), ours.len(), differ.join("\n"));
}

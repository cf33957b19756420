//! The full site build (`trs site build --full --out DIR`) as a downloader's browser and a
//! screen reader meet it: no broken internal link (site pages in the build, release files at
//! public coordinates that the server serves), the basic accessibility structure on every
//! page, and enough colour contrast in the stylesheet.
//!
//! The checks themselves are tested first, on small pages made to fail them, so that a site
//! passing them means something.

use crate::site_check::*;
use crate::site_support::*;
use std::path::Path;
use trs_tests::*;

fn build_folder(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let file = dir.path().join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    }
    dir
}

const GOOD_PAGE: &str = r##"<!doctype html><html lang="en"><head><title>foo 1.0 — downloads</title>
<link rel="stylesheet" href="/static/site.css"></head><body>
<a class="skip" href="#main">Skip</a>
<header><nav><a href="/">All projects</a> <a href="../../">foo</a></nav></header>
<main id="main"><h1>foo 1.0</h1><h2 id="files">Files</h2>
<a href="/current/foo/1.0/foo-1.0.tar.gz">foo-1.0.tar.gz</a> <a href="/projects/foo/KEYS">KEYS</a>
<h3>Verify</h3><h2>Vote</h2>
<form><label for="q">Search</label><input id="q" type="search"><label>Name <input name="n"></label>
<input type="submit" value="Go"></form><img src="/static/logo.png" alt=""></main>
<footer><a href="https://example.org/">elsewhere</a> <a href="mailto:a@example.org">mail</a></footer></body></html>"##;

#[test]
fn links_resolve_against_the_build_and_release_coordinates_are_set_aside() {
    let site = build_folder(&[
        ("index.html", "<html></html>"),
        ("projects/foo/index.html", "<html></html>"),
        ("projects/foo/KEYS", "keys"),
        ("projects/foo/releases/1.0/index.html", GOOD_PAGE),
        ("static/site.css", "body{}"),
        ("static/logo.png", "png"),
    ]);
    let pages = pages(site.path());
    let (problems, coordinates) = broken_links(site.path(), &pages);
    assert_eq!(problems, Vec::<String>::new());
    let targets: Vec<&str> = coordinates.iter().map(|l| l.target.as_str()).collect();
    assert_eq!(targets, ["current/foo/1.0/foo-1.0.tar.gz"]);
}

#[test]
fn a_missing_page_or_fragment_is_a_broken_link() {
    let site = build_folder(&[
        (
            "index.html",
            r##"<a href="projects/bar/">bar</a> <a href="#nowhere">x</a> <a href="/static/gone.css">y</a>"##,
        ),
        ("projects/foo/index.html", r##"<a href="../../index.html#top">up</a> <a href="releases/1.0/">1.0</a>"##),
    ]);
    let (problems, _) = broken_links(site.path(), &pages(site.path()));
    let joined = problems.join("\n");
    assert_eq!(problems.len(), 5, "{joined}");
    for missing in
        ["/projects/bar/index.html", "#nowhere", "/static/gone.css", "#top", "/projects/foo/releases/1.0/index.html"]
    {
        assert!(joined.contains(missing), "{missing} not reported:\n{joined}");
    }
}

#[test]
fn a_well_formed_page_has_no_accessibility_problem() {
    let site = build_folder(&[("index.html", GOOD_PAGE)]);
    let pages = pages(site.path());
    assert_eq!(accessibility_problems(&pages[0]), Vec::<String>::new());
}

#[test]
fn missing_structure_labels_alt_text_and_skipped_headings_are_reported() {
    let bad = r#"<!doctype html><html><head><title> </title></head><body>
<main><h2>Files</h2><h1>foo</h1><h1>again</h1><h4>deep</h4><img src="x.png">
<input id="q" type="search"><select></select><input type="hidden" name="h"></main><main></main>
<p id="x"></p><p id="x"></p></body></html>"#;
    let site = build_folder(&[("index.html", bad)]);
    let problems = accessibility_problems(&pages(site.path())[0]).join("\n");
    for expected in [
        "no lang",
        "<title>",
        "exactly one <main>, has 2",
        "no <header>",
        "no <footer>",
        "no <nav>",
        "exactly one <h1>, has 2",
        "<h4> \"deep\" skips a level",
        "<img src=\"x.png\"> has no alt",
        "<input id=\"q\" type=\"search\"> has no label",
        "<select> has no label",
        "id \"x\" is used more than once",
    ] {
        assert!(problems.contains(expected), "{expected:?} not reported:\n{problems}");
    }
    assert!(!problems.contains("hidden"), "hidden inputs need no label:\n{problems}");
}

#[test]
fn contrast_is_the_wcag_ratio() {
    let black = Rgb(0.0, 0.0, 0.0);
    let white = Rgb(1.0, 1.0, 1.0);
    assert!((contrast(black, white) - 21.0).abs() < 1e-9);
    assert!((contrast(white, white) - 1.0).abs() < 1e-9);
    // #767676 is the lightest grey that passes AA on white; #777777 just fails.
    let grey = |v: f64| Rgb(v / 255.0, v / 255.0, v / 255.0);
    assert!(contrast(grey(118.0), white) >= MIN_CONTRAST);
    assert!(contrast(grey(119.0), white) < MIN_CONTRAST);
}

#[test]
fn low_contrast_pairs_are_found_through_custom_properties_and_media_blocks() {
    let css = r#"
        :root { --fg: #1a1a1a; --bg: #fff; --pale: #999999; }
        body { color: var(--fg); background: var(--bg); }
        .ok { color: #0645ad; }
        pre { background: #f4f4f4; }
        @media (max-width: 40rem) { .note { color: var(--pale) !important; } }
        .warn { background: var(--missing, #777777) url(x.png) no-repeat; }
    "#;
    let (problems, pairs) = contrast_problems(css);
    let joined = problems.join("\n");
    assert!(joined.contains("color of .note on page background"), "{joined}");
    assert!(joined.contains("body text on background of .warn"), "{joined}");
    assert!(!joined.contains("color of .ok on page background"), "{joined}");
    assert_eq!(pairs.len(), 4 * 4, "(body text, body, .ok, .note) × (page, body, pre, .warn)");
    let (good, _) = contrast_problems(":root{--fg:#111} body{color:var(--fg)} a{color:#0645ad}");
    assert_eq!(good, Vec::<String>::new());
}
/// The stylesheet as shipped in `site/static/`, independent of any build.
#[test]
fn the_shipped_stylesheet_has_enough_contrast() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../site/static");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "css") {
            let (problems, pairs) = contrast_problems(&std::fs::read_to_string(&path).unwrap());
            assert_eq!(problems, Vec::<String>::new(), "{}", path.display());
            assert!(pairs.len() > 1, "{}: no colours found", path.display());
            checked += 1;
        }
    }
    assert!(checked > 0, "no stylesheet in {}", dir.display());
}

/// A project with a current release, an archived one and a candidate under vote, built in
/// full from the data folder; every page checked.
#[test]
fn a_full_build_has_no_broken_link_and_every_page_passes_the_accessibility_checks() {
    let mut team = Team::new();
    let voters = project(&team);
    let archived = release(&team, &voters, "1.0.0");
    let current = release(&team, &voters, "1.1.0"); // archives 1.0.0 (the project's policy)
    let candidate = upload(&team, "1.2.0");
    open_vote(&team, "1.2.0");

    // `trs site build` opens the data folder itself: not while the server holds it.
    team.server.stop();
    let out = tempfile::tempdir().unwrap();
    let build = std::process::Command::new(trs_bin())
        .args(["site", "build", "--full", "--json", "--data"])
        .arg(team.server.data.path())
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    let report = stdout_json(ok(&build));
    team.server.restart();

    let pages = pages(out.path());
    let built = files(out.path());
    for expected in [
        "index.html".to_string(),
        format!("projects/{PROJECT}/index.html"),
        format!("projects/{PROJECT}/KEYS"),
        format!("projects/{PROJECT}/releases/1.0.0/index.html"),
        format!("projects/{PROJECT}/releases/1.1.0/index.html"),
        format!("projects/{PROJECT}/releases/1.2.0/index.html"),
    ] {
        assert!(built.contains(&expected), "{expected} not built; report {report:#}; built: {built:?}");
    }

    let (mut problems, coordinates) = broken_links(out.path(), &pages);
    // Release files are served at their public coordinates, not from the build: ask the server.
    let mut seen = std::collections::BTreeSet::new();
    for link in &coordinates {
        if seen.insert(link.target.clone()) {
            let answer = get(&team.server.url, &format!("/{}", link.target));
            if answer.status != 200 {
                problems.push(format!("{}: {} -> GET /{} is {}", link.page, link.element, link.target, answer.status));
            }
        }
    }
    for released in [&archived, &current, &candidate] {
        assert!(
            coordinates.iter().any(|l| l.target.ends_with(&format!("/{}/{}", released.version, released.name))),
            "no page links {} {}: {coordinates:#?}",
            released.version,
            released.name
        );
    }
    for page in &pages {
        problems.extend(accessibility_problems(page));
    }
    let sheets = stylesheets(&pages);
    assert!(!sheets.is_empty(), "the pages link no stylesheet");
    for sheet in &sheets {
        let css = std::fs::read_to_string(out.path().join(sheet)).unwrap();
        problems.extend(contrast_problems(&css).0.into_iter().map(|p| format!("{sheet}: {p}")));
    }
    assert!(problems.is_empty(), "{} problems in {} pages:\n{}", problems.len(), pages.len(), problems.join("\n"));
}

//! The site in a real browser: headless Chromium (Debian's package) loads the directory, a
//! project page and a release page from `trs serve` after a release was voted and promoted
//! with GnuPG keys, and what a downloader needs is in the rendered page: the project, the
//! version, the files with their SHA-512, the verification commands and the KEYS link.
//! Screenshots of the three pages are saved under `target/test-artifacts/`.

use crate::site_support::*;
use trs_tests::*;

/// The text of a DOM with tags removed and whitespace collapsed (what a reader sees, roughly).
fn visible_text(dom: &str) -> String {
    let fragment = scraper::Html::parse_document(dom);
    let body = scraper::Selector::parse("body").unwrap();
    let text: String = fragment.select(&body).flat_map(|b| b.text()).collect::<Vec<_>>().join(" ");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The `href`s of the DOM's links.
fn hrefs(dom: &str) -> Vec<String> {
    let fragment = scraper::Html::parse_document(dom);
    let a = scraper::Selector::parse("a[href]").unwrap();
    fragment.select(&a).filter_map(|e| e.value().attr("href")).map(str::to_string).collect()
}

#[test]
fn a_downloader_finds_files_checksums_and_verification_steps_in_the_browser() {
    let team = Team::new();
    let voters = project(&team);
    let released = release(&team, &voters, "1.0.0");
    let base = &team.server.url;
    let project_path = format!("/projects/{PROJECT}/");
    let release_path = format!("/projects/{PROJECT}/releases/1.0.0/");
    // The site is published in the background after each event: wait for the promotion.
    wait_for_page(&team, &release_path, |html| html.contains(&released.sha512));
    wait_for_page(&team, "/", |html| html.contains("1.0.0"));

    let chromium = Chromium::new();

    let directory = chromium.dump_dom(&format!("{base}/"));
    let text = visible_text(&directory);
    assert!(text.contains(PROJECT) && text.contains("1.0.0"), "directory lists the project and its release: {text}");
    assert!(hrefs(&directory).iter().any(|h| h.ends_with(&project_path)), "directory links the project");

    let project_dom = chromium.dump_dom(&format!("{base}{project_path}"));
    let text = visible_text(&project_dom);
    assert!(text.contains("1.0.0"), "project page shows the current release: {text}");
    let links = hrefs(&project_dom);
    assert!(links.iter().any(|h| h.ends_with(&format!("/projects/{PROJECT}/KEYS"))), "KEYS link: {links:?}");
    assert!(links.iter().any(|h| h.ends_with(&release_path)), "release page link: {links:?}");

    let release_dom = chromium.dump_dom(&format!("{base}{release_path}"));
    let text = visible_text(&release_dom);
    for needed in [
        PROJECT,
        "1.0.0",
        released.name.as_str(),
        released.sha512.as_str(),
        "gpg --import KEYS",
        "gpg --verify",
        "sha512sum -c",
    ] {
        assert!(text.contains(needed), "release page shows {needed:?}:\n{text}");
    }
    let links = hrefs(&release_dom);
    for file in [released.name.clone(), format!("{}.asc", released.name), format!("{}.sha512", released.name)] {
        let href = links
            .iter()
            .find(|h| h.ends_with(&format!("/1.0.0/{file}")))
            .unwrap_or_else(|| panic!("no link to {file}: {links:?}"));
        // The link a downloader clicks serves the very bytes uploaded.
        if file == released.name {
            let url = if href.starts_with("http") { href.clone() } else { format!("{base}{href}") };
            let bytes = reqwest::blocking::get(&url).unwrap().bytes().unwrap();
            assert_eq!(bytes.as_ref(), std::fs::read(&released.tarball).unwrap().as_slice(), "GET {url}");
        }
    }
    assert!(links.iter().any(|h| h.ends_with(&format!("/projects/{PROJECT}/KEYS"))), "KEYS link: {links:?}");

    // Reflow (WCAG 1.4.10): on a phone nothing scrolls sideways; hashes, revision keys,
    // fingerprints and tables wrap or scroll inside their own box.
    let history_path = format!("/projects/{PROJECT}/history/");
    for path in ["/", project_path.as_str(), release_path.as_str(), history_path.as_str()] {
        for width in [320, 390] {
            let measured = chromium.document_width(base, path, width);
            assert!(measured <= width, "{path} is {measured} px wide at {width} px");
        }
    }

    let artifacts = artifacts_dir();
    for (name, path) in [("directory", "/".to_string()), ("project", project_path), ("release", release_path)] {
        let file = artifacts.join(format!("site-{name}.png"));
        chromium.screenshot(&format!("{base}{path}"), &file);
        let bytes = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert_eq!(png_size(&bytes), Some((1280, 1600)), "{} is a 1280×1600 PNG", file.display());
        // A blank page compresses to a few hundred bytes; a rendered page with text is larger.
        assert!(bytes.len() > 10_000, "{} is only {} bytes: an empty page?", file.display(), bytes.len());
    }
}

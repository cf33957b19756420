//! The site from a real world (embedded stores, sequoia-made keys, the real promotion task):
//! a promoted release with signed files and a state, a candidate under vote, a revoked
//! release. Snapshots of every page kind and JSON view (random key material and hashes
//! redacted; the clock is frozen so times are stable), the incremental rules (a vote cast
//! re-renders a handful of objects; publishing again writes nothing), and a full build that
//! deletes what no page produces.
//!
//! Snapshots are insta's, in tests/snapshots/NAME.snap: a missing snapshot fails like a changed
//! one, and test.sh sets `INSTA_UPDATE=no` so a run writes nothing into the source tree. To
//! accept a change on purpose, `INSTA_UPDATE=always cargo test -p trs-site --test site` rewrites
//! them and `git diff` is the review (`cargo insta review` too, where cargo-insta is installed).

use std::sync::Arc;
use trs_app::release_views::{self, Scope};
use trs_app::test_support::{
    TestClock, World, add_project, force_current_for_tests, schema_errors, upload_files, world,
};
use trs_app::{App, lifecycle, projects, stream, vote};
use trs_core::{Action, PolicyOverride, ReleaseId, StreamId, VoteValue, authorize};
use trs_site::render::Renderer;
use trs_site::{Site, paths};
use trs_storage::embedded::FolderSiteStore;
use trs_storage::{NoCdn, SiteObject, SiteStore};

const NOW: i64 = 1_893_456_000; // 2030-01-01T00:00:00Z (after the keys were made)

fn rel(version: &str) -> ReleaseId {
    ReleaseId { project: "demo".parse().unwrap(), product: None, version: version.parse().unwrap() }
}

struct Fixture {
    w: World,
    clock: Arc<TestClock>,
    site: Site,
    store: Arc<FolderSiteStore>,
    _dir: tempfile::TempDir,
}

async fn upload_signed(w: &World, id: &ReleaseId) {
    let name = format!("demo-{}.tar.gz", id.version);
    let bytes = format!("the source of demo {}", id.version).into_bytes();
    let signature = trs_auth::RequestSigner::sign_detached(&w.rm.signer(), &bytes).unwrap();
    let sum = {
        use sha2::Digest;
        format!("{}  {name}\n", hex::encode(sha2::Sha512::digest(&bytes)))
    };
    let asc = format!("{name}.asc");
    let sha = format!("{name}.sha512");
    let files: [(&str, &[u8]); 3] = [(&name, &bytes), (&asc, &signature), (&sha, sum.as_bytes())];
    upload_files(&w.app, &w.blobs, &w.rm.caller(), id, &files).await;
}

/// Project `demo`: 1.0.0 current (state lts), 0.9.0 promoted then revoked, 1.1.0 under vote.
async fn fixture() -> Fixture {
    let mut w = world().await;
    let clock = TestClock::at(NOW);
    w.app.clock = clock.clone();
    let permit = authorize(&w.admin.person, None, Action::Administer).unwrap();
    projects::create_project(
        &w.app,
        &permit,
        &w.admin.caller().actor(),
        projects::NewProject {
            name: "demo".parse().unwrap(),
            members: ["ada".parse().unwrap()].into(),
            committers: ["carl".parse().unwrap()].into(),
            release_managers: ["rita".parse().unwrap()].into(),
            products: Default::default(),
        },
    )
    .await
    .unwrap();
    let (ada, rita) = (w.admin.caller(), w.rm.caller());
    let lenient = PolicyOverride { strict: Some(false), min_binding: Some(1), ..Default::default() };
    projects::set_policy(&w.app, &rita, &"demo".parse().unwrap(), None, lenient).await.unwrap();
    for v in ["0.9.0", "1.0.0"] {
        clock.advance(3600);
        upload_signed(&w, &rel(v)).await;
        force_current_for_tests(&w.app, &rel(v), &rita).await;
    }
    clock.advance(3600);
    lifecycle::enter_state(&w.app, &rita, &rel("1.0.0"), "lts").await.unwrap();
    lifecycle::revoke(&w.app, &rita, &rel("0.9.0"), "CVE-2026-0001: remote code execution in the parser")
        .await
        .unwrap();
    clock.advance(3600);
    upload_signed(&w, &rel("1.1.0")).await;
    vote::open(&w.app, &rita, &rel("1.1.0"), None).await.unwrap();
    vote::cast(&w.app, &ada, &rel("1.1.0"), VoteValue::Plus, None).await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(FolderSiteStore::open(dir.path()).unwrap());
    let site = Site::new(Renderer::embedded(), store.clone(), Arc::new(NoCdn));
    Fixture { w, clock, site, store, _dir: dir }
}

/// Replaces every run of 32 or more hex digits (keys, fingerprints, hashes) by its length, so
/// snapshots do not depend on the random keys.
fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() >= 32 {
            out.push_str(&format!("[hex{}]", run.len()));
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_hexdigit() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// The size cell of each signature file: an armored signature's length varies by a byte
/// from one key to the next.
fn redact_signature_sizes(text: &str) -> String {
    let mut out = Vec::new();
    let mut after_signature = false;
    for line in text.lines() {
        if after_signature && line.starts_with("<td class=\"size\">") && line.ends_with(" B</td>") {
            out.push("<td>[signature size]</td>".to_string());
        } else {
            out.push(line.to_string());
        }
        after_signature = line.ends_with(".asc</a></th>") || line.ends_with(".asc</th>");
    }
    out.join("\n") + if text.ends_with('\n') { "\n" } else { "" }
}

/// Compares the page published at `path` with its reviewed snapshot `name`, key material
/// redacted first. The file is tests/snapshots/NAME.snap (no module prefix: one test binary),
/// and its header records the page's path rather than the macro's expression.
fn assert_page_snapshot(name: &str, path: &str, page: &str) {
    let redacted = redact_signature_sizes(&redact(page));
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_description(path);
    settings.bind(|| insta::assert_snapshot!(name, redacted));
}

async fn page(store: &FolderSiteStore, path: &str) -> String {
    String::from_utf8(stored(store, path).await).unwrap()
}

/// A page as a reader sees its URLs: Tera 1 (zola's engine) escapes `/` in HTML as `&#x2F;`,
/// which browsers read as `/`. Snapshots keep the bytes.
async fn text(store: &FolderSiteStore, path: &str) -> String {
    page(store, path).await.replace("&#x2F;", "/")
}

async fn stored(store: &FolderSiteStore, path: &str) -> Vec<u8> {
    let object: SiteObject = store.get(path).await.unwrap().unwrap_or_else(|| panic!("{path} was not published"));
    object.bytes.to_vec()
}

#[tokio::test]
async fn every_page_kind_and_json_view_matches_its_snapshot() {
    let f = fixture().await;
    let report = f.site.full_build(&f.w.app).await.unwrap();
    assert!(report.objects_written > 10, "{report:?}");
    let demo: trs_core::ProjectName = "demo".parse().unwrap();
    let snapshots = [
        ("directory.html", paths::DIRECTORY.to_string()),
        ("search-index.json", paths::SEARCH_INDEX.to_string()),
        ("site-feed.xml", paths::SITE_FEED.to_string()),
        ("project.html", paths::project_page(&demo)),
        ("release-current.html", paths::release_page(&rel("1.0.0"))),
        ("release-candidate.html", paths::release_page(&rel("1.1.0"))),
        ("release-revoked.html", paths::release_page(&rel("0.9.0"))),
        ("history.html", paths::history_index(&demo)),
        ("releases.json", paths::releases_json(&demo)),
        ("cle.json", paths::cle_json(&demo, None)),
        ("endoflife.json", paths::endoflife_json(&demo, None)),
        ("project-feed.xml", paths::project_feed(&demo)),
    ];
    for (name, path) in snapshots {
        assert_page_snapshot(name, &path, &page(&f.store, &path).await);
    }
    let keys = page(&f.store, &paths::keys(&demo)).await;
    assert_eq!(keys.matches("-----BEGIN PGP PUBLIC KEY BLOCK-----").count(), 3, "ada, rita, carl:\n{keys}");
}

#[tokio::test]
async fn the_release_page_shows_what_a_downloader_needs() {
    let f = fixture().await;
    f.site.full_build(&f.w.app).await.unwrap();
    let current = text(&f.store, &paths::release_page(&rel("1.0.0"))).await;
    for needle in [
        "href=\"/current/demo/1.0.0/demo-1.0.0.tar.gz\"",
        "href=\"/current/demo/1.0.0/demo-1.0.0.tar.gz.asc\"",
        "href=\"/current/demo/1.0.0/demo-1.0.0.tar.gz.sha512\"",
        "gpg --import KEYS",
        "gpg --verify demo-1.0.0.tar.gz.asc demo-1.0.0.tar.gz",
        "sha512sum -c demo-1.0.0.tar.gz.sha512",
        "rita &lt;rita@example.org&gt;",
        &f.w.rm.person.keys[0].to_string(),
    ] {
        assert!(current.contains(needle), "{needle} missing from the release page:\n{current}");
    }
    let revoked = text(&f.store, &paths::release_page(&rel("0.9.0"))).await;
    assert!(revoked.contains("CVE-2026-0001: remote code execution in the parser"), "{revoked}");
    assert!(!revoked.contains("href=\"/current/demo/0.9.0/"), "a revoked release links no files:\n{revoked}");
    let candidate = text(&f.store, &paths::project_page(&"demo".parse().unwrap())).await;
    assert!(candidate.contains("href=\"/candidate/demo/1.1.0/demo-1.1.0.tar.gz\""), "{candidate}");
}

/// Issue 15: a candidate must not look like a release. On the project page the current
/// releases come first and the candidates under vote below them, under a note that a candidate
/// is not a release; a candidate's page offers its commands for checking before a vote, not
/// as "verify your download".
#[tokio::test]
async fn candidates_come_below_the_current_releases_and_say_they_are_not_releases() {
    let f = fixture().await;
    f.site.full_build(&f.w.app).await.unwrap();
    let project = text(&f.store, &paths::project_page(&"demo".parse().unwrap())).await;
    let at = |needle: &str| project.find(needle).unwrap_or_else(|| panic!("{needle} missing:\n{project}"));
    let (current, release_link) =
        (at("<caption>Current releases</caption>"), at("href=\"/projects/demo/releases/1.0.0/\">1.0.0</a>"));
    let (candidates, candidate_file) = (at("<h3>Candidates under vote</h3>"), at("href=\"/candidate/demo/1.1.0/"));
    assert!(current < candidates && release_link < candidates, "candidates above the current releases:\n{project}");
    let note = at("<strong>A release candidate is not a release:</strong> it is under vote");
    assert!(candidates < note && note < candidate_file, "the note is not above the candidates' files:\n{project}");

    let candidate = text(&f.store, &paths::release_page(&rel("1.1.0"))).await;
    assert!(candidate.contains("<strong>Release candidate — under vote, not a release</strong>"), "{candidate}");
    assert!(candidate.contains("<h2 id=\"verify\">Check this candidate</h2>"), "{candidate}");
    assert!(!candidate.contains("Verify your download"), "{candidate}");
    assert!(candidate.contains("gpg --verify demo-1.1.0.tar.gz.asc demo-1.1.0.tar.gz"), "{candidate}");
    let current = text(&f.store, &paths::release_page(&rel("1.0.0"))).await;
    assert!(current.contains("<h2 id=\"verify\">Verify your download</h2>"), "{current}");
    assert!(!current.contains("Check this candidate"), "{current}");
}

#[tokio::test]
async fn release_pages_show_line_dates_the_newest_supported_release_and_the_checks() {
    let f = fixture().await;
    // End of life on line 1.x, in the future: every 1.x page shows it, saying it is the line's.
    let line = lifecycle::DatesTarget::Line { project: "demo".parse().unwrap(), product: None, line: "1.x".into() };
    lifecycle::set_dates(&f.w.app, &f.w.rm.caller(), line, Some(NOW + 365 * 86400), None).await.unwrap();
    f.site.full_build(&f.w.app).await.unwrap();
    let current = text(&f.store, &paths::release_page(&rel("1.0.0"))).await;
    assert!(current.contains("<dt>End of life</dt><dd>2031-01-01 (line 1.x)</dd>"), "{current}");
    assert!(!current.contains("no longer supported"), "{current}");
    // The checks, per file: the fixture's stand-in tarball fails the archive check, and the
    // page says so (it was forced current without a vote).
    assert!(current.contains("<p class=\"checks-summary failed\">2 passed, 0 warnings, 1 failed</p>"), "{current}");
    assert!(current.contains("<td>signature</td><td><strong>pass</strong></td>"), "{current}");
    assert!(current.contains("<td>archive</td><td><strong>fail</strong></td>"), "{current}");
    // A revoked (unsupported) release points to its line's newest supported release.
    let revoked = text(&f.store, &paths::release_page(&rel("0.9.0"))).await;
    assert!(
        revoked.contains(
            "The newest supported release of this line is <a href=\"/projects/demo/releases/1.0.0/\">demo 1.0.0</a>."
        ),
        "{revoked}"
    );
}

/// RFC 4287 as feed readers and validators hold a feed to it: an author, absolute ids and
/// links (unique across installations: the site's own URLs), `updated` moved by a revocation,
/// and a feed without releases dated by its newest project, not 1970.
#[tokio::test]
async fn atom_feeds_have_an_author_absolute_ids_and_revocations_move_updated() {
    let f = fixture().await;
    let mut source = trs_site::config::SiteSource::embedded();
    source.config.extra.download_url = "https://downloads.example.org".into();
    let renderer = Renderer::new(source).unwrap();
    let demo: trs_core::ProjectName = "demo".parse().unwrap();
    let data = trs_site::load::project(&f.w.app, &demo, &trs_site::load::Details::All).await.unwrap();
    let feed = String::from_utf8(renderer.project_feed(&data).unwrap().bytes.to_vec()).unwrap();
    assert!(feed.contains("<author><name>Release downloads</name></author>"), "{feed}");
    assert!(
        feed.contains("<link rel=\"self\" href=\"https://downloads.example.org/projects/demo/feed.xml\"/>"),
        "{feed}"
    );
    assert!(feed.contains("<id>https://downloads.example.org/projects/demo/feed.xml</id>"), "{feed}");
    for id in feed.split("<id>").skip(1) {
        assert!(id.starts_with("https://downloads.example.org/"), "an absolute id: {id}");
    }
    for href in feed.split("href=\"").skip(1) {
        assert!(href.starts_with("https://downloads.example.org/"), "an absolute link: {href}");
    }
    // 0.9.0 was promoted at 01:00 and revoked at 03:00: its entry and the feed say 03:00.
    let revoked = &feed[feed.find("<title>demo 0.9.0 (revoked)</title>").unwrap()..];
    assert!(revoked.contains("<updated>2030-01-01T03:00:00Z</updated>"), "{feed}");
    assert!(feed.contains("<feed xmlns=\"http://www.w3.org/2005/Atom\">\n<title>demo releases</title>\n<id>https://downloads.example.org/projects/demo/feed.xml</id>\n<updated>2030-01-01T03:00:00Z</updated>"), "{feed}");

    let project = trs_app::projects::get_project(&f.w.app, &demo).await.unwrap();
    let empty = trs_site::load::Foundation { projects: vec![(project.clone(), Default::default())] };
    let feed = String::from_utf8(renderer.site_feed(&empty).unwrap().bytes.to_vec()).unwrap();
    assert!(!feed.contains("1970"), "{feed}");
    assert!(feed.contains(&format!("<updated>{}</updated>", trs_app::exports::rfc3339(project.created_at))), "{feed}");
}

/// endoflife.date's API v1 response for a product, in its OpenAPI document as committed
/// (schemas/README.md).
const EOL_V1_SCHEMA: &str = "endoflife-api-v1.openapi.json#/components/schemas/ProductResponse";

/// The essentials of endoflife.date's API v1 schema (`api_v1/openapi.yml` of
/// github.com/endoflife-date/endoflife.date, version 1.2.0, MIT licence): each schema's
/// required properties with their types. `date` is a `YYYY-MM-DD` string, `uri` an absolute
/// http(s) URL; `?` allows null.
const EOL_V1_PRODUCT_RESPONSE: &[(&str, &str)] =
    &[("schema_version", "string"), ("last_modified", "date-time"), ("result", "object")];
const EOL_V1_PRODUCT_DETAILS: &[(&str, &str)] = &[
    ("name", "string"),
    ("label", "string"),
    ("aliases", "array"),
    ("category", "string"),
    ("tags", "array"),
    ("versionCommand", "string?"),
    ("identifiers", "array"),
    ("labels", "object"),
    ("links", "object"),
    ("releases", "array"),
];
const EOL_V1_PRODUCT_RELEASE: &[(&str, &str)] = &[
    ("name", "string"),
    ("codename", "string?"),
    ("label", "string"),
    ("releaseDate", "date"),
    ("isLts", "boolean"),
    ("ltsFrom", "date?"),
    ("isEol", "boolean"),
    ("eolFrom", "date?"),
    ("isMaintained", "boolean"),
    ("latest", "object?"),
    // Optional in the schema, but typed when present (trs always sends them).
    ("isEoas", "boolean"),
    ("eoasFrom", "date?"),
];
const EOL_V1_PRODUCT_VERSION: &[(&str, &str)] = &[("name", "string"), ("date", "date?"), ("link", "uri?")];

fn conforms(value: &serde_json::Value, schema: &[(&str, &str)], at: &str) {
    for (field, kind) in schema {
        let v = value.get(*field).unwrap_or_else(|| panic!("{at}.{field} is required: {value:#}"));
        let (kind, nullable) = kind.strip_suffix('?').map_or((*kind, false), |k| (k, true));
        if v.is_null() {
            assert!(nullable, "{at}.{field} may not be null");
            continue;
        }
        let ok = match kind {
            "string" => v.is_string(),
            "boolean" => v.is_boolean(),
            "array" => v.is_array(),
            "object" => v.is_object(),
            "date" => v
                .as_str()
                .is_some_and(|d| time::Date::parse(d, &time::format_description::well_known::Iso8601::DATE).is_ok()),
            "date-time" => v.as_str().is_some_and(|d| {
                time::OffsetDateTime::parse(d, &time::format_description::well_known::Rfc3339).is_ok()
            }),
            "uri" => v.as_str().is_some_and(|u| u.starts_with("https://") || u.starts_with("http://")),
            other => panic!("unknown kind {other}"),
        };
        assert!(ok, "{at}.{field} is not a {kind}: {v}");
    }
}

#[tokio::test]
async fn endoflife_json_is_an_api_v1_product_response_and_v0_stays_beside_it() {
    let f = fixture().await;
    let line = lifecycle::DatesTarget::Line { project: "demo".parse().unwrap(), product: None, line: "1.x".into() };
    lifecycle::set_dates(&f.w.app, &f.w.rm.caller(), line, Some(NOW + 365 * 86400), Some(NOW + 180 * 86400))
        .await
        .unwrap();
    let mut source = trs_site::config::SiteSource::embedded();
    source.config.extra.download_url = "https://downloads.example.org".into();
    let site = Site::new(Renderer::new(source).unwrap(), f.store.clone(), Arc::new(NoCdn));
    site.full_build(&f.w.app).await.unwrap();
    let demo: trs_core::ProjectName = "demo".parse().unwrap();
    let doc: serde_json::Value =
        serde_json::from_str(&page(&f.store, &paths::endoflife_json(&demo, None)).await).unwrap();
    assert_eq!(schema_errors(EOL_V1_SCHEMA, &doc), Vec::<String>::new(), "{doc:#}");
    conforms(&doc, EOL_V1_PRODUCT_RESPONSE, "response");
    conforms(&doc["result"], EOL_V1_PRODUCT_DETAILS, "result");
    assert!(!doc["result"]["tags"].as_array().unwrap().is_empty(), "tags: minItems 1");
    assert!(doc["result"]["labels"]["eol"].is_string() && doc["result"]["links"]["html"].is_string());
    let releases = doc["result"]["releases"].as_array().unwrap();
    assert_eq!(releases.len(), 1, "cycle 1 (0.9.0 was revoked): {doc:#}");
    for r in releases {
        conforms(r, EOL_V1_PRODUCT_RELEASE, "release");
        conforms(&r["latest"], EOL_V1_PRODUCT_VERSION, "release.latest");
    }
    let one = &releases[0];
    assert_eq!((one["name"].as_str(), one["latest"]["name"].as_str()), (Some("1"), Some("1.0.0")), "{doc:#}");
    assert_eq!(
        (one["eolFrom"].as_str(), one["eoasFrom"].as_str()),
        (Some("2031-01-01"), Some("2030-06-30")),
        "{doc:#}"
    );
    assert_eq!(
        (one["isEol"].as_bool(), one["isMaintained"].as_bool(), one["isLts"].as_bool()),
        (Some(false), Some(true), Some(true))
    );
    assert_eq!(one["latest"]["link"], "https://downloads.example.org/projects/demo/releases/1.0.0/");
    // The v0 array is kept for older tools.
    let v0: serde_json::Value =
        serde_json::from_str(&page(&f.store, &paths::endoflife_v0_json(&demo, None)).await).unwrap();
    assert_eq!(v0[0]["cycle"], "1", "{v0:#}");
    assert_eq!(v0[0]["eol"], "2031-01-01");
}

/// Issue 15: the CLE export follows ECMA-428 1.0.0: valid against the schema written from its
/// text and against the Transparency Exchange API's `cle` schema, newest id first, a changed
/// date withdraws the earlier event. Issue 19: CLE and endoflife.json name the published
/// advisories that affect a release and that it fixes; an embargoed one appears nowhere.
#[tokio::test]
async fn the_cle_export_follows_ecma_428_and_the_lifecycle_exports_name_published_advisories() {
    use trs_app::cve;
    let f = fixture().await;
    let (demo, rita) = ("demo".parse::<trs_core::ProjectName>().unwrap(), f.w.rm.caller());
    let line = || lifecycle::DatesTarget::Line { project: demo.clone(), product: None, line: "1.x".into() };
    lifecycle::set_dates(&f.w.app, &rita, line(), Some(NOW + 365 * 86400), Some(NOW + 180 * 86400)).await.unwrap();
    f.clock.advance(60);
    // End of life moves a year later; end of support stays.
    lifecycle::set_dates(&f.w.app, &rita, line(), Some(NOW + 730 * 86400), Some(NOW + 180 * 86400)).await.unwrap();
    let advisory = |id: &str, affected: &str, fixed: Option<&str>| cve::NewAdvisory {
        id: Some(id.parse().unwrap()),
        summary: Some(format!("{id} summary")),
        affected: vec![affected.parse().unwrap()],
        fixed: fixed.map(|v| v.parse().unwrap()),
        ..Default::default()
    };
    for (id, affected, fixed) in
        [("CVE-2026-40010", "<1.0.0", Some("1.0.0")), ("CVE-2026-40011", ">=1.0.0,<1.0.1", None)]
    {
        cve::add_advisory(&f.w.app, &rita, &demo, advisory(id, affected, fixed)).await.unwrap();
        cve::publish_advisory(&f.w.app, &rita, &demo, &id.parse().unwrap(), false).await.unwrap();
    }
    let embargoed =
        cve::NewAdvisory { embargoed_until: Some(NOW + 30 * 86400), ..advisory("CVE-2026-40012", ">=0.1", None) };
    cve::add_advisory(&f.w.app, &rita, &demo, embargoed).await.unwrap();
    f.site.full_build(&f.w.app).await.unwrap();

    let text = page(&f.store, &paths::cle_json(&demo, None)).await;
    let cle: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(schema_errors("ecma-428-cle-1.0.0.trs.schema.json", &cle), Vec::<String>::new(), "{cle:#}");
    assert_eq!(schema_errors("tea-openapi-0.4.0-cle.json#/components/schemas/cle", &cle), Vec::<String>::new());
    assert_eq!(cle["identifier"], "pkg:generic/demo");
    assert_eq!(cle["$schema"], trs_app::exports::cle::SCHEMA_URI);
    let events = cle["events"].as_array().unwrap();
    let ids: Vec<i64> = events.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    let expected: Vec<i64> = (1..=ids.len() as i64).rev().collect();
    assert_eq!(ids, expected, "newest id first, without gaps: {cle:#}");
    let of = |id: &serde_json::Value| events.iter().find(|e| e["id"] == *id).unwrap();
    for withdrawn in events.iter().filter(|e| e["type"] == "withdrawn") {
        assert!(withdrawn["eventId"].as_i64().unwrap() < withdrawn["id"].as_i64().unwrap(), "{withdrawn}");
    }
    let eol: Vec<&serde_json::Value> = events.iter().filter(|e| e["type"] == "endOfLife").collect();
    assert_eq!(eol.len(), 2, "{cle:#}");
    let withdrawn_eol = events.iter().find(|e| e["type"] == "withdrawn" && of(&e["eventId"])["type"] == "endOfLife");
    assert_eq!(withdrawn_eol.unwrap()["eventId"], eol[1]["id"], "the earlier end of life is withdrawn: {cle:#}");
    assert_eq!(eol[0]["effective"], "2032-01-01T00:00:00Z");
    assert_eq!(events.iter().filter(|e| e["type"] == "endOfSupport").count(), 1, "an unchanged date is not repeated");
    assert_eq!(
        cle["advisories"],
        serde_json::json!({
            "0.9.0": {"affected_by": ["CVE-2026-40010"]},
            "1.0.0": {"affected_by": ["CVE-2026-40011"], "fixes": ["CVE-2026-40010"]},
        })
    );

    let eol_text = page(&f.store, &paths::endoflife_json(&demo, None)).await;
    let doc: serde_json::Value = serde_json::from_str(&eol_text).unwrap();
    assert_eq!(schema_errors(EOL_V1_SCHEMA, &doc), Vec::<String>::new(), "{doc:#}");
    let cycle = &doc["result"]["releases"][0];
    assert_eq!(
        cycle["custom"],
        serde_json::json!({"affectedBy": "CVE-2026-40011", "fixes": "CVE-2026-40010 (1.0.0)"}),
        "{doc:#}"
    );
    let releases = page(&f.store, &paths::releases_json(&demo)).await;
    for view in [&text, &eol_text, &releases] {
        assert!(!view.contains("CVE-2026-40012"), "an embargoed advisory is published: {view}");
    }
}

/// An invalid CLE document and endoflife.date response fail the schemas the exports are
/// checked with (so that the checks above can fail).
#[test]
fn the_lifecycle_schemas_refuse_what_their_standards_refuse() {
    let event = serde_json::json!({"id": 1, "type": "endOfSupport", "effective": "2030-01-01T00:00:00Z",
        "published": "2030-01-01T00:00:00Z", "versions": [{"version": "1.0.0"}]});
    let cle = serde_json::json!({"$schema": trs_app::exports::cle::SCHEMA_URI, "identifier": "pkg:generic/demo@1.0.0",
        "events": [event]});
    let errors = schema_errors("ecma-428-cle-1.0.0.trs.schema.json", &cle).join("\n");
    for needle in ["'updatedAt' is a required property", "'supportId' is a required property", "identifier"] {
        assert!(errors.contains(needle), "{needle} not reported: {errors}");
    }
    let eol = serde_json::json!({"schema_version": "1.2.1", "generated_at": "2030-01-01T00:00:00Z",
        "last_modified": "2030-01-01T00:00:00Z", "result": {"name": "demo", "releases": [{"name": "1", "custom": {"fixes": 3}}]}});
    let errors = schema_errors(EOL_V1_SCHEMA, &eol).join("\n");
    assert!(errors.contains("'label' is a required property") && errors.contains("custom"), "{errors}");
}

/// The newest event of the project's stream.
async fn last_event(w: &World) -> trs_core::Event {
    stream::all_events(&w.app, &StreamId::Project("demo".parse().unwrap())).await.unwrap().pop().unwrap()
}

#[tokio::test]
async fn a_vote_cast_rewrites_a_few_objects_and_publishing_again_writes_none() {
    let f = fixture().await;
    f.site.full_build(&f.w.app).await.unwrap();
    let again = f.site.full_build(&f.w.app).await.unwrap();
    assert_eq!((again.objects_written, again.objects_deleted), (0, 0), "{again:?}");

    f.clock.advance(60);
    vote::cast(&f.w.app, &f.w.committer.caller(), &rel("1.1.0"), VoteValue::Minus, None).await.unwrap();
    let cast = last_event(&f.w).await;
    let report = f.site.publish_event(&f.w.app, &cast).await.unwrap();
    // The release page, the project page, the history index and newest page, the four JSON
    // views (the release's last change, their last_modified) and the project feed's entry time
    // stay: 11 rendered at most.
    assert!(report.pages_rendered <= 11, "{report:?}");
    let written: Vec<&str> = report.invalidate.iter().map(String::as_str).collect();
    for changed in
        ["/projects/demo/releases/1.1.0/", "/projects/demo/", "/projects/demo/history/", "/projects/demo/releases.json"]
    {
        assert!(written.contains(&changed), "{changed} not invalidated: {report:?}");
    }
    assert!(report.objects_written >= 3 && report.objects_written <= 11, "{report:?}");
    // What the incremental publish wrote is what a full build writes: nothing is left stale.
    let full = f.site.full_build(&f.w.app).await.unwrap();
    assert_eq!(full.objects_written, 0, "a full build after the vote's publish changed: {full:?}");
    let page = text(&f.store, &paths::release_page(&rel("1.1.0"))).await;
    assert!(page.contains("non-binding +1 0, 0 0, −1 1"), "the new tally is shown:\n{page}");

    let republish = f.site.publish_event(&f.w.app, &cast).await.unwrap();
    assert_eq!(republish.objects_written, 0, "{republish:?}");
    assert!(republish.invalidate.is_empty());
}

/// Declaring a product is published: the search index lists it under its project, and a
/// full build afterwards finds nothing stale.
#[tokio::test]
async fn a_declared_product_is_listed_in_the_search_index() {
    let f = fixture().await;
    f.site.full_build(&f.w.app).await.unwrap();
    let products = |index: serde_json::Value| {
        let demo = index["projects"].as_array().unwrap().iter().find(|p| p["name"] == "demo").cloned().unwrap();
        demo["products"].clone()
    };
    let before: serde_json::Value = serde_json::from_str(&text(&f.store, "search-index.json").await).unwrap();
    assert_eq!(products(before), serde_json::json!([]));

    f.clock.advance(60);
    projects::add_product(&f.w.app, &f.w.rm.caller(), &"demo".parse().unwrap(), "conn".parse().unwrap(), None)
        .await
        .unwrap();
    let declared = last_event(&f.w).await;
    let report = f.site.publish_event(&f.w.app, &declared).await.unwrap();
    assert!(report.invalidate.contains(&"/search-index.json".to_string()), "{report:?}");
    let after: serde_json::Value = serde_json::from_str(&text(&f.store, "search-index.json").await).unwrap();
    assert_eq!(products(after), serde_json::json!(["conn"]));
    let full = f.site.full_build(&f.w.app).await.unwrap();
    assert_eq!(full.objects_written, 0, "the product's publish left something stale: {full:?}");
}

#[tokio::test]
async fn a_full_build_deletes_objects_no_page_produces() {
    let f = fixture().await;
    f.store.put(&SiteObject::page("projects/gone/index.html", "old")).await.unwrap();
    let report = f.site.full_build(&f.w.app).await.unwrap();
    assert_eq!(report.objects_deleted, 1, "{report:?}");
    assert!(f.store.get("projects/gone/index.html").await.unwrap().is_none());
    assert!(report.invalidate.contains(&"/projects/gone/".to_string()));
}

#[tokio::test]
async fn the_promotion_task_publishes_the_release_page_under_auto_publish() {
    let mut w = world().await;
    w.app.clock = TestClock::at(NOW);
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(FolderSiteStore::open(dir.path()).unwrap());
    let site = Arc::new(Site::new(Renderer::embedded(), store.clone(), Arc::new(NoCdn)));
    w.app.site = site;
    let rita = w.rm.caller();
    let foo: trs_core::ProjectName = "foo".parse().unwrap();
    let publish = PolicyOverride { auto_publish: Some(true), ..Default::default() };
    projects::set_policy(&w.app, &rita, &foo, None, publish).await.unwrap();
    let id = ReleaseId { project: foo, product: None, version: "2.0.0".parse().unwrap() };
    upload_files(&w.app, &w.blobs, &rita, &id, &[("foo-2.0.0.tar.gz", b"bytes")]).await;
    assert!(store.get(&paths::release_page(&id)).await.unwrap().is_none(), "nothing published before the task");
    force_current_for_tests(&w.app, &id, &rita).await;
    let release_page = text(&store, &paths::release_page(&id)).await;
    assert!(release_page.contains("href=\"/current/foo/2.0.0/foo-2.0.0.tar.gz\""), "{release_page}");
    assert!(text(&store, paths::DIRECTORY).await.contains("href=\"/projects/foo/releases/2.0.0/\""));
}

/// A draft's page lists none of its files and says it is not a release; once the draft is
/// discarded, publishing its event deletes the page and the project page drops it.
#[tokio::test]
async fn a_drafts_page_lists_no_files_and_goes_when_the_draft_is_discarded() {
    let f = fixture().await;
    f.site.full_build(&f.w.app).await.unwrap();
    upload_signed(&f.w, &rel("2.0.0")).await;
    f.site.publish_event(&f.w.app, &last_event(&f.w).await).await.unwrap();
    let path = paths::release_page(&rel("2.0.0"));
    let draft = text(&f.store, &path).await;
    assert!(draft.contains("Draft — not a release"), "{draft}");
    assert!(!draft.contains("demo-2.0.0.tar.gz"), "no file of a draft is listed:\n{draft}");
    assert!(!draft.contains("/candidate/"), "{draft}");
    let candidate = text(&f.store, &paths::release_page(&rel("1.1.0"))).await;
    assert!(candidate.contains("Release candidate — under vote, not a release"), "{candidate}");

    trs_app::draft::discard(&f.w.app, &f.w.rm.caller(), &rel("2.0.0")).await.unwrap();
    let report = f.site.publish_event(&f.w.app, &last_event(&f.w).await).await.unwrap();
    assert_eq!(report.objects_deleted, 3, "the page, files.json and SHA512SUMS: {report:?}");
    assert!(f.store.get(&path).await.unwrap().is_none(), "the discarded draft's page is gone");
    assert!(f.store.get(&paths::release_files_json(&rel("2.0.0"))).await.unwrap().is_none());
    let project = text(&f.store, &paths::project_page(&"demo".parse().unwrap())).await;
    assert!(!project.contains("2.0.0"), "{project}");
}

/// Issue 13, item 6: the publisher's queue lived in memory, so events committed just before a
/// crash were never published (a tally stayed stale until another event touched the page).
/// The site follows the stored streams from a durable mark instead.
#[tokio::test]
async fn events_no_publisher_saw_are_published_from_the_durable_mark_after_a_restart() {
    let f = fixture().await;
    assert!(!f.site.catch_up_all(&f.w.app).await.unwrap().is_empty(), "a first start publishes every stream");
    let before = text(&f.store, &paths::release_page(&rel("1.1.0"))).await;
    assert!(before.contains("non-binding +1 0, 0 0, −1 0"), "{before}");
    // Two ballots are committed; the process dies before its publisher sees them.
    f.clock.advance(60);
    vote::cast(&f.w.app, &f.w.committer.caller(), &rel("1.1.0"), VoteValue::Minus, None).await.unwrap();
    vote::cast(&f.w.app, &f.w.rm.caller(), &rel("1.1.0"), VoteValue::Minus, None).await.unwrap();

    // The restarted host's publisher knows nothing of them but the store.
    let restarted = Site::new(Renderer::embedded(), f.store.clone(), Arc::new(NoCdn));
    let reports = restarted.catch_up_all(&f.w.app).await.unwrap();
    assert_eq!(reports.len(), 1, "only the project's stream had news: {reports:?}");
    let after = text(&f.store, &paths::release_page(&rel("1.1.0"))).await;
    assert!(after.contains("non-binding +1 0, 0 0, −1 2"), "the tally the API shows:\n{after}");
    assert!(restarted.catch_up_all(&f.w.app).await.unwrap().is_empty(), "the mark moved: nothing to publish");
}

fn demo() -> Scope {
    Scope { project: Some("demo".parse().unwrap()), product: None }
}

async fn view_json(app: &App, scope: &Scope, at: Option<i64>) -> serde_json::Value {
    serde_json::to_value(release_views::releases_view(app, scope, at, None).await.unwrap()).unwrap()
}

/// Issue 12: the releases view of now is no longer replayed from every event per request.
/// It is the publisher's `releases.json` while the publisher's mark covers the project's
/// stream (a marker written into the object shows in the answer), a replay of the project
/// while an event is not published yet, and a replay for another time (`at`).
#[tokio::test]
async fn the_releases_view_is_read_from_the_published_object_while_the_mark_covers_the_stream() {
    let f = fixture().await;
    let reading = App { views: Some(f.store.clone()), ..f.w.app.clone() };
    let replayed = view_json(&f.w.app, &demo(), None).await;
    assert_eq!(view_json(&reading, &demo(), None).await, replayed, "nothing published yet: replayed");
    f.site.full_build(&f.w.app).await.unwrap();
    assert_eq!(view_json(&reading, &demo(), None).await, replayed, "the object holds what a replay gives");

    let path = paths::releases_json(&"demo".parse().unwrap());
    let mut object: serde_json::Value =
        serde_json::from_slice(&f.store.get(&path).await.unwrap().unwrap().bytes).unwrap();
    object["by_state"]["marker"] = serde_json::json!(["demo/1.0.0"]);
    f.store.put(&SiteObject::page(path, object.to_string())).await.unwrap();
    let marked = serde_json::json!(["demo/1.0.0"]);
    assert_eq!(view_json(&reading, &demo(), None).await["by_state"]["marker"], marked, "served from the object");
    assert!(view_json(&reading, &demo(), Some(NOW)).await["by_state"].get("marker").is_none(), "`at` replays");

    // A ballot the publisher has not reached: the project is replayed.
    f.clock.advance(60);
    vote::cast(&f.w.app, &f.w.committer.caller(), &rel("1.1.0"), VoteValue::Minus, None).await.unwrap();
    assert!(view_json(&reading, &demo(), None).await["by_state"].get("marker").is_none(), "replayed");
    // Published: the mark covers it again, and the object was rendered anew (a ballot moves
    // its release's last change), so what is served is what a replay gives.
    f.site.publish_event(&f.w.app, &last_event(&f.w).await).await.unwrap();
    let served = view_json(&reading, &demo(), None).await;
    assert!(served["by_state"].get("marker").is_none(), "rendered anew: {served}");
    assert_eq!(served, view_json(&f.w.app, &demo(), None).await);
}

/// A view of every project comes a page of projects at a time, each page in the order one
/// replay of every project gives; joined, the pages are that replay.
#[tokio::test]
async fn a_view_of_every_project_is_paged_by_project() {
    let f = fixture().await;
    add_project(&f.w.app, &f.w.admin, "zeta").await;
    f.site.full_build(&f.w.app).await.unwrap();
    let reading = App { views: Some(f.store.clone()), ..f.w.app.clone() };
    let all = Scope::default();
    let whole = release_views::releases_view(&f.w.app, &all, None, Some("current")).await.unwrap();
    let first = release_views::releases_page(&reading, &all, None, Some("current"), None, 1).await.unwrap();
    assert_eq!(first.next.as_ref().map(|p| p.as_str()), Some("demo"));
    assert_eq!(serde_json::to_value(&first.releases).unwrap(), serde_json::to_value(&whole.releases).unwrap());
    assert_eq!(first.by_state, whole.by_state);
    // The world's own project foo, then zeta: neither has a release.
    let mut after: trs_core::ProjectName = "demo".parse().unwrap();
    for (next, last) in [(Some("foo"), false), (None, true)] {
        let page = release_views::releases_page(&reading, &all, None, None, Some(&after), 1).await.unwrap();
        assert_eq!((page.next.as_ref().map(|p| p.as_str()), page.releases.len()), (next, 0), "after {after}");
        if !last {
            after = page.next.unwrap();
        }
    }
}

/// The foundation-wide chain check reads each stream's mark: the publisher checks every event
/// as it publishes it and keeps the first break it finds.
#[tokio::test]
async fn the_publisher_checks_each_event_it_publishes_and_keeps_a_break_in_its_mark() {
    let f = fixture().await;
    f.site.full_build(&f.w.app).await.unwrap();
    let demo = StreamId::Project("demo".parse().unwrap());
    let live = release_views::verify_stream(&f.w.app, &demo).await.unwrap();
    let marked = release_views::published_chain_report(&f.w.app, &demo).await.unwrap();
    assert!(live.ok && marked.ok, "{live:?} {marked:?}");
    assert_eq!((marked.events, &marked.head), (live.events, &live.head));

    // A ballot altered in the store before the publisher reached it.
    f.clock.advance(60);
    vote::cast(&f.w.app, &f.w.committer.caller(), &rel("1.1.0"), VoteValue::Minus, None).await.unwrap();
    let cast = last_event(&f.w).await;
    let key = trs_app::storage_keys::stream_event(&demo, cast.seq);
    let item = f.w.app.items.get(&key).await.unwrap().unwrap();
    let mut altered = item.body.clone();
    altered["value"] = "+1".into();
    f.w.app.items.put(item.updated(altered), trs_storage::Condition::VersionIs(item.version)).await.unwrap();
    f.site.publish_event(&f.w.app, &cast).await.unwrap();
    let marked = release_views::published_chain_report(&f.w.app, &demo).await.unwrap();
    assert!(!marked.ok, "{marked:?}");
    assert!(marked.error.as_deref().unwrap().contains(&format!("event {}", cast.seq)), "{marked:?}");
    // It stays reported after the next event is published.
    f.clock.advance(60);
    lifecycle::enter_state(&f.w.app, &f.w.rm.caller(), &rel("1.0.0"), "security-only").await.unwrap();
    f.site.publish_event(&f.w.app, &last_event(&f.w).await).await.unwrap();
    assert!(!release_views::published_chain_report(&f.w.app, &demo).await.unwrap().ok);
}

/// Issue 19: publishing an advisory re-renders the release pages it names ("affected by",
/// "fixes"), their files.json and releases.json, from the one event; an unpublished advisory
/// shows nowhere.
#[tokio::test]
async fn a_published_advisory_is_shown_on_the_release_pages_it_names_and_in_the_json_views() {
    use trs_app::cve;
    let f = fixture().await;
    f.site.full_build(&f.w.app).await.unwrap();
    let demo: trs_core::ProjectName = "demo".parse().unwrap();
    let id: trs_core::CveId = "CVE-2026-40001".parse().unwrap();
    let new = cve::NewAdvisory {
        id: Some(id.clone()),
        summary: Some("Parser overflow".into()),
        affected: vec![">=0.9.0,<1.0.1".parse().unwrap()],
        fixed: Some("1.1.0".parse().unwrap()),
        ..Default::default()
    };
    cve::add_advisory(&f.w.app, &f.w.rm.caller(), &demo, new).await.unwrap();
    let unpublished = f.site.full_build(&f.w.app).await.unwrap();
    assert_eq!(unpublished.objects_written, 0, "an unpublished advisory changes no page: {unpublished:?}");

    cve::publish_advisory(&f.w.app, &f.w.rm.caller(), &demo, &id, false).await.unwrap();
    let report = f.site.publish_event(&f.w.app, &last_event(&f.w).await).await.unwrap();
    let written: Vec<&str> = report.invalidate.iter().map(String::as_str).collect();
    for changed in
        ["/projects/demo/releases/1.0.0/", "/projects/demo/releases/0.9.0/", "/projects/demo/releases/1.1.0/"]
    {
        assert!(written.contains(&changed), "{changed} not re-rendered: {report:?}");
    }
    let current = text(&f.store, &paths::release_page(&rel("1.0.0"))).await;
    assert!(current.contains("Affected by:</strong> <code>CVE-2026-40001</code>"), "{current}");
    let fix = text(&f.store, &paths::release_page(&rel("1.1.0"))).await;
    assert!(fix.contains("Fixes:</strong> <code>CVE-2026-40001</code>") && !fix.contains("Affected by"), "{fix}");
    let files: serde_json::Value =
        serde_json::from_str(&page(&f.store, &paths::release_files_json(&rel("1.0.0"))).await).unwrap();
    assert_eq!(files["affected_by"], serde_json::json!(["CVE-2026-40001"]));
    let releases: serde_json::Value =
        serde_json::from_str(&page(&f.store, &paths::releases_json(&demo)).await).unwrap();
    assert_eq!(releases["advisories"]["demo/0.9.0"]["affected_by"], serde_json::json!(["CVE-2026-40001"]));
    assert_eq!(releases["advisories"]["demo/1.1.0"]["fixes"], serde_json::json!(["CVE-2026-40001"]));
}

/// Issue 19: an SBOM among a candidate's files is listed with what its check read: format,
/// the component it describes, component count, licences by category with examples.
#[tokio::test]
async fn the_release_page_lists_an_sbom_with_its_summary() {
    let f = fixture().await;
    let path = format!("{}/../trs-checks/tests/data/sbom/cyclonedx-npm-1.6.cdx.json", env!("CARGO_MANIFEST_DIR"));
    let mut doc: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    doc["metadata"]["component"]["name"] = "demo".into();
    doc["metadata"]["component"]["version"] = "1.2.0".into();
    let sbom = serde_json::to_vec(&doc).unwrap();
    let files: [(&str, &[u8]); 1] = [("demo-1.2.0.cdx.json", &sbom)];
    upload_files(&f.w.app, &f.w.blobs, &f.w.rm.caller(), &rel("1.2.0"), &files).await;
    vote::open(&f.w.app, &f.w.rm.caller(), &rel("1.2.0"), None).await.unwrap();
    f.site.full_build(&f.w.app).await.unwrap();
    let candidate = text(&f.store, &paths::release_page(&rel("1.2.0"))).await;
    for needle in [
        "<h2 id=\"sbom\">Software bill of materials</h2>",
        "<h3><a href=\"/candidate/demo/1.2.0/demo-1.2.0.cdx.json\">demo-1.2.0.cdx.json</a></h3>",
        "<dt>Format</dt><dd>CycloneDX 1.6 JSON</dd>",
        "<dt>Describes</dt><dd>demo 1.2.0</dd>",
        "<dt>Components</dt><dd>2</dd>",
        "<tr class=\"licence-permissive\"><th scope=\"row\">permissive</th><td>2</td>",
        "left-pad 1.3.0: WTFPL",
        "<td>sbom</td><td><strong>pass</strong></td><td>describes demo 1.2.0, this release</td>",
    ] {
        assert!(candidate.contains(needle), "{needle} missing from the release page:\n{candidate}");
    }
    // files.json carries the same summary for scripts (`warn`: the worst of its sbom checks,
    // the NTIA elements this generator leaves out).
    let files: serde_json::Value =
        serde_json::from_str(&page(&f.store, &paths::release_files_json(&rel("1.2.0"))).await).unwrap();
    let listed = &files["sboms"][0];
    assert_eq!(
        (&listed["path"], &listed["format"], &listed["describes"], &listed["components"], &listed["result"]),
        (&"demo-1.2.0.cdx.json".into(), &"CycloneDX 1.6 JSON".into(), &"demo 1.2.0".into(), &2.into(), &"warn".into()),
        "{files:#}"
    );
    assert_eq!(listed["licences"][0]["category"], "permissive", "{files:#}");
    // Pages of releases without an SBOM have no such section (their snapshots say so too),
    // nor does their files.json.
    let current = text(&f.store, &paths::release_page(&rel("1.0.0"))).await;
    assert!(!current.contains("Software bill of materials"), "{current}");
    let files = page(&f.store, &paths::release_files_json(&rel("1.0.0"))).await;
    assert!(!files.contains("\"sboms\""), "{files}");
}

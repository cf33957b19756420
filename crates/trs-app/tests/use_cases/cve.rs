//! Security advisories (issue 19): recorded by the project's security team, private until
//! published, published as a release-stream event, resolved to the releases trs holds by its
//! version order, and exported as OSV and CVE JSON 5 records that validate against the
//! published schemas (schemas/, checked with the reference Python `jsonschema`).

use serde_json::json;
use trs_app::AppError;
use trs_app::cve::{self, AdvisoryEdit, NewAdvisory};
use trs_app::stream;
use trs_app::test_support::{World, force_current_for_tests, schema_errors, upload_files, world};
use trs_core::{Change, CveId, ProjectName, ReleaseId, StreamId};

fn foo() -> ProjectName {
    "foo".parse().unwrap()
}

fn cve_id(s: &str) -> CveId {
    s.parse().unwrap()
}

fn code<T: std::fmt::Debug>(r: Result<T, AppError>) -> (u16, &'static str) {
    let e = r.expect_err("expected an error");
    (e.status(), e.code())
}

const ORG: &str = "8254265b-2729-46b6-b9e3-3dfca2d5bfca";

fn new_advisory(id: &str) -> NewAdvisory {
    NewAdvisory {
        id: Some(cve_id(id)),
        summary: Some("Path traversal in the foo archive reader".into()),
        severity: Some(trs_core::Severity::High),
        affected: vec![">=1.0.0,<1.2.3".parse().unwrap()],
        fixed: Some("1.2.3".parse().unwrap()),
        credits: vec!["Mallory Researcher".into()],
        ..Default::default()
    }
}

/// Releases of foo's main line, promoted to current.
async fn releases(w: &World, versions: &[&str]) {
    for v in versions {
        let id = ReleaseId { project: foo(), product: None, version: v.parse().unwrap() };
        let name = format!("foo-{v}.tar.gz");
        upload_files(&w.app, &w.blobs, &w.rm.caller(), &id, &[(name.as_str(), b"abc".as_slice())]).await;
        force_current_for_tests(&w.app, &id, &w.rm.caller()).await;
    }
}

async fn advisory_events(w: &World) -> Vec<Change> {
    stream::all_events(&w.app, &StreamId::Project(foo()))
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.change)
        .filter(|c| matches!(c, Change::AdvisoryPublished { .. }))
        .collect()
}

#[tokio::test]
async fn an_advisory_is_seen_by_the_security_team_only_until_it_is_published_as_a_stream_event() {
    let w = world().await;
    let id = cve_id("CVE-2026-10001");
    let embargo = w.app.now() + 7 * 86_400;
    let new = NewAdvisory { embargoed_until: Some(embargo), ..new_advisory(id.as_str()) };

    // A committer is not on the security team; the release manager is.
    assert_eq!(
        code(cve::add_advisory(&w.app, &w.committer.caller(), &foo(), new.clone()).await),
        (403, "forbidden-role")
    );
    let added = cve::add_advisory(&w.app, &w.rm.caller(), &foo(), new.clone()).await.unwrap();
    assert!(added.advisory.published_at.is_none());
    assert_eq!(code(cve::add_advisory(&w.app, &w.rm.caller(), &foo(), new).await), (409, "advisory-exists"));

    // Unpublished: the committee member (ada) and the release manager see it; the committer
    // and anonymous readers get the same 404 as for an advisory that does not exist.
    for who in [&w.admin, &w.rm] {
        assert_eq!(cve::show_advisory(&w.app, Some(&who.caller()), &foo(), &id).await.unwrap().advisory.id, id);
        assert_eq!(cve::list_advisories(&w.app, Some(&who.caller()), &foo()).await.unwrap().len(), 1);
    }
    assert_eq!(code(cve::show_advisory(&w.app, Some(&w.committer.caller()), &foo(), &id).await), (404, "not-found"));
    assert_eq!(code(cve::show_advisory(&w.app, None, &foo(), &id).await), (404, "not-found"));
    assert!(cve::list_advisories(&w.app, None, &foo()).await.unwrap().is_empty());
    assert!(cve::osv_feed(&w.app, &foo()).await.unwrap().is_empty(), "the feed carries published advisories only");
    assert_eq!(code(cve::osv_record(&w.app, &foo(), &id).await), (404, "not-found"));

    // Recording and editing it wrote nothing to the public stream.
    let edit = AdvisoryEdit { details: Some("The reader follows `..` in entry names.".into()), ..Default::default() };
    cve::edit_advisory(&w.app, &w.rm.caller(), &foo(), &id, edit).await.unwrap();
    assert!(advisory_events(&w).await.is_empty());

    // Before the embargo date publishing needs --force; after it, it does not.
    assert_eq!(code(cve::publish_advisory(&w.app, &w.rm.caller(), &foo(), &id, false).await), (409, "under-embargo"));
    assert_eq!(
        code(cve::publish_advisory(&w.app, &w.committer.caller(), &foo(), &id, true).await),
        (403, "forbidden-role")
    );
    w.clock.set(embargo);
    let published = cve::publish_advisory(&w.app, &w.admin.caller(), &foo(), &id, false).await.unwrap();
    assert_eq!(published.advisory.published_at, Some(embargo));
    assert_eq!(
        code(cve::publish_advisory(&w.app, &w.rm.caller(), &foo(), &id, false).await),
        (409, "already-published")
    );
    assert_eq!(
        advisory_events(&w).await,
        vec![Change::AdvisoryPublished {
            id: id.clone(),
            product: None,
            summary: "Path traversal in the foo archive reader".into(),
            severity: Some(trs_core::Severity::High),
            affected: vec![">=1.0.0,<1.2.3".parse().unwrap()],
            fixed: Some("1.2.3".parse().unwrap()),
            updated: false,
        }]
    );

    // Now anyone reads it, and a change to it is public at once.
    assert_eq!(cve::show_advisory(&w.app, None, &foo(), &id).await.unwrap().advisory.id, id);
    let edit = AdvisoryEdit { severity: Some(trs_core::Severity::Critical), ..Default::default() };
    cve::edit_advisory(&w.app, &w.rm.caller(), &foo(), &id, edit).await.unwrap();
    let events = advisory_events(&w).await;
    assert!(
        matches!(
            &events[1],
            Change::AdvisoryPublished { updated: true, severity: Some(trs_core::Severity::Critical), .. }
        ),
        "{events:?}"
    );
}

#[tokio::test]
async fn affected_ranges_resolve_to_the_releases_held_and_the_fix_is_linked_both_ways() {
    let w = world().await;
    releases(&w, &["0.9.0", "1.0.0", "1.2.2", "1.2.3", "1.10.0"]).await;
    let id = cve_id("CVE-2026-10002");
    cve::add_advisory(&w.app, &w.rm.caller(), &foo(), new_advisory(id.as_str())).await.unwrap();
    let view = cve::publish_advisory(&w.app, &w.rm.caller(), &foo(), &id, false).await.unwrap();
    // trs's version order: 1.10.0 is above 1.2.3 (not between 1.0.0 and 1.2.3 as text would say).
    let versions: Vec<&str> = view.affected_releases.iter().map(|r| r.version.as_str()).collect();
    assert_eq!(versions, ["1.0.0", "1.2.2"]);
    assert_eq!(view.fixed_by.as_ref().map(|r| r.version.as_str()), Some("1.2.3"));

    // A release uploaded later on an affected version is covered without editing the advisory.
    releases(&w, &["1.1.0"]).await;
    let view = cve::show_advisory(&w.app, None, &foo(), &id).await.unwrap();
    let versions: Vec<&str> = view.affected_releases.iter().map(|r| r.version.as_str()).collect();
    assert_eq!(versions, ["1.0.0", "1.1.0", "1.2.2"]);

    // Per release: which advisories affect it and which it fixes.
    let by_release = cve::release_advisories(&w.app, &foo()).await.unwrap();
    let of = |v: &str| by_release.get(&ReleaseId { project: foo(), product: None, version: v.parse().unwrap() });
    assert_eq!(of("1.1.0").unwrap().affected_by, vec![id.clone()]);
    assert_eq!(of("1.2.3").unwrap().fixes, vec![id.clone()]);
    assert!(of("1.2.3").unwrap().affected_by.is_empty());
    assert!(of("0.9.0").is_none() && of("1.10.0").is_none());

    // `trs status` of one release names them, with the release that fixes each.
    let app = &w.app;
    let status = |v: &str| {
        let id = ReleaseId { project: foo(), product: None, version: v.parse().unwrap() };
        async move { trs_app::status::release_status(app, &id).await.unwrap() }
    };
    let affected = status("1.1.0").await;
    assert_eq!(affected.affected_by.len(), 1, "{:?}", affected.affected_by);
    let note = &affected.affected_by[0];
    assert_eq!((&note.id, note.severity), (&id, Some(trs_core::Severity::High)));
    assert_eq!(note.fixed_by.as_ref().map(|r| r.version.as_str()), Some("1.2.3"));
    assert!(affected.fixes.is_empty());
    let fixing = status("1.2.3").await;
    assert_eq!((fixing.affected_by.len(), fixing.fixes.iter().map(|n| &n.id).collect::<Vec<_>>()), (0, vec![&id]));
    let clear = status("1.10.0").await;
    assert!(clear.affected_by.is_empty() && clear.fixes.is_empty());
    let json = serde_json::to_value(trs_api::releases::ReleaseStatus::from(clear)).unwrap();
    assert!(json.get("affected_by").is_none(), "absent when there are none: {json}");

    // An unpublished advisory is not named in the (public) status.
    let hidden = cve_id("CVE-2026-10012");
    let new = NewAdvisory { affected: vec![">=1.10.0".parse().unwrap()], fixed: None, ..new_advisory(hidden.as_str()) };
    cve::add_advisory(&w.app, &w.rm.caller(), &foo(), new).await.unwrap();
    assert!(status("1.10.0").await.affected_by.is_empty());
    cve::publish_advisory(&w.app, &w.rm.caller(), &foo(), &hidden, false).await.unwrap();
    let now_affected = status("1.10.0").await;
    assert_eq!(now_affected.affected_by.iter().map(|n| &n.id).collect::<Vec<_>>(), vec![&hidden]);
    assert_eq!((&now_affected.affected_by[0].fixed, &now_affected.affected_by[0].fixed_by), (&None, &None));
}

#[tokio::test]
async fn a_bad_advisory_is_refused_with_a_stable_code_and_nothing_is_stored() {
    let w = world().await;
    let rm = w.rm.caller();
    let base = || new_advisory("CVE-2026-10003");
    let cases: Vec<(NewAdvisory, &str)> = vec![
        (NewAdvisory { fixed: Some("1.1.0".parse().unwrap()), ..base() }, "invalid-advisory"),
        (NewAdvisory { affected: vec![], ..base() }, "invalid-advisory"),
        (NewAdvisory { summary: None, ..base() }, "invalid-advisory"),
        (NewAdvisory { id: None, ..base() }, "invalid-advisory"),
        (NewAdvisory { summary: Some("two\nlines".into()), ..base() }, "invalid-text"),
        // The CVE 5 schema's limits (title 256, description 4096 characters).
        (NewAdvisory { summary: Some("x".repeat(257)), ..base() }, "invalid-text"),
        (NewAdvisory { details: Some("x".repeat(4097)), ..base() }, "invalid-text"),
        (NewAdvisory { product: Some("nope".parse().unwrap()), ..base() }, "unknown-product"),
        (NewAdvisory { references: vec!["javascript:alert(1)".into()], ..base() }, "invalid-reference"),
        (NewAdvisory { cna_org_id: Some("not-a-uuid".into()), ..base() }, "invalid-cna-org-id"),
        (NewAdvisory { import: Some(json!({"dataType": "NOPE"})), ..base() }, "invalid-cve-record"),
    ];
    for (new, expected) in cases {
        let (status, c) = code(cve::add_advisory(&w.app, &rm, &foo(), new.clone()).await);
        assert_eq!((status, c), (400, expected), "{new:?}");
    }
    assert!(cve::list_advisories(&w.app, Some(&rm), &foo()).await.unwrap().is_empty());

    cve::add_advisory(&w.app, &rm, &foo(), base()).await.unwrap();
    let id = cve_id("CVE-2026-10003");
    assert_eq!(
        code(cve::edit_advisory(&w.app, &rm, &foo(), &id, AdvisoryEdit::default()).await),
        (400, "nothing-to-change")
    );
    let into_range = AdvisoryEdit { fixed: Some("1.0.5".into()), ..Default::default() };
    assert_eq!(code(cve::edit_advisory(&w.app, &rm, &foo(), &id, into_range).await), (400, "invalid-advisory"));
    let missing = cve_id("CVE-2026-99999");
    assert_eq!(code(cve::publish_advisory(&w.app, &rm, &foo(), &missing, false).await), (404, "not-found"));
    // The refused edit changed nothing.
    let stored = cve::show_advisory(&w.app, Some(&rm), &foo(), &id).await.unwrap();
    assert_eq!(stored.advisory.fixed.as_ref().map(|v| v.as_str()), Some("1.2.3"));
}

#[tokio::test]
async fn the_osv_and_cve5_exports_validate_against_the_published_schemas() {
    let mut w = world().await;
    w.app.public_url = Some("https://trs.example.org".into());
    // `2.4` and `2.4.1.1` are versions as PyPI writes them, which semver does not read.
    releases(&w, &["1.0.0", "1.2.3", "2.0", "2.4", "2.4.1.1"]).await;
    let rm = w.rm.caller();
    // Semver ranges (with a package), ranges that are not semver without a package, an exact
    // version, an open one, and a range that is not semver with a package (ECOSYSTEM): every
    // shape the exports write.
    let one = NewAdvisory {
        references: vec!["https://lists.example.org/thread/abc".into()],
        package: Some(trs_core::advisory::Package { ecosystem: "PyPI".into(), name: "foo".into() }),
        cna_org_id: Some(ORG.into()),
        details: Some("Entries named `../x` are written outside the target folder.\nUpgrade to 1.2.3.".into()),
        ..new_advisory("CVE-2026-10004")
    };
    let two = NewAdvisory {
        id: Some(cve_id("CVE-2026-10005")),
        affected: vec![">=2.0,<=2.1".parse().unwrap(), "=1.0.0".parse().unwrap(), ">=3.0.0".parse().unwrap()],
        fixed: None,
        severity: None,
        credits: vec![],
        cna_org_id: Some(ORG.into()),
        ..new_advisory("CVE-2026-10005")
    };
    let three = NewAdvisory {
        id: Some(cve_id("CVE-2026-10007")),
        affected: vec![">=2.4,<2.4.1.1".parse().unwrap()],
        fixed: Some("2.4.1.1".parse().unwrap()),
        package: Some(trs_core::advisory::Package { ecosystem: "PyPI".into(), name: "foo".into() }),
        cna_org_id: Some(ORG.into()),
        ..new_advisory("CVE-2026-10007")
    };
    for new in [one, two, three] {
        let id = new.id.clone().unwrap();
        cve::add_advisory(&w.app, &rm, &foo(), new).await.unwrap();
        cve::publish_advisory(&w.app, &rm, &foo(), &id, false).await.unwrap();
    }
    let feed = cve::osv_feed(&w.app, &foo()).await.unwrap();
    assert_eq!(feed.len(), 3);
    for record in &feed {
        assert_eq!(schema_errors("osv-schema.json", record), Vec::<String>::new(), "{record:#}");
    }
    let osv = &feed[0];
    assert_eq!(osv["id"], "CVE-2026-10004");
    assert_eq!(
        osv["affected"][0]["ranges"][0],
        json!({"type": "SEMVER", "events": [{"introduced": "1.0.0"}, {"fixed": "1.2.3"}]})
    );
    assert_eq!(osv["affected"][0]["versions"], json!(["1.0.0"]));
    assert_eq!(osv["affected"][0]["package"], json!({"ecosystem": "PyPI", "name": "foo"}));
    assert_eq!(
        osv["database_specific"]["trs"]["url"],
        "https://trs.example.org/api/v1/projects/foo/advisories/CVE-2026-10004"
    );
    let ranges = &feed[1]["affected"][0]["ranges"];
    assert_eq!(
        ranges.as_array().unwrap().len(),
        1,
        "no package: the range that is not semver is left to `versions`: {ranges}"
    );
    assert_eq!(feed[1]["affected"][0]["versions"], json!(["1.0.0", "2.0"]));
    // With a package, a range that is not semver is the ecosystem's to order: its bounds as
    // written, the releases trs holds in it listed beside.
    let ecosystem = &feed[2]["affected"][0];
    assert_eq!(feed[2]["id"], "CVE-2026-10007");
    assert_eq!(
        ecosystem["ranges"],
        json!([{"type": "ECOSYSTEM", "events": [{"introduced": "2.4"}, {"fixed": "2.4.1.1"}]}])
    );
    assert_eq!(ecosystem["versions"], json!(["2.4"]));
    assert_eq!(ecosystem["package"], json!({"ecosystem": "PyPI", "name": "foo"}));

    for id in ["CVE-2026-10004", "CVE-2026-10005", "CVE-2026-10007"] {
        let record = cve::cve5_record(&w.app, &foo(), &cve_id(id)).await.unwrap();
        assert_eq!(schema_errors("cve-record-5.1.1.json", &record), Vec::<String>::new(), "{record:#}");
        assert_eq!(record["dataType"], "CVE_RECORD");
        assert_eq!(record["cveMetadata"]["state"], "PUBLISHED");
    }
    let record = cve::cve5_record(&w.app, &foo(), &cve_id("CVE-2026-10004")).await.unwrap();
    assert_eq!(
        record["containers"]["cna"]["affected"][0]["versions"],
        json!([
            {"version": "1.0.0", "status": "affected", "versionType": "semver", "lessThan": "1.2.3"},
            {"version": "1.2.3", "status": "unaffected"}
        ])
    );
    // The validator does reject: a record without its id, or with a range lacking its type.
    let mut broken = osv.clone();
    broken.as_object_mut().unwrap().remove("id");
    assert!(!schema_errors("osv-schema.json", &broken).is_empty());
    let mut broken = record.clone();
    broken["containers"]["cna"]["affected"][0]["versions"][0].as_object_mut().unwrap().remove("versionType");
    assert!(!schema_errors("cve-record-5.1.1.json", &broken).is_empty());

    // Without a CNA id there is no CVE 5 record, and the answer says how to give one.
    let id = cve_id("CVE-2026-10006");
    cve::add_advisory(&w.app, &rm, &foo(), new_advisory(id.as_str())).await.unwrap();
    cve::publish_advisory(&w.app, &rm, &foo(), &id, false).await.unwrap();
    assert_eq!(code(cve::cve5_record(&w.app, &foo(), &id).await), (409, "no-cna-org-id"));
}

/// A record in the shape CNAs publish (the Apache Software Foundation's, for example): a title,
/// an English description, ranges with `lessThan` / `lessThanOrEqual`, credits, references
/// and a textual severity.
#[tokio::test]
async fn a_cve5_record_a_cna_published_is_imported() {
    let w = world().await;
    let record = json!({
        "dataType": "CVE_RECORD",
        "dataVersion": "5.1",
        "cveMetadata": {
            "cveId": "CVE-2024-38856",
            "assignerOrgId": "f0158376-9dc2-43b6-827c-5f631a4d8d09",
            "assignerShortName": "apache",
            "state": "PUBLISHED",
            "datePublished": "2024-08-05T08:07:57.983Z"
        },
        "containers": {"cna": {
            "providerMetadata": {"orgId": "f0158376-9dc2-43b6-827c-5f631a4d8d09", "shortName": "apache"},
            "title": "Apache OFBiz: Incorrect Authorization vulnerability",
            "descriptions": [{"lang": "en", "value": "Incorrect Authorization vulnerability in Apache OFBiz.\n\nThis issue affects Apache OFBiz: through 18.12.14.\n\nUsers are recommended to upgrade to version 18.12.15, which fixes the issue."}],
            "affected": [{
                "vendor": "Apache Software Foundation",
                "product": "Apache OFBiz",
                "collectionURL": "https://repo.maven.apache.org/maven2",
                "packageName": "org.apache.ofbiz:ofbiz",
                "defaultStatus": "unaffected",
                "versions": [
                    {"version": "0", "status": "affected", "lessThanOrEqual": "18.12.14", "versionType": "semver"},
                    {"version": "18.12.15", "status": "unaffected"}
                ]
            }],
            "credits": [{"lang": "en", "type": "finder", "value": "shin24 from National Cyber Security Vietnam"}],
            "metrics": [{"other": {"type": "Textual description of severity", "content": {"text": "critical"}}}],
            "references": [
                {"tags": ["vendor-advisory"], "url": "https://lists.apache.org/thread/olxxjk6b13sl3wh9cmp0k2dscvp24l7w"},
                {"tags": ["patch"], "url": "https://ofbiz.apache.org/security.html"}
            ]
        }}
    });
    assert_eq!(schema_errors("cve-record-5.1.1.json", &record), Vec::<String>::new(), "the sample is a valid record");
    let new = NewAdvisory { import: Some(record), ..Default::default() };
    let view = cve::add_advisory(&w.app, &w.rm.caller(), &foo(), new).await.unwrap();
    let a = &view.advisory;
    assert_eq!(a.id.as_str(), "CVE-2024-38856");
    assert_eq!(a.summary, "Apache OFBiz: Incorrect Authorization vulnerability");
    assert!(a.details.as_deref().unwrap().contains("through 18.12.14"));
    assert_eq!(a.severity, Some(trs_core::Severity::Critical));
    assert_eq!(a.affected.iter().map(|r| r.to_string()).collect::<Vec<_>>(), ["<=18.12.14"]);
    assert_eq!(a.fixed.as_ref().map(|v| v.as_str()), Some("18.12.15"));
    assert_eq!(a.credits, ["shin24 from National Cyber Security Vietnam"]);
    assert_eq!(a.references.len(), 2);
    assert_eq!(a.cna_org_id.as_deref(), Some("f0158376-9dc2-43b6-827c-5f631a4d8d09"));
    assert!(a.published_at.is_none(), "an imported advisory is private until published here");
}

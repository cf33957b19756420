//! The `sbom` check on SBOMs made by the real generators (tests/data/sbom/README.md says how
//! each was made), and on hostile ones: invalid, huge, deeply nested, entity bombs, another
//! release's.

use crate::common::Release;
use std::collections::BTreeSet;
use trs_checks::sbom::{self, MAX_SBOM_SIZE, SbomFormat, check_sbom, check_sbom_bytes, release_checks};
use trs_core::{CheckKind, CheckResult, LicenceCategory, Outcome, SbomSummary};

fn data(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/data/sbom/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// The `sbom` results of a release file `name` holding `bytes`, through the artifact check.
fn checked(name: &str, bytes: &[u8]) -> Vec<CheckResult> {
    let r = Release::new();
    r.write(name, bytes);
    r.verify(name, &[]).checks.into_iter().filter(|c| c.check == CheckKind::Sbom).collect()
}

fn summary(results: &[CheckResult]) -> SbomSummary {
    *results[0].sbom.clone().unwrap_or_else(|| panic!("no summary in {results:#?}"))
}

fn reasons(results: &[CheckResult], outcome: Outcome) -> Vec<String> {
    results.iter().filter(|c| c.result == outcome).map(|c| c.reason.clone()).collect()
}

fn category(s: &SbomSummary, c: LicenceCategory) -> u64 {
    s.licences.get(&c).map(|t| t.components).unwrap_or(0)
}

#[test]
fn cyclonedx_py_json_1_6_is_valid_and_summarised() {
    let results = checked("foo-1.0.0.cdx.json", &data("cyclonedx-py-1.6.cdx.json"));
    assert_eq!(results[0].result, Outcome::Pass, "{results:#?}");
    assert!(results[0].reason.starts_with("valid CycloneDX 1.6 JSON; 35 components"), "{}", results[0].reason);
    let s = summary(&results);
    assert_eq!(s.format, "CycloneDX 1.6 JSON");
    let top = s.top.clone().unwrap();
    assert_eq!((top.name.as_str(), top.version.as_deref()), ("foo", Some("1.0.0")));
    assert_eq!(s.components, 35);
    // cyclonedx-py writes trove classifiers as licence names; they are categorised too.
    assert!(category(&s, LicenceCategory::Permissive) >= 25, "{s:#?}");
    let total: u64 = s.licences.values().map(|t| t.components).sum();
    assert_eq!(total, 35);
    // No supplier and no author are recorded by cyclonedx-py: NTIA warnings, with names.
    let warnings = reasons(&results, Outcome::Warn).join("\n");
    assert!(warnings.contains("NTIA minimum elements: 35 of 35 components have no supplier"), "{warnings}");
    assert!(!warnings.contains("timestamp"), "{warnings}");
    assert!(!warnings.contains("dependency relationships"), "{warnings}");
}

#[test]
fn cyclonedx_py_json_1_4_without_timestamp_warns() {
    // Made with --output-reproducible: no timestamp, no serial number.
    let results = checked("foo-1.0.0.cdx.json", &data("cyclonedx-py-1.4.cdx.json"));
    assert_eq!(results[0].result, Outcome::Pass, "{results:#?}");
    assert!(results[0].reason.starts_with("valid CycloneDX 1.4 JSON"));
    let warnings = reasons(&results, Outcome::Warn).join("\n");
    assert!(warnings.contains("no timestamp (metadata.timestamp)"), "{warnings}");
}

#[test]
fn cyclonedx_npm_json_counts_its_licences() {
    let results = checked("foo-1.0.0.cdx.json", &data("cyclonedx-npm-1.6.cdx.json"));
    assert_eq!(results[0].result, Outcome::Pass, "{results:#?}");
    let s = summary(&results);
    assert_eq!(s.components, 2);
    // semver (ISC) and left-pad (WTFPL)
    assert_eq!(category(&s, LicenceCategory::Permissive), 2, "{s:#?}");
    let warnings = reasons(&results, Outcome::Warn).join("\n");
    assert!(!warnings.contains("no author"), "cyclonedx-npm names the top component's author: {warnings}");
}

#[test]
fn cyclonedx_xml_is_checked_against_the_schema_rules_for_the_elements_trs_reads_and_says_the_rest_is_not() {
    for (sample, spec, components) in [("cyclonedx-py-1.5.cdx.xml", "1.5", 35), ("cyclonedx-npm-1.6.cdx.xml", "1.6", 2)]
    {
        let results = checked("foo-1.0.0.cdx.xml", &data(sample));
        assert_eq!(results[0].result, Outcome::Pass, "{sample}: {results:#?}");
        assert!(
            results[0].reason.starts_with(&format!("valid CycloneDX {spec} XML (the elements trs reads)")),
            "{}",
            results[0].reason
        );
        let s = summary(&results);
        assert_eq!(s.format, format!("CycloneDX {spec} XML"));
        assert_eq!(s.components, components, "{sample}");
        assert_eq!(s.top.clone().unwrap().name, "foo");
        let warnings = reasons(&results, Outcome::Warn).join("\n");
        assert!(warnings.contains("the rest of the document is not validated against the XML Schema"), "{warnings}");
    }
    // One reader behind both forms: the same SBOM from cyclonedx-npm, as JSON and as XML, has
    // the same summary and the same NTIA findings.
    let json = checked("foo-1.0.0.cdx.json", &data("cyclonedx-npm-1.6.cdx.json"));
    let xml = checked("foo-1.0.0.cdx.xml", &data("cyclonedx-npm-1.6.cdx.xml"));
    let (sj, sx) = (summary(&json), summary(&xml));
    assert_eq!((sj.components, &sj.top, &sj.licences), (sx.components, &sx.top, &sx.licences));
    let ntia = |r: &[trs_core::CheckResult]| -> Vec<String> {
        r.iter().filter(|c| c.reason.starts_with("NTIA")).map(|c| c.reason.clone()).collect()
    };
    assert_eq!(ntia(&json), ntia(&xml));
}

/// What the schema says of the elements trs reads is enforced in XML as in JSON.
#[test]
fn cyclonedx_xml_breaking_the_schema_rules_fails_naming_where() {
    let bom = |root_attrs: &str, second: &str| {
        format!(
            "<?xml version='1.0'?><bom xmlns='http://cyclonedx.org/schema/bom/1.6' {root_attrs}>\
             <metadata><timestamp>2026-01-01T00:00:00Z</timestamp>\
             <component type='library'><name>foo</name><version>1.0.0</version></component></metadata>\
             <components><component type='library' bom-ref='a'><name>a</name><version>1</version>\
             <components>{second}</components></component></components></bom>"
        )
    };
    let good = bom("version='1'", "<component type='library'><name>b</name></component>");
    let results = check_sbom_bytes(SbomFormat::CycloneDxXml, good.as_bytes());
    assert_eq!(results[0].result, Outcome::Pass, "{results:#?}");
    for (xml, needle) in [
        (bom("version='1'", "<component type='gadget'><name>b</name></component>"), "at /components/1/type"),
        (bom("version='1'", "<component type='library'><version>2</version></component>"), "at /components/1"),
        (
            bom("version='1'", "<component type='library'><name>b</name><swid name='b'/></component>"),
            "at /components/1/swid",
        ),
        (bom("version='two'", "<component type='library'><name>b</name></component>"), "at /version"),
        (
            bom(
                "version='1'",
                "<component type='library'><name>b</name><licenses><license><id>Not-A-Licence</id></license>\
                 </licenses></component>",
            ),
            "at /components/1/licenses",
        ),
        (bom("serialNumber='not-a-urn'", "<component type='library'><name>b</name></component>"), "at /serialNumber"),
    ] {
        let results = check_sbom_bytes(SbomFormat::CycloneDxXml, xml.as_bytes());
        assert_eq!(results[0].result, Outcome::Fail, "{xml}: {results:#?}");
        assert!(results[0].reason.contains("not valid CycloneDX 1.6 XML"), "{}", results[0].reason);
        assert!(results[0].reason.contains(needle), "{needle}: {}", results[0].reason);
    }
}

#[test]
fn spdx_json_and_tag_value_from_pyspdxtools_are_valid() {
    for (sample, name, format) in [
        ("pyspdxtools-2.3.spdx.json", "foo-1.0.0.spdx.json", "SPDX 2.3 JSON"),
        ("pyspdxtools-2.3.spdx", "foo-1.0.0.spdx", "SPDX 2.3 tag-value"),
    ] {
        let results = checked(name, &data(sample));
        assert_eq!(results[0].result, Outcome::Pass, "{sample}: {results:#?}");
        let s = summary(&results);
        assert_eq!(s.format, format);
        let top = s.top.clone().unwrap();
        assert_eq!((top.name.as_str(), top.version.as_deref()), ("foo", Some("1.0.0")));
        assert_eq!(s.components, 2);
        assert_eq!(category(&s, LicenceCategory::Permissive), 1, "{s:#?}");
        // logback: EPL-1.0 OR LGPL-2.1-only
        assert_eq!(category(&s, LicenceCategory::WeakCopyleft), 1, "{s:#?}");
        assert!(reasons(&results, Outcome::Warn).is_empty(), "{sample}: every NTIA element is there: {results:#?}");
    }
}

#[test]
fn the_spdx_2_2_spec_examples_are_valid() {
    for (sample, name) in
        [("spdx-spec-example-2.2.spdx.json", "example.spdx.json"), ("spdx-spec-example-2.2.spdx", "example.spdx")]
    {
        let results = checked(name, &data(sample));
        assert_eq!(results[0].result, Outcome::Pass, "{sample}: {results:#?}");
        assert!(results[0].reason.starts_with("valid SPDX 2.2"), "{}", results[0].reason);
    }
}

/// SPDX 3 (JSON-LD) is recognised and reported as not checked yet, as a warning: neither a
/// pass nor the misleading "no spdxVersion" of SPDX 2.
#[test]
fn spdx_3_json_ld_is_recognised_and_reported_not_checked_yet() {
    let results = checked("foo-1.0.0.spdx.json", &data("spdx-3.0.1-jsonld.spdx.json"));
    assert_eq!(results.len(), 1, "{results:#?}");
    assert_eq!(results[0].result, Outcome::Warn, "{results:#?}");
    assert!(
        results[0].reason.starts_with("SPDX 3.0.1 (JSON-LD, 7 elements) is not checked yet"),
        "{}",
        results[0].reason
    );
    // The version from the context alone, an array context, and a JSON-LD document that is not
    // SPDX 3 (still "not an SPDX document").
    for (doc, expected) in [
        (r#"{"@context": "https://spdx.org/rdf/3.0.0/spdx-context.jsonld", "@graph": []}"#, Outcome::Warn),
        (r#"{"@context": ["https://spdx.org/rdf/3.0.1/spdx-context.jsonld"], "@graph": [{}]}"#, Outcome::Warn),
        (r#"{"@context": "https://schema.org/", "@graph": []}"#, Outcome::Fail),
    ] {
        let results = check_sbom_bytes(SbomFormat::SpdxJson, doc.as_bytes());
        assert_eq!(results[0].result, expected, "{doc}: {results:#?}");
    }
    let other = check_sbom_bytes(SbomFormat::SpdxJson, br#"{"@context": "https://schema.org/"}"#);
    assert!(other[0].reason.contains("no spdxVersion"), "{}", other[0].reason);
}

/// SPDX RDF/XML is read into the JSON form and judged by the one SPDX reader: the same SBOM
/// from pyspdxtools, and the SPDX 2.2 spec's example, as RDF and as JSON have the same summary
/// and NTIA findings; a warning says what of the RDF was not validated.
#[test]
fn spdx_rdf_is_read_like_json_and_says_what_is_not_validated() {
    for (rdf, json, spec) in [
        ("pyspdxtools-2.3.spdx.rdf", "pyspdxtools-2.3.spdx.json", "2.3"),
        ("spdx-spec-example-2.2.spdx.rdf", "spdx-spec-example-2.2.spdx.json", "2.2"),
    ] {
        let from_rdf = checked("foo-1.0.0.spdx.rdf", &data(rdf));
        assert_eq!(from_rdf[0].result, Outcome::Pass, "{rdf}: {from_rdf:#?}");
        assert!(
            from_rdf[0].reason.starts_with(&format!("valid SPDX {spec} RDF (the elements trs reads)")),
            "{}",
            from_rdf[0].reason
        );
        let warnings = reasons(&from_rdf, Outcome::Warn).join("\n");
        assert!(
            warnings.contains("files, snippets, annotations and extracted licence texts are not validated"),
            "{warnings}"
        );
        let from_json = checked("foo-1.0.0.spdx.json", &data(json));
        let (sr, sj) = (summary(&from_rdf), summary(&from_json));
        assert_eq!(sr.format, format!("SPDX {spec} RDF"));
        assert_eq!((sr.components, &sr.top), (sj.components, &sj.top), "{rdf}");
        // RDF has no order of elements: the tallies are the same, their examples in any order.
        let tallies = |s: &trs_core::SbomSummary| -> Vec<(LicenceCategory, u64, Vec<String>)> {
            let sorted = |mut v: Vec<String>| {
                v.sort();
                v
            };
            s.licences.iter().map(|(c, t)| (*c, t.components, sorted(t.examples.clone()))).collect()
        };
        assert_eq!(tallies(&sr), tallies(&sj), "{rdf}");
        // Each NTIA warning, with the components it names in any order.
        let ntia = |r: &[trs_core::CheckResult]| -> Vec<(String, Vec<String>)> {
            r.iter()
                .filter(|c| c.reason.starts_with("NTIA"))
                .map(|c| {
                    let (what, named) = c.reason.rsplit_once(": ").unwrap();
                    let mut named: Vec<String> = named.split(", ").map(String::from).collect();
                    named.sort();
                    (what.to_string(), named)
                })
                .collect()
        };
        assert_eq!(ntia(&from_rdf), ntia(&from_json), "{rdf}");
    }
    let s = summary(&checked("foo-1.0.0.spdx.rdf", &data("pyspdxtools-2.3.spdx.rdf")));
    let top = s.top.clone().unwrap();
    assert_eq!((top.name.as_str(), top.version.as_deref()), ("foo", Some("1.0.0")));
    assert_eq!(s.components, 2);
    // logback: a DisjunctiveLicenseSet of EPL-1.0 and LGPL-2.1-only.
    assert_eq!(category(&s, LicenceCategory::WeakCopyleft), 1, "{s:#?}");
}

/// What the schema says of the elements trs reads holds in RDF: a package without its
/// download location, or an unknown relationship type, fails naming where; a document that is
/// not SPDX RDF fails with the reason.
#[test]
fn spdx_rdf_breaking_the_schema_rules_fails_naming_where() {
    let good = String::from_utf8(data("pyspdxtools-2.3.spdx.rdf")).unwrap();
    let no_location = good.replacen(
        "<spdx:downloadLocation>https://repo1.maven.org/maven2/org/apache/commons/commons-lang3/3.14.0/commons-lang3-3.14.0.jar</spdx:downloadLocation>",
        "",
        1,
    );
    let odd_relationship = good.replacen("relationshipType_dependsOn", "relationshipType_likes", 1);
    for (rdf, needle) in [(&no_location, "downloadLocation"), (&odd_relationship, "LIKES")] {
        assert_ne!(rdf, &good);
        let results = checked("foo-1.0.0.spdx.rdf", rdf.as_bytes());
        assert_eq!(results[0].result, Outcome::Fail, "{needle}: {results:#?}");
        assert!(results[0].reason.contains("not valid SPDX 2.3 RDF"), "{}", results[0].reason);
        assert!(results[0].reason.contains(needle), "{needle}: {}", results[0].reason);
    }
    for (doc, reason) in [
        ("<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"/>", "no <spdx:SpdxDocument>"),
        ("<bom xmlns=\"http://cyclonedx.org/schema/bom/1.6\"/>", "root element is not <rdf:RDF>"),
        ("<rdf:RDF", "not well-formed XML"),
    ] {
        let results = checked("foo-1.0.0.spdx.rdf", doc.as_bytes());
        assert_eq!(results[0].result, Outcome::Fail, "{doc}");
        assert!(results[0].reason.contains(reason), "{doc}: {}", results[0].reason);
    }
}

#[test]
fn a_schema_violation_fails_with_where_and_why() {
    let mut doc: serde_json::Value = serde_json::from_slice(&data("cyclonedx-npm-1.6.cdx.json")).unwrap();
    doc["components"][0]["type"] = "gadget".into();
    doc["metadata"]["timestamp"] = serde_json::json!(12);
    let results = checked("foo-1.0.0.cdx.json", &serde_json::to_vec(&doc).unwrap());
    assert_eq!(results[0].result, Outcome::Fail);
    let reason = &results[0].reason;
    assert!(reason.starts_with("not valid CycloneDX 1.6 JSON (schema bom-1.6.schema.json)"), "{reason}");
    assert!(reason.contains("/components/0/type") && reason.contains("gadget"), "{reason}");
    assert!(reason.contains("/metadata/timestamp"), "{reason}");
    // The summary is still there for the page.
    assert_eq!(summary(&results).components, 2);

    let mut spdx: serde_json::Value = serde_json::from_slice(&data("pyspdxtools-2.3.spdx.json")).unwrap();
    spdx["packages"][0].as_object_mut().unwrap().remove("downloadLocation");
    let results = checked("foo-1.0.0.spdx.json", &serde_json::to_vec(&spdx).unwrap());
    assert_eq!(results[0].result, Outcome::Fail);
    assert!(results[0].reason.contains("downloadLocation"), "{}", results[0].reason);
}

#[test]
fn unreadable_and_unsupported_documents_fail_with_a_reason() {
    for (name, bytes, expected) in [
        ("a.cdx.json", &b"{\"bomFormat\": \"CycloneDX\", "[..], "not a CycloneDX JSON document"),
        (
            "a.cdx.json",
            br#"{"bomFormat": "CycloneDX", "specVersion": "1.2", "version": 1}"#,
            "trs reads CycloneDX 1.4 to 1.7",
        ),
        ("a.cdx.json", br#"{"bomFormat": "SPDX", "specVersion": "1.6"}"#, "bomFormat is not"),
        ("a.spdx.json", br#"{"spdxVersion": "SPDX-2.1"}"#, "trs reads SPDX 2.2 and 2.3"),
        ("a.spdx", b"SPDXVersion SPDX-2.3\n", "is not `Tag: value`"),
        ("a.spdx", b"SPDXVersion: SPDX-2.3\nPackageComment: <text>never closed\n", "<text> is never closed"),
        ("a.cdx.xml", b"<bom xmlns='http://cyclonedx.org/schema/bom/1.6'>", "not well-formed XML"),
        ("a.cdx.xml", b"<bom xmlns='urn:other'/>", "not a CycloneDX XML document"),
    ] {
        let results = checked(name, bytes);
        assert_eq!(results.len(), 1, "{name}: {results:#?}");
        assert_eq!(results[0].result, Outcome::Fail, "{name}");
        assert!(results[0].reason.contains(expected), "{name}: {:?} lacks {expected:?}", results[0].reason);
    }
}

#[test]
fn deep_nesting_is_refused_without_exhausting_the_stack() {
    let depth = 100_000;
    let json =
        format!(r#"{{"bomFormat":"CycloneDX","specVersion":"1.6","x":{}1{}}}"#, "[".repeat(depth), "]".repeat(depth));
    let results = check_sbom_bytes(SbomFormat::CycloneDxJson, json.as_bytes());
    assert_eq!(results[0].result, Outcome::Fail);
    assert!(results[0].reason.contains("recursion limit exceeded"), "{}", results[0].reason);

    // Nested components just inside serde_json's limit are walked without recursion.
    let mut nested = serde_json::json!({"type": "library", "name": "leaf"});
    for i in 0..60 {
        nested = serde_json::json!({"type": "library", "name": format!("c{i}"), "components": [nested]});
    }
    let doc = serde_json::json!({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": [nested]});
    let results = check_sbom_bytes(SbomFormat::CycloneDxJson, &serde_json::to_vec(&doc).unwrap());
    assert_eq!(summary(&results).components, 61);

    let xml = format!(
        "<bom xmlns='http://cyclonedx.org/schema/bom/1.6'>{}{}</bom>",
        "<a>".repeat(sbom::MAX_XML_DEPTH + 10),
        "</a>".repeat(sbom::MAX_XML_DEPTH + 10)
    );
    let results = check_sbom_bytes(SbomFormat::CycloneDxXml, xml.as_bytes());
    assert_eq!(results[0].result, Outcome::Fail);
    assert!(results[0].reason.contains("deeper than") || results[0].reason.contains("nest"), "{}", results[0].reason);
}

#[test]
fn xml_entities_are_refused() {
    let bomb = r#"<?xml version="1.0"?>
<!DOCTYPE bom [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>
<bom xmlns="http://cyclonedx.org/schema/bom/1.6"><components><component type="library"><name>&c;</name></component></components></bom>"#;
    let results = check_sbom_bytes(SbomFormat::CycloneDxXml, bomb.as_bytes());
    assert_eq!(results[0].result, Outcome::Fail, "{results:#?}");
    assert!(results[0].reason.contains("not well-formed XML"), "{}", results[0].reason);
}

#[test]
fn a_huge_or_changed_sbom_is_refused_unread() {
    let r = Release::new();
    r.write("big.cdx.json", b"{}");
    let e = r.entry("big.cdx.json");
    let results =
        check_sbom("big.cdx.json", SbomFormat::CycloneDxJson, &r.path("big.cdx.json"), MAX_SBOM_SIZE + 1, &e.sha512);
    assert_eq!(results[0].result, Outcome::Fail);
    assert!(results[0].reason.contains("larger than the 67108864 bytes"), "{}", results[0].reason);

    let other = crate::common::sha512(b"something else");
    let results = check_sbom("big.cdx.json", SbomFormat::CycloneDxJson, &r.path("big.cdx.json"), e.size, &other);
    assert!(results[0].reason.contains("changed in storage"), "{}", results[0].reason);
}

#[test]
fn the_top_component_must_be_this_release() {
    let s = summary(&checked("foo-1.0.0.cdx.json", &data("cyclonedx-npm-1.6.cdx.json")));
    let none = BTreeSet::new();
    let ok = release_checks(&s, &["foo"], "1.0.0", &none);
    assert_eq!((ok[0].result, ok[0].reason.as_str()), (Outcome::Pass, "describes foo 1.0.0, this release"));
    // The usual prefixes and namespaces of a project's package name match too.
    let mut prefixed = s.clone();
    prefixed.top.as_mut().unwrap().name = "@apache/foo".into();
    assert_eq!(release_checks(&prefixed, &["foo"], "1.0.0", &none)[0].result, Outcome::Pass);
    prefixed.top.as_mut().unwrap().name = "apache-foo".into();
    assert_eq!(release_checks(&prefixed, &["foo"], "1.0.0", &none)[0].result, Outcome::Pass);
    // A product's SBOM names the product.
    assert_eq!(release_checks(&s, &["bar", "foo"], "1.0.0", &none)[0].result, Outcome::Pass);

    for (names, version) in [(&["bar"][..], "1.0.0"), (&["foo"][..], "1.0.1"), (&["foobar"][..], "1.0.0")] {
        let bad = release_checks(&s, names, version, &none);
        assert_eq!(bad[0].result, Outcome::Fail, "{names:?} {version}");
        assert!(bad[0].reason.starts_with("the SBOM describes foo 1.0.0, not this release"), "{}", bad[0].reason);
    }
}

#[test]
fn denied_licence_categories_fail_with_the_components() {
    let s = summary(&checked("foo-1.0.0.spdx.json", &data("pyspdxtools-2.3.spdx.json")));
    let denied: BTreeSet<_> = [LicenceCategory::WeakCopyleft, LicenceCategory::StrongCopyleft].into();
    let results = release_checks(&s, &["foo"], "1.0.0", &denied);
    let fails = reasons(&results, Outcome::Fail);
    assert_eq!(fails.len(), 1, "{results:#?}");
    assert_eq!(
        fails[0],
        "1 component(s) are under weak-copyleft licences, which the project's policy denies: logback-classic 1.5.6: \
         EPL-1.0 OR LGPL-2.1-only"
    );
    assert!(reasons(&release_checks(&s, &["foo"], "1.0.0", &BTreeSet::new()), Outcome::Fail).is_empty());
}

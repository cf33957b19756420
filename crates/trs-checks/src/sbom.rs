//! The `sbom` check: a release file named `*.cdx.json`, `*.cdx.xml`, `*.spdx.json`, `*.spdx`
//! (tag-value) or `*.spdx.rdf` is a software bill of materials, read and judged like any other
//! artifact (and, like them, cached by its digest).
//!
//! - **Schema.** CycloneDX JSON 1.4–1.7 and SPDX JSON 2.2/2.3 are validated with the
//!   `jsonschema` crate against the published JSON schemas in `schemas/sbom/` (embedded in the
//!   binary; schemas/README.md names their sources). SPDX tag-value is parsed into the
//!   JSON form the SPDX spec defines for each tag and validated against the same schema.
//!   CycloneDX XML is parsed (`roxmltree`, no DTDs) and the elements trs reads are mapped to
//!   the JSON form, which is validated against the same JSON schema: CycloneDX's rules for
//!   those elements (a component's `type` and `name`, a swid's `tagId`, the serial number's
//!   pattern, …) hold in XML as in JSON, and one reader ([`read_cyclonedx`]) judges both. The
//!   rest of an XML document is not validated against the XSD (no maintained Rust XML Schema
//!   validator; libxml2 bindings would bring a C library into every function), and a warning
//!   says so. SPDX RDF/XML is read the same way ([`spdx_rdf_to_json`]: the document, its
//!   packages and relationships, validated against the SPDX JSON schema; files, snippets and
//!   annotations are not, and a warning says so). SPDX 3 (JSON-LD) is recognised and reported
//!   "not checked yet" as a warning.
//!   The `cyclonedx-bom` crate was considered: its last release (0.8) reads CycloneDX 1.3–1.5
//!   only, while cyclonedx-py and cyclonedx-npm write 1.6 by default, and it validates its own
//!   model rather than the schema.
//! - **NTIA minimum elements** (supplier, component name, version, unique identifiers,
//!   dependency relationships, author, timestamp): each one missing is a warning with the
//!   components that lack it.
//! - **Summary** ([`SbomSummary`]): the top component, the component count, licences in
//!   [`LicenceCategory`]s; it rides on the first `sbom` result.
//! - What depends on the release rather than the bytes — the top component against the
//!   release's project and version, licences the project's policy denies — is judged by
//!   [`release_checks`] after the cache.
//!
//! Bounds: a file above [`MAX_SBOM_SIZE`] is refused unread; JSON nesting is limited by
//! serde_json (128 levels) and XML nesting by [`MAX_XML_DEPTH`]; every walk is iterative.

use serde_json::{Map, Value, json};
use sha2::Digest;
use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;
use std::sync::OnceLock;
use trs_core::{CheckKind, CheckResult, LicenceCategory, SbomComponent, SbomSummary, Sha512};

/// Part of an SBOM's cache key ([`crate::artifact_cache_key`]): raise it when what the check
/// finds in the same bytes changes, so that stored results are not reused.
pub const SBOM_CHECK_VERSION: u32 = 2;
/// SBOMs larger than this are refused unread (the largest real ones are tens of MB).
pub const MAX_SBOM_SIZE: u64 = 64 << 20;
/// Deepest element nesting read in CycloneDX XML.
pub const MAX_XML_DEPTH: usize = 128;
/// Schema errors listed in a reason.
const MAX_ERRORS: usize = 5;
/// Component names listed in an NTIA warning.
const MAX_NAMED: usize = 5;

/// The SBOM formats trs recognises, by file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SbomFormat {
    CycloneDxJson,
    CycloneDxXml,
    SpdxJson,
    SpdxTagValue,
    SpdxRdf,
}

impl SbomFormat {
    /// The format a release file's name says it holds.
    pub fn of(file_name: &str) -> Option<SbomFormat> {
        let lower = file_name.to_ascii_lowercase();
        [
            (".cdx.json", SbomFormat::CycloneDxJson),
            (".cdx.xml", SbomFormat::CycloneDxXml),
            (".spdx.json", SbomFormat::SpdxJson),
            (".spdx.rdf", SbomFormat::SpdxRdf),
            (".spdx", SbomFormat::SpdxTagValue),
        ]
        .into_iter()
        .find_map(|(suffix, f)| (lower.len() > suffix.len() && lower.ends_with(suffix)).then_some(f))
    }
}

/// Checks the SBOM at `file` (named `name` in the release), whose bytes must have the
/// manifest's size and SHA-512: the `sbom` results of [`crate::artifact::verify_artifact`].
pub fn check_sbom(name: &str, format: SbomFormat, file: &Path, size: u64, sha512: &Sha512) -> Vec<CheckResult> {
    check_sbom_from(name, format, || std::fs::File::open(file), size, sha512)
}

/// [`check_sbom`] of the bytes `open` reads (a file, or an object streamed from a store).
pub fn check_sbom_from<R: Read>(
    name: &str,
    format: SbomFormat,
    open: impl FnOnce() -> std::io::Result<R>,
    size: u64,
    sha512: &Sha512,
) -> Vec<CheckResult> {
    if size > MAX_SBOM_SIZE {
        return vec![CheckResult::fail(
            CheckKind::Sbom,
            format!("{name} is {size} bytes, larger than the {MAX_SBOM_SIZE} bytes trs reads in an SBOM"),
        )];
    }
    let mut bytes = Vec::with_capacity(size as usize);
    if let Err(e) = open().and_then(|f| f.take(MAX_SBOM_SIZE + 1).read_to_end(&mut bytes)) {
        return vec![CheckResult::fail(CheckKind::Sbom, format!("could not read {name} from storage: {e}"))];
    }
    let digest: [u8; 64] = sha2::Sha512::digest(&bytes).into();
    if bytes.len() as u64 != size || digest != *sha512.as_bytes() {
        return vec![CheckResult::fail(CheckKind::Sbom, format!("{name} changed in storage; it was not checked"))];
    }
    check_sbom_bytes(format, &bytes)
}

/// [`check_sbom`] on bytes already read (and the fuzz target's entry point).
pub fn check_sbom_bytes(format: SbomFormat, bytes: &[u8]) -> Vec<CheckResult> {
    match read(format, bytes) {
        Err(reason) => vec![CheckResult::fail(CheckKind::Sbom, reason)],
        Ok(Reading::Checked(read)) => read.into_results(),
        Ok(Reading::NotChecked(reason)) => vec![CheckResult::warn(CheckKind::Sbom, reason)],
    }
}

/// What reading an SBOM came to: findings, or a format recognised but not checked yet.
enum Reading {
    Checked(Findings),
    NotChecked(String),
}

/// What reading an SBOM found before it is turned into results.
struct Findings {
    summary: SbomSummary,
    /// The schema's verdict: `Ok(what was checked)` or `Err(errors)`.
    schema: Result<String, String>,
    /// Warnings that are not NTIA elements (XML not validated, …).
    notes: Vec<String>,
    ntia: Vec<String>,
}

impl Findings {
    fn into_results(self) -> Vec<CheckResult> {
        let mut first = match self.schema {
            Ok(what) => CheckResult::pass(
                CheckKind::Sbom,
                format!(
                    "{what}; {} components ({}){}",
                    self.summary.components,
                    self.summary.licence_line(),
                    match &self.summary.top {
                        Some(t) => format!("; describes {}", component_text(t)),
                        None => String::new(),
                    }
                ),
            ),
            Err(errors) => CheckResult::fail(CheckKind::Sbom, errors),
        };
        first.sbom = Some(Box::new(self.summary));
        let mut out = vec![first];
        out.extend(self.notes.into_iter().map(|n| CheckResult::warn(CheckKind::Sbom, n)));
        out.extend(
            self.ntia.into_iter().map(|n| CheckResult::warn(CheckKind::Sbom, format!("NTIA minimum elements: {n}"))),
        );
        out
    }
}

fn component_text(c: &SbomComponent) -> String {
    match &c.version {
        Some(v) => format!("{} {v}", c.name),
        None => c.name.clone(),
    }
}

fn read(format: SbomFormat, bytes: &[u8]) -> Result<Reading, String> {
    if format == SbomFormat::SpdxJson {
        let doc = parse_json(bytes, "SPDX")?;
        if let Some(version) = spdx3_version(&doc) {
            return Ok(Reading::NotChecked(format!(
                "SPDX {version} (JSON-LD, {} elements) is not checked yet: trs checks SPDX 2.2 and 2.3 (JSON, \
                 tag-value) and CycloneDX 1.4-1.7; publish one of those beside it to have the SBOM checked",
                doc.get("@graph").and_then(Value::as_array).map_or(0, Vec::len)
            )));
        }
        return read_spdx(&doc, "JSON", bytes.len()).map(Reading::Checked);
    }
    read_checked(format, bytes).map(Reading::Checked)
}

/// The SPDX version of an SPDX 3 JSON-LD document (no `spdxVersion`; an `@context` of
/// `https://spdx.org/rdf/3.…/spdx-context.jsonld`, a `CreationInfo` with `specVersion` 3.…).
fn spdx3_version(doc: &Value) -> Option<String> {
    if doc.get("spdxVersion").is_some() {
        return None;
    }
    let contexts: Vec<&str> = match doc.get("@context")? {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let from_context = contexts
        .iter()
        .find_map(|c| c.strip_prefix("https://spdx.org/rdf/").and_then(|rest| rest.split('/').next()))
        .filter(|v| v.starts_with("3."));
    let from_graph = doc.get("@graph").and_then(Value::as_array).and_then(|graph| {
        graph.iter().find_map(|e| {
            (e.get("type").and_then(Value::as_str) == Some("CreationInfo"))
                .then(|| e.get("specVersion").and_then(Value::as_str))
                .flatten()
        })
    });
    let version = from_graph.filter(|v| v.starts_with("3.")).or(from_context)?;
    Some(version.chars().take(20).collect())
}

fn read_checked(format: SbomFormat, bytes: &[u8]) -> Result<Findings, String> {
    match format {
        SbomFormat::CycloneDxJson => {
            let doc = parse_json(bytes, "CycloneDX")?;
            read_cyclonedx(&doc, "JSON", bytes.len())
        }
        SbomFormat::CycloneDxXml => {
            let doc = cyclonedx_xml_to_json(bytes)?;
            read_cyclonedx(&doc, "XML", bytes.len())
        }
        SbomFormat::SpdxJson => {
            let doc = parse_json(bytes, "SPDX")?;
            read_spdx(&doc, "JSON", bytes.len())
        }
        SbomFormat::SpdxTagValue => {
            let text = std::str::from_utf8(bytes).map_err(|e| format!("the SPDX tag-value file is not UTF-8: {e}"))?;
            let doc = spdx_tag_value_to_json(text)?;
            read_spdx(&doc, "tag-value", bytes.len())
        }
        SbomFormat::SpdxRdf => {
            let doc = spdx_rdf_to_json(bytes)?;
            read_spdx(&doc, "RDF", bytes.len())
        }
    }
}

fn parse_json(bytes: &[u8], what: &str) -> Result<Value, String> {
    // serde_json stops at 128 levels of nesting ("recursion limit exceeded"), so a hostile
    // document cannot exhaust the stack.
    serde_json::from_slice(bytes).map_err(|e| format!("not a {what} JSON document: {e}"))
}

// ---------------------------------------------------------------------------------------------
// Schemas

/// The embedded schemas, by the URI their `$ref`s resolve to.
const SCHEMAS: &[(&str, &str)] = &[
    (
        "http://cyclonedx.org/schema/bom-1.4.schema.json",
        include_str!("../../../schemas/sbom/bom-1.4.SNAPSHOT.schema.json"),
    ),
    (
        "http://cyclonedx.org/schema/bom-1.5.schema.json",
        include_str!("../../../schemas/sbom/bom-1.5.SNAPSHOT.schema.json"),
    ),
    (
        "http://cyclonedx.org/schema/bom-1.6.schema.json",
        include_str!("../../../schemas/sbom/bom-1.6.SNAPSHOT.schema.json"),
    ),
    (
        "http://cyclonedx.org/schema/bom-1.7.schema.json",
        include_str!("../../../schemas/sbom/bom-1.7.SNAPSHOT.schema.json"),
    ),
    (
        "http://cyclonedx.org/schema/spdx.SNAPSHOT.schema.json",
        include_str!("../../../schemas/sbom/spdx.SNAPSHOT.schema.json"),
    ),
    (
        "http://cyclonedx.org/schema/jsf-0.82.SNAPSHOT.schema.json",
        include_str!("../../../schemas/sbom/jsf-0.82.SNAPSHOT.schema.json"),
    ),
    (
        "http://cyclonedx.org/schema/cryptography-defs.SNAPSHOT.schema.json",
        include_str!("../../../schemas/sbom/cryptography-defs.SNAPSHOT.schema.json"),
    ),
    ("spdx-2.2", include_str!("../../../schemas/sbom/spdx-2.2.schema.json")),
    ("spdx-2.3", include_str!("../../../schemas/sbom/spdx-2.3.schema.json")),
];

/// Serves the embedded schemas to the validator; nothing is fetched from the network.
struct Embedded;

impl jsonschema::Retrieve for Embedded {
    fn retrieve(&self, uri: &jsonschema::Uri<String>) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let uri = uri.as_str();
        let text = SCHEMAS
            .iter()
            .find(|(u, _)| *u == uri)
            .map(|(_, t)| *t)
            .ok_or_else(|| format!("no embedded schema {uri}"))?;
        Ok(serde_json::from_str(text)?)
    }
}

type Compiled = Result<jsonschema::Validator, String>;

/// The validator of one embedded schema, compiled once per process.
fn validator(key: &'static str) -> &'static Compiled {
    static CACHE: OnceLock<Vec<(&'static str, OnceLock<Compiled>)>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| SCHEMAS.iter().map(|(k, _)| (*k, OnceLock::new())).collect());
    let (_, cell) = cache.iter().find(|(k, _)| *k == key).expect("a schema key of SCHEMAS");
    cell.get_or_init(|| {
        let text = SCHEMAS.iter().find(|(k, _)| *k == key).map(|(_, t)| *t).unwrap_or_default();
        let schema: Value = serde_json::from_str(text).map_err(|e| format!("embedded schema {key}: {e}"))?;
        jsonschema::options()
            .with_retriever(Embedded)
            // Formats are assertions in neither draft-07 nor 2019-09; the reference validators
            // do not check them by default either.
            .should_validate_formats(false)
            .build(&schema)
            .map_err(|e| format!("embedded schema {key} does not compile: {e}"))
    })
}

/// Documents up to this size list up to [`MAX_ERRORS`] schema errors; larger ones only their
/// first: the validator collects every error before handing any out, and a large invalid
/// document can have hundreds of thousands.
const LIST_ERRORS_UP_TO: usize = 1 << 20;

/// Validates `doc` (`len` bytes) against the embedded schema `key`: `Ok(())` or its errors.
fn validate(key: &'static str, doc: &Value, len: usize) -> Result<(), String> {
    let v = validator(key).as_ref().map_err(Clone::clone)?;
    if v.is_valid(doc) {
        return Ok(());
    }
    let text = |e: jsonschema::ValidationError<'_>| {
        let at = e.instance_path().to_string();
        let message: String = e.to_string().chars().take(300).collect();
        format!("at {}: {message}", if at.is_empty() { "/" } else { &at })
    };
    if len > LIST_ERRORS_UP_TO {
        let first = v.validate(doc).err().map(text).unwrap_or_else(|| "invalid".into());
        return Err(format!("{first} (the first error)"));
    }
    let errors: Vec<String> = v.iter_errors(doc).take(MAX_ERRORS + 1).map(text).collect();
    let more = if errors.len() > MAX_ERRORS { " (and more)" } else { "" };
    Err(format!("{}{more}", errors[..errors.len().min(MAX_ERRORS)].join("; ")))
}

// ---------------------------------------------------------------------------------------------
// CycloneDX

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_str().filter(|s| !s.trim().is_empty())
}

/// The one reader of CycloneDX, JSON or XML (in the JSON form [`cyclonedx_xml_to_json`] maps it
/// to): schema, NTIA elements, top component, licences. `len`: the file's size.
fn read_cyclonedx(doc: &Value, encoding: &str, len: usize) -> Result<Findings, String> {
    if doc.get("bomFormat").and_then(Value::as_str).is_some_and(|f| f != "CycloneDX") {
        return Err("not a CycloneDX document: bomFormat is not \"CycloneDX\"".into());
    }
    let spec = doc.get("specVersion").and_then(Value::as_str).ok_or("not a CycloneDX document: no specVersion")?;
    let key = match spec {
        "1.4" => "http://cyclonedx.org/schema/bom-1.4.schema.json",
        "1.5" => "http://cyclonedx.org/schema/bom-1.5.schema.json",
        "1.6" => "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "1.7" => "http://cyclonedx.org/schema/bom-1.7.schema.json",
        other => {
            return Err(format!(
                "CycloneDX {} is not checked: trs reads CycloneDX 1.4 to 1.7",
                other.chars().take(20).collect::<String>()
            ));
        }
    };
    let format = format!("CycloneDX {spec} {encoding}");
    let mut notes = Vec::new();
    let schema = if encoding == "XML" {
        // What is validated of XML is what trs reads of it, mapped to the JSON form: the JSON
        // schema's rules for those elements are CycloneDX's rules for them.
        notes.push(format!(
            "{format}: the elements trs reads (the bom's serialNumber and version; each component's type, \
             bom-ref, name, version, purl, cpe, swid, supplier, publisher, author and licences; the \
             metadata's timestamp, authors, component, manufacturer and supplier; the dependencies) were \
             checked against the CycloneDX {spec} schema's rules; the rest of the document is not validated \
             against the XML Schema (trs has no XML Schema validator): publish the JSON form to have all of \
             it checked"
        ));
        validate(key, doc, len).map(|()| format!("valid {format} (the elements trs reads)")).map_err(|e| {
            format!(
                "not valid {format} (schema bom-{spec}.schema.json; components numbered in document \
                     order, nested ones included): {e}"
            )
        })
    } else {
        validate(key, doc, len)
            .map(|()| format!("valid {format}"))
            .map_err(|e| format!("not valid {format} (schema bom-{spec}.schema.json): {e}"))
    };

    let metadata = doc.get("metadata").cloned().unwrap_or(Value::Null);
    let top = metadata.get("component").and_then(|c| {
        Some(SbomComponent {
            name: str_at(c, &["name"])?.to_string(),
            version: str_at(c, &["version"]).map(String::from),
        })
    });
    let mut summary = SbomSummary { format, top, components: 0, licences: Default::default() };

    // Every component, nested ones too, without recursion.
    let mut stack: Vec<&Value> =
        doc.get("components").and_then(Value::as_array).map(|a| a.iter().collect()).unwrap_or_default();
    let (mut no_supplier, mut no_name, mut no_version, mut no_id) =
        (Lacking::default(), Lacking::default(), Lacking::default(), Lacking::default());
    while let Some(c) = stack.pop() {
        if let Some(children) = c.get("components").and_then(Value::as_array) {
            stack.extend(children.iter());
        }
        summary.components += 1;
        let label = || component_label(str_at(c, &["name"]), str_at(c, &["version"]));
        if str_at(c, &["supplier", "name"]).is_none() && str_at(c, &["publisher"]).is_none() {
            no_supplier.add(label);
        }
        if str_at(c, &["name"]).is_none() {
            no_name.add(label);
        }
        if str_at(c, &["version"]).is_none() {
            no_version.add(label);
        }
        if ["purl", "cpe"].iter().all(|k| str_at(c, &[k]).is_none()) && c.get("swid").is_none() {
            no_id.add(label);
        }
        let texts = cyclonedx_licences(c);
        let category = categorise_all(&texts);
        summary.tally(category, || {
            format!("{}: {}", label(), if texts.is_empty() { "none given".into() } else { texts.join(", ") })
        });
    }

    let mut ntia = Vec::new();
    no_supplier.warn(&mut ntia, "no supplier (supplier.name or publisher)", summary.components);
    no_name.warn(&mut ntia, "no name", summary.components);
    no_version.warn(&mut ntia, "no version", summary.components);
    no_id.warn(&mut ntia, "no unique identifier (purl, cpe or swid)", summary.components);
    let has_deps = doc
        .get("dependencies")
        .and_then(Value::as_array)
        .is_some_and(|d| d.iter().any(|e| e.get("dependsOn").and_then(Value::as_array).is_some_and(|a| !a.is_empty())));
    if summary.components > 0 && !has_deps {
        ntia.push("no dependency relationships (no `dependencies` entry with `dependsOn`)".into());
    }
    let has_author = metadata.get("authors").and_then(Value::as_array).is_some_and(|a| !a.is_empty())
        || str_at(&metadata, &["manufacturer", "name"]).is_some()
        || str_at(&metadata, &["manufacture", "name"]).is_some()
        || str_at(&metadata, &["supplier", "name"]).is_some()
        || str_at(&metadata, &["component", "author"]).is_some();
    if !has_author {
        ntia.push(
            "no author of the SBOM (metadata.authors, metadata.manufacturer, metadata.supplier or the top \
             component's author); tools alone do not name who stands behind it"
                .into(),
        );
    }
    if str_at(&metadata, &["timestamp"]).is_none() {
        ntia.push("no timestamp (metadata.timestamp)".into());
    }
    if summary.top.is_none() {
        ntia.push("no top component (metadata.component) saying what the SBOM describes".into());
    }
    Ok(Findings { summary, schema, notes, ntia })
}

/// The licence texts of a CycloneDX component: expressions, ids, names.
fn cyclonedx_licences(c: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for l in c.get("licenses").and_then(Value::as_array).into_iter().flatten() {
        if let Some(e) = str_at(l, &["expression"]) {
            out.push(e.to_string());
        } else if let Some(id) = str_at(l, &["license", "id"]) {
            out.push(id.to_string());
        } else if let Some(name) = str_at(l, &["license", "name"]) {
            out.push(name.to_string());
        }
    }
    out
}

fn component_label(name: Option<&str>, version: Option<&str>) -> String {
    let name: String = name.unwrap_or("(unnamed)").chars().take(100).collect();
    match version {
        Some(v) => format!("{name} {}", v.chars().take(50).collect::<String>()),
        None => name,
    }
}

/// Components lacking one NTIA element: how many, and the first few.
#[derive(Default)]
struct Lacking {
    count: u64,
    named: Vec<String>,
}

impl Lacking {
    fn add(&mut self, label: impl FnOnce() -> String) {
        self.count += 1;
        if self.named.len() < MAX_NAMED {
            self.named.push(label());
        }
    }

    fn warn(self, out: &mut Vec<String>, what: &str, of: u64) {
        if self.count > 0 {
            let more = if self.count as usize > self.named.len() { ", …" } else { "" };
            out.push(format!("{} of {of} components have {what}: {}{more}", self.count, self.named.join(", ")));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// CycloneDX XML

/// The fields [`read_cyclonedx`] reads, from CycloneDX XML, in the JSON form.
fn cyclonedx_xml_to_json(bytes: &[u8]) -> Result<Value, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("the CycloneDX XML is not UTF-8: {e}"))?;
    // roxmltree refuses DTDs by default: no entity expansion.
    let xml = roxmltree::Document::parse(text).map_err(|e| format!("not well-formed XML: {e}"))?;
    let root = xml.root_element();
    let ns = root.tag_name().namespace().unwrap_or_default();
    let spec = ns.strip_prefix("http://cyclonedx.org/schema/bom/");
    let (Some(spec), "bom") = (spec, root.tag_name().name()) else {
        return Err(format!(
            "not a CycloneDX XML document: the root element is not <bom> in a CycloneDX namespace ({ns:?})"
        ));
    };
    // Depth first, iteratively; a deeper nesting is refused rather than followed.
    let mut depth_of: Vec<(roxmltree::Node, usize)> = vec![(root, 0)];
    while let Some((n, d)) = depth_of.pop() {
        if d > MAX_XML_DEPTH {
            return Err(format!("the XML nests elements deeper than {MAX_XML_DEPTH} levels"));
        }
        depth_of.extend(n.children().filter(|c| c.is_element()).map(|c| (c, d + 1)));
    }
    let mut components = Vec::new();
    let children = |n| sub_components(n, ns);
    // Nested components are flattened, in document order (depth first): the reader counts
    // them all the same, and a schema error's `/components/N` is the Nth in the document.
    let mut stack: Vec<roxmltree::Node> = children(root).into_iter().rev().collect();
    while let Some(c) = stack.pop() {
        stack.extend(children(c).into_iter().rev());
        components.push(Value::Object(xml_component(c, ns)));
    }
    let mut metadata = Map::new();
    if let Some(md) = child(root, ns, "metadata") {
        if let Some(t) = text_of(md, ns, "timestamp") {
            metadata.insert("timestamp".into(), t);
        }
        if let Some(c) = child(md, ns, "component") {
            metadata.insert("component".into(), Value::Object(xml_component(c, ns)));
        }
        if let Some(authors) = child(md, ns, "authors") {
            let list: Vec<Value> = authors
                .children()
                .filter(|a| a.has_tag_name((ns, "author")))
                .map(|a| {
                    let mut m = Map::new();
                    for k in ["name", "email", "phone"] {
                        if let Some(v) = text_of(a, ns, k) {
                            m.insert(k.into(), v);
                        }
                    }
                    Value::Object(m)
                })
                .collect();
            if !list.is_empty() {
                metadata.insert("authors".into(), Value::Array(list));
            }
        }
        for k in ["manufacturer", "manufacture", "supplier"] {
            if let Some(n) = child(md, ns, k).and_then(|m| text_of(m, ns, "name")) {
                metadata.insert(k.into(), json!({ "name": n }));
            }
        }
    }
    let mut dependencies = Vec::new();
    if let Some(ds) = child(root, ns, "dependencies") {
        for d in ds.children().filter(|d| d.has_tag_name((ns, "dependency"))) {
            let on: Vec<Value> = d
                .children()
                .filter(|c| c.has_tag_name((ns, "dependency")))
                .filter_map(|c| c.attribute("ref"))
                .map(|r| json!(r))
                .collect();
            dependencies.push(json!({ "ref": d.attribute("ref").unwrap_or_default(), "dependsOn": on }));
        }
    }
    let mut bom = json!({
        "bomFormat": "CycloneDX",
        "specVersion": spec,
        "metadata": metadata,
        "components": components,
        "dependencies": dependencies,
    });
    if let Some(serial) = root.attribute("serialNumber") {
        bom["serialNumber"] = json!(serial);
    }
    if let Some(version) = root.attribute("version") {
        // An integer in both forms; anything else is left as text for the schema to refuse.
        bom["version"] = version.trim().parse::<i64>().map(|n| json!(n)).unwrap_or_else(|_| json!(version));
    }
    Ok(bom)
}

/// The `<component>`s of `n`'s `<components>`, in document order.
fn sub_components<'a, 'i>(n: roxmltree::Node<'a, 'i>, ns: &str) -> Vec<roxmltree::Node<'a, 'i>> {
    child(n, ns, "components")
        .map(|cs| cs.children().filter(|c| c.has_tag_name((ns, "component"))).collect())
        .unwrap_or_default()
}

fn child<'a, 'i>(n: roxmltree::Node<'a, 'i>, ns: &str, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    n.children().find(|c| c.has_tag_name((ns, name)))
}

fn text_of(n: roxmltree::Node<'_, '_>, ns: &str, name: &str) -> Option<Value> {
    child(n, ns, name).and_then(|c| c.text()).map(|t| Value::String(t.trim().to_string()))
}

/// One `<component>` with the fields [`read_cyclonedx`] reads, in the JSON form.
fn xml_component(c: roxmltree::Node<'_, '_>, ns: &str) -> Map<String, Value> {
    let mut m = Map::new();
    for k in ["type", "bom-ref"] {
        if let Some(v) = c.attribute(k) {
            m.insert(k.into(), json!(v));
        }
    }
    for k in ["name", "version", "purl", "cpe", "publisher", "author"] {
        if let Some(v) = text_of(c, ns, k) {
            m.insert(k.into(), v);
        }
    }
    if let Some(s) = child(c, ns, "supplier").and_then(|s| text_of(s, ns, "name")) {
        m.insert("supplier".into(), json!({ "name": s }));
    }
    if let Some(swid) = child(c, ns, "swid") {
        let mut tag = Map::new();
        for k in ["tagId", "name", "version"] {
            if let Some(v) = swid.attribute(k) {
                tag.insert(k.into(), json!(v));
            }
        }
        m.insert("swid".into(), Value::Object(tag));
    }
    if let Some(ls) = child(c, ns, "licenses") {
        let mut list = Vec::new();
        for l in ls.children().filter(|l| l.is_element()) {
            match l.tag_name().name() {
                "expression" => list.push(json!({ "expression": l.text().unwrap_or_default().trim() })),
                "license" => {
                    let mut inner = Map::new();
                    for k in ["id", "name"] {
                        if let Some(v) = text_of(l, ns, k) {
                            inner.insert(k.into(), v);
                        }
                    }
                    list.push(json!({ "license": inner }));
                }
                _ => {}
            }
        }
        m.insert("licenses".into(), Value::Array(list));
    }
    m
}

// ---------------------------------------------------------------------------------------------
// SPDX

/// An SPDX value that says something: not `NOASSERTION` or `NONE`.
fn asserted(s: Option<&str>) -> Option<&str> {
    s.filter(|s| !matches!(*s, "NOASSERTION" | "NONE"))
}

fn read_spdx(doc: &Value, encoding: &str, len: usize) -> Result<Findings, String> {
    let version = doc.get("spdxVersion").and_then(Value::as_str).ok_or("not an SPDX document: no spdxVersion")?;
    let (spec, key) = match version {
        "SPDX-2.2" => ("2.2", "spdx-2.2"),
        "SPDX-2.3" => ("2.3", "spdx-2.3"),
        other => {
            return Err(format!(
                "{} is not checked: trs reads SPDX 2.2 and 2.3",
                other.chars().take(20).collect::<String>()
            ));
        }
    };
    let format = format!("SPDX {spec} {encoding}");
    let mut notes = Vec::new();
    let schema = if encoding == "RDF" {
        // As with CycloneDX XML: what is validated is what trs reads, in the JSON form.
        notes.push(format!(
            "{format}: the elements trs reads (the document's identity, name, data licence and creation \
             info; each package's id, name, version, supplier, originator, download location, licences, \
             copyright, checksums, external references and verification code; the relationships) were \
             checked against the SPDX {spec} schema's rules; files, snippets, annotations and extracted \
             licence texts are not validated: publish the JSON or tag-value form to have all of it checked"
        ));
        validate(key, doc, len)
            .map(|()| format!("valid {format} (the elements trs reads)"))
            .map_err(|e| format!("not valid {format} (the SPDX {spec} JSON schema, on the elements trs reads): {e}"))
    } else {
        validate(key, doc, len)
            .map(|()| format!("valid {format}"))
            .map_err(|e| format!("not valid {format} (the SPDX {spec} JSON schema): {e}"))
    };

    let packages: Vec<&Value> =
        doc.get("packages").and_then(Value::as_array).map(|a| a.iter().collect()).unwrap_or_default();
    let relationships: Vec<&Value> =
        doc.get("relationships").and_then(Value::as_array).map(|a| a.iter().collect()).unwrap_or_default();
    let rel = |r: &Value, k: &str| r.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    // What the document describes: documentDescribes (2.2) or DESCRIBES relationships.
    let mut described: Vec<String> = doc
        .get("documentDescribes")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(String::from).collect())
        .unwrap_or_default();
    for r in &relationships {
        let doc_id = doc.get("SPDXID").and_then(Value::as_str).unwrap_or("SPDXRef-DOCUMENT");
        match rel(r, "relationshipType").as_str() {
            "DESCRIBES" if rel(r, "spdxElementId") == doc_id => described.push(rel(r, "relatedSpdxElement")),
            "DESCRIBED_BY" if rel(r, "relatedSpdxElement") == doc_id => described.push(rel(r, "spdxElementId")),
            _ => {}
        }
    }
    // The first described element that is a package (a document may describe files too).
    let spdx_id = |p: &Value| p.get("SPDXID").and_then(Value::as_str).map(String::from);
    let top_package = described.iter().find_map(|id| packages.iter().find(|p| spdx_id(p).as_ref() == Some(id)));
    let top_id = top_package.and_then(|p| spdx_id(p));
    let top = top_package.and_then(|p| {
        Some(SbomComponent {
            name: str_at(p, &["name"])?.to_string(),
            version: str_at(p, &["versionInfo"]).map(String::from),
        })
    });
    let mut summary = SbomSummary { format, top, components: 0, licences: Default::default() };
    let (mut no_supplier, mut no_name, mut no_version) = (Lacking::default(), Lacking::default(), Lacking::default());
    for p in packages.iter().filter(|p| p.get("SPDXID").and_then(Value::as_str).map(String::from) != top_id) {
        summary.components += 1;
        let label = || component_label(str_at(p, &["name"]), str_at(p, &["versionInfo"]));
        if asserted(str_at(p, &["supplier"])).is_none() {
            no_supplier.add(label);
        }
        if str_at(p, &["name"]).is_none() {
            no_name.add(label);
        }
        if str_at(p, &["versionInfo"]).is_none() {
            no_version.add(label);
        }
        let texts: Vec<String> = [str_at(p, &["licenseConcluded"]), str_at(p, &["licenseDeclared"])]
            .into_iter()
            .find_map(asserted)
            .map(|t| vec![t.to_string()])
            .unwrap_or_default();
        let category = categorise_all(&texts);
        summary
            .tally(category, || format!("{}: {}", label(), texts.first().map(String::as_str).unwrap_or("none given")));
    }
    let mut ntia = Vec::new();
    no_supplier.warn(&mut ntia, "no supplier (PackageSupplier)", summary.components);
    no_name.warn(&mut ntia, "no name", summary.components);
    no_version.warn(&mut ntia, "no version (PackageVersion)", summary.components);
    // SPDX identifies every element by documentNamespace + SPDXID, both required by the schema.
    let dependency_types = [
        "DEPENDS_ON",
        "DEPENDENCY_OF",
        "CONTAINS",
        "CONTAINED_BY",
        "BUILD_DEPENDENCY_OF",
        "DEV_DEPENDENCY_OF",
        "RUNTIME_DEPENDENCY_OF",
        "OPTIONAL_DEPENDENCY_OF",
        "PROVIDED_DEPENDENCY_OF",
        "DYNAMIC_LINK",
        "STATIC_LINK",
        "PREREQUISITE_FOR",
        "HAS_PREREQUISITE",
        "DEPENDENCY_MANIFEST_OF",
        "PACKAGE_OF",
    ];
    if summary.components > 0
        && !relationships.iter().any(|r| dependency_types.contains(&rel(r, "relationshipType").as_str()))
    {
        ntia.push("no dependency relationships (no DEPENDS_ON, CONTAINS or similar relationship)".into());
    }
    let creators: Vec<&str> = doc
        .pointer("/creationInfo/creators")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if !creators.iter().any(|c| c.starts_with("Person:") || c.starts_with("Organization:")) {
        ntia.push("no author of the SBOM (a Creator that is a Person or an Organization, not only a Tool)".into());
    }
    if doc.pointer("/creationInfo/created").and_then(Value::as_str).is_none() {
        ntia.push("no timestamp (Created)".into());
    }
    if summary.top.is_none() {
        ntia.push("no described package (DESCRIBES) saying what the SBOM is of".into());
    }
    Ok(Findings { summary, schema, notes, ntia })
}

/// SPDX tag-value in the JSON form of the SPDX 2.2/2.3 spec (its JSON field for each tag), so
/// that the JSON schema judges it. Tags trs does not map are kept out of the document rather
/// than guessed at; the schema then says what a document lacks.
fn spdx_tag_value_to_json(text: &str) -> Result<Value, String> {
    #[derive(PartialEq)]
    enum Section {
        Document,
        Package,
        File,
        Snippet,
        Licence,
    }
    impl Section {
        fn name(&self) -> &'static str {
            match self {
                Section::Document => "document",
                Section::Package => "package",
                Section::File => "file",
                Section::Snippet => "snippet",
                Section::Licence => "licence",
            }
        }
    }
    let mut doc = Map::new();
    let mut creation = Map::new();
    let (mut packages, mut files, mut snippets, mut licences, mut relationships) = (
        Vec::<Map<String, Value>>::new(),
        Vec::<Map<String, Value>>::new(),
        Vec::<Map<String, Value>>::new(),
        Vec::<Map<String, Value>>::new(),
        Vec::new(),
    );
    let mut section = Section::Document;
    let mut lines = text.lines().enumerate();
    while let Some((n, line)) = lines.next() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let Some((tag, value)) = line.split_once(':') else {
            return Err(format!("SPDX tag-value line {} is not `Tag: value`", n + 1));
        };
        let tag = tag.trim();
        let mut value = value.trim().to_string();
        // `<text>…</text>` may span lines.
        if let Some(rest) = value.strip_prefix("<text>") {
            // Only each new line is searched for the end: linear in the text's length.
            let mut buf = String::new();
            let mut next = rest;
            loop {
                if let Some(end) = next.find("</text>") {
                    buf.push_str(&next[..end]);
                    break;
                }
                buf.push_str(next);
                buf.push('\n');
                let Some((_, line)) = lines.next() else {
                    return Err(format!("SPDX tag-value line {}: <text> is never closed", n + 1));
                };
                next = line;
            }
            value = buf;
        }
        let v = Value::String(value.clone());
        match tag {
            "SPDXVersion" => {
                doc.insert("spdxVersion".into(), v);
            }
            "DataLicense" => {
                doc.insert("dataLicense".into(), v);
            }
            "DocumentName" => {
                doc.insert("name".into(), v);
            }
            "DocumentNamespace" => {
                doc.insert("documentNamespace".into(), v);
            }
            "DocumentComment" => {
                doc.insert("comment".into(), v);
            }
            "ExternalDocumentRef" => {
                let parts: Vec<&str> = value.split_whitespace().collect();
                if let [id, uri, algo, sum] = parts[..] {
                    let entry = json!({
                        "externalDocumentId": id, "spdxDocument": uri,
                        "checksum": { "algorithm": algo.trim_end_matches(':'), "checksumValue": sum },
                    });
                    if let Some(a) = doc.entry("externalDocumentRefs").or_insert_with(|| json!([])).as_array_mut() {
                        a.push(entry);
                    }
                }
            }
            "Creator" => {
                if let Some(a) = creation.entry("creators").or_insert_with(|| json!([])).as_array_mut() {
                    a.push(v);
                }
            }
            "Created" => {
                creation.insert("created".into(), v);
            }
            "CreatorComment" => {
                creation.insert("comment".into(), v);
            }
            "LicenseListVersion" => {
                creation.insert("licenseListVersion".into(), v);
            }
            "PackageName" => {
                section = Section::Package;
                packages.push(Map::from_iter([("name".to_string(), v)]));
            }
            "FileName" => {
                section = Section::File;
                files.push(Map::from_iter([("fileName".to_string(), v)]));
            }
            "SnippetSPDXID" => {
                section = Section::Snippet;
                snippets.push(Map::from_iter([("SPDXID".to_string(), v)]));
            }
            "LicenseID" => {
                section = Section::Licence;
                licences.push(Map::from_iter([("licenseId".to_string(), v)]));
            }
            "Relationship" => {
                let parts: Vec<&str> = value.split_whitespace().collect();
                if let [a, kind, b] = parts[..] {
                    relationships
                        .push(json!({ "spdxElementId": a, "relationshipType": kind, "relatedSpdxElement": b }));
                } else {
                    return Err(format!("SPDX tag-value line {}: a Relationship is `ID TYPE ID`", n + 1));
                }
            }
            "RelationshipComment" => {
                if let Some(Value::Object(r)) = relationships.last_mut() {
                    r.insert("comment".into(), v);
                }
            }
            _ => {
                let target: &mut Map<String, Value> = match section {
                    Section::Document => &mut doc,
                    Section::Package => packages.last_mut().expect("a package section has a package"),
                    Section::File => files.last_mut().expect("a file section has a file"),
                    Section::Snippet => snippets.last_mut().expect("a snippet section has a snippet"),
                    Section::Licence => licences.last_mut().expect("a licence section has a licence"),
                };
                set_tag(target, section.name(), tag, &value);
            }
        }
    }
    if !creation.is_empty() {
        doc.insert("creationInfo".into(), Value::Object(creation));
    }
    for (k, list) in
        [("packages", packages), ("files", files), ("snippets", snippets), ("hasExtractedLicensingInfos", licences)]
    {
        if !list.is_empty() {
            doc.insert(k.into(), Value::Array(list.into_iter().map(Value::Object).collect()));
        }
    }
    if !relationships.is_empty() {
        doc.insert("relationships".into(), Value::Array(relationships));
    }
    Ok(Value::Object(doc))
}

/// One tag of a package, file, snippet or extracted licence (or the document's SPDXID).
fn set_tag(target: &mut Map<String, Value>, section: &str, tag: &str, value: &str) {
    let s = |v: &str| Value::String(v.to_string());
    let push = |target: &mut Map<String, Value>, key: &str, v: Value| {
        if let Some(a) = target.entry(key).or_insert_with(|| json!([])).as_array_mut() {
            a.push(v);
        }
    };
    let checksum = |v: &str| {
        let (algo, sum) = v.split_once(':').unwrap_or((v, ""));
        json!({ "algorithm": algo.trim(), "checksumValue": sum.trim() })
    };
    let key = match (section, tag) {
        (_, "SPDXID") => "SPDXID",
        ("package", "PackageVersion") => "versionInfo",
        ("package", "PackageFileName") => "packageFileName",
        ("package", "PackageSupplier") => "supplier",
        ("package", "PackageOriginator") => "originator",
        ("package", "PackageDownloadLocation") => "downloadLocation",
        ("package", "FilesAnalyzed") => {
            target.insert("filesAnalyzed".into(), Value::Bool(value.eq_ignore_ascii_case("true")));
            return;
        }
        ("package", "PackageVerificationCode") => {
            let (code, excluded) = match value.split_once('(') {
                Some((c, rest)) => (c.trim(), Some(rest.trim_end_matches(')').trim_start_matches("excludes:").trim())),
                None => (value, None),
            };
            let mut m = Map::from_iter([("packageVerificationCodeValue".to_string(), s(code))]);
            if let Some(e) = excluded {
                m.insert("packageVerificationCodeExcludedFiles".into(), json!([e]));
            }
            target.insert("packageVerificationCode".into(), Value::Object(m));
            return;
        }
        ("package", "PackageChecksum") | ("file", "FileChecksum") => {
            push(target, "checksums", checksum(value));
            return;
        }
        ("package", "PackageHomePage") => "homepage",
        ("package", "PackageSourceInfo") => "sourceInfo",
        ("package", "PackageLicenseConcluded")
        | ("file", "LicenseConcluded")
        | ("snippet", "SnippetLicenseConcluded") => "licenseConcluded",
        ("package", "PackageLicenseDeclared") => "licenseDeclared",
        ("package", "PackageLicenseInfoFromFiles") => {
            push(target, "licenseInfoFromFiles", s(value));
            return;
        }
        ("file", "LicenseInfoInFile") | ("snippet", "LicenseInfoInSnippet") => {
            let key = if section == "file" { "licenseInfoInFiles" } else { "licenseInfoInSnippets" };
            push(target, key, s(value));
            return;
        }
        ("package", "PackageLicenseComments") | ("file", "LicenseComments") | ("snippet", "SnippetLicenseComments") => {
            "licenseComments"
        }
        ("package", "PackageCopyrightText") | ("file", "FileCopyrightText") | ("snippet", "SnippetCopyrightText") => {
            "copyrightText"
        }
        ("package", "PackageSummary") => "summary",
        ("package", "PackageDescription") => "description",
        ("package", "PackageComment")
        | ("file", "FileComment")
        | ("snippet", "SnippetComment")
        | ("licence", "LicenseComment") => "comment",
        ("package", "PackageAttributionText")
        | ("file", "FileAttributionText")
        | ("snippet", "SnippetAttributionText") => {
            push(target, "attributionTexts", s(value));
            return;
        }
        ("package", "PrimaryPackagePurpose") => "primaryPackagePurpose",
        ("package", "ReleaseDate") => "releaseDate",
        ("package", "BuiltDate") => "builtDate",
        ("package", "ValidUntilDate") => "validUntilDate",
        ("package", "ExternalRef") => {
            let parts: Vec<&str> = value.splitn(3, char::is_whitespace).collect();
            if let [category, kind, locator] = parts[..] {
                // Tag-value spells the category `PACKAGE-MANAGER`, JSON `PACKAGE_MANAGER`.
                let category = category.replace('-', "_");
                push(
                    target,
                    "externalRefs",
                    json!({ "referenceCategory": category, "referenceType": kind, "referenceLocator": locator.trim() }),
                );
            }
            return;
        }
        ("file", "FileType") => {
            push(target, "fileTypes", s(value));
            return;
        }
        ("file", "FileNotice") => "noticeText",
        ("file", "FileContributor") => {
            push(target, "fileContributors", s(value));
            return;
        }
        ("snippet", "SnippetFromFileSPDXID") => "snippetFromFile",
        ("snippet", "SnippetName") => "name",
        ("licence", "ExtractedText") => "extractedText",
        ("licence", "LicenseName") => "name",
        ("licence", "LicenseCrossReference") => {
            push(target, "seeAlsos", s(value));
            return;
        }
        // Byte and line ranges of snippets, annotations, reviews: not read.
        _ => return,
    };
    target.insert(key.into(), s(value));
}

// ---------------------------------------------------------------------------------------------
// SPDX RDF

const SPDX_TERMS: &str = "http://spdx.org/rdf/terms#";
const RDF_NS: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";

/// The fields [`read_spdx`] reads, from SPDX RDF/XML (as the SPDX tools and pyspdxtools write
/// it: typed node elements in the SPDX terms namespace, nested or referenced by `rdf:resource`),
/// in the JSON form of the SPDX 2.2/2.3 spec: the document's identity, creation info and data
/// licence, every package, every relationship (its subject is the element whose
/// `spdx:relationship` holds it) and `spdx:describesPackage`. Files, snippets, annotations and
/// extracted licence texts are not mapped; a warning says the rest is not validated.
fn spdx_rdf_to_json(bytes: &[u8]) -> Result<Value, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("the SPDX RDF is not UTF-8: {e}"))?;
    // roxmltree refuses DTDs by default: no entity expansion.
    let xml = roxmltree::Document::parse(text).map_err(|e| format!("not well-formed XML: {e}"))?;
    let root = xml.root_element();
    if root.tag_name().namespace() != Some(RDF_NS) || root.tag_name().name() != "RDF" {
        return Err("not an SPDX RDF document: the root element is not <rdf:RDF>".into());
    }
    let mut depth_of: Vec<(roxmltree::Node, usize)> = vec![(root, 0)];
    while let Some((n, d)) = depth_of.pop() {
        if d > MAX_XML_DEPTH {
            return Err(format!("the XML nests elements deeper than {MAX_XML_DEPTH} levels"));
        }
        depth_of.extend(n.children().filter(|c| c.is_element()).map(|c| (c, d + 1)));
    }
    let document = root
        .descendants()
        .find(|n| is_spdx(*n, "SpdxDocument"))
        .ok_or("not an SPDX RDF document: no <spdx:SpdxDocument> element")?;
    let mut doc = Map::new();
    if let Some(about) = document.attribute((RDF_NS, "about")) {
        let (namespace, id) = about.split_once('#').unwrap_or((about, ""));
        doc.insert("documentNamespace".into(), json!(namespace));
        if !id.is_empty() {
            doc.insert("SPDXID".into(), json!(id));
        }
    }
    for (property, key) in [("specVersion", "spdxVersion"), ("name", "name"), ("comment", "comment")] {
        if let Some(v) = rdf_text(document, property) {
            doc.insert(key.into(), json!(v));
        }
    }
    if let Some(licence) = property(document, "dataLicense").and_then(rdf_licence) {
        doc.insert("dataLicense".into(), json!(licence));
    }
    if let Some(info) = property(document, "creationInfo").and_then(|p| p.children().find(|c| c.is_element())) {
        let mut creation = Map::new();
        let creators: Vec<Value> =
            properties(info, "creator").filter_map(|c| c.text()).map(|t| json!(t.trim())).collect();
        if !creators.is_empty() {
            creation.insert("creators".into(), Value::Array(creators));
        }
        for key in ["created", "licenseListVersion"] {
            if let Some(v) = rdf_text(info, key) {
                creation.insert(key.into(), json!(v));
            }
        }
        doc.insert("creationInfo".into(), Value::Object(creation));
    }
    let described: Vec<Value> =
        properties(document, "describesPackage").filter_map(reference).map(Value::String).collect();
    if !described.is_empty() {
        doc.insert("documentDescribes".into(), Value::Array(described));
    }
    // A package may be described once and named again elsewhere (`rdf:about` with nothing
    // inside): the fullest description of each is kept, in document order.
    // (An index by id: a hostile document of a hundred thousand packages stays linear.)
    let mut packages: Vec<Map<String, Value>> = Vec::new();
    let mut by_id: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for p in root.descendants().filter(|n| is_spdx(*n, "Package")) {
        let mapped = rdf_package(p);
        match p.attribute((RDF_NS, "about")).map(fragment) {
            Some(id) => match by_id.get(&id) {
                Some(&i) if packages[i].len() < mapped.len() => packages[i] = mapped,
                Some(_) => {}
                None => {
                    by_id.insert(id, packages.len());
                    packages.push(mapped);
                }
            },
            None => packages.push(mapped),
        }
    }
    if !packages.is_empty() {
        doc.insert("packages".into(), Value::Array(packages.into_iter().map(Value::Object).collect()));
    }
    let mut relationships = Vec::new();
    for r in root.descendants().filter(|n| is_spdx(*n, "Relationship")) {
        let mut rel = Map::new();
        let subject = r.parent_element().and_then(|p| p.parent_element());
        if let Some(id) = subject.and_then(|s| s.attribute((RDF_NS, "about"))) {
            rel.insert("spdxElementId".into(), json!(fragment(id)));
        }
        if let Some(kind) = property(r, "relationshipType").and_then(|p| p.attribute((RDF_NS, "resource"))) {
            let name = kind.rsplit('#').next().unwrap_or(kind).trim_start_matches("relationshipType_");
            rel.insert("relationshipType".into(), json!(upper_snake(name)));
        }
        if let Some(related) = property(r, "relatedSpdxElement").and_then(reference) {
            rel.insert("relatedSpdxElement".into(), json!(related));
        }
        if let Some(comment) = rdf_text(r, "comment") {
            rel.insert("comment".into(), json!(comment));
        }
        relationships.push(Value::Object(rel));
    }
    if !relationships.is_empty() {
        doc.insert("relationships".into(), Value::Array(relationships));
    }
    Ok(Value::Object(doc))
}

/// One `spdx:Package` node in the JSON form.
fn rdf_package(p: roxmltree::Node) -> Map<String, Value> {
    let mut m = Map::new();
    if let Some(about) = p.attribute((RDF_NS, "about")) {
        m.insert("SPDXID".into(), json!(fragment(about)));
    }
    for key in [
        "name",
        "versionInfo",
        "packageFileName",
        "supplier",
        "originator",
        "sourceInfo",
        "summary",
        "description",
        "comment",
        "homepage",
        "copyrightText",
        "downloadLocation",
    ] {
        // Free text, or a resource: `NOASSERTION`, `NONE`, or a URL kept whole (a download
        // location's `#…` is part of it, not an element's id).
        let value = property(p, key).and_then(|n| {
            n.text().map(str::trim).filter(|t| !t.is_empty()).map(String::from).or_else(|| {
                n.attribute((RDF_NS, "resource")).map(|uri| match uri.strip_prefix(SPDX_TERMS) {
                    Some("noassertion") => "NOASSERTION".to_string(),
                    Some("none") => "NONE".to_string(),
                    _ => uri.to_string(),
                })
            })
        });
        if let Some(v) = value {
            m.insert(key.into(), json!(v));
        }
    }
    if let Some(v) = rdf_text(p, "filesAnalyzed") {
        m.insert("filesAnalyzed".into(), Value::Bool(v.eq_ignore_ascii_case("true")));
    }
    for key in ["licenseConcluded", "licenseDeclared"] {
        if let Some(l) = property(p, key).and_then(rdf_licence) {
            m.insert(key.into(), json!(l));
        }
    }
    let from_files: Vec<Value> =
        properties(p, "licenseInfoFromFiles").filter_map(rdf_licence).map(Value::String).collect();
    if !from_files.is_empty() {
        m.insert("licenseInfoFromFiles".into(), Value::Array(from_files));
    }
    let checksums: Vec<Value> = properties(p, "checksum")
        .filter_map(|c| c.children().find(|n| n.is_element()))
        .map(|c| {
            let algorithm = property(c, "algorithm")
                .and_then(|a| a.attribute((RDF_NS, "resource")))
                .map(|r| r.rsplit('#').next().unwrap_or(r).trim_start_matches("checksumAlgorithm_"))
                .map(checksum_algorithm)
                .unwrap_or_default();
            json!({ "algorithm": algorithm, "checksumValue": rdf_text(c, "checksumValue").unwrap_or_default() })
        })
        .collect();
    if !checksums.is_empty() {
        m.insert("checksums".into(), Value::Array(checksums));
    }
    let refs: Vec<Value> = properties(p, "externalRef")
        .filter_map(|r| r.children().find(|n| n.is_element()))
        .map(|r| {
            let mut e = Map::new();
            if let Some(c) = property(r, "referenceCategory").and_then(|c| c.attribute((RDF_NS, "resource"))) {
                let name = c.rsplit('#').next().unwrap_or(c).trim_start_matches("referenceCategory_");
                e.insert("referenceCategory".into(), json!(upper_snake(name)));
            }
            if let Some(t) = property(r, "referenceType").and_then(|t| t.attribute((RDF_NS, "resource"))) {
                // The listed types are named by their last segment; others by their URI.
                let listed = t.strip_prefix("http://spdx.org/rdf/references/");
                e.insert("referenceType".into(), json!(listed.unwrap_or(t)));
            }
            if let Some(l) = rdf_text(r, "referenceLocator") {
                e.insert("referenceLocator".into(), json!(l));
            }
            Value::Object(e)
        })
        .collect();
    if !refs.is_empty() {
        m.insert("externalRefs".into(), Value::Array(refs));
    }
    if let Some(code) = property(p, "packageVerificationCode").and_then(|c| c.children().find(|n| n.is_element())) {
        let mut v = Map::new();
        if let Some(value) = rdf_text(code, "packageVerificationCodeValue") {
            v.insert("packageVerificationCodeValue".into(), json!(value));
        }
        let excluded: Vec<Value> = properties(code, "packageVerificationCodeExcludedFile")
            .filter_map(|f| f.text())
            .map(|t| json!(t.trim()))
            .collect();
        if !excluded.is_empty() {
            v.insert("packageVerificationCodeExcludedFiles".into(), Value::Array(excluded));
        }
        m.insert("packageVerificationCode".into(), Value::Object(v));
    }
    m
}

fn is_spdx(n: roxmltree::Node, name: &str) -> bool {
    n.is_element() && n.tag_name().namespace() == Some(SPDX_TERMS) && n.tag_name().name() == name
}

/// The first property element `name` of a node (`rdfs:comment` for `comment`).
fn property<'a, 'i>(n: roxmltree::Node<'a, 'i>, name: &'static str) -> Option<roxmltree::Node<'a, 'i>> {
    properties(n, name).next()
}

fn properties<'a, 'i: 'a>(
    n: roxmltree::Node<'a, 'i>,
    name: &'static str,
) -> impl Iterator<Item = roxmltree::Node<'a, 'i>> + 'a {
    n.children().filter(move |c| {
        c.is_element()
            && c.tag_name().name() == name
            && (c.tag_name().namespace() == Some(SPDX_TERMS)
                || (name == "comment" && c.tag_name().namespace() == Some("http://www.w3.org/2000/01/rdf-schema#")))
    })
}

fn rdf_text(n: roxmltree::Node, name: &'static str) -> Option<String> {
    property(n, name).and_then(|p| p.text()).map(str::trim).filter(|t| !t.is_empty()).map(String::from)
}

/// The element a property points at: its `rdf:resource`, or the node element inside it, by
/// `rdf:about`; an SPDX element's id is the URI's fragment.
fn reference(p: roxmltree::Node) -> Option<String> {
    let uri = p
        .attribute((RDF_NS, "resource"))
        .or_else(|| p.children().find(|c| c.is_element()).and_then(|c| c.attribute((RDF_NS, "about"))))?;
    Some(special_value(uri))
}

/// `…#noassertion` and `…#none` of the SPDX terms as the JSON form writes them, an SPDX
/// element's or licence's URI as its id (the fragment, or the listed licence's last segment).
fn special_value(uri: &str) -> String {
    match uri.strip_prefix(SPDX_TERMS) {
        Some("noassertion") => "NOASSERTION".into(),
        Some("none") => "NONE".into(),
        _ => match uri.strip_prefix("http://spdx.org/licenses/") {
            Some(listed) => listed.to_string(),
            None if uri.contains('#') => fragment(uri),
            None => uri.to_string(),
        },
    }
}

fn fragment(uri: &str) -> String {
    uri.rsplit_once('#').map_or(uri, |(_, id)| id).to_string()
}

/// A licence property as an SPDX licence expression: a listed or extracted licence, a
/// conjunctive or disjunctive set of them, `WITH` an exception, `+`, or the expression a tool
/// wrote as text.
fn rdf_licence(p: roxmltree::Node) -> Option<String> {
    licence_expression(p, false)
}

/// A set's members are unordered in RDF: they are sorted, so the same set reads the same
/// whatever order a tool wrote; a set inside another is parenthesised.
fn licence_expression(p: roxmltree::Node, nested: bool) -> Option<String> {
    if let Some(uri) = p.attribute((RDF_NS, "resource")) {
        return Some(special_value(uri));
    }
    if let Some(text) = p.text().map(str::trim).filter(|t| !t.is_empty()) {
        return Some(text.to_string());
    }
    let node = p.children().find(|c| c.is_element())?;
    let members = || {
        let mut all: Vec<String> = properties(node, "member").filter_map(|m| licence_expression(m, true)).collect();
        all.sort();
        all
    };
    let set = |operator: &str| {
        let joined = members().join(operator);
        if nested { format!("({joined})") } else { joined }
    };
    match node.tag_name().name() {
        "DisjunctiveLicenseSet" => Some(set(" OR ")),
        "ConjunctiveLicenseSet" => Some(set(" AND ")),
        "OrLaterOperator" => members().first().map(|m| format!("{m}+")),
        "WithExceptionOperator" => {
            let exception = property(node, "licenseException")
                .and_then(|e| e.children().find(|c| c.is_element()))
                .and_then(|e| rdf_text(e, "licenseExceptionId"))
                .unwrap_or_default();
            members().first().map(|m| format!("{m} WITH {exception}"))
        }
        _ => rdf_text(node, "licenseId").or_else(|| node.attribute((RDF_NS, "about")).map(special_value)),
    }
}

/// `dependsOn` → `DEPENDS_ON`, `packageManager` → `PACKAGE_MANAGER` (the JSON form's names;
/// SPDX 2.2 takes only the underscore spellings).
fn upper_snake(camel: &str) -> String {
    let mut out = String::with_capacity(camel.len() + 4);
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// `sha256` → `SHA256`, `sha3_256` → `SHA3-256`, `blake2b512` → `BLAKE2b-512`.
fn checksum_algorithm(rdf: &str) -> String {
    match rdf.strip_prefix("blake2b") {
        Some(bits) => format!("BLAKE2b-{}", bits.trim_start_matches(['_', '-'])),
        None => rdf.to_ascii_uppercase().replace('_', "-"),
    }
}

// ---------------------------------------------------------------------------------------------
// Licences

/// The category of a component from all its licence texts: the most restrictive recognised
/// one (CycloneDX lists several without saying how they combine), `Unknown` if none is.
fn categorise_all(texts: &[String]) -> LicenceCategory {
    texts
        .iter()
        .map(|t| categorise(t))
        .filter(|c| *c != LicenceCategory::Unknown)
        .max()
        .unwrap_or(LicenceCategory::Unknown)
}

/// The category of one licence text: an SPDX expression (`MIT OR GPL-2.0-only`), a licence
/// name SPDX knows loosely (`Apache 2.0`), or a Python trove classifier (`License :: OSI
/// Approved :: MIT License`, as cyclonedx-py writes).
pub fn categorise(text: &str) -> LicenceCategory {
    let text = text.trim();
    if let Some(rest) = text.strip_prefix("License ::") {
        return categorise_classifier(rest);
    }
    match spdx::Expression::parse_mode(text, spdx::ParseMode::LAX) {
        Ok(expr) => evaluate(&expr),
        Err(_) => spdx::imprecise_license_id(text)
            .filter(|(_, len)| *len == text.len())
            .map(|(id, _)| categorise_id(id, None))
            .unwrap_or(LicenceCategory::Unknown),
    }
}

/// AND is the more restrictive, OR the less, on the expression's postfix form.
fn evaluate(expr: &spdx::Expression) -> LicenceCategory {
    let mut stack = Vec::new();
    for node in expr.iter() {
        match node {
            spdx::expression::ExprNode::Req(r) => stack.push(match r.req.license.id() {
                Some(id) => categorise_id(id, r.req.addition.as_ref().map(|a| a.to_string())),
                None => LicenceCategory::Unknown,
            }),
            spdx::expression::ExprNode::Op(op) => {
                let (Some(b), Some(a)) = (stack.pop(), stack.pop()) else { return LicenceCategory::Unknown };
                stack.push(match op {
                    spdx::expression::Operator::And => a.max(b),
                    spdx::expression::Operator::Or => a.min(b),
                });
            }
        }
    }
    stack.pop().unwrap_or(LicenceCategory::Unknown)
}

fn categorise_id(id: spdx::LicenseId, addition: Option<String>) -> LicenceCategory {
    let name = id.name;
    let starts = |prefixes: &[&str]| prefixes.iter().any(|p| name.starts_with(p));
    let weak = starts(&["LGPL-", "MPL-", "EPL-", "CDDL-", "CPL-", "EUPL-1.0", "MS-RL", "APSL-", "CECILL-C", "Ms-RL"]);
    let strong = starts(&[
        "GPL-",
        "AGPL-",
        "OSL-",
        "EUPL-",
        "SSPL-",
        "CC-BY-SA-",
        "RPL-",
        "Sleepycat",
        "CECILL-2",
        "CECILL-1",
        "QPL-",
        "Watcom",
        "SPL-",
    ]);
    // A linking exception (Classpath, GCC runtime, LLVM…) limits the GPL to the licensed files.
    let linking_exception = addition.is_some_and(|a| {
        ["Classpath", "GCC-exception", "LLVM-exception", "linking", "Linking", "Autoconf", "Bison", "FLTK"]
            .iter()
            .any(|k| a.contains(k))
    });
    if weak || (strong && linking_exception) {
        LicenceCategory::WeakCopyleft
    } else if strong || id.is_copyleft() {
        LicenceCategory::StrongCopyleft
    } else if id.is_osi_approved()
        || id.is_fsf_free_libre()
        || matches!(name, "CC0-1.0" | "Unlicense" | "0BSD" | "WTFPL")
    {
        LicenceCategory::Permissive
    } else {
        LicenceCategory::Restricted
    }
}

/// The trove classifiers' licence names (`OSI Approved :: Apache Software License`).
fn categorise_classifier(rest: &str) -> LicenceCategory {
    let r = rest.to_ascii_lowercase();
    if r.contains("lesser general public")
        || r.contains("library or lesser")
        || r.contains("mozilla public")
        || r.contains("eclipse public")
        || r.contains("common development and distribution")
    {
        LicenceCategory::WeakCopyleft
    } else if r.contains("general public license") || r.contains("(gpl") || r.contains("european union public") {
        LicenceCategory::StrongCopyleft
    } else if [
        "apache",
        "mit license",
        "bsd",
        "isc license",
        "python software foundation",
        "unlicense",
        "zlib",
        "public domain",
        "mit no attribution",
        "boost software",
        "academic free",
        "historical permission",
        "university of illinois",
    ]
    .iter()
    .any(|k| r.contains(k))
    {
        LicenceCategory::Permissive
    } else {
        LicenceCategory::Unknown
    }
}

// ---------------------------------------------------------------------------------------------
// Release checks

/// The `sbom` results that depend on the release, not the bytes: the top component against the
/// release's project (and product) and version, and licence categories `denied` by the
/// project's policy. The caller adds them after caching, as it does the name check.
pub fn release_checks(
    summary: &SbomSummary,
    names: &[&str],
    version: &str,
    denied: &BTreeSet<LicenceCategory>,
) -> Vec<CheckResult> {
    let mut out = Vec::new();
    match &summary.top {
        None => out.push(CheckResult::warn(
            CheckKind::Sbom,
            format!("the SBOM names no top component, so it cannot be matched to {} {version}", names.join("/")),
        )),
        Some(top) => {
            let normalise = |s: &str| s.to_ascii_lowercase().replace(['_', '.', ' '], "-");
            let top_name = normalise(&top.name);
            // `foo`, `apache-foo`, `org.apache:foo`, `@apache/foo` all name project foo.
            let name_ok = names.iter().map(|n| normalise(n)).any(|n| {
                top_name == n
                    || top_name.ends_with(&format!("-{n}"))
                    || top_name.ends_with(&format!("/{n}"))
                    || top_name.ends_with(&format!(":{n}"))
            });
            let version_ok =
                top.version.as_deref().map(|v| v.trim_start_matches('v')) == Some(version.trim_start_matches('v'));
            if name_ok && version_ok {
                out.push(CheckResult::pass(CheckKind::Sbom, format!("describes {} {version}, this release", top.name)));
            } else {
                out.push(CheckResult::fail(
                    CheckKind::Sbom,
                    format!(
                        "the SBOM describes {}, not this release ({} {version}); is it the SBOM of another release?",
                        component_text(top),
                        names.join("/")
                    ),
                ));
            }
        }
    }
    for (category, tally) in &summary.licences {
        if denied.contains(category) {
            out.push(CheckResult::fail(
                CheckKind::Sbom,
                format!(
                    "{} component(s) are under {category} licences, which the project's policy denies: {}{}",
                    tally.components,
                    tally.examples.join("; "),
                    if tally.components as usize > tally.examples.len() { "; …" } else { "" }
                ),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The RDF mapping keeps a resource URL whole (a download location's `#…` is not an
    /// element id), names elements by their id, and writes a licence set's members sorted
    /// (RDF has no order), parenthesised only inside another set.
    #[test]
    fn spdx_rdf_maps_urls_ids_and_licence_sets() {
        let rdf = r##"<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:spdx="http://spdx.org/rdf/terms#">
  <spdx:SpdxDocument rdf:about="https://ex.org/doc#SPDXRef-DOCUMENT">
    <spdx:specVersion>SPDX-2.3</spdx:specVersion>
    <spdx:describesPackage>
      <spdx:Package rdf:about="https://ex.org/doc#SPDXRef-a">
        <spdx:name>a</spdx:name>
        <spdx:downloadLocation rdf:resource="https://dl.example/a.tar.gz#sha512=00"/>
        <spdx:licenseConcluded>
          <spdx:ConjunctiveLicenseSet>
            <spdx:member rdf:resource="http://spdx.org/licenses/MIT"/>
            <spdx:member>
              <spdx:DisjunctiveLicenseSet>
                <spdx:member rdf:resource="http://spdx.org/licenses/GPL-2.0-only"/>
                <spdx:member rdf:resource="http://spdx.org/licenses/Apache-2.0"/>
              </spdx:DisjunctiveLicenseSet>
            </spdx:member>
          </spdx:ConjunctiveLicenseSet>
        </spdx:licenseConcluded>
        <spdx:copyrightText rdf:resource="http://spdx.org/rdf/terms#noassertion"/>
      </spdx:Package>
    </spdx:describesPackage>
  </spdx:SpdxDocument>
</rdf:RDF>"##;
        let doc = spdx_rdf_to_json(rdf.as_bytes()).unwrap();
        assert_eq!(doc["documentNamespace"], "https://ex.org/doc");
        assert_eq!(doc["SPDXID"], "SPDXRef-DOCUMENT");
        assert_eq!(doc["documentDescribes"], json!(["SPDXRef-a"]));
        let a = &doc["packages"][0];
        assert_eq!(a["SPDXID"], "SPDXRef-a");
        assert_eq!(a["downloadLocation"], "https://dl.example/a.tar.gz#sha512=00");
        assert_eq!(a["licenseConcluded"], "(Apache-2.0 OR GPL-2.0-only) AND MIT");
        assert_eq!(a["copyrightText"], "NOASSERTION");
    }

    #[test]
    fn formats_by_name() {
        assert_eq!(SbomFormat::of("foo-1.0.cdx.json"), Some(SbomFormat::CycloneDxJson));
        assert_eq!(SbomFormat::of("foo-1.0.CDX.XML"), Some(SbomFormat::CycloneDxXml));
        assert_eq!(SbomFormat::of("foo.spdx.json"), Some(SbomFormat::SpdxJson));
        assert_eq!(SbomFormat::of("foo.spdx"), Some(SbomFormat::SpdxTagValue));
        assert_eq!(SbomFormat::of("foo.spdx.rdf"), Some(SbomFormat::SpdxRdf));
        assert_eq!(SbomFormat::of(".spdx"), None);
        assert_eq!(SbomFormat::of("foo.json"), None);
        assert_eq!(SbomFormat::of("foo.spdx.json.asc"), None);
    }

    #[test]
    fn licence_categories() {
        use LicenceCategory::*;
        for (text, want) in [
            ("Apache-2.0", Permissive),
            ("MIT", Permissive),
            ("ISC", Permissive),
            ("WTFPL", Permissive),
            ("CC0-1.0", Permissive),
            ("LGPL-2.1-only", WeakCopyleft),
            ("MPL-2.0", WeakCopyleft),
            ("EPL-1.0 OR LGPL-2.1-only", WeakCopyleft),
            ("GPL-2.0-only WITH Classpath-exception-2.0", WeakCopyleft),
            ("GPL-3.0-or-later", StrongCopyleft),
            ("AGPL-3.0-only", StrongCopyleft),
            ("MIT OR GPL-3.0-only", Permissive),
            ("MIT AND GPL-3.0-only", StrongCopyleft),
            ("MIT AND LicenseRef-custom", Unknown),
            ("CC-BY-NC-4.0", Restricted),
            ("License :: OSI Approved :: Apache Software License", Permissive),
            ("License :: OSI Approved :: GNU Lesser General Public License v3 (LGPLv3)", WeakCopyleft),
            ("License :: OSI Approved :: GNU General Public License v3 (GPLv3)", StrongCopyleft),
            ("Apache 2.0", Permissive),
            ("see LICENSE file", Unknown),
            ("", Unknown),
        ] {
            assert_eq!(categorise(text), want, "{text}");
        }
        assert_eq!(categorise_all(&["see LICENSE".into(), "MIT".into()]), Permissive);
        assert_eq!(categorise_all(&[]), Unknown);
    }
}

//! The targets. Each takes any bytes; where a parser accepts, the target also asserts what
//! the rest of trs relies on (an accepted path is contained, a parsed id prints back as
//! itself, a digest has its length), so a fuzzer finds wrong acceptances, not only panics.

use std::io::Cursor;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::OnceLock;

use bytes::Bytes;
use trs_auth::{Audience, RequestParts, SignedHeaders};
use trs_checks::archive::{self, ArchiveKind};
use trs_checks::checksum_file::{Algo, decode_text, parse_checksum_file};
use trs_checks::{ArchiveLimits, ArtifactInputs, SignerCert};
use trs_core::{ArtifactPath, Manifest, ManifestEntry, Sha512};
use trs_distribute::{Artifact, Target};

use crate::{AUDIENCE, CALLER_CERT, NOW_UNIX, caller, now};

/// Limits small enough that a campaign spends its time in the parsers, not in inflating
/// zeros; the rules checked are the same as with the defaults.
const LIMITS: ArchiveLimits =
    ArchiveLimits { max_total_size: 4 << 20, max_entries: 2_000, max_ratio: 200, ratio_floor: 64 << 10 };

/// The first byte as a choice among `n`, and the rest.
fn choose(data: &[u8], n: u8) -> Option<(u8, &[u8])> {
    let (&first, rest) = data.split_first()?;
    Some((first % n, rest))
}

/// Signed-call headers and verification (trs-auth), the server's order: header syntax, the
/// cheap checks, then the signature against the registered fixture key.
/// Input: lines `Trs-Key`, `Trs-Timestamp`, `Trs-Nonce`, `Trs-Content-SHA256`,
/// `Trs-Signature`, `Trs-Audience`, method, path, query (empty: none), then the body; a header
/// whose line is missing is absent, one that is not UTF-8 is absent (as `to_str` fails).
pub fn signed_call(data: &[u8]) {
    let mut fields: Vec<&[u8]> = data.splitn(10, |&b| b == b'\n').collect();
    let body = if fields.len() == 10 { fields.pop().unwrap_or_default() } else { &[] };
    let text = |i: usize| fields.get(i).and_then(|f| std::str::from_utf8(f).ok());
    let names = [
        trs_auth::HEADER_KEY,
        trs_auth::HEADER_TIMESTAMP,
        trs_auth::HEADER_NONCE,
        trs_auth::HEADER_CONTENT_SHA256,
        trs_auth::HEADER_SIGNATURE,
        trs_auth::HEADER_AUDIENCE,
    ];
    let lookup = |name: &str| {
        let i = names.iter().position(|n| n.eq_ignore_ascii_case(name))?;
        text(i).map(str::to_string)
    };
    let Ok(headers) = SignedHeaders::from_header_lookup(lookup) else { return };
    assert_eq!(headers.nonce.len(), 32);
    assert_eq!(headers.content_sha256.len(), 64);
    let (Some(method), Some(path)) = (text(6), text(7)) else { return };
    let query = text(8).filter(|q| !q.is_empty());
    let audience = Audience::parse(AUDIENCE).expect("a valid audience");
    let req = RequestParts { method, path, query, body };
    if trs_auth::check_cheap(&headers, &audience, req, NOW_UNIX).is_err() {
        return;
    }
    let (fingerprint, cert) = caller();
    if headers.key != *fingerprint {
        return;
    }
    if let Ok(verified) = trs_auth::verify_request(&headers, &audience, req, NOW_UNIX, cert) {
        assert_eq!(&verified.fingerprint, fingerprint);
        assert_eq!(headers.content_sha256, trs_auth::request::body_sha256_hex(body));
        assert!((NOW_UNIX - headers.timestamp).abs() <= trs_auth::TIMESTAMP_WINDOW_SECS);
    }
}

/// Checksum files (trs-checks): decoding (UTF-8, UTF-16 with a BOM) and every format, for both
/// algorithms. Input: the artifact's name, a newline, the file's bytes.
pub fn checksum_file(data: &[u8]) {
    let (name, file) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (String::from_utf8_lossy(&data[..i]).into_owned(), &data[i + 1..]),
        None => ("apache-foo-1.0.tar.gz".to_string(), data),
    };
    let Ok(text) = decode_text(file) else { return };
    for algo in [Algo::Sha512, Algo::Sha256] {
        if let Ok(digest) = parse_checksum_file(&text, &name, algo) {
            assert_eq!(digest.len(), algo.digest_len(), "{algo} digest of the wrong length");
        }
    }
}

/// SBOMs (trs-checks' sbom module): the first byte picks the format (CycloneDX JSON or XML,
/// SPDX JSON, tag-value or RDF), the rest is the file. Whatever the bytes, the check answers with
/// at least one `sbom` result, and a summary only on the first.
pub fn sbom(data: &[u8]) {
    use trs_checks::sbom::{SbomFormat, check_sbom_bytes};
    let Some((&which, file)) = data.split_first() else { return };
    let formats = [
        SbomFormat::CycloneDxJson,
        SbomFormat::CycloneDxXml,
        SbomFormat::SpdxJson,
        SbomFormat::SpdxTagValue,
        SbomFormat::SpdxRdf,
    ];
    let format = formats[usize::from(which) % formats.len()];
    let results = check_sbom_bytes(format, file);
    assert!(!results.is_empty());
    assert!(results.iter().all(|r| r.check == trs_core::CheckKind::Sbom));
    assert!(results.iter().skip(1).all(|r| r.sbom.is_none()), "a summary only on the first result");
}

/// Replies to a `[VOTE]` mail (trs-app's vote::replies): any bytes are read without a panic;
/// a reply's own text never holds a quoted line, and a vote read from it is one of the three.
pub fn mail_reply(data: &[u8]) {
    use trs_app::vote::replies::{Reading, own_text, parse, read_vote};
    let Ok(reply) = parse(data) else { return };
    assert!(reply.message_id.starts_with('<') && reply.message_id.ends_with('>'));
    let own = own_text(&reply.text);
    assert!(own.lines().all(|l| !l.trim_start().starts_with('>')), "a quoted line in {own:?}");
    if let Reading::Ambiguous(why) = read_vote(&own) {
        assert!(!why.is_empty());
    }
}

/// Artifact paths and manifests (trs-core): one candidate name per line. An accepted name is
/// contained (relative, no `.`/`..`/empty segment, no backslash or NUL), portable, prints as
/// itself and reads back from its stored form; a set that passes `check_distinct` makes a
/// manifest whose revision key does not depend on the order the names came in.
pub fn artifact_path(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut accepted = Vec::new();
    for line in text.split('\n') {
        let Ok(path) = ArtifactPath::from_str(line) else { continue };
        let s = path.as_str();
        assert_eq!(s, line);
        assert!(!s.is_empty() && !s.starts_with('/') && !s.contains('\\') && !s.contains('\0'), "{s:?}");
        assert!(s.split('/').all(|seg| !seg.is_empty() && seg != "." && seg != ".."), "{s:?} escapes");
        assert!(s.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-+~/".contains(&b)), "{s:?} is not portable");
        let stored: ArtifactPath = serde_json::from_value(serde_json::json!(s)).expect("an accepted name is stored");
        assert_eq!(stored, path);
        accepted.push(path);
    }
    if trs_core::artifact_path::check_distinct(accepted.iter()).is_err() {
        return;
    }
    let entries = |paths: &mut dyn Iterator<Item = &ArtifactPath>| -> Vec<ManifestEntry> {
        paths
            .map(|p| ManifestEntry { path: p.clone(), size: p.as_str().len() as u64, sha512: digest_of(p.as_str()) })
            .collect()
    };
    let forward = Manifest::new(entries(&mut accepted.iter())).expect("distinct names make a manifest");
    let backward = Manifest::new(entries(&mut accepted.iter().rev())).expect("distinct names make a manifest");
    assert_eq!(forward.key(), backward.key());
    let back: Manifest = serde_json::from_slice(&serde_json::to_vec(&forward).unwrap()).expect("a manifest reads back");
    assert_eq!(back, forward);
}

fn digest_of(s: &str) -> Sha512 {
    let mut bytes = [0u8; 64];
    for (i, b) in s.bytes().enumerate() {
        bytes[i % 64] ^= b;
    }
    Sha512::from_bytes(bytes)
}

/// Identifiers read from requests and paths (trs-core): each line as every id type; an
/// accepted one prints as what was read (or its documented canonical form) and parses again to
/// itself.
pub fn identifiers(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    fn round_trip<T: FromStr + ToString + PartialEq + std::fmt::Debug>(line: &str) {
        if let Ok(id) = line.parse::<T>() {
            let again: T = id.to_string().parse().ok().expect("an id prints as something that parses");
            assert_eq!(again, id);
        }
    }
    for line in text.split('\n') {
        round_trip::<trs_core::Version>(line);
        round_trip::<trs_core::ProjectName>(line);
        round_trip::<trs_core::ProductName>(line);
        round_trip::<trs_core::PersonUid>(line);
        round_trip::<trs_core::Fingerprint>(line);
        round_trip::<trs_core::Sha512>(line);
        round_trip::<trs_core::Sha256>(line);
        round_trip::<trs_core::RevisionKey>(line);
        round_trip::<trs_core::OpaqueId>(line);
        round_trip::<trs_core::StreamId>(line);
        round_trip::<trs_core::VoteValue>(line);
        let _ = Audience::parse(line);
        for lines in [trs_core::text::Lines::One, trs_core::text::Lines::Many] {
            let _ = trs_core::text::refusal(line, lines);
        }
    }
}

/// Tar archives in every compression (trs-checks' archive inspection, the one walker). The
/// first byte picks tar, tar.gz, tar.bz2, tar.xz or tar.zst.
pub fn archive_tar(data: &[u8]) {
    let Some((k, rest)) = choose(data, 5) else { return };
    let kind = [ArchiveKind::Tar, ArchiveKind::TarGz, ArchiveKind::TarBz2, ArchiveKind::TarXz, ArchiveKind::TarZst]
        [k as usize];
    let _ = archive::inspect_tar(kind, rest, rest.len() as u64, &LIMITS);
}

/// Zip and jar archives (trs-checks): the central directory, local headers against it, every
/// entry inflated to nowhere. The first byte picks zip or jar.
pub fn archive_zip(data: &[u8]) {
    let Some((k, rest)) = choose(data, 2) else { return };
    let kind = [ArchiveKind::Zip, ArchiveKind::Jar][k as usize];
    let _ = archive::inspect_zip_reader(Cursor::new(rest), rest.len() as u64, kind, &LIMITS);
}

/// OpenPGP certificate intake (trs-auth): registration (`keys add`), a merge into the stored
/// fixture certificate, warnings, the parsed form the server keeps, and KEYS files.
pub fn openpgp_cert(data: &[u8]) {
    if let Ok(validated) = trs_auth::validate_certificate(data, now()) {
        assert!(validated.user_ids.len() <= trs_auth::MAX_USER_IDS);
        let _ = trs_auth::certificate_warnings(&validated.armored, now());
        trs_auth::RegisteredCert::parse(&validated.fingerprint, &validated.armored)
            .expect("a registered certificate parses again");
    }
    if let Ok(merged) = trs_auth::merge_certificate_update(CALLER_CERT, data) {
        let validated = trs_auth::validate_certificate(merged.as_bytes(), now());
        assert!(validated.is_ok(), "a merge of a valid stored key is still a valid key: {validated:?}");
    }
    let _ = trs_auth::read_keys_file(&String::from_utf8_lossy(data));
}

/// Release signatures (trs-checks): an `.asc` (armored or binary, one or several) judged over
/// a fixed artifact against the project's keys (the fixture key); also the bytes as a keyring.
pub fn release_signature(data: &[u8]) {
    let _ = SignerCert::parse_keyring("fuzz", data);
    let (_dir, path, signers) = release_fixture();
    let artifact = ArtifactPath::from_str("apache-foo-1.0.txt").expect("a portable name");
    let inputs = ArtifactInputs {
        expected_size: RELEASE_ARTIFACT.len() as u64,
        expected_sha512: release_artifact_sha512(),
        sha512_file: None,
        sha256_file: None,
        asc: Some(Ok(data)),
        signers,
        policy_time: now(),
        limits: LIMITS,
        end_states: None,
    };
    let _ = trs_checks::verify_artifact(&artifact, path, &inputs);
}

/// The artifact the signature target's `.asc` inputs sign (the seeds sign it with the fixture
/// key).
pub const RELEASE_ARTIFACT: &[u8] = b"apache-foo 1.0\n";

fn release_artifact_sha512() -> Sha512 {
    use sha2::Digest as _;
    Sha512::from_bytes(sha2::Sha512::digest(RELEASE_ARTIFACT).into())
}

fn release_fixture() -> &'static (tempfile::TempDir, PathBuf, Vec<SignerCert>) {
    static FIXTURE: OnceLock<(tempfile::TempDir, PathBuf, Vec<SignerCert>)> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("apache-foo-1.0.txt");
        std::fs::write(&path, RELEASE_ARTIFACT).expect("write the fixture artifact");
        let signers = SignerCert::parse_keyring("caller", CALLER_CERT.as_bytes()).expect("the fixture key parses");
        (dir, path, signers)
    })
}

fn artifact(file_name: &str, bytes: &[u8]) -> Artifact {
    Artifact {
        file_name: file_name.to_string(),
        bytes: Bytes::copy_from_slice(bytes),
        sha512: String::new(),
        signature: None,
    }
}

/// PyPI distributions (trs-distribute): the first byte picks a wheel (zip with
/// `.dist-info/METADATA`) or an sdist (tar.gz with `PKG-INFO`); its core metadata is read and
/// made into upload form fields.
pub fn pypi_dist(data: &[u8]) {
    let Some((k, rest)) = choose(data, 2) else { return };
    let name = ["apache_foo-1.0-py3-none-any.whl", "apache_foo-1.0.tar.gz"][k as usize];
    let target = Target { namespace: None, package: "apache-foo".into(), version: "1.0".into() };
    let _ = trs_registry_clients::fuzzing::pypi_distributions(&target, &[artifact(name, rest)]);
}

/// A registry's simple-index project page (trs-distribute's PyPI client), as JSON and HTML.
pub fn pypi_index(data: &[u8]) {
    let _ = trs_registry_clients::fuzzing::pypi_index_page(&String::from_utf8_lossy(data));
}

/// npm package tarballs (trs-distribute): `package/package.json` read from a `.tgz`, then the
/// publish document.
pub fn npm_tarball(data: &[u8]) {
    let target = Target { namespace: None, package: "apache-foo".into(), version: "1.0.0".into() };
    let _ = trs_registry_clients::fuzzing::npm_tarball(&target, &[artifact("apache-foo-1.0.0.tgz", data)]);
}

/// Every JSON request body type of the API (`trs_api`, the types `docs/openapi.json` lists as
/// request bodies), in the order the first byte picks them ([`json_body`]).
pub const JSON_BODY_TYPES: &[&str] = &[
    "StartUpload",
    "EditProject",
    "EditPerson",
    "ProductOnly",
    "AddPerson",
    "AddKey",
    "CreateProject",
    "ChangeMembers",
    "AddProduct",
    "SetPolicy",
    "SetMail",
    "RecordAdvisory",
    "EditAdvisory",
    "PublishAdvisory",
    "CommitUpload",
    "StartImport",
    "OpenVote",
    "CastVote",
    "ImportMail",
    "RequestDistribution",
    "SetAutoDistributions",
    "RevokeRelease",
    "SetDates",
];

/// JSON request bodies: the first byte picks one of [`JSON_BODY_TYPES`]. What deserialises
/// must serialise and read back as itself (the CLI sends these types, the server reads them),
/// then goes through the checks the service runs before it touches the store: names and ids
/// parsed, free text by the one text rule, mail addresses, certificates, artifact paths, the
/// next manifest of an upload, the edit checks, vote-reply mails.
pub fn json_body(data: &[u8]) {
    json_body_reads(data);
}

/// [`json_body`], telling whether the body read as the type its first byte picked (the seeds'
/// test holds each seed to that).
pub fn json_body_reads(data: &[u8]) -> bool {
    use trs_api::{
        advisories, common, distributions, lifecycle, mail, people, projects as api_projects, uploads, votes,
    };
    use trs_core::text::Lines::{Many, One};
    let Some((k, body)) = choose(data, JSON_BODY_TYPES.len() as u8) else { return false };
    match k {
        0 => {
            start_upload(body);
            round_trip::<uploads::StartUpload>(body).is_some()
        }
        1 => {
            let Some(b) = round_trip::<api_projects::EditProject>(body) else { return false };
            let _ = trs_app::projects::check_edit(&b.into());
            true
        }
        2 => {
            let Some(b) = round_trip::<people::EditPerson>(body) else { return false };
            let _ = trs_app::people::check_person_edit(&b.into());
            true
        }
        3 => product_body::<common::ProductOnly>(body, |b| b.product.as_deref()),
        4 => {
            let Some(b) = round_trip::<people::AddPerson>(body) else { return false };
            let _ = b.uid.parse::<trs_core::PersonUid>();
            certificate(&b.certificate);
            for text in [&b.name, &b.email].into_iter().flatten() {
                typed_text(text, One);
            }
            true
        }
        5 => {
            let Some(b) = round_trip::<people::AddKey>(body) else { return false };
            let _ = b.uid.as_deref().map(str::parse::<trs_core::PersonUid>);
            certificate(&b.certificate);
            true
        }
        6 => {
            let Some(b) = round_trip::<api_projects::CreateProject>(body) else { return false };
            let _ = b.name.parse::<trs_core::ProjectName>();
            for uid in b.members.iter().chain(&b.committers).chain(&b.release_managers) {
                let _ = uid.parse::<trs_core::PersonUid>();
            }
            b.products.iter().for_each(|p| product(Some(p)));
            true
        }
        7 => {
            let Some(b) = round_trip::<api_projects::ChangeMembers>(body) else { return false };
            for uid in b.add.iter().chain(&b.remove) {
                let _ = uid.parse::<trs_core::PersonUid>();
            }
            true
        }
        8 => {
            let Some(b) = round_trip::<api_projects::AddProduct>(body) else { return false };
            product(Some(&b.name));
            b.description.iter().for_each(|text| typed_text(text, Many));
            true
        }
        9 => product_body::<api_projects::SetPolicy>(body, |b| b.product.as_deref()),
        10 => {
            let Some(b) = round_trip::<mail::SetMail>(body) else { return false };
            product(b.product.as_deref());
            for address in b.vote_to.iter().chain(&b.announce_to).chain(&b.from).chain(&b.reply_to) {
                if let Ok(checked) = trs_app::mail::check_address("address", address) {
                    let again = trs_app::mail::check_address("address", &checked);
                    assert_eq!(again.ok().as_ref(), Some(&checked), "an accepted address is accepted as it is kept");
                }
            }
            true
        }
        11 => {
            let Some(b) = round_trip::<advisories::RecordAdvisory>(body) else { return false };
            product(b.product.as_deref());
            advisory_text(b.summary.as_deref(), b.details.as_deref(), b.credits.iter().chain(&b.references));
            true
        }
        12 => {
            let Some(b) = round_trip::<advisories::EditAdvisory>(body) else { return false };
            let lists = b.credits.iter().flatten().chain(b.references.iter().flatten());
            advisory_text(b.summary.as_deref(), b.details.as_deref(), lists);
            true
        }
        13 => round_trip::<advisories::PublishAdvisory>(body).is_some(),
        14 => {
            let Some(b) = round_trip::<uploads::CommitUpload>(body) else { return false };
            b.parts.keys().for_each(|p| artifact_name(p));
            true
        }
        15 => {
            let Some(b) = round_trip::<uploads::StartImport>(body) else { return false };
            product(b.product.as_deref());
            for f in &b.files {
                artifact_name(&f.path);
                let _ = f.sha512.parse::<Sha512>();
            }
            true
        }
        16 => {
            let Some(b) = round_trip::<votes::OpenVote>(body) else { return false };
            product(b.product.as_deref());
            for field in b.source.iter().flat_map(|s| [&s.tag, &s.commit, &s.url]).flatten() {
                typed_text(field, One);
            }
            true
        }
        17 => {
            let Some(b) = round_trip::<votes::CastVote>(body) else { return false };
            product(b.product.as_deref());
            b.comment.iter().for_each(|text| typed_text(text, Many));
            true
        }
        18 => {
            let Some(b) = round_trip::<votes::ImportMail>(body) else { return false };
            product(b.product.as_deref());
            for message in &b.messages {
                mail_reply(message.as_bytes());
            }
            true
        }
        19 => product_body::<distributions::RequestDistribution>(body, |b| b.product.as_deref()),
        20 => round_trip::<distributions::SetAutoDistributions>(body).is_some(),
        21 => {
            let Some(b) = round_trip::<lifecycle::RevokeRelease>(body) else { return false };
            product(b.product.as_deref());
            typed_text(&b.reason, One);
            true
        }
        _ => product_body::<lifecycle::SetDates>(body, |b| b.product.as_deref()),
    }
}

/// A body whose only name is its product: read as `T`, and the product parsed.
fn product_body<T>(body: &[u8], product_of: impl Fn(&T) -> Option<&str>) -> bool
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let Some(b) = round_trip::<T>(body) else { return false };
    product(product_of(&b));
    true
}

/// The body as `T`, if it is one; what reads as `T` writes as JSON that reads back as itself.
fn round_trip<T>(body: &[u8]) -> Option<T>
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let value: T = serde_json::from_slice(body).ok()?;
    let json = serde_json::to_vec(&value).expect("a request body serialises");
    let again: T = serde_json::from_slice(&json).expect("a serialised request body reads back");
    assert_eq!(again, value, "{}", String::from_utf8_lossy(&json));
    Some(value)
}

/// The upload's own checks: the declared names, then the next manifest over a previous one.
fn start_upload(body: &[u8]) {
    let Ok(start) = serde_json::from_slice::<trs_api::uploads::StartUpload>(body) else { return };
    let uploaded: Vec<ManifestEntry> = start
        .files
        .iter()
        .filter_map(|f| ArtifactPath::from_str(&f.path).ok())
        .map(|path| ManifestEntry { size: 1, sha512: digest_of(path.as_str()), path })
        .collect();
    let remove: Vec<ArtifactPath> = start.remove.iter().filter_map(|p| p.parse().ok()).collect();
    let previous = previous_manifest();
    if let Ok((manifest, removed)) = trs_app::upload::next_manifest(Some(&previous), uploaded, &remove, start.replace) {
        assert!(!manifest.entries().is_empty());
        for r in &removed {
            assert!(manifest.get(r.as_str()).is_none(), "{r} removed and kept");
        }
    }
}

/// A product named in a body (the handlers parse it as a path segment).
fn product(name: Option<&str>) {
    if let Some(Ok(p)) = name.map(str::parse::<trs_core::ProductName>) {
        assert_eq!(p.to_string().parse::<trs_core::ProductName>().ok(), Some(p));
    }
}

/// Free text by the one rule of every field a person types: what passes holds no control
/// character (and no line break where one line is asked for).
fn typed_text(text: &str, lines: trs_core::text::Lines) {
    if trs_app::error::check_typed_text("field", text, lines).is_ok() {
        let one = lines == trs_core::text::Lines::One;
        assert!(
            text.chars().all(|c| !c.is_control() || (!one && (c == '\n' || c == '\t'))),
            "{text:?} accepted as {lines:?}"
        );
    }
}

fn advisory_text<'a>(summary: Option<&str>, details: Option<&str>, lists: impl Iterator<Item = &'a String>) {
    summary.into_iter().for_each(|s| typed_text(s, trs_core::text::Lines::One));
    details.into_iter().for_each(|d| typed_text(d, trs_core::text::Lines::Many));
    lists.for_each(|l| typed_text(l, trs_core::text::Lines::One));
}

/// A certificate sent in a body, as registration reads it.
fn certificate(armored: &str) {
    if let Ok(validated) = trs_auth::validate_certificate(armored.as_bytes(), now()) {
        assert!(validated.user_ids.len() <= trs_auth::MAX_USER_IDS);
    }
}

/// A release file's name in a body: accepted only contained and printing as itself.
fn artifact_name(name: &str) {
    if let Ok(path) = ArtifactPath::from_str(name) {
        assert_eq!(path.as_str(), name);
        assert!(path.as_str().split('/').all(|s| !s.is_empty() && s != "." && s != ".."), "{name:?} escapes");
    }
}

fn previous_manifest() -> Manifest {
    let entries = ["apache-foo-1.0.tar.gz", "apache-foo-1.0.tar.gz.asc", "apache-foo-1.0.tar.gz.sha512", "KEYS"]
        .iter()
        .map(|p| ManifestEntry { path: p.parse().expect("a portable name"), size: 1, sha512: digest_of(p) })
        .collect();
    Manifest::new(entries).expect("distinct names")
}

//! The first inputs of every corpus: well-formed examples of each format and the hostile
//! inputs of the review (issue 13) and of the checks' own tests — traversal in every archive
//! format, links out of the folder, devices, bombs, a second archive after the end marker or in
//! a second compressed member, a zip whose local header names another path, shell syntax and
//! invisible characters in names, tampered and misdirected signed calls. `trs-fuzz-seeds`
//! writes them into `fuzz/corpus/`; the campaigns grow the corpus from there.

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use sequoia_openpgp as openpgp;
use trs_auth::RequestSigner as _;

use crate::{AUDIENCE, CALLER_CERT, CALLER_KEY, NOW_UNIX};

/// (target, file name, bytes) of every seed.
pub fn all() -> Vec<(&'static str, String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut add = |target: &'static str, name: &str, bytes: Vec<u8>| out.push((target, name.to_string(), bytes));
    for (name, bytes) in signed_calls() {
        add("signed_call", &name, bytes);
    }
    for (name, bytes) in checksum_files() {
        add("checksum_file", name, bytes);
    }
    add("artifact_path", "names", PATHS.join("\n").into_bytes());
    for (i, p) in PATHS.iter().enumerate() {
        add("artifact_path", &format!("name-{i:02}"), p.as_bytes().to_vec());
    }
    add("identifiers", "ids", IDS.join("\n").into_bytes());
    for (name, kind, bytes) in tars() {
        add("archive_tar", &name, [&[kind][..], &bytes].concat());
    }
    for (name, kind, bytes) in zips() {
        add("archive_zip", name, [&[kind][..], &bytes].concat());
    }
    add("openpgp_cert", "caller.asc", CALLER_CERT.as_bytes().to_vec());
    add("openpgp_cert", "caller.pgp", dearmor(CALLER_CERT.as_bytes()));
    add(
        "openpgp_cert",
        "keys-file",
        format!("pub   ed25519 2026-01-01 [SC]\nuid   Fuzz Caller\n\n{CALLER_CERT}").into_bytes(),
    );
    for (name, bytes) in release_signatures() {
        add("release_signature", name, bytes);
    }
    for (name, bytes) in pypi_dists() {
        add("pypi_dist", name, bytes);
    }
    add("pypi_index", "simple.json", PYPI_JSON.as_bytes().to_vec());
    add("pypi_index", "simple.html", PYPI_HTML.as_bytes().to_vec());
    add("npm_tarball", "package.tgz", npm_tgz(NPM_PACKAGE_JSON));
    add("npm_tarball", "bad-name.tgz", npm_tgz(br#"{"name":"../apache-foo","version":"1.0.0"}"#));
    for (name, bytes) in json_bodies() {
        add("json_body", name, bytes);
    }
    out
}

/// Names of the review and of `artifact_path`'s tests: fine ones, traversal forms, shell
/// syntax, invisible and bidirectional characters, Windows device names.
pub const PATHS: &[&str] = &[
    "apache-foo-1.2.0-src.tar.gz",
    "foo_2.13-1.0.0.jar",
    "libfoo-1.0+dfsg.orig.tar.xz",
    "foo-1.0~rc1.tar.gz",
    "org/apache/foo/1.0/foo-1.0.pom",
    "dist/foo.tar.gz.asc",
    "apache-foo-6.2$(touch${IFS}PWNED).tar.gz",
    "../etc/passwd",
    "a/../../b",
    "/etc/passwd",
    "a//b",
    "./a",
    "a/./b",
    "a\\..\\b",
    "..%2fetc%2fpasswd",
    "%2e%2e/x",
    ".hidden",
    "a/.git/config",
    "a.",
    "-rf",
    "CON",
    "nul.txt",
    "COM1.zip",
    "aux",
    "foo\u{202e}gz.tar",
    "foo\u{200b}.tar.gz",
    "foo\u{2028}.tar.gz",
    "\u{feff}foo.tar.gz",
    "foo\u{34f}.tar.gz",
    "foo.tar.gz\u{a0}",
    "README",
    "readme",
    "\u{fb01}le",
    "file",
    "a",
    "a/b",
];

/// Identifiers of every kind, and near misses.
pub const IDS: &[&str] = &[
    "1.0.0",
    "1.0.0-rc.1+build.5",
    "v2.1rc1",
    "nightly",
    "1..0",
    "apache-foo",
    "Apache_Foo",
    "-foo",
    "2F6C7511D10A1C07B303D22CE3C897EF4975E1C1",
    "2f6c7511d10a1c07b303d22ce3c897ef4975e1c1",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
    "+1",
    "-1",
    "0",
    "release:apache-foo",
    "https://trs.example.org:443/api/",
    "fine text\nsecond line",
    "\u{1b}[2Jcleared",
];

fn signed_calls() -> Vec<(String, Vec<u8>)> {
    let cert = openpgp::Cert::from_bytes(CALLER_KEY.as_bytes()).expect("the fixture secret key");
    let signer = trs_auth::KeyFileSigner::from_cert(&cert, None).expect("an unprotected signing key");
    let audience = trs_auth::Audience::parse(AUDIENCE).expect("an audience");
    let mut out = Vec::new();
    let body = br#"{"files":[{"path":"apache-foo-1.0.tar.gz","size":10}]}"#;
    let path = "/api/v1/projects/apache-foo/releases/1.0/uploads";
    let h = trs_auth::sign_request(&signer, &audience, "POST", path, None, body, NOW_UNIX).expect("signed");
    let line = |h: &trs_auth::SignedHeaders, method: &str, path: &str, query: &str, body: &[u8], audience: &str| {
        let pairs = h.to_pairs();
        let value = |name: &str| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone()).unwrap_or_default();
        let mut s = [
            value(trs_auth::HEADER_KEY),
            value(trs_auth::HEADER_TIMESTAMP),
            value(trs_auth::HEADER_NONCE),
            value(trs_auth::HEADER_CONTENT_SHA256),
            value(trs_auth::HEADER_SIGNATURE),
            audience.to_string(),
            method.to_string(),
            path.to_string(),
            query.to_string(),
        ]
        .join("\n")
        .into_bytes();
        s.push(b'\n');
        s.extend_from_slice(body);
        s
    };
    out.push(("valid".into(), line(&h, "POST", path, "", body, AUDIENCE)));
    out.push(("tampered-body".into(), line(&h, "POST", path, "", b"{\"files\":[]}", AUDIENCE)));
    out.push((
        "retargeted".into(),
        line(&h, "POST", "/api/v1/projects/other/releases/1.0/uploads", "", body, AUDIENCE),
    ));
    out.push(("other-audience".into(), line(&h, "POST", path, "", body, "https://staging.example.org")));
    let get = trs_auth::sign_request(&signer, &audience, "GET", "/api/v1/people", Some("a=1&b=2"), b"", NOW_UNIX)
        .expect("signed");
    out.push(("valid-query".into(), line(&get, "GET", "/api/v1/people", "a=1&b=2", b"", AUDIENCE)));
    let mut stale = h.clone();
    stale.timestamp -= 3600;
    out.push(("stale".into(), line(&stale, "POST", path, "", body, AUDIENCE)));
    // A scheme version 1 client: five headers, no audience.
    let v1 = line(&h, "POST", path, "", body, AUDIENCE);
    let lines: Vec<&[u8]> = v1.splitn(10, |&b| b == b'\n').take(5).collect();
    out.push(("version-1".into(), lines.join(&b'\n')));
    let sig = signer.sign_detached(b"something else").expect("signed");
    let mut wrong = h.clone();
    wrong.signature = sig;
    out.push(("signature-over-other-text".into(), line(&wrong, "POST", path, "", body, AUDIENCE)));
    out
}

fn checksum_files() -> Vec<(&'static str, Vec<u8>)> {
    let d512 = "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e";
    let d256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    let name = "apache-foo-1.0.tar.gz";
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(format!("{d512}  {name}\r\n").encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let gpg = {
        let upper = d512.to_ascii_uppercase();
        let groups: Vec<String> = upper.as_bytes().chunks(8).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
        format!("{name}: {}\n{}\n", groups[..8].join(" "), groups[8..].join(" "))
    };
    vec![
        ("gnu", format!("{name}\n{d512}  {name}\n").into_bytes()),
        ("gnu-binary", format!("{name}\n{d512} *{name}\n").into_bytes()),
        ("bare", format!("{name}\n{d512}\n").into_bytes()),
        ("bsd-tag", format!("{name}\nSHA512 ({name}) = {d512}\n").into_bytes()),
        ("sha256-tag", format!("{name}\nSHA2-256 ({name}) = {d256}\n").into_bytes()),
        ("gpg-print-md", format!("{name}\n{gpg}").into_bytes()),
        (
            "certutil",
            format!("{name}\nSHA512 hash of {name}:\n{d512}\nCertUtil: -hashfile command completed successfully.\n")
                .into_bytes(),
        ),
        ("utf16", [format!("{name}\n").into_bytes(), utf16].concat()),
        ("two-names", format!("{name}\n{d512}  other.tar.gz\n{d512}  {name}\n").into_bytes()),
        ("wrong-length", format!("{name}\n{d256}  {name}\n").into_bytes()),
        ("path-in-name", format!("{name}\n{d512}  ../dist/{name}\n").into_bytes()),
    ]
}

/// A tar entry written raw: the tar crate's setters refuse the hostile names needed here.
struct Raw<'a> {
    name: &'a str,
    kind: tar::EntryType,
    data: &'a [u8],
    link: Option<&'a str>,
}

fn raw_file<'a>(name: &'a str, data: &'a [u8]) -> Raw<'a> {
    Raw { name, kind: tar::EntryType::Regular, data, link: None }
}

fn raw_link<'a>(kind: tar::EntryType, name: &'a str, target: &'a str) -> Raw<'a> {
    Raw { name, kind, data: b"", link: Some(target) }
}

fn raw_tar(entries: &[Raw<'_>]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = tar::Header::new_gnu();
        h.as_old_mut().name[..e.name.len()].copy_from_slice(e.name.as_bytes());
        if let Some(l) = e.link {
            h.as_old_mut().linkname[..l.len()].copy_from_slice(l.as_bytes());
        }
        h.set_entry_type(e.kind);
        h.set_size(e.data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append(&h, e.data).expect("append to a Vec");
    }
    b.into_inner().expect("finish a Vec")
}

/// A tar with GNU long names and pax headers, as `tar --format=gnu` and `git archive` write.
fn long_names_tar() -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let long = format!("top/{}/LICENSE", "d".repeat(120));
    let mut h = tar::Header::new_gnu();
    h.set_size(7);
    h.set_mode(0o644);
    b.append_data(&mut h, &long, &b"license"[..]).expect("append");
    b.append_pax_extensions([("comment", &b"0123456789abcdef"[..])]).expect("pax");
    let mut h = tar::Header::new_ustar();
    h.set_size(6);
    h.set_mode(0o644);
    b.append_data(&mut h, "top/NOTICE", &b"notice"[..]).expect("append");
    b.into_inner().expect("finish")
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(bytes).expect("gzip to a Vec");
    e.finish().expect("gzip to a Vec")
}

fn compress(kind: u8, bytes: &[u8]) -> Vec<u8> {
    match kind {
        0 => bytes.to_vec(),
        1 => gz(bytes),
        2 => {
            let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
            e.write_all(bytes).expect("bzip2 to a Vec");
            e.finish().expect("bzip2 to a Vec")
        }
        3 => {
            // The xz tool, as release managers make .tar.xz (the workspace's xz crate decodes only).
            let mut child = std::process::Command::new("xz")
                .arg("-c")
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .expect("the xz tool (xz-utils)");
            let mut stdin = child.stdin.take().expect("a pipe");
            let input = bytes.to_vec();
            let writer = std::thread::spawn(move || stdin.write_all(&input));
            let out = child.wait_with_output().expect("xz ran");
            writer.join().expect("the writer thread").expect("xz read its input");
            assert!(out.status.success(), "xz failed");
            out.stdout
        }
        _ => zstd::stream::encode_all(bytes, 3).expect("zstd to a Vec"),
    }
}

/// (name, kind byte as the tar target reads it, bytes).
fn tars() -> Vec<(String, u8, Vec<u8>)> {
    use tar::EntryType as T;
    let good = raw_tar(&[raw_file("top/LICENSE", b"license"), raw_file("top/NOTICE", b"notice")]);
    let hostile: Vec<(&str, Vec<u8>)> = vec![
        ("good", good.clone()),
        ("long-names", long_names_tar()),
        ("dot-dot", raw_tar(&[raw_file("top/LICENSE", b"l"), raw_file("top/../../evil", b"x")])),
        ("absolute", raw_tar(&[raw_file("/etc/evil", b"x")])),
        ("symlink-abs", raw_tar(&[raw_file("top/LICENSE", b"l"), raw_link(T::Symlink, "top/passwd", "/etc/passwd")])),
        ("symlink-up", raw_tar(&[raw_file("top/LICENSE", b"l"), raw_link(T::Symlink, "top/up", "../../etc")])),
        ("symlink-chain", raw_tar(&[raw_link(T::Symlink, "top/a", "."), raw_link(T::Symlink, "top/a/b", "../..")])),
        ("through-symlink", raw_tar(&[raw_link(T::Symlink, "top/l", "/tmp"), raw_file("top/l/evil", b"x")])),
        ("hardlink-out", raw_tar(&[raw_file("top/LICENSE", b"l"), raw_link(T::Link, "top/h", "../outside")])),
        ("device", raw_tar(&[raw_file("top/LICENSE", b"l"), raw_link(T::Char, "top/tty", "")])),
        ("two-tops", raw_tar(&[raw_file("a/LICENSE", b"l"), raw_file("b/NOTICE", b"n")])),
        ("lone-file", raw_tar(&[raw_file("LICENSE", b"l")])),
        ("appended", [good.clone(), raw_tar(&[raw_file("../evil", b"x")])].concat()),
        ("zeros-bomb", raw_tar(&[raw_file("top/zeros", &vec![0u8; 8 << 20])])),
    ];
    let mut out = Vec::new();
    for (name, tar) in &hostile {
        for (kind, ext) in [(0u8, "tar"), (1, "tar.gz"), (2, "tar.bz2"), (3, "tar.xz"), (4, "tar.zst")] {
            // The bomb only compressed (uncompressed it is a large seed and no bomb).
            if *name == "zeros-bomb" && kind == 0 {
                continue;
            }
            out.push((format!("{name}.{ext}"), kind, compress(kind, tar)));
        }
    }
    // A second gzip member holding `../` entries, decompressed by `tar` but never listed.
    let second = raw_tar(&[raw_file("../../evil", b"x")]);
    out.push(("second-member.tar.gz".into(), 1, [gz(&good), gz(&second)].concat()));
    out.push(("second-stream.tar.xz".into(), 3, [compress(3, &good), compress(3, &second)].concat()));
    out.push(("second-frame.tar.zst".into(), 4, [compress(4, &good), compress(4, &second)].concat()));
    out.push(("truncated.tar.gz".into(), 1, gz(&good)[..40].to_vec()));
    out
}

fn zip_with(f: impl FnOnce(&mut zip::ZipWriter<std::io::Cursor<Vec<u8>>>)) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    f(&mut w);
    w.finish().expect("zip to a Vec").into_inner()
}

/// (name, kind byte: 0 zip, 1 jar, bytes).
fn zips() -> Vec<(&'static str, u8, Vec<u8>)> {
    let opts = zip::write::SimpleFileOptions::default();
    let stored = opts.compression_method(zip::CompressionMethod::Stored);
    let good = zip_with(|w| {
        w.add_directory("top/", opts).expect("dir");
        w.start_file("top/LICENSE", opts).expect("file");
        w.write_all(b"license").expect("write");
        w.start_file("top/abcdefgh", stored).expect("file");
        w.write_all(b"x").expect("write");
    });
    // The review's trick: the local header says `../../evil.x`, the central directory does not.
    let mut local_mismatch = good.clone();
    if let Some(at) = local_mismatch.windows(12).position(|w| w == b"top/abcdefgh") {
        local_mismatch[at..at + 12].copy_from_slice(b"../../evil.x");
    }
    let jar = zip_with(|w| {
        w.start_file("META-INF/MANIFEST.MF", opts).expect("file");
        w.write_all(b"Manifest-Version: 1.0\r\n").expect("write");
        w.start_file("org/apache/foo/Foo.class", opts).expect("file");
        w.write_all(&[0xCA, 0xFE, 0xBA, 0xBE]).expect("write");
    });
    vec![
        ("good.zip", 0, good),
        ("local-header-mismatch.zip", 0, local_mismatch),
        (
            "dot-dot.zip",
            0,
            zip_with(|w| {
                w.start_file("top/LICENSE", opts).expect("file");
                w.start_file("top/../../evil", opts).expect("file");
            }),
        ),
        (
            "symlink.zip",
            0,
            zip_with(|w| {
                w.start_file("top/LICENSE", opts).expect("file");
                w.add_symlink("top/passwd", "/etc/passwd", opts).expect("link");
            }),
        ),
        ("backslash.zip", 0, zip_with(|w| w.start_file("top\\..\\..\\evil.dll", opts).expect("file"))),
        (
            "bomb.zip",
            0,
            zip_with(|w| {
                w.start_file("top/zeros", opts).expect("file");
                w.write_all(&vec![0u8; 8 << 20]).expect("write");
            }),
        ),
        ("jar.jar", 1, jar),
    ]
}

fn dearmor(armored: &[u8]) -> Vec<u8> {
    use openpgp::parse::Parse as _;
    use openpgp::serialize::SerializeInto as _;
    openpgp::Cert::from_bytes(armored).expect("a certificate").to_vec().expect("serialize")
}

fn release_signatures() -> Vec<(&'static str, Vec<u8>)> {
    use openpgp::serialize::stream::{Armorer, Message};
    let cert = openpgp::Cert::from_bytes(CALLER_KEY.as_bytes()).expect("the fixture secret key");
    let signer = trs_auth::KeyFileSigner::from_cert(&cert, None).expect("an unprotected signing key");
    let binary = signer.sign_detached(crate::targets::RELEASE_ARTIFACT).expect("signed");
    let other = signer.sign_detached(b"other bytes").expect("signed");
    let armor = |sig: &[u8]| {
        let mut out = Vec::new();
        let message = Message::new(&mut out);
        let mut w = Armorer::new(message).kind(openpgp::armor::Kind::Signature).build().expect("armorer");
        w.write_all(sig).expect("armor");
        w.finalize().expect("armor");
        out
    };
    vec![
        ("binary.sig", binary.clone()),
        ("armored.asc", armor(&binary)),
        ("two-signers.asc", [armor(&binary), armor(&binary)].concat()),
        ("over-other-bytes.asc", armor(&other)),
        ("a-key-not-a-signature.asc", CALLER_CERT.as_bytes().to_vec()),
    ]
}

use openpgp::parse::Parse as _;

const METADATA: &str = "Metadata-Version: 2.1\nName: apache-foo\nVersion: 1.0\nSummary: Foo\nClassifier: A\nClassifier: B\nDescription: line one\n        line two\n       |line three\n\nThe long description.\n";

fn pypi_dists() -> Vec<(&'static str, Vec<u8>)> {
    let opts = zip::write::SimpleFileOptions::default();
    let wheel = zip_with(|w| {
        w.start_file("apache_foo-1.0.dist-info/METADATA", opts).expect("file");
        w.write_all(METADATA.as_bytes()).expect("write");
        w.start_file("apache_foo/__init__.py", opts).expect("file");
    });
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(METADATA.len() as u64);
    h.set_mode(0o644);
    b.append_data(&mut h, "apache_foo-1.0/PKG-INFO", METADATA.as_bytes()).expect("append");
    let sdist = gz(&b.into_inner().expect("finish"));
    vec![("wheel", [&[0u8][..], &wheel].concat()), ("sdist", [&[1u8][..], &sdist].concat())]
}

const PYPI_JSON: &str = r#"{"meta":{"api-version":"1.1"},"name":"apache-foo","files":[{"filename":"apache_foo-1.0.tar.gz","url":"https://files.example.org/apache_foo-1.0.tar.gz","hashes":{"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},"upload-time":"2026-01-01T00:00:00.000000Z"}]}"#;
const PYPI_HTML: &str = "<!DOCTYPE html><html><body><a href=\"https://files.example.org/apache_foo-1.0.tar.gz#sha256=E3B0\" data-requires-python=\"&gt;=3.8\">apache_foo-1.0.tar.gz</a><br/><A HREF='../x.whl'></a><a href=x.whl >x&amp;y</a></body></html>";

const NPM_PACKAGE_JSON: &[u8] = br#"{"name":"apache-foo","version":"1.0.0","description":"Foo","main":"index.js"}"#;

fn npm_tgz(package_json: &[u8]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(package_json.len() as u64);
    h.set_mode(0o644);
    b.append_data(&mut h, "package/package.json", package_json).expect("append");
    gz(&b.into_inner().expect("finish"))
}

fn json_bodies() -> Vec<(&'static str, Vec<u8>)> {
    fn with(k: u8, body: &str) -> Vec<u8> {
        [&[k][..], body.as_bytes()].concat()
    }
    vec![
        (
            "start-upload",
            with(
                0,
                r#"{"files":[{"path":"apache-foo-1.0.tar.gz","size":10},{"path":"apache-foo-1.0.tar.gz.asc","size":1}],"base":1}"#,
            ),
        ),
        (
            "start-upload-remove",
            with(
                0,
                r#"{"product":"core","files":[{"path":"KEYS","size":1}],"remove":["apache-foo-1.0.tar.gz"],"force":true}"#,
            ),
        ),
        ("start-upload-replace", with(0, r#"{"files":[{"path":"apache-foo-1.1.tar.gz","size":1}],"replace":true}"#)),
        (
            "start-upload-hostile",
            with(0, r#"{"files":[{"path":"../x","size":18446744073709551615},{"path":"a$(b)","size":1}],"extra":1}"#),
        ),
        (
            "project-edit",
            with(1, r#"{"display_name":"Apache Foo","description":"A *foo*.","homepage":"https://foo.apache.org/"}"#),
        ),
        ("project-edit-hostile", with(1, r#"{"display_name":"\u001b[2J","homepage":"javascript:alert(1)"}"#)),
        ("person-edit", with(2, r#"{"name":"Fuzz Caller","email":"fuzz@example.org"}"#)),
        ("person-edit-hostile", with(2, r#"{"name":"a\u202eb","email":"a@b@c"}"#)),
        ("product-only", with(3, r#"{"product":"core"}"#)),
        // The other request bodies of the API (trs_api, as docs/openapi.json describes them),
        // valid first, then hostile where the server checks more than the shape.
        (
            "add-person",
            with(
                4,
                &format!(
                    r#"{{"uid":"fuzz","certificate":{},"name":"Fuzz Caller","email":"fuzz@example.org"}}"#,
                    json_string(CALLER_CERT)
                ),
            ),
        ),
        (
            "add-person-hostile",
            with(4, r#"{"uid":"../root","certificate":"-----BEGIN PGP PUBLIC KEY BLOCK-----","name":"\u001b[2J"}"#),
        ),
        ("add-key", with(5, &format!(r#"{{"certificate":{},"uid":"fuzz"}}"#, json_string(CALLER_CERT)))),
        (
            "create-project",
            with(
                6,
                r#"{"name":"foo","members":["ada"],"committers":["carl"],"release_managers":["rita"],"products":["core"]}"#,
            ),
        ),
        ("create-project-hostile", with(6, r#"{"name":"Foo Bar","members":["a/b"],"products":[".."]}"#)),
        ("change-members", with(7, r#"{"role":"release-manager","add":["rita"],"remove":["carl"]}"#)),
        ("add-product", with(8, r#"{"name":"core","description":"The core library.\nSecond line."}"#)),
        (
            "set-policy",
            with(
                9,
                r#"{"product":"core","min_vote_hours":72,"min_binding":3,"strict":true,"archive_previous":true,"denied_licences":["strong-copyleft","restricted"]}"#,
            ),
        ),
        (
            "set-mail",
            with(
                10,
                r#"{"vote_to":["dev@foo.apache.org"],"announce_to":["Announce <announce@apache.org>"],"from":"rita@apache.org","reply_to":"dev@foo.apache.org","imap":"imaps://mail.example.org/INBOX"}"#,
            ),
        ),
        ("set-mail-hostile", with(10, r#"{"vote_to":["a@b\r\nBcc: x@y"],"from":"<>"}"#)),
        (
            "record-advisory",
            with(
                11,
                r#"{"id":"CVE-2026-12345","summary":"Path traversal in the zip reader","details":"A crafted zip\nwrites outside.","severity":"high","affected":[">=1.0,<1.2"],"fixed":"1.2.0","credits":["Eve"],"references":["https://foo.apache.org/security"],"package":{"ecosystem":"Maven","name":"org.apache.foo:foo"},"embargoed_until":1780000000}"#,
            ),
        ),
        (
            "edit-advisory",
            with(12, r#"{"summary":"Path traversal","severity":"critical","affected":[">=1.0,<1.3"],"credits":[]}"#),
        ),
        ("publish-advisory", with(13, r#"{"force":true}"#)),
        ("commit-upload", with(14, r#"{"parts":{"apache-foo-1.0.tar.gz":["etag-1","etag-2"]}}"#)),
        (
            "start-import",
            with(
                15,
                r#"{"stage":"archived","released_at":1500000000,"files":[{"path":"apache-foo-0.9.tar.gz","size":10,"sha512":"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"}]}"#,
            ),
        ),
        (
            "open-vote",
            with(
                16,
                r#"{"duration_hours":72,"source":{"tag":"v1.0.0","commit":"0123456789abcdef","url":"https://github.com/apache/foo"}}"#,
            ),
        ),
        ("cast-vote", with(17, r#"{"value":"+1","comment":"Checked the signatures.\n\tBuilt from source."}"#)),
        ("cast-vote-hostile", with(17, r#"{"value":"+2","comment":"\u202e"}"#)),
        ("import-mail", with(18, r#"{"messages":["Message-ID: <a@b>\nSubject: Re: [VOTE] foo 1.0\n\n+1\n"]}"#)),
        (
            "request-distribution",
            with(
                19,
                r#"{"product":"core","distributions":[{"platform":"pypi","package":"apache-foo","staging":true}]}"#,
            ),
        ),
        (
            "set-auto-distributions",
            with(
                20,
                r#"{"distributions":[{"platform":"maven","namespace":"org.apache.foo","package":"foo"},{"platform":"npm","package":"apache-foo","staging":true}]}"#,
            ),
        ),
        ("revoke-release", with(21, r#"{"reason":"signing key compromised"}"#)),
        ("revoke-release-hostile", with(21, r#"{"reason":"\u001b[2J\u001b[H all fine"}"#)),
        ("set-dates", with(22, r#"{"end_of_life":1800000000,"support_until":1790000000}"#)),
    ]
}

/// `text` as a JSON string literal.
fn json_string(text: &str) -> String {
    serde_json::Value::String(text.to_string()).to_string()
}

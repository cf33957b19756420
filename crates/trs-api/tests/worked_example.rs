//! docs/signed-requests.md's worked example is a real call: its route is a signed endpoint of
//! the contract, its body the request that endpoint takes, and its digests and canonical
//! string are the ones trs-auth computes for it. A renamed route or field breaks this test
//! instead of leaving the example quietly wrong.

use sha2::{Digest, Sha256};
use trs_api::{Auth, endpoints};

/// The two `text` blocks after the "Worked example" heading: the request and its canonical
/// string.
fn worked_example() -> (String, String) {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/signed-requests.md")).unwrap();
    let example = &doc[doc.find("### Worked example").expect("a worked example")..];
    let mut blocks =
        example.split("```text\n").skip(1).map(|b| b[..b.find("```").expect("a closed block")].to_string());
    (blocks.next().expect("the request"), blocks.next().expect("the canonical string"))
}

/// Whether a concrete path is an instance of a route template (`{name}` segments).
fn instance_of(template: &str, path: &str) -> bool {
    let (t, p): (Vec<_>, Vec<_>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len() && t.iter().zip(&p).all(|(t, p)| t == p || (t.starts_with('{') && !p.is_empty()))
}

#[test]
fn the_worked_example_is_a_real_signed_call_with_the_right_digests() {
    let (request, canonical) = worked_example();
    let (head, body) = request.split_once("\n\n").expect("headers, a blank line, the body");
    let body = body.trim_end_matches('\n');
    let mut lines = head.lines();
    let mut request_line = lines.next().unwrap().split(' ');
    let (method, target) = (request_line.next().unwrap(), request_line.next().unwrap());
    let (path, query) = target.split_once('?').map_or((target, None), |(p, q)| (p, Some(q)));
    let headers: Vec<(&str, &str)> = lines.map(|l| l.split_once(": ").expect("a header")).collect();
    let header = |name: &str| headers.iter().find(|(n, _)| *n == name).unwrap_or_else(|| panic!("no {name}")).1;

    let endpoint = endpoints()
        .into_iter()
        .find(|e| e.method == method && instance_of(e.path, path))
        .unwrap_or_else(|| panic!("{method} {path} is no endpoint of the API"));
    assert!(matches!(endpoint.auth, Auth::Signed), "{} is not a signed call", endpoint.path);
    let Some(trs_api::Body::Json(schema)) = endpoint.request else { panic!("{} takes no JSON body", endpoint.path) };
    let mut schemas = Vec::new();
    schema(&mut schemas);
    assert_eq!(schemas[0].0, "CastVote", "the example's endpoint takes another body");
    let vote: trs_api::votes::CastVote = serde_json::from_str(body).expect("the body is a CastVote");
    assert_eq!(vote.value.as_str(), "+1");

    assert_eq!(hex::encode(Sha256::digest(body.as_bytes())), header("Trs-Content-SHA256"));
    let computed = trs_auth::request::canonical_string(
        header("Trs-Audience"),
        method,
        path,
        query,
        header("Trs-Timestamp").parse().unwrap(),
        header("Trs-Nonce"),
        header("Trs-Content-SHA256"),
    );
    assert_eq!(computed, canonical.trim_end_matches('\n'), "the canonical string shown is not the one computed");
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/signed-requests.md")).unwrap();
    assert!(doc.contains(&format!("The body is the {} bytes", body.len())), "the body's length in the text");
    assert!(doc.contains(&format!("these {} bytes", computed.len())), "the canonical string's length in the text");
    assert!(
        doc.contains(&format!("`{}`", hex::encode(Sha256::digest(computed.as_bytes())))),
        "its SHA-256 in the text"
    );
}

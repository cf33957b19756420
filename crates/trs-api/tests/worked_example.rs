//! docs/signed-requests.md's worked example is a real call: its route is a signed endpoint of
//! the contract and its body the request that endpoint takes. A renamed route or field breaks
//! this test instead of leaving the example quietly wrong. (Its digests and canonical string
//! are held to trs-auth's by crates/trs-auth/tests/auth/gpg.rs.)

use trs_api::{Auth, endpoints};

/// The first `text` block after the "Worked example" heading: the request.
fn worked_example() -> String {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/signed-requests.md")).unwrap();
    let example = &doc[doc.find("### Worked example").expect("a worked example")..];
    let block = example.split("```text\n").nth(1).expect("the request");
    block[..block.find("```").expect("a closed block")].to_string()
}

/// Whether a concrete path is an instance of a route template (`{name}` segments).
fn instance_of(template: &str, path: &str) -> bool {
    let (t, p): (Vec<_>, Vec<_>) = (template.split('/').collect(), path.split('/').collect());
    t.len() == p.len() && t.iter().zip(&p).all(|(t, p)| t == p || (t.starts_with('{') && !p.is_empty()))
}

#[test]
fn the_worked_example_is_a_real_signed_call() {
    let request = worked_example();
    let (head, body) = request.split_once("\n\n").expect("headers, a blank line, the body");
    let body = body.trim_end_matches('\n');
    let mut lines = head.lines();
    let mut request_line = lines.next().unwrap().split(' ');
    let (method, target) = (request_line.next().unwrap(), request_line.next().unwrap());
    let path = target.split_once('?').map_or(target, |(p, _)| p);
    assert!(lines.all(|l| l.contains(": ")), "headers only between the request line and the body");

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
}

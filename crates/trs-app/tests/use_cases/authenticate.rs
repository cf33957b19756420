//! Authentication of signed calls as the service runs it: the cheap checks before any store
//! read, and each registered certificate parsed once (issue 13 items 2 and 3).

use trs_app::authenticate::{SignedRequest, authenticate};
use trs_app::test_support::{Actor, signed_headers, world};

fn headers(actor: &Actor, path: &str, body: &[u8]) -> trs_auth::SignedHeaders {
    let pairs = signed_headers(actor, "POST", path, body);
    trs_auth::SignedHeaders::from_header_lookup(|name| {
        pairs.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone())
    })
    .unwrap()
}

fn request<'a>(path: &'a str, body: &'a [u8]) -> SignedRequest<'a> {
    SignedRequest { method: "POST", path, query: None, body }
}

#[tokio::test]
async fn the_registered_certificate_is_parsed_once_for_many_calls() {
    let w = world().await;
    let before = w.app.certs.parses();
    for i in 0..5 {
        let body = format!("{{\"n\":{i}}}");
        let h = headers(&w.rm, "/api/v1/x", body.as_bytes());
        authenticate(&w.app, &h, request("/api/v1/x", body.as_bytes())).await.unwrap();
    }
    assert_eq!(w.app.certs.parses() - before, 1, "one parse for five calls by one key");
}

#[tokio::test]
async fn a_stale_or_misdirected_call_is_refused_before_the_key_is_looked_up_or_parsed() {
    let w = world().await;
    let before = w.app.certs.parses();
    let h = headers(&w.rm, "/api/v1/x", b"");
    // Moved past the window: refused on the timestamp alone.
    w.clock.advance(301);
    let err = authenticate(&w.app, &h, request("/api/v1/x", b"")).await.unwrap_err();
    assert_eq!(err.code(), "timestamp-out-of-window");
    // Signed for another deployment.
    let mut other = w.app.clone();
    other.audience = Some("https://production.trs.example.org".parse().unwrap());
    let err = authenticate(&other, &h, request("/api/v1/x", b"")).await.unwrap_err();
    assert_eq!(err.code(), "wrong-audience");
    assert!(err.to_string().contains("https://production.trs.example.org"), "{err}");
    assert_eq!(w.app.certs.parses(), before, "no certificate was parsed for either");
    // A host without an audience accepts nothing.
    other.audience = None;
    let err = authenticate(&other, &h, request("/api/v1/x", b"")).await.unwrap_err();
    assert_eq!(err.status(), 500);
}

//! Every error is the API's JSON error document (`{"error": {"code", "message"}}`): requests
//! no route of `trs serve` takes, and, with `--json`, the CLI's errors on stderr. The public
//! site's missing pages stay pages.

use serde_json::Value;
use trs_tests::*;

fn send(t: &Team, method: reqwest::Method, path: &str, accept: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let resp = reqwest::blocking::Client::new()
        .request(method, format!("{}{path}", t.server.url))
        .header("accept", accept)
        .send()
        .unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.text().unwrap())
}

fn error_code(text: &str) -> String {
    let body: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    body["error"]["code"].as_str().unwrap_or_else(|| panic!("no error code: {body}")).to_string()
}

#[test]
fn requests_no_route_takes_get_the_json_error_document_and_missing_pages_a_page() {
    let t = Team::new();
    // An unknown API path is never the site's page, even for a browser.
    for accept in ["text/html", "application/json"] {
        let (status, headers, text) = send(&t, reqwest::Method::GET, "/api/v1/no-such-thing", accept);
        assert_eq!(status, 404, "{text}");
        assert_eq!(headers["content-type"], "application/json", "{text}");
        assert_eq!(error_code(&text), "not-found");
    }
    // A known path with a method it does not take: 405 with what it takes.
    let (status, headers, text) = send(&t, reqwest::Method::DELETE, "/api/v1/health", "application/json");
    assert_eq!(status, 405, "{text}");
    assert_eq!(headers["allow"], "GET,HEAD");
    assert_eq!(headers["content-type"], "application/json", "{text}");
    assert_eq!(error_code(&text), "method-not-allowed");
    let (status, _, text) = send(&t, reqwest::Method::PUT, "/api/v1/projects", "application/json");
    assert_eq!((status, error_code(&text)), (405, "method-not-allowed".to_string()), "{text}");
    // A page the site does not have is the site's 404 page.
    let (status, headers, text) = send(&t, reqwest::Method::GET, "/no-such-page/", "text/html");
    assert_eq!(status, 404, "{text}");
    assert!(headers["content-type"].to_str().unwrap().starts_with("text/html"), "{headers:?}");
}

#[test]
fn with_json_the_cli_prints_its_errors_as_the_json_error_document() {
    let t = Team::new();
    // Refused by the server: the server's code and status.
    let out = t.as_rm(&["project", "create", "bar", "--members", "ada", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err: Value = serde_json::from_str(stderr(&out).trim()).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
    assert_eq!(err["error"]["code"], "forbidden-role", "{err}");
    assert_eq!(err["error"]["status"], 403, "{err}");
    assert!(err["error"]["message"].as_str().unwrap().contains("rita"), "{err}");
    // Without --json, the same refusal is one line for people, with the same code.
    let out = t.as_rm(&["project", "create", "bar", "--members", "ada"]);
    assert!(stderr(&out).starts_with("trs: forbidden-role: "), "{}", stderr(&out));
    // A local error (bad usage) has a code too, and its exit status.
    let folder = t.work.path().to_str().unwrap();
    let out = t.as_rm(&["upload", "foo", "1.0.0", folder, "--json"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err: Value = serde_json::from_str(stderr(&out).trim()).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
    assert_eq!(err["error"]["code"], "usage", "{err}");
    assert!(err["error"]["message"].as_str().unwrap().contains("not a regular file"), "{err}");
    assert!(err["error"].get("status").is_none(), "no HTTP status for a local error: {err}");
    // A command line clap cannot parse: the same document and exit status, not clap's text.
    let out = t.as_rm(&["releases", "--no-such-flag", "--json"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err: Value = serde_json::from_str(stderr(&out).trim()).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
    assert_eq!(err["error"]["code"], "usage", "{err}");
    assert!(err["error"]["message"].as_str().unwrap().contains("--no-such-flag"), "{err}");
    // Without --json, clap's own message for people.
    let out = t.as_rm(&["releases", "--no-such-flag"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).starts_with("error: unexpected argument '--no-such-flag'"), "{}", stderr(&out));
}

/// A request axum's extractors refuse is the JSON error document with its own code, never
/// axum's `text/plain` answer: a path segment that is not UTF-8 once decoded (every API
/// operation with a path variable, from the served OpenAPI document), a malformed query, a
/// body that is not the JSON the call takes (whatever its content type says: the server reads
/// every body as JSON) and a body over the API's limit. (Unknown routes and methods: the test
/// above.)
#[test]
fn requests_the_extractors_refuse_get_the_json_error_document_with_their_code() {
    let t = Team::new();
    let base = t.server.url.as_str();
    let expect = |what: &str, resp: reqwest::blocking::Response, status: u16, code: &str| {
        let (got, headers) = (resp.status().as_u16(), resp.headers().clone());
        let text = resp.text().unwrap();
        assert_eq!(got, status, "{what}: {text}");
        assert_eq!(headers["content-type"], "application/json", "{what}: {text}");
        assert_eq!(error_code(&text), code, "{what}: {text}");
    };
    let client = reqwest::blocking::Client::new();

    // Every variable of every path in the document (the API's and the public downloads'), in
    // turn, as a segment that is not UTF-8.
    let document = get(base, "/api/v1/openapi.json").body;
    let mut probed = 0;
    for (path, operations) in document["paths"].as_object().unwrap() {
        let segments: Vec<&str> = path.split('/').collect();
        for (i, _) in segments.iter().enumerate().filter(|(_, s)| s.starts_with('{')) {
            let uri: Vec<&str> = segments
                .iter()
                .enumerate()
                .map(|(j, s)| match (j == i, s.starts_with('{')) {
                    (true, _) => "%FF",
                    (false, true) => "x",
                    (false, false) => s,
                })
                .collect();
            let uri = uri.join("/");
            let methods =
                operations.as_object().unwrap().keys().filter(|m| ["get", "post", "delete"].contains(&m.as_str()));
            for method in methods {
                let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                let resp = client.request(method.clone(), format!("{base}{uri}")).send().unwrap();
                expect(&format!("{method} {uri}"), resp, 400, "invalid-path");
                probed += 1;
            }
        }
    }
    assert!(probed > 50, "only {probed} path variables probed");

    // A query the operation cannot read.
    let resp = client.get(format!("{base}/api/v1/releases?limit=many")).send().unwrap();
    expect("a limit that is no number", resp, 400, "invalid-query");

    // Bodies of a signed call by the release manager, signed on the test clock.
    let rm = t.signer(&t.rm);
    let signed = |content_type: &str, body: Vec<u8>| {
        let path = "/api/v1/projects/foo/policy";
        let headers =
            trs_auth::sign_request(&rm, &audience(base), "POST", path, None, &body, t.server.clock.now()).unwrap();
        let mut req = client.post(format!("{base}{path}")).header("content-type", content_type);
        for (name, value) in headers.to_pairs() {
            req = req.header(name, value);
        }
        req.body(body).send().unwrap()
    };
    let resp = signed("application/json", br#"{"min_binding": "#.to_vec());
    expect("JSON cut short", resp, 400, "malformed-request");
    let resp = signed("application/json", br#"{"min_binding": "two"}"#.to_vec());
    expect("a field of the wrong type", resp, 400, "malformed-request");
    let resp = signed("application/x-www-form-urlencoded", b"min_binding=2".to_vec());
    expect("a form, not JSON", resp, 400, "malformed-request");
    let resp = signed("application/json", vec![b' '; (1 << 20) + 1]);
    expect("a body over 1 MiB", resp, 413, "too-large");
}

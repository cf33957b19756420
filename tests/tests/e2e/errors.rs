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

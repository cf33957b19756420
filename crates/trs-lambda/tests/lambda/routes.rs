//! infra/template.json routes every HTTP API route of every function to that function, and
//! nothing else: the template cannot drift from the code.
//!
//! The routes are derived from the functions' routers, not listed here: the paths from each
//! router's `Debug` output (axum prints the paths it was given), the methods by sending a
//! request for every path and method through the router, as the Lambda adapter does, and
//! telling the router's "no route" and "method not allowed" answers (marked
//! `trs_http::Unrouted`) from the handlers' answers. A handler's own 404 (an unknown release) still counts as
//! answered. The template's route keys use the same `{name}` syntax as axum, so both sides
//! compare as text.

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use tower::ServiceExt;
use trs_app::App;

/// Methods probed on every path (OPTIONS follows CORS; trs routes none).
const METHODS: [Method; 5] = [Method::GET, Method::POST, Method::PUT, Method::DELETE, Method::PATCH];

/// Download paths are also probed with HEAD (axum answers it on every GET route): mirrors and
/// scripts check a file, `latest` or a moved path with HEAD, and an HTTP API route key names
/// one method, so the template routes HEAD to these paths explicitly. The API's own paths are
/// not asked with HEAD, and are not routed for it.
fn probed(path: &str) -> Vec<Method> {
    let mut methods = METHODS.to_vec();
    if !path.starts_with("/api/") {
        methods.push(Method::HEAD);
    }
    methods
}

fn functions() -> Vec<(&'static str, Router<App>)> {
    vec![
        ("Admin", trs_function_admin::routes()),
        ("Upload", trs_function_upload::routes()),
        ("Verify", trs_function_verify::routes()),
        ("Promote", trs_function_promote::routes()),
        // Distribution runs in the promote function: it holds the registry secret.
        ("Promote", trs_function_distribute::routes()),
        ("Vote", trs_function_vote::routes()),
        ("Lifecycle", trs_function_lifecycle::routes()),
        ("Stream", trs_function_stream::routes()),
        ("Stream", trs_function_stream::download_view_routes()),
    ]
}

/// A route key as API Gateway writes it: `METHOD /path/{var}`.
type RouteKey = String;

fn template() -> serde_json::Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../infra/template.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The template's HTTP API routes: route key → the function whose integration it targets.
fn template_routes() -> BTreeMap<RouteKey, String> {
    let template = template();
    let mut routes = BTreeMap::new();
    for (name, resource) in template["Resources"].as_object().unwrap() {
        if resource["Type"] != "AWS::ApiGatewayV2::Route" {
            continue;
        }
        let key = resource["Properties"]["RouteKey"].as_str().unwrap().to_string();
        let target = resource["Properties"]["Target"]["Fn::Sub"].as_str().unwrap_or_default();
        let function = target
            .strip_prefix("integrations/${")
            .and_then(|t| t.strip_suffix("Integration}"))
            .unwrap_or_else(|| panic!("{name}: target {target:?} is not a function's integration"));
        // ANY, and greedy variables anywhere but at the end, would route paths no function
        // serves to a function. A greedy last segment (`{file+}`) is axum's `{*file}`.
        assert!(!key.starts_with("ANY "), "{name}: {key} is not one explicit route");
        let key = match key.rsplit_once("/{") {
            Some((head, last)) if last.ends_with("+}") => format!("{head}/{{*{}", last.replace("+}", "}")),
            _ => key,
        };
        assert!(!key.contains("+}"), "{name}: {key} has a greedy variable before its end");
        let integration = &template["Resources"][format!("{function}Integration")];
        assert_eq!(
            integration["Properties"]["IntegrationUri"]["Fn::GetAtt"][0],
            format!("{function}Function"),
            "{name}: {function}Integration invokes {function}Function"
        );
        assert!(routes.insert(key.clone(), function.to_string()).is_none(), "{key} is routed twice");
    }
    routes
}

/// The paths `router` was given, from its `Debug` output (quoted strings starting `/api/`, or
/// the download paths' `/current/`, `/archive/` and `/candidate/`).
fn router_paths(router: &Router) -> BTreeSet<String> {
    let debug = format!("{router:?}");
    let routed =
        |s: &&str| ["/api/", "/current/", "/archive/", "/candidate/"].iter().any(|prefix| s.starts_with(prefix));
    debug.split('"').skip(1).step_by(2).filter(routed).map(str::to_string).collect()
}

/// `path` with a plausible value for each `{variable}`.
fn sample(path: &str) -> String {
    path.split('/')
        .map(|segment| match segment {
            "{project}" => "foo",
            "{version}" => "1.0.0",
            "{id}" => "0123456789abcdef0123456789abcdef",
            "{line}" => "1",
            "{state}" => "lts",
            "{product}" => "core",
            "{uid}" => "ada",
            "{kind}" => "vote",
            "{fingerprint}" => "0123456789ABCDEF0123456789ABCDEF01234567",
            "{*file}" => "foo-1.0.0.tar.gz",
            "{*path}" => "foo/1.0.0/foo-1.0.0.tar.gz",
            s if s.starts_with('{') => panic!("no sample value for {s} in {path}: add one"),
            s => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Every route key the function's router (with the health check every function serves)
/// answers.
async fn answered(app: &App, routes: Router<App>) -> BTreeSet<RouteKey> {
    let router = trs_lambda::events::api_router(app.clone(), routes);
    let paths = router_paths(&router);
    assert!(paths.len() > 1, "no paths found in the router's Debug output (did axum change it?): {paths:?}");
    let mut keys = BTreeSet::new();
    for path in &paths {
        for method in probed(path) {
            let request = Request::builder().method(method.clone()).uri(sample(path)).body(Body::empty()).unwrap();
            let response = router.clone().oneshot(request).await.unwrap();
            if response.extensions().get::<trs_http::Unrouted>().is_none() {
                keys.insert(format!("{method} {path}"));
            }
        }
        assert!(keys.iter().any(|k| k.ends_with(&format!(" {path}"))), "no method of {path} answers");
    }
    keys
}

#[tokio::test]
async fn the_template_routes_exactly_the_functions_routes_to_their_functions() {
    let dir = tempfile::tempdir().unwrap();
    let (items, blobs) = trs_storage::embedded::open_data_dir(dir.path(), "http://127.0.0.1:1".into()).unwrap();
    let app = App::new(Arc::new(items), Arc::new(blobs));
    let template = template_routes();

    let mut served: BTreeMap<RouteKey, BTreeSet<&str>> = BTreeMap::new();
    for (function, routes) in functions() {
        for key in answered(&app, routes).await {
            served.entry(key).or_default().insert(function);
        }
    }
    let all: BTreeSet<&str> = functions().iter().map(|(f, _)| *f).collect();
    let mut problems = Vec::new();
    for (key, functions) in &served {
        match template.get(key) {
            None => problems.push(format!("{key} (served by {functions:?}) is not routed by the template")),
            // A route every function serves (the health check) may go to any of them.
            Some(target) if functions.contains(target.as_str()) && (functions.len() == 1 || *functions == all) => {}
            Some(target) => problems.push(format!("{key} is routed to {target}, served by {functions:?}")),
        }
    }
    for (key, target) in &template {
        if !served.contains_key(key) {
            problems.push(format!("the template routes {key} to {target}, which serves no such route"));
        }
    }
    assert!(problems.is_empty(), "template and code disagree:\n{}", problems.join("\n"));
    assert!(served.len() > 30, "suspiciously few routes found: {served:?}");
}

/// The OpenAPI document (`trs_api::document`, served at /api/v1/openapi.json) describes
/// exactly the routes the functions answer: a route added to a router without its endpoint in
/// trs-api, or an endpoint no router answers, fails here.
#[tokio::test]
async fn the_openapi_document_describes_exactly_the_routes_the_functions_answer() {
    let dir = tempfile::tempdir().unwrap();
    let (items, blobs) = trs_storage::embedded::open_data_dir(dir.path(), "http://127.0.0.1:1".into()).unwrap();
    let app = App::new(Arc::new(items), Arc::new(blobs));
    let mut served = BTreeSet::new();
    for (_, routes) in functions() {
        // OpenAPI writes a rest-of-path variable `{*file}` as `{file}`; HEAD, answered with
        // GET's headers, is implied by GET there.
        served.extend(
            answered(&app, routes)
                .await
                .into_iter()
                .filter(|key| !key.starts_with("HEAD "))
                .map(|key| key.replace("{*", "{")),
        );
    }
    let document = serde_json::to_value(trs_api::document()).unwrap();
    let mut documented = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys().filter(|k| !matches!(k.as_str(), "parameters" | "summary")) {
            documented.insert(format!("{} {path}", method.to_uppercase()));
        }
    }
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty() && unserved.is_empty(),
        "answered but not in the OpenAPI document (add them to trs_api::endpoints): {undocumented:?}\n\
         in the document but answered by no function: {unserved:?}"
    );
    assert!(served.contains("GET /api/v1/openapi.json"), "{served:?}");
}

/// Every function answers a request no route takes with the JSON error document all errors
/// have: an unknown path 404 `not-found`, a known path's other method 405 `method-not-allowed`
/// with `Allow`.
#[tokio::test]
async fn requests_no_route_takes_get_the_json_error_document() {
    let dir = tempfile::tempdir().unwrap();
    let (items, blobs) = trs_storage::embedded::open_data_dir(dir.path(), "http://127.0.0.1:1".into()).unwrap();
    let app = App::new(Arc::new(items), Arc::new(blobs));
    for (function, routes) in functions() {
        let router = trs_lambda::events::api_router(app.clone(), routes);
        for (method, path, status, code) in [
            (Method::GET, "/api/v1/no-such-thing", StatusCode::NOT_FOUND, "not-found"),
            (Method::POST, "/elsewhere", StatusCode::NOT_FOUND, "not-found"),
            (Method::DELETE, "/api/v1/health", StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed"),
        ] {
            let request = Request::builder().method(method.clone()).uri(path).body(Body::empty()).unwrap();
            let response = router.clone().oneshot(request).await.unwrap();
            let what = format!("{function}: {method} {path}");
            assert_eq!(response.status(), status, "{what}");
            assert_eq!(response.headers()["content-type"], "application/json", "{what}");
            if status == StatusCode::METHOD_NOT_ALLOWED {
                assert_eq!(response.headers()["allow"], "GET,HEAD", "{what}");
            }
            let body = axum::body::to_bytes(response.into_body(), 1 << 16).await.unwrap();
            let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(body["error"]["code"], code, "{what}: {body}");
            assert!(body["error"]["message"].as_str().unwrap().contains(path), "{what}: {body}");
        }
    }
}

#[test]
fn every_template_integration_belongs_to_a_function_with_routes() {
    let template = template_routes();
    let targets: BTreeSet<&str> = template.values().map(String::as_str).collect();
    let built: BTreeSet<&str> = functions().iter().map(|(f, _)| *f).collect();
    assert_eq!(targets, built, "every function with HTTP routes has routes in the template, and only those");
}

/// CloudFront's path patterns: `*` any run of characters (`/` included), `?` one character.
fn pattern_matches(pattern: &[u8], path: &[u8]) -> bool {
    match (pattern.first(), path.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            pattern_matches(&pattern[1..], path) || (!path.is_empty() && pattern_matches(pattern, &path[1..]))
        }
        (Some(b'?'), Some(_)) => pattern_matches(&pattern[1..], &path[1..]),
        (Some(p), Some(c)) if p == c => pattern_matches(&pattern[1..], &path[1..]),
        _ => false,
    }
}

/// The origin CloudFront sends `path` to: the first cache behaviour whose pattern matches, or
/// the default behaviour's.
fn cloudfront_origin(template: &serde_json::Value, path: &str) -> String {
    let config = &template["Resources"]["Distribution"]["Properties"]["DistributionConfig"];
    let behaviour = config["CacheBehaviors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| pattern_matches(b["PathPattern"].as_str().unwrap().as_bytes(), path.as_bytes()))
        .unwrap_or(&config["DefaultCacheBehavior"]);
    behaviour["TargetOriginId"].as_str().unwrap().to_string()
}

/// The origins CloudFront may send a request for `origin` to: itself, or an origin group's
/// members in order (the first, then the next on one of the group's failover statuses).
fn members(template: &serde_json::Value, origin: &str) -> Vec<String> {
    let config = &template["Resources"]["Distribution"]["Properties"]["DistributionConfig"];
    let groups = config["OriginGroups"]["Items"].as_array().cloned().unwrap_or_default();
    match groups.iter().find(|g| g["Id"] == origin) {
        Some(group) => group["Members"]["Items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["OriginId"].as_str().unwrap().to_string())
            .collect(),
        None => vec![origin.to_string()],
    }
}

/// Every API route is reachable through CloudFront (its pattern's origin is the API, or a
/// group that falls back to it: the released paths the bucket lacks), and each kind of path
/// goes where it is served.
#[test]
fn cloudfront_sends_every_api_route_to_the_api_and_release_files_to_the_bucket() {
    let template = template();
    for key in template_routes().keys() {
        let path = sample(key.split_once(' ').unwrap().1);
        let origins = members(&template, &cloudfront_origin(&template, &path));
        assert_eq!(origins.last().map(String::as_str), Some("api"), "{key} ({path}): {origins:?}");
    }
    for (path, origin) in [
        ("/current/foo/latest/foo-1.0.0.tar.gz", "api"),
        ("/current/foo/core/latest/docs/foo.pdf", "api"),
        ("/candidate/foo/1.0.0/foo-1.0.0.tar.gz", "api"),
        ("/current/foo/1.0.0/foo-1.0.0.tar.gz", "release-files-else-api"),
        ("/current/foo/core/1.0.0/foo-core-1.0.0.tar.gz", "release-files-else-api"),
        ("/archive/foo/0.9.0/foo-0.9.0.tar.gz", "release-files-else-api"),
        ("/projects/foo/index.html", "site"),
        ("/index.html", "site"),
    ] {
        assert_eq!(cloudfront_origin(&template, path), origin, "{path}");
    }
}

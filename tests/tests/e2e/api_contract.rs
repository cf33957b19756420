//! The API contract on the wire: a release's whole flow by raw HTTP calls (people, keys,
//! projects and their settings, upload, verification, vote, promotion, the stream's views,
//! the lifecycle, a discarded draft, an import, distributions, tasks and refusals), each answer held against
//! the OpenAPI document `trs serve` serves, which is docs/openapi.json. An answer whose status
//! the document does not list for its operation, or whose body does not match that response's
//! schema (the schema of the media type its `Content-Type` names, where the operation declares
//! a page and JSON), fails the test; so does a request the server took that does not match the
//! request body the document declares. Every operation of the document is called, but those
//! `NOT_CALLED` names with the reason: an operation added to the document without a call here
//! fails the test. Every finished task's result is held against its kind's schema (a failed
//! task's against the refusal's), and the flow finishes a task of each kind it can run.

use serde_json::{Value, json};
use std::cell::RefCell;
use std::collections::BTreeSet;
use trs_tests::contract::Contract;
use trs_tests::github_server::GitHubServer;
use trs_tests::*;

const RELEASE: &str = "/api/v1/projects/{project}/releases/{version}";

/// The operations of the document no call of the flow holds an answer of, and why.
const NOT_CALLED: &[(&str, &str)] = &[(
    "GET /candidate/{path}",
    "trs serve streams a candidate's file itself (200); the documented 302 is the stream function's on AWS",
)];

struct Caller<'t> {
    base: &'t str,
    contract: &'t Contract,
    /// Every operation (`METHOD /path/{var}`) an answer was checked against.
    called: RefCell<BTreeSet<String>>,
    /// The schemas of the task results checked (by [`result_schema`]).
    results: RefCell<BTreeSet<&'static str>>,
}

impl Caller<'_> {
    /// `METHOD path` (filled from `template`), signed by `signer` unless `None`, checked.
    fn call(
        &self,
        signer: Option<&dyn trs_auth::RequestSigner>,
        method: &str,
        template: &str,
        path: &str,
        body: Value,
    ) -> Api {
        let answer = match signer {
            Some(signer) => signed_call(self.base, signer, method, path, &body),
            None => get(self.base, path),
        };
        self.contract.check(method, template, &answer);
        self.called.borrow_mut().insert(format!("{method} {template}"));
        if (200..300).contains(&answer.status)
            && let Some(problems) = self.contract.request_problems(method, template, &body)
        {
            panic!("the server took a request the document does not declare: {problems}");
        }
        answer
    }

    /// An unsigned `GET path` (filled from `template`) with this `Accept` header, checked.
    fn get_accepting(&self, template: &str, path: &str, accept: &str) -> Api {
        let answer = get_accepting(self.base, path, accept);
        self.contract.check("GET", template, &answer);
        self.called.borrow_mut().insert(format!("GET {template}"));
        answer
    }

    /// A folder's listing at `path` (filled from `template`) both ways, each checked: the HTML
    /// index a browser gets, and the JSON a script asking for it gets; returns the JSON.
    fn listing(&self, template: &str, path: &str) -> Value {
        let page = self.get_accepting(template, path, "text/html,application/xhtml+xml,*/*;q=0.8");
        assert_eq!(page.status, 200, "{}", page.text);
        assert!(page.content_type.starts_with("text/html"), "{path} as a page: {}", page.content_type);
        assert!(page.text.contains(&format!("<h1>Index of {path}</h1>")), "{}", page.text);
        let listing = self.get_accepting(template, path, "application/json");
        assert_eq!(listing.status, 200, "{}", listing.text);
        assert_eq!(listing.content_type, "application/json", "{path} as JSON");
        assert_eq!(listing.body["path"], path, "{}", listing.text);
        listing.body
    }

    /// A draft of foo `version` by `rm`: its files declared, sent and committed; returns the
    /// done commit task.
    fn draft(&self, team: &Team, rm: &dyn trs_auth::RequestSigner, version: &str) -> Value {
        let files = release_files(team, version);
        let declared: Vec<Value> = files.iter().map(|(n, b)| json!({"path": n, "size": b.len()})).collect();
        let path = format!("/api/v1/projects/foo/releases/{version}/uploads");
        let started = self.call(Some(rm), "POST", &format!("{RELEASE}/uploads"), &path, json!({"files": declared}));
        assert_eq!(started.status, 201, "{}", started.text);
        for (file, (_, bytes)) in started.body["files"].as_array().unwrap().iter().zip(&files) {
            assert_eq!(put_bytes(file["upload"]["url"].as_str().unwrap(), bytes.clone()).status / 100, 2);
        }
        let id = started.body["id"].as_str().unwrap();
        self.call(Some(rm), "POST", "/api/v1/uploads/{id}/commit", &format!("/api/v1/uploads/{id}/commit"), json!({}));
        self.finished_task(id)
    }

    /// Waits for task `id` to finish (each answer checked); returns it, done.
    fn finished_task(&self, id: &str) -> Value {
        let t = self.finished(id);
        assert_eq!(t["state"], "done", "task {id}: {t}");
        t
    }

    /// Waits for task `id` to be done or failed (each answer checked, its result against the
    /// schema of its kind's, or of a refusal); returns it.
    fn finished(&self, id: &str) -> Value {
        let t = poll_until(format!("task {id}"), || {
            let t = self.call(None, "GET", "/api/v1/tasks/{id}", &format!("/api/v1/tasks/{id}?wait=5"), Value::Null);
            match t.body["state"].as_str() {
                Some("done" | "failed") => Ok(t.body),
                other => Err(format!("{other:?}")),
            }
        });
        let schema = result_schema(&t);
        assert!(t["result"].is_object(), "task {id} has a result: {t}");
        if let Some(p) = self.contract.component_problems(schema, &t["result"]) {
            panic!("task {id}'s result is not a {schema}: {p}");
        }
        self.results.borrow_mut().insert(schema);
        t
    }
}

/// The schema of a finished task's result: a refusal when it failed, else its kind's.
fn result_schema(task: &Value) -> &'static str {
    match (task["state"].as_str(), task["kind"].as_str()) {
        (Some("failed"), _) => "TaskFailure",
        (_, Some("commit")) => "CommittedUpload",
        (_, Some("import")) => "ImportedRelease",
        (_, Some("verify")) => "VerificationCounts",
        (_, Some("promote")) => "PromotionResult",
        (_, Some("distribute")) => "DistributionResult",
        (_, Some("send-mail")) => "MailTaskResult",
        (_, Some("poll-mail")) => "PollRoundResult",
        other => panic!("a task of no known kind: {other:?}: {task}"),
    }
}

const GITHUB_TOKEN: &str = "ghp_contractT0kenNeverShown012345678";

/// A signed source release of foo `version`: each file's name and bytes.
fn release_files(team: &Team, version: &str) -> Vec<(String, Vec<u8>)> {
    let name = format!("apache-foo-{version}");
    let tarball = source_tarball(team.work.path(), &format!("{name}-src.tar.gz"), &name);
    team.signed_set(&tarball)
        .iter()
        .map(|p| {
            let p = std::path::Path::new(p);
            (p.file_name().unwrap().to_str().unwrap().to_string(), std::fs::read(p).unwrap())
        })
        .collect()
}

#[test]
fn every_answer_of_a_release_flow_matches_the_served_openapi_document() {
    // Distributions go to the GitHub Releases test server: one that succeeds, one that fails.
    let github = GitHubServer::start(GITHUB_TOKEN);
    github.add_repo("apache", "foo");
    let env = [("TRS_GITHUB_URL", github.url.clone()), ("TRS_GITHUB_TOKEN", GITHUB_TOKEN.to_string())];
    let team = Team::with_server_env("ed25519", &env);
    let base = team.server.url.as_str();
    let contract = Contract::served_by(base);
    let committed: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(contract.document(), &committed, "the served document is docs/openapi.json");
    let api = Caller { base, contract: &contract, called: RefCell::default(), results: RefCell::default() };
    let admin = team.signer(&team.admin);
    let rm = team.signer(&team.rm);
    let (admin, rm): (&dyn trs_auth::RequestSigner, &dyn trs_auth::RequestSigner) = (&admin, &rm);

    // The service.
    let health = api.call(None, "GET", "/api/v1/health", "/api/v1/health", Value::Null);
    assert_eq!((health.status, health.text.as_str()), (200, "ok\n"));
    api.call(None, "GET", "/api/v1/openapi.json", "/api/v1/openapi.json", Value::Null);

    // People and keys.
    api.call(None, "GET", "/api/v1/people", "/api/v1/people", Value::Null);
    api.call(None, "GET", "/api/v1/people/{uid}", "/api/v1/people/rita", Value::Null);
    let carl = team.gpg.gen_key("Carl Committer <carl@example.org>", "ed25519");
    let cert = team.path("carl.asc");
    team.gpg.export_public(&carl, &cert);
    let cert = std::fs::read_to_string(&cert).unwrap();
    let added =
        api.call(Some(admin), "POST", "/api/v1/people", "/api/v1/people", json!({"uid": "carl", "certificate": cert}));
    assert_eq!(added.status, 201, "{}", added.text);
    // Another user id: gen_key answers the first key listed under the one it is given.
    let second = team.gpg.gen_key("Carl Committer (laptop) <carl@example.org>", "ed25519");
    assert_ne!(second, carl);
    let cert2 = team.path("carl2.asc");
    team.gpg.export_public(&second, &cert2);
    let cert2 = std::fs::read_to_string(&cert2).unwrap();
    let key =
        api.call(Some(admin), "POST", "/api/v1/keys", "/api/v1/keys", json!({"uid": "carl", "certificate": cert2}));
    assert_eq!(key.status, 201, "{}", key.text);
    let removed =
        api.call(Some(admin), "DELETE", "/api/v1/keys/{fingerprint}", &format!("/api/v1/keys/{second}"), Value::Null);
    assert_eq!(removed.status, 200, "{}", removed.text);
    let granted = api.call(Some(admin), "POST", "/api/v1/people/{uid}/admin", "/api/v1/people/carl/admin", Value::Null);
    assert_eq!(granted.status, 200, "{}", granted.text);
    api.call(Some(admin), "DELETE", "/api/v1/people/{uid}/admin", "/api/v1/people/carl/admin", Value::Null);
    let edited =
        api.call(Some(admin), "POST", "/api/v1/people/{uid}", "/api/v1/people/carl", json!({"name": "Carl C."}));
    assert_eq!(edited.status, 200, "{}", edited.text);

    // Projects.
    let created = api.call(
        Some(admin),
        "POST",
        "/api/v1/projects",
        "/api/v1/projects",
        json!({"name": "bar", "members": ["ada"]}),
    );
    assert_eq!(created.status, 201, "{}", created.text);
    api.call(None, "GET", "/api/v1/projects", "/api/v1/projects", Value::Null);
    api.call(None, "GET", "/api/v1/projects/{project}", "/api/v1/projects/foo", Value::Null);
    let policy = json!({"min_vote_hours": 0, "min_binding": 1});
    let set = api.call(Some(rm), "POST", "/api/v1/projects/{project}/policy", "/api/v1/projects/foo/policy", policy);
    assert_eq!(set.status, 200, "{}", set.text);
    api.call(None, "GET", "/api/v1/projects/{project}/policy", "/api/v1/projects/foo/policy", Value::Null);
    // The project's settings: metadata, roster, a product (with its own policy), mail lists and
    // the distributions a promotion runs (off here: the policy's auto_distribute is not set).
    let project = "/api/v1/projects/{project}";
    let meta = json!({"display_name": "Apache Foo", "homepage": "https://foo.example.org"});
    assert_eq!(api.call(Some(rm), "POST", project, "/api/v1/projects/foo", meta).status, 200);
    let members = json!({"role": "committer", "add": ["carl"]});
    let added = api.call(Some(admin), "POST", &format!("{project}/members"), "/api/v1/projects/foo/members", members);
    assert_eq!(added.status, 200, "{}", added.text);
    let product = json!({"name": "cli", "description": "The command line"});
    let declared =
        api.call(Some(admin), "POST", &format!("{project}/products"), "/api/v1/projects/foo/products", product);
    assert_eq!(declared.status, 201, "{}", declared.text);
    let cli_policy = json!({"product": "cli", "strict": false, "denied_licences": ["strong-copyleft"]});
    let set = api.call(Some(rm), "POST", &format!("{project}/policy"), "/api/v1/projects/foo/policy", cli_policy);
    assert_eq!((set.status, &set.body["product_override"]["strict"]), (200, &json!(false)), "{}", set.text);
    api.call(None, "GET", &format!("{project}/policy"), "/api/v1/projects/foo/policy?product=cli", Value::Null);
    let lists = json!({"vote_to": ["dev@foo.example.org"], "announce_to": ["announce@foo.example.org"]});
    let mail = api.call(Some(rm), "POST", &format!("{project}/mail"), "/api/v1/projects/foo/mail", lists);
    assert_eq!(mail.status, 200, "{}", mail.text);
    api.call(None, "GET", &format!("{project}/mail"), "/api/v1/projects/foo/mail?product=cli", Value::Null);
    let auto = json!({"distributions": [{"platform": "pypi", "package": "apache-foo"}]});
    let distributions = format!("{project}/distributions");
    let set = api.call(Some(rm), "POST", &distributions, "/api/v1/projects/foo/distributions", auto);
    assert_eq!(set.status, 200, "{}", set.text);
    api.call(None, "GET", &distributions, "/api/v1/projects/foo/distributions", Value::Null);
    let shown = api.call(None, "GET", project, "/api/v1/projects/foo", Value::Null);
    assert_eq!(shown.body["product_policies"]["cli"]["strict"], false, "{}", shown.text);

    // Upload: declare, send the bytes, commit (a task), verification (a task).
    let files = release_files(&team, "1.0.0");
    let declared: Vec<Value> = files.iter().map(|(n, b)| json!({"path": n, "size": b.len()})).collect();
    let uploads = format!("{RELEASE}/uploads");
    let started =
        api.call(Some(rm), "POST", &uploads, "/api/v1/projects/foo/releases/1.0.0/uploads", json!({"files": declared}));
    assert_eq!(started.status, 201, "{}", started.text);
    for (file, (_, bytes)) in started.body["files"].as_array().unwrap().iter().zip(&files) {
        assert_eq!(put_bytes(file["upload"]["url"].as_str().unwrap(), bytes.clone()).status / 100, 2);
    }
    let id = started.body["id"].as_str().unwrap();
    // Resumed once every file arrived: the same upload, no URL left to send to.
    let resume = "/api/v1/uploads/{id}/resume";
    let resumed = api.call(Some(rm), "POST", resume, &format!("/api/v1/uploads/{id}/resume"), json!({}));
    assert_eq!(resumed.status, 200, "{}", resumed.text);
    assert_eq!(resumed.body["id"], started.body["id"]);
    for file in resumed.body["files"].as_array().unwrap() {
        assert!(file.get("upload").is_none() && file.get("parts").is_none(), "arrived whole: {file}");
    }
    // The commit's body names the ETags of files sent in parts; none were here.
    let commit =
        api.call(Some(rm), "POST", "/api/v1/uploads/{id}/commit", &format!("/api/v1/uploads/{id}/commit"), json!({}));
    assert_eq!(commit.status, 202, "{}", commit.text);
    let committed = api.finished_task(id);
    let late = api.call(Some(rm), "POST", resume, &format!("/api/v1/uploads/{id}/resume"), json!({}));
    late.assert_error(409, "upload-committed");
    if let Some(p) = contract.component_problems("CommittedUpload", &committed["result"]) {
        panic!("a commit task's result breaks the contract: {p}");
    }
    api.finished_task(committed["result"]["task"].as_str().expect("the verification task"));
    let status = api.call(None, "GET", RELEASE, "/api/v1/projects/foo/releases/1.0.0", Value::Null);
    assert_eq!(status.body["summary"]["fail"], 0, "{}", status.text);

    // The vote.
    let vote = format!("{RELEASE}/vote");
    let opened = api.call(Some(rm), "POST", &vote, "/api/v1/projects/foo/releases/1.0.0/vote", json!({}));
    assert_eq!(opened.status, 201, "{}", opened.text);
    let cast = api.call(
        Some(admin),
        "POST",
        &format!("{vote}/ballots"),
        "/api/v1/projects/foo/releases/1.0.0/vote/ballots",
        json!({"value": "+1", "comment": "sigs and sums ok"}),
    );
    assert_eq!(cast.status, 201, "{}", cast.text);
    api.call(None, "GET", &vote, "/api/v1/projects/foo/releases/1.0.0/vote", Value::Null);
    api.call(None, "GET", &format!("{vote}/email"), "/api/v1/projects/foo/releases/1.0.0/vote/email", Value::Null);
    let closed = api.call(
        Some(rm),
        "POST",
        &format!("{vote}/close"),
        "/api/v1/projects/foo/releases/1.0.0/vote/close",
        json!({}),
    );
    assert_eq!((closed.status, &closed.body["vote"]["state"]), (200, &json!("passed")), "{}", closed.text);

    // The promotion (a task), then the release's views.
    let promote = api.call(
        Some(rm),
        "POST",
        &format!("{RELEASE}/promote"),
        "/api/v1/projects/foo/releases/1.0.0/promote",
        json!({}),
    );
    assert_eq!(promote.status, 202, "{}", promote.text);
    api.finished_task(promote.body["id"].as_str().unwrap());
    let status = api.call(None, "GET", RELEASE, "/api/v1/projects/foo/releases/1.0.0", Value::Null);
    assert_eq!(status.body["stage"], "current", "{}", status.text);
    let events = api.call(None, "GET", "/api/v1/events", "/api/v1/events?project=foo", Value::Null);
    assert!(events.body["events"].as_array().unwrap().len() > 3, "{}", events.text);
    api.call(None, "GET", "/api/v1/releases", "/api/v1/releases?project=foo", Value::Null);
    // Every project, a page of one: the next page is named.
    let page = api.call(None, "GET", "/api/v1/releases", "/api/v1/releases?limit=1", Value::Null);
    assert_eq!(page.body["next"], "bar", "{}", page.text);
    api.call(None, "GET", "/api/v1/projects/{project}/releases", "/api/v1/projects/foo/releases", Value::Null);
    api.call(None, "GET", "/api/v1/projects/{project}/states", "/api/v1/projects/foo/states", Value::Null);
    api.call(None, "GET", &format!("{RELEASE}/history"), "/api/v1/projects/foo/releases/1.0.0/history", Value::Null);
    api.call(
        None,
        "GET",
        &format!("{RELEASE}/distributions"),
        "/api/v1/projects/foo/releases/1.0.0/distributions",
        Value::Null,
    );
    // A distribution asked for: no registry is set up here, which is refused with its code.
    let pypi = json!({"distributions": [{"platform": "pypi", "package": "apache-foo"}]});
    let asked = "/api/v1/projects/foo/releases/1.0.0/distributions";
    let refused = api.call(Some(rm), "POST", &format!("{RELEASE}/distributions"), asked, pypi);
    refused.assert_error(409, "registry-not-configured");
    // To GitHub Releases: done, with each distribution's outcome; to a repository the server
    // lacks: failed, with the refusal.
    let github_to = |namespace: &str| {
        let to = json!({"distributions": [{"platform": "github", "namespace": namespace, "package": "foo"}]});
        let queued = api.call(Some(rm), "POST", &format!("{RELEASE}/distributions"), asked, to);
        assert_eq!(queued.status, 202, "{}", queued.text);
        api.finished(queued.body["id"].as_str().unwrap())
    };
    let distributed = github_to("apache");
    assert_eq!(distributed["state"], "done", "{distributed}");
    assert_eq!(distributed["result"]["distributions"][0]["status"], "distributed", "{distributed}");
    let failed = github_to("nobody");
    assert_eq!(failed["state"], "failed", "{failed}");
    assert_eq!(
        (&failed["result"]["code"], &failed["result"]["status"], &failed["result"]["message"]),
        (&json!("distribution-failed"), &json!(409), &failed["error"]),
        "{failed}"
    );
    // The released file, by its `latest` path: `trs serve` streams the file itself (200, the
    // file's own Content-Type), where the API on AWS answers a redirect to its versioned
    // path; not an answer of the document's, so not held against it.
    let latest = get(base, "/current/foo/latest/apache-foo-1.0.0-src.tar.gz");
    assert_eq!(latest.status, 200, "{}", latest.text);
    // The release's folders, as pages and as JSON (`FolderListing`): the version's files
    // with size and SHA-512; the project's folder its product folder, `latest/` and the
    // version, folders with neither.
    let current = "/current/{path}";
    let version = api.listing(current, "/current/foo/1.0.0/");
    let names: Vec<&str> = version["entries"].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), files.len(), "{version}");
    let tarball = &version["entries"].as_array().unwrap().iter().find(|e| e["name"] == "apache-foo-1.0.0-src.tar.gz");
    let tarball = tarball.expect("the tarball is listed");
    assert_eq!(tarball["url"], "/current/foo/1.0.0/apache-foo-1.0.0-src.tar.gz", "{version}");
    assert_eq!(tarball["sha512"].as_str().map(str::len), Some(128), "{version}");
    assert!(tarball["size"].as_u64().is_some_and(|s| s > 0), "{version}");
    let project_folder = api.listing(current, "/current/foo/");
    assert_eq!(
        project_folder["entries"],
        json!([{"name": "cli/", "url": "/current/foo/cli/"}, {"name": "latest/", "url": "/current/foo/latest/"},
               {"name": "1.0.0/", "url": "/current/foo/1.0.0/"}]),
        "{project_folder}"
    );
    // No such folder: why, as a page or as the error document.
    let page = api.get_accepting(current, "/current/foo/9.9.9/", "text/html");
    assert_eq!((page.status, page.content_type.starts_with("text/html")), (404, true), "{}", page.text);
    api.get_accepting(current, "/current/foo/9.9.9/", "application/json").assert_error(404, "not-found");
    let verified = api.call(None, "GET", "/api/v1/events/verify", "/api/v1/events/verify?project=foo", Value::Null);
    assert_eq!(verified.body["ok"], true, "{}", verified.text);
    api.call(None, "GET", "/api/v1/events/verify", "/api/v1/events/verify", Value::Null);
    let result_mail = "/api/v1/projects/foo/releases/1.0.0/vote/email?result=true";
    api.call(None, "GET", &format!("{vote}/email"), result_mail, Value::Null);
    let preview = "/api/v1/projects/foo/releases/1.0.0/vote/mail/announce";
    api.call(None, "GET", &format!("{vote}/mail/{{kind}}"), preview, Value::Null);

    // The lifecycle: a freeform state entered and left, the release's and its line's dates.
    let state = format!("{RELEASE}/states/{{state}}");
    let lts = "/api/v1/projects/foo/releases/1.0.0/states/lts";
    assert_eq!(api.call(Some(rm), "POST", &state, lts, json!({})).status, 200);
    assert_eq!(api.call(Some(rm), "DELETE", &state, lts, Value::Null).status, 200);
    let (support, eol) = (unix_now() + 200 * 86400, unix_now() + 400 * 86400);
    let dates = json!({"support_until": support, "end_of_life": eol});
    let set = api.call(Some(rm), "POST", &format!("{RELEASE}/eol"), "/api/v1/projects/foo/releases/1.0.0/eol", dates);
    assert_eq!(set.status, 200, "{}", set.text);
    let line = api.call(
        Some(rm),
        "POST",
        "/api/v1/projects/{project}/lines/{line}/dates",
        "/api/v1/projects/foo/lines/1.x/dates",
        json!({"end_of_life": eol}),
    );
    assert_eq!(line.status, 200, "{}", line.text);
    // The lifecycle's exports.
    let cle = api.call(None, "GET", "/api/v1/projects/{project}/cle", "/api/v1/projects/foo/cle", Value::Null);
    assert!(cle.body.is_object(), "{}", cle.text);
    let endoflife = "/api/v1/projects/{project}/endoflife.json";
    let cycles = api.call(None, "GET", endoflife, "/api/v1/projects/foo/endoflife.json", Value::Null);
    assert_eq!(cycles.status, 200, "{}", cycles.text);
    // The vote's and the promotion's mails, to the lists set above.
    let log =
        api.call(None, "GET", "/api/v1/projects/{project}/mail/log", "/api/v1/projects/foo/mail/log", Value::Null);
    assert!(log.body["mails"].as_array().is_some_and(|m| !m.is_empty()), "{}", log.text);
    // No project names an IMAP mailbox here: no poll round (the rounds' tasks are checked
    // against the same Task schema as every other task's).
    let polls = api.call(None, "GET", "/api/v1/mail/polls", "/api/v1/mail/polls", Value::Null);
    assert_eq!(polls.body["polls"], json!([]), "{}", polls.text);
    let keys = api.call(None, "GET", "/api/v1/projects/{project}/KEYS", "/api/v1/projects/foo/KEYS", Value::Null);
    assert!(keys.text.contains("BEGIN PGP PUBLIC KEY BLOCK"), "{}", keys.text);

    // A draft never put to a vote, discarded.
    api.draft(&team, rm, "1.1.0");
    let discard = "/api/v1/projects/foo/releases/1.1.0/discard";
    let discarded = api.call(Some(rm), "POST", &format!("{RELEASE}/discard"), discard, json!({}));
    assert_eq!((discarded.status, &discarded.body["revision"]), (200, &json!(1)), "{}", discarded.text);

    // A vote counted from the list's replies, then cancelled. No IMAP mailbox is set up: the
    // poll is refused with its code.
    let committed = api.draft(&team, rm, "1.2.0");
    api.finished_task(committed["result"]["task"].as_str().expect("the verification task"));
    let email_votes = json!({"email_votes": true});
    let on = api.call(Some(rm), "POST", &format!("{project}/policy"), "/api/v1/projects/foo/policy", email_votes);
    assert_eq!(on.status, 200, "{}", on.text);
    let vote2 = "/api/v1/projects/foo/releases/1.2.0/vote";
    let opened = api.call(Some(rm), "POST", &vote, vote2, json!({}));
    assert_eq!(opened.status, 201, "{}", opened.text);
    let replies = api.call(
        Some(rm),
        "POST",
        &format!("{vote}/mail-replies"),
        &format!("{vote2}/mail-replies"),
        json!({"messages": []}),
    );
    assert_eq!(replies.status, 200, "{}", replies.text);
    let poll = api.call(Some(rm), "POST", &format!("{vote}/mail-poll"), &format!("{vote2}/mail-poll"), json!({}));
    poll.assert_error(409, "no-imap-mailbox");
    let cancelled = api.call(Some(rm), "POST", &format!("{vote}/cancel"), &format!("{vote2}/cancel"), json!({}));
    assert_eq!((cancelled.status, &cancelled.body["vote"]["state"]), (200, &json!("cancelled")), "{}", cancelled.text);

    // A release of the project's history, imported (docs/import.md): its files, then the
    // commit task.
    let files = release_files(&team, "0.9.0");
    let declared: Vec<Value> = files
        .iter()
        .map(|(n, b)| {
            use sha2::Digest;
            json!({"path": n, "size": b.len(), "sha512": hex::encode(sha2::Sha512::digest(b))})
        })
        .collect();
    let import = json!({"stage": "current", "released_at": unix_now() - 86400, "files": declared});
    let started = api.call(
        Some(admin),
        "POST",
        &format!("{RELEASE}/import"),
        "/api/v1/projects/foo/releases/0.9.0/import",
        import,
    );
    assert_eq!(started.status, 201, "{}", started.text);
    for upload in started.body["uploads"].as_array().unwrap() {
        let (_, bytes) = files.iter().find(|(n, _)| upload["path"] == n.as_str()).unwrap();
        assert_eq!(put_bytes(upload["upload"]["url"].as_str().unwrap(), bytes.clone()).status / 100, 2);
    }
    let id = started.body["id"].as_str().unwrap();
    let commit = api.call(
        Some(admin),
        "POST",
        "/api/v1/imports/{id}/commit",
        &format!("/api/v1/imports/{id}/commit"),
        // No file went in parts (the embedded store takes each in one PUT): no ETags to name.
        serde_json::json!({}),
    );
    assert_eq!(commit.status, 202, "{}", commit.text);
    api.finished_task(id);

    // An advisory: recorded while embargoed, changed, published, read by anyone.
    let advisories = "/api/v1/projects/{project}/advisories";
    let advisory = format!("{advisories}/{{id}}");
    let flaw = json!({"id": "CVE-2026-1234", "summary": "A flaw in the parser", "severity": "high",
        "affected": ["=0.9.0"], "fixed": "1.0.0", "embargoed_until": unix_now() + 86400});
    let recorded = api.call(Some(rm), "POST", advisories, "/api/v1/projects/foo/advisories", flaw);
    assert_eq!(recorded.status, 201, "{}", recorded.text);
    let one = "/api/v1/projects/foo/advisories/CVE-2026-1234";
    let changed = api.call(
        Some(rm),
        "POST",
        &advisory,
        one,
        json!({"credits": ["Eve Finder"], "cna_org_id": "8254265b-2729-46b6-b9e3-3dfca2d5bfca"}),
    );
    assert_eq!(changed.status, 200, "{}", changed.text);
    let publish = format!("{advisory}/publish");
    let published = api.call(Some(rm), "POST", &publish, &format!("{one}/publish"), json!({"force": true}));
    assert_eq!(published.status, 200, "{}", published.text);
    let listed = api.call(None, "GET", advisories, "/api/v1/projects/foo/advisories", Value::Null);
    assert_eq!(listed.body["advisories"][0]["fixed_by"]["version"], "1.0.0", "{}", listed.text);
    api.call(None, "GET", &advisory, one, Value::Null);
    // The published advisory in the exports' formats (their own schemas: OSV, CVE JSON 5).
    let osv = api.call(None, "GET", &format!("{advisory}/osv"), &format!("{one}/osv"), Value::Null);
    assert_eq!(osv.body["id"], "CVE-2026-1234", "{}", osv.text);
    let cve = api.call(None, "GET", &format!("{advisory}/cve5"), &format!("{one}/cve5"), Value::Null);
    assert_eq!(cve.status, 200, "{}", cve.text);
    let feed = api.call(None, "GET", "/api/v1/projects/{project}/osv", "/api/v1/projects/foo/osv", Value::Null);
    assert_eq!(feed.status, 200, "{}", feed.text);

    // Archived, and revoked.
    let archive = "/api/v1/projects/foo/releases/1.0.0/archive";
    let archived = api.call(Some(rm), "POST", &format!("{RELEASE}/archive"), archive, json!({}));
    assert_eq!((archived.status, &archived.body["already"]), (200, &json!(false)), "{}", archived.text);
    let listing = api.listing("/archive/{path}", "/archive/foo/1.0.0/");
    let urls: Vec<&str> = listing["entries"].as_array().unwrap().iter().map(|e| e["url"].as_str().unwrap()).collect();
    assert!(urls.iter().all(|u| u.starts_with("/archive/foo/1.0.0/")), "{listing}");
    let revoke = json!({"reason": "built from the wrong tag"});
    let revoked =
        api.call(Some(rm), "POST", &format!("{RELEASE}/revoke"), "/api/v1/projects/foo/releases/0.9.0/revoke", revoke);
    assert_eq!(revoked.status, 200, "{}", revoked.text);

    // Refusals: the error document, with a status the operation lists.
    let unsigned = send_raw(base, "POST", "/api/v1/projects/foo/releases/2.0.0/uploads", &[], b"{}".to_vec());
    contract.check("POST", &uploads, unsigned.assert_error(401, "missing-header"));
    let missing = api.call(None, "GET", RELEASE, "/api/v1/projects/foo/releases/9.9.9", Value::Null);
    missing.assert_error(404, "not-found");
    let bad_id = api.call(None, "GET", "/api/v1/tasks/{id}", "/api/v1/tasks/not%20an%20id", Value::Null);
    assert_eq!(bad_id.status, 400, "{}", bad_id.text);
    let denied =
        api.call(Some(rm), "POST", "/api/v1/projects", "/api/v1/projects", json!({"name": "baz", "members": ["ada"]}));
    denied.assert_error(403, "forbidden-role");
    // No route: no operation to hold it against, but the same error document.
    for (method, path, status) in [("GET", "/api/v1/no-such-thing", 404), ("DELETE", "/api/v1/health", 405)] {
        let answer = send_raw(base, method, path, &[], Vec::new());
        assert_eq!(answer.status, status, "{}", answer.text);
        if let Some(p) = contract.component_problems("ErrorBody", &answer.body) {
            panic!("{method} {path}: {p}");
        }
    }

    // A result of every kind of task the flow ran, and a refusal, held against its schema.
    let results: Vec<&str> = api.results.borrow().iter().copied().collect();
    assert_eq!(
        results,
        [
            "CommittedUpload",
            "DistributionResult",
            "ImportedRelease",
            "PromotionResult",
            "TaskFailure",
            "VerificationCounts"
        ]
    );

    // Every operation of the document was called, but those named (with why) in NOT_CALLED.
    let called = api.called.borrow();
    let missed: Vec<String> = contract.operations().into_iter().filter(|op| !called.contains(op)).collect();
    let named: Vec<&str> = NOT_CALLED.iter().map(|(op, _)| *op).collect();
    assert_eq!(missed, named, "the operations no call of the flow holds an answer of");
}

/// The check can fail: an answer with a missing field, a wrong type or a status the
/// operation does not list is caught.
#[test]
fn an_answer_that_breaks_the_document_is_caught() {
    let team = Team::new();
    let contract = Contract::served_by(&team.server.url);
    let answer = |status: u16, body: Value| Api {
        status,
        content_type: "application/json".into(),
        text: body.to_string(),
        body,
    };
    let task = get(&team.server.url, "/api/v1/tasks/0123456789abcdef0123456789abcdef");
    assert!(contract.problems("GET", "/api/v1/tasks/{id}", &task).is_none(), "{}", task.text);
    let tasks = "/api/v1/tasks/{id}";
    let wrong_type = answer(200, json!({"id": 7, "kind": "verify", "state": "done", "created_at": 1, "updated_at": 1}));
    assert!(contract.problems("GET", tasks, &wrong_type).unwrap().contains("/id"));
    let missing_field = answer(200, json!({"id": "x", "kind": "verify", "created_at": 1, "updated_at": 1}));
    assert!(contract.problems("GET", tasks, &missing_field).unwrap().contains("state"));
    let unknown_kind =
        answer(200, json!({"id": "x", "kind": "nap", "state": "done", "created_at": 1, "updated_at": 1}));
    assert!(contract.problems("GET", tasks, &unknown_kind).is_some());
    assert!(contract.problems("GET", tasks, &answer(418, json!({}))).unwrap().contains("418"));
    let bad_error = answer(404, json!({"error": {"code": "not-found"}}));
    assert!(contract.problems("GET", tasks, &bad_error).unwrap().contains("message"));
    let unlisted_code = answer(404, json!({"error": {"code": "no-such-code", "message": "m"}}));
    assert!(contract.problems("GET", tasks, &unlisted_code).unwrap().contains("no-such-code"));
    // A typed settings answer without its policy, and a request with a misspelt rule.
    let policy = "/api/v1/projects/{project}/policy";
    let no_policy = answer(200, json!({"project": "foo"}));
    assert!(contract.problems("GET", policy, &no_policy).unwrap().contains("policy"));
    assert!(contract.request_problems("POST", policy, &json!({"min_binding": 2})).is_none());
    assert!(contract.request_problems("POST", policy, &json!({"min_bindings": 2})).is_some());
    // A folder listing is a page or JSON: each held against the media type its Content-Type
    // names, and one it does not declare is caught.
    let folder = "/current/{path}";
    let listing = json!({"path": "/current/foo/", "entries": [{"name": "1.0.0/", "url": "/current/foo/1.0.0/"}]});
    assert!(contract.problems("GET", folder, &answer(200, listing)).is_none());
    let page =
        Api { status: 200, content_type: "text/html; charset=utf-8".into(), body: Value::Null, text: "<p>".into() };
    assert!(contract.problems("GET", folder, &page).is_none());
    let no_entries = answer(200, json!({"path": "/current/foo/"}));
    assert!(contract.problems("GET", folder, &no_entries).unwrap().contains("entries"));
    let bad_size = answer(200, json!({"path": "/p/", "entries": [{"name": "f", "url": "/p/f", "size": "big"}]}));
    assert!(contract.problems("GET", folder, &bad_size).unwrap().contains("/entries/0/size"));
    let text = Api { content_type: "text/plain".into(), ..page };
    assert!(contract.problems("GET", folder, &text).unwrap().contains("text/plain"));
    // A JSON operation's answer that is not JSON.
    let html_task = Api { content_type: "text/html".into(), ..answer(200, json!({})) };
    assert!(contract.problems("GET", tasks, &html_task).unwrap().contains("text/html"));
}

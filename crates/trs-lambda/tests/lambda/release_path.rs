//! The README's release path on the stack as deployed (support/aws_stack.rs): the real
//! Lambda binaries, each under its own role on moto with IAM enforced, wired as
//! infra/template.json wires them, with the unchanged `trs` CLI as the client. After each
//! step the test looks into the bucket and the table, and judges every request the functions
//! made against the template's policies. It also prints what each operation cost (requests,
//! DynamoDB units, invocations, invalidated paths): the table in docs/aws-storage.md.

use crate::support::aws_stack::{AwsStack, Cost};
use crate::support::iam::{BUCKET, SITE_BUCKET};
use openpgp::serialize::SerializeInto;
use sequoia_openpgp as openpgp;
use serde_json::Value;
use std::path::{Path, PathBuf};
use trs_app::test_support::new_cert;
use trs_auth::RequestSigner;

/// The `trs` binary of this build: `cargo nextest run --workspace` builds every binary of
/// the workspace into the folder the Lambda binaries are in.
fn trs_bin() -> PathBuf {
    let bin = Path::new(env!("CARGO_BIN_EXE_trs-lambda-admin")).with_file_name("trs");
    assert!(bin.exists(), "{} is not built: run the tests with `--workspace`", bin.display());
    bin
}

struct Client<'a> {
    stack: &'a AwsStack,
    dir: &'a Path,
}

impl Client<'_> {
    /// `trs ARGS` signing with `key` (a key file in the test's folder); its standard output.
    async fn trs(&self, key: Option<&str>, args: &[&str]) -> String {
        let mut command = tokio::process::Command::new(trs_bin());
        command.current_dir(self.dir).env_clear().envs(self.stack.cli_env()).args(args);
        if let Some(key) = key {
            command.env("TRS_KEY", self.dir.join(format!("{key}.key")));
        }
        let out = command.output().await.expect("run trs");
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "trs {args:?} failed ({}):\n{stdout}\n{stderr}", out.status);
        stdout.into_owned()
    }

    async fn json(&self, key: Option<&str>, args: &[&str]) -> Value {
        let mut with = args.to_vec();
        with.push("--json");
        let out = self.trs(key, &with).await;
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("trs {args:?} --json: {e}: {out}"))
    }
}

/// A person's certificate (`NAME.asc`) and secret key file (`NAME.key`) in `dir`.
fn person(dir: &Path, name: &str) -> openpgp::Cert {
    let cert = new_cert(&format!("{name} <{name}@example.org>"));
    std::fs::write(dir.join(format!("{name}.asc")), cert.armored().to_vec().unwrap()).unwrap();
    std::fs::write(dir.join(format!("{name}.key")), cert.as_tsk().armored().to_vec().unwrap()).unwrap();
    cert
}

/// The three files of a source release, as the README makes them: the archive (LICENSE and
/// NOTICE in its top folder), its armored detached signature and its SHA-512 file.
async fn release_files(dir: &Path, signer: &openpgp::Cert, version: &str) -> Vec<String> {
    let top = format!("apache-foo-{version}");
    std::fs::create_dir_all(dir.join(&top)).unwrap();
    std::fs::write(dir.join(&top).join("LICENSE"), "Apache License 2.0\n").unwrap();
    std::fs::write(dir.join(&top).join("NOTICE"), "Apache Foo\n").unwrap();
    let archive = format!("{top}-src.tar.gz");
    let tar = tokio::process::Command::new("tar").current_dir(dir).args(["czf", &archive, &top]).status().await;
    assert!(tar.unwrap().success(), "tar");
    let bytes = std::fs::read(dir.join(&archive)).unwrap();
    let signature = trs_auth::KeyFileSigner::from_cert(signer, None).unwrap().sign_detached(&bytes).unwrap();
    let mut armored = Vec::new();
    let mut writer = openpgp::armor::Writer::new(&mut armored, openpgp::armor::Kind::Signature).unwrap();
    std::io::Write::write_all(&mut writer, &signature).unwrap();
    writer.finalize().unwrap();
    std::fs::write(dir.join(format!("{archive}.asc")), armored).unwrap();
    let sum = tokio::process::Command::new("sha512sum").current_dir(dir).arg(&archive).output().await.unwrap();
    assert!(sum.status.success(), "sha512sum");
    std::fs::write(dir.join(format!("{archive}.sha512")), sum.stdout).unwrap();
    vec![archive.clone(), format!("{archive}.asc"), format!("{archive}.sha512")]
}

/// The release item of `foo VERSION` in the table.
async fn release_item(stack: &AwsStack, version: &str) -> Value {
    let items = stack.items().await;
    items.get(&("project#foo".to_string(), format!("release#-#{version}"))).cloned().unwrap_or(Value::Null)
}

/// The cost of what happened since the last look, its requests judged against the roles.
/// Requests a test makes beside the table's rows: allowed to every role that made them, and
/// left out of the table.
fn not_counted(stack: &AwsStack, what: &str) {
    let (_, problems) = stack.cost();
    assert!(problems.is_empty(), "{what}: requests the roles do not allow:\n{}", problems.join("\n"));
}

fn step(stack: &AwsStack, name: &str, costs: &mut Vec<(String, Cost)>) {
    let (cost, problems) = stack.cost();
    assert!(problems.is_empty(), "{name}: requests the roles do not allow:\n{}", problems.join("\n"));
    costs.push((name.into(), cost));
}

/// The cost table (docs/aws-storage.md, "What the release path costs"), as markdown lines:
/// per step its DynamoDB requests and units, its S3 requests by price class (PUT class:
/// PUT, COPY, POST, LIST and the multipart steps; GET/HEAD; DELETE, which S3 does not bill),
/// SQS and EventBridge requests, Lambda invocations by function and invalidated paths.
fn cost_table(costs: &[(String, Cost)]) -> Vec<String> {
    let mut lines = vec![
        "| operation | DynamoDB requests | read units | write units | S3 requests | SQS / EventBridge | Lambda invocations | invalidated paths |".to_string(),
        "|---|---|---|---|---|---|---|---|".to_string(),
    ];
    for (name, c) in costs {
        let s3 = |class: &dyn Fn(&str) -> bool| -> u64 {
            c.requests.iter().filter(|(k, _)| k.strip_prefix("s3:").is_some_and(class)).map(|(_, n)| n).sum()
        };
        let free = |action: &str| matches!(action, "DeleteObject" | "AbortMultipartUpload");
        let (get, delete) = (s3(&|a| a == "GetObject"), s3(&free));
        let put = s3(&|a| a != "GetObject" && !free(a));
        let mut classes: Vec<String> = Vec::new();
        for (n, class) in [(put, "PUT class"), (get, "GET/HEAD"), (delete, "DELETE")] {
            if n > 0 {
                classes.push(format!("{n} {class}"));
            }
        }
        let s3_text = match classes.as_slice() {
            [] => "0".to_string(),
            _ => format!("{}: {}", c.count("s3"), classes.join(", ")),
        };
        // Function names as the template's logical ids, in kebab case (PublishSite: publish-site).
        let kebab = |f: &str| {
            f.chars().enumerate().fold(String::new(), |mut out, (i, ch)| {
                if ch.is_uppercase() && i > 0 {
                    out.push('-');
                }
                out.push(ch.to_ascii_lowercase());
                out
            })
        };
        let total = c.invocations.values().sum::<u64>();
        let by_function: Vec<String> = c.invocations.iter().map(|(f, n)| format!("{} {n}", kebab(f))).collect();
        let invocations = if total == 0 { "0".to_string() } else { format!("{total}: {}", by_function.join(", ")) };
        lines.push(format!(
            "| {name} | {} | {} | {} | {s3_text} | {} / {} | {invocations} | {} |",
            c.count("dynamodb"),
            c.read_units,
            c.write_units,
            c.count("sqs"),
            c.count("events"),
            c.invalidation_paths.len(),
        ));
    }
    lines
}

/// The rows of the cost table, in the order the release path runs them.
const COST_ROWS: [&str; 15] = [
    "people and project",
    "upload 3 files (commit, verify)",
    "vote start",
    "vote cast",
    "vote close",
    "promote",
    "a download of a release file (CloudFront from the bucket)",
    "a `latest` hit",
    "lifecycle tick, nothing due",
    "eol date set",
    "lifecycle tick, one release to end-of-life",
    "archive",
    "an archived file's old path (the bucket's 403, the API's redirect)",
    "revoke",
    "import a release of 3 files into a new project (project, KEYS, store, publish)",
];

/// Every row of the table was measured: each step but the download invoked a function; a
/// download is served by CloudFront from the bucket with no function and no request of the
/// account (no server code on the read path). No figure is asserted beyond that: the table
/// is printed for docs/aws-storage.md.
fn assert_cost_rows(costs: &[(String, Cost)]) {
    let names: Vec<&str> = costs.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, COST_ROWS);
    for (name, cost) in costs {
        let invocations = cost.invocations.values().sum::<u64>();
        if name.starts_with("a download") {
            assert_eq!((invocations, cost.requests.len()), (0, 0), "{name}: {cost:?}");
        } else {
            assert!(invocations > 0 && cost.count("dynamodb") > 0, "{name}: nothing measured: {cost:?}");
        }
    }
    assert_eq!(cost_table(costs).len(), COST_ROWS.len() + 2, "a header, a rule and a line per row");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_readme_release_path_runs_on_the_stack_as_deployed() {
    let stack = AwsStack::start().await;
    let folder = tempfile::tempdir().unwrap();
    let dir = folder.path();
    let cli = Client { stack: &stack, dir };
    let mut costs = Vec::new();
    person(dir, "ada");
    let rita = person(dir, "rita");

    // Bootstrap, by the operator, straight into the table; then people and a project.
    cli.trs(None, &["admin", "bootstrap", "ada", "ada.asc"]).await;
    cli.trs(Some("ada"), &["person", "add", "rita", "rita.asc", "--name", "Rita RM", "--email", "rita@example.org"])
        .await;
    cli.trs(Some("ada"), &["project", "create", "foo", "--members", "ada", "--release-managers", "rita"]).await;
    cli.trs(Some("ada"), &["project", "policy", "foo", "--min-vote-hours", "0", "--min-binding", "1"]).await;
    stack.settle().await;
    let items = stack.items().await;
    for key in [("person#ada", "person"), ("person#rita", "person"), ("project#foo", "project")] {
        assert!(items.contains_key(&(key.0.into(), key.1.into())), "{key:?} in the table");
    }
    step(&stack, "people and project", &mut costs);

    // Upload: three files, committed, verified from the queue.
    let files = release_files(dir, &rita, "1.0.0").await;
    let mut args = vec!["upload", "foo", "1.0.0"];
    args.extend(files.iter().map(String::as_str));
    cli.trs(Some("rita"), &args).await;
    stack.settle().await;
    let status = cli.json(None, &["status", "foo", "1.0.0"]).await;
    assert_eq!(status["summary"]["fail"], 0, "{status}");
    assert_eq!(status["files"].as_array().unwrap().len(), 3, "{status}");
    assert_eq!(stack.objects(BUCKET, "files/").await.len(), 3, "three content-addressed files");
    assert_eq!(release_item(&stack, "1.0.0").await["stage"], "candidate-draft");
    step(&stack, "upload 3 files (commit, verify)", &mut costs);

    // The vote: opened, one binding +1, closed.
    cli.trs(Some("rita"), &["vote", "start", "foo", "1.0.0"]).await;
    stack.settle().await;
    assert_eq!(release_item(&stack, "1.0.0").await["stage"], "candidate");
    step(&stack, "vote start", &mut costs);
    cli.trs(Some("ada"), &["vote", "cast", "foo", "1.0.0", "+1", "--comment", "sigs and sums ok"]).await;
    stack.settle().await;
    let ballot = stack.items().await.get(&("release#foo#-#1.0.0".into(), "ballot#0001#ada".into())).cloned();
    assert!(ballot.is_some_and(|b| b.to_string().contains("sigs and sums ok")), "ada's ballot in the table");
    step(&stack, "vote cast", &mut costs);
    // The announcement links the KEYS file under the API's own URL (TRS_API_URL).
    let email = cli.trs(None, &["vote", "email", "foo", "1.0.0"]).await;
    assert!(email.contains(&format!("{}/api/v1/projects/foo/KEYS", stack.api_url)), "{email}");
    let closed = cli.json(Some("rita"), &["vote", "close", "foo", "1.0.0"]).await;
    assert_eq!(closed["vote"]["state"], "passed", "{closed}");
    stack.settle().await;
    step(&stack, "vote close", &mut costs);

    // Promote: the voted bytes at their public paths, downloadable through CloudFront.
    cli.trs(Some("rita"), &["promote", "foo", "1.0.0"]).await;
    stack.settle().await;
    let current = stack.objects(BUCKET, "current/foo/1.0.0/").await;
    let expected: Vec<String> = files.iter().map(|f| format!("current/foo/1.0.0/{f}")).collect();
    assert_eq!(current, expected);
    assert_eq!(release_item(&stack, "1.0.0").await["stage"], "current");
    assert!(!stack.objects(SITE_BUCKET, "projects/foo/").await.is_empty(), "the project's pages are published");
    step(&stack, "promote", &mut costs);
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let archive = &files[0];
    let download = http.get(format!("{}/current/foo/1.0.0/{archive}", stack.cdn_url)).send().await.unwrap();
    assert_eq!(download.status(), 200);
    assert_eq!(download.bytes().await.unwrap(), std::fs::read(dir.join(archive)).unwrap());
    step(&stack, "a download of a release file (CloudFront from the bucket)", &mut costs);
    let latest = http.get(format!("{}/current/foo/latest/{archive}", stack.cdn_url)).send().await.unwrap();
    assert_eq!(latest.status(), 302);
    assert_eq!(latest.headers()["location"], format!("/current/foo/1.0.0/{archive}").as_str());
    step(&stack, "a `latest` hit", &mut costs);
    let checked = http.head(format!("{}/current/foo/latest/{archive}", stack.cdn_url)).send().await.unwrap();
    assert_eq!((checked.status().as_u16(), checked.headers().get("location")), (302, latest.headers().get("location")));
    not_counted(&stack, "a `latest` check with HEAD");

    // The schedule: nothing due, then an end-of-life date that has passed.
    let report = stack.tick().await;
    assert_eq!(report["items"], serde_json::json!([]), "{report}");
    step(&stack, "lifecycle tick, nothing due", &mut costs);
    cli.trs(Some("rita"), &["eol", "foo", "1.0.0", "--at", "2020-01-01"]).await;
    stack.settle().await;
    step(&stack, "eol date set", &mut costs);
    let report = stack.tick().await;
    assert!(report.to_string().contains("end-of-life"), "{report}");
    assert_eq!(release_item(&stack, "1.0.0").await["stage"], "end-of-life");
    step(&stack, "lifecycle tick, one release to end-of-life", &mut costs);

    // Archive: the files move to archive/.
    cli.trs(Some("rita"), &["archive", "foo", "1.0.0"]).await;
    stack.settle().await;
    assert_eq!(stack.objects(BUCKET, "current/foo/1.0.0/").await, Vec::<String>::new());
    let archived: Vec<String> = files.iter().map(|f| format!("archive/foo/1.0.0/{f}")).collect();
    assert_eq!(stack.objects(BUCKET, "archive/foo/1.0.0/").await, archived);
    assert_eq!(release_item(&stack, "1.0.0").await["stage"], "archived");
    step(&stack, "archive", &mut costs);
    // The old `/current/…` path of an archived file (a pinned script, a vote email): the
    // bucket has no object there, CloudFront falls back to the API, which redirects for good.
    let old_path = http.get(format!("{}/current/foo/1.0.0/{archive}", stack.cdn_url)).send().await.unwrap();
    assert_eq!(old_path.status(), 301);
    assert_eq!(old_path.headers()["location"], format!("/archive/foo/1.0.0/{archive}").as_str());
    step(&stack, "an archived file's old path (the bucket's 403, the API's redirect)", &mut costs);
    // As a mirror or `curl -I` checks it (not counted below): HEAD has its own route key on the
    // HTTP API.
    let checked = http.head(format!("{}/current/foo/1.0.0/{archive}", stack.cdn_url)).send().await.unwrap();
    assert_eq!(
        (checked.status().as_u16(), checked.headers().get("location")),
        (301, old_path.headers().get("location"))
    );
    let moved = http.get(format!("{}/archive/foo/1.0.0/{archive}", stack.cdn_url)).send().await.unwrap();
    assert_eq!(moved.bytes().await.unwrap(), std::fs::read(dir.join(archive)).unwrap(), "served from the bucket");
    let listing = http.get(format!("{}/archive/foo/1.0.0/", stack.cdn_url)).send().await.unwrap();
    assert_eq!(listing.status(), 200, "a folder is listed by the API");
    let listing = listing.text().await.unwrap();
    for f in &files {
        assert!(listing.contains(&format!("href=\"/archive/foo/1.0.0/{f}\"")), "{f} in the listing: {listing}");
    }
    not_counted(&stack, "the archived file and its listing");

    // Revoke: no public object left, the bytes kept privately, the paths invalidated.
    cli.trs(Some("rita"), &["revoke", "foo", "1.0.0", "--reason", "signing key compromised"]).await;
    stack.settle().await;
    assert_eq!(stack.objects(BUCKET, "current/foo/").await, Vec::<String>::new());
    assert_eq!(stack.objects(BUCKET, "archive/foo/").await, Vec::<String>::new());
    assert_eq!(stack.objects(BUCKET, "files/").await.len(), 3, "the bytes stay, privately");
    assert_eq!(release_item(&stack, "1.0.0").await["stage"], "revoked");
    let (revoked, problems) = stack.cost();
    assert!(problems.is_empty(), "revoke: {}", problems.join("\n"));
    assert!(
        revoked.invalidation_paths.iter().any(|p| p == "/archive/foo/1.0.0/*"),
        "the revoked paths are invalidated: {:?}",
        revoked.invalidation_paths
    );
    costs.push(("revoke".into(), revoked));
    for path in [format!("/archive/foo/1.0.0/{archive}"), format!("/current/foo/1.0.0/{archive}")] {
        let gone = http.get(format!("{}{path}", stack.cdn_url)).send().await.unwrap();
        assert_eq!(gone.status(), 410, "{path}: the bucket has nothing; the API says why");
        assert!(gone.text().await.unwrap().contains("signing key compromised"), "{path}: the reason");
    }
    let never = http.get(format!("{}/current/foo/9.9.9/foo-9.9.9.tar.gz", stack.cdn_url)).send().await.unwrap();
    assert_eq!(never.status(), 404);
    assert!(never.text().await.unwrap().contains("<h1>Not found</h1>"), "a page, not S3's 403 XML");
    let latest = http.get(format!("{}/current/foo/latest/{archive}", stack.cdn_url)).send().await.unwrap();
    assert_eq!(latest.status(), 404, "no latest");
    not_counted(&stack, "the revoked paths");

    // `trs import` of an existing history: project bar (new: the import creates it, its
    // committee ada) with its KEYS and one release of three files signed by rita. The commit
    // task stores the files under the upload role, then publishes them under the promote role.
    let (bar, made) = (dir.join("dist/bar"), dir.join("import-src"));
    std::fs::create_dir_all(bar.join("0.9.0")).unwrap();
    std::fs::create_dir_all(&made).unwrap();
    std::fs::write(bar.join("KEYS"), rita.armored().to_vec().unwrap()).unwrap();
    let imported = release_files(&made, &rita, "0.9.0").await;
    for f in &imported {
        std::fs::rename(made.join(f), bar.join("0.9.0").join(f)).unwrap();
    }
    let report = cli.json(Some("ada"), &["import", "dist", "--members", "ada"]).await;
    assert_eq!(report["summary"], serde_json::json!({"imported": 1}), "{report}");
    stack.settle().await;
    let public: Vec<String> = imported.iter().map(|f| format!("current/bar/0.9.0/{f}")).collect();
    assert_eq!(stack.objects(BUCKET, "current/bar/0.9.0/").await, public);
    let items = stack.items().await;
    let release = items.get(&("project#bar".to_string(), "release#-#0.9.0".to_string())).cloned();
    assert_eq!(release.unwrap_or(Value::Null)["stage"], "current");
    step(&stack, "import a release of 3 files into a new project (project, KEYS, store, publish)", &mut costs);
    assert_cost_rows(&costs);
    println!("{}", cost_table(&costs).join("\n"));
}

//! A moto server for tests: S3, DynamoDB and the rest of AWS emulated on a free loopback port,
//! started by [`MotoServer::start`] and killed when dropped.
//!
//! moto is started through a few lines of Python rather than `python -m moto.server`, for two
//! reasons: the server picks its own free port and prints it (no race for a port chosen
//! beforehand), and requests are served one at a time. moto's condition checks are Python
//! check-then-write sequences without locks, so two concurrent conditional writes handled on
//! two of its threads can both succeed. Real DynamoDB and S3 evaluate conditions atomically;
//! serialising requests makes moto do the same, so that the concurrency cases of the contract
//! suite test trs, not a race inside the emulator.
//!
//! **IAM mode.** moto evaluates identity policies once `INITIAL_NO_AUTH_ACTION_COUNT` is
//! reached (moto/core/authorization.py); the launcher keeps that off until a test calls
//! [`MotoServer::enforce_iam`], so tables, buckets and queues are made with the root test
//! credentials first. [`MotoServer::create_identity`] makes an IAM user carrying one inline
//! policy, and [`MotoServer::sdk_config_as`] signs as that user. What moto can and cannot judge
//! (it sees resources only for S3 and SQS, and no condition keys) is in docs/aws-storage.md;
//! every request moto authorizes is recorded with its credential, action, resource and body,
//! so a test can judge the rest itself ([`MotoServer::take_trace`]). The mail SES accepted is
//! read back from moto's SES backend ([`MotoServer::sent_mail`]).
//!
//! The test talks to the launcher over its stdin and stdout, one JSON line each way (not over
//! HTTP, which would mix the harness's requests into the ones it records); the launcher exits
//! when its stdin closes, so a test that dies leaves no server behind.
//!
//! Needs `python3` with `moto[server]` (test.sh installs it).

use serde::Deserialize;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const LAUNCHER: &str = r#"
import json, logging, os, sys, threading
from urllib.parse import parse_qs, quote, urlparse
from werkzeug.serving import make_server
from moto import settings
from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.authorization import ActionAuthenticatorMixin
from moto.iam.access_control import S3IAMRequest
from moto.iam.models import iam_backends
from botocore.awsrequest import AWSRequest
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

logging.getLogger("werkzeug").setLevel(logging.ERROR)
settings.INITIAL_NO_AUTH_ACTION_COUNT = float("inf")
app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()
trace = []
authorize = ActionAuthenticatorMixin._authenticate_and_authorize_action

def recorded(self, iam_request_cls, resource="*"):
    auth = self.headers.get("Authorization", "")
    query = parse_qs(urlparse(self.uri).query)
    presigned = "Credential=" not in auth
    if presigned:
        # Only S3 URLs are presigned (SigV4 X-Amz-Credential, or SigV2 AWSAccessKeyId).
        credential = query.get("X-Amz-Credential", query.get("AWSAccessKeyId", [""]))[0].split("/")[0] + "///s3"
    else:
        credential = auth.split("Credential=")[1]
    scope = credential.split(",")[0].split("/")
    call = {"key": scope[0], "service": scope[3], "action": self._get_action(),
            "resource": resource, "uri": self.uri, "presigned": presigned, "outcome": "allowed",
            "copy_source": self.headers.get("x-amz-copy-source"),
            "if_none_match": self.headers.get("If-None-Match"), "method": getattr(self, "method", "")}
    if call["service"] != "s3":
        body = self.raw_body
        call["body"] = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    trace.append(call)
    if presigned:
        # moto cannot check a presigned URL (no Authorization header): the test judges it.
        call["outcome"] = "unchecked"
        return
    try:
        authorize(self, iam_request_cls, resource)
    except Exception as e:
        call["outcome"] = "denied: " + type(e).__name__
        raise
    if ActionAuthenticatorMixin.request_count < settings.INITIAL_NO_AUTH_ACTION_COUNT:
        call["outcome"] = "unchecked"

ActionAuthenticatorMixin._authenticate_and_authorize_action = recorded

def s3_request(self):
    # moto re-signs an S3 request from its decoded URL, and with its query parameters as the
    # body when the body is empty (`self._body or self._data`), so every bodiless request with
    # a query (listing by prefix, starting a multipart upload, copying a part) fails its
    # signature check: sign the body, and the query encoded as SigV4 encodes it.
    signed = self._get_string_between("SignedHeaders=", ",", self._headers["Authorization"]).split(";")
    headers = self._create_headers_for_aws_request(signed, self._headers)
    path, _, query = self._path.partition("?")
    if query:
        pairs = [pair.partition("=") for pair in query.split("&")]
        path += "?" + "&".join(quote(k, safe="-_.~") + "=" + quote(v, safe="-_.~") for k, _, v in pairs)
    request = AWSRequest(method=self._method, url=path, data=self._body or b"", headers=headers)
    request.context["timestamp"] = headers["X-Amz-Date"]
    return request

S3IAMRequest._create_aws_request = s3_request

def one_at_a_time(environ, start_response):
    with lock:
        first = len(trace)
        def answered(status, headers, *rest):
            for call in trace[first:]:
                call["status"] = int(status.split()[0])
            return start_response(status, headers, *rest)
        chunks = list(app(environ, answered))
        for call in trace[first:]:
            # DynamoDB's answers show the items read (their sizes are the read units).
            if call["service"] == "dynamodb":
                call["response"] = b"".join(chunks).decode("utf-8", "replace")
        return chunks

def command(c):
    iam = iam_backends[DEFAULT_ACCOUNT_ID]["aws"]
    if c["cmd"] == "enforce":
        settings.INITIAL_NO_AUTH_ACTION_COUNT = 0 if c["on"] else float("inf")
        ActionAuthenticatorMixin.request_count = 0
        return {}
    if c["cmd"] == "identity":
        iam.create_user(region_name="us-east-1", user_name=c["name"])
        iam.put_user_policy(c["name"], "policy", json.dumps(c["policy"]))
        key = iam.create_access_key(c["name"])
        return {"access_key_id": key.access_key_id, "secret_access_key": key.secret_access_key}
    if c["cmd"] == "policy":
        iam.put_user_policy(c["name"], "policy", json.dumps(c["policy"]))
        return {}
    if c["cmd"] == "sent_mail":
        from moto.ses.models import ses_backends
        sent = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
        return {"messages": [{"source": m.source, "destinations": m.destinations,
                              "raw_data": getattr(m, "raw_data", None)} for m in sent]}
    if c["cmd"] == "trace":
        calls = list(trace)
        trace.clear()
        return {"calls": calls}
    return {"error": "unknown command"}

server = make_server("127.0.0.1", 0, one_at_a_time, threaded=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
print(f"moto listening on {server.port}", flush=True)
for line in sys.stdin:
    with lock:
        try:
            answer = command(json.loads(line))
        except Exception as e:
            answer = {"error": f"{type(e).__name__}: {e}"}
    print(json.dumps(answer), flush=True)
os._exit(0)
"#;

/// Credentials moto accepts while IAM is not enforced (it checks no signature then); any
/// non-empty values do.
pub const ACCESS_KEY_ID: &str = "testing";
pub const SECRET_ACCESS_KEY: &str = "testing";
pub const REGION: &str = "us-east-1";

/// moto's account; ARNs of the resources the tests make are in it.
pub const ACCOUNT_ID: &str = "123456789012";

pub struct MotoServer {
    child: Child,
    /// The launcher's command channel: a JSON line out, a JSON line back.
    control: Mutex<(ChildStdin, BufReader<ChildStdout>)>,
    /// `http://127.0.0.1:PORT`
    pub endpoint: String,
}

/// An IAM user made by [`MotoServer::create_identity`], and its access key.
#[derive(Debug, Clone, Deserialize)]
pub struct Identity {
    #[serde(skip)]
    pub name: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

/// One request as moto authorized it (or, for a presigned URL, could not).
#[derive(Debug, Clone, Deserialize)]
pub struct Call {
    /// The access key id that signed it.
    pub key: String,
    /// The signing scope's service (`s3`, `dynamodb`, `sqs`, `events`, ...).
    pub service: String,
    /// moto's name for it: the API operation, for S3 the IAM action moto checks.
    pub action: String,
    /// The resource moto checked: an ARN for S3 and SQS, `*` for every other service.
    pub resource: String,
    /// The request URL as moto saw it (decoded).
    pub uri: String,
    /// Signed in the URL (presigned): moto cannot check it.
    pub presigned: bool,
    /// `allowed`, `denied: ERROR`, or `unchecked` (IAM not enforced, or presigned).
    pub outcome: String,
    /// S3's `x-amz-copy-source` (a copy also reads its source).
    pub copy_source: Option<String>,
    /// The `If-None-Match` header (S3's conditional create; the bucket policy requires it on
    /// release files).
    #[serde(default)]
    pub if_none_match: Option<String>,
    /// The HTTP method (S3 tells a multipart upload's steps apart by it and the query).
    #[serde(default)]
    pub method: String,
    /// The request body, for every service but S3.
    pub body: Option<String>,
    /// The HTTP status moto answered with.
    #[serde(default)]
    pub status: u16,
    /// The answer's body, for DynamoDB (the items read).
    #[serde(default)]
    pub response: Option<String>,
}

impl MotoServer {
    /// Starts moto and waits until it answers HTTP (at most 30 s).
    pub fn start() -> Result<Self, String> {
        let python = std::env::var("TRS_PYTHON").unwrap_or_else(|_| "python3".into());
        let mut child = Command::new(&python)
            .args(["-c", LAUNCHER])
            .env("MOTO_ALLOW_NONEXISTENT_REGION", "true")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot run {python}: {e}"))?;
        let stdin = child.stdin.take().expect("stdin is piped");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        let mut line = String::new();
        stdout.read_line(&mut line).map_err(|e| format!("reading moto's output: {e}"))?;
        let Some(port) = line.trim().strip_prefix("moto listening on ") else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "moto did not start (is `moto[server]` installed for {python}? `pip install 'moto[server]>=5'`); \
                 it said: {line:?}"
            ));
        };
        let endpoint = format!("http://127.0.0.1:{}", port.trim());
        let server = Self { endpoint, child, control: Mutex::new((stdin, stdout)) };
        server.wait_until_answering(Duration::from_secs(30))?;
        Ok(server)
    }

    fn wait_until_answering(&self, limit: Duration) -> Result<(), String> {
        let addr = self.endpoint.trim_start_matches("http://").to_string();
        let start = Instant::now();
        loop {
            if std::net::TcpStream::connect(&addr).is_ok() {
                return Ok(());
            }
            if start.elapsed() > limit {
                return Err(format!("moto on {addr} did not answer within {limit:?}"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends the launcher one command and returns its answer (a local pipe: blocking briefly
    /// is fine, and moto's lock keeps commands apart from requests).
    fn command(&self, command: Value) -> Value {
        let mut control = self.control.lock().expect("moto control");
        let (stdin, stdout) = &mut *control;
        writeln!(stdin, "{command}").and_then(|()| stdin.flush()).expect("write to moto's launcher");
        let mut line = String::new();
        stdout.read_line(&mut line).expect("read from moto's launcher");
        let answer: Value = serde_json::from_str(&line).expect("the launcher answers JSON");
        if let Some(error) = answer.get("error") {
            panic!("moto's launcher refused {command}: {error}");
        }
        answer
    }

    /// Turns moto's IAM checks on (every request must be signed by an IAM user's key and be
    /// allowed by its policies) or off (any credentials, no checks).
    pub fn enforce_iam(&self, on: bool) {
        self.command(json!({"cmd": "enforce", "on": on}));
    }

    /// Creates the IAM user `name` with `policy` (a policy document) as its only inline policy,
    /// and an access key for it. moto validates the document as IAM does.
    pub fn create_identity(&self, name: &str, policy: &Value) -> Identity {
        let answer = self.command(json!({"cmd": "identity", "name": name, "policy": policy}));
        Identity { name: name.into(), ..serde_json::from_value(answer).expect("an access key") }
    }

    /// Replaces the inline policy of the IAM user `name`.
    pub fn set_policy(&self, name: &str, policy: &Value) {
        self.command(json!({"cmd": "policy", "name": name, "policy": policy}));
    }

    /// The requests moto received since the last call, oldest first.
    pub fn take_trace(&self) -> Vec<Call> {
        serde_json::from_value(self.command(json!({"cmd": "trace"}))["calls"].take()).expect("recorded calls")
    }

    /// An SDK configuration for this server signing as `identity`.
    pub fn sdk_config_as(&self, identity: &Identity) -> aws_config::SdkConfig {
        self.config_with(&identity.access_key_id, &identity.secret_access_key)
    }

    /// Environment for a process (such as `trs serve --backend aws`) to reach this server
    /// through the standard AWS variables.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID.into()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY.into()),
            ("AWS_REGION", REGION.into()),
            // Nothing to ask on a laptop or in CI; never reach for the metadata address.
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
            ("TRS_AWS_ENDPOINT", self.endpoint.clone()),
        ]
    }

    /// An SDK configuration for this server with its test credentials, independent of the
    /// caller's environment.
    /// The mail SES accepted so far, oldest first, as moto's SES backend keeps it: each with
    /// `source`, `destinations` and the message as sent, `raw_data`.
    pub fn sent_mail(&self) -> Vec<Value> {
        self.command(json!({"cmd": "sent_mail"}))["messages"].as_array().cloned().unwrap_or_default()
    }

    pub fn sdk_config(&self) -> aws_config::SdkConfig {
        self.config_with(ACCESS_KEY_ID, SECRET_ACCESS_KEY)
    }

    fn config_with(&self, key: &str, secret: &str) -> aws_config::SdkConfig {
        let credentials = aws_sdk_s3::config::Credentials::new(key, secret, None, None, "moto");
        aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(REGION))
            .endpoint_url(&self.endpoint)
            .credentials_provider(aws_sdk_s3::config::SharedCredentialsProvider::new(credentials))
            .build()
    }
}

/// A CloudFront distribution with one S3 origin, as far as moto needs one; returns its id.
pub async fn create_distribution(client: &aws_sdk_cloudfront::Client) -> String {
    use aws_sdk_cloudfront::types::{
        DefaultCacheBehavior, DistributionConfig, Origin, Origins, S3OriginConfig, ViewerProtocolPolicy,
    };
    let origin = Origin::builder()
        .id("site")
        .domain_name("site.s3.us-east-1.amazonaws.com")
        .s3_origin_config(S3OriginConfig::builder().origin_access_identity("").build())
        .build()
        .expect("origin");
    let config = DistributionConfig::builder()
        .caller_reference("test-distribution")
        .comment("trs test")
        .enabled(true)
        .origins(Origins::builder().quantity(1).items(origin).build().expect("origins"))
        .default_cache_behavior(
            DefaultCacheBehavior::builder()
                .target_origin_id("site")
                .viewer_protocol_policy(ViewerProtocolPolicy::RedirectToHttps)
                .build()
                .expect("cache behaviour"),
        )
        .build()
        .expect("distribution config");
    let created = client.create_distribution().distribution_config(config).send().await.expect("create distribution");
    created.distribution().expect("distribution").id().to_string()
}

/// The paths of every invalidation made in `distribution`, one list per invalidation.
pub async fn invalidations(client: &aws_sdk_cloudfront::Client, distribution: &str) -> Vec<Vec<String>> {
    let list = client.list_invalidations().distribution_id(distribution).send().await.expect("list invalidations");
    let mut out = Vec::new();
    for summary in list.invalidation_list().map(|l| l.items()).unwrap_or_default() {
        let one = client.get_invalidation().distribution_id(distribution).id(summary.id()).send().await;
        let invalidation = one.expect("get invalidation");
        let batch = invalidation.invalidation().and_then(|i| i.invalidation_batch()).expect("batch");
        out.push(batch.paths().and_then(|p| p.items.clone()).unwrap_or_default());
    }
    out
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

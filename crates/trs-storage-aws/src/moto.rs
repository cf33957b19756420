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
//! Needs `python3` with `moto[server]` (test.sh installs it).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const LAUNCHER: &str = r#"
import logging, sys, threading
from werkzeug.serving import make_server
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

logging.getLogger("werkzeug").setLevel(logging.ERROR)
app = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()

def one_at_a_time(environ, start_response):
    with lock:
        return list(app(environ, start_response))

server = make_server("127.0.0.1", 0, one_at_a_time, threaded=True)
print(f"moto listening on {server.port}", flush=True)
server.serve_forever()
"#;

/// Credentials moto accepts (it checks no signature); any non-empty values do.
pub const ACCESS_KEY_ID: &str = "testing";
pub const SECRET_ACCESS_KEY: &str = "testing";
pub const REGION: &str = "us-east-1";

pub struct MotoServer {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub endpoint: String,
}

impl MotoServer {
    /// Starts moto and waits until it answers HTTP (at most 30 s).
    pub fn start() -> Result<Self, String> {
        let python = std::env::var("TRS_PYTHON").unwrap_or_else(|_| "python3".into());
        let mut child = Command::new(&python)
            .args(["-c", LAUNCHER])
            .env("MOTO_ALLOW_NONEXISTENT_REGION", "true")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot run {python}: {e}"))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map_err(|e| format!("reading moto's output: {e}"))?;
        let Some(port) = line.trim().strip_prefix("moto listening on ") else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "moto did not start (is `moto[server]` installed for {python}? `pip install 'moto[server]>=5'`); \
                 it said: {line:?}"
            ));
        };
        let server = Self { endpoint: format!("http://127.0.0.1:{}", port.trim()), child };
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
    pub fn sdk_config(&self) -> aws_config::SdkConfig {
        let credentials = aws_sdk_s3::config::Credentials::new(ACCESS_KEY_ID, SECRET_ACCESS_KEY, None, None, "moto");
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

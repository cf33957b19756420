//! The stack as deployed, on one machine: infra/template.json's wiring around the **real
//! Lambda binaries**, each under its own IAM identity (support/iam.rs) on moto with IAM
//! enforced, each started as Lambda starts it and fed through its own Runtime API
//! (support/runtime_api.rs).
//!
//! What the template wires, read from the template itself:
//!
//! - **API Gateway** (`AWS::ApiGatewayV2::Route`): [`AwsStack::api_url`] turns each HTTP
//!   request into an HTTP API payload 2.0 event for the function whose integration the
//!   matching route targets (the most specific route wins, as API Gateway chooses), and the
//!   function's answer back into the HTTP response. No route: API Gateway's 404. Lambda's
//!   6 MB invocation payload limit holds both ways.
//! - **CloudFront** (`Distribution`'s cache behaviours, in order): [`AwsStack::cdn_url`]
//!   sends each path to the origin the template names: the API, the release-files bucket or
//!   the site bucket (with `SiteFolderIndexFunction`'s rewrite of folder URLs). A missing
//!   object is a 404 where the bucket's policy lets CloudFront list it, else S3's 403; an
//!   origin group (`OriginGroups`) sends a GET or HEAD whose answer has one of its failover
//!   codes to its second origin. No caching: a CloudFront cache is not emulated (docs/aws-storage.md, "What moto cannot prove").
//! - **SQS event source mappings**: each queue's messages, in batches of the mapping's size,
//!   to the function it names; settled messages are deleted, reported ones stay (they come
//!   back after the queue's visibility timeout, as on AWS).
//! - **The table's change stream** (`StreamTableStreamMapping`): the table is read after each
//!   step and compared with what was seen before, so each new item is an `INSERT`, a changed
//!   one a `MODIFY` and a deleted one a `REMOVE` record (new images), in key order; the
//!   mapping's filter criteria choose which reach the stream function, in batches of its size.
//!   Records it reports are delivered again.
//! - **The release-stream bus** (`PublishSiteRule`): a rule with the template's event pattern
//!   on moto's bus delivers into a queue, whose events go to the rule's target function.
//! - **The schedule** (`LifecycleSchedule`): [`AwsStack::tick`], on demand, delivers a
//!   `Scheduled Event` of the rule to its target.
//!
//! Everything the functions do goes through moto under their roles; the harness itself (the
//! Lambda service's polling, CloudFront's reads, the operator's bootstrap) signs as one more
//! identity, [`HARNESS`], allowed everything and left out of every count.

use crate::support::fixture;
use crate::support::iam::{self, Physical, Stack};
use crate::support::runtime_api::{FunctionProcess, Outcome, RuntimeApi};
use aws_sdk_dynamodb::types::AttributeValue;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::Mutex;

/// The identity of the harness: what Lambda, CloudFront and the operator do with their own
/// credentials.
pub const HARNESS: &str = "Harness";
/// Lambda's limit on an invocation's request and response payload (synchronous invocation).
const PAYLOAD_LIMIT: usize = 6 * 1024 * 1024;
/// The queue the harness subscribes to the bus with the publish-site rule's pattern.
const BUS_DELIVERIES: &str = "trs-publish-site-deliveries";

/// The binary Lambda runs for each function of the template (`{F}Function`).
fn binary(function: &str) -> &'static str {
    match function {
        "Admin" => env!("CARGO_BIN_EXE_trs-lambda-admin"),
        "Upload" => env!("CARGO_BIN_EXE_trs-lambda-upload"),
        "Verify" => env!("CARGO_BIN_EXE_trs-lambda-verify"),
        "Promote" => env!("CARGO_BIN_EXE_trs-lambda-promote"),
        "Vote" => env!("CARGO_BIN_EXE_trs-lambda-vote"),
        "Lifecycle" => env!("CARGO_BIN_EXE_trs-lambda-lifecycle"),
        "Stream" => env!("CARGO_BIN_EXE_trs-lambda-stream"),
        "PublishSite" => env!("CARGO_BIN_EXE_trs-lambda-publish-site"),
        other => panic!("no binary for function {other}"),
    }
}

/// The function a `{"Ref": "XFunction"}` or `{"Fn::GetAtt": ["XFunction", "Arn"]}` names.
fn function_of(reference: &Value) -> String {
    let logical = reference["Ref"].as_str().or_else(|| reference["Fn::GetAtt"][0].as_str()).unwrap_or_default();
    logical.strip_suffix("Function").unwrap_or_else(|| panic!("{reference} names no function")).to_string()
}

/// A deployed function: its Runtime API and its process.
struct Deployed {
    api: RuntimeApi,
    _process: FunctionProcess,
}

/// One route of the HTTP API: `METHOD /path/{var}/{rest+}`.
struct Route {
    key: String,
    method: String,
    segments: Vec<String>,
    function: String,
}

impl Route {
    /// The path parameters, when `path` matches; a greedy `{name+}` takes the rest (at least
    /// one segment).
    fn matches(&self, method: &str, path: &str) -> Option<BTreeMap<String, String>> {
        if self.method != method {
            return None;
        }
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let mut params = BTreeMap::new();
        for (i, segment) in self.segments.iter().enumerate() {
            if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix("+}")) {
                // A trailing slash still matches (the path parameter without it; the function
                // gets the raw path as sent, slash and all).
                let rest = parts.get(i..)?;
                let rest = match rest.split_last() {
                    Some((last, before)) if last.is_empty() && !before.is_empty() => before,
                    _ => rest,
                };
                if rest.is_empty() || rest.iter().any(|p| p.is_empty()) {
                    return None;
                }
                params.insert(name.to_string(), rest.join("/"));
                return Some(params);
            }
            let part = parts.get(i)?;
            match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) if !part.is_empty() => {
                    params.insert(name.to_string(), percent_decoded(part));
                }
                Some(_) => return None,
                None if segment == part => {}
                None => return None,
            }
        }
        (parts.len() == self.segments.len()).then_some(params)
    }

    /// API Gateway prefers literal segments to variables, and variables to a greedy one.
    fn specificity(&self) -> Vec<u8> {
        self.segments
            .iter()
            .map(|s| match (s.starts_with('{'), s.ends_with("+}")) {
                (false, _) => 2,
                (true, false) => 1,
                (true, true) => 0,
            })
            .collect()
    }
}

fn percent_decoded(text: &str) -> String {
    percent_encoding::percent_decode_str(text).decode_utf8_lossy().into_owned()
}

/// Where CloudFront sends a path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Origin {
    Api,
    /// A bucket: its name, whether CloudFront may list it (a missing object is then a 404,
    /// else a 403), and whether the folder-index function runs on its requests.
    Bucket {
        name: String,
        listable: bool,
        folder_index: bool,
    },
    /// An origin group: the primary's answer, unless it is a GET or HEAD whose status is one
    /// of the group's failover codes; then the secondary's (CloudFront's origin failover).
    Failover {
        primary: Box<Origin>,
        secondary: Box<Origin>,
        on: Vec<u16>,
    },
}

/// An SQS event source mapping.
struct QueueMapping {
    url: String,
    arn: String,
    function: String,
    batch_size: usize,
}

struct Shared {
    functions: BTreeMap<String, Deployed>,
    routes: Vec<Route>,
    /// CloudFront's cache behaviours in order, then the default.
    behaviours: Vec<(String, Origin)>,
    default_origin: Origin,
    queues: Vec<QueueMapping>,
    /// The table's stream mapping: function, batch size, filter patterns, stream ARN.
    stream_function: String,
    stream_batch: usize,
    stream_filters: Vec<Value>,
    stream_arn: String,
    /// The bus rule's deliveries and its target.
    bus_queue: String,
    bus_function: String,
    /// The schedule rule's ARN and its target.
    schedule_arn: String,
    schedule_function: String,
    table: String,
    dynamo: aws_sdk_dynamodb::Client,
    s3: aws_sdk_s3::Client,
    sqs: aws_sdk_sqs::Client,
    /// The table as the change stream last saw it: key → (version, image).
    seen: Mutex<BTreeMap<(String, String), Value>>,
    /// Stream records delivered, reported and not yet settled (delivered again first).
    pending_records: Mutex<Vec<Value>>,
    sequence: AtomicU64,
    invocations: std::sync::Mutex<BTreeMap<String, u64>>,
    /// What went wrong on the asynchronous sources (a failed or reported delivery), since the
    /// last [`AwsStack::cost`]: on AWS it would be retried, then dead-lettered.
    failures: std::sync::Mutex<Vec<String>>,
    settling: Mutex<()>,
}

/// The stack; its servers and function processes stop when it drops.
pub struct AwsStack {
    pub stack: Stack,
    /// The HTTP API's URL (the `ApiUrl` output; what `TRS_URL` is set to).
    pub api_url: String,
    /// The CloudFront distribution's URL (the `DistributionDomain` output).
    pub cdn_url: String,
    /// The harness's credentials (allowed everything): for looking into the stack.
    pub harness: aws_config::SdkConfig,
    pub harness_identity: trs_storage_aws::moto::Identity,
    shared: Arc<Shared>,
    pump: tokio::task::JoinHandle<()>,
}

impl Drop for AwsStack {
    fn drop(&mut self) {
        self.pump.abort();
    }
}

/// What one operation cost, from moto's trace and the harness's counts.
#[derive(Debug, Default, Clone)]
pub struct Cost {
    /// Requests by service and action, over every function's identity (presigned URLs
    /// included: they are counted for their signer).
    pub requests: BTreeMap<String, u64>,
    /// DynamoDB capacity units as DynamoDB bills them, from the items' sizes.
    pub read_units: f64,
    pub write_units: f64,
    /// Lambda invocations by function.
    pub invocations: BTreeMap<String, u64>,
    /// CloudFront invalidation paths.
    pub invalidation_paths: Vec<String>,
}

impl Cost {
    pub fn count(&self, service: &str) -> u64 {
        self.requests.iter().filter(|(k, _)| k.starts_with(&format!("{service}:"))).map(|(_, n)| n).sum()
    }
}

impl AwsStack {
    /// Makes the template's resources on a new moto (support/iam.rs), starts every function
    /// of the template under its identity, and the API Gateway and CloudFront listeners.
    pub async fn start() -> AwsStack {
        let mut stack = Stack::start(&json!({})).await;
        // The listeners' addresses are the API's and the distribution's URLs, which the
        // functions' environment names (`TRS_API_URL`): bound first, served once wired.
        let api_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let cdn_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let api_url = format!("http://{}", api_listener.local_addr().unwrap());
        let cdn_url = format!("http://{}", cdn_listener.local_addr().unwrap());
        stack.physical.set("HttpApi", "local", &[("ApiEndpoint", api_url.as_str())]);
        let everything =
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
        let harness_identity = stack.moto.create_identity(HARNESS, &everything);
        let harness = stack.moto.sdk_config_as(&harness_identity);
        let (template, physical) = (&stack.template, &stack.physical);
        let mut functions = BTreeMap::new();
        for (id, _) in of_type(template, "AWS::Lambda::Function") {
            let name = id.strip_suffix("Function").unwrap().to_string();
            let api = RuntimeApi::start(&format!("trs-{name}")).await;
            let identity = &stack.identities[name.as_str()];
            let template_vars = physical.environment(template, &name);
            let mut vars: Vec<(&str, String)> = template_vars.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
            vars.extend([
                ("TRS_AWS_ENDPOINT", stack.moto.endpoint.clone()),
                ("AWS_ACCESS_KEY_ID", identity.access_key_id.clone()),
                ("AWS_SECRET_ACCESS_KEY", identity.secret_access_key.clone()),
                ("AWS_REGION", trs_storage_aws::moto::REGION.into()),
                ("AWS_DEFAULT_REGION", trs_storage_aws::moto::REGION.into()),
                ("AWS_EC2_METADATA_DISABLED", "true".into()),
            ]);
            let process = api.spawn(binary(&name), &vars);
            functions.insert(name, Deployed { api, _process: process });
        }
        let (behaviours, default_origin) = distribution(template, physical);
        let (queues, stream) = mappings(template, physical);
        let (stream_function, stream_batch, stream_filters, stream_arn) = stream;
        let sqs = aws_sdk_sqs::Client::new(&harness);
        let (bus_queue, bus_function) = subscribe_to_bus(template, physical, &harness, &sqs).await;
        let schedule = &template["Resources"]["LifecycleSchedule"]["Properties"];
        let schedule_function = function_of(&schedule["Targets"][0]["Arn"]);
        let schedule_arn = format!(
            "arn:aws:events:{}:{}:rule/trs-LifecycleSchedule",
            trs_storage_aws::moto::REGION,
            trs_storage_aws::moto::ACCOUNT_ID
        );

        let (dynamo, s3) = trs_storage_aws::clients(&harness, true);
        let shared = Arc::new(Shared {
            functions,
            routes: routes(template),
            behaviours,
            default_origin,
            queues,
            stream_function,
            stream_batch,
            stream_filters,
            stream_arn,
            bus_queue,
            bus_function,
            schedule_arn,
            schedule_function,
            table: iam::TABLE.into(),
            dynamo,
            s3,
            sqs,
            seen: Mutex::new(BTreeMap::new()),
            pending_records: Mutex::new(Vec::new()),
            sequence: AtomicU64::new(0),
            invocations: std::sync::Mutex::new(BTreeMap::new()),
            failures: std::sync::Mutex::new(Vec::new()),
            settling: Mutex::new(()),
        });

        serve(api_listener, axum::Router::new().fallback(api).with_state(shared.clone()));
        serve(cdn_listener, axum::Router::new().fallback(cdn).with_state(shared.clone()));
        // Lambda polls its sources all the time; the harness looks a few times a second, so a
        // client waiting on a task (`trs upload`, `trs promote`) sees it run.
        let pumping = shared.clone();
        let pump = tokio::spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(300)).await;
                pumping.settle().await;
            }
        });
        AwsStack { stack, api_url, cdn_url, harness, harness_identity, shared, pump }
    }

    /// Delivers every pending event (queues, change stream, bus) until nothing moves.
    pub async fn settle(&self) {
        self.shared.settle().await;
    }

    /// One run of the schedule: a `Scheduled Event` from the rule to its target; its answer
    /// (the tick's report). Then everything it caused is delivered.
    pub async fn tick(&self) -> Value {
        let mut event = fixture("eventbridge-scheduled.json");
        event["region"] = trs_storage_aws::moto::REGION.into();
        event["resources"] = json!([self.shared.schedule_arn]);
        let function = self.shared.schedule_function.clone();
        let answer = match self.shared.invoke(&function, event).await {
            Outcome::Response(v) => v,
            Outcome::Error(kind, e) => panic!("the scheduled run failed ({kind:?}): {e}"),
        };
        self.settle().await;
        answer
    }

    /// The environment for the `trs` CLI: the API's URL, and for the operator's commands on
    /// the table and bucket (`trs admin bootstrap --backend aws`), the harness's credentials.
    pub fn cli_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("TRS_URL", self.api_url.clone()),
            ("TRS_BACKEND", "aws".into()),
            ("TRS_AWS_ENDPOINT", self.stack.moto.endpoint.clone()),
            ("TRS_AWS_TABLE", iam::TABLE.into()),
            ("TRS_AWS_BUCKET", iam::BUCKET.into()),
            ("AWS_ACCESS_KEY_ID", self.harness_identity.access_key_id.clone()),
            ("AWS_SECRET_ACCESS_KEY", self.harness_identity.secret_access_key.clone()),
            ("AWS_REGION", trs_storage_aws::moto::REGION.into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ]
    }

    /// What happened since the last call: the requests every function's identity made, with
    /// DynamoDB's capacity units, the invocations and the invalidated paths. The calls are
    /// judged against the template's policies and the bucket policy (support/iam.rs); those
    /// problems, and every failed delivery of a queue, stream or bus event, are returned too.
    pub fn cost(&self) -> (Cost, Vec<String>) {
        let mut cost = Cost::default();
        let mut problems = std::mem::take(&mut *self.shared.failures.lock().unwrap());
        let calls = self.stack.calls_by_function();
        for (function, calls) in &calls {
            if *function == HARNESS {
                continue;
            }
            for problem in self.stack.judge(function, calls) {
                problems.push(format!("{function}: {problem}"));
            }
            for call in calls {
                *cost.requests.entry(format!("{}:{}", call.service, call.action)).or_default() += 1;
                let (read, write) = capacity(call);
                cost.read_units += read;
                cost.write_units += write;
                if call.service == "cloudfront" && call.action == "CreateInvalidation" {
                    cost.invalidation_paths.extend(invalidation_paths(call.body.as_deref().unwrap_or_default()));
                }
            }
        }
        cost.invocations = std::mem::take(&mut *self.shared.invocations.lock().unwrap());
        (cost, problems)
    }

    /// Keys of the objects under `prefix` in `bucket`.
    pub async fn objects(&self, bucket: &str, prefix: &str) -> Vec<String> {
        let listed = self.shared.s3.list_objects_v2().bucket(bucket).prefix(prefix).send().await.unwrap();
        listed.contents().iter().filter_map(|o| o.key().map(str::to_string)).collect()
    }

    /// The items of the table: key → body (JSON, or the raw text), as the harness reads them.
    pub async fn items(&self) -> BTreeMap<(String, String), Value> {
        scan(&self.shared.dynamo, &self.shared.table)
            .await
            .into_iter()
            .map(|(key, image)| {
                let body = image["body"]["S"].as_str().unwrap_or_default();
                (key, serde_json::from_str(body).unwrap_or_else(|_| Value::from(body)))
            })
            .collect()
    }
}

/// The template's resources of type `kind`, by logical id.
fn of_type<'t>(template: &'t Value, kind: &'static str) -> impl Iterator<Item = (&'t String, &'t Value)> {
    template["Resources"].as_object().unwrap().iter().filter(move |(_, r)| r["Type"] == kind)
}

/// The HTTP API's routes, each with the function its integration invokes.
fn routes(template: &Value) -> Vec<Route> {
    let mut routes = Vec::new();
    for (id, route) in of_type(template, "AWS::ApiGatewayV2::Route") {
        let key = route["Properties"]["RouteKey"].as_str().unwrap().to_string();
        let target = route["Properties"]["Target"]["Fn::Sub"].as_str().unwrap_or_default();
        let integration = target.strip_prefix("integrations/${").and_then(|t| t.strip_suffix('}'));
        let integration = integration.unwrap_or_else(|| panic!("{id}: target {target}"));
        let function = function_of(&template["Resources"][integration]["Properties"]["IntegrationUri"]);
        let (method, path) = key.split_once(' ').unwrap();
        let segments = path.trim_start_matches('/').split('/').map(str::to_string).collect();
        routes.push(Route { key: key.clone(), method: method.into(), segments, function });
    }
    routes
}

/// The distribution's cache behaviours (path pattern and origin, in order) and its default
/// behaviour's origin.
fn distribution(template: &Value, physical: &Physical) -> (Vec<(String, Origin)>, Origin) {
    let config = &template["Resources"]["Distribution"]["Properties"]["DistributionConfig"];
    let bucket_policies: Vec<&Value> =
        of_type(template, "AWS::S3::BucketPolicy").map(|(_, p)| &p["Properties"]).collect();
    let member = |id: &str, behaviour: &Value| -> Origin {
        let origin = config["Origins"].as_array().unwrap().iter().find(|o| o["Id"] == id).unwrap();
        let Some(bucket) = origin["DomainName"]["Fn::GetAtt"][0].as_str() else {
            assert!(origin["CustomOriginConfig"].is_object(), "origin {id} is the API");
            return Origin::Api;
        };
        // CloudFront may list the bucket when its policy allows s3:ListBucket.
        let listable = bucket_policies
            .iter()
            .any(|p| p["Bucket"]["Ref"] == bucket && p["PolicyDocument"].to_string().contains("s3:ListBucket"));
        let folder_index = behaviour["FunctionAssociations"]
            .as_array()
            .is_some_and(|f| f.iter().any(|a| a["FunctionARN"]["Fn::GetAtt"][0] == "SiteFolderIndexFunction"));
        let name = physical.resolve(&json!({"Ref": bucket})).as_str().unwrap().into();
        Origin::Bucket { name, listable, folder_index }
    };
    let groups = config["OriginGroups"]["Items"].as_array().cloned().unwrap_or_default();
    let origin = |id: &str, behaviour: &Value| -> Origin {
        let Some(group) = groups.iter().find(|g| g["Id"] == id) else { return member(id, behaviour) };
        let members: Vec<Origin> = group["Members"]["Items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| member(m["OriginId"].as_str().unwrap(), behaviour))
            .collect();
        let [primary, secondary]: [Origin; 2] = members.try_into().expect("an origin group has two members");
        let on = group["FailoverCriteria"]["StatusCodes"]["Items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_u64().unwrap() as u16)
            .collect();
        Origin::Failover { primary: Box::new(primary), secondary: Box::new(secondary), on }
    };
    let behaviours = config["CacheBehaviors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["PathPattern"].as_str().unwrap().to_string(), origin(b["TargetOriginId"].as_str().unwrap(), b)))
        .collect();
    let default = &config["DefaultCacheBehavior"];
    (behaviours, origin(default["TargetOriginId"].as_str().unwrap(), default))
}

/// The stream mapping: its function, batch size, filter patterns and the stream's ARN.
type StreamMapping = (String, usize, Vec<Value>, String);

/// The event source mappings: the queues' and the table stream's.
fn mappings(template: &Value, physical: &Physical) -> (Vec<QueueMapping>, StreamMapping) {
    let mut queues = Vec::new();
    let mut stream = None;
    for (_, mapping) in of_type(template, "AWS::Lambda::EventSourceMapping") {
        let p = &mapping["Properties"];
        let function = function_of(&p["FunctionName"]);
        let batch_size = p["BatchSize"].as_u64().unwrap_or(10) as usize;
        let source = physical.resolve(&p["EventSourceArn"]).as_str().unwrap().to_string();
        if p["EventSourceArn"]["Fn::GetAtt"][1] == "StreamArn" {
            let filters = p["FilterCriteria"]["Filters"]
                .as_array()
                .map(|f| f.iter().map(|f| serde_json::from_str(f["Pattern"].as_str().unwrap()).unwrap()).collect())
                .unwrap_or_default();
            stream = Some((function, batch_size, filters, source));
        } else {
            let queue = p["EventSourceArn"]["Fn::GetAtt"][0].as_str().unwrap();
            let url = physical.resolve(&json!({"Ref": queue})).as_str().unwrap().to_string();
            queues.push(QueueMapping { url, arn: source, function, batch_size });
        }
    }
    (queues, stream.expect("the table's stream mapping"))
}

/// The publish-site rule on moto's bus, with the template's event pattern, delivering into a
/// queue of the harness; the queue's URL and the rule's target function.
async fn subscribe_to_bus(
    template: &Value,
    physical: &Physical,
    harness: &aws_config::SdkConfig,
    sqs: &aws_sdk_sqs::Client,
) -> (String, String) {
    let rule = &template["Resources"]["PublishSiteRule"]["Properties"];
    let events = aws_sdk_eventbridge::Client::new(harness);
    let (queue, queue_arn) = trs_messaging_aws::testing::queue(sqs, BUS_DELIVERIES).await;
    let bus = physical.resolve(&rule["EventBusName"]).as_str().unwrap().to_string();
    let pattern = rule["EventPattern"].to_string();
    events.put_rule().name("PublishSiteRule").event_bus_name(&bus).event_pattern(pattern).send().await.unwrap();
    let target = aws_sdk_eventbridge::types::Target::builder().id("publish-site").arn(queue_arn).build().unwrap();
    events.put_targets().rule("PublishSiteRule").event_bus_name(&bus).targets(target).send().await.unwrap();
    (queue, function_of(&rule["Targets"][0]["Arn"]))
}

fn serve(listener: tokio::net::TcpListener, router: axum::Router) {
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
}

impl Shared {
    async fn invoke(&self, function: &str, event: Value) -> Outcome {
        *self.invocations.lock().unwrap().entry(function.to_string()).or_default() += 1;
        self.functions[function].api.invoke(event).await
    }

    fn failed(&self, what: String) {
        eprintln!("harness: {what}");
        self.failures.lock().unwrap().push(what);
    }

    async fn settle(&self) {
        let _one = self.settling.lock().await;
        while self.deliver_queues().await + self.deliver_stream().await + self.deliver_bus().await > 0 {}
    }

    /// One round of every SQS mapping; how many messages were delivered.
    async fn deliver_queues(&self) -> usize {
        let mut delivered = 0;
        for mapping in &self.queues {
            let received = self
                .sqs
                .receive_message()
                .queue_url(&mapping.url)
                .max_number_of_messages(mapping.batch_size as i32)
                .send()
                .await
                .unwrap();
            let messages = received.messages.unwrap_or_default();
            if messages.is_empty() {
                continue;
            }
            delivered += messages.len();
            let records: Vec<Value> = messages
                .iter()
                .map(|m| {
                    json!({
                        "messageId": m.message_id(), "receiptHandle": m.receipt_handle(), "body": m.body(),
                        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1779959555000",
                                       "SenderId": "AROAEXAMPLE", "ApproximateFirstReceiveTimestamp": "1779959555012"},
                        "messageAttributes": {}, "md5OfBody": m.md5_of_body(), "eventSource": "aws:sqs",
                        "eventSourceARN": mapping.arn, "awsRegion": trs_storage_aws::moto::REGION,
                    })
                })
                .collect();
            let failed: Vec<String> = match self.invoke(&mapping.function, json!({"Records": records})).await {
                Outcome::Response(answer) => answer["batchItemFailures"]
                    .as_array()
                    .map(|f| f.iter().filter_map(|i| i["itemIdentifier"].as_str().map(str::to_string)).collect())
                    .unwrap_or_default(),
                Outcome::Error(_, e) => {
                    self.failed(format!("{} failed a batch from {}: {e}", mapping.function, mapping.url));
                    messages.iter().filter_map(|m| m.message_id().map(str::to_string)).collect()
                }
            };
            for m in &messages {
                if failed.iter().any(|f| Some(f.as_str()) == m.message_id()) {
                    self.failed(format!("{} reported message {:?}; it stays on its queue", mapping.function, m.body()));
                    continue;
                }
                let receipt = m.receipt_handle().unwrap_or_default();
                self.sqs.delete_message().queue_url(&mapping.url).receipt_handle(receipt).send().await.unwrap();
            }
        }
        delivered
    }

    /// The table's changes since the last look, as change-stream records through the
    /// mapping's filter, to the stream function; how many records were delivered.
    async fn deliver_stream(&self) -> usize {
        let now = scan(&self.dynamo, &self.table).await;
        let mut seen = self.seen.lock().await;
        let mut records = std::mem::take(&mut *self.pending_records.lock().await);
        let mut record = |name: &str, key: &(String, String), image: Option<&Value>| {
            let n = self.sequence.fetch_add(1, Ordering::SeqCst) + 1;
            let mut dynamodb = json!({
                "ApproximateCreationDateTime": 1779959554,
                "Keys": {"pk": {"S": key.0}, "sk": {"S": key.1}},
                "SequenceNumber": format!("{n:021}"),
                "SizeBytes": image.map_or(0, |i| i.to_string().len()),
                "StreamViewType": "NEW_IMAGE",
            });
            if let Some(image) = image {
                dynamodb["NewImage"] = image.clone();
            }
            let record = json!({
                "eventID": format!("{n:032x}"), "eventName": name, "eventVersion": "1.1",
                "eventSource": "aws:dynamodb", "awsRegion": trs_storage_aws::moto::REGION,
                "dynamodb": dynamodb, "eventSourceARN": self.stream_arn,
            });
            if self.stream_filters.is_empty() || self.stream_filters.iter().any(|f| pattern_matches(f, &record)) {
                records.push(record);
            }
        };
        for (key, image) in &now {
            match seen.get(key) {
                None => record("INSERT", key, Some(image)),
                Some(old) if old != image => record("MODIFY", key, Some(image)),
                Some(_) => {}
            }
        }
        for key in seen.keys().filter(|k| !now.contains_key(*k)) {
            record("REMOVE", key, None);
        }
        *seen = now;
        drop(seen);
        // Records delivered for good; those to deliver again wait for the next round, so a
        // function that keeps failing does not keep `settle` busy.
        let mut delivered = 0;
        for (n, batch) in records.chunks(self.stream_batch.max(1)).enumerate() {
            let answer = self.invoke(&self.stream_function, json!({"Records": batch})).await;
            let lowest = match answer {
                Outcome::Response(answer) => answer["batchItemFailures"]
                    .as_array()
                    .and_then(|f| f.iter().filter_map(|i| i["itemIdentifier"].as_str().map(str::to_string)).min()),
                Outcome::Error(_, e) => {
                    self.failed(format!("the stream function failed a batch: {e}"));
                    batch[0]["dynamodb"]["SequenceNumber"].as_str().map(str::to_string)
                }
            };
            let Some(lowest) = lowest else {
                delivered += batch.len();
                continue;
            };
            // Lambda retries from the lowest reported sequence number, this batch and the
            // ones after it.
            self.failed(format!("the stream function reported records from {lowest}"));
            let rest = records.chunks(self.stream_batch.max(1)).skip(n + 1).flatten();
            let again = batch.iter().filter(|r| r["dynamodb"]["SequenceNumber"].as_str() >= Some(lowest.as_str()));
            self.pending_records.lock().await.extend(again.chain(rest).cloned());
            return delivered
                + batch.iter().filter(|r| r["dynamodb"]["SequenceNumber"].as_str() < Some(lowest.as_str())).count();
        }
        delivered
    }

    /// The release-stream events the bus delivered for the publish-site rule, to its target.
    async fn deliver_bus(&self) -> usize {
        let received = self.sqs.receive_message().queue_url(&self.bus_queue).max_number_of_messages(10).send().await;
        let messages = received.unwrap().messages.unwrap_or_default();
        for m in &messages {
            let event: Value = serde_json::from_str(m.body().unwrap_or_default()).expect("an EventBridge event");
            if let Outcome::Error(kind, e) = self.invoke(&self.bus_function, event).await {
                // Lambda retries a failed asynchronous invocation twice, then sends the event
                // to the function's dead-letter queue; here it is a failure to report.
                self.failed(format!("{} failed on a bus event ({kind:?}): {e}", self.bus_function));
            }
            let receipt = m.receipt_handle().unwrap_or_default();
            self.sqs.delete_message().queue_url(&self.bus_queue).receipt_handle(receipt).send().await.unwrap();
        }
        messages.len()
    }
}

/// Every item of `table`: key → image (DynamoDB JSON).
async fn scan(dynamo: &aws_sdk_dynamodb::Client, table: &str) -> BTreeMap<(String, String), Value> {
    let mut out = BTreeMap::new();
    let mut start = None;
    loop {
        let page = dynamo.scan().table_name(table).consistent_read(true).set_exclusive_start_key(start).send().await;
        let page = page.unwrap();
        for item in page.items() {
            let text = |n: &str| item.get(n).and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
            let image = Value::Object(item.iter().map(|(k, v)| (k.clone(), attribute_json(v))).collect());
            out.insert((text("pk"), text("sk")), image);
        }
        match page.last_evaluated_key {
            Some(key) if !key.is_empty() => start = Some(key),
            _ => return out,
        }
    }
}

/// An attribute value as DynamoDB JSON (what stream records carry).
fn attribute_json(value: &AttributeValue) -> Value {
    let b64 = |b: &aws_sdk_dynamodb::primitives::Blob| base64::engine::general_purpose::STANDARD.encode(b.as_ref());
    match value {
        AttributeValue::S(s) => json!({"S": s}),
        AttributeValue::N(n) => json!({"N": n}),
        AttributeValue::B(b) => json!({"B": b64(b)}),
        AttributeValue::Bool(b) => json!({"BOOL": b}),
        AttributeValue::Null(b) => json!({"NULL": b}),
        AttributeValue::Ss(s) => json!({"SS": s}),
        AttributeValue::Ns(n) => json!({"NS": n}),
        AttributeValue::Bs(b) => json!({"BS": b.iter().map(b64).collect::<Vec<_>>()}),
        AttributeValue::L(l) => json!({"L": l.iter().map(attribute_json).collect::<Vec<_>>()}),
        AttributeValue::M(m) => {
            json!({"M": m.iter().map(|(k, v)| (k.clone(), attribute_json(v))).collect::<serde_json::Map<_, _>>()})
        }
        other => panic!("attribute {other:?}"),
    }
}

/// An event pattern (EventBridge's syntax, as Lambda's filter criteria use it) against a
/// record: every field of the pattern must match; a list matches one of its values, or a
/// `{"prefix": …}`.
fn pattern_matches(pattern: &Value, value: &Value) -> bool {
    match pattern {
        Value::Object(fields) => fields.iter().all(|(k, p)| pattern_matches(p, &value[k])),
        Value::Array(options) => options.iter().any(|option| match option {
            Value::Object(o) if o.contains_key("prefix") => {
                value.as_str().zip(o["prefix"].as_str()).is_some_and(|(v, p)| v.starts_with(p))
            }
            literal => literal == value,
        }),
        other => panic!("filter pattern {other}"),
    }
}

/// DynamoDB's size of an item (attribute names and values, UTF-8; a number as about one
/// byte per two digits plus one).
fn item_size(image: &Value) -> usize {
    image
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(name, v)| {
                    name.len()
                        + match v.as_object().and_then(|o| o.iter().next()) {
                            Some((t, s)) if t == "S" => s.as_str().unwrap_or_default().len(),
                            Some((t, n)) if t == "N" => n.as_str().unwrap_or_default().len().div_ceil(2) + 1,
                            Some((_, other)) => other.to_string().len(),
                            None => 0,
                        }
                })
                .sum()
        })
        .unwrap_or(0)
}

/// The capacity units a DynamoDB request consumed, in on-demand request units: a strongly
/// consistent read is one unit per 4 KB read (a query sums its items first), a write one per
/// KB written, and every item of a transaction twice.
fn capacity(call: &trs_storage_aws::moto::Call) -> (f64, f64) {
    if call.service != "dynamodb" {
        return (0.0, 0.0);
    }
    let body: Value = call.body.as_deref().and_then(|b| serde_json::from_str(b).ok()).unwrap_or(Value::Null);
    let answer: Value = call.response.as_deref().and_then(|b| serde_json::from_str(b).ok()).unwrap_or(Value::Null);
    let reads = |bytes: usize, consistent: bool| {
        let units = bytes.max(1).div_ceil(4096) as f64;
        if consistent { units } else { units / 2.0 }
    };
    let writes = |image: &Value| item_size(image).max(1).div_ceil(1024) as f64;
    match call.action.as_str() {
        "GetItem" => (reads(item_size(&answer["Item"]), body["ConsistentRead"] == true), 0.0),
        "Query" | "Scan" => {
            let bytes: usize = answer["Items"].as_array().map(|i| i.iter().map(item_size).sum()).unwrap_or(0);
            (reads(bytes, body["ConsistentRead"] == true), 0.0)
        }
        // A write of an item costs by the larger of its old and new sizes; the new one is
        // what the request shows.
        "PutItem" => (0.0, writes(&body["Item"])),
        "DeleteItem" | "UpdateItem" => (0.0, 1.0),
        "TransactWriteItems" => {
            let units: f64 = body["TransactItems"]
                .as_array()
                .map(|items| {
                    items
                        .iter()
                        .map(|i| match i.as_object().and_then(|o| o.iter().next()) {
                            Some((kind, op)) if kind == "Put" => writes(&op["Item"]),
                            _ => 1.0,
                        })
                        .sum()
                })
                .unwrap_or(0.0);
            (0.0, 2.0 * units)
        }
        _ => (0.0, 0.0),
    }
}

/// The `<Path>`s of a `CreateInvalidation` request body.
fn invalidation_paths(body: &str) -> Vec<String> {
    body.split("<Path>").skip(1).filter_map(|p| p.split("</Path>").next()).map(str::to_string).collect()
}

// ---- API Gateway ----

fn plain(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({"message": message}))).into_response()
}

/// The HTTP API: a request → a payload 2.0 event for the route's function → its answer.
async fn api(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    forward_to_api(&shared, request).await
}

async fn forward_to_api(shared: &Shared, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, 10 * 1024 * 1024).await else {
        return plain(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large");
    };
    let method = parts.method.as_str();
    let path = parts.uri.path();
    let query = parts.uri.query().unwrap_or_default();
    let mut matching: Vec<(&Route, BTreeMap<String, String>)> =
        shared.routes.iter().filter_map(|r| r.matches(method, path).map(|p| (r, p))).collect();
    matching.sort_by_key(|(r, _)| std::cmp::Reverse(r.specificity()));
    let Some((route, params)) = matching.into_iter().next() else {
        return plain(StatusCode::NOT_FOUND, "Not Found");
    };
    let mut headers = serde_json::Map::new();
    for (name, value) in &parts.headers {
        let value = value.to_str().unwrap_or_default();
        headers
            .entry(name.as_str().to_ascii_lowercase())
            .and_modify(|v| *v = format!("{},{value}", v.as_str().unwrap()).into())
            .or_insert(value.into());
    }
    let mut parameters: BTreeMap<String, String> = BTreeMap::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (k, v) = (percent_decoded(&k.replace('+', " ")), percent_decoded(&v.replace('+', " ")));
        parameters.entry(k).and_modify(|old| *old = format!("{old},{v}")).or_insert(v);
    }
    let (body, encoded) = match std::str::from_utf8(&body) {
        Ok(text) => (text.to_string(), false),
        Err(_) => (base64::engine::general_purpose::STANDARD.encode(&body), true),
    };
    let mut event = fixture("apigw-v2-post-upload.json");
    event["routeKey"] = route.key.clone().into();
    event["rawPath"] = path.into();
    event["rawQueryString"] = query.into();
    event["headers"] = headers.into();
    if !parameters.is_empty() {
        event["queryStringParameters"] = json!(parameters);
    }
    event["pathParameters"] = json!(params);
    event["requestContext"]["routeKey"] = route.key.clone().into();
    event["requestContext"]["http"]["method"] = method.into();
    event["requestContext"]["http"]["path"] = path.into();
    event["body"] = body.into();
    event["isBase64Encoded"] = encoded.into();
    if event.to_string().len() > PAYLOAD_LIMIT {
        return plain(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large");
    }
    match shared.invoke(&route.function, event).await {
        Outcome::Response(answer) if answer.to_string().len() <= PAYLOAD_LIMIT => http_response(&answer),
        Outcome::Response(_) | Outcome::Error(..) => plain(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"),
    }
}

/// A payload 2.0 answer as the HTTP response API Gateway sends.
fn http_response(answer: &Value) -> Response {
    let status = StatusCode::from_u16(answer["statusCode"].as_u64().unwrap_or(500) as u16).unwrap();
    let text = answer["body"].as_str().unwrap_or_default();
    let body = if answer["isBase64Encoded"] == true {
        base64::engine::general_purpose::STANDARD.decode(text).expect("base64 body")
    } else {
        text.as_bytes().to_vec()
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    for (name, value) in answer["headers"].as_object().into_iter().flatten() {
        add_header(headers, name, value.as_str().unwrap_or_default());
    }
    for (name, values) in answer["multiValueHeaders"].as_object().into_iter().flatten() {
        for value in values.as_array().into_iter().flatten() {
            add_header(headers, name, value.as_str().unwrap_or_default());
        }
    }
    for cookie in answer["cookies"].as_array().into_iter().flatten() {
        add_header(headers, "set-cookie", cookie.as_str().unwrap_or_default());
    }
    response
}

fn add_header(headers: &mut HeaderMap, name: &str, value: &str) {
    if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
        headers.append(name, value);
    }
}

// ---- CloudFront ----

/// The distribution: the first cache behaviour whose pattern matches the path picks the
/// origin (CloudFront's order), else the default behaviour's.
async fn cdn(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let path = request.uri().path().to_string();
    let origin = shared
        .behaviours
        .iter()
        .find(|(pattern, _)| iam::like(pattern, &path))
        .map_or(&shared.default_origin, |(_, origin)| origin);
    from_origin(&shared, origin, request).await
}

async fn from_origin(shared: &Shared, origin: &Origin, request: Request) -> Response {
    match origin {
        Origin::Api => forward_to_api(shared, request).await,
        Origin::Failover { primary, secondary, on } => {
            let (parts, body) = request.into_parts();
            let again = |body: Body| {
                let mut request = Request::new(body);
                *request.method_mut() = parts.method.clone();
                *request.uri_mut() = parts.uri.clone();
                *request.headers_mut() = parts.headers.clone();
                request
            };
            let first = Box::pin(from_origin(shared, primary, again(body))).await;
            let retried = matches!(parts.method, Method::GET | Method::HEAD);
            if !(retried && on.contains(&first.status().as_u16())) {
                return first;
            }
            // Only GET and HEAD fail over, so there is no body to send again.
            Box::pin(from_origin(shared, secondary, again(Body::empty()))).await
        }
        Origin::Bucket { name, listable, folder_index } => {
            let path = request.uri().path();
            let mut key = percent_decoded(path.trim_start_matches('/'));
            if *folder_index && (key.is_empty() || key.ends_with('/')) {
                key.push_str("index.html");
            }
            match shared.s3.get_object().bucket(name).key(&key).send().await {
                Ok(object) => {
                    let mut response = Response::new(Body::from(object.body.collect().await.unwrap().to_vec()));
                    let headers = response.headers_mut();
                    add_header(headers, "content-type", object.content_type.as_deref().unwrap_or_default());
                    add_header(headers, "cache-control", object.cache_control.as_deref().unwrap_or_default());
                    response
                }
                Err(e) if e.as_service_error().is_some_and(|e| e.is_no_such_key()) => {
                    // S3 answers a missing object with 404 only to a principal that may list
                    // the bucket.
                    let status = if *listable { StatusCode::NOT_FOUND } else { StatusCode::FORBIDDEN };
                    (status, "").into_response()
                }
                Err(e) => panic!("CloudFront's read of {name}/{key}: {e:?}"),
            }
        }
    }
}

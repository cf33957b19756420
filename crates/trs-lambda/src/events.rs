//! The event adapters: what arrives from API Gateway, SQS, EventBridge or a DynamoDB stream,
//! turned into calls of the same handlers and use cases `trs serve` runs, and the answer each
//! source expects.
//!
//! One function may take several sources (the verify function answers task status over HTTP
//! and runs tasks from its queue), so an event is told apart by its shape, not by
//! configuration; a source the function was not built for is refused with a named error.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use axum::Router;
use lambda_http::request::LambdaRequest;
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt;
use trs_app::tasks::{self, TaskState};
use trs_app::{App, lifecycle};
use trs_core::OpaqueId;
use trs_messaging_aws::TaskQueues;

use crate::outbox::EventForwarder;
use crate::site::SitePublisher;

/// One Lambda function: the event sources it answers, over one [`App`].
#[derive(Clone)]
pub struct Function {
    app: App,
    http: Option<Router>,
    tasks: bool,
    /// The queue of each task kind (as announced), so a message from one queue runs only
    /// tasks announced there ([`TaskQueues::runs_from`]).
    queues: TaskQueues,
    schedule: bool,
    outbox: Option<Arc<EventForwarder>>,
    site: Option<Arc<SitePublisher>>,
}

/// Why an invocation failed as a whole (a per-message failure of an SQS batch is not one:
/// it goes into the batch response).
#[derive(Debug, thiserror::Error)]
pub enum InvocationError {
    #[error("this function does not take {0} events")]
    UnexpectedSource(&'static str),
    #[error("unrecognised event: {0}")]
    Unrecognised(String),
    #[error("malformed {0} event: {1}")]
    Malformed(&'static str, serde_json::Error),
    #[error("the lifecycle tick failed: {0}")]
    Tick(trs_app::AppError),
    #[error("publishing the site failed: {0}")]
    Publish(String),
    /// The tick ran, but stuck tasks could not be announced again (a queue or a permission
    /// is missing): the invocation fails so that Lambda's error metric shows it.
    #[error("the tick ran, but {} stuck task(s) could not be announced again: {}", .0.len(), not_announced(.0))]
    Sweep(Vec<tasks::NotAnnounced>),
}

fn not_announced(failed: &[tasks::NotAnnounced]) -> String {
    failed.iter().map(|f| format!("{}: {}", f.task, f.error)).collect::<Vec<_>>().join("; ")
}

impl From<InvocationError> for Diagnostic {
    fn from(e: InvocationError) -> Self {
        let error_type = match &e {
            InvocationError::UnexpectedSource(_) => "trs.UnexpectedSource",
            InvocationError::Unrecognised(_) => "trs.UnrecognisedEvent",
            InvocationError::Malformed(..) => "trs.MalformedEvent",
            InvocationError::Tick(_) => "trs.TickFailed",
            InvocationError::Publish(_) => "trs.PublishFailed",
            InvocationError::Sweep(_) => "trs.SweepFailed",
        };
        Diagnostic { error_type: error_type.into(), error_message: e.to_string() }
    }
}

/// The event kinds, by shape.
enum Source {
    Http,
    Sqs,
    Schedule,
    ReleaseStream,
    DynamoStream,
}

fn source_of(event: &Value) -> Option<Source> {
    match event.get("Records").and_then(|r| r.get(0)).and_then(|r| r.get("eventSource")).and_then(Value::as_str) {
        Some("aws:sqs") => return Some(Source::Sqs),
        Some("aws:dynamodb") => return Some(Source::DynamoStream),
        _ => {}
    }
    if let (Some(detail_type), Some(source)) = (event.get("detail-type"), event.get("source")) {
        if detail_type == trs_messaging_aws::EVENT_DETAIL_TYPE && source == trs_messaging_aws::EVENT_SOURCE {
            return Some(Source::ReleaseStream);
        }
        return Some(Source::Schedule);
    }
    // The HTTP API's payload format 2.0.
    if event.get("version") == Some(&"2.0".into()) && event.get("requestContext").is_some() {
        return Some(Source::Http);
    }
    None
}

impl Function {
    pub fn new(app: App) -> Self {
        Function {
            app,
            http: None,
            tasks: false,
            queues: TaskQueues::default(),
            schedule: false,
            outbox: None,
            site: None,
        }
    }

    /// Answers API Gateway HTTP API requests with `routes` (and `GET /api/v1/health`).
    pub fn http(mut self, routes: Router<App>) -> Self {
        self.http = Some(api_router(self.app.clone(), routes));
        self
    }

    /// Runs the tasks named by SQS messages.
    pub fn tasks(mut self) -> Self {
        self.tasks = true;
        self
    }

    /// Runs, from each queue, only the tasks announced on it (`queues`, as the functions
    /// announce tasks): a late copy of a message whose task was handed on to another queue
    /// since is settled without running it. Without it, every task delivered is run.
    pub fn task_queues(mut self, queues: TaskQueues) -> Self {
        self.queues = queues;
        self
    }

    /// Runs the lifecycle tick on EventBridge schedule events.
    pub fn schedule(mut self) -> Self {
        self.schedule = true;
        self
    }

    /// Forwards the events committed to the table, delivered by its change stream, to the bus.
    pub fn forward_events(mut self, forwarder: EventForwarder) -> Self {
        self.outbox = Some(Arc::new(forwarder));
        self
    }

    /// Publishes the site pages each release-stream event from the bus changed.
    pub fn publish_site(mut self, publisher: SitePublisher) -> Self {
        self.site = Some(Arc::new(publisher));
        self
    }

    /// Handles one invocation; the answer is what the source expects back.
    pub async fn handle(&self, event: LambdaEvent<Value>) -> Result<Value, InvocationError> {
        let LambdaEvent { payload, context } = event;
        let answer = match source_of(&payload) {
            Some(Source::Http) => {
                let router = self.http.clone().ok_or(InvocationError::UnexpectedSource("API Gateway"))?;
                let request =
                    serde_json::from_value(payload).map_err(|e| InvocationError::Malformed("API Gateway", e))?;
                Ok(http(router, LambdaEvent::new(request, context)).await)
            }
            Some(Source::Sqs) => {
                if !self.tasks {
                    return Err(InvocationError::UnexpectedSource("SQS"));
                }
                let batch = serde_json::from_value(payload).map_err(|e| InvocationError::Malformed("SQS", e))?;
                serde_json::to_value(task_messages(&self.app, &self.queues, batch).await)
            }
            Some(Source::Schedule) => {
                if !self.schedule {
                    return Err(InvocationError::UnexpectedSource("EventBridge"));
                }
                let event =
                    serde_json::from_value(payload).map_err(|e| InvocationError::Malformed("EventBridge", e))?;
                serde_json::to_value(scheduled(&self.app, event).await?)
            }
            Some(Source::ReleaseStream) => {
                let site = self.site.as_ref().ok_or(InvocationError::UnexpectedSource("release-stream"))?;
                let event =
                    serde_json::from_value(payload).map_err(|e| InvocationError::Malformed("release-stream", e))?;
                Ok(site.publish(&self.app, event).await?)
            }
            Some(Source::DynamoStream) => {
                let outbox = self.outbox.as_ref().ok_or(InvocationError::UnexpectedSource("DynamoDB stream"))?;
                let batch =
                    serde_json::from_value(payload).map_err(|e| InvocationError::Malformed("DynamoDB stream", e))?;
                serde_json::to_value(outbox.forward(batch).await)
            }
            None => return Err(InvocationError::Unrecognised(describe(&payload))),
        };
        Ok(answer.expect("responses serialise"))
    }
}

/// A short description of an event nobody recognised, for the error (never the whole body).
fn describe(event: &Value) -> String {
    match event {
        Value::Object(map) => {
            let keys: Vec<&str> = map.keys().map(String::as_str).take(8).collect();
            format!("an object with keys {}", keys.join(", "))
        }
        other => format!("a JSON {}", if other.is_array() { "array" } else { "scalar" }),
    }
}

/// The function's routes over `app`, plus the health check every HTTP function answers.
pub fn api_router(app: App, routes: Router<App>) -> Router {
    let router = trs_http::service_routes().merge(routes);
    let router = trs_http::json_routing_errors(router).with_state(app);
    // One JSON line per request on stdout, which Lambda sends to CloudWatch Logs.
    trs_http::access_log::layer(router, trs_http::access_log::stdout())
}

/// API Gateway HTTP API (payload 2.0) → the router → the response API Gateway expects.
///
/// `lambda_http::run` would do the same for a function with HTTP as its only source; its
/// adapter is used directly so one function can also take queue messages.
/// The answer is the response JSON (`statusCode`, `headers`, `body`, `isBase64Encoded`).
pub async fn http(router: Router, event: LambdaEvent<LambdaRequest>) -> Value {
    let response = match lambda_http::Adapter::from(router).oneshot(event).await {
        Ok(response) => response,
        Err(never) => match never {},
    };
    serde_json::to_value(response).expect("responses serialise")
}

/// SQS messages, each carrying one task id as its body → `trs_app::tasks::run`, one by one.
///
/// The answer is a partial batch response: the messages that must come back. A task that ran
/// to its end (done or failed for good), that asked to run later, or that was handed on to
/// another queue, is settled; a task put
/// back in the queue after a backend fault, an unknown task, and a body that is no task id
/// are reported, so SQS redelivers them and, after the queue's receive limit, moves them to
/// the dead-letter queue. A message for a task that is no longer its queue's (handed on to
/// another queue since this message was sent: SQS delivers at least once) is settled
/// without running the task: the other queue's message runs it, under that function's role.
pub async fn task_messages(app: &App, queues: &TaskQueues, batch: SqsEvent) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for message in batch.records {
        if let Err(why) = task_message(app, queues, &message).await {
            let id = message.message_id.clone().unwrap_or_default();
            tracing::warn!(message = %id, "task message not settled: {why}");
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id;
            response.batch_item_failures.push(failure);
        }
    }
    response
}

async fn task_message(app: &App, queues: &TaskQueues, message: &SqsMessage) -> Result<(), String> {
    let body = message.body.as_deref().unwrap_or_default().trim();
    let id: OpaqueId = body.parse().map_err(|e| format!("body {body:?} is not a task id: {e}"))?;
    let source = message.event_source_arn.as_deref().unwrap_or_default();
    let ours = |kind: &tasks::TaskKind| queues.runs_from(source, kind);
    let ran = tasks::run_here_if(app, &id, ours).await.map_err(|e| format!("task {id}: {e}"))?;
    // Handed on to another kind's queue (an import's publish phase): that queue's message
    // runs it now; this one must not come back here, where the role may not do the rest.
    if let Some(Ok(tasks::Ran::HandOff { .. })) = ran {
        return Ok(());
    }
    let (task, _) = tasks::get_task(app, &id).await.map_err(|e| format!("task {id}: {e}"))?;
    if !ours(&task.kind) {
        tracing::info!(task = %id, queue = source, "task handed on to another queue since this message; settled");
        return Ok(());
    }
    match task.state {
        TaskState::Done | TaskState::Failed => Ok(()),
        // Waiting by its own choice until `not_before` (an [ANNOUNCE] whose files are not
        // downloadable yet): the scheduled sweep announces it again then.
        TaskState::Queued if task.not_before.is_some() => Ok(()),
        // Queued again after a fault, or running elsewhere: not settled yet.
        TaskState::Queued | TaskState::Running => Err(format!("task {id} is {:?} after this run", task.state)),
    }
}

/// What a scheduled run did: the lifecycle tick's report (`now`, `items`) and the tasks it
/// announced again.
#[derive(Debug, serde::Serialize)]
pub struct ScheduledReport {
    #[serde(flatten)]
    pub tick: lifecycle::Report,
    /// Tasks whose queue message was presumed lost, announced on their queue again.
    pub announced: Vec<OpaqueId>,
    /// The open votes whose list's IMAP mailbox was read for replies
    /// (`trs_app::vote::mail_poll`), each with its import report or why it was not read.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mail_polled: Vec<trs_app::vote::mail_poll::Polled>,
}

/// An EventBridge schedule → the lifecycle tick, the poll of the projects' IMAP mailboxes for
/// vote replies (`trs_app::vote::mail_poll::poll_all`), then the sweep of stuck tasks
/// (`trs_app::tasks::announce_stuck`: on Lambda, tasks run from their queues, so the sweep
/// sends a lost message again instead of running the task here). The answer is both reports;
/// a task the sweep could not announce fails the invocation ([`InvocationError::Sweep`]),
/// after every other task was announced.
pub async fn scheduled(app: &App, event: EventBridgeEvent) -> Result<ScheduledReport, InvocationError> {
    tracing::info!(detail_type = %event.detail_type, source = %event.source, "lifecycle tick");
    let report = lifecycle::run_scheduled(app).await.map_err(InvocationError::Tick)?;
    for item in &report.items {
        for outcome in &item.outcomes {
            if let lifecycle::DueOutcome::Failed { error } = outcome {
                tracing::warn!(kind = %item.kind, release = %item.release, "due item failed; the next tick retries: {error}");
            }
        }
    }
    // Replies on the lists, before the sweep: a mailbox that cannot be read is reported for its
    // vote and tried again at the next run, and never keeps the sweep from running.
    let mail_polled = match trs_app::vote::mail_poll::poll_all(app).await {
        Ok(polled) => polled,
        Err(e) => {
            tracing::error!(error = %e, "polling IMAP mailboxes failed; the next run tries again");
            Vec::new()
        }
    };
    for p in &mail_polled {
        if let Some(error) = &p.error {
            tracing::warn!(release = %p.release, "IMAP mailbox not read: {error}");
        }
    }
    let swept = tasks::announce_stuck(app).await.map_err(InvocationError::Tick)?;
    if !swept.announced.is_empty() {
        tracing::warn!(tasks = ?swept.announced, "tasks left queued without a message: announced again");
    }
    if !swept.failed.is_empty() {
        return Err(InvocationError::Sweep(swept.failed));
    }
    Ok(ScheduledReport { tick: report, announced: swept.announced, mail_polled })
}

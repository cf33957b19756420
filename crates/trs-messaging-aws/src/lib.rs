//! trs's messages on AWS. The stored release stream and the stored task items are the record;
//! these are notifications of them:
//! - [`EventBridgeSink`] puts every committed release-stream event on an EventBridge bus
//!   (source `trs`, detail-type `trs.release-stream`, detail = the event JSON exactly as
//!   stored), where rules route it to subscribers;
//! - [`SqsTaskNotifier`] announces a queued task on its kind's SQS queue (the message body is
//!   the task id, which the task functions' queue adapter runs);
//! - [`SesMailer`] sends a mail trs built (headers, `Message-ID` and all) through Amazon SES.
//!
//! A failed notification is logged and otherwise ignored: a lost event can be re-read from the
//! stream, and a lost task announcement only waits for the next sweep of queued tasks (which
//! reports an announcement that fails again).

use async_trait::async_trait;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use trs_app::TaskNotifier;
use trs_app::import::ImportPhase;
use trs_app::mail::SendError;
use trs_app::stream::EventSink;
use trs_app::tasks::{Task, TaskKind};
use trs_core::Event;

/// The `source` of every event trs puts on the bus.
pub const EVENT_SOURCE: &str = "trs";
/// The `detail-type` of release-stream events.
pub const EVENT_DETAIL_TYPE: &str = "trs.release-stream";

pub struct EventBridgeSink {
    client: aws_sdk_eventbridge::Client,
    bus: String,
}

impl EventBridgeSink {
    pub fn new(config: &aws_config::SdkConfig, bus: impl Into<String>) -> Self {
        Self { client: aws_sdk_eventbridge::Client::new(config), bus: bus.into() }
    }

    /// The entry for `event`: its stored JSON as the detail, its time as the entry's time.
    pub fn entry(&self, event: &Event) -> Result<PutEventsRequestEntry, serde_json::Error> {
        Ok(PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus)
            .source(EVENT_SOURCE)
            .detail_type(EVENT_DETAIL_TYPE)
            .detail(serde_json::to_string(event)?)
            .time(aws_sdk_eventbridge::primitives::DateTime::from_secs(event.at))
            .build())
    }
}

#[async_trait]
impl EventSink for EventBridgeSink {
    async fn published(&self, event: &Event) {
        let entry = match self.entry(event) {
            Ok(entry) => entry,
            Err(e) => return tracing::error!(error = %e, "cannot serialise event"),
        };
        match self.client.put_events().entries(entry).send().await {
            Ok(out) if out.failed_entry_count() == 0 => {}
            Ok(out) => {
                let why = out.entries().iter().filter_map(|e| e.error_message()).collect::<Vec<_>>().join("; ");
                tracing::error!(stream = %event.stream, seq = event.seq, bus = %self.bus, "event refused: {why}");
            }
            Err(e) => {
                tracing::error!(stream = %event.stream, seq = event.seq, bus = %self.bus, error = %e, "cannot put event")
            }
        }
    }
}

/// The queue of each task kind; a kind without a queue is left to the sweep.
#[derive(Debug, Clone, Default)]
pub struct TaskQueues {
    pub commit: Option<String>,
    pub verify: Option<String>,
    pub promote: Option<String>,
}

impl TaskQueues {
    pub fn for_task(&self, task: &Task) -> Option<&str> {
        self.for_kind(&task.kind)
    }

    /// The queue tasks of `kind` are announced on.
    pub fn for_kind(&self, kind: &TaskKind) -> Option<&str> {
        match kind {
            // The upload function commits: it alone writes the content-addressed files.
            TaskKind::Commit { .. } => self.commit.as_deref(),
            // An import's commit: the upload function stores its files, the promote function
            // (which writes public paths) verifies and publishes them.
            TaskKind::Import { phase: ImportPhase::Store, .. } => self.commit.as_deref(),
            TaskKind::Import { phase: ImportPhase::Publish, .. } => self.promote.as_deref(),
            TaskKind::Verify { .. } => self.verify.as_deref(),
            // The promote function runs distributions too: it holds the registry secret.
            TaskKind::Promote { .. } | TaskKind::Distribute { .. } => self.promote.as_deref(),
            // The promote function sends mail (its role alone may use SES).
            TaskKind::SendMail { .. } => self.promote.as_deref(),
            // Only `trs serve` polls IMAP mailboxes as tasks; on AWS the lifecycle function's
            // scheduled run polls in place, and no such task is queued.
            TaskKind::PollMail { .. } => None,
        }
    }

    /// Whether a task of `kind`, named by a message from the queue `source_arn` (an SQS
    /// record's `eventSourceARN`), is that queue's to run: its kind is announced there. Not so
    /// once it was handed on to another kind's queue (an import's publish phase) and this is
    /// a late copy of the message that announced its earlier phase. A kind without a
    /// configured queue, or an ARN naming no queue, is run wherever it is delivered.
    pub fn runs_from(&self, source_arn: &str, kind: &TaskKind) -> bool {
        let delivered_by = source_arn.rsplit(':').next().filter(|name| !name.is_empty());
        let announced_on = self.for_kind(kind).and_then(|url| url.trim_end_matches('/').rsplit('/').next());
        match (delivered_by, announced_on) {
            (Some(delivered_by), Some(announced_on)) => delivered_by == announced_on,
            _ => true,
        }
    }
}

pub struct SqsTaskNotifier {
    client: aws_sdk_sqs::Client,
    queues: TaskQueues,
}

impl SqsTaskNotifier {
    pub fn new(config: &aws_config::SdkConfig, queues: TaskQueues) -> Self {
        Self { client: aws_sdk_sqs::Client::new(config), queues }
    }
}

#[async_trait]
impl TaskNotifier for SqsTaskNotifier {
    async fn task_queued(&self, task: &Task) -> Result<(), String> {
        let Some(queue) = self.queues.for_task(task) else { return Ok(()) };
        match self.client.send_message().queue_url(queue).message_body(task.id.as_str()).send().await {
            Ok(_) => Ok(()),
            Err(e) => Err(format!("SendMessage to {queue}: {}", aws_sdk_sqs::error::DisplayErrorContext(&e))),
        }
    }
}

/// Mail through Amazon SES (v2 `SendEmail`): the message exactly as lettre formats it for
/// SMTP (raw content), so its threading headers and encoding are the same on both hosts.
/// SES takes the recipients from its `To` header and checks the sender is an identity the
/// account verified. SES replaces the `Message-ID` with its own; the one it answers with is
/// returned ([`trs_app::mail::Accepted`]), so replies to the mail still thread to it.
pub struct SesMailer {
    client: aws_sdk_sesv2::Client,
    /// Where SES writes its ids (`ses_message_id`).
    region: Option<String>,
}

impl SesMailer {
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        Self { client: aws_sdk_sesv2::Client::new(config), region: config.region().map(|r| r.to_string()) }
    }
}

/// The `Message-ID` header of a mail SES accepted as `id`: `<ID@REGION.amazonses.com>`, and
/// `<ID@email.amazonses.com>` in us-east-1 (as received mail shows; the API answers the id
/// alone). Replies are matched on the id whatever the `amazonses.com` host
/// (`trs_app::vote::replies::names_root`), so only a `[RESULT]`'s `In-Reply-To` depends on
/// this host being right.
pub fn ses_message_id(id: &str, region: Option<&str>) -> String {
    match region {
        Some(region) if region != "us-east-1" => format!("<{id}@{region}.amazonses.com>"),
        _ => format!("<{id}@email.amazonses.com>"),
    }
}

#[async_trait]
impl trs_app::mail::Mailer for SesMailer {
    async fn send(&self, message: lettre::Message) -> Result<trs_app::mail::Accepted, SendError> {
        use aws_sdk_sesv2::operation::send_email::SendEmailError as E;
        use aws_sdk_sesv2::types::{EmailContent, RawMessage};
        let raw = RawMessage::builder()
            .data(aws_sdk_sesv2::primitives::Blob::new(message.formatted()))
            .build()
            .map_err(|e| SendError::Refused(e.to_string()))?;
        let mut request = self.client.send_email().content(EmailContent::builder().raw(raw).build());
        if let Some(from) = message.envelope().from() {
            request = request.from_email_address(from.to_string());
        }
        match request.send().await {
            Ok(sent) => Ok(trs_app::mail::Accepted {
                replaced_id: sent.message_id().map(|id| ses_message_id(id, self.region.as_deref())),
            }),
            Err(e) => {
                let text = format!("SES SendEmail: {}", aws_sdk_sesv2::error::DisplayErrorContext(&e));
                // What SES refuses for this mail or this account stays refused when retried
                // within minutes: an unverified sender, a rejected message, a suspended or
                // paused account, a bad request. Throttling and faults are worth a retry.
                match e.as_service_error() {
                    Some(
                        E::MessageRejected(_)
                        | E::MailFromDomainNotVerifiedException(_)
                        | E::AccountSuspendedException(_)
                        | E::SendingPausedException(_)
                        | E::BadRequestException(_)
                        | E::NotFoundException(_),
                    ) => Err(SendError::Refused(text)),
                    _ => Err(SendError::Transient(text)),
                }
            }
        }
    }
}

/// Subscribers for tests against a local server (moto): a queue that receives what a rule on
/// the bus routes to it, and what arrived there.
#[cfg(feature = "testing")]
pub mod testing {
    /// Creates the queue `name`; returns its URL and ARN.
    pub async fn queue(sqs: &aws_sdk_sqs::Client, name: &str) -> (String, String) {
        let url = sqs.create_queue().queue_name(name).send().await.unwrap().queue_url.unwrap();
        let attrs = sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .unwrap();
        let arn = attrs.attributes.unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn].clone();
        (url, arn)
    }

    /// The bodies of the messages waiting on the queue (up to 10, waiting up to a second).
    pub async fn bodies(sqs: &aws_sdk_sqs::Client, url: &str) -> Vec<String> {
        let out =
            sqs.receive_message().queue_url(url).max_number_of_messages(10).wait_time_seconds(1).send().await.unwrap();
        out.messages.unwrap_or_default().into_iter().filter_map(|m| m.body).collect()
    }

    /// Makes `address` a verified SES identity (moto refuses mail from any other sender, as
    /// SES does).
    pub async fn verify_sender(config: &aws_config::SdkConfig, address: &str) {
        aws_sdk_sesv2::Client::new(config).create_email_identity().email_identity(address).send().await.unwrap();
    }

    /// Creates the bus `bus` and a queue subscribed to every release-stream event on it by a
    /// rule; returns the SQS client and the queue's URL.
    pub async fn subscribed_queue(config: &aws_config::SdkConfig, bus: &str) -> (aws_sdk_sqs::Client, String) {
        let (events, sqs) = (aws_sdk_eventbridge::Client::new(config), aws_sdk_sqs::Client::new(config));
        events.create_event_bus().name(bus).send().await.unwrap();
        let (subscriber, arn) = queue(&sqs, "subscriber").await;
        let pattern = serde_json::json!({"source": [super::EVENT_SOURCE], "detail-type": [super::EVENT_DETAIL_TYPE]});
        let rule = "all-release-events";
        events.put_rule().name(rule).event_bus_name(bus).event_pattern(pattern.to_string()).send().await.unwrap();
        let target = aws_sdk_eventbridge::types::Target::builder().id("subscriber").arn(arn).build().unwrap();
        events.put_targets().rule(rule).event_bus_name(bus).targets(target).send().await.unwrap();
        (sqs, subscriber)
    }
}

//! trs's messages on AWS. The stored release stream and the stored task items are the record;
//! these are notifications of them:
//! - [`EventBridgeSink`] puts every committed release-stream event on an EventBridge bus
//!   (source `trs`, detail-type `trs.release-stream`, detail = the event JSON exactly as
//!   stored), where rules route it to subscribers;
//! - [`SqsTaskNotifier`] announces a queued task on its kind's SQS queue (the message body is
//!   the task id, which the task functions' queue adapter runs).
//!
//! A failed notification is logged and otherwise ignored: a lost event can be re-read from the
//! stream, and a lost task announcement only waits for the next sweep of queued tasks.

use async_trait::async_trait;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use trs_app::TaskNotifier;
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
    pub verify: Option<String>,
    pub promote: Option<String>,
}

impl TaskQueues {
    pub fn for_task(&self, task: &Task) -> Option<&str> {
        match task.kind {
            TaskKind::Verify { .. } => self.verify.as_deref(),
            TaskKind::Promote { .. } => self.promote.as_deref(),
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
    async fn task_queued(&self, task: &Task) {
        let Some(queue) = self.queues.for_task(task) else { return };
        if let Err(e) = self.client.send_message().queue_url(queue).message_body(task.id.as_str()).send().await {
            tracing::error!(task = %task.id, queue, error = %e, "cannot announce task; it waits for the sweep");
        }
    }
}

//! The outbox forwarder of the stream function: committed release-stream events, read from
//! the table's change stream, put on the EventBridge bus.
//!
//! Every change commits its event in the same DynamoDB transaction (`event#…` items, see
//! docs/aws-storage.md), and DynamoDB Streams delivers every committed item at least once.
//! Forwarding from the change stream therefore loses no event between the commit and the
//! publication, which a publication by the committing function after its commit could (a
//! crash, a timeout, a throttled `PutEvents`). The bus sees each event at least once;
//! subscribers tell repeats apart by the event's stream and sequence number.

use crate::stores::{Environment, InitError};
use aws_lambda_events::dynamodb::{Event as StreamEvent, EventRecord};
use aws_lambda_events::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use serde::Deserialize;
use trs_core::Event;
use trs_messaging_aws::EventBridgeSink;

/// `PutEvents` takes at most 10 entries.
const PUT_EVENTS_MAX: usize = 10;

/// The sort-key prefix of event items (`trs_app::storage_keys::stream_event`).
const EVENT_SK_PREFIX: &str = "event#";

pub struct EventForwarder {
    client: aws_sdk_eventbridge::Client,
    sink: EventBridgeSink,
    bus: String,
}

/// The attributes of a stored item the forwarder reads (docs/aws-storage.md: the item's JSON
/// is the string attribute `body`).
#[derive(Deserialize)]
struct StoredItem {
    sk: String,
    body: Option<String>,
}

impl EventForwarder {
    pub fn new(sdk: &aws_config::SdkConfig, bus: impl Into<String>) -> Self {
        let bus = bus.into();
        Self { client: aws_sdk_eventbridge::Client::new(sdk), sink: EventBridgeSink::new(sdk, bus.clone()), bus }
    }

    /// The forwarder to the bus named by `TRS_EVENT_BUS`.
    pub fn from_environment(env: &Environment) -> Result<Self, InitError> {
        let bus = env.config.event_bus.as_deref().ok_or(crate::ConfigError::Missing(
            "TRS_EVENT_BUS",
            "the stream function forwards committed events to this EventBridge bus",
        ))?;
        let sdk = env.aws.as_ref().expect("an SDK configuration is loaded whenever an event bus is configured");
        Ok(Self::new(sdk, bus))
    }

    /// Puts the event of every inserted `event#` item of `batch` on the bus, in stream order.
    ///
    /// The answer is a partial batch response naming the sequence number of every record not
    /// forwarded (a body that is no event, a refused or failed `PutEvents`). Lambda retries
    /// the batch from the lowest of them, so the records after a failure may reach the bus
    /// twice; none is skipped. Records of other items and other changes (the event source
    /// mapping's filter lets none through) are settled without a word.
    pub async fn forward(&self, batch: StreamEvent) -> DynamoDbEventResponse {
        let mut failed: Vec<String> = Vec::new();
        let mut pending: Vec<(String, PutEventsRequestEntry)> = Vec::new();
        for record in &batch.records {
            let sequence = record.change.sequence_number.clone().unwrap_or_default();
            match self.entry(record) {
                Ok(Some(entry)) => pending.push((sequence, entry)),
                Ok(None) => {}
                Err(why) => {
                    tracing::error!(sequence, "stream record not forwarded: {why}");
                    failed.push(sequence);
                }
            }
        }
        for chunk in pending.chunks(PUT_EVENTS_MAX) {
            failed.extend(self.put(chunk).await);
        }
        let mut response = DynamoDbEventResponse::default();
        response.batch_item_failures = failed
            .into_iter()
            .map(|sequence| {
                let mut failure = DynamoDbBatchItemFailure::default();
                failure.item_identifier = Some(sequence);
                failure
            })
            .collect();
        response
    }

    /// The bus entry for `record`, `None` for a record that is not a new event item.
    fn entry(&self, record: &EventRecord) -> Result<Option<PutEventsRequestEntry>, String> {
        if record.event_name != "INSERT" {
            return Ok(None);
        }
        let item: StoredItem = serde_dynamo::from_item(record.change.new_image.clone())
            .map_err(|e| format!("the new image is no stored item: {e}"))?;
        if !item.sk.starts_with(EVENT_SK_PREFIX) {
            return Ok(None);
        }
        let body = item.body.ok_or("the event item has no string attribute `body`")?;
        let event: Event = serde_json::from_str(&body).map_err(|e| format!("`body` is no event: {e}"))?;
        self.sink.entry(&event).map(Some).map_err(|e| format!("cannot serialise the event: {e}"))
    }

    /// Sends one `PutEvents`; the answer is the sequence numbers of the entries not put.
    async fn put(&self, chunk: &[(String, PutEventsRequestEntry)]) -> Vec<String> {
        let entries = chunk.iter().map(|(_, entry)| entry.clone()).collect();
        match self.client.put_events().set_entries(Some(entries)).send().await {
            // The result entries are in the order of the request's; a failed one has an error code.
            Ok(out) if out.failed_entry_count() == 0 => Vec::new(),
            Ok(out) => chunk
                .iter()
                .zip(out.entries())
                .filter(|(_, result)| result.error_code().is_some())
                .map(|((sequence, _), result)| {
                    let why = result.error_message().unwrap_or_default();
                    tracing::error!(sequence, bus = %self.bus, "event refused by the bus: {why}");
                    sequence.clone()
                })
                .collect(),
            Err(e) => {
                tracing::error!(bus = %self.bus, error = %e, "cannot put events");
                chunk.iter().map(|(sequence, _)| sequence.clone()).collect()
            }
        }
    }
}

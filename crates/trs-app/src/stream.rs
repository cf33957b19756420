//! The release stream in storage. Every change is written in one transaction together with
//! its event and the stream's head (sequence number and hash of the last event), so a change
//! without its event, or an event without its change, cannot exist; two changes racing on the
//! same stream both land, one after the other, because the head write is conditional.
//!
//! After a commit the event is handed to the [`EventSink`] (an NDJSON file under `trs serve`,
//! an EventBridge bus on AWS). The stored stream is the record; the sink is a notification.

use crate::app::App;
use crate::error::{AppError, AppResult};
use crate::retry::{self, Attempt};
use crate::storage_keys as keys;
use serde::{Deserialize, Serialize};
use serde_json::json;
use trs_core::{Event, EventDraft, StreamId};
use trs_storage::{Condition, Item, StoreError, WriteOp};

/// Where committed events are announced. Awaited before the change's caller gets its answer,
/// so a host that freezes between requests (Lambda) does not lose the announcement; a sink
/// that fails logs it (the stored stream stays the record).
#[async_trait::async_trait]
pub trait EventSink: Send + Sync + 'static {
    async fn published(&self, event: &Event);
}

/// Announces nothing (tests, tools).
pub struct NoSink;

#[async_trait::async_trait]
impl EventSink for NoSink {
    async fn published(&self, _event: &Event) {}
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Head {
    seq: u64,
    hash: String,
}

/// The newest event of a stream: its sequence number and hash (`None`: no event yet).
pub async fn head(app: &App, stream: &StreamId) -> AppResult<Option<(u64, String)>> {
    match app.items.get(&keys::stream_head(stream)).await? {
        Some(item) => {
            let head: Head = item.parse()?;
            Ok(Some((head.seq, head.hash)))
        }
        None => Ok(None),
    }
}

/// The result of [`commit_with_event`].
#[derive(Debug)]
// Made once per commit and matched at once: boxing the event would only add an allocation.
#[allow(clippy::large_enum_variant)]
pub enum Committed {
    Done(Event),
    /// The caller's operation at `index`, on the item `key`, failed its condition: re-read and
    /// decide again. Callers tell their operations apart by `key` (a named step), not by where
    /// they happen to sit in the list.
    Conflict {
        index: usize,
        key: trs_storage::Key,
    },
}

/// Writes `ops` and appends `draft` to `stream`, all or nothing. Conflicts on the stream head
/// (another event got there first) are retried here; conflicts on the caller's own operations
/// are returned, since only the caller knows what to re-read.
pub async fn commit_with_event(
    app: &App,
    stream: &StreamId,
    draft: EventDraft,
    ops: Vec<WriteOp>,
) -> AppResult<Committed> {
    commit_with_event_and(app, stream, draft, ops, |_| Vec::new()).await
}

/// [`commit_with_event`] with writes that depend on the sealed event (its sequence number),
/// such as the mail an event sends, whose `Message-ID` is derived from it: `derived` builds
/// them for each attempt, and they land in the same transaction.
pub async fn commit_with_event_and(
    app: &App,
    stream: &StreamId,
    draft: EventDraft,
    ops: Vec<WriteOp>,
    derived: impl Fn(&Event) -> Vec<WriteOp>,
) -> AppResult<Committed> {
    let own = ops.len();
    let (draft, ops, derived) = (&draft, &ops, &derived);
    let too_fast = AppError::conflict("concurrent-update", format!("stream {stream} is changing too fast; retry"));
    retry::on_conflict(retry::STREAM_HEAD_ATTEMPTS, too_fast, || async move {
        let head_item = app.items.get(&keys::stream_head(stream)).await?;
        let head: Option<Head> = head_item.as_ref().map(|i| i.parse()).transpose()?;
        let event = draft.clone().seal(stream.clone(), head.as_ref().map(|h| (h.seq, h.hash.as_str())), app.now());
        let next_head = json!(Head { seq: event.seq, hash: event.hash.clone() });
        let head_op = match &head_item {
            Some(item) => WriteOp::Put { item: item.updated(next_head), condition: Condition::VersionIs(item.version) },
            None => {
                WriteOp::Put { item: Item::new(keys::stream_head(stream), next_head), condition: Condition::Absent }
            }
        };
        let event_op = WriteOp::Put {
            item: Item::new(keys::stream_event(stream, event.seq), serde_json::to_value(&event).map_err(internal)?),
            condition: Condition::Absent,
        };
        let mut all = ops.clone();
        all.extend(derived(&event));
        all.push(head_op);
        all.push(event_op);
        match app.items.transact(all).await {
            Ok(()) => {
                app.events.published(&event).await;
                Ok(Attempt::Done(Committed::Done(event)))
            }
            Err(StoreError::TransactionCancelled { index, key }) if index < own => {
                Ok(Attempt::Done(Committed::Conflict { index, key }))
            }
            // Another event got to the stream head first: only the head is read again.
            Err(e) if e.is_conflict() => Ok(Attempt::Conflicted),
            Err(e) => Err(e.into()),
        }
    })
    .await
}

/// [`commit_with_event`] for callers whose operations must not conflict: a conflict on them
/// becomes a `concurrent-update` error.
pub async fn commit_or_conflict(
    app: &App,
    stream: &StreamId,
    draft: EventDraft,
    ops: Vec<WriteOp>,
) -> AppResult<Event> {
    match commit_with_event(app, stream, draft, ops).await? {
        Committed::Done(e) => Ok(e),
        Committed::Conflict { .. } => {
            Err(AppError::conflict("concurrent-update", "someone else changed this at the same time; retry"))
        }
    }
}

/// What a change to one stored item decides on each attempt of [`update_with_event`]: its
/// event, and other writes that must land with it (each with its own condition).
pub struct Update {
    pub draft: EventDraft,
    pub also: Vec<WriteOp>,
}

/// The one read-modify-write loop for a versioned item changed together with its event: reads
/// `key` (404 `missing` when absent), lets `change` modify the parsed value and decide (or
/// refuse, with its error), then writes it conditioned on the version read, with `also` and
/// the event, all or nothing. A concurrent change of any of these writes means `change` runs
/// again on fresh data; after several such races the caller gets `concurrent-update`.
pub async fn update_with_event<T>(
    app: &App,
    stream: &StreamId,
    key: &trs_storage::Key,
    missing: impl Fn() -> AppError,
    change: impl Fn(&mut T) -> AppResult<Update>,
) -> AppResult<T>
where
    T: Serialize + serde::de::DeserializeOwned,
{
    let (missing, change) = (&missing, &change);
    retry::on_conflict(retry::ATTEMPTS, retry::too_busy("this"), || async move {
        let item = app.items.get(key).await?.ok_or_else(missing)?;
        let mut value: T = item.parse()?;
        let Update { draft, also } = change(&mut value)?;
        let mut ops = vec![WriteOp::Put {
            item: item.updated(serde_json::to_value(&value).map_err(internal)?),
            condition: Condition::VersionIs(item.version),
        }];
        ops.extend(also);
        match commit_with_event(app, stream, draft, ops).await? {
            Committed::Done(_) => Ok(Attempt::Done(value)),
            Committed::Conflict { .. } => Ok(Attempt::Conflicted),
        }
    })
    .await
}

fn internal(e: serde_json::Error) -> AppError {
    AppError::Internal(e.to_string())
}

/// A page of a stream's events in order, after sequence number `after` (0 for the start).
pub async fn events_page(app: &App, stream: &StreamId, after: u64, limit: usize) -> AppResult<Vec<Event>> {
    let mut query = keys::stream_events(stream, after);
    query.limit = limit.clamp(1, 1000);
    let page = app.items.query(query).await?;
    page.items.iter().map(|i| i.parse().map_err(AppError::from)).collect()
}

/// [`events_page`] as stored JSON values, exactly the bytes' source a verifier hashes (fields
/// a newer build added survive).
pub async fn events_page_raw(
    app: &App,
    stream: &StreamId,
    after: u64,
    limit: usize,
) -> AppResult<Vec<serde_json::Value>> {
    let mut query = keys::stream_events(stream, after);
    query.limit = limit.clamp(1, 1000);
    let page = app.items.query(query).await?;
    Ok(page.items.into_iter().map(|i| i.body).collect())
}

/// The whole stream as stored JSON values (so a verifier hashes exactly what is stored).
pub async fn all_events_raw(app: &App, stream: &StreamId) -> AppResult<Vec<serde_json::Value>> {
    let mut out = Vec::new();
    let mut query = keys::stream_events(stream, 0);
    loop {
        let page = app.items.query(query.clone()).await?;
        out.extend(page.items.into_iter().map(|i| i.body));
        match page.next {
            Some(next) => query.after = Some(next),
            None => return Ok(out),
        }
    }
}

/// The whole stream, parsed.
pub async fn all_events(app: &App, stream: &StreamId) -> AppResult<Vec<Event>> {
    all_events_raw(app, stream)
        .await?
        .into_iter()
        .map(|v| serde_json::from_value(v).map_err(|e| AppError::Internal(format!("stored event is corrupt: {e}"))))
        .collect()
}

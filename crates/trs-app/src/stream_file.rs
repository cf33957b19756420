//! The release stream as a file: every stream's events as JSON lines, each stream in its own
//! order (`trs serve`'s `DATA/events.ndjson`, which `scripts/verify-stream.py --file` checks).
//!
//! The file is derived from the stored streams, never from the calls that committed: its own
//! lines are its high-water mark (the last `seq` written per stream), and an append writes
//! whatever the store holds after that mark, in sequence order, one append at a time. So two
//! commits racing on one stream cannot land out of order, and the line of an event whose
//! process was killed between the commit and the append is written at the next start (or
//! with the next event of its stream).

use crate::app::App;
use crate::error::{AppError, AppResult};
use crate::storage_keys as keys;
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use trs_core::{Event, StreamId};
use trs_storage::ItemStore;

pub struct EventFile {
    path: PathBuf,
    items: Arc<dyn ItemStore>,
    state: tokio::sync::Mutex<Written>,
}

/// The open file and, per stream, the last sequence number it holds.
struct Written {
    file: File,
    marks: HashMap<String, u64>,
}

/// What the high-water mark needs of a line.
#[derive(serde::Deserialize)]
struct Position {
    stream: String,
    seq: u64,
}

impl EventFile {
    pub const FILE_NAME: &str = "events.ndjson";

    /// Opens (creating the folder if needed: with `--backend aws` nothing else writes there)
    /// the event file in `data` and reads its high-water marks. A last line without its
    /// newline (a kill in the middle of a write) is cut off: it is written again, whole.
    pub fn open(data: &Path, items: Arc<dyn ItemStore>) -> std::io::Result<Self> {
        std::fs::create_dir_all(data)?;
        let path = data.join(Self::FILE_NAME);
        let mut file = OpenOptions::new().create(true).read(true).append(true).open(&path)?;
        let mut marks = HashMap::new();
        let mut whole = 0u64;
        let mut reader = BufReader::new(&mut file);
        let mut line = Vec::new();
        loop {
            line.clear();
            let n = reader.read_until(b'\n', &mut line)?;
            if n == 0 || line.last() != Some(&b'\n') {
                break;
            }
            whole += n as u64;
            match serde_json::from_slice::<Position>(&line) {
                Ok(p) => {
                    let mark = marks.entry(p.stream).or_insert(0);
                    *mark = p.seq.max(*mark);
                }
                Err(e) => {
                    tracing::warn!(file = %path.display(), error = %e, "a line of the event file is not an event")
                }
            }
        }
        drop(reader);
        if file.metadata()?.len() > whole {
            tracing::warn!(file = %path.display(), "the event file ends in a partial line (cut off by a crash); removed");
            file.set_len(whole)?;
            file.seek(std::io::SeekFrom::End(0))?;
        }
        Ok(Self { path, items, state: tokio::sync::Mutex::new(Written { file, marks }) })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends every stored event of `stream` after the file's mark, in order. Returns how
    /// many lines it wrote.
    pub async fn catch_up(&self, stream: &StreamId) -> AppResult<usize> {
        let mut state = self.state.lock().await;
        let name = stream.to_string();
        let mut after = state.marks.get(&name).copied().unwrap_or(0);
        let mut written = 0;
        loop {
            let mut query = keys::stream_events(stream, after);
            query.limit = 1000;
            let page = self.items.query(query).await?;
            if page.items.is_empty() {
                return Ok(written);
            }
            let mut lines = Vec::new();
            for item in &page.items {
                serde_json::to_writer(&mut lines, &item.body).map_err(|e| AppError::Internal(e.to_string()))?;
                lines.push(b'\n');
                after = item.body["seq"]
                    .as_u64()
                    .ok_or_else(|| AppError::Internal(format!("stored event {:?} has no sequence number", item.key)))?;
            }
            // One write per page in append mode; synced, so the mark survives what the host
            // survives before it is moved on.
            state
                .file
                .write_all(&lines)
                .and_then(|()| state.file.sync_data())
                .map_err(|e| AppError::Internal(format!("cannot append to {}: {e}", self.path.display())))?;
            state.marks.insert(name.clone(), after);
            written += page.items.len();
        }
    }

    /// [`EventFile::catch_up`] for every stream: the foundation's and each project's (at start).
    pub async fn catch_up_all(&self, app: &App) -> AppResult<usize> {
        let mut written = self.catch_up(&StreamId::Foundation).await?;
        for project in crate::projects::list_projects(app).await? {
            written += self.catch_up(&StreamId::Project(project.name)).await?;
        }
        Ok(written)
    }
}

#[async_trait::async_trait]
impl crate::stream::EventSink for EventFile {
    /// Brings the event's stream up to date in the file (this event and any before it that
    /// a concurrent commit has not appended yet).
    async fn published(&self, event: &Event) {
        if let Err(e) = self.catch_up(&event.stream).await {
            tracing::error!(file = %self.path.display(), stream = %event.stream, error = %e, "could not append events");
        }
    }
}

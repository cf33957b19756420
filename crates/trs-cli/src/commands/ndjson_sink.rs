//! Events as messages under `trs serve`: every committed event is appended as one JSON line to
//! `DATA/events.ndjson` (on AWS the same events go to an EventBridge bus). The stored stream is
//! the record; this file is a notification a local consumer can tail (`tail -f`, or
//! `trs events --follow`, which reads the API). Lines from several streams interleave in
//! commit order; each carries its `stream` and `seq`.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use trs_app::stream::EventSink;
use trs_core::Event;

pub struct NdjsonSink {
    path: PathBuf,
    file: Mutex<File>,
}

impl NdjsonSink {
    pub const FILE_NAME: &str = "events.ndjson";

    /// Opens (creating the folder if needed: with `--backend aws` nothing else writes there)
    /// the event file in `data`.
    pub fn open(data: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(data)?;
        let path = data.join(Self::FILE_NAME);
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        Ok(Self { path, file: Mutex::new(file) })
    }
}

#[async_trait::async_trait]
impl EventSink for NdjsonSink {
    async fn published(&self, event: &Event) {
        let Ok(mut line) = serde_json::to_vec(event) else { return };
        line.push(b'\n');
        // One write call per line in append mode, so lines never interleave.
        let result = match self.file.lock() {
            Ok(mut f) => f.write_all(&line),
            Err(_) => return,
        };
        if let Err(e) = result {
            tracing::error!(file = %self.path.display(), error = %e, "could not append event");
        }
    }
}

//! `Read + Seek` over a stored object through ranged reads, for the one check that needs
//! random access (a zip's inspection: its central directory is at the end and names where
//! each entry's local header is). With it, a zip in S3 is inspected where it lies instead of
//! being copied into a temporary file first (the verify function's `/tmp` is not the bound).
//!
//! Each miss fetches a whole window of [`DEFAULT_WINDOW`] bytes in one ranged read: a zip's
//! many small reads (a local header of a few dozen bytes per entry, then the entry's data)
//! are served from it, so a zip costs about two requests per window of its size (one pass
//! over the local headers, one over the data) plus one for its end, not one per entry.
//!
//! The reader blocks on the runtime it was made on: use it from plain threads (the checks'
//! workers, `spawn_blocking`), never from a runtime thread.

use std::io::{self, Read, Seek, SeekFrom};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures::StreamExt;

use crate::blob::{BlobError, BlobStore};

/// Bytes fetched per ranged read: big enough that a zip of thousands of entries costs a
/// handful of requests (S3 answers each in about the same time up to several MiB), small
/// enough that each verifying thread holds little memory.
pub const DEFAULT_WINDOW: usize = 8 << 20;

pub struct RangeReader {
    store: Arc<dyn BlobStore>,
    key: String,
    /// The size the store reported; a read that finds fewer bytes is an error, never a short
    /// object read as if it were whole.
    size: u64,
    pos: u64,
    window: u64,
    /// Bytes `[buf_start, buf_start + buf.len())` of the object.
    buf: Bytes,
    buf_start: u64,
    runtime: tokio::runtime::Handle,
}

impl RangeReader {
    /// A reader of `key`, whose size a HEAD answers now. `window` is the bytes per ranged read
    /// (at least 1). Call on the runtime; read from a plain thread.
    pub async fn open(store: Arc<dyn BlobStore>, key: &str, window: usize) -> Result<Self, BlobError> {
        let size = store.head(key).await?.ok_or_else(|| BlobError::NotFound(key.to_string()))?.size;
        Ok(Self::with_size(store, key, size, window, tokio::runtime::Handle::current()))
    }

    /// A reader of `key` of `size` bytes (from a HEAD the caller already made), reading
    /// through `runtime`.
    pub fn with_size(
        store: Arc<dyn BlobStore>,
        key: &str,
        size: u64,
        window: usize,
        runtime: tokio::runtime::Handle,
    ) -> Self {
        RangeReader {
            store,
            key: key.to_string(),
            size,
            pos: 0,
            window: window.max(1) as u64,
            buf: Bytes::new(),
            buf_start: 0,
            runtime,
        }
    }

    /// The object's size as the store reported it.
    pub fn len(&self) -> u64 {
        self.size
    }

    pub fn is_empty(&self) -> bool {
        self.size == 0
    }

    fn buffered(&self, at: u64) -> bool {
        at >= self.buf_start && at < self.buf_start + self.buf.len() as u64
    }

    /// Fetches the window holding `self.pos` (which is below `self.size`). A read that
    /// continues the buffer starts the window there; any other (a seek) ends it as close to
    /// the object's end as the window allows, so the reads a zip starts with (its end record
    /// and central directory, found backwards from the end) cost one request together.
    fn fill(&mut self) -> io::Result<()> {
        let sequential = self.pos == self.buf_start + self.buf.len() as u64 && !self.buf.is_empty();
        let end = self.pos.saturating_add(self.window).min(self.size);
        let start = if sequential { self.pos } else { end.saturating_sub(self.window).min(self.pos) };
        let want = end - start;
        let fetch = async {
            let mut stream = self.store.get_range(&self.key, start, end).await?;
            let mut out = BytesMut::with_capacity(want as usize);
            while let Some(chunk) = stream.next().await {
                out.extend_from_slice(&chunk?);
                if out.len() as u64 > want {
                    break;
                }
            }
            Ok::<_, BlobError>(out)
        };
        let got = self.runtime.block_on(fetch).map_err(|e| match e {
            BlobError::InvalidRange { .. } => io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("{} is shorter than the {} bytes the store reported: {e}", self.key, self.size),
            ),
            BlobError::Io(e) => e,
            e => io::Error::other(e.to_string()),
        })?;
        if got.len() as u64 != want {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "reading bytes {start}..{end} of {} ({} bytes as the store reported) answered {} bytes",
                    self.key,
                    self.size,
                    got.len()
                ),
            ));
        }
        self.buf = got.freeze();
        self.buf_start = start;
        Ok(())
    }
}

impl Read for RangeReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() || self.pos >= self.size {
            return Ok(0);
        }
        if !self.buffered(self.pos) {
            self.fill()?;
        }
        let offset = (self.pos - self.buf_start) as usize;
        let n = out.len().min(self.buf.len() - offset);
        out[..n].copy_from_slice(&self.buf[offset..offset + n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for RangeReader {
    /// As a file's: a position past the end is allowed (reads there answer nothing), one
    /// before the start is an error. Seeking fetches nothing.
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.size.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = target.ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, format!("seek to {to:?} is before the start of {}", self.key))
        })?;
        Ok(self.pos)
    }
}

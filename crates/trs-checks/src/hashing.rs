//! The single read of an artifact: a reader thread reads large chunks while the calling thread
//! hashes the previous one, and every chunk also goes to an optional tee (the tar.gz inspector
//! on its own thread). Overlapping the read with hashing is why this beats `sha512sum`, which
//! does both in turn on one thread.

use sequoia_openpgp::crypto::hash;
use sha2::Digest;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

/// Read size: large enough that syscalls and channel hand-offs cost nothing next to hashing.
pub(crate) const CHUNK: usize = 1 << 20;

/// Chunks in flight between the reader and the hasher (and between the hasher and the tee).
const IN_FLIGHT: usize = 4;

pub(crate) type Chunk = Arc<Vec<u8>>;

/// Hash states at the end of the data, ready to be cloned and finalized.
pub(crate) struct PassOutput {
    pub size: u64,
    pub sha512: sha2::Sha512,
    pub sha256: Option<sha2::Sha256>,
    pub contexts: Vec<hash::Context>,
}

/// Reads `file` once, feeding SHA-512, SHA-256 if `want_sha256`, every sequoia context, and
/// `tee` if given. The tee is dropped (closing its channel) at end of data; if its receiver
/// went away early (it stopped reading, e.g. a bomb was refused) it is no longer fed.
pub(crate) fn read_once(
    file: &Path,
    want_sha256: bool,
    mut contexts: Vec<hash::Context>,
    mut tee: Option<SyncSender<Chunk>>,
) -> io::Result<PassOutput> {
    let mut f = File::open(file)?;
    let mut sha512 = sha2::Sha512::new();
    let mut sha256 = want_sha256.then(sha2::Sha256::new);
    let mut size = 0u64;
    let (chunk_tx, chunk_rx) = sync_channel::<io::Result<Chunk>>(IN_FLIGHT);
    // Spent buffers go back to the reader so steady state allocates nothing.
    let (spare_tx, spare_rx) = sync_channel::<Vec<u8>>(IN_FLIGHT + 2);
    std::thread::scope(|s| {
        s.spawn(move || reader(&mut f, chunk_tx, spare_rx));
        for chunk in chunk_rx {
            let chunk = chunk?;
            size += chunk.len() as u64;
            sha512.update(&chunk[..]);
            if let Some(h) = sha256.as_mut() {
                h.update(&chunk[..]);
            }
            for c in contexts.iter_mut() {
                c.update(&chunk[..]);
            }
            if tee.as_ref().is_some_and(|t| t.send(Arc::clone(&chunk)).is_err()) {
                tee = None;
            }
            if let Ok(buf) = Arc::try_unwrap(chunk) {
                let _ = spare_tx.try_send(buf);
            }
        }
        Ok::<(), io::Error>(())
    })?;
    drop(tee);
    Ok(PassOutput { size, sha512, sha256, contexts })
}

fn reader(f: &mut File, out: SyncSender<io::Result<Chunk>>, spare: Receiver<Vec<u8>>) {
    loop {
        let mut buf = spare.try_recv().unwrap_or_else(|_| Vec::with_capacity(CHUNK));
        buf.resize(CHUNK, 0);
        let mut filled = 0;
        // Fill the whole chunk: short reads would make the hasher do more, smaller updates.
        let result = loop {
            match f.read(&mut buf[filled..]) {
                Ok(0) => break Ok(()),
                Ok(n) => {
                    filled += n;
                    if filled == CHUNK {
                        break Ok(());
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => break Err(e),
            }
        };
        if let Err(e) = result {
            let _ = out.send(Err(e));
            return;
        }
        if filled == 0 {
            return;
        }
        buf.truncate(filled);
        let last = filled < CHUNK;
        if out.send(Ok(Arc::new(buf))).is_err() || last {
            return;
        }
    }
}

/// `Read` over the chunks a [`read_once`] tee sends: the archive inspector reads the artifact
/// from this instead of from the file.
pub(crate) struct ChunkReader {
    rx: Receiver<Chunk>,
    current: Option<Chunk>,
    pos: usize,
}

impl ChunkReader {
    pub fn new(rx: Receiver<Chunk>) -> Self {
        Self { rx, current: None, pos: 0 }
    }
}

impl Read for ChunkReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            if let Some(c) = self.current.as_ref().filter(|c| self.pos < c.len()) {
                let n = out.len().min(c.len() - self.pos);
                out[..n].copy_from_slice(&c[self.pos..self.pos + n]);
                self.pos += n;
                return Ok(n);
            }
            match self.rx.recv() {
                Ok(c) => {
                    self.current = Some(c);
                    self.pos = 0;
                }
                // The sender is dropped at end of data.
                Err(_) => return Ok(0),
            }
        }
    }
}

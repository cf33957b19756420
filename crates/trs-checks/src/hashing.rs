//! The single read of an artifact. Every chunk feeds SHA-512, SHA-256 when wanted, the
//! sequoia contexts of signatures that cannot share those, and an optional tee (the tar.gz
//! inspector on its own thread).
//!
//! Two ways to read ([`ReadMode`]): `Overlapped` has a reader thread fill the next chunk while
//! the calling thread hashes the previous one, so one artifact alone finishes sooner than
//! `sha512sum`, which reads and hashes in turn. When every core is already hashing (several
//! artifacts in parallel) the extra thread only adds cross-core copying, so `Inline` reads
//! and hashes in turn with a buffer small enough to stay in the core's cache.

use sequoia_openpgp::crypto::hash;
use sha2::Digest;
use std::io::{self, Read};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

/// Overlapped read size: large enough that syscalls and channel hand-offs cost nothing next
/// to hashing.
pub(crate) const CHUNK: usize = 1 << 20;

/// Inline read size: fits a core's L2 cache, so hashing reads what the copy just wrote.
const INLINE_CHUNK: usize = 256 << 10;

/// Chunks in flight between the reader and the hasher.
const IN_FLIGHT: usize = 4;

pub(crate) type Chunk = Arc<Vec<u8>>;

/// How [`read_once`] reads; see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadMode {
    Overlapped,
    Inline,
}

/// Hash states at the end of the data, ready to be cloned and finalized.
pub(crate) struct PassOutput {
    pub size: u64,
    pub sha512: sha2::Sha512,
    pub sha256: Option<sha2::Sha256>,
    pub contexts: Vec<hash::Context>,
}

struct Feeder {
    size: u64,
    /// Assembly (OpenSSL's or aws-lc's) for the gigabytes; handed over as a `sha2` state at the end.
    sha512: trs_sha512::Sha512,
    sha256: Option<sha2::Sha256>,
    contexts: Vec<hash::Context>,
    tee: Option<SyncSender<Chunk>>,
}

impl Feeder {
    fn hash(&mut self, data: &[u8]) {
        self.size += data.len() as u64;
        self.sha512.update(data);
        if let Some(h) = self.sha256.as_mut() {
            h.update(data);
        }
        for c in self.contexts.iter_mut() {
            c.update(data);
        }
    }

    fn end(self) -> PassOutput {
        PassOutput { size: self.size, sha512: self.sha512.into_sha2(), sha256: self.sha256, contexts: self.contexts }
    }

    /// Sends a chunk to the tee; a closed tee (the inspector stopped early) is dropped.
    fn tee(&mut self, chunk: impl FnOnce() -> Chunk) {
        if self.tee.as_ref().is_some_and(|t| t.send(chunk()).is_err()) {
            self.tee = None;
        }
    }
}

/// Reads `reader` to its end once, feeding SHA-512, SHA-256 if `want_sha256`, every sequoia context, and
/// `tee` if given. The tee is dropped (closing its channel) at end of data; if its receiver
/// went away early (it stopped reading, e.g. a bomb was refused) it is no longer fed.
pub(crate) fn read_once(
    mut f: Box<dyn Read + Send>,
    want_sha256: bool,
    contexts: Vec<hash::Context>,
    tee: Option<SyncSender<Chunk>>,
    mode: ReadMode,
) -> io::Result<PassOutput> {
    let mut feeder = Feeder {
        size: 0,
        sha512: trs_sha512::Sha512::new(),
        sha256: want_sha256.then(sha2::Sha256::new),
        contexts,
        tee,
    };
    match mode {
        ReadMode::Inline => {
            let mut buf = vec![0u8; INLINE_CHUNK];
            loop {
                let n = fill(&mut f, &mut buf)?;
                if n == 0 {
                    break;
                }
                feeder.hash(&buf[..n]);
                feeder.tee(|| Arc::new(buf[..n].to_vec()));
            }
        }
        ReadMode::Overlapped => {
            let (chunk_tx, chunk_rx) = sync_channel::<io::Result<Chunk>>(IN_FLIGHT);
            // Spent buffers go back to the reader so steady state allocates nothing.
            let (spare_tx, spare_rx) = sync_channel::<Vec<u8>>(IN_FLIGHT + 2);
            std::thread::scope(|s| {
                s.spawn(move || reader(&mut *f, chunk_tx, spare_rx));
                for chunk in chunk_rx {
                    let chunk = chunk?;
                    feeder.hash(&chunk);
                    feeder.tee(|| Arc::clone(&chunk));
                    if let Ok(buf) = Arc::try_unwrap(chunk) {
                        let _ = spare_tx.try_send(buf);
                    }
                }
                Ok::<(), io::Error>(())
            })?;
        }
    }
    Ok(feeder.end())
}

/// Reads until `buf` is full or the file ends: short reads would mean more, smaller updates.
fn fill(f: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match f.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

fn reader(f: &mut dyn Read, out: SyncSender<io::Result<Chunk>>, spare: Receiver<Vec<u8>>) {
    loop {
        let mut buf = spare.try_recv().unwrap_or_else(|_| Vec::with_capacity(CHUNK));
        buf.resize(CHUNK, 0);
        let filled = match fill(f, &mut buf) {
            Ok(n) => n,
            Err(e) => {
                let _ = out.send(Err(e));
                return;
            }
        };
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::File;

    #[test]
    fn both_modes_hash_and_tee_every_byte() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        // Not a multiple of either chunk size, so the last short chunk is covered.
        let data: Vec<u8> = (0..(3 * CHUNK + 12_345)).map(|i| (i * 31 % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let want: [u8; 64] = sha2::Sha512::digest(&data).into();
        let want256: [u8; 32] = sha2::Sha256::digest(&data).into();
        for mode in [ReadMode::Inline, ReadMode::Overlapped] {
            let (tx, rx) = sync_channel(2);
            let teed = std::thread::spawn(move || {
                let mut v = Vec::new();
                ChunkReader::new(rx).read_to_end(&mut v).unwrap();
                v
            });
            let out = read_once(Box::new(File::open(&path).unwrap()), true, Vec::new(), Some(tx), mode).unwrap();
            assert_eq!(out.size, data.len() as u64);
            assert_eq!(<[u8; 64]>::from(out.sha512.finalize()), want, "{mode:?}");
            assert_eq!(<[u8; 32]>::from(out.sha256.unwrap().finalize()), want256, "{mode:?}");
            assert!(teed.join().unwrap() == data, "{mode:?} tee");
        }
    }

    #[test]
    fn a_tee_that_stops_early_does_not_stall_the_pass() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, vec![1u8; 5 * CHUNK]).unwrap();
        for mode in [ReadMode::Inline, ReadMode::Overlapped] {
            let (tx, rx) = sync_channel::<Chunk>(1);
            drop(rx);
            let out = read_once(Box::new(File::open(&path).unwrap()), false, Vec::new(), Some(tx), mode).unwrap();
            assert_eq!(out.size, 5 * CHUNK as u64);
        }
    }
}

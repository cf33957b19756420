//! Taking in a body: every block goes to the file writer (straight to the disk where the file
//! system allows, [`direct_io`]), SHA-512 and SHA-256, each on a thread of its own (or, for a body stored already, to the two hashes only:
//! [`Intake::hash_only`], the upload commit on S3), so that on two cores the slowest of them
//! (SHA-512, about 0.75 GB/s on OpenSSL's assembly in the `trs` binary: `trs_sha512`) sets the
//! pace instead of their sum. The body's chunks (often a few KiB off the socket) are gathered
//! into blocks of [`BLOCK`] bytes, so that handing one over to three threads costs nothing next
//! to hashing it; a block is shared by the lanes, not copied. Each lane holds at
//! most [`LANE_DEPTH`] blocks: a lane that falls behind stops the receiver, which stops the
//! sender (TCP back-pressure), so memory stays bounded whatever the size.
//!
//! What each lane spent is kept ([`IntakeTimings`]) and logged under the `trs::timing` target,
//! the measurement behind `trs bench upload`.

use bytes::Bytes;
use sha2::{Digest, Sha256, Sha512};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

pub mod direct_io;

/// The unit handed to the lanes.
pub const BLOCK: usize = 1 << 20;

/// Blocks waiting in one lane: a few MiB in flight, enough to ride out a lane's hiccup, small
/// next to the memory bound of a 2 GiB upload.
pub const LANE_DEPTH: usize = 4;

/// The hash states after the last byte, before finalization.
pub struct BodyHashes {
    pub size: u64,
    pub sha512: Sha512,
    pub sha256: Sha256,
}

/// Where the time of one intake went: the busy time of each lane, and the time the receiver
/// waited for the body (the sender and the network) or for a full lane.
#[derive(Debug, Clone, Copy, Default)]
pub struct IntakeTimings {
    /// Blocks handed to the lanes.
    pub blocks: u64,
    pub total: Duration,
    /// Waiting for the next chunk of the body.
    pub receive_wait: Duration,
    /// Waiting for room in each lane: which lane's full queue held the receiver back
    /// ([`IntakeTimings::lane_wait`] is their sum).
    pub sha512_wait: Duration,
    pub sha256_wait: Duration,
    pub write_wait: Duration,
    pub sha512_busy: Duration,
    pub sha256_busy: Duration,
    pub write_busy: Duration,
    /// The final fsync of the written file.
    pub sync: Duration,
    /// Bytes the writer handed to the disk directly (`O_DIRECT`, see [`direct_io`]).
    pub direct_bytes: u64,
}

/// What the writer lane did.
#[derive(Default)]
struct Written {
    busy: Duration,
    sync: Duration,
    direct_bytes: u64,
}

/// One consumer of the chunks on a blocking thread; its result comes back at [`Lane::finish`].
struct Lane<T> {
    tx: mpsc::Sender<Bytes>,
    done: tokio::task::JoinHandle<T>,
}

impl<T: Send + 'static> Lane<T> {
    fn spawn(work: impl FnOnce(&mut mpsc::Receiver<Bytes>) -> T + Send + 'static) -> Self {
        let (tx, mut rx) = mpsc::channel(LANE_DEPTH);
        let done = tokio::task::spawn_blocking(move || work(&mut rx));
        Lane { tx, done }
    }

    /// Hands a chunk over; `false` when the lane has stopped (a write failed).
    async fn feed(&self, chunk: Bytes) -> bool {
        self.tx.send(chunk).await.is_ok()
    }

    async fn finish(self) -> std::io::Result<T> {
        drop(self.tx);
        self.done.await.map_err(|e| std::io::Error::other(format!("intake thread: {e}")))
    }
}

/// A hash a lane runs: SHA-512 on assembly (the lane that paces the intake, see
/// [`trs_sha512`]), SHA-256 on `sha2` (SHA-NI where the CPU has it).
trait LaneHash: Send + 'static {
    fn update(&mut self, data: &[u8]);
}

impl LaneHash for trs_sha512::Sha512 {
    fn update(&mut self, data: &[u8]) {
        trs_sha512::Sha512::update(self, data)
    }
}

impl LaneHash for Sha256 {
    fn update(&mut self, data: &[u8]) {
        Digest::update(self, data)
    }
}

fn hash_lane<H: LaneHash>(mut hasher: H) -> Lane<(H, Duration)> {
    Lane::spawn(move |rx| {
        let mut busy = Duration::ZERO;
        while let Some(chunk) = rx.blocking_recv() {
            let t = Instant::now();
            hasher.update(&chunk);
            busy += t.elapsed();
        }
        (hasher, busy)
    })
}

/// A body being taken in: feed it chunk by chunk, then [`Intake::finish`].
pub struct Intake {
    started: Instant,
    size: u64,
    /// Bytes gathered for the next block.
    pending: bytes::BytesMut,
    /// Blocks and lane waits so far; the rest is filled in by [`Intake::finish`].
    timings: IntakeTimings,
    sha512: Lane<(trs_sha512::Sha512, Duration)>,
    sha256: Lane<(Sha256, Duration)>,
    /// `None` when the body is only hashed ([`Intake::hash_only`]).
    writer: Option<Lane<std::io::Result<Written>>>,
}

impl Intake {
    /// Starts the lanes; the writer writes to `file` and fsyncs it at the end.
    pub fn start(file: std::fs::File) -> Self {
        let writer = Lane::spawn(move |rx| {
            let mut busy = Duration::ZERO;
            let mut file = direct_io::Writer::new(file);
            while let Some(chunk) = rx.blocking_recv() {
                let t = Instant::now();
                file.write(&chunk)?;
                busy += t.elapsed();
            }
            let t = Instant::now();
            let (file, direct_bytes) = file.into_parts();
            file.sync_all()?;
            Ok(Written { busy, sync: t.elapsed(), direct_bytes })
        });
        Self::with_writer(Some(writer))
    }

    /// Hashes a body that is stored elsewhere already (an object read back from S3 to learn
    /// its digests): the two hash lanes without the writer.
    pub fn hash_only() -> Self {
        Self::with_writer(None)
    }

    fn with_writer(writer: Option<Lane<std::io::Result<Written>>>) -> Self {
        Intake {
            started: Instant::now(),
            size: 0,
            pending: bytes::BytesMut::new(),
            timings: IntakeTimings::default(),
            sha512: hash_lane(trs_sha512::Sha512::new()),
            sha256: hash_lane(Sha256::new()),
            writer,
        }
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Takes one chunk of the body; full blocks go to every lane. An error means the writer
    /// stopped: [`Intake::finish`] tells why.
    pub async fn feed(&mut self, mut chunk: Bytes) -> Result<(), ()> {
        use bytes::Buf;
        self.size += chunk.len() as u64;
        while !chunk.is_empty() {
            // Whole blocks of a large chunk go on without a copy when nothing is pending and
            // the writer can take them directly or there is no writer; any other chunk is
            // gathered, since one unaligned write turns direct writes off for the rest of the
            // file.
            let whole = chunk.len() / BLOCK * BLOCK;
            if self.pending.is_empty() && whole > 0 && (self.writer.is_none() || direct_io::is_aligned(&chunk[..whole]))
            {
                self.dispatch(chunk.split_to(whole)).await?;
                continue;
            }
            if self.pending.capacity() == 0 {
                self.pending = direct_io::aligned_block();
            }
            // Blocks of exactly BLOCK bytes, so that each can go to the disk directly.
            let take = (BLOCK - self.pending.len()).min(chunk.len());
            self.pending.extend_from_slice(&chunk[..take]);
            chunk.advance(take);
            if self.pending.len() == BLOCK {
                let block = std::mem::take(&mut self.pending).freeze();
                self.dispatch(block).await?;
            }
        }
        Ok(())
    }

    async fn dispatch(&mut self, block: Bytes) -> Result<(), ()> {
        self.timings.blocks += 1;
        let t = Instant::now();
        let sha512 = self.sha512.feed(block.clone()).await;
        let t2 = Instant::now();
        let sha256 = self.sha256.feed(block.clone()).await;
        let t3 = Instant::now();
        let written = match &self.writer {
            Some(writer) => writer.feed(block).await,
            None => true,
        };
        self.timings.sha512_wait += t2 - t;
        self.timings.sha256_wait += t3 - t2;
        self.timings.write_wait += t3.elapsed();
        if sha512 && sha256 && written { Ok(()) } else { Err(()) }
    }

    /// Waits for every lane to end; the writer's error if a write or the fsync failed.
    /// `receive_wait` is the time the caller spent waiting for the body.
    pub async fn finish(mut self, receive_wait: Duration) -> std::io::Result<(BodyHashes, IntakeTimings)> {
        if !self.pending.is_empty() {
            let last = std::mem::take(&mut self.pending).freeze();
            // A writer that stopped: its error comes below.
            let _ = self.dispatch(last).await;
        }
        let written = match self.writer {
            Some(writer) => writer.finish().await?,
            None => Ok(Written::default()),
        };
        let (sha512, sha512_busy) = self.sha512.finish().await?;
        let (sha256, sha256_busy) = self.sha256.finish().await?;
        let Written { busy: write_busy, sync, direct_bytes } = written?;
        let timings = IntakeTimings {
            total: self.started.elapsed(),
            receive_wait,
            sha512_busy,
            sha256_busy,
            write_busy,
            sync,
            direct_bytes,
            ..self.timings
        };
        Ok((BodyHashes { size: self.size, sha512: sha512.into_sha2(), sha256 }, timings))
    }
}

impl IntakeTimings {
    /// Waiting for room in any lane (the slowest lane holding the receiver back).
    pub fn lane_wait(&self) -> Duration {
        self.sha512_wait + self.sha256_wait + self.write_wait
    }

    /// One `trs::timing` line (debug level: `TRS_LOG=info,trs::timing=debug` shows it).
    pub fn log(&self, key: &str, bytes: u64) {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        tracing::debug!(
            target: "trs::timing",
            stage = "intake",
            key,
            bytes,
            blocks = self.blocks,
            total_ms = ms(self.total),
            receive_wait_ms = ms(self.receive_wait),
            lane_wait_ms = ms(self.lane_wait()),
            sha512_wait_ms = ms(self.sha512_wait),
            sha256_wait_ms = ms(self.sha256_wait),
            write_wait_ms = ms(self.write_wait),
            sha512_ms = ms(self.sha512_busy),
            sha256_ms = ms(self.sha256_busy),
            write_ms = ms(self.write_busy),
            sync_ms = ms(self.sync),
            direct_bytes = self.direct_bytes,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_lanes_end_with_the_states_and_file_of_the_whole_body() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("body");
        let mut intake = Intake::start(std::fs::File::create(&path).unwrap());
        // More blocks than a lane holds, from chunks smaller and larger than a block.
        let body: Vec<u8> = (0..(LANE_DEPTH * 3 * BLOCK + 1013)).map(|i| (i * 31 % 251) as u8).collect();
        let (small, large) = body.split_at(BLOCK + 77);
        for chunk in small.chunks(4099).chain(large.chunks(BLOCK * 2 + 5)) {
            intake.feed(Bytes::copy_from_slice(chunk)).await.unwrap();
        }
        let (hashes, timings) = intake.finish(Duration::ZERO).await.unwrap();
        assert_eq!(hashes.size, body.len() as u64);
        assert_eq!(hashes.sha512.finalize(), Sha512::digest(&body));
        assert_eq!(hashes.sha256.finalize(), Sha256::digest(&body));
        assert_eq!(std::fs::read(&path).unwrap(), body);
        assert!(timings.total >= timings.sync);
        assert!(timings.blocks < (body.len() / 4099) as u64, "small chunks are gathered into blocks");
    }

    /// Whether the file system under `dir` takes an `O_DIRECT` write of an aligned block.
    #[cfg(target_os = "linux")]
    fn takes_direct_writes(dir: &std::path::Path) -> bool {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let Ok(mut probe) = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .custom_flags(rustix::fs::OFlags::DIRECT.bits() as i32)
            .open(dir.join("probe"))
        else {
            return false;
        };
        let mut block = direct_io::aligned_block();
        block.resize(direct_io::ALIGN, 7);
        probe.write(&block).is_ok_and(|n| n == direct_io::ALIGN)
    }

    #[cfg(target_os = "linux")]
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn whole_blocks_go_to_the_disk_directly_and_the_tail_through_the_page_cache() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("body");
        let mut intake = Intake::start(std::fs::File::create(&path).unwrap());
        // Socket-sized chunks that do not divide a block, and a tail that is no whole page.
        let body: Vec<u8> = (0..(BLOCK * 5 + 12_345)).map(|i| (i * 13 % 249) as u8).collect();
        for chunk in body.chunks(65_537) {
            intake.feed(Bytes::copy_from_slice(chunk)).await.unwrap();
        }
        let (hashes, timings) = intake.finish(Duration::ZERO).await.unwrap();
        assert_eq!(hashes.sha512.finalize(), Sha512::digest(&body));
        assert_eq!(std::fs::read(&path).unwrap(), body, "the same bytes whichever way they went");
        if takes_direct_writes(dir.path()) {
            assert_eq!(timings.direct_bytes, 5 * BLOCK as u64, "every whole block went directly");
        } else {
            eprintln!("{}: no O_DIRECT on this file system, only the bytes checked", dir.path().display());
            assert_eq!(timings.direct_bytes, 0);
        }
    }

    #[cfg(target_os = "linux")]
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn large_chunks_at_unaligned_addresses_are_gathered_so_whole_blocks_still_go_directly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("body");
        let mut intake = Intake::start(std::fs::File::create(&path).unwrap());
        let body: Vec<u8> = (0..(BLOCK * 6 + 4_321)).map(|i| (i * 17 % 241) as u8).collect();
        // One byte in, so every chunk starts off a page boundary whatever the allocator gave.
        let mut shifted = vec![0u8];
        shifted.extend_from_slice(&body);
        let shifted = Bytes::from(shifted).slice(1..);
        assert_ne!(shifted.as_ptr().align_offset(direct_io::ALIGN), 0);
        for start in (0..body.len()).step_by(2 * BLOCK + 5) {
            intake.feed(shifted.slice(start..(start + 2 * BLOCK + 5).min(body.len()))).await.unwrap();
        }
        let (hashes, timings) = intake.finish(Duration::ZERO).await.unwrap();
        assert_eq!(hashes.sha512.finalize(), Sha512::digest(&body));
        assert_eq!(std::fs::read(&path).unwrap(), body);
        if takes_direct_writes(dir.path()) {
            assert_eq!(timings.direct_bytes, 6 * BLOCK as u64, "every whole block went directly");
        } else {
            eprintln!("{}: no O_DIRECT on this file system, only the bytes checked", dir.path().display());
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn after_an_unaligned_chunk_the_rest_of_the_file_goes_through_the_page_cache() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("body");
        let mut writer = direct_io::Writer::new(std::fs::File::create(&path).unwrap());
        let aligned = |fill: u8| {
            let mut block = direct_io::aligned_block();
            block.resize(2 * direct_io::ALIGN, fill);
            block.freeze()
        };
        writer.write(&aligned(1)).unwrap();
        writer.write(b"seventeen bytes..").unwrap();
        // Aligned in memory and length, but at an unaligned offset: must not go directly.
        writer.write(&aligned(2)).unwrap();
        let (_, direct_bytes) = writer.into_parts();
        let mut expected = vec![1u8; 2 * direct_io::ALIGN];
        expected.extend_from_slice(b"seventeen bytes..");
        expected.extend_from_slice(&[2u8; 2 * direct_io::ALIGN]);
        assert_eq!(std::fs::read(&path).unwrap(), expected);
        let first = if takes_direct_writes(dir.path()) { 2 * direct_io::ALIGN as u64 } else { 0 };
        assert_eq!(direct_bytes, first, "only the first chunk went directly");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn hash_only_ends_with_the_states_of_the_whole_body() {
        let mut intake = Intake::hash_only();
        let body: Vec<u8> = (0..(BLOCK * 2 + 333)).map(|i| (i * 7 % 253) as u8).collect();
        for chunk in body.chunks(70_000) {
            intake.feed(Bytes::copy_from_slice(chunk)).await.unwrap();
        }
        let (hashes, timings) = intake.finish(Duration::ZERO).await.unwrap();
        assert_eq!(hashes.size, body.len() as u64);
        assert_eq!(hashes.sha512.finalize(), Sha512::digest(&body));
        assert_eq!(hashes.sha256.finalize(), Sha256::digest(&body));
        assert_eq!(timings.write_busy, Duration::ZERO);
    }

    #[tokio::test]
    async fn a_failing_write_stops_the_intake_with_its_error() {
        // A file opened read-only: the first write fails.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ro");
        std::fs::write(&path, b"").unwrap();
        let mut intake = Intake::start(std::fs::File::open(&path).unwrap());
        let mut stopped = false;
        for _ in 0..(LANE_DEPTH * 4) {
            if intake.feed(Bytes::from(vec![0u8; BLOCK])).await.is_err() {
                stopped = true;
                break;
            }
        }
        assert!(stopped, "the writer's failure reaches the feeder");
        assert!(intake.finish(Duration::ZERO).await.is_err());
    }
}

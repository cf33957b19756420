//! The writer lane's way to the disk: whole blocks with `O_DIRECT` where the file system
//! takes it, so the disk reads each block from the intake's memory by DMA instead of the
//! kernel copying it into the page cache first. On two cores that copy was a lane of its own
//! competing with SHA-512 for a core (about 1 s of CPU per GiB, `trs bench upload`), and the
//! page cache it filled had to be flushed by the final fsync anyway.
//!
//! `O_DIRECT` wants the memory address, the file offset and the length aligned to the
//! device's block size: the intake gathers the body into blocks of [`super::BLOCK`] bytes that
//! start on a [`ALIGN`] boundary ([`aligned_block`]). Anything else (the last, partial block; an
//! unaligned chunk; a file system without `O_DIRECT`, such as tmpfs on older
//! kernels, or a device that wants a larger alignment) is written through the page cache as
//! before, and from then on the rest of the file too. The bytes on disk are the same either
//! way; only who copies them differs.

use bytes::BytesMut;
use std::fs::File;
use std::io::{ErrorKind, Write};

/// The alignment asked of a direct block: 4 KiB, the logical block size of disks and the
/// page size, which every file system that takes `O_DIRECT` on Linux accepts.
pub const ALIGN: usize = 4096;

/// An empty buffer of at least [`super::BLOCK`] bytes whose first byte is [`ALIGN`]-aligned.
pub fn aligned_block() -> BytesMut {
    use bytes::Buf;
    let mut block = BytesMut::with_capacity(super::BLOCK + ALIGN);
    let pad = block.as_ptr().align_offset(ALIGN);
    block.resize(pad, 0);
    block.advance(pad);
    block
}

/// Whether `chunk` may go to the disk directly: its address and length [`ALIGN`]ed (the
/// file offset is the writer's to keep aligned).
pub fn is_aligned(chunk: &[u8]) -> bool {
    chunk.as_ptr().align_offset(ALIGN) == 0 && chunk.len().is_multiple_of(ALIGN)
}

/// Writes a file from the start, directly while it can.
pub struct Writer {
    file: File,
    direct: bool,
    direct_bytes: u64,
}

impl Writer {
    /// Turns `O_DIRECT` on for `file` (open for writing, at offset 0) if its file system takes it.
    pub fn new(file: File) -> Self {
        let direct = set_direct(&file, true).is_ok();
        Writer { file, direct, direct_bytes: 0 }
    }

    pub fn write(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        if self.direct && is_aligned(chunk) {
            return self.write_direct(chunk);
        }
        self.buffered()?;
        self.file.write_all(chunk)
    }

    /// Writes an aligned chunk directly; whatever the disk does not take that way (a short
    /// write that leaves the offset unaligned, EINVAL from a device that wants a larger
    /// alignment) goes through the page cache from where it stopped.
    fn write_direct(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        let mut rest = chunk;
        while !rest.is_empty() {
            match self.file.write(rest) {
                Ok(0) => return Err(ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.direct_bytes += n as u64;
                    rest = &rest[n..];
                    if !n.is_multiple_of(ALIGN) {
                        break;
                    }
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                // Nothing of this write was taken.
                Err(e) if e.kind() == ErrorKind::InvalidInput => break,
                Err(e) => return Err(e),
            }
        }
        if !rest.is_empty() {
            self.buffered()?;
            self.file.write_all(rest)?;
        }
        Ok(())
    }

    /// Turns `O_DIRECT` off for the rest of the file.
    fn buffered(&mut self) -> std::io::Result<()> {
        if self.direct {
            self.direct = false;
            set_direct(&self.file, false)?;
        }
        Ok(())
    }

    /// The file, and how many of its bytes went to the disk directly.
    pub fn into_parts(self) -> (File, u64) {
        (self.file, self.direct_bytes)
    }
}

#[cfg(target_os = "linux")]
fn set_direct(file: &File, on: bool) -> std::io::Result<()> {
    use rustix::fs::{OFlags, fcntl_getfl, fcntl_setfl};
    let flags = fcntl_getfl(file)?;
    let flags = if on { flags | OFlags::DIRECT } else { flags - OFlags::DIRECT };
    Ok(fcntl_setfl(file, flags)?)
}

#[cfg(not(target_os = "linux"))]
fn set_direct(_file: &File, on: bool) -> std::io::Result<()> {
    if on { Err(ErrorKind::Unsupported.into()) } else { Ok(()) }
}

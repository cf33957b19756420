//! File-system moves the blob store is built from, each chosen to be atomic or crash-safe:
//! a hard link is the only portable "create this name unless it exists" for a finished file,
//! and directories are fsynced so that a name survives a power cut once we report success.

use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

/// A file in the store's `tmp/` folder, removed when dropped: on error, on success after it was
/// linked elsewhere, and when the future writing it is cancelled.
pub struct TmpFile {
    pub path: PathBuf,
}

impl TmpFile {
    pub fn new(tmp_dir: &Path, suffix: &str) -> Self {
        Self { path: tmp_dir.join(format!("{:032x}{suffix}", rand::random::<u128>())) }
    }
}

impl Drop for TmpFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Writes a small file completely and durably, refusing to replace an existing one.
pub fn write_new_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

pub enum Linked {
    Done,
    /// The name is taken (by a file).
    Exists,
    /// A file sits where a folder is needed or a folder where the file should go: the key and
    /// another key are "a" and "a/...", which a file system cannot hold side by side.
    PathConflict,
}

/// Gives `src` the new name `dst` unless `dst` exists, creating parent folders as needed.
pub fn link_new(src: &Path, dst: &Path, root: &Path) -> std::io::Result<Linked> {
    let parent = dst.parent().unwrap_or(root);
    let mut attempts = 0;
    loop {
        attempts += 1;
        if let Err(e) = std::fs::create_dir_all(parent) {
            return if blocked_by_file(root, parent) { Ok(Linked::PathConflict) } else { Err(e) };
        }
        match std::fs::hard_link(src, dst) {
            Ok(()) => {
                sync_dir(parent)?;
                return Ok(Linked::Done);
            }
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                if !dst.is_dir() {
                    return Ok(Linked::Exists);
                }
                // A folder left empty by a racing delete is no conflict; a full one is.
                if std::fs::remove_dir(dst).is_err() || attempts > 3 {
                    return Ok(Linked::PathConflict);
                }
            }
            // A concurrent delete pruned the parent folder we had just created.
            Err(e) if e.kind() == ErrorKind::NotFound && src.exists() && attempts <= 3 => {}
            Err(e) if e.kind() == ErrorKind::NotADirectory => return Ok(Linked::PathConflict),
            Err(e) => return Err(e),
        }
    }
}

/// True if some folder on the way from `root` to `dir` exists as a file.
fn blocked_by_file(root: &Path, dir: &Path) -> bool {
    dir.ancestors()
        .take_while(|a| a.starts_with(root) && *a != root)
        .any(|a| a.symlink_metadata().is_ok_and(|m| !m.is_dir()))
}

/// Removes `path`; true if it was there. A folder in its place is not a file we own.
pub fn remove_file_if_present(path: &Path) -> std::io::Result<bool> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
        Err(_) if path.is_dir() => Ok(false),
        Err(e) => Err(e),
    }
}

/// Removes the now-empty folders between `path` and `root`, so that a deleted "a/b" leaves
/// no folder "a" behind to block a later object "a".
pub fn prune_empty_parents(path: &Path, root: &Path) {
    for dir in path.ancestors().skip(1).take_while(|a| a.starts_with(root) && *a != root) {
        if std::fs::remove_dir(dir).is_err() {
            break;
        }
    }
}

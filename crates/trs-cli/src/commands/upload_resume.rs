//! What this machine remembers of an upload it started, so that running the same `trs upload`
//! again after an interruption continues it in the same session and sends only what the
//! store lacks: the session's id and, for files sent in parts, the ETag the store answered
//! for each part sent. The commit names the parts by those ETags, so a part replaced since
//! (another ETag in the store's listing) is sent again, and one replaced after the commit was
//! asked for is refused by it (`part-changed`).
//!
//! One small JSON file per upload under `$TRS_STATE_DIR` (else `$XDG_STATE_HOME/trs`, else
//! `~/.local/state/trs`), in `uploads/`, named by a hash of what makes it the same upload:
//! the server, the release, the options, and each file's absolute path, size and modification
//! time. A file changed on disk since makes another name: a new upload starts. The file is
//! removed once the commit is done.

use crate::error::{CliResult, failed};
use serde::{Deserialize, Serialize};
use sha2::Digest;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The remembered state of one upload.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remembered {
    pub id: String,
    pub expires_at: i64,
    /// By file name, by part number: the ETag the store answered for the part.
    #[serde(default)]
    pub etags: BTreeMap<String, BTreeMap<u32, String>>,
}

impl Remembered {
    /// Part numbers of `count` parts still to send: those the store does not hold with the
    /// ETag this machine got when it sent them (`present`: the store's listing).
    pub fn parts_to_send(&self, name: &str, count: u32, present: &[trs_api::uploads::StoredPart]) -> Vec<u32> {
        let sent = self.etags.get(name);
        (1..=count)
            .filter(|n| {
                let mine = sent.and_then(|s| s.get(n)).map(|e| unquoted(e));
                let stored = present.iter().find(|p| p.number == *n).map(|p| unquoted(&p.etag));
                mine.is_none() || mine != stored
            })
            .collect()
    }

    /// The ETags of parts 1..=count of `name`, for the commit; an error names a part never
    /// sent (cannot happen after a complete send).
    pub fn etags_of(&self, name: &str, count: u32) -> CliResult<Vec<String>> {
        let sent = self.etags.get(name);
        (1..=count)
            .map(|n| {
                sent.and_then(|s| s.get(&n))
                    .cloned()
                    .ok_or_else(|| failed(format!("part {n} of {name} was not sent; run the upload again")))
            })
            .collect()
    }
}

fn unquoted(etag: &str) -> &str {
    etag.trim_matches('"')
}

/// Where one upload's state lives; `None` when there is no state folder (no HOME).
pub struct Memory {
    path: Option<PathBuf>,
}

fn state_dir() -> Option<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    var("TRS_STATE_DIR")
        .or_else(|| var("XDG_STATE_HOME").map(|d| d.join("trs")))
        .or_else(|| var("HOME").map(|h| h.join(".local/state/trs")))
}

impl Memory {
    /// The memory of the upload `identity` (the request that starts it, as JSON) of `files`.
    pub fn of(server: &str, identity: &serde_json::Value, files: &[PathBuf]) -> CliResult<Memory> {
        let Some(dir) = state_dir() else { return Ok(Memory { path: None }) };
        let mut hasher = sha2::Sha256::new();
        hasher.update(format!("trs-upload-v1\n{server}\n{identity}\n"));
        for file in files {
            let meta = std::fs::metadata(file).map_err(|e| failed(format!("cannot read {}: {e}", file.display())))?;
            let modified = meta.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
            let absolute = std::path::absolute(file).unwrap_or_else(|_| file.clone());
            hasher.update(format!(
                "{}\t{}\t{}\n",
                absolute.display(),
                meta.len(),
                modified.map(|d| d.as_nanos()).unwrap_or(0)
            ));
        }
        let name = hex::encode(hasher.finalize());
        Ok(Memory { path: Some(dir.join("uploads").join(format!("{name}.json"))) })
    }

    /// What was remembered, if anything still usable at `now` (unix seconds).
    pub fn load(&self, now: i64) -> Option<Remembered> {
        let text = std::fs::read(self.path.as_ref()?).ok()?;
        let remembered: Remembered = serde_json::from_slice(&text).ok()?;
        (remembered.expires_at > now).then_some(remembered)
    }

    /// Writes the state whole (a temporary file renamed over it: never half a state). A
    /// failure to remember only costs resuming, so it is logged, not fatal.
    pub fn save(&self, remembered: &Remembered) {
        let Some(path) = &self.path else { return };
        if let Err(e) = write(path, remembered) {
            tracing::warn!(path = %path.display(), error = %e, "cannot remember the upload's progress");
        }
    }

    pub fn forget(&self) {
        if let Some(path) = &self.path {
            let _ = std::fs::remove_file(path);
        }
    }
}

fn write(path: &Path, remembered: &Remembered) -> std::io::Result<()> {
    let dir = path.parent().expect("a file in a folder");
    std::fs::create_dir_all(dir)?;
    let tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::fs::write(tmp.path(), serde_json::to_vec(remembered)?)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use trs_api::uploads::StoredPart;

    fn part(number: u32, etag: &str) -> StoredPart {
        StoredPart { number, size: 5, etag: etag.into() }
    }

    #[test]
    fn only_parts_missing_or_replaced_in_the_store_are_sent_again() {
        let mut r = Remembered::default();
        r.etags.insert("f".into(), [(1, "\"a\"".to_string()), (2, "\"b\"".to_string()), (3, "c".into())].into());
        // 1 as sent; 2 replaced by other bytes; 3 sent but its answer not kept by the store
        // (quotes do not matter); 4 never sent.
        let present = [part(1, "\"a\""), part(2, "\"x\""), part(3, "\"c\"")];
        assert_eq!(r.parts_to_send("f", 4, &present), [2, 4]);
        assert_eq!(r.parts_to_send("other", 2, &present), [1, 2], "nothing remembered: all");
        assert_eq!(r.etags_of("f", 3).unwrap(), ["\"a\"", "\"b\"", "c"]);
        assert!(r.etags_of("f", 4).is_err());
    }

    #[test]
    fn a_changed_file_is_another_upload_and_state_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.tar.gz");
        std::fs::write(&file, b"one").unwrap();
        // The name only: the folder is the process's (TRS_STATE_DIR, HOME), not the test's.
        let name = |id: serde_json::Value| {
            let memory = Memory::of("http://x", &id, std::slice::from_ref(&file)).unwrap();
            memory.path.expect("a state folder").file_name().unwrap().to_owned()
        };
        let first = name(serde_json::json!({"project": "p"}));
        assert_ne!(name(serde_json::json!({"project": "q"})), first, "another release: another upload");
        std::fs::write(&file, b"two!").unwrap();
        assert_ne!(name(serde_json::json!({"project": "p"})), first, "a changed file: another upload");

        let m = Memory { path: Some(dir.path().join("uploads").join(&first)) };
        let r = Remembered { id: "u1".into(), expires_at: 100, etags: BTreeMap::new() };
        m.save(&r);
        assert_eq!(m.load(99), Some(r));
        assert_eq!(m.load(100), None, "expired");
        m.forget();
        assert_eq!(m.load(0), None);
    }
}

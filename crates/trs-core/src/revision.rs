//! Revisions: immutable, content-addressed snapshots of a release's file set.
//!
//! The revision key is SHA-256 over the canonical manifest:
//! `trs-manifest-v1\n` followed by one line `PATH\tSIZE\tSHA512HEX\n` per file, sorted by the
//! path's UTF-8 bytes. Paths cannot contain tabs or newlines ([`ArtifactPath`] refuses control
//! characters), so the encoding is unambiguous and equal file sets have equal keys.

use crate::artifact_path::{ArtifactPath, PathError, check_distinct};
use crate::ids::{PersonUid, RevisionKey, Sha512};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    pub path: ArtifactPath,
    pub size: u64,
    pub sha512: Sha512,
}

/// A file set, always sorted by path and free of colliding names.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "Vec<ManifestEntry>", into = "Vec<ManifestEntry>")]
pub struct Manifest(Vec<ManifestEntry>);

impl Manifest {
    pub fn new(mut entries: Vec<ManifestEntry>) -> Result<Self, PathError> {
        entries.sort_by(|a, b| a.path.as_str().as_bytes().cmp(b.path.as_str().as_bytes()));
        check_distinct(entries.iter().map(|e| &e.path))?;
        Ok(Self(entries))
    }

    /// This manifest with `changes` laid on top: same paths are replaced, new ones added.
    /// This is how each upload makes a new revision on top of the previous one.
    pub fn overlay(&self, changes: Vec<ManifestEntry>) -> Result<Self, PathError> {
        let mut by_path: BTreeMap<ArtifactPath, ManifestEntry> =
            self.0.iter().map(|e| (e.path.clone(), e.clone())).collect();
        for c in changes {
            by_path.insert(c.path.clone(), c);
        }
        Self::new(by_path.into_values().collect())
    }

    pub fn entries(&self) -> &[ManifestEntry] {
        &self.0
    }

    pub fn get(&self, path: &str) -> Option<&ManifestEntry> {
        self.0.iter().find(|e| e.path.as_str() == path)
    }

    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = b"trs-manifest-v1\n".to_vec();
        for e in &self.0 {
            out.extend_from_slice(format!("{}\t{}\t{}\n", e.path, e.size, e.sha512).as_bytes());
        }
        out
    }

    pub fn key(&self) -> RevisionKey {
        RevisionKey::from_bytes(Sha256::digest(self.canonical_bytes()).into())
    }

    /// Paths whose entries differ between two manifests (added, removed or changed).
    pub fn differences(&self, other: &Manifest) -> Vec<ArtifactPath> {
        let a: BTreeMap<_, _> = self.0.iter().map(|e| (&e.path, e)).collect();
        let b: BTreeMap<_, _> = other.0.iter().map(|e| (&e.path, e)).collect();
        let mut out: Vec<ArtifactPath> = a
            .iter()
            .filter(|(p, e)| b.get(*p) != Some(*e))
            .map(|(p, _)| (*p).clone())
            .chain(b.keys().filter(|p| !a.contains_key(*p)).map(|p| (*p).clone()))
            .collect();
        out.sort();
        out
    }
}

impl TryFrom<Vec<ManifestEntry>> for Manifest {
    type Error = PathError;
    fn try_from(v: Vec<ManifestEntry>) -> Result<Self, PathError> {
        Self::new(v)
    }
}

impl From<Manifest> for Vec<ManifestEntry> {
    fn from(m: Manifest) -> Self {
        m.0
    }
}

/// One immutable revision of a release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revision {
    /// 1 for the first upload, then 2, 3, … within the release.
    pub number: u32,
    pub key: RevisionKey,
    pub parent: Option<RevisionKey>,
    pub manifest: Manifest,
    pub uploaded_by: PersonUid,
    /// Unix seconds.
    pub created_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str, byte: u8) -> ManifestEntry {
        ManifestEntry { path: path.parse().unwrap(), size: byte as u64, sha512: Sha512::from_bytes([byte; 64]) }
    }

    #[test]
    fn key_does_not_depend_on_upload_order() {
        let a = Manifest::new(vec![entry("b", 1), entry("a", 2)]).unwrap();
        let b = Manifest::new(vec![entry("a", 2), entry("b", 1)]).unwrap();
        assert_eq!(a.key(), b.key());
    }

    #[test]
    fn key_changes_with_any_byte_of_the_manifest() {
        let base = Manifest::new(vec![entry("a", 1)]).unwrap();
        assert_ne!(base.key(), Manifest::new(vec![entry("a", 2)]).unwrap().key());
        assert_ne!(base.key(), Manifest::new(vec![entry("b", 1)]).unwrap().key());
    }

    #[test]
    fn canonical_form_is_documented_text() {
        let m = Manifest::new(vec![entry("x.tar.gz", 3)]).unwrap();
        let text = String::from_utf8(m.canonical_bytes()).unwrap();
        assert_eq!(text, format!("trs-manifest-v1\nx.tar.gz\t3\t{}\n", "03".repeat(64)));
    }

    #[test]
    fn overlay_replaces_and_adds() {
        let base = Manifest::new(vec![entry("a", 1), entry("b", 1)]).unwrap();
        let next = base.overlay(vec![entry("b", 2), entry("c", 3)]).unwrap();
        assert_eq!(next.entries().len(), 3);
        assert_eq!(next.get("b").unwrap().size, 2);
        assert_eq!(base.differences(&next), vec!["b".parse().unwrap(), "c".parse().unwrap()]);
    }

    #[test]
    fn colliding_names_are_refused() {
        assert!(Manifest::new(vec![entry("A", 1), entry("a", 1)]).is_err());
    }
}

/// Properties of revision keys: a key is a function of the file set alone.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Distinct portable paths (one or two segments) with sizes and digests.
    fn entries() -> impl Strategy<Value = Vec<ManifestEntry>> {
        let path = "[a-z0-9][a-z0-9._+~-]{0,10}(/[a-z0-9][a-z0-9._+~-]{0,10})?";
        prop::collection::btree_map(path, (any::<u64>(), any::<[u8; 32]>()), 1..12)
            .prop_map(|files| {
                files
                    .into_iter()
                    .filter_map(|(p, (size, d))| {
                        let path: ArtifactPath = p.parse().ok()?;
                        let mut digest = [0u8; 64];
                        digest[..32].copy_from_slice(&d);
                        Some(ManifestEntry { path, size, sha512: Sha512::from_bytes(digest) })
                    })
                    .collect::<Vec<_>>()
            })
            .prop_filter("a valid file set", |e| !e.is_empty() && Manifest::new(e.clone()).is_ok())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1000, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn the_key_does_not_depend_on_the_order_files_were_given(
            files in entries(),
            order in any::<prop::sample::Index>(),
        ) {
            let mut shuffled = files.clone();
            shuffled.rotate_left(order.index(files.len()));
            shuffled.reverse();
            let (a, b) = (Manifest::new(files).unwrap(), Manifest::new(shuffled).unwrap());
            prop_assert_eq!(&a, &b);
            prop_assert_eq!(a.key(), b.key());
            prop_assert_eq!(a.key(), a.clone().key(), "deterministic");
        }

        #[test]
        fn any_change_of_a_path_size_or_digest_changes_the_key(
            files in entries(),
            which in any::<prop::sample::Index>(),
            change in 0..3u8,
        ) {
            let before = Manifest::new(files.clone()).unwrap();
            let mut changed = files;
            let i = which.index(changed.len());
            match change {
                0 => changed[i].size = changed[i].size.wrapping_add(1),
                1 => {
                    let mut d = *changed[i].sha512.as_bytes();
                    d[63] ^= 1;
                    changed[i].sha512 = Sha512::from_bytes(d);
                }
                _ => changed[i].path = format!("{}x", changed[i].path).parse().unwrap(),
            }
            if let Ok(after) = Manifest::new(changed) {
                prop_assert_ne!(before.key(), after.key());
            }
        }

        #[test]
        fn a_manifest_reads_back_from_its_stored_form_with_the_same_key(files in entries()) {
            let m = Manifest::new(files).unwrap();
            let back: Manifest = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
            prop_assert_eq!(back.key(), m.key());
            prop_assert_eq!(back, m);
        }
    }
}

//! Artifact paths inside a release. A path becomes part of a public URL and of a folder that
//! mirrors download, so it is refused before any byte is stored if it could escape its release
//! folder, hide itself, or alias another file on a case-insensitive or normalising file system.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

/// A validated relative path such as `apache-foo-1.0.0-src.tar.gz` or `docs/api.zip`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ArtifactPath(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("refused file name {name:?}: {reason}")]
pub struct PathError {
    pub name: String,
    pub reason: &'static str,
}

const MAX_PATH: usize = 512;
const MAX_SEGMENT: usize = 255;

impl FromStr for ArtifactPath {
    type Err = PathError;
    fn from_str(name: &str) -> Result<Self, PathError> {
        let err = |reason| Err(PathError { name: name.to_string(), reason });
        if name.is_empty() {
            return err("empty name");
        }
        if name.len() > MAX_PATH {
            return err("longer than 512 bytes");
        }
        if name.chars().any(|c| c.is_control()) {
            return err("contains a NUL or control character");
        }
        if name.contains('\\') {
            return err("contains a backslash");
        }
        if name.starts_with('/') {
            return err("is an absolute path");
        }
        if name.len() >= 2 && name.as_bytes()[1] == b':' {
            return err("looks like a drive letter path");
        }
        if is_nfc_quick(name.chars()) != IsNormalized::Yes && name.nfc().collect::<String>() != name {
            return err("is not in Unicode NFC form (it would alias another name)");
        }
        for segment in name.split('/') {
            if segment.is_empty() {
                return err("has an empty path segment");
            }
            if segment == ".." {
                return err("contains a '..' segment");
            }
            if segment.starts_with('.') {
                return err("is a dotfile or hidden folder");
            }
            if segment.len() > MAX_SEGMENT {
                return err("has a segment longer than 255 bytes");
            }
            if segment.ends_with(' ') || segment.ends_with('.') {
                return err("has a segment ending in a space or dot");
            }
        }
        Ok(Self(name.to_string()))
    }
}

impl ArtifactPath {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last segment, e.g. `foo.tar.gz` for `dist/foo.tar.gz`.
    pub fn file_name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or(&self.0)
    }

    /// The form under which two names are the same file on a case-insensitive file system.
    fn fold_key(&self) -> String {
        self.0.nfkc().flat_map(char::to_lowercase).collect()
    }
}

/// Refuses a set of names in which two would be the same file once case and compatibility
/// forms are folded (`README` and `readme`, `ﬁle` and `file`), and a name that is also used
/// as a folder (`a` and `a/b`).
pub fn check_distinct<'a>(paths: impl IntoIterator<Item = &'a ArtifactPath>) -> Result<(), PathError> {
    let mut seen: HashMap<String, &ArtifactPath> = HashMap::new();
    let paths: Vec<&ArtifactPath> = paths.into_iter().collect();
    for p in &paths {
        if let Some(other) = seen.insert(p.fold_key(), p) {
            return Err(PathError {
                name: p.0.clone(),
                reason: if other == *p {
                    "appears twice"
                } else {
                    "collides with another name when case or Unicode form is folded"
                },
            });
        }
    }
    for p in &paths {
        let prefix = format!("{}/", p.fold_key());
        if seen.keys().any(|k| k.starts_with(&prefix)) {
            return Err(PathError { name: p.0.clone(), reason: "is both a file and a folder" });
        }
    }
    Ok(())
}

impl TryFrom<String> for ArtifactPath {
    type Error = PathError;
    fn try_from(s: String) -> Result<Self, PathError> {
        s.parse()
    }
}

impl From<ArtifactPath> for String {
    fn from(v: ArtifactPath) -> String {
        v.0
    }
}

impl fmt::Display for ArtifactPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(name: &str) -> &'static str {
        name.parse::<ArtifactPath>().unwrap_err().reason
    }

    #[test]
    fn ordinary_names_pass() {
        for n in ["apache-foo-1.0.0-src.tar.gz", "apache-foo-1.0.0-src.tar.gz.asc", "docs/api.zip", "naïve-1.0.zip"] {
            assert!(n.parse::<ArtifactPath>().is_ok(), "{n}");
        }
    }

    #[test]
    fn hostile_names_are_refused_with_a_reason() {
        assert_eq!(refused("../etc/passwd"), "contains a '..' segment");
        assert_eq!(refused("a/../../b"), "contains a '..' segment");
        assert_eq!(refused("/etc/passwd"), "is an absolute path");
        assert_eq!(refused("a\\b"), "contains a backslash");
        assert_eq!(refused("a\0b"), "contains a NUL or control character");
        assert_eq!(refused("a\nb"), "contains a NUL or control character");
        assert_eq!(refused(".htaccess"), "is a dotfile or hidden folder");
        assert_eq!(refused("x/.git/config"), "is a dotfile or hidden folder");
        assert_eq!(refused("a//b"), "has an empty path segment");
        assert_eq!(refused("C:evil"), "looks like a drive letter path");
        assert_eq!(refused("na\u{0308}ive"), "is not in Unicode NFC form (it would alias another name)");
        assert_eq!(refused("trailing."), "has a segment ending in a space or dot");
    }

    #[test]
    fn names_that_fold_together_are_refused() {
        let a: ArtifactPath = "README".parse().unwrap();
        let b: ArtifactPath = "readme".parse().unwrap();
        let c: ArtifactPath = "other".parse().unwrap();
        assert!(check_distinct([&a, &c]).is_ok());
        assert!(check_distinct([&a, &b]).is_err());
        let d: ArtifactPath = "x".parse().unwrap();
        let e: ArtifactPath = "x/y".parse().unwrap();
        assert_eq!(check_distinct([&d, &e]).unwrap_err().reason, "is both a file and a folder");
    }
}

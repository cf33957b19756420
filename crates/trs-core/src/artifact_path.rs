//! Artifact paths inside a release. A path becomes part of a public URL, of a folder that
//! mirrors download, and of the commands a downloader pastes into a shell to verify it, so a
//! new name is refused before any byte is stored unless it is **portable**:
//!
//! - every segment is made of ASCII letters, digits and `.` `_` `-` `+` `~`, with `/` only
//!   between folders: what release trees use (`apache-foo-1.2.0-src.tar.gz`,
//!   `foo_2.13-1.0.0.jar`, `libfoo-1.0+dfsg.orig.tar.xz`, `foo-1.0~rc1.tar.gz`,
//!   `org/apache/foo/1.0/foo-1.0.pom`), and nothing a shell, a URL, a terminal or another file
//!   system reads specially: no spaces, quotes, `$`, backquotes, globs, invisible, bidirectional
//!   or look-alike characters;
//! - no segment starts with `-` (a command would read it as an option) or `.` (hidden), or ends
//!   with `.`;
//! - no segment is a Windows device name (`CON`, `PRN`, `AUX`, `NUL`, `COM0`–`COM9`,
//!   `LPT0`–`LPT9`, in any case, with or without an extension: `nul.txt` is the device too);
//! - and the rules that keep a name inside its release folder: relative, no `..`, no empty
//!   segment, at most 512 bytes (255 per segment).
//!
//! Names already stored when the portable set was introduced are still read back
//! ([`ArtifactPath`]'s serde form checks only the containment rules), which is one reason every
//! command that shows a name quotes it (`trs_app::shell`) rather than trusting the set.

use serde::{Deserialize, Serialize};
use std::borrow::Cow;
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
    pub reason: Cow<'static, str>,
    pub kind: PathErrorKind,
}

/// Why a name was refused, for the error code an API answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathErrorKind {
    /// It could escape its release folder, hide itself or alias another file.
    Hostile,
    /// It is outside the portable set (characters, a leading `-`, a Windows device name).
    Unportable,
}

impl PathError {
    /// The stable error code of the refusal.
    pub fn code(&self) -> &'static str {
        match self.kind {
            PathErrorKind::Hostile => "hostile-file-name",
            PathErrorKind::Unportable => "unportable-file-name",
        }
    }
}

const MAX_PATH: usize = 512;
const MAX_SEGMENT: usize = 255;

/// The characters a segment of a new name may use, besides ASCII letters and digits.
pub const PORTABLE_PUNCTUATION: &str = "._-+~";

/// Windows device names: a file named so (with any extension) opens the device instead.
const WINDOWS_DEVICES: [&str; 4] = ["con", "prn", "aux", "nul"];

/// Whether a path segment names a Windows device (`CON`, `nul.txt`, `COM1.zip`, in any case):
/// for file names and for the names that become public folders (projects, products, versions).
pub(crate) fn is_windows_device_name(segment: &str) -> bool {
    let stem = segment.split('.').next().unwrap_or(segment).to_ascii_lowercase();
    let numbered =
        |prefix: &str| stem.strip_prefix(prefix).is_some_and(|n| n.len() == 1 && n.as_bytes()[0].is_ascii_digit());
    WINDOWS_DEVICES.contains(&stem.as_str()) || numbered("com") || numbered("lpt")
}

fn refuse(name: &str, kind: PathErrorKind, reason: impl Into<Cow<'static, str>>) -> PathError {
    PathError { name: name.to_string(), reason: reason.into(), kind }
}

/// The rules every name must keep, stored or new: it stays inside its release folder, is not
/// hidden, and does not alias another name.
fn check_contained(name: &str) -> Result<(), PathError> {
    let err = |reason: &'static str| Err(refuse(name, PathErrorKind::Hostile, reason));
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
    Ok(())
}

/// The portable set (module documentation), checked after [`check_contained`].
fn check_portable(name: &str) -> Result<(), PathError> {
    let err = |reason: Cow<'static, str>| Err(refuse(name, PathErrorKind::Unportable, reason));
    if let Some(c) =
        name.chars().find(|&c| !(c.is_ascii_alphanumeric() || c == '/' || PORTABLE_PUNCTUATION.contains(c)))
    {
        let shown = if c.is_ascii_graphic() { format!("'{c}'") } else { format!("U+{:04X}", c as u32) };
        return err(format!(
            "contains {shown}; file names may only use ASCII letters, digits, '.', '_', '-', '+', '~' \
             and '/' between folders (so that no shell, URL, terminal or file system reads them differently)"
        )
        .into());
    }
    for segment in name.split('/') {
        if segment.starts_with('-') {
            return err("has a segment starting with '-' (a command would read it as an option)".into());
        }
        if is_windows_device_name(segment) {
            return err(format!("{segment:?} is a Windows device name (with any extension it opens the device)").into());
        }
    }
    Ok(())
}

impl FromStr for ArtifactPath {
    type Err = PathError;
    /// A new name: contained and portable.
    fn from_str(name: &str) -> Result<Self, PathError> {
        check_contained(name)?;
        check_portable(name)?;
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
            let reason = if other == *p {
                "appears twice"
            } else {
                "collides with another name when case or Unicode form is folded"
            };
            return Err(refuse(&p.0, PathErrorKind::Hostile, reason));
        }
    }
    for p in &paths {
        let prefix = format!("{}/", p.fold_key());
        if seen.keys().any(|k| k.starts_with(&prefix)) {
            return Err(refuse(&p.0, PathErrorKind::Hostile, "is both a file and a folder"));
        }
    }
    Ok(())
}

/// The stored form (serde): only the containment rules, so that names stored before the
/// portable set stay readable. New names go through [`FromStr`].
impl TryFrom<String> for ArtifactPath {
    type Error = PathError;
    fn try_from(s: String) -> Result<Self, PathError> {
        check_contained(&s)?;
        Ok(Self(s))
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

    fn refusal(name: &str) -> PathError {
        name.parse::<ArtifactPath>().unwrap_err()
    }

    fn refused(name: &str) -> String {
        refusal(name).reason.into_owned()
    }

    #[test]
    fn names_real_releases_use_pass() {
        for n in [
            "apache-foo-1.0.0-src.tar.gz",
            "apache-foo-1.0.0-src.tar.gz.asc",
            "apache-foo-1.0.0-src.tar.gz.sha512",
            "foo_2.13-1.0.0.jar",
            "libfoo-1.0+dfsg.orig.tar.xz",
            "foo-1.0~rc1",
            "foo-1.0-py3-none-any.whl",
            "org/apache/foo/1.0/foo-1.0.pom",
            "docs/api.zip",
            "KEYS",
            "CONTRIBUTING.md",
            "console-1.0.tar.gz",
            "com10.txt",
        ] {
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
        assert_eq!(refusal("../x").code(), "hostile-file-name");
    }

    /// Shell syntax, invisible, bidirectional and look-alike characters (issue 13, items 1 and 8).
    #[test]
    fn names_outside_the_portable_set_are_refused_naming_the_character() {
        for (name, shown) in [
            ("apache-foo-6.2$(touch${IFS}PWNED).tar.gz", "'$'"),
            ("a b.tar.gz", "U+0020"),
            ("a;b", "';'"),
            ("a|b", "'|'"),
            ("a`id`", "'`'"),
            ("a{b,c}", "'{'"),
            ("it's.zip", "'''"),
            ("a\"b", "'\"'"),
            ("a*.zip", "'*'"),
            ("evil\u{202E}piz.exe", "U+202E"),
            ("zero\u{200B}width.zip", "U+200B"),
            ("line\u{2028}sep.zip", "U+2028"),
            ("\u{FEFF}bom.zip", "U+FEFF"),
            ("cgj\u{034F}.zip", "U+034F"),
            ("nbsp.zip\u{00A0}", "U+00A0"),
            ("naïve-1.0.zip", "U+00EF"),
            ("fo%2e.zip", "'%'"),
            ("ab:c", "':'"),
        ] {
            let e = refusal(name);
            assert_eq!(e.code(), "unportable-file-name", "{name:?}: {e}");
            assert!(e.reason.starts_with(&format!("contains {shown};")), "{name:?}: {e}");
        }
    }

    #[test]
    fn windows_device_names_are_refused_with_any_extension_or_case() {
        for name in ["CON", "con", "nul.txt", "aux", "COM1.zip", "lpt9", "Prn.tar.gz", "docs/NUL", "com0.x"] {
            let e = refusal(name);
            assert_eq!(e.code(), "unportable-file-name", "{name}");
            assert!(e.reason.contains("Windows device name"), "{name}: {e}");
        }
    }

    #[test]
    fn a_segment_may_not_start_with_a_dash() {
        assert_eq!(refusal("-rf").code(), "unportable-file-name");
        assert!(refused("docs/--help.txt").contains("option"));
        assert!("a-b/c-".parse::<ArtifactPath>().is_ok());
    }

    #[test]
    fn names_stored_before_the_portable_set_still_read_back() {
        let stored: ArtifactPath = serde_json::from_str("\"naïve 1.0.zip\"").unwrap();
        assert_eq!(stored.as_str(), "naïve 1.0.zip");
        assert!(serde_json::from_str::<ArtifactPath>("\"../x\"").is_err());
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

/// Properties of path normalisation: an accepted name is already in its one normal form, and
/// no accepted name leaves the release's folder.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Names from an alphabet of portable characters mixed with every character that makes a
    /// path escape or mean something else (separators, dots, backslash, NUL, spaces, shell
    /// syntax, percent-escapes, invisible and look-alike characters).
    fn name() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            4 => "[a-zA-Z0-9_+~-]{1,6}",
            2 => Just(".".to_string()),
            2 => Just("..".to_string()),
            3 => Just("/".to_string()),
            1 => prop::sample::select(vec![
                "\\", "\0", " ", "$(", ";", "%2e", "%2f", ":", "\u{202e}", "\u{200b}", "\u{a0}", "\u{ff0e}",
                "\u{2215}", "CON", "nul", "\n",
            ])
            .prop_map(String::from),
        ];
        prop::collection::vec(piece, 1..10).prop_map(|p| p.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 5000, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn an_accepted_name_is_its_own_normal_form_and_stays_inside(n in name()) {
            let Ok(path) = n.parse::<ArtifactPath>() else { return Ok(()) };
            prop_assert_eq!(path.as_str(), n.as_str());
            prop_assert!(!n.starts_with('/'));
            for segment in n.split('/') {
                prop_assert!(!matches!(segment, "" | "." | ".."), "{:?} has segment {:?}", n, segment);
            }
            prop_assert!(n.bytes().all(|b| b.is_ascii_alphanumeric() || b"._+~-/".contains(&b)), "{:?}", n);
            // The stored form reads it back unchanged, and no way of climbing out is accepted.
            let stored = ArtifactPath::try_from(n.clone()).unwrap();
            prop_assert_eq!(&stored, &path);
            for escape in [format!("../{n}"), format!("/{n}"), format!("{n}/.."), format!("{n}/../x"), format!("./{n}")] {
                prop_assert!(escape.parse::<ArtifactPath>().is_err(), "{:?} accepted", escape);
                prop_assert!(ArtifactPath::try_from(escape.clone()).is_err(), "{:?} stored", escape);
            }
        }
    }
}

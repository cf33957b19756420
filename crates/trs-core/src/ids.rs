//! Identifier newtypes. Every identifier that crosses a boundary (URL, storage key, CLI
//! argument) is parsed once, here, so code further in never sees an unchecked string.
//! Names are restricted to characters that are safe in a URL path segment and a storage key
//! without escaping.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Why an identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} {value:?}: {reason}")]
pub struct IdError {
    pub kind: &'static str,
    pub value: String,
    pub reason: &'static str,
}

fn check_name(kind: &'static str, value: &str, max: usize, extra: &[char]) -> Result<(), IdError> {
    let err = |reason| Err(IdError { kind, value: value.to_string(), reason });
    if value.is_empty() {
        return err("must not be empty");
    }
    if value.len() > max {
        return err("too long");
    }
    let first = value.chars().next().unwrap_or(' ');
    if !first.is_ascii_alphanumeric() {
        return err("must start with a letter or digit");
    }
    if !value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || extra.contains(&c)) {
        return err("only ASCII letters, digits, '-', '_' (and for versions '.', '+') are allowed");
    }
    // Project, product and version names become folders of the public download directory
    // (and mirrors' and downloaders' disks), as file names do.
    if crate::artifact_path::is_windows_device_name(value) {
        return err("is a Windows device name (a folder named so cannot be created or opened there)");
    }
    Ok(())
}

/// `Ord` is not derived here: names order by their text ([`text_order`]), versions by
/// [`crate::version_order`].
macro_rules! name_newtype {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $max:literal, $extra:expr, lowercase = $lower:literal $(, reserved = $reserved:expr)?) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                check_name($kind, s, $max, $extra)?;
                if $lower && s.chars().any(|c| c.is_ascii_uppercase()) {
                    return Err(IdError { kind: $kind, value: s.to_string(), reason: "must be lowercase" });
                }
                $(if $reserved.contains(&s) {
                    return Err(IdError { kind: $kind, value: s.to_string(), reason: "is reserved (a public path segment)" });
                })?
                Ok(Self(s.to_string()))
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                s.parse()
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

name_newtype!(
    /// A project (committee) name, e.g. `foo`. Lowercase so that URLs are canonical.
    ProjectName, "project name", 64, &[], lowercase = true
);
name_newtype!(
    /// A product of a project, e.g. `foo-connector`.
    ProductName, "product name", 64, &[], lowercase = true, reserved = ["latest"]
);
name_newtype!(
    /// A person's user id, e.g. `alice`.
    PersonUid, "user id", 64, &['.'], lowercase = true
);
name_newtype!(
    /// A release version as the project spells it, e.g. `1.0.0`, `2.1.0-rc1`, `3.0.0+build.5`.
    Version, "version", 64, &['.', '+'], lowercase = false, reserved = ["latest"]
);

/// Names order by their text (ASCII), as storage keys and URLs list them.
macro_rules! text_order {
    ($($name:ident),*) => {$(
        impl Ord for $name {
            fn cmp(&self, other: &Self) -> std::cmp::Ordering {
                self.0.cmp(&other.0)
            }
        }

        impl PartialOrd for $name {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }
    )*};
}

text_order!(ProjectName, ProductName, PersonUid);

/// An OpenPGP fingerprint, stored as uppercase hex without spaces (v4: 40 digits, v6: 64).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Fingerprint(String);

impl Fingerprint {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Fingerprint {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        let cleaned: String = s.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase();
        let cleaned = cleaned.strip_prefix("0X").unwrap_or(&cleaned).to_string();
        if !(cleaned.len() == 40 || cleaned.len() == 64) || !cleaned.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(IdError {
                kind: "fingerprint",
                value: s.to_string(),
                reason: "must be 40 (v4) or 64 (v6) hex digits",
            });
        }
        Ok(Self(cleaned))
    }
}

impl TryFrom<String> for Fingerprint {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        s.parse()
    }
}

impl From<Fingerprint> for String {
    fn from(v: Fingerprint) -> String {
        v.0
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! hex_newtype {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $len:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name([u8; $len]);

        impl $name {
            pub fn from_bytes(bytes: [u8; $len]) -> Self {
                Self(bytes)
            }
            pub fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }
            pub fn to_hex(&self) -> String {
                hex::encode(self.0)
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                let mut out = [0u8; $len];
                hex::decode_to_slice(s.trim().to_ascii_lowercase(), &mut out).map_err(|_| IdError {
                    kind: $kind,
                    value: s.to_string(),
                    reason: concat!("must be ", stringify!($len), " bytes of hex"),
                })?;
                Ok(Self(out))
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                s.parse()
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.to_hex()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_hex())
            }
        }
    };
}

hex_newtype!(
    /// SHA-512 digest of a file's bytes; files are stored content-addressed by it.
    Sha512, "sha512 digest", 64
);
hex_newtype!(
    /// SHA-256 digest (used for request bodies and `.sha256` checksum files).
    Sha256, "sha256 digest", 32
);
hex_newtype!(
    /// Revision key: SHA-256 over the canonical manifest (see [`crate::revision`]).
    RevisionKey, "revision key", 32
);

/// An opaque random identifier for a task or an upload session (lowercase hex).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OpaqueId(String);

impl OpaqueId {
    /// Builds an id from 16 random bytes supplied by the caller (the core has no RNG).
    pub fn from_random(bytes: [u8; 16]) -> Self {
        Self(hex::encode(bytes))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for OpaqueId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        if s.len() != 32 || !s.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')) {
            return Err(IdError { kind: "id", value: s.to_string(), reason: "must be 32 lowercase hex digits" });
        }
        Ok(Self(s.to_string()))
    }
}

impl TryFrom<String> for OpaqueId {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        s.parse()
    }
}

impl From<OpaqueId> for String {
    fn from(v: OpaqueId) -> String {
        v.0
    }
}

impl fmt::Display for OpaqueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_refuse_path_characters() {
        assert!("foo".parse::<ProjectName>().is_ok());
        assert!("Foo".parse::<ProjectName>().is_err());
        assert!("../x".parse::<ProjectName>().is_err());
        assert!("a/b".parse::<ProjectName>().is_err());
        assert!("".parse::<ProjectName>().is_err());
        assert!("-x".parse::<ProjectName>().is_err());
        assert!("1.0.0-rc1".parse::<Version>().is_ok());
        assert!("1.0.0/..".parse::<Version>().is_err());
        assert!(".hidden".parse::<Version>().is_err());
        // `latest` is a view in the public coordinates, never a version or product.
        assert!("latest".parse::<Version>().is_err());
        assert!("latest".parse::<ProductName>().is_err());
    }

    /// Issue 13, item 8: names that become public folders keep the file names' device rule.
    #[test]
    fn windows_device_names_are_refused_as_project_product_and_version_names() {
        for name in ["con", "nul", "aux", "prn", "com1", "lpt9"] {
            let e = name.parse::<ProjectName>().unwrap_err();
            assert!(e.reason.contains("Windows device name"), "{name}: {e}");
            assert!(name.parse::<ProductName>().is_err(), "{name}");
            assert!(name.to_uppercase().parse::<Version>().is_err(), "{name}");
        }
        assert!("nul.1".parse::<Version>().is_err(), "with an extension it is the device too");
        for fine in ["console", "com", "com10", "auxiliary", "null", "1.0.con"] {
            assert!(fine.parse::<Version>().is_ok(), "{fine}");
        }
        assert!("console".parse::<ProjectName>().is_ok());
    }

    #[test]
    fn fingerprint_normalises_spacing_and_case() {
        let f: Fingerprint = "0x1234 5678 9abc def0 1234  5678 9ABC DEF0 1234 5678".parse().unwrap();
        assert_eq!(f.as_str(), "123456789ABCDEF0123456789ABCDEF012345678");
        assert!("1234".parse::<Fingerprint>().is_err());
    }

    #[test]
    fn hex_digests_round_trip_through_serde() {
        let d = Sha256::from_bytes([7u8; 32]);
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(json, format!("\"{}\"", "07".repeat(32)));
        assert_eq!(serde_json::from_str::<Sha256>(&json).unwrap(), d);
        assert!(serde_json::from_str::<Sha256>("\"zz\"").is_err());
    }
}

//! Security advisories: a CVE identifier, the versions it affects as ranges in trs's own
//! version order ([`crate::version_order`]), and the version that fixes it. Which releases a
//! range affects is decided here, by the same `Ord for Version` every listing uses, so the
//! advisory, the release pages and the exports cannot disagree about a version.
//!
//! A range is written as comparators joined by commas (`>=1.0.0,<1.2.3`, `<2.0`, `=1.4.0`):
//! at most one lower bound (`>=`), at most one upper bound (`<` the first fixed version, or
//! `<=` the last affected one), or one exact version (`=`). `>` is refused: OSV and CVE 5 have
//! no exclusive lower bound, so an advisory written with it could not be exported as written.

use crate::ids::{IdError, ProductName, ProjectName, Version};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// A CVE identifier, `CVE-YYYY-NNNN` with four to nineteen digits (the CVE 5 schema's
/// pattern). Ordered by year, then number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CveId(String);

impl CveId {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn parts(&self) -> (&str, &str) {
        (&self.0[4..8], &self.0[9..])
    }
}

impl FromStr for CveId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        let err = |reason| Err(IdError { kind: "CVE id", value: s.to_string(), reason });
        let Some(rest) = s.strip_prefix("CVE-") else { return err("must start with 'CVE-'") };
        let Some((year, number)) = rest.split_once('-') else { return err("must be CVE-YYYY-NNNN") };
        let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
        if year.len() != 4 || !digits(year) {
            return err("the year must be four digits");
        }
        if !(4..=19).contains(&number.len()) || !digits(number) {
            return err("the number must be 4 to 19 digits");
        }
        Ok(CveId(s.to_string()))
    }
}

impl TryFrom<String> for CveId {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        s.parse()
    }
}

impl From<CveId> for String {
    fn from(v: CveId) -> String {
        v.0
    }
}

impl fmt::Display for CveId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Ord for CveId {
    fn cmp(&self, other: &Self) -> Ordering {
        let ((ya, na), (yb, nb)) = (self.parts(), other.parts());
        ya.cmp(yb).then_with(|| na.len().cmp(&nb.len())).then_with(|| na.cmp(nb))
    }
}

impl PartialOrd for CveId {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// CVSS's qualitative severity rating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    None,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::None => "none",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl FromStr for Severity {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "none" => Severity::None,
            "low" => Severity::Low,
            "medium" | "moderate" => Severity::Medium,
            "high" | "important" => Severity::High,
            "critical" => Severity::Critical,
            _ => {
                return Err(IdError {
                    kind: "severity",
                    value: s.to_string(),
                    reason: "must be none, low, medium, high or critical",
                });
            }
        })
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an affected range ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeEnd {
    /// `<V`: `V` is the first version without the flaw.
    Fixed(Version),
    /// `<=V`: `V` is the last version with it (no fix on this line yet).
    LastAffected(Version),
}

/// The versions one range of an advisory covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum VersionRange {
    /// `=V`: one version.
    Exactly(Version),
    /// `>=A`, `<B` / `<=B`, or both; at least one of them.
    Between { introduced: Option<Version>, end: Option<RangeEnd> },
}

/// Why a range was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid affected range {range:?}: {reason}")]
pub struct RangeError {
    pub range: String,
    pub reason: String,
}

impl VersionRange {
    /// Whether `version` lies in the range, by trs's version order.
    pub fn contains(&self, version: &Version) -> bool {
        match self {
            VersionRange::Exactly(v) => v.cmp(version) == Ordering::Equal,
            VersionRange::Between { introduced, end } => {
                let above = introduced.as_ref().is_none_or(|low| version >= low);
                let below = match end {
                    None => true,
                    Some(RangeEnd::Fixed(v)) => version < v,
                    Some(RangeEnd::LastAffected(v)) => version <= v,
                };
                above && below
            }
        }
    }

    /// Every version the range names (for the exports: whether they are all semver).
    pub fn bounds(&self) -> Vec<&Version> {
        match self {
            VersionRange::Exactly(v) => vec![v],
            VersionRange::Between { introduced, end } => {
                let end = end.as_ref().map(|e| match e {
                    RangeEnd::Fixed(v) | RangeEnd::LastAffected(v) => v,
                });
                introduced.iter().chain(end).collect()
            }
        }
    }
}

impl FromStr for VersionRange {
    type Err = RangeError;
    fn from_str(s: &str) -> Result<Self, RangeError> {
        let err = |reason: String| RangeError { range: s.to_string(), reason };
        let version = |text: &str| -> Result<Version, RangeError> {
            text.trim().parse::<Version>().map_err(|e| err(e.to_string()))
        };
        let mut exact = None;
        let mut introduced = None;
        let mut end = None;
        let parts: Vec<&str> = s.split(',').map(str::trim).collect();
        if parts.iter().any(|p| p.is_empty()) {
            return Err(err("empty comparator (write e.g. '>=1.0.0,<1.2.3')".into()));
        }
        for part in &parts {
            if let Some(v) = part.strip_prefix(">=") {
                if introduced.replace(version(v)?).is_some() {
                    return Err(err("more than one lower bound".into()));
                }
            } else if let Some(v) = part.strip_prefix("<=") {
                if end.replace(RangeEnd::LastAffected(version(v)?)).is_some() {
                    return Err(err("more than one upper bound".into()));
                }
            } else if let Some(v) = part.strip_prefix('<') {
                if end.replace(RangeEnd::Fixed(version(v)?)).is_some() {
                    return Err(err("more than one upper bound".into()));
                }
            } else if part.starts_with('>') {
                return Err(err("'>' is not supported: use '>=' with the first affected version".into()));
            } else if let Some(v) = part.strip_prefix("==").or_else(|| part.strip_prefix('=')) {
                exact = Some(version(v)?);
            } else {
                return Err(err(format!("{part:?} has no comparator (>=, <, <= or =)")));
            }
        }
        if let Some(v) = exact {
            if parts.len() > 1 {
                return Err(err("'=' names one version and takes no other comparator".into()));
            }
            return Ok(VersionRange::Exactly(v));
        }
        if let (Some(low), Some(RangeEnd::Fixed(high) | RangeEnd::LastAffected(high))) = (&introduced, &end) {
            let empty = match &end {
                Some(RangeEnd::Fixed(_)) => low >= high,
                _ => low > high,
            };
            if empty {
                return Err(err("the range is empty: its lower bound is not below its upper bound".into()));
            }
        }
        Ok(VersionRange::Between { introduced, end })
    }
}

impl fmt::Display for VersionRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VersionRange::Exactly(v) => write!(f, "={v}"),
            VersionRange::Between { introduced, end } => {
                let mut parts = Vec::new();
                if let Some(v) = introduced {
                    parts.push(format!(">={v}"));
                }
                match end {
                    Some(RangeEnd::Fixed(v)) => parts.push(format!("<{v}")),
                    Some(RangeEnd::LastAffected(v)) => parts.push(format!("<={v}")),
                    None => {}
                }
                f.write_str(&parts.join(","))
            }
        }
    }
}

impl TryFrom<String> for VersionRange {
    type Error = RangeError;
    fn try_from(s: String) -> Result<Self, RangeError> {
        s.parse()
    }
}

impl From<VersionRange> for String {
    fn from(r: VersionRange) -> String {
        r.to_string()
    }
}

/// The package a published advisory names in its OSV record (an OSV ecosystem such as `PyPI`
/// or `npm`, and the package's name there). Optional: without it the OSV record lists the
/// affected versions and SEMVER ranges only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    pub ecosystem: String,
    pub name: String,
}

/// One advisory of a project, as stored. Until `published_at` is set it is seen only by the
/// project's committee members and release managers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Advisory {
    pub id: CveId,
    pub project: ProjectName,
    /// The product line it concerns; `None` for the project's main line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<ProductName>,
    pub summary: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// A release is affected when any range contains its version.
    pub affected: Vec<VersionRange>,
    /// The version that resolves it (on the same line), released or still to come.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<Version>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub credits: Vec<String>,
    /// URLs (the upstream advisory, the fix, the mailing-list post).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<Package>,
    /// The CNA's organisation UUID, which a CVE 5 record must carry (`--cna-org-id`, or taken
    /// from an imported record).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cna_org_id: Option<String>,
    /// The date agreed for disclosure (unix seconds): publishing earlier needs `--force`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embargoed_until: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Advisory {
    /// Whether the advisory concerns `version` of its line.
    pub fn affects(&self, version: &Version) -> bool {
        self.affected.iter().any(|r| r.contains(version))
    }

    pub fn is_published(&self) -> bool {
        self.published_at.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        s.parse().unwrap()
    }

    #[test]
    fn cve_ids_parse_by_the_schema_pattern_and_order_by_number() {
        assert!("CVE-2024-1234".parse::<CveId>().is_ok());
        assert!("CVE-2024-1234567890123456789".parse::<CveId>().is_ok());
        for bad in ["cve-2024-1234", "CVE-24-1234", "CVE-2024-123", "CVE-2024-12a4", "GHSA-x", "CVE-2024-1234-"] {
            assert!(bad.parse::<CveId>().is_err(), "{bad}");
        }
        let ids: Vec<CveId> = ["CVE-2024-10000", "CVE-2023-99999", "CVE-2024-9999"].map(|s| s.parse().unwrap()).into();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(
            sorted.iter().map(CveId::as_str).collect::<Vec<_>>(),
            ["CVE-2023-99999", "CVE-2024-9999", "CVE-2024-10000"]
        );
    }

    #[test]
    fn ranges_contain_versions_by_trs_version_order() {
        let r: VersionRange = ">=1.0.0,<1.2.3".parse().unwrap();
        for (version, inside) in [
            ("0.9.9", false),
            ("1.0.0-rc.1", false),
            ("1.0.0", true),
            ("1.2.2", true),
            ("1.2.3-rc.1", true),
            ("1.2.3", false),
            ("1.10.0", false),
        ] {
            assert_eq!(r.contains(&v(version)), inside, "{version}");
        }
        // Versions that are not semver compare by the lenient rule: 2.0 is 2.0.0, 2.1rc1 < 2.1.
        let lenient: VersionRange = ">=2.0,<=2.1".parse().unwrap();
        assert!(lenient.contains(&v("2.0.0")) && lenient.contains(&v("2.1rc1")) && lenient.contains(&v("2.1")));
        assert!(!lenient.contains(&v("2.1.1")) && !lenient.contains(&v("1.9")));
        let exact: VersionRange = "=1.4.0".parse().unwrap();
        assert!(exact.contains(&v("1.4.0")) && !exact.contains(&v("1.4.1")));
        let open: VersionRange = "<2.0".parse().unwrap();
        assert!(open.contains(&v("0.1")) && !open.contains(&v("2.0.0")));
    }

    #[test]
    fn ranges_round_trip_and_bad_ones_say_why() {
        for text in [">=1.0.0,<1.2.3", "<2.0", ">=3.0", "<=1.1", "=1.4.0"] {
            assert_eq!(text.parse::<VersionRange>().unwrap().to_string(), text);
        }
        assert_eq!("== 1.4.0".parse::<VersionRange>().unwrap().to_string(), "=1.4.0");
        for (bad, why) in [
            (">1.0", "'>' is not supported"),
            (">=1.0,>=1.1", "more than one lower bound"),
            ("<1.0,<=1.1", "more than one upper bound"),
            (">=2.0,<1.0", "empty"),
            (">=1.0,<1.0", "empty"),
            ("=1.0,<2.0", "takes no other"),
            ("1.0", "no comparator"),
            ("", "empty comparator"),
            (">=1.0,", "empty comparator"),
            (">=latest", "reserved"),
        ] {
            let e = bad.parse::<VersionRange>().unwrap_err();
            assert!(e.to_string().contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn severities_read_the_usual_words() {
        assert_eq!("Moderate".parse::<Severity>().unwrap(), Severity::Medium);
        assert_eq!("CRITICAL".parse::<Severity>().unwrap(), Severity::Critical);
        assert!("severe".parse::<Severity>().is_err());
    }
}

//! What trs keeps from a checked SBOM (software bill of materials): its format, its top
//! component, how many components it lists and their licences in [`LicenceCategory`]s, which
//! a project's policy may deny. trs-checks' `sbom` module reads the SBOM and fills this in; the
//! summary travels with the `sbom` check result, so it is cached with it by the file's digest,
//! and the release page shows it.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// How restrictive a component's licence is, from least to most; the order combines licence
/// expressions: `A OR B` is the less restrictive of the two (the recipient may choose), `A AND
/// B` the more restrictive, and a licence trs does not recognise is [`LicenceCategory::Unknown`],
/// ranked above all so that it never hides behind a known one in an `AND`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LicenceCategory {
    /// OSI-approved or FSF-free without copyleft (Apache-2.0, MIT, BSD, ISC, CC0-1.0, …).
    Permissive,
    /// Copyleft limited to the licensed files or library (LGPL, MPL, EPL, CDDL, GPL with a
    /// linking exception, …).
    WeakCopyleft,
    /// Copyleft over the whole combined work, including over a network (GPL, AGPL, OSL, EUPL,
    /// SSPL, CC-BY-SA, …).
    StrongCopyleft,
    /// A licence known to SPDX that is neither OSI-approved nor FSF-free (CC-BY-NC-4.0,
    /// BUSL-1.1, …).
    Restricted,
    /// No licence given, `NOASSERTION`, or a licence trs does not recognise.
    Unknown,
}

impl LicenceCategory {
    pub const ALL: [LicenceCategory; 5] = [
        LicenceCategory::Permissive,
        LicenceCategory::WeakCopyleft,
        LicenceCategory::StrongCopyleft,
        LicenceCategory::Restricted,
        LicenceCategory::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LicenceCategory::Permissive => "permissive",
            LicenceCategory::WeakCopyleft => "weak-copyleft",
            LicenceCategory::StrongCopyleft => "strong-copyleft",
            LicenceCategory::Restricted => "restricted",
            LicenceCategory::Unknown => "unknown",
        }
    }
}

impl fmt::Display for LicenceCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LicenceCategory {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        LicenceCategory::ALL.into_iter().find(|c| c.as_str() == s).ok_or_else(|| {
            format!(
                "unknown licence category {s:?}: one of {}",
                LicenceCategory::ALL.map(LicenceCategory::as_str).join(", ")
            )
        })
    }
}

/// The component an SBOM describes: CycloneDX's `metadata.component`, SPDX's described package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SbomComponent {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// The components of one licence category.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenceTally {
    pub components: u64,
    /// The first few (`name version: licence`), for reasons and the release page.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<String>,
}

/// How many examples a [`LicenceTally`] keeps.
pub const LICENCE_EXAMPLES: usize = 5;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SbomSummary {
    /// E.g. `CycloneDX 1.6 JSON`, `SPDX 2.3 tag-value`.
    pub format: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top: Option<SbomComponent>,
    /// Components listed besides the top one.
    pub components: u64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub licences: BTreeMap<LicenceCategory, LicenceTally>,
}

impl SbomSummary {
    /// Counts one component's licence.
    pub fn tally(&mut self, category: LicenceCategory, example: impl FnOnce() -> String) {
        let t = self.licences.entry(category).or_default();
        t.components += 1;
        if t.examples.len() < LICENCE_EXAMPLES {
            t.examples.push(example());
        }
    }

    /// `12 permissive, 1 weak-copyleft, 2 unknown`.
    pub fn licence_line(&self) -> String {
        if self.licences.is_empty() {
            return "no components".into();
        }
        self.licences.iter().map(|(c, t)| format!("{} {c}", t.components)).collect::<Vec<_>>().join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_round_trip_and_order_by_restriction() {
        for c in LicenceCategory::ALL {
            assert_eq!(c.as_str().parse::<LicenceCategory>(), Ok(c));
            assert_eq!(serde_json::to_value(c).unwrap(), serde_json::json!(c.as_str()));
        }
        assert!(LicenceCategory::Permissive < LicenceCategory::WeakCopyleft);
        assert!(LicenceCategory::StrongCopyleft < LicenceCategory::Unknown);
        assert!("copyleft".parse::<LicenceCategory>().unwrap_err().contains("strong-copyleft"));
    }

    #[test]
    fn tally_keeps_a_few_examples() {
        let mut s = SbomSummary { format: "x".into(), top: None, components: 0, licences: BTreeMap::new() };
        for i in 0..8 {
            s.tally(LicenceCategory::Permissive, || format!("c{i}"));
        }
        s.tally(LicenceCategory::Unknown, || "u".into());
        assert_eq!(s.licences[&LicenceCategory::Permissive].components, 8);
        assert_eq!(s.licences[&LicenceCategory::Permissive].examples.len(), LICENCE_EXAMPLES);
        assert_eq!(s.licence_line(), "8 permissive, 1 unknown");
    }
}

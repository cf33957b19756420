//! The order of release versions, and which versions are pre-releases. Every listing of
//! releases (`trs releases`, the site's pages, `releases.json`, the lifecycle exports) and
//! every choice of `latest` goes through `Ord for Version`, so they cannot disagree.
//!
//! 1. Two versions that are both [semver](https://semver.org) compare by the `semver` crate:
//!    precedence (`9.9.10` > `9.9.9`, `1.0.0-alpha.10` > `1.0.0-alpha.2`, `1.0.0` >
//!    `1.0.0-rc.1`), then build metadata as that crate orders it.
//! 2. Any other version is read leniently as `[v]N(.N)*` followed by an optional pre-release
//!    tag (after `-`, `.` or `_`, or directly a letter: `1.0-beta`, `2.1rc1`, `3.0.Final`) and
//!    optional `+build`. The numbers compare numerically, a missing number counts as 0 (`2.0`
//!    and `2.0.0` are the same release, `2.0.1` is newer); a version without a tag is newer
//!    than the same numbers with one; tags and builds compare by semver's rule for
//!    dot-separated identifiers (numbers numerically and below words, words in ASCII order,
//!    more identifiers newer). This agrees with rule 1 wherever both apply (a property test
//!    holds them to it), which keeps the order total.
//! 3. Versions that do not start with a number (`nightly`, `bionic`) are older than every
//!    numbered version and compare by their text.
//! 4. Versions equal by the rules above (`2.0` and `2.0.0`, `1.0` and `v1.0`) compare by their
//!    text, so distinct versions never compare equal.
//!
//! A **pre-release** is a numbered version with a tag (`1.0.0-beta.1`, `2.1rc1`); it is never a
//! line's `latest` unless the line's policy sets `prerelease_latest` ([`crate::views`]).

use crate::ids::Version;
use std::cmp::Ordering;

/// A version split as rule 2 reads it. `core` is empty for a version without numbers.
struct Parts<'a> {
    core: Vec<&'a str>,
    pre: &'a str,
    build: &'a str,
}

fn parts(version: &str) -> Parts<'_> {
    let body = match version.strip_prefix(['v', 'V']) {
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => rest,
        _ => version,
    };
    let mut core = Vec::new();
    let mut rest = body;
    loop {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            break;
        }
        core.push(&rest[..digits]);
        rest = &rest[digits..];
        match rest.strip_prefix('.') {
            Some(after) if after.starts_with(|c: char| c.is_ascii_digit()) => rest = after,
            _ => break,
        }
    }
    if core.is_empty() {
        return Parts { core, pre: "", build: "" };
    }
    let (tagged, build) = rest.split_once('+').unwrap_or((rest, ""));
    let pre = tagged.strip_prefix(['-', '.', '_']).unwrap_or(tagged);
    Parts { core, pre, build }
}

/// Two digit strings by value (any length, leading zeros ignored).
fn cmp_number(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Dot-separated identifiers (a pre-release tag or build metadata), by semver's rule; numbers
/// equal by value differ by their leading zeros, as the `semver` crate orders build metadata.
fn cmp_identifiers(a: &str, b: &str) -> Ordering {
    let is_number = |s: &str| s.bytes().all(|c| c.is_ascii_digit());
    let mut b_ids = b.split('.');
    for x in a.split('.') {
        let Some(y) = b_ids.next() else { return Ordering::Greater };
        let order = match (is_number(x), is_number(y)) {
            (true, true) => cmp_number(x, y).then_with(|| x.len().cmp(&y.len())),
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            (false, false) => x.cmp(y),
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    if b_ids.next().is_none() { Ordering::Equal } else { Ordering::Less }
}

/// Rules 2 and 3 (without the final tie-break on the text).
fn cmp_lenient(a: &str, b: &str) -> Ordering {
    let (a, b) = (parts(a), parts(b));
    match (a.core.is_empty(), b.core.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Less,
        (false, true) => return Ordering::Greater,
        (false, false) => {}
    }
    let len = a.core.len().max(b.core.len());
    for i in 0..len {
        let order = cmp_number(a.core.get(i).copied().unwrap_or("0"), b.core.get(i).copied().unwrap_or("0"));
        if order != Ordering::Equal {
            return order;
        }
    }
    let pre = match (a.pre.is_empty(), b.pre.is_empty()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => cmp_identifiers(a.pre, b.pre),
    };
    pre.then_with(|| cmp_identifiers(a.build, b.build))
}

impl Version {
    /// The version as the `semver` crate reads it, when it is semver.
    pub fn semver(&self) -> Option<semver::Version> {
        semver::Version::parse(self.as_str()).ok()
    }

    /// Whether this is a pre-release: a numbered version with a tag (`1.0.0-rc.1`, `2.1rc1`).
    pub fn is_prerelease(&self) -> bool {
        let p = parts(self.as_str());
        !p.core.is_empty() && !p.pre.is_empty()
    }

    /// The leading numbers (`1.2.3-rc.1` → `["1", "2", "3"]`); empty for `nightly`.
    pub fn numbers(&self) -> Vec<&str> {
        parts(self.as_str()).core
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        let by_rules = match (self.semver(), other.semver()) {
            (Some(a), Some(b)) => a.cmp(&b),
            _ => cmp_lenient(self.as_str(), other.as_str()),
        };
        by_rules.then_with(|| self.as_str().cmp(other.as_str()))
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn v(s: &str) -> Version {
        s.parse().unwrap()
    }

    #[test]
    fn semver_precedence_orders_numbers_and_pre_releases() {
        assert!(v("9.9.10") > v("9.9.9"));
        assert!(v("1.10.0") > v("1.9.0"));
        assert!(v("1.0.0-alpha.10") > v("1.0.0-alpha.2"));
        assert!(v("1.0.0") > v("1.0.0-rc.1"));
        assert!(v("1.0.0-rc.1") > v("1.0.0-beta.11"));
        assert!(v("1.0.0-alpha.beta") > v("1.0.0-alpha.1"), "words rank above numbers");
        assert!(v("1.0.0-alpha.1") > v("1.0.0-alpha"), "more identifiers rank higher");
        assert!(v("1.0.0+build.2") > v("1.0.0"), "build metadata breaks the tie");
    }

    #[test]
    fn versions_that_are_not_semver_order_by_the_documented_fallback() {
        assert!(v("2.0") > v("1.99.99"));
        assert!(v("2.0.1") > v("2.0"));
        assert!(v("1.10") > v("1.9"));
        assert!(v("1.0.0.1") > v("1.0.0"));
        assert!(v("v1.10.0") > v("1.9.0"), "a leading v is read past");
        assert!(v("1.0rc1") < v("1.0"), "a tag without a dash is a pre-release");
        assert!(v("1.0.0-rc10") < v("1.0.0-rc9"), "semver compares rc10 and rc9 as words");
        assert!(v("1.0.0-rc.10") > v("1.0.0-rc.9"));
        assert!(v("1.0-alpha.10") > v("1.0-alpha.2"), "tags compare as in semver");
        assert!(v("1.0-alpha.beta") > v("1.0-alpha.1"));
        assert!(v("1.0-alpha") < v("1.0-alpha.0"));
        assert!(v("nightly") < v("0.0.1"), "unnumbered versions are older than numbered ones");
        assert!(v("bionic") < v("focal"));
        // Equal by the rules, distinct by text: never equal.
        assert_eq!(v("2.0").cmp(&v("2.0.0")), Ordering::Less);
        assert_eq!(v("2.0").cmp(&v("2.0")), Ordering::Equal);
    }

    #[test]
    fn pre_releases_are_numbered_versions_with_a_tag() {
        for pre in ["1.0.0-beta.1", "1.0.0-rc1", "2.1rc1", "1.0-SNAPSHOT", "v3.0.0-alpha"] {
            assert!(v(pre).is_prerelease(), "{pre}");
        }
        for release in ["1.0.0", "0.9.0", "1.0.0+build.5", "2.0", "v2", "nightly"] {
            assert!(!v(release).is_prerelease(), "{release}");
        }
        assert_eq!(v("1.2.3-rc.1").numbers(), ["1", "2", "3"]);
        assert!(v("nightly").numbers().is_empty());
    }

    /// One of `texts`, as it is (a `&str` alone would be a regex strategy).
    fn one_of(texts: &'static [&'static str]) -> impl Strategy<Value = String> + Clone {
        prop::sample::select(texts).prop_map(String::from)
    }

    /// Dot-separated identifiers from a small alphabet: numbers (also with leading zeros, which
    /// semver refuses in pre-releases), words, and a hyphenated word.
    fn identifiers() -> impl Strategy<Value = String> {
        let ident = one_of(&["0", "1", "2", "10", "01", "alpha", "beta", "rc", "rc1", "RC", "x-y"]);
        prop::collection::vec(ident, 1..4).prop_map(|i| i.join("."))
    }

    /// Semver versions from so small a space that equal cores, shared pre-release prefixes
    /// and every identifier comparison (`2` against `10`, numbers against words) meet often.
    fn semver_version() -> impl Strategy<Value = String> {
        let ident = one_of(&["1", "2", "10", "alpha", "rc", "x-y"]);
        let idents = || prop::collection::vec(ident.clone(), 1..4).prop_map(|i| i.join("."));
        let core = one_of(&["1.0.0", "1.10.0"]);
        (core, prop::option::of(idents()), prop::option::of(idents())).prop_map(|(core, pre, build)| {
            let pre = pre.map(|p| format!("-{p}")).unwrap_or_default();
            let build = build.map(|b| format!("+{b}")).unwrap_or_default();
            format!("{core}{pre}{build}")
        })
    }

    /// Every kind of version: semver, numbered but not semver (`v`, two or four numbers,
    /// leading zeros, a tag without a dash), and unnumbered.
    fn any_version() -> impl Strategy<Value = Version> {
        let number = one_of(&["0", "1", "2", "9", "10", "01", "007"]);
        let numbers = prop::collection::vec(number, 1..5).prop_map(|n| n.join("."));
        let separator = one_of(&["-", ".", "_", ""]);
        let numbered = (
            one_of(&["", "v"]),
            numbers,
            prop::option::of((separator, identifiers())),
            prop::option::of(identifiers()),
        )
            .prop_map(|(v, n, pre, build)| {
                let pre = pre.map(|(sep, p)| format!("{sep}{p}")).unwrap_or_default();
                let build = build.map(|b| format!("+{b}")).unwrap_or_default();
                format!("{v}{n}{pre}{build}")
            });
        let named = one_of(&["nightly", "bionic", "focal", "x1", "rc"]);
        prop_oneof![3 => semver_version(), 3 => numbered, 1 => named]
            .prop_filter_map("not a version", |s| s.parse().ok())
    }

    proptest! {
        // No failure file: tests write nothing into the source tree; a failure found here
        // becomes an example in the tests above.
        #![proptest_config(ProptestConfig { cases: 4000, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn the_order_is_total_and_antisymmetric(a in any_version(), b in any_version()) {
            prop_assert_eq!(a.cmp(&b), b.cmp(&a).reverse());
            prop_assert_eq!(a.cmp(&b) == Ordering::Equal, a == b);
        }

        #[test]
        fn the_order_is_transitive(a in any_version(), b in any_version(), c in any_version()) {
            for (x, y, z) in [(&a, &b, &c), (&a, &c, &b), (&b, &a, &c), (&b, &c, &a), (&c, &a, &b), (&c, &b, &a)] {
                if x <= y && y <= z {
                    prop_assert!(x <= z, "{x} <= {y} <= {z}");
                }
            }
        }

        #[test]
        fn the_order_is_semvers_where_both_parse(a in semver_version(), b in semver_version()) {
            let (a, b): (Version, Version) = (a.parse().unwrap(), b.parse().unwrap());
            let (x, y) = (a.semver().unwrap(), b.semver().unwrap());
            prop_assert_eq!(a.cmp(&b), x.cmp(&y));
            // The fallback alone gives the same answer, so mixing the two keeps the order total.
            let fallback = cmp_lenient(a.as_str(), b.as_str()).then_with(|| a.as_str().cmp(b.as_str()));
            prop_assert_eq!(fallback, x.cmp(&y), "{} against {}", a, b);
        }
    }
}

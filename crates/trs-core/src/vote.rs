//! The vote: ballots, the policy that resolves them, and the explanation of every outcome.
//! Pure functions; the use cases that store ballots live in trs-app's `vote` module.

use crate::ids::{Fingerprint, PersonUid, ProductName};
use crate::sbom::LicenceCategory;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

/// +1, 0 or −1, written as `"+1"`, `"0"`, `"-1"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum VoteValue {
    Plus,
    Zero,
    Minus,
}

impl VoteValue {
    pub fn as_str(self) -> &'static str {
        match self {
            VoteValue::Plus => "+1",
            VoteValue::Zero => "0",
            VoteValue::Minus => "-1",
        }
    }
}

impl fmt::Display for VoteValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for VoteValue {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim() {
            // Exactly the three spellings of the vote contract: a vote is never guessed at.
            "+1" => Ok(VoteValue::Plus),
            "0" => Ok(VoteValue::Zero),
            "-1" => Ok(VoteValue::Minus),
            other => Err(format!("a vote is +1, 0 or -1, not {other:?}")),
        }
    }
}

impl TryFrom<String> for VoteValue {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<VoteValue> for String {
    fn from(v: VoteValue) -> String {
        v.as_str().to_string()
    }
}

/// A project's release policy. Products may override any field ([`PolicyOverride`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Policy {
    /// A vote cannot be closed before it has been open this long.
    pub min_vote_hours: u32,
    /// Binding +1 votes needed to pass.
    pub min_binding: u32,
    /// A vote cannot open while any check of the revision fails.
    pub strict: bool,
    /// Promoting a release archives the previous current release of the same product line.
    pub archive_previous: bool,
    /// The lifecycle schedule closes votes whose minimum duration has passed.
    pub auto_close_votes: bool,
    /// After promotion, publish the site in the same tracked task.
    pub auto_publish: bool,
    /// After promotion, distribute to the configured registries in the same tracked task.
    pub auto_distribute: bool,
    /// A pre-release (`1.0.0-rc.1`) may be the line's `latest`; by default `latest` is the
    /// newest release that is not one ([`crate::version_order`]).
    pub prerelease_latest: bool,
    /// A vote opens only on a revision holding an SBOM (`*.cdx.json`, `*.spdx`, …).
    pub require_sbom: bool,
    /// Replies on the list count as ballots (`trs vote import-mail`); by default only signed
    /// calls do.
    pub email_votes: bool,
    /// Licence categories an SBOM's components must not have: each one present fails the
    /// SBOM's `sbom` check (so, under `strict`, no vote opens).
    #[serde(skip_serializing_if = "BTreeSet::is_empty")]
    pub denied_licences: BTreeSet<LicenceCategory>,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            min_vote_hours: 72,
            min_binding: 3,
            strict: true,
            archive_previous: false,
            auto_close_votes: false,
            auto_publish: false,
            auto_distribute: false,
            prerelease_latest: false,
            require_sbom: false,
            email_votes: false,
            denied_licences: BTreeSet::new(),
        }
    }
}

/// Per-product changes to the project's policy; absent fields inherit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyOverride {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_vote_hours: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_binding: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive_previous: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_close_votes: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_publish: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_distribute: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prerelease_latest: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_sbom: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_votes: Option<bool>,
    /// Replaces the whole set when given (an empty set denies none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub denied_licences: Option<BTreeSet<LicenceCategory>>,
}

impl PolicyOverride {
    pub fn apply(&self, base: &Policy) -> Policy {
        Policy {
            min_vote_hours: self.min_vote_hours.unwrap_or(base.min_vote_hours),
            min_binding: self.min_binding.unwrap_or(base.min_binding),
            strict: self.strict.unwrap_or(base.strict),
            archive_previous: self.archive_previous.unwrap_or(base.archive_previous),
            auto_close_votes: self.auto_close_votes.unwrap_or(base.auto_close_votes),
            auto_publish: self.auto_publish.unwrap_or(base.auto_publish),
            auto_distribute: self.auto_distribute.unwrap_or(base.auto_distribute),
            prerelease_latest: self.prerelease_latest.unwrap_or(base.prerelease_latest),
            require_sbom: self.require_sbom.unwrap_or(base.require_sbom),
            email_votes: self.email_votes.unwrap_or(base.email_votes),
            denied_licences: self.denied_licences.clone().unwrap_or_else(|| base.denied_licences.clone()),
        }
    }

    /// Layers `other` on top of `self` (fields `other` sets win).
    pub fn merge(&self, other: &PolicyOverride) -> PolicyOverride {
        PolicyOverride {
            min_vote_hours: other.min_vote_hours.or(self.min_vote_hours),
            min_binding: other.min_binding.or(self.min_binding),
            strict: other.strict.or(self.strict),
            archive_previous: other.archive_previous.or(self.archive_previous),
            auto_close_votes: other.auto_close_votes.or(self.auto_close_votes),
            auto_publish: other.auto_publish.or(self.auto_publish),
            auto_distribute: other.auto_distribute.or(self.auto_distribute),
            prerelease_latest: other.prerelease_latest.or(self.prerelease_latest),
            require_sbom: other.require_sbom.or(self.require_sbom),
            email_votes: other.email_votes.or(self.email_votes),
            denied_licences: other.denied_licences.clone().or_else(|| self.denied_licences.clone()),
        }
    }
}

/// The policy in force for a product (or the main line when `product` is `None`).
pub fn effective_policy(
    base: &Policy,
    overrides: &BTreeMap<ProductName, PolicyOverride>,
    product: Option<&ProductName>,
) -> Policy {
    match product.and_then(|p| overrides.get(p)) {
        Some(o) => o.apply(base),
        None => base.clone(),
    }
}

/// How a ballot reached trs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BallotSource {
    /// A signed API call (`trs vote cast`).
    #[default]
    Call,
    /// A reply to the `[VOTE]` mail on the list (`trs vote import-mail`).
    Email,
}

impl BallotSource {
    fn is_call(&self) -> bool {
        *self == BallotSource::Call
    }
}

/// One person's standing vote. A later vote by the same person replaces it; the replaced
/// values are kept in `earlier` (and every cast is an event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ballot {
    pub voter: PersonUid,
    /// The key that signed the call or the mail; none for a mail that carried no signature
    /// verifying against the voter's keys (its sender address is all that names the voter).
    pub key: Option<Fingerprint>,
    pub value: VoteValue,
    /// The voter was a committee member when the vote was cast.
    pub binding: bool,
    pub comment: Option<String>,
    pub cast_at: i64,
    #[serde(default)]
    pub earlier: Vec<EarlierBallot>,
    #[serde(default, skip_serializing_if = "BallotSource::is_call")]
    pub source: BallotSource,
    /// The reply's `Message-ID` (source `email`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
}

impl Ballot {
    /// The history a new ballot of the same voter carries when it replaces `previous`: the
    /// previous ballot's own history, then the previous ballot, oldest first.
    pub fn history_replacing(previous: Option<&Ballot>) -> Vec<EarlierBallot> {
        let Some(p) = previous else { return Vec::new() };
        let mut earlier = p.earlier.clone();
        earlier.push(EarlierBallot {
            value: p.value,
            binding: p.binding,
            comment: p.comment.clone(),
            cast_at: p.cast_at,
            source: p.source,
            message_id: p.message_id.clone(),
        });
        earlier
    }

    /// Signed by the voter's key: a signed call, or a mail whose signature verified.
    pub fn authenticated(&self) -> bool {
        self.key.is_some()
    }

    /// The ballot as the explanation lists it: value, voter, binding, how it came, comment.
    pub fn line(&self) -> String {
        let via = match (&self.source, &self.message_id) {
            (BallotSource::Email, Some(id)) => {
                format!(", email {id}, {}", if self.authenticated() { "signed" } else { "unsigned" })
            }
            _ => String::new(),
        };
        format!(
            "{} {} ({}{via}){}",
            self.value,
            self.voter,
            if self.binding { "binding" } else { "non-binding" },
            self.comment.as_deref().map(|c| format!(": {c}")).unwrap_or_default()
        )
    }
}

/// What the release stream records of a ballot taken from a reply on the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailBallot {
    pub voter: PersonUid,
    pub message_id: String,
    /// The voter's key whose signature on the reply verified; absent for an unsigned reply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_by: Option<Fingerprint>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EarlierBallot {
    pub value: VoteValue,
    pub binding: bool,
    pub comment: Option<String>,
    pub cast_at: i64,
    #[serde(default, skip_serializing_if = "BallotSource::is_call")]
    pub source: BallotSource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub binding_plus: u32,
    pub binding_zero: u32,
    pub binding_minus: u32,
    pub non_binding_plus: u32,
    pub non_binding_zero: u32,
    pub non_binding_minus: u32,
}

impl Tally {
    pub fn of(ballots: &[Ballot]) -> Tally {
        let mut t = Tally::default();
        for b in ballots {
            let slot = match (b.binding, b.value) {
                (true, VoteValue::Plus) => &mut t.binding_plus,
                (true, VoteValue::Zero) => &mut t.binding_zero,
                (true, VoteValue::Minus) => &mut t.binding_minus,
                (false, VoteValue::Plus) => &mut t.non_binding_plus,
                (false, VoteValue::Zero) => &mut t.non_binding_zero,
                (false, VoteValue::Minus) => &mut t.non_binding_minus,
            };
            *slot += 1;
        }
        t
    }
}

/// One rule of the policy and whether the ballots met it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleCheck {
    pub rule: String,
    pub met: bool,
    pub detail: String,
}

/// The outcome of a vote, with the reason: every rule, and every ballot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolution {
    pub passed: bool,
    pub tally: Tally,
    pub rules: Vec<RuleCheck>,
    /// Plain-text explanation: the deciding rule(s), then who voted what.
    pub explanation: String,
}

/// Resolves ballots under a policy (the minimum duration is checked by whoever closes).
pub fn resolve(ballots: &[Ballot], policy: &Policy) -> Resolution {
    let tally = Tally::of(ballots);
    let rules = vec![
        RuleCheck {
            rule: format!("at least {} binding +1", policy.min_binding),
            met: tally.binding_plus >= policy.min_binding,
            detail: format!("{} binding +1", tally.binding_plus),
        },
        RuleCheck {
            rule: "more binding +1 than binding -1".into(),
            met: tally.binding_plus > tally.binding_minus,
            detail: format!("{} binding +1, {} binding -1", tally.binding_plus, tally.binding_minus),
        },
    ];
    let passed = rules.iter().all(|r| r.met);
    let mut explanation = if passed {
        format!(
            "Passed: {}.",
            rules.iter().map(|r| format!("{} ({})", r.rule, r.detail)).collect::<Vec<_>>().join("; ")
        )
    } else {
        format!(
            "Failed: {}.",
            rules
                .iter()
                .filter(|r| !r.met)
                .map(|r| format!("needs {}, has {}", r.rule, r.detail))
                .collect::<Vec<_>>()
                .join("; ")
        )
    };
    let mut sorted: Vec<&Ballot> = ballots.iter().collect();
    sorted.sort_by(|a, b| (!a.binding, &a.voter).cmp(&(!b.binding, &b.voter)));
    if sorted.is_empty() {
        explanation.push_str("\nNo votes were cast.");
    }
    for b in sorted {
        explanation.push('\n');
        explanation.push_str(&b.line());
    }
    Resolution { passed, tally, rules, explanation }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ballot(voter: &str, value: &str, binding: bool) -> Ballot {
        Ballot {
            voter: voter.parse().unwrap(),
            key: Some("0123456789ABCDEF0123456789ABCDEF01234567".parse().unwrap()),
            value: value.parse().unwrap(),
            binding,
            comment: None,
            cast_at: 0,
            earlier: vec![],
            source: BallotSource::Call,
            message_id: None,
        }
    }

    #[test]
    fn three_binding_plus_pass_by_default() {
        let ballots = [ballot("a", "+1", true), ballot("b", "+1", true), ballot("c", "+1", true)];
        let r = resolve(&ballots, &Policy::default());
        assert!(r.passed);
        assert_eq!(r.tally.binding_plus, 3);
        assert!(r.explanation.starts_with("Passed: at least 3 binding +1 (3 binding +1)"), "{}", r.explanation);
        assert!(r.explanation.contains("+1 a (binding)"));
    }

    #[test]
    fn non_binding_votes_do_not_count_toward_the_minimum() {
        let ballots = [ballot("a", "+1", true), ballot("b", "+1", true), ballot("x", "+1", false)];
        let r = resolve(&ballots, &Policy::default());
        assert!(!r.passed);
        assert_eq!(r.tally.non_binding_plus, 1);
        assert!(
            r.explanation.starts_with("Failed: needs at least 3 binding +1, has 2 binding +1"),
            "{}",
            r.explanation
        );
        assert!(r.explanation.contains("+1 x (non-binding)"));
    }

    #[test]
    fn binding_minus_must_be_outnumbered() {
        let policy = Policy { min_binding: 1, ..Policy::default() };
        let ballots = [ballot("a", "+1", true), ballot("b", "-1", true), ballot("c", "0", true)];
        let r = resolve(&ballots, &policy);
        assert!(!r.passed);
        assert!(r.rules[0].met);
        assert!(!r.rules[1].met);
        assert!(r.explanation.contains("more binding +1 than binding -1, has 1 binding +1, 1 binding -1"));
    }

    #[test]
    fn email_ballots_are_explained_with_their_message_id_and_signature() {
        let signed = Ballot {
            source: BallotSource::Email,
            message_id: Some("<a@example.org>".into()),
            ..ballot("a", "+1", true)
        };
        let unsigned = Ballot { key: None, message_id: Some("<b@example.org>".into()), ..signed.clone() };
        let unsigned = Ballot { voter: "b".parse().unwrap(), ..unsigned };
        let r = resolve(&[signed, unsigned], &Policy { min_binding: 1, ..Policy::default() });
        assert!(r.explanation.contains("+1 a (binding, email <a@example.org>, signed)"), "{}", r.explanation);
        assert!(r.explanation.contains("+1 b (binding, email <b@example.org>, unsigned)"), "{}", r.explanation);
    }

    #[test]
    fn no_votes_fail_and_say_so() {
        let r = resolve(&[], &Policy::default());
        assert!(!r.passed);
        assert!(r.explanation.contains("No votes were cast."));
    }

    #[test]
    fn vote_values_parse_and_print() {
        assert_eq!("+1".parse::<VoteValue>(), Ok(VoteValue::Plus));
        assert_eq!("-1".parse::<VoteValue>(), Ok(VoteValue::Minus));
        assert_eq!("0".parse::<VoteValue>(), Ok(VoteValue::Zero));
        assert!("+2".parse::<VoteValue>().is_err());
        assert_eq!(serde_json::to_string(&VoteValue::Minus).unwrap(), "\"-1\"");
    }

    #[test]
    fn product_overrides_inherit_unset_fields() {
        let base = Policy { min_binding: 5, ..Policy::default() };
        let mut overrides = BTreeMap::new();
        let conn: ProductName = "conn".parse().unwrap();
        overrides.insert(conn.clone(), PolicyOverride { min_vote_hours: Some(24), ..Default::default() });
        let p = effective_policy(&base, &overrides, Some(&conn));
        assert_eq!((p.min_vote_hours, p.min_binding), (24, 5));
        assert_eq!(effective_policy(&base, &overrides, None).min_vote_hours, 72);
    }
}

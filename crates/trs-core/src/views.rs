//! Views derived from the release stream by replaying it: which release is in which stage and
//! freeform state, at any point in time. Replaying is the definition; anything stored elsewhere
//! (the release items) must agree with it.

use crate::events::{Change, Event, StreamId};
use crate::ids::{ProductName, ProjectName, RevisionKey, Version};
use crate::project::Project;
use crate::release::ReleaseId;
use crate::stage::Stage;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// A freeform state name such as `lts` or `security-only`.
pub fn check_state_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 40 {
        return Err("a state name has 1 to 40 characters".into());
    }
    if !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        || !name.starts_with(|c: char| c.is_ascii_lowercase())
    {
        return Err(format!("state {name:?}: use lowercase letters, digits and '-', starting with a letter"));
    }
    const STAGES: [&str; 7] =
        ["candidate-draft", "candidate", "current", "archived", "end-of-life", "revoked", "latest"];
    if STAGES.contains(&name) {
        return Err(format!("{name:?} is a stage, which changes only through its own commands"));
    }
    Ok(())
}

/// A line's (end-of-life, support-until) as the stream last set them.
type LineDatePair = (Option<i64>, Option<i64>);

/// One release as the stream says it was at some time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseView {
    pub release: ReleaseId,
    pub stage: Stage,
    pub states: BTreeSet<String>,
    /// The revision it was promoted from (once promoted).
    pub promoted_revision: Option<RevisionKey>,
    pub promoted_at: Option<i64>,
    /// Position of the promotion in the stream.
    pub promoted_seq: Option<u64>,
    pub end_of_life: Option<i64>,
    pub support_until: Option<i64>,
    pub revoked_reason: Option<String>,
    pub first_seen: i64,
    pub last_change: i64,
}

/// Everything the stream says, keyed by release (`project/version` or
/// `project/product/version`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamView {
    pub releases: BTreeMap<String, ReleaseView>,
}

impl StreamView {
    /// Replays events (of one or several streams, each in order) up to and including time `at`.
    pub fn replay<'a>(events: impl IntoIterator<Item = &'a Event>, at: Option<i64>) -> StreamView {
        let mut view = StreamView::default();
        // Line dates apply to every release of the line, including ones promoted later.
        let mut line_dates: BTreeMap<ProjectName, BTreeMap<String, LineDatePair>> = BTreeMap::new();
        for e in events {
            if at.is_some_and(|t| e.at > t) {
                continue;
            }
            if let Change::LifecycleDatesSet { line: Some(line), end_of_life, support_until } = &e.change {
                if let StreamId::Project(p) = &e.stream {
                    line_dates.entry(p.clone()).or_default().insert(line.clone(), (*end_of_life, *support_until));
                }
                continue;
            }
            let Some(id) = &e.release else { continue };
            let key = id.to_string();
            // A discarded draft leaves no release behind; an upload of its version afterwards
            // starts a new one.
            if let Change::DraftDiscarded { .. } = &e.change {
                view.releases.remove(&key);
                continue;
            }
            let entry = view.releases.entry(key).or_insert_with(|| ReleaseView {
                release: id.clone(),
                stage: Stage::CandidateDraft,
                states: BTreeSet::new(),
                promoted_revision: None,
                promoted_at: None,
                promoted_seq: None,
                end_of_life: None,
                support_until: None,
                revoked_reason: None,
                first_seen: e.at,
                last_change: e.at,
            });
            entry.last_change = e.at;
            if let Some(m) = e.stage {
                entry.stage = m.to;
            }
            match &e.change {
                Change::StateEntered { state, .. } => {
                    entry.states.insert(state.clone());
                }
                Change::StateLeft { state, .. } => {
                    entry.states.remove(state);
                }
                Change::Promoted { .. } => {
                    entry.promoted_revision = e.revision_key;
                    entry.promoted_at = Some(e.at);
                    entry.promoted_seq = Some(e.seq);
                }
                // An imported release was published at its original date, not when imported.
                Change::Imported { released_at, .. } => {
                    entry.promoted_revision = e.revision_key;
                    entry.promoted_at = Some(*released_at);
                    entry.promoted_seq = Some(e.seq);
                }
                Change::Revoked { reason } => entry.revoked_reason = Some(reason.clone()),
                Change::LifecycleDatesSet { line: None, end_of_life, support_until } => {
                    entry.end_of_life = *end_of_life;
                    entry.support_until = *support_until;
                }
                _ => {}
            }
        }
        // A release's own date wins over its line's, field by field.
        for r in view.releases.values_mut() {
            let lines = line_dates.get(&r.release.project);
            if let Some((eol, support)) = lines.and_then(|l| dates_of_line(l, &r.release)) {
                r.end_of_life = r.end_of_life.or(eol);
                r.support_until = r.support_until.or(support);
            }
        }
        view
    }

    /// Every release, in order: by project, then the main line before products, then by
    /// version ([`crate::version_order`]).
    pub fn in_order(&self) -> Vec<&ReleaseView> {
        let mut out: Vec<&ReleaseView> = self.releases.values().collect();
        out.sort_by(|a, b| a.release.cmp(&b.release));
        out
    }

    /// Stage names and freeform states → releases holding them (each list in version order).
    pub fn by_state(&self, rule: &PrereleaseLatest) -> BTreeMap<String, Vec<String>> {
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for r in self.in_order() {
            let key = r.release.to_string();
            out.entry(r.stage.to_string()).or_default().push(key.clone());
            for s in &r.states {
                out.entry(s.clone()).or_default().push(key.clone());
            }
        }
        for key in self.latest(rule).into_values() {
            out.entry("latest".into()).or_default().push(key);
        }
        out
    }

    /// Release → its stage followed by its freeform states (and `latest` where it is).
    pub fn by_release(&self, rule: &PrereleaseLatest) -> BTreeMap<String, Vec<String>> {
        let latest: BTreeSet<String> = self.latest(rule).into_values().collect();
        self.releases
            .iter()
            .map(|(key, r)| {
                let mut states = vec![r.stage.to_string()];
                if latest.contains(key) {
                    states.push("latest".into());
                }
                states.extend(r.states.iter().cloned());
                (key.clone(), states)
            })
            .collect()
    }

    /// For each product line (`project` or `project/product`), its latest current release
    /// ([`latest_version`]); a line whose current releases are all pre-releases has none
    /// unless `rule` lets it.
    pub fn latest(&self, rule: &PrereleaseLatest) -> BTreeMap<String, String> {
        let mut lines: BTreeMap<String, Vec<&ReleaseView>> = BTreeMap::new();
        for r in self.releases.values().filter(|r| r.stage == Stage::Current) {
            lines.entry(product_line(&r.release.project, r.release.product.as_ref())).or_default().push(r);
        }
        lines
            .into_iter()
            .filter_map(|(line, rs)| {
                let id = &rs[0].release;
                let allowed = rule.allows(&id.project, id.product.as_ref());
                latest_version(rs.iter().map(|r| &r.release.version), allowed)
                    .map(|v| (line.clone(), format!("{line}/{v}")))
            })
            .collect()
    }
}

/// Which product lines may have a pre-release as `latest`: those whose policy sets
/// `prerelease_latest` (a product's policy may set it apart from its project's).
#[derive(Debug, Clone, Default)]
pub struct PrereleaseLatest(BTreeMap<ProjectName, (bool, BTreeMap<ProductName, bool>)>);

impl PrereleaseLatest {
    /// The rule of each of `projects` (any other project lets no pre-release be latest).
    pub fn of<'a>(projects: impl IntoIterator<Item = &'a Project>) -> Self {
        Self(
            projects
                .into_iter()
                .map(|p| {
                    let products = p
                        .product_policies
                        .keys()
                        .map(|name| (name.clone(), p.policy_for(Some(name)).prerelease_latest));
                    (p.name.clone(), (p.policy.prerelease_latest, products.collect()))
                })
                .collect(),
        )
    }

    pub fn allows(&self, project: &ProjectName, product: Option<&ProductName>) -> bool {
        let Some((main, products)) = self.0.get(project) else { return false };
        product.and_then(|p| products.get(p)).copied().unwrap_or(*main)
    }
}

/// `project` or `project/product`: the line whose `latest` a release can be.
pub fn product_line(project: &ProjectName, product: Option<&ProductName>) -> String {
    match product {
        Some(p) => format!("{project}/{p}"),
        None => project.to_string(),
    }
}

/// The `latest` of a product line's current versions: the highest in [`Version`]'s order
/// ([`crate::version_order`]) that is not a pre-release, or the highest of all when the line's
/// policy sets `prerelease_latest`.
pub fn latest_version<'a>(
    versions: impl IntoIterator<Item = &'a Version>,
    prerelease_latest: bool,
) -> Option<&'a Version> {
    versions.into_iter().filter(|v| prerelease_latest || !v.is_prerelease()).max()
}

/// Whether a release line such as `1.x` or `2.4.x` contains `version`; a line without `.x` names
/// exactly one version.
pub fn line_matches(line: &str, version: &Version) -> bool {
    match line.strip_suffix(".x") {
        Some(prefix) => version.as_str().starts_with(&format!("{prefix}.")),
        None => line == version.as_str(),
    }
}

/// How a release line is keyed in a project (and named in `line` of a dates event): `1.x` for
/// the main line, `PRODUCT/1.x` for a product's line.
pub fn line_key(product: Option<&ProductName>, line: &str) -> String {
    match product {
        Some(p) => format!("{p}/{line}"),
        None => line.to_string(),
    }
}

/// Whether the line stored under `key` (see [`line_key`]) contains the release.
pub fn line_applies(key: &str, id: &ReleaseId) -> bool {
    let (product, line) = match key.split_once('/') {
        Some((p, l)) => (Some(p), l),
        None => (None, key),
    };
    product == id.product.as_ref().map(|p| p.as_str()) && line_matches(line, &id.version)
}

/// The line that governs a release's dates: the most specific (longest key) containing it.
pub fn governing_line<'a, D>(lines: &'a BTreeMap<String, D>, id: &ReleaseId) -> Option<(&'a String, &'a D)> {
    lines.iter().filter(|(key, _)| line_applies(key, id)).max_by_key(|(key, _)| key.len())
}

/// The dates of the line governing the release ([`governing_line`]).
pub fn dates_of_line<D: Clone>(lines: &BTreeMap<String, D>, id: &ReleaseId) -> Option<D> {
    governing_line(lines, id).map(|(_, d)| d.clone())
}

/// A release line: digits separated by dots, ending in `.x` (e.g. `1.x`, `2.4.x`).
pub fn check_line(line: &str) -> Result<(), String> {
    let ok = line
        .strip_suffix(".x")
        .is_some_and(|p| !p.is_empty() && p.split('.').all(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit())));
    if ok { Ok(()) } else { Err(format!("{line:?} is not a release line; write e.g. 1.x or 2.4.x")) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::EventDraft;

    fn rid(v: &str) -> ReleaseId {
        ReleaseId { project: "foo".parse().unwrap(), product: None, version: v.parse().unwrap() }
    }

    fn build(steps: &[(i64, &str, EventDraft)]) -> Vec<Event> {
        let stream = StreamId::Project("foo".parse().unwrap());
        let mut out: Vec<Event> = Vec::new();
        for (at, v, draft) in steps {
            let draft = if v.is_empty() { draft.clone() } else { draft.clone().release(&rid(v)) };
            let prev = out.last().map(|e| (e.seq, e.hash.as_str()));
            out.push(draft.seal(stream.clone(), prev, *at));
        }
        out
    }

    fn mv(from: Option<Stage>, to: Stage, change: Change) -> EventDraft {
        EventDraft::new(None, change).stage(from, to)
    }

    fn history() -> Vec<Event> {
        use Stage::*;
        let pushed =
            Change::RevisionPushed { revision: 1, base: None, forced: false, files: 1, removed: 0, replaced: false };
        build(&[
            (100, "1.0", mv(None, CandidateDraft, pushed.clone())),
            (
                110,
                "1.0",
                mv(Some(CandidateDraft), Candidate, Change::VoteOpened { vote: 1, revision: 1, closes_not_before: 0 }),
            ),
            (120, "1.0", mv(Some(Candidate), Current, Change::Promoted { revision: 1 })),
            (130, "1.0", EventDraft::new(None, Change::StateEntered { state: "lts".into(), already_held: false })),
            (200, "1.1", mv(None, CandidateDraft, pushed)),
            (
                210,
                "1.1",
                mv(Some(CandidateDraft), Candidate, Change::VoteOpened { vote: 1, revision: 1, closes_not_before: 0 }),
            ),
            (220, "1.1", mv(Some(Candidate), Current, Change::Promoted { revision: 1 })),
            (230, "1.0", mv(Some(Current), Archived, Change::Archived)),
            (300, "1.1", mv(Some(Current), Revoked, Change::Revoked { reason: "CVE".into() })),
            (310, "1.0", EventDraft::new(None, Change::StateLeft { state: "lts".into(), was_held: true })),
        ])
    }

    /// A release's first revision, of one file.
    fn first_revision() -> Change {
        Change::RevisionPushed { revision: 1, base: None, forced: false, files: 1, removed: 0, replaced: false }
    }

    fn map(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect())).collect()
    }

    #[test]
    fn an_imported_release_is_current_or_archived_with_its_original_date() {
        use Stage::*;
        let imported = |at| Change::Imported { revision: 1, released_at: at, files: 3 };
        let events =
            build(&[(1000, "1.0", mv(None, Archived, imported(100))), (1001, "2.0", mv(None, Current, imported(200)))]);
        let view = StreamView::replay(&events, None);
        let rule = PrereleaseLatest::default();
        assert_eq!(
            view.by_state(&rule),
            map(&[("archived", &["foo/1.0"]), ("current", &["foo/2.0"]), ("latest", &["foo/2.0"])])
        );
        let two = &view.releases["foo/2.0"];
        assert_eq!((two.promoted_at, two.promoted_seq), (Some(200), Some(2)), "the original date, not the import's");
    }

    #[test]
    fn views_at_points_in_time_match_a_hand_computed_expectation() {
        let events = history();
        let at = |t| StreamView::replay(&events, Some(t));
        let rule = PrereleaseLatest::default();
        assert_eq!(at(50).by_state(&rule), map(&[]));
        assert_eq!(at(115).by_state(&rule), map(&[("candidate", &["foo/1.0"])]));
        assert_eq!(
            at(130).by_state(&rule),
            map(&[("current", &["foo/1.0"]), ("latest", &["foo/1.0"]), ("lts", &["foo/1.0"])])
        );
        assert_eq!(
            at(225).by_state(&rule),
            map(&[("current", &["foo/1.0", "foo/1.1"]), ("latest", &["foo/1.1"]), ("lts", &["foo/1.0"])])
        );
        assert_eq!(
            at(225).by_release(&rule),
            map(&[("foo/1.0", &["current", "lts"]), ("foo/1.1", &["current", "latest"])])
        );
        // After the revocation nothing is current, so nothing is latest.
        assert_eq!(
            at(300).by_state(&rule),
            map(&[("archived", &["foo/1.0"]), ("lts", &["foo/1.0"]), ("revoked", &["foo/1.1"])])
        );
        assert_eq!(at(1000).by_release(&rule), map(&[("foo/1.0", &["archived"]), ("foo/1.1", &["revoked"])]));
        assert_eq!(at(1000).releases["foo/1.1"].revoked_reason.as_deref(), Some("CVE"));
    }

    #[test]
    fn a_discarded_draft_leaves_the_views_and_its_version_starts_afresh() {
        use Stage::*;
        let pushed = || mv(None, CandidateDraft, first_revision());
        let events = build(&[
            (100, "2.0", pushed()),
            (110, "2.0", EventDraft::new(None, Change::DraftDiscarded { revision: Some(1) })),
            (120, "2.0", pushed()),
        ]);
        let at = |t| StreamView::replay(&events, Some(t));
        let rule = PrereleaseLatest::default();
        assert_eq!(at(105).by_state(&rule), map(&[("candidate-draft", &["foo/2.0"])]));
        assert_eq!(at(115).by_state(&rule), map(&[]), "no trace in the views");
        let again = at(125);
        assert_eq!(again.by_state(&rule), map(&[("candidate-draft", &["foo/2.0"])]));
        assert_eq!(again.releases["foo/2.0"].first_seen, 120, "a new release, not the dropped one");
    }

    #[test]
    fn latest_is_the_highest_version_and_no_pre_release_unless_allowed() {
        let v = |s: &str| -> Version { s.parse().unwrap() };
        let (a, b, c) = (v("1.9.0"), v("1.10.0"), v("1.11.0-rc1"));
        assert_eq!(latest_version([&a, &b, &c], false), Some(&b));
        assert_eq!(latest_version([&a, &b, &c], true), Some(&c));
        let (beta, old) = (v("1.0.0-beta.1"), v("0.9.0"));
        assert_eq!(latest_version([&beta, &old], false), Some(&old));
        assert_eq!(latest_version([&beta], false), None, "only pre-releases: no latest");
        assert_eq!(latest_version([], true), None);
    }

    /// `foo 0.9.0`, `foo 1.0.0-beta.1`, `foo 9.9.10` and `foo 9.9.9-rc.1`, all current, and
    /// `foo conn 2.0.0-rc.1` (current).
    fn current_releases() -> StreamView {
        let mut view = StreamView::replay(&[], None);
        for (product, version) in [
            (None, "9.9.10"),
            (None, "0.9.0"),
            (None, "1.0.0-beta.1"),
            (None, "9.9.9-rc.1"),
            (Some("conn"), "2.0.0-rc.1"),
        ] {
            let mut id = rid(version);
            id.product = product.map(|p| p.parse().unwrap());
            view.releases.insert(
                id.to_string(),
                ReleaseView {
                    release: id,
                    stage: Stage::Current,
                    states: BTreeSet::new(),
                    promoted_revision: None,
                    promoted_at: Some(1),
                    promoted_seq: Some(1),
                    end_of_life: None,
                    support_until: None,
                    revoked_reason: None,
                    first_seen: 1,
                    last_change: 1,
                },
            );
        }
        view
    }

    #[test]
    fn releases_list_in_version_order_and_latest_follows_each_lines_policy() {
        let mut view = current_releases();
        let order: Vec<String> = view.in_order().iter().map(|r| r.release.to_string()).collect();
        assert_eq!(order, ["foo/0.9.0", "foo/1.0.0-beta.1", "foo/9.9.9-rc.1", "foo/9.9.10", "foo/conn/2.0.0-rc.1"]);
        let rule = PrereleaseLatest::default();
        assert_eq!(view.latest(&rule), BTreeMap::from([("foo".to_string(), "foo/9.9.10".to_string())]));
        view.releases.remove("foo/9.9.10");
        assert_eq!(view.latest(&rule), BTreeMap::from([("foo".to_string(), "foo/0.9.0".to_string())]));
        assert_eq!(view.by_state(&rule)["latest"], ["foo/0.9.0"]);

        let mut project = crate::Project {
            name: "foo".parse().unwrap(),
            members: BTreeSet::new(),
            committers: BTreeSet::new(),
            release_managers: BTreeSet::new(),
            products: BTreeSet::new(),
            product_descriptions: BTreeMap::new(),
            display_name: None,
            description: None,
            homepage: None,
            created_at: 0,
            policy: Default::default(),
            product_policies: BTreeMap::new(),
            lines: BTreeMap::new(),
            distributions: Vec::new(),
            mail: Default::default(),
            product_mail: Default::default(),
        };
        project.product_policies.insert(
            "conn".parse().unwrap(),
            crate::PolicyOverride { prerelease_latest: Some(true), ..Default::default() },
        );
        let rule = PrereleaseLatest::of([&project]);
        let latest = view.latest(&rule);
        assert_eq!(latest["foo"], "foo/0.9.0", "the main line did not opt in");
        assert_eq!(latest["foo/conn"], "foo/conn/2.0.0-rc.1", "the product did");
        project.policy.prerelease_latest = true;
        assert_eq!(view.latest(&PrereleaseLatest::of([&project]))["foo"], "foo/9.9.9-rc.1");
    }

    #[test]
    fn lines_match_by_prefix() {
        let v: Version = "1.2.3".parse().unwrap();
        assert!(line_matches("1.x", &v));
        assert!(line_matches("1.2.x", &v));
        assert!(!line_matches("1.3.x", &v));
        assert!(!line_matches("12.x", &"1.2".parse().unwrap()));
        assert!(check_line("1.x").is_ok());
        assert!(check_line("x").is_err());
        assert!(check_line("1.a.x").is_err());
    }

    #[test]
    fn line_dates_apply_per_product_and_field_by_field() {
        let set = |line: &str, eol: Option<i64>, support: Option<i64>| {
            EventDraft::new(
                None,
                Change::LifecycleDatesSet { line: Some(line.into()), end_of_life: eol, support_until: support },
            )
        };
        let own =
            EventDraft::new(None, Change::LifecycleDatesSet { line: None, end_of_life: None, support_until: Some(7) });
        let pushed = || EventDraft::new(None, first_revision());
        let events = build(&[
            (1, "1.0", pushed()),
            (2, "2.0", pushed()),
            (3, "", set("1.x", Some(100), Some(50))),
            (4, "", set("1.0.x", Some(90), None)),
            (5, "", set("conn/2.x", Some(1), None)),
            (6, "1.0", own),
        ]);
        let view = StreamView::replay(&events, None);
        let r = &view.releases["foo/1.0"];
        assert_eq!((r.end_of_life, r.support_until), (Some(100), Some(7)), "1.0 is not in 1.0.x; own support wins");
        let r = &view.releases["foo/2.0"];
        assert_eq!(r.end_of_life, None, "a product's line does not apply to the main line");
        let mut id = rid("1.0.3");
        assert!(line_applies("1.0.x", &id));
        id.product = Some("conn".parse().unwrap());
        assert!(!line_applies("1.0.x", &id));
        assert!(line_applies("conn/1.x", &id));
        assert_eq!(line_key(id.product.as_ref(), "1.x"), "conn/1.x");
    }

    #[test]
    fn state_names_are_checked() {
        assert!(check_state_name("lts").is_ok());
        assert!(check_state_name("security-only").is_ok());
        assert!(check_state_name("current").is_err());
        assert!(check_state_name("LTS").is_err());
        assert!(check_state_name("").is_err());
    }
}

/// Properties of release lines, which decide the lifecycle dates a release inherits.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn numbers(max: usize) -> impl Strategy<Value = Vec<String>> {
        prop::collection::vec(prop::sample::select(vec!["0", "1", "2", "10", "01"]).prop_map(String::from), 1..max)
    }

    fn version() -> impl Strategy<Value = Version> {
        (prop::sample::select(vec!["", "v"]), numbers(5), prop::sample::select(vec!["", "-rc.1", "rc1", ".Final"]))
            .prop_filter_map("a version", |(v, n, tag)| format!("{v}{}{tag}", n.join(".")).parse().ok())
    }

    fn line() -> impl Strategy<Value = String> {
        numbers(4).prop_map(|n| format!("{}.x", n.join(".")))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn a_line_contains_only_versions_that_start_with_its_numbers(line in line(), v in version()) {
            prop_assert!(check_line(&line).is_ok());
            if line_matches(&line, &v) {
                let prefix: Vec<&str> = line.trim_end_matches(".x").split('.').collect();
                let numbers = v.numbers();
                prop_assert!(numbers.len() >= prefix.len(), "{} in {}", v, line);
                prop_assert_eq!(&numbers[..prefix.len()], &prefix[..], "{} in {}", v, line);
            }
        }

        #[test]
        fn the_governing_line_is_the_most_specific_line_containing_the_release(
            lines in prop::collection::btree_set(line(), 0..6),
            v in version(),
        ) {
            let id = ReleaseId { project: "foo".parse().unwrap(), product: None, version: v };
            let dates: BTreeMap<String, usize> = lines.iter().enumerate().map(|(i, l)| (l.clone(), i)).collect();
            let applying: Vec<&String> = dates.keys().filter(|k| line_applies(k, &id)).collect();
            match governing_line(&dates, &id) {
                None => prop_assert!(applying.is_empty()),
                Some((key, d)) => {
                    prop_assert!(line_applies(key, &id));
                    prop_assert!(applying.iter().all(|k| k.len() <= key.len()));
                    prop_assert_eq!(dates_of_line(&dates, &id), Some(*d));
                }
            }
        }
    }
}

//! Which pages an event changes. Kept to what the event can change, so a vote cast re-renders
//! a handful of objects, never the site; everything rendered is then compared by digest, so
//! a page planned but unchanged is not rewritten.
//!
//! | event | pages |
//! |---|---|
//! | any event of a project's stream | the project's history index and its two newest numbered pages |
//! | project created | the project's pages, KEYS, JSON and feed; the directory |
//! | revision pushed, vote opened/cast/closed/cancelled, distribution | the release page, the project page, JSON views (each release's last change) |
//! | draft discarded | the release page (deleted), the project page, JSON views |
//! | promoted, imported, archived, end-of-life, revoked | the release page, the project page, JSON views, the project feed; the directory and the site feed; the pages of the product line's unsupported releases (each names the newest supported one) |
//! | dates set on a release, state entered or left | the release page, the project page, JSON views |
//! | dates set on a line (`1.x`) | every release page of the line, the project page, JSON views |
//! | person or key added or removed, person edited (foundation stream) | the KEYS of each project the person may sign for |
//! | members changed | the project page and KEYS |
//! | product declared | the project page, JSON views; the directory (search index) |
//! | project edited | the project page; the directory |
//! | policy changed | the project page, JSON views, the directory (`prerelease_latest` moves `latest`) |
//! | admin granted or revoked | history only |
//! | advisory published or updated | every release page of the project ("affected by", "fixes"), the project page, JSON views, the project feed |

use trs_core::{Change, Event, PersonUid, ProductName, ProjectName, ReleaseId, StageSegment, StreamId};

/// A group of objects rendered together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The directory page and the search index.
    Directory,
    SiteFeed,
    Project(ProjectName),
    Keys(ProjectName),
    Release(ReleaseId),
    /// Every release page of a release line (`1.x`, `PRODUCT/1.x`).
    Line(ProjectName, String),
    /// Every release page of the project (a security advisory may name any of them).
    AllReleases(ProjectName),
    /// The pages of a product line's (`None`: the main line's) end-of-life, archived and
    /// revoked releases: each names the line's newest supported release, which a promotion,
    /// an end-of-life, an archiving or a revocation may move.
    Unsupported(ProjectName, Option<ProductName>),
    /// The history index and the two newest numbered pages (the second one's "newer" link
    /// appears when the newest page starts).
    HistoryTail(ProjectName),
    /// releases.json, CLE and endoflife.date JSON.
    ProjectJson(ProjectName),
    ProjectFeed(ProjectName),
    /// The KEYS of every project this person may sign for.
    KeysOf(PersonUid),
}

impl Target {
    /// The project whose data rendering needs, if any.
    pub fn project(&self) -> Option<&ProjectName> {
        match self {
            Target::Project(p)
            | Target::Keys(p)
            | Target::Line(p, _)
            | Target::AllReleases(p)
            | Target::Unsupported(p, _)
            | Target::HistoryTail(p)
            | Target::ProjectJson(p)
            | Target::ProjectFeed(p) => Some(p),
            Target::Release(id) => Some(&id.project),
            Target::Directory | Target::SiteFeed | Target::KeysOf(_) => None,
        }
    }
}

/// How far a change to one release reaches beyond its page, its project's page and the
/// project's JSON views (`releases.json` shows each release's last change, which every event
/// of the release moves; the views' `last_modified` is the newest event's time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reach {
    /// Only those.
    Views,
    /// Also the project feed, the directory and the site feed: a public release changed.
    Public,
}

/// The targets `event` changes, without duplicates.
///
/// The match names every kind of change, with no catch-all arm: a new kind does not compile
/// until someone decides which pages it touches.
pub fn plan(event: &Event) -> Vec<Target> {
    let project = match &event.stream {
        StreamId::Project(p) => Some(p.clone()),
        StreamId::Foundation => None,
    };
    let mut out = Targets::default();
    if let Some(p) = &project {
        out.add(Target::HistoryTail(p.clone()));
    }
    match &event.change {
        Change::PersonAdded { uid, .. }
        | Change::KeyAdded { uid, .. }
        | Change::KeyRemoved { uid, .. }
        | Change::PersonEdited { uid, .. } => out.add(Target::KeysOf(uid.clone())),
        Change::AdminGranted { .. } | Change::AdminRevoked { .. } => {}
        // Mail settings are shown by `trs project mail`, on no page.
        Change::MailSettingsChanged { .. } => {}
        Change::ProjectCreated { project } => {
            out.add(Target::Project(project.clone()));
            out.add(Target::Keys(project.clone()));
            out.add(Target::ProjectJson(project.clone()));
            out.add(Target::ProjectFeed(project.clone()));
            out.add(Target::Directory);
        }
        Change::MembersChanged { .. } => {
            if let Some(p) = project {
                out.add(Target::Project(p.clone()));
                out.add(Target::Keys(p));
            }
        }
        Change::ProductAdded { .. } => {
            if let Some(p) = project {
                out.add(Target::Project(p.clone()));
                out.add(Target::ProjectJson(p));
                out.add(Target::Directory);
            }
        }
        Change::ProjectEdited { .. } => {
            if let Some(p) = project {
                out.add(Target::Project(p));
                out.add(Target::Directory);
            }
        }
        Change::PolicyChanged { .. } => {
            // The policy says whether a pre-release may be `latest`, which these pages show.
            if let Some(p) = project {
                out.add(Target::Project(p.clone()));
                out.add(Target::ProjectJson(p));
                out.add(Target::Directory);
            }
        }
        Change::AdvisoryPublished { .. } => {
            // Which releases it names depends on the releases held: render them all (pages
            // are compared by digest, so only those that changed are written).
            if let Some(p) = project {
                out.add(Target::AllReleases(p.clone()));
                out.add(Target::Project(p.clone()));
                out.add(Target::ProjectJson(p.clone()));
                out.add(Target::ProjectFeed(p));
            }
        }
        Change::LifecycleDatesSet { line, .. } => match (&event.release, line, project) {
            (None, Some(line), Some(p)) => {
                out.add(Target::Line(p.clone(), line.clone()));
                out.add(Target::Project(p.clone()));
                out.add(Target::ProjectJson(p));
            }
            (None, _, _) => {}
            (Some(_), _, _) => out.release(event, Reach::Views),
        },
        // Which platforms a promotion distributes to is shown on no page; the event still
        // moves the release's last change in the JSON views.
        Change::AutoDistributionsSet { .. } => out.release(event, Reach::Views),
        Change::RevisionPushed { .. }
        | Change::VoteOpened { .. }
        | Change::VoteCast { .. }
        | Change::VoteClosed { .. }
        | Change::VoteCancelled { .. }
        | Change::Distributed { .. }
        | Change::DistributionPromoted { .. }
        | Change::DistributionFailed { .. } => out.release(event, Reach::Views),
        // The release is gone: its page is deleted (publish), the lists drop it.
        Change::DraftDiscarded { .. } => out.release(event, Reach::Views),
        Change::StateEntered { .. } | Change::StateLeft { .. } => out.release(event, Reach::Views),
        Change::Promoted { .. }
        | Change::Imported { .. }
        | Change::Archived
        | Change::EndOfLife
        | Change::Revoked { .. } => out.release(event, Reach::Public),
    }
    out.0
}

/// Targets in the order first planned, each once.
#[derive(Default)]
struct Targets(Vec<Target>);

impl Targets {
    fn add(&mut self, t: Target) {
        if !self.0.contains(&t) {
            self.0.push(t);
        }
    }

    /// What a change to `event`'s release reaches; nothing for an event of no release.
    fn release(&mut self, event: &Event, reach: Reach) {
        let (StreamId::Project(p), Some(id)) = (&event.stream, &event.release) else { return };
        self.add(Target::Release(id.clone()));
        self.add(Target::Project(p.clone()));
        self.add(Target::ProjectJson(p.clone()));
        if reach == Reach::Public {
            self.add(Target::ProjectFeed(p.clone()));
            self.add(Target::Directory);
            self.add(Target::SiteFeed);
            self.add(Target::Unsupported(p.clone(), id.product.clone()));
        }
    }
}

/// Release files whose CDN copies `event` makes wrong, as CDN paths. A released version's files
/// are cached as immutable for a year, so nothing but an invalidation drops them: a revoked or
/// archived release leaves `/current/…` (a release revoked from the archive leaves
/// `/archive/…`; its files must stop being served at once), and every such change, like a
/// promotion, may move `…/latest/…` to another version. The revocation deleted the objects
/// before its event was committed, so a cache miss after this finds nothing.
pub fn file_invalidations(event: &Event) -> Vec<String> {
    let Some(id) = &event.release else { return Vec::new() };
    let left = match event.stage.as_ref().and_then(|s| s.from) {
        Some(trs_core::Stage::Archived) => StageSegment::Archive,
        _ => StageSegment::Current,
    };
    let version_prefix = format!("/{}*", trs_app::storage_keys::public_prefix(left, id));
    let latest_prefix = match &id.product {
        Some(p) => format!("/{}/{}/{p}/latest/*", StageSegment::Current, id.project),
        None => format!("/{}/{}/latest/*", StageSegment::Current, id.project),
    };
    match event.change {
        Change::Revoked { .. } | Change::Archived => vec![version_prefix, latest_prefix],
        Change::Promoted { .. } | Change::EndOfLife => vec![latest_prefix],
        // An imported current release may be the line's new `latest`; an archived one is not.
        Change::Imported { .. } if event.stage.is_some_and(|s| s.to == trs_core::Stage::Current) => {
            vec![latest_prefix]
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trs_core::{EventDraft, Stage, VoteValue};

    fn event(change: Change, release: bool) -> Event {
        let id = ReleaseId { project: "foo".parse().unwrap(), product: None, version: "1.0".parse().unwrap() };
        let mut draft = EventDraft::new(None, change);
        if release {
            draft = draft.release(&id);
        }
        draft.seal(StreamId::Project("foo".parse().unwrap()), None, 0)
    }

    /// A binding +1 in vote 1 on foo 1.0.
    fn vote_cast() -> Event {
        event(
            Change::VoteCast {
                vote: 1,
                value: VoteValue::Plus,
                binding: true,
                comment: None,
                replaces: None,
                email: None,
            },
            true,
        )
    }

    #[test]
    fn a_revocation_drops_the_release_files_and_latest_from_the_cdn_and_a_vote_drops_none() {
        let mut revoked = event(Change::Revoked { reason: "CVE".into() }, true);
        revoked.stage = Some(trs_core::events::StageMove { from: Some(Stage::Current), to: Stage::Revoked });
        assert_eq!(file_invalidations(&revoked), vec!["/current/foo/1.0/*", "/current/foo/latest/*"]);
        revoked.stage = Some(trs_core::events::StageMove { from: Some(Stage::Archived), to: Stage::Revoked });
        assert_eq!(
            file_invalidations(&revoked),
            vec!["/archive/foo/1.0/*", "/current/foo/latest/*"],
            "revoked from the archive: its archive paths"
        );
        let promoted = event(Change::Promoted { revision: 1 }, true);
        assert_eq!(file_invalidations(&promoted), vec!["/current/foo/latest/*"]);
        let cast = vote_cast();
        assert!(file_invalidations(&cast).is_empty());
    }

    #[test]
    fn a_vote_cast_touches_the_release_the_project_its_views_and_history_only() {
        let cast = vote_cast();
        let targets = plan(&cast);
        assert_eq!(targets.len(), 4, "{targets:?}");
        assert!(targets.contains(&Target::ProjectJson("foo".parse().unwrap())), "its last change: {targets:?}");
        assert!(targets.iter().all(|t| !matches!(t, Target::Directory | Target::SiteFeed)));
    }

    #[test]
    fn managing_a_project_re_renders_what_shows_it() {
        let foo: ProjectName = "foo".parse().unwrap();
        let declared = event(Change::ProductAdded { product: "conn".parse().unwrap(), description: None }, false);
        let targets = plan(&declared);
        for t in [Target::Project(foo.clone()), Target::ProjectJson(foo.clone()), Target::Directory] {
            assert!(targets.contains(&t), "{t:?} missing from {targets:?}: the search index lists products");
        }
        let roster = event(
            Change::MembersChanged {
                role: trs_core::ProjectRole::Committer,
                added: vec!["carl".parse().unwrap()],
                removed: vec![],
            },
            false,
        );
        assert!(plan(&roster).contains(&Target::Keys(foo.clone())), "KEYS holds every signer's keys");
        let removed = EventDraft::new(
            None,
            Change::KeyRemoved {
                uid: "carl".parse().unwrap(),
                fingerprint: "0123456789ABCDEF0123456789ABCDEF01234567".parse().unwrap(),
            },
        )
        .seal(StreamId::Foundation, None, 0);
        assert_eq!(plan(&removed), vec![Target::KeysOf("carl".parse().unwrap())]);
    }

    #[test]
    fn a_promotion_reaches_the_directory_and_feeds() {
        let mut promoted = event(Change::Promoted { revision: 1 }, true);
        promoted.stage = Some(trs_core::events::StageMove { from: Some(Stage::Candidate), to: Stage::Current });
        let targets = plan(&promoted);
        for t in [Target::Directory, Target::SiteFeed, Target::ProjectFeed("foo".parse().unwrap())] {
            assert!(targets.contains(&t), "{t:?} missing from {targets:?}");
        }
    }

    #[test]
    fn an_import_reaches_the_directory_and_feeds_and_moves_latest_only_when_current() {
        let mut imported = event(Change::Imported { revision: 1, released_at: 5, files: 3 }, true);
        imported.stage = Some(trs_core::events::StageMove { from: None, to: Stage::Current });
        let targets = plan(&imported);
        let foo: ProjectName = "foo".parse().unwrap();
        for t in [Target::Directory, Target::SiteFeed, Target::ProjectFeed(foo.clone()), Target::ProjectJson(foo)] {
            assert!(targets.contains(&t), "{t:?} missing from {targets:?}");
        }
        assert_eq!(file_invalidations(&imported), vec!["/current/foo/latest/*"]);
        imported.stage = Some(trs_core::events::StageMove { from: None, to: Stage::Archived });
        assert!(file_invalidations(&imported).is_empty(), "an archived import is no one's latest");
    }

    #[test]
    fn a_policy_change_re_renders_the_pages_that_show_latest() {
        let changed = event(Change::PolicyChanged { product: None, policy: serde_json::json!({}) }, false);
        let foo: ProjectName = "foo".parse().unwrap();
        let targets = plan(&changed);
        for t in [Target::Project(foo.clone()), Target::ProjectJson(foo), Target::Directory] {
            assert!(targets.contains(&t), "{t:?} missing from {targets:?}");
        }
    }

    /// Where an event of the table below is: a release of project `foo`, the project `foo`,
    /// or the foundation (people and keys).
    #[derive(Clone, Copy)]
    enum On {
        Release,
        Project,
        Foundation,
    }

    /// Every kind of change, numbered. No catch-all arm: a new kind does not compile until it
    /// is numbered here, and then the table below fails until it has a row.
    fn kind(change: &Change) -> usize {
        match change {
            Change::ProjectCreated { .. } => 0,
            Change::PersonAdded { .. } => 1,
            Change::KeyAdded { .. } => 2,
            Change::PolicyChanged { .. } => 3,
            Change::MailSettingsChanged { .. } => 4,
            Change::MembersChanged { .. } => 5,
            Change::ProductAdded { .. } => 6,
            Change::ProjectEdited { .. } => 7,
            Change::PersonEdited { .. } => 8,
            Change::AdminGranted { .. } => 9,
            Change::AdminRevoked { .. } => 10,
            Change::KeyRemoved { .. } => 11,
            Change::RevisionPushed { .. } => 12,
            Change::DraftDiscarded { .. } => 13,
            Change::VoteOpened { .. } => 14,
            Change::VoteCast { .. } => 15,
            Change::VoteClosed { .. } => 16,
            Change::VoteCancelled { .. } => 17,
            Change::Promoted { .. } => 18,
            Change::Archived => 19,
            Change::EndOfLife => 20,
            Change::Revoked { .. } => 21,
            Change::LifecycleDatesSet { .. } => 22,
            Change::StateEntered { .. } => 23,
            Change::StateLeft { .. } => 24,
            Change::Distributed { .. } => 25,
            Change::DistributionPromoted { .. } => 26,
            Change::AutoDistributionsSet { .. } => 27,
            Change::DistributionFailed { .. } => 28,
            Change::Imported { .. } => 29,
            Change::AdvisoryPublished { .. } => 30,
        }
    }
    const KINDS: usize = 31;

    #[test]
    fn every_kind_of_change_plans_its_pages() {
        use Target::*;
        let foo: ProjectName = "foo".parse().unwrap();
        let id = ReleaseId { project: foo.clone(), product: None, version: "1.0".parse().unwrap() };
        let carl: PersonUid = "carl".parse().unwrap();
        let fpr: trs_core::Fingerprint = "0123456789ABCDEF0123456789ABCDEF01234567".parse().unwrap();
        let listed = vec![Release(id.clone()), Project(foo.clone()), ProjectJson(foo.clone())];
        let public =
            [listed.clone(), vec![ProjectFeed(foo.clone()), Directory, SiteFeed, Unsupported(foo.clone(), None)]]
                .concat();
        let keys_of = vec![KeysOf(carl.clone())];
        let platform = || ("pypi".to_string(), "foo".to_string(), "1.0".to_string());
        let (p, package, version) = platform();
        let table: Vec<(Change, On, Vec<Target>)> = vec![
            (
                Change::ProjectCreated { project: foo.clone() },
                On::Project,
                vec![
                    Project(foo.clone()),
                    Keys(foo.clone()),
                    ProjectJson(foo.clone()),
                    ProjectFeed(foo.clone()),
                    Directory,
                ],
            ),
            (Change::PersonAdded { uid: carl.clone(), fingerprint: fpr.clone() }, On::Foundation, keys_of.clone()),
            (
                Change::KeyAdded { uid: carl.clone(), fingerprint: fpr.clone(), updated: false },
                On::Foundation,
                keys_of.clone(),
            ),
            (Change::KeyRemoved { uid: carl.clone(), fingerprint: fpr.clone() }, On::Foundation, keys_of.clone()),
            (Change::PersonEdited { uid: carl.clone(), name: None, email: None }, On::Foundation, keys_of.clone()),
            (Change::AdminGranted { uid: carl.clone() }, On::Foundation, vec![]),
            (Change::AdminRevoked { uid: carl.clone() }, On::Foundation, vec![]),
            (
                Change::PolicyChanged { product: None, policy: serde_json::json!({}) },
                On::Project,
                vec![Project(foo.clone()), ProjectJson(foo.clone()), Directory],
            ),
            (Change::MailSettingsChanged { product: None, mail: Default::default() }, On::Project, vec![]),
            (
                Change::MembersChanged {
                    role: trs_core::ProjectRole::Committer,
                    added: vec![carl.clone()],
                    removed: vec![],
                },
                On::Project,
                vec![Project(foo.clone()), Keys(foo.clone())],
            ),
            (
                Change::ProductAdded { product: "conn".parse().unwrap(), description: None },
                On::Project,
                vec![Project(foo.clone()), ProjectJson(foo.clone()), Directory],
            ),
            (
                Change::ProjectEdited { display_name: None, description: None, homepage: None },
                On::Project,
                vec![Project(foo.clone()), Directory],
            ),
            (
                Change::RevisionPushed {
                    revision: 1,
                    base: None,
                    forced: false,
                    files: 3,
                    removed: 0,
                    replaced: false,
                },
                On::Release,
                listed.clone(),
            ),
            (Change::DraftDiscarded { revision: Some(1) }, On::Release, listed.clone()),
            (Change::VoteOpened { vote: 1, revision: 1, closes_not_before: 0 }, On::Release, listed.clone()),
            (
                Change::VoteCast {
                    vote: 1,
                    value: VoteValue::Plus,
                    binding: true,
                    comment: None,
                    replaces: None,
                    email: None,
                },
                On::Release,
                listed.clone(),
            ),
            (Change::VoteClosed { vote: 1, passed: true, explanation: String::new() }, On::Release, listed.clone()),
            (Change::VoteCancelled { vote: 1 }, On::Release, listed.clone()),
            (Change::Promoted { revision: 1 }, On::Release, public.clone()),
            (Change::Archived, On::Release, public.clone()),
            (Change::EndOfLife, On::Release, public.clone()),
            (Change::Revoked { reason: "CVE".into() }, On::Release, public.clone()),
            (
                Change::LifecycleDatesSet { line: None, end_of_life: Some(0), support_until: None },
                On::Release,
                listed.clone(),
            ),
            (
                Change::LifecycleDatesSet { line: Some("1.x".into()), end_of_life: Some(0), support_until: None },
                On::Project,
                vec![Line(foo.clone(), "1.x".into()), Project(foo.clone()), ProjectJson(foo.clone())],
            ),
            (Change::StateEntered { state: "lts".into(), already_held: false }, On::Release, listed.clone()),
            (Change::StateLeft { state: "lts".into(), was_held: true }, On::Release, listed.clone()),
            (
                Change::Distributed {
                    platform: p.clone(),
                    namespace: None,
                    package: package.clone(),
                    version: version.clone(),
                    staging: true,
                    already_present: false,
                },
                On::Release,
                listed.clone(),
            ),
            (
                Change::DistributionPromoted {
                    platform: p.clone(),
                    namespace: None,
                    package: package.clone(),
                    version: version.clone(),
                },
                On::Release,
                listed.clone(),
            ),
            (
                Change::DistributionFailed {
                    platform: p,
                    namespace: None,
                    package,
                    version,
                    staging: false,
                    error: "down".into(),
                },
                On::Release,
                listed.clone(),
            ),
            (Change::AutoDistributionsSet { distributions: vec![] }, On::Project, vec![]),
            (Change::Imported { revision: 1, released_at: 5, files: 3 }, On::Release, public.clone()),
            (
                Change::AdvisoryPublished {
                    id: "CVE-2026-40001".parse().unwrap(),
                    product: None,
                    summary: "Parser overflow".into(),
                    severity: None,
                    affected: vec![">=0.9.0,<1.0.1".parse().unwrap()],
                    fixed: Some("1.1.0".parse().unwrap()),
                    updated: false,
                },
                On::Project,
                vec![
                    AllReleases(foo.clone()),
                    Project(foo.clone()),
                    ProjectJson(foo.clone()),
                    ProjectFeed(foo.clone()),
                ],
            ),
        ];
        let mut kinds = std::collections::BTreeSet::new();
        for (change, on, expected) in table {
            kinds.insert(kind(&change));
            let event = match on {
                On::Release => event(change.clone(), true),
                On::Project => event(change.clone(), false),
                On::Foundation => EventDraft::new(None, change.clone()).seal(StreamId::Foundation, None, 0),
            };
            let history = match on {
                On::Foundation => vec![],
                On::Release | On::Project => vec![HistoryTail(foo.clone())],
            };
            assert_eq!(plan(&event), [history, expected].concat(), "{change:?}");
        }
        assert_eq!(kinds, (0..KINDS).collect(), "every kind of change has a row in the table");
    }
}

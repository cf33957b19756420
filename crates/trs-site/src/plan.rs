//! Which pages an event changes. Kept to what the event can change, so a vote cast re-renders
//! a handful of objects, never the site; everything rendered is then compared by digest, so
//! a page planned but unchanged is not rewritten.
//!
//! | event | pages |
//! |---|---|
//! | any event of a project's stream | the project's history index and its two newest numbered pages |
//! | project created | the project's pages, KEYS, JSON and feed; the directory |
//! | revision pushed, vote opened/cast/closed/cancelled | the release page, the project page (+ JSON views when the stage moved) |
//! | draft discarded | the release page (deleted), the project page, JSON views |
//! | promoted, archived, end-of-life, revoked | the release page, the project page, JSON views, the project feed; the directory and the site feed |
//! | dates set on a release, state entered or left | the release page, the project page, JSON views |
//! | dates set on a line (`1.x`) | every release page of the line, the project page, JSON views |
//! | person or key added or removed, person edited (foundation stream) | the KEYS of each project the person may sign for |
//! | members changed | the project page and KEYS |
//! | product declared | the project page, JSON views; the directory (search index) |
//! | project edited | the project page; the directory |
//! | policy changed | the project page, JSON views, the directory (`prerelease_latest` moves `latest`) |
//! | admin granted or revoked | history only |
//! | advisory published or updated | every release page of the project ("affected by", "fixes"), the project page, JSON views, the project feed |

use trs_core::{Change, Event, PersonUid, ProjectName, ReleaseId, StreamId};

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
            | Target::HistoryTail(p)
            | Target::ProjectJson(p)
            | Target::ProjectFeed(p) => Some(p),
            Target::Release(id) => Some(&id.project),
            Target::Directory | Target::SiteFeed | Target::KeysOf(_) => None,
        }
    }
}

/// The targets `event` changes, without duplicates.
pub fn plan(event: &Event) -> Vec<Target> {
    let mut out: Vec<Target> = Vec::new();
    let mut add = |t: Target| {
        if !out.contains(&t) {
            out.push(t);
        }
    };
    let project = match &event.stream {
        StreamId::Project(p) => Some(p.clone()),
        StreamId::Foundation => None,
    };
    if let Some(p) = &project {
        add(Target::HistoryTail(p.clone()));
    }
    let release = event.release.clone();
    let stage_moved = event.stage.is_some();
    match (&event.change, project, release) {
        (
            Change::PersonAdded { uid, .. }
            | Change::KeyAdded { uid, .. }
            | Change::KeyRemoved { uid, .. }
            | Change::PersonEdited { uid, .. },
            _,
            _,
        ) => add(Target::KeysOf(uid.clone())),
        (Change::MembersChanged { .. }, Some(p), _) => {
            add(Target::Project(p.clone()));
            add(Target::Keys(p));
        }
        (Change::ProductAdded { .. }, Some(p), _) => {
            add(Target::Project(p.clone()));
            add(Target::ProjectJson(p));
            add(Target::Directory);
        }
        (Change::ProjectEdited { .. }, Some(p), _) => {
            add(Target::Project(p));
            add(Target::Directory);
        }
        (Change::AdminGranted { .. } | Change::AdminRevoked { .. }, _, _) => {}
        // Mail settings are shown by `trs project mail`, on no page.
        (Change::MailSettingsChanged { .. }, _, _) => {}
        (Change::ProjectCreated { project }, _, _) => {
            for t in [
                Target::Project(project.clone()),
                Target::Keys(project.clone()),
                Target::ProjectJson(project.clone()),
                Target::ProjectFeed(project.clone()),
                Target::Directory,
            ] {
                add(t);
            }
        }
        (Change::PolicyChanged { .. }, Some(p), _) => {
            // The policy says whether a pre-release may be `latest`, which these pages show.
            add(Target::Project(p.clone()));
            add(Target::ProjectJson(p));
            add(Target::Directory);
        }
        (Change::LifecycleDatesSet { line: Some(line), .. }, Some(p), None) => {
            add(Target::Line(p.clone(), line.clone()));
            add(Target::Project(p.clone()));
            add(Target::ProjectJson(p));
        }
        (Change::AdvisoryPublished { .. }, Some(p), _) => {
            // Which releases it names depends on the releases held: render them all (pages
            // are compared by digest, so only those that changed are written).
            add(Target::AllReleases(p.clone()));
            add(Target::Project(p.clone()));
            add(Target::ProjectJson(p.clone()));
            add(Target::ProjectFeed(p));
        }
        (Change::DraftDiscarded { .. }, Some(p), Some(id)) => {
            // The release is gone: its page is deleted (publish), the lists drop it.
            add(Target::Release(id));
            add(Target::Project(p.clone()));
            add(Target::ProjectJson(p));
        }
        (change, Some(p), Some(id)) => {
            add(Target::Release(id));
            add(Target::Project(p.clone()));
            let public_change = matches!(
                change,
                Change::Promoted { .. } | Change::Archived | Change::EndOfLife | Change::Revoked { .. }
            );
            let lifecycle_change = matches!(
                change,
                Change::LifecycleDatesSet { .. } | Change::StateEntered { .. } | Change::StateLeft { .. }
            );
            if stage_moved || public_change || lifecycle_change {
                add(Target::ProjectJson(p.clone()));
            }
            if public_change {
                add(Target::ProjectFeed(p));
                add(Target::Directory);
                add(Target::SiteFeed);
            }
        }
        _ => {}
    }
    out
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
        Some(trs_core::Stage::Archived) => trs_app::lifecycle::ARCHIVE,
        _ => trs_app::promote::CURRENT,
    };
    let version_prefix = format!("/{}*", trs_app::storage_keys::public_prefix(left, id));
    let latest_prefix = match &id.product {
        Some(p) => format!("/{}/{}/{p}/latest/*", trs_app::promote::CURRENT, id.project),
        None => format!("/{}/{}/latest/*", trs_app::promote::CURRENT, id.project),
    };
    match event.change {
        Change::Revoked { .. } | Change::Archived => vec![version_prefix, latest_prefix],
        Change::Promoted { .. } | Change::EndOfLife => vec![latest_prefix],
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
        let cast = event(
            Change::VoteCast { vote: 1, value: VoteValue::Plus, binding: true, comment: None, replaces: None },
            true,
        );
        assert!(file_invalidations(&cast).is_empty());
    }

    #[test]
    fn a_vote_cast_touches_the_release_the_project_and_history_only() {
        let cast = event(
            Change::VoteCast { vote: 1, value: VoteValue::Plus, binding: true, comment: None, replaces: None },
            true,
        );
        let targets = plan(&cast);
        assert_eq!(targets.len(), 3, "{targets:?}");
        assert!(targets.iter().all(|t| !matches!(t, Target::Directory | Target::SiteFeed | Target::ProjectJson(_))));
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
    fn a_policy_change_re_renders_the_pages_that_show_latest() {
        let changed = event(Change::PolicyChanged { product: None, policy: serde_json::json!({}) }, false);
        let foo: ProjectName = "foo".parse().unwrap();
        let targets = plan(&changed);
        for t in [Target::Project(foo.clone()), Target::ProjectJson(foo), Target::Directory] {
            assert!(targets.contains(&t), "{t:?} missing from {targets:?}");
        }
    }
}

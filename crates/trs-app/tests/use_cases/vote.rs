//! Use-case tests of the vote: the rules (strict policy, minimum duration, binding votes,
//! replacement with history), concurrency (no lost vote), cancel, refusals by stage, the
//! lifecycle's `close_due_vote`, and the rendered emails. Embedded stores in a temporary
//! folder, sequoia-made keys, a clock the tests move.

use bytes::Bytes;
use std::sync::Arc;
use trs_app::authenticate::Caller;
use trs_app::test_support::{Actor, RecordingMailer, TestClock, World, world};
use trs_app::upload::{DeclaredFile, StartUpload, commit_upload, start_upload};
use trs_app::{AppError, Clock, SystemClock, projects, storage_keys as keys, stream, vote};
use trs_core::{Action, Change, PolicyOverride, Release, ReleaseId, Stage, StreamId, VoteState, VoteValue, authorize};
use trs_storage::{Condition, Item};

struct Fixture {
    w: World,
    clock: Arc<TestClock>,
    /// Committee members besides ada.
    mona: Actor,
    max: Actor,
}

const HOUR: i64 = 3600;

impl Fixture {
    fn app(&self) -> &trs_app::App {
        &self.w.app
    }

    fn advance(&self, secs: i64) {
        self.clock.advance(secs);
    }

    fn ada(&self) -> Caller {
        self.w.admin.caller()
    }

    fn rita(&self) -> Caller {
        self.w.rm.caller()
    }

    async fn set_policy(&self, change: PolicyOverride) {
        projects::set_policy(self.app(), &self.rita(), &"vot".parse().unwrap(), None, change).await.unwrap();
    }

    /// Uploads one file (unsigned, so its signature check fails) and runs its verify task.
    async fn upload(&self, name: &str, bytes: &[u8]) -> Result<(), AppError> {
        let req = StartUpload {
            product: None,
            files: vec![DeclaredFile { path: name.into(), size: bytes.len() as u64 }],
            force: false,
            base: None,
            ..Default::default()
        };
        let started = start_upload(self.app(), &self.rita(), rel(), req).await?;
        let token = started.files[0].upload.as_ref().unwrap().url.rsplit('/').next().unwrap().to_string();
        let body = futures::stream::iter(vec![Ok(Bytes::copy_from_slice(bytes))]);
        self.w.blobs.accept_upload(&token, self.app().now(), Box::pin(body)).await.unwrap();
        let committed = commit_upload(self.app(), &self.rita(), &started.id).await?;
        trs_app::tasks::run(self.app(), committed.task.as_ref().unwrap()).await.unwrap();
        Ok(())
    }

    async fn release(&self) -> Release {
        trs_app::releases::get_release(self.app(), &rel()).await.unwrap().unwrap().0
    }

    async fn events(&self) -> Vec<trs_core::Event> {
        stream::all_events(self.app(), &StreamId::Project("vot".parse().unwrap())).await.unwrap()
    }
}

fn rel() -> ReleaseId {
    ReleaseId { project: "vot".parse().unwrap(), product: None, version: "2.0.0".parse().unwrap() }
}

async fn add_person(w: &World, uid: &str) -> Actor {
    w.add_person(uid).await
}

/// Project `vot`: committee ada, mona, max; release manager rita; committer carl. One file
/// uploaded and verified; the clock frozen at the real time.
async fn fixture() -> Fixture {
    let mut w = world().await;
    let mona = add_person(&w, "mona").await;
    let max = add_person(&w, "max").await;
    let permit = authorize(&w.admin.person, None, Action::Administer).unwrap();
    projects::create_project(
        &w.app,
        &permit,
        &w.admin.caller().actor(),
        projects::NewProject {
            name: "vot".parse().unwrap(),
            members: ["ada", "mona", "max"].iter().map(|u| u.parse().unwrap()).collect(),
            committers: ["carl".parse().unwrap()].into(),
            release_managers: ["rita".parse().unwrap()].into(),
            products: Default::default(),
        },
    )
    .await
    .unwrap();
    let clock = TestClock::at(SystemClock.now());
    w.app.clock = clock.clone();
    let f = Fixture { w, clock, mona, max };
    f.upload("vot-2.0.0.tar.gz", b"not really a tarball").await.unwrap();
    f
}

/// A fixture whose policy lets a vote open despite the unsigned file.
async fn lenient() -> Fixture {
    let f = fixture().await;
    f.set_policy(PolicyOverride { strict: Some(false), ..Default::default() }).await;
    f
}

fn code(r: Result<impl std::fmt::Debug, AppError>) -> (u16, &'static str, String) {
    let e = r.expect_err("expected an error");
    (e.status(), e.code(), e.to_string())
}

#[tokio::test]
async fn a_strict_policy_refuses_a_vote_while_a_check_fails() {
    let f = fixture().await;
    let (status, c, message) = code(vote::open(f.app(), &f.rita(), &rel(), None).await);
    assert_eq!((status, c), (409, "checks-failing"), "{message}");
    assert!(message.contains("vot-2.0.0.tar.gz") && message.contains("signature"), "{message}");
    let release = f.release().await;
    assert_eq!(release.stage, Stage::CandidateDraft);
    assert!(release.vote.is_none(), "nothing changed");

    // With the strict rule off, the same revision can be voted on.
    f.set_policy(PolicyOverride { strict: Some(false), ..Default::default() }).await;
    let view = vote::open(f.app(), &f.rita(), &rel(), None).await.unwrap();
    assert_eq!(view.stage, Stage::Candidate);
    assert_eq!(view.vote.revision, f.release().await.latest.unwrap(), "the vote is pinned to the latest revision");
}

#[tokio::test]
async fn a_strict_policy_waits_for_verification_to_finish() {
    let f = fixture().await;
    // A revision whose report is not there yet (its verify task has not run).
    let req = StartUpload {
        product: None,
        files: vec![DeclaredFile { path: "b".into(), size: 1 }],
        force: false,
        base: None,
        ..Default::default()
    };
    let started = start_upload(f.app(), &f.rita(), rel(), req).await.unwrap();
    let token = started.files[0].upload.as_ref().unwrap().url.rsplit('/').next().unwrap().to_string();
    f.w.blobs
        .accept_upload(&token, f.w.app.now(), Box::pin(futures::stream::iter(vec![Ok(Bytes::from_static(b"b"))])))
        .await
        .unwrap();
    commit_upload(f.app(), &f.rita(), &started.id).await.unwrap();
    let (status, c, _) = code(vote::open(f.app(), &f.rita(), &rel(), None).await);
    assert_eq!((status, c), (409, "verification-pending"));
}

#[tokio::test]
async fn a_duration_below_the_policy_minimum_is_refused() {
    let f = lenient().await;
    let (status, c, message) = code(vote::open(f.app(), &f.rita(), &rel(), Some(24)).await);
    assert_eq!((status, c), (400, "vote-too-short"), "{message}");
    assert!(message.contains("72"), "{message}");
    assert_eq!(f.release().await.stage, Stage::CandidateDraft);
    let view = vote::open(f.app(), &f.rita(), &rel(), Some(96)).await.unwrap();
    assert_eq!(view.vote.closes_not_before - view.vote.opened_at, 96 * HOUR);
}

#[tokio::test]
async fn only_release_managers_committee_members_and_admins_open_close_and_cancel() {
    let f = lenient().await;
    let carl = f.w.committer.caller();
    assert_eq!(code(vote::open(f.app(), &carl, &rel(), None).await).1, "forbidden-role");
    vote::open(f.app(), &f.rita(), &rel(), None).await.unwrap();
    f.advance(100 * HOUR);
    assert_eq!(code(vote::close(f.app(), &carl, &rel()).await).1, "forbidden-role");
    assert_eq!(code(vote::cancel(f.app(), &carl, &rel()).await).1, "forbidden-role");
    assert_eq!(f.release().await.open_vote().map(|v| v.number), Some(1), "still open");
}

#[tokio::test]
async fn closing_before_the_minimum_duration_is_refused_with_the_time_left() {
    let f = lenient().await;
    vote::open(f.app(), &f.rita(), &rel(), None).await.unwrap();
    for who in [&f.w.admin, &f.mona, &f.max] {
        vote::cast(f.app(), &who.caller(), &rel(), VoteValue::Plus, None).await.unwrap();
    }
    f.advance(70 * HOUR + 30 * 60);
    let (status, c, message) = code(vote::close(f.app(), &f.rita(), &rel()).await);
    assert_eq!((status, c), (409, "vote-too-young"));
    assert!(message.contains("1 h 30 min"), "{message}");
    assert_eq!(f.release().await.open_vote().map(|v| v.number), Some(1), "the vote is still open");

    f.advance(90 * 60);
    let view = vote::close(f.app(), &f.rita(), &rel()).await.unwrap();
    assert_eq!(view.vote.state, VoteState::Passed);
}

#[tokio::test]
async fn a_passed_vote_records_the_voted_revision_and_explains_itself() {
    let f = lenient().await;
    let opened = vote::open(f.app(), &f.rita(), &rel(), None).await.unwrap();
    for who in [&f.w.admin, &f.mona, &f.max] {
        let r = vote::cast(f.app(), &who.caller(), &rel(), VoteValue::Plus, Some("checked sigs".into())).await.unwrap();
        assert!(r.ballot.binding, "{} is a committee member", who.person.uid);
    }
    let carl = vote::cast(f.app(), &f.w.committer.caller(), &rel(), VoteValue::Minus, None).await.unwrap();
    assert!(!carl.ballot.binding);
    f.advance(72 * HOUR);
    let view = vote::close(f.app(), &f.rita(), &rel()).await.unwrap();
    assert!(view.resolution.passed);
    assert_eq!(view.tally.binding_plus, 3);
    assert_eq!(view.tally.non_binding_minus, 1);
    let explanation = &view.resolution.explanation;
    assert!(explanation.starts_with("Passed: at least 3 binding +1 (3 binding +1)"), "{explanation}");
    assert!(explanation.contains("+1 mona (binding): checked sigs"), "{explanation}");
    assert!(explanation.contains("-1 carl (non-binding)"), "{explanation}");

    let release = f.release().await;
    assert_eq!(release.stage, Stage::Candidate, "a passed vote leaves the release ready to promote");
    assert_eq!(release.voted_revision, Some(opened.vote.revision.clone()));
    assert_eq!(trs_app::promote::promotable(&release).unwrap(), opened.vote.revision);
    let stored = release.vote.unwrap();
    assert_eq!(stored.state, VoteState::Passed);
    assert_eq!(stored.resolution.unwrap().explanation, *explanation);

    let last = f.events().await.pop().unwrap();
    match &last.change {
        Change::VoteClosed { vote: 1, passed: true, explanation: e } => assert_eq!(e, explanation),
        other => panic!("unexpected last event {other:?}"),
    }
    assert_eq!(last.actor.as_ref().unwrap().uid.as_str(), "rita");
    assert_eq!(last.revision_key, Some(opened.vote.revision.key));

    let status = trs_app::status::release_status(f.app(), &rel()).await.unwrap();
    assert_eq!(status.voted_revision, Some(opened.vote.revision));
    let summary = status.vote.unwrap();
    assert_eq!((summary.state, summary.tally.binding_plus), (VoteState::Passed, 3));

    // Closing twice is refused, and changes nothing.
    assert_eq!(code(vote::close(f.app(), &f.rita(), &rel()).await).1, "no-open-vote");
    assert_eq!(code(vote::open(f.app(), &f.rita(), &rel(), None).await).1, "vote-already-passed");
}

#[tokio::test]
async fn a_failed_vote_returns_the_release_to_draft_and_says_which_rule_decided() {
    let f = lenient().await;
    vote::open(f.app(), &f.rita(), &rel(), None).await.unwrap();
    vote::cast(f.app(), &f.ada(), &rel(), VoteValue::Plus, None).await.unwrap();
    vote::cast(f.app(), &f.mona.caller(), &rel(), VoteValue::Plus, None).await.unwrap();
    vote::cast(f.app(), &f.max.caller(), &rel(), VoteValue::Minus, Some("LICENSE is wrong".into())).await.unwrap();
    vote::cast(f.app(), &f.w.committer.caller(), &rel(), VoteValue::Plus, None).await.unwrap();
    f.advance(72 * HOUR);
    let view = vote::close(f.app(), &f.rita(), &rel()).await.unwrap();
    assert!(!view.resolution.passed);
    let explanation = &view.resolution.explanation;
    assert!(
        explanation.starts_with("Failed: needs at least 3 binding +1, has 2 binding +1"),
        "the non-binding +1 does not count: {explanation}"
    );
    assert!(explanation.contains("-1 max (binding): LICENSE is wrong"), "{explanation}");
    let release = f.release().await;
    assert_eq!(release.stage, Stage::CandidateDraft);
    assert_eq!(release.voted_revision, None);
    assert_eq!(release.vote.as_ref().unwrap().state, VoteState::Failed);
    let last = f.events().await.pop().unwrap();
    assert_eq!(last.stage.unwrap().to, Stage::CandidateDraft);

    // A fix can be uploaded, and the next vote is number 2 on the new revision.
    f.upload("fix.txt", b"fixed").await.unwrap();
    let second = vote::open(f.app(), &f.rita(), &rel(), None).await.unwrap();
    assert_eq!((second.vote.number, second.vote.revision.number), (2, 2));
    assert!(second.ballots.is_empty(), "the first vote's ballots do not carry over");
}

#[tokio::test]
async fn a_later_vote_replaces_the_earlier_one_and_keeps_it_in_history() {
    let f = lenient().await;
    vote::open(f.app(), &f.rita(), &rel(), None).await.unwrap();
    let first = vote::cast(f.app(), &f.mona.caller(), &rel(), VoteValue::Zero, Some("need time".into())).await.unwrap();
    assert_eq!(first.replaces, None);
    f.advance(60);
    let second = vote::cast(f.app(), &f.mona.caller(), &rel(), VoteValue::Plus, None).await.unwrap();
    assert_eq!(second.replaces, Some(VoteValue::Zero));
    f.advance(60);
    vote::cast(f.app(), &f.mona.caller(), &rel(), VoteValue::Minus, None).await.unwrap();

    let view = vote::show(f.app(), &rel()).await.unwrap();
    assert_eq!(view.ballots.len(), 1, "one standing ballot per voter");
    let ballot = &view.ballots[0];
    assert_eq!(ballot.value, VoteValue::Minus);
    let history: Vec<(VoteValue, Option<&str>)> =
        ballot.earlier.iter().map(|e| (e.value, e.comment.as_deref())).collect();
    assert_eq!(history, vec![(VoteValue::Zero, Some("need time")), (VoteValue::Plus, None)]);
    assert_eq!(view.tally.binding_minus, 1);
    assert_eq!(view.tally.binding_zero + view.tally.binding_plus, 0);

    let casts: Vec<Option<VoteValue>> = f
        .events()
        .await
        .into_iter()
        .filter_map(|e| match e.change {
            Change::VoteCast { replaces, .. } => Some(replaces),
            _ => None,
        })
        .collect();
    assert_eq!(casts, vec![None, Some(VoteValue::Zero), Some(VoteValue::Plus)], "every cast is an event");
}

#[tokio::test]
async fn votes_of_people_outside_the_committee_are_not_binding() {
    let f = lenient().await;
    vote::open(f.app(), &f.rita(), &rel(), None).await.unwrap();
    let stranger = add_person(&f.w, "vera").await;
    for who in [&f.w.rm, &f.w.committer, &stranger] {
        let r = vote::cast(f.app(), &who.caller(), &rel(), VoteValue::Plus, None).await.unwrap();
        assert!(!r.ballot.binding, "{} is not a committee member", who.person.uid);
    }
    let view = vote::show(f.app(), &rel()).await.unwrap();
    assert_eq!((view.tally.binding_plus, view.tally.non_binding_plus), (0, 3));
    assert!(!view.resolution.passed, "would fail if closed now: {}", view.resolution.explanation);
    assert!(view.closes_in_secs > 71 * HOUR);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_concurrent_casts_by_distinct_voters_are_all_counted() {
    let f = lenient().await;
    vote::open(f.app(), &f.rita(), &rel(), None).await.unwrap();
    let mut voters = Vec::new();
    for i in 0..16 {
        voters.push(add_person(&f.w, &format!("voter{i:02}")).await.caller());
    }
    let app = f.app().clone();
    let handles: Vec<_> = voters
        .into_iter()
        .map(|caller| {
            let app = app.clone();
            tokio::spawn(async move { vote::cast(&app, &caller, &rel(), VoteValue::Plus, None).await })
        })
        .collect();
    for h in handles {
        h.await.unwrap().unwrap();
    }
    let view = vote::show(f.app(), &rel()).await.unwrap();
    assert_eq!(view.ballots.len(), 16);
    assert_eq!(view.tally.non_binding_plus, 16);
    let casts = f.events().await.iter().filter(|e| matches!(e.change, Change::VoteCast { .. })).count();
    assert_eq!(casts, 16);
    let chain = stream::all_events_raw(f.app(), &StreamId::Project("vot".parse().unwrap())).await.unwrap();
    trs_core::events::verify_chain(&chain).unwrap();
}

#[tokio::test]
async fn uploads_are_refused_during_a_vote_and_cancel_returns_to_draft() {
    let f = lenient().await;
    vote::open(f.app(), &f.rita(), &rel(), None).await.unwrap();
    let (status, c, message) = code(f.upload("late.txt", b"late").await);
    assert_eq!((status, c), (409, "vote-open"), "{message}");
    assert!(message.contains("trs vote cancel"), "{message}");

    let view = vote::cancel(f.app(), &f.rita(), &rel()).await.unwrap();
    assert_eq!(view.vote.state, VoteState::Cancelled);
    assert_eq!(view.stage, Stage::CandidateDraft);
    assert_eq!(code(vote::cast(f.app(), &f.ada(), &rel(), VoteValue::Plus, None).await).1, "no-open-vote");
    assert_eq!(code(vote::cancel(f.app(), &f.rita(), &rel()).await).1, "no-open-vote");
    assert!(matches!(f.events().await.pop().unwrap().change, Change::VoteCancelled { vote: 1 }));
    f.upload("late.txt", b"late").await.unwrap();
}

#[tokio::test]
async fn revoked_current_and_archived_releases_cannot_be_voted_on() {
    let f = lenient().await;
    for (stage, expected) in [
        (Stage::Revoked, "release-revoked"),
        (Stage::Current, "release-current"),
        (Stage::Archived, "release-archived"),
        (Stage::EndOfLife, "release-end-of-life"),
    ] {
        let (release, item) = trs_app::releases::get_release(f.app(), &rel()).await.unwrap().unwrap();
        let changed = Release { stage, revoked_reason: Some("key compromised".into()), ..release };
        f.app().items.put(item.updated(serde_json::json!(changed)), Condition::VersionIs(item.version)).await.unwrap();
        let (status, c, message) = code(vote::open(f.app(), &f.rita(), &rel(), None).await);
        assert_eq!((status, c), (409, expected), "{message}");
        assert!(f.release().await.vote.is_none());
    }
}

#[tokio::test]
async fn close_due_vote_closes_once_when_due_and_removes_its_due_item() {
    let f = lenient().await;
    f.set_policy(PolicyOverride { auto_close_votes: Some(true), min_vote_hours: Some(24), ..Default::default() }).await;
    let view = vote::open(f.app(), &f.rita(), &rel(), None).await.unwrap();
    let due = keys::due(view.vote.closes_not_before, vote::DUE_KIND, &rel());
    let item: Item = f.app().items.get(&due).await.unwrap().expect("a due item is written with the vote");
    let body: vote::DueVoteClose = item.parse().unwrap();
    assert_eq!((body.kind.as_str(), body.release, body.vote), (vote::DUE_KIND, rel(), 1));
    for who in [&f.w.admin, &f.mona, &f.max] {
        vote::cast(f.app(), &who.caller(), &rel(), VoteValue::Plus, None).await.unwrap();
    }

    f.advance(23 * HOUR);
    assert_eq!(vote::close_due_vote(f.app(), &rel()).await.unwrap(), None, "not due yet");
    assert!(f.app().items.get(&due).await.unwrap().is_some());

    f.advance(HOUR);
    let resolution = vote::close_due_vote(f.app(), &rel()).await.unwrap().expect("closed");
    assert!(resolution.passed);
    assert!(f.app().items.get(&due).await.unwrap().is_none(), "the due item went with the close");
    let events = f.events().await;
    let last = events.last().unwrap();
    assert!(matches!(last.change, Change::VoteClosed { passed: true, .. }));
    assert_eq!(last.actor, None, "trs itself closed it");

    assert_eq!(vote::close_due_vote(f.app(), &rel()).await.unwrap(), None, "running it again changes nothing");
    assert_eq!(f.events().await.len(), events.len());
    assert_eq!(f.release().await.vote.unwrap().state, VoteState::Passed);
}

#[tokio::test]
async fn closing_or_cancelling_by_hand_removes_the_due_item_too() {
    let f = lenient().await;
    f.set_policy(PolicyOverride { auto_close_votes: Some(true), ..Default::default() }).await;
    let view = vote::open(f.app(), &f.rita(), &rel(), None).await.unwrap();
    let due = vote::due_key(&rel(), &view.vote);
    assert!(f.app().items.get(&due).await.unwrap().is_some());
    vote::cancel(f.app(), &f.rita(), &rel()).await.unwrap();
    assert!(f.app().items.get(&due).await.unwrap().is_none());
    assert_eq!(vote::close_due_vote(f.app(), &rel()).await.unwrap(), None);

    let view = vote::open(f.app(), &f.rita(), &rel(), None).await.unwrap();
    let due = vote::due_key(&rel(), &view.vote);
    f.advance(72 * HOUR);
    vote::close(f.app(), &f.rita(), &rel()).await.unwrap();
    assert!(f.app().items.get(&due).await.unwrap().is_none());
}

#[tokio::test]
async fn votes_that_did_not_opt_in_are_left_to_people() {
    let f = lenient().await;
    vote::open(f.app(), &f.rita(), &rel(), None).await.unwrap();
    f.advance(100 * HOUR);
    assert_eq!(vote::close_due_vote(f.app(), &rel()).await.unwrap(), None);
    assert_eq!(f.release().await.open_vote().map(|v| v.number), Some(1));
}

#[tokio::test]
async fn the_emails_name_the_revision_files_checksums_and_result() {
    let f = lenient().await;
    let source = trs_core::SourceRef {
        tag: Some("v2.0.0-rc1".into()),
        commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
        url: Some("https://git.example.org/vot/tree/v2.0.0-rc1".into()),
    };
    let bad = trs_core::SourceRef { commit: Some("HEAD~1".into()), ..source.clone() };
    let (status, c, message) = code(vote::open_with_source(f.app(), &f.rita(), &rel(), None, Some(bad)).await);
    assert_eq!((status, c), (400, "invalid-source"), "{message}");
    let view = vote::open_with_source(f.app(), &f.rita(), &rel(), None, Some(source)).await.unwrap();
    let mut app = f.app().clone();
    app.public_url = Some("https://trs.example.org/".into());
    let email = vote::email::announcement(&app, &rel()).await.unwrap();
    assert_eq!(email.subject, "[VOTE] Release vot 2.0.0 (revision 1)");
    let status = trs_app::status::release_status(f.app(), &rel()).await.unwrap();
    let file = &status.files[0];
    assert!(email.body.contains(&view.vote.revision.key.to_string()), "{}", email.body);
    let sha512 = file.sha512.to_hex();
    assert!(email.body.contains(&format!("    {}\n    {}\n", &sha512[..64], &sha512[64..])), "{}", email.body);
    assert!(email.body.contains(&format!("vot-2.0.0.tar.gz ({} bytes)", file.size)), "{}", email.body);
    assert!(
        email.body.contains("\n    https://trs.example.org/candidate/vot/2.0.0/vot-2.0.0.tar.gz\n"),
        "{}",
        email.body
    );
    assert!(
        email.body.contains("  tag v2.0.0-rc1\n  commit 0123456789abcdef0123456789abcdef01234567\n"),
        "{}",
        email.body
    );
    assert!(email.body.contains("\n  https://git.example.org/vot/tree/v2.0.0-rc1\n"), "{}", email.body);
    assert!(email.body.lines().all(|l| l.chars().count() <= 72), "wrapped at 72 columns: {}", email.body);
    assert!(email.body.contains("https://trs.example.org/api/v1/projects/vot/KEYS"), "{}", email.body);
    assert!(email.body.contains(&trs_app::time_text::rfc3339(view.vote.closes_not_before)), "{}", email.body);
    assert!(email.body.contains("trs vote cast vot 2.0.0 +1|0|-1"), "{}", email.body);

    assert_eq!(code(vote::email::result(f.app(), &rel()).await).1, "vote-not-closed");
    vote::cast(f.app(), &f.ada(), &rel(), VoteValue::Plus, Some("ok <b>".into())).await.unwrap();
    vote::cast(f.app(), &f.w.committer.caller(), &rel(), VoteValue::Zero, None).await.unwrap();
    f.advance(72 * HOUR);
    vote::close(f.app(), &f.rita(), &rel()).await.unwrap();
    let result = vote::email::result(f.app(), &rel()).await.unwrap();
    assert_eq!(result.subject, "[RESULT] [VOTE] Release vot 2.0.0 (revision 1)");
    assert!(result.body.contains("has failed"), "{}", result.body);
    assert!(result.body.contains("  +1 ada: ok <b>"), "text is not HTML-escaped: {}", result.body);
    assert!(result.body.contains("  0 carl"), "{}", result.body);
    assert!(result.body.contains("needs at least 3 binding +1, has 1 binding +1"), "{}", result.body);
}

/// The call for a vote tells voters what counts: with the policy's `email_votes`, replies on
/// the list (and that a signed one is marked signed); without, signed calls only. It names
/// this vote's own duration and closing time (`--duration`), not the policy's minimum.
#[tokio::test]
async fn the_vote_mail_says_what_counts_and_when_this_vote_may_close() {
    let f = lenient().await;
    let view = vote::open(f.app(), &f.rita(), &rel(), Some(96)).await.unwrap();
    let email = vote::email::announcement(f.app(), &rel()).await.unwrap();
    let closes = trs_app::time_text::rfc3339(view.vote.closes_not_before);
    assert!(
        email.body.contains(&format!(
            "The vote runs for 96 hours (the project's minimum is 72).\n\
             It can be closed once this time has passed, not before:\n  {closes} (UTC)\n"
        )),
        "{}",
        email.body
    );
    assert!(
        email.body.contains("\nVote with a signed call (votes sent by email are not counted):\n"),
        "{}",
        email.body
    );
    assert!(email.body.contains("\n[ ]  0 I don't feel strongly about it\n"), "{}", email.body);
    assert!(!email.body.contains("replying to this mail"), "{}", email.body);
    vote::cancel(f.app(), &f.rita(), &rel()).await.unwrap();

    f.set_policy(PolicyOverride { email_votes: Some(true), auto_close_votes: Some(true), ..Default::default() }).await;
    let view = vote::open(f.app(), &f.rita(), &rel(), None).await.unwrap();
    let email = vote::email::announcement(f.app(), &rel()).await.unwrap();
    let closes = trs_app::time_text::rfc3339(view.vote.closes_not_before);
    assert!(
        email.body.contains(&format!(
            "The vote runs for 72 hours.\ntrs closes it by itself once this time has passed:\n  {closes} (UTC)\n"
        )),
        "{}",
        email.body
    );
    assert!(
        email.body.contains("\nVote by replying to this mail on the list with +1, +0, -0 or -1 "),
        "{}",
        email.body
    );
    assert!(
        email.body.contains("A reply signed with your registered OpenPGP key (PGP/MIME or inline)\nis marked signed"),
        "{}",
        email.body
    );
    assert!(email.body.contains("\nOr vote with a signed call:\n  trs vote cast vot 2.0.0 +1|0|-1"), "{}", email.body);
    // The ballot template's 0 is signed, so a reply that ticks it is read as a vote.
    assert!(email.body.contains("\n[ ] +0 I don't feel strongly about it\n"), "{}", email.body);
    assert!(!email.body.contains("votes sent by email are not counted"), "{}", email.body);
    assert!(email.body.lines().all(|l| l.chars().count() <= 72), "wrapped at 72 columns: {}", email.body);
}

#[tokio::test]
async fn policy_changes_are_authorized_recorded_and_layered_per_product() {
    let f = fixture().await;
    let vot = "vot".parse().unwrap();
    let carl = f.w.committer.caller();
    let change = PolicyOverride { min_vote_hours: Some(0), ..Default::default() };
    assert_eq!(code(projects::set_policy(f.app(), &carl, &vot, None, change.clone()).await).1, "forbidden-role");
    let bad = PolicyOverride { min_binding: Some(0), ..Default::default() };
    assert_eq!(code(projects::set_policy(f.app(), &f.rita(), &vot, None, bad).await).1, "invalid-policy");
    assert_eq!(
        code(projects::set_policy(f.app(), &f.rita(), &vot, None, PolicyOverride::default()).await).1,
        "nothing-to-change"
    );

    let view = projects::set_policy(f.app(), &f.mona.caller(), &vot, None, change).await.unwrap();
    assert_eq!((view.policy.min_vote_hours, view.policy.min_binding), (0, 3));
    let conn: trs_core::ProductName = "conn".parse().unwrap();
    let product_change = PolicyOverride { min_binding: Some(5), ..Default::default() };
    let view = projects::set_policy(f.app(), &f.ada(), &vot, Some(conn.clone()), product_change).await.unwrap();
    assert_eq!((view.policy.min_vote_hours, view.policy.min_binding), (0, 5), "the product inherits the rest");
    assert_eq!(view.product_override.unwrap().min_binding, Some(5));
    let main = projects::get_policy(f.app(), &vot, None).await.unwrap();
    assert_eq!(main.policy.min_binding, 3);

    let changes: Vec<_> = f
        .events()
        .await
        .into_iter()
        .filter_map(|e| match e.change {
            Change::PolicyChanged { product, policy } => Some((product, policy["min_binding"].clone())),
            _ => None,
        })
        .collect();
    assert_eq!(changes, vec![(None, 3.into()), (Some(conn), 5.into())]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn casts_racing_a_close_are_either_counted_or_refused() {
    let f = lenient().await;
    vote::open(f.app(), &f.rita(), &rel(), None).await.unwrap();
    let mut voters = Vec::new();
    for i in 0..12 {
        voters.push(add_person(&f.w, &format!("racer{i:02}")).await.caller());
    }
    f.advance(72 * HOUR);
    let app = f.app().clone();
    let mut casts = Vec::new();
    for (i, caller) in voters.into_iter().enumerate() {
        let app = app.clone();
        casts.push(tokio::spawn(async move {
            if i % 2 == 0 {
                tokio::task::yield_now().await;
            }
            vote::cast(&app, &caller, &rel(), VoteValue::Plus, None).await
        }));
    }
    let closer = {
        let app = app.clone();
        let rita = f.rita();
        tokio::spawn(async move { vote::close(&app, &rita, &rel()).await })
    };
    let mut counted = 0;
    for c in casts {
        match c.await.unwrap() {
            Ok(_) => counted += 1,
            Err(e) => assert_eq!(e.code(), "no-open-vote", "a cast that lost to the close is refused: {e}"),
        }
    }
    let closed = closer.await.unwrap().unwrap();
    assert_eq!(
        closed.resolution.tally.non_binding_plus, counted,
        "every cast that was accepted is in the result, and no other"
    );
    assert_eq!(closed.ballots.len() as u32, counted);
}

/// A comment may span lines but carries no terminal control (issue 13, item 15: the one rule
/// of `trs_core::text`, shared by every free-text field).
#[tokio::test]
async fn a_comment_with_terminal_controls_is_refused_and_lines_are_kept() {
    let f = lenient().await;
    vote::open(f.app(), &f.rita(), &rel(), None).await.unwrap();
    for hostile in ["ok\u{1b}[2J", "bell\u{7}", "evil\u{202E}gnp"] {
        let refused = vote::cast(f.app(), &f.mona.caller(), &rel(), VoteValue::Plus, Some(hostile.into())).await;
        assert_eq!(code(refused).1, "invalid-text", "{hostile:?}");
    }
    assert!(vote::show(f.app(), &rel()).await.unwrap().ballots.is_empty(), "nothing was cast");
    let lines = "checked the signatures\n\tand the licence";
    vote::cast(f.app(), &f.mona.caller(), &rel(), VoteValue::Plus, Some(lines.into())).await.unwrap();
    assert_eq!(vote::show(f.app(), &rel()).await.unwrap().ballots[0].comment.as_deref(), Some(lines));
}

#[tokio::test]
async fn a_membership_change_applies_to_later_votes_only() {
    let f = lenient().await;
    f.set_policy(PolicyOverride { min_vote_hours: Some(0), min_binding: Some(2), ..Default::default() }).await;
    vote::open(f.app(), &f.rita(), &rel(), None).await.unwrap();
    let vot: trs_core::ProjectName = "vot".parse().unwrap();
    let members = |add: &[&str], remove: &[&str]| projects::MembersChange {
        add: add.iter().map(|u| u.parse().unwrap()).collect(),
        remove: remove.iter().map(|u| u.parse().unwrap()).collect(),
    };
    let committee = trs_core::ProjectRole::Committee;

    // Mona votes as a committee member, then leaves the committee: her vote stays binding.
    let mona = vote::cast(f.app(), &f.mona.caller(), &rel(), VoteValue::Plus, None).await.unwrap();
    assert!(mona.ballot.binding);
    projects::change_members(f.app(), &f.ada(), &vot, committee, members(&[], &["mona"])).await.unwrap();
    // Carl votes as a committer, then joins the committee: that vote stays non-binding...
    let carl = vote::cast(f.app(), &f.w.committer.caller(), &rel(), VoteValue::Plus, None).await.unwrap();
    assert!(!carl.ballot.binding);
    projects::change_members(f.app(), &f.ada(), &vot, committee, members(&["carl"], &[])).await.unwrap();
    let view = vote::show(f.app(), &rel()).await.unwrap();
    let binding = |uid: &str| view.ballots.iter().find(|b| b.voter.as_str() == uid).unwrap().binding;
    assert!(binding("mona") && !binding("carl"), "{:?}", view.ballots);
    assert_eq!((view.tally.binding_plus, view.tally.non_binding_plus), (1, 1));

    // ...and his next vote, cast as a member, is binding.
    let again = vote::cast(f.app(), &f.w.committer.caller(), &rel(), VoteValue::Plus, None).await.unwrap();
    assert!(again.ballot.binding);
    // Mona's binding +1, cast while she was a member, and Carl's count: the vote passes.
    let closed = vote::close(f.app(), &f.rita(), &rel()).await.unwrap();
    assert_eq!((closed.tally.binding_plus, closed.vote.state), (2, VoteState::Passed), "{:?}", closed.resolution);
}

fn vot() -> trs_core::ProjectName {
    "vot".parse().unwrap()
}

async fn set_mail(f: &Fixture, caller: &Caller) -> Result<trs_app::mail::MailView, AppError> {
    let change = trs_core::MailSettings {
        vote_to: vec!["dev@vot.example".into()],
        from: Some("Zoë Releases <releases@vot.example>".into()),
        reply_to: Some("dev@vot.example".into()),
        ..Default::default()
    };
    trs_app::mail::set_settings(f.app(), caller, &vot(), None, change).await
}

/// Runs every queued task (the worker's sweep).
async fn sweep(f: &Fixture) {
    trs_app::tasks::sweep(f.app()).await.unwrap();
}

#[tokio::test]
async fn mail_settings_are_checked_and_changed_by_those_who_manage_the_project() {
    let f = lenient().await;
    let bad = trs_core::MailSettings { vote_to: vec!["dev at vot".into()], ..Default::default() };
    let (status, c, message) = code(trs_app::mail::set_settings(f.app(), &f.rita(), &vot(), None, bad).await);
    assert_eq!((status, c), (400, "invalid-mail-address"), "{message}");
    assert!(message.contains("--vote-to") && message.contains("dev at vot"), "{message}");
    let carl = f.w.committer.caller();
    assert_eq!(code(set_mail(&f, &carl).await).1, "forbidden-role");
    assert!(projects::get_project(f.app(), &vot()).await.unwrap().mail.is_empty(), "nothing changed");

    let view = set_mail(&f, &f.rita()).await.unwrap();
    assert_eq!(view.mail.vote_to, ["dev@vot.example"]);
    assert_eq!(view.mail.from.as_deref(), Some("Zoë Releases <releases@vot.example>"));
    let events = f.events().await;
    assert!(
        matches!(&events.last().unwrap().change, Change::MailSettingsChanged { product: None, mail } if mail == &view.mail),
        "{:?}",
        events.last()
    );
    // Only the fields given change.
    let change = trs_core::MailSettings { from: Some("rel@vot.example".into()), ..Default::default() };
    let view = trs_app::mail::set_settings(f.app(), &f.ada(), &vot(), None, change).await.unwrap();
    assert_eq!((view.mail.vote_to.len(), view.mail.from.as_deref()), (1, Some("rel@vot.example")));
}

/// Issue 13, item 15: a display name or an IMAP URL is text a person typed; it reaches mail
/// headers, the release stream and terminals, so it keeps the text rule (lettre's parser
/// alone takes ESC, BEL and bidirectional overrides inside a quoted name).
#[tokio::test]
async fn mail_settings_refuse_control_characters_in_every_field() {
    let f = lenient().await;
    let hostile = [
        trs_core::MailSettings {
            vote_to: vec!["\"V\u{1b}[2J\u{1b}]0;PWN\u{7}\" <v@vot.example>".into()],
            ..Default::default()
        },
        trs_core::MailSettings { announce_to: vec!["\"A\u{1b}[2J\" <a@vot.example>".into()], ..Default::default() },
        trs_core::MailSettings { from: Some("Rel\u{9b}2J <r@vot.example>".into()), ..Default::default() },
        trs_core::MailSettings { reply_to: Some("Evil\u{202e}txt <r@vot.example>".into()), ..Default::default() },
        trs_core::MailSettings { imap: Some("imaps://votes@imap.vot.example/INBOX\r\nX".into()), ..Default::default() },
        trs_core::MailSettings {
            imap: Some("imaps://votes@imap.vot.example/\u{202e}INBOX".into()),
            ..Default::default()
        },
        // The user is sent in IMAP's LOGIN as it decodes.
        trs_core::MailSettings {
            imap: Some("imap://a%0D%0AX1%20LOGOUT@imap.vot.example/INBOX".into()),
            ..Default::default()
        },
    ];
    for change in hostile {
        let (status, c, message) =
            code(trs_app::mail::set_settings(f.app(), &f.rita(), &vot(), None, change.clone()).await);
        assert_eq!(status, 400, "{change:?}: {message}");
        assert!(c == "invalid-text" || c == "invalid-imap-url", "{change:?}: {c} {message}");
    }
    assert!(projects::get_project(f.app(), &vot()).await.unwrap().mail.is_empty(), "nothing changed");
    // Names in any script still pass.
    set_mail(&f, &f.rita()).await.unwrap();
}

#[tokio::test]
async fn without_smtp_or_a_list_a_vote_mail_is_recorded_as_not_sent() {
    let f = lenient().await;
    vote::open(f.app(), &f.rita(), &rel(), None).await.unwrap();
    sweep(&f).await;
    vote::cancel(f.app(), &f.rita(), &rel()).await.unwrap();
    set_mail(&f, &f.rita()).await.unwrap();
    sweep(&f).await;
    let log = trs_app::mail::log(f.app(), &vot()).await.unwrap();
    let seen: Vec<_> = log.iter().map(|m| (m.kind, m.state, m.reason.clone().unwrap_or_default())).collect();
    use trs_app::mail::{MailKind, MailState};
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!((seen[0].0, seen[0].1), (MailKind::Cancelled, MailState::NotSent));
    assert!(seen[0].2.contains("no mail transport configured"), "{seen:?}");
    assert_eq!((seen[1].0, seen[1].1), (MailKind::Vote, MailState::NotSent));
    assert!(seen[1].2.contains("--vote-to"), "{seen:?}");
    // The cancellation answers the call it cancels.
    assert_eq!(log[0].in_reply_to.as_deref(), Some(log[1].message_id.as_str()));
}

#[tokio::test]
async fn a_retried_mail_task_sends_nothing_twice_and_the_result_answers_the_vote() {
    let mut f = lenient().await;
    let mailer = Arc::new(RecordingMailer::default());
    f.w.app.mailer = Some(mailer.clone());
    set_mail(&f, &f.rita()).await.unwrap();
    f.set_policy(PolicyOverride { min_vote_hours: Some(0), min_binding: Some(1), ..Default::default() }).await;
    vote::open(f.app(), &f.rita(), &rel(), None).await.unwrap();
    sweep(&f).await;
    assert_eq!(mailer.sent().len(), 1);
    let log = trs_app::mail::log(f.app(), &vot()).await.unwrap();
    let vote_mail = log[0].clone();
    assert_eq!(vote_mail.state, trs_app::mail::MailState::Sent);
    assert_eq!(vote_mail.message_id, format!("<{}.vot@localhost>", vote_mail.event_seq));
    assert!(mailer.sent()[0].contains(&format!("Message-ID: {}", vote_mail.message_id)), "{}", mailer.sent()[0]);

    // The queue delivers the task again (a worker crashed after sending, say): nothing is sent.
    let (mut task, item) = sent_mail_task(&f, vote_mail.event_seq).await;
    task.state = trs_app::tasks::TaskState::Queued;
    f.app().items.put(item.updated(serde_json::json!(task)), Condition::VersionIs(item.version)).await.unwrap();
    trs_app::tasks::run(f.app(), &task.id).await.unwrap();
    assert_eq!(mailer.sent().len(), 1, "sent once");

    vote::cast(f.app(), &f.ada(), &rel(), VoteValue::Plus, None).await.unwrap();
    vote::close(f.app(), &f.rita(), &rel()).await.unwrap();
    sweep(&f).await;
    let sent = mailer.sent();
    assert_eq!(sent.len(), 2);
    assert!(sent[1].contains("Subject: [RESULT] [VOTE] Release vot 2.0.0"), "{}", sent[1]);
    assert!(sent[1].contains(&format!("In-Reply-To: {}", vote_mail.message_id)), "{}", sent[1]);
    assert!(sent[1].contains(&format!("References: {}", vote_mail.message_id)), "{}", sent[1]);
}

/// A host's own mail templates (`trs serve --templates DIR`, its `mail/` folder) replace the
/// embedded ones in the mail sent and in its preview.
#[tokio::test]
async fn a_replaced_mail_template_is_the_one_sent_and_previewed() {
    use trs_app::vote::email::MailTemplates;
    let mut f = lenient().await;
    let mailer = Arc::new(RecordingMailer::default());
    f.w.app.mailer = Some(mailer.clone());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("vote-announcement.txt"),
        "Subject: [VOTE] {{ release_name }}, the vot way\n\nVote on revision {{ revision.number }} \
         by {{ closes_not_before }}.\n",
    )
    .unwrap();
    f.w.app.mail_templates = Some(Arc::new(MailTemplates::from_dir(dir.path()).unwrap()));
    set_mail(&f, &f.rita()).await.unwrap();
    vote::open(f.app(), &f.rita(), &rel(), None).await.unwrap();
    let preview = trs_app::mail::preview(f.app(), &rel(), trs_app::mail::MailKind::Vote).await.unwrap();
    assert_eq!(preview.subject, "[VOTE] vot 2.0.0, the vot way");
    assert!(preview.body.starts_with("Vote on revision 1 by 20"), "{}", preview.body);
    sweep(&f).await;
    let sent = mailer.sent();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].contains("Subject: [VOTE] vot 2.0.0, the vot way"), "{}", sent[0]);
    assert!(sent[0].contains("Vote on revision 1 by 20"), "{}", sent[0]);
    // The others are still the embedded ones.
    vote::cancel(f.app(), &f.rita(), &rel()).await.unwrap();
    sweep(&f).await;
    assert!(mailer.sent()[1].contains("Subject: [CANCELLED] [VOTE] Release vot 2.0.0"), "{}", mailer.sent()[1]);
}

/// A replacement that does not parse, or names no mail, is refused when loaded (the host does
/// not start); one that fails when rendered sends nothing: the preview says which template
/// and why (`409 mail-template-failed`), and the mail is recorded not sent with that reason.
#[tokio::test]
async fn a_broken_mail_template_says_which_and_why_and_sends_nothing() {
    use trs_app::vote::email::MailTemplates;
    let broken = MailTemplates::with(&[("vote-result.txt".into(), "Subject: {% if %}\n".into())]).unwrap_err();
    assert!(broken.contains("mail template vote-result.txt does not parse"), "{broken}");
    let unknown = MailTemplates::with(&[("vote-results.txt".into(), "x".into())]).unwrap_err();
    assert!(unknown.contains("\"vote-results.txt\" replaces none") && unknown.contains("vote-result.txt"), "{unknown}");

    let mut f = lenient().await;
    let mailer = Arc::new(RecordingMailer::default());
    f.w.app.mailer = Some(mailer.clone());
    let failing = "Subject: [VOTE] {{ release_name }}\n\n{{ no_such_field.number }}\n";
    f.w.app.mail_templates =
        Some(Arc::new(MailTemplates::with(&[("vote-announcement.txt".into(), failing.into())]).unwrap()));
    set_mail(&f, &f.rita()).await.unwrap();
    vote::open(f.app(), &f.rita(), &rel(), None).await.unwrap();
    match trs_app::mail::preview(f.app(), &rel(), trs_app::mail::MailKind::Vote).await.unwrap_err() {
        trs_app::AppError::Conflict { code, message } => {
            assert_eq!(code, "mail-template-failed");
            assert!(message.contains("replaced mail template vote-announcement.txt"), "{message}");
            assert!(message.contains("no_such_field"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    sweep(&f).await;
    assert!(mailer.sent().is_empty(), "nothing sent");
    let log = trs_app::mail::log(f.app(), &vot()).await.unwrap();
    assert_eq!(log[0].state, trs_app::mail::MailState::NotSent);
    let reason = log[0].reason.clone().unwrap();
    assert!(reason.contains("vote-announcement.txt") && reason.contains("no_such_field"), "{reason}");
}

/// The `send-mail` task of the mail event `seq` queued, and its item.
async fn sent_mail_task(f: &Fixture, seq: u64) -> (trs_app::tasks::Task, Item) {
    let events = f.events().await;
    let event = events.iter().find(|e| e.seq == seq).unwrap();
    // The task's id is derived from the event (mail::announce finds it the same way).
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&hex::decode(&event.hash).unwrap()[..16]);
    let id = trs_core::OpaqueId::from_random(bytes);
    let (task, item) = trs_app::tasks::get_task(f.app(), &id).await.unwrap();
    assert!(matches!(task.kind, trs_app::tasks::TaskKind::SendMail { event_seq, .. } if event_seq == seq));
    (task, item)
}

/// An SBOM made by cyclonedx-npm (crates/trs-checks/tests/data/sbom), its top component
/// renamed to `name` `version`.
fn sbom_of(name: &str, version: &str) -> Vec<u8> {
    let path = format!("{}/../trs-checks/tests/data/sbom/cyclonedx-npm-1.6.cdx.json", env!("CARGO_MANIFEST_DIR"));
    let mut doc: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    doc["metadata"]["component"]["name"] = name.into();
    doc["metadata"]["component"]["version"] = version.into();
    serde_json::to_vec(&doc).unwrap()
}

/// The `sbom` results of `name` in the latest revision's report.
async fn sbom_checks(f: &Fixture, name: &str) -> Vec<trs_core::CheckResult> {
    let number = f.release().await.latest.unwrap().number;
    let stored = trs_app::status::get_report(f.app(), &rel(), number).await.unwrap().unwrap();
    let file = stored.report.files.into_iter().find(|file| file.path.as_str() == name).unwrap();
    file.checks.into_iter().filter(|c| c.check == trs_core::CheckKind::Sbom).collect()
}

#[tokio::test]
async fn a_policy_requiring_an_sbom_refuses_a_vote_on_a_revision_without_one() {
    let f = lenient().await;
    f.set_policy(PolicyOverride { require_sbom: Some(true), ..Default::default() }).await;
    let (status, c, message) = code(vote::open(f.app(), &f.rita(), &rel(), None).await);
    assert_eq!((status, c), (409, "sbom-required"), "{message}");
    assert!(message.contains("holds no SBOM") && message.contains(".cdx.json"), "{message}");
    assert!(f.release().await.vote.is_none(), "nothing changed");

    f.upload("vot-2.0.0.cdx.json", &sbom_of("vot", "2.0.0")).await.unwrap();
    let view = vote::open(f.app(), &f.rita(), &rel(), None).await.unwrap();
    assert_eq!(view.stage, Stage::Candidate);
}

#[tokio::test]
async fn the_sbom_is_judged_against_the_release_and_the_licence_policy() {
    let f = lenient().await;
    f.upload("vot-2.0.0.cdx.json", &sbom_of("vot", "2.0.0")).await.unwrap();
    let checks = sbom_checks(&f, "vot-2.0.0.cdx.json").await;
    assert!(checks[0].reason.starts_with("valid CycloneDX 1.6 JSON; 2 components (2 permissive)"), "{checks:#?}");
    assert!(checks.iter().any(|c| c.reason == "describes vot 2.0.0, this release"), "{checks:#?}");
    assert!(checks.iter().all(|c| c.result != trs_core::Outcome::Fail), "{checks:#?}");

    // Another release's SBOM, and a policy denying what it holds: both fail. The policy is
    // judged after the cache: the next revision reuses the SBOM's cached results.
    f.upload("vot-2.0.0.cdx.json", &sbom_of("vot", "1.9.0")).await.unwrap();
    let denied = [trs_core::LicenceCategory::Permissive].into();
    f.set_policy(PolicyOverride { denied_licences: Some(denied), ..Default::default() }).await;
    f.upload("extra.txt", b"x").await.unwrap();
    let fails: Vec<String> = sbom_checks(&f, "vot-2.0.0.cdx.json")
        .await
        .into_iter()
        .filter(|c| c.result == trs_core::Outcome::Fail)
        .map(|c| c.reason)
        .collect();
    assert_eq!(fails.len(), 2, "{fails:#?}");
    assert!(fails[0].starts_with("the SBOM describes vot 1.9.0, not this release (vot 2.0.0)"), "{fails:#?}");
    assert!(fails[1].starts_with("2 component(s) are under permissive licences"), "{fails:#?}");

    // Under the strict policy, those fail the vote's opening.
    f.set_policy(PolicyOverride { strict: Some(true), ..Default::default() }).await;
    let (_, c, message) = code(vote::open(f.app(), &f.rita(), &rel(), None).await);
    assert_eq!(c, "checks-failing");
    assert!(message.contains("vot-2.0.0.cdx.json (sbom: the SBOM describes vot 1.9.0"), "{message}");
}

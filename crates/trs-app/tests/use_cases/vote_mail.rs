//! Votes replied on the list (`trs vote import-mail`), against the replies in
//! `tests/data/mail-votes/` (written as Thunderbird, Gmail, Outlook, Apple Mail and mutt write
//! them; two signed by real GnuPG, see `make-signed.sh` there). The fixtures answer
//! `<vote-root@trs.invalid>`; the tests put the `[VOTE]` mail's real `Message-ID` in its place
//! (headers only: what is signed is the body).
//!
//! The story, in the fixtures' times (UTC): the vote opens at 08:00; max casts a signed -1 at
//! 08:30; gus joins the committee at 09:30; the replies come from 09:05 to 10:48; the release
//! manager imports at 11:00.

use std::collections::BTreeMap;
use trs_app::test_support::{Actor, World, upload_files, world};
use trs_app::vote::mail_import::{ImportReport, ReplyOutcome};
use trs_app::{AppError, people, projects, stream, vote};
use trs_core::{
    Action, BallotSource, Change, PersonUid, PolicyOverride, ProjectRole, ReleaseId, StreamId, VoteValue, authorize,
};

const OPENS: i64 = 1_796_371_200; // 2026-12-04T08:00:00Z
const GUS_JOINS: i64 = 1_796_376_600; // 09:30
const IMPORT: i64 = 1_796_382_000; // 11:00
const PLACEHOLDER: &str = "<vote-root@trs.invalid>";

fn rel() -> ReleaseId {
    ReleaseId { project: "vot".parse().unwrap(), product: None, version: "2.0.0".parse().unwrap() }
}

fn fixture_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/mail-votes")
}

/// Every `.eml` fixture by file name, its root id replaced by `root`.
fn fixtures(root: &str) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(fixture_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "eml") {
            let text = std::fs::read(&path).unwrap();
            let replaced = String::from_utf8(text).unwrap().replace(PLACEHOLDER, root).into_bytes();
            out.insert(path.file_name().unwrap().to_string_lossy().into_owned(), replaced);
        }
    }
    out
}

struct Fixture {
    w: World,
    max: Actor,
}

impl Fixture {
    fn app(&self) -> &trs_app::App {
        &self.w.app
    }

    async fn vote_message_id(&self) -> String {
        vote::show(self.app(), &rel()).await.unwrap().vote_message_id.expect("the [VOTE] mail's id")
    }

    async fn import(&self, messages: Vec<Vec<u8>>) -> Result<ImportReport, AppError> {
        vote::mail_import::import(self.app(), Some(&self.w.rm.caller()), &rel(), messages).await
    }
}

/// Project `vot`: committee ada, mona, max; committer carl; release manager rita; gus
/// registered with the GnuPG key that signed the fixtures. One file uploaded.
async fn fixture(email_votes: bool) -> Fixture {
    fixture_opening_at(email_votes, OPENS).await
}

async fn fixture_opening_at(email_votes: bool, opens: i64) -> Fixture {
    let w = world().await;
    let mona = w.add_person("mona").await;
    let max = w.add_person("max").await;
    let _ = mona;
    let permit = authorize(&w.admin.person, None, Action::Administer).unwrap();
    people::add_person(
        &w.app,
        &permit,
        &w.admin.caller().actor(),
        people::NewPerson {
            uid: "gus".parse().unwrap(),
            name: Some("Gus Grant".into()),
            email: None,
            certificate: std::fs::read(fixture_dir().join("gus.pub.asc")).unwrap(),
        },
    )
    .await
    .unwrap();
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
    let policy = PolicyOverride {
        strict: Some(false),
        min_binding: Some(1),
        min_vote_hours: Some(0),
        email_votes: Some(email_votes),
        ..Default::default()
    };
    projects::set_policy(&w.app, &w.rm.caller(), &"vot".parse().unwrap(), None, policy).await.unwrap();
    upload_files(&w.app, &w.blobs, &w.rm.caller(), &rel(), &[("vot-2.0.0.tar.gz", b"not really a tarball")]).await;
    w.clock.set(opens);
    vote::open(&w.app, &w.rm.caller(), &rel(), None).await.unwrap();
    Fixture { w, max }
}

fn outcome_of(report: &ImportReport, message_id: &str) -> (ReplyOutcome, Option<VoteValue>, bool, String) {
    let r = report
        .replies
        .iter()
        .find(|r| r.message_id == message_id)
        .unwrap_or_else(|| panic!("{message_id} not in {report:#?}"));
    (r.outcome, r.value, r.signed_by.is_some(), r.detail.clone())
}

/// SES replaces the `[VOTE]` mail's `Message-ID` with one of its own: trs keeps the id the
/// lists received, counts a reply that names it, and the `[RESULT]` answers it.
#[tokio::test]
async fn a_vote_mail_whose_id_the_transport_replaced_is_replied_to_and_answered_by_that_id() {
    let mut f = fixture(true).await;
    let mailer = std::sync::Arc::new(trs_app::test_support::RecordingMailer::default());
    mailer.replace_ids_on("eu-west-1.amazonses.com");
    f.w.app.mailer = Some(mailer.clone());
    let settings = trs_core::MailSettings {
        vote_to: vec!["dev@vot.example".into()],
        from: Some("Vot Releases <releases@vot.example>".into()),
        ..Default::default()
    };
    trs_app::mail::set_settings(f.app(), &f.w.rm.caller(), &"vot".parse().unwrap(), None, settings).await.unwrap();
    trs_app::tasks::sweep(f.app()).await.unwrap();
    assert_eq!(mailer.sent().len(), 1, "the [VOTE] mail");
    let received = "<1@eu-west-1.amazonses.com>";
    let vote_mail = trs_app::mail::vote_mail(f.app(), &rel(), 1).await.unwrap().expect("the [VOTE] mail");
    assert_eq!(vote_mail.sent_as.as_deref(), Some(received));
    assert!(mailer.sent()[0].contains(&format!("Message-ID: {}", vote_mail.message_id)), "trs's own id handed over");
    assert_eq!(f.vote_message_id().await, received, "what voters reply to");

    f.w.clock.set(IMPORT);
    let mona = fixtures(received).remove("01-thunderbird-flowed.eml").unwrap();
    let report = f.import(vec![mona]).await.unwrap();
    assert_eq!(report.vote_message_id, received);
    let mona = outcome_of(&report, "<3f1c2a9e-5b7d-4c1e-9a2f-7e1d0c4b8a61@example.org>");
    assert_eq!((mona.0, mona.1), (ReplyOutcome::Counted, Some(VoteValue::Plus)), "{report:#?}");

    vote::close(f.app(), &f.w.rm.caller(), &rel()).await.unwrap();
    trs_app::tasks::sweep(f.app()).await.unwrap();
    let sent = mailer.sent();
    assert_eq!(sent.len(), 2, "the [RESULT] mail");
    assert!(sent[1].contains("Subject: [RESULT]"), "{}", sent[1]);
    assert!(sent[1].contains(&format!("In-Reply-To: {received}")), "{}", sent[1]);
}

#[tokio::test]
async fn replies_in_real_clients_formats_become_ballots_by_the_rules() {
    let f = fixture(true).await;
    let root = f.vote_message_id().await;
    f.w.clock.set(OPENS + 1800);
    vote::cast(f.app(), &f.max.caller(), &rel(), VoteValue::Minus, None).await.unwrap();
    f.w.clock.set(GUS_JOINS);
    let add = projects::MembersChange { add: ["gus".parse().unwrap()].into(), remove: Default::default() };
    projects::change_members(f.app(), &f.w.admin.caller(), &"vot".parse().unwrap(), ProjectRole::Committee, add)
        .await
        .unwrap();
    f.w.clock.set(IMPORT);

    let report = f.import(fixtures(&root).into_values().collect()).await.unwrap();
    assert_eq!(report.vote_message_id, root);
    assert!(report.unreadable.is_empty(), "{report:#?}");
    assert_eq!(report.not_in_thread, ["<CAF7x9k2Qm+other=thread@mail.gmail.com>"], "the reply to another vote");

    // Thunderbird, format=flowed, bottom-posted: the quoted ballot's "+1" and "-1" are not hers.
    let mona = outcome_of(&report, "<3f1c2a9e-5b7d-4c1e-9a2f-7e1d0c4b8a61@example.org>");
    assert_eq!((mona.0, mona.1, mona.2), (ReplyOutcome::Counted, Some(VoteValue::Plus), false));
    // Gmail, quoted-printable, top-posted, unsigned: max's signed call stands.
    let max = outcome_of(&report, "<CAF7x9k2Qm+Zt8YbW3nL0pRr5dE=ue4H1s2jQ@mail.gmail.com>");
    assert_eq!(max.0, ReplyOutcome::Kept);
    assert!(max.3.contains("does not replace max's signed call"), "{}", max.3);
    // Outlook, base64, the original below the separator unquoted.
    let carl =
        outcome_of(&report, "<AM0PR01MB6481C3D2E1F0A9B8C7D6E5F4A3B2C1D0@AM0PR01MB6481.eurprd01.prod.outlook.com>");
    assert_eq!((carl.0, carl.1), (ReplyOutcome::Counted, Some(VoteValue::Minus)));
    // Apple Mail, HTML only, the original in a blockquote.
    let rita = outcome_of(&report, "<8C1E2D3F-4A5B-4C6D-8E7F-9A0B1C2D3E4F@example.org>");
    assert_eq!((rita.0, rita.1), (ReplyOutcome::Counted, Some(VoteValue::Zero)));
    // Conditional: listed, not guessed.
    let ada = outcome_of(&report, "<20261204095000.GA1234@ada.example.org>");
    assert_eq!(ada.0, ReplyOutcome::Ambiguous);
    // Real GnuPG: inline (before gus joined the committee), then PGP/MIME (after).
    let inline = outcome_of(&report, "<20261204092000.GB777@gus.example.org>");
    assert_eq!((inline.0, inline.1, inline.2), (ReplyOutcome::Counted, Some(VoteValue::Zero), true));
    let mime = outcome_of(&report, "<b7e0c1d2-3e4f-4a5b-8c6d-7e8f9a0b1c2d@example.org>");
    assert_eq!((mime.0, mime.1, mime.2), (ReplyOutcome::Counted, Some(VoteValue::Plus), true));
    // A forged From, later, unsigned: gus's signed reply stands.
    let forged = outcome_of(&report, "<forged-1@mallory.example>");
    assert_eq!((forged.0, forged.2), (ReplyOutcome::Kept, false));
    assert!(forged.3.contains("does not replace gus's signed reply"), "{}", forged.3);
    // Nobody registered has eve's address.
    let eve = outcome_of(&report, "<CAB0eve1234567890abcdef@mail.gmail.com>");
    assert_eq!(eve.0, ReplyOutcome::UnknownSender);
    // A reply to mona's reply (its References lack the root): in the thread, but no vote.
    let chat = outcome_of(&report, "<CAF7x9k2Qm+second=reply@mail.gmail.com>");
    assert_eq!(chat.0, ReplyOutcome::NoVote);

    let view = vote::show(f.app(), &rel()).await.unwrap();
    let ballot = |uid: &str| {
        let uid: PersonUid = uid.parse().unwrap();
        view.ballots.iter().find(|b| b.voter == uid).cloned().unwrap_or_else(|| panic!("no ballot of {uid}"))
    };
    let gus = ballot("gus");
    assert_eq!((gus.value, gus.binding, gus.source), (VoteValue::Plus, true, BallotSource::Email));
    assert_eq!(gus.key.as_ref().map(|k| k.to_string()).as_deref(), Some("473420EFEE7C717197C3E16C0121B1283CD2F53B"));
    assert_eq!(gus.earlier.len(), 1);
    assert_eq!((gus.earlier[0].value, gus.earlier[0].binding), (VoteValue::Zero, false), "non-binding at 09:20");
    let mona = ballot("mona");
    assert_eq!((mona.binding, mona.key.is_none(), mona.source), (true, true, BallotSource::Email));
    assert_eq!(ballot("max").source, BallotSource::Call);
    assert!(!ballot("carl").binding);
    assert_eq!(view.mail_replies.len(), 10);
    let explanation = &view.resolution.explanation;
    assert!(
        explanation.contains("+1 gus (binding, email <b7e0c1d2-3e4f-4a5b-8c6d-7e8f9a0b1c2d@example.org>, signed)"),
        "{explanation}"
    );
    assert!(
        explanation.contains("+1 mona (binding, email <3f1c2a9e-5b7d-4c1e-9a2f-7e1d0c4b8a61@example.org>, unsigned)"),
        "{explanation}"
    );
    assert!(explanation.contains("from eve@elsewhere.example: unknown sender, not counted"), "{explanation}");
    assert!(explanation.contains("from ada@example.org: ambiguous, not counted"), "{explanation}");

    // The stream says who voted by which mail, and who imported it.
    let events = stream::all_events(f.app(), &StreamId::Project("vot".parse().unwrap())).await.unwrap();
    let by_mail: Vec<_> = events
        .iter()
        .filter_map(|e| match &e.change {
            Change::VoteCast { email: Some(m), .. } => Some((e.actor.as_ref().unwrap().uid.to_string(), m.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(by_mail.len(), 5, "mona, carl, rita, gus twice");
    assert!(by_mail.iter().all(|(actor, _)| actor == "rita"));

    // Importing again reads nothing twice and changes nothing.
    let before = events.len();
    let again = f.import(fixtures(&root).into_values().collect()).await.unwrap();
    assert!(again.replies.is_empty(), "{again:#?}");
    assert_eq!(again.already_read.len(), 10);
    let after = stream::all_events(f.app(), &StreamId::Project("vot".parse().unwrap())).await.unwrap();
    assert_eq!(after.len(), before);

    // Closing records the same explanation: email ballots and the replies left out.
    let closed = vote::close(f.app(), &f.w.rm.caller(), &rel()).await.unwrap();
    assert!(closed.resolution.passed, "{}", closed.resolution.explanation);
    assert_eq!(&closed.resolution.explanation, explanation);
}

/// `[RESULT]` keeps to 72 columns with the list's replies in it: a long comment and the
/// explanation wrap, what follows an item's first line indented under it, the voter's own
/// line breaks kept; a URL, or a Message-ID too long for a line, stands whole on a line of
/// its own (the only lines that may be longer), so it can be clicked or searched for.
#[tokio::test]
async fn the_result_mail_wraps_comments_the_explanation_and_message_ids_at_72_columns() {
    let f = fixture(true).await;
    let root = f.vote_message_id().await;
    f.w.clock.set(OPENS + 1800);
    let log = format!("https://ci.example.org/vot/2.0.0/{}", "x".repeat(70));
    let comment = format!(
        "{}the build log is at {log} for anyone to check\nand a second line of my own",
        "checked the signatures, the sums and the licence of every file; ".repeat(3)
    );
    vote::cast(f.app(), &f.max.caller(), &rel(), VoteValue::Minus, Some(comment)).await.unwrap();
    f.w.clock.set(IMPORT);
    f.import(fixtures(&root).into_values().collect()).await.unwrap();
    let closed = vote::close(f.app(), &f.w.rm.caller(), &rel()).await.unwrap();
    let body = vote::email::result(f.app(), &rel()).await.unwrap().body;

    for line in body.lines() {
        assert!(line.chars().count() <= 72 || !line.trim().contains(' '), "{line:?} is too long in:\n{body}");
    }
    let lines: Vec<&str> = body.lines().collect();
    let outlook = "<AM0PR01MB6481C3D2E1F0A9B8C7D6E5F4A3B2C1D0@AM0PR01MB6481.eurprd01.prod.outlook.com>";
    // Carl's reply, among the ballots (under its item) and in the explanation.
    assert!(lines.contains(&format!("    {outlook},").as_str()), "{body}");
    assert!(lines.contains(&format!("  {outlook},").as_str()), "{body}");
    let max = lines.iter().position(|l| l.starts_with("  -1 max: checked the signatures")).expect("max's ballot");
    let continued = lines[max + 1];
    assert!(continued.starts_with("    ") && !continued.starts_with("     "), "indented under it: {body}");
    assert!(lines.contains(&format!("    {log}").as_str()), "{body}");
    assert!(lines.contains(&"    and a second line of my own"), "{body}");
    let (_, why) = body.split_once("\nWhy:\n").expect("the explanation");
    // Max's comment in the explanation: its second line continues his item, indented.
    let why_lines: Vec<&str> = why.lines().collect();
    assert!(why_lines.contains(&"  and a second line of my own"), "indented under max's item: {why}");
    assert!(!why_lines.contains(&"and a second line of my own"), "not at the margin: {why}");
    assert_eq!(
        why.split_whitespace().collect::<Vec<_>>(),
        closed.resolution.explanation.split_whitespace().collect::<Vec<_>>(),
        "the whole explanation, only wrapped"
    );
}

#[tokio::test]
async fn a_signed_reply_whose_text_was_changed_counts_as_unsigned() {
    let f = fixture(true).await;
    let root = f.vote_message_id().await;
    f.w.clock.set(IMPORT);
    let genuine = fixtures(&root).remove("07-gnupg-pgp-mime-signed.eml").unwrap();
    let tampered = String::from_utf8(genuine)
        .unwrap()
        .replace("+1 (binding)", "-1 (binding)")
        .replace("<b7e0c1d2-3e4f-4a5b-8c6d-7e8f9a0b1c2d@example.org>", "<tampered@example.org>")
        .into_bytes();
    let report = f.import(vec![tampered]).await.unwrap();
    let (outcome, value, signed, detail) = outcome_of(&report, "<tampered@example.org>");
    assert_eq!((outcome, value, signed), (ReplyOutcome::Counted, Some(VoteValue::Minus), false));
    assert!(detail.contains("its signature does not count"), "{detail}");
    let view = vote::show(f.app(), &rel()).await.unwrap();
    assert!(view.ballots[0].key.is_none());
}

/// A signature covers the body, not the headers that place a reply in a vote's thread: a
/// signed reply to an earlier vote, its headers rewritten to answer this one, verifies. Its
/// signature was made before this vote opened, so it counts as unsigned.
#[tokio::test]
async fn a_signed_reply_made_before_the_vote_opened_counts_as_unsigned() {
    // 07 was signed at 09:20:01 and says (in its unsigned Date header) 09:45.
    let f = fixture_opening_at(true, GUS_JOINS).await;
    let root = f.vote_message_id().await;
    f.w.clock.set(IMPORT);
    let replayed = fixtures(&root).remove("07-gnupg-pgp-mime-signed.eml").unwrap();
    let report = f.import(vec![replayed]).await.unwrap();
    let (outcome, value, signed, detail) = outcome_of(&report, "<b7e0c1d2-3e4f-4a5b-8c6d-7e8f9a0b1c2d@example.org>");
    assert_eq!((outcome, value, signed), (ReplyOutcome::Counted, Some(VoteValue::Plus), false));
    assert!(detail.contains("made before the vote opened"), "{detail}");
    let view = vote::show(f.app(), &rel()).await.unwrap();
    assert!(view.ballots[0].key.is_none(), "an unsigned ballot: {:?}", view.ballots);
}

#[tokio::test]
async fn replies_count_only_in_votes_opened_with_email_votes() {
    let f = fixture(false).await;
    let root = f.vote_message_id().await;
    f.w.clock.set(IMPORT);
    let e = f.import(fixtures(&root).into_values().collect()).await.expect_err("signed calls only");
    assert_eq!((e.status(), e.code()), (409, "email-votes-off"));
    assert!(vote::show(f.app(), &rel()).await.unwrap().ballots.is_empty(), "nothing written");
}

#[tokio::test]
async fn only_the_projects_release_managers_import() {
    let f = fixture(true).await;
    let root = f.vote_message_id().await;
    let e = vote::mail_import::import(
        f.app(),
        Some(&f.w.committer.caller()),
        &rel(),
        fixtures(&root).into_values().collect(),
    )
    .await
    .expect_err("a committer may not import");
    assert_eq!(e.status(), 403);
}

/// Names the IMAP mailbox at `url` for project `vot`, with its password on this host.
async fn poll_mailbox_at(f: &mut Fixture, url: String) {
    use trs_app::imap_server::PASSWORD;
    let project: trs_core::ProjectName = "vot".parse().unwrap();
    let settings = trs_core::MailSettings { imap: Some(url), ..Default::default() };
    trs_app::mail::set_settings(f.app(), &f.w.rm.caller(), &project, None, settings).await.unwrap();
    f.w.app.imap_passwords =
        Some(trs_app::mail::imap::passwords_from(|name| (name == "TRS_IMAP_PASSWORD").then(|| PASSWORD.to_string())));
}

/// Puts three replies to the vote (Thunderbird, Outlook, Apple Mail), one of another thread and
/// one a month old in the mailbox.
fn deliver_replies(server: &mut trs_app::imap_server::ImapServer, root: &str) {
    let all = fixtures(root);
    for name in ["01-thunderbird-flowed.eml", "03-outlook-base64.eml", "04-apple-html-only.eml", "11-other-thread.eml"]
    {
        server.deliver(&all[name]);
    }
    // A month old: a search by the date sent leaves it on the server.
    let old = String::from_utf8(all["01-thunderbird-flowed.eml"].clone())
        .unwrap()
        .replace("Fri, 4 Dec 2026 10:05:12 +0100", "Wed, 4 Nov 2026 10:05:12 +0100")
        .replace("<3f1c2a9e-5b7d-4c1e-9a2f-7e1d0c4b8a61@example.org>", "<a-month-old@example.org>");
    server.deliver(old.as_bytes());
}

/// The first poll of [`deliver_replies`]' mailbox recorded the three replies (and not the other
/// thread's, nor the old one), as trs's own doing; returns the project's events.
async fn assert_replies_recorded(f: &Fixture, report: &ImportReport, root: &str) -> Vec<trs_core::Event> {
    let project: trs_core::ProjectName = "vot".parse().unwrap();
    assert_eq!(report.vote_message_id, root);
    assert_eq!(report.not_in_thread, ["<CAF7x9k2Qm+other=thread@mail.gmail.com>"], "{report:#?}");
    assert_eq!(report.replies.len(), 3, "{report:#?}");
    let mona = outcome_of(report, "<3f1c2a9e-5b7d-4c1e-9a2f-7e1d0c4b8a61@example.org>");
    assert_eq!((mona.0, mona.1), (ReplyOutcome::Counted, Some(VoteValue::Plus)));
    let carl =
        outcome_of(report, "<AM0PR01MB6481C3D2E1F0A9B8C7D6E5F4A3B2C1D0@AM0PR01MB6481.eurprd01.prod.outlook.com>");
    assert_eq!((carl.0, carl.1), (ReplyOutcome::Counted, Some(VoteValue::Minus)));
    let rita = outcome_of(report, "<8C1E2D3F-4A5B-4C6D-8E7F-9A0B1C2D3E4F@example.org>");
    assert_eq!((rita.0, rita.1), (ReplyOutcome::Counted, Some(VoteValue::Zero)));
    let view = vote::show(f.app(), &rel()).await.unwrap();
    let ballots: Vec<(String, VoteValue, bool, BallotSource)> =
        view.ballots.iter().map(|b| (b.voter.to_string(), b.value, b.binding, b.source)).collect();
    assert_eq!(
        ballots,
        [
            ("mona".to_string(), VoteValue::Plus, true, BallotSource::Email),
            ("carl".to_string(), VoteValue::Minus, false, BallotSource::Email),
            ("rita".to_string(), VoteValue::Zero, false, BallotSource::Email),
        ]
    );
    // Recorded as trs's own doing: no person imported them.
    let events = stream::all_events(f.app(), &StreamId::Project(project)).await.unwrap();
    let cast: Vec<_> = events.iter().filter(|e| matches!(e.change, Change::VoteCast { email: Some(_), .. })).collect();
    assert_eq!(cast.len(), 3);
    assert!(cast.iter().all(|e| e.actor.is_none()));
    events
}

/// The list's IMAP mailbox, polled: a real Dovecot on loopback holds replies in the formats
/// real clients write (the fixtures, as Maildir files); polling records them by the same
/// rules as an import, reads only mail sent since the vote opened, and polling again changes
/// nothing until a new reply arrives.
#[tokio::test]
async fn polling_the_lists_imap_mailbox_records_the_replies() {
    use trs_app::imap_server::ImapServer;
    let mut server = ImapServer::start();
    let mut f = fixture(true).await;
    let root = f.vote_message_id().await;
    let project: trs_core::ProjectName = "vot".parse().unwrap();
    poll_mailbox_at(&mut f, server.url()).await;
    deliver_replies(&mut server, &root);
    f.w.clock.set(IMPORT);

    let report =
        vote::mail_poll::poll_release(f.app(), &rel()).await.unwrap_or_else(|e| panic!("{e}: {}", server.log()));
    let events = assert_replies_recorded(&f, &report, &root).await;

    // The scheduled poll finds the vote by itself; nothing new: nothing changes.
    let polled = vote::mail_poll::poll_all(f.app()).await.unwrap();
    assert_eq!(polled.len(), 1, "{polled:#?}");
    let again = polled[0].report.as_ref().unwrap_or_else(|| panic!("{:?}", polled[0].error));
    assert!(again.replies.is_empty(), "{again:#?}");
    assert_eq!(again.already_read.len(), 3);
    assert_eq!(stream::all_events(f.app(), &StreamId::Project(project.clone())).await.unwrap().len(), events.len());

    // A reply that arrives later (signed, PGP/MIME) is read at the next poll.
    server.deliver(&fixtures(&root)["07-gnupg-pgp-mime-signed.eml"]);
    let polled = vote::mail_poll::poll_all(f.app()).await.unwrap();
    let later = polled[0].report.as_ref().unwrap();
    let gus = outcome_of(later, "<b7e0c1d2-3e4f-4a5b-8c6d-7e8f9a0b1c2d@example.org>");
    assert_eq!((gus.0, gus.1, gus.2), (ReplyOutcome::Counted, Some(VoteValue::Plus), true));
    assert_eq!(later.replies.len(), 1);
}

/// A poll round of `trs serve` is a tracked task: none while no open vote reads a mailbox;
/// one per round (its id derived from the round, so starting the round again finds it and
/// polls nothing), done with what it fetched and recorded, listed among the latest rounds;
/// a round whose mailbox cannot be read fails with the vote and the reason, and the next
/// round reads what the failed one could not.
#[tokio::test]
async fn each_poll_round_is_a_task_run_once_that_records_its_outcome() {
    use trs_app::imap_server::ImapServer;
    use trs_app::tasks::{self, TaskKind, TaskState};
    use vote::mail_poll::{recent_rounds, round_of, round_task_id, start_round};
    let mut server = ImapServer::start();
    let mut f = fixture(true).await;
    let root = f.vote_message_id().await;
    f.w.clock.set(IMPORT);
    let round = round_of(IMPORT + 7, 60);
    assert_eq!(round, IMPORT, "a round is the start of its slot");
    assert!(start_round(f.app(), round).await.unwrap().is_none(), "no mailbox named: no round");
    assert!(recent_rounds(f.app()).await.unwrap().is_empty());

    poll_mailbox_at(&mut f, server.url()).await;
    deliver_replies(&mut server, &root);
    let task = start_round(f.app(), round).await.unwrap().expect("a round for the open vote");
    assert_eq!(task.id, round_task_id(round));
    assert_eq!(task.kind, TaskKind::PollMail { round });
    assert!(start_round(f.app(), round).await.unwrap().is_none(), "the round exists: not queued twice");
    tasks::run(f.app(), &task.id).await.unwrap();
    let (done, _) = tasks::get_task(f.app(), &task.id).await.unwrap();
    assert_eq!(done.state, TaskState::Done, "{done:#?}");
    let result = done.result.clone().unwrap();
    // Four messages sent since the vote opened (three replies, one of another thread).
    assert_eq!((result["mailboxes"].as_u64(), result["fetched"].as_u64()), (Some(1), Some(4)), "{result}");
    assert_eq!(result["replies"], 3, "{result}");
    assert_eq!(result["polled"][0]["votes"][0]["not_in_thread"], 1, "{result}");
    assert_eq!(done.steps.len(), 1);
    assert!(done.steps[0].message.contains("4 message(s) fetched, 3 repl(ies) recorded"), "{:?}", done.steps);
    assert_eq!(vote::show(f.app(), &rel()).await.unwrap().ballots.len(), 3);
    // Run again (a second worker, a sweep): a finished round is left alone.
    tasks::run(f.app(), &task.id).await.unwrap();
    assert_eq!(tasks::get_task(f.app(), &task.id).await.unwrap().0, done);

    // The next round fetches only what arrived since: one reply.
    server.deliver(&fixtures(&root)["07-gnupg-pgp-mime-signed.eml"]);
    let next = start_round(f.app(), round + 60).await.unwrap().unwrap();
    tasks::run(f.app(), &next.id).await.unwrap();
    let (next, _) = tasks::get_task(f.app(), &next.id).await.unwrap();
    assert_eq!(next.result.as_ref().map(|r| (r["fetched"].clone(), r["replies"].clone())), Some((1.into(), 1.into())));

    // The mailbox refuses the password: the round fails, naming the vote and why.
    f.w.app.imap_passwords = Some(trs_app::mail::imap::passwords_from(|_| Some("not-the-password".to_string())));
    let failing = start_round(f.app(), round + 120).await.unwrap().unwrap();
    tasks::run(f.app(), &failing.id).await.unwrap();
    let (failed, _) = tasks::get_task(f.app(), &failing.id).await.unwrap();
    assert_eq!(failed.state, TaskState::Failed, "{failed:#?}");
    let error = failed.error.clone().unwrap();
    assert!(error.contains("1 of 1 vote(s) not polled") && error.contains("vot") && error.contains("login"), "{error}");
    assert!(!error.contains("not-the-password"), "{error}");
    assert_eq!(failed.result.as_ref().unwrap()["code"], "imap-poll-failed");
    assert!(failed.steps[0].message.contains("not read"), "{:?}", failed.steps);

    // Listed newest first.
    let listed: Vec<_> = recent_rounds(f.app()).await.unwrap().into_iter().map(|t| (t.id, t.state)).collect();
    assert_eq!(
        listed,
        [
            (failing.id.clone(), TaskState::Failed),
            (next.id.clone(), TaskState::Done),
            (task.id.clone(), TaskState::Done)
        ]
    );
}

/// A list server with a private CA (`imaps`, Dovecot with `ssl = required` and a test CA's
/// certificate for 127.0.0.1): against the platform's roots alone the poll refuses the
/// certificate, says so and how to trust it, and records nothing; with the CA file's
/// certificates (`TRS_IMAP_CA_FILE`) it reads the replies as over a plain connection.
#[tokio::test]
async fn polling_over_tls_trusts_the_ca_file_and_nothing_else() {
    use trs_app::imap_server::ImapServer;
    let ca = trs_app::test_ca::TestCa::new();
    let mut server = ImapServer::start_tls(&ca);
    let mut f = fixture(true).await;
    let root = f.vote_message_id().await;
    poll_mailbox_at(&mut f, server.tls_url()).await;
    deliver_replies(&mut server, &root);
    f.w.clock.set(IMPORT);
    let project: trs_core::ProjectName = "vot".parse().unwrap();
    let before = stream::all_events(f.app(), &StreamId::Project(project.clone())).await.unwrap().len();

    match vote::mail_poll::poll_release(f.app(), &rel()).await.unwrap_err() {
        AppError::Conflict { code, message } => {
            assert_eq!(code, "imap-failed", "{message}");
            assert!(message.contains("invalid peer certificate"), "{message}");
            assert!(message.contains("TRS_IMAP_CA_FILE"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    let polled = vote::mail_poll::poll_all(f.app()).await.unwrap();
    assert!(polled[0].error.as_deref().is_some_and(|e| e.contains("certificate")), "{polled:#?}");
    assert!(vote::show(f.app(), &rel()).await.unwrap().ballots.is_empty());
    assert_eq!(stream::all_events(f.app(), &StreamId::Project(project)).await.unwrap().len(), before);

    f.w.app.imap_extra_roots = trs_app::mail::ca::load(&ca.ca_file()).unwrap();
    let report =
        vote::mail_poll::poll_release(f.app(), &rel()).await.unwrap_or_else(|e| panic!("{e}: {}", server.log()));
    assert_replies_recorded(&f, &report, &root).await;
}

/// Every fixture (each client's format, the signed ones, the forged, ambiguous and unknown
/// ones, the other thread), stored in Dovecot and fetched from it, reads as the same reply as
/// from an archive: the same outcome, voter, value, signature and reason for each.
#[tokio::test]
async fn every_reply_reads_the_same_through_imap_as_from_an_archive() {
    use trs_app::imap_server::{ImapServer, PASSWORD};
    let mut server = ImapServer::start();
    let mut polled = fixture(true).await;
    let imported = fixture(true).await;
    let settings = trs_core::MailSettings { imap: Some(server.url()), ..Default::default() };
    trs_app::mail::set_settings(polled.app(), &polled.w.rm.caller(), &"vot".parse().unwrap(), None, settings)
        .await
        .unwrap();
    polled.w.app.imap_passwords =
        Some(trs_app::mail::imap::passwords_from(|name| (name == "TRS_IMAP_PASSWORD").then(|| PASSWORD.to_string())));
    let delivered = fixtures(&polled.vote_message_id().await);
    assert_eq!(delivered.len(), 11, "every fixture");
    for message in delivered.values() {
        server.deliver(message);
    }
    polled.w.clock.set(IMPORT);
    imported.w.clock.set(IMPORT);

    let from_imap =
        vote::mail_poll::poll_release(polled.app(), &rel()).await.unwrap_or_else(|e| panic!("{e}: {}", server.log()));
    let from_archive =
        imported.import(fixtures(&imported.vote_message_id().await).into_values().collect()).await.unwrap();
    let read = |report: &ImportReport| {
        let mut replies: Vec<_> = report
            .replies
            .iter()
            .map(|r| (r.message_id.clone(), r.voter.clone(), r.outcome, r.value, r.signed_by.clone(), r.detail.clone()))
            .collect();
        replies.sort_by(|a, b| a.0.cmp(&b.0));
        (replies, report.not_in_thread.clone(), report.unreadable.clone())
    };
    assert_eq!(from_archive.replies.len(), 10, "{from_archive:#?}");
    assert_eq!(read(&from_imap), read(&from_archive));
}

/// What stops a poll says why, and changes nothing: no mailbox named, no password on this
/// host, a password the server refuses (never shown), a vote that counts signed calls only.
#[tokio::test]
async fn a_poll_that_cannot_read_the_mailbox_says_why_and_records_nothing() {
    use trs_app::imap_server::ImapServer;
    let mut server = ImapServer::start();
    let mut f = fixture(true).await;
    let root = f.vote_message_id().await;
    server.deliver(&fixtures(&root)["01-thunderbird-flowed.eml"]);
    f.w.clock.set(IMPORT);
    let project: trs_core::ProjectName = "vot".parse().unwrap();
    let code = |e: AppError| match e {
        AppError::Conflict { code, message } => (code, message),
        other => panic!("{other:?}"),
    };
    let (c, m) = code(vote::mail_poll::poll_release(f.app(), &rel()).await.unwrap_err());
    assert_eq!(c, "no-imap-mailbox", "{m}");
    assert!(m.contains("trs project mail vot --imap URL"), "{m}");

    let settings = trs_core::MailSettings { imap: Some(server.url()), ..Default::default() };
    trs_app::mail::set_settings(f.app(), &f.w.rm.caller(), &project, None, settings).await.unwrap();
    let (c, m) = code(vote::mail_poll::poll_release(f.app(), &rel()).await.unwrap_err());
    assert_eq!(c, "no-imap-password", "{m}");
    assert!(m.contains("TRS_IMAP_PASSWORD_VOT"), "{m}");

    f.w.app.imap_passwords = Some(trs_app::mail::imap::passwords_from(|_| Some("not-the-password".to_string())));
    let (c, m) = code(vote::mail_poll::poll_release(f.app(), &rel()).await.unwrap_err());
    assert_eq!(c, "imap-failed", "{m}");
    assert!(m.contains("login as lists-reader") && !m.contains("not-the-password"), "{m}");
    let polled = vote::mail_poll::poll_all(f.app()).await.unwrap();
    assert!(polled[0].error.as_deref().is_some_and(|e| e.contains("login")), "{polled:#?}");
    assert!(vote::show(f.app(), &rel()).await.unwrap().ballots.is_empty());

    // A URL with a password is refused when set, and says where the password goes instead.
    let bad = trs_core::MailSettings { imap: Some("imap://u:pw@127.0.0.1/INBOX".into()), ..Default::default() };
    match trs_app::mail::set_settings(f.app(), &f.w.rm.caller(), &project, None, bad).await.unwrap_err() {
        AppError::BadRequest { code, message } => {
            assert_eq!(code, "invalid-imap-url");
            assert!(message.contains("TRS_IMAP_PASSWORD") && !message.contains("pw@"), "{message}");
        }
        other => panic!("{other:?}"),
    }

    // A vote that counts signed calls only is not polled at all.
    let g = fixture(false).await;
    let settings = trs_core::MailSettings { imap: Some(server.url()), ..Default::default() };
    trs_app::mail::set_settings(g.app(), &g.w.rm.caller(), &project, None, settings).await.unwrap();
    let (c, _) = code(vote::mail_poll::poll_release(g.app(), &rel()).await.unwrap_err());
    assert_eq!(c, "email-votes-off");
    assert!(vote::mail_poll::poll_all(g.app()).await.unwrap().is_empty());
}

/// A session with the test's Dovecot as its one user, to make, drop and fill mailboxes the
/// way a list server does (`CREATE`, `DELETE`, `APPEND`).
async fn imap_admin(port: u16) -> async_imap::Session<tokio::net::TcpStream> {
    use trs_app::imap_server::{PASSWORD, USER};
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut client = async_imap::Client::new(tcp);
    client.read_response().await.unwrap().expect("the server's greeting");
    client.login(USER, PASSWORD).await.map_err(|(e, _)| e).unwrap()
}

/// The scheduled poll remembers how far it read each mailbox: a second poll after a new
/// reply fetches that reply alone, a poll with nothing new fetches nothing, and a mailbox
/// recreated under a new UIDVALIDITY is read from the start again (the replies read before
/// are known by their `Message-ID`s, the new one counted).
#[tokio::test]
async fn the_scheduled_poll_fetches_only_new_mail_and_starts_over_in_a_recreated_mailbox() {
    use trs_app::imap_server::{ImapServer, PASSWORD, USER};
    use trs_app::mail::imap::ImapMailbox;
    let server = ImapServer::start();
    let mut f = fixture(true).await;
    let root = f.vote_message_id().await;
    let all = fixtures(&root);
    let mut admin = imap_admin(server.port).await;
    admin.create("dev").await.unwrap();
    for name in ["01-thunderbird-flowed.eml", "03-outlook-base64.eml"] {
        admin.append("dev", None, None, &all[name]).await.unwrap();
    }
    let project: trs_core::ProjectName = "vot".parse().unwrap();
    let url = format!("imap://{USER}@127.0.0.1:{}/dev", server.port);
    let settings = trs_core::MailSettings { imap: Some(url.clone()), ..Default::default() };
    trs_app::mail::set_settings(f.app(), &f.w.rm.caller(), &project, None, settings).await.unwrap();
    f.w.app.imap_passwords =
        Some(trs_app::mail::imap::passwords_from(|name| (name == "TRS_IMAP_PASSWORD").then(|| PASSWORD.to_string())));
    f.w.clock.set(IMPORT);
    let identity = ImapMailbox::parse(&url).unwrap().identity();
    let poll = || async {
        let polled = vote::mail_poll::poll_all(f.app()).await.unwrap();
        assert_eq!(polled.len(), 1, "{polled:#?}");
        let p = polled.into_iter().next().unwrap();
        let report = p.report.unwrap_or_else(|| panic!("{:?}: {}", p.error, server.log()));
        (p.fetched, report)
    };
    let mark = || async { vote::mail_poll::mailbox_mark(f.app(), &project, &identity).await.unwrap().unwrap().0.mark };

    let (fetched, first) = poll().await;
    assert_eq!((fetched, first.replies.len(), first.already_read.len()), (Some(2), 2, 0), "{first:#?}");
    let before = mark().await;
    assert_eq!(before.last_uid, 2);

    let (fetched, quiet) = poll().await;
    assert_eq!(fetched, Some(0), "nothing new: nothing fetched ({quiet:#?})");
    assert!(quiet.replies.is_empty() && quiet.already_read.is_empty(), "{quiet:#?}");

    admin.append("dev", None, None, &all["04-apple-html-only.eml"]).await.unwrap();
    let (fetched, later) = poll().await;
    assert_eq!(fetched, Some(1), "only the new reply is fetched ({later:#?})");
    let ids: Vec<&str> = later.replies.iter().map(|r| r.message_id.as_str()).collect();
    assert_eq!(ids, ["<8C1E2D3F-4A5B-4C6D-8E7F-9A0B1C2D3E4F@example.org>"]);
    assert!(later.already_read.is_empty(), "{later:#?}");
    assert_eq!(mark().await, trs_app::mail::imap::UidMark { last_uid: 3, ..before });

    // The list server recreates the mailbox: new UIDVALIDITY, the UIDs start at 1 again.
    admin.select("INBOX").await.unwrap();
    admin.delete("dev").await.unwrap();
    admin.create("dev").await.unwrap();
    for name in
        ["01-thunderbird-flowed.eml", "03-outlook-base64.eml", "04-apple-html-only.eml", "07-gnupg-pgp-mime-signed.eml"]
    {
        admin.append("dev", None, None, &all[name]).await.unwrap();
    }
    let (fetched, again) = poll().await;
    assert_eq!(fetched, Some(4), "a new UIDVALIDITY: everything read again ({again:#?})");
    assert_eq!(again.already_read.len(), 3, "{again:#?}");
    let gus = outcome_of(&again, "<b7e0c1d2-3e4f-4a5b-8c6d-7e8f9a0b1c2d@example.org>");
    assert_eq!((gus.0, gus.1), (ReplyOutcome::Counted, Some(VoteValue::Plus)));
    let after = mark().await;
    assert_ne!(after.uid_validity, before.uid_validity);
    assert_eq!(after.last_uid, 4);
    let (fetched, _) = poll().await;
    assert_eq!(fetched, Some(0));
}

/// The mark moves only once the replies fetched were recorded: a poll whose ballot could not
/// be written (the store failed) leaves it, and the next poll fetches the same messages again
/// and records them; only then is there nothing left to fetch.
#[tokio::test]
async fn a_poll_that_could_not_record_the_replies_reads_them_again() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use trs_app::fault_injection::{ItemCall, ObservedItems};
    use trs_app::imap_server::{ImapServer, PASSWORD};
    let mut server = ImapServer::start();
    let mut f = fixture(true).await;
    let root = f.vote_message_id().await;
    let all = fixtures(&root);
    for name in ["01-thunderbird-flowed.eml", "03-outlook-base64.eml"] {
        server.deliver(&all[name]);
    }
    let project: trs_core::ProjectName = "vot".parse().unwrap();
    let settings = trs_core::MailSettings { imap: Some(server.url()), ..Default::default() };
    trs_app::mail::set_settings(f.app(), &f.w.rm.caller(), &project, None, settings).await.unwrap();
    f.w.app.imap_passwords =
        Some(trs_app::mail::imap::passwords_from(|name| (name == "TRS_IMAP_PASSWORD").then(|| PASSWORD.to_string())));
    f.w.clock.set(IMPORT);
    // The store fails every write of a reply read while `failing` is set.
    let failing = Arc::new(AtomicBool::new(true));
    let fail = failing.clone();
    f.w.app.items = Arc::new(ObservedItems::new(f.w.app.items.clone(), move |call| match call {
        ItemCall::Transact(ops)
            if fail.load(Ordering::SeqCst) && ops.iter().any(|op| op.key().sk.starts_with("reply#")) =>
        {
            Some(trs_storage::StoreError::Backend("injected: the store is down".into()))
        }
        _ => None,
    }));
    let identity = trs_app::mail::imap::ImapMailbox::parse(&server.url()).unwrap().identity();

    let polled = vote::mail_poll::poll_all(f.app()).await.unwrap();
    assert_eq!(polled[0].fetched, Some(2), "{polled:#?}");
    assert!(polled[0].error.as_deref().is_some_and(|e| e.contains("injected")), "{polled:#?}");
    assert_eq!(vote::mail_poll::mailbox_mark(f.app(), &project, &identity).await.unwrap(), None, "the mark stays");

    failing.store(false, Ordering::SeqCst);
    let polled = vote::mail_poll::poll_all(f.app()).await.unwrap();
    let report = polled[0].report.as_ref().unwrap_or_else(|| panic!("{polled:#?}"));
    assert_eq!((polled[0].fetched, report.replies.len()), (Some(2), 2), "{polled:#?}");
    assert_eq!(vote::show(f.app(), &rel()).await.unwrap().ballots.len(), 2);
    let polled = vote::mail_poll::poll_all(f.app()).await.unwrap();
    assert_eq!(polled[0].fetched, Some(0), "{polled:#?}");
}

//! The mails after a vote: `[ANNOUNCE]` held back until every file downloads as voted from
//! its public URL (a loopback HTTP mirror the test fills, a clock the test moves), and the
//! end-of-life, archive and revocation notices, each queued with its event and sent once.

use axum::http::{StatusCode, Uri};
use axum::response::IntoResponse;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use trs_app::mail::{self, MailKind, MailRecord, MailState};
use trs_app::tasks::{self, TaskKind, TaskState};
use trs_app::test_support::{RecordingMailer, World, pass_vote_for_tests, upload_files, world};
use trs_app::{lifecycle, promote};
use trs_core::{MailSettings, ProjectName, ReleaseId};

const FILES: [(&str, &[u8]); 3] =
    [("foo-1.0.tar.gz", b"the release archive"), ("foo-1.0.tar.gz.asc", b"a signature"), ("NOTICE", b"notice")];

fn foo() -> ProjectName {
    "foo".parse().unwrap()
}

fn id() -> ReleaseId {
    ReleaseId { project: foo(), product: None, version: "1.0".parse().unwrap() }
}

/// A download host on loopback: serves exactly the paths the test put there.
struct Mirror {
    files: Arc<Mutex<HashMap<String, Vec<u8>>>>,
    url: String,
}

impl Mirror {
    async fn start() -> Mirror {
        let files: Arc<Mutex<HashMap<String, Vec<u8>>>> = Arc::default();
        let served = files.clone();
        let router = axum::Router::new().fallback(move |uri: Uri| {
            let bytes = served.lock().unwrap().get(uri.path()).cloned();
            async move {
                match bytes {
                    Some(b) => (StatusCode::OK, b).into_response(),
                    None => StatusCode::NOT_FOUND.into_response(),
                }
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Mirror { files, url }
    }

    fn put(&self, name: &str, bytes: &[u8]) {
        self.files.lock().unwrap().insert(format!("/current/foo/1.0/{name}"), bytes.to_vec());
    }
}

/// A world whose mails go to a recording transport and whose downloads are `mirror`'s.
async fn mailing_world(mirror: &Mirror) -> (World, Arc<RecordingMailer>) {
    let mut w = world().await;
    let mailer = Arc::new(RecordingMailer::default());
    w.app.mailer = Some(mailer.clone());
    w.app.download_url = Some(mirror.url.clone());
    w.app.downloader = Some(Arc::new(trs_registry_clients::HttpDownloader::default()));
    let settings = MailSettings {
        vote_to: vec!["dev@foo.example".into()],
        announce_to: vec!["announce@foo.example".into()],
        from: Some("Foo Releases <releases@foo.example>".into()),
        ..Default::default()
    };
    mail::set_settings(&w.app, &w.rm.caller(), &foo(), None, settings).await.unwrap();
    (w, mailer)
}

/// Uploads FILES as foo 1.0, passes its vote and runs the promotion task (the mail task it
/// queues stays queued).
async fn promoted(w: &World) {
    upload_files(&w.app, &w.blobs, &w.rm.caller(), &id(), &FILES).await;
    pass_vote_for_tests(&w.app, &id()).await;
    let task = promote::request(&w.app, &w.rm.caller(), &id()).await.unwrap();
    tasks::run(&w.app, &task.id).await.unwrap();
    assert_eq!(tasks::get_task(&w.app, &task.id).await.unwrap().0.state, TaskState::Done);
}

async fn mails(w: &World) -> Vec<MailRecord> {
    mail::log(&w.app, &foo()).await.unwrap()
}

async fn the_mail(w: &World, kind: MailKind) -> MailRecord {
    let all = mails(w).await;
    let found: Vec<_> = all.iter().filter(|m| m.kind == kind).cloned().collect();
    assert_eq!(found.len(), 1, "one {kind:?} mail: {all:#?}");
    found[0].clone()
}

/// The send-mail task of the announcement.
async fn announce_task(w: &World) -> tasks::Task {
    let record = the_mail(w, MailKind::Announce).await;
    let all: Vec<tasks::Task> = tasks::unfinished_tasks(&w.app).await.unwrap();
    all.into_iter()
        .find(|t| matches!(&t.kind, TaskKind::SendMail { event_seq, .. } if *event_seq == record.event_seq))
        .expect("the announcement's task is unfinished")
}

#[tokio::test]
async fn the_announcement_waits_until_every_file_downloads_as_voted() {
    let mirror = Mirror::start().await;
    let (w, mailer) = mailing_world(&mirror).await;
    promoted(&w).await;
    // The mirror has two of the three files.
    mirror.put("foo-1.0.tar.gz", FILES[0].1);
    mirror.put("foo-1.0.tar.gz.asc", FILES[1].1);
    tasks::sweep(&w.app).await.unwrap();
    assert!(mailer.sent().is_empty(), "held back while NOTICE is missing");
    let held = the_mail(&w, MailKind::Announce).await;
    assert_eq!((held.state, held.checks), (MailState::Queued, 1));
    let why = held.waiting.clone().unwrap();
    assert!(why.contains(&format!("NOTICE: HTTP 404 at {}/current/foo/1.0/NOTICE", mirror.url)), "{why}");
    assert!(!why.contains("foo-1.0.tar.gz"), "the files that are there are not listed: {why}");
    let first_wait = mail::announce_backoff_secs(1);
    assert_eq!(held.next_check_at, Some(w.app.now() + first_wait));
    let task = announce_task(&w).await;
    assert_eq!((task.state, task.not_before), (TaskState::Queued, held.next_check_at));

    // Before its time the task is not taken: no second check.
    w.clock.advance(first_wait - 1);
    tasks::sweep(&w.app).await.unwrap();
    assert_eq!(the_mail(&w, MailKind::Announce).await.checks, 1);

    // NOTICE appears with other bytes than voted: still held back, the wait doubles.
    mirror.put("NOTICE", b"a notice nobody voted on");
    w.clock.advance(1);
    tasks::sweep(&w.app).await.unwrap();
    let held = the_mail(&w, MailKind::Announce).await;
    assert_eq!(held.checks, 2);
    assert!(held.waiting.as_deref().unwrap().contains("serves other bytes"), "{held:?}");
    assert_eq!(held.next_check_at, Some(w.app.now() + mail::announce_backoff_secs(2)));
    assert!(mailer.sent().is_empty());

    // The voted bytes arrive: the next check sends it, once.
    mirror.put("NOTICE", FILES[2].1);
    w.clock.advance(mail::announce_backoff_secs(2));
    tasks::sweep(&w.app).await.unwrap();
    tasks::sweep(&w.app).await.unwrap();
    let sent = mailer.sent();
    assert_eq!(sent.len(), 1, "{sent:#?}");
    let sent_record = the_mail(&w, MailKind::Announce).await;
    assert_eq!((sent_record.state, sent_record.to.clone()), (MailState::Sent, vec!["announce@foo.example".into()]));
    assert_eq!((sent_record.waiting, sent_record.next_check_at), (None, None));
    let message = &sent[0].replace("\r\n", "\n");
    assert!(message.contains("Subject: [ANNOUNCE] foo 1.0 released"), "{message}");
    assert!(message.contains("To: announce@foo.example"), "{message}");
    assert!(message.contains(&format!("Message-ID: {}", sent_record.message_id)), "{message}");
    assert!(message.contains(&format!("\n    {}/current/foo/1.0/NOTICE\n", mirror.url)), "{message}");
    let preview = mail::preview(&w.app, &id(), MailKind::Announce).await.unwrap();
    assert!(preview.body.lines().all(|l| l.chars().count() <= 72), "{}", preview.body);
    assert!(message.contains(&preview.body), "the preview is what was sent");
}

#[tokio::test]
async fn an_announcement_whose_files_never_appear_is_reported_not_sent_at_the_deadline() {
    let mirror = Mirror::start().await;
    let (w, mailer) = mailing_world(&mirror).await;
    promoted(&w).await;
    tasks::sweep(&w.app).await.unwrap();
    assert_eq!(the_mail(&w, MailKind::Announce).await.state, MailState::Queued);
    w.clock.advance(mail::ANNOUNCE_DEADLINE_SECS);
    tasks::sweep(&w.app).await.unwrap();
    let given_up = the_mail(&w, MailKind::Announce).await;
    assert_eq!(given_up.state, MailState::NotSent);
    let reason = given_up.reason.unwrap();
    assert!(reason.contains("not all downloadable as voted 24 h after the promotion"), "{reason}");
    assert!(reason.contains("NOTICE: HTTP 404"), "{reason}");
    assert!(mailer.sent().is_empty());
    assert!(tasks::unfinished_tasks(&w.app).await.unwrap().is_empty(), "the task is done");
}

#[tokio::test]
async fn end_of_life_archive_and_revocation_each_send_one_notice() {
    let mirror = Mirror::start().await;
    for (name, bytes) in FILES {
        mirror.put(name, bytes);
    }
    let (w, mailer) = mailing_world(&mirror).await;
    promoted(&w).await;
    tasks::sweep(&w.app).await.unwrap();
    let now = w.app.now();
    lifecycle::set_dates(&w.app, &w.rm.caller(), lifecycle::DatesTarget::Release(id()), Some(now + 10), None)
        .await
        .unwrap();
    w.clock.advance(10);
    lifecycle::run_scheduled(&w.app).await.unwrap();
    // A second apart each, so the tasks run (and the mails go out) in the events' order.
    w.clock.advance(1);
    lifecycle::archive_release(&w.app, Some(&w.rm.caller()), &id()).await.unwrap();
    w.clock.advance(1);
    let reason = format!(
        "The archive holds a build script that downloads and runs {} without checking it; see the advisory",
        "https://security.foo.example/advisories/2026-0001-build-script-downloads-and-runs-unchecked-code"
    );
    lifecycle::revoke(&w.app, &w.rm.caller(), &id(), &reason).await.unwrap();
    tasks::sweep(&w.app).await.unwrap();
    // A second sweep (a task delivered again) sends nothing twice.
    tasks::sweep(&w.app).await.unwrap();

    let sent = mailer.sent();
    let subjects: Vec<&str> =
        sent.iter().map(|m| m.lines().find(|l| l.starts_with("Subject: ")).unwrap().trim()).collect();
    assert_eq!(
        subjects,
        [
            "Subject: [ANNOUNCE] foo 1.0 released",
            "Subject: [END-OF-LIFE] foo 1.0",
            "Subject: [ARCHIVED] foo 1.0",
            "Subject: [REVOKED] foo 1.0"
        ]
    );
    assert_eq!(the_mail(&w, MailKind::EndOfLife).await.to, ["dev@foo.example"]);
    assert_eq!(the_mail(&w, MailKind::Archived).await.to, ["dev@foo.example"]);
    assert_eq!(the_mail(&w, MailKind::Revoked).await.to, ["announce@foo.example"], "revocation goes to the users");
    let ids: std::collections::HashSet<String> = mails(&w).await.into_iter().map(|m| m.message_id).collect();
    assert_eq!(ids.len(), 4, "a Message-ID per event");

    let archived = mail::preview(&w.app, &id(), MailKind::Archived).await.unwrap();
    assert!(archived.body.contains(&format!("\n  {}/archive/foo/1.0/\n", mirror.url)), "{}", archived.body);
    let revoked = mail::preview(&w.app, &id(), MailKind::Revoked).await.unwrap();
    assert!(
        revoked.body.contains(
            "\n  https://security.foo.example/advisories/2026-0001-build-script-downloads-and-runs-unchecked-code\n"
        ),
        "the URL whole on its own line: {}",
        revoked.body
    );
    assert!(
        revoked.body.contains("\n  The archive holds a build script that downloads and runs\n"),
        "{}",
        revoked.body
    );
    for mail in [&archived, &revoked, &mail::preview(&w.app, &id(), MailKind::EndOfLife).await.unwrap()] {
        for line in mail.body.lines() {
            assert!(line.chars().count() <= 72 || line.trim().starts_with("https://"), "{line:?}");
        }
    }
}

#[tokio::test]
async fn a_notice_is_previewed_only_after_its_event() {
    let mirror = Mirror::start().await;
    let (w, _) = mailing_world(&mirror).await;
    upload_files(&w.app, &w.blobs, &w.rm.caller(), &id(), &FILES).await;
    for kind in [MailKind::Announce, MailKind::EndOfLife, MailKind::Archived, MailKind::Revoked] {
        let e = mail::preview(&w.app, &id(), kind).await.unwrap_err();
        assert_eq!((e.status(), e.code()), (409, "no-such-event"), "{kind:?}: {e}");
    }
    for kind in MailKind::ALL {
        assert_eq!(kind.as_str().parse::<MailKind>().unwrap(), kind);
    }
    let e = "announcement".parse::<MailKind>().unwrap_err();
    assert_eq!(e.code(), "unknown-mail-kind");
    assert!(e.to_string().contains("end-of-life"), "{e}");
}

/// A mail the server refuses for good (SES: an unverified sender) is recorded as not sent at
/// once, with the reason, instead of failing its task (retried as a fault) five times.
#[tokio::test]
async fn a_refused_mail_is_recorded_not_sent_at_once() {
    let mirror = Mirror::start().await;
    let (w, mailer) = mailing_world(&mirror).await;
    upload_files(&w.app, &w.blobs, &w.rm.caller(), &id(), &FILES).await;
    let lenient = trs_core::PolicyOverride { strict: Some(false), ..Default::default() };
    trs_app::projects::set_policy(&w.app, &w.rm.caller(), &foo(), None, lenient).await.unwrap();
    mailer.fail_with(Some(mail::SendError::Refused("MessageRejected: Email address is not verified".into())));
    trs_app::vote::open(&w.app, &w.rm.caller(), &id(), None).await.unwrap();
    let vote = the_mail(&w, MailKind::Vote).await;
    let all: Vec<tasks::Task> = tasks::unfinished_tasks(&w.app).await.unwrap();
    let task = all
        .into_iter()
        .find(|t| matches!(&t.kind, TaskKind::SendMail { event_seq, .. } if *event_seq == vote.event_seq))
        .expect("the [VOTE] mail's task");
    tasks::run(&w.app, &task.id).await.unwrap();
    let record = the_mail(&w, MailKind::Vote).await;
    assert_eq!(record.state, MailState::NotSent);
    let reason = record.reason.unwrap();
    assert!(reason.contains("refused by the mail server: MessageRejected"), "{reason}");
    assert_eq!(tasks::get_task(&w.app, &task.id).await.unwrap().0.state, TaskState::Done);
    assert!(mailer.sent().is_empty());
}

/// Issue 19: publishing an advisory sends one `[SECURITY]` notice to the announce lists, queued
/// with its `advisory-published` event; an embargoed advisory (recorded, edited) sends nothing,
/// and a change to a published one is an event but not another notice.
#[tokio::test]
async fn a_published_advisory_sends_one_notice_to_the_announce_lists_and_an_embargoed_one_none() {
    use trs_app::cve::{self, AdvisoryEdit, NewAdvisory};
    let mirror = Mirror::start().await;
    let (w, mailer) = mailing_world(&mirror).await;
    let cve: trs_core::CveId = "CVE-2026-40001".parse().unwrap();
    let new = NewAdvisory {
        id: Some(cve.clone()),
        summary: Some("Archive entries escape the target folder".into()),
        details: Some(format!(
            "{}\n\nUpgrade, or extract only archives you trust.",
            "The reader follows `..`. ".repeat(8)
        )),
        severity: Some(trs_core::Severity::High),
        affected: vec![">=1.0.0,<1.2.3".parse().unwrap()],
        fixed: Some("1.2.3".parse().unwrap()),
        references: vec![format!("https://security.foo.example/advisories/{}", "long-".repeat(20))],
        embargoed_until: Some(w.app.now() + 30 * 86_400),
        ..Default::default()
    };
    cve::add_advisory(&w.app, &w.rm.caller(), &foo(), new).await.unwrap();
    let edit = AdvisoryEdit { severity: Some(trs_core::Severity::Critical), ..Default::default() };
    cve::edit_advisory(&w.app, &w.rm.caller(), &foo(), &cve, edit).await.unwrap();
    tasks::sweep(&w.app).await.unwrap();
    assert!(mails(&w).await.is_empty(), "under embargo: no mail queued");
    assert!(mailer.sent().is_empty());

    w.clock.advance(60);
    cve::publish_advisory(&w.app, &w.rm.caller(), &foo(), &cve, true).await.unwrap();
    tasks::sweep(&w.app).await.unwrap();
    let record = the_mail(&w, MailKind::Advisory).await;
    assert_eq!(
        (record.state, record.to.as_slice()),
        (MailState::Sent, ["announce@foo.example".to_string()].as_slice())
    );
    assert_eq!(record.advisory.as_ref(), Some(&cve));
    assert_eq!(record.release.version.as_str(), "1.2.3", "the notice points to the fix");
    let sent = mailer.sent();
    assert_eq!(sent.len(), 1);
    assert!(
        sent[0].contains("Subject: [SECURITY] CVE-2026-40001: Archive entries escape the target folder"),
        "{}",
        sent[0]
    );
    assert!(sent[0].contains(&format!("Message-ID: {}", record.message_id)), "{}", sent[0]);

    // A change after publication is public at once, but not another notice.
    let edit = AdvisoryEdit { severity: Some(trs_core::Severity::High), ..Default::default() };
    cve::edit_advisory(&w.app, &w.rm.caller(), &foo(), &cve, edit).await.unwrap();
    tasks::sweep(&w.app).await.unwrap();
    assert_eq!(mails(&w).await.len(), 1);
    assert_eq!(mailer.sent().len(), 1);

    // The body: what, how bad, which versions, what fixes it, where to read more; 72 columns.
    let e = mail::preview(&w.app, &record.release, MailKind::Advisory).await.unwrap_err();
    assert_eq!((e.status(), e.code()), (409, "not-a-release-mail"), "{e}");
    let events = trs_app::stream::all_events(&w.app, &trs_core::StreamId::Project(foo())).await.unwrap();
    let event = events.iter().find(|e| e.seq == record.event_seq).unwrap();
    let body = mail::notices::render_advisory(&w.app, &foo(), event).await.unwrap().body;
    for needle in [
        "The foo security team published advisory CVE-2026-40001",
        "Severity:  critical",
        "Affected:  >=1.0.0,<1.2.3",
        "Fixed in:  1.2.3, not released yet.",
        "\nUpgrade, or extract only archives you trust.\n",
        "/api/v1/projects/foo/advisories/CVE-2026-40001\n",
    ] {
        assert!(body.contains(needle), "{needle:?} in:\n{body}");
    }
    for line in body.lines() {
        assert!(line.chars().count() <= 72 || line.trim().starts_with("https://"), "{line:?}");
    }
}

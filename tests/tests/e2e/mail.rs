//! Vote mails through a real SMTP server: `trs serve --smtp` (TRS_SMTP_URL) sends `[VOTE]` when
//! a vote opens, `[RESULT]` when it closes and `[ANNOUNCE]` once the promoted files download
//! from its public URL, to the lists `trs project mail` set; aiosmtpd on
//! loopback receives them and Python's `email` package reads them back, header by header.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use trs_tests::smtp_server::{SmtpServer, parse_mail};
use trs_tests::*;

fn header(mail: &serde_json::Value, name: &str) -> String {
    let values = mail["headers"][name].as_array().unwrap_or_else(|| panic!("no {name} header: {mail:#}"));
    assert_eq!(values.len(), 1, "one {name} header: {mail:#}");
    values[0].as_str().unwrap().to_string()
}

#[test]
fn vote_and_result_mails_reach_the_list_threaded_and_once() {
    let smtp = SmtpServer::start();
    let team = Team::with_server_env("ed25519", &[("TRS_SMTP_URL", smtp.url())]);

    // Settings: checked addresses (a stable code, nothing changed), then set by the RM.
    let out = team.as_rm(&["project", "mail", "foo", "--vote-to", "dev@foo.example,not an address"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("invalid-mail-address"), "{}", stderr(&out));
    let shown = String::from_utf8_lossy(&ok(&team.anonymous(&["project", "mail", "foo"])).stdout).into_owned();
    assert!(shown.contains("vote-to      (none)"), "{shown}");
    let out = ok(&team.as_rm(&[
        "project",
        "mail",
        "foo",
        "--vote-to",
        "dev@foo.example,private@foo.example",
        "--from",
        "Zoë Ärger <releases@foo.example>",
        "--reply-to",
        "dev@foo.example",
        "--json",
    ]))
    .clone();
    assert_eq!(stdout_json(&out)["mail"]["vote_to"], serde_json::json!(["dev@foo.example", "private@foo.example"]));
    let out = ok(&team.anonymous(&["events", "--project", "foo", "--json"])).clone();
    assert!(String::from_utf8_lossy(&out.stdout).contains("mail-settings-changed"));

    ok(&team.as_rm(&["project", "policy", "foo", "--min-vote-hours", "0", "--min-binding", "1", "--strict", "false"]));
    let tarball = source_tarball(team.work.path(), "foo-1.0.0-src.tar.gz", "foo-1.0.0");
    ok(&team.as_rm(&args_with(&["upload", "foo", "1.0.0"], &team.signed_set(&tarball))));
    let opened = stdout_json(ok(&team.as_rm(&["vote", "start", "foo", "1.0.0", "--json"])));
    let revision_key = opened["vote"]["revision"]["key"].as_str().unwrap().to_string();

    let received = smtp.wait_for(1);
    let vote = parse_mail(&received[0]);
    assert_eq!(vote["from_display_name"], "Zoë Ärger");
    assert_eq!(vote["from_address"], "releases@foo.example");
    // The display name is encoded on the wire (RFC 2047), not sent as raw UTF-8.
    let raw_from = vote["raw_headers"]["from"][0].as_str().unwrap();
    assert!(raw_from.is_ascii() && raw_from.to_ascii_lowercase().contains("=?utf-8?"), "{raw_from}");
    assert_eq!(vote["to_addresses"], serde_json::json!(["dev@foo.example", "private@foo.example"]));
    assert_eq!(header(&vote, "reply-to"), "dev@foo.example");
    assert_eq!(header(&vote, "subject"), "[VOTE] Release foo 1.0.0 (revision 1)");
    let vote_id = header(&vote, "message-id");
    let host = team.server.url.trim_start_matches("http://").split(':').next().unwrap().to_string();
    assert!(vote_id.starts_with('<') && vote_id.ends_with(&format!(".foo@{host}>")), "{vote_id}");
    assert!(vote["headers"]["in-reply-to"].is_null(), "a call for a vote starts a thread");
    assert!(!header(&vote, "date").is_empty());
    assert_eq!((vote["content_type"].as_str(), vote["charset"].as_str()), (Some("text/plain"), Some("utf-8")));
    let body = vote["body"].as_str().unwrap();
    assert!(body.contains(&revision_key) && body.contains("foo-1.0.0-src.tar.gz"), "{body}");
    let envelope = SmtpServer::envelope(&received[0]);
    assert_eq!(envelope["mail_from"], "releases@foo.example");

    ok(&team.as_admin(&["vote", "cast", "foo", "1.0.0", "+1"]));
    ok(&team.as_rm(&["vote", "close", "foo", "1.0.0"]));
    let received = smtp.wait_for(2);
    let result = parse_mail(&received[1]);
    assert_eq!(header(&result, "subject"), "[RESULT] [VOTE] Release foo 1.0.0 (revision 1)");
    assert_eq!(header(&result, "in-reply-to"), vote_id);
    assert_eq!(header(&result, "references"), vote_id);
    assert_ne!(header(&result, "message-id"), vote_id);
    assert!(result["body"].as_str().unwrap().contains("has passed"), "{result:#}");

    // The log says what went where, under which id.
    let log = stdout_json(ok(&team.anonymous(&["mail", "log", "foo", "--json"])));
    let mails = log["mails"].as_array().unwrap();
    assert_eq!(mails.len(), 2, "{log:#}");
    assert_eq!((mails[0]["kind"].as_str(), mails[0]["state"].as_str()), (Some("result"), Some("sent")));
    assert_eq!((mails[1]["kind"].as_str(), mails[1]["message_id"].as_str()), (Some("vote"), Some(vote_id.as_str())));
    let shown = String::from_utf8_lossy(&ok(&team.anonymous(&["mail", "log", "foo"])).stdout).into_owned();
    assert!(shown.contains("sent to dev@foo.example, private@foo.example"), "{shown}");

    // The preview is what was sent.
    let preview = String::from_utf8_lossy(&ok(&team.anonymous(&["mail", "preview", "foo", "1.0.0", "result"])).stdout)
        .into_owned();
    assert!(preview.starts_with("Subject: [RESULT] [VOTE] Release foo 1.0.0"), "{preview}");
    let out = team.anonymous(&["mail", "preview", "foo", "1.0.0", "cancelled"]);
    assert!(stderr(&out).contains("vote-not-cancelled"), "{}", stderr(&out));

    // The promotion's [ANNOUNCE] goes to the announce list once `trs serve` itself serves
    // every file as voted (it fetches them from its own public URL, as a downloader would).
    ok(&team.as_rm(&["project", "mail", "foo", "--announce-to", "announce@foo.example"]));
    let task = stdout_json(ok(&team.as_rm(&["promote", "foo", "1.0.0", "--json"])));
    assert_eq!(task["state"], "done", "{task:#}");
    let received = smtp.wait_for(3);
    let announce = parse_mail(&received[2]);
    assert_eq!(header(&announce, "subject"), "[ANNOUNCE] foo 1.0.0 released");
    assert_eq!(announce["to_addresses"], serde_json::json!(["announce@foo.example"]));
    assert!(announce["headers"]["in-reply-to"].is_null(), "{announce:#}");
    let body = announce["body"].as_str().unwrap();
    let url = format!("{}/current/foo/1.0.0/foo-1.0.0-src.tar.gz", team.server.url);
    assert!(body.contains(&format!("\n    {url}\n")), "{body}");
    let downloaded = reqwest::blocking::get(&url).unwrap();
    assert_eq!(downloaded.status(), 200, "the announced URL serves the file");
    let log = stdout_json(ok(&team.anonymous(&["mail", "log", "foo", "--json"])));
    assert_eq!((log["mails"][0]["kind"].as_str(), log["mails"][0]["state"].as_str()), (Some("announce"), Some("sent")));
}

/// Issue 19: `trs cve publish` sends a `[SECURITY]` notice to the announce list through a real
/// SMTP server; while the advisory is under embargo (recorded, edited) nothing is queued or
/// sent, and a change after publication sends no second notice.
#[test]
fn publishing_an_advisory_sends_one_notice_to_the_announce_list() {
    let smtp = SmtpServer::start();
    let team = Team::with_server_env("ed25519", &[("TRS_SMTP_URL", smtp.url())]);
    ok(&team.as_rm(&[
        "project",
        "mail",
        "foo",
        "--announce-to",
        "announce@foo.example",
        "--from",
        "Foo Security <security@foo.example>",
    ]));
    let cve = "CVE-2026-40002";
    ok(&team.as_rm(&[
        "cve",
        "add",
        "foo",
        "--id",
        cve,
        "--summary",
        "Archive entries escape the target folder",
        "--severity",
        "high",
        "--affected",
        ">=1.0.0,<1.3.0",
        "--fixed",
        "1.3.0",
        "--embargoed-until",
        "2099-01-01",
    ]));
    ok(&team.as_rm(&["cve", "edit", "foo", cve, "--details", "The reader follows `..` in entry names."]));
    let log = stdout_json(ok(&team.as_rm(&["mail", "log", "foo", "--json"])));
    assert_eq!(log["mails"], serde_json::json!([]), "nothing queued under embargo: {log:#}");
    assert!(smtp.received().is_empty());

    ok(&team.as_rm(&["cve", "publish", "foo", cve, "--force"]));
    let received = smtp.wait_for(1);
    let notice = parse_mail(&received[0]);
    assert_eq!(header(&notice, "subject"), format!("[SECURITY] {cve}: Archive entries escape the target folder"));
    assert_eq!(notice["to_addresses"], serde_json::json!(["announce@foo.example"]));
    let body = notice["body"].as_str().unwrap();
    assert!(body.contains(&format!("published advisory {cve}")), "{body}");
    assert!(body.contains("Fixed in:  1.3.0, not released yet.") && body.contains("entry names."), "{body}");
    assert!(body.contains(&format!("/api/v1/projects/foo/advisories/{cve}\n")), "{body}");

    // A change after publication: an event, but no second notice.
    ok(&team.as_rm(&["cve", "edit", "foo", cve, "--severity", "critical"]));
    let log = stdout_json(ok(&team.as_rm(&["mail", "log", "foo", "--json"])));
    let mails = log["mails"].as_array().unwrap();
    assert_eq!(mails.len(), 1, "{log:#}");
    assert_eq!((mails[0]["kind"].as_str(), mails[0]["advisory"].as_str()), (Some("advisory"), Some(cve)));
    assert_eq!(mails[0]["message_id"].as_str(), Some(header(&notice, "message-id").as_str()));
    let text = String::from_utf8(ok(&team.as_rm(&["mail", "log", "foo"])).stdout.clone()).unwrap();
    assert!(text.contains(&format!("advisory   foo {cve}")) && text.contains("sent to announce@foo.example"), "{text}");
    assert_eq!(smtp.received().len(), 1);
}

/// A download host in front of `trs serve` (what `--download-url` names: a CDN or mirror),
/// on loopback: passes each GET on to the server, but answers 404 for paths ending in a
/// name the test holds back, as a CDN that has not picked the file up yet does.
struct DownloadHost {
    url: String,
    upstream: Arc<Mutex<String>>,
    held: Arc<Mutex<Vec<String>>>,
    /// Requests answered 404 so far.
    refused: Arc<AtomicUsize>,
}

impl DownloadHost {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let host = DownloadHost {
            url,
            upstream: Arc::new(Mutex::new(String::new())),
            held: Arc::new(Mutex::new(Vec::new())),
            refused: Arc::new(AtomicUsize::new(0)),
        };
        let (upstream, held, refused) = (host.upstream.clone(), host.held.clone(), host.refused.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().map_while(Result::ok) {
                let (upstream, held, refused) = (upstream.clone(), held.clone(), refused.clone());
                std::thread::spawn(move || {
                    let _ = serve_one(client, &upstream.lock().unwrap().clone(), &held, &refused);
                });
            }
        });
        host
    }

    fn hold(&self, name: &str) {
        self.held.lock().unwrap().push(name.to_string());
    }

    fn release(&self, name: &str) {
        self.held.lock().unwrap().retain(|n| n != name);
    }
}

/// One request on its own connection (`Connection: close` both ways).
fn serve_one(
    mut client: TcpStream,
    upstream: &str,
    held: &Mutex<Vec<String>>,
    refused: &AtomicUsize,
) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut reader = BufReader::new(client.try_clone()?);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        head.push(line);
    }
    let path = head.first().and_then(|l| l.split_whitespace().nth(1)).unwrap_or("/").to_string();
    if held.lock().unwrap().iter().any(|name| path.ends_with(name.as_str())) {
        refused.fetch_add(1, Ordering::SeqCst);
        return client.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
    }
    let authority = upstream.trim_start_matches("http://");
    let mut server = TcpStream::connect(authority)?;
    write!(server, "GET {path} HTTP/1.1\r\nhost: {authority}\r\nconnection: close\r\n\r\n")?;
    std::io::copy(&mut server, &mut client)?;
    Ok(())
}

/// The mails received so far whose subject starts with `[ANNOUNCE]`, parsed.
fn announcements(smtp: &SmtpServer) -> Vec<serde_json::Value> {
    smtp.received()
        .iter()
        .map(|eml| parse_mail(eml))
        .filter(|m| m["headers"]["subject"][0].as_str().is_some_and(|s| s.starts_with("[ANNOUNCE]")))
        .collect()
}

/// The mail log's record of the release's `[ANNOUNCE]` once it satisfies `done`.
fn announce_record(
    team: &Team,
    version: &str,
    what: &str,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    poll_until(what, || {
        let log = stdout_json(ok(&team.anonymous(&["mail", "log", "foo", "--json"])));
        log["mails"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|m| m["kind"] == "announce" && m["release"]["version"] == version && done(m))
            .cloned()
            .ok_or_else(|| format!("{log}"))
    })
}

/// Votes on and promotes `version` of foo (one source tarball), the vote and result mails
/// going to the list.
fn release(team: &Team, version: &str) {
    let name = format!("foo-{version}-src.tar.gz");
    let tarball = source_tarball(team.work.path(), &name, &format!("foo-{version}"));
    team.vote_through_and_promote(version, &team.signed_set(&tarball));
}

/// The `[ANNOUNCE]` is held back while a file is missing at its public URL, checked over HTTP
/// as a downloader would (the download host in front of `trs serve` answers 404 for it), and
/// reaches the real SMTP server once, threaded as recorded, when the file is there; when it
/// is not there by the deadline, nothing is sent and the mail log says why. The checks come
/// back on the test clock (moved, never slept on).
#[test]
fn the_announcement_waits_for_every_file_at_its_public_url() {
    let smtp = SmtpServer::start();
    let downloads = DownloadHost::start();
    downloads.hold("foo-1.0.0-src.tar.gz");
    downloads.hold("foo-1.0.1-src.tar.gz");
    let team =
        Team::with_server_env("ed25519", &[("TRS_SMTP_URL", smtp.url()), ("TRS_DOWNLOAD_URL", downloads.url.clone())]);
    *downloads.upstream.lock().unwrap() = team.server.url.clone();
    ok(&team.as_rm(&["project", "policy", "foo", "--min-vote-hours", "0", "--min-binding", "1", "--strict", "false"]));
    ok(&team.as_rm(&[
        "project",
        "mail",
        "foo",
        "--vote-to",
        "dev@foo.example",
        "--announce-to",
        "announce@foo.example",
        "--from",
        "releases@foo.example",
    ]));
    release(&team, "1.0.0");

    let held = announce_record(&team, "1.0.0", "the [ANNOUNCE] held back", |m| m["waiting"].is_string());
    let url = format!("{}/current/foo/1.0.0/foo-1.0.0-src.tar.gz", downloads.url);
    let why = held["waiting"].as_str().unwrap();
    assert!(why.contains(&format!("HTTP 404 at {url}")), "{held:#}");
    assert_eq!(held["state"], "queued", "{held:#}");
    assert!(downloads.refused.load(Ordering::SeqCst) >= 1, "checked over HTTP at the download URL");
    let shown = String::from_utf8_lossy(&ok(&team.anonymous(&["mail", "log", "foo"])).stdout).into_owned();
    assert!(shown.contains("held back (check 1"), "{shown}");
    // [VOTE] and [RESULT] went out; the [ANNOUNCE] did not.
    assert_eq!(smtp.wait_for(2).len(), 2);
    assert!(announcements(&smtp).is_empty());

    // The file arrives; the next check (a minute later on the clock) finds it and sends.
    downloads.release("foo-1.0.0-src.tar.gz");
    team.server.clock.advance(61);
    let sent = announce_record(&team, "1.0.0", "the [ANNOUNCE] sent", |m| m["state"] == "sent");
    let received = announcements(&smtp);
    assert_eq!(received.len(), 1, "one [ANNOUNCE]: {received:#?}");
    let announce = &received[0];
    assert_eq!(announce["headers"]["subject"][0], "[ANNOUNCE] foo 1.0.0 released");
    assert_eq!(announce["to_addresses"], serde_json::json!(["announce@foo.example"]));
    assert_eq!(announce["headers"]["message-id"][0], sent["message_id"], "{announce:#}");
    assert!(announce["headers"]["in-reply-to"].is_null(), "an announcement starts a thread: {announce:#}");
    assert!(announce["body"].as_str().unwrap().contains(&format!("\n    {url}\n")), "{announce:#}");

    // 1.0.1's file never arrives: past the deadline nothing is sent, and the log says why.
    release(&team, "1.0.1");
    announce_record(&team, "1.0.1", "1.0.1's [ANNOUNCE] held back", |m| m["waiting"].is_string());
    team.server.clock.advance(24 * 3600 + 1);
    let given_up = announce_record(&team, "1.0.1", "1.0.1's [ANNOUNCE] given up", |m| m["state"] == "not-sent");
    let reason = given_up["reason"].as_str().unwrap();
    assert!(reason.contains("not all downloadable as voted 24 h after the promotion"), "{reason}");
    assert!(reason.contains("foo-1.0.1-src.tar.gz") && reason.contains("HTTP 404"), "{reason}");
    assert_eq!(announcements(&smtp).len(), 1, "no [ANNOUNCE] for 1.0.1");
    let shown = String::from_utf8_lossy(&ok(&team.anonymous(&["mail", "log", "foo"])).stdout).into_owned();
    assert!(shown.contains("not sent: the files were not all downloadable"), "{shown}");
}

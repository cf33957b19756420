//! Votes replied on the list, through the real `trs`: `trs vote import-mail` reads an mbox
//! file and a Maildir, picks the vote's thread out of it and sends it; the server reads each
//! reply. Ada's reply is clear-signed by GnuPG with her registered key at test time. The
//! formats of real clients are covered against fixtures in trs-app's `tests/use_cases/vote_mail.rs`.

use trs_tests::*;

/// An RFC 2822 date on the server's clock, `secs` from now.
fn date(team: &Team, secs: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(team.server.clock.now() + secs).unwrap();
    t.format(&time::format_description::well_known::Rfc2822).unwrap()
}

fn reply(from: &str, message_id: &str, parent: &str, date: &str, body: &str) -> String {
    format!(
        "From: {from}\nTo: dev@foo.example\nSubject: Re: [VOTE] Release foo 1.0.0\nDate: {date}\n\
         Message-ID: {message_id}\nIn-Reply-To: {parent}\nReferences: {parent}\nMIME-Version: 1.0\n\
         Content-Type: text/plain; charset=utf-8\n\n{body}"
    )
}

fn text(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn replies_from_an_mbox_and_a_maildir_become_ballots() {
    let team = Team::new();
    ok(&team.as_rm(&["project", "policy", "foo", "--min-vote-hours", "0", "--min-binding", "1", "--strict", "false"]));
    let tarball = source_tarball(team.work.path(), "foo-1.0.0-src.tar.gz", "foo-1.0.0");
    ok(&team.as_rm(&args_with(&["upload", "foo", "1.0.0"], &team.signed_set(&tarball))));

    // A vote opened without email votes takes none, whatever the policy says later.
    ok(&team.as_rm(&["vote", "start", "foo", "1.0.0"]));
    let empty = team.file("empty.mbox", b"");
    let out = team.as_rm(&["vote", "import-mail", "foo", "1.0.0", empty.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("email-votes-off"), "{}", stderr(&out));
    ok(&team.as_rm(&["vote", "cancel", "foo", "1.0.0"]));
    let policy = text(ok(&team.as_rm(&["project", "policy", "foo", "--email-votes", "true"])));
    assert!(policy.contains("email-votes       true"), "{policy}");
    ok(&team.as_rm(&["vote", "start", "foo", "1.0.0"]));
    let view = stdout_json(ok(&team.anonymous(&["vote", "show", "foo", "1.0.0", "--json"])));
    let root = view["vote_message_id"].as_str().expect("the [VOTE] mail's id").to_string();

    // Ada signs her +1 inline with her registered key; someone else's reply is to another vote.
    let signed_body = team.file("ada-body.txt", b"+1 (binding)\n\nChecked the signatures.\n");
    let signed = team
        .gpg
        .cmd()
        .args(["--clearsign", "--local-user", &team.admin, "--output", "-"])
        .arg(&signed_body)
        .output()
        .unwrap();
    assert!(signed.status.success(), "{}", String::from_utf8_lossy(&signed.stderr));
    let ada = reply(
        "Ada Admin <ada@example.org>",
        "<ada-1@example.org>",
        &root,
        &date(&team, 60),
        &String::from_utf8(signed.stdout).unwrap(),
    );
    let other =
        reply("Ada Admin <ada@example.org>", "<ada-2@example.org>", "<older@example.org>", &date(&team, 61), "-1\n");
    let mbox = format!(
        "From ada@example.org Fri Dec  4 09:00:00 2026\n{ada}\nFrom ada@example.org Fri Dec  4 09:01:00 2026\n{other}\n"
    );
    let mbox = team.file("dev.mbox", mbox.as_bytes());
    let out = text(ok(&team.as_rm(&["vote", "import-mail", "foo", "1.0.0", mbox.to_str().unwrap()])));
    assert!(out.contains("1 repl(ies)"), "{out}");
    assert!(out.contains("counted") && out.contains("<ada-1@example.org> from ada@example.org (ada), signed"), "{out}");
    assert!(!out.contains("ada-2"), "the other thread is not sent: {out}");

    // Rita's unsigned -1 in a Maildir (what an IMAP client or a list archive leaves on disk).
    let rita = reply("Rita RM <rita@example.org>", "<rita-1@example.org>", &root, &date(&team, 120), "-1, sorry\n");
    for folder in ["tmp", "cur"] {
        std::fs::create_dir_all(team.path(&format!("maildir/{folder}"))).unwrap();
    }
    team.file("maildir/new/1764838800.M1P1.host", rita.as_bytes());
    let maildir = team.path("maildir");
    let out = text(ok(&team.as_rm(&["vote", "import-mail", "foo", "1.0.0", maildir.to_str().unwrap()])));
    assert!(out.contains("<rita-1@example.org> from rita@example.org (rita), unsigned: -1"), "{out}");

    // Again: nothing is read twice.
    let out = text(ok(&team.as_rm(&["vote", "import-mail", "foo", "1.0.0", mbox.to_str().unwrap()])));
    assert!(out.contains("0 repl(ies)") && out.contains("1 read before"), "{out}");

    let shown = text(ok(&team.anonymous(&["vote", "show", "foo", "1.0.0"])));
    assert!(shown.contains("+1 ada (binding, email <ada-1@example.org>, signed)"), "{shown}");
    assert!(shown.contains("-1 rita (non-binding, email <rita-1@example.org>, unsigned)"), "{shown}");
    let closed = text(ok(&team.as_rm(&["vote", "close", "foo", "1.0.0"])));
    assert!(closed.contains("Passed"), "{closed}");
}

/// foo's policy as these tests need it: replies on the list count, one binding +1 passes, a
/// vote may close at once.
fn count_replies_on_the_list(team: &Team) {
    ok(&team.as_rm(&[
        "project",
        "policy",
        "foo",
        "--min-vote-hours",
        "0",
        "--min-binding",
        "1",
        "--strict",
        "false",
        "--email-votes",
        "true",
    ]));
}

/// Uploads foo 1.0.0 and opens its vote; the `[VOTE]` mail's `Message-ID`, which replies
/// name.
fn open_vote_on_1_0_0(team: &Team) -> String {
    let tarball = source_tarball(team.work.path(), "foo-1.0.0-src.tar.gz", "foo-1.0.0");
    ok(&team.as_rm(&args_with(&["upload", "foo", "1.0.0"], &team.signed_set(&tarball))));
    ok(&team.as_rm(&["vote", "start", "foo", "1.0.0"]));
    let view = stdout_json(ok(&team.anonymous(&["vote", "show", "foo", "1.0.0", "--json"])));
    view["vote_message_id"].as_str().expect("the [VOTE] mail's id").to_string()
}

/// `trs serve` polls the list's IMAP mailbox by itself (a real Dovecot on loopback): the
/// mailbox set with `trs project mail --imap`, the password in the server's environment only
/// (never shown), a reply delivered to the list becomes a ballot without anyone importing it.
#[test]
fn trs_serve_polls_the_lists_imap_mailbox_for_replies() {
    use trs_app::imap_server::{ImapServer, PASSWORD};
    let mut imap = ImapServer::start();
    let team = Team::with_server_env("ed25519", &[("TRS_IMAP_PASSWORD", PASSWORD.to_string())]);
    count_replies_on_the_list(&team);
    let shown = text(ok(&team.as_rm(&["project", "mail", "foo", "--imap", &imap.url()])));
    assert!(shown.contains(&format!("imap         {}", imap.url())), "{shown}");
    assert!(!shown.contains(PASSWORD));
    let with_password = team.as_rm(&["project", "mail", "foo", "--imap", "imap://u:secret@127.0.0.1/INBOX"]);
    assert_eq!(with_password.status.code(), Some(1));
    assert!(stderr(&with_password).contains("invalid-imap-url"), "{}", stderr(&with_password));
    assert!(!stderr(&with_password).contains("secret"), "{}", stderr(&with_password));

    let root = open_vote_on_1_0_0(&team);
    imap.deliver(
        reply("Ada Admin <ada@example.org>", "<ada-imap@example.org>", &root, &date(&team, 60), "+1\n").as_bytes(),
    );

    let ballots = poll_until("the reply in the mailbox recorded as a ballot", || {
        let view = stdout_json(ok(&team.anonymous(&["vote", "show", "foo", "1.0.0", "--json"])));
        match view["ballots"].as_array() {
            Some(b) if !b.is_empty() => Ok(b.clone()),
            _ => Err(format!("{view}")),
        }
    });
    assert_eq!(ballots.len(), 1);
    assert_eq!(ballots[0]["voter"], "ada");
    assert_eq!(ballots[0]["source"], "email");
    assert_eq!(ballots[0]["message_id"], "<ada-imap@example.org>");
    assert_eq!(ballots[0]["binding"], true);
    // `trs vote poll-mail` reads the mailbox now: the reply is fetched again and read once.
    let now = stdout_json(ok(&team.as_rm(&["vote", "poll-mail", "foo", "1.0.0", "--json"])));
    assert_eq!(now["already_read"], serde_json::json!(["<ada-imap@example.org>"]), "{now}");
    assert_eq!(now["replies"], serde_json::json!([]), "{now}");
    let shown = text(ok(&team.as_rm(&["vote", "poll-mail", "foo", "1.0.0"])));
    assert!(shown.contains(&format!("0 repl(ies) to {root} read now, 1 read before")), "{shown}");
    let log = team.server.log.lock().unwrap().join("\n");
    assert!(!log.contains(PASSWORD), "the password is never logged");
}

/// The rounds of `trs serve`'s IMAP poll (`trs mail polls --json`), oldest first.
fn poll_rounds(team: &Team) -> Vec<serde_json::Value> {
    let polls = stdout_json(ok(&team.anonymous(&["mail", "polls", "--json"])));
    let mut rounds = polls["polls"].as_array().cloned().unwrap_or_default();
    rounds.reverse();
    rounds
}

/// How far `trs serve` read the list's mailbox survives a restart: each poll round is a task
/// (`trs mail polls`, `trs task show`) that says how many messages it fetched; after a
/// restart on the same data folder, the reply that arrived meanwhile is the only message
/// fetched (a lost mark would fetch the first reply again with it) and the only one recorded.
#[test]
fn the_imap_mark_survives_a_restart_of_trs_serve() {
    use trs_app::imap_server::{ImapServer, PASSWORD};
    let mut imap = ImapServer::start();
    let env = [("TRS_IMAP_PASSWORD", PASSWORD.to_string())];
    let mut team = Team::with_server_env("ed25519", &env);
    count_replies_on_the_list(&team);
    ok(&team.as_rm(&["project", "mail", "foo", "--imap", &imap.url()]));
    assert!(poll_rounds(&team).is_empty(), "no open vote reads the mailbox: no round");
    let root = open_vote_on_1_0_0(&team);
    imap.deliver(
        reply("Ada Admin <ada@example.org>", "<ada-1@example.org>", &root, &date(&team, 60), "+1\n").as_bytes(),
    );

    let first = poll_until("a poll round that recorded Ada's reply", || {
        let rounds = poll_rounds(&team);
        rounds
            .iter()
            .find(|r| r["state"] == "done" && r["result"]["replies"] == 1)
            .cloned()
            .ok_or(format!("{rounds:?}"))
    });
    assert_eq!(first["kind"], "poll-mail");
    assert_eq!(first["result"]["fetched"], 1, "{first}");
    let id = first["id"].as_str().unwrap();
    let shown = text(ok(&team.anonymous(&["task", "show", id])));
    assert!(shown.contains("(poll-mail)") && shown.contains("round    "), "{shown}");
    assert!(shown.contains("foo lists-reader@127.0.0.1"), "one step per mailbox: {shown}");
    assert!(shown.contains("1 message(s) fetched, 1 repl(ies) recorded"), "{shown}");
    let listed = text(ok(&team.anonymous(&["mail", "polls"])));
    assert!(
        listed.contains(&format!("done     task {id}  1 mailbox(es) read, 1 message(s) fetched, 1 repl(ies) recorded")),
        "{listed}"
    );

    team.server.stop();
    imap.deliver(
        reply("Rita RM <rita@example.org>", "<rita-1@example.org>", &root, &date(&team, 120), "+1\n").as_bytes(),
    );
    team.server.restart_with_env(&env);

    let ballots = poll_until("Rita's reply recorded after the restart", || {
        let view = stdout_json(ok(&team.anonymous(&["vote", "show", "foo", "1.0.0", "--json"])));
        match view["ballots"].as_array() {
            Some(b) if b.len() == 2 => Ok(b.clone()),
            _ => Err(format!("{view}")),
        }
    });
    let ids: Vec<_> = ballots.iter().map(|b| b["message_id"].as_str().unwrap()).collect();
    assert_eq!(ids.iter().filter(|m| **m == "<ada-1@example.org>").count(), 1, "{ballots:?}");
    assert!(ids.contains(&"<rita-1@example.org>"), "{ballots:?}");
    // The round that read Rita's reply fetched it alone: the mark kept from before the
    // restart put Ada's reply behind it. No round ever fetched both.
    let rounds = poll_until("the round that recorded Rita's reply, finished", || {
        let rounds = poll_rounds(&team);
        let recorded: usize = rounds.iter().filter_map(|r| r["result"]["replies"].as_u64()).sum::<u64>() as usize;
        if recorded >= 2 { Ok(rounds) } else { Err(format!("{rounds:?}")) }
    });
    let fetched: Vec<u64> = rounds.iter().filter_map(|r| r["result"]["fetched"].as_u64()).collect();
    assert!(fetched.iter().all(|n| *n <= 1), "a round fetched a message read before: {rounds:?}");
    let rita_round = rounds.iter().rev().find(|r| r["result"]["replies"] == 1).unwrap();
    assert_eq!(rita_round["result"]["fetched"], 1, "{rita_round}");
    assert_ne!(rita_round["id"], first["id"]);
    assert!(rounds.iter().all(|r| r["state"] != "failed"), "{rounds:?}");
}

/// `trs serve --templates DIR` with a mail template in `DIR/mail/` that does not parse does
/// not start (so no mail is rendered from it), and says which file and why.
#[test]
fn trs_serve_refuses_a_mail_template_that_does_not_parse() {
    let templates = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(templates.path().join("mail")).unwrap();
    std::fs::write(templates.path().join("mail/vote-result.txt"), "Subject: {% if %}\n").unwrap();
    let err = serve_refused(&["--templates".as_ref(), templates.path().as_os_str()], &[]);
    assert!(err.contains("mail template vote-result.txt does not parse"), "{err}");
}

//! Mail through an SMTP server that protects its sessions and wants a login, as real submission
//! servers do: aiosmtpd with STARTTLS (required before MAIL) or TLS from the first byte, its
//! certificate signed by a CA made for the test, and AUTH. trs trusts that CA only through
//! `TRS_SMTP_CA_FILE`; the password (`TRS_SMTP_PASSWORD`) reaches the server and nothing else:
//! not `trs mail log`, the events, or the server's log, even when the server refuses it. The
//! password may also come from the mail secret in Secrets Manager (`--mail-secret`, on moto).

use trs_app::mail::{Mailer, SendError, SmtpMailer};
use trs_storage_aws::moto::MotoServer;
use trs_tests::smtp_server::{SmtpServer, TestCa, Tls};
use trs_tests::*;

const USER: &str = "trs-mailer";
const PASSWORD: &str = "Pw-7f3c9e1a-smtp";

fn message() -> lettre::Message {
    lettre::Message::builder()
        .from("Foo Releases <releases@foo.example>".parse().unwrap())
        .to("dev@foo.example".parse().unwrap())
        .subject("[VOTE] over TLS")
        .body("+1\n".to_string())
        .unwrap()
}

fn send(mailer: &SmtpMailer) -> Result<trs_app::mail::Accepted, SendError> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(mailer.send(message()))
}

/// The mailer verifies the server's certificate: against the platform's roots alone the test
/// CA's certificate is refused and nothing is sent; with the CA file it goes through, over TLS
/// from the start (smtps) and after STARTTLS, and the server saw the session encrypted.
#[test]
fn the_smtp_mailer_trusts_the_named_ca_and_nothing_else() {
    let ca = TestCa::new();
    let roots = trs_app::mail::ca::load(&ca.ca_file()).unwrap();

    let smtps = SmtpServer::start_with(Tls::Implicit, Some(&ca), None);
    let untrusting = SmtpMailer::new(&smtps.url(), None, None).unwrap();
    match send(&untrusting) {
        Err(SendError::Transient(why)) => assert!(why.to_lowercase().contains("certificate"), "{why}"),
        other => panic!("an unknown CA must be refused: {other:?}"),
    }
    assert!(smtps.received().is_empty(), "nothing is sent to an unverified server");
    send(&SmtpMailer::new(&smtps.url(), None, Some(&roots)).unwrap()).expect("sent over smtps");
    let envelope = SmtpServer::envelope(&smtps.wait_for(1)[0]);
    assert!(envelope["tls"].as_str().is_some_and(|v| v.starts_with("TLSv1.")), "{envelope}");
    assert_eq!(envelope["starttls"], false);

    let starttls = SmtpServer::start_with(Tls::StartTls, Some(&ca), None);
    assert!(starttls.url().ends_with("?tls=required"), "{}", starttls.url());
    send(&SmtpMailer::new(&starttls.url(), None, Some(&roots)).unwrap()).expect("sent after STARTTLS");
    let envelope = SmtpServer::envelope(&starttls.wait_for(1)[0]);
    assert_eq!(
        (envelope["starttls"].as_bool(), envelope["rcpt_tos"][0].as_str()),
        (Some(true), Some("dev@foo.example"))
    );
}

/// A wrong password is a refusal (535), not sent and not retried, said plainly, and the
/// password is not in what the mailer reports.
#[test]
fn a_refused_login_is_a_clear_refusal_without_the_password() {
    let ca = TestCa::new();
    let roots = trs_app::mail::ca::load(&ca.ca_file()).unwrap();
    let smtp = SmtpServer::start_with(Tls::Implicit, Some(&ca), Some((USER, PASSWORD)));
    let wrong = format!("{PASSWORD}-wrong");
    match send(&SmtpMailer::new(&smtp.url(), Some(wrong.clone()), Some(&roots)).unwrap()) {
        Err(SendError::Refused(why)) => {
            assert!(why.contains("refused the login") && why.contains("535"), "{why}");
            assert!(!why.contains(&wrong) && !why.contains(PASSWORD), "{why}");
        }
        other => panic!("a wrong password is refused: {other:?}"),
    }
    assert!(smtp.received().is_empty());
}

/// Sets foo's announce list and publishes an advisory, which queues one `[SECURITY]` notice.
fn publish_advisory(team: &Team) {
    ok(&team.as_rm(&["project", "mail", "foo", "--announce-to", "announce@foo.example", "--from", "sec@foo.example"]));
    let cve = "CVE-2026-40003";
    ok(&team.as_rm(&["cve", "add", "foo", "--id", cve, "--summary", "A flaw", "--affected", ">=1.0.0,<1.3.0"]));
    ok(&team.as_rm(&["cve", "publish", "foo", cve, "--force"]));
}

fn server_env(smtp: &SmtpServer, ca: &TestCa, password: &str) -> Vec<(&'static str, String)> {
    vec![
        ("TRS_SMTP_URL", smtp.url()),
        ("TRS_SMTP_PASSWORD", password.to_string()),
        ("TRS_SMTP_CA_FILE", ca.ca_file().display().to_string()),
    ]
}

/// `trs serve` logs in and sends over STARTTLS and over smtps, trusting the CA file it was
/// given; the password is in none of its log lines.
#[test]
fn trs_serve_sends_over_starttls_and_smtps_with_a_login() {
    let ca = TestCa::new();
    for tls in [Tls::StartTls, Tls::Implicit] {
        let smtp = SmtpServer::start_with(tls, Some(&ca), Some((USER, PASSWORD)));
        let team = Team::with_server_env("ed25519", &server_env(&smtp, &ca, PASSWORD));
        publish_advisory(&team);
        let received = smtp.wait_for(1);
        let envelope = SmtpServer::envelope(&received[0]);
        assert_eq!(envelope["login"], USER, "{tls:?}: {envelope}");
        assert_eq!(envelope["starttls"], tls == Tls::StartTls, "{tls:?}: {envelope}");
        assert!(envelope["tls"].is_string(), "{tls:?}: {envelope}");
        assert_eq!(envelope["rcpt_tos"], serde_json::json!(["announce@foo.example"]));
        let log = stdout_json(ok(&team.as_rm(&["mail", "log", "foo", "--json"])));
        assert_eq!(log["mails"][0]["state"], "sent", "{tls:?}: {log:#}");
        let server_log = team.server.log.lock().unwrap().join("\n");
        assert!(!server_log.contains(PASSWORD), "{tls:?}: the password is in the server's log");
    }
}

/// A wrong password: the mail is recorded as not sent, with the server's refusal of the login
/// as the reason, and no "sent" record; the password is in neither the record, the events,
/// nor the server's log.
#[test]
fn trs_serve_records_a_refused_login_as_not_sent_without_the_password() {
    let ca = TestCa::new();
    let smtp = SmtpServer::start_with(Tls::StartTls, Some(&ca), Some((USER, PASSWORD)));
    let wrong = "Wr0ng-b81d4f-smtp-password";
    let team = Team::with_server_env("ed25519", &server_env(&smtp, &ca, wrong));
    publish_advisory(&team);
    let log = poll_until("the notice is no longer queued", || {
        let log = stdout_json(ok(&team.as_rm(&["mail", "log", "foo", "--json"])));
        if log["mails"][0]["state"] == "queued" { Err(log.to_string()) } else { Ok(log) }
    });
    let mails = log["mails"].as_array().unwrap();
    assert_eq!(mails.len(), 1, "{log:#}");
    assert_eq!(mails[0]["state"], "not-sent", "{log:#}");
    let reason = mails[0]["reason"].as_str().unwrap();
    assert!(reason.contains("refused the login") && reason.contains("535"), "{reason}");
    assert!(smtp.received().is_empty());

    let text = String::from_utf8_lossy(&ok(&team.as_rm(&["mail", "log", "foo"])).stdout).into_owned();
    assert!(text.contains("refused the login"), "{text}");
    let events =
        String::from_utf8_lossy(&ok(&team.anonymous(&["events", "--project", "foo", "--json"])).stdout).into_owned();
    let server_log = team.server.log.lock().unwrap().join("\n");
    for (what, seen) in
        [("mail log --json", log.to_string()), ("mail log", text), ("events", events), ("log", server_log)]
    {
        assert!(!seen.contains(wrong), "the password is in the {what}: {seen}");
    }
}

/// A CA file with no certificate (here the test CA's key) stops `trs serve` at start, for SMTP
/// (`--smtp-ca-file`) and IMAP (`TRS_IMAP_CA_FILE`) alike, saying which file and why.
#[test]
fn trs_serve_refuses_a_ca_file_without_a_certificate() {
    let ca = TestCa::new();
    let [_, key] = ca.server_files();
    let err = serve_refused(&[], &[("TRS_IMAP_CA_FILE", key.as_os_str())]);
    assert!(err.contains("TRS_IMAP_CA_FILE") && err.contains("holds no PEM certificate"), "{err}");
    assert!(err.contains(&key.display().to_string()), "{err}");
    let args = ["--smtp".as_ref(), "smtps://127.0.0.1:465".as_ref(), "--smtp-ca-file".as_ref(), key.as_os_str()];
    let err = serve_refused(&args, &[]);
    assert!(err.contains("--smtp-ca-file") && err.contains("holds no PEM certificate"), "{err}");
}

/// Without TRS_SMTP_PASSWORD in its environment, `trs serve --mail-secret` (TRS_MAIL_SECRET)
/// logs in with the secret's TRS_SMTP_PASSWORD, read from Secrets Manager (moto) at start.
#[test]
fn trs_serve_takes_the_smtp_password_from_the_mail_secret() {
    let moto = MotoServer::start().expect("moto (test.sh installs moto[server])");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let secrets = aws_sdk_secretsmanager::Client::new(&moto.sdk_config());
    let value = serde_json::json!({"TRS_SMTP_PASSWORD": PASSWORD});
    runtime
        .block_on(secrets.create_secret().name("trs-mail").secret_string(value.to_string()).send())
        .expect("secret created on moto");

    let ca = TestCa::new();
    let smtp = SmtpServer::start_with(Tls::Implicit, Some(&ca), Some((USER, PASSWORD)));
    let mut env = moto.env();
    env.extend([
        ("TRS_SMTP_URL", smtp.url()),
        ("TRS_SMTP_CA_FILE", ca.ca_file().display().to_string()),
        ("TRS_MAIL_SECRET", "trs-mail".to_string()),
    ]);
    let team = Team::with_server_env("ed25519", &env);
    publish_advisory(&team);
    let envelope = SmtpServer::envelope(&smtp.wait_for(1)[0]);
    assert_eq!(envelope["login"], USER, "{envelope}");
    let server_log = team.server.log.lock().unwrap().join("\n");
    assert!(!server_log.contains(PASSWORD), "the password is in the server's log");
}

//! A real SMTP server for end-to-end tests: Python's aiosmtpd on a free loopback port (a child
//! process, stopped on drop), writing each message it receives to a folder; and Python's
//! `email` package to read them back as a mail client would (headers decoded). It takes mail
//! in the clear, after STARTTLS, or over TLS from the start, with a certificate for
//! `127.0.0.1` signed by a CA made for the test by openssl ([`TestCa`], shared with the IMAP
//! server's tests), and may require a login.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use tempfile::TempDir;
pub use trs_app::test_ca::TestCa;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/smtp/smtp_sink.py");

/// How the server protects a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tls {
    /// In the clear (`smtp://`).
    Plain,
    /// STARTTLS, required before MAIL (`smtp://…?tls=required`).
    StartTls,
    /// TLS from the first byte (`smtps://`).
    Implicit,
}

pub struct SmtpServer {
    dir: TempDir,
    pub port: u16,
    child: Child,
    tls: Tls,
    user: Option<String>,
}

impl SmtpServer {
    /// In the clear, no login.
    pub fn start() -> SmtpServer {
        Self::start_with(Tls::Plain, None, None)
    }

    /// Protected as `tls` says with `ca`'s server certificate (needed unless `Plain`), and
    /// requiring a login as `login` (user, password) when given.
    pub fn start_with(tls: Tls, ca: Option<&TestCa>, login: Option<(&str, &str)>) -> SmtpServer {
        let dir = tempfile::tempdir().expect("temporary folder");
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut command = Command::new("python3");
        command.arg(SCRIPT).arg(dir.path()).arg(port.to_string());
        if tls != Tls::Plain {
            let [cert, key] = ca.expect("a TLS server needs the test CA's certificate").server_files();
            command.arg(if tls == Tls::StartTls { "--starttls" } else { "--tls" }).arg(cert).arg(key);
        }
        if let Some((user, password)) = login {
            command.args(["--auth", user, password]);
        }
        let mut child =
            command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().expect("python3 runs");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "ready", "aiosmtpd is installed by test.sh (pip install aiosmtpd)");
        SmtpServer { dir, port, child, tls, user: login.map(|(user, _)| user.to_string()) }
    }

    /// The URL for `trs serve --smtp`: `smtp://127.0.0.1:PORT`, with `?tls=required` for
    /// STARTTLS, `smtps://` for TLS from the start, and the login's user.
    pub fn url(&self) -> String {
        let user = self.user.as_ref().map(|u| format!("{u}@")).unwrap_or_default();
        match self.tls {
            Tls::Plain => format!("smtp://{user}127.0.0.1:{}", self.port),
            Tls::StartTls => format!("smtp://{user}127.0.0.1:{}?tls=required", self.port),
            Tls::Implicit => format!("smtps://{user}127.0.0.1:{}", self.port),
        }
    }

    /// The messages received so far, in order of arrival (complete files only).
    pub fn received(&self) -> Vec<PathBuf> {
        (1..).map(|n| self.dir.path().join(format!("{n}.eml"))).take_while(|p| p.exists()).collect()
    }

    /// Waits (polling, [`crate::poll_until`]) until `n` messages have arrived; returns them all.
    pub fn wait_for(&self, n: usize) -> Vec<PathBuf> {
        crate::poll_until(format_args!("{n} message(s) received"), || {
            let got = self.received();
            if got.len() >= n { Ok(got) } else { Err(format!("{} received", got.len())) }
        })
    }

    /// The envelope (MAIL FROM, RCPT TO) of message `eml`, and its session: `tls` (the TLS
    /// version, or null), `starttls` (whether it was upgraded) and `login` (the user, or null).
    pub fn envelope(eml: &std::path::Path) -> Value {
        serde_json::from_slice(&std::fs::read(eml.with_extension("json")).unwrap()).unwrap()
    }
}

/// The message parsed by Python's `email` package: `headers` (decoded, lower-case names, each
/// a list), `raw_headers` (as on the wire), the From display name and address, the body.
pub fn parse_mail(eml: &std::path::Path) -> Value {
    let out = Command::new("python3").arg(SCRIPT).arg("--parse").arg(eml).output().expect("python3 runs");
    assert!(out.status.success(), "parsing {}: {}", eml.display(), String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

//! A real SMTP server for end-to-end tests: Python's aiosmtpd on a free loopback port (a child
//! process, stopped on drop), writing each message it receives to a folder; and Python's
//! `email` package to read them back as a mail client would (headers decoded).

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use tempfile::TempDir;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/smtp/smtp_sink.py");

pub struct SmtpServer {
    dir: TempDir,
    pub port: u16,
    child: Child,
}

impl SmtpServer {
    pub fn start() -> SmtpServer {
        let dir = tempfile::tempdir().expect("temporary folder");
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut child = Command::new("python3")
            .arg(SCRIPT)
            .arg(dir.path())
            .arg(port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "ready", "aiosmtpd is installed by test.sh (pip install aiosmtpd)");
        SmtpServer { dir, port, child }
    }

    /// `smtp://127.0.0.1:PORT`, for `trs serve --smtp`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
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

    /// The envelope (MAIL FROM, RCPT TO) of message `eml`.
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

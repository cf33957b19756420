//! A real IMAP server for tests: Debian's Dovecot (`dovecot-imapd`, installed by test.sh) on a
//! free loopback port, in a configuration written into a temporary folder: no TLS (loopback),
//! or also `imaps` on a second port with a [`TestCa`] certificate for `127.0.0.1`
//! ([`ImapServer::start_tls`]); one account with a static password, the mailbox a Maildir in
//! the same folder. Messages are put there as files, as a list's archive would hold them.
//! Stopped on drop.
//!
//! Missing Dovecot is a failure with a message saying how to install it, never a skipped test.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use tempfile::TempDir;

use crate::test_ca::TestCa;

/// The account's user and password.
pub const USER: &str = "lists-reader";
pub const PASSWORD: &str = "imap-test-password";

pub struct ImapServer {
    dir: TempDir,
    pub port: u16,
    /// The `imaps` port ([`ImapServer::start_tls`]).
    tls_port: Option<u16>,
    child: Child,
    delivered: usize,
}

/// The Dovecot binary: `$TRS_DOVECOT` or Debian's path.
fn dovecot_binary() -> PathBuf {
    std::env::var_os("TRS_DOVECOT").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/usr/sbin/dovecot"))
}

fn output(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

impl ImapServer {
    /// Starts Dovecot and waits until it accepts connections.
    pub fn start() -> ImapServer {
        Self::start_with(None)
    }

    /// Like [`ImapServer::start`], with `imaps` (TLS from the first byte, `ssl = required`)
    /// on [`ImapServer::tls_url`]'s port too, with `ca`'s certificate for `127.0.0.1`.
    pub fn start_tls(ca: &TestCa) -> ImapServer {
        Self::start_with(Some(ca))
    }

    fn start_with(ca: Option<&TestCa>) -> ImapServer {
        let binary = dovecot_binary();
        assert!(
            binary.is_file(),
            "Dovecot is not installed at {} (the IMAP tests need Debian's dovecot-imapd: test.sh installs it, \
             or `apt-get install dovecot-imapd`; TRS_DOVECOT names another binary)",
            binary.display()
        );
        let dir = tempfile::tempdir().expect("temporary folder");
        let root = dir.path();
        for sub in ["run", "state", "Maildir/cur", "Maildir/new", "Maildir/tmp"] {
            std::fs::create_dir_all(root.join(sub)).unwrap();
        }
        // Dovecot refuses to run its login process, or to give mail access, as root: under root
        // (CI) it runs them as Debian's `dovenull` and `dovecot` users (system users, hence
        // `first_valid_uid = 1`), and `dovecot` owns the Maildir; otherwise everything runs as
        // the user running the tests.
        let as_root = output(Command::new("id").arg("-u")) == "0";
        let (login_user, internal_user, mail_user) = if as_root {
            ("dovenull".to_string(), "dovecot".to_string(), "dovecot".to_string())
        } else {
            let me = output(Command::new("id").arg("-un"));
            (me.clone(), me.clone(), me)
        };
        let free_port = || TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let port = free_port();
        // TLS: the certificate and its key, `imaps` on its own port (the plain port stays, for
        // waiting until Dovecot answers).
        let (ssl, tls_port) = match ca {
            Some(ca) => {
                let [cert, key] = ca.server_files();
                let ssl = format!("required\nssl_cert = <{}\nssl_key = <{}", cert.display(), key.display());
                (ssl, Some(free_port()))
            }
            None => ("no".to_string(), None),
        };
        let imaps = match tls_port {
            Some(tls_port) => format!("address = 127.0.0.1\n    port = {tls_port}"),
            None => "port = 0".to_string(),
        };
        let r = root.display();
        let config = format!(
            "protocols = imap\n\
             listen = 127.0.0.1\n\
             base_dir = {r}/run\n\
             state_dir = {r}/state\n\
             log_path = {r}/dovecot.log\n\
             ssl = {ssl}\n\
             disable_plaintext_auth = no\n\
             auth_mechanisms = plain login\n\
             auth_failure_delay = 0\n\
             mail_location = maildir:{r}/Maildir\n\
             first_valid_uid = 1\n\
             first_valid_gid = 1\n\
             default_internal_user = {internal_user}\n\
             default_internal_group = {internal_user}\n\
             default_login_user = {login_user}\n\
             passdb {{\n  driver = static\n  args = password={PASSWORD}\n}}\n\
             userdb {{\n  driver = static\n  args = uid={mail_user} gid={mail_user} home={r}\n}}\n\
             service imap-login {{\n  chroot =\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n  \
             inet_listener imaps {{\n    {imaps}\n  }}\n}}\n\
             service anvil {{\n  chroot =\n}}\n"
        );
        let conf = root.join("dovecot.conf");
        std::fs::write(&conf, config).unwrap();
        let mut server = ImapServer {
            child: Command::new(&binary)
                .arg("-F")
                .arg("-c")
                .arg(&conf)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("starting {}: {e}", binary.display())),
            dir,
            port,
            tls_port,
            delivered: 0,
        };
        server.own_the_folder(as_root.then_some(mail_user.as_str()));
        server.wait_until_listening();
        server
    }

    /// Under root, hands the folder to the mail user Dovecot reads it as.
    fn own_the_folder(&self, user: Option<&str>) {
        let Some(user) = user else { return };
        let root = self.dir.path();
        // The temporary folder is private to its owner; Dovecot's user must reach the Maildir.
        let status = Command::new("chmod").arg("755").arg(root).status().unwrap();
        assert!(status.success());
        let status = Command::new("chown").arg("-R").arg(format!("{user}:{user}")).arg(root.join("Maildir")).status();
        assert!(status.unwrap().success(), "chown of the Maildir to {user}");
    }

    fn wait_until_listening(&mut self) {
        for _ in 0..600 {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("dovecot exited ({status}) at start: {}", self.log());
            }
            let answered = std::net::TcpStream::connect(("127.0.0.1", self.port)).ok().and_then(|s| {
                use std::io::Read;
                s.set_read_timeout(Some(std::time::Duration::from_secs(5))).ok()?;
                let mut greeting = [0u8; 4];
                (&s).read_exact(&mut greeting).ok()?;
                Some(greeting)
            });
            if answered.as_ref() == Some(b"* OK") {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("dovecot did not answer on 127.0.0.1:{}: {}", self.port, self.log());
    }

    /// The server's log, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dovecot.log")).unwrap_or_default()
    }

    /// `imap://USER@127.0.0.1:PORT/INBOX`, for `trs project mail --imap`.
    pub fn url(&self) -> String {
        format!("imap://{USER}@127.0.0.1:{}/INBOX", self.port)
    }

    /// `imaps://USER@127.0.0.1:PORT/INBOX`, TLS from the first byte ([`ImapServer::start_tls`]).
    pub fn tls_url(&self) -> String {
        let port = self.tls_port.expect("the server was started with TLS (ImapServer::start_tls)");
        format!("imaps://{USER}@127.0.0.1:{port}/INBOX")
    }

    /// Puts a message in the mailbox, as a list's archive receives it (a Maildir file in `new/`).
    pub fn deliver(&mut self, message: &[u8]) {
        self.delivered += 1;
        let name = format!("{}.M{}P1.trs-test", 1_700_000_000 + self.delivered, self.delivered);
        let tmp = self.maildir().join("tmp").join(&name);
        std::fs::write(&tmp, message).unwrap();
        std::fs::rename(&tmp, self.maildir().join("new").join(&name)).unwrap();
        if output(Command::new("id").arg("-u")) == "0" {
            let status = Command::new("chown").arg("-R").arg("dovecot:dovecot").arg(self.maildir()).status();
            assert!(status.unwrap().success());
        }
    }

    fn maildir(&self) -> PathBuf {
        self.dir.path().join("Maildir")
    }

    /// The folder Dovecot runs in.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for ImapServer {
    fn drop(&mut self) {
        // SIGTERM: Dovecot's master stops its login, auth and imap processes with it.
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let _ = self.child.wait();
    }
}

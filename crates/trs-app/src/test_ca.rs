//! A CA made for one test with openssl, and a server certificate it signed for `127.0.0.1`:
//! the TLS of the test SMTP server (`trs_tests::smtp_server`) and IMAP server
//! ([`crate::imap_server`]). Missing openssl is a failure, never a skipped test.

use std::path::PathBuf;
use std::process::Command;
use tempfile::TempDir;

/// A CA made for one test (openssl, in a temporary folder) and a server certificate it signed
/// for `127.0.0.1`: what a client trusts through `ca_file` alone.
pub struct TestCa {
    dir: TempDir,
}

impl TestCa {
    pub fn new() -> TestCa {
        let dir = tempfile::tempdir().expect("temporary folder");
        let openssl = |args: &[&str]| {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(dir.path())
                .output()
                .expect("openssl runs (test.sh installs it)");
            assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        };
        let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
        let ca = ["-subj", "/CN=trs test CA", "-days", "7", "-keyout", "ca.key", "-out", "ca.pem"];
        openssl(&[&["req", "-x509"], &key[..], &ca[..]].concat());
        std::fs::write(
            dir.path().join("server.ext"),
            "subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        openssl(
            &[&["req"], &key[..], &["-subj", "/CN=127.0.0.1", "-keyout", "server.key", "-out", "server.csr"]].concat(),
        );
        openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "7",
            "-extfile",
            "server.ext",
            "-out",
            "server.pem",
        ]);
        TestCa { dir }
    }

    /// The CA's certificate (PEM), for `TRS_SMTP_CA_FILE` or `TRS_IMAP_CA_FILE`.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The server's certificate and key (PEM), for the test server's TLS.
    pub fn server_files(&self) -> [PathBuf; 2] {
        [self.dir.path().join("server.pem"), self.dir.path().join("server.key")]
    }
}

impl Default for TestCa {
    fn default() -> Self {
        Self::new()
    }
}

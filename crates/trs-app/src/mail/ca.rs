//! The CA file an operator names for a mail server with a private CA (`TRS_SMTP_CA_FILE` for
//! SMTP, `TRS_IMAP_CA_FILE` for the IMAP poll): its certificates are trusted besides the
//! platform's roots, never instead of a check. Read once, at start: a file that cannot be read
//! or holds no certificate stops the start with the reason.

use rustls::pki_types::{CertificateDer, pem::PemObject};
use std::path::Path;

/// A CA file's certificates.
pub type Roots = Vec<CertificateDer<'static>>;

/// The certificates (PEM) of the CA file at `path`.
pub fn load(path: &Path) -> Result<Roots, String> {
    let pem = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    certificates(&pem).map_err(|e| format!("{}: {e}", path.display()))
}

/// The certificates of a CA file's content; none, or anything else than PEM, is an error.
pub fn certificates(pem: &[u8]) -> Result<Roots, String> {
    let certificates = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("the CA file is not PEM certificates: {e}"))?;
    if certificates.is_empty() {
        return Err("the CA file holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into());
    }
    Ok(certificates)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ca_file_must_hold_certificates() {
        let key = b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        assert!(certificates(key).unwrap_err().contains("holds no PEM certificate"));
        assert!(certificates(b"not pem at all").unwrap_err().contains("holds no PEM certificate"));
        let missing = load(Path::new("/nonexistent/ca.pem")).unwrap_err();
        assert!(missing.starts_with("/nonexistent/ca.pem: "), "{missing}");
    }
}

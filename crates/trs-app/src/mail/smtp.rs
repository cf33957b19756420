//! Mail handed to an SMTP submission server (`trs serve --smtp URL`), with lettre over rustls.
//!
//! The URL says how the connection is protected: `smtp://HOST:PORT` is plain (loopback relays
//! only), `smtp://HOST:PORT?tls=required` upgrades with STARTTLS and refuses a server that
//! does not offer it, `smtps://HOST:465` is TLS from the first byte. The server's certificate
//! is checked against the platform's roots, plus the certificates of a CA file the operator
//! names (`TRS_SMTP_CA_FILE`: a private CA, as a test's or a company's); a certificate that
//! neither vouches for is refused, never accepted anyway.
//!
//! A user in the URL logs in (AUTH PLAIN or LOGIN, over the protected connection) with the
//! password given apart (`TRS_SMTP_PASSWORD`, or the mail secret's): a URL carrying a password
//! is refused, and the password is kept inside the transport, removed from any error text it
//! could reach, never in a record, event or log line.

use super::{Accepted, Mailer, SendError};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use rustls::pki_types::CertificateDer;

pub struct SmtpMailer {
    transport: lettre::AsyncSmtpTransport<lettre::Tokio1Executor>,
    /// The login and password, each removed from error texts (a server could echo them).
    secrets: Vec<String>,
}

impl SmtpMailer {
    /// The transport for `url`, logging in with `password` when the URL names a user, and
    /// trusting the certificates of `extra_roots` (a CA file's, [`super::ca::load`]) besides
    /// the platform's.
    pub fn new(
        url: &str,
        password: Option<String>,
        extra_roots: Option<&[CertificateDer<'static>]>,
    ) -> Result<Self, String> {
        let parsed = url::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
        if !matches!(parsed.scheme(), "smtp" | "smtps") {
            return Err(format!("scheme {:?} is not smtp or smtps", parsed.scheme()));
        }
        if parsed.password().is_some() {
            return Err("the URL carries a password; give it in TRS_SMTP_PASSWORD instead".into());
        }
        let user = percent_encoding::percent_decode_str(parsed.username()).decode_utf8_lossy().into_owned();
        let mut builder = lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(url)
            .map_err(|e| format!("not an SMTP URL: {e}"))?;
        if let Some(roots) = extra_roots {
            builder = builder.tls(tls_with_roots(&parsed, roots)?);
        }
        let mut secrets = Vec::new();
        match (user.is_empty(), password) {
            (false, Some(password)) => {
                secrets.push(password.clone());
                builder = builder.credentials(Credentials::new(user, password));
            }
            (false, None) => {
                return Err(format!(
                    "user {user:?} given but no password: set TRS_SMTP_PASSWORD (or put it in the mail secret)"
                ));
            }
            (true, Some(_)) => return Err("a password is given but the URL names no user".into()),
            (true, None) => {}
        }
        Ok(SmtpMailer { transport: builder.build(), secrets })
    }

    /// `text` with the password replaced.
    fn redact(&self, text: String) -> String {
        self.secrets.iter().filter(|s| !s.is_empty()).fold(text, |t, s| t.replace(s.as_str(), "<redacted>"))
    }
}

/// The URL's TLS mode with `roots` trusted besides the platform's roots. A CA file for a
/// plain `smtp://` URL is refused: it would protect nothing.
fn tls_with_roots(url: &url::Url, roots: &[CertificateDer<'static>]) -> Result<Tls, String> {
    let mode: fn(TlsParameters) -> Tls = match (url.scheme(), url.query_pairs().find(|(k, _)| k == "tls")) {
        ("smtps", _) => Tls::Wrapper,
        ("smtp", Some((_, v))) if v == "required" => Tls::Required,
        ("smtp", Some((_, v))) if v == "opportunistic" => Tls::Opportunistic,
        _ => return Err("a CA file is given but the URL uses no TLS (add ?tls=required, or use smtps://)".into()),
    };
    let host = url.host_str().ok_or("the URL names no host")?;
    if roots.is_empty() {
        return Err("the CA file holds no certificate".into());
    }
    let mut parameters = TlsParameters::builder(host.to_string());
    for root in roots {
        let certificate = Certificate::from_der(root.to_vec()).map_err(|e| format!("the CA file: {e}"))?;
        parameters = parameters.add_root_certificate(certificate);
    }
    let parameters = parameters.build().map_err(|e| format!("TLS setup: {e}"))?;
    Ok(mode(parameters))
}

#[async_trait::async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, message: lettre::Message) -> Result<Accepted, SendError> {
        use lettre::AsyncTransport;
        self.transport.send(message).await.map(|_| Accepted::default()).map_err(|e| {
            // 535 (RFC 4954): the server refused the login, for every mail until it changes.
            let text = if e.status().is_some_and(|code| code.to_string() == "535") {
                format!("the SMTP server refused the login (check the user and the password): {e}")
            } else {
                e.to_string()
            };
            let text = self.redact(text);
            // A 5xx reply (RFC 5321: permanent) refuses this mail; anything else may pass later.
            if e.is_permanent() { SendError::Refused(text) } else { SendError::Transient(text) }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_passwords_are_checked_and_never_quoted() {
        let err = SmtpMailer::new("smtp://u:hunter22@127.0.0.1:25", None, None).err().unwrap();
        assert!(err.contains("carries a password") && !err.contains("hunter22"), "{err}");
        let err = SmtpMailer::new("smtps://u@127.0.0.1", None, None).err().unwrap();
        assert!(err.contains("no password"), "{err}");
        let err = SmtpMailer::new("smtp://127.0.0.1", Some("hunter22".into()), None).err().unwrap();
        assert!(err.contains("names no user") && !err.contains("hunter22"), "{err}");
        let err = SmtpMailer::new("http://127.0.0.1", None, None).err().unwrap();
        assert!(err.contains("not smtp"), "{err}");
        assert!(SmtpMailer::new("smtps://u@127.0.0.1", Some("hunter22".into()), None).is_ok());
    }

    #[test]
    fn a_ca_file_needs_tls_and_certificates() {
        // The file's content is checked where it is read (`super::ca`); here, its use.
        let err = SmtpMailer::new("smtp://127.0.0.1:25", None, Some(&[])).err().unwrap();
        assert!(err.contains("uses no TLS"), "{err}");
        let err = SmtpMailer::new("smtp://127.0.0.1:25?tls=required", None, Some(&[])).err().unwrap();
        assert!(err.contains("holds no certificate"), "{err}");
    }

    #[test]
    fn redaction_removes_the_password() {
        let mailer = SmtpMailer::new("smtps://u@127.0.0.1", Some("hunter22".into()), None).unwrap();
        assert_eq!(mailer.redact("535 hunter22 is wrong".into()), "535 <redacted> is wrong");
    }
}

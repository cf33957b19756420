//! Reading a list's mailbox over IMAP (`trs project mail P --imap URL`), for votes replied on
//! the list: the poller ([`crate::vote::mail_poll`]) fetches the raw messages sent since a
//! vote opened (after the last UID it read, [`ImapMailbox::fetch_new`]) and hands them to the
//! one reader of replies ([`crate::vote::mail_import`]), which picks the thread, reads each
//! reply and records ballots exactly as for an imported archive.
//!
//! The mailbox is opened read-only (`EXAMINE`) and bodies are fetched with `BODY.PEEK[]`: trs
//! marks nothing as read and moves nothing; the list's archive is the list's. TLS is rustls
//! with the platform's roots, plus the certificates of a CA file the operator names
//! (`TRS_IMAP_CA_FILE`, read by [`super::ca::load`] as SMTP's: a list server with a private
//! CA); a certificate that neither vouches for is refused, never accepted anyway. The password
//! never leaves this module's connection (it is not part of the URL, the settings, an error or
//! a log line).

use rustls::pki_types::CertificateDer;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};
use trs_core::ProjectName;

/// Where a project's IMAP password comes from: the host's environment on `trs serve` and
/// Lambda ([`passwords_from`]). `None` for a project: no password is configured for it.
pub type Passwords = Arc<dyn Fn(&ProjectName) -> Option<String> + Send + Sync>;

/// The environment variable holding one project's IMAP password, read before the shared
/// `TRS_IMAP_PASSWORD` (projects whose lists live on different servers need their own).
pub fn password_variable(project: &ProjectName) -> String {
    format!("TRS_IMAP_PASSWORD_{}", project.as_str().to_uppercase().replace(['-', '.'], "_"))
}

/// Passwords looked up by variable name (`std::env::var` on a host): the project's own
/// variable ([`password_variable`]), else `TRS_IMAP_PASSWORD`.
pub fn passwords_from(lookup: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Passwords {
    Arc::new(move |project: &ProjectName| {
        lookup(&password_variable(project)).or_else(|| lookup("TRS_IMAP_PASSWORD")).filter(|p| !p.is_empty())
    })
}

/// A mailbox by URL: `imaps://USER@HOST[:993]/MAILBOX` (TLS from the start) or
/// `imap://USER@HOST[:143]/MAILBOX` (plain: for a server on loopback or a trusted network).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImapMailbox {
    tls: bool,
    host: String,
    port: u16,
    user: String,
    mailbox: String,
    /// Certificates trusted besides the platform's roots ([`ImapMailbox::trusting`]).
    extra_roots: Vec<CertificateDer<'static>>,
}

impl ImapMailbox {
    /// Reads the setting; the error says what is wrong with it (never echoing a password).
    pub fn parse(value: &str) -> Result<ImapMailbox, String> {
        let url = url::Url::parse(value.trim()).map_err(|e| format!("not a URL: {e}"))?;
        let tls = match url.scheme() {
            "imaps" => true,
            "imap" => false,
            other => return Err(format!("scheme {other:?} is not imaps or imap")),
        };
        if url.password().is_some() {
            return Err("the URL carries a password; the server reads it from TRS_IMAP_PASSWORD instead".into());
        }
        let user = percent_encoding::percent_decode_str(url.username()).decode_utf8_lossy().into_owned();
        if user.is_empty() {
            return Err("the URL names no user (imaps://USER@HOST/MAILBOX)".into());
        }
        // Sent in LOGIN as it decodes: a line break there would end the command early.
        if let Some(why) = trs_core::text::refusal(&user, trs_core::text::Lines::One) {
            return Err(format!("the user {why}"));
        }
        let host = url.host_str().filter(|h| !h.is_empty()).ok_or("the URL names no host")?.to_string();
        let host = host.trim_start_matches('[').trim_end_matches(']').to_string();
        let port = url.port().unwrap_or(if tls { 993 } else { 143 });
        let path = url.path().trim_start_matches('/');
        let mailbox = percent_encoding::percent_decode_str(path).decode_utf8_lossy().into_owned();
        let mailbox = if mailbox.is_empty() { "INBOX".to_string() } else { mailbox };
        if url.query().is_some() || url.fragment().is_some() {
            return Err("the URL has a query or fragment; only imaps://USER@HOST[:PORT]/MAILBOX".into());
        }
        if mailbox.chars().any(|c| c.is_control() || c == '"' || c == '\\') {
            return Err("the mailbox name holds a control character, a quote or a backslash".into());
        }
        Ok(ImapMailbox { tls, host, port, user, mailbox, extra_roots: Vec::new() })
    }

    /// The mailbox, its server's certificate checked against `extra_roots` (a CA file's) as
    /// well as the platform's roots.
    pub fn trusting(self, extra_roots: Vec<CertificateDer<'static>>) -> ImapMailbox {
        ImapMailbox { extra_roots, ..self }
    }

    /// Every message whose `Date` is on or after the day before `since` (Unix seconds; IMAP
    /// searches by day, and a sender's `Date` may be in another time zone), as raw bytes in
    /// the mailbox's order. `password` is the account's.
    pub async fn fetch_sent_since(&self, password: &str, since: i64) -> Result<Vec<Vec<u8>>, String> {
        Ok(self.fetch_new(password, since, None).await?.messages.into_iter().map(|(_, m)| m).collect())
    }

    /// Like [`ImapMailbox::fetch_sent_since`], but only the messages after `after` (a mark
    /// of an earlier read) when the mailbox's UIDVALIDITY is still the mark's: `UID N:*`
    /// (RFC 3501 answers `N:*` with the last message even when its UID is below `N`, so the
    /// UIDs are filtered too). A changed UIDVALIDITY (the mailbox was recreated, its UIDs
    /// mean other messages now) reads every message sent since `since` again.
    pub async fn fetch_new(&self, password: &str, since: i64, after: Option<UidMark>) -> Result<Fetched, String> {
        let address = (self.host.as_str(), self.port);
        let tcp = tokio::time::timeout(TIMEOUT, tokio::net::TcpStream::connect(address))
            .await
            .map_err(|_| format!("connecting to {}:{} timed out", self.host, self.port))?
            .map_err(|e| format!("cannot connect to {}:{}: {e}", self.host, self.port))?;
        let work = async {
            if self.tls {
                let config = rustls_config(&self.extra_roots)?;
                let name = rustls::pki_types::ServerName::try_from(self.host.clone())
                    .map_err(|e| format!("{:?} is not a host name for TLS: {e}", self.host))?;
                let stream = tokio_rustls::TlsConnector::from(Arc::new(config))
                    .connect(name, tcp)
                    .await
                    .map_err(|e| format!("TLS with {}:{}: {e}{}", self.host, self.port, certificate_hint(&e)))?;
                self.fetch_over(stream, password, since, after).await
            } else {
                self.fetch_over(tcp, password, since, after).await
            }
        };
        tokio::time::timeout(SESSION_TIMEOUT, work)
            .await
            .map_err(|_| format!("reading {} on {}:{} took too long", self.mailbox, self.host, self.port))?
    }

    /// Who reads which mailbox where: what a [`UidMark`] is kept for (the URL without its
    /// scheme, so `imap://` and `imaps://` to the same mailbox share one).
    pub fn identity(&self) -> String {
        format!("{}@{}:{}/{}", self.user, self.host, self.port, self.mailbox)
    }

    async fn fetch_over<T>(
        &self,
        stream: T,
        password: &str,
        since: i64,
        after: Option<UidMark>,
    ) -> Result<Fetched, String>
    where
        T: AsyncRead + AsyncWrite + Unpin + std::fmt::Debug + Send,
    {
        use futures::TryStreamExt;
        let mut client = async_imap::Client::new(stream);
        client
            .read_response()
            .await
            .map_err(|e| format!("reading the server's greeting: {e}"))?
            .ok_or("the server closed the connection before its greeting")?;
        // The error of a failed login is the server's text; the password is not in it.
        let mut session =
            client.login(&self.user, password).await.map_err(|(e, _)| format!("login as {}: {e}", self.user))?;
        let opened =
            session.examine(&self.mailbox).await.map_err(|e| format!("opening mailbox {:?}: {e}", self.mailbox))?;
        // A mark counts only under the UIDVALIDITY it was taken under (a server that names
        // none gives UIDs nothing can be remembered by).
        let after = after.filter(|m| opened.uid_validity == Some(m.uid_validity)).map(|m| m.last_uid);
        let mut query = format!("SENTSINCE {}", imap_date(since - 86_400));
        if let Some(last) = after {
            query = format!("UID {}:* {query}", last.saturating_add(1));
        }
        let mut uids: Vec<u32> = session
            .uid_search(&query)
            .await
            .map_err(|e| format!("searching {:?}: {e}", self.mailbox))?
            .into_iter()
            .filter(|uid| after.is_none_or(|last| *uid > last))
            .collect();
        uids.sort_unstable();
        let mut messages = Vec::with_capacity(uids.len());
        // In slices: a long thread is not one huge command line or answer.
        for chunk in uids.chunks(100) {
            let set = chunk.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
            let fetched: Vec<async_imap::types::Fetch> = session
                .uid_fetch(&set, "BODY.PEEK[]")
                .await
                .map_err(|e| format!("fetching messages: {e}"))?
                .try_collect()
                .await
                .map_err(|e| format!("fetching messages: {e}"))?;
            messages.extend(fetched.iter().filter_map(|f| Some((f.uid?, f.body()?.to_vec()))));
        }
        messages.sort_by_key(|(uid, _)| *uid);
        let _ = session.logout().await;
        Ok(Fetched { uid_validity: opened.uid_validity, resumed: after.is_some(), messages })
    }
}

/// How far a mailbox was read: its UIDVALIDITY then, and the highest UID read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UidMark {
    pub uid_validity: u32,
    pub last_uid: u32,
}

/// What [`ImapMailbox::fetch_new`] read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// The mailbox's UIDVALIDITY (`None`: the server named none).
    pub uid_validity: Option<u32>,
    /// Whether only the messages after the mark were read (`false`: everything since the day
    /// asked for, there being no mark, or one of another UIDVALIDITY).
    pub resumed: bool,
    /// The messages by UID, in UID order.
    pub messages: Vec<(u32, Vec<u8>)>,
}

impl Fetched {
    /// The mark to keep once every message read was handled: the highest UID read (`None`:
    /// nothing to move it to).
    pub fn mark(&self) -> Option<UidMark> {
        let uid_validity = self.uid_validity?;
        match self.messages.last() {
            Some((last_uid, _)) => Some(UidMark { uid_validity, last_uid: *last_uid }),
            // Read from the start and found nothing: the UIDVALIDITY alone is worth keeping
            // (the next poll then reads from UID 1 instead of searching again by date).
            None if !self.resumed => Some(UidMark { uid_validity, last_uid: 0 }),
            None => None,
        }
    }
}

/// How long connecting may take, and a whole session.
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
const SESSION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

/// The platform's verifier, with `extra_roots` trusted besides its roots (as
/// `ConfigVerifierExt::with_platform_verifier` builds it, plus the roots: rustls calls every
/// verifier but its built-in one "custom", hence the `dangerous()`; this one checks as strictly).
fn rustls_config(extra_roots: &[CertificateDer<'static>]) -> Result<rustls::ClientConfig, String> {
    use rustls_platform_verifier::{ConfigVerifierExt, Verifier};
    if extra_roots.is_empty() {
        return rustls::ClientConfig::with_platform_verifier().map_err(|e| format!("TLS setup: {e}"));
    }
    let builder = rustls::ClientConfig::builder();
    let verifier = Verifier::new_with_extra_roots(extra_roots.iter().cloned(), builder.crypto_provider().clone())
        .map_err(|e| format!("TLS setup with the CA file: {e}"))?;
    Ok(builder.dangerous().with_custom_certificate_verifier(Arc::new(verifier)).with_no_client_auth())
}

/// What to do about a certificate the server's was refused for.
fn certificate_hint(e: &std::io::Error) -> &'static str {
    let refused = e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>());
    if matches!(refused, Some(rustls::Error::InvalidCertificate(_))) {
        " (the server's certificate is not trusted: for a private CA, name its certificate in TRS_IMAP_CA_FILE)"
    } else {
        ""
    }
}

/// A day as IMAP's SEARCH takes it (RFC 3501 `date`: `4-Dec-2026`), in UTC.
fn imap_date(unix: i64) -> String {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let t = time::OffsetDateTime::from_unix_timestamp(unix).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!("{}-{}-{}", t.day(), MONTHS[usize::from(u8::from(t.month())) - 1], t.year())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_server_user_and_mailbox_and_never_a_password() {
        let m = ImapMailbox::parse("imaps://votes%40foo.example@imap.foo.example/lists%2Fdev").unwrap();
        assert_eq!(
            m,
            ImapMailbox {
                tls: true,
                host: "imap.foo.example".into(),
                port: 993,
                user: "votes@foo.example".into(),
                mailbox: "lists/dev".into(),
                extra_roots: Vec::new(),
            }
        );
        let plain = ImapMailbox::parse("imap://reader@127.0.0.1:1430").unwrap();
        assert_eq!((plain.tls, plain.port, plain.mailbox.as_str()), (false, 1430, "INBOX"));
        let with_password = ImapMailbox::parse("imaps://reader:hunter2@imap.example/INBOX").unwrap_err();
        assert!(with_password.contains("TRS_IMAP_PASSWORD") && !with_password.contains("hunter2"), "{with_password}");
        assert!(ImapMailbox::parse("imaps://imap.example/INBOX").unwrap_err().contains("no user"));
        assert!(ImapMailbox::parse("pop3://u@imap.example/").unwrap_err().contains("scheme"));
    }

    #[test]
    fn search_dates_are_imap_days() {
        assert_eq!(imap_date(1_796_371_200), "4-Dec-2026");
        assert_eq!(imap_date(0), "1-Jan-1970");
    }

    #[test]
    fn a_projects_own_password_comes_before_the_shared_one() {
        let env = |name: &str| match name {
            "TRS_IMAP_PASSWORD_FOO_BAR" => Some("own".to_string()),
            "TRS_IMAP_PASSWORD" => Some("shared".to_string()),
            _ => None,
        };
        let passwords = passwords_from(env);
        assert_eq!(passwords(&"foo-bar".parse().unwrap()).as_deref(), Some("own"));
        assert_eq!(passwords(&"baz".parse().unwrap()).as_deref(), Some("shared"));
        assert_eq!(passwords_from(|_| None)(&"baz".parse().unwrap()), None);
    }
}

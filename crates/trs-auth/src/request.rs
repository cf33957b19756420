//! The signed API call scheme (server side, plus the pieces the client shares): header names,
//! the canonical string, header parsing and [`verify_request`]. Every mutating API call carries
//! a detached OpenPGP signature over the canonical string, so a stolen request cannot be
//! replayed late, re-targeted, sent to another deployment (its [`Audience`]) or given another
//! body. `docs/signed-requests.md` is the normative description; keep the two in step.

use sequoia_openpgp as openpgp;

use crate::pgp;
use crate::policy::POLICY;
use crate::registered::RegisteredCert;
use base64::Engine as _;
use openpgp::cert::prelude::*;
use openpgp::packet::Signature;
use openpgp::parse::Parse;
use openpgp::policy::{HashAlgoSecurity, Policy as _};
use openpgp::types::{RevocationStatus, SignatureType};
use openpgp::{Packet, PacketPile};
use sha2::{Digest, Sha256};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use trs_core::Fingerprint;

/// Primary fingerprint of the caller's certificate, hex.
pub const HEADER_KEY: &str = "Trs-Key";
/// Unix seconds, decimal.
pub const HEADER_TIMESTAMP: &str = "Trs-Timestamp";
/// 16 random bytes as 32 lowercase hex digits.
pub const HEADER_NONCE: &str = "Trs-Nonce";
/// Lowercase hex SHA-256 of the exact body bytes.
pub const HEADER_CONTENT_SHA256: &str = "Trs-Content-SHA256";
/// Standard base64 of a binary OpenPGP detached signature over the canonical string.
pub const HEADER_SIGNATURE: &str = "Trs-Signature";
/// The deployment the request is meant for ([`Audience`]); also the second line of the
/// canonical string. Its absence marks a client of the first version of the scheme.
pub const HEADER_AUDIENCE: &str = "Trs-Audience";

/// The largest accepted distance between a request's timestamp and the server clock.
pub const TIMESTAMP_WINDOW_SECS: i64 = 300;
/// First line of the canonical string; names the scheme version. Version 1 had no audience,
/// so one signed request was accepted by every deployment that knew the key; it is refused
/// (`unsupported-scheme-version`).
pub const CANONICAL_PREFIX: &str = "TRS-REQUEST-V2";
/// Upper bound on the `Trs-Signature` header (base64 characters).
const MAX_SIGNATURE_B64: usize = 16 * 1024;
/// Upper bound on an audience id.
const MAX_AUDIENCE: usize = 255;
/// Upper bound on the URL an audience is read from, checked before it is parsed.
const MAX_AUDIENCE_URL: usize = 2048;

/// The deployment a signed request is meant for, so that a request signed for staging is
/// refused by production (`wrong-audience`) even though both know the key and neither has
/// seen its nonce. It is either the API's canonical URL reduced to its origin
/// (`https://trs.example.org`: lowercase scheme and host, no default port, no path or
/// trailing slash) or an id an operator configured (any 1–255 visible ASCII characters
/// without `://`). Both sides compare it as text; [`Audience::parse`] makes the forms equal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Audience(String);

impl Audience {
    /// An origin from a URL (`https://TRS.example.org:443/api/` → `https://trs.example.org`),
    /// or an audience id as it is.
    pub fn parse(s: &str) -> Result<Audience, String> {
        let s = s.trim();
        // Bounded before a URL is parsed (host names go through IDNA processing, the costly
        // part): a canonical URL longer than this is no URL an operator configures.
        if s.len() > MAX_AUDIENCE_URL {
            let start: String = s.chars().take(40).collect();
            return Err(format!("audience {start:?}… is longer than {MAX_AUDIENCE_URL} characters"));
        }
        if s.contains("://") {
            let url = url::Url::parse(s).map_err(|e| format!("audience {s:?} is not a URL: {e}"))?;
            if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
                return Err(format!("audience {s:?} must be an http(s) URL with a host"));
            }
            return Ok(Audience(url.origin().ascii_serialization()));
        }
        if s.is_empty() || s.len() > MAX_AUDIENCE || !s.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(format!("audience {s:?} must be a URL or 1 to {MAX_AUDIENCE} visible ASCII characters"));
        }
        Ok(Audience(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Audience {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Audience {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Audience::parse(s)
    }
}

/// Why a request failed authentication. `Display` is safe to show to the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    #[error(
        "this server accepts {CANONICAL_PREFIX} signatures only, which name the deployment in the {HEADER_AUDIENCE} header and on the second line of the signed string (docs/signed-requests.md); update trs or your client"
    )]
    UnsupportedSchemeVersion,
    #[error("the request was signed for {signed_for}, but this deployment is {expected}; sign for {expected}")]
    WrongAudience { signed_for: String, expected: Audience },
    #[error("malformed header {header}: {reason}")]
    MalformedHeader { header: &'static str, reason: String },
    #[error("malformed request: {0}")]
    MalformedRequest(String),
    #[error("body does not match {HEADER_CONTENT_SHA256} (header {header}, body hashes to {actual})")]
    BodyHashMismatch { header: String, actual: String },
    #[error(
        "request timestamp is {skew} s away from the server clock (allowed: ±{TIMESTAMP_WINDOW_SECS} s); check your clock"
    )]
    TimestampOutOfWindow { skew: i64 },
    #[error("unknown key: {0}")]
    UnknownKey(String),
    #[error("nonce already used; every request needs a fresh {HEADER_NONCE}")]
    ReplayedNonce,
    #[error("bad signature: {0}")]
    BadSignature(String),
    #[error("key {key} expired: {detail}")]
    KeyExpired { key: Fingerprint, detail: String },
    #[error("key {key} is revoked: {reason}")]
    KeyRevoked { key: Fingerprint, reason: String },
}

impl AuthError {
    /// HTTP status: every variant is an authentication failure.
    pub fn status(&self) -> u16 {
        401
    }

    /// Stable machine-readable reason, sent to clients and written to logs.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::MissingHeader(_) => "missing-header",
            AuthError::UnsupportedSchemeVersion => "unsupported-scheme-version",
            AuthError::WrongAudience { .. } => "wrong-audience",
            AuthError::MalformedHeader { .. } => "malformed-header",
            AuthError::MalformedRequest(_) => "malformed-request",
            AuthError::BodyHashMismatch { .. } => "body-hash-mismatch",
            AuthError::TimestampOutOfWindow { .. } => "timestamp-out-of-window",
            AuthError::UnknownKey(_) => "unknown-key",
            AuthError::ReplayedNonce => "replayed-nonce",
            AuthError::BadSignature(_) => "bad-signature",
            AuthError::KeyExpired { .. } => "key-expired",
            AuthError::KeyRevoked { .. } => "key-revoked",
        }
    }
}

/// The canonical string a request signature covers: eight lines joined by `\n`, no trailing
/// newline:
///
/// ```text
/// TRS-REQUEST-V2
/// <audience>
/// <METHOD, ASCII-uppercased>
/// <path exactly as in the request line, percent-encoding untouched>
/// <query exactly as sent, without '?'; empty if none>
/// <Trs-Timestamp>
/// <Trs-Nonce>
/// <Trs-Content-SHA256>
/// ```
pub fn canonical_string(
    audience: &str,
    method: &str,
    path: &str,
    query: Option<&str>,
    timestamp: i64,
    nonce: &str,
    body_sha256_hex: &str,
) -> String {
    format!(
        "{CANONICAL_PREFIX}\n{audience}\n{}\n{path}\n{}\n{timestamp}\n{nonce}\n{body_sha256_hex}",
        method.to_ascii_uppercase(),
        query.unwrap_or("")
    )
}

/// Refuses request-line parts that could not have come from an HTTP request line, and so
/// could make two different requests share a canonical string.
pub(crate) fn check_request_line(method: &str, path: &str, query: Option<&str>) -> Result<(), String> {
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if method.is_empty() || !method.chars().all(token) {
        return Err(format!("method {method:?} is not an HTTP token"));
    }
    let visible = |s: &str| s.chars().all(|c| c.is_ascii_graphic());
    if !path.starts_with('/') || !visible(path) || path.contains('?') {
        return Err(format!("path {path:?} must start with '/' and contain only visible ASCII, no '?'"));
    }
    if let Some(q) = query.filter(|q| !visible(q)) {
        return Err(format!("query {q:?} must contain only visible ASCII"));
    }
    Ok(())
}

/// Lowercase hex SHA-256 of `body`.
pub fn body_sha256_hex(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

/// The six authentication headers, parsed and syntax-checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    /// `Trs-Audience`: the deployment the caller signed for, as sent.
    pub audience: String,
    /// `Trs-Key`: the caller's primary fingerprint.
    pub key: Fingerprint,
    /// `Trs-Timestamp`: unix seconds.
    pub timestamp: i64,
    /// `Trs-Nonce`: 32 lowercase hex digits.
    pub nonce: String,
    /// `Trs-Content-SHA256`: 64 lowercase hex digits.
    pub content_sha256: String,
    /// `Trs-Signature`, base64-decoded: OpenPGP signature packet bytes.
    pub signature: Vec<u8>,
}

impl SignedHeaders {
    /// Reads the headers through `get` (which should match names case-insensitively, as HTTP
    /// does). Surrounding spaces and tabs are ignored; the values are otherwise strict.
    pub fn from_header_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, AuthError> {
        let read = |name: &'static str| -> Result<String, AuthError> {
            let v = get(name).ok_or(AuthError::MissingHeader(name))?;
            Ok(v.trim_matches([' ', '\t']).to_string())
        };
        let bad =
            |header: &'static str, reason: &str| AuthError::MalformedHeader { header, reason: reason.to_string() };
        let lower_hex =
            |s: &str, len: usize| s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));

        let key_s = read(HEADER_KEY)?;
        let timestamp_s = read(HEADER_TIMESTAMP)?;
        let nonce = read(HEADER_NONCE)?;
        let content_sha256 = read(HEADER_CONTENT_SHA256)?;
        let signature_s = read(HEADER_SIGNATURE)?;
        // After the five headers of version 1, so an unsigned request still hears which
        // header is missing, and a version 1 client hears that it is one.
        let audience = read(HEADER_AUDIENCE).map_err(|_| AuthError::UnsupportedSchemeVersion)?;
        if audience.is_empty() || audience.len() > MAX_AUDIENCE || !audience.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(bad(HEADER_AUDIENCE, "must be 1 to 255 visible ASCII characters (a URL's origin or an id)"));
        }

        if !(key_s.len() == 40 || key_s.len() == 64) || !key_s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad(HEADER_KEY, "must be the primary key fingerprint: 40 or 64 hex digits, no spaces"));
        }
        let key: Fingerprint = key_s.parse().map_err(|_| bad(HEADER_KEY, "not a fingerprint"))?;

        let canonical_decimal = !timestamp_s.is_empty()
            && timestamp_s.len() <= 18
            && timestamp_s.bytes().all(|b| b.is_ascii_digit())
            && (timestamp_s == "0" || !timestamp_s.starts_with('0'));
        if !canonical_decimal {
            return Err(bad(HEADER_TIMESTAMP, "must be unix seconds in decimal, no sign, no leading zeros"));
        }
        let timestamp: i64 = timestamp_s.parse().map_err(|_| bad(HEADER_TIMESTAMP, "out of range"))?;

        if !lower_hex(&nonce, 32) {
            return Err(bad(HEADER_NONCE, "must be 32 lowercase hex digits (16 random bytes)"));
        }
        if !lower_hex(&content_sha256, 64) {
            return Err(bad(HEADER_CONTENT_SHA256, "must be 64 lowercase hex digits"));
        }
        if signature_s.is_empty() || signature_s.len() > MAX_SIGNATURE_B64 {
            return Err(bad(HEADER_SIGNATURE, "must be 1 to 16384 base64 characters"));
        }
        let signature = base64::engine::general_purpose::STANDARD
            .decode(signature_s.as_bytes())
            .map_err(|_| bad(HEADER_SIGNATURE, "must be standard base64 (with padding, no line breaks)"))?;

        Ok(SignedHeaders { audience, key, timestamp, nonce, content_sha256, signature })
    }

    /// The headers to send, in a fixed order.
    pub fn to_pairs(&self) -> Vec<(&'static str, String)> {
        vec![
            (HEADER_KEY, self.key.to_string()),
            (HEADER_TIMESTAMP, self.timestamp.to_string()),
            (HEADER_NONCE, self.nonce.clone()),
            (HEADER_CONTENT_SHA256, self.content_sha256.clone()),
            (HEADER_SIGNATURE, base64::engine::general_purpose::STANDARD.encode(&self.signature)),
            (HEADER_AUDIENCE, self.audience.clone()),
        ]
    }
}

/// Who signed a request that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedRequest {
    /// Primary fingerprint of the certificate (equals the `Trs-Key` header).
    pub fingerprint: Fingerprint,
    /// The (sub)key that made the signature.
    pub signing_key: Fingerprint,
}

/// The parts of a request the signature covers, as received.
#[derive(Debug, Clone, Copy)]
pub struct RequestParts<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub body: &'a [u8],
}

/// The checks that cost no store read and no public-key operation, in the order of
/// `docs/signed-requests.md`. The service runs them before it looks the key up, so a junk,
/// stale or misdirected request is refused for the price of a comparison:
/// 1. `Trs-Audience` is this deployment (`wrong-audience`);
/// 2. method, path and query are request-line shaped (`malformed-request`);
/// 3. |now − `Trs-Timestamp`| ≤ 300 s (`timestamp-out-of-window`).
///
/// (Header presence and shape, the nonce's format included, are checked by
/// [`SignedHeaders::from_header_lookup`] before.)
pub fn check_cheap(
    headers: &SignedHeaders,
    audience: &Audience,
    req: RequestParts<'_>,
    now_unix: i64,
) -> Result<(), AuthError> {
    if headers.audience != audience.as_str() {
        return Err(AuthError::WrongAudience { signed_for: headers.audience.clone(), expected: audience.clone() });
    }
    check_request_line(req.method, req.path, req.query).map_err(AuthError::MalformedRequest)?;
    let skew = now_unix.saturating_sub(headers.timestamp);
    if skew.unsigned_abs() > TIMESTAMP_WINDOW_SECS.unsigned_abs() {
        return Err(AuthError::TimestampOutOfWindow { skew });
    }
    Ok(())
}

/// Verifies a signed request for `audience` against the caller's registered certificate
/// (`cert`, looked up by the caller from `headers.key` and parsed once: [`RegisteredCert`]).
///
/// The service's order, matching `docs/signed-requests.md`:
/// [`SignedHeaders::from_header_lookup`] (`missing-header`, `unsupported-scheme-version`,
/// `malformed-header`); [`check_cheap`]; look up the certificate registered for
/// `headers.key` (`unknown-key`); this function; then the nonce check (`replayed-nonce`),
/// recording the nonce only after this function succeeds.
///
/// This function repeats [`check_cheap`] (so it is complete on its own), then checks, in
/// order (the first failure is returned):
/// 1. SHA-256 of the body equals `Trs-Content-SHA256` (`body-hash-mismatch`);
/// 2. the certificate's primary fingerprint is `Trs-Key` (`unknown-key`; a consistency check
///    on the caller's lookup);
/// 3. `Trs-Signature` is exactly one binary (or text) signature packet, made by a key of that
///    certificate, that cryptographically verifies over the canonical string (`bad-signature`);
/// 4. the signature is acceptable to the policy (hash algorithm) and its creation time is not
///    more than 300 s in the future and not expired (`bad-signature`);
/// 5. at the signature's creation time and again at `now`: the certificate and the signing key
///    are not revoked (`key-revoked`), not expired (`key-expired`), valid under the policy and
///    the key is signing-capable (`bad-signature`).
pub fn verify_request(
    headers: &SignedHeaders,
    audience: &Audience,
    req: RequestParts<'_>,
    now_unix: i64,
    cert: &RegisteredCert,
) -> Result<VerifiedRequest, AuthError> {
    check_cheap(headers, audience, req, now_unix)?;

    let actual = body_sha256_hex(req.body);
    if actual != headers.content_sha256 {
        return Err(AuthError::BodyHashMismatch { header: headers.content_sha256.clone(), actual });
    }

    let cert = cert.cert();
    if pgp::fpr(&cert.fingerprint()).as_ref() != Some(&headers.key) {
        return Err(AuthError::UnknownKey(format!(
            "{} is not the certificate registered for this lookup ({})",
            headers.key,
            cert.fingerprint().to_hex()
        )));
    }

    let sig = parse_signature(&headers.signature)?;
    let canonical = canonical_string(
        &headers.audience,
        req.method,
        req.path,
        req.query,
        headers.timestamp,
        &headers.nonce,
        &headers.content_sha256,
    );
    let signer_fpr = verify_crypto(cert, &sig, &canonical)?;

    POLICY
        .signature(&sig, HashAlgoSecurity::CollisionResistance)
        .map_err(|e| AuthError::BadSignature(format!("signature rejected by the OpenPGP policy: {e}")))?;
    let now = unix_to_system(now_unix);
    let sig_time = sig
        .signature_creation_time()
        .ok_or_else(|| AuthError::BadSignature("signature has no creation time".into()))?;
    sig.signature_alive(now, Duration::from_secs(TIMESTAMP_WINDOW_SECS.unsigned_abs()))
        .map_err(|e| AuthError::BadSignature(format!("signature not valid now: {e}")))?;

    key_usable_at(cert, &headers.key, &signer_fpr, sig_time, "when the signature was made")?;
    key_usable_at(cert, &headers.key, &signer_fpr, now, "now")?;

    let signing_key =
        pgp::fpr(&signer_fpr).ok_or_else(|| AuthError::BadSignature("unsupported signing key version".into()))?;
    Ok(VerifiedRequest { fingerprint: headers.key.clone(), signing_key })
}

fn unix_to_system(t: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(u64::try_from(t).unwrap_or(0))
}

/// Exactly one signature packet (binary, or armored — sequoia's parser detects armor).
fn parse_signature(bytes: &[u8]) -> Result<Signature, AuthError> {
    let bad = || AuthError::BadSignature("Trs-Signature is not a single OpenPGP signature packet".into());
    let pile = PacketPile::from_bytes(bytes).map_err(|_| bad())?;
    let mut packets: Vec<Packet> = pile.into_children().collect();
    match (packets.pop(), packets.is_empty()) {
        (Some(Packet::Signature(sig)), true) => match sig.typ() {
            SignatureType::Binary | SignatureType::Text => Ok(sig),
            other => Err(AuthError::BadSignature(format!(
                "signature type {other} is not a document signature (use gpg --detach-sign)"
            ))),
        },
        _ => Err(bad()),
    }
}

/// Finds the key of `cert` named by the signature's issuer and checks the signature is
/// mathematically valid over `canonical`. Returns the signing key's fingerprint.
fn verify_crypto(cert: &openpgp::Cert, sig: &Signature, canonical: &str) -> Result<openpgp::Fingerprint, AuthError> {
    // Text-mode signatures (gpg --textmode) hash the text with CRLF line endings.
    let message = match sig.typ() {
        SignatureType::Text => canonical.replace('\n', "\r\n"),
        _ => canonical.to_string(),
    };
    let issuers = sig.get_issuers();
    let candidates: Vec<_> = cert
        .keys()
        .filter(|ka| issuers.is_empty() || issuers.iter().any(|h| h.aliases(ka.key().key_handle())))
        .collect();
    if candidates.is_empty() {
        let names: Vec<String> = issuers.iter().map(|h| h.to_hex()).collect();
        return Err(AuthError::BadSignature(format!(
            "signature was made by {}, which is not a key of certificate {}",
            names.join(", "),
            cert.fingerprint().to_hex()
        )));
    }
    for ka in candidates {
        if sig.verify_message(ka.key(), message.as_bytes()).is_ok() {
            return Ok(ka.key().fingerprint());
        }
    }
    Err(AuthError::BadSignature(
        "signature does not match this request (method, path, query, timestamp, nonce or body differ from what was signed)"
            .into(),
    ))
}

/// Checks that `key` of `cert` could make signatures at time `t`.
fn key_usable_at(
    cert: &openpgp::Cert,
    primary: &Fingerprint,
    key: &openpgp::Fingerprint,
    t: SystemTime,
    when: &str,
) -> Result<(), AuthError> {
    if let RevocationStatus::Revoked(sigs) = cert.revocation_status(&*POLICY, t) {
        return Err(AuthError::KeyRevoked { key: primary.clone(), reason: pgp::revocation_reason(&sigs) });
    }
    let vc = cert.with_policy(&*POLICY, t).map_err(|e| {
        AuthError::BadSignature(format!("certificate not valid {when} under the OpenPGP policy: {e:#}"))
    })?;
    if let Err(e) = vc.alive() {
        return Err(match vc.primary_key().key_expiration_time() {
            Some(exp) if exp <= t => AuthError::KeyExpired {
                key: primary.clone(),
                detail: format!("certificate expired on {}", pgp::datetime(exp)),
            },
            _ => AuthError::BadSignature(format!("certificate not alive {when}: {e}")),
        });
    }
    let key_fpr = pgp::fpr(key).unwrap_or_else(|| primary.clone());
    let ka = cert
        .keys()
        .key_handle(key.clone())
        .next()
        .ok_or_else(|| AuthError::BadSignature(format!("key {key_fpr} not found")))?;
    let vka = ka.with_policy(&*POLICY, t).map_err(|e| {
        AuthError::BadSignature(format!("key {key_fpr} not valid {when} under the OpenPGP policy: {e:#}"))
    })?;
    if let RevocationStatus::Revoked(sigs) = vka.revocation_status() {
        return Err(AuthError::KeyRevoked { key: key_fpr, reason: pgp::revocation_reason(&sigs) });
    }
    if let Err(e) = vka.alive() {
        return Err(match vka.key_expiration_time() {
            Some(exp) if exp <= t => {
                AuthError::KeyExpired { key: key_fpr, detail: format!("expired on {}", pgp::datetime(exp)) }
            }
            _ => AuthError::BadSignature(format!("key {key_fpr} not alive {when}: {e}")),
        });
    }
    if !vka.for_signing() {
        return Err(AuthError::BadSignature(format!("key {key_fpr} is not signing-capable")));
    }
    Ok(())
}

#[cfg(test)]
mod audience_tests {
    use super::Audience;

    #[test]
    fn a_url_becomes_its_origin_and_an_id_stays_as_it_is() {
        assert_eq!(Audience::parse(" https://TRS.example.org:443/api/ ").unwrap().as_str(), "https://trs.example.org");
        assert_eq!(Audience::parse("http://127.0.0.1:8080").unwrap().as_str(), "http://127.0.0.1:8080");
        assert_eq!(Audience::parse("trs-staging").unwrap().as_str(), "trs-staging");
        assert!(Audience::parse("ftp://trs.example.org").is_err());
        assert!(Audience::parse("").is_err());
        assert!(Audience::parse("two words").is_err());
        assert!(Audience::parse(&"a".repeat(256)).is_err());
    }

    #[test]
    fn an_overlong_url_is_refused_before_it_is_parsed() {
        let host = "é".repeat(1100); // IDNA would have to map every label
        let err = Audience::parse(&format!("https://{host}.example.org")).unwrap_err();
        assert!(err.contains("longer than 2048"), "{err}");
        // A long path on a short origin is still a canonical URL an operator may give.
        let long_path = format!("https://trs.example.org/{}", "p/".repeat(600));
        assert_eq!(Audience::parse(&long_path).unwrap().as_str(), "https://trs.example.org");
    }
}

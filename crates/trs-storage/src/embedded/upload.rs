//! Upload URLs of the embedded blob store: the local stand-in for S3's presigned PUT URLs, so
//! that clients send large files straight to the store and never through an API request body.
//!
//! Token (the last path segment of the URL): `base64url(payload) "." base64url(tag)`, without
//! padding, where `payload` is the UTF-8 text `"{expires_at}\n{max_size}\n{key}"` (unix seconds,
//! bytes, object key) and `tag` is HMAC-SHA256 under the store's secret over
//! `"trs-blob-upload-v1\n" || payload`. The prefix keeps these tags from ever being valid for
//! any other use of the same secret. Tokens are not secret from their holder (the key is
//! readable), only unforgeable.

use std::io::Write;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{KeyInit, Mac};

use super::blob::EmbeddedBlobStore;
use super::files::TmpFile;
use crate::blob::{BlobError, BlobMeta, ByteStream, check_key};

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

const DOMAIN: &[u8] = b"trs-blob-upload-v1\n";
const SECRET_FILE: &str = "upload-secret";

fn mac(secret: &[u8; 32], payload: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(DOMAIN);
    mac.update(payload);
    mac
}

pub(super) fn sign(secret: &[u8; 32], key: &str, expires_at: i64, max_size: u64) -> String {
    let payload = format!("{expires_at}\n{max_size}\n{key}");
    let tag = mac(secret, payload.as_bytes()).finalize().into_bytes();
    format!("{}.{}", URL_SAFE_NO_PAD.encode(&payload), URL_SAFE_NO_PAD.encode(tag))
}

/// What a valid token allows: (key, max_size).
fn verify(secret: &[u8; 32], token: &str, now: i64) -> Result<(String, u64), BlobError> {
    let malformed = || BlobError::UploadRefused("malformed token");
    let (payload, tag) = token.split_once('.').ok_or_else(malformed)?;
    let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| malformed())?;
    let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| malformed())?;
    // Constant-time comparison, and before looking at the payload: nothing unsigned is parsed.
    mac(secret, &payload).verify_slice(&tag).map_err(|_| BlobError::UploadRefused("bad signature"))?;
    let text = String::from_utf8(payload).map_err(|_| malformed())?;
    let mut parts = text.splitn(3, '\n');
    let (Some(expires_at), Some(max_size), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(malformed());
    };
    let expires_at: i64 = expires_at.parse().map_err(|_| malformed())?;
    let max_size: u64 = max_size.parse().map_err(|_| malformed())?;
    if now > expires_at {
        return Err(BlobError::UploadRefused("expired"));
    }
    check_key(key)?;
    Ok((key.to_string(), max_size))
}

impl EmbeddedBlobStore {
    /// Stores the body of a PUT to an upload URL (the route `PUT /api/v1/blob-upload/{token}`)
    /// at `now` (unix seconds, on the clock of the app that handed the URL out). Refuses a
    /// forged, altered or expired token with [`BlobError::UploadRefused`], a body over the
    /// URL's size limit with [`BlobError::TooLarge`] (storing nothing), and an existing key
    /// with [`BlobError::AlreadyExists`].
    pub async fn accept_upload(&self, token: &str, now: i64, body: ByteStream) -> Result<BlobMeta, BlobError> {
        let (key, max_size) = verify(&self.inner.secret, token, now)?;
        self.put_limited(&key, body, Some(max_size)).await
    }
}

/// The upload-URL secret kept in `dir/upload-secret` (mode 0600), created on first use, so that
/// URLs handed out before a restart stay valid after it.
pub fn load_or_create_secret(dir: &Path) -> std::io::Result<[u8; 32]> {
    let path = dir.join(SECRET_FILE);
    let read = |path: &Path| -> std::io::Result<[u8; 32]> {
        let bytes = std::fs::read(path)?;
        bytes.try_into().map_err(|b: Vec<u8>| {
            std::io::Error::other(format!("{} holds {} bytes, not a 32-byte secret", path.display(), b.len()))
        })
    };
    match read(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        other => return other,
    }
    std::fs::create_dir_all(dir)?;
    let mut secret = [0u8; 32];
    rand::TryRng::try_fill_bytes(&mut rand::rngs::SysRng, &mut secret).expect("the system's random number source");
    // Written whole under a temporary name, then linked: never a half-written secret, and a
    // concurrent starter's secret is never replaced.
    let tmp = TmpFile::new(dir, ".upload-secret.tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&tmp.path)?;
    file.write_all(&secret)?;
    file.sync_all()?;
    match std::fs::hard_link(&tmp.path, &path) {
        Ok(()) => Ok(secret),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read(&path),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_and_resist_tampering() {
        let secret = [7u8; 32];
        let token = sign(&secret, "a/b.tar.gz", 1000, 42);
        assert_eq!(verify(&secret, &token, 999).unwrap(), ("a/b.tar.gz".to_string(), 42));
        assert!(matches!(verify(&secret, &token, 1001), Err(BlobError::UploadRefused("expired"))));
        assert!(matches!(verify(&[8u8; 32], &token, 0), Err(BlobError::UploadRefused("bad signature"))));
        let (_, tag) = token.split_once('.').unwrap();
        let forged = format!("{}.{tag}", URL_SAFE_NO_PAD.encode("1000\n999999\na/b.tar.gz"));
        assert!(matches!(verify(&secret, &forged, 0), Err(BlobError::UploadRefused("bad signature"))));
        assert!(matches!(verify(&secret, "garbage", 0), Err(BlobError::UploadRefused("malformed token"))));
    }
}

//! A registered certificate in its parsed form, and the cache that keeps it so.
//!
//! Parsing an armored certificate checks every self-signature in it: milliseconds for a key
//! with hundreds of user ids, paid on every signed call if done per request (the hostile
//! review measured 15 ms per junk request, 30 times a normal key's cost). The service parses
//! each stored certificate once and keeps it, keyed by the primary fingerprint **and** the
//! digest of the stored text, so an update of the stored copy (a merge, a revocation) is
//! parsed afresh on its next use and a stale parse is never consulted.

use sequoia_openpgp as openpgp;

use crate::request::AuthError;
use openpgp::parse::Parse;
use sha2::{Digest, Sha256};
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use trs_core::Fingerprint;

/// A certificate as registered, parsed (self-signatures checked once).
#[derive(Debug, Clone)]
pub struct RegisteredCert {
    cert: openpgp::Cert,
}

impl RegisteredCert {
    /// Parses the stored (armored) form. An unreadable stored certificate is an `unknown-key`
    /// for the caller: nothing they can sign with.
    pub fn parse(fingerprint: &Fingerprint, armored: &str) -> Result<RegisteredCert, AuthError> {
        let cert = openpgp::Cert::from_bytes(armored.as_bytes()).map_err(|e| {
            AuthError::UnknownKey(format!("registered certificate for {fingerprint} is unreadable: {e}"))
        })?;
        Ok(RegisteredCert { cert })
    }

    pub(crate) fn cert(&self) -> &openpgp::Cert {
        &self.cert
    }
}

/// (primary fingerprint, SHA-256 of the stored text) → the parsed certificate.
type Entries = lru::LruCache<(Fingerprint, [u8; 32]), Arc<RegisteredCert>>;

/// Parsed certificates by (fingerprint, SHA-256 of the stored text), least recently used
/// dropped first. Shared by every request a process serves.
pub struct CertCache {
    entries: Mutex<Entries>,
    parses: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for CertCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertCache").field("parses", &self.parses()).finish_non_exhaustive()
    }
}

impl CertCache {
    /// Holds at most `capacity` certificates (at most 64 KiB each, see [`crate::cert`]).
    pub fn new(capacity: usize) -> Self {
        let capacity = NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN);
        CertCache { entries: Mutex::new(lru::LruCache::new(capacity)), parses: Default::default() }
    }

    /// The parsed form of the stored certificate `armored` of `fingerprint`, parsed now only
    /// if this exact text was not parsed before.
    pub fn get(&self, fingerprint: &Fingerprint, armored: &str) -> Result<Arc<RegisteredCert>, AuthError> {
        let key = (fingerprint.clone(), Sha256::digest(armored.as_bytes()).into());
        if let Some(hit) = self.lock().get(&key) {
            return Ok(hit.clone());
        }
        // Parsed outside the lock: two first requests for one key may both parse; the cache
        // stays correct either way, and a slow parse never blocks other keys.
        self.parses.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let parsed = Arc::new(RegisteredCert::parse(fingerprint, armored)?);
        self.lock().put(key, parsed.clone());
        Ok(parsed)
    }

    /// How many certificates were parsed since the cache was made (for tests and metrics).
    pub fn parses(&self) -> u64 {
        self.parses.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // A panic while holding the lock leaves the map itself intact.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Default for CertCache {
    fn default() -> Self {
        CertCache::new(4096)
    }
}

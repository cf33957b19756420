//! Authentication for trs: who may call the API and how a call proves it.
//!
//! - [`policy`]: the one OpenPGP policy (which hashes and algorithms are acceptable).
//! - [`cert`]: checks an OpenPGP certificate before it is registered to a person.
//! - [`registered`]: a registered certificate parsed once, and the cache that keeps it.
//! - [`keys_file`]: renders a project's public `KEYS` file from registered certificates.
//! - [`mail`]: OpenPGP signatures on mail (a vote replied on the list, PGP/MIME or inline).
//! - [`request`]: the signed-request scheme (canonical string, headers, server-side verification).
//! - [`signer`]: the client side: signing requests with a key file or with GnuPG.
//!
//! The wire format is specified in `docs/signed-requests.md`; this crate is its reference
//! implementation. Nothing here picks a crypto backend for sequoia-openpgp: the binary does.

pub mod cert;
pub mod keys_file;
pub mod mail;
pub mod policy;
pub mod registered;
pub mod request;
pub mod signer;

mod pgp;

pub use cert::{
    CertError, MAX_CERT_BYTES, MAX_USER_IDS, ValidatedCert, certificate_warnings, merge_certificate_update,
    validate_certificate,
};
pub use keys_file::{KeysEntry, KeysFileCert, read_keys_file, render_keys_file};
pub use registered::{CertCache, RegisteredCert};
pub use request::{
    Audience, AuthError, HEADER_AUDIENCE, HEADER_CONTENT_SHA256, HEADER_KEY, HEADER_NONCE, HEADER_SIGNATURE,
    HEADER_TIMESTAMP, RequestParts, SignedHeaders, TIMESTAMP_WINDOW_SECS, VerifiedRequest, canonical_string,
    check_cheap, verify_request,
};
pub use signer::{GpgSigner, KeyFileSigner, RequestSigner, SignError, sign_request};

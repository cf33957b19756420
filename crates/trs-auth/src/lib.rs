//! Authentication for trs: who may call the API and how a call proves it.
//!
//! - [`cert`]: checks an OpenPGP certificate before it is registered to a person.
//! - [`keys_file`]: renders a project's public `KEYS` file from registered certificates.
//! - [`request`]: the signed-request scheme (canonical string, headers, server-side verification).
//! - [`signer`]: the client side: signing requests with a key file or with GnuPG.
//!
//! The wire format is specified in `docs/signed-requests.md`; this crate is its reference
//! implementation. Nothing here picks a crypto backend for sequoia-openpgp: the binary does.

pub mod cert;
pub mod keys_file;
pub mod request;
pub mod signer;

mod pgp;

pub use cert::{CertError, ValidatedCert, merge_certificate_update, validate_certificate};
pub use keys_file::{KeysEntry, KeysFileCert, read_keys_file, render_keys_file};
pub use request::{
    AuthError, HEADER_CONTENT_SHA256, HEADER_KEY, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIMESTAMP, SignedHeaders,
    TIMESTAMP_WINDOW_SECS, VerifiedRequest, canonical_string, verify_request,
};
pub use signer::{GpgSigner, KeyFileSigner, RequestSigner, SignError, sign_request};

//! Integration tests for trs-auth. One binary (sequoia links once); GnuPG tests use real gpg.

mod common;

mod cert;
mod gpg;
mod keys_file;
mod request;
mod signer;

//! trs-checks: verifies the files of one revision of a release.
//!
//! For every artifact (a file that is not itself a `.asc`/`.sha512`/`.sha256`/`.md5`/`.sha1`
//! sidecar) the checks are: its checksum file, its detached OpenPGP signature by a key
//! registered to the project, and for archives their safety (no path escapes, no bombs, one
//! top-level folder) and, for source archives, the presence of LICENSE and NOTICE; an SBOM
//! (`*.cdx.json`, `*.spdx`, …) is also read and judged ([`sbom`]).
//!
//! The expensive part is reading the bytes, so each artifact is read once: the same 1 MiB
//! chunks feed SHA-512 (checksum and, for the usual v4 SHA-512 signature, the signature digest
//! too), any other hash a signature needs, and for tar archives the archive inspector running on
//! another thread. Artifacts are verified in parallel across cores.
//!
//! This crate picks no crypto backend for sequoia-openpgp: the binary that links it does.
//!
//! Modules:
//! - [`checksum_file`]: parses every checksum file format release managers produce.
//! - [`signature`]: signer certificates, parsing `.asc`, judging signatures against digests.
//! - [`archive`]: tar (plain, gz, bz2, xz, zst), zip and jar inspection with limits, never unpacking.
//! - [`artifact`]: the single-pass verification of one artifact.
//! - [`sbom`]: SBOM schemas, NTIA minimum elements, top component, licence categories.
//! - [`legacy`]: `.md5`/`.sha1` of an imported history, checked only on import.
//! - [`revision`]: classifies a manifest, verifies artifacts in parallel, cache keys.
//! - [`bench`]: the verification benchmark the CLI exposes.

pub mod archive;
pub mod artifact;
pub mod bench;
pub mod checksum_file;
mod hashing;
pub mod legacy;
pub mod revision;
pub mod sbom;
pub mod signature;

pub use archive::ArchiveLimits;
pub use artifact::{ArtifactInputs, EndStates, FileChecks, verify_artifact};
pub use checksum_file::{Algo, parse_checksum_file};
pub use revision::{
    RevisionVerification, Sidecar, VerifiedFile, VerifyOptions, artifact_cache_key, signers_digest, verify_revision,
};
pub use signature::SignerCert;

//! Fuzz targets for every parser of untrusted bytes in trs, each a plain `fn(&[u8])` that
//! drives the product's own code and panics only on a bug (a panic in that code, or a broken
//! invariant asserted here).
//!
//! Two ways they run:
//! - the ordinary test build replays every committed input (`fuzz/corpus/<target>/`) through
//!   its target (`tests/replay.rs`), so CI exercises each target without an instrumented build;
//! - `scripts/fuzz.sh TARGET [SECONDS]` builds `src/bin/afl.rs` with `cargo afl` and runs an
//!   AFL++ campaign from that corpus (docs/security.md records the campaigns).
//!
//! The inputs are split into fields by the targets themselves (a first byte choosing a format,
//! lines for header values), so one byte string reaches every branch of a parser.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub mod seeds;
pub mod targets;

/// A target: a name (its corpus folder) and the function the fuzzer calls.
pub struct Target {
    pub name: &'static str,
    pub run: fn(&[u8]),
}

/// Every target. The corpus folders under `fuzz/corpus/` are exactly these names.
pub const TARGETS: &[Target] = &[
    Target { name: "signed_call", run: targets::signed_call },
    Target { name: "checksum_file", run: targets::checksum_file },
    Target { name: "artifact_path", run: targets::artifact_path },
    Target { name: "identifiers", run: targets::identifiers },
    Target { name: "archive_tar", run: targets::archive_tar },
    Target { name: "archive_zip", run: targets::archive_zip },
    Target { name: "openpgp_cert", run: targets::openpgp_cert },
    Target { name: "release_signature", run: targets::release_signature },
    Target { name: "pypi_dist", run: targets::pypi_dist },
    Target { name: "pypi_index", run: targets::pypi_index },
    Target { name: "npm_tarball", run: targets::npm_tarball },
    Target { name: "json_body", run: targets::json_body },
    Target { name: "sbom", run: targets::sbom },
    Target { name: "mail_reply", run: targets::mail_reply },
];

/// The target called `name`.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}

/// The function of the target called `name`, found at compile time (the AFL++ entry point's
/// one-target build, `src/bin/afl.rs`).
pub const fn target_const(name: &str) -> Option<fn(&[u8])> {
    let mut i = 0;
    while i < TARGETS.len() {
        if TARGETS[i].name.len() == name.len() {
            let (a, b) = (TARGETS[i].name.as_bytes(), name.as_bytes());
            let mut j = 0;
            while j < a.len() && a[j] == b[j] {
                j += 1;
            }
            if j == a.len() {
                return Some(TARGETS[i].run);
            }
        }
        i += 1;
    }
    None
}

/// The fixed "now" of every target (2026-05-28), after the fixture key's creation: a target
/// must not read the clock, or an input would not replay the same way.
pub const NOW_UNIX: i64 = 1_780_000_000;

pub fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW_UNIX as u64)
}

/// The audience the signed-call target's server is (docs/signed-requests.md).
pub const AUDIENCE: &str = "https://trs.example.org";

/// The caller's certificate (ed25519, made 2026-01-01 with GnuPG, no expiry), registered to
/// the signed-call target's server.
pub const CALLER_CERT: &str = include_str!("../data/caller.asc");
/// Its secret key, for the seed generator only (a throw-away test key).
pub const CALLER_KEY: &str = include_str!("../data/caller.key");

fn caller() -> &'static (trs_core::Fingerprint, trs_auth::RegisteredCert) {
    static CALLER: OnceLock<(trs_core::Fingerprint, trs_auth::RegisteredCert)> = OnceLock::new();
    CALLER.get_or_init(|| {
        let validated =
            trs_auth::validate_certificate(CALLER_CERT.as_bytes(), now()).expect("the fixture key is valid");
        let registered =
            trs_auth::RegisteredCert::parse(&validated.fingerprint, CALLER_CERT).expect("the fixture key parses");
        (validated.fingerprint, registered)
    })
}

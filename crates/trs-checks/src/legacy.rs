//! The old checksums of an existing release history: `F.md5` and `F.sha1`, which many
//! projects shipped before SHA-512. They are checked only on import (`trs import`), for
//! artifacts that carry no `.sha512`/`.sha256`: the file's detached signature is what vouches
//! for it, and its old checksum must agree with its bytes. A release's own checksum is never
//! one of these (`checksum_file::Algo`).

use crate::checksum_file::{Algo, decode_text, parse_checksum_file};
use crate::revision::{Sidecar, Source};
use sha2::Digest;
use std::io::Read;
use trs_core::{CheckKind, CheckResult};

/// Checks `artifact_name`'s bytes at `file` (read once, in order: a local file or the stored
/// object streamed) against the text of its `.md5` or `.sha1` sidecar (`kind`). Any other
/// sidecar kind is not a legacy checksum and passes through as `None`.
pub fn legacy_checksum(file: &Source, artifact_name: &str, kind: Sidecar, sidecar: &[u8]) -> Option<CheckResult> {
    let algo = match kind {
        Sidecar::Md5 => Algo::Md5,
        Sidecar::Sha1 => Algo::Sha1,
        Sidecar::Asc | Sidecar::Sha512 | Sidecar::Sha256 => return None,
    };
    let name = format!("{artifact_name}.{}", algo.extension());
    let expected = match decode_text(sidecar).and_then(|t| parse_checksum_file(&t, artifact_name, algo)) {
        Ok(expected) => expected,
        Err(reason) => return Some(CheckResult::fail(CheckKind::Checksum, format!("{name}: {reason}"))),
    };
    let actual = match digest_file(file, algo) {
        Ok(actual) => actual,
        Err(e) => return Some(CheckResult::fail(CheckKind::Checksum, format!("cannot read the file: {e}"))),
    };
    Some(if actual == expected {
        CheckResult::pass(
            CheckKind::Checksum,
            format!(
                "{} in {name} matches the file (an old checksum, imported; the signature vouches for the file)",
                algo.name()
            ),
        )
    } else {
        CheckResult::fail(
            CheckKind::Checksum,
            format!(
                "{} in {name} does not match the file: expected {}, got {}",
                algo.name(),
                hex::encode(expected),
                hex::encode(actual)
            ),
        )
    })
}

fn digest_file(file: &Source, algo: Algo) -> std::io::Result<Vec<u8>> {
    fn run<D: Digest>(mut read: impl Read) -> std::io::Result<Vec<u8>> {
        let mut hasher = D::new();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = read.read(&mut buf)?;
            if n == 0 {
                return Ok(hasher.finalize().to_vec());
            }
            hasher.update(&buf[..n]);
        }
    }
    let f = file.open()?;
    match algo {
        Algo::Md5 => run::<md5::Md5>(f),
        Algo::Sha1 => run::<sha1::Sha1>(f),
        Algo::Sha512 => run::<sha2::Sha512>(f),
        Algo::Sha256 => run::<sha2::Sha256>(f),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trs_core::Outcome;

    #[test]
    fn md5_and_sha1_files_are_checked_against_the_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.tar.gz");
        std::fs::write(&file, b"hello\n").unwrap();
        // `md5sum a.tar.gz`, `sha1sum a.tar.gz`, and gpg --print-md's grouped form.
        let md5 = b"b1946ac92492d2347c6235b4d2611184  a.tar.gz\n";
        let sha1 = b"F572 D396 FAE9 2066 2871  4FB2 CE00 F72E 94F2 258F\n";
        let source = Source::File(file.clone());
        let ok = |kind, text: &[u8]| legacy_checksum(&source, "a.tar.gz", kind, text).unwrap();
        assert_eq!(ok(Sidecar::Md5, md5).result, Outcome::Pass, "{:?}", ok(Sidecar::Md5, md5));
        assert_eq!(ok(Sidecar::Sha1, sha1).result, Outcome::Pass, "{:?}", ok(Sidecar::Sha1, sha1));
        std::fs::write(&file, b"tampered\n").unwrap();
        let bad = ok(Sidecar::Md5, md5);
        assert_eq!(bad.result, Outcome::Fail);
        assert!(bad.reason.contains("does not match"), "{}", bad.reason);
        assert!(legacy_checksum(&source, "a.tar.gz", Sidecar::Asc, b"").is_none());
    }
}

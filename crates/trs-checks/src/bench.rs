//! The verification benchmark behind `trs bench verify` (and `examples/bench_verify.rs`):
//! how much faster trs checks an artifact than a release manager doing it by hand.
//!
//! It writes `files` pseudo-random files, signs each with a fresh ed25519 key (SHA-512, the
//! GnuPG default), writes `sha512sum`-format checksum files, imports the key into a private
//! GNUPGHOME, and times, best of three with the files in the page cache:
//! (a) `sha512sum F`; (b) `sha512sum -c F.sha512` then `gpg --verify F.asc F`;
//! (c) [`verify_artifact`] on one file; (d) [`verify_revision`] on all files.
//!
//! Key generation and signing use sequoia, so the binary calling this must enable a crypto
//! backend (this library does not pick one).

use crate::artifact::{ArtifactInputs, verify_artifact};
use crate::revision::{VerifyOptions, verify_revision};
use crate::signature::SignerCert;
use openpgp::cert::{CertBuilder, CipherSuite};
use openpgp::packet::Packet;
use openpgp::packet::signature::SignatureBuilder;
use openpgp::policy::StandardPolicy;
use openpgp::serialize::{Marshal, SerializeInto};
use openpgp::types::{HashAlgorithm, SignatureType};
use sequoia_openpgp as openpgp;
use serde::Serialize;
use sha2::Digest;
use std::fmt;
use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Instant, SystemTime};
use trs_core::{Manifest, ManifestEntry, Outcome, Sha512};

/// Targets the benchmark reports against.
pub const TARGET_VS_SHA512SUM: f64 = 1.1;
pub const TARGET_VS_MANUAL: f64 = 2.0;
pub const TARGET_PARALLEL_4: f64 = 1.7;

/// Measured times (seconds, best of three) and what follows from them.
#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    pub size_bytes: u64,
    pub files: usize,
    pub cores: usize,
    pub sha512sum_secs: f64,
    /// `sha512sum -c` plus `gpg --verify`, run one after the other.
    pub manual_secs: f64,
    pub trs_one_file_secs: f64,
    pub trs_all_files_secs: f64,
    pub sha512sum_mb_per_s: f64,
    pub manual_mb_per_s: f64,
    pub trs_one_file_mb_per_s: f64,
    pub trs_all_files_mb_per_s: f64,
    /// trs on one file vs `sha512sum` alone (target ≥ 1.1).
    pub speedup_vs_sha512sum: f64,
    /// trs on one file vs the manual procedure (target ≥ 2).
    pub speedup_vs_manual: f64,
    /// Throughput on all files over throughput on one (target ≥ 1.7 for 4 files).
    pub parallel_scaling: f64,
    /// Whether every trs check passed (the benchmark's files are all valid).
    pub trs_all_passed: bool,
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mb = self.size_bytes as f64 / 1e6;
        writeln!(
            f,
            "trs verify benchmark: {} file(s) of {:.0} MB, {} core(s), best of 3, page cache warm",
            self.files, mb, self.cores
        )?;
        writeln!(f, "{:<44} {:>9} {:>10}", "what", "seconds", "MB/s")?;
        let row = |f: &mut fmt::Formatter<'_>, what: &str, s: f64, r: f64| writeln!(f, "{what:<44} {s:>9.3} {r:>10.1}");
        row(f, "(a) sha512sum F", self.sha512sum_secs, self.sha512sum_mb_per_s)?;
        row(f, "(b) sha512sum -c F.sha512 && gpg --verify", self.manual_secs, self.manual_mb_per_s)?;
        row(f, "(c) trs verify_artifact (1 file)", self.trs_one_file_secs, self.trs_one_file_mb_per_s)?;
        row(
            f,
            &format!("(d) trs verify_revision ({} files)", self.files),
            self.trs_all_files_secs,
            self.trs_all_files_mb_per_s,
        )?;
        let mark = |v: f64, t: f64| if v >= t { "met" } else { "MISSED" };
        writeln!(
            f,
            "trs vs sha512sum:        {:.2}x (target >= {TARGET_VS_SHA512SUM}x, {})",
            self.speedup_vs_sha512sum,
            mark(self.speedup_vs_sha512sum, TARGET_VS_SHA512SUM)
        )?;
        writeln!(
            f,
            "trs vs manual procedure: {:.2}x (target >= {TARGET_VS_MANUAL}x, {})",
            self.speedup_vs_manual,
            mark(self.speedup_vs_manual, TARGET_VS_MANUAL)
        )?;
        writeln!(
            f,
            "{} files vs 1 file:       {:.2}x throughput{}",
            self.files,
            self.parallel_scaling,
            if self.files == 4 {
                format!(" (target >= {TARGET_PARALLEL_4}x, {})", mark(self.parallel_scaling, TARGET_PARALLEL_4))
            } else {
                String::new()
            }
        )?;
        write!(f, "all trs checks passed:   {}", self.trs_all_passed)
    }
}

/// Parses `1GiB`, `512MiB`, `100MB`, `4096` (bytes).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().map_err(|_| format!("bad size {s:?}"))?;
    let mul: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        u => return Err(format!("unknown size unit {u:?}")),
    };
    n.checked_mul(mul).ok_or_else(|| format!("size {s:?} too large"))
}

/// splitmix64: cheap, and good enough that gzip cannot shrink the files.
struct Prng(u64);

impl Prng {
    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
        }
    }
}

fn best_of_3(mut f: impl FnMut() -> Result<(), String>) -> Result<f64, String> {
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let t = Instant::now();
        f()?;
        best = best.min(t.elapsed().as_secs_f64());
    }
    Ok(best)
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(())
}

/// Runs the benchmark in a fresh folder inside `workdir` (removed afterwards).
pub fn run_verify_bench(size_bytes: u64, files: usize, workdir: &Path) -> Result<BenchReport, String> {
    if files == 0 || size_bytes == 0 {
        return Err("need at least one file of at least one byte".into());
    }
    let tmp = tempfile::Builder::new().prefix("trs-bench-").tempdir_in(workdir).map_err(|e| e.to_string())?;
    let dir = tmp.path();
    let (cert, _) = CertBuilder::new()
        .add_userid("trs bench <bench@trs.invalid>")
        .set_cipher_suite(CipherSuite::Cv25519)
        .add_signing_subkey()
        .generate()
        .map_err(|x| x.to_string())?;
    let policy = StandardPolicy::new();
    let mut keypair = cert
        .keys()
        .with_policy(&policy, None)
        .secret()
        .for_signing()
        .next()
        .ok_or("generated key has no signing key")?
        .key()
        .clone()
        .into_keypair()
        .map_err(|x| x.to_string())?;

    // Files, checksums and signatures; odd files get binary .asc, even ones armored.
    let mut entries = Vec::new();
    let mut buf = vec![0u8; 1 << 20];
    for i in 0..files {
        let name = format!("bench-{i}.bin");
        let path = dir.join(&name);
        let mut out = File::create(&path).map_err(|e| e.to_string())?;
        let mut prng = Prng(0x5EED_0000 + i as u64);
        let mut sha = sha2::Sha512::new();
        let mut ctx = HashAlgorithm::SHA512.context().map_err(|e| e.to_string())?.for_signature(4);
        let mut left = size_bytes;
        while left > 0 {
            let n = left.min(buf.len() as u64) as usize;
            prng.fill(&mut buf[..n]);
            sha.update(&buf[..n]);
            ctx.update(&buf[..n]);
            out.write_all(&buf[..n]).map_err(|e| e.to_string())?;
            left -= n as u64;
        }
        // Flushed now, so that write-back does not compete with the timed runs.
        out.sync_all().map_err(|e| e.to_string())?;
        let digest: [u8; 64] = sha.finalize().into();
        std::fs::write(dir.join(format!("{name}.sha512")), format!("{}  {name}\n", hex::encode(digest)))
            .map_err(|e| e.to_string())?;
        let sig =
            SignatureBuilder::new(SignatureType::Binary).sign_hash(&mut keypair, ctx).map_err(|e| e.to_string())?;
        let packet = Packet::from(sig);
        let asc = if i % 2 == 1 {
            packet.to_vec().map_err(|e| e.to_string())?
        } else {
            let mut w =
                openpgp::armor::Writer::new(Vec::new(), openpgp::armor::Kind::Signature).map_err(|e| e.to_string())?;
            packet.serialize(&mut w).map_err(|e| e.to_string())?;
            w.finalize().map_err(|e| e.to_string())?
        };
        std::fs::write(dir.join(format!("{name}.asc")), asc).map_err(|e| e.to_string())?;
        entries.push((name, Sha512::from_bytes(digest)));
    }

    // A private GnuPG home with the public key.
    let gnupg = dir.join("gnupg");
    std::fs::create_dir(&gnupg).map_err(|e| e.to_string())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&gnupg, std::fs::Permissions::from_mode(0o700)).map_err(|e| e.to_string())?;
    }
    let cert_file = dir.join("cert.asc");
    std::fs::write(&cert_file, cert.armored().to_vec().map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    run(Command::new("gpg").arg("--batch").arg("--homedir").arg(&gnupg).arg("--import").arg(&cert_file))?;

    // Manifest of files and sidecars, as trs stores them.
    let mut manifest_entries = Vec::new();
    for (name, digest) in &entries {
        manifest_entries.push(ManifestEntry {
            path: name.parse().map_err(|e| format!("{e}"))?,
            size: size_bytes,
            sha512: *digest,
        });
        for ext in ["sha512", "asc"] {
            let side = format!("{name}.{ext}");
            let bytes = std::fs::read(dir.join(&side)).map_err(|e| e.to_string())?;
            manifest_entries.push(ManifestEntry {
                path: side.parse().map_err(|e| format!("{e}"))?,
                size: bytes.len() as u64,
                sha512: Sha512::from_bytes(sha2::Sha512::digest(&bytes).into()),
            });
        }
    }
    let manifest = Manifest::new(manifest_entries).map_err(|e| e.to_string())?;
    let signers = vec![SignerCert { person: "bench".into(), cert: cert.strip_secret_key_material() }];

    // Warm the page cache.
    for (name, _) in &entries {
        let mut f = File::open(dir.join(name)).map_err(|e| e.to_string())?;
        while f.read(&mut buf).map_err(|e| e.to_string())? > 0 {}
    }

    let first = &entries[0].0;
    let sha512sum_secs = best_of_3(|| run(Command::new("sha512sum").arg(first).current_dir(dir)))?;
    let manual_secs = best_of_3(|| {
        run(Command::new("sha512sum").arg("-c").arg(format!("{first}.sha512")).current_dir(dir))?;
        run(Command::new("gpg")
            .arg("--batch")
            .arg("--homedir")
            .arg(&gnupg)
            .arg("--verify")
            .arg(format!("{first}.asc"))
            .arg(first)
            .current_dir(dir))
    })?;

    let now = SystemTime::now();
    let mut all_passed = true;
    let sha512_file = std::fs::read(dir.join(format!("{first}.sha512"))).map_err(|e| e.to_string())?;
    let asc = std::fs::read(dir.join(format!("{first}.asc"))).map_err(|e| e.to_string())?;
    let path_in_release = first.parse().map_err(|e| format!("{e}"))?;
    let trs_one_file_secs = best_of_3(|| {
        let inputs = ArtifactInputs {
            expected_size: size_bytes,
            expected_sha512: entries[0].1,
            sha512_file: Some(Ok(&sha512_file)),
            sha256_file: None,
            asc: Some(Ok(&asc)),
            signers: &signers,
            policy_time: now,
            limits: Default::default(),
            end_states: None,
        };
        let checks = verify_artifact(&path_in_release, &dir.join(first), &inputs);
        all_passed &= checks.checks.iter().all(|c| c.result == Outcome::Pass);
        Ok(())
    })?;
    let options = VerifyOptions::new(now);
    let locate = |e: &ManifestEntry| -> PathBuf { dir.join(e.path.as_str()) };
    let trs_all_files_secs = best_of_3(|| {
        let v = verify_revision(&manifest, locate, &signers, &options, |_| None);
        all_passed &= v.files.len() == files && v.into_report().worst() == Outcome::Pass;
        Ok(())
    })?;

    let mbps = |bytes: u64, secs: f64| bytes as f64 / 1e6 / secs;
    let one = mbps(size_bytes, trs_one_file_secs);
    let all = mbps(size_bytes * files as u64, trs_all_files_secs);
    Ok(BenchReport {
        size_bytes,
        files,
        cores: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        sha512sum_secs,
        manual_secs,
        trs_one_file_secs,
        trs_all_files_secs,
        sha512sum_mb_per_s: mbps(size_bytes, sha512sum_secs),
        manual_mb_per_s: mbps(size_bytes, manual_secs),
        trs_one_file_mb_per_s: one,
        trs_all_files_mb_per_s: all,
        speedup_vs_sha512sum: sha512sum_secs / trs_one_file_secs,
        speedup_vs_manual: manual_secs / trs_one_file_secs,
        parallel_scaling: all / one,
        trs_all_passed: all_passed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("1GiB").unwrap(), 1 << 30);
        assert_eq!(parse_size("512MiB").unwrap(), 512 << 20);
        assert_eq!(parse_size("100MB").unwrap(), 100_000_000);
        assert_eq!(parse_size("4096").unwrap(), 4096);
        assert!(parse_size("1XB").is_err());
    }

    #[test]
    fn small_bench_runs_and_every_check_passes() {
        let dir = tempfile::tempdir().unwrap();
        let report = run_verify_bench(3 << 20, 2, dir.path()).unwrap();
        assert!(report.trs_all_passed, "{report}");
        let text = report.to_string();
        assert!(text.contains("sha512sum") && text.contains("gpg --verify"), "{text}");
        assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none(), "bench folder removed");
    }
}

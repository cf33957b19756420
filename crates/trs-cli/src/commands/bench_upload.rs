//! `trs bench upload`: what a release manager waits for — `trs upload` of a fresh file with its
//! GnuPG signature and `.sha512` against `trs serve` over loopback, verification included —
//! next to one SHA-512 pass (`openssl dgst -sha512`, `sha512sum`) and the manual check
//! (`sha512sum -c` then `gpg --verify`) of the same file, in the same run.
//!
//! With `--aws-endpoint` the server runs on the AWS path (S3 and DynamoDB at that endpoint,
//! moto on loopback here): the same figures for multipart upload, the commit's hashing of
//! objects read back from S3, and verification streamed from S3.
//!
//! Every run writes fresh random bytes and signs them anew (untimed), so no cache answers;
//! each figure is the best of three. The server and the client log where their time went
//! under the `trs::timing` target; the report shows those stages for the best upload.

use crate::error::{CliError, CliResult, failed};
use crate::output;
use serde::Serialize;
use sha2::Digest;
use std::collections::BTreeMap;
use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Targets of issue 18: upload + verify against one SHA-512 pass and the manual check.
pub const TARGET_VS_OPENSSL: f64 = 1.3;
pub const TARGET_VS_MANUAL: f64 = 0.35;

const RUNS: usize = 3;

/// Logged stage timings: stage -> field -> milliseconds.
type Stages = BTreeMap<String, BTreeMap<String, f64>>;
const LOG_FILTER: &str = "warn,trs::timing=debug";

/// Best-of-three seconds and ratios; the stage timings (milliseconds) of the best upload.
#[derive(Debug, Clone, Serialize)]
pub struct UploadBench {
    /// The server's stores: `embedded`, or the S3/DynamoDB endpoint of the AWS path.
    pub store: String,
    pub size_bytes: u64,
    pub cores: usize,
    pub openssl_secs: f64,
    pub sha512sum_secs: f64,
    /// `sha512sum -c F.sha512 && gpg --verify F.asc F`.
    pub manual_secs: f64,
    /// `trs upload P V F F.asc F.sha512` until its verification report is printed.
    pub trs_secs: f64,
    pub trs_vs_openssl: f64,
    /// Against `sha512sum`, the pass a release manager's own check makes.
    pub trs_vs_sha512sum: f64,
    pub trs_vs_manual: f64,
    /// Stage timings of the best single-file upload, as logged (`stage` -> field -> ms).
    pub stages: Stages,
    /// The CPU time (user + system) the best single-file upload used (Linux only): what must
    /// fit on the machine's cores within the time, whatever overlaps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu: Option<UploadCpu>,
    /// `files` files of `file_bytes` each in one `trs upload`, if asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub many: Option<ManyFiles>,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct UploadCpu {
    /// The `trs upload` process.
    pub client_secs: f64,
    /// The `trs serve` process while the upload ran.
    pub server_secs: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ManyFiles {
    pub files: usize,
    pub file_bytes: u64,
    pub trs_secs: f64,
    pub mb_per_s: f64,
    /// Throughput over the single file's.
    pub vs_one_file: f64,
}

impl fmt::Display for UploadBench {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mb = self.size_bytes as f64 / 1e6;
        writeln!(
            f,
            "trs upload benchmark: {mb:.0} MB file + .asc (GnuPG) + .sha512, loopback, {} core(s), best of {RUNS}, \
             stores: {}",
            self.cores, self.store
        )?;
        writeln!(f, "{:<52} {:>9} {:>10}", "what", "seconds", "MB/s")?;
        let row = |f: &mut fmt::Formatter<'_>, what: &str, s: f64| writeln!(f, "{what:<52} {s:>9.3} {:>10.1}", mb / s);
        row(f, "openssl dgst -sha512 F", self.openssl_secs)?;
        row(f, "sha512sum F", self.sha512sum_secs)?;
        row(f, "sha512sum -c F.sha512 && gpg --verify F.asc F", self.manual_secs)?;
        row(f, "trs upload F F.asc F.sha512 (verified)", self.trs_secs)?;
        let mark = |v: f64, t: f64| if v <= t { "met" } else { "MISSED" };
        writeln!(
            f,
            "trs vs openssl:  {:.2}x the time (target <= {TARGET_VS_OPENSSL}x, {})",
            self.trs_vs_openssl,
            mark(self.trs_vs_openssl, TARGET_VS_OPENSSL)
        )?;
        writeln!(f, "trs vs sha512sum: {:.2}x the time", self.trs_vs_sha512sum)?;
        writeln!(
            f,
            "trs vs manual:   {:.2}x the time (target <= {TARGET_VS_MANUAL}x, {})",
            self.trs_vs_manual,
            mark(self.trs_vs_manual, TARGET_VS_MANUAL)
        )?;
        if let Some(m) = &self.many {
            writeln!(
                f,
                "{} files of {:.0} MB in one upload: {:.3} s, {:.1} MB/s, {:.2}x the throughput of one file",
                m.files,
                m.file_bytes as f64 / 1e6,
                m.trs_secs,
                m.mb_per_s,
                m.vs_one_file
            )?;
        }
        if let Some(cpu) = &self.cpu {
            writeln!(
                f,
                "CPU of the best upload: client {:.2} s, server {:.2} s, {:.2} s in all \
                 ({} core(s) for {TARGET_VS_OPENSSL}x openssl's time give {:.2} s)",
                cpu.client_secs,
                cpu.server_secs,
                cpu.client_secs + cpu.server_secs,
                self.cores,
                self.cores as f64 * TARGET_VS_OPENSSL * self.openssl_secs
            )?;
        }
        write!(f, "stages of the best upload (ms; busy time per lane, so they overlap):")?;
        for (stage, fields) in &self.stages {
            write!(f, "\n  {stage:<7}")?;
            for (k, v) in fields {
                write!(f, " {k}={v:.0}")?;
            }
        }
        Ok(())
    }
}

pub fn upload(
    size: &str,
    files: usize,
    file_size: &str,
    dir: Option<&Path>,
    aws_endpoint: Option<&str>,
    as_json: bool,
) -> CliResult<()> {
    let size = trs_checks::bench::parse_size(size).map_err(CliError::Usage)?;
    let file_size = trs_checks::bench::parse_size(file_size).map_err(CliError::Usage)?;
    if size == 0 || (files > 0 && file_size == 0) {
        return Err(CliError::Usage("sizes must be at least one byte".into()));
    }
    let tmp = match dir {
        Some(d) => tempfile::Builder::new().prefix("trs-bench-upload-").tempdir_in(d),
        None => tempfile::Builder::new().prefix("trs-bench-upload-").tempdir(),
    }
    .map_err(failed)?;
    let bench = Bench::start(tmp.path(), aws_endpoint)?;
    let report = bench.run(size, files, file_size).map(|r| UploadBench {
        store: aws_endpoint.map(|e| format!("S3 and DynamoDB at {e}")).unwrap_or_else(|| "embedded".into()),
        ..r
    });
    bench.stop();
    let report = report?;
    if as_json {
        output::json(&report);
    } else {
        say!("{report}");
    }
    Ok(())
}

/// A private GnuPG home with the release manager's key and a `trs serve` on a free port.
struct Bench {
    dir: PathBuf,
    gnupg: PathBuf,
    trs: PathBuf,
    url: String,
    server: Child,
    server_log: PathBuf,
    version: std::cell::Cell<u32>,
}

fn run(cmd: &mut Command) -> CliResult<String> {
    let out = cmd.stdin(Stdio::null()).output().map_err(|e| failed(format!("{cmd:?}: {e}")))?;
    if !out.status.success() {
        return Err(failed(format!("{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr))));
    }
    Ok(String::from_utf8_lossy(&out.stderr).into_owned())
}

const RM: &str = "rm@bench.invalid";

/// `trs serve` and `trs admin bootstrap` arguments for the stores: the data folder, or (the
/// AWS path) a fresh table and bucket at `aws_endpoint`, created from the template.
fn store_args(dir: &Path, aws_endpoint: Option<&str>) -> Vec<std::ffi::OsString> {
    match aws_endpoint {
        None => vec!["--data".into(), dir.join("data").into()],
        Some(endpoint) => {
            let unique = format!(
                "trs-bench-{}-{}",
                std::process::id(),
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0)
            );
            ["--backend", "aws", "--aws-endpoint", endpoint, "--aws-create", "--aws-table", &unique, "--aws-bucket"]
                .into_iter()
                .map(std::ffi::OsString::from)
                .chain([unique.clone().into()])
                .collect()
        }
    }
}

impl Bench {
    fn start(dir: &Path, aws_endpoint: Option<&str>) -> CliResult<Self> {
        let trs = std::env::current_exe().map_err(failed)?;
        let gnupg = dir.join("gnupg");
        std::fs::create_dir(&gnupg).map_err(failed)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&gnupg, std::fs::Permissions::from_mode(0o700)).map_err(failed)?;
        }
        // The key a release manager makes with GnuPG's defaults for ed25519.
        run(Command::new("gpg").env("GNUPGHOME", &gnupg).args([
            "--batch",
            "--quiet",
            "--passphrase",
            "",
            "--quick-gen-key",
            &format!("Bench RM <{RM}>"),
            "ed25519",
            "sign",
            "never",
        ]))?;
        let cert = dir.join("rm.asc");
        let out = Command::new("gpg")
            .env("GNUPGHOME", &gnupg)
            .args(["--batch", "--export", "--armor", RM])
            .output()
            .map_err(failed)?;
        std::fs::write(&cert, out.stdout).map_err(failed)?;
        let stores = store_args(dir, aws_endpoint);
        run(Command::new(&trs).args(["admin", "bootstrap"]).args(&stores).arg("rm").arg(&cert))?;
        let server_log = dir.join("serve.log");
        let server = Command::new(&trs)
            .arg("serve")
            .args(&stores)
            .args(["--listen", "127.0.0.1:0"])
            .env("TRS_LOG", LOG_FILTER)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&server_log).map_err(failed)?)
            .spawn()
            .map_err(failed)?;
        let mut bench = Bench {
            dir: dir.to_path_buf(),
            gnupg,
            trs,
            url: String::new(),
            server,
            server_log,
            version: std::cell::Cell::new(0),
        };
        let started = Instant::now();
        bench.url = loop {
            let log = std::fs::read_to_string(&bench.server_log).unwrap_or_default();
            if let Some(url) = log.lines().find_map(|l| l.strip_prefix("trs serving on ")) {
                break url.split_whitespace().next().unwrap_or_default().to_string();
            }
            if started.elapsed() > Duration::from_secs(60) {
                bench.stop();
                return Err(failed(format!("trs serve did not start: {log}")));
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        if let Err(e) =
            run(bench.trs_cmd().args(["project", "create", "bench", "--members", "rm", "--release-managers", "rm"]))
        {
            bench.stop();
            return Err(e);
        }
        Ok(bench)
    }

    fn stop(mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
        let _ = Command::new("gpgconf").env("GNUPGHOME", &self.gnupg).args(["--kill", "all"]).status();
    }

    fn trs_cmd(&self) -> Command {
        let mut cmd = Command::new(&self.trs);
        cmd.env("TRS_URL", &self.url).env("TRS_GPG_KEY", RM).env("GNUPGHOME", &self.gnupg);
        cmd
    }

    /// Fresh random bytes in `name`, its `.sha512` (sha512sum's format) and `.asc` by GnuPG;
    /// flushed to disk so that write-back does not compete with the timed runs.
    fn fresh_file(&self, name: &str, size: u64) -> CliResult<PathBuf> {
        let path = self.dir.join(name);
        for stale in [path.clone(), self.dir.join(format!("{name}.asc"))] {
            let _ = std::fs::remove_file(stale);
        }
        let mut random = std::fs::File::open("/dev/urandom").map_err(failed)?;
        let mut out = std::fs::File::create(&path).map_err(failed)?;
        let mut sha = sha2::Sha512::new();
        let mut buf = vec![0u8; 1 << 20];
        let mut left = size;
        while left > 0 {
            let n = left.min(buf.len() as u64) as usize;
            random.read_exact(&mut buf[..n]).map_err(failed)?;
            sha.update(&buf[..n]);
            out.write_all(&buf[..n]).map_err(failed)?;
            left -= n as u64;
        }
        out.sync_all().map_err(failed)?;
        let digest = trs_core::Sha512::from_bytes(sha.finalize().into());
        std::fs::write(self.dir.join(format!("{name}.sha512")), format!("{}  {name}\n", digest.to_hex()))
            .map_err(failed)?;
        run(Command::new("gpg").env("GNUPGHOME", &self.gnupg).current_dir(&self.dir).args([
            "--batch",
            "--quiet",
            "--armor",
            "--detach-sign",
            "--local-user",
            RM,
            name,
        ]))?;
        Ok(path)
    }

    /// Uploads `names` (each with its sidecars) as a new version; the seconds it took and the
    /// stage timings the client and the server logged meanwhile.
    fn upload(&self, names: &[String]) -> CliResult<(f64, Stages, Option<UploadCpu>)> {
        let version = self.version.get() + 1;
        self.version.set(version);
        let log_before = std::fs::metadata(&self.server_log).map(|m| m.len()).unwrap_or(0);
        let mut cmd = self.trs_cmd();
        cmd.current_dir(&self.dir).env("TRS_LOG", LOG_FILTER).args(["upload", "bench", &format!("1.0.{version}")]);
        for name in names {
            cmd.args([name.clone(), format!("{name}.asc"), format!("{name}.sha512")]);
        }
        let server_pid = self.server.id().to_string();
        let cpu_before = (cpu_secs("self", CpuOf::WaitedChildren), cpu_secs(&server_pid, CpuOf::Process));
        let t = Instant::now();
        let client_log = run(cmd.stdout(Stdio::null()))?;
        let secs = t.elapsed().as_secs_f64();
        let cpu = match (cpu_before, (cpu_secs("self", CpuOf::WaitedChildren), cpu_secs(&server_pid, CpuOf::Process))) {
            ((Some(c0), Some(s0)), (Some(c1), Some(s1))) => {
                Some(UploadCpu { client_secs: c1 - c0, server_secs: s1 - s0 })
            }
            _ => None,
        };
        let server_log = std::fs::read(&self.server_log).map_err(failed)?;
        let server_log = String::from_utf8_lossy(&server_log[log_before as usize..]).into_owned();
        Ok((secs, stages(&format!("{server_log}\n{client_log}")), cpu))
    }

    fn run(&self, size: u64, files: usize, file_size: u64) -> CliResult<UploadBench> {
        let (mut openssl, mut sha512sum, mut manual, mut trs) = (f64::MAX, f64::MAX, f64::MAX, f64::MAX);
        let mut stages = BTreeMap::new();
        let mut cpu = None;
        let timed = |cmd: &mut Command| -> CliResult<f64> {
            let t = Instant::now();
            run(cmd.current_dir(&self.dir).stdout(Stdio::null()))?;
            Ok(t.elapsed().as_secs_f64())
        };
        for _ in 0..RUNS {
            let name = "bench.bin".to_string();
            self.fresh_file(&name, size)?;
            openssl = openssl.min(timed(Command::new("openssl").args(["dgst", "-sha512", &name]))?);
            sha512sum = sha512sum.min(timed(Command::new("sha512sum").arg(&name))?);
            let t = Instant::now();
            run(Command::new("sha512sum").current_dir(&self.dir).args(["-c", "--quiet", &format!("{name}.sha512")]))?;
            run(Command::new("gpg").env("GNUPGHOME", &self.gnupg).current_dir(&self.dir).args([
                "--batch",
                "--quiet",
                "--verify",
                &format!("{name}.asc"),
                &name,
            ]))?;
            manual = manual.min(t.elapsed().as_secs_f64());
            let (secs, logged, used) = self.upload(std::slice::from_ref(&name))?;
            if secs < trs {
                trs = secs;
                stages = logged;
                cpu = used;
            }
        }
        let mut many = None;
        if files > 0 {
            let mut best = f64::MAX;
            for _ in 0..RUNS {
                let names: Vec<String> = (0..files).map(|i| format!("bench-part{i}.bin")).collect();
                for name in &names {
                    self.fresh_file(name, file_size)?;
                }
                best = best.min(self.upload(&names)?.0);
            }
            let mb_per_s = (files as u64 * file_size) as f64 / 1e6 / best;
            many = Some(ManyFiles {
                files,
                file_bytes: file_size,
                trs_secs: best,
                mb_per_s,
                vs_one_file: mb_per_s / (size as f64 / 1e6 / trs),
            });
        }
        Ok(UploadBench {
            // Named by the caller, which knows where the server's data is.
            store: String::new(),
            size_bytes: size,
            cores: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            openssl_secs: openssl,
            sha512sum_secs: sha512sum,
            manual_secs: manual,
            trs_secs: trs,
            trs_vs_openssl: trs / openssl,
            trs_vs_sha512sum: trs / sha512sum,
            trs_vs_manual: trs / manual,
            stages,
            cpu,
            many,
        })
    }
}

/// Whose CPU time [`cpu_secs`] reads.
#[derive(Clone, Copy)]
enum CpuOf {
    /// The process itself (`utime` + `stime`).
    Process,
    /// The children it has waited for (`cutime` + `cstime`).
    WaitedChildren,
}

/// CPU seconds (user + system) of process `pid` (or `self`) from `/proc/PID/stat`; `None` where
/// there is no procfs (not Linux).
fn cpu_secs(pid: &str, of: CpuOf) -> Option<f64> {
    // proc(5): times are in clock ticks, USER_HZ, which is 100 on every Linux architecture.
    const USER_HZ: f64 = 100.0;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    Some(cpu_ticks(&stat, of)? as f64 / USER_HZ)
}

/// The clock ticks of a `/proc/PID/stat` line.
fn cpu_ticks(stat: &str, of: CpuOf) -> Option<i64> {
    // The command name (field 2) may hold spaces and parentheses: count from its closing one.
    let after_name = stat.get(stat.rfind(')')? + 2..)?;
    let fields: Vec<&str> = after_name.split(' ').collect();
    // `fields[0]` is field 3 (state): utime, stime, cutime and cstime are fields 14 to 17.
    let (user, system) = match of {
        CpuOf::Process => (fields.get(11)?, fields.get(12)?),
        CpuOf::WaitedChildren => (fields.get(13)?, fields.get(14)?),
    };
    Some(user.parse::<i64>().ok()? + system.parse::<i64>().ok()?)
}

/// The `trs::timing` lines of a log (tracing's text format: `… trs::timing: stage="intake"
/// total_ms=12.5 …`), by stage; of several lines of one stage, the one with the largest
/// `total_ms`/`run_ms`/`checks_ms` (the large file's intake, not its sidecars').
fn stages(log: &str) -> Stages {
    let mut out = Stages::new();
    for line in log.lines() {
        let line = strip_ansi(line);
        let Some((_, fields)) = line.split_once("trs::timing:") else { continue };
        let mut stage = None;
        let mut numbers = BTreeMap::new();
        for field in fields.split_whitespace() {
            let Some((k, v)) = field.split_once('=') else { continue };
            if k == "stage" {
                stage = Some(v.trim_matches('"').to_string());
            } else if let (Some(name), Ok(n)) = (k.strip_suffix("_ms"), v.parse::<f64>()) {
                numbers.insert(name.to_string(), n);
            }
        }
        let Some(stage) = stage else { continue };
        let weight = |m: &BTreeMap<String, f64>| {
            ["total", "run", "checks", "send"].iter().filter_map(|k| m.get(*k)).sum::<f64>()
        };
        if out.get(&stage).is_none_or(|seen| weight(seen) < weight(&numbers)) {
            out.insert(stage, numbers);
        }
    }
    out
}

fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC '[' parameters, ending in a letter.
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timing_lines_are_read_by_stage_largest_first() {
        let log = "2026-12-04T04:40:00Z DEBUG trs::timing: stage=\"intake\" key=\"a\" bytes=10 total_ms=1.5 sha512_ms=1\n\
                   \u{1b}[2m2026\u{1b}[0m DEBUG \u{1b}[2mtrs::timing\u{1b}[0m\u{1b}[2m:\u{1b}[0m \u{1b}[3mstage\u{1b}[0m\u{1b}[2m=\u{1b}[0m\"intake\" \u{1b}[3mtotal_ms\u{1b}[0m\u{1b}[2m=\u{1b}[0m900.25 sha512_ms=800\n\
                   something else entirely\n\
                   DEBUG trs::timing: stage=\"client\" bytes=3 send_ms=950 commit_ms=20";
        let s = stages(log);
        assert_eq!(s["intake"]["total"], 900.25);
        assert_eq!(s["intake"]["sha512"], 800.0);
        assert_eq!(s["client"]["commit"], 20.0);
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn cpu_ticks_are_read_after_a_command_name_with_spaces_and_parentheses() {
        // proc(5)'s fields 1 to 17; the name is `trs (x) y`.
        let stat = "4242 (trs (x) y) S 1 4242 4242 0 -1 4194560 900 0 0 0 150 25 7 3 20 0 3 0 100";
        assert_eq!(cpu_ticks(stat, CpuOf::Process), Some(175));
        assert_eq!(cpu_ticks(stat, CpuOf::WaitedChildren), Some(10));
        assert_eq!(cpu_ticks("4242 (trs) S 1", CpuOf::Process), None, "a line too short reads as nothing");
        if cfg!(target_os = "linux") {
            assert!(cpu_secs("self", CpuOf::Process).is_some(), "this process's own stat line reads");
        }
    }
}

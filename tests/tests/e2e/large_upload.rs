//! A 2 GiB upload goes through with bounded memory on both sides: the client streams the file
//! to its upload URL and the server streams it into the blob store while hashing it. Memory is
//! measured (peak resident set), not time.

use std::process::Command;
use trs_tests::*;

/// Peak resident memory of a running process in KiB, from /proc.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc status")
}

/// `trs upload foo VERSION FILE --json` under `/usr/bin/time`: the output, and the client's
/// peak resident memory in KiB.
fn upload_timed(team: &Team, version: &str, file: &std::path::Path) -> (std::process::Output, u64) {
    let out = Command::new("/usr/bin/time")
        .args([
            "-f",
            "maxrss_kib=%M",
            trs_bin().to_str().unwrap(),
            "upload",
            "foo",
            version,
            file.to_str().unwrap(),
            "--json",
        ])
        .env("TRS_URL", &team.server.url)
        .env("GNUPGHOME", team.gpg.home.path())
        .env("TRS_GPG_KEY", &team.rm)
        .output()
        .expect("run /usr/bin/time trs upload (install the `time` package)");
    let client_kib = stderr(&out)
        .lines()
        .find_map(|l| l.strip_prefix("maxrss_kib="))
        .and_then(|v| v.trim().parse().ok())
        .expect("maxrss from /usr/bin/time");
    (out, client_kib)
}

/// The server's peak is measured against its own peak after a 1 MiB upload through the same
/// paths: the debug binary's code pages alone are most of its resident set (44 of 64 MiB
/// measured on 2026-12-05), so what a 2 GiB upload may add is what is bounded; the client, a
/// fresh process per upload, is held to the absolute bound.
#[test]
fn a_2_gib_file_uploads_with_bounded_memory() {
    let team = Team::new();
    let small = team.path("small-0.9.bin");
    std::fs::write(&small, vec![7u8; 1 << 20]).unwrap();
    let (out, _) = upload_timed(&team, "0.9.0", &small);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let server_warm_kib = peak_rss_kib(team.server.pid());

    let big = team.path("big-1.0.bin");
    // Sparse: 2 GiB of zeros that cost no disk to create; every byte is still sent and hashed.
    std::fs::File::create(&big).unwrap().set_len(2 << 30).unwrap();
    let (out, client_kib) = upload_timed(&team, "1.0.0", &big);
    // No signature or checksum beside it: verification ran to the end and failed those checks.
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let status = stdout_json(&out)["status"].clone();
    assert_eq!(status["files"][0]["size"], 2u64 << 30);
    assert_eq!(check(&status, "big-1.0.bin", "signature").0, "fail");

    let server_kib = peak_rss_kib(team.server.pid());
    let grown = server_kib.saturating_sub(server_warm_kib);
    eprintln!(
        "peak memory: client {client_kib} KiB, server {server_kib} KiB for a 2 GiB file \
         ({server_warm_kib} KiB after a 1 MiB one: {grown} KiB more)"
    );
    assert!(client_kib < 64 * 1024, "client peaked at {client_kib} KiB for a 2 GiB upload");
    assert!(grown < 32 * 1024, "the server's peak grew by {grown} KiB for a 2 GiB upload (to {server_kib} KiB)");
}

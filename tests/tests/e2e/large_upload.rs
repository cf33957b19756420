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

#[test]
fn a_2_gib_file_uploads_with_bounded_memory() {
    let team = Team::new();
    let big = team.path("big-1.0.bin");
    // Sparse: 2 GiB of zeros that cost no disk to create; every byte is still sent and hashed.
    std::fs::File::create(&big).unwrap().set_len(2 << 30).unwrap();
    let out = Command::new("/usr/bin/time")
        .args([
            "-f",
            "maxrss_kib=%M",
            trs_bin().to_str().unwrap(),
            "upload",
            "foo",
            "1.0.0",
            big.to_str().unwrap(),
            "--json",
        ])
        .env("TRS_URL", &team.server.url)
        .env("GNUPGHOME", team.gpg.home.path())
        .env("TRS_GPG_KEY", &team.rm)
        .output()
        .expect("run /usr/bin/time trs upload (install the `time` package)");
    // No signature or checksum beside it: verification ran to the end and failed those checks.
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let status = stdout_json(&out)["status"].clone();
    assert_eq!(status["files"][0]["size"], 2u64 << 30);
    assert_eq!(check(&status, "big-1.0.bin", "signature").0, "fail");

    let client_kib: u64 = stderr(&out)
        .lines()
        .find_map(|l| l.strip_prefix("maxrss_kib="))
        .and_then(|v| v.trim().parse().ok())
        .expect("maxrss from /usr/bin/time");
    let server_kib = peak_rss_kib(team.server.pid());
    eprintln!("peak memory: client {client_kib} KiB, server {server_kib} KiB for a 2 GiB file");
    assert!(client_kib < 64 * 1024, "client peaked at {client_kib} KiB for a 2 GiB upload");
    assert!(server_kib < 64 * 1024, "server peaked at {server_kib} KiB for a 2 GiB upload");
}

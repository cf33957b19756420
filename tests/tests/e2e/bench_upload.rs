//! `trs bench upload` (issue 18) end to end on small files: it starts its own `trs serve`,
//! signs with real GnuPG, times openssl, sha512sum and the manual check beside the upload, and
//! reports where the upload's time went from the `trs::timing` lines of server and client.
//! Behaviour only: no figure is asserted.

use std::process::Command;
use trs_tests::*;

#[test]
fn bench_upload_runs_end_to_end_and_reports_every_stage() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(trs_bin())
        .args(["bench", "upload", "--size", "2MiB", "--files", "3", "--file-size", "256KiB", "--json", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let report = stdout_json(ok(&out));
    assert_eq!(report["size_bytes"], 2u64 << 20);
    for field in ["openssl_secs", "sha512sum_secs", "manual_secs", "trs_secs"] {
        assert!(report[field].as_f64().is_some_and(|v| v > 0.0), "{field}: {report}");
    }
    // Each ratio is the upload's time over its baseline's, measured in the same run.
    for (ratio, baseline) in
        [("trs_vs_openssl", "openssl_secs"), ("trs_vs_sha512sum", "sha512sum_secs"), ("trs_vs_manual", "manual_secs")]
    {
        let expected = report["trs_secs"].as_f64().unwrap() / report[baseline].as_f64().unwrap();
        assert!(report[ratio].as_f64().is_some_and(|r| (r - expected).abs() < 1e-9), "{ratio}: {report}");
    }
    // The server took the file in (write and both hashes), ran the verify task (and how long
    // it waited for the worker), ran the checks; the client sent, committed and waited.
    let stages = &report["stages"];
    for (stage, field) in [
        ("intake", "sha512"),
        ("intake", "sha256"),
        ("intake", "write"),
        ("intake", "sync"),
        ("task", "queued"),
        ("checks", "checks"),
        ("client", "send"),
        ("client", "commit"),
        ("client", "verify_wait"),
    ] {
        assert!(stages[stage][field].is_number(), "{stage}.{field} missing: {stages}");
    }
    assert_eq!(report["many"]["files"], 3);
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none(), "the bench folder is removed, server stopped");
}

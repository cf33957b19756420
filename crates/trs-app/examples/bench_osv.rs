//! The OSV export of a large project (issue 19, "Measure"): a project with 2,000 current
//! releases and 200 published advisories, each affecting a range of them; the time of
//! `cve::osv_feed` (what `GET /api/v1/projects/P/osv` answers: reads the releases and the
//! advisories, resolves each advisory's ranges to releases, writes the records) and how much
//! the process's peak resident size grows during it (Linux: `VmHWM` after resetting it).
//!
//! Run: `cargo run --example bench_osv [RELEASES ADVISORIES]` (default 2000 200). The store is
//! the embedded one in memory (`/dev/shm`), as `trs serve` holds it in its page cache.

use std::time::Instant;
use trs_app::cve::{self, NewAdvisory};
use trs_app::storage_keys as keys;
use trs_app::test_support::world_in_memory;
use trs_core::{Release, ReleaseId, Stage};
use trs_storage::{Condition, Item};

/// A field of /proc/self/status in KiB (`VmRSS`, `VmHWM`).
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("Linux /proc");
    let line = status.lines().find(|l| l.starts_with(field)).expect("the field");
    line.split_whitespace().nth(1).and_then(|n| n.parse().ok()).expect("a number")
}

#[tokio::main]
async fn main() {
    let args: Vec<usize> = std::env::args().skip(1).map(|a| a.parse().expect("a number")).collect();
    let (n_releases, n_advisories) = (args.first().copied().unwrap_or(2000), args.get(1).copied().unwrap_or(200));
    let w = world_in_memory().await;
    let project: trs_core::ProjectName = "foo".parse().unwrap();
    let now = w.app.now();
    // Releases 1.0.0 … : 20 minors of 100 patches (1.0.0 … 1.0.99, 1.1.0 …), written as the
    // promotion leaves them (no files: the export reads the release items only).
    let version = |i: usize| format!("{}.{}.{}", 1 + i / 2000, (i / 100) % 20, i % 100);
    for i in 0..n_releases {
        let id = ReleaseId { project: project.clone(), product: None, version: version(i).parse().unwrap() };
        let mut r = Release::new(id.clone(), now);
        r.stage = Stage::Current;
        r.promoted_at = Some(now);
        let item = Item::new(keys::release(&id), serde_json::to_value(&r).unwrap());
        w.app.items.put(item, Condition::Absent).await.unwrap();
    }
    // Advisory k affects the 50 releases from release 10·k on, fixed by the next one.
    let rm = w.rm.caller();
    for k in 0..n_advisories {
        let (from, to) = ((k * 10) % n_releases, (k * 10 + 50) % n_releases);
        let (from, to) = (from.min(to), from.max(to));
        let id: trs_core::CveId = format!("CVE-2026-{:05}", 10000 + k).parse().unwrap();
        let new = NewAdvisory {
            id: Some(id.clone()),
            summary: Some(format!("Advisory {k}")),
            affected: vec![format!(">={},<{}", version(from), version(to)).parse().unwrap()],
            fixed: Some(version(to).parse().unwrap()),
            ..Default::default()
        };
        cve::add_advisory(&w.app, &rm, &project, new).await.unwrap();
        cve::publish_advisory(&w.app, &rm, &project, &id, false).await.unwrap();
    }

    for run in 1..=3 {
        // Resets the peak resident size to the current one (Linux: clear_refs 5).
        std::fs::write("/proc/self/clear_refs", "5").expect("clear_refs");
        let base = status_kib("VmRSS:");
        let start = Instant::now();
        let feed = cve::osv_feed(&w.app, &project).await.unwrap();
        let elapsed = start.elapsed();
        let bytes = serde_json::to_vec(&feed).unwrap().len();
        let peak = status_kib("VmHWM:").saturating_sub(base);
        let versions: usize = feed.iter().map(|r| r["affected"][0]["versions"].as_array().unwrap().len()).sum();
        println!(
            "run {run}: {} records ({versions} affected versions, {:.1} MB of JSON) from {n_releases} releases in {:.1} ms, peak resident +{:.1} MiB",
            feed.len(),
            bytes as f64 / 1e6,
            elapsed.as_secs_f64() * 1e3,
            peak as f64 / 1024.0
        );
    }
}

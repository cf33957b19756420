//! What compressing the site's text per request costs, to choose between encoding on the fly
//! and storing precompressed copies at publish time (docs/site.md, "Compression").
//!
//! Run `cargo run --example bench_compression -- crates/trs-site/tests/snapshots/*.html.snap
//! crates/trs-site/tests/snapshots/*.json.snap` (the site's pages as its tests snapshot them,
//! each behind a header of a few lines; the dev profile: trs unoptimised, its dependencies,
//! the encoders among them, optimised). For each
//! file: its size, and per coding the encoded size and the median time of 20 encodings.

use std::io::Write;
use std::time::{Duration, Instant};
use trs_http::encoding::Coding;

fn median(mut f: impl FnMut() -> usize) -> (usize, Duration) {
    let mut times = Vec::new();
    let mut size = 0;
    for _ in 0..20 {
        let start = Instant::now();
        size = f();
        times.push(start.elapsed());
    }
    times.sort();
    (size, times[times.len() / 2])
}

fn main() {
    println!("| file | bytes | gzip 6 | brotli 5 | brotli 11 |");
    println!("|---|---|---|---|---|");
    for path in std::env::args().skip(1) {
        let bytes = std::fs::read(&path).expect("readable file");
        let cell = |(size, time): (usize, Duration)| {
            format!("{size} B ({:.0} %), {:.2} ms", size as f64 * 100.0 / bytes.len() as f64, time.as_secs_f64() * 1e3)
        };
        let gzip = median(|| Coding::Gzip.encode(&bytes).len());
        let br = median(|| Coding::Brotli.encode(&bytes).len());
        let br11 = median(|| {
            let mut out = brotli::CompressorWriter::new(Vec::new(), 4096, 11, 22);
            out.write_all(&bytes).expect("in memory");
            out.into_inner().len()
        });
        let name = path.rsplit('/').next().unwrap_or(&path);
        println!("| {name} | {} | {} | {} | {} |", bytes.len(), cell(gzip), cell(br), cell(br11));
    }
}

//! Measures the `sbom` check on a large CycloneDX SBOM (docs/security-data.md, "Measured"):
//!
//! ```sh
//! cargo run --example bench_sbom -- gen /tmp/big.cdx.json 20      # about 20 MB, CycloneDX 1.6
//! /usr/bin/time -v target/debug/examples/bench_sbom check /tmp/big.cdx.json
//! ```
//!
//! `check` reads the file and runs the check as the verify task does, printing the time the
//! check took; `/usr/bin/time -v` gives the peak memory ("Maximum resident set size").

use std::io::Write;
use std::time::Instant;
use trs_checks::sbom::{SbomFormat, check_sbom_bytes};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["gen", path, mb] => generate(path, mb.parse().expect("a size in MB")),
        ["check", path] => check(path),
        _ => {
            eprintln!("usage: bench_sbom gen FILE MB | bench_sbom check FILE");
            std::process::exit(2);
        }
    }
}

/// A CycloneDX 1.6 SBOM with as many components as fit in `mb` MB: each with a supplier,
/// purl, hashes, a licence (a mix of categories) and an entry in `dependencies`, as a large
/// application's SBOM from cyclonedx-maven or cyclonedx-npm looks.
fn generate(path: &str, mb: u64) {
    let licences =
        ["Apache-2.0", "MIT", "BSD-3-Clause", "EPL-2.0", "LGPL-2.1-only", "GPL-2.0-only WITH Classpath-exception-2.0"];
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
    let header = r#"{"bomFormat":"CycloneDX","specVersion":"1.6","serialNumber":"urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79","version":1,
"metadata":{"timestamp":"2026-12-04T00:00:00Z","authors":[{"name":"Apache Foo Team"}],"component":{"type":"application","bom-ref":"root","name":"foo","version":"1.0.0","purl":"pkg:maven/org.example/foo@1.0.0"}},
"components":["#;
    out.write_all(header.as_bytes()).unwrap();
    let mut written = header.len() as u64;
    let mut n = 0usize;
    while written < mb * 1_000_000 - 200_000 {
        let c = format!(
            r#"{}{{"type":"library","bom-ref":"c{n}","supplier":{{"name":"Supplier {s}"}},"group":"org.example.g{s}","name":"component-{n}","version":"{a}.{b}.{n}","description":"Component number {n} of the benchmark SBOM","licenses":[{{"expression":"{l}"}}],"purl":"pkg:maven/org.example.g{s}/component-{n}@{a}.{b}.{n}","hashes":[{{"alg":"SHA-256","content":"{h:064x}"}}]}}"#,
            if n == 0 { "" } else { "," },
            s = n % 97,
            a = n % 7,
            b = n % 13,
            l = licences[n % licences.len()],
            h = n as u128 * 0x9e3779b97f4a7c15,
        );
        out.write_all(c.as_bytes()).unwrap();
        written += c.len() as u64;
        n += 1;
    }
    out.write_all(br#"],"dependencies":[{"ref":"root","dependsOn":["#).unwrap();
    for i in 0..n {
        write!(out, "{}\"c{i}\"", if i == 0 { "" } else { "," }).unwrap();
    }
    out.write_all(b"]}]}\n").unwrap();
    out.flush().unwrap();
    let size = std::fs::metadata(path).unwrap().len();
    println!("{path}: {size} bytes, {n} components");
}

fn check(path: &str) {
    let bytes = std::fs::read(path).expect("read");
    let start = Instant::now();
    let results = check_sbom_bytes(SbomFormat::CycloneDxJson, &bytes);
    let took = start.elapsed();
    for r in &results {
        println!("{}: {}", r.result, r.reason.chars().take(200).collect::<String>());
    }
    println!("{} bytes checked in {:.2} s", bytes.len(), took.as_secs_f64());
}

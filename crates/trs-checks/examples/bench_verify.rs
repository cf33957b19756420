//! Runs the trs verification benchmark: `cargo run --release -p trs-checks --example
//! bench_verify -- --size 1GiB --files 4 [--dir /tmp] [--json]`. The crypto backend comes
//! from this crate's dev-dependency on sequoia-openpgp.

use std::path::PathBuf;

fn main() {
    let mut size = 1u64 << 30;
    let mut files = 4usize;
    let mut dir = std::env::temp_dir();
    let mut json = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| die(&format!("{a} needs a value")));
        match a.as_str() {
            "--size" => size = trs_checks::bench::parse_size(&value()).unwrap_or_else(|e| die(&e)),
            "--files" => files = value().parse().unwrap_or_else(|_| die("--files needs a number")),
            "--dir" => dir = PathBuf::from(value()),
            "--json" => json = true,
            _ => die(&format!("unknown argument {a}; use --size 1GiB --files 4 [--dir D] [--json]")),
        }
    }
    match trs_checks::bench::run_verify_bench(size, files, &dir) {
        Ok(report) if json => println!("{}", serde_json::to_string_pretty(&report).expect("serializable")),
        Ok(report) => println!("{report}"),
        Err(e) => die(&e),
    }
}

fn die(msg: &str) -> ! {
    eprintln!("bench_verify: {msg}");
    std::process::exit(2)
}

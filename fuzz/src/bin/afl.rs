//! The AFL++ entry point: `trs-fuzz-afl TARGET`, built by `scripts/fuzz.sh` with `cargo afl`
//! (feature `afl`). One binary for every target, so one instrumented build serves them all.

fn main() {
    let name = std::env::args().nth(1).unwrap_or_default();
    let Some(target) = trs_fuzz::target(&name) else {
        let names: Vec<&str> = trs_fuzz::TARGETS.iter().map(|t| t.name).collect();
        eprintln!("usage: trs-fuzz-afl TARGET (one of: {})", names.join(", "));
        std::process::exit(2);
    };
    afl::fuzz!(|data: &[u8]| (target.run)(data));
}

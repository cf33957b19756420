//! The AFL++ entry point, built by `scripts/fuzz.sh` with `cargo afl` (feature `afl`).
//!
//! Built with `TRS_FUZZ_TARGET=NAME` in the environment, the binary holds that one target
//! and ignores its arguments: the choice is made at compile time, so the linker drops every
//! other target's code together with its coverage counters. That matters for speed: AFL++
//! clears and scans the whole coverage map on every execution, and the map of a binary holding
//! every target (about 525,000 edges) cost more than most targets themselves. Built without
//! it, `trs-fuzz-afl TARGET` runs any target (one build for the corpus tools).

/// The target chosen at compile time, if any.
const CHOSEN: Option<fn(&[u8])> = match option_env!("TRS_FUZZ_TARGET") {
    Some(name) => match trs_fuzz::target_const(name) {
        Some(run) => Some(run),
        None => panic!("TRS_FUZZ_TARGET names no target of trs_fuzz::TARGETS"),
    },
    None => None,
};

fn main() {
    let run = match CHOSEN {
        Some(run) => run,
        None => {
            let name = std::env::args().nth(1).unwrap_or_default();
            let Some(target) = trs_fuzz::target(&name) else {
                let names: Vec<&str> = trs_fuzz::TARGETS.iter().map(|t| t.name).collect();
                eprintln!("usage: trs-fuzz-afl TARGET (one of: {})", names.join(", "));
                std::process::exit(2);
            };
            target.run
        }
    };
    afl::fuzz!(|data: &[u8]| run(data));
}

//! The time `trs` reads: the system clock, except in a debug build started with
//! `TRS_TEST_CLOCK_FILE`, where the end-to-end tests move it ([`trs_app::OffsetFileClock`]).
//! A release build ignores the variable, so no deployment can have its clock moved by the
//! environment.

use std::sync::Arc;
use trs_app::Clock;

/// The variable naming the test clock's file (tests/src/lib.rs writes it).
#[cfg(debug_assertions)]
const TEST_CLOCK_FILE: &str = "TRS_TEST_CLOCK_FILE";

/// The clock of this process: the server's `App`, the local commands and the signing client.
pub fn clock() -> Arc<dyn Clock> {
    #[cfg(debug_assertions)]
    if let Some(path) = std::env::var_os(TEST_CLOCK_FILE) {
        return Arc::new(trs_app::OffsetFileClock::new(path));
    }
    Arc::new(trs_app::SystemClock)
}

/// Unix seconds now, on [`clock`].
pub fn now() -> i64 {
    clock().now()
}

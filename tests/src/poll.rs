//! The one way the end-to-end tests wait for what the system does in the background (a page
//! published after an event, a task run by the sweep, a server starting): poll a condition
//! until it holds, within a generous bound. Never sleep a fixed time to let something happen:
//! on a loaded machine any fixed time is too short, and on an idle one it is wasted.

use std::fmt::Display;
use std::time::{Duration, Instant};

/// The longest a condition may take to hold. Generous, because the suite runs beside other
/// builds on a couple of cores; a condition that holds ends the wait at once, so only a
/// failing test waits this long.
pub const POLL_LIMIT: Duration = Duration::from_secs(60);

const POLL_EVERY: Duration = Duration::from_millis(50);

/// Calls `probe` until it returns `Ok`, at most [`POLL_LIMIT`], and returns its value. An
/// `Err` says what the probe saw; the last one is in the panic that ends a wait in vain.
pub fn poll_until<T>(what: impl Display, mut probe: impl FnMut() -> Result<T, String>) -> T {
    let deadline = Instant::now() + POLL_LIMIT;
    loop {
        match probe() {
            Ok(value) => return value,
            Err(seen) if Instant::now() >= deadline => panic!("{what}: not within {POLL_LIMIT:?}; last seen: {seen}"),
            Err(_) => std::thread::sleep(POLL_EVERY),
        }
    }
}

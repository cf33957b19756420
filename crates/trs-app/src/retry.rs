//! Backing off between attempts of a write that lost a race. Retrying a conflicted
//! transaction at once mostly races the same writers again: under heavy contention the
//! hostile review saw 1–2.5 % of commits give up after 32 tight retries (issue 13 item 12).
//! Waiting a random time, drawn from a range that doubles with each attempt ("full jitter"),
//! spreads the writers out so that each retry is likely to find the stream quiet.

use std::time::Duration;

/// The first retry waits up to this long.
const BASE: Duration = Duration::from_millis(2);
/// No single wait is longer than this (a commit answers within seconds even when it loses
/// the race many times).
const CAP: Duration = Duration::from_millis(250);

/// The longest wait before retry number `attempt` (0 = the first retry): `BASE · 2^attempt`,
/// at most [`CAP`].
pub fn ceiling(attempt: u32) -> Duration {
    BASE.saturating_mul(1u32.checked_shl(attempt.min(16)).unwrap_or(u32::MAX)).min(CAP)
}

/// A wait drawn uniformly from `0..=ceiling(attempt)`.
pub fn delay(attempt: u32, rng: &mut impl rand::Rng) -> Duration {
    let ceiling = ceiling(attempt).as_micros() as u64;
    Duration::from_micros(rng.gen_range(0..=ceiling))
}

/// Sleeps [`delay`] before retry number `attempt`.
pub async fn back_off(attempt: u32) {
    BACK_OFFS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let wait = delay(attempt, &mut rand::thread_rng());
    tokio::time::sleep(wait).await;
}

static BACK_OFFS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many times this process backed off (a contention gauge for logs and tests).
pub fn back_offs() -> u64 {
    BACK_OFFS.load(std::sync::atomic::Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn waits_grow_with_each_attempt_up_to_the_cap_and_are_jittered() {
        assert_eq!(ceiling(0), Duration::from_millis(2));
        assert_eq!(ceiling(3), Duration::from_millis(16));
        assert_eq!(ceiling(7), CAP);
        assert_eq!(ceiling(31), CAP);
        assert_eq!(ceiling(u32::MAX), CAP);
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for attempt in 0..40 {
            let draws: Vec<Duration> = (0..50).map(|_| delay(attempt, &mut rng)).collect();
            assert!(draws.iter().all(|d| *d <= ceiling(attempt)), "attempt {attempt}: {draws:?}");
            let first = draws[0];
            assert!(draws.iter().any(|d| *d != first), "attempt {attempt}: the waits are jittered");
        }
    }
}

//! Writes that lose a race try again: the one loop for optimistic concurrency. A change reads
//! what it depends on, decides, and writes on the condition that nothing it read has changed
//! since (DESIGN.md, "Storage": put with a condition, transactions with conditions). When
//! another writer got there first the condition fails, and the change is read, decided and
//! written again by [`on_conflict`], which owns the attempt limits and the wait between tries.
//!
//! Retrying a conflicted transaction at once mostly races the same writers again: under heavy
//! contention the hostile review saw 1–2.5 % of commits give up after 32 tight retries (issue
//! 13 item 12). Waiting a random time, drawn from a range that doubles with each attempt
//! ("full jitter"), spreads the writers out so that each retry is likely to find the item quiet.

use crate::error::{AppError, AppResult};
use std::cell::Cell;
use std::future::Future;
use std::time::Duration;

/// How many times a change is tried before [`on_conflict`] gives up. Enough for a handful of
/// writers racing for one item to all land; few enough that a request that keeps losing is
/// answered within seconds: the waits before 16 attempts add up to at most about 2.5 s.
pub const ATTEMPTS: u32 = 16;

/// The attempts of an append to a stream head. Every change of a project (its releases, votes,
/// advisories, settings) appends to the project's one stream, so its head is the most
/// contended item there is; losing it only costs re-reading the head (the caller's own writes
/// stand), so it is worth more tries than a change that reads and decides again.
pub const STREAM_HEAD_ATTEMPTS: u32 = 32;

/// The attempts of a change to a release while its vote runs. Every ballot rewrites the
/// release, and a committee tends to vote within moments of the vote mail (a test casts 16
/// ballots at once, while the vote closes): a voter is not refused for voting at the same
/// time as the others, and the close that races them waits for them rather than giving up.
pub const BALLOT_ATTEMPTS: u32 = 64;

/// What one attempt of a change came to.
#[derive(Debug)]
pub enum Attempt<T> {
    /// Written (or found nothing to write): the change ends with this.
    Done(T),
    /// A condition failed because another writer got there first: read again and retry.
    Conflicted,
}

/// Runs `attempt` until it is [`Attempt::Done`], at most `attempts` times, backing off
/// ([`back_off`]) after each [`Attempt::Conflicted`]. An error of an attempt ends it at once
/// (only a conflict is worth trying again); running out of attempts ends it with `too_busy`,
/// usually [`too_busy`]'s error (made up front so that call sites read as one call with the
/// attempt last; a message is cheap next to a store round trip).
///
/// `attempt` is called afresh for each try, so it re-reads what it decides on. It is a
/// closure returning a future (`|| async move { … }`, capturing references) rather than an
/// async closure: the future of an async closure that borrows is not provably `Send`, which
/// every HTTP handler needs.
pub async fn on_conflict<T, Fut>(attempts: u32, too_busy: AppError, mut attempt: impl FnMut() -> Fut) -> AppResult<T>
where
    Fut: Future<Output = AppResult<Attempt<T>>>,
{
    for tried in 0..attempts {
        if tried > 0 {
            back_off(tried - 1).await;
        }
        if let Attempt::Done(value) = attempt().await? {
            return Ok(value);
        }
    }
    Err(too_busy)
}

/// The answer when a change lost every attempt: 409 `concurrent-update`, naming `what` changed.
pub fn too_busy(what: impl std::fmt::Display) -> AppError {
    AppError::conflict("concurrent-update", format!("{what} changed concurrently too often; retry"))
}

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
    Duration::from_micros(rand::RngExt::random_range(rng, 0..=ceiling))
}

/// Sleeps [`delay`] before retry number `attempt`.
pub async fn back_off(attempt: u32) {
    BACK_OFFS.with(|n| n.set(n.get() + 1));
    let wait = delay(attempt, &mut rand::rng());
    tokio::time::sleep(wait).await;
}

thread_local! {
    // Per thread, so that a test (on its own thread, with a current-thread runtime) counts its
    // own back-offs, not those of the tests running beside it.
    static BACK_OFFS: Cell<u64> = const { Cell::new(0) };
}

/// How many times this thread backed off (a contention gauge for tests).
pub fn back_offs() -> u64 {
    BACK_OFFS.with(Cell::get)
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

    /// Runs [`on_conflict`] over `outcomes`, one per attempt; returns its answer and how many
    /// attempts it made. Budgets here are small: the waits add up to a few milliseconds.
    async fn run(attempts: u32, outcomes: Vec<AppResult<Attempt<&'static str>>>) -> (AppResult<&'static str>, usize) {
        let outcomes = &std::sync::Mutex::new(outcomes.into_iter());
        let tried = &std::sync::atomic::AtomicUsize::new(0);
        let answer = on_conflict(attempts, too_busy("the thing"), || async move {
            tried.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            outcomes.lock().unwrap().next().expect("no attempt beyond the budget")
        })
        .await;
        (answer, tried.load(std::sync::atomic::Ordering::Relaxed))
    }

    #[tokio::test]
    async fn a_conflict_is_tried_again_after_a_back_off() {
        let before = back_offs();
        let (answer, tried) = run(3, vec![Ok(Attempt::Conflicted), Ok(Attempt::Done("written"))]).await;
        assert_eq!(answer.unwrap(), "written");
        assert_eq!(tried, 2);
        assert_eq!(back_offs() - before, 1, "one back-off, none before the first try");
    }

    #[tokio::test]
    async fn the_budget_ends_in_the_too_busy_error() {
        let (answer, tried) = run(3, (0..3).map(|_| Ok(Attempt::Conflicted)).collect()).await;
        let error = answer.unwrap_err();
        assert_eq!((error.status(), error.code()), (409, "concurrent-update"));
        assert_eq!(error.to_string(), "the thing changed concurrently too often; retry");
        assert_eq!(tried, 3, "exactly the budget");
    }

    #[tokio::test]
    async fn an_error_other_than_a_conflict_is_not_retried() {
        let refused = Err(AppError::conflict("wrong-stage", "not now"));
        let (answer, tried) = run(3, vec![refused]).await;
        assert_eq!(answer.unwrap_err().code(), "wrong-stage");
        assert_eq!(tried, 1);
    }
}

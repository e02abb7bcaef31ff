//! Bounded exponential backoff for work that keeps failing the same way (a frame that cannot be
//! signed, liveness the node does not serve): each failure doubles the wait, from the poll
//! interval up to [`MAX_FACTOR`] poll intervals and never more than [`MAX_DELAY`]; a success
//! resets it.

use std::time::{Duration, Instant};

/// Largest wait, in poll intervals.
pub const MAX_FACTOR: u32 = 64;
/// Largest wait whatever the poll interval.
pub const MAX_DELAY: Duration = Duration::from_secs(600);

/// The backoff state of one kind of work.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Backoff {
    failures: u32,
    not_before: Option<Instant>,
}

impl Backoff {
    /// The wait after the `failures`-th failure in a row: `base × 2^(failures − 1)`, at most
    /// `min(base × MAX_FACTOR, MAX_DELAY)`, at least `base`.
    #[must_use]
    pub fn delay(base: Duration, failures: u32) -> Duration {
        let cap = base.saturating_mul(MAX_FACTOR).min(MAX_DELAY).max(base);
        let exponent = failures.saturating_sub(1).min(31);
        base.saturating_mul(1u32.checked_shl(exponent).unwrap_or(u32::MAX)).min(cap)
    }

    /// Whether the work may run at `now`.
    #[must_use]
    pub fn ready(&self, now: Instant) -> bool {
        self.not_before.is_none_or(|t| now >= t)
    }

    /// Records a failure at `now`; returns the wait before the next attempt.
    pub fn failed(&mut self, now: Instant, base: Duration) -> Duration {
        self.failures = self.failures.saturating_add(1);
        let wait = Self::delay(base, self.failures);
        self.not_before = now.checked_add(wait);
        wait
    }

    /// Records a success: the next failure waits `base` again.
    pub fn succeeded(&mut self) {
        *self = Self::default();
    }

    /// Failures in a row so far.
    #[must_use]
    pub fn failures(&self) -> u32 {
        self.failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_bound_and_reset_on_success() {
        let base = Duration::from_secs(2);
        let waits: Vec<u64> = (1..=9).map(|n| Backoff::delay(base, n).as_secs()).collect();
        assert_eq!(waits, vec![2, 4, 8, 16, 32, 64, 128, 128, 128]);
        assert_eq!(Backoff::delay(base, u32::MAX), Duration::from_secs(128));
        // a long poll interval is capped by MAX_DELAY, but never waits less than one interval
        assert_eq!(Backoff::delay(Duration::from_secs(60), 20), MAX_DELAY);
        assert_eq!(Backoff::delay(Duration::from_secs(900), 3), Duration::from_secs(900));

        let t0 = Instant::now();
        let mut b = Backoff::default();
        assert!(b.ready(t0));
        assert_eq!(b.failed(t0, base), base);
        assert!(!b.ready(t0 + Duration::from_secs(1)));
        assert!(b.ready(t0 + base));
        assert_eq!(b.failed(t0, base), base * 2);
        assert_eq!(b.failures(), 2);
        b.succeeded();
        assert!(b.ready(t0));
        assert_eq!(b.failed(t0, base), base);
    }
}

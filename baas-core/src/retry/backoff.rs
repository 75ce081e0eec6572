//! Exponential backoff with full jitter.

use std::time::Duration;

use tower::retry::backoff::Backoff;

/// Exponential backoff with "full jitter": the n-th delay is uniform in
/// `[0, min(max, base·2ⁿ)]`, which spreads retries of many clients best (see the AWS
/// architecture blog's "Exponential Backoff And Jitter").
///
/// It implements tower's [`Backoff`]; a clone made before the first delay starts a fresh
/// sequence, which is how [`RetryPolicy`](super::RetryPolicy) gives every request its own.
///
/// ```
/// use std::time::Duration;
/// use baas_core::retry::FullJitterBackoff;
///
/// let b = FullJitterBackoff::new(Duration::from_millis(100), Duration::from_secs(10));
/// assert!(b.ceiling(0) == Duration::from_millis(100));
/// assert!(b.ceiling(3) == Duration::from_millis(800));
/// assert!(b.ceiling(30) == Duration::from_secs(10));
/// ```
#[derive(Debug, Clone)]
pub struct FullJitterBackoff {
    base: Duration,
    max: Duration,
    attempt: u32,
}

impl FullJitterBackoff {
    /// Delays start at most `base` and double up to `max`.
    pub fn new(base: Duration, max: Duration) -> Self {
        FullJitterBackoff {
            base,
            max: max.max(base),
            attempt: 0,
        }
    }

    /// The largest delay of the `n`-th retry (from 0): `min(max, base·2ⁿ)`.
    pub fn ceiling(&self, n: u32) -> Duration {
        let factor = 2u32.checked_pow(n).unwrap_or(u32::MAX);
        self.base
            .checked_mul(factor)
            .unwrap_or(self.max)
            .min(self.max)
    }

    /// The next delay, advancing the sequence.
    pub fn next_delay(&mut self) -> Duration {
        let ceiling = self.ceiling(self.attempt);
        self.attempt = self.attempt.saturating_add(1);
        ceiling.mul_f64(rand::random::<f64>())
    }
}

impl Default for FullJitterBackoff {
    /// 50 ms doubling up to 5 s.
    fn default() -> Self {
        FullJitterBackoff::new(Duration::from_millis(50), Duration::from_secs(5))
    }
}

impl Backoff for FullJitterBackoff {
    type Future = tokio::time::Sleep;

    fn next_backoff(&mut self) -> Self::Future {
        tokio::time::sleep(self.next_delay())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_stay_under_the_growing_ceiling() {
        let mut b = FullJitterBackoff::new(Duration::from_millis(10), Duration::from_millis(100));
        for n in 0..10 {
            let ceiling = b.ceiling(n);
            assert!(b.next_delay() <= ceiling);
        }
        assert_eq!(b.ceiling(9), Duration::from_millis(100));
    }
}

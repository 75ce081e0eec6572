//! [`RetryPolicy`]: the one place that decides whether a failed job is tried again and
//! when (the backend never retries on its own).

use std::time::Duration;

use baas_core::ErrorKind;

/// What to do with a failed delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Release it for another attempt after this delay.
    Retry(Duration),
    /// Move it to the dead letters.
    DeadLetter,
}

/// Attempts, exponential backoff with jitter, and which error kinds are permanent.
///
/// ```
/// use baas_queue::worker::{Decision, RetryPolicy};
/// use baas_queue::core::ErrorKind;
/// use std::time::Duration;
///
/// let policy = RetryPolicy::new(3)
///     .backoff(Duration::from_secs(1), Duration::from_secs(60))
///     .jitter(0.0);
/// assert_eq!(policy.decide(1, ErrorKind::Unavailable, None), Decision::Retry(Duration::from_secs(1)));
/// assert_eq!(policy.decide(2, ErrorKind::Timeout, None), Decision::Retry(Duration::from_secs(2)));
/// assert_eq!(policy.decide(3, ErrorKind::Unavailable, None), Decision::DeadLetter);
/// // A client error is permanent: no point retrying unchanged input.
/// assert_eq!(policy.decide(1, ErrorKind::Invalid, None), Decision::DeadLetter);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    max_attempts: u32,
    base: Duration,
    max_backoff: Duration,
    jitter: f64,
}

impl Default for RetryPolicy {
    /// 10 attempts; backoff 1 s doubling to at most 1 h; ±20 % jitter.
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 10,
            base: Duration::from_secs(1),
            max_backoff: Duration::from_secs(3600),
            jitter: 0.2,
        }
    }
}

impl RetryPolicy {
    /// At most `max_attempts` deliveries (at least 1), with the default backoff.
    pub fn new(max_attempts: u32) -> Self {
        RetryPolicy {
            max_attempts: max_attempts.max(1),
            ..Self::default()
        }
    }

    /// Backoff `base * 2^(attempt-1)`, capped at `max`.
    pub fn backoff(mut self, base: Duration, max: Duration) -> Self {
        self.base = base;
        self.max_backoff = max.max(base);
        self
    }

    /// Spread each delay by ± this fraction (0.0–1.0).
    pub fn jitter(mut self, fraction: f64) -> Self {
        self.jitter = fraction.clamp(0.0, 1.0);
        self
    }

    /// The most deliveries a message gets.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    /// Whether an error of `kind` may succeed if tried again: everything but the
    /// client's faults — so `RateLimited`, `Unavailable`, `Timeout`, and `Internal`
    /// (including panics) are retried; `Invalid`, `Malformed`, `NotFound`, … are not.
    pub fn is_retryable(kind: ErrorKind) -> bool {
        kind.is_retryable() || !kind.is_client_error()
    }

    /// The delay before attempt `attempt + 1`, without jitter.
    pub fn delay_after(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(30);
        self.base.saturating_mul(1u32 << exp).min(self.max_backoff)
    }

    /// What to do after delivery `attempt` failed with `kind` (and the error's
    /// retry-after hint, which the delay never undercuts).
    pub fn decide(&self, attempt: u32, kind: ErrorKind, retry_after: Option<Duration>) -> Decision {
        if attempt >= self.max_attempts || !Self::is_retryable(kind) {
            return Decision::DeadLetter;
        }
        let mut delay = self.delay_after(attempt);
        if self.jitter > 0.0 && !delay.is_zero() {
            let factor = 1.0 + rand::random_range(-self.jitter..=self.jitter);
            delay = delay.mul_f64(factor);
        }
        if let Some(after) = retry_after {
            delay = delay.max(after);
        }
        Decision::Retry(delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_caps() {
        let p = RetryPolicy::new(100)
            .backoff(Duration::from_secs(1), Duration::from_secs(10))
            .jitter(0.0);
        assert_eq!(p.delay_after(1), Duration::from_secs(1));
        assert_eq!(p.delay_after(3), Duration::from_secs(4));
        assert_eq!(p.delay_after(50), Duration::from_secs(10));
    }

    #[test]
    fn jitter_stays_in_bounds() {
        let p = RetryPolicy::new(5)
            .backoff(Duration::from_secs(10), Duration::from_secs(100))
            .jitter(0.5);
        for _ in 0..100 {
            let Decision::Retry(d) = p.decide(1, ErrorKind::Unavailable, None) else {
                panic!("retry expected");
            };
            assert!(d >= Duration::from_secs(5) && d <= Duration::from_secs(15));
        }
    }

    #[test]
    fn retry_after_is_honoured_and_kinds_decide() {
        let p = RetryPolicy::new(5).jitter(0.0);
        assert_eq!(
            p.decide(1, ErrorKind::RateLimited, Some(Duration::from_secs(30))),
            Decision::Retry(Duration::from_secs(30))
        );
        assert_eq!(
            p.decide(1, ErrorKind::Internal, None),
            Decision::Retry(Duration::from_secs(1))
        );
        assert_eq!(p.decide(1, ErrorKind::NotFound, None), Decision::DeadLetter);
        assert_eq!(p.decide(5, ErrorKind::Timeout, None), Decision::DeadLetter);
    }
}

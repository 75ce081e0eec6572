//! The retry policy.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tower::retry::Policy;
use tower::retry::backoff::Backoff;
use tower::retry::budget::{Budget, TpsBudget};

use super::backoff::FullJitterBackoff;
use super::future::RetryDelay;
use crate::error::Classify;

/// Decides whether and when to retry, by error kind, attempts, budget and retry-after
/// hint. See the [module docs](super).
///
/// Tower clones the policy for every request, so the attempt count and the backoff
/// sequence are per request while the budget (behind an `Arc`) is shared.
#[derive(Clone)]
pub struct RetryPolicy<B = FullJitterBackoff> {
    max_attempts: u32,
    max_retry_after: Duration,
    backoff: B,
    budget: Arc<dyn Budget + Send + Sync>,
    /// Calls completed in this request session.
    attempts: u32,
}

impl RetryPolicy {
    /// At most 3 attempts, [`FullJitterBackoff::default`], tower's default
    /// [`TpsBudget`] (10 retries a second plus 20 % of requests, over 10 s), and hints
    /// of at most 30 s honoured.
    pub fn new() -> Self {
        RetryPolicy {
            max_attempts: 3,
            max_retry_after: Duration::from_secs(30),
            backoff: FullJitterBackoff::default(),
            budget: Arc::new(TpsBudget::default()),
            attempts: 0,
        }
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self::new()
    }
}

impl<B> RetryPolicy<B> {
    /// Make at most `n` calls per request, the first included (`1` disables retries).
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    /// Give up rather than wait when an error asks to wait longer than `max` (a
    /// `RateLimited` answer saying "come back in an hour" is returned to the caller).
    pub fn max_retry_after(mut self, max: Duration) -> Self {
        self.max_retry_after = max;
        self
    }

    /// Share `budget` between every request of every service this policy retries.
    pub fn budget(mut self, budget: Arc<dyn Budget + Send + Sync>) -> Self {
        self.budget = budget;
        self
    }

    /// Wait by `backoff` between attempts: any tower [`Backoff`] whose clone starts a
    /// fresh sequence, e.g. `ExponentialBackoffMaker::make_backoff()`.
    pub fn backoff<B2>(self, backoff: B2) -> RetryPolicy<B2> {
        RetryPolicy {
            max_attempts: self.max_attempts,
            max_retry_after: self.max_retry_after,
            backoff,
            budget: self.budget,
            attempts: self.attempts,
        }
    }
}

impl<B: fmt::Debug> fmt::Debug for RetryPolicy<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryPolicy")
            .field("max_attempts", &self.max_attempts)
            .field("max_retry_after", &self.max_retry_after)
            .field("backoff", &self.backoff)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

impl<B, Req, Res, E> Policy<Req, Res, E> for RetryPolicy<B>
where
    B: Backoff,
    Req: Clone,
    E: Classify,
{
    type Future = RetryDelay<B::Future>;

    fn retry(&mut self, _req: &mut Req, result: &mut Result<Res, E>) -> Option<Self::Future> {
        self.attempts += 1;
        if self.attempts == 1 {
            // Every request (not every retry) pays into the budget.
            self.budget.deposit();
        }
        let error = result.as_ref().err()?;
        let kind = error.kind();
        if !kind.is_retryable() || self.attempts >= self.max_attempts {
            return None;
        }
        let hint = error.retry_after();
        if hint.is_some_and(|hint| hint > self.max_retry_after) {
            return None;
        }
        if !self.budget.withdraw() {
            tracing::debug!(kind = kind.as_str(), "retry budget exhausted");
            return None;
        }
        tracing::debug!(kind = kind.as_str(), attempt = self.attempts, "retrying");
        Some(RetryDelay::new(self.backoff.next_backoff(), hint))
    }

    fn clone_request(&mut self, req: &Req) -> Option<Req> {
        // No copy for an attempt that could not be retried anyway.
        (self.attempts + 1 < self.max_attempts).then(|| req.clone())
    }
}

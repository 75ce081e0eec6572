//! When a circuit opens, how long it stays open, and how it closes again.

use std::time::Duration;

use crate::error::ErrorKind;

/// The breaker's settings, shared by every circuit of one [`Breakers`](super::Breakers).
///
/// ```
/// use std::time::Duration;
/// use baas_core::circuit_breaker::BreakerPolicy;
///
/// let policy = BreakerPolicy::new()
///     .failure_threshold(5)
///     .cool_down(Duration::from_secs(30))
///     .half_open_probes(1)
///     .success_threshold(1);
/// assert_eq!(policy.get_failure_threshold(), 5);
/// ```
#[derive(Debug, Clone)]
pub struct BreakerPolicy {
    failure_threshold: u32,
    cool_down: Duration,
    half_open_probes: u32,
    success_threshold: u32,
}

impl BreakerPolicy {
    /// Open after 5 consecutive failures, stay open 30 s, then let 1 probe through and
    /// close after 1 success.
    pub fn new() -> Self {
        BreakerPolicy {
            failure_threshold: 5,
            cool_down: Duration::from_secs(30),
            half_open_probes: 1,
            success_threshold: 1,
        }
    }

    /// Open after `n` consecutive failures (at least 1).
    pub fn failure_threshold(mut self, n: u32) -> Self {
        self.failure_threshold = n.max(1);
        self
    }

    /// Stay open this long before probing.
    pub fn cool_down(mut self, cool_down: Duration) -> Self {
        self.cool_down = cool_down;
        self
    }

    /// Let at most `n` probes run at once while half-open (at least 1).
    pub fn half_open_probes(mut self, n: u32) -> Self {
        self.half_open_probes = n.max(1);
        self
    }

    /// Close after `n` successful probes (at least 1).
    pub fn success_threshold(mut self, n: u32) -> Self {
        self.success_threshold = n.max(1);
        self
    }

    /// The consecutive failures that open a circuit.
    pub fn get_failure_threshold(&self) -> u32 {
        self.failure_threshold
    }

    /// How long a circuit stays open.
    pub fn get_cool_down(&self) -> Duration {
        self.cool_down
    }

    /// How many probes may run at once while half-open.
    pub fn get_half_open_probes(&self) -> u32 {
        self.half_open_probes
    }

    /// How many successful probes close a circuit.
    pub fn get_success_threshold(&self) -> u32 {
        self.success_threshold
    }

    /// Whether an error of `kind` counts against the downstream: only the server-side
    /// kinds (`Unavailable`, `Timeout`, `Internal`). A client error (`Invalid`,
    /// `NotFound`, `RateLimited`…) means the downstream answered, so it counts as a
    /// success.
    pub fn is_failure(kind: ErrorKind) -> bool {
        !kind.is_client_error()
    }
}

impl Default for BreakerPolicy {
    fn default() -> Self {
        Self::new()
    }
}

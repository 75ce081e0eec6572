//! The keyed GCRA limiter: governor's, on the injected clock, with bounded key memory.

use std::fmt;
use std::hash::Hash;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};
use http::{HeaderMap, HeaderName, HeaderValue};

use crate::clock::SharedClock;
use crate::error::Error;

/// The `RateLimit-Policy` header (IETF ratelimit-headers draft).
pub const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
/// The `RateLimit` header (IETF ratelimit-headers draft).
pub const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");

/// A quota of `n` requests per `window`, as a burst of `n` refilled evenly over the
/// window (one request every `window / n`).
///
/// ```
/// use std::time::Duration;
/// let q = baas_core::rate_limit::quota(100, Duration::from_secs(60))?;
/// assert_eq!(q.burst_size().get(), 100);
/// assert_eq!(q.replenish_interval(), Duration::from_millis(600));
/// # Ok::<(), baas_core::Error>(())
/// ```
pub fn quota(n: u32, window: Duration) -> Result<Quota, Error> {
    let burst = NonZeroU32::new(n).ok_or_else(|| Error::field("quota", "must be at least 1"))?;
    Quota::with_period(window / n)
        .map(|q| q.allow_burst(burst))
        .ok_or_else(|| Error::field("window", "must be longer than zero"))
}

/// governor's clock trait on top of [`crate::Clock`], so tests drive the limiter with a
/// [`ManualClock`](crate::ManualClock).
#[derive(Debug, Clone)]
struct InjectedClock(SharedClock);

impl governor::clock::Clock for InjectedClock {
    type Instant = Instant;

    fn now(&self) -> Instant {
        self.0.monotonic()
    }
}

type Governor<K> = RateLimiter<K, DashMapStateStore<K>, InjectedClock, StateInformationMiddleware>;

/// The outcome of [`KeyedLimiter::check`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Let through; `remaining` more would be let through right now.
    Allowed {
        /// Requests left in the burst.
        remaining: u32,
    },
    /// Refused; the next request is let through after `wait`.
    Limited {
        /// How long until one more request conforms.
        wait: Duration,
    },
}

/// One GCRA bucket per key (governor's `DashMap`-backed keyed limiter).
///
/// **Key memory is bounded by housekeeping**: a key whose bucket is full again is
/// indistinguishable from a new key, and governor's `retain_recent` drops it. The
/// limiter runs it by itself every `housekeeping_every` checks (4096 by default) when
/// more than `max_keys` keys (100 000 by default) are held; call [`KeyedLimiter::sweep`]
/// from a periodic task to run it on a timer as well. Memory is then bounded by the keys
/// active within one window.
pub struct KeyedLimiter<K: Hash + Eq + Clone> {
    governor: Governor<K>,
    quota: Quota,
    policy: HeaderValue,
    checks: AtomicU64,
    housekeeping_every: u64,
    max_keys: usize,
}

impl<K: Hash + Eq + Clone> KeyedLimiter<K> {
    /// A limiter granting `quota` per key, reading time from `clock`.
    pub fn new(quota: Quota, clock: SharedClock) -> Self {
        let governor =
            RateLimiter::dashmap_with_clock(quota, InjectedClock(clock)).with_middleware();
        let policy = format!(
            "\"default\";q={};w={}",
            quota.burst_size(),
            ceil_secs(quota.burst_size_replenished_in())
        );
        KeyedLimiter {
            governor,
            quota,
            policy: HeaderValue::try_from(policy).unwrap_or(HeaderValue::from_static("")),
            checks: AtomicU64::new(0),
            housekeeping_every: 4096,
            max_keys: 100_000,
        }
    }

    /// Sweep when more than `max_keys` are held, checking every `every` calls.
    pub fn with_housekeeping(mut self, max_keys: usize, every: u64) -> Self {
        self.max_keys = max_keys;
        self.housekeeping_every = every.max(1);
        self
    }

    /// The quota per key.
    pub fn quota(&self) -> Quota {
        self.quota
    }

    /// Count one request against `key`.
    pub fn check(&self, key: &K) -> Decision {
        let n = self.checks.fetch_add(1, Ordering::Relaxed) + 1;
        if n.is_multiple_of(self.housekeeping_every) && self.governor.len() > self.max_keys {
            self.sweep();
        }
        match self.governor.check_key(key) {
            Ok(snapshot) => Decision::Allowed {
                remaining: snapshot.remaining_burst_capacity(),
            },
            Err(not_until) => Decision::Limited {
                wait: not_until.wait_time_from(governor::clock::Clock::now(self.governor.clock())),
            },
        }
    }

    /// Forget keys whose bucket is full again (governor's `retain_recent`), and give the
    /// memory back.
    pub fn sweep(&self) {
        self.governor.retain_recent();
        self.governor.shrink_to_fit();
    }

    /// How many keys are held.
    pub fn len(&self) -> usize {
        self.governor.len()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.governor.is_empty()
    }

    /// The `RateLimit-Policy` and `RateLimit` headers for a decision.
    ///
    /// `t` is the number of seconds until the key's quota is whole again (rounded up).
    pub fn headers(&self, decision: Decision) -> HeaderMap {
        let interval = self.quota.replenish_interval();
        let burst = self.quota.burst_size().get();
        let (remaining, reset) = match decision {
            Decision::Allowed { remaining } => {
                (remaining, interval * burst.saturating_sub(remaining))
            }
            Decision::Limited { wait } => (0, wait + interval * burst.saturating_sub(1)),
        };
        let mut headers = HeaderMap::with_capacity(2);
        headers.insert(RATELIMIT_POLICY, self.policy.clone());
        let value = format!("\"default\";r={remaining};t={}", ceil_secs(reset));
        if let Ok(value) = HeaderValue::try_from(value) {
            headers.insert(RATELIMIT, value);
        }
        headers
    }
}

impl<K: Hash + Eq + Clone> fmt::Debug for KeyedLimiter<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyedLimiter")
            .field("quota", &self.quota)
            .field("keys", &self.governor.len())
            .field("max_keys", &self.max_keys)
            .finish_non_exhaustive()
    }
}

fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

//! The layer.

use std::hash::Hash;
use std::sync::Arc;

use governor::Quota;
use tower_layer::Layer;

use super::limiter::KeyedLimiter;
use super::service::RateLimit;
use crate::clock::{self, SharedClock};

/// Wraps a service in [`RateLimit`]. Every service made by one layer shares its buckets.
/// See the [module docs](super).
pub struct RateLimitLayer<X, K: Hash + Eq + Clone> {
    limiter: Arc<KeyedLimiter<K>>,
    extractor: X,
    headers_when_allowed: bool,
}

impl<X, K: Hash + Eq + Clone> RateLimitLayer<X, K> {
    /// Grant `quota` per key picked by `extractor`, on the system clock.
    pub fn new(quota: Quota, extractor: X) -> Self {
        Self::with_clock(quota, extractor, clock::system())
    }

    /// Grant `quota` per key picked by `extractor`, reading time from `clock`.
    pub fn with_clock(quota: Quota, extractor: X, clock: SharedClock) -> Self {
        Self::from_limiter(Arc::new(KeyedLimiter::new(quota, clock)), extractor)
    }

    /// Use an existing limiter (e.g. one whose [`KeyedLimiter::sweep`] a task calls).
    pub fn from_limiter(limiter: Arc<KeyedLimiter<K>>, extractor: X) -> Self {
        RateLimitLayer {
            limiter,
            extractor,
            headers_when_allowed: true,
        }
    }

    /// Send the `RateLimit` headers only on this limit's own 429s, not on the responses
    /// it lets through. For an outer limit stacked over an inner one (as the standard
    /// stack puts the per-IP limit over the per-principal one): the responses then carry
    /// the inner limit's headers, and a 429 always describes the limit that refused it.
    pub fn headers_only_when_limited(mut self) -> Self {
        self.headers_when_allowed = false;
        self
    }

    /// The shared limiter.
    pub fn limiter(&self) -> &Arc<KeyedLimiter<K>> {
        &self.limiter
    }
}

impl<X: Clone, K: Hash + Eq + Clone> Clone for RateLimitLayer<X, K> {
    fn clone(&self) -> Self {
        RateLimitLayer {
            limiter: self.limiter.clone(),
            extractor: self.extractor.clone(),
            headers_when_allowed: self.headers_when_allowed,
        }
    }
}

impl<X, K: Hash + Eq + Clone> std::fmt::Debug for RateLimitLayer<X, K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimitLayer")
            .field("limiter", &self.limiter)
            .finish_non_exhaustive()
    }
}

impl<S, X: Clone, K: Hash + Eq + Clone> Layer<S> for RateLimitLayer<X, K> {
    type Service = RateLimit<S, X, K>;

    fn layer(&self, inner: S) -> Self::Service {
        let mut service = RateLimit::new(inner, self.limiter.clone(), self.extractor.clone());
        service.headers_when_allowed = self.headers_when_allowed;
        service
    }
}

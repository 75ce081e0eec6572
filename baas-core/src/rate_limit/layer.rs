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
        RateLimitLayer { limiter, extractor }
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
        RateLimit::new(inner, self.limiter.clone(), self.extractor.clone())
    }
}

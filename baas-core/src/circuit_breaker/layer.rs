//! The layer.

use std::fmt;
use std::sync::Arc;

use tower_layer::Layer;

use super::policy::BreakerPolicy;
use super::service::{CircuitBreaker, Whole};
use super::state::{Breakers, CircuitKey};
use crate::clock::{self, SharedClock};

/// Wraps a service in [`CircuitBreaker`]. Every service made by one layer shares its
/// circuits. See the [module docs](super).
pub struct CircuitBreakerLayer<X = Whole, K = &'static str> {
    breakers: Arc<Breakers<K>>,
    extractor: X,
}

impl CircuitBreakerLayer {
    /// One circuit for the whole wrapped service (downstream label `all`), on the
    /// system clock.
    pub fn new(name: impl Into<Arc<str>>, policy: BreakerPolicy) -> Self {
        Self::with_clock(name, policy, clock::system())
    }

    /// One circuit for the whole wrapped service, reading time from `clock`.
    pub fn with_clock(
        name: impl Into<Arc<str>>,
        policy: BreakerPolicy,
        clock: SharedClock,
    ) -> Self {
        CircuitBreakerLayer {
            breakers: Arc::new(Breakers::new(name, policy, clock)),
            extractor: Whole,
        }
    }
}

impl<X, K: CircuitKey> CircuitBreakerLayer<X, K> {
    /// One circuit per downstream, picked from each request by `extractor` (a
    /// [`KeyExtractor`](crate::rate_limit::KeyExtractor), e.g. a closure returning the
    /// target host; `None` calls through unguarded).
    pub fn keyed<X2, K2>(self, extractor: X2) -> CircuitBreakerLayer<X2, K2>
    where
        K2: CircuitKey,
    {
        CircuitBreakerLayer {
            breakers: Arc::new(Breakers::new(
                self.breakers.name(),
                self.breakers.policy().clone(),
                self.breakers.clock().clone(),
            )),
            extractor,
        }
    }

    /// The shared circuits, e.g. to read a state.
    pub fn breakers(&self) -> &Arc<Breakers<K>> {
        &self.breakers
    }
}

impl<X: Clone, K> Clone for CircuitBreakerLayer<X, K> {
    fn clone(&self) -> Self {
        CircuitBreakerLayer {
            breakers: self.breakers.clone(),
            extractor: self.extractor.clone(),
        }
    }
}

impl<X, K> fmt::Debug for CircuitBreakerLayer<X, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreakerLayer")
            .field("breakers", &self.breakers)
            .finish_non_exhaustive()
    }
}

impl<S, X: Clone, K> Layer<S> for CircuitBreakerLayer<X, K> {
    type Service = CircuitBreaker<S, X, K>;

    fn layer(&self, inner: S) -> Self::Service {
        CircuitBreaker::new(inner, self.breakers.clone(), self.extractor.clone())
    }
}

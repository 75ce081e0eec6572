//! The service.

use std::fmt;
use std::sync::Arc;
use std::task::{Context, Poll};

use tower_service::Service;

use super::future::{Guard, ResponseFuture};
use super::state::{Breakers, CircuitKey};
use crate::error::Classify;
use crate::rate_limit::KeyExtractor;
use crate::refusal::{Refusal, Refuse};

/// The key extractor of a breaker with a single circuit: every request maps to `"all"`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Whole;

impl<Req> KeyExtractor<Req> for Whole {
    type Key = &'static str;

    fn extract(&self, _req: &Req) -> Option<&'static str> {
        Some("all")
    }
}

/// Refuses calls to a downstream whose circuit is open; see the [module docs](super).
pub struct CircuitBreaker<S, X, K> {
    inner: S,
    breakers: Arc<Breakers<K>>,
    extractor: X,
}

impl<S, X, K> CircuitBreaker<S, X, K> {
    /// Wrap `inner`.
    pub fn new(inner: S, breakers: Arc<Breakers<K>>, extractor: X) -> Self {
        CircuitBreaker {
            inner,
            breakers,
            extractor,
        }
    }

    /// The shared circuits.
    pub fn breakers(&self) -> &Arc<Breakers<K>> {
        &self.breakers
    }
}

impl<S: Clone, X: Clone, K> Clone for CircuitBreaker<S, X, K> {
    fn clone(&self) -> Self {
        CircuitBreaker {
            inner: self.inner.clone(),
            breakers: self.breakers.clone(),
            extractor: self.extractor.clone(),
        }
    }
}

impl<S: fmt::Debug, X, K> fmt::Debug for CircuitBreaker<S, X, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CircuitBreaker")
            .field("inner", &self.inner)
            .field("breakers", &self.breakers)
            .finish_non_exhaustive()
    }
}

impl<S, X, K, Req> Service<Req> for CircuitBreaker<S, X, K>
where
    S: Service<Req>,
    S::Error: Classify + Refuse<S::Response>,
    X: KeyExtractor<Req, Key = K>,
    K: CircuitKey,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, S::Response, S::Error, K>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        let Some(key) = self.extractor.extract(&req) else {
            return ResponseFuture::called(self.inner.call(req), None);
        };
        match self.breakers.admit(&key) {
            Ok(ticket) => {
                let guard = Guard::new(self.breakers.clone(), key, ticket);
                ResponseFuture::called(self.inner.call(req), Some(guard))
            }
            Err(error) => ResponseFuture::refused(S::Error::refuse(Refusal::new(error))),
        }
    }
}

//! The service.

use std::fmt;
use std::hash::Hash;
use std::sync::Arc;
use std::task::{Context, Poll};

use tower_service::Service;

use super::future::ResponseFuture;
use super::key::KeyExtractor;
use super::limiter::{Decision, KeyedLimiter};
use crate::error::{Error, ErrorKind};
use crate::refusal::{Refusal, Refuse};

/// Refuses requests over their key's quota with `RateLimited` (retry-after = time until
/// the next request conforms); see the [module docs](super).
pub struct RateLimit<S, X, K: Hash + Eq + Clone> {
    inner: S,
    limiter: Arc<KeyedLimiter<K>>,
    extractor: X,
    pub(super) headers_when_allowed: bool,
}

impl<S, X, K: Hash + Eq + Clone> RateLimit<S, X, K> {
    /// Wrap `inner`.
    pub fn new(inner: S, limiter: Arc<KeyedLimiter<K>>, extractor: X) -> Self {
        RateLimit {
            inner,
            limiter,
            extractor,
            headers_when_allowed: true,
        }
    }

    /// The shared limiter.
    pub fn limiter(&self) -> &Arc<KeyedLimiter<K>> {
        &self.limiter
    }
}

impl<S: Clone, X: Clone, K: Hash + Eq + Clone> Clone for RateLimit<S, X, K> {
    fn clone(&self) -> Self {
        RateLimit {
            inner: self.inner.clone(),
            limiter: self.limiter.clone(),
            extractor: self.extractor.clone(),
            headers_when_allowed: self.headers_when_allowed,
        }
    }
}

impl<S: fmt::Debug, X, K: Hash + Eq + Clone> fmt::Debug for RateLimit<S, X, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimit")
            .field("inner", &self.inner)
            .field("limiter", &self.limiter)
            .finish_non_exhaustive()
    }
}

impl<S, X, K, Req> Service<Req> for RateLimit<S, X, K>
where
    S: Service<Req>,
    S::Error: Refuse<S::Response>,
    X: KeyExtractor<Req, Key = K>,
    K: Hash + Eq + Clone,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, S::Response, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        let Some(key) = self.extractor.extract(&req) else {
            return ResponseFuture::called(self.inner.call(req), None);
        };
        match self.limiter.check(&key) {
            decision @ Decision::Allowed { .. } => {
                let headers = (self.headers_when_allowed
                    && <S::Error as Refuse<S::Response>>::ANNOTATES)
                    .then(|| self.limiter.headers(decision));
                ResponseFuture::called(self.inner.call(req), headers)
            }
            decision @ Decision::Limited { wait } => {
                let error = Error::new(ErrorKind::RateLimited, "rate limit exceeded; slow down")
                    .with_retry_after(wait);
                let refusal = Refusal {
                    error,
                    headers: self.limiter.headers(decision),
                };
                ResponseFuture::refused(S::Error::refuse(refusal))
            }
        }
    }
}

use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use tower_service::Service;

use super::future::ResponseFuture;
use super::policy::{MetricsPolicy, Observation};

/// The service made by [`MetricsLayer`](super::MetricsLayer).
#[derive(Debug)]
pub struct MetricsService<S, P> {
    inner: S,
    policy: Arc<P>,
}

impl<S: Clone, P> Clone for MetricsService<S, P> {
    fn clone(&self) -> Self {
        MetricsService {
            inner: self.inner.clone(),
            policy: Arc::clone(&self.policy),
        }
    }
}

impl<S, P> MetricsService<S, P> {
    /// Wrap `inner`, recording with `policy`.
    pub fn new(inner: S, policy: Arc<P>) -> Self {
        MetricsService { inner, policy }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwrap the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, P, Req> Service<Req> for MetricsService<S, P>
where
    S: Service<Req>,
    P: MetricsPolicy<Req>,
    P::Observation: Observation<S::Response, S::Error>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, P::Observation>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        let observation = self.policy.observe(&req);
        let started = Instant::now();
        ResponseFuture::new(self.inner.call(req), observation, started)
    }
}

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use pin_project_lite::pin_project;

use super::policy::Observation;

pin_project! {
    /// The future of [`MetricsService`](super::MetricsService): records the observation
    /// when the inner future completes. A future dropped before completing records
    /// nothing.
    #[derive(Debug)]
    pub struct ResponseFuture<F, O> {
        #[pin]
        inner: F,
        observation: Option<(O, Instant)>,
    }
}

impl<F, O> ResponseFuture<F, O> {
    pub(super) fn new(inner: F, observation: O, started: Instant) -> Self {
        ResponseFuture {
            inner,
            observation: Some((observation, started)),
        }
    }
}

impl<F, O, Res, E> Future for ResponseFuture<F, O>
where
    F: Future<Output = Result<Res, E>>,
    O: Observation<Res, E>,
{
    type Output = Result<Res, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(cx));
        if let Some((observation, started)) = this.observation.take() {
            observation.finish(result.as_ref(), started.elapsed());
        }
        Poll::Ready(result)
    }
}

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::{HeaderValue, Response};
use pin_project_lite::pin_project;

use super::X_REQUEST_ID;

pin_project! {
    /// The future of [`TraceService`](super::TraceService): polls the inner future
    /// inside the request's span, then records the status and sets `X-Request-Id`.
    #[derive(Debug)]
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        span: tracing::Span,
        request_id: Option<HeaderValue>,
    }
}

impl<F> ResponseFuture<F> {
    pub(super) fn new(inner: F, span: tracing::Span, request_id: Option<HeaderValue>) -> Self {
        ResponseFuture {
            inner,
            span,
            request_id,
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let _entered = this.span.enter();
        match ready!(this.inner.poll(cx)) {
            Ok(mut res) => {
                let status = res.status().as_u16();
                this.span.record("status", status);
                if let Some(id) = this.request_id.take() {
                    res.headers_mut().insert(X_REQUEST_ID, id);
                }
                tracing::debug!(status, "request finished");
                Poll::Ready(Ok(res))
            }
            Err(e) => {
                this.span.record("status", "error");
                tracing::debug!("request failed without a response");
                Poll::Ready(Err(e))
            }
        }
    }
}

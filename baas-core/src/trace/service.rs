use std::task::{Context, Poll};

use http::{HeaderValue, Request, Response};
use tower_service::Service;
use tracing::field::Empty;

use super::future::ResponseFuture;
use super::traceparent::{TRACEPARENT, TraceParent};
use super::{X_REQUEST_ID, record_principal};
use crate::context::{RequestContext, RequestId};
use crate::metrics::{UNMATCHED_ROUTE, matched_route};

/// The service made by [`TraceLayer`](super::TraceLayer).
#[derive(Debug, Clone)]
pub struct TraceService<S> {
    inner: S,
}

impl<S> TraceService<S> {
    /// Wrap `inner`.
    pub fn new(inner: S) -> Self {
        TraceService { inner }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Unwrap the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, B, RB> Service<Request<B>> for TraceService<S>
where
    S: Service<Request<B>, Response = Response<RB>>,
{
    type Response = Response<RB>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let headers = req.headers();
        let request_id = headers
            .get(X_REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .and_then(RequestId::from_header)
            .unwrap_or_else(RequestId::generate);
        let incoming = headers
            .get(TRACEPARENT)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| TraceParent::parse(v).map(|tp| (tp, v)));
        let next_hop = match &incoming {
            Some((tp, _)) => tp.child(),
            None => TraceParent::new_root(),
        };

        let route = matched_route(req.extensions()).unwrap_or(UNMATCHED_ROUTE);
        let span = tracing::info_span!(
            "request",
            method = %req.method(),
            route = route,
            request_id = request_id.as_str(),
            trace_id = %next_hop.trace_id_hex(),
            tenant = Empty,
            principal = Empty,
            status = Empty,
        );
        #[cfg(feature = "otel")]
        if let Some((_, raw)) = &incoming {
            super::otel::set_remote_parent(&span, raw);
        }

        let cx = match req.extensions_mut().remove::<RequestContext>() {
            Some(mut cx) => {
                cx.request_id = request_id.clone();
                cx
            }
            None => RequestContext::new(request_id.clone()),
        };
        if let Some(principal) = &cx.principal {
            record_principal(&span, principal);
        }
        // A valid RequestId is visible ASCII, so it is a valid header value.
        let header = HeaderValue::from_str(request_id.as_str()).ok();
        let extensions = req.extensions_mut();
        extensions.insert(cx);
        extensions.insert(request_id);
        extensions.insert(next_hop);

        let inner = {
            let _entered = span.enter();
            self.inner.call(req)
        };
        ResponseFuture::new(inner, span, header)
    }
}

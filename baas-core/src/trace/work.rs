use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;
use tracing::field::Empty;

use super::traceparent::TraceParent;
use crate::context::RequestId;
use crate::error::Classify;
use crate::metrics::WorkArea;
use crate::tenant::TenantId;

/// What a [`WorkTraceLayer`] knows about one job or delivery: all optional.
///
/// A job enqueued by a request carries that request's id and `traceparent` (see
/// [`TraceParent::child`]), so the job's span joins the request's trace.
#[derive(Debug, Clone, Default)]
pub struct WorkInfo {
    /// The request (or job) id; generated when absent.
    pub request_id: Option<RequestId>,
    /// The trace to join; a new trace is started when absent.
    pub traceparent: Option<TraceParent>,
    /// The tenant the work belongs to.
    pub tenant: Option<TenantId>,
    /// The subject of the principal that caused the work.
    pub principal: Option<String>,
}

/// Extracts [`WorkInfo`] from a work item. Implemented by [`NoInfo`] and by every
/// `Fn(&Req) -> WorkInfo`.
pub trait WorkInfoFn<Req> {
    /// The info of `req`.
    fn info(&self, req: &Req) -> WorkInfo;
}

/// A [`WorkInfoFn`] that knows nothing: every call gets a new id and a new trace.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoInfo;

impl<Req> WorkInfoFn<Req> for NoInfo {
    fn info(&self, _req: &Req) -> WorkInfo {
        WorkInfo::default()
    }
}

impl<Req, F> WorkInfoFn<Req> for F
where
    F: Fn(&Req) -> WorkInfo,
{
    fn info(&self, req: &Req) -> WorkInfo {
        self(req)
    }
}

/// One span per job or delivery around any `Service<Req>` whose error implements
/// [`Classify`]: span `job` (field `job`) or `delivery` (field `channel`), with
/// `request_id`, `trace_id`, `tenant`, `principal`, and `outcome` (`ok` or the error's
/// kind) at the end.
///
/// ```
/// use baas_core::trace::{WorkInfo, WorkTraceLayer};
/// use baas_core::{Error, RequestId};
/// use tower::{Layer, ServiceExt, service_fn};
///
/// struct Job { id: String }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Error> {
/// let layer = WorkTraceLayer::jobs("emails").with_info(|job: &Job| WorkInfo {
///     request_id: RequestId::from_header(&job.id),
///     ..WorkInfo::default()
/// });
/// let svc = layer.layer(service_fn(|_job: Job| async { Ok::<_, Error>(()) }));
/// svc.oneshot(Job { id: "job-1".into() }).await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct WorkTraceLayer<F = NoInfo> {
    area: WorkArea,
    name: Arc<str>,
    info: F,
}

impl<F> fmt::Debug for WorkTraceLayer<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkTraceLayer")
            .field("area", &self.area)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl WorkTraceLayer<NoInfo> {
    /// Spans named `job` for the queue or job type `name`.
    pub fn jobs(name: impl Into<String>) -> Self {
        Self::new(WorkArea::Jobs, name)
    }

    /// Spans named `delivery` for the channel `name`.
    pub fn deliveries(name: impl Into<String>) -> Self {
        Self::new(WorkArea::Deliveries, name)
    }

    /// Spans for `area`.
    pub fn new(area: WorkArea, name: impl Into<String>) -> Self {
        WorkTraceLayer {
            area,
            name: Arc::from(name.into()),
            info: NoInfo,
        }
    }
}

impl<F> WorkTraceLayer<F> {
    /// Take each item's ids, tenant and principal from `info`.
    pub fn with_info<G>(self, info: G) -> WorkTraceLayer<G> {
        WorkTraceLayer {
            area: self.area,
            name: self.name,
            info,
        }
    }
}

impl<S, F: Clone> Layer<S> for WorkTraceLayer<F> {
    type Service = WorkTraceService<S, F>;

    fn layer(&self, inner: S) -> Self::Service {
        WorkTraceService {
            inner,
            area: self.area,
            name: Arc::clone(&self.name),
            info: self.info.clone(),
        }
    }
}

/// The service made by [`WorkTraceLayer`].
#[derive(Clone)]
pub struct WorkTraceService<S, F> {
    inner: S,
    area: WorkArea,
    name: Arc<str>,
    info: F,
}

impl<S: fmt::Debug, F> fmt::Debug for WorkTraceService<S, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkTraceService")
            .field("inner", &self.inner)
            .field("area", &self.area)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl<S, F, Req> Service<Req> for WorkTraceService<S, F>
where
    S: Service<Req>,
    S::Error: Classify,
    F: WorkInfoFn<Req>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = WorkTraceFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        let info = self.info.info(&req);
        let request_id = info.request_id.unwrap_or_else(RequestId::generate);
        let trace = match &info.traceparent {
            Some(tp) => tp.child(),
            None => TraceParent::new_root(),
        };
        let name = &*self.name;
        let trace_id = trace.trace_id_hex();
        let span = match self.area {
            WorkArea::Deliveries => tracing::info_span!(
                "delivery",
                channel = name,
                request_id = request_id.as_str(),
                trace_id = trace_id.as_str(),
                tenant = Empty,
                principal = Empty,
                outcome = Empty,
            ),
            _ => tracing::info_span!(
                "job",
                job = name,
                request_id = request_id.as_str(),
                trace_id = trace_id.as_str(),
                tenant = Empty,
                principal = Empty,
                outcome = Empty,
            ),
        };
        if let Some(tenant) = &info.tenant {
            span.record("tenant", tenant.as_str());
        }
        if let Some(principal) = &info.principal {
            span.record("principal", principal.as_str());
        }
        #[cfg(feature = "otel")]
        if let Some(tp) = &info.traceparent {
            super::otel::set_remote_parent(&span, &tp.to_string());
        }
        let inner = {
            let _entered = span.enter();
            self.inner.call(req)
        };
        WorkTraceFuture { inner, span }
    }
}

pin_project! {
    /// The future of [`WorkTraceService`]: polls the inner future inside the span and
    /// records the outcome.
    #[derive(Debug)]
    pub struct WorkTraceFuture<F> {
        #[pin]
        inner: F,
        span: tracing::Span,
    }
}

impl<F, Res, E> Future for WorkTraceFuture<F>
where
    F: Future<Output = Result<Res, E>>,
    E: Classify,
{
    type Output = Result<Res, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let _entered = this.span.enter();
        let result = ready!(this.inner.poll(cx));
        let outcome = match &result {
            Ok(_) => "ok",
            Err(e) => e.kind().as_str(),
        };
        this.span.record("outcome", outcome);
        Poll::Ready(result)
    }
}

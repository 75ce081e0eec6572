//! Request ids and tracing: one `tracing` span per request, job or delivery, with W3C
//! `traceparent` propagation.
//!
//! [`TraceLayer`] wraps an HTTP service. For every request it
//!
//! 1. takes the `X-Request-Id` header when it is valid ([`RequestId::from_header`]) and
//!    otherwise generates one;
//! 2. parses an incoming `traceparent` ([`TraceParent::parse`]; an invalid one is
//!    ignored and a new trace started) and puts the value for the next hop
//!    ([`TraceParent::child`]) in the request extensions, so outgoing calls and enqueued
//!    jobs pass the trace on;
//! 3. puts a [`RequestContext`] and the [`RequestId`] in the request extensions;
//! 4. opens one `request` span with `method`, `route` (the matched route template),
//!    `request_id`, `trace_id`, and `tenant`, `principal` and `status` once known —
//!    authentication records the first two with [`record_principal`];
//! 5. sets `X-Request-Id` on every response, error responses included.
//!
//! [`WorkTraceLayer`] does the same for a queue job or a notification delivery: one
//! `job` (or `delivery`) span per call, its ids taken from the work item by a
//! [`WorkInfoFn`].
//!
//! With the `otel` feature, an incoming `traceparent` becomes the span's OpenTelemetry
//! parent (through opentelemetry's `TraceContextPropagator`), so a collector joins the
//! caller's trace; see [`telemetry`](crate::telemetry) for the exporter.
//!
//! ```
//! use axum::{Router, routing::get, body::Body};
//! use baas_core::trace::{TraceLayer, X_REQUEST_ID};
//! use tower::ServiceExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let app = Router::new().route("/", get(|| async { "hi" })).layer(TraceLayer::new());
//! let req = http::Request::get("/").header(X_REQUEST_ID, "abc-123").body(Body::empty()).unwrap();
//! let res = app.oneshot(req).await.unwrap();
//! assert_eq!(res.headers()[X_REQUEST_ID], "abc-123");
//! # }
//! ```
//!
//! [`RequestId::from_header`]: crate::RequestId::from_header
//! [`RequestContext`]: crate::RequestContext
//! [`RequestId`]: crate::RequestId

mod future;
mod layer;
#[cfg(feature = "otel")]
mod otel;
mod service;
mod traceparent;
mod work;

pub use future::ResponseFuture;
pub use layer::TraceLayer;
pub use service::TraceService;
pub use traceparent::{TRACEPARENT, TraceParent};
pub use work::{NoInfo, WorkInfo, WorkInfoFn, WorkTraceFuture, WorkTraceLayer, WorkTraceService};

use crate::principal::Principal;

/// The request id header, read from requests and set on every response.
pub const X_REQUEST_ID: &str = "x-request-id";

/// Record the tenant and principal on `span` (the request's span when called inside it:
/// `record_principal(&tracing::Span::current(), &principal)`).
///
/// Authentication layers call this once they know who is calling. Only the subject and
/// tenant are recorded; credentials are `secrecy` types and never reach a span.
pub fn record_principal(span: &tracing::Span, principal: &Principal) {
    span.record("tenant", principal.tenant.as_str());
    span.record("principal", principal.subject.as_str());
}

#[cfg(test)]
mod tests;

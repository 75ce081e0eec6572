//! RED metrics (rate, errors, duration) for every unit of work, through the
//! [`metrics`] facade.
//!
//! One layer, [`MetricsLayer`], measures HTTP requests, queue jobs and notification
//! deliveries the same way; a [`MetricsPolicy`] decides which names and labels a call is
//! recorded under:
//!
//! | constructor | counter | histogram | labels |
//! |---|---|---|---|
//! | [`MetricsLayer::http`] | `baas_http_requests_total` | `baas_http_request_duration_seconds` | `route` (the matched route template, never the raw path), `method`, `status` |
//! | [`MetricsLayer::jobs`] | `baas_job_runs_total` | `baas_job_duration_seconds` | `job`, `outcome` |
//! | [`MetricsLayer::deliveries`] | `baas_delivery_attempts_total` | `baas_delivery_duration_seconds` | `channel`, `outcome` |
//!
//! `outcome` is `ok`, or the [`ErrorKind`](crate::ErrorKind) of the error
//! ([`ErrorKind::as_str`](crate::ErrorKind::as_str), via [`Classify`](crate::Classify)),
//! so label cardinality is bounded.
//!
//! The `route` label is read from axum's [`MatchedPath`](axum::extract::MatchedPath)
//! (feature `http`), which axum sets for middleware added with `Router::layer`. A request
//! that matched no route — or a layer placed outside the router — is labelled with a
//! fallback (`unmatched` unless [`HttpMetrics::with_unmatched`] says otherwise): raw paths
//! carry ids and would make the label's cardinality unbounded.
//!
//! [`exporter`] installs the Prometheus recorder and renders the `/metrics` text.
//!
//! ```
//! use baas_core::metrics::MetricsLayer;
//! use baas_core::Error;
//! use tower::{Layer, Service, ServiceExt, service_fn};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Error> {
//! // The same layer shape around a queue handler:
//! let handler = service_fn(|job: String| async move { Ok::<_, Error>(job.len()) });
//! let mut svc = MetricsLayer::jobs("emails").layer(handler);
//! let n = svc.ready().await?.call("hello".to_owned()).await?;
//! assert_eq!(n, 5); // and baas_job_runs_total{job="emails",outcome="ok"} went up by one
//! # Ok(())
//! # }
//! ```

pub mod exporter;
mod future;
mod layer;
mod policy;
mod service;

pub use exporter::{install_prometheus, prometheus_builder};
pub use future::ResponseFuture;
pub use layer::MetricsLayer;
pub use policy::{
    HttpMetrics, HttpObservation, MetricsPolicy, Observation, WorkArea, WorkMetrics,
    WorkObservation, matched_route,
};
pub use service::MetricsService;

/// Counter of HTTP requests: `route`, `method`, `status`.
pub const HTTP_REQUESTS_TOTAL: &str = "baas_http_requests_total";
/// Histogram of HTTP request durations in seconds: `route`, `method`, `status`.
pub const HTTP_REQUEST_DURATION_SECONDS: &str = "baas_http_request_duration_seconds";
/// Counter of job runs: `job`, `outcome`.
pub const JOB_RUNS_TOTAL: &str = "baas_job_runs_total";
/// Histogram of job durations in seconds: `job`, `outcome`.
pub const JOB_DURATION_SECONDS: &str = "baas_job_duration_seconds";
/// Counter of delivery attempts: `channel`, `outcome`.
pub const DELIVERY_ATTEMPTS_TOTAL: &str = "baas_delivery_attempts_total";
/// Histogram of delivery durations in seconds: `channel`, `outcome`.
pub const DELIVERY_DURATION_SECONDS: &str = "baas_delivery_duration_seconds";

/// The `route` label of requests that matched no route template.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// Register descriptions (help text and units) for the metrics this module records.
///
/// [`install_prometheus`] calls it; call it yourself after installing another recorder.
pub fn describe() {
    use metrics::{Unit, describe_counter, describe_histogram};
    describe_counter!(HTTP_REQUESTS_TOTAL, Unit::Count, "HTTP requests served");
    describe_histogram!(
        HTTP_REQUEST_DURATION_SECONDS,
        Unit::Seconds,
        "Time to serve an HTTP request"
    );
    describe_counter!(JOB_RUNS_TOTAL, Unit::Count, "Queue job runs");
    describe_histogram!(
        JOB_DURATION_SECONDS,
        Unit::Seconds,
        "Time to run a queue job"
    );
    describe_counter!(
        DELIVERY_ATTEMPTS_TOTAL,
        Unit::Count,
        "Notification delivery attempts"
    );
    describe_histogram!(
        DELIVERY_DURATION_SECONDS,
        Unit::Seconds,
        "Time to attempt a notification delivery"
    );
}

#[cfg(test)]
mod tests;

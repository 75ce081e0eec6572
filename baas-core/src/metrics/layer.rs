use std::sync::Arc;

use tower_layer::Layer;

use super::policy::{HttpMetrics, WorkArea, WorkMetrics};
use super::service::MetricsService;

/// Records RED metrics for every call of the wrapped service, as its
/// [`MetricsPolicy`](super::MetricsPolicy) `P` says.
///
/// ```
/// use baas_core::metrics::MetricsLayer;
/// let http = MetricsLayer::http();
/// let jobs = MetricsLayer::jobs("emails");
/// let deliveries = MetricsLayer::deliveries("smtp");
/// # let _ = (http, jobs, deliveries);
/// ```
#[derive(Debug, Clone)]
pub struct MetricsLayer<P = HttpMetrics> {
    policy: Arc<P>,
}

impl<P> MetricsLayer<P> {
    /// A layer recording with `policy`.
    pub fn new(policy: P) -> Self {
        MetricsLayer {
            policy: Arc::new(policy),
        }
    }

    /// The policy.
    pub fn policy(&self) -> &P {
        &self.policy
    }
}

impl MetricsLayer<HttpMetrics> {
    /// HTTP request metrics (`baas_http_*`), labelled by route template, method and
    /// status.
    pub fn http() -> Self {
        Self::new(HttpMetrics::new())
    }
}

impl MetricsLayer<WorkMetrics> {
    /// Job metrics (`baas_job_*`) for the queue or job type `name`.
    pub fn jobs(name: impl Into<String>) -> Self {
        Self::new(WorkMetrics::new(WorkArea::Jobs, name))
    }

    /// Delivery metrics (`baas_delivery_*`) for the channel `name`.
    pub fn deliveries(name: impl Into<String>) -> Self {
        Self::new(WorkMetrics::new(WorkArea::Deliveries, name))
    }
}

impl<S, P> Layer<S> for MetricsLayer<P> {
    type Service = MetricsService<S, P>;

    fn layer(&self, inner: S) -> Self::Service {
        MetricsService::new(inner, Arc::clone(&self.policy))
    }
}

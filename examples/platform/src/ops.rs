//! The operations routes: `/healthz`, `/readyz`, `/metrics` (with the queue's figures,
//! read at each scrape), and the SLO bookkeeping that feeds the error-budget gauges.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use baas_core::HealthRegistry;
use baas_core::metrics::{exporter, matched_route};
use baas_core::slo::{HttpSelector, Slo, SloRegistry};
use metrics_exporter_prometheus::PrometheusHandle;

/// What the operations routes read.
#[derive(Clone, Debug)]
pub struct Ops {
    /// The backends' readiness checks.
    pub health: Arc<HealthRegistry>,
    /// Renders `/metrics`.
    pub metrics: PrometheusHandle,
    /// The service-level objectives.
    pub slos: Arc<SloRegistry>,
    /// The queue, whose depth, in-flight, dead letters and oldest age are gauges.
    pub queue: Arc<dyn baas_queue::Queue>,
}

/// The SLOs the platform declares: 99.9 % of API requests answer without a server
/// error, over 30 days.
pub fn default_slos(clock: baas_core::SharedClock) -> Result<SloRegistry, baas_core::Error> {
    let slos = SloRegistry::new(clock);
    slos.declare(
        Slo::new("api-availability", 0.999)?
            .with_description("API requests answered without a 5xx")
            .with_http(HttpSelector::all().good_when(|status| status < 500)),
    )?;
    Ok(slos)
}

/// `/healthz`, `/readyz` and `/metrics`.
pub fn routes(ops: Ops) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(ops)
}

async fn readyz(State(ops): State<Ops>) -> Response {
    let report = ops.health.readiness().await;
    let status = if report.is_ready() {
        http::StatusCode::OK
    } else {
        http::StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(report)).into_response()
}

async fn metrics(State(ops): State<Ops>) -> Response {
    ops.slos.export_gauges();
    if let Err(error) = baas_queue::metrics::record_queue_stats(&*ops.queue).await {
        tracing::warn!(%error, "queue figures unavailable for /metrics");
    }
    exporter::response(&ops.metrics)
}

/// Middleware recording every answered request into the SLOs, by matched route.
pub async fn record_slo(
    State(slos): State<Arc<SloRegistry>>,
    req: Request,
    next: Next,
) -> Response {
    let route = matched_route(req.extensions()).map(str::to_owned);
    let res = next.run(req).await;
    if let Some(route) = route {
        slos.record_http(&route, res.status().as_u16());
    }
    res
}

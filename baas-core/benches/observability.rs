//! Per-call cost of the metrics and trace layers around a no-op service, next to the
//! bare service: `cargo bench -p baas-core --bench observability`.
//!
//! The Prometheus recorder is installed and a `tracing` subscriber (registry, `info`
//! filter, fmt layer writing to a sink) is set, as in a binary.

use std::convert::Infallible;

use baas_core::metrics::{MetricsLayer, exporter};
use baas_core::trace::TraceLayer;
use criterion::{Criterion, criterion_group, criterion_main};
use tower::{Layer, ServiceExt, service_fn};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

fn request() -> http::Request<()> {
    http::Request::get("/v1/items/42")
        .header("x-request-id", "bench-request-1")
        .body(())
        .unwrap()
}

fn bench(c: &mut Criterion) {
    let handle = exporter::install_prometheus().unwrap();
    tracing_subscriber::registry()
        .with(tracing_subscriber::EnvFilter::new("info"))
        .with(tracing_subscriber::fmt::layer().with_writer(std::io::sink))
        .init();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let bare = service_fn(|_req: http::Request<()>| async {
        Ok::<_, Infallible>(http::Response::new(()))
    });
    let metrics = MetricsLayer::http().layer(bare);
    let trace = TraceLayer::new().layer(bare);
    let both = TraceLayer::new().layer(MetricsLayer::http().layer(bare));

    let mut group = c.benchmark_group("observability");
    group.bench_function("bare", |b| {
        b.to_async(&rt).iter(|| bare.oneshot(request()));
    });
    group.bench_function("metrics", |b| {
        b.to_async(&rt).iter(|| metrics.clone().oneshot(request()));
    });
    group.bench_function("trace", |b| {
        b.to_async(&rt).iter(|| trace.clone().oneshot(request()));
    });
    group.bench_function("trace+metrics", |b| {
        b.to_async(&rt).iter(|| both.clone().oneshot(request()));
    });
    group.finish();
    // Keep histogram memory bounded over the run.
    handle.run_upkeep();
}

criterion_group!(benches, bench);
criterion_main!(benches);

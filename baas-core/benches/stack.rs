//! Per-call cost of the standard stack (request id + trace + metrics + load shed +
//! timeout + per-IP and per-principal rate limits + idempotency) around a no-op axum
//! handler, next to the same router with no layers, in the same run:
//! `cargo bench -p baas-core --bench stack`.
//!
//! The Prometheus recorder is installed as in a binary. Each case runs twice: with a
//! `tracing` subscriber as a binary sets it (registry, `info` filter, fmt layer writing
//! to a sink: `with-logs/…`) and with none (`no-logs/…`), to separate the cost of the
//! layers from the cost of formatting spans. Rate limits are set high enough never to
//! refuse. Three request shapes:
//! - `get`: a GET (idempotency passes it through);
//! - `post-no-key`: a POST without `Idempotency-Key`;
//! - `post-new-key`: a POST with a fresh key each call (claim + complete on the memory
//!   store: the idempotency miss).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::routing::get;
use baas_core::idempotency::MemoryIdempotencyStore;
use baas_core::metrics::exporter;
use baas_core::stack::StandardStack;
use criterion::{Criterion, criterion_group, criterion_main};
use tower::ServiceExt;
use tracing_subscriber::layer::SubscriberExt;

fn router() -> Router {
    Router::new().route("/v1/items", get(|| async { "ok" }).post(|| async { "ok" }))
}

fn request(method: &str, key: Option<u64>) -> http::Request<Body> {
    let mut builder = http::Request::builder()
        .method(method)
        .uri("/v1/items")
        .header("x-request-id", "bench-request-1")
        .header("content-type", "application/json");
    if let Some(key) = key {
        builder = builder.header("idempotency-key", format!("bench-{key}"));
    }
    let mut req = builder.body(Body::from("{}")).unwrap();
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
    req
}

fn bench(c: &mut Criterion) {
    let handle = exporter::install_prometheus().unwrap();
    let with_logs = tracing::Dispatch::new(
        tracing_subscriber::registry()
            .with(tracing_subscriber::EnvFilter::new("info"))
            .with(tracing_subscriber::fmt::layer().with_writer(std::io::sink)),
    );
    let no_logs = tracing::Dispatch::none();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    let bare = router();
    let stacked = StandardStack::new()
        .rate_limit(1_000_000_000, 1_000_000_000)
        .idempotency(Arc::new(MemoryIdempotencyStore::new()))
        .apply(router());
    let keys = AtomicU64::new(0);

    for (name, dispatch) in [("with-logs", &with_logs), ("no-logs", &no_logs)] {
        tracing::dispatcher::with_default(dispatch, || {
            let mut group = c.benchmark_group(format!("stack/{name}"));
            group.bench_function("bare/get", |b| {
                b.to_async(&rt)
                    .iter(|| bare.clone().oneshot(request("GET", None)));
            });
            group.bench_function("standard/get", |b| {
                b.to_async(&rt)
                    .iter(|| stacked.clone().oneshot(request("GET", None)));
            });
            group.bench_function("bare/post-no-key", |b| {
                b.to_async(&rt)
                    .iter(|| bare.clone().oneshot(request("POST", None)));
            });
            group.bench_function("standard/post-no-key", |b| {
                b.to_async(&rt)
                    .iter(|| stacked.clone().oneshot(request("POST", None)));
            });
            group.bench_function("standard/post-new-key", |b| {
                b.to_async(&rt).iter(|| {
                    let key = keys.fetch_add(1, Ordering::Relaxed);
                    stacked.clone().oneshot(request("POST", Some(key)))
                });
            });
            group.finish();
        });
    }
    handle.run_upkeep();
}

criterion_group!(benches, bench);
criterion_main!(benches);

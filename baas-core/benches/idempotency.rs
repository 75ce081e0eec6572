//! Per-call cost of the idempotency layer around a no-op HTTP service, next to the bare
//! service: a request without a key (pass-through), a first request with a fresh key
//! (buffer, fingerprint, claim, call, buffer the response, encode, complete on the
//! memory store), and a replay of a stored response.
//!
//! `cargo bench -p baas-core --bench idempotency -- --warm-up-time 1 --measurement-time 2`

#![allow(missing_docs)]

use std::convert::Infallible;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use baas_core::idempotency::{IdempotencyLayer, IdempotencyStore, MemoryIdempotencyStore};
use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use tower::{Service, ServiceExt as _, service_fn};
use tower_layer::Layer as _;

fn noop() -> impl Service<
    Request<Full<Bytes>>,
    Response = Response<Full<Bytes>>,
    Error = Infallible,
    Future = impl Future<Output = Result<Response<Full<Bytes>>, Infallible>> + Send,
> + Clone
+ Send
+ 'static {
    service_fn(|_req: Request<Full<Bytes>>| async {
        let mut res = Response::new(Full::new(Bytes::from_static(br#"{"id":1}"#)));
        *res.status_mut() = StatusCode::CREATED;
        res.headers_mut()
            .insert("content-type", "application/json".parse().unwrap());
        Ok::<_, Infallible>(res)
    })
}

fn request(key: Option<&str>) -> Request<Full<Bytes>> {
    let mut builder = Request::post("/v1/orders").header("content-type", "application/json");
    if let Some(key) = key {
        builder = builder.header("idempotency-key", key);
    }
    builder
        .body(Full::new(Bytes::from_static(br#"{"item":"book","qty":1}"#)))
        .unwrap()
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("idempotency");

    let bare = noop();
    group.bench_function("bare", |b| {
        b.to_async(&rt)
            .iter(|| bare.clone().oneshot(black_box(request(None))));
    });

    let store = Arc::new(MemoryIdempotencyStore::new());
    // Records expire at once, so sweeping between batches keeps the store small.
    let layer = IdempotencyLayer::new(store.clone()).ttl(Duration::from_nanos(1));
    let svc = layer.layer(noop());

    group.bench_function("miss_no_header", |b| {
        b.to_async(&rt)
            .iter(|| svc.clone().oneshot(black_box(request(None))));
    });

    let mut n = 0u64;
    group.bench_function("first_call_unique_key", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let keys: Vec<String> = (0..iters)
                .map(|_| {
                    n += 1;
                    format!("key-{n}")
                })
                .collect();
            let svc = svc.clone();
            let store = store.clone();
            async move {
                let start = Instant::now();
                for key in &keys {
                    black_box(svc.clone().oneshot(request(Some(key))).await.unwrap());
                }
                let elapsed = start.elapsed();
                store.sweep().await.unwrap();
                elapsed
            }
        });
    });

    let kept = IdempotencyLayer::new(Arc::new(MemoryIdempotencyStore::new())).layer(noop());
    rt.block_on(kept.clone().oneshot(request(Some("replayed"))))
        .unwrap();
    group.bench_function("replay", |b| {
        b.to_async(&rt)
            .iter(|| kept.clone().oneshot(black_box(request(Some("replayed")))));
    });

    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);

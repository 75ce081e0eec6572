//! Per-call cost of each baas-core layer around a no-op service, next to the bare
//! service, in one run: `cargo bench -p baas-core --bench layers`.

use std::future::{Ready, ready};
use std::time::Duration;

use baas_core::BoxError;
use baas_core::circuit_breaker::{BreakerPolicy, CircuitBreakerLayer};
use baas_core::limit::{ConcurrencyLimitLayer, TimeoutLayer};
use baas_core::rate_limit::{RateLimitLayer, quota};
use baas_core::retry::RetryLayer;
use criterion::{Criterion, criterion_group, criterion_main};
use tower::{Layer, Service, ServiceExt as _};

type Noop = tower::util::ServiceFn<fn(()) -> Ready<Result<(), BoxError>>>;

fn noop() -> Noop {
    tower::service_fn(|()| ready(Ok(())))
}

fn bench_one<S>(c: &mut Criterion, rt: &tokio::runtime::Runtime, name: &str, svc: &S)
where
    S: Service<(), Response = (), Error = BoxError> + Clone,
{
    c.bench_function(name, |b| {
        b.to_async(rt).iter(|| {
            let svc = svc.clone();
            async move { svc.oneshot(()).await.unwrap() }
        });
    });
}

fn layers(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let _guard = rt.enter();

    bench_one(c, &rt, "bare", &noop());
    bench_one(
        c,
        &rt,
        "retry (no retries)",
        &RetryLayer::default().layer(noop()),
    );
    bench_one(
        c,
        &rt,
        "rate limit (allowed)",
        &RateLimitLayer::new(
            quota(1_000_000_000, Duration::from_secs(1)).unwrap(),
            |_: &()| Some(1u8),
        )
        .layer(noop()),
    );
    bench_one(
        c,
        &rt,
        "circuit breaker (closed)",
        &CircuitBreakerLayer::new("bench", BreakerPolicy::new()).layer(noop()),
    );
    bench_one(
        c,
        &rt,
        "concurrency limit",
        &ConcurrencyLimitLayer::new(1024).layer(noop()),
    );
    bench_one(
        c,
        &rt,
        "timeout",
        &TimeoutLayer::new(Duration::from_secs(10)).layer(noop()),
    );
}

criterion_group!(benches, layers);
criterion_main!(benches);

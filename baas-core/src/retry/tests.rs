use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tower::retry::budget::TpsBudget;
use tower::{Layer as _, Service, ServiceExt as _};

use super::*;
use crate::{BoxError, Classify as _, Error, ErrorKind};

/// A service failing with the errors `fail(n)` gives for call `n`, then `Ok(n)`.
fn flaky(
    fail: impl Fn(u32) -> Option<Error> + Clone + Send + 'static,
) -> (
    Arc<AtomicU32>,
    impl Service<(), Response = u32, Error = BoxError, Future: Send> + Clone,
) {
    let calls = Arc::new(AtomicU32::new(0));
    let seen = calls.clone();
    let svc = tower::service_fn(move |()| {
        let n = seen.fetch_add(1, Ordering::SeqCst);
        let outcome = match fail(n) {
            Some(e) => Err(BoxError::from(e)),
            None => Ok(n),
        };
        async move { outcome }
    });
    (calls, svc)
}

fn generous() -> Arc<TpsBudget> {
    Arc::new(TpsBudget::new(Duration::from_secs(60), 1000, 10.0))
}

fn policy() -> RetryPolicy {
    RetryPolicy::new()
        .backoff(FullJitterBackoff::new(
            Duration::from_millis(1),
            Duration::from_millis(10),
        ))
        .budget(generous())
}

#[tokio::test(start_paused = true)]
async fn stops_at_max_attempts() {
    let (calls, svc) = flaky(|_| Some(Error::new(ErrorKind::Unavailable, "down")));
    let svc = RetryLayer::new(policy().max_attempts(4)).layer(svc);
    let err = svc.oneshot(()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    assert_eq!(calls.load(Ordering::SeqCst), 4);
}

#[tokio::test(start_paused = true)]
async fn transient_failures_are_retried_until_success() {
    let (calls, svc) = flaky(|n| (n < 2).then(|| Error::new(ErrorKind::Timeout, "slow")));
    let svc = RetryLayer::new(policy().max_attempts(5)).layer(svc);
    assert_eq!(svc.oneshot(()).await.unwrap(), 2);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[tokio::test(start_paused = true)]
async fn never_retries_a_non_retryable_kind() {
    for kind in ErrorKind::ALL.into_iter().filter(|k| !k.is_retryable()) {
        let (calls, svc) = flaky(move |_| Some(Error::new(kind, "no")));
        let svc = RetryLayer::new(policy().max_attempts(5)).layer(svc);
        let err = svc.oneshot(()).await.unwrap_err();
        assert_eq!(err.kind(), kind);
        assert_eq!(calls.load(Ordering::SeqCst), 1, "{kind} was retried");
    }
    // An unclassified error is Internal: not retried either.
    let calls = Arc::new(AtomicU32::new(0));
    let seen = calls.clone();
    let svc = tower::service_fn(move |()| {
        seen.fetch_add(1, Ordering::SeqCst);
        async { Err::<(), BoxError>("boom".into()) }
    });
    let svc = RetryLayer::new(policy()).layer(svc);
    assert!(svc.oneshot(()).await.is_err());
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn tower_timeouts_are_retried() {
    let calls = Arc::new(AtomicU32::new(0));
    let seen = calls.clone();
    let slow = tower::service_fn(move |()| {
        let n = seen.fetch_add(1, Ordering::SeqCst);
        async move {
            if n == 0 {
                tokio::time::sleep(Duration::from_secs(60)).await;
            }
            Ok::<_, BoxError>(n)
        }
    });
    let svc = tower::ServiceBuilder::new()
        .layer(RetryLayer::new(policy()))
        .timeout(Duration::from_secs(1))
        .service(slow);
    assert_eq!(svc.oneshot(()).await.unwrap(), 1);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test(start_paused = true)]
async fn stops_when_the_budget_is_exhausted() {
    // No deposits count (0 %), a reserve of 2 retries over the 1 s window.
    let budget = Arc::new(TpsBudget::new(Duration::from_secs(1), 2, 0.0));
    let (calls, svc) = flaky(|_| Some(Error::new(ErrorKind::Unavailable, "down")));
    let svc = RetryLayer::new(policy().max_attempts(10).budget(budget)).layer(svc);

    assert!(svc.clone().oneshot(()).await.is_err());
    assert_eq!(
        calls.load(Ordering::SeqCst),
        3,
        "1 call + the 2 retries the budget holds"
    );

    assert!(svc.oneshot(()).await.is_err());
    assert_eq!(
        calls.load(Ordering::SeqCst),
        4,
        "no retry left for the next request"
    );
}

#[tokio::test(start_paused = true)]
async fn honours_the_retry_after_hint() {
    let hint = Duration::from_secs(5);
    let (calls, svc) = flaky(move |n| {
        (n == 0).then(|| Error::new(ErrorKind::RateLimited, "slow down").with_retry_after(hint))
    });
    let svc = RetryLayer::new(policy()).layer(svc);
    let start = tokio::time::Instant::now();
    assert_eq!(svc.oneshot(()).await.unwrap(), 1);
    assert!(start.elapsed() >= hint, "waited only {:?}", start.elapsed());
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test(start_paused = true)]
async fn gives_up_when_the_hint_is_too_long() {
    let (calls, svc) = flaky(|_| {
        Some(
            Error::new(ErrorKind::RateLimited, "tomorrow")
                .with_retry_after(Duration::from_secs(3600)),
        )
    });
    let svc = RetryLayer::new(policy().max_retry_after(Duration::from_secs(10))).layer(svc);
    let err = svc.oneshot(()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test(start_paused = true)]
async fn works_with_towers_exponential_backoff_and_baas_errors() {
    use tower::retry::backoff::{ExponentialBackoffMaker, MakeBackoff as _};
    let backoff = ExponentialBackoffMaker::new(
        Duration::from_millis(10),
        Duration::from_secs(1),
        0.5,
        tower::util::rng::HasherRng::default(),
    )
    .unwrap()
    .make_backoff();
    let calls = Arc::new(AtomicU32::new(0));
    let seen = calls.clone();
    let svc = tower::service_fn(move |()| {
        let n = seen.fetch_add(1, Ordering::SeqCst);
        async move {
            if n == 0 {
                Err(Error::new(ErrorKind::Unavailable, "down"))
            } else {
                Ok(n)
            }
        }
    });
    let svc = RetryLayer::new(policy().backoff(backoff)).layer(svc);
    assert_eq!(svc.oneshot(()).await.unwrap(), 1);
}

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use tower::{Layer as _, ServiceExt as _};

use super::*;
use crate::{BoxError, Classify as _, Error, ErrorKind, ManualClock};

/// A downstream whose next answers are set by the test.
#[derive(Clone)]
struct Downstream {
    fail_with: Arc<parking_lot::Mutex<Option<ErrorKind>>>,
    calls: Arc<AtomicU32>,
}

impl Downstream {
    fn new() -> Self {
        Downstream {
            fail_with: Arc::default(),
            calls: Arc::default(),
        }
    }
    fn set(&self, kind: Option<ErrorKind>) {
        *self.fail_with.lock() = kind;
    }
    fn calls(&self) -> u32 {
        self.calls.load(Ordering::SeqCst)
    }
    fn service(
        &self,
    ) -> impl tower::Service<&'static str, Response = (), Error = BoxError, Future: Send> + Clone
    {
        let this = self.clone();
        tower::service_fn(move |_host: &'static str| {
            this.calls.fetch_add(1, Ordering::SeqCst);
            let kind = *this.fail_with.lock();
            async move {
                match kind {
                    Some(kind) => Err(BoxError::from(Error::new(kind, "failed"))),
                    None => Ok(()),
                }
            }
        })
    }
}

fn run<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(f)
}

fn policy() -> BreakerPolicy {
    BreakerPolicy::new()
        .failure_threshold(3)
        .cool_down(Duration::from_secs(30))
        .half_open_probes(1)
        .success_threshold(1)
}

/// Reads the debugging recorder, whose snapshots reset what they report: counters
/// are summed across snapshots, gauges are the latest value reported.
struct Observed {
    snapshotter: Snapshotter,
    counters: std::cell::RefCell<std::collections::HashMap<String, u64>>,
    gauges: std::cell::RefCell<std::collections::HashMap<String, f64>>,
}

impl Observed {
    fn new(snapshotter: Snapshotter) -> Self {
        Observed {
            snapshotter,
            counters: Default::default(),
            gauges: Default::default(),
        }
    }

    fn take(&self) {
        for (key, _, _, value) in self.snapshotter.snapshot().into_vec() {
            let key = key.key();
            let label = |name: &str| {
                key.labels()
                    .find(|l| l.key() == name)
                    .map(|l| l.value().to_owned())
                    .unwrap_or_default()
            };
            match value {
                DebugValue::Counter(c) if key.name() == TRANSITIONS_COUNTER => {
                    *self.counters.borrow_mut().entry(label("to")).or_default() += c;
                }
                DebugValue::Gauge(g) if key.name() == STATE_GAUGE && g.into_inner() != 0.0 => {
                    self.gauges
                        .borrow_mut()
                        .insert(label("downstream"), g.into_inner());
                }
                DebugValue::Gauge(_) if key.name() == STATE_GAUGE => {
                    // 0 is both "closed" and "not set since the last snapshot".
                    self.gauges
                        .borrow_mut()
                        .entry(label("downstream"))
                        .or_insert(0.0);
                }
                _ => {}
            }
        }
    }

    fn gauge(&self, downstream: &str) -> Option<f64> {
        self.take();
        self.gauges.borrow_mut().remove(downstream)
    }

    fn transitions(&self, to: &str) -> u64 {
        self.take();
        self.counters.borrow().get(to).copied().unwrap_or(0)
    }
}

#[test]
fn full_cycle_opens_half_opens_closes_and_reopens() {
    let recorder = DebuggingRecorder::new();
    let observed = Observed::new(recorder.snapshotter());
    metrics::with_local_recorder(&recorder, || {
        run(async {
            let clock = ManualClock::new();
            let layer = CircuitBreakerLayer::with_clock("test", policy(), clock.shared())
                .keyed(|host: &&'static str| Some(*host));
            let breakers = layer.breakers().clone();
            let down = Downstream::new();
            let svc = layer.layer(down.service());
            let call = |host| svc.clone().oneshot(host);

            // Opens after N consecutive failures.
            down.set(Some(ErrorKind::Unavailable));
            for _ in 0..3 {
                assert!(call("a").await.is_err());
            }
            assert_eq!(breakers.state(&"a"), CircuitState::Open);
            assert_eq!(observed.gauge("a"), Some(1.0));
            assert_eq!(down.calls(), 3);

            // Open: refused at once, with the remaining cool-down, downstream untouched.
            clock.advance(Duration::from_secs(10));
            let err = call("a").await.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Unavailable);
            assert_eq!(err.retry_after(), Some(Duration::from_secs(20)));
            assert_eq!(down.calls(), 3);

            // Another downstream has its own circuit.
            down.set(None);
            assert!(call("b").await.is_ok());
            assert_eq!(breakers.state(&"b"), CircuitState::Closed);
            assert_eq!(observed.gauge("b"), Some(0.0));

            // After the cool-down a probe goes through; it fails: open again.
            clock.advance(Duration::from_secs(20));
            down.set(Some(ErrorKind::Timeout));
            assert!(call("a").await.is_err());
            assert_eq!(down.calls(), 5);
            assert_eq!(breakers.state(&"a"), CircuitState::Open);
            assert_eq!(observed.gauge("a"), Some(1.0));
            let err = call("a").await.unwrap_err();
            assert_eq!(err.retry_after(), Some(Duration::from_secs(30)));
            assert_eq!(down.calls(), 5);

            // Next cool-down: a successful probe closes it.
            clock.advance(Duration::from_secs(30));
            down.set(None);
            assert!(call("a").await.is_ok());
            assert_eq!(breakers.state(&"a"), CircuitState::Closed);
            assert_eq!(observed.gauge("a"), Some(0.0));

            assert_eq!(observed.transitions("open"), 2);
            assert_eq!(observed.transitions("half_open"), 2);
            assert_eq!(observed.transitions("closed"), 1);
        });
    });
}

#[test]
fn half_open_admits_a_limited_number_of_probes() {
    run(async {
        let clock = ManualClock::new();
        let layer = CircuitBreakerLayer::with_clock(
            "probes",
            policy().failure_threshold(1),
            clock.shared(),
        );
        let breakers = layer.breakers().clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let rx = Arc::new(tokio::sync::Mutex::new(Some(rx)));
        let calls = Arc::new(AtomicU32::new(0));
        let seen = calls.clone();
        let svc = layer.layer(tower::service_fn(move |()| {
            let n = seen.fetch_add(1, Ordering::SeqCst);
            let rx = rx.clone();
            async move {
                if n == 0 {
                    return Err(Error::new(ErrorKind::Internal, "bug"));
                }
                if let Some(rx) = rx.lock().await.take() {
                    let _ = rx.await;
                }
                Ok(())
            }
        }));
        assert!(svc.clone().oneshot(()).await.is_err());
        assert_eq!(breakers.state(&"all"), CircuitState::Open);
        clock.advance(Duration::from_secs(30));

        // The probe hangs; a second call is refused meanwhile.
        let probe = tokio::spawn(svc.clone().oneshot(()));
        tokio::task::yield_now().await;
        assert_eq!(breakers.state(&"all"), CircuitState::HalfOpen);
        let err = svc.clone().oneshot(()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unavailable);
        assert_eq!(calls.load(Ordering::SeqCst), 2);

        tx.send(()).unwrap();
        probe.await.unwrap().unwrap();
        assert_eq!(breakers.state(&"all"), CircuitState::Closed);
    });
}

#[test]
fn client_errors_do_not_trip_it() {
    run(async {
        let clock = ManualClock::new();
        let layer = CircuitBreakerLayer::with_clock("client", policy(), clock.shared());
        let breakers = layer.breakers().clone();
        let down = Downstream::new();
        let svc = layer.layer(down.service());
        for kind in [
            ErrorKind::Invalid,
            ErrorKind::NotFound,
            ErrorKind::RateLimited,
            ErrorKind::Forbidden,
        ] {
            down.set(Some(kind));
            for _ in 0..5 {
                let err = svc.clone().oneshot("x").await.unwrap_err();
                assert_eq!(err.kind(), kind);
            }
        }
        assert_eq!(breakers.state(&"all"), CircuitState::Closed);
        assert_eq!(down.calls(), 20);

        // Failures must be consecutive: a client error in between resets the count.
        for kind in [
            ErrorKind::Unavailable,
            ErrorKind::Unavailable,
            ErrorKind::Invalid,
            ErrorKind::Unavailable,
        ] {
            down.set(Some(kind));
            let _ = svc.clone().oneshot("x").await;
        }
        assert_eq!(breakers.state(&"all"), CircuitState::Closed);
    });
}

#[test]
fn a_cancelled_probe_frees_its_slot() {
    run(async {
        let clock = ManualClock::new();
        let layer = CircuitBreakerLayer::with_clock(
            "cancel",
            policy().failure_threshold(1),
            clock.shared(),
        );
        let breakers = layer.breakers().clone();
        let down = Downstream::new();
        let mut svc = layer.layer(down.service());
        down.set(Some(ErrorKind::Unavailable));
        let _ = svc.clone().oneshot("x").await;
        clock.advance(Duration::from_secs(30));

        let probe = tower::Service::call(&mut svc, "x");
        drop(probe);
        assert_eq!(breakers.state(&"all"), CircuitState::HalfOpen);
        down.set(None);
        svc.clone().oneshot("x").await.unwrap();
        assert_eq!(breakers.state(&"all"), CircuitState::Closed);
    });
}

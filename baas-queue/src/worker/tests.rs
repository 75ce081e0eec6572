use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use baas_core::{Error, ErrorKind, TenantId};
use tower::service_fn;

use super::*;
use crate::{MemoryQueue, Queue, QueueExt};

fn acme() -> TenantId {
    TenantId::new("acme").unwrap()
}

fn fast(concurrency: usize, max_attempts: u32) -> WorkerConfig {
    WorkerConfig {
        concurrency,
        lease: Duration::from_secs(30),
        idle_wait: Duration::from_millis(20),
        shutdown_grace: Duration::from_secs(30),
        retry: RetryPolicy::new(max_attempts)
            .backoff(Duration::ZERO, Duration::ZERO)
            .jitter(0.0),
        ..WorkerConfig::default()
    }
}

#[tokio::test]
async fn successful_jobs_are_acked() {
    let queue = Arc::new(MemoryQueue::new());
    for i in 0..20 {
        queue.enqueue_json("ok", &acme(), &i).await.unwrap();
    }
    let seen = Arc::new(AtomicU32::new(0));
    let s = seen.clone();
    let handler = service_fn(move |job: Job<u32>| {
        let s = s.clone();
        async move {
            assert_eq!(job.tenant.as_str(), "acme");
            s.fetch_add(1, Ordering::SeqCst);
            Ok::<_, Error>(())
        }
    });
    let summary = Worker::json(queue.clone(), "ok", handler)
        .unwrap()
        .config(fast(4, 3))
        .run_until_idle()
        .await;
    assert_eq!(summary.processed, 20);
    assert_eq!(seen.load(Ordering::SeqCst), 20);
    let stats = queue.stats("ok").await.unwrap();
    assert_eq!(
        (stats.depth, stats.in_flight, stats.dead),
        (Some(0), Some(0), Some(0))
    );
}

#[tokio::test]
async fn retryable_failures_retry_then_dead_letter_with_the_last_error() {
    let queue = Arc::new(MemoryQueue::new());
    queue.enqueue_json("flaky", &acme(), &1).await.unwrap();
    let calls = Arc::new(AtomicU32::new(0));
    let c = calls.clone();
    let handler = service_fn(move |_job: Job<u32>| {
        let c = c.clone();
        async move {
            let n = c.fetch_add(1, Ordering::SeqCst) + 1;
            Err::<(), _>(Error::new(ErrorKind::Unavailable, format!("down #{n}")))
        }
    });
    let summary = Worker::json(queue.clone(), "flaky", handler)
        .unwrap()
        .config(fast(1, 3))
        .run_until_idle()
        .await;
    assert_eq!(calls.load(Ordering::SeqCst), 3, "max attempts");
    assert_eq!((summary.retried, summary.dead), (2, 1));
    let dead = queue.dead_letters("flaky", 10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].attempts, 3);
    assert!(dead[0].reason.contains("down #3"), "{}", dead[0].reason);
}

#[tokio::test]
async fn permanent_errors_and_bad_payloads_dead_letter_at_once() {
    let queue = Arc::new(MemoryQueue::new());
    queue.enqueue_json("perm", &acme(), &1).await.unwrap();
    queue
        .enqueue_bytes("perm", &acme(), "not json")
        .await
        .unwrap();
    let calls = Arc::new(AtomicU32::new(0));
    let c = calls.clone();
    let handler = service_fn(move |_job: Job<u32>| {
        c.fetch_add(1, Ordering::SeqCst);
        async { Err::<(), _>(Error::invalid("bad address")) }
    });
    let summary = Worker::json(queue.clone(), "perm", handler)
        .unwrap()
        .config(fast(1, 5))
        .run_until_idle()
        .await;
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "the undecodable one never reaches it"
    );
    assert_eq!(summary.dead, 2);
    let dead = queue.dead_letters("perm", 10).await.unwrap();
    assert!(dead.iter().all(|d| d.attempts == 1));
    assert!(dead.iter().any(|d| d.reason.starts_with("invalid")));
    assert!(dead.iter().any(|d| d.reason.contains("undecodable")));
}

#[tokio::test]
async fn panics_are_failures_and_retried() {
    let queue = Arc::new(MemoryQueue::new());
    queue.enqueue_json("panics", &acme(), &1).await.unwrap();
    let calls = Arc::new(AtomicU32::new(0));
    let c = calls.clone();
    let handler = service_fn(move |_job: Job<u32>| {
        let n = c.fetch_add(1, Ordering::SeqCst);
        async move {
            assert!(n > 0, "first attempt panics");
            Ok::<_, Error>(())
        }
    });
    let summary = Worker::json(queue.clone(), "panics", handler)
        .unwrap()
        .config(fast(1, 3))
        .run_until_idle()
        .await;
    assert_eq!((summary.retried, summary.processed), (1, 1));
}

#[tokio::test]
async fn handler_timeout_is_a_retryable_failure() {
    let queue = Arc::new(MemoryQueue::new());
    queue.enqueue_json("slow", &acme(), &1).await.unwrap();
    let handler = service_fn(|_job: Job<u32>| async {
        std::future::pending::<()>().await;
        Ok::<_, Error>(())
    });
    let mut config = fast(1, 2);
    config.timeout = Some(Duration::from_millis(10));
    let summary = Worker::json(queue.clone(), "slow", handler)
        .unwrap()
        .config(config)
        .run_until_idle()
        .await;
    assert_eq!((summary.retried, summary.dead), (1, 1));
    let dead = queue.dead_letters("slow", 1).await.unwrap();
    assert!(dead[0].reason.starts_with("timeout"), "{}", dead[0].reason);
}

#[tokio::test]
async fn shutdown_lets_in_flight_work_finish() {
    let queue = Arc::new(MemoryQueue::new());
    queue.enqueue_json("graceful", &acme(), &1).await.unwrap();
    let (started_tx, started_rx) = tokio::sync::oneshot::channel::<()>();
    let started_tx = Arc::new(parking_lot::Mutex::new(Some(started_tx)));
    let gate = Arc::new(tokio::sync::Notify::new());
    let g = gate.clone();
    let handler = service_fn(move |_job: Job<u32>| {
        let g = g.clone();
        let tx = started_tx.lock().take();
        async move {
            if let Some(tx) = tx {
                let _ = tx.send(());
            }
            g.notified().await;
            Ok::<_, Error>(())
        }
    });
    let worker = Worker::json(queue.clone(), "graceful", handler)
        .unwrap()
        .config(fast(2, 3));
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(worker.run(async {
        let _ = stop_rx.await;
    }));
    started_rx.await.unwrap();
    stop_tx.send(()).unwrap();
    // Shutdown was asked while the job ran; it may still finish.
    tokio::task::yield_now().await;
    gate.notify_one();
    let summary = run.await.unwrap();
    assert_eq!(summary.processed, 1);
    assert_eq!(queue.stats("graceful").await.unwrap().depth, Some(0));
}

#[tokio::test]
async fn shutdown_grace_expiry_releases_the_lease() {
    let queue = Arc::new(MemoryQueue::new());
    queue.enqueue_json("stuck", &acme(), &1).await.unwrap();
    let (started_tx, started_rx) = tokio::sync::oneshot::channel::<()>();
    let started_tx = Arc::new(parking_lot::Mutex::new(Some(started_tx)));
    let handler = service_fn(move |_job: Job<u32>| {
        let tx = started_tx.lock().take();
        async move {
            if let Some(tx) = tx {
                let _ = tx.send(());
            }
            std::future::pending::<()>().await;
            Ok::<_, Error>(())
        }
    });
    let mut config = fast(1, 3);
    config.shutdown_grace = Duration::from_millis(10);
    config.timeout = None;
    let worker = Worker::json(queue.clone(), "stuck", handler)
        .unwrap()
        .config(config);
    let run = tokio::spawn(worker.run(async {
        let _ = started_rx.await;
    }));
    let summary = run.await.unwrap();
    assert_eq!(summary.released, 1);
    let stats = queue.stats("stuck").await.unwrap();
    assert_eq!(
        (stats.depth, stats.in_flight),
        (Some(1), Some(0)),
        "released for another worker"
    );
    let again = queue
        .reserve_one("stuck", Duration::from_secs(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.attempt, 2);
}

#[tokio::test]
async fn long_jobs_keep_their_lease() {
    let clock = baas_core::ManualClock::new();
    let queue = Arc::new(MemoryQueue::with_clock(clock.shared()));
    queue.enqueue_json("long", &acme(), &1).await.unwrap();
    let q2 = queue.clone();
    let c2 = clock.clone();
    let handler = service_fn(move |_job: Job<u32>| {
        let q2 = q2.clone();
        let c2 = c2.clone();
        async move {
            // Three lease lengths pass on the queue's clock while heartbeats run.
            for _ in 0..20 {
                c2.advance(Duration::from_millis(100));
                tokio::time::sleep(Duration::from_millis(150)).await;
                assert!(
                    q2.reserve_one("long", Duration::from_secs(1))
                        .await
                        .unwrap()
                        .is_none(),
                    "nobody else gets a message whose lease is renewed"
                );
            }
            Ok::<_, Error>(())
        }
    });
    let mut config = fast(1, 3);
    config.lease = Duration::from_millis(900);
    let summary = Worker::json(queue.clone(), "long", handler)
        .unwrap()
        .config(config)
        .run_until_idle()
        .await;
    assert_eq!(summary.processed, 1);
}

#[test]
fn the_worker_records_outcomes_and_first_delivery_lag() {
    use metrics_util::MetricKind;
    use metrics_util::debugging::{DebugValue, DebuggingRecorder};

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let clock = baas_core::ManualClock::new();
    let queue = Arc::new(MemoryQueue::with_clock(clock.shared()));
    rt.block_on(async {
        queue.enqueue_json("lagging", &acme(), &1).await.unwrap();
        queue.enqueue_json("lagging", &acme(), &2).await.unwrap();
    });
    clock.advance(Duration::from_secs(3));
    let handler = service_fn(|job: Job<u32>| async move {
        if job.payload == 1 {
            Ok(())
        } else {
            Err(Error::new(ErrorKind::Invalid, "no"))
        }
    });

    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let summary = metrics::with_local_recorder(&recorder, || {
        rt.block_on(
            Worker::json(queue.clone(), "lagging", handler)
                .unwrap()
                .config(fast(1, 3))
                .run_until_idle(),
        )
    });
    assert_eq!((summary.processed, summary.dead), (1, 1));

    let mut outcomes = Vec::new();
    let mut lags = Vec::new();
    for (key, _, _, value) in snapshotter.snapshot().into_vec() {
        let labels: Vec<(String, String)> = key
            .key()
            .labels()
            .map(|l| (l.key().to_owned(), l.value().to_owned()))
            .collect();
        match (key.kind(), key.key().name(), value) {
            (MetricKind::Counter, JOBS_TOTAL, DebugValue::Counter(n)) => {
                assert!(labels.contains(&("queue".to_owned(), "lagging".to_owned())));
                let outcome = labels.iter().find(|(k, _)| k == "outcome").unwrap();
                outcomes.push((outcome.1.clone(), n));
            }
            (MetricKind::Histogram, DELIVERY_LAG_SECONDS, DebugValue::Histogram(values)) => {
                assert_eq!(labels, vec![("queue".to_owned(), "lagging".to_owned())]);
                lags.extend(values.into_iter().map(|v| v.into_inner()));
            }
            _ => {}
        }
    }
    outcomes.sort();
    assert_eq!(
        outcomes,
        vec![("dead".to_owned(), 1), ("processed".to_owned(), 1)]
    );
    // Both messages waited 3 s (by the queue's clock) for their first delivery.
    assert_eq!(lags, vec![3.0, 3.0]);
}

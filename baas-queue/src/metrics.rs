//! Queue metrics for `/metrics`, through the [`metrics`] facade.
//!
//! A queue's figures ([`Queue::stats`](crate::Queue::stats)) live in the backend, so
//! nothing records them on its own: call [`record_queue_stats`] before rendering
//! `/metrics`, or let [`spawn_stats_reporter`] record them every few seconds. The worker
//! runtime records the rest as it settles deliveries.
//!
//! | metric | type | labels | recorded by |
//! |---|---|---|---|
//! | `baas_queue_depth` ([`QUEUE_DEPTH`]) | gauge | `queue` | [`record_queue_stats`] |
//! | `baas_queue_in_flight` ([`QUEUE_IN_FLIGHT`]) | gauge | `queue` | [`record_queue_stats`] |
//! | `baas_queue_dead_letters` ([`QUEUE_DEAD_LETTERS`]) | gauge | `queue` | [`record_queue_stats`] |
//! | `baas_queue_oldest_message_age_seconds` ([`QUEUE_OLDEST_MESSAGE_AGE_SECONDS`]) | gauge | `queue` | [`record_queue_stats`] |
//! | `baas_queue_jobs_total` ([`JOBS_TOTAL`]) | counter | `queue`, `outcome` (`processed`, `retried`, `dead`, `released`, `lost`) | the [`Worker`](crate::Worker) |
//! | `baas_queue_delivery_lag_seconds` ([`DELIVERY_LAG_SECONDS`]) | histogram | `queue` | the [`Worker`](crate::Worker), on each first delivery (attempt 1; a requested delay counts) |
//! | `baas_job_runs_total`, `baas_job_duration_seconds` | counter, histogram | `job` (the queue), `outcome` | the [`Worker`](crate::Worker), through baas-core's [`MetricsLayer::jobs`](baas_core::metrics::MetricsLayer::jobs) |
//!
//! A figure the backend cannot know (`None` in [`QueueStats`]) is not recorded, so
//! its gauge is absent rather than a made-up zero. [`describe`] registers help text and
//! units.
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use baas_queue::{DynQueue, MemoryQueue, QueueExt};
//! use baas_queue::core::TenantId;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let handle = baas_queue::core::metrics::install_prometheus()?;
//! baas_queue::metrics::describe();
//!
//! let queue: Arc<DynQueue> = Arc::new(MemoryQueue::new());
//! queue.enqueue_json("emails", &TenantId::new("acme")?, &"hello").await?;
//!
//! // Before rendering /metrics (or periodically, with spawn_stats_reporter):
//! baas_queue::metrics::record_queue_stats(&*queue).await?;
//! assert!(handle.render().contains("baas_queue_depth{queue=\"emails\"} 1"));
//!
//! // In a binary: one task keeps the gauges fresh until it is aborted.
//! let reporter = baas_queue::metrics::spawn_stats_reporter(queue, Duration::from_secs(15));
//! reporter.abort();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::error::QueueResult;
use crate::queue::{DynQueue, QueueStats};

pub use crate::worker::{DELIVERY_LAG_SECONDS, JOBS_TOTAL};

/// Gauge of messages waiting (ready or delayed): label `queue`.
pub const QUEUE_DEPTH: &str = "baas_queue_depth";
/// Gauge of messages under a live lease: label `queue`.
pub const QUEUE_IN_FLIGHT: &str = "baas_queue_in_flight";
/// Gauge of dead letters: label `queue`.
pub const QUEUE_DEAD_LETTERS: &str = "baas_queue_dead_letters";
/// Gauge of how long the oldest ready message has waited, in seconds (0 when nothing
/// is ready): label `queue`.
pub const QUEUE_OLDEST_MESSAGE_AGE_SECONDS: &str = "baas_queue_oldest_message_age_seconds";

/// The shortest period [`spawn_stats_reporter`] records at.
pub const MIN_REPORT_PERIOD: Duration = Duration::from_millis(100);

/// Register descriptions (help text and units) for the metrics in this module's table
/// (baas-core's [`describe`](baas_core::metrics::describe) covers the `baas_job_*` ones).
/// Call it once after installing the recorder.
pub fn describe() {
    use ::metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_gauge!(
        QUEUE_DEPTH,
        Unit::Count,
        "Messages waiting in a queue (ready or delayed)"
    );
    describe_gauge!(
        QUEUE_IN_FLIGHT,
        Unit::Count,
        "Messages of a queue under a live lease"
    );
    describe_gauge!(QUEUE_DEAD_LETTERS, Unit::Count, "Dead letters of a queue");
    describe_gauge!(
        QUEUE_OLDEST_MESSAGE_AGE_SECONDS,
        Unit::Seconds,
        "How long the oldest ready message of a queue has waited"
    );
    describe_counter!(
        JOBS_TOTAL,
        Unit::Count,
        "Deliveries settled by workers, by outcome"
    );
    describe_histogram!(
        DELIVERY_LAG_SECONDS,
        Unit::Seconds,
        "Time from enqueue to a message's first delivery to a worker"
    );
}

/// Set the gauges of one queue from its figures; a `None` figure is left unrecorded.
pub fn record_stats(queue: &str, stats: &QueueStats) {
    let name = queue.to_owned();
    if let Some(depth) = stats.depth {
        ::metrics::gauge!(QUEUE_DEPTH, "queue" => name.clone()).set(depth as f64);
    }
    if let Some(in_flight) = stats.in_flight {
        ::metrics::gauge!(QUEUE_IN_FLIGHT, "queue" => name.clone()).set(in_flight as f64);
    }
    if let Some(dead) = stats.dead {
        ::metrics::gauge!(QUEUE_DEAD_LETTERS, "queue" => name.clone()).set(dead as f64);
    }
    if let Some(age) = stats.oldest_age {
        ::metrics::gauge!(QUEUE_OLDEST_MESSAGE_AGE_SECONDS, "queue" => name).set(age.as_secs_f64());
    }
}

/// Set the gauges of every queue the backend knows ([`Queue::queues`] and
/// [`Queue::stats`]).
///
/// A queue whose stats fail is skipped (its gauges keep their last value) and the
/// others are still recorded; the first error is returned. This function keeps no
/// state, so a queue that stops being listed (the SQL backend lists only queues with
/// stored messages) keeps its last values; [`spawn_stats_reporter`] zeroes those.
///
/// # Errors
///
/// The backend's error from listing the queues or from the first failing `stats`.
///
/// [`Queue::queues`]: crate::Queue::queues
/// [`Queue::stats`]: crate::Queue::stats
pub async fn record_queue_stats(queue: &DynQueue) -> QueueResult<()> {
    record_all(queue, None).await
}

/// Spawn a task that calls [`record_queue_stats`] at once and then every `every`
/// (at least [`MIN_REPORT_PERIOD`]), logging failures as warnings, until the returned
/// handle is aborted (or the runtime shuts down).
///
/// Unlike [`record_queue_stats`], it remembers the queues it reported: one that is no
/// longer listed — the SQL backend forgets a queue once it holds no message — has its
/// gauges set to zero, rather than kept at their last value.
///
/// Must be called within a tokio runtime.
pub fn spawn_stats_reporter(queue: Arc<DynQueue>, every: Duration) -> JoinHandle<()> {
    let every = every.max(MIN_REPORT_PERIOD);
    tokio::spawn(async move {
        let mut seen = BTreeSet::new();
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if let Err(error) = record_all(&*queue, Some(&mut seen)).await {
                tracing::warn!(%error, "could not record queue stats");
            }
        }
    })
}

/// Record every queue; with `seen`, zero the queues reported last time but no longer
/// listed, and remember this time's.
async fn record_all(queue: &DynQueue, seen: Option<&mut BTreeSet<String>>) -> QueueResult<()> {
    let names = queue.queues().await?;
    let mut first_error = None;
    for name in &names {
        match queue.stats(name).await {
            Ok(stats) => record_stats(name, &stats),
            Err(error) => {
                if first_error.is_none() {
                    first_error = Some(error);
                }
            }
        }
    }
    if let Some(seen) = seen {
        let listed: BTreeSet<String> = names.into_iter().collect();
        for gone in seen.difference(&listed) {
            record_stats(gone, &EMPTY);
        }
        *seen = listed;
    }
    first_error.map_or(Ok(()), Err)
}

/// The figures of a queue that holds nothing.
const EMPTY: QueueStats = QueueStats {
    depth: Some(0),
    in_flight: Some(0),
    dead: Some(0),
    oldest_age: Some(Duration::ZERO),
};

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use baas_core::{ManualClock, TenantId};
    use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
    use metrics_util::{CompositeKey, MetricKind};

    use super::*;
    use crate::{MemoryQueue, Queue, QueueExt};

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    /// Gauge values by (name, queue label).
    fn gauges(snapshotter: &Snapshotter) -> HashMap<(String, String), f64> {
        snapshotter
            .snapshot()
            .into_vec()
            .into_iter()
            .filter_map(|(key, _, _, value)| gauge(&key, &value))
            .collect()
    }

    fn gauge(key: &CompositeKey, value: &DebugValue) -> Option<((String, String), f64)> {
        if key.kind() != MetricKind::Gauge {
            return None;
        }
        let DebugValue::Gauge(v) = value else {
            return None;
        };
        let queue = key
            .key()
            .labels()
            .find(|l| l.key() == "queue")?
            .value()
            .to_owned();
        Some(((key.key().name().to_owned(), queue), v.into_inner()))
    }

    fn acme() -> TenantId {
        TenantId::new("acme").unwrap()
    }

    #[test]
    fn records_every_queue_figure() {
        let rt = runtime();
        let clock = ManualClock::new();
        let queue = MemoryQueue::with_clock(clock.shared());
        rt.block_on(async {
            for n in 0..3 {
                queue.enqueue_json("emails", &acme(), &n).await.unwrap();
            }
            queue.enqueue_json("hooks", &acme(), &"x").await.unwrap();
            // One leased, one dead: emails has 1 waiting, 1 in flight, 1 dead.
            let leased = queue
                .reserve_one("emails", Duration::from_secs(60))
                .await
                .unwrap()
                .unwrap();
            let dead = queue
                .reserve_one("emails", Duration::from_secs(60))
                .await
                .unwrap()
                .unwrap();
            queue.dead_letter(&dead.lease, "boom").await.unwrap();
            let _ = leased;
        });
        clock.advance(Duration::from_millis(2500));

        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        metrics::with_local_recorder(&recorder, || {
            rt.block_on(record_queue_stats(&queue)).unwrap();
        });
        let g = gauges(&snapshotter);
        let get = |name: &str, queue: &str| g.get(&(name.to_owned(), queue.to_owned())).copied();
        assert_eq!(get(QUEUE_DEPTH, "emails"), Some(1.0));
        assert_eq!(get(QUEUE_IN_FLIGHT, "emails"), Some(1.0));
        assert_eq!(get(QUEUE_DEAD_LETTERS, "emails"), Some(1.0));
        assert_eq!(get(QUEUE_OLDEST_MESSAGE_AGE_SECONDS, "emails"), Some(2.5));
        assert_eq!(get(QUEUE_DEPTH, "hooks"), Some(1.0));
        assert_eq!(get(QUEUE_IN_FLIGHT, "hooks"), Some(0.0));
        assert_eq!(get(QUEUE_DEAD_LETTERS, "hooks"), Some(0.0));
        assert_eq!(g.len(), 8, "{g:?}");
    }

    #[test]
    fn unknown_figures_are_not_recorded() {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        let stats = QueueStats {
            depth: Some(4),
            in_flight: None,
            dead: Some(2),
            oldest_age: None,
        };
        metrics::with_local_recorder(&recorder, || record_stats("rabbit", &stats));
        let g = gauges(&snapshotter);
        assert_eq!(g.len(), 2, "{g:?}");
        assert_eq!(
            g[&(QUEUE_DEPTH.to_owned(), "rabbit".to_owned())],
            4.0,
            "{g:?}"
        );
        assert_eq!(
            g[&(QUEUE_DEAD_LETTERS.to_owned(), "rabbit".to_owned())],
            2.0
        );
    }

    #[test]
    fn queues_no_longer_listed_are_zeroed_when_remembered() {
        let rt = runtime();
        let queue = MemoryQueue::new();
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        let mut seen = BTreeSet::from(["vanished".to_owned()]);
        rt.block_on(queue.enqueue_json("kept", &acme(), &1))
            .unwrap();
        metrics::with_local_recorder(&recorder, || {
            rt.block_on(record_all(&queue, Some(&mut seen))).unwrap();
        });
        let g = gauges(&snapshotter);
        assert_eq!(g[&(QUEUE_DEPTH.to_owned(), "kept".to_owned())], 1.0);
        assert_eq!(g[&(QUEUE_DEPTH.to_owned(), "vanished".to_owned())], 0.0);
        assert_eq!(seen, BTreeSet::from(["kept".to_owned()]));
    }

    #[test]
    fn the_reporter_records_at_once() {
        // Paused time: the waits below advance the clock at once when all is idle.
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .start_paused(true)
            .build()
            .unwrap();
        let queue: Arc<DynQueue> = Arc::new(MemoryQueue::new());
        rt.block_on(queue.enqueue_json("jobs", &acme(), &1))
            .unwrap();
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        let key = (QUEUE_DEPTH.to_owned(), "jobs".to_owned());
        // (A snapshot resets what it reads, so keep the one that saw the gauge.)
        let seen = metrics::with_local_recorder(&recorder, || {
            rt.block_on(async {
                let handle = spawn_stats_reporter(queue, Duration::from_secs(3600));
                let mut seen = None;
                for _ in 0..100 {
                    let g = gauges(&snapshotter);
                    if g.contains_key(&key) {
                        seen = Some(g);
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                handle.abort();
                seen
            })
        });
        let g = seen.expect("the reporter recorded within its first tick");
        assert_eq!(g[&key], 1.0);
        assert_eq!(g[&(QUEUE_DEAD_LETTERS.to_owned(), "jobs".to_owned())], 0.0);
    }
}

//! Housekeeping: the retention sweepers of a process, run together on one timer
//! (DESIGN.md rule 11: everything grows old and goes).
//!
//! Idempotency records, sessions, processed-message ids, outbox rows and delivery logs
//! each have a sweeper (`sweep` on their store). A [`Housekeeper`] holds them by name
//! and calls each in turn, now and then every interval. A failed sweep is logged and
//! counted, and tried again at the next tick; it never stops the others.
//!
//! Metrics: `baas_housekeeping_removed_total{task}` (what each sweep deleted) and
//! `baas_housekeeping_failures_total{task}`.
//!
//! ```
//! use std::time::Duration;
//! use baas_core::housekeeping::Housekeeper;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let housekeeper = Housekeeper::new(Duration::from_secs(600))
//!     .task("sessions", || async { Ok::<u64, baas_core::Error>(3) })
//!     .task("idempotency", || async { Ok::<u64, baas_core::Error>(0) });
//! let report = housekeeper.run_once().await;
//! assert_eq!(report[0].0, "sessions");
//! assert_eq!(report[0].1.as_ref().ok(), Some(&3));
//!
//! let handle = housekeeper.spawn(); // on its timer until aborted
//! handle.abort();
//! # });
//! ```

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use crate::Error;

/// One sweep: deletes what outlived its retention and says how many items went.
type Sweep = Arc<dyn Fn() -> BoxFuture<'static, Result<u64, Error>> + Send + Sync>;

/// The retention sweepers of a process, run by name on one timer. See the
/// [module docs](self).
#[derive(Clone)]
pub struct Housekeeper {
    interval: Duration,
    tasks: Vec<(&'static str, Sweep)>,
}

impl fmt::Debug for Housekeeper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Housekeeper")
            .field("interval", &self.interval)
            .field("tasks", &self.task_names())
            .finish()
    }
}

impl Housekeeper {
    /// No tasks yet; sweep every `interval` once spawned.
    ///
    /// # Panics
    ///
    /// If `interval` is zero.
    pub fn new(interval: Duration) -> Self {
        assert!(
            !interval.is_zero(),
            "housekeeping interval must be positive"
        );
        Housekeeper {
            interval,
            tasks: Vec::new(),
        }
    }

    /// Add a sweep named `name` (a metric label: keep it short and fixed). `sweep` is
    /// called once per round and returns how many items it deleted.
    pub fn task<F, Fut, E>(mut self, name: &'static str, sweep: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<u64, E>> + Send + 'static,
        E: Into<Error> + 'static,
    {
        let sweep: Sweep = Arc::new(move || {
            let fut = sweep();
            Box::pin(async move { fut.await.map_err(Into::into) })
        });
        self.tasks.push((name, sweep));
        self
    }

    /// The interval between rounds.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// The tasks' names, in the order they run.
    pub fn task_names(&self) -> Vec<&'static str> {
        self.tasks.iter().map(|(name, _)| *name).collect()
    }

    /// Run every task once, in order, and report each outcome. Outcomes are also
    /// logged and counted in the metrics.
    pub async fn run_once(&self) -> Vec<(&'static str, Result<u64, Error>)> {
        let mut report = Vec::with_capacity(self.tasks.len());
        for (name, sweep) in &self.tasks {
            let outcome = sweep().await;
            match &outcome {
                Ok(removed) => {
                    metrics::counter!("baas_housekeeping_removed_total", "task" => *name)
                        .increment(*removed);
                    tracing::debug!(task = name, removed, "housekeeping: swept");
                }
                Err(err) => {
                    metrics::counter!("baas_housekeeping_failures_total", "task" => *name)
                        .increment(1);
                    tracing::warn!(task = name, error = %err, "housekeeping: sweep failed; trying again at the next round");
                }
            }
            report.push((*name, outcome));
        }
        report
    }

    /// Run a round now and then every interval, until the returned handle is aborted
    /// (dropping it leaves the task running). Every process of an installation may run
    /// one: sweeping is idempotent.
    ///
    /// # Panics
    ///
    /// When called outside a tokio runtime.
    pub fn spawn(self) -> JoinHandle<()> {
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(self.interval);
            ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                self.run_once().await;
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;

    fn counting(
        calls: &Arc<AtomicU64>,
        removed: u64,
    ) -> impl Fn() -> BoxFuture<'static, Result<u64, Error>> + Send + Sync + 'static {
        let calls = calls.clone();
        move || {
            calls.fetch_add(1, Ordering::SeqCst);
            Box::pin(async move { Ok(removed) })
        }
    }

    #[tokio::test]
    async fn a_round_runs_every_task_in_order_and_a_failure_stops_none() {
        let first = Arc::new(AtomicU64::new(0));
        let last = Arc::new(AtomicU64::new(0));
        let housekeeper = Housekeeper::new(Duration::from_secs(60))
            .task("first", counting(&first, 2))
            .task("broken", || async {
                Err::<u64, _>(Error::new(crate::ErrorKind::Unavailable, "db down"))
            })
            .task("last", counting(&last, 5));
        assert_eq!(housekeeper.task_names(), ["first", "broken", "last"]);

        let report = housekeeper.run_once().await;
        let names: Vec<_> = report.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["first", "broken", "last"]);
        assert_eq!(report[0].1.as_ref().ok(), Some(&2));
        assert!(report[1].1.is_err());
        assert_eq!(report[2].1.as_ref().ok(), Some(&5));
        assert_eq!(
            (first.load(Ordering::SeqCst), last.load(Ordering::SeqCst)),
            (1, 1)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn spawned_it_sweeps_at_once_and_then_every_interval() {
        let calls = Arc::new(AtomicU64::new(0));
        let handle = Housekeeper::new(Duration::from_secs(600))
            .task("counted", counting(&calls, 0))
            .spawn();
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "the first round runs at once"
        );
        tokio::time::sleep(Duration::from_secs(600)).await;
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        tokio::time::sleep(Duration::from_secs(1200)).await;
        assert_eq!(calls.load(Ordering::SeqCst), 4);
        handle.abort();
    }

    #[test]
    #[should_panic(expected = "interval must be positive")]
    fn a_zero_interval_is_refused() {
        let _ = Housekeeper::new(Duration::ZERO);
    }
}

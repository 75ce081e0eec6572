//! The job payload (index and enqueue stamp) and the recorder of end-to-end latencies.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// Bytes of a payload: the job's index and its enqueue stamp, little-endian `u64`s.
pub(crate) const PAYLOAD_LEN: usize = 16;

/// Records, per job, the time from just before its enqueue to its handler, and wakes
/// whoever waits once every job was handled (a redelivered job counts once).
#[derive(Debug)]
pub(crate) struct Recorder {
    base: Instant,
    /// Latency in ns + 1 per job (0: not handled yet).
    slots: Vec<AtomicU64>,
    handled: AtomicUsize,
    done: Notify,
}

impl Recorder {
    pub(crate) fn new(jobs: usize) -> Self {
        Recorder {
            base: Instant::now(),
            slots: (0..jobs).map(|_| AtomicU64::new(0)).collect(),
            handled: AtomicUsize::new(0),
            done: Notify::new(),
        }
    }

    pub(crate) fn jobs(&self) -> usize {
        self.slots.len()
    }

    fn now(&self) -> u64 {
        u64::try_from(self.base.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// The payload of job `index`, stamped now (call it right before the enqueue).
    pub(crate) fn payload(&self, index: usize) -> [u8; PAYLOAD_LEN] {
        let mut out = [0u8; PAYLOAD_LEN];
        out[..8].copy_from_slice(&(index as u64).to_le_bytes());
        out[8..].copy_from_slice(&self.now().to_le_bytes());
        out
    }

    /// The handler saw `payload`; returns whether this was the last job outstanding.
    pub(crate) fn record(&self, payload: &[u8]) -> bool {
        let (Some(index), Some(stamp)) = (payload.get(..8), payload.get(8..PAYLOAD_LEN)) else {
            return false;
        };
        let index = u64::from_le_bytes(index.try_into().unwrap_or_default()) as usize;
        let stamp = u64::from_le_bytes(stamp.try_into().unwrap_or_default());
        let Some(slot) = self.slots.get(index) else {
            return false;
        };
        let latency = self.now().saturating_sub(stamp).saturating_add(1);
        if slot
            .compare_exchange(0, latency, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return false; // a redelivery: the first handling counts
        }
        let last = self.handled.fetch_add(1, Ordering::AcqRel) + 1 == self.slots.len();
        if last {
            self.done.notify_one();
        }
        last
    }

    pub(crate) fn handled(&self) -> usize {
        self.handled.load(Ordering::Acquire)
    }

    /// Wait until every job was handled.
    pub(crate) async fn all_handled(&self) {
        while self.handled() < self.slots.len() {
            let notified = self.done.notified();
            if self.handled() >= self.slots.len() {
                return;
            }
            let _ = tokio::time::timeout(Duration::from_millis(50), notified).await;
        }
    }

    /// p50 and p99 of the handled jobs' latencies.
    pub(crate) fn percentiles(&self) -> (Duration, Duration) {
        let mut all: Vec<u64> = self
            .slots
            .iter()
            .map(|s| s.load(Ordering::Acquire))
            .filter(|&v| v > 0)
            .map(|v| v - 1)
            .collect();
        if all.is_empty() {
            return (Duration::ZERO, Duration::ZERO);
        }
        all.sort_unstable();
        let at = |q: f64| {
            let i = ((all.len() as f64 - 1.0) * q).round() as usize;
            Duration::from_nanos(all[i.min(all.len() - 1)])
        };
        (at(0.50), at(0.99))
    }
}

//! The queues of group commit: appends wait in their tenant's lane while the lane's
//! writer commits the batch before them.
//!
//! A lane is one of [`LANES`], chosen by the tenant, so one tenant's appends always meet
//! in the same lane and a lane's writer is the only one of this process appending to that
//! tenant's chain. A batch may hold several tenants that share a lane; the writer chains
//! each tenant's records separately.

use std::collections::VecDeque;
use std::hash::{Hash as _, Hasher as _};

use baas_core::{Error, ErrorKind, TenantId};
use parking_lot::Mutex;
use tokio::sync::oneshot;

use crate::audit::chain::{AuditEntry, AuditRecord};

/// How many lanes tenants are spread over.
pub(super) const LANES: usize = 64;

/// The most entries one batch (one transaction) carries: 256 records of 10 columns stay
/// far below SQLite's and Postgres's limits on bound parameters.
pub(super) const MAX_BATCH: usize = 256;

/// Where an append's outcome goes.
pub(super) type Reply = oneshot::Sender<Result<AuditRecord, Error>>;

/// An entry waiting for its batch, and where its outcome goes.
pub(super) type Waiting = (AuditEntry, Reply);

#[derive(Debug, Default)]
struct Lane {
    /// Appends not yet taken by the writer, in arrival order.
    pending: VecDeque<Waiting>,
    /// Whether a writer is running for this lane.
    writing: bool,
}

/// The lanes of one [`SqlAuditLog`](super::SqlAuditLog) and its clones.
#[derive(Debug)]
pub(super) struct Lanes {
    lanes: Box<[Mutex<Lane>]>,
}

impl Lanes {
    pub(super) fn new() -> Self {
        Lanes {
            lanes: (0..LANES).map(|_| Mutex::new(Lane::default())).collect(),
        }
    }

    /// The lane of `tenant`'s chain.
    pub(super) fn of(&self, tenant: &TenantId) -> usize {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        tenant.as_str().hash(&mut hasher);
        // The remainder of a division by LANES always fits in usize.
        (hasher.finish() % LANES as u64) as usize
    }

    /// Queue `waiting` in `lane`. `true` when the lane had no writer: the caller must
    /// start one (the lane counts as written from now on).
    pub(super) fn enqueue(&self, lane: usize, waiting: Waiting) -> bool {
        let mut l = self.lanes[lane].lock();
        l.pending.push_back(waiting);
        !std::mem::replace(&mut l.writing, true)
    }

    /// The next batch of `lane` (up to [`MAX_BATCH`] entries, oldest first), or `None`
    /// when nothing waits — and then the lane has no writer any more, in the same
    /// critical section, so an append queued right after starts a new one.
    pub(super) fn next_batch(&self, lane: usize) -> Option<Vec<Waiting>> {
        let mut l = self.lanes[lane].lock();
        if l.pending.is_empty() {
            l.writing = false;
            return None;
        }
        let n = l.pending.len().min(MAX_BATCH);
        Some(l.pending.drain(..n).collect())
    }

    /// The writer of `lane` stopped early (a panic, or the runtime shutting down): fail
    /// whatever still waits and let the next append start a new writer.
    pub(super) fn abandon(&self, lane: usize) {
        let waiting = {
            let mut l = self.lanes[lane].lock();
            l.writing = false;
            std::mem::take(&mut l.pending)
        };
        for (_, reply) in waiting {
            let _ = reply.send(Err(stopped()));
        }
    }
}

/// The error of an append whose writer stopped before writing it.
pub(super) fn stopped() -> Error {
    Error::new(
        ErrorKind::Unavailable,
        "the audit writer stopped before this record was written; try again",
    )
}

/// Marks a lane abandoned when its writer ends without draining it.
#[derive(Debug)]
pub(super) struct WriterGuard<'a> {
    lanes: &'a Lanes,
    lane: usize,
    done: bool,
}

impl<'a> WriterGuard<'a> {
    pub(super) fn new(lanes: &'a Lanes, lane: usize) -> Self {
        WriterGuard {
            lanes,
            lane,
            done: false,
        }
    }

    /// The writer drained its lane ([`Lanes::next_batch`] answered `None`).
    pub(super) fn finish(mut self) {
        self.done = true;
    }
}

impl Drop for WriterGuard<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.lanes.abandon(self.lane);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiting(tenant: &str, n: usize) -> (Waiting, oneshot::Receiver<Result<AuditRecord, Error>>) {
        let (tx, rx) = oneshot::channel();
        let entry = AuditEntry::new(TenantId::new(tenant).unwrap(), "a", "b", n.to_string());
        ((entry, tx), rx)
    }

    #[test]
    fn the_first_append_of_an_idle_lane_starts_the_writer_and_batches_keep_order() {
        let lanes = Lanes::new();
        let lane = lanes.of(&TenantId::new("acme").unwrap());
        let mut receivers = Vec::new();
        let mut starts = Vec::new();
        for i in 0..(MAX_BATCH + 3) {
            let (w, rx) = waiting("acme", i);
            starts.push(lanes.enqueue(lane, w));
            receivers.push(rx);
        }
        assert!(starts[0], "the first append starts a writer");
        assert!(
            starts[1..].iter().all(|s| !s),
            "later appends join the running writer"
        );
        let first = lanes.next_batch(lane).expect("a batch");
        assert_eq!(first.len(), MAX_BATCH, "batches are capped");
        assert_eq!(first[0].0.target, "0");
        assert_eq!(first[MAX_BATCH - 1].0.target, (MAX_BATCH - 1).to_string());
        let second = lanes.next_batch(lane).expect("the rest");
        assert_eq!(
            second
                .iter()
                .map(|w| w.0.target.clone())
                .collect::<Vec<_>>(),
            vec!["256", "257", "258"],
            "arrival order"
        );
        assert!(lanes.next_batch(lane).is_none(), "drained");
        let (w, _rx) = waiting("acme", 0);
        assert!(lanes.enqueue(lane, w), "a drained lane needs a new writer");
    }

    #[test]
    fn an_abandoned_lane_fails_its_waiters_and_accepts_a_new_writer() {
        let lanes = Lanes::new();
        let lane = lanes.of(&TenantId::new("acme").unwrap());
        let (w, _first) = waiting("acme", 0);
        assert!(lanes.enqueue(lane, w));
        let (w, mut second) = waiting("acme", 1);
        assert!(!lanes.enqueue(lane, w));
        drop(WriterGuard::new(&lanes, lane));
        let err = second.try_recv().expect("answered").expect_err("failed");
        assert_eq!(err.kind(), ErrorKind::Unavailable);
        let (w, _third) = waiting("acme", 2);
        assert!(lanes.enqueue(lane, w), "the next append starts a writer");
        WriterGuard::new(&lanes, lane).finish();
        let (w, _fourth) = waiting("acme", 3);
        assert!(
            !lanes.enqueue(lane, w),
            "a finished guard leaves the lane alone"
        );
    }
}

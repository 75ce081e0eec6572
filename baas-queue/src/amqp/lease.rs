//! Client-side leases over RabbitMQ deliveries, and the delivery-tag tracker.
//!
//! RabbitMQ has no visibility timeout: an unacknowledged delivery stays with its channel
//! until acked, rejected or the channel closes. So a lease is a deadline kept here, next
//! to the delivery's [`Acker`]. Whoever removes an entry from the table owns its
//! delivery tag and settles it exactly once — the sweeper (reject with requeue when the
//! deadline passes) or the lease holder (ack, nack, dead-letter). A tag already rejected
//! is therefore never acked: acking an unknown tag is a channel error in AMQP
//! (`PRECONDITION_FAILED`) and would take every other delivery on the channel with it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::sync::Notify;
use uuid::Uuid;

use super::envelope::Envelope;
use super::tags::Tagged;

/// The most messages whose lease-expiry counts are remembered (the counts only make
/// `attempt` exact; forgetting one undercounts, never loses a message).
const MAX_REMEMBERED_EXPIRIES: usize = 100_000;

/// A delivery under a lease.
#[derive(Debug)]
pub(crate) struct Held {
    pub(crate) queue: String,
    pub(crate) message: Uuid,
    pub(crate) acker: Tagged,
    pub(crate) payload: Bytes,
    pub(crate) envelope: Envelope,
    pub(crate) attempt: u32,
    pub(crate) deadline: SystemTime,
}

/// The table of live leases, keyed by lease token.
#[derive(Debug, Default)]
pub(crate) struct Leases {
    held: Mutex<HashMap<Uuid, Held>>,
    /// Lease expiries seen here per message, so a redelivery's `attempt` counts them.
    expiries: Mutex<HashMap<Uuid, u32>>,
    /// Wakes the sweeper when the earliest deadline may have moved.
    pub(crate) changed: Arc<Notify>,
}

impl Leases {
    /// Record a new lease under `token`.
    pub(crate) fn insert(&self, token: Uuid, held: Held) {
        self.held.lock().insert(token, held);
        self.changed.notify_one();
    }

    /// Take the lease `token` for settling, if it is live and belongs to `queue` and
    /// `message`. After this the caller owns the delivery tag.
    pub(crate) fn take(&self, token: Uuid, queue: &str, message: Uuid) -> Option<Held> {
        let mut held = self.held.lock();
        match held.get(&token) {
            Some(entry) if entry.queue == queue && entry.message == message => held.remove(&token),
            _ => None,
        }
    }

    /// Move the deadline of a live lease; `false` when it is not live.
    pub(crate) fn extend(
        &self,
        token: Uuid,
        queue: &str,
        message: Uuid,
        deadline: SystemTime,
    ) -> bool {
        let mut held = self.held.lock();
        match held.get_mut(&token) {
            Some(entry)
                if entry.queue == queue && entry.message == message && entry.acker.usable() =>
            {
                entry.deadline = deadline;
                drop(held);
                self.changed.notify_one();
                true
            }
            _ => false,
        }
    }

    /// Remove and return every lease whose deadline is at or before `now`, and every
    /// lease whose channel died (its delivery is back on the broker already).
    pub(crate) fn take_expired(&self, now: SystemTime) -> Vec<Held> {
        let mut held = self.held.lock();
        let expired: Vec<Uuid> = held
            .iter()
            .filter(|(_, entry)| entry.deadline <= now || entry.acker.poisoned())
            .map(|(token, _)| *token)
            .collect();
        let out: Vec<Held> = expired
            .iter()
            .filter_map(|token| held.remove(token))
            .collect();
        drop(held);
        if !out.is_empty() {
            let mut expiries = self.expiries.lock();
            if expiries.len() + out.len() > MAX_REMEMBERED_EXPIRIES {
                expiries.clear();
            }
            for entry in &out {
                *expiries.entry(entry.message).or_default() += 1;
            }
        }
        out
    }

    /// The earliest deadline, if any lease is live.
    pub(crate) fn next_deadline(&self) -> Option<SystemTime> {
        self.held.lock().values().map(|entry| entry.deadline).min()
    }

    /// How many leases are live on `queue`.
    pub(crate) fn count(&self, queue: &str) -> usize {
        self.held
            .lock()
            .values()
            .filter(|entry| entry.queue == queue)
            .count()
    }

    /// How many of this message's leases expired here.
    pub(crate) fn expiries(&self, message: Uuid) -> u32 {
        self.expiries.lock().get(&message).copied().unwrap_or(0)
    }

    /// The message was settled: forget its expiry count.
    pub(crate) fn settled(&self, message: Uuid) {
        self.expiries.lock().remove(&message);
    }
}

/// Reject every expired lease with requeue, so the broker delivers it again.
pub(crate) async fn requeue_expired(leases: &Leases, now: SystemTime) {
    for entry in leases.take_expired(now) {
        if !entry.acker.usable() {
            continue; // its channel is gone and the broker has requeued it already
        }
        tracing::debug!(queue = %entry.queue, message = %entry.message, "lease expired; requeueing");
        if let Err(error) = entry.acker.reject(true).await {
            // The channel failed; closing it requeues the delivery all the same.
            tracing::warn!(queue = %entry.queue, %error, "requeue of an expired lease failed");
        }
    }
}

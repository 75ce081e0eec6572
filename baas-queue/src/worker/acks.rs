//! Group commit for acknowledgements: the [`Worker`](super::Worker)'s deliveries hand
//! their acks to one task, which settles them in groups with
//! [`Queue::ack_batch`](crate::Queue::ack_batch).
//!
//! The task knows how many handlers are still running. Once an ack arrives it keeps
//! collecting while others are running — each further ack within `linger` of the last
//! — and settles the group when no handler is left running, the group is full, or
//! `linger` passes without one. Under load a whole reserved batch is acked in one round
//! trip (the SQL backend: one `DELETE`); one job at a time is one ack at a time, with no
//! wait. Each caller still learns its own outcome, so a lost lease is reported per
//! delivery.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::error::{QueueError, QueueResult};
use crate::queue::{DynQueue, Lease, MAX_BATCH};

type Reply = oneshot::Sender<QueueResult<()>>;

/// The sending side, shared by the worker's deliveries through its context.
#[derive(Debug)]
pub(super) struct Acks {
    tx: mpsc::UnboundedSender<(Lease, Reply)>,
    running: Arc<AtomicUsize>,
}

/// A handler counted as running until this is dropped (or handed to [`Acks::ack`]).
#[derive(Debug)]
pub(super) struct Running(Arc<AtomicUsize>);

impl Drop for Running {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Acks {
    /// Start the acking task over `queue`, lingering up to `linger` for the acks of
    /// handlers still running. It ends once every [`Acks`] is dropped and the acks
    /// already handed over are settled.
    pub(super) fn start(queue: Arc<DynQueue>, linger: Duration) -> (Acks, JoinHandle<()>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let running = Arc::new(AtomicUsize::new(0));
        let task = tokio::spawn(settle(queue, rx, Arc::clone(&running), linger));
        (Acks { tx, running }, task)
    }

    /// Count a handler as running until the returned guard is dropped.
    pub(super) fn running(&self) -> Running {
        self.running.fetch_add(1, Ordering::AcqRel);
        Running(Arc::clone(&self.running))
    }

    /// Ack `lease` with the next group; `running` (its handler's guard) ends as the ack
    /// is handed over. Resolves with this lease's own outcome.
    pub(super) async fn ack(&self, lease: Lease, running: Running) -> QueueResult<()> {
        let (reply, outcome) = oneshot::channel();
        // Stop counting first: were the ack sent first, the acking task could see this
        // handler still running and linger for nothing.
        drop(running);
        if self.tx.send((lease, reply)).is_err() {
            return Err(QueueError::ShuttingDown);
        }
        // A dropped reply means the acking task died (a panicking backend): the lease was
        // not settled and will expire.
        outcome.await.unwrap_or(Err(QueueError::ShuttingDown))
    }
}

async fn settle(
    queue: Arc<DynQueue>,
    mut rx: mpsc::UnboundedReceiver<(Lease, Reply)>,
    running: Arc<AtomicUsize>,
    linger: Duration,
) {
    let mut waiting = Vec::new();
    let mut leases = Vec::new();
    while let Some(first) = rx.recv().await {
        waiting.push(first);
        loop {
            while waiting.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(more) => waiting.push(more),
                    Err(_) => break,
                }
            }
            if waiting.len() >= MAX_BATCH
                || linger.is_zero()
                || running.load(Ordering::Acquire) == 0
            {
                break;
            }
            match tokio::time::timeout(linger, rx.recv()).await {
                Ok(Some(more)) => waiting.push(more),
                Ok(None) | Err(_) => break,
            }
        }
        let replies: Vec<Reply> = waiting
            .drain(..)
            .map(|(lease, reply)| {
                leases.push(lease);
                reply
            })
            .collect();
        let outcomes = queue.ack_batch(&leases).await;
        leases.clear();
        for (reply, outcome) in replies.into_iter().zip(outcomes) {
            let _ = reply.send(outcome);
        }
    }
}

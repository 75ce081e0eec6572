//! Group commit for acknowledgements: the [`Worker`](super::Worker)'s deliveries hand
//! their acks to one task, which settles everything that arrived while its previous
//! batch was in flight with a single [`Queue::ack_batch`](crate::Queue::ack_batch).
//!
//! Under load a whole reserved batch is acked in one round trip (the SQL backend: one
//! `DELETE`); with one delivery at a time it is one ack per delivery, as before. Each
//! caller still waits for its own outcome, so a lost lease is reported per delivery.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::error::{QueueError, QueueResult};
use crate::queue::{DynQueue, Lease, MAX_BATCH};

type Reply = oneshot::Sender<QueueResult<()>>;

/// The sending side, shared by the worker's deliveries through its context.
#[derive(Debug)]
pub(super) struct Acks {
    tx: mpsc::UnboundedSender<(Lease, Reply)>,
}

impl Acks {
    /// Start the acking task over `queue`. It ends once every [`Acks`] is dropped and the
    /// acks already handed over are settled.
    pub(super) fn start(queue: Arc<DynQueue>) -> (Acks, JoinHandle<()>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Acks { tx }, tokio::spawn(settle(queue, rx)))
    }

    /// Ack `lease` with the next batch; resolves with this lease's own outcome.
    pub(super) async fn ack(&self, lease: Lease) -> QueueResult<()> {
        let (reply, outcome) = oneshot::channel();
        if self.tx.send((lease, reply)).is_err() {
            return Err(QueueError::ShuttingDown);
        }
        // A dropped reply means the acking task died (a panicking backend): the lease was
        // not settled and will expire.
        outcome.await.unwrap_or(Err(QueueError::ShuttingDown))
    }
}

async fn settle(queue: Arc<DynQueue>, mut rx: mpsc::UnboundedReceiver<(Lease, Reply)>) {
    let mut waiting = Vec::new();
    let mut leases = Vec::new();
    while rx.recv_many(&mut waiting, MAX_BATCH).await > 0 {
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

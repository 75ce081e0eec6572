//! [`Intake`]: where the [`Notifier`](crate::Notifier) hands what it accepted — each
//! notification recorded in the [`DeliveryLog`] and, when queued, its delivery job
//! enqueued.
//!
//! | intake | how | used |
//! |---|---|---|
//! | [`QueueIntake`] | [`DeliveryLog::insert`], then [`Queue::enqueue`] (the job's dedupe key is the notification's id), per notification | by default, with any log and queue |
//! | `SqlIntake` (feature `sql`) | the log's rows and the queue's messages in one transaction, concurrent calls grouped into one commit | SQL log and SQL queue on one database |

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use baas_core::Error;
use baas_queue::{NewMessage, Queue};

use crate::model::{Notification, Status};
use crate::notifier::DeliveryJob;
use crate::store::{DeliveryLog, Inserted};

/// One notification to take in.
#[derive(Debug, Clone, PartialEq)]
pub struct Accept {
    /// The notification, with status `queued` (its job is enqueued when it is created)
    /// or `suppressed` (recorded only).
    pub notification: Notification,
    /// For a webhook delivery: the event's id, the job's `webhook-id`.
    pub webhook_id: Option<String>,
}

impl Accept {
    /// The delivery job of this notification.
    pub fn job(&self) -> DeliveryJob {
        DeliveryJob {
            notification: self.notification.id,
            webhook_id: self.webhook_id.clone(),
        }
    }
}

/// Records accepted notifications and enqueues their delivery jobs.
///
/// Guarantees: when [`accept`](Intake::accept) answers `Ok`, every notification of the
/// batch is stored — or, when its tenant already had one with the same idempotency key,
/// that one is answered (`created: false`) and nothing is added — and the job of each
/// one created with status `queued` is enqueued. So a notification answered to a caller
/// is never lost, and one idempotency key yields at most one notification and one job.
#[async_trait]
pub trait Intake: Send + Sync + fmt::Debug {
    /// Take in `batch` on `queue`; one [`Inserted`] per item, in order.
    async fn accept(&self, queue: &str, batch: Vec<Accept>) -> Result<Vec<Inserted>, Error>;
}

fn _object_safe(_: Box<dyn Intake>) {}

/// The queue message that carries `job`; the dedupe key (the notification's id) guards
/// an enqueue that is not in the log's transaction.
pub(crate) fn job_message(
    accept: &Accept,
    dedupe: bool,
) -> Result<NewMessage, baas_queue::QueueError> {
    let job = accept.job();
    let message = NewMessage::json(accept.notification.tenant.clone(), &job)?;
    Ok(if dedupe {
        message.dedupe_key(job.notification.to_string())
    } else {
        message
    })
}

/// Whether the intake enqueues a job for `inserted`.
pub(crate) fn wants_job(inserted: &Inserted) -> bool {
    inserted.created && inserted.notification.status == Status::Queued
}

/// The default [`Intake`]: [`DeliveryLog::insert`], then [`Queue::enqueue`], one
/// notification at a time. Works with any log and queue; a failure between the two
/// leaves a `queued` notification without a job (the caller got the error, so nothing
/// it was told was accepted is lost), and the job's dedupe key (the notification's id)
/// makes a repeated enqueue harmless.
#[derive(Debug, Clone)]
pub struct QueueIntake {
    log: Arc<dyn DeliveryLog>,
    queue: Arc<dyn Queue>,
}

impl QueueIntake {
    /// Record in `log`, enqueue on `queue`.
    pub fn new(log: Arc<dyn DeliveryLog>, queue: Arc<dyn Queue>) -> Self {
        QueueIntake { log, queue }
    }
}

#[async_trait]
impl Intake for QueueIntake {
    async fn accept(&self, queue: &str, batch: Vec<Accept>) -> Result<Vec<Inserted>, Error> {
        baas_queue::validate_queue_name(queue)?;
        let mut out = Vec::with_capacity(batch.len());
        for accept in &batch {
            let inserted = self.log.insert(&accept.notification).await?;
            if wants_job(&inserted) {
                self.queue
                    .enqueue(queue, job_message(accept, true)?)
                    .await?;
            }
            out.push(inserted);
        }
        Ok(out)
    }
}

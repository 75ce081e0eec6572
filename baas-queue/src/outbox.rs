//! The outbox relay: publishes messages staged with `baas_store::outbox::stage` into a
//! [`Queue`](crate::Queue) after their transaction commits.
//!
//! A committed change always yields its message (the row stays pending until a publish
//! succeeded) and a rolled-back one never does (the row never existed). The outbox row's
//! id is the dedupe key, so a relay that crashes between publishing and marking the row
//! published — or two relays reading the same rows — cannot enqueue it twice within the
//! queue's dedupe window.
//!
//! ```
//! use baas_queue::outbox::OutboxRelay;
//! use baas_queue::{MemoryQueue, Queue, QueueExt};
//! use baas_store::outbox::{self, Outbox, OutboxMessage};
//! use baas_store::Database;
//! use baas_queue::core::TenantId;
//! use std::sync::Arc;
//! use std::time::Duration;
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let db = Database::connect("sqlite::memory:").await?;
//! db.migrate().await?;
//! let queue = Arc::new(MemoryQueue::new());
//! let relay = OutboxRelay::new(Outbox::new(db.clone()), queue.clone());
//!
//! let tx = db.begin().await?;
//! outbox::stage(&tx, OutboxMessage::new(TenantId::new("acme")?, "orders", "created")).await?;
//! tx.commit().await?;
//!
//! assert_eq!(relay.relay_once().await?, 1);
//! assert!(queue.reserve_one("orders", Duration::from_secs(30)).await?.is_some());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use baas_store::outbox::{Outbox, OutboxRow};

use crate::error::QueueResult;
use crate::queue::{DynQueue, NewMessage};

/// Publishes pending outbox rows into a queue, marks them published, sweeps old rows.
#[derive(Debug, Clone)]
pub struct OutboxRelay {
    outbox: Outbox,
    queue: Arc<DynQueue>,
    batch: u32,
    idle: Duration,
    retention: Duration,
}

fn message(row: &OutboxRow) -> NewMessage {
    NewMessage {
        tenant: row.tenant.clone(),
        payload: row.payload.clone(),
        headers: row.headers.clone(),
        delay: None,
        dedupe_key: Some(row.id.to_string()),
    }
}

impl OutboxRelay {
    /// A relay from `outbox` into `queue`: 100 rows a pass, 500 ms between idle passes,
    /// published rows kept 7 days.
    pub fn new(outbox: Outbox, queue: Arc<DynQueue>) -> Self {
        OutboxRelay {
            outbox,
            queue,
            batch: 100,
            idle: Duration::from_millis(500),
            retention: Duration::from_secs(7 * 24 * 3600),
        }
    }

    /// Rows per pass.
    pub fn batch(mut self, batch: u32) -> Self {
        self.batch = batch.max(1);
        self
    }

    /// The pause after a pass that found nothing.
    pub fn idle(mut self, idle: Duration) -> Self {
        self.idle = idle;
        self
    }

    /// How long published rows are kept before [`OutboxRelay::sweep`] deletes them.
    pub fn retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    /// Publish what is due once; returns how many rows were published. A row whose
    /// publish fails stays pending for the next pass.
    pub async fn relay_once(&self) -> QueueResult<usize> {
        let rows = self.outbox.pending(self.batch).await?;
        let mut published = Vec::with_capacity(rows.len());
        for row in &rows {
            match self.queue.enqueue(&row.queue, message(row)).await {
                Ok(_) => published.push(row.id),
                Err(e) => {
                    tracing::warn!(outbox_id = %row.id, queue = %row.queue, error = %e, "could not publish an outbox row; it stays pending");
                }
            }
        }
        if !published.is_empty() {
            self.outbox.mark_published(&published).await?;
        }
        Ok(published.len())
    }

    /// Delete rows published longer ago than the retention; returns how many went.
    pub async fn sweep(&self) -> QueueResult<u64> {
        Ok(self.outbox.sweep(self.retention).await?)
    }

    /// Relay until `shutdown` completes: pass after pass, pausing when idle or after an
    /// error, sweeping about once an hour.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) {
        tokio::pin!(shutdown);
        let mut last_sweep = tokio::time::Instant::now();
        loop {
            let pause = match self.relay_once().await {
                Ok(n) if n as u32 >= self.batch => Duration::ZERO,
                Ok(_) => self.idle,
                Err(e) => {
                    tracing::warn!(error = %e, "outbox relay pass failed");
                    self.idle
                }
            };
            if last_sweep.elapsed() > Duration::from_secs(3600) {
                last_sweep = tokio::time::Instant::now();
                if let Err(e) = self.sweep().await {
                    tracing::warn!(error = %e, "outbox sweep failed");
                }
            }
            tokio::select! {
                biased;
                () = &mut shutdown => return,
                () = tokio::time::sleep(pause) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{MemoryQueue, Queue, QueueExt};
    use baas_core::TenantId;
    use baas_store::Database;
    use baas_store::outbox::{self, OutboxMessage};

    #[tokio::test]
    async fn committed_rows_are_published_once_and_rolled_back_ones_never() {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        db.migrate().await.unwrap();
        let queue = Arc::new(MemoryQueue::new());
        let relay = OutboxRelay::new(Outbox::new(db.clone()), queue.clone());
        let acme = TenantId::new("acme").unwrap();

        let tx = db.begin().await.unwrap();
        outbox::stage(&tx, OutboxMessage::new(acme.clone(), "events", "lost"))
            .await
            .unwrap();
        tx.rollback().await.unwrap();

        let tx = db.begin().await.unwrap();
        let id = outbox::stage(&tx, OutboxMessage::new(acme.clone(), "events", "kept"))
            .await
            .unwrap();
        tx.commit().await.unwrap();

        assert_eq!(relay.relay_once().await.unwrap(), 1);
        assert_eq!(relay.relay_once().await.unwrap(), 0, "marked published");
        let d = queue
            .reserve_one("events", Duration::from_secs(30))
            .await
            .unwrap()
            .expect("the committed message");
        assert_eq!(&d.message.payload[..], b"kept");
        assert_eq!(d.message.dedupe_key.as_deref(), Some(&*id.to_string()));
        assert!(
            queue
                .reserve_one("events", Duration::from_secs(30))
                .await
                .unwrap()
                .is_none(),
            "the rolled-back one never appears"
        );

        // A relay that crashed after publishing but before marking publishes again:
        // the dedupe key makes it a no-op.
        let again = queue
            .enqueue(
                "events",
                NewMessage::new(acme, "kept").dedupe_key(id.to_string()),
            )
            .await
            .unwrap();
        assert!(again.duplicate);
    }
}

//! The prefetching consumer of one queue.
//!
//! A reserve does not ask the broker for messages one by one (`basic.get` costs a round
//! trip per message). Each queue gets one `basic.consume` on its own channel with
//! `basic.qos(prefetch)`; a pump task moves what the broker pushes into a local buffer,
//! and reserves take from that buffer. Buffered messages are unacknowledged on the
//! broker (so nobody else receives them) but not yet leased to anyone.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use baas_core::Error;
use futures::StreamExt as _;
use lapin::Channel;
use lapin::options::{BasicConsumeOptions, BasicQosOptions};
use lapin::types::FieldTable;
use parking_lot::Mutex;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::envelope::Envelope;
use super::error::AmqpError;
use super::tags::{OpenTags, Pushed};

/// One queue's consumer and its buffer of pushed, not yet reserved deliveries.
#[derive(Debug)]
pub(crate) struct Prefetcher {
    channel: Channel,
    buffer: Mutex<VecDeque<Pushed>>,
    /// The tags of this channel's deliveries not yet settled (see `tags`).
    open: Arc<OpenTags>,
    arrived: Notify,
    alive: AtomicBool,
    pump: Mutex<Option<JoinHandle<()>>>,
}

impl Prefetcher {
    /// Start consuming `queue` on `channel` with `prefetch` messages in flight at most.
    pub(crate) async fn start(
        channel: Channel,
        queue: &str,
        prefetch: u16,
    ) -> Result<Arc<Self>, Error> {
        channel
            .basic_qos(prefetch, BasicQosOptions::default())
            .await
            .map_err(AmqpError::broker("basic.qos"))?;
        let mut consumer = channel
            .basic_consume(
                queue.into(),
                // Empty: the broker picks a unique tag.
                "".into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(AmqpError::broker("basic.consume"))?;
        let this = Arc::new(Self {
            channel,
            buffer: Mutex::new(VecDeque::new()),
            open: Arc::default(),
            arrived: Notify::new(),
            alive: AtomicBool::new(true),
            pump: Mutex::new(None),
        });
        let weak: Weak<Self> = Arc::downgrade(&this);
        let queue = queue.to_owned();
        let pump = tokio::spawn(async move {
            while let Some(item) = consumer.next().await {
                let Some(this) = weak.upgrade() else { return };
                match item {
                    Ok(delivery) => {
                        let pushed = Pushed::new(delivery, &this.open);
                        this.buffer.lock().push_back(pushed);
                        this.arrived.notify_waiters();
                    }
                    Err(error) => {
                        tracing::warn!(%queue, %error, "RabbitMQ consumer failed; it restarts on the next reserve");
                        break;
                    }
                }
            }
            if let Some(this) = weak.upgrade() {
                this.alive.store(false, Ordering::Release);
                this.arrived.notify_waiters();
            }
        });
        *this.pump.lock() = Some(pump);
        Ok(this)
    }

    /// Whether the consumer still receives (its channel is open and the broker has not
    /// cancelled it).
    pub(crate) fn is_alive(&self) -> bool {
        self.alive.load(Ordering::Acquire) && self.channel.status().connected()
    }

    /// Up to `max` buffered deliveries, oldest first. Deliveries of a dead channel are
    /// dropped: the broker has requeued them already.
    pub(crate) fn take(&self, max: usize) -> Vec<Pushed> {
        let mut buffer = self.buffer.lock();
        let mut out = Vec::with_capacity(max.min(buffer.len()));
        while out.len() < max {
            let Some(delivery) = buffer.pop_front() else {
                break;
            };
            if delivery.settle.usable() {
                out.push(delivery);
            }
        }
        out
    }

    /// Everything buffered (for purge).
    pub(crate) fn take_all(&self) -> Vec<Pushed> {
        self.take(usize::MAX)
    }

    /// How many deliveries wait in the buffer.
    pub(crate) fn buffered(&self) -> usize {
        self.buffer.lock().len()
    }

    /// The enqueue time (ms) of the oldest buffered message this backend wrote.
    pub(crate) fn oldest_enqueued_ms(&self) -> Option<u64> {
        self.buffer
            .lock()
            .iter()
            .filter_map(|delivery| Envelope::from_properties(&delivery.properties))
            .map(|envelope| envelope.enqueued_at_ms)
            .min()
    }

    /// Up to `max` deliveries, waiting up to `wait` for the first when none is buffered.
    pub(crate) async fn take_or_wait(&self, max: usize, wait: Duration) -> Vec<Pushed> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let notified = self.arrived.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let got = self.take(max);
            if !got.is_empty() || !self.is_alive() || wait.is_zero() {
                return got;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.take(max);
            }
        }
    }
}

impl Drop for Prefetcher {
    fn drop(&mut self) {
        if let Some(pump) = self.pump.lock().take() {
            pump.abort();
        }
        // Dropping the last handle of the channel closes it, which hands every
        // unacknowledged delivery back to the broker.
    }
}

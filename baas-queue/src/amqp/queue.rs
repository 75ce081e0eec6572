//! [`AmqpQueue`]: the backend value, its shared state and its lease sweeper.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime};

use baas_core::{Error, ErrorKind, SharedClock};
use lapin::uri::AMQPUri;
use parking_lot::Mutex;
use tokio::task::JoinHandle;

use super::config::AmqpConfig;
use super::connection::Connector;
use super::consumer::Prefetcher;
use super::lease::{Leases, requeue_expired};
use super::management::Management;
use super::names::{Names, refuse_queue};
use super::topology;
use crate::error::{QueueError, QueueResult};
use crate::queue::validate_queue_name;

/// The longest the sweeper sleeps between looks at the lease table, so leases measured
/// on an injected clock (which does not wake timers) still expire.
const SWEEP_AT_LEAST_EVERY: Duration = Duration::from_millis(250);

/// A [`Queue`](crate::Queue) on RabbitMQ. See the [module docs](super) for how it is
/// built and what it cannot do.
///
/// Dropping it stops its lease sweeper and closes its consumers' channels, which hands
/// every unacknowledged delivery back to the broker; [`AmqpQueue::close`] also closes
/// the connection.
pub struct AmqpQueue {
    pub(crate) inner: Arc<Inner>,
    sweeper: JoinHandle<()>,
}

/// The state shared with the sweeper task.
pub(crate) struct Inner {
    pub(crate) config: Arc<AmqpConfig>,
    pub(crate) connector: Connector,
    pub(crate) clock: SharedClock,
    pub(crate) leases: Leases,
    pub(crate) management: Option<Management>,
    consumers: tokio::sync::Mutex<HashMap<String, Arc<Prefetcher>>>,
    /// Logical queues declared by this value (durable: they survive reconnects).
    declared: Mutex<BTreeSet<String>>,
}

impl AmqpQueue {
    /// Connect to the broker of `config` and start the lease sweeper.
    ///
    /// # Errors
    ///
    /// `Invalid` for a bad prefix or URL; `Unavailable` when the broker cannot be
    /// reached within the configured reconnect attempts.
    pub async fn connect(config: AmqpConfig) -> QueueResult<Self> {
        config.validate().map_err(QueueError::Other)?;
        let uri: AMQPUri = config
            .url
            .parse()
            .map_err(|_| QueueError::invalid("url", "not a valid amqp:// URL"))?;
        let management = config
            .management_url
            .as_deref()
            .map(|url| Management::new(url, &uri.vhost))
            .transpose()
            .map_err(QueueError::Other)?;
        let clock = config
            .clock
            .clone()
            .unwrap_or_else(baas_core::clock::system);
        let config = Arc::new(config);
        let inner = Arc::new(Inner {
            connector: Connector::new(Arc::clone(&config)),
            config,
            clock,
            leases: Leases::default(),
            management,
            consumers: tokio::sync::Mutex::new(HashMap::new()),
            declared: Mutex::new(BTreeSet::new()),
        });
        inner
            .connector
            .connection()
            .await
            .map_err(into_queue_error)?;
        let sweeper = tokio::spawn(sweep(Arc::downgrade(&inner)));
        Ok(Self { inner, sweeper })
    }

    /// The configuration.
    pub fn config(&self) -> &AmqpConfig {
        &self.inner.config
    }

    /// Delete every broker queue of logical queue `queue` — main, dead letters and delay
    /// tiers — with whatever they hold. For tests and decommissioning; the next use
    /// declares them again.
    ///
    /// # Errors
    ///
    /// `InvalidQueueName` for a bad name; `Unavailable` when the broker is down.
    pub async fn delete_queue(&self, queue: &str) -> QueueResult<()> {
        let names = self.inner.names(queue)?;
        if let Some(consumer) = self.inner.consumers.lock().await.remove(queue) {
            drop(consumer);
        }
        self.inner.declared.lock().remove(queue);
        let channel = self
            .inner
            .connector
            .admin()
            .await
            .map_err(into_queue_error)?;
        topology::delete(&channel, &names, &self.inner.config.delay_tiers)
            .await
            .map_err(into_queue_error)
    }

    /// Hand every delivery back to the broker and close the connection.
    pub async fn close(self) {
        self.sweeper.abort();
        self.inner.consumers.lock().await.clear();
        self.inner.connector.close().await;
    }
}

impl Drop for AmqpQueue {
    fn drop(&mut self) {
        self.sweeper.abort();
    }
}

impl fmt::Debug for AmqpQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AmqpQueue")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl Inner {
    /// The broker names of `queue`, after checking the name.
    pub(crate) fn names(&self, queue: &str) -> QueueResult<Names> {
        validate_queue_name(queue)?;
        if let Some(why) = refuse_queue(&self.config.prefix, queue, &self.config.delay_tiers) {
            return Err(QueueError::InvalidQueueName(why.into()));
        }
        Ok(Names::new(&self.config.prefix, queue))
    }

    /// The broker names of `queue`, declaring its topology on first use.
    pub(crate) async fn ensure(&self, queue: &str) -> QueueResult<Names> {
        let names = self.names(queue)?;
        if self.declared.lock().contains(queue) {
            return Ok(names);
        }
        let channel = self.connector.admin().await.map_err(into_queue_error)?;
        topology::declare(&channel, &names, &self.config.delay_tiers)
            .await
            .map_err(into_queue_error)?;
        self.declared.lock().insert(queue.to_owned());
        Ok(names)
    }

    /// The ready messages of a broker queue that exists (declared together with
    /// `probe`d main queue); `None` if it turns out not to.
    pub(crate) async fn ready(&self, queue: &str) -> QueueResult<Option<u64>> {
        let channel = self.connector.admin().await.map_err(into_queue_error)?;
        Self::count_on(&channel, queue).await
    }

    /// The ready messages of a broker queue that may not exist; `None` when it does
    /// not. Probed on a channel of its own, since the broker closes the channel of a
    /// passive declare that fails.
    pub(crate) async fn probe(&self, queue: &str) -> QueueResult<Option<u64>> {
        let channel = self
            .connector
            .new_channel()
            .await
            .map_err(into_queue_error)?;
        let count = Self::count_on(&channel, queue).await;
        if channel.status().connected() {
            let _ = channel.close(200, "probe done".into()).await;
        }
        count
    }

    async fn count_on(channel: &lapin::Channel, queue: &str) -> QueueResult<Option<u64>> {
        match topology::ready_count(channel, queue).await {
            Ok(count) => Ok(Some(count)),
            Err(error) if error.kind() == ErrorKind::NotFound => Ok(None),
            Err(error) => Err(into_queue_error(error)),
        }
    }

    /// The live consumer of `queue`, started (or restarted) as needed.
    pub(crate) async fn prefetcher(
        &self,
        queue: &str,
        names: &Names,
    ) -> QueueResult<Arc<Prefetcher>> {
        let mut consumers = self.consumers.lock().await;
        if let Some(consumer) = consumers.get(queue)
            && consumer.is_alive()
        {
            return Ok(Arc::clone(consumer));
        }
        let channel = self
            .connector
            .new_channel()
            .await
            .map_err(into_queue_error)?;
        let consumer = Prefetcher::start(channel, &names.main, self.config.prefetch)
            .await
            .map_err(into_queue_error)?;
        consumers.insert(queue.to_owned(), Arc::clone(&consumer));
        Ok(consumer)
    }

    /// The consumer of `queue` if one runs (for stats and purge).
    pub(crate) async fn running_prefetcher(&self, queue: &str) -> Option<Arc<Prefetcher>> {
        self.consumers.lock().await.get(queue).cloned()
    }

    /// The logical queues this value declared.
    pub(crate) fn declared(&self) -> Vec<String> {
        self.declared.lock().iter().cloned().collect()
    }

    /// The current time on the configured clock.
    pub(crate) fn now(&self) -> SystemTime {
        self.clock.now()
    }

    /// Requeue every lease that has expired by now.
    pub(crate) async fn sweep_now(&self) {
        requeue_expired(&self.leases, self.now()).await;
    }
}

/// The sweeper: sleeps until the earliest lease deadline (at most
/// [`SWEEP_AT_LEAST_EVERY`], or until a lease changes), then requeues what expired.
async fn sweep(inner: Weak<Inner>) {
    loop {
        let Some(strong) = inner.upgrade() else {
            return;
        };
        strong.sweep_now().await;
        let now = strong.now();
        let sleep = strong
            .leases
            .next_deadline()
            .map_or(SWEEP_AT_LEAST_EVERY, |deadline| {
                deadline.duration_since(now).unwrap_or_default()
            })
            .clamp(Duration::from_millis(5), SWEEP_AT_LEAST_EVERY);
        let changed = Arc::clone(&strong.leases.changed);
        drop(strong);
        let _ = tokio::time::timeout(sleep, changed.notified()).await;
    }
}

/// An [`Error`] from the backend as the crate's error, keeping `Unavailable` distinct.
pub(crate) fn into_queue_error(error: Error) -> QueueError {
    if error.kind() == ErrorKind::Unavailable {
        let message = error.message().to_owned();
        QueueError::unavailable(message, error)
    } else {
        QueueError::Other(error)
    }
}

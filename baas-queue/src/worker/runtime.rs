//! [`Worker`]: reserve, run the handler service, settle.

use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use baas_core::metrics::MetricsLayer;
use baas_core::trace::{TraceParent, WorkInfo, WorkTraceLayer};
use baas_core::{BoxError, Error, RequestId};
use bytes::Bytes;
use futures::FutureExt;
use serde::de::DeserializeOwned;
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;
use tower::util::BoxCloneService;
use tower::{Service, ServiceBuilder, ServiceExt};

use super::acks::{Acks, Running};
use super::job::Job;
use super::policy::{Decision, RetryPolicy};
use crate::error::{QueueError, QueueResult};
use crate::queue::{Delivery, DynQueue, Lease, Message, Reserve, validate_queue_name};

/// Counter of settled deliveries: labels `queue`, `outcome` (`processed`, `retried`,
/// `dead`, `released`, `lost`).
pub const JOBS_TOTAL: &str = "baas_queue_jobs_total";

/// Histogram of the time from enqueue to a message's first delivery to a worker
/// (attempt 1: after enqueue, or after a redrive), in seconds: label `queue`.
pub const DELIVERY_LAG_SECONDS: &str = "baas_queue_delivery_lag_seconds";

/// How a [`Worker`] runs.
#[derive(Debug, Clone)]

pub struct WorkerConfig {
    /// Deliveries handled at once (default 8).
    pub concurrency: usize,
    /// The most deliveries reserved in one call (default: `concurrency`).
    pub batch: Option<usize>,
    /// The lease each delivery gets, renewed every third of it while the handler runs
    /// (default 30 s).
    pub lease: Duration,
    /// How long one reserve waits for work when the queue is empty (default 1 s).
    pub idle_wait: Duration,
    /// While jobs are running and the last reserve came back full, how long the worker
    /// waits for a whole batch of slots to free before it reserves with fewer, and how long a finished job's ack waits for
    /// the acks of jobs still running to join its group (default 2 ms). Jobs finish one
    /// by one; settling and reserving the moment one finishes would shrink every reserve
    /// and every ack to a delivery or two. Zero settles and reserves at once; an idle
    /// worker never waits.
    pub gather: Duration,
    /// The handler's timeout (`Timeout`, retried), default 5 min; `None`: no limit.
    pub timeout: Option<Duration>,
    /// After shutdown is asked, how long in-flight work may finish before its leases are
    /// released for another worker (default 30 s).
    pub shutdown_grace: Duration,
    /// Attempts, backoff and permanent errors.
    pub retry: RetryPolicy,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            concurrency: 8,
            batch: None,
            lease: Duration::from_secs(30),
            idle_wait: Duration::from_secs(1),
            gather: Duration::from_millis(2),
            timeout: Some(Duration::from_secs(300)),
            shutdown_grace: Duration::from_secs(30),
            retry: RetryPolicy::default(),
        }
    }
}

/// What a [`Worker::run`] did, by outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkerSummary {
    /// Handled and acked.
    pub processed: u64,
    /// Failed and released for a later attempt.
    pub retried: u64,
    /// Failed for good and dead-lettered.
    pub dead: u64,
    /// Still running when the shutdown grace ran out; released at once for another
    /// worker.
    pub released: u64,
    /// The lease was lost (expired and taken by another delivery) before settling.
    pub lost: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Processed,
    Retried,
    Dead,
    Released,
    Lost,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Processed => "processed",
            Outcome::Retried => "retried",
            Outcome::Dead => "dead",
            Outcome::Released => "released",
            Outcome::Lost => "lost",
        }
    }
}

impl WorkerSummary {
    fn record(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Processed => self.processed += 1,
            Outcome::Retried => self.retried += 1,
            Outcome::Dead => self.dead += 1,
            Outcome::Released => self.released += 1,
            Outcome::Lost => self.lost += 1,
        }
    }
}

type Decode<T> = Arc<dyn Fn(&Message) -> QueueResult<T> + Send + Sync>;
type Handler<T> = BoxCloneService<Job<T>, (), BoxError>;

/// Runs a handler `tower::Service<Job<T>>` over one queue.
///
/// The handler is wrapped in baas-core's [`WorkTraceLayer`] (a `job` span joining the
/// enqueuer's trace through the `traceparent` and `x-request-id` headers),
/// [`MetricsLayer::jobs`] (`baas_job_runs_total`, `baas_job_duration_seconds`) and a
/// timeout. Add your own layers (idempotency, rate limits, circuit breakers) to the
/// service before handing it over.
///
/// Every failure goes through one [`RetryPolicy`]; the backend never retries on its own.
/// A panicking handler counts as an `Internal` failure.
///
/// ```
/// use baas_queue::{MemoryQueue, QueueExt};
/// use baas_queue::worker::{Job, Worker, WorkerConfig};
/// use baas_queue::core::{Error, TenantId};
/// use std::sync::Arc;
/// use tower::service_fn;
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let queue = Arc::new(MemoryQueue::new());
/// let acme = TenantId::new("acme")?;
/// queue.enqueue_json("greetings", &acme, &"world").await?;
///
/// let handler = service_fn(|job: Job<String>| async move {
///     assert_eq!(job.payload, "world");
///     Ok::<_, Error>(())
/// });
/// let worker = Worker::json(queue.clone(), "greetings", handler)?;
/// // Run until the queue is drained (a binary passes a shutdown signal instead).
/// let summary = worker.run_until_idle().await;
/// assert_eq!(summary.processed, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
pub struct Worker<T> {
    queue: Arc<DynQueue>,
    name: String,
    decode: Decode<T>,
    handler: Handler<T>,
    config: WorkerConfig,
}

impl<T> fmt::Debug for Worker<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Worker")
            .field("queue", &self.name)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn job_info<T>(job: &Job<T>) -> WorkInfo {
    WorkInfo {
        request_id: job.header("x-request-id").and_then(RequestId::from_header),
        traceparent: job.header("traceparent").and_then(TraceParent::parse),
        tenant: Some(job.tenant.clone()),
        principal: None,
    }
}

impl<T: DeserializeOwned + Send + 'static> Worker<T> {
    /// A worker over `queue`'s queue `name` whose payloads are JSON decoded as `T`. An
    /// undecodable payload is dead-lettered at once.
    ///
    /// # Errors
    ///
    /// `InvalidQueueName` for a bad name.
    pub fn json<S>(queue: Arc<DynQueue>, name: impl Into<String>, service: S) -> QueueResult<Self>
    where
        S: Service<Job<T>> + Clone + Send + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        S::Response: Send + 'static,
    {
        Self::with_decoder(queue, name, |m: &Message| m.json::<T>(), service)
    }
}

impl Worker<Bytes> {
    /// A worker whose jobs carry the raw payload.
    ///
    /// # Errors
    ///
    /// `InvalidQueueName` for a bad name.
    pub fn raw<S>(queue: Arc<DynQueue>, name: impl Into<String>, service: S) -> QueueResult<Self>
    where
        S: Service<Job<Bytes>> + Clone + Send + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        S::Response: Send + 'static,
    {
        Self::with_decoder(queue, name, |m: &Message| Ok(m.payload.clone()), service)
    }
}

impl<T: Send + 'static> Worker<T> {
    /// A worker with a custom payload decoder.
    ///
    /// # Errors
    ///
    /// `InvalidQueueName` for a bad name.
    pub fn with_decoder<S, D>(
        queue: Arc<DynQueue>,
        name: impl Into<String>,
        decode: D,
        service: S,
    ) -> QueueResult<Self>
    where
        D: Fn(&Message) -> QueueResult<T> + Send + Sync + 'static,
        S: Service<Job<T>> + Clone + Send + 'static,
        S::Future: Send + 'static,
        S::Error: Into<BoxError>,
        S::Response: Send + 'static,
    {
        let name = name.into();
        validate_queue_name(&name)?;
        let handler =
            BoxCloneService::new(service.map_response(|_| ()).map_err(Into::<BoxError>::into));
        Ok(Worker {
            queue,
            name,
            decode: Arc::new(decode),
            handler,
            config: WorkerConfig::default(),
        })
    }

    fn stack(name: &str, timeout: Option<Duration>, handler: Handler<T>) -> Handler<T> {
        let timed = ServiceBuilder::new()
            .option_layer(timeout.map(tower::timeout::TimeoutLayer::new))
            .service(handler)
            .map_err(Into::<BoxError>::into);
        let svc = ServiceBuilder::new()
            .layer(WorkTraceLayer::jobs(name).with_info(job_info::<T> as fn(&Job<T>) -> WorkInfo))
            .layer(MetricsLayer::jobs(name))
            .service(timed);
        BoxCloneService::new(svc)
    }

    /// Replace the configuration (the handler's timeout included).
    pub fn config(mut self, config: WorkerConfig) -> Self {
        self.config = config;
        self
    }

    /// Run until `shutdown` completes, then stop reserving, let in-flight work finish
    /// within [`WorkerConfig::shutdown_grace`], and release what is still running.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) -> WorkerSummary {
        self.run_inner(shutdown, false).await
    }

    /// Run until a reserve finds the queue empty and nothing is in flight (for tests,
    /// scripts and batch jobs).
    pub async fn run_until_idle(self) -> WorkerSummary {
        self.run_inner(std::future::pending(), true).await
    }

    async fn run_inner(
        self,
        shutdown: impl Future<Output = ()> + Send,
        until_idle: bool,
    ) -> WorkerSummary {
        let Worker {
            queue,
            name,
            decode,
            handler,
            config,
        } = self;
        let handler = Self::stack(&name, config.timeout, handler);
        let concurrency = config.concurrency.max(1);
        let batch = config
            .batch
            .unwrap_or(concurrency)
            .clamp(1, crate::queue::MAX_BATCH);
        let (acks, acker) = Acks::start(Arc::clone(&queue), config.gather);
        let ctx = Arc::new(Ctx {
            queue,
            acks,
            name,
            decode,
            config,
        });
        let permits = Arc::new(Semaphore::new(concurrency));
        let (cancel_tx, cancel_rx) = watch::channel(false);
        let mut tasks: JoinSet<Outcome> = JoinSet::new();
        let mut summary = WorkerSummary::default();
        let mut error_backoff = Duration::from_millis(50);
        let mut last_full = false;
        tokio::pin!(shutdown);

        loop {
            while let Some(done) = tasks.try_join_next() {
                summary.record(done.unwrap_or(Outcome::Lost));
            }
            let first = tokio::select! {
                biased;
                () = &mut shutdown => break,
                permit = permits.clone().acquire_owned() => match permit {
                    Ok(p) => p,
                    Err(_) => break,
                },
            };
            // Let the slots free up together (a whole batch, or `gather`, whichever comes
            // first) so that reserves stay batches under load.
            // Only when the last reserve came back full: a backlog is waiting. A queue
            // that had less to give (drained, or a prefetching backend's buffer) is served
            // as soon as a slot frees.
            let whole = batch.min(concurrency);
            if last_full
                && permits.available_permits() + 1 < whole
                && !tasks.is_empty()
                && !ctx.config.gather.is_zero()
            {
                let more = u32::try_from(whole - 1).unwrap_or(u32::MAX);
                if let Ok(Ok(freed)) =
                    tokio::time::timeout(ctx.config.gather, permits.acquire_many(more)).await
                {
                    drop(freed);
                }
            }
            let max = (1 + permits.available_permits()).min(batch);
            let wait = if until_idle {
                Duration::ZERO
            } else {
                ctx.config.idle_wait
            };
            let reserved = tokio::select! {
                biased;
                () = &mut shutdown => break,
                r = ctx.queue.reserve(&ctx.name, Reserve::new(max, ctx.config.lease).wait(wait)) => r,
            };
            match reserved {
                Err(e) => {
                    drop(first);
                    tracing::warn!(queue = %ctx.name, error = %e, "reserve failed; backing off");
                    tokio::select! {
                        biased;
                        () = &mut shutdown => break,
                        () = tokio::time::sleep(error_backoff) => {}
                    }
                    error_backoff = (error_backoff * 2).min(Duration::from_secs(5));
                }
                Ok(deliveries) => {
                    error_backoff = Duration::from_millis(50);
                    last_full = deliveries.len() >= max;
                    if deliveries.is_empty() {
                        drop(first);
                        if until_idle {
                            if tasks.is_empty() {
                                break;
                            }
                            if let Some(done) = tasks.join_next().await {
                                summary.record(done.unwrap_or(Outcome::Lost));
                            }
                        }
                        continue;
                    }
                    // Count the whole batch as running before any of it starts, so the
                    // acking task waits for all of it (see `acks`).
                    let mut running: Vec<_> =
                        deliveries.iter().map(|_| ctx.acks.running()).collect();
                    let mut first = Some(first);
                    for delivery in deliveries {
                        let running = running.pop().expect("one guard per delivery");
                        let permit = match first.take() {
                            Some(p) => p,
                            None => match permits.clone().try_acquire_owned() {
                                Ok(p) => p,
                                // Cannot happen (we asked for at most the free permits);
                                // hand the delivery back rather than exceed the limit.
                                Err(_) => {
                                    let _ = ctx.queue.nack(&delivery.lease, Duration::ZERO).await;
                                    continue;
                                }
                            },
                        };
                        let ctx = Arc::clone(&ctx);
                        let handler = handler.clone();
                        let cancel = cancel_rx.clone();
                        tasks.spawn(async move {
                            let outcome = process(&ctx, handler, delivery, running, cancel).await;
                            drop(permit);
                            metrics::counter!(JOBS_TOTAL, "queue" => ctx.name.clone(), "outcome" => outcome.as_str())
                                .increment(1);
                            outcome
                        });
                    }
                }
            }
        }

        // Drain: let in-flight work finish within the grace, then release the rest.
        let grace = tokio::time::sleep(ctx.config.shutdown_grace);
        tokio::pin!(grace);
        loop {
            tokio::select! {
                done = tasks.join_next() => match done {
                    Some(done) => summary.record(done.unwrap_or(Outcome::Lost)),
                    None => break,
                },
                () = &mut grace => {
                    let _ = cancel_tx.send(true);
                    while let Some(done) = tasks.join_next().await {
                        summary.record(done.unwrap_or(Outcome::Lost));
                    }
                    break;
                }
            }
        }
        // Every delivery is settled; closing the ack channel ends the acking task.
        drop(ctx);
        let _ = acker.await;
        summary
    }
}

struct Ctx<T> {
    queue: Arc<DynQueue>,
    acks: Acks,
    name: String,
    decode: Decode<T>,
    config: WorkerConfig,
}

async fn settle_lost(result: QueueResult<()>, ok: Outcome, lease: &Lease) -> Outcome {
    match result {
        Ok(()) => ok,
        Err(QueueError::LeaseLost) => {
            tracing::warn!(queue = %lease.queue, message = %lease.message, "lease lost before settling; the message is delivered again");
            Outcome::Lost
        }
        Err(e) => {
            // The lease will expire and the message be delivered again.
            tracing::warn!(queue = %lease.queue, message = %lease.message, error = %e, "could not settle a delivery");
            Outcome::Lost
        }
    }
}

/// Record how long a message waited for its first delivery: from `enqueued_at` to the
/// reservation (its lease expiry less the lease), both by the backend's clock.
fn record_lag(queue: &str, delivery: &Delivery, lease: Duration) {
    let reserved_at = delivery
        .lease_expires_at
        .checked_sub(lease)
        .unwrap_or(delivery.lease_expires_at);
    let lag = reserved_at
        .duration_since(delivery.message.enqueued_at)
        .unwrap_or(Duration::ZERO);
    metrics::histogram!(DELIVERY_LAG_SECONDS, "queue" => queue.to_owned())
        .record(lag.as_secs_f64());
}

async fn process<T: Send + 'static>(
    ctx: &Ctx<T>,
    handler: Handler<T>,
    delivery: Delivery,
    running: Running,
    mut cancel: watch::Receiver<bool>,
) -> Outcome {
    let lease = delivery.lease.clone();
    let retry = ctx.config.retry;
    if delivery.attempt == 1 {
        record_lag(&ctx.name, &delivery, ctx.config.lease);
    }
    if delivery.attempt > retry.max_attempts() {
        let reason = format!(
            "exceeded {} attempts (earlier deliveries ended without a result)",
            retry.max_attempts()
        );
        let r = ctx.queue.dead_letter(&lease, &reason).await;
        return settle_lost(r, Outcome::Dead, &lease).await;
    }
    let payload = match (ctx.decode)(&delivery.message) {
        Ok(p) => p,
        Err(e) => {
            let reason = format!(
                "{}: undecodable payload: {e}",
                baas_core::Classify::kind(&e)
            );
            let r = ctx.queue.dead_letter(&lease, &reason).await;
            return settle_lost(r, Outcome::Dead, &lease).await;
        }
    };
    let job = Job::new(&delivery, payload);
    let call = AssertUnwindSafe(handler.oneshot(job)).catch_unwind();
    tokio::pin!(call);
    let every = (ctx.config.lease / 3).max(Duration::from_millis(1));
    let mut beat = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

    let result = loop {
        tokio::select! {
            r = &mut call => break r,
            _ = beat.tick() => match ctx.queue.extend(&lease, ctx.config.lease).await {
                Ok(_) => {}
                Err(QueueError::LeaseLost) => {
                    tracing::warn!(queue = %lease.queue, message = %lease.message, "lease lost while the handler ran; abandoning it");
                    return Outcome::Lost;
                }
                Err(e) => tracing::warn!(queue = %lease.queue, error = %e, "could not extend a lease"),
            },
            _ = async { cancel.wait_for(|c| *c).await.map(|_| ()) } => {
                let r = ctx.queue.nack(&lease, Duration::ZERO).await;
                return settle_lost(r, Outcome::Released, &lease).await;
            }
        }
    };

    let error: BoxError = match result {
        Ok(Ok(())) => {
            let r = ctx.acks.ack(lease.clone(), running).await;
            return settle_lost(r, Outcome::Processed, &lease).await;
        }
        Ok(Err(e)) => e,
        Err(_) => Box::new(Error::internal("the handler panicked")),
    };
    drop(running);
    let (kind, retry_after) = Error::classify(&*error);
    match retry.decide(delivery.attempt, kind, retry_after) {
        Decision::Retry(delay) => {
            tracing::debug!(queue = %lease.queue, message = %lease.message, attempt = delivery.attempt, ?delay, error = %error, "job failed; retrying");
            let r = ctx.queue.nack(&lease, delay).await;
            settle_lost(r, Outcome::Retried, &lease).await
        }
        Decision::DeadLetter => {
            tracing::warn!(queue = %lease.queue, message = %lease.message, attempt = delivery.attempt, error = %error, "job failed for good; dead-lettering");
            let reason = format!("{kind}: {error}");
            let r = ctx.queue.dead_letter(&lease, &reason).await;
            settle_lost(r, Outcome::Dead, &lease).await
        }
    }
}

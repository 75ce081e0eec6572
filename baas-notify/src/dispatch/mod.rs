//! The delivery worker: a tower service over queue jobs, each provider wrapped in
//! baas-core's layers (rate limit → circuit breaker → timeout), failover across
//! providers in priority order, the retry schedule per channel, dead letters.
//!
//! The worker takes the queue's jobs a reserved batch at a time
//! ([`Dispatcher::handle_batch`]; a single job is a batch of one):
//!
//! 1. one [`DeliveryLog::start_many`] loads the batch's notifications and marks each
//!    one still to deliver `sending` (so `sending` means: a worker holds it and its
//!    attempt is being made or its outcome being written). One already `sent` or
//!    `suppressed`, or gone, is acknowledged untouched (at-least-once queues may deliver
//!    a job twice; the receiver sees it once when nothing failed);
//! 2. each notification is rendered (or, for a webhook, its endpoint opened — once per
//!    batch, from [`WebhookEndpoints::open`]'s short-lived cache) and offered to each
//!    provider of its channel in order, all of the batch concurrently. Every try is
//!    kept — a refusal by an open circuit or a rate limit as `skipped`;
//! 3. success → `sent`. A permanent failure → `dead` (dead-lettered, redrivable). A
//!    webhook's 410 → the endpoint is disabled and the delivery `dead`. Otherwise
//!    `failed`, retried after the channel's schedule (or the `Retry-After`, when
//!    longer); after the last try → `dead`, dead-lettered;
//! 4. every attempt and status of the batch is written with one
//!    [`DeliveryLog::settle_many`] (the SQL log: one transaction), then the queue is
//!    settled: one [`Queue::ack_batch`] for the acknowledged, a nack or a dead letter for
//!    each of the others. Nothing is acknowledged before its attempts are kept; a job
//!    whose log write failed is left to its lease, and comes back.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use baas_core::circuit_breaker::{BreakerPolicy, CircuitBreakerLayer};
use baas_core::clock::{self, SharedClock};
use baas_core::limit::TimeoutLayer;
use baas_core::rate_limit::{Quota, RateLimitLayer};
use baas_core::{BoxError, Error, TenantId};
use baas_queue::{Delivery, Job, Queue, Reserve};
use tower::ServiceBuilder;
use tower::util::BoxCloneSyncService;

use crate::channel::{Channel, Message, Receipt};
use crate::endpoints::WebhookEndpoints;
use crate::model::ChannelKind;
use crate::notifier::{DEFAULT_QUEUE, DeliveryJob};
use crate::schedule::RetrySchedule;
use crate::store::DeliveryLog;
use crate::template::Templates;

mod batch;
mod round;

use batch::Item;

/// What the worker does with a job after delivering it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// Done (delivered, suppressed, or gone for good): acknowledge.
    Ack,
    /// Try again after this long: nack with a delay.
    Retry(Duration),
    /// Out of tries, or a permanent failure: dead-letter with this reason.
    DeadLetter(String),
}

/// One provider's settings inside the dispatcher.
#[derive(Debug, Clone)]
pub struct ProviderOptions {
    /// At most this rate of attempts (none: unlimited).
    pub rate: Option<Quota>,
    /// When to stop calling it for a while.
    pub breaker: BreakerPolicy,
    /// The time allowed per attempt.
    pub timeout: Duration,
}

impl Default for ProviderOptions {
    fn default() -> Self {
        ProviderOptions {
            rate: None,
            breaker: BreakerPolicy::new(),
            timeout: Duration::from_secs(20),
        }
    }
}

type ProviderService = BoxCloneSyncService<Message, Receipt, BoxError>;

struct Provider {
    name: String,
    service: ProviderService,
}

impl fmt::Debug for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Provider")
            .field("name", &self.name)
            .finish()
    }
}

#[derive(Debug)]
struct Inner {
    log: Arc<dyn DeliveryLog>,
    templates: Arc<Templates>,
    endpoints: Option<WebhookEndpoints>,
    providers: HashMap<ChannelKind, Vec<Provider>>,
    schedules: HashMap<ChannelKind, RetrySchedule>,
    clock: SharedClock,
    pipeline: usize,
    linger: Duration,
}

/// How many reserved batches [`Dispatcher::run`] works at once by default.
pub const DEFAULT_PIPELINE: usize = 2;

/// How long [`Dispatcher::run`] waits by default, after reserving a batch that was not
/// full, before it reserves again (see [`DispatcherBuilder::linger`]).
pub const DEFAULT_LINGER: Duration = Duration::from_millis(5);

/// Builds a [`Dispatcher`].
#[derive(Debug)]
pub struct DispatcherBuilder {
    inner: Inner,
}

impl DispatcherBuilder {
    /// Add a provider for its channel, after the ones already added (failover order),
    /// with default options (no rate limit, breaker after 5 failures for 30 s, 20 s
    /// per attempt).
    pub fn provider(self, channel: Arc<dyn Channel>) -> Self {
        self.provider_with(channel, ProviderOptions::default())
    }

    /// Add a provider with these options.
    pub fn provider_with(mut self, channel: Arc<dyn Channel>, options: ProviderOptions) -> Self {
        let name = channel.name().to_owned();
        let kind = channel.kind();
        let clock = self.inner.clock.clone();
        let call = tower::service_fn(move |m: Message| {
            let channel = channel.clone();
            async move { channel.send(&m).await.map_err(BoxError::from) }
        });
        let breaker = CircuitBreakerLayer::with_clock(name.clone(), options.breaker, clock.clone());
        let timed = ServiceBuilder::new()
            .layer(breaker)
            .layer(TimeoutLayer::new(options.timeout))
            .service(call);
        let service = match options.rate {
            Some(quota) => BoxCloneSyncService::new(
                RateLimitLayer::with_clock(quota, |_: &Message| Some(()), clock)
                    .layer_service(timed),
            ),
            None => BoxCloneSyncService::new(timed),
        };
        self.inner
            .providers
            .entry(kind)
            .or_default()
            .push(Provider { name, service });
        self
    }

    /// The retry schedule of `channel` (defaults: API.md's for webhooks,
    /// [`RetrySchedule::message_default`] for the others).
    pub fn schedule(mut self, channel: ChannelKind, schedule: RetrySchedule) -> Self {
        self.inner.schedules.insert(channel, schedule);
        self
    }

    /// Deliver webhooks to these endpoints.
    pub fn endpoints(mut self, endpoints: WebhookEndpoints) -> Self {
        self.inner.endpoints = Some(endpoints);
        self
    }

    /// Read the time from `clock` (attempt times, breakers, rate limits).
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.inner.clock = clock;
        self
    }

    /// How many reserved batches [`Dispatcher::run`] works at once (at least 1;
    /// default [`DEFAULT_PIPELINE`]).
    pub fn pipeline(mut self, batches: usize) -> Self {
        self.inner.pipeline = batches.max(1);
        self
    }

    /// How long [`Dispatcher::run`] waits, after reserving a batch that was not full,
    /// before it reserves again (default [`DEFAULT_LINGER`]; zero: at once).
    ///
    /// Every batch costs the same few writes to the queue and the delivery log however
    /// many deliveries it holds. While notifications trickle in, reserving again at once
    /// takes them a few at a time, and those writes then crowd the database the
    /// publishers are writing to; waiting this long lets the next batch fill. The first
    /// notification after a quiet spell is still reserved the moment it is enqueued.
    pub fn linger(mut self, linger: Duration) -> Self {
        self.inner.linger = linger;
        self
    }

    /// The dispatcher.
    pub fn build(self) -> Dispatcher {
        Dispatcher {
            inner: Arc::new(self.inner),
        }
    }
}

trait LayerService<S> {
    type Out;
    fn layer_service(self, s: S) -> Self::Out;
}

impl<S, L: tower::Layer<S>> LayerService<S> for L {
    type Out = L::Service;
    fn layer_service(self, s: S) -> L::Service {
        self.layer(s)
    }
}

/// The delivery worker. Cheap to clone; a `tower::Service<Job<DeliveryJob>>`.
#[derive(Debug, Clone)]
pub struct Dispatcher {
    inner: Arc<Inner>,
}

impl Dispatcher {
    /// Start building a dispatcher over `log`, rendering with `templates`.
    pub fn builder(log: Arc<dyn DeliveryLog>, templates: Arc<Templates>) -> DispatcherBuilder {
        let mut schedules = HashMap::new();
        schedules.insert(ChannelKind::Webhook, RetrySchedule::webhook_default());
        for k in [ChannelKind::Email, ChannelKind::Sms, ChannelKind::Push] {
            schedules.insert(k, RetrySchedule::message_default());
        }
        DispatcherBuilder {
            inner: Inner {
                log,
                templates,
                endpoints: None,
                providers: HashMap::new(),
                schedules,
                clock: clock::system(),
                pipeline: DEFAULT_PIPELINE,
                linger: DEFAULT_LINGER,
            },
        }
    }

    /// Deliver one job (`round` = the queue's delivery count, 1 the first time) and
    /// keep its attempts and status; the queue is not touched.
    pub async fn deliver(
        &self,
        tenant: &TenantId,
        job: &DeliveryJob,
        round: u32,
    ) -> Result<Disposition, Error> {
        let item = Item {
            tenant: tenant.clone(),
            job: job.clone(),
            round,
        };
        self.deliver_many(std::slice::from_ref(&item))
            .await
            .pop()
            .unwrap_or_else(|| Err(Error::internal("delivery not decided")))
    }

    /// Deliver one queue delivery and settle it: ack, nack with the delay, or
    /// dead-letter. A failure to reach the stores leaves the lease to expire (so the
    /// job comes back). [`handle_batch`](Self::handle_batch) with one delivery.
    pub async fn handle(
        &self,
        queue: &dyn Queue,
        delivery: Delivery,
    ) -> Result<Disposition, Error> {
        self.handle_batch(queue, vec![delivery])
            .await
            .pop()
            .unwrap_or_else(|| Err(Error::internal("delivery not settled")))
    }

    /// Reserve up to `max` ready jobs from `queue_name` and handle them as one batch
    /// ([`handle_batch`](Self::handle_batch)). Returns how many were handled.
    pub async fn run_once(
        &self,
        queue: &dyn Queue,
        queue_name: &str,
        max: usize,
    ) -> Result<usize, Error> {
        let batch = queue
            .reserve(queue_name, Reserve::new(max, Duration::from_secs(300)))
            .await?;
        let n = batch.len();
        for r in self.handle_batch(queue, batch).await {
            if let Err(e) = r {
                tracing::warn!(error = %e, "delivery not settled; its lease will expire");
            }
        }
        Ok(n)
    }

    /// Work [`DEFAULT_QUEUE`] until `shutdown` resolves: reserve batches of up to
    /// `batch` (waiting up to 1 s for work) and handle each as one batch
    /// ([`handle_batch`](Self::handle_batch)) on its own task, with up to
    /// [`pipeline`](DispatcherBuilder::pipeline) batches in flight (the next one is
    /// reserved and started while the previous one's attempts are out), so at most
    /// `batch × pipeline` deliveries at once.
    ///
    /// Shutdown is graceful: it stops reserving, and every batch already reserved is
    /// delivered and settled before this returns (each attempt is bounded by its
    /// provider's timeout), so no lease is left to expire.
    pub async fn run(
        &self,
        queue: Arc<dyn Queue>,
        batch: usize,
        shutdown: impl Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        let depth = self.inner.pipeline.max(1);
        let slots = Arc::new(tokio::sync::Semaphore::new(depth));
        loop {
            let permit = tokio::select! {
                () = &mut shutdown => break,
                permit = slots.clone().acquire_owned() => permit,
            };
            let Ok(permit) = permit else { break };
            let reserve = queue.reserve(
                DEFAULT_QUEUE,
                Reserve::new(batch, Duration::from_secs(300)).wait(Duration::from_secs(1)),
            );
            let reserved = tokio::select! {
                () = &mut shutdown => break,
                reserved = reserve => reserved,
            };
            match reserved {
                Ok(reserved) if reserved.is_empty() => {}
                Ok(reserved) => {
                    let partial = reserved.len() < batch;
                    let this = self.clone();
                    let queue = queue.clone();
                    tokio::spawn(async move {
                        for r in this.handle_batch(&*queue, reserved).await {
                            if let Err(e) = r {
                                tracing::warn!(error = %e, "delivery not settled; its lease will expire");
                            }
                        }
                        drop(permit);
                    });
                    if partial && !self.inner.linger.is_zero() {
                        tokio::select! {
                            () = &mut shutdown => break,
                            () = tokio::time::sleep(self.inner.linger) => {}
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "reserve failed");
                    tokio::select! {
                        () = &mut shutdown => break,
                        () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
            }
        }
        // Wait for the batches in flight.
        let all = u32::try_from(depth).unwrap_or(u32::MAX);
        let _ = slots.acquire_many(all).await;
    }
}

impl tower::Service<Job<DeliveryJob>> for Dispatcher {
    type Response = Disposition;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Disposition, Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, job: Job<DeliveryJob>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            this.deliver(&job.tenant, &job.payload, job.attempt.max(1))
                .await
        })
    }
}

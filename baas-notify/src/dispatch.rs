//! The delivery worker: a tower service over queue jobs, each provider wrapped in
//! baas-core's layers (rate limit → circuit breaker → timeout), failover across
//! providers in priority order, the retry schedule per channel, dead letters.
//!
//! One job delivers one notification:
//!
//! 1. a notification already `sent` or `suppressed` is acknowledged untouched
//!    (at-least-once queues may deliver a job twice; the receiver sees it once when
//!    nothing failed);
//! 2. it is marked `sending`, rendered (or, for a webhook, its endpoint loaded and its
//!    secret opened), and offered to each provider of its channel in order. Every try
//!    is recorded in the [`DeliveryLog`] — a refusal by an open circuit or a rate limit
//!    as `skipped`;
//! 3. success → `sent`. A permanent failure → `dead` (dead-lettered, redrivable). A
//!    webhook's 410 → the endpoint is disabled and the delivery `dead`. Otherwise
//!    `failed`, retried after the channel's schedule (or the `Retry-After`, when
//!    longer); after the last try → `dead`, dead-lettered.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use baas_core::circuit_breaker::{BreakerPolicy, CircuitBreakerLayer};
use baas_core::clock::{self, SharedClock};
use baas_core::limit::TimeoutLayer;
use baas_core::rate_limit::{Quota, RateLimitLayer};
use baas_core::{BoxError, Error, ErrorKind, TenantId};
use baas_queue::{Delivery, Job, Queue, Reserve};
use tower::util::BoxCloneSyncService;
use tower::{ServiceBuilder, ServiceExt as _};
use uuid::Uuid;

use crate::channel::{
    Channel, DeliveryError, EmailMessage, FailureClass, Message, Receipt, TextMessage,
    WebhookMessage,
};
use crate::endpoints::WebhookEndpoints;
use crate::model::{Attempt, ChannelKind, Notification, Outcome, Status};
use crate::notifier::{DEFAULT_QUEUE, DeliveryJob};
use crate::schedule::RetrySchedule;
use crate::store::DeliveryLog;
use crate::template::Templates;

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
}

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
            },
        }
    }

    /// Deliver one job (`round` = the queue's delivery count, 1 the first time).
    pub async fn deliver(
        &self,
        tenant: &TenantId,
        job: &DeliveryJob,
        round: u32,
    ) -> Result<Disposition, Error> {
        let inner = &self.inner;
        let Some(n) = inner.log.get(tenant, job.notification).await? else {
            // Swept or never stored: nothing to do.
            return Ok(Disposition::Ack);
        };
        if matches!(n.status, Status::Sent | Status::Suppressed) {
            return Ok(Disposition::Ack);
        }
        let message = match self.message(&n, job).await {
            Ok(m) => m,
            Err(e) if e.kind().is_retryable() => return Err(e),
            Err(e) => {
                inner
                    .log
                    .set_status(tenant, n.id, Status::Dead, inner.clock.now())
                    .await?;
                return Ok(Disposition::DeadLetter(e.message().to_owned()));
            }
        };
        inner
            .log
            .set_status(tenant, n.id, Status::Sending, inner.clock.now())
            .await?;
        let providers = inner
            .providers
            .get(&n.channel)
            .map(Vec::as_slice)
            .unwrap_or_default();
        if providers.is_empty() {
            inner
                .log
                .set_status(tenant, n.id, Status::Dead, inner.clock.now())
                .await?;
            return Ok(Disposition::DeadLetter(format!(
                "no provider for {}",
                n.channel
            )));
        }
        let mut retry_after: Option<Duration> = None;
        let mut last_error = String::new();
        for (number, provider) in (n.attempts + 1..).zip(providers.iter()) {
            let at = inner.clock.now();
            let started = Instant::now();
            let result = provider.service.clone().oneshot(message.clone()).await;
            let latency = started.elapsed();
            let (outcome, status_code, error, class) = match &result {
                Ok(receipt) => (Outcome::Sent, receipt.status_code, None, None),
                Err(err) => match err.downcast_ref::<DeliveryError>() {
                    Some(d) => {
                        retry_after = retry_after.max(baas_core::Classify::retry_after(d));
                        let outcome = match d.class() {
                            FailureClass::Retryable => Outcome::Retryable,
                            FailureClass::Permanent => Outcome::Permanent,
                            FailureClass::Gone => Outcome::Gone,
                        };
                        (
                            outcome,
                            d.status_code(),
                            Some(d.message().to_owned()),
                            Some(d.class()),
                        )
                    }
                    None => {
                        let (kind, after) = Error::classify(&**err);
                        retry_after = retry_after.max(after);
                        let outcome = if kind == ErrorKind::Timeout {
                            Outcome::Retryable
                        } else {
                            Outcome::Skipped
                        };
                        let text = match kind {
                            ErrorKind::Timeout => "the attempt timed out".to_owned(),
                            ErrorKind::RateLimited => "provider rate limit reached".to_owned(),
                            ErrorKind::Unavailable => "provider circuit open".to_owned(),
                            _ => "provider failed".to_owned(),
                        };
                        (outcome, None, Some(text), Some(FailureClass::Retryable))
                    }
                },
            };
            let attempt = Attempt {
                notification: n.id,
                number,
                at,
                provider: provider.name.clone(),
                outcome,
                status_code,
                error: error.clone(),
                latency,
            };
            inner.log.record_attempt(tenant, &attempt).await?;
            metrics::counter!("baas_notify_attempts_total", "channel" => n.channel.as_str(), "provider" => provider.name.clone(), "outcome" => outcome.as_str()).increment(1);
            match class {
                None => {
                    inner
                        .log
                        .set_status(tenant, n.id, Status::Sent, inner.clock.now())
                        .await?;
                    return Ok(Disposition::Ack);
                }
                Some(FailureClass::Gone) => {
                    if let (Some(endpoints), Ok(id)) =
                        (&inner.endpoints, Uuid::parse_str(&n.recipient))
                    {
                        endpoints.set_disabled(tenant, id, true).await?;
                    }
                    inner
                        .log
                        .set_status(tenant, n.id, Status::Dead, inner.clock.now())
                        .await?;
                    return Ok(Disposition::Ack);
                }
                Some(FailureClass::Permanent) => {
                    inner
                        .log
                        .set_status(tenant, n.id, Status::Dead, inner.clock.now())
                        .await?;
                    return Ok(Disposition::DeadLetter(error.unwrap_or_default()));
                }
                Some(_) => last_error = error.unwrap_or_default(),
            }
        }
        let schedule = inner
            .schedules
            .get(&n.channel)
            .cloned()
            .unwrap_or_else(RetrySchedule::message_default);
        match schedule.delay_after(round, retry_after) {
            Some(delay) => {
                inner
                    .log
                    .set_status(tenant, n.id, Status::Failed, inner.clock.now())
                    .await?;
                Ok(Disposition::Retry(delay))
            }
            None => {
                inner
                    .log
                    .set_status(tenant, n.id, Status::Dead, inner.clock.now())
                    .await?;
                Ok(Disposition::DeadLetter(format!(
                    "gave up after {round} rounds: {last_error}"
                )))
            }
        }
    }

    async fn message(&self, n: &Notification, job: &DeliveryJob) -> Result<Message, Error> {
        let id = n.id.to_string();
        match n.channel {
            ChannelKind::Webhook => {
                let endpoints = self
                    .inner
                    .endpoints
                    .as_ref()
                    .ok_or_else(|| Error::invalid("no webhook endpoints configured"))?;
                let endpoint_id =
                    Uuid::parse_str(&n.recipient).map_err(|_| Error::invalid("bad endpoint id"))?;
                let endpoint = endpoints
                    .get(&n.tenant, endpoint_id)
                    .await?
                    .ok_or_else(|| Error::invalid("the endpoint was deleted"))?;
                if endpoint.disabled {
                    return Err(Error::invalid("the endpoint is disabled"));
                }
                let body = serde_json::to_vec(&n.data)
                    .map_err(|_| Error::internal("cannot encode the event"))?;
                Ok(Message::Webhook(WebhookMessage {
                    id: job.webhook_id.clone().unwrap_or(id),
                    url: endpoint.url.clone(),
                    body: body.into(),
                    secrets: endpoints.secrets(&endpoint)?,
                }))
            }
            channel => {
                let template = n
                    .template
                    .as_deref()
                    .ok_or_else(|| Error::invalid("no template"))?;
                let r = self.inner.templates.render(template, &n.locale, &n.data)?;
                Ok(match channel {
                    ChannelKind::Email => Message::Email(EmailMessage {
                        id,
                        to: n.recipient.clone(),
                        subject: r.subject.unwrap_or_default(),
                        text: r.text,
                        html: r.html,
                    }),
                    _ => Message::Text(TextMessage {
                        channel,
                        id,
                        to: n.recipient.clone(),
                        title: r.subject,
                        text: r.text,
                        data: n.data.clone(),
                    }),
                })
            }
        }
    }

    /// Deliver one queue delivery and settle it: ack, nack with the delay, or
    /// dead-letter. A failure to reach the stores leaves the lease to expire (so the
    /// job comes back).
    pub async fn handle(
        &self,
        queue: &dyn Queue,
        delivery: Delivery,
    ) -> Result<Disposition, Error> {
        let job: DeliveryJob = match delivery.message.json() {
            Ok(job) => job,
            Err(_) => {
                queue
                    .dead_letter(&delivery.lease, "not a delivery job")
                    .await?;
                return Ok(Disposition::DeadLetter("not a delivery job".into()));
            }
        };
        let disposition = self
            .deliver(&delivery.message.tenant, &job, delivery.attempt.max(1))
            .await?;
        match &disposition {
            Disposition::Ack => queue.ack(&delivery.lease).await?,
            Disposition::Retry(delay) => queue.nack(&delivery.lease, *delay).await?,
            Disposition::DeadLetter(reason) => queue.dead_letter(&delivery.lease, reason).await?,
        }
        Ok(disposition)
    }

    /// Reserve up to `max` ready jobs from `queue_name` and handle them concurrently.
    /// Returns how many were handled.
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
        let results =
            futures_util::future::join_all(batch.into_iter().map(|d| self.handle(queue, d))).await;
        for r in results {
            if let Err(e) = r {
                tracing::warn!(error = %e, "delivery not settled; its lease will expire");
            }
        }
        Ok(n)
    }

    /// Work [`DEFAULT_QUEUE`] until `shutdown` resolves: reserve batches of up to
    /// `batch` (waiting up to 1 s for work), handle them, repeat.
    ///
    /// Shutdown is graceful: it stops reserving, and a batch already reserved is
    /// delivered and settled before this returns (each attempt is bounded by its
    /// provider's timeout), so no lease is left to expire.
    pub async fn run(
        &self,
        queue: Arc<dyn Queue>,
        batch: usize,
        shutdown: impl Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        loop {
            let reserve = queue.reserve(
                DEFAULT_QUEUE,
                Reserve::new(batch, Duration::from_secs(300)).wait(Duration::from_secs(1)),
            );
            let reserved = tokio::select! {
                () = &mut shutdown => return,
                reserved = reserve => reserved,
            };
            match reserved {
                Ok(batch) => {
                    futures_util::future::join_all(
                        batch.into_iter().map(|d| self.handle(&*queue, d)),
                    )
                    .await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "reserve failed");
                    tokio::select! {
                        () = &mut shutdown => return,
                        () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
            }
        }
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

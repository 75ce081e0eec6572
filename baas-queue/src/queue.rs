//! The [`Queue`] trait and its types.
//!
//! # Guarantees every backend gives
//!
//! - **At least once.** A message enqueued successfully is delivered until a holder of a
//!   live lease acks it (or dead-letters it, or it is purged). A delivery whose lease
//!   expires is delivered again — to any reserver, with `attempt` one higher. Handlers
//!   must therefore be idempotent (see the worker's idempotency helper).
//! - **Leases belong to deliveries, never to workers.** Each [`Delivery`] carries a
//!   fresh [`Lease`] token. [`Queue::ack`], [`Queue::nack`], [`Queue::extend`] and
//!   [`Queue::dead_letter`] with a token that is no longer current — expired, already
//!   settled, or superseded by a later delivery of the same message — are refused with
//!   [`QueueError::LeaseLost`] and change nothing.
//! - **Exclusive while leased.** Two reservers never hold live leases on the same
//!   message at the same time.
//! - **Delays are lower bounds.** A message enqueued with a delay (or nacked with a
//!   retry time) is not delivered before it; a backend may round up
//!   ([`Capabilities::delay_granularity`]).
//! - **Dedupe** (where [`Capabilities::dedupe_window`] is `Some`): a second enqueue with
//!   the same `(tenant, dedupe key)` on the same queue within the window is a no-op that
//!   returns the first message's id with [`Enqueued::duplicate`] set, whatever became of
//!   the first message.
//! - **Tenant carried.** The tenant a message was enqueued with is the tenant it is
//!   delivered with; dedupe keys are scoped per tenant.
//! - **Atomicity.** Each call on one message is atomic. [`Queue::enqueue_batch`] is
//!   atomic where [`Capabilities::atomic_batch`] says so; otherwise a failed batch may
//!   have enqueued a prefix (retrying with dedupe keys is then safe).
//!
//! Queue administration (listing queues, stats, dead letters, redrive, purge) is
//! installation-wide and meant for operators.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use baas_core::TenantId;
use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::error::{QueueError, QueueResult};

/// The longest queue name, in bytes (as long as an AMQP queue name may be).
pub const MAX_QUEUE_NAME_LEN: usize = 255;
/// The longest dedupe key, in bytes.
pub const MAX_DEDUPE_KEY_LEN: usize = 255;
/// The most headers on one message.
pub const MAX_HEADERS: usize = 64;
/// The longest header name, in bytes.
pub const MAX_HEADER_NAME_LEN: usize = 128;
/// The longest header value, in bytes.
pub const MAX_HEADER_VALUE_LEN: usize = 4096;
/// The largest payload every backend accepts, in bytes.
pub const MAX_PAYLOAD_BYTES: usize = 4 * 1024 * 1024;
/// The most messages in one batch enqueue or one reserve.
pub const MAX_BATCH: usize = 1000;
/// The longest lease (and the longest lease extension).
pub const MAX_LEASE: Duration = Duration::from_secs(12 * 60 * 60);
/// The longest delay or retry time.
pub const MAX_DELAY: Duration = Duration::from_secs(366 * 24 * 60 * 60);
/// The longest dead-letter reason kept; longer reasons are truncated.
pub const MAX_REASON_LEN: usize = 2048;

/// A message's id: a UUIDv7, so ids sort by enqueue time.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct MessageId(Uuid);

impl MessageId {
    /// A new, time-ordered id.
    pub fn new() -> Self {
        MessageId(Uuid::now_v7())
    }

    /// Wrap an existing UUID (as stored by a backend).
    pub fn from_uuid(id: Uuid) -> Self {
        MessageId(id)
    }

    /// The UUID.
    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl Default for MessageId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MessageId({})", self.0)
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::str::FromStr for MessageId {
    type Err = QueueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s)
            .map(MessageId)
            .map_err(|_| QueueError::invalid("message_id", "is not a UUID"))
    }
}

/// The opaque token of one lease: unique per delivery.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LeaseToken(Uuid);

impl LeaseToken {
    /// A new random token.
    pub fn new() -> Self {
        LeaseToken(Uuid::new_v4())
    }

    /// Wrap a stored token.
    pub fn from_uuid(token: Uuid) -> Self {
        LeaseToken(token)
    }

    /// The token as a UUID.
    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl Default for LeaseToken {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for LeaseToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LeaseToken({})", self.0)
    }
}

/// What identifies one delivery to [`Queue::ack`], [`Queue::nack`], [`Queue::extend`]
/// and [`Queue::dead_letter`]: the queue, the message and the delivery's lease token.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Lease {
    /// The queue the message was reserved from.
    pub queue: String,
    /// The message.
    pub message: MessageId,
    /// This delivery's token.
    pub token: LeaseToken,
}

/// A message to enqueue.
///
/// ```
/// use baas_queue::NewMessage;
/// use baas_queue::core::TenantId;
/// use std::time::Duration;
///
/// let acme = TenantId::new("acme").unwrap();
/// let msg = NewMessage::json(acme, &serde_json::json!({"to": "a@example.com"}))
///     .unwrap()
///     .header("type", "welcome")
///     .delay(Duration::from_secs(5))
///     .dedupe_key("signup-42");
/// assert_eq!(msg.headers["content-type"], "application/json");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// The tenant it belongs to; delivered with it.
    pub tenant: TenantId,
    /// The body.
    pub payload: Bytes,
    /// Headers (names of `[A-Za-z0-9_.-]`, up to [`MAX_HEADERS`]).
    pub headers: BTreeMap<String, String>,
    /// Not to be delivered before this delay has passed (`None`: at once).
    pub delay: Option<Duration>,
    /// Dedupe key: a second enqueue with the same key (same queue and tenant) within the
    /// backend's window is a no-op returning the first id.
    pub dedupe_key: Option<String>,
}

impl NewMessage {
    /// A message with a raw body.
    pub fn new(tenant: TenantId, payload: impl Into<Bytes>) -> Self {
        NewMessage {
            tenant,
            payload: payload.into(),
            headers: BTreeMap::new(),
            delay: None,
            dedupe_key: None,
        }
    }

    /// A message whose body is `value` as JSON, with `content-type: application/json`.
    pub fn json<T: Serialize + ?Sized>(tenant: TenantId, value: &T) -> QueueResult<Self> {
        let body = serde_json::to_vec(value).map_err(QueueError::Json)?;
        Ok(Self::new(tenant, body).header("content-type", "application/json"))
    }

    /// Add a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.insert(name.into(), value.into());
        self
    }

    /// Deliver no sooner than `delay` from now.
    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = Some(delay);
        self
    }

    /// Set the dedupe key.
    pub fn dedupe_key(mut self, key: impl Into<String>) -> Self {
        self.dedupe_key = Some(key.into());
        self
    }

    /// Check the message against the limits every backend enforces.
    ///
    /// # Errors
    ///
    /// [`QueueError::PayloadTooLarge`] or [`QueueError::Invalid`] naming the field.
    pub fn validate(&self) -> QueueResult<()> {
        if self.payload.len() > MAX_PAYLOAD_BYTES {
            return Err(QueueError::PayloadTooLarge {
                size: self.payload.len(),
                max: MAX_PAYLOAD_BYTES,
            });
        }
        if self.headers.len() > MAX_HEADERS {
            return Err(QueueError::invalid("headers", "at most 64 headers"));
        }
        for (name, value) in &self.headers {
            if name.is_empty()
                || name.len() > MAX_HEADER_NAME_LEN
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
            {
                return Err(QueueError::invalid(
                    "headers",
                    "names must be 1-128 characters of [A-Za-z0-9_.-]",
                ));
            }
            if value.len() > MAX_HEADER_VALUE_LEN || value.chars().any(char::is_control) {
                return Err(QueueError::invalid(
                    "headers",
                    "values must be at most 4096 bytes without control characters",
                ));
            }
        }
        if let Some(key) = &self.dedupe_key
            && (key.is_empty()
                || key.len() > MAX_DEDUPE_KEY_LEN
                || key.chars().any(char::is_control))
        {
            return Err(QueueError::invalid(
                "dedupe_key",
                "must be 1-255 bytes without control characters",
            ));
        }
        if let Some(delay) = self.delay
            && delay > MAX_DELAY
        {
            return Err(QueueError::invalid("delay", "at most 366 days"));
        }
        Ok(())
    }
}

/// The outcome of one enqueue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Enqueued {
    /// The message's id (the first message's, when this was a duplicate).
    pub id: MessageId,
    /// Whether the dedupe key matched an earlier message, so nothing was enqueued.
    pub duplicate: bool,
}

/// A stored message, as delivered or dead-lettered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Its id.
    pub id: MessageId,
    /// The tenant it was enqueued with.
    pub tenant: TenantId,
    /// The body.
    pub payload: Bytes,
    /// The headers.
    pub headers: BTreeMap<String, String>,
    /// When it was first enqueued (by the backend's clock).
    pub enqueued_at: SystemTime,
    /// The dedupe key it was enqueued with, if the backend kept it.
    pub dedupe_key: Option<String>,
}

impl Message {
    /// The body decoded from JSON.
    ///
    /// # Errors
    ///
    /// [`QueueError::Json`] (kind `Malformed`) when the body does not decode as `T`.
    pub fn json<T: DeserializeOwned>(&self) -> QueueResult<T> {
        serde_json::from_slice(&self.payload).map_err(QueueError::Json)
    }
}

/// One delivery of a message under a lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The message.
    pub message: Message,
    /// The lease to ack, nack, extend or dead-letter with.
    pub lease: Lease,
    /// Which delivery this is: 1 the first time, counting every lease expiry and nack
    /// since it was enqueued (or redriven).
    pub attempt: u32,
    /// When the lease runs out, by the backend's clock.
    pub lease_expires_at: SystemTime,
}

/// What to reserve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reserve {
    /// At most this many deliveries (1–[`MAX_BATCH`]).
    pub max: usize,
    /// The lease (visibility timeout) each delivery gets (1 ms–[`MAX_LEASE`]).
    pub lease: Duration,
    /// How long to wait for a first message when none is ready (`ZERO`: answer at once).
    /// Measured in real time; a backend may return early with nothing.
    pub wait: Duration,
}

impl Reserve {
    /// Up to `max` deliveries under `lease`, without waiting.
    pub fn new(max: usize, lease: Duration) -> Self {
        Reserve {
            max,
            lease,
            wait: Duration::ZERO,
        }
    }

    /// Wait up to `wait` for a first message.
    pub fn wait(mut self, wait: Duration) -> Self {
        self.wait = wait;
        self
    }

    /// Check the limits.
    ///
    /// # Errors
    ///
    /// [`QueueError::Invalid`] for `max` outside 1–1000 or a lease outside 1 ms–12 h.
    pub fn validate(&self) -> QueueResult<()> {
        if self.max == 0 || self.max > MAX_BATCH {
            return Err(QueueError::invalid("max", "must be 1-1000"));
        }
        validate_lease(self.lease)
    }
}

/// A message that failed for good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// The message.
    pub message: Message,
    /// Why (the last error), truncated to [`MAX_REASON_LEN`].
    pub reason: String,
    /// How many deliveries it had.
    pub attempts: u32,
    /// When it was dead-lettered.
    pub dead_at: SystemTime,
}

/// A queue's figures; `None` where the backend cannot know (API.md: `null`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueStats {
    /// Messages waiting: ready or delayed, not leased, not dead.
    pub depth: Option<u64>,
    /// Messages under a live lease.
    pub in_flight: Option<u64>,
    /// Dead letters.
    pub dead: Option<u64>,
    /// How long the oldest ready message has waited since it was enqueued
    /// (`Some(ZERO)` when nothing is ready).
    pub oldest_age: Option<Duration>,
}

/// What a backend can do; the conformance suite takes these as parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// The enqueue-side dedupe window, or `None` when the backend has no dedupe.
    pub dedupe_window: Option<Duration>,
    /// Delays may be rounded up to a multiple of this (`None`: exact).
    pub delay_granularity: Option<Duration>,
    /// Ready messages are delivered oldest first (by availability, then enqueue order).
    pub fifo: bool,
    /// [`Queue::enqueue_batch`] is all-or-nothing.
    pub atomic_batch: bool,
    /// [`Queue::stats`] knows every figure.
    pub exact_stats: bool,
}

impl Capabilities {
    /// Everything: dedupe with `window`, exact delays, FIFO, atomic batches, exact stats.
    pub fn full(dedupe_window: Duration) -> Self {
        Capabilities {
            dedupe_window: Some(dedupe_window),
            delay_granularity: None,
            fifo: true,
            atomic_batch: true,
            exact_stats: true,
        }
    }

    /// Without enqueue-side dedupe.
    pub fn without_dedupe(mut self) -> Self {
        self.dedupe_window = None;
        self
    }

    /// Delays rounded up to multiples of `granularity`.
    pub fn with_delay_granularity(mut self, granularity: Duration) -> Self {
        self.delay_granularity = Some(granularity);
        self
    }

    /// Set whether ready messages come oldest first.
    pub fn with_fifo(mut self, fifo: bool) -> Self {
        self.fifo = fifo;
        self
    }

    /// Set whether batches are all-or-nothing.
    pub fn with_atomic_batch(mut self, atomic: bool) -> Self {
        self.atomic_batch = atomic;
        self
    }

    /// Set whether every stats figure is known.
    pub fn with_exact_stats(mut self, exact: bool) -> Self {
        self.exact_stats = exact;
        self
    }
}

/// A durable queue backend. Hold it as `Arc<dyn Queue>` ([`DynQueue`]).
///
/// One value serves many named queues; names are 1–255 bytes of `[A-Za-z0-9._:-]`
/// ([`validate_queue_name`]) and a queue exists once something is enqueued to it. The
/// module docs state the guarantees.
#[async_trait]
pub trait Queue: Send + Sync + fmt::Debug + 'static {
    /// What this backend can do.
    fn capabilities(&self) -> Capabilities;

    /// Enqueue one message.
    ///
    /// # Errors
    ///
    /// `InvalidQueueName`, `Invalid` or `PayloadTooLarge` for bad input (nothing is
    /// enqueued), `Unavailable` when the backend is down.
    async fn enqueue(&self, queue: &str, message: NewMessage) -> QueueResult<Enqueued>;

    /// Enqueue several messages (at most [`MAX_BATCH`]), in order; the outcomes are in
    /// the same order. The default calls [`Queue::enqueue`] for each.
    async fn enqueue_batch(
        &self,
        queue: &str,
        messages: Vec<NewMessage>,
    ) -> QueueResult<Vec<Enqueued>> {
        validate_queue_name(queue)?;
        validate_batch(&messages)?;
        let mut out = Vec::with_capacity(messages.len());
        for message in messages {
            out.push(self.enqueue(queue, message).await?);
        }
        Ok(out)
    }

    /// Reserve up to `reserve.max` ready messages, each under a fresh lease of
    /// `reserve.lease`. Returns at once with what is ready, or waits up to
    /// `reserve.wait` for a first message; an empty result is not an error.
    async fn reserve(&self, queue: &str, reserve: Reserve) -> QueueResult<Vec<Delivery>>;

    /// Extend a live lease to `by` from now; returns the new expiry.
    ///
    /// # Errors
    ///
    /// [`QueueError::LeaseLost`] when the lease is not current.
    async fn extend(&self, lease: &Lease, by: Duration) -> QueueResult<SystemTime>;

    /// The message was handled: remove it.
    ///
    /// # Errors
    ///
    /// [`QueueError::LeaseLost`] when the lease is not current (nothing changes; the
    /// message will be or was delivered again).
    async fn ack(&self, lease: &Lease) -> QueueResult<()>;

    /// Acknowledge several deliveries at once: one outcome per lease, in the same order,
    /// each as [`Queue::ack`] would answer it (a lease that is not current is
    /// [`QueueError::LeaseLost`] and changes nothing; the others are still acked). The
    /// [`Worker`](crate::Worker) settles its successes through this, so a backend that
    /// can remove many messages in one round trip (the SQL backend: one `DELETE`)
    /// overrides it; the default calls [`Queue::ack`] for each, concurrently.
    async fn ack_batch(&self, leases: &[Lease]) -> Vec<QueueResult<()>> {
        futures::future::join_all(leases.iter().map(|lease| self.ack(lease))).await
    }

    /// The message failed: release it for another delivery no sooner than `retry_in`
    /// from now.
    ///
    /// # Errors
    ///
    /// [`QueueError::LeaseLost`] when the lease is not current.
    async fn nack(&self, lease: &Lease, retry_in: Duration) -> QueueResult<()>;

    /// The message failed for good: move it to the queue's dead letters with `reason`.
    ///
    /// # Errors
    ///
    /// [`QueueError::LeaseLost`] when the lease is not current.
    async fn dead_letter(&self, lease: &Lease, reason: &str) -> QueueResult<()>;

    /// Up to `limit` dead letters of `queue`, oldest first.
    async fn dead_letters(&self, queue: &str, limit: usize) -> QueueResult<Vec<DeadLetter>>;

    /// Move up to `max` dead letters (oldest first) back to the queue, ready at once with
    /// their attempt count reset; returns how many moved.
    async fn redrive(&self, queue: &str, max: usize) -> QueueResult<u64>;

    /// The queue's figures.
    async fn stats(&self, queue: &str) -> QueueResult<QueueStats>;

    /// The names of the queues this backend knows, sorted.
    async fn queues(&self) -> QueueResult<Vec<String>>;

    /// Remove every waiting (ready or delayed) message; leased messages and dead letters
    /// stay. Returns how many went.
    async fn purge(&self, queue: &str) -> QueueResult<u64>;
}

/// A queue chosen at run time.
pub type DynQueue = dyn Queue;

#[allow(dead_code)]
fn _object_safe(_: Box<dyn Queue>) {}

/// Conveniences over any [`Queue`].
#[async_trait]
pub trait QueueExt: Queue {
    /// Enqueue a raw body for `tenant`.
    async fn enqueue_bytes(
        &self,
        queue: &str,
        tenant: &TenantId,
        payload: impl Into<Bytes> + Send + 'async_trait,
    ) -> QueueResult<Enqueued> {
        self.enqueue(queue, NewMessage::new(tenant.clone(), payload))
            .await
    }

    /// Enqueue `value` as JSON for `tenant`.
    async fn enqueue_json<T: Serialize + Sync + ?Sized>(
        &self,
        queue: &str,
        tenant: &TenantId,
        value: &T,
    ) -> QueueResult<Enqueued> {
        let message = NewMessage::json(tenant.clone(), value)?;
        self.enqueue(queue, message).await
    }

    /// Reserve at most one message without waiting.
    async fn reserve_one(&self, queue: &str, lease: Duration) -> QueueResult<Option<Delivery>> {
        Ok(self
            .reserve(queue, Reserve::new(1, lease))
            .await?
            .into_iter()
            .next())
    }

    /// Move every dead letter back; returns how many moved.
    async fn redrive_all(&self, queue: &str) -> QueueResult<u64> {
        let mut moved = 0;
        loop {
            let n = self.redrive(queue, MAX_BATCH).await?;
            moved += n;
            if n < MAX_BATCH as u64 {
                return Ok(moved);
            }
        }
    }

    /// The figures of every known queue, by name.
    async fn all_stats(&self) -> QueueResult<Vec<(String, QueueStats)>> {
        let mut out = Vec::new();
        for name in self.queues().await? {
            let stats = self.stats(&name).await?;
            out.push((name, stats));
        }
        Ok(out)
    }
}

impl<Q: Queue + ?Sized> QueueExt for Q {}

/// Check a queue name: 1–255 bytes of `[A-Za-z0-9._:-]`.
///
/// ```
/// use baas_queue::validate_queue_name;
/// assert!(validate_queue_name("notify.email").is_ok());
/// assert!(validate_queue_name("").is_err());
/// assert!(validate_queue_name("a b").is_err());
/// ```
///
/// # Errors
///
/// [`QueueError::InvalidQueueName`] (kind `Malformed`).
pub fn validate_queue_name(name: &str) -> QueueResult<()> {
    if name.is_empty() || name.len() > MAX_QUEUE_NAME_LEN {
        return Err(QueueError::InvalidQueueName("must be 1-255 bytes".into()));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'))
    {
        return Err(QueueError::InvalidQueueName(
            "only [A-Za-z0-9._:-] are allowed".into(),
        ));
    }
    Ok(())
}

/// Check a batch: at most [`MAX_BATCH`] messages, each valid.
///
/// # Errors
///
/// As [`NewMessage::validate`], or `Invalid` for an over-long batch.
pub fn validate_batch(messages: &[NewMessage]) -> QueueResult<()> {
    if messages.len() > MAX_BATCH {
        return Err(QueueError::invalid("messages", "at most 1000 per batch"));
    }
    messages.iter().try_for_each(NewMessage::validate)
}

/// Check a lease or extension: 1 ms–[`MAX_LEASE`].
///
/// # Errors
///
/// [`QueueError::Invalid`] naming `lease`.
pub fn validate_lease(lease: Duration) -> QueueResult<()> {
    if lease < Duration::from_millis(1) || lease > MAX_LEASE {
        return Err(QueueError::invalid("lease", "must be 1 ms to 12 h"));
    }
    Ok(())
}

/// Check a retry time or delay: at most [`MAX_DELAY`].
///
/// # Errors
///
/// [`QueueError::Invalid`] naming `retry_in`.
pub fn validate_delay(delay: Duration) -> QueueResult<()> {
    if delay > MAX_DELAY {
        return Err(QueueError::invalid("retry_in", "at most 366 days"));
    }
    Ok(())
}

/// Truncate a dead-letter reason to [`MAX_REASON_LEN`] bytes on a character boundary.
pub fn truncate_reason(reason: &str) -> &str {
    if reason.len() <= MAX_REASON_LEN {
        return reason;
    }
    let mut end = MAX_REASON_LEN;
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    &reason[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acme() -> TenantId {
        TenantId::new("acme").unwrap()
    }

    #[test]
    fn message_validation() {
        assert!(NewMessage::new(acme(), "x").validate().is_ok());
        let big = NewMessage::new(acme(), vec![0u8; MAX_PAYLOAD_BYTES + 1]);
        assert!(matches!(
            big.validate(),
            Err(QueueError::PayloadTooLarge { .. })
        ));
        let bad_header = NewMessage::new(acme(), "x").header("a b", "v");
        assert!(bad_header.validate().is_err());
        let bad_value = NewMessage::new(acme(), "x").header("a", "line\nbreak");
        assert!(bad_value.validate().is_err());
        let bad_key = NewMessage::new(acme(), "x").dedupe_key("");
        assert!(bad_key.validate().is_err());
    }

    #[test]
    fn reserve_validation() {
        assert!(Reserve::new(1, Duration::from_secs(1)).validate().is_ok());
        assert!(Reserve::new(0, Duration::from_secs(1)).validate().is_err());
        assert!(
            Reserve::new(1001, Duration::from_secs(1))
                .validate()
                .is_err()
        );
        assert!(Reserve::new(1, Duration::ZERO).validate().is_err());
    }

    #[test]
    fn reasons_truncate_on_char_boundaries() {
        let long = "é".repeat(MAX_REASON_LEN);
        let cut = truncate_reason(&long);
        assert!(cut.len() <= MAX_REASON_LEN);
        assert!(cut.chars().all(|c| c == 'é'));
    }

    #[test]
    fn json_round_trip() {
        let msg = NewMessage::json(acme(), &serde_json::json!({"a": 1})).unwrap();
        let stored = Message {
            id: MessageId::new(),
            tenant: acme(),
            payload: msg.payload,
            headers: msg.headers,
            enqueued_at: SystemTime::UNIX_EPOCH,
            dedupe_key: None,
        };
        let v: serde_json::Value = stored.json().unwrap();
        assert_eq!(v["a"], 1);
        assert!(stored.json::<Vec<u8>>().is_err());
    }
}

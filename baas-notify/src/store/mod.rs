//! Where notifications, attempts, preferences and webhook endpoints are kept.
//!
//! | trait | keeps | backends |
//! |---|---|---|
//! | [`DeliveryLog`] | notifications (one per delivery) and every attempt | [`MemoryDeliveryLog`], `SqlDeliveryLog` (feature `sql`) |
//! | [`PreferenceStore`] | opt-outs per recipient × category × channel | [`MemoryPreferenceStore`], `SqlPreferenceStore` |
//! | [`EndpointStore`] | webhook endpoints, secrets sealed | [`MemoryEndpointStore`], `SqlEndpointStore` |
//!
//! Every method takes the tenant (DESIGN.md rule 1): another tenant's rows are invisible,
//! exactly as missing ones. The conformance suites are in `crate::testing`.

use std::fmt;
use std::time::SystemTime;

use async_trait::async_trait;
use baas_core::{Error, ErrorKind, TenantId};
use uuid::Uuid;

use crate::model::{Attempt, ChannelKind, Notification, Status};

mod memory;
#[cfg(feature = "sql")]
#[cfg_attr(docsrs, doc(cfg(feature = "sql")))]
pub mod sql;

pub use memory::{MemoryDeliveryLog, MemoryEndpointStore, MemoryPreferenceStore};

/// The outcome of [`DeliveryLog::insert`].
#[derive(Debug, Clone, PartialEq)]
pub struct Inserted {
    /// The stored notification: the new one, or the one that already had the key.
    pub notification: Notification,
    /// Whether it was created now (false: the idempotency key already existed).
    pub created: bool,
}

/// What one delivery round of one notification came to, written by
/// [`DeliveryLog::settle_many`]: the attempts made (in order) and the status after them.
#[derive(Debug, Clone, PartialEq)]
pub struct Settlement {
    /// The owning tenant.
    pub tenant: TenantId,
    /// The notification.
    pub notification: Uuid,
    /// The attempts of this round, in order (may be empty: nothing was tried).
    pub attempts: Vec<Attempt>,
    /// The status after them.
    pub status: Status,
    /// When the status changed.
    pub at: SystemTime,
}

/// Notifications and their attempts.
///
/// Guarantees: at most one notification per (tenant, idempotency key), atomically, even
/// under concurrent inserts; every recorded attempt is kept until the notification is
/// swept; `record_attempt` counts the notification's attempts in the same step.
///
/// The two batch methods, [`start_many`](DeliveryLog::start_many) and
/// [`settle_many`](DeliveryLog::settle_many), are what the
/// [`Dispatcher`](crate::Dispatcher) calls, once per reserved batch each. Their
/// defaults loop over the single-item methods; the SQL backend overrides them with one
/// statement (`start_many`) and one transaction (`settle_many`).
#[async_trait]
pub trait DeliveryLog: Send + Sync + fmt::Debug {
    /// Store `notification` unless its tenant already has one with the same idempotency
    /// key, in which case that one is returned.
    async fn insert(&self, notification: &Notification) -> Result<Inserted, Error>;

    /// The notification `id` of `tenant`.
    async fn get(&self, tenant: &TenantId, id: Uuid) -> Result<Option<Notification>, Error>;

    /// Set a notification's status. `NotFound` when missing.
    async fn set_status(
        &self,
        tenant: &TenantId,
        id: Uuid,
        status: Status,
        at: SystemTime,
    ) -> Result<(), Error>;

    /// Keep an attempt and count it on its notification. `NotFound` when missing.
    async fn record_attempt(&self, tenant: &TenantId, attempt: &Attempt) -> Result<(), Error>;

    /// Start delivering a batch: load the notifications `keys` name (tenant, id) and mark
    /// each one still to deliver — any status but `sent` and `suppressed` — `sending`
    /// as of `at`. One answer per key, in order: the notification as marked, or `None`
    /// when there is nothing to deliver (missing, another tenant's, already `sent` or
    /// `suppressed`). Each key should appear once.
    ///
    /// The default calls [`get`](DeliveryLog::get) and
    /// [`set_status`](DeliveryLog::set_status) for each key.
    async fn start_many(
        &self,
        keys: &[(TenantId, Uuid)],
        at: SystemTime,
    ) -> Result<Vec<Option<Notification>>, Error> {
        let mut out = Vec::with_capacity(keys.len());
        for (tenant, id) in keys {
            let started = match self.get(tenant, *id).await? {
                Some(mut n) if !matches!(n.status, Status::Sent | Status::Suppressed) => {
                    match self.set_status(tenant, *id, Status::Sending, at).await {
                        Ok(()) => {
                            n.status = Status::Sending;
                            n.updated_at = at;
                            Some(n)
                        }
                        Err(e) if e.kind() == ErrorKind::NotFound => None,
                        Err(e) => return Err(e),
                    }
                }
                _ => None,
            };
            out.push(started);
        }
        Ok(out)
    }

    /// Settle a batch of delivery rounds: for each [`Settlement`], keep its attempts
    /// (counting them on the notification) and set its status. One answer per
    /// settlement, in order: `NotFound` for a notification that is missing or another
    /// tenant's (nothing is written for it), else the write's outcome.
    ///
    /// The default calls [`record_attempt`](DeliveryLog::record_attempt) and
    /// [`set_status`](DeliveryLog::set_status) for each; the SQL backend writes the
    /// whole batch in one transaction (so either every settlement of a batch is kept or
    /// none, and a failure is answered for each).
    async fn settle_many(&self, batch: &[Settlement]) -> Vec<Result<(), Error>> {
        let mut out = Vec::with_capacity(batch.len());
        for s in batch {
            let mut result = Ok(());
            for attempt in &s.attempts {
                result = self.record_attempt(&s.tenant, attempt).await;
                if result.is_err() {
                    break;
                }
            }
            if result.is_ok() {
                result = self
                    .set_status(&s.tenant, s.notification, s.status, s.at)
                    .await;
            }
            out.push(result);
        }
        out
    }

    /// A notification's attempts, in order.
    async fn attempts(&self, tenant: &TenantId, id: Uuid) -> Result<Vec<Attempt>, Error>;

    /// Delete finished notifications (`sent`, `dead`, `suppressed`) last changed before
    /// `before`, with their attempts (DESIGN.md rule 11). Returns how many.
    async fn sweep(&self, before: SystemTime) -> Result<u64, Error>;
}

/// Opt-outs per recipient × category × channel. Category `*` opts out of every
/// category on that channel.
#[async_trait]
pub trait PreferenceStore: Send + Sync + fmt::Debug {
    /// Opt `recipient` out of (or back into) `category` on `channel`.
    async fn set_opt_out(
        &self,
        tenant: &TenantId,
        recipient: &str,
        category: &str,
        channel: ChannelKind,
        opted_out: bool,
    ) -> Result<(), Error>;

    /// Whether `recipient` opted out of `category` (or of `*`) on `channel`.
    async fn is_opted_out(
        &self,
        tenant: &TenantId,
        recipient: &str,
        category: &str,
        channel: ChannelKind,
    ) -> Result<bool, Error>;
}

/// A registered webhook endpoint. Its secret is sealed with the master key; see
/// [`WebhookEndpoints`](crate::endpoints::WebhookEndpoints) to create and open one.
#[derive(Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Its id.
    pub id: Uuid,
    /// The owning tenant.
    pub tenant: TenantId,
    /// The target URL.
    pub url: String,
    /// The event types it receives (`*` = all).
    pub event_types: Vec<String>,
    /// Disabled endpoints receive nothing (set when the target answered 410).
    pub disabled: bool,
    /// When it was registered.
    pub created_at: SystemTime,
    /// The secret, sealed (XChaCha20-Poly1305, bound to tenant and id).
    pub sealed_secret: Vec<u8>,
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("id", &self.id)
            .field("tenant", &self.tenant)
            .field("url", &self.url)
            .field("event_types", &self.event_types)
            .field("disabled", &self.disabled)
            .finish_non_exhaustive()
    }
}

impl Endpoint {
    /// Whether this endpoint wants events of `event_type` (and is enabled).
    pub fn wants(&self, event_type: &str) -> bool {
        !self.disabled && self.event_types.iter().any(|t| t == "*" || t == event_type)
    }
}

/// Webhook endpoints, per tenant.
#[async_trait]
pub trait EndpointStore: Send + Sync + fmt::Debug {
    /// Store a new endpoint. `Conflict` if the id exists.
    async fn insert(&self, endpoint: &Endpoint) -> Result<(), Error>;

    /// The endpoint `id` of `tenant`.
    async fn get(&self, tenant: &TenantId, id: Uuid) -> Result<Option<Endpoint>, Error>;

    /// Every endpoint of `tenant`, oldest first.
    async fn list(&self, tenant: &TenantId) -> Result<Vec<Endpoint>, Error>;

    /// Enable or disable an endpoint. `NotFound` when missing.
    async fn set_disabled(&self, tenant: &TenantId, id: Uuid, disabled: bool) -> Result<(), Error>;

    /// Delete an endpoint. `NotFound` when missing.
    async fn delete(&self, tenant: &TenantId, id: Uuid) -> Result<(), Error>;
}

fn _object_safe(_: Box<dyn DeliveryLog>, _: Box<dyn PreferenceStore>, _: Box<dyn EndpointStore>) {}

pub(crate) fn not_found(what: &'static str) -> Error {
    crate::error::NotifyError::NotFound(what).into()
}

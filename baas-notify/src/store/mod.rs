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
use baas_core::{Error, TenantId};
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

/// Notifications and their attempts.
///
/// Guarantees: at most one notification per (tenant, idempotency key), atomically, even
/// under concurrent inserts; every recorded attempt is kept until the notification is
/// swept; `record_attempt` counts the notification's attempts in the same step.
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

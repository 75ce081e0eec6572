//! The platform's retention sweepers (DESIGN.md rule 11), run by the worker role on one
//! timer (`BAAS_SWEEP_INTERVAL`, default 600 s): expired idempotency records, sessions
//! and API keys past their retention, failed-login windows that have passed, finished
//! notifications with their attempts, and the SQL queue's expired dedupe keys.
//!
//! Every process of an installation may sweep: each sweep is one idempotent `DELETE`.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use baas_auth::service::IdentityService;
use baas_core::SharedClock;
use baas_core::housekeeping::Housekeeper;
use baas_core::idempotency::DynIdempotencyStore;
use baas_notify::store::DeliveryLog;
use baas_queue::sql::SqlQueue;

/// How long a session stays after it expired or was revoked.
pub const SESSION_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);
/// How long an API key stays after it expired.
pub const API_KEY_RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);
/// How long a finished notification (sent, dead or suppressed) and its attempts stay
/// readable through `GET /v1/notifications/{id}`.
pub const DELIVERY_RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);

/// What the sweepers work on.
#[derive(Debug, Clone)]
pub struct Swept {
    /// Sessions, API keys and the login budget.
    pub identity: Arc<IdentityService>,
    /// The HTTP idempotency records.
    pub idempotency: Arc<DynIdempotencyStore>,
    /// Notifications and their attempts.
    pub deliveries: Arc<dyn DeliveryLog>,
    /// The SQL queue, when it is the queue (its dedupe keys); `None` on RabbitMQ.
    pub sql_queue: Option<SqlQueue>,
    /// The clock that dates the delivery log's retention.
    pub clock: SharedClock,
}

/// A [`Housekeeper`] with every sweeper of the platform, one round per `interval`.
pub fn housekeeper(interval: Duration, swept: Swept) -> Housekeeper {
    let Swept {
        identity,
        idempotency,
        deliveries,
        sql_queue,
        clock,
    } = swept;
    let sessions = identity.stores().sessions.clone();
    let api_keys = identity.stores().api_keys.clone();
    let mut housekeeper = Housekeeper::new(interval)
        .task("idempotency", move || {
            let store = idempotency.clone();
            async move { store.sweep().await }
        })
        .task("sessions", move || {
            let store = sessions.clone();
            async move { store.sweep(SESSION_RETENTION).await }
        })
        .task("api_keys", move || {
            let store = api_keys.clone();
            async move { store.sweep(API_KEY_RETENTION).await }
        })
        .task("login_failures", move || {
            let identity = identity.clone();
            async move { identity.throttle().sweep().await }
        })
        .task("deliveries", move || {
            let log = deliveries.clone();
            let before = clock
                .now()
                .checked_sub(DELIVERY_RETENTION)
                .unwrap_or(UNIX_EPOCH);
            async move { log.sweep(before).await }
        });
    if let Some(queue) = sql_queue {
        housekeeper = housekeeper.task("queue_dedupe", move || {
            let queue = queue.clone();
            async move { queue.sweep_dedupe().await }
        });
    }
    housekeeper
}

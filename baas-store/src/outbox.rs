//! The outbox seam: stage outgoing messages in the same database transaction as the
//! writes that cause them; a relay (baas-queue) publishes them after commit.
//!
//! ```
//! use baas_store::{Database, outbox::{self, Outbox, OutboxMessage}};
//! use baas_store::documents::DocumentStore;
//! use baas_store::core::TenantId;
//! use serde_json::json;
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let db = Database::connect("sqlite::memory:").await?;
//! db.migrate().await?;
//! let acme = TenantId::new("acme")?;
//!
//! let tx = db.begin().await?;
//! let order = tx.documents().create(&acme, "orders", json!({"total": 3})).await?;
//! outbox::stage(&tx, OutboxMessage::new(acme.clone(), "order-created", order.id.to_string())).await?;
//! tx.commit().await?; // both, or neither
//!
//! let relay = Outbox::new(db.clone());
//! let pending = relay.pending(10).await?;
//! assert_eq!(pending.len(), 1);
//! relay.mark_published(&[pending[0].id]).await?;
//! assert!(relay.pending(10).await?.is_empty());
//! # Ok::<(), baas_store::core::Error>(())
//! # }).unwrap();
//! ```

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use baas_core::clock::SharedClock;
use baas_core::{Error, TenantId};
use bytes::Bytes;
use sea_orm::sea_query::{Expr, ExprTrait, Order, Query};
use sea_orm::{ConnectionTrait, QueryResult};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::database::{Database, Tx};
use crate::schema::Outbox as O;
use crate::sql_error;
use crate::util::{from_millis, millis};

/// The longest queue name.
pub const MAX_QUEUE_LEN: usize = 255;

/// A message to publish once the transaction commits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    /// The tenant it belongs to.
    pub tenant: TenantId,
    /// The destination queue (1–255 bytes).
    pub queue: String,
    /// The body, opaque to the store.
    pub payload: Bytes,
    /// Message headers.
    pub headers: BTreeMap<String, String>,
    /// Not to be published before this time (`None`: at once).
    pub available_at: Option<SystemTime>,
}

impl OutboxMessage {
    /// A message for `queue` with no headers, available at once.
    pub fn new(tenant: TenantId, queue: impl Into<String>, payload: impl Into<Bytes>) -> Self {
        OutboxMessage {
            tenant,
            queue: queue.into(),
            payload: payload.into(),
            headers: BTreeMap::new(),
            available_at: None,
        }
    }

    /// Add a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.insert(name.into(), value.into());
        self
    }

    /// Delay publication until `at`.
    pub fn available_at(mut self, at: SystemTime) -> Self {
        self.available_at = Some(at);
        self
    }
}

/// A staged message as stored in the `outbox` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxRow {
    /// UUIDv7; also the dedupe key a relay publishes under.
    pub id: Uuid,
    /// The tenant.
    pub tenant: TenantId,
    /// The destination queue.
    pub queue: String,
    /// The body.
    pub payload: Bytes,
    /// The headers.
    pub headers: BTreeMap<String, String>,
    /// Not to be published before this.
    pub available_at: OffsetDateTime,
    /// When a relay published it; `None` while pending.
    pub published_at: Option<OffsetDateTime>,
    /// When it was staged.
    pub created_at: OffsetDateTime,
}

/// Stage `message` in `tx`, timestamped by the system clock; returns its id.
pub async fn stage(tx: &Tx, message: OutboxMessage) -> Result<Uuid, Error> {
    stage_with_clock(tx, message, &baas_core::clock::system()).await
}

/// Stage `message` in `tx`, timestamped by `clock`; returns its id.
///
/// # Errors
///
/// `Invalid` for an empty or over-long queue name; nothing is staged.
pub async fn stage_with_clock(
    tx: &Tx,
    message: OutboxMessage,
    clock: &SharedClock,
) -> Result<Uuid, Error> {
    if message.queue.is_empty() || message.queue.len() > MAX_QUEUE_LEN {
        return Err(Error::field("queue", "must be 1-255 bytes"));
    }
    let now = millis(clock.now());
    let available = message.available_at.map_or(now, millis);
    let id = Uuid::now_v7();
    let headers = serde_json::to_value(&message.headers)
        .map_err(|e| Error::internal("headers do not serialise").with_source(e))?;
    let stmt = Query::insert()
        .into_table(O::Table)
        .columns([
            O::Id,
            O::Tenant,
            O::Queue,
            O::Payload,
            O::Headers,
            O::AvailableAt,
            O::PublishedAt,
            O::CreatedAt,
        ])
        .values_panic([
            id.into(),
            message.tenant.as_str().into(),
            message.queue.into(),
            message.payload.to_vec().into(),
            headers.into(),
            available.into(),
            Option::<i64>::None.into(),
            now.into(),
        ])
        .to_owned();
    tx.connection()
        .execute(&stmt)
        .await
        .map_err(sql_error::db)?;
    Ok(id)
}

/// The relay's side of the outbox: read what is due, mark it published, sweep old rows.
#[derive(Debug, Clone)]
pub struct Outbox {
    db: Database,
    clock: SharedClock,
}

fn read(row: &QueryResult) -> Result<OutboxRow, Error> {
    let id: Uuid = row.try_get("", "id").map_err(sql_error::db)?;
    let tenant: String = row.try_get("", "tenant").map_err(sql_error::db)?;
    let queue: String = row.try_get("", "queue").map_err(sql_error::db)?;
    let payload: Vec<u8> = row.try_get("", "payload").map_err(sql_error::db)?;
    let headers: serde_json::Value = row.try_get("", "headers").map_err(sql_error::db)?;
    let available: i64 = row.try_get("", "available_at").map_err(sql_error::db)?;
    let published: Option<i64> = row.try_get("", "published_at").map_err(sql_error::db)?;
    let created: i64 = row.try_get("", "created_at").map_err(sql_error::db)?;
    Ok(OutboxRow {
        id,
        tenant: TenantId::new(tenant)?,
        queue,
        payload: Bytes::from(payload),
        headers: serde_json::from_value(headers)
            .map_err(|e| Error::internal("stored headers are not a map").with_source(e))?,
        available_at: from_millis(available),
        published_at: published.map(from_millis),
        created_at: from_millis(created),
    })
}

impl Outbox {
    /// The outbox of `db` on the system clock.
    pub fn new(db: Database) -> Self {
        Self::with_clock(db, baas_core::clock::system())
    }

    /// The outbox of `db` on `clock`.
    pub fn with_clock(db: Database, clock: SharedClock) -> Self {
        Outbox { db, clock }
    }

    /// Up to `limit` unpublished messages that are due, oldest first (by availability,
    /// then id). Several relays may read the same rows: publish under the row id so the
    /// queue's dedupe drops repeats.
    pub async fn pending(&self, limit: u32) -> Result<Vec<OutboxRow>, Error> {
        let now = millis(self.clock.now());
        let stmt = Query::select()
            .columns([
                O::Id,
                O::Tenant,
                O::Queue,
                O::Payload,
                O::Headers,
                O::AvailableAt,
                O::PublishedAt,
                O::CreatedAt,
            ])
            .from(O::Table)
            .and_where(
                Expr::col(O::PublishedAt)
                    .is_null()
                    .and(Expr::col(O::AvailableAt).lte(now)),
            )
            .order_by(O::AvailableAt, Order::Asc)
            .order_by(O::Id, Order::Asc)
            .limit(u64::from(Ord::max(limit, 1)))
            .to_owned();
        let rows = self
            .db
            .connection()
            .query_all(&stmt)
            .await
            .map_err(sql_error::db)?;
        rows.iter().map(read).collect()
    }

    /// Mark messages published; returns how many were still pending.
    pub async fn mark_published(&self, ids: &[Uuid]) -> Result<u64, Error> {
        if ids.is_empty() {
            return Ok(0);
        }
        let now = millis(self.clock.now());
        let stmt = Query::update()
            .table(O::Table)
            .value(O::PublishedAt, now)
            .and_where(
                Expr::col(O::Id)
                    .is_in(ids.iter().copied())
                    .and(Expr::col(O::PublishedAt).is_null()),
            )
            .to_owned();
        let result = self
            .db
            .connection()
            .execute(&stmt)
            .await
            .map_err(sql_error::db)?;
        Ok(result.rows_affected())
    }

    /// Delete messages published more than `retention` ago (DESIGN.md rule 11); returns
    /// how many went.
    pub async fn sweep(&self, retention: Duration) -> Result<u64, Error> {
        let cutoff = millis(self.clock.now())
            .saturating_sub(i64::try_from(retention.as_millis()).unwrap_or(i64::MAX));
        let stmt = Query::delete()
            .from_table(O::Table)
            .and_where(Expr::col(O::PublishedAt).lte(cutoff))
            .to_owned();
        let result = self
            .db
            .connection()
            .execute(&stmt)
            .await
            .map_err(sql_error::db)?;
        Ok(result.rows_affected())
    }
}

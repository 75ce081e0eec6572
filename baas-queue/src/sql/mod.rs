//! The SQL backend on baas-store's [`Database`]: SQLite (embedded, one writer) and
//! Postgres (`FOR UPDATE SKIP LOCKED`).
//!
//! One row per message in `baas_queue_messages`. A leased row's `visible_at` is its lease
//! expiry, so an expired lease makes the row reservable again with no sweeper; every
//! settle (`ack`, `nack`, `extend`, `dead_letter`) matches the row's id, its current lease
//! token and an unexpired `visible_at` in one statement, so a stale lease changes nothing.
//! Dedupe keys live in `baas_queue_dedupe` (claimed by one atomic upsert); sweep them with
//! [`SqlQueue::sweep_dedupe`]. An idle [`Reserve::wait`] polls with back-off (10 ms
//! doubling to 250 ms), woken at once by enqueues through the same `SqlQueue`.
//!
//! ```
//! use baas_queue::{Queue, QueueExt, Reserve};
//! use baas_queue::sql::SqlQueue;
//! use baas_queue::core::TenantId;
//! use std::time::Duration;
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let db = baas_store::Database::connect("sqlite::memory:").await?;
//! let queue = SqlQueue::new(db);
//! queue.migrate().await?;
//! let acme = TenantId::new("acme")?;
//! queue.enqueue_json("jobs", &acme, &1).await?;
//! let d = queue.reserve("jobs", Reserve::new(10, Duration::from_secs(30))).await?;
//! queue.ack(&d[0].lease).await?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

mod migrations;
mod schema;

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use baas_core::TenantId;
use baas_core::clock::{SharedClock, system};
use baas_store::{Database, Engine};
use bytes::Bytes;
use sea_orm::sea_query::{
    Alias, CommonTableExpression, Expr, ExprTrait, InsertStatement, LockBehavior, LockType,
    OnConflict, Order, Query, SelectStatement, WithClause,
};
use sea_orm::{ConnectionTrait, DbErr, QueryResult};
use tokio::sync::Notify;
use uuid::Uuid;

pub use migrations::Migrator;
use schema::{Dedupe as D, Messages as M};

use crate::error::{QueueError, QueueResult};
use crate::memory::DEFAULT_DEDUPE_WINDOW;
use crate::queue::{
    Capabilities, DeadLetter, Delivery, Enqueued, Lease, LeaseToken, Message, MessageId,
    NewMessage, Queue, QueueStats, Reserve, truncate_reason, validate_batch, validate_delay,
    validate_lease, validate_queue_name,
};

const LIVE: i16 = 0;
/// Leases acked per statement by [`Queue::ack_batch`] (at most three bound values each,
/// well under SQLite's and Postgres's parameter limits).
const ACK_CHUNK: usize = 500;
const DEAD: i16 = 1;

/// A [`Queue`] in a SQL database. Clones share the pool.
#[derive(Clone)]
pub struct SqlQueue {
    db: Database,
    clock: SharedClock,
    dedupe_window: Duration,
    wake: Arc<Notify>,
}

impl fmt::Debug for SqlQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlQueue")
            .field("engine", &self.db.engine())
            .field("dedupe_window", &self.dedupe_window)
            .finish_non_exhaustive()
    }
}

fn db_err(err: DbErr) -> QueueError {
    use sea_orm::RuntimeErr;
    let transient = match &err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            use sea_orm::sqlx::Error as E;
            match &**e {
                E::Io(_) | E::PoolClosed | E::PoolTimedOut | E::WorkerCrashed => true,
                E::Database(db) => matches!(
                    &*db.code().unwrap_or_default(),
                    "5" | "6" | "517" | "262" | "40001" | "40P01" | "57P01"
                ),
                _ => false,
            }
        }
        _ => false,
    };
    if transient {
        QueueError::unavailable("queue database unavailable", err)
    } else {
        QueueError::Other(baas_core::Error::internal("queue database error").with_source(err))
    }
}

fn millis(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn from_millis(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

fn dur_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

const COLUMNS: [M; 7] = [
    M::Id,
    M::Tenant,
    M::Payload,
    M::Headers,
    M::DedupeKey,
    M::EnqueuedAt,
    M::Attempts,
];

fn read_message(row: &QueryResult) -> QueueResult<(Message, u32)> {
    let id: Uuid = row.try_get("", "id").map_err(db_err)?;
    let tenant: String = row.try_get("", "tenant").map_err(db_err)?;
    let payload: Vec<u8> = row.try_get("", "payload").map_err(db_err)?;
    let headers: serde_json::Value = row.try_get("", "headers").map_err(db_err)?;
    let dedupe_key: Option<String> = row.try_get("", "dedupe_key").map_err(db_err)?;
    let enqueued: i64 = row.try_get("", "enqueued_at").map_err(db_err)?;
    let attempts: i32 = row.try_get("", "attempts").map_err(db_err)?;
    let headers: BTreeMap<String, String> = serde_json::from_value(headers).map_err(|e| {
        QueueError::Other(baas_core::Error::internal("stored headers are not a map").with_source(e))
    })?;
    Ok((
        Message {
            id: MessageId::from_uuid(id),
            tenant: TenantId::new(tenant)?,
            payload: Bytes::from(payload),
            headers,
            enqueued_at: from_millis(enqueued),
            dedupe_key,
        },
        u32::try_from(attempts).unwrap_or(0),
    ))
}

impl SqlQueue {
    /// A queue in `db` on the system clock with a 24 h dedupe window.
    pub fn new(db: Database) -> Self {
        Self::with_clock(db, system())
    }

    /// A queue in `db` on `clock`.
    pub fn with_clock(db: Database, clock: SharedClock) -> Self {
        SqlQueue {
            db,
            clock,
            dedupe_window: DEFAULT_DEDUPE_WINDOW,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Use another dedupe window.
    pub fn dedupe_window(mut self, window: Duration) -> Self {
        self.dedupe_window = window;
        self
    }

    /// Run the framework's and the queue's migrations ([`Migrator`]) under baas-store's
    /// start-up lock.
    pub async fn migrate(&self) -> QueueResult<()> {
        self.db.migrate_with::<Migrator>().await?;
        Ok(())
    }

    /// Delete expired dedupe keys (DESIGN.md rule 11); returns how many went.
    pub async fn sweep_dedupe(&self) -> QueueResult<u64> {
        let now = millis(self.clock.now());
        let stmt = Query::delete()
            .from_table(D::Table)
            .and_where(Expr::col(D::ExpiresAt).lte(now))
            .to_owned();
        let r = self.db.connection().execute(&stmt).await.map_err(db_err)?;
        Ok(r.rows_affected())
    }

    fn now(&self) -> i64 {
        millis(self.clock.now())
    }

    /// The row held under `lease`: its id, its token, not expired, live.
    fn held(lease: &Lease, now: i64) -> Expr {
        Expr::col(M::Id)
            .eq(lease.message.as_uuid())
            .and(Expr::col(M::Queue).eq(lease.queue.as_str()))
            .and(Expr::col(M::LeaseToken).eq(lease.token.as_uuid()))
            .and(Expr::col(M::Status).eq(LIVE))
            .and(Expr::col(M::VisibleAt).gt(now))
    }

    async fn enqueue_one_in<C: ConnectionTrait>(
        &self,
        conn: &C,
        queue: &str,
        message: NewMessage,
        now: i64,
    ) -> QueueResult<Enqueued> {
        let id = MessageId::new();
        if let Some(key) = &message.dedupe_key {
            // Claim the key: insert, or take over an expired claim; a live claim wins.
            let claim = Query::insert()
                .into_table(D::Table)
                .columns([D::Queue, D::Tenant, D::Key, D::MessageId, D::ExpiresAt])
                .values_panic([
                    queue.into(),
                    message.tenant.as_str().into(),
                    key.as_str().into(),
                    id.as_uuid().into(),
                    now.saturating_add(dur_ms(self.dedupe_window)).into(),
                ])
                .on_conflict(
                    OnConflict::columns([D::Queue, D::Tenant, D::Key])
                        .update_columns([D::MessageId, D::ExpiresAt])
                        .action_and_where(Expr::col((D::Table, D::ExpiresAt)).lte(now))
                        .to_owned(),
                )
                .to_owned();
            let claimed = conn.execute(&claim).await.map_err(db_err)?.rows_affected();
            if claimed == 0 {
                let existing = Query::select()
                    .column(D::MessageId)
                    .from(D::Table)
                    .and_where(
                        Expr::col(D::Queue)
                            .eq(queue)
                            .and(Expr::col(D::Tenant).eq(message.tenant.as_str()))
                            .and(Expr::col(D::Key).eq(key.as_str())),
                    )
                    .to_owned();
                let row = conn.query_one(&existing).await.map_err(db_err)?.ok_or(
                    QueueError::Unavailable {
                        message: "dedupe claim vanished; retry".into(),
                        source: None,
                    },
                )?;
                let first: Uuid = row.try_get("", "message_id").map_err(db_err)?;
                return Ok(Enqueued {
                    id: MessageId::from_uuid(first),
                    duplicate: true,
                });
            }
        }
        let mut stmt = Self::insert_messages();
        stmt.values_panic(Self::message_row(queue, id, message, now)?);
        conn.execute(&stmt).await.map_err(db_err)?;
        Ok(Enqueued {
            id,
            duplicate: false,
        })
    }

    /// An `INSERT` into the messages table, without rows yet (see [`Self::message_row`]).
    fn insert_messages() -> InsertStatement {
        Query::insert()
            .into_table(M::Table)
            .columns([
                M::Id,
                M::Queue,
                M::Tenant,
                M::Payload,
                M::Headers,
                M::DedupeKey,
                M::EnqueuedAt,
                M::VisibleAt,
                M::LeaseToken,
                M::Attempts,
                M::Status,
            ])
            .to_owned()
    }

    /// The row of a new message `id` in [`Self::insert_messages`]'s columns.
    fn message_row(
        queue: &str,
        id: MessageId,
        message: NewMessage,
        now: i64,
    ) -> QueueResult<[Expr; 11]> {
        let headers = serde_json::to_value(&message.headers).map_err(QueueError::Json)?;
        let visible = now.saturating_add(dur_ms(message.delay.unwrap_or_default()));
        Ok([
            id.as_uuid().into(),
            queue.into(),
            message.tenant.as_str().into(),
            message.payload.to_vec().into(),
            headers.into(),
            message.dedupe_key.into(),
            now.into(),
            visible.into(),
            Option::<Uuid>::None.into(),
            0i32.into(),
            LIVE.into(),
        ])
    }

    fn ready(queue: &str, now: i64, max: usize) -> SelectStatement {
        Query::select()
            .column(M::Id)
            .from(M::Table)
            .and_where(
                Expr::col(M::Queue)
                    .eq(queue)
                    .and(Expr::col(M::Status).eq(LIVE))
                    .and(Expr::col(M::VisibleAt).lte(now)),
            )
            .order_by(M::VisibleAt, Order::Asc)
            .order_by(M::Id, Order::Asc)
            .limit(max as u64)
            .to_owned()
    }

    /// Claim up to `reserve.max` ready messages under one new lease token.
    ///
    /// SQLite has one writer, so a single `UPDATE … WHERE id IN (subquery)` is atomic.
    /// Postgres may evaluate such a subquery once per candidate row and claim more
    /// than the limit, so there the ids are picked in a `MATERIALIZED` common table
    /// expression (`FOR UPDATE SKIP LOCKED`, so concurrent reservers never wait on each
    /// other or share a row), evaluated once, and joined by the same statement's update.
    async fn try_reserve(&self, queue: &str, reserve: Reserve) -> QueueResult<Vec<Delivery>> {
        let now = self.now();
        let until = now.saturating_add(dur_ms(reserve.lease));
        let token = LeaseToken::new();
        // Columns are qualified on Postgres, where the update joins the picked ids.
        let col = |c: M| match self.db.engine() {
            Engine::Postgres => Expr::col((M::Table, c)),
            _ => Expr::col(c),
        };
        let claim = |target: Expr| {
            let returning = Query::returning();
            let returning = match self.db.engine() {
                Engine::Postgres => returning.columns(COLUMNS.map(|c| (M::Table, c))),
                _ => returning.columns(COLUMNS),
            };
            Query::update()
                .table(M::Table)
                .value(M::LeaseToken, token.as_uuid())
                .value(M::VisibleAt, until)
                .value(M::Attempts, col(M::Attempts).add(1))
                .and_where(target)
                .and_where(col(M::Status).eq(LIVE))
                .and_where(col(M::VisibleAt).lte(now))
                .returning(returning)
                .to_owned()
        };
        let pick = Self::ready(queue, now, reserve.max);
        let rows = if self.db.engine() == Engine::Postgres {
            // `WITH picked AS MATERIALIZED (SELECT id … FOR UPDATE SKIP LOCKED LIMIT n)
            // UPDATE … FROM picked WHERE id = picked.id`: the CTE runs exactly once, so the
            // limit holds; concurrent reservers skip each other's rows instead of waiting;
            // the join reaches each row by its primary key; one statement, one round trip.
            let mut pick = pick;
            pick.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
            let picked = Alias::new("picked");
            let cte = CommonTableExpression::new()
                .query(pick)
                .table_name(picked.clone())
                .materialized(true)
                .to_owned();
            let stmt = claim(Expr::col((M::Table, M::Id)).equals((picked.clone(), M::Id)))
                .from(picked)
                .to_owned()
                .with(WithClause::new().cte(cte).to_owned());
            self.db
                .connection()
                .query_all(&stmt)
                .await
                .map_err(db_err)?
        } else {
            self.db
                .connection()
                .query_all(&claim(Expr::col(M::Id).in_subquery(pick)))
                .await
                .map_err(db_err)?
        };
        let mut out = rows
            .iter()
            .map(|row| {
                let (message, attempts) = read_message(row)?;
                Ok(Delivery {
                    lease: Lease {
                        queue: queue.to_owned(),
                        message: message.id,
                        token,
                    },
                    message,
                    attempt: attempts,
                    lease_expires_at: from_millis(until),
                })
            })
            .collect::<QueueResult<Vec<_>>>()?;
        out.sort_by_key(|d| d.message.id);
        Ok(out)
    }

    /// Delete the rows held under `leases` in one statement; returns the deleted ids.
    async fn ack_chunk(&self, leases: &[Lease]) -> QueueResult<HashSet<Uuid>> {
        let now = self.now();
        // One reserve leases its whole batch under one token, so group the ids by queue
        // and token: `(queue = ? AND lease_token = ? AND id IN (…)) OR …`.
        let mut groups: BTreeMap<(&str, Uuid), Vec<Uuid>> = BTreeMap::new();
        for lease in leases {
            groups
                .entry((lease.queue.as_str(), lease.token.as_uuid()))
                .or_default()
                .push(lease.message.as_uuid());
        }
        let held = groups
            .into_iter()
            .map(|((queue, token), ids)| {
                Expr::col(M::Queue)
                    .eq(queue)
                    .and(Expr::col(M::LeaseToken).eq(token))
                    .and(Expr::col(M::Id).is_in(ids))
            })
            .reduce(Expr::or)
            .unwrap_or_else(|| Expr::value(false))
            .and(Expr::col(M::Status).eq(LIVE))
            .and(Expr::col(M::VisibleAt).gt(now));
        let stmt = Query::delete()
            .from_table(M::Table)
            .and_where(held)
            .returning_col(M::Id)
            .to_owned();
        let rows = self
            .db
            .connection()
            .query_all(&stmt)
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|row| row.try_get::<Uuid>("", "id").map_err(db_err))
            .collect()
    }

    async fn count(&self, cond: Expr) -> QueueResult<u64> {
        let stmt = Query::select()
            .expr_as(Expr::col(M::Id).count(), Alias::new("n"))
            .from(M::Table)
            .and_where(cond)
            .to_owned();
        let row = self
            .db
            .connection()
            .query_one(&stmt)
            .await
            .map_err(db_err)?;
        let n: i64 = match row {
            Some(r) => r.try_get("", "n").map_err(db_err)?,
            None => 0,
        };
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Insert `messages` (none with a dedupe key) in one statement on `conn`.
    async fn insert_all<C: ConnectionTrait>(
        conn: &C,
        queue: &str,
        messages: Vec<NewMessage>,
        now: i64,
    ) -> QueueResult<Vec<Enqueued>> {
        let (stmt, out) = Self::insert_rows(queue, messages, now)?;
        conn.execute(&stmt).await.map_err(db_err)?;
        Ok(out)
    }

    /// One multi-row `INSERT` of `messages` (none with a dedupe key) on `queue`.
    fn insert_rows(
        queue: &str,
        messages: Vec<NewMessage>,
        now: i64,
    ) -> QueueResult<(InsertStatement, Vec<Enqueued>)> {
        let mut stmt = Self::insert_messages();
        let mut out = Vec::with_capacity(messages.len());
        for message in messages {
            let id = MessageId::new();
            stmt.values_panic(Self::message_row(queue, id, message, now)?);
            out.push(Enqueued {
                id,
                duplicate: false,
            });
        }
        Ok((stmt, out))
    }

    /// The statement that enqueues `messages` on `queue`, for a transaction the caller
    /// writes as a whole — such as one
    /// [`Database::write_script`](baas_store::Database::write_script) on
    /// [`SqlQueue::database`], which sends SQLite a transaction of several statements
    /// in one round trip. Validation is [`Queue::enqueue_batch`]'s. The messages become
    /// reservable when that transaction commits; call [`SqlQueue::notify_enqueued`]
    /// then.
    ///
    /// ```
    /// use baas_queue::{Queue, NewMessage, Reserve};
    /// use baas_queue::sql::SqlQueue;
    /// use baas_queue::core::TenantId;
    /// use baas_store::sea_orm::ConnectionTrait;
    /// use std::time::Duration;
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let db = baas_store::Database::connect("sqlite::memory:").await?;
    /// let queue = SqlQueue::new(db.clone());
    /// queue.migrate().await?;
    /// let acme = TenantId::new("acme")?;
    /// let insert = queue.enqueue_statement("jobs", vec![NewMessage::new(acme, "hi")])?;
    /// let backend = db.connection().get_database_backend();
    /// // … with the caller's own statements …
    /// db.write_script(&[backend.build(&insert)]).await?;
    /// queue.notify_enqueued();
    /// let d = queue.reserve("jobs", Reserve::new(10, Duration::from_secs(30))).await?;
    /// assert_eq!(d.len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    ///
    /// What [`Queue::enqueue_batch`] refuses, and `Invalid` for an empty batch or a
    /// message with a dedupe key (a dedupe check reads before it writes: use
    /// [`SqlQueue::enqueue_in`]).
    pub fn enqueue_statement(
        &self,
        queue: &str,
        messages: Vec<NewMessage>,
    ) -> QueueResult<InsertStatement> {
        validate_queue_name(queue)?;
        validate_batch(&messages)?;
        if messages.is_empty() {
            return Err(QueueError::invalid("messages", "no messages to enqueue"));
        }
        if messages.iter().any(|m| m.dedupe_key.is_some()) {
            return Err(QueueError::invalid(
                "dedupe_key",
                "a statement cannot check a dedupe key; use enqueue_in",
            ));
        }
        Ok(Self::insert_rows(queue, messages, self.now())?.0)
    }

    /// The database the messages are kept in.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// Enqueue `messages` on `queue` inside `tx`, a transaction the caller opened on
    /// [`SqlQueue::database`], so they commit — or roll back — with the caller's own
    /// writes (no outbox hop needed). Validation, dedupe and outcomes are
    /// [`Queue::enqueue_batch`]'s. The messages become reservable when the caller
    /// commits; call [`SqlQueue::notify_enqueued`] after the commit so that waiting
    /// reservers look at once rather than at their next poll.
    ///
    /// ```
    /// use baas_queue::{Queue, NewMessage, Reserve};
    /// use baas_queue::sql::SqlQueue;
    /// use baas_queue::core::TenantId;
    /// use std::time::Duration;
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let db = baas_store::Database::connect("sqlite::memory:").await?;
    /// let queue = SqlQueue::new(db.clone());
    /// queue.migrate().await?;
    /// let acme = TenantId::new("acme")?;
    /// let tx = db.begin().await?;
    /// // … the caller's own writes on `tx.connection()` …
    /// queue.enqueue_in(tx.connection(), "jobs", vec![NewMessage::new(acme, "hi")]).await?;
    /// tx.commit().await?;
    /// queue.notify_enqueued();
    /// let d = queue.reserve("jobs", Reserve::new(10, Duration::from_secs(30))).await?;
    /// assert_eq!(d.len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn enqueue_in(
        &self,
        tx: &sea_orm::DatabaseTransaction,
        queue: &str,
        messages: Vec<NewMessage>,
    ) -> QueueResult<Vec<Enqueued>> {
        validate_queue_name(queue)?;
        validate_batch(&messages)?;
        if messages.is_empty() {
            return Ok(Vec::new());
        }
        self.enqueue_all_in(tx, queue, messages, self.now()).await
    }

    /// Insert `messages` through `conn`: in one statement when none has a dedupe key,
    /// else one by one (then `conn` must be a transaction for the batch to be atomic).
    async fn enqueue_all_in<C: ConnectionTrait>(
        &self,
        conn: &C,
        queue: &str,
        messages: Vec<NewMessage>,
        now: i64,
    ) -> QueueResult<Vec<Enqueued>> {
        if messages.iter().all(|m| m.dedupe_key.is_none()) {
            return Self::insert_all(conn, queue, messages, now).await;
        }
        let mut out = Vec::with_capacity(messages.len());
        for message in messages {
            out.push(self.enqueue_one_in(conn, queue, message, now).await?);
        }
        Ok(out)
    }

    /// Wake this queue's waiting reservers (after committing an
    /// [`enqueue_in`](SqlQueue::enqueue_in)).
    pub fn notify_enqueued(&self) {
        self.wake.notify_waiters();
    }

    async fn settle(&self, stmt: sea_orm::sea_query::UpdateStatement) -> QueueResult<()> {
        let r = self.db.connection().execute(&stmt).await.map_err(db_err)?;
        if r.rows_affected() == 1 {
            Ok(())
        } else {
            Err(QueueError::LeaseLost)
        }
    }
}

#[async_trait]
impl Queue for SqlQueue {
    fn capabilities(&self) -> Capabilities {
        Capabilities::full(self.dedupe_window)
    }

    async fn enqueue(&self, queue: &str, message: NewMessage) -> QueueResult<Enqueued> {
        validate_queue_name(queue)?;
        message.validate()?;
        let now = self.now();
        let out = if message.dedupe_key.is_some() {
            let tx = self.db.begin_write().await.map_err(db_err)?;
            let out = self.enqueue_one_in(&tx, queue, message, now).await?;
            tx.commit().await.map_err(db_err)?;
            out
        } else {
            self.enqueue_one_in(self.db.connection(), queue, message, now)
                .await?
        };
        self.wake.notify_waiters();
        Ok(out)
    }

    async fn enqueue_batch(
        &self,
        queue: &str,
        messages: Vec<NewMessage>,
    ) -> QueueResult<Vec<Enqueued>> {
        validate_queue_name(queue)?;
        validate_batch(&messages)?;
        if messages.is_empty() {
            return Ok(Vec::new());
        }
        let now = self.now();
        let out = if messages.iter().all(|m| m.dedupe_key.is_none()) {
            // No dedupe claims to make: every row in one statement (atomic by itself),
            // with no transaction around it.
            self.enqueue_all_in(self.db.connection(), queue, messages, now)
                .await?
        } else {
            let tx = self.db.begin_write().await.map_err(db_err)?;
            let out = self.enqueue_all_in(&tx, queue, messages, now).await?;
            tx.commit().await.map_err(db_err)?;
            out
        };
        self.wake.notify_waiters();
        Ok(out)
    }

    async fn reserve(&self, queue: &str, reserve: Reserve) -> QueueResult<Vec<Delivery>> {
        validate_queue_name(queue)?;
        reserve.validate()?;
        let deadline = tokio::time::Instant::now() + reserve.wait;
        let mut nap = Duration::from_millis(10);
        loop {
            let woken = self.wake.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            let out = self.try_reserve(queue, reserve).await?;
            let now = tokio::time::Instant::now();
            if !out.is_empty() || now >= deadline {
                return Ok(out);
            }
            tokio::select! {
                () = woken => {}
                () = tokio::time::sleep(Ord::min(nap, deadline - now)) => {}
            }
            nap = Ord::min(nap * 2, Duration::from_millis(250));
        }
    }

    async fn extend(&self, lease: &Lease, by: Duration) -> QueueResult<SystemTime> {
        validate_lease(by)?;
        let now = self.now();
        let until = now.saturating_add(dur_ms(by));
        let stmt = Query::update()
            .table(M::Table)
            .value(M::VisibleAt, until)
            .and_where(Self::held(lease, now))
            .to_owned();
        self.settle(stmt).await?;
        Ok(from_millis(until))
    }

    async fn ack(&self, lease: &Lease) -> QueueResult<()> {
        // The same statement as a batch of one.
        let acked = self.ack_chunk(std::slice::from_ref(lease)).await?;
        if acked.contains(&lease.message.as_uuid()) {
            Ok(())
        } else {
            Err(QueueError::LeaseLost)
        }
    }

    /// One `DELETE … RETURNING id` per chunk of leases (each row matched by its id, its
    /// queue, its current lease token, live and unexpired, as [`Queue::ack`] matches
    /// it; ids grouped by queue and token); a lease whose row was not deleted is
    /// `LeaseLost`.
    async fn ack_batch(&self, leases: &[Lease]) -> Vec<QueueResult<()>> {
        let mut out = Vec::with_capacity(leases.len());
        for chunk in leases.chunks(ACK_CHUNK) {
            match self.ack_chunk(chunk).await {
                Ok(acked) => out.extend(chunk.iter().map(|lease| {
                    if acked.contains(&lease.message.as_uuid()) {
                        Ok(())
                    } else {
                        Err(QueueError::LeaseLost)
                    }
                })),
                Err(e) => {
                    // Nothing in this chunk was deleted (one statement): every lease
                    // stays held until it expires, so each gets the failure (the first
                    // with its source, the others with the same classification).
                    let again = |e: &QueueError| match e {
                        QueueError::Unavailable { message, .. } => QueueError::Unavailable {
                            message: message.clone(),
                            source: None,
                        },
                        _ => QueueError::Other(baas_core::Error::internal("queue database error")),
                    };
                    let others: Vec<_> = (1..chunk.len()).map(|_| Err(again(&e))).collect();
                    out.push(Err(e));
                    out.extend(others);
                }
            }
        }
        out
    }

    async fn nack(&self, lease: &Lease, retry_in: Duration) -> QueueResult<()> {
        validate_delay(retry_in)?;
        let now = self.now();
        let stmt = Query::update()
            .table(M::Table)
            .value(M::VisibleAt, now.saturating_add(dur_ms(retry_in)))
            .value(M::LeaseToken, Option::<Uuid>::None)
            .and_where(Self::held(lease, now))
            .to_owned();
        self.settle(stmt).await?;
        self.wake.notify_waiters();
        Ok(())
    }

    async fn dead_letter(&self, lease: &Lease, reason: &str) -> QueueResult<()> {
        let now = self.now();
        let stmt = Query::update()
            .table(M::Table)
            .value(M::Status, DEAD)
            .value(M::LeaseToken, Option::<Uuid>::None)
            .value(M::DeadReason, truncate_reason(reason))
            .value(M::DeadAt, now)
            .and_where(Self::held(lease, now))
            .to_owned();
        self.settle(stmt).await
    }

    async fn dead_letters(&self, queue: &str, limit: usize) -> QueueResult<Vec<DeadLetter>> {
        validate_queue_name(queue)?;
        if limit == 0 {
            return Ok(Vec::new());
        }
        let stmt = Query::select()
            .columns(COLUMNS)
            .columns([M::DeadReason, M::DeadAt])
            .from(M::Table)
            .and_where(
                Expr::col(M::Queue)
                    .eq(queue)
                    .and(Expr::col(M::Status).eq(DEAD)),
            )
            .order_by(M::DeadAt, Order::Asc)
            .order_by(M::Id, Order::Asc)
            .limit(limit as u64)
            .to_owned();
        let rows = self
            .db
            .connection()
            .query_all(&stmt)
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|row| {
                let (message, attempts) = read_message(row)?;
                let reason: Option<String> = row.try_get("", "dead_reason").map_err(db_err)?;
                let dead_at: Option<i64> = row.try_get("", "dead_at").map_err(db_err)?;
                Ok(DeadLetter {
                    message,
                    reason: reason.unwrap_or_default(),
                    attempts,
                    dead_at: from_millis(dead_at.unwrap_or(0)),
                })
            })
            .collect()
    }

    async fn redrive(&self, queue: &str, max: usize) -> QueueResult<u64> {
        validate_queue_name(queue)?;
        if max == 0 {
            return Ok(0);
        }
        let now = self.now();
        let pick = Query::select()
            .column(M::Id)
            .from(M::Table)
            .and_where(
                Expr::col(M::Queue)
                    .eq(queue)
                    .and(Expr::col(M::Status).eq(DEAD)),
            )
            .order_by(M::DeadAt, Order::Asc)
            .order_by(M::Id, Order::Asc)
            .limit(max as u64)
            .to_owned();
        let stmt = Query::update()
            .table(M::Table)
            .value(M::Status, LIVE)
            .value(M::Attempts, 0i32)
            .value(M::VisibleAt, now)
            .value(M::LeaseToken, Option::<Uuid>::None)
            .value(M::DeadReason, Option::<String>::None)
            .value(M::DeadAt, Option::<i64>::None)
            .and_where(Expr::col(M::Id).in_subquery(pick))
            .and_where(Expr::col(M::Status).eq(DEAD))
            .to_owned();
        let r = self.db.connection().execute(&stmt).await.map_err(db_err)?;
        self.wake.notify_waiters();
        Ok(r.rows_affected())
    }

    async fn stats(&self, queue: &str) -> QueueResult<QueueStats> {
        validate_queue_name(queue)?;
        let now = self.now();
        let live = || {
            Expr::col(M::Queue)
                .eq(queue)
                .and(Expr::col(M::Status).eq(LIVE))
        };
        let in_flight = self
            .count(
                live()
                    .and(Expr::col(M::LeaseToken).is_not_null())
                    .and(Expr::col(M::VisibleAt).gt(now)),
            )
            .await?;
        let total_live = self.count(live()).await?;
        let dead = self
            .count(
                Expr::col(M::Queue)
                    .eq(queue)
                    .and(Expr::col(M::Status).eq(DEAD)),
            )
            .await?;
        let oldest = Query::select()
            .expr_as(Expr::col(M::EnqueuedAt).min(), Alias::new("oldest"))
            .from(M::Table)
            .and_where(live().and(Expr::col(M::VisibleAt).lte(now)))
            .to_owned();
        let row = self
            .db
            .connection()
            .query_one(&oldest)
            .await
            .map_err(db_err)?;
        let oldest: Option<i64> = match row {
            Some(r) => r.try_get("", "oldest").map_err(db_err)?,
            None => None,
        };
        let age = oldest
            .map(|t| Duration::from_millis(u64::try_from(now.saturating_sub(t)).unwrap_or(0)))
            .unwrap_or_default();
        Ok(QueueStats {
            depth: Some(total_live.saturating_sub(in_flight)),
            in_flight: Some(in_flight),
            dead: Some(dead),
            oldest_age: Some(age),
        })
    }

    async fn queues(&self) -> QueueResult<Vec<String>> {
        let stmt = Query::select()
            .distinct()
            .column(M::Queue)
            .from(M::Table)
            .order_by(M::Queue, Order::Asc)
            .to_owned();
        let rows = self
            .db
            .connection()
            .query_all(&stmt)
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(|r| r.try_get::<String>("", "queue").map_err(db_err))
            .collect()
    }

    async fn purge(&self, queue: &str) -> QueueResult<u64> {
        validate_queue_name(queue)?;
        let now = self.now();
        let stmt = Query::delete()
            .from_table(M::Table)
            .and_where(
                Expr::col(M::Queue)
                    .eq(queue)
                    .and(Expr::col(M::Status).eq(LIVE))
                    .and(
                        Expr::col(M::LeaseToken)
                            .is_null()
                            .or(Expr::col(M::VisibleAt).lte(now)),
                    ),
            )
            .to_owned();
        let r = self.db.connection().execute(&stmt).await.map_err(db_err)?;
        Ok(r.rows_affected())
    }
}

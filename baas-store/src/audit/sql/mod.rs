//! The SQL [`AuditLog`], with group commit.
//!
//! Appends are serialised by the database: the record's primary key `(tenant, seq)`
//! admits one record per position, and the head row of `audit_heads` moves only from
//! the sequence number the appender read (`UPDATE … WHERE seq = read`), both in one
//! transaction. A loser of a race rolls back and retries from the new head, so the chain
//! never forks, on SQLite or Postgres, in one process or many.
//!
//! Within one process, appends are committed in groups. An append waits in its tenant's
//! lane (one of 64, chosen by the tenant); a writer task per busy lane takes everything
//! waiting there and writes it as one batch — the heads read once, the records chained
//! in memory in arrival order, one multi-row insert per tenant and the heads moved, all
//! in one transaction — then the next batch, gathered while this one was written, until
//! the lane is empty. Each append resolves with its own record once its batch commits.
//! So `n` concurrent appends to one chain cost a handful of transactions rather than
//! `n` (or, without any in-process ordering, about `n²/2` lost races). Races remain
//! possible only between processes (or separate [`SqlAuditLog::new`] values on one
//! database); the check above catches them and the whole batch is chained again from
//! the new head.
//!
//! The writer runs as its own task, so an append whose caller stops waiting (a request
//! timed out) is still written with its batch. A batch fails as a whole: every append in
//! it gets the error (entries are validated before they join a batch, so one bad entry
//! never fails the others).

mod batch;
mod lanes;

use std::sync::Arc;

use baas_core::clock::SharedClock;
use baas_core::{Error, TenantId};
use sea_orm::sea_query::{Expr, ExprTrait, Order, Query, SimpleExpr};
use sea_orm::{
    AccessMode, ConnectionTrait, DbBackend, IsolationLevel, QueryResult, TransactionTrait,
};
use tracing::Instrument as _;

use super::chain::{AuditEntry, AuditRecord, AuditVerification, Verifier};
use super::{AuditLog, check_limit};
use crate::database::Database;
use crate::schema::{AuditHeads as H, AuditLog as A};
use crate::sql_error;
use crate::util::millis;
use lanes::{Lanes, Waiting, WriterGuard};

/// The audit log in the `audit_log` and `audit_heads` tables of a [`Database`].
///
/// Appends are committed in groups: concurrent appends to one tenant's chain wait in
/// its lane while a writer task commits the batch before them, then go in one
/// transaction together (the heads read once, the records chained in memory). Races
/// with other processes are caught by the head's check and the batch is chained again.
/// Clones share their lanes; separate values on one database behave like separate
/// processes.
#[derive(Debug, Clone)]
pub struct SqlAuditLog {
    db: Database,
    clock: SharedClock,
    lanes: Arc<Lanes>,
}

impl SqlAuditLog {
    /// A log over `db` (migrated) on the system clock.
    pub fn new(db: Database) -> Self {
        Self::with_clock(db, baas_core::clock::system())
    }

    /// A log over `db` on `clock`.
    pub fn with_clock(db: Database, clock: SharedClock) -> Self {
        SqlAuditLog {
            db,
            clock,
            lanes: Arc::new(Lanes::new()),
        }
    }

    /// Write `lane`'s batches until nothing waits there.
    async fn drain(self, lane: usize) {
        let guard = WriterGuard::new(&self.lanes, lane);
        while let Some(batch) = self.lanes.next_batch(lane) {
            self.commit(batch).await;
        }
        guard.finish();
    }

    /// Write one batch and answer each of its appends.
    async fn commit(&self, batch: Vec<Waiting>) {
        let (entries, replies): (Vec<AuditEntry>, Vec<_>) = batch.into_iter().unzip();
        let span = tracing::debug_span!("baas_store.audit.batch", records = entries.len());
        let clock = &self.clock;
        let written = batch::write(&self.db, &entries, || millis(clock.now()))
            .instrument(span)
            .await;
        match written {
            Ok(records) => {
                for (reply, record) in replies.into_iter().zip(records) {
                    // The caller may have stopped waiting; its record is written anyway.
                    let _ = reply.send(Ok(record));
                }
            }
            Err(err) => {
                let mut replies = replies.into_iter();
                let first = replies.next();
                for reply in replies {
                    let mut copy = Error::new(err.kind(), err.message().to_owned());
                    if let Some(after) = err.retry_after() {
                        copy = copy.with_retry_after(after);
                    }
                    let _ = reply.send(Err(copy));
                }
                // The first keeps the original error, and its source for the logs.
                if let Some(first) = first {
                    let _ = first.send(Err(err));
                }
            }
        }
    }
}

const COLUMNS: [A; 10] = [
    A::Tenant,
    A::Seq,
    A::Actor,
    A::Action,
    A::Target,
    A::Ip,
    A::UserAgent,
    A::At,
    A::PrevHash,
    A::Hash,
];

async fn head_on<C: ConnectionTrait>(
    conn: &C,
    tenant: &TenantId,
) -> Result<Option<(u64, [u8; 32])>, Error> {
    let stmt = Query::select()
        .columns([H::Seq, H::Hash])
        .from(H::Table)
        .and_where(Expr::col(H::Tenant).eq(tenant.as_str()))
        .to_owned();
    let Some(row) = conn.query_one(&stmt).await.map_err(sql_error::db)? else {
        return Ok(None);
    };
    let seq: i64 = row.try_get("", "seq").map_err(sql_error::db)?;
    let hash: Vec<u8> = row.try_get("", "hash").map_err(sql_error::db)?;
    Ok(Some((u64::try_from(seq).unwrap_or(0), to_hash(&hash))))
}

async fn list_on<C: ConnectionTrait>(
    conn: &C,
    tenant: &TenantId,
    after: u64,
    limit: u32,
) -> Result<Vec<AuditRecord>, Error> {
    let after = i64::try_from(after).unwrap_or(i64::MAX);
    let stmt = Query::select()
        .columns(COLUMNS)
        .from(A::Table)
        .and_where(
            Expr::col(A::Tenant)
                .eq(tenant.as_str())
                .and(Expr::col(A::Seq).gt(after)),
        )
        .order_by(A::Seq, Order::Asc)
        .limit(u64::from(limit))
        .to_owned();
    let rows = conn.query_all(&stmt).await.map_err(sql_error::db)?;
    rows.iter().map(read).collect()
}

/// A record's values in [`COLUMNS`] order.
fn row_values(record: &AuditRecord) -> Result<[SimpleExpr; 10], Error> {
    let e = &record.entry;
    let seq = i64::try_from(record.seq).map_err(|_| Error::internal("audit chain full"))?;
    Ok([
        e.tenant.as_str().into(),
        seq.into(),
        e.actor.as_str().into(),
        e.action.as_str().into(),
        e.target.as_str().into(),
        e.ip.clone().into(),
        e.user_agent.clone().into(),
        record.at_millis().into(),
        record.prev_hash.to_vec().into(),
        record.hash.to_vec().into(),
    ])
}

fn to_hash(bytes: &[u8]) -> [u8; 32] {
    let mut hash = [0; 32];
    if bytes.len() == 32 {
        hash.copy_from_slice(bytes);
    }
    hash
}

fn read(row: &QueryResult) -> Result<AuditRecord, Error> {
    let get_s = |c: &str| row.try_get::<String>("", c).map_err(sql_error::db);
    let get_o = |c: &str| row.try_get::<Option<String>>("", c).map_err(sql_error::db);
    let tenant = TenantId::new(get_s("tenant")?)?;
    let seq: i64 = row.try_get("", "seq").map_err(sql_error::db)?;
    let at: i64 = row.try_get("", "at").map_err(sql_error::db)?;
    let prev: Vec<u8> = row.try_get("", "prev_hash").map_err(sql_error::db)?;
    let hash: Vec<u8> = row.try_get("", "hash").map_err(sql_error::db)?;
    Ok(AuditRecord {
        seq: u64::try_from(seq).unwrap_or(0),
        entry: AuditEntry {
            tenant,
            actor: get_s("actor")?,
            action: get_s("action")?,
            target: get_s("target")?,
            ip: get_o("ip")?,
            user_agent: get_o("user_agent")?,
        },
        at: crate::util::from_millis(at),
        prev_hash: to_hash(&prev),
        hash: to_hash(&hash),
    })
}

#[async_trait::async_trait]
impl AuditLog for SqlAuditLog {
    #[tracing::instrument(name = "baas_store.audit.append", skip_all, fields(tenant = %entry.tenant))]
    async fn append(&self, entry: AuditEntry) -> Result<AuditRecord, Error> {
        crate::telemetry::observed("sql", "audit.append", async {
            entry.validate()?;
            let lane = self.lanes.of(&entry.tenant);
            let (reply, outcome) = tokio::sync::oneshot::channel();
            if self.lanes.enqueue(lane, (entry, reply)) {
                let writer = self.clone();
                tokio::spawn(writer.drain(lane));
            }
            // The writer answers every append it takes, or drops the reply when it
            // stops early; the lane then fails what still waits.
            outcome.await.unwrap_or_else(|_| Err(lanes::stopped()))
        })
        .await
    }

    #[tracing::instrument(name = "baas_store.audit.list", skip_all, fields(tenant = %tenant))]
    async fn list(
        &self,
        tenant: &TenantId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, Error> {
        crate::telemetry::observed("sql", "audit.list", async {
            check_limit(limit)?;
            list_on(self.db.connection(), tenant, after, limit).await
        })
        .await
    }

    #[tracing::instrument(name = "baas_store.audit.verify", skip_all, fields(tenant = %tenant))]
    async fn verify(&self, tenant: &TenantId) -> Result<AuditVerification, Error> {
        crate::telemetry::observed("sql", "audit.verify", async {
            // One read transaction, so the head and the records are one snapshot: appends
            // racing with the walk are not mistaken for tampering (REPEATABLE READ on
            // Postgres; a SQLite read transaction is a snapshot already).
            let conn = self.db.connection();
            let tx = if conn.get_database_backend() == DbBackend::Postgres {
                conn.begin_with_config(
                    Some(IsolationLevel::RepeatableRead),
                    Some(AccessMode::ReadOnly),
                )
                .await
            } else {
                conn.begin().await
            }
            .map_err(sql_error::db)?;
            let head = head_on(&tx, tenant).await?;
            let mut verifier = Verifier::new();
            let mut after = 0;
            loop {
                let page = list_on(&tx, tenant, after, 1000).await?;
                let Some(last) = page.last() else { break };
                after = last.seq;
                for r in &page {
                    if let Some(broken) = verifier.step(r) {
                        return Ok(broken);
                    }
                }
            }
            tx.commit().await.map_err(sql_error::db)?;
            Ok(verifier.finish(head))
        })
        .await
    }
}

#[cfg(any(test, feature = "testing"))]
#[async_trait::async_trait]
impl crate::testing::AuditTamper for SqlAuditLog {
    async fn set_action(&self, tenant: &TenantId, seq: u64, action: &str) {
        let stmt = Query::update()
            .table(A::Table)
            .value(A::Action, action)
            .and_where(
                Expr::col(A::Tenant)
                    .eq(tenant.as_str())
                    .and(Expr::col(A::Seq).eq(i64::try_from(seq).expect("seq"))),
            )
            .to_owned();
        self.db.connection().execute(&stmt).await.expect("tamper");
    }

    async fn remove(&self, tenant: &TenantId, seq: u64) {
        let stmt = Query::delete()
            .from_table(A::Table)
            .and_where(
                Expr::col(A::Tenant)
                    .eq(tenant.as_str())
                    .and(Expr::col(A::Seq).eq(i64::try_from(seq).expect("seq"))),
            )
            .to_owned();
        self.db.connection().execute(&stmt).await.expect("tamper");
    }

    async fn insert_raw(&self, record: &AuditRecord) {
        let stmt: sea_orm::sea_query::InsertStatement = Query::insert()
            .into_table(A::Table)
            .columns(COLUMNS)
            .values_panic(row_values(record).expect("seq"))
            .to_owned();
        self.db.connection().execute(&stmt).await.expect("tamper");
    }
}

//! The SQL [`AuditLog`].
//!
//! Appends are serialised by the database: the record's primary key `(tenant, seq)`
//! admits one record per position, and the head row of `audit_heads` moves only from
//! the sequence number the appender read (`UPDATE … WHERE seq = read`), both in one
//! transaction. A loser of a race rolls back and retries from the new head, so the chain
//! never forks, on SQLite or Postgres, in one process or many.
//!
//! Within one process, appends to one tenant's chain also queue on an async lock (one
//! of [`STRIPES`], chosen by the tenant), so concurrent requests of a process never race
//! each other for the head: without it, `n` concurrent appends cost about `n²/2` write
//! transactions, almost all of them lost races. Races remain possible only between
//! processes, and the retry above settles them.

use std::hash::{Hash as _, Hasher as _};
use std::sync::Arc;

use baas_core::clock::SharedClock;
use baas_core::{Error, ErrorKind, TenantId};
use sea_orm::sea_query::{Expr, ExprTrait, InsertStatement, Order, Query};
use sea_orm::{
    AccessMode, ConnectionTrait, DbBackend, IsolationLevel, QueryResult, TransactionTrait,
};

use super::chain::{AuditEntry, AuditRecord, AuditVerification, GENESIS_HASH, Verifier};
use super::{AuditLog, check_limit};
use crate::database::Database;
use crate::schema::{AuditHeads as H, AuditLog as A};
use crate::sql_error;
use crate::util::millis;

/// How often an append retries after losing a race for the head.
const APPEND_ATTEMPTS: usize = 64;

/// How many in-process append locks tenants are spread over.
const STRIPES: usize = 64;

/// The audit log in the `audit_log` and `audit_heads` tables of a [`Database`].
#[derive(Debug, Clone)]
pub struct SqlAuditLog {
    db: Database,
    clock: SharedClock,
    /// In-process append locks, shared by clones; see the [module docs](self).
    stripes: Arc<[tokio::sync::Mutex<()>]>,
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
            stripes: (0..STRIPES).map(|_| tokio::sync::Mutex::new(())).collect(),
        }
    }

    /// The in-process lock of `tenant`'s chain.
    fn stripe(&self, tenant: &TenantId) -> &tokio::sync::Mutex<()> {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        tenant.as_str().hash(&mut hasher);
        // The remainder of a division by STRIPES always fits in usize.
        let index = (hasher.finish() % STRIPES as u64) as usize;
        &self.stripes[index]
    }

    /// One attempt: `Ok(None)` when another appender moved the head first.
    async fn try_append(&self, entry: &AuditEntry) -> Result<Option<AuditRecord>, Error> {
        let head = head_on(self.db.connection(), &entry.tenant).await?;
        let (seq, prev) = head.unwrap_or((0, GENESIS_HASH));
        let record = AuditRecord::seal(entry.clone(), seq + 1, millis(self.clock.now()), prev);
        let new_seq = i64::try_from(record.seq).map_err(|_| Error::internal("audit chain full"))?;
        let insert = insert_stmt(&record)?;
        let tx = self.db.connection().begin().await.map_err(sql_error::db)?;
        let e = &record.entry;
        match tx.execute(&insert).await.map_err(sql_error::db) {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::Conflict => return Ok(None),
            Err(e) => return Err(e),
        }
        let moved = if head.is_some() {
            let update = Query::update()
                .table(H::Table)
                .value(H::Seq, new_seq)
                .value(H::Hash, record.hash.to_vec())
                .and_where(
                    Expr::col(H::Tenant)
                        .eq(e.tenant.as_str())
                        .and(Expr::col(H::Seq).eq(new_seq - 1)),
                )
                .to_owned();
            tx.execute(&update)
                .await
                .map_err(sql_error::db)?
                .rows_affected()
                == 1
        } else {
            let insert = Query::insert()
                .into_table(H::Table)
                .columns([H::Tenant, H::Seq, H::Hash])
                .values_panic([
                    e.tenant.as_str().into(),
                    new_seq.into(),
                    record.hash.to_vec().into(),
                ])
                .to_owned();
            match tx.execute(&insert).await.map_err(sql_error::db) {
                Ok(_) => true,
                Err(e) if e.kind() == ErrorKind::Conflict => false,
                Err(e) => return Err(e),
            }
        };
        if !moved {
            tx.rollback().await.map_err(sql_error::db)?;
            return Ok(None);
        }
        tx.commit().await.map_err(sql_error::db)?;
        Ok(Some(record))
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

fn insert_stmt(record: &AuditRecord) -> Result<InsertStatement, Error> {
    let e = &record.entry;
    let seq = i64::try_from(record.seq).map_err(|_| Error::internal("audit chain full"))?;
    Ok(Query::insert()
        .into_table(A::Table)
        .columns(COLUMNS)
        .values_panic([
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
        .to_owned())
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
            let _turn = self.stripe(&entry.tenant).lock().await;
            for _ in 0..APPEND_ATTEMPTS {
                if let Some(record) = self.try_append(&entry).await? {
                    return Ok(record);
                }
                tokio::task::yield_now().await;
            }
            Err(Error::new(
                ErrorKind::Unavailable,
                "audit log is contended; try again",
            ))
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
        let stmt = insert_stmt(record).expect("seq");
        self.db.connection().execute(&stmt).await.expect("tamper");
    }
}

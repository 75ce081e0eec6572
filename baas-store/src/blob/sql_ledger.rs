//! [`SqlBlobLedger`]: the quota ledger in SQLite or Postgres, through sea-orm.
//!
//! Tables come from the migrations `m20261127_000100_blobs` and
//! `m20261127_000300_blob_versions`. Every statement is built with sea-query and bound
//! parameters. Every write runs in a transaction that holds the tenant's usage row
//! before it reads anything, so a tenant's reservations, commits, releases and removals
//! are serialised: on SQLite the transaction begins `IMMEDIATE` (it holds the
//! database's write lock from its first step, which serialises every writer), on
//! Postgres its first statement locks the usage row (an upsert). Usage moves by one
//! upsert of the usage row; a reservation is such an upsert adding `n` to
//! `bytes_reserved` only where `bytes_used + bytes_reserved + n <= limit`, plus the
//! upload's row in `blob_reservations`; giving it back deletes that row and subtracts
//! exactly the bytes it held, so `bytes_reserved` never goes below zero however often
//! a reservation is released, committed or expired.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use baas_core::{Error, TenantId};
use sea_orm::sea_query::{Expr, ExprTrait as _, OnConflict, Order, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, QueryResult};

use super::migration::{BlobObjects as O, BlobReservations as R, TenantUsage as U};
use super::quota::{BlobLedger, Committed, UploadId};
use super::store::{BlobMeta, Usage};
use crate::group_commit::{GroupCommit, after_group_failure};
use crate::sql_error::db as from_db; // the one DbErr mapping of this crate

/// A [`BlobLedger`] in the database (`blob_objects`, `tenant_usage`).
///
/// Run the framework's migrations (or `m20261127_000100_blobs` and
/// `m20261127_000300_blob_versions`) first.
///
/// On SQLite, concurrent [`commit`](BlobLedger::commit)s of single-part puts (no
/// reservation) are written together: one transaction per group of up to
/// 64 commits, each still applied in turn with its own quota check (see
/// [`group_commit`](crate::group_commit)). SQLite runs one write transaction at a time
/// anyway, so a group costs one `BEGIN` and one `COMMIT` instead of one each per
/// upload. Made by [`SqlBlobLedger::for_database`], the group goes to SQLite as one
/// [`Database::write_script`](crate::Database::write_script): three statements per
/// commit that need no answer in between, one round trip to SQLite's thread for the
/// whole group. Postgres keeps one transaction per commit (its row locks let commits
/// of different tenants run at once).
#[derive(Debug, Clone)]
pub struct SqlBlobLedger {
    db: DatabaseConnection,
    /// Where `get`, `list` and `usage` read (`db` unless made by
    /// [`SqlBlobLedger::for_database`]).
    reads: crate::ReadConnection,
    /// Where its write transactions run (`db` unless made by [`SqlBlobLedger::for_database`]).
    writer: DatabaseConnection,
    /// Commits waiting to be written together (SQLite only).
    group: Option<GroupCommit<CommitCall, Committed>>,
    /// Where a group of commits runs as one script (SQLite, made by
    /// [`SqlBlobLedger::for_database`]).
    scripts: Option<crate::Database>,
}

/// The most commits one grouped transaction carries.
const COMMIT_GROUP: usize = 64;

/// One [`BlobLedger::commit`] waiting for its group.
#[derive(Debug)]
pub(super) struct CommitCall {
    pub(super) tenant: TenantId,
    pub(super) meta: BlobMeta,
    pub(super) limit: Option<u64>,
}

impl SqlBlobLedger {
    /// A ledger on `db`: reads and write transactions on the same pool.
    pub fn new(db: DatabaseConnection) -> Self {
        let reads = crate::ReadConnection::pooled(db.clone());
        Self::on(db.clone(), reads, db)
    }

    fn on(
        db: DatabaseConnection,
        reads: crate::ReadConnection,
        writer: DatabaseConnection,
    ) -> Self {
        let group = (writer.get_database_backend() == DbBackend::Sqlite)
            .then(|| GroupCommit::new(COMMIT_GROUP));
        SqlBlobLedger {
            db,
            reads,
            writer,
            group,
            scripts: None,
        }
    }

    /// A ledger in `db`: `get`, `list` and `usage` on [`Database::reads`], write
    /// transactions (reserve, commit, release, remove) on
    /// [`Database::write_connection`], as every baas-store writer does.
    ///
    /// [`Database::reads`]: crate::Database::reads
    /// [`Database::write_connection`]: crate::Database::write_connection
    pub fn for_database(db: &crate::Database) -> Self {
        #[allow(unused_mut)]
        let mut ledger = Self::on(
            db.connection().clone(),
            db.reads().clone(),
            db.write_connection().clone(),
        );
        #[cfg(feature = "sqlite")]
        if db.engine() == crate::Engine::Sqlite {
            ledger.scripts = Some(db.clone());
        }
        ledger
    }
}

/// Apply one commit inside `txn`: the body of [`BlobLedger::commit`]. `Ok(OverQuota)`
/// when the limit refuses it; then nothing was written unless `upload` was taken (the
/// caller rolls back).
async fn commit_in(
    txn: &DatabaseTransaction,
    tenant: &TenantId,
    meta: &BlobMeta,
    upload: Option<UploadId>,
    limit: Option<u64>,
) -> Result<Committed, Error> {
    let old = select_meta(txn, tenant, &meta.key).await?;
    let delta = to_i64(meta.size) - old.as_ref().map_or(0, |o| to_i64(o.size));
    let own = match upload {
        Some(upload) => take_reservation(txn, tenant, upload).await?,
        None => 0,
    };
    // One statement moves the usage and, when it grows against a limit, checks it:
    // used + delta + (reserved - own) <= limit, else no row is touched and nothing
    // is recorded. A same-size replacement with no reservation moves nothing.
    let limit = limit.filter(|_| delta > 0);
    if !upsert_usage(txn, tenant, delta, -own, limit).await? {
        return Ok(Committed::OverQuota);
    }
    // One upsert, whether the key is new or replaced.
    let stmt = Query::insert()
        .into_table(O::Table)
        .columns(std::iter::once(O::Tenant).chain(META_COLUMNS))
        .values_panic(meta_row(tenant, meta))
        .on_conflict(replace_on_key())
        .to_owned();
    txn.execute(&stmt).await.map_err(from_db)?;
    Ok(Committed::Stored { replaced: old })
}

/// One commit in its own transaction.
async fn commit_alone(
    writer: &DatabaseConnection,
    tenant: &TenantId,
    meta: &BlobMeta,
    upload: Option<UploadId>,
    limit: Option<u64>,
) -> Result<Committed, Error> {
    let txn = begin_write(writer, tenant).await?;
    let committed = commit_in(&txn, tenant, meta, upload, limit).await?;
    if committed == Committed::OverQuota {
        // Gives back a reservation taken above.
        txn.rollback().await.map_err(from_db)?;
    } else {
        txn.commit().await.map_err(from_db)?;
    }
    Ok(committed)
}

/// A group of commits (no reservations, so an over-quota one wrote nothing) in one
/// transaction, each in turn. If the group fails as a whole for a reason other than the
/// database's unavailability, each commit is written again alone, so one bad commit
/// never fails the others.
async fn commit_group(
    writer: &DatabaseConnection,
    scripts: Option<&crate::Database>,
    calls: Vec<CommitCall>,
) -> Vec<Result<Committed, Error>> {
    #[cfg(feature = "sqlite")]
    if let Some(db) = scripts {
        return match super::sql_commit_script::commit_script(db, &calls).await {
            Ok(out) => out.into_iter().map(Ok).collect(),
            Err(err) => {
                after_group_failure(&calls, err, |call| {
                    commit_alone(writer, &call.tenant, &call.meta, None, call.limit)
                })
                .await
            }
        };
    }
    #[cfg(not(feature = "sqlite"))]
    let _ = scripts;
    if let [call] = calls.as_slice() {
        return vec![commit_alone(writer, &call.tenant, &call.meta, None, call.limit).await];
    }
    let grouped = async {
        let txn = crate::database::begin_write_on(writer)
            .await
            .map_err(from_db)?;
        let mut out = Vec::with_capacity(calls.len());
        for call in &calls {
            out.push(commit_in(&txn, &call.tenant, &call.meta, None, call.limit).await?);
        }
        txn.commit().await.map_err(from_db)?;
        Ok::<_, Error>(out)
    };
    match grouped.await {
        Ok(out) => out.into_iter().map(Ok).collect(),
        Err(err) => {
            after_group_failure(&calls, err, |call| {
                commit_alone(writer, &call.tenant, &call.meta, None, call.limit)
            })
            .await
        }
    }
}

pub(super) fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

pub(super) fn millis(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The values of a `blob_objects` row: the tenant, then `meta` in [`META_COLUMNS`]' order.
pub(super) fn meta_row(tenant: &TenantId, meta: &BlobMeta) -> [Expr; 7] {
    let version = (!meta.version.is_empty()).then(|| meta.version.clone());
    [
        Expr::val(tenant.as_str()),
        Expr::val(meta.key.as_str()),
        Expr::val(to_i64(meta.size)),
        Expr::val(meta.content_type.as_str()),
        Expr::val(meta.sha256.as_str()),
        Expr::val(millis(meta.created_at)),
        Expr::val(version),
    ]
}

/// An insert into `blob_objects` that replaces the key's row when it exists: every
/// column but the key takes the new value.
pub(super) fn replace_on_key() -> OnConflict {
    OnConflict::columns([O::Tenant, O::Key])
        .update_columns(META_COLUMNS.into_iter().filter(|c| !matches!(c, O::Key)))
        .to_owned()
}

pub(super) const META_COLUMNS: [O; 6] = [
    O::Key,
    O::Size,
    O::ContentType,
    O::Sha256,
    O::CreatedAt,
    O::Version,
];

pub(super) fn meta_of(row: &QueryResult) -> Result<BlobMeta, Error> {
    let get_i64 = |c: &str| row.try_get::<i64>("", c).map_err(from_db);
    let get_str = |c: &str| row.try_get::<String>("", c).map_err(from_db);
    Ok(BlobMeta {
        key: get_str("key")?,
        size: u64::try_from(get_i64("size")?).unwrap_or(0),
        content_type: get_str("content_type")?,
        sha256: get_str("sha256")?,
        created_at: UNIX_EPOCH
            + Duration::from_millis(u64::try_from(get_i64("created_at")?).unwrap_or(0)),
        version: row
            .try_get::<Option<String>>("", "version")
            .map_err(from_db)?
            .unwrap_or_default(),
    })
}

/// Begin a write transaction that holds `tenant`'s usage row: every write starts here,
/// so a tenant's writes are serialised. On SQLite, `BEGIN IMMEDIATE` takes the write
/// lock at once (the transaction never has to upgrade a read snapshot, and no other
/// writer runs until it ends); on Postgres, the first statement locks the usage row.
async fn begin_write(
    db: &DatabaseConnection,
    tenant: &TenantId,
) -> Result<DatabaseTransaction, Error> {
    let txn = crate::database::begin_write_on(db).await.map_err(from_db)?;
    if db.get_database_backend() != DbBackend::Sqlite {
        lock_usage_row(&txn, tenant).await?;
    }
    Ok(txn)
}

/// Make the tenant's usage row if missing and lock it (an upsert that always writes),
/// in one statement.
async fn lock_usage_row<C: ConnectionTrait>(c: &C, tenant: &TenantId) -> Result<(), Error> {
    let stmt = Query::insert()
        .into_table(U::Table)
        .columns([U::Tenant, U::BytesUsed, U::BytesReserved])
        .values_panic([tenant.as_str().into(), 0i64.into(), 0i64.into()])
        .on_conflict(
            OnConflict::column(U::Tenant)
                .value(U::BytesReserved, Expr::col((U::Table, U::BytesReserved)))
                .to_owned(),
        )
        .to_owned();
    c.execute(&stmt).await.map_err(from_db)?;
    Ok(())
}

/// Move the tenant's usage by `used` and `reserved` bytes in one statement, making the
/// usage row when it is missing. With a `limit`, the row is touched only if
/// `bytes_used + bytes_reserved <= limit` afterwards; returns whether the move was made.
/// A move of nothing with no limit to check writes nothing.
async fn upsert_usage<C: ConnectionTrait>(
    c: &C,
    tenant: &TenantId,
    used: i64,
    reserved: i64,
    limit: Option<u64>,
) -> Result<bool, Error> {
    let limit = limit.map(to_i64);
    match limit {
        None if used == 0 && reserved == 0 => return Ok(true),
        // A missing row means nothing used or reserved.
        Some(limit) if used + reserved > limit => return Ok(false),
        _ => {}
    }
    let mut on_conflict = OnConflict::column(U::Tenant);
    on_conflict
        .value(U::BytesUsed, Expr::col((U::Table, U::BytesUsed)).add(used))
        .value(
            U::BytesReserved,
            Expr::col((U::Table, U::BytesReserved)).add(reserved),
        );
    if let Some(limit) = limit {
        on_conflict.action_and_where(
            Expr::col((U::Table, U::BytesUsed))
                .add(Expr::col((U::Table, U::BytesReserved)))
                .add(used + reserved)
                .lte(limit),
        );
    }
    let stmt = Query::insert()
        .into_table(U::Table)
        .columns([U::Tenant, U::BytesUsed, U::BytesReserved])
        .values_panic([tenant.as_str().into(), used.into(), reserved.into()])
        .on_conflict(on_conflict.to_owned())
        .to_owned();
    Ok(c.execute(&stmt).await.map_err(from_db)?.rows_affected() == 1)
}

/// Delete `upload`'s reservation row, returning the bytes it held (0 when gone). The
/// caller holds the usage row lock and subtracts them.
async fn take_reservation<C: ConnectionTrait>(
    c: &C,
    tenant: &TenantId,
    upload: UploadId,
) -> Result<i64, Error> {
    let stmt = Query::delete()
        .from_table(R::Table)
        .and_where(Expr::col(R::Id).eq(upload.to_string()))
        .and_where(Expr::col(R::Tenant).eq(tenant.as_str()))
        .returning(Query::returning().column(R::Bytes))
        .to_owned();
    match c.query_one(&stmt).await.map_err(from_db)? {
        Some(row) => row.try_get::<i64>("", "bytes").map_err(from_db),
        None => Ok(0),
    }
}

async fn release_in(
    db: &DatabaseConnection,
    tenant: &TenantId,
    upload: UploadId,
) -> Result<u64, Error> {
    let txn = begin_write(db, tenant).await?;
    let bytes = take_reservation(&txn, tenant, upload).await?;
    upsert_usage(&txn, tenant, 0, -bytes, None).await?;
    txn.commit().await.map_err(from_db)?;
    Ok(u64::try_from(bytes).unwrap_or(0))
}

async fn select_meta<C: ConnectionTrait>(
    c: &C,
    tenant: &TenantId,
    key: &str,
) -> Result<Option<BlobMeta>, Error> {
    let stmt = Query::select()
        .columns(META_COLUMNS)
        .from(O::Table)
        .and_where(Expr::col(O::Tenant).eq(tenant.as_str()))
        .and_where(Expr::col(O::Key).eq(key))
        .to_owned();
    c.query_one(&stmt)
        .await
        .map_err(from_db)?
        .as_ref()
        .map(meta_of)
        .transpose()
}

#[async_trait]
impl BlobLedger for SqlBlobLedger {
    async fn reserve(
        &self,
        tenant: &TenantId,
        upload: UploadId,
        bytes: u64,
        limit: u64,
        expires_at: SystemTime,
    ) -> Result<bool, Error> {
        let n = to_i64(bytes);
        let txn = begin_write(&self.writer, tenant).await?;
        if !upsert_usage(&txn, tenant, 0, n, Some(limit)).await? {
            txn.rollback().await.map_err(from_db)?;
            return Ok(false);
        }
        let id = upload.to_string();
        let grow = Query::update()
            .table(R::Table)
            .value(R::Bytes, Expr::col(R::Bytes).add(n))
            .value(R::ExpiresAt, millis(expires_at))
            .and_where(Expr::col(R::Id).eq(id.as_str()))
            .and_where(Expr::col(R::Tenant).eq(tenant.as_str()))
            .to_owned();
        if txn.execute(&grow).await.map_err(from_db)?.rows_affected() == 0 {
            let insert = Query::insert()
                .into_table(R::Table)
                .columns([R::Id, R::Tenant, R::Bytes, R::ExpiresAt])
                .values_panic([
                    id.into(),
                    tenant.as_str().into(),
                    n.into(),
                    millis(expires_at).into(),
                ])
                .to_owned();
            txn.execute(&insert).await.map_err(from_db)?;
        }
        txn.commit().await.map_err(from_db)?;
        Ok(true)
    }

    async fn release(&self, tenant: &TenantId, upload: UploadId) -> Result<u64, Error> {
        release_in(&self.writer, tenant, upload).await
    }

    async fn commit(
        &self,
        tenant: &TenantId,
        meta: &BlobMeta,
        upload: Option<UploadId>,
        limit: Option<u64>,
    ) -> Result<Committed, Error> {
        match (&self.group, upload) {
            (Some(group), None) => {
                let writer = self.writer.clone();
                let scripts = self.scripts.clone();
                let call = CommitCall {
                    tenant: tenant.clone(),
                    meta: meta.clone(),
                    limit,
                };
                group
                    .submit(call, 1, move |calls| {
                        let writer = writer.clone();
                        let scripts = scripts.clone();
                        async move { commit_group(&writer, scripts.as_ref(), calls).await }
                    })
                    .await
            }
            _ => commit_alone(&self.writer, tenant, meta, upload, limit).await,
        }
    }

    async fn remove(&self, tenant: &TenantId, key: &str) -> Result<Option<BlobMeta>, Error> {
        // Hold the usage row first, in the same order as `commit`.
        let txn = begin_write(&self.writer, tenant).await?;
        let stmt = Query::delete()
            .from_table(O::Table)
            .and_where(Expr::col(O::Tenant).eq(tenant.as_str()))
            .and_where(Expr::col(O::Key).eq(key))
            .returning(Query::returning().columns(META_COLUMNS))
            .to_owned();
        let old = txn
            .query_one(&stmt)
            .await
            .map_err(from_db)?
            .as_ref()
            .map(meta_of)
            .transpose()?;
        if let Some(old) = &old {
            upsert_usage(&txn, tenant, -to_i64(old.size), 0, None).await?;
        }
        txn.commit().await.map_err(from_db)?;
        Ok(old)
    }

    async fn get(&self, tenant: &TenantId, key: &str) -> Result<Option<BlobMeta>, Error> {
        select_meta(&self.reads, tenant, key).await
    }

    async fn list(
        &self,
        tenant: &TenantId,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<BlobMeta>, Error> {
        let mut stmt = Query::select();
        stmt.columns(META_COLUMNS)
            .from(O::Table)
            .and_where(Expr::col(O::Tenant).eq(tenant.as_str()))
            .order_by(O::Key, Order::Asc)
            .limit(u64::try_from(limit).unwrap_or(u64::MAX));
        if !prefix.is_empty() {
            // Keys sort by bytes and never contain U+10FFFF, so this is exactly the
            // keys starting with `prefix`, as an index range.
            stmt.and_where(Expr::col(O::Key).gte(prefix))
                .and_where(Expr::col(O::Key).lt(format!("{prefix}\u{10FFFF}")));
        }
        if let Some(after) = after {
            stmt.and_where(Expr::col(O::Key).gt(after));
        }
        let rows = self.reads.query_all(&stmt).await.map_err(from_db)?;
        rows.iter().map(meta_of).collect()
    }

    async fn usage(&self, tenant: &TenantId) -> Result<Usage, Error> {
        let stmt = Query::select()
            .columns([U::BytesUsed, U::BytesReserved])
            .from(U::Table)
            .and_where(Expr::col(U::Tenant).eq(tenant.as_str()))
            .to_owned();
        let Some(row) = self.reads.query_one(&stmt).await.map_err(from_db)? else {
            return Ok(Usage::default());
        };
        let get = |c: &str| {
            row.try_get::<i64>("", c)
                .map(|v| u64::try_from(v).unwrap_or(0))
                .map_err(from_db)
        };
        Ok(Usage {
            bytes_used: get("bytes_used")?,
            bytes_reserved: get("bytes_reserved")?,
        })
    }

    async fn expire_reservations(&self, now: SystemTime) -> Result<u64, Error> {
        let mut released = 0;
        loop {
            let stmt = Query::select()
                .columns([R::Id, R::Tenant])
                .from(R::Table)
                .and_where(Expr::col(R::ExpiresAt).lte(millis(now)))
                .limit(500)
                .to_owned();
            let rows = self.db.query_all(&stmt).await.map_err(from_db)?;
            if rows.is_empty() {
                return Ok(released);
            }
            for row in &rows {
                let id: String = row.try_get("", "id").map_err(from_db)?;
                let tenant: String = row.try_get("", "tenant").map_err(from_db)?;
                let (Ok(upload), Ok(tenant)) = (UploadId::parse_str(&id), TenantId::new(tenant))
                else {
                    // Not ours to interpret: drop the row so the loop ends.
                    let stmt = Query::delete()
                        .from_table(R::Table)
                        .and_where(Expr::col(R::Id).eq(id))
                        .to_owned();
                    self.db.execute(&stmt).await.map_err(from_db)?;
                    continue;
                };
                release_in(&self.writer, &tenant, upload).await?;
                released += 1;
            }
        }
    }
}

//! [`SqlBlobLedger`]: the quota ledger in SQLite or Postgres, through sea-orm.
//!
//! Tables come from the migration `m20261127_000100_blobs`. Every statement is built
//! with sea-query and bound parameters. A reservation is one conditional `UPDATE …
//! SET bytes_reserved = bytes_reserved + n WHERE tenant = ? AND bytes_used +
//! bytes_reserved + n <= limit`, so concurrent reservations cannot overshoot; commits
//! and removals run in a transaction that first locks the tenant's usage row.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use baas_core::{Error, TenantId};
use sea_orm::sea_query::{Expr, ExprTrait as _, OnConflict, Order, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, QueryResult, TransactionTrait as _};

use super::migration::{BlobObjects as O, TenantUsage as U};
use super::quota::BlobLedger;
use super::store::{BlobMeta, Usage};
use crate::sql_error::db as from_db; // the one DbErr mapping of this crate

/// A [`BlobLedger`] in the database (`blob_objects`, `tenant_usage`).
///
/// Run the migration `m20261127_000100_blobs` first.
#[derive(Debug, Clone)]
pub struct SqlBlobLedger {
    db: DatabaseConnection,
}

impl SqlBlobLedger {
    /// A ledger on `db`.
    pub fn new(db: DatabaseConnection) -> Self {
        SqlBlobLedger { db }
    }
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn millis(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

const META_COLUMNS: [O; 5] = [O::Key, O::Size, O::ContentType, O::Sha256, O::CreatedAt];

fn meta_of(row: &QueryResult) -> Result<BlobMeta, Error> {
    let get_i64 = |c: &str| row.try_get::<i64>("", c).map_err(from_db);
    let get_str = |c: &str| row.try_get::<String>("", c).map_err(from_db);
    Ok(BlobMeta {
        key: get_str("key")?,
        size: u64::try_from(get_i64("size")?).unwrap_or(0),
        content_type: get_str("content_type")?,
        sha256: get_str("sha256")?,
        created_at: UNIX_EPOCH
            + Duration::from_millis(u64::try_from(get_i64("created_at")?).unwrap_or(0)),
    })
}

async fn ensure_usage_row<C: ConnectionTrait>(c: &C, tenant: &TenantId) -> Result<(), Error> {
    let stmt = Query::insert()
        .into_table(U::Table)
        .columns([U::Tenant, U::BytesUsed, U::BytesReserved])
        .values_panic([tenant.as_str().into(), 0i64.into(), 0i64.into()])
        .on_conflict(OnConflict::column(U::Tenant).do_nothing().to_owned())
        .to_owned();
    c.execute(&stmt).await.map_err(from_db)?;
    Ok(())
}

/// `UPDATE tenant_usage SET bytes_reserved = bytes_reserved - n` — also takes the
/// row lock that serialises a tenant's commits and removals.
async fn unreserve<C: ConnectionTrait>(c: &C, tenant: &TenantId, n: u64) -> Result<(), Error> {
    let stmt = Query::update()
        .table(U::Table)
        .value(U::BytesReserved, Expr::col(U::BytesReserved).sub(to_i64(n)))
        .and_where(Expr::col(U::Tenant).eq(tenant.as_str()))
        .to_owned();
    c.execute(&stmt).await.map_err(from_db)?;
    Ok(())
}

async fn add_used<C: ConnectionTrait>(c: &C, tenant: &TenantId, delta: i64) -> Result<(), Error> {
    let stmt = Query::update()
        .table(U::Table)
        .value(U::BytesUsed, Expr::col(U::BytesUsed).add(delta))
        .and_where(Expr::col(U::Tenant).eq(tenant.as_str()))
        .to_owned();
    c.execute(&stmt).await.map_err(from_db)?;
    Ok(())
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
    async fn reserve(&self, tenant: &TenantId, bytes: u64, limit: u64) -> Result<bool, Error> {
        ensure_usage_row(&self.db, tenant).await?;
        let n = to_i64(bytes);
        let stmt = Query::update()
            .table(U::Table)
            .value(U::BytesReserved, Expr::col(U::BytesReserved).add(n))
            .and_where(Expr::col(U::Tenant).eq(tenant.as_str()))
            .and_where(
                Expr::col(U::BytesUsed)
                    .add(Expr::col(U::BytesReserved))
                    .add(n)
                    .lte(to_i64(limit)),
            )
            .to_owned();
        let done = self.db.execute(&stmt).await.map_err(from_db)?;
        Ok(done.rows_affected() == 1)
    }

    async fn release(&self, tenant: &TenantId, bytes: u64) -> Result<(), Error> {
        unreserve(&self.db, tenant, bytes).await
    }

    async fn commit(
        &self,
        tenant: &TenantId,
        meta: &BlobMeta,
        reserved: u64,
    ) -> Result<Option<BlobMeta>, Error> {
        let txn = self.db.begin().await.map_err(from_db)?;
        ensure_usage_row(&txn, tenant).await?;
        unreserve(&txn, tenant, reserved).await?;
        let old = select_meta(&txn, tenant, &meta.key).await?;
        let values = [
            (O::Size, to_i64(meta.size).into()),
            (O::ContentType, meta.content_type.as_str().into()),
            (O::Sha256, meta.sha256.as_str().into()),
            (O::CreatedAt, millis(meta.created_at).into()),
        ];
        if old.is_some() {
            let stmt = Query::update()
                .table(O::Table)
                .values(values)
                .and_where(Expr::col(O::Tenant).eq(tenant.as_str()))
                .and_where(Expr::col(O::Key).eq(meta.key.as_str()))
                .to_owned();
            txn.execute(&stmt).await.map_err(from_db)?;
        } else {
            let stmt = Query::insert()
                .into_table(O::Table)
                .columns([
                    O::Tenant,
                    O::Key,
                    O::Size,
                    O::ContentType,
                    O::Sha256,
                    O::CreatedAt,
                ])
                .values_panic(
                    [tenant.as_str().into(), meta.key.as_str().into()]
                        .into_iter()
                        .chain(values.into_iter().map(|(_, v)| v)),
                )
                .to_owned();
            txn.execute(&stmt).await.map_err(from_db)?;
        }
        let delta = to_i64(meta.size) - old.as_ref().map_or(0, |o| to_i64(o.size));
        add_used(&txn, tenant, delta).await?;
        txn.commit().await.map_err(from_db)?;
        Ok(old)
    }

    async fn remove(&self, tenant: &TenantId, key: &str) -> Result<Option<BlobMeta>, Error> {
        let txn = self.db.begin().await.map_err(from_db)?;
        // Lock the usage row first, in the same order as `commit`.
        unreserve(&txn, tenant, 0).await?;
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
            add_used(&txn, tenant, -to_i64(old.size)).await?;
        }
        txn.commit().await.map_err(from_db)?;
        Ok(old)
    }

    async fn get(&self, tenant: &TenantId, key: &str) -> Result<Option<BlobMeta>, Error> {
        select_meta(&self.db, tenant, key).await
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
        let rows = self.db.query_all(&stmt).await.map_err(from_db)?;
        rows.iter().map(meta_of).collect()
    }

    async fn usage(&self, tenant: &TenantId) -> Result<Usage, Error> {
        let stmt = Query::select()
            .columns([U::BytesUsed, U::BytesReserved])
            .from(U::Table)
            .and_where(Expr::col(U::Tenant).eq(tenant.as_str()))
            .to_owned();
        let Some(row) = self.db.query_one(&stmt).await.map_err(from_db)? else {
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
}

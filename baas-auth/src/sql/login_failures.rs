//! [`SqlLoginFailureStore`] and the migration of its table, `baas_auth_login_failures`.

use std::time::Duration;

use async_trait::async_trait;
use baas_core::{SharedClock, TenantId};
use baas_store::Database;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ConnectionTrait, DeriveIden, QueryResult};
use sea_orm_migration::prelude::*;

use super::error::db;
use super::{duration_millis, from_millis, millis};
use crate::error::AuthError;
use crate::login_failures::{AccountDigest, FailureWindow, LoginFailureStore};

/// `baas_auth_login_failures`: one row per tenant and account (email digest) with the
/// current window's start and its failure count.
#[derive(DeriveIden, Clone, Copy)]
enum LoginFailures {
    #[sea_orm(iden = "baas_auth_login_failures")]
    Table,
    Tenant,
    Account,
    WindowStart,
    Failures,
}

use LoginFailures as F;

/// A [`LoginFailureStore`] in `baas_auth_login_failures` (run
/// [`Migrator`](super::Migrator) first), shared by every process on the database: the
/// account-wide login budget then holds for the whole installation.
///
/// A failure is one `INSERT … ON CONFLICT (tenant, account) DO UPDATE … RETURNING`
/// statement that starts a new window when the stored one has passed and otherwise adds
/// one, so concurrent failures on any number of processes each count once. A read is one
/// primary-key lookup. Rows whose window has passed are reset by the next failure of the
/// same account, and deleted by [`sweep`](LoginFailureStore::sweep).
#[derive(Debug, Clone)]
pub struct SqlLoginFailureStore {
    db: Database,
    clock: SharedClock,
}

impl SqlLoginFailureStore {
    /// A store on `db`, reading time from `clock`.
    pub fn new(db: Database, clock: SharedClock) -> Self {
        Self { db, clock }
    }

    /// Now, and the start of the oldest window still running (later than the cutoff).
    fn now_and_cutoff(&self, window: Duration) -> (i64, i64) {
        let now = millis(self.clock.now());
        (now, now.saturating_sub(duration_millis(window)))
    }
}

fn decode(row: &QueryResult) -> Result<FailureWindow, AuthError> {
    let started: i64 = row.try_get("", "window_start").map_err(db)?;
    let failures: i32 = row.try_get("", "failures").map_err(db)?;
    Ok(FailureWindow {
        started_at: from_millis(started),
        failures: Ord::max(failures, 0).unsigned_abs(),
    })
}

#[async_trait]
impl LoginFailureStore for SqlLoginFailureStore {
    #[tracing::instrument(name = "baas_auth.login_failures.record_failure", skip_all)]
    async fn record_failure(
        &self,
        tenant: &TenantId,
        account: &AccountDigest,
        window: Duration,
    ) -> Result<FailureWindow, AuthError> {
        let (now, cutoff) = self.now_and_cutoff(window);
        // `table.column` is the stored row; every SET expression sees it as it was.
        let passed = || Expr::col((F::Table, F::WindowStart)).lte(cutoff);
        let stmt = Query::insert()
            .into_table(F::Table)
            .columns([F::Tenant, F::Account, F::WindowStart, F::Failures])
            .values_panic([
                tenant.as_str().into(),
                account.as_bytes().to_vec().into(),
                now.into(),
                1i32.into(),
            ])
            .on_conflict(
                OnConflict::columns([F::Tenant, F::Account])
                    .value(
                        F::WindowStart,
                        Expr::case(passed(), now).finally(Expr::col((F::Table, F::WindowStart))),
                    )
                    .value(
                        F::Failures,
                        Expr::case(passed(), 1i32)
                            .finally(Expr::col((F::Table, F::Failures)).add(1i32)),
                    )
                    .to_owned(),
            )
            .returning(Query::returning().columns([F::WindowStart, F::Failures]))
            .to_owned();
        let row = self
            .db
            .connection()
            .query_one(&stmt)
            .await
            .map_err(db)?
            .ok_or_else(|| AuthError::internal("the failure upsert returned no row"))?;
        decode(&row)
    }

    #[tracing::instrument(name = "baas_auth.login_failures.current", skip_all)]
    async fn current(
        &self,
        tenant: &TenantId,
        account: &AccountDigest,
        window: Duration,
    ) -> Result<Option<FailureWindow>, AuthError> {
        let (_, cutoff) = self.now_and_cutoff(window);
        let stmt = Query::select()
            .columns([F::WindowStart, F::Failures])
            .from(F::Table)
            .and_where(Expr::col(F::Tenant).eq(tenant.as_str()))
            .and_where(Expr::col(F::Account).eq(account.as_bytes().to_vec()))
            .and_where(Expr::col(F::WindowStart).gt(cutoff))
            .to_owned();
        self.db
            .connection()
            .query_one(&stmt)
            .await
            .map_err(db)?
            .as_ref()
            .map(decode)
            .transpose()
    }

    #[tracing::instrument(name = "baas_auth.login_failures.sweep", skip_all)]
    async fn sweep(&self, window: Duration) -> Result<u64, AuthError> {
        let (_, cutoff) = self.now_and_cutoff(window);
        let stmt = Query::delete()
            .from_table(F::Table)
            .and_where(Expr::col(F::WindowStart).lte(cutoff))
            .to_owned();
        Ok(self
            .db
            .connection()
            .execute(&stmt)
            .await
            .map_err(db)?
            .rows_affected())
    }
}

/// The migration creating `baas_auth_login_failures`.
pub(crate) struct CreateLoginFailures;

impl MigrationName for CreateLoginFailures {
    fn name(&self) -> &str {
        "m20261128_000003_auth_login_failures"
    }
}

// sea-orm-migration's trait elides the lifetime of `SchemaManager`; so must we.
#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for CreateLoginFailures {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(F::Table)
                .if_not_exists()
                .col(ColumnDef::new(F::Tenant).string_len(64).not_null())
                .col(ColumnDef::new(F::Account).binary().not_null())
                .col(ColumnDef::new(F::WindowStart).big_integer().not_null())
                .col(ColumnDef::new(F::Failures).integer().not_null())
                .primary_key(Index::create().col(F::Tenant).col(F::Account))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .if_not_exists()
                .name("baas_auth_login_failures_window_start")
                .table(F::Table)
                .col(F::WindowStart)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(F::Table).if_exists().to_owned())
            .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

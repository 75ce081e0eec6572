//! [`SqlInstallationStore`] and the migration of its table, `baas_auth_installation`.

use async_trait::async_trait;
use baas_core::TenantId;
use baas_store::Database;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ConnectionTrait, DeriveIden};
use sea_orm_migration::prelude::*;

use super::error::db;
use crate::error::AuthError;
use crate::installation::InstallationStore;

/// `baas_auth_installation`: installation-wide settings, one row per key.
#[derive(DeriveIden, Clone, Copy)]
enum Installation {
    #[sea_orm(iden = "baas_auth_installation")]
    Table,
    Key,
    Value,
}

const OPERATOR_TENANT: &str = "operator_tenant";

/// An [`InstallationStore`] in `baas_auth_installation` (run
/// [`Migrator`](super::Migrator) first). A claim is one `INSERT … ON CONFLICT DO NOTHING`
/// followed by a read, so of any number of processes claiming at once exactly one
/// candidate wins and every process reads the same winner.
#[derive(Debug, Clone)]
pub struct SqlInstallationStore {
    db: Database,
}

impl SqlInstallationStore {
    /// A store on `db`.
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl InstallationStore for SqlInstallationStore {
    #[tracing::instrument(name = "baas_auth.installation.operator_tenant", skip_all)]
    async fn operator_tenant(&self) -> Result<Option<TenantId>, AuthError> {
        let stmt = Query::select()
            .column(Installation::Value)
            .from(Installation::Table)
            .and_where(Expr::col(Installation::Key).eq(OPERATOR_TENANT))
            .to_owned();
        let row = self.db.connection().query_one(&stmt).await.map_err(db)?;
        row.map(|row| {
            let tenant: String = row.try_get("", "value").map_err(db)?;
            TenantId::new(tenant).map_err(AuthError::internal)
        })
        .transpose()
    }

    #[tracing::instrument(name = "baas_auth.installation.claim_operator_tenant", skip_all)]
    async fn claim_operator_tenant(&self, candidate: &TenantId) -> Result<TenantId, AuthError> {
        let claim = Query::insert()
            .into_table(Installation::Table)
            .columns([Installation::Key, Installation::Value])
            .values_panic([OPERATOR_TENANT.into(), candidate.as_str().into()])
            .on_conflict(
                OnConflict::column(Installation::Key)
                    .do_nothing()
                    .to_owned(),
            )
            .to_owned();
        self.db.connection().execute(&claim).await.map_err(db)?;
        self.operator_tenant()
            .await?
            .ok_or_else(|| AuthError::internal("the operator tenant claim was not stored"))
    }
}

/// The migration creating `baas_auth_installation`.
pub(crate) struct CreateInstallation;

impl MigrationName for CreateInstallation {
    fn name(&self) -> &str {
        "m20261127_000002_auth_installation"
    }
}

// sea-orm-migration's trait elides the lifetime of `SchemaManager`; so must we.
#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for CreateInstallation {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Installation::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(Installation::Key)
                        .string_len(64)
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(Installation::Value).text().not_null())
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(
            Table::drop()
                .table(Installation::Table)
                .if_exists()
                .to_owned(),
        )
        .await
    }
}

//! Blob metadata and per-tenant byte usage, for `SqlBlobLedger`.
//!
//! - `blob_objects(tenant, key, size, content_type, sha256, created_at)`, primary key
//!   `(tenant, key)`; `created_at` is Unix milliseconds. On Postgres `key` uses the `C`
//!   collation so keys sort by bytes, as listing pages and prefix ranges need (SQLite
//!   compares bytes already).
//! - `tenant_usage(tenant, bytes_used, bytes_reserved)`, primary key `tenant`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

/// Creates `blob_objects` and `tenant_usage`.
#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

/// Columns of `blob_objects`.
#[derive(Debug, Clone, Copy, DeriveIden)]
pub enum BlobObjects {
    /// The table.
    Table,
    /// Tenant id.
    Tenant,
    /// Object key.
    Key,
    /// Size in bytes.
    Size,
    /// Content type.
    ContentType,
    /// SHA-256, lowercase hex.
    #[sea_orm(iden = "sha256")]
    Sha256,
    /// Unix milliseconds.
    CreatedAt,
    /// Where the bytes live (added by `m20261127_000300_blob_versions`).
    Version,
}

/// Columns of `blob_reservations` (created by `m20261127_000300_blob_versions`).
#[derive(Debug, Clone, Copy, DeriveIden)]
pub enum BlobReservations {
    /// The table.
    Table,
    /// The upload's id.
    Id,
    /// Tenant id.
    Tenant,
    /// Bytes held.
    Bytes,
    /// Unix milliseconds after which the reservation may be released.
    ExpiresAt,
}

/// Columns of `tenant_usage`.
#[derive(Debug, Clone, Copy, DeriveIden)]
pub enum TenantUsage {
    /// The table.
    Table,
    /// Tenant id.
    Tenant,
    /// Bytes of stored objects.
    BytesUsed,
    /// Bytes held by uploads in progress.
    BytesReserved,
}

// async-trait needs the elided form to match the trait's late-bound lifetime.
#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut key = ColumnDef::new(BlobObjects::Key);
        key.string_len(1024).not_null();
        if manager.get_database_backend() == DbBackend::Postgres {
            key.extra("COLLATE \"C\"");
        }
        manager
            .create_table(
                Table::create()
                    .table(BlobObjects::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(BlobObjects::Tenant)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(key)
                    .col(ColumnDef::new(BlobObjects::Size).big_integer().not_null())
                    .col(
                        ColumnDef::new(BlobObjects::ContentType)
                            .string_len(255)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(BlobObjects::Sha256)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(BlobObjects::CreatedAt)
                            .big_integer()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(BlobObjects::Tenant)
                            .col(BlobObjects::Key),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TenantUsage::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(TenantUsage::Tenant)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(TenantUsage::BytesUsed)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .col(
                        ColumnDef::new(TenantUsage::BytesReserved)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(TenantUsage::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(
                Table::drop()
                    .table(BlobObjects::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await
    }
}

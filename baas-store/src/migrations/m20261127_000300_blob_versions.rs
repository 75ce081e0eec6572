//! Blob versions and per-upload reservations, for `SqlBlobLedger`.
//!
//! - `blob_objects.version`: where the object's bytes live
//!   (`tenants/<tenant>/blobs/<version>`); every put writes a new version, so a replace
//!   or delete never touches bytes another writer still needs. Rows from before have
//!   none: their bytes stay at `tenants/<tenant>/objects/<key>`.
//! - `blob_reservations(id, tenant, bytes, expires_at)`: the bytes each upload in
//!   progress holds, so a crashed upload's reservation expires (`expires_at` is Unix
//!   milliseconds) instead of holding quota forever.

use sea_orm_migration::prelude::*;

use super::migration::{BlobObjects, BlobReservations};

/// Adds `blob_objects.version` and creates `blob_reservations`.
#[derive(Debug, DeriveMigrationName)]
pub struct Migration;

// async-trait needs the elided form to match the trait's late-bound lifetime.
#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Idempotent, like the table it alters: a database may have been migrated by
        // another migrator that includes this migration.
        if !manager.has_column("blob_objects", "version").await? {
            manager
                .alter_table(
                    Table::alter()
                        .table(BlobObjects::Table)
                        .add_column(ColumnDef::new(BlobObjects::Version).string_len(64).null())
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(BlobReservations::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(BlobReservations::Id)
                            .string_len(36)
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(BlobReservations::Tenant)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(BlobReservations::Bytes)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(BlobReservations::ExpiresAt)
                            .big_integer()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("blob_reservations_expires_at")
                    .table(BlobReservations::Table)
                    .col(BlobReservations::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(BlobReservations::Table)
                    .if_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(BlobObjects::Table)
                    .drop_column(BlobObjects::Version)
                    .to_owned(),
            )
            .await
    }
}

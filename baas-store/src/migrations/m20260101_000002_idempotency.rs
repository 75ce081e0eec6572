//! `idempotency_records`: the SQL idempotency store.

use sea_orm_migration::prelude::*;

use crate::schema::IdempotencyRecords as R;

#[derive(DeriveMigrationName)]
pub(super) struct Migration;

// sea-orm-migration's trait elides the lifetime of `SchemaManager`; so must we.
#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(R::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(R::Scope).text().not_null())
                    .col(ColumnDef::new(R::Key).string_len(255).not_null())
                    .col(ColumnDef::new(R::Fingerprint).blob().not_null())
                    .col(ColumnDef::new(R::Response).blob().null())
                    .col(ColumnDef::new(R::ExpiresAt).big_integer().not_null())
                    .primary_key(Index::create().col(R::Scope).col(R::Key))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idempotency_records_expires_at")
                    .table(R::Table)
                    .col(R::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(R::Table).to_owned())
            .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

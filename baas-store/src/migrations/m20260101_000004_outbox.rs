//! `outbox`: messages staged in a transaction, published after commit by baas-queue.

use sea_orm_migration::prelude::*;

use crate::schema::Outbox as O;

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
                    .table(O::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(O::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(O::Tenant).string_len(64).not_null())
                    .col(ColumnDef::new(O::Queue).string_len(255).not_null())
                    .col(ColumnDef::new(O::Payload).blob().not_null())
                    .col(ColumnDef::new(O::Headers).json_binary().not_null())
                    .col(ColumnDef::new(O::AvailableAt).big_integer().not_null())
                    .col(ColumnDef::new(O::PublishedAt).big_integer().null())
                    .col(ColumnDef::new(O::CreatedAt).big_integer().not_null())
                    .to_owned(),
            )
            .await?;
        // The relay's scan: unpublished rows in availability order.
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("outbox_pending")
                    .table(O::Table)
                    .col(O::PublishedAt)
                    .col(O::AvailableAt)
                    .col(O::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(O::Table).to_owned())
            .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

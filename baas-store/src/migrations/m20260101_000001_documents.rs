//! `documents`: tenant-scoped JSON documents.

use sea_orm_migration::prelude::*;

use crate::schema::Documents as D;

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
                    .table(D::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(D::Tenant).string_len(64).not_null())
                    .col(ColumnDef::new(D::Collection).string_len(64).not_null())
                    .col(ColumnDef::new(D::Id).uuid().not_null())
                    .col(ColumnDef::new(D::Version).big_integer().not_null())
                    .col(ColumnDef::new(D::Data).json_binary().not_null())
                    .col(ColumnDef::new(D::CreatedAt).big_integer().not_null())
                    .col(ColumnDef::new(D::UpdatedAt).big_integer().not_null())
                    // The primary key is the index that keeps get and list pages
                    // logarithmic: (tenant, collection) prefix, then id order.
                    .primary_key(Index::create().col(D::Tenant).col(D::Collection).col(D::Id))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(D::Table).to_owned())
            .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

//! `audit_log` and `audit_heads`: the hash-chained audit log.

use sea_orm_migration::prelude::*;

use crate::schema::{AuditHeads as H, AuditLog as A};

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
                    .table(A::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(A::Tenant).string_len(64).not_null())
                    .col(ColumnDef::new(A::Seq).big_integer().not_null())
                    .col(ColumnDef::new(A::Actor).text().not_null())
                    .col(ColumnDef::new(A::Action).text().not_null())
                    .col(ColumnDef::new(A::Target).text().not_null())
                    .col(ColumnDef::new(A::Ip).text().null())
                    .col(ColumnDef::new(A::UserAgent).text().null())
                    .col(ColumnDef::new(A::At).big_integer().not_null())
                    .col(ColumnDef::new(A::PrevHash).blob().not_null())
                    .col(ColumnDef::new(A::Hash).blob().not_null())
                    // One record per (tenant, seq): two appenders can never both extend
                    // the chain from the same head.
                    .primary_key(Index::create().col(A::Tenant).col(A::Seq))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(H::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(H::Tenant)
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(H::Seq).big_integer().not_null())
                    .col(ColumnDef::new(H::Hash).blob().not_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(H::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(A::Table).to_owned())
            .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

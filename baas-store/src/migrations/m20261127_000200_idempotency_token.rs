//! `idempotency_records.token`: the claim token, so only the current holder of a claim
//! completes or releases it. Records from before have none; they are completed ones or
//! claims that expire with their lease.

use sea_orm_migration::prelude::*;

use crate::schema::IdempotencyRecords as R;

#[derive(DeriveMigrationName)]
pub(super) struct Migration;

// sea-orm-migration's trait elides the lifetime of `SchemaManager`; so must we.
#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.has_column("idempotency_records", "token").await? {
            return Ok(());
        }
        manager
            .alter_table(
                Table::alter()
                    .table(R::Table)
                    .add_column(ColumnDef::new(R::Token).blob().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(R::Table)
                    .drop_column(R::Token)
                    .to_owned(),
            )
            .await
    }
}

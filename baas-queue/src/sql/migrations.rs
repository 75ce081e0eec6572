//! The SQL backend's own migrations, with their own history table
//! (`baas_queue_migrations`); run them with
//! `db.migrate_with::<baas_queue::sql::Migrator>()`.

use sea_orm_migration::prelude::*;

use super::schema::{Dedupe as D, Messages as M};

/// baas-queue's migrator.
#[derive(Debug, Clone, Copy)]
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(M20261127Queue)]
    }

    fn migration_table_name() -> DynIden {
        "baas_queue_migrations".into()
    }
}

#[derive(DeriveMigrationName)]
struct M20261127Queue;

#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for M20261127Queue {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(M::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(M::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(M::Queue).string_len(255).not_null())
                    .col(ColumnDef::new(M::Tenant).string_len(64).not_null())
                    .col(ColumnDef::new(M::Payload).blob().not_null())
                    .col(ColumnDef::new(M::Headers).json_binary().not_null())
                    .col(ColumnDef::new(M::DedupeKey).string_len(255).null())
                    .col(ColumnDef::new(M::EnqueuedAt).big_integer().not_null())
                    // Waiting: when it becomes ready. Leased: when the lease runs out (and
                    // it becomes ready again).
                    .col(ColumnDef::new(M::VisibleAt).big_integer().not_null())
                    .col(ColumnDef::new(M::LeaseToken).uuid().null())
                    .col(ColumnDef::new(M::Attempts).integer().not_null())
                    // 0 live, 1 dead.
                    .col(ColumnDef::new(M::Status).small_integer().not_null())
                    .col(ColumnDef::new(M::DeadReason).text().null())
                    .col(ColumnDef::new(M::DeadAt).big_integer().null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("baas_queue_messages_ready")
                    .table(M::Table)
                    .col(M::Queue)
                    .col(M::Status)
                    .col(M::VisibleAt)
                    .col(M::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(D::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(D::Queue).string_len(255).not_null())
                    .col(ColumnDef::new(D::Tenant).string_len(64).not_null())
                    .col(ColumnDef::new(D::Key).string_len(255).not_null())
                    .col(ColumnDef::new(D::MessageId).uuid().not_null())
                    .col(ColumnDef::new(D::ExpiresAt).big_integer().not_null())
                    .primary_key(Index::create().col(D::Queue).col(D::Tenant).col(D::Key))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(D::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(M::Table).to_owned())
            .await
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

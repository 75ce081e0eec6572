//! The first migration: notifications, attempts, preferences, endpoints.

use baas_store::sea_orm_migration::prelude::*;

use super::{
    BaasNotifyAttempts as A, BaasNotifyEndpoints as E, BaasNotifyNotifications as N,
    BaasNotifyPreferences as P,
};

pub(super) struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261127_000001_notify"
    }
}

// sea-orm-migration's trait elides the lifetime of `SchemaManager`; so must we.
#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(N::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(N::Id)
                            .string_len(36)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(N::Tenant).string_len(64).not_null())
                    .col(ColumnDef::new(N::Recipient).text().not_null())
                    .col(ColumnDef::new(N::Channel).string_len(16).not_null())
                    .col(ColumnDef::new(N::Category).text().not_null())
                    .col(ColumnDef::new(N::Template).text().null())
                    .col(ColumnDef::new(N::Locale).string_len(64).not_null())
                    .col(ColumnDef::new(N::Data).text().not_null())
                    .col(ColumnDef::new(N::IdempotencyKey).string_len(255).null())
                    .col(ColumnDef::new(N::Status).string_len(16).not_null())
                    .col(ColumnDef::new(N::Attempts).integer().not_null())
                    .col(ColumnDef::new(N::CreatedAt).big_integer().not_null())
                    .col(ColumnDef::new(N::UpdatedAt).big_integer().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("baas_notify_notifications_key")
                    .table(N::Table)
                    .col(N::Tenant)
                    .col(N::IdempotencyKey)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("baas_notify_notifications_sweep")
                    .table(N::Table)
                    .col(N::Status)
                    .col(N::UpdatedAt)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(A::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(A::Tenant).string_len(64).not_null())
                    .col(ColumnDef::new(A::Notification).string_len(36).not_null())
                    .col(ColumnDef::new(A::Number).integer().not_null())
                    .col(ColumnDef::new(A::At).big_integer().not_null())
                    .col(ColumnDef::new(A::Provider).text().not_null())
                    .col(ColumnDef::new(A::Outcome).string_len(16).not_null())
                    .col(ColumnDef::new(A::StatusCode).integer().null())
                    .col(ColumnDef::new(A::Error).text().null())
                    .col(ColumnDef::new(A::LatencyMs).big_integer().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("baas_notify_attempts_notification")
                    .table(A::Table)
                    .col(A::Notification)
                    .col(A::Number)
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(P::Table)
                    .if_not_exists()
                    .col(ColumnDef::new(P::Tenant).string_len(64).not_null())
                    .col(ColumnDef::new(P::Recipient).string_len(320).not_null())
                    .col(ColumnDef::new(P::Category).string_len(128).not_null())
                    .col(ColumnDef::new(P::Channel).string_len(16).not_null())
                    .primary_key(
                        Index::create()
                            .col(P::Tenant)
                            .col(P::Recipient)
                            .col(P::Category)
                            .col(P::Channel),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(E::Table)
                    .if_not_exists()
                    .col(
                        ColumnDef::new(E::Id)
                            .string_len(36)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(E::Tenant).string_len(64).not_null())
                    .col(ColumnDef::new(E::Url).text().not_null())
                    .col(ColumnDef::new(E::EventTypes).text().not_null())
                    .col(ColumnDef::new(E::Disabled).boolean().not_null())
                    .col(ColumnDef::new(E::CreatedAt).big_integer().not_null())
                    .col(ColumnDef::new(E::Secret).blob().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("baas_notify_endpoints_tenant")
                    .table(E::Table)
                    .col(E::Tenant)
                    .col(E::Id)
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            E::Table.into_iden(),
            P::Table.into_iden(),
            A::Table.into_iden(),
            N::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

//! baas-auth's [`Migrator`] (history table `baas_auth_migrations`).

use sea_orm_migration::prelude::*;

use super::schema::{ApiKeys, RefreshTokens, Sessions, SigningKeys, Tenants, Users};

/// baas-auth's migrations, run with
/// [`Database::migrate_with`](baas_store::Database::migrate_with) (after the
/// framework's, under one start-up lock). Never edit a migration that has shipped; add
/// one.
#[derive(Debug, Clone, Copy, Default)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(Initial),
            Box::new(super::installation::CreateInstallation),
            Box::new(super::login_failures::CreateLoginFailures),
        ]
    }

    fn migration_table_name() -> DynIden {
        "baas_auth_migrations".into()
    }
}

struct Initial;

impl MigrationName for Initial {
    fn name(&self) -> &str {
        "m20261127_000001_auth_tables"
    }
}

fn index(name: &str, table: impl IntoIden) -> IndexCreateStatement {
    Index::create()
        .if_not_exists()
        .name(name)
        .table(table)
        .to_owned()
}

// sea-orm-migration's trait elides the lifetime of `SchemaManager`; so must we.
#[allow(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Initial {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Users::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(Users::Id)
                        .string_len(36)
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(Users::Tenant).string_len(64).not_null())
                .col(ColumnDef::new(Users::Email).text().not_null())
                .col(ColumnDef::new(Users::PasswordHash).text().not_null())
                .col(ColumnDef::new(Users::Roles).text().not_null())
                .col(ColumnDef::new(Users::Disabled).boolean().not_null())
                .col(ColumnDef::new(Users::CreatedAt).big_integer().not_null())
                .col(ColumnDef::new(Users::UpdatedAt).big_integer().not_null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("baas_auth_users_tenant_email", Users::Table)
                .unique()
                .col(Users::Tenant)
                .col(Users::Email)
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("baas_auth_users_tenant_id", Users::Table)
                .col(Users::Tenant)
                .col(Users::Id)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Tenants::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(Tenants::Tenant)
                        .string_len(64)
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(Tenants::CreatedAt).big_integer().not_null())
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Sessions::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(Sessions::Id)
                        .string_len(36)
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(Sessions::Tenant).string_len(64).not_null())
                .col(ColumnDef::new(Sessions::UserId).string_len(36).not_null())
                .col(ColumnDef::new(Sessions::ClientId).text().not_null())
                .col(ColumnDef::new(Sessions::CreatedAt).big_integer().not_null())
                .col(ColumnDef::new(Sessions::ExpiresAt).big_integer().not_null())
                .col(ColumnDef::new(Sessions::LastRotatedAt).big_integer().null())
                .col(ColumnDef::new(Sessions::RevokedAt).big_integer().null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("baas_auth_sessions_user", Sessions::Table)
                .col(Sessions::Tenant)
                .col(Sessions::UserId)
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("baas_auth_sessions_revoked_at", Sessions::Table)
                .col(Sessions::RevokedAt)
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("baas_auth_sessions_expires_at", Sessions::Table)
                .col(Sessions::ExpiresAt)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(RefreshTokens::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(RefreshTokens::Digest)
                        .binary()
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(RefreshTokens::SessionId)
                        .string_len(36)
                        .not_null(),
                )
                .col(
                    ColumnDef::new(RefreshTokens::Rotations)
                        .integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(RefreshTokens::RotatedAt)
                        .big_integer()
                        .null(),
                )
                .col(
                    ColumnDef::new(RefreshTokens::CreatedAt)
                        .big_integer()
                        .not_null(),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("baas_auth_refresh_tokens_session", RefreshTokens::Table)
                .col(RefreshTokens::SessionId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ApiKeys::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(ApiKeys::Id)
                        .string_len(36)
                        .not_null()
                        .primary_key(),
                )
                .col(ColumnDef::new(ApiKeys::Tenant).string_len(64).not_null())
                .col(ColumnDef::new(ApiKeys::Name).text().not_null())
                .col(ColumnDef::new(ApiKeys::Roles).text().not_null())
                .col(ColumnDef::new(ApiKeys::Digest).binary().not_null())
                .col(ColumnDef::new(ApiKeys::CreatedBy).text().null())
                .col(ColumnDef::new(ApiKeys::CreatedAt).big_integer().not_null())
                .col(ColumnDef::new(ApiKeys::ExpiresAt).big_integer().null())
                .col(ColumnDef::new(ApiKeys::LastUsedAt).big_integer().null())
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("baas_auth_api_keys_tenant_id", ApiKeys::Table)
                .col(ApiKeys::Tenant)
                .col(ApiKeys::Id)
                .to_owned(),
        )
        .await?;
        m.create_index(
            index("baas_auth_api_keys_expires_at", ApiKeys::Table)
                .col(ApiKeys::ExpiresAt)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(SigningKeys::Table)
                .if_not_exists()
                .col(
                    ColumnDef::new(SigningKeys::Kid)
                        .string_len(128)
                        .not_null()
                        .primary_key(),
                )
                .col(
                    ColumnDef::new(SigningKeys::Algorithm)
                        .string_len(16)
                        .not_null(),
                )
                .col(ColumnDef::new(SigningKeys::State).string_len(16).not_null())
                .col(ColumnDef::new(SigningKeys::PublicKey).binary().not_null())
                .col(ColumnDef::new(SigningKeys::SealedPrivate).binary().null())
                .col(
                    ColumnDef::new(SigningKeys::CreatedAt)
                        .big_integer()
                        .not_null(),
                )
                .col(
                    ColumnDef::new(SigningKeys::ActivatedAt)
                        .big_integer()
                        .null(),
                )
                .col(
                    ColumnDef::new(SigningKeys::RetireAfter)
                        .big_integer()
                        .null(),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            SigningKeys::Table.into_iden(),
            ApiKeys::Table.into_iden(),
            RefreshTokens::Table.into_iden(),
            Sessions::Table.into_iden(),
            Tenants::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

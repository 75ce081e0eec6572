//! Table and column names shared by the migration and the backends.

use sea_orm::DeriveIden;

/// `baas_auth_users`.
#[derive(DeriveIden, Clone, Copy)]
pub(crate) enum Users {
    #[sea_orm(iden = "baas_auth_users")]
    Table,
    Id,
    Tenant,
    Email,
    PasswordHash,
    Roles,
    Disabled,
    CreatedAt,
    UpdatedAt,
}

/// `baas_auth_tenants`: one row per tenant with users, to decide "first user" atomically.
#[derive(DeriveIden, Clone, Copy)]
pub(crate) enum Tenants {
    #[sea_orm(iden = "baas_auth_tenants")]
    Table,
    Tenant,
    CreatedAt,
}

/// `baas_auth_sessions`.
#[derive(DeriveIden, Clone, Copy)]
pub(crate) enum Sessions {
    #[sea_orm(iden = "baas_auth_sessions")]
    Table,
    Id,
    Tenant,
    UserId,
    ClientId,
    CreatedAt,
    ExpiresAt,
    LastRotatedAt,
    RevokedAt,
}

/// `baas_auth_refresh_tokens`.
#[derive(DeriveIden, Clone, Copy)]
pub(crate) enum RefreshTokens {
    #[sea_orm(iden = "baas_auth_refresh_tokens")]
    Table,
    Digest,
    SessionId,
    Rotations,
    RotatedAt,
    CreatedAt,
}

/// `baas_auth_api_keys`.
#[derive(DeriveIden, Clone, Copy)]
pub(crate) enum ApiKeys {
    #[sea_orm(iden = "baas_auth_api_keys")]
    Table,
    Id,
    Tenant,
    Name,
    Roles,
    Digest,
    CreatedBy,
    CreatedAt,
    ExpiresAt,
    LastUsedAt,
}

/// `baas_auth_signing_keys`.
#[derive(DeriveIden, Clone, Copy)]
pub(crate) enum SigningKeys {
    #[sea_orm(iden = "baas_auth_signing_keys")]
    Table,
    Kid,
    Algorithm,
    State,
    PublicKey,
    SealedPrivate,
    CreatedAt,
    ActivatedAt,
    RetireAfter,
}

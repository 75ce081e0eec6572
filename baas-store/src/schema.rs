//! Table and column names shared by the migrations and the SQL backends.

use sea_orm::DeriveIden;

/// `documents`.
#[derive(DeriveIden, Clone, Copy)]
pub(crate) enum Documents {
    Table,
    Tenant,
    Collection,
    Id,
    Version,
    Data,
    CreatedAt,
    UpdatedAt,
}

/// `idempotency_records`.
#[derive(DeriveIden, Clone, Copy)]
pub(crate) enum IdempotencyRecords {
    Table,
    Scope,
    Key,
    Fingerprint,
    Response,
    ExpiresAt,
    Token,
}

/// `audit_log`.
#[derive(DeriveIden, Clone, Copy)]
pub(crate) enum AuditLog {
    Table,
    Tenant,
    Seq,
    Actor,
    Action,
    Target,
    Ip,
    UserAgent,
    At,
    PrevHash,
    Hash,
}

/// `audit_heads`: the last sequence number and hash of each tenant's chain, so a
/// truncated tail is detected.
#[derive(DeriveIden, Clone, Copy)]
pub(crate) enum AuditHeads {
    Table,
    Tenant,
    Seq,
    Hash,
}

/// `outbox`.
#[derive(DeriveIden, Clone, Copy)]
pub(crate) enum Outbox {
    Table,
    Id,
    Tenant,
    Queue,
    Payload,
    Headers,
    AvailableAt,
    PublishedAt,
    CreatedAt,
}

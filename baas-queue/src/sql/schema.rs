//! Table and column names.

use sea_orm::DeriveIden;

/// `baas_queue_messages`.
#[derive(DeriveIden, Clone, Copy)]
pub(crate) enum Messages {
    #[sea_orm(iden = "baas_queue_messages")]
    Table,
    Id,
    Queue,
    Tenant,
    Payload,
    Headers,
    DedupeKey,
    EnqueuedAt,
    VisibleAt,
    LeaseToken,
    Attempts,
    Status,
    DeadReason,
    DeadAt,
}

/// `baas_queue_dedupe`.
#[derive(DeriveIden, Clone, Copy)]
pub(crate) enum Dedupe {
    #[sea_orm(iden = "baas_queue_dedupe")]
    Table,
    Queue,
    Tenant,
    Key,
    MessageId,
    ExpiresAt,
}

//! The framework's migrations and their [`Migrator`].
//!
//! The history lives in its own table, `baas_migrations`, so an application's migrator
//! (sea-orm's default table `seaql_migrations`) runs beside it without either list having
//! to name the other's migrations: see [`Database::migrate_with`](crate::Database::migrate_with).
//!
//! To add a framework migration, add a `mYYYYMMDD_NNNNNN_name.rs` file here and one line
//! to [`Migrator::migrations`]. Never edit a migration that has shipped.

use sea_orm_migration::prelude::*;

mod m20260101_000001_documents;
mod m20260101_000002_idempotency;
mod m20260101_000003_audit;
mod m20260101_000004_outbox;
mod m20261127_000200_idempotency_token;

/// The framework's migrations, in order.
#[derive(Debug, Clone, Copy, Default)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20260101_000001_documents::Migration),
            Box::new(m20260101_000002_idempotency::Migration),
            Box::new(m20260101_000003_audit::Migration),
            Box::new(m20260101_000004_outbox::Migration),
            // Lives beside the blob ledger that uses it (`crate::blob::migration`).
            Box::new(crate::blob::migration::Migration),
            Box::new(m20261127_000200_idempotency_token::Migration),
            Box::new(crate::blob::migration_versions::Migration),
        ]
    }

    fn migration_table_name() -> DynIden {
        "baas_migrations".into()
    }
}

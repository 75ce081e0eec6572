//! The SQL stores on baas-store's [`Database`](baas_store::Database) (SQLite or
//! Postgres), with their own [`Migrator`] (history table `baas_notify_migrations`).
//!
//! ```
//! use baas_notify::store::sql::{Migrator, SqlDeliveryLog};
//! use baas_store::Database;
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let db = Database::connect("sqlite::memory:").await?;
//! db.migrate_with::<Migrator>().await?; // the framework's migrations, then these
//! let log = SqlDeliveryLog::new(db);
//! # let _ = log;
//! # Ok::<(), baas_notify::core::Error>(())
//! # }).unwrap();
//! ```

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use baas_core::{Error, ErrorKind};
use baas_store::sea_orm::sea_query::DynIden;
use baas_store::sea_orm::sqlx::Error as SqlxError;
use baas_store::sea_orm::{DbErr, DeriveIden, RuntimeErr, SqlErr};
use baas_store::sea_orm_migration::{MigrationTrait, MigratorTrait};

mod delivery_log;
mod endpoints;
mod intake;
mod migration;
mod preferences;

pub use delivery_log::SqlDeliveryLog;
pub use endpoints::SqlEndpointStore;
pub use intake::{MAX_GROUP, SqlIntake};
pub use preferences::SqlPreferenceStore;

/// baas-notify's migrations. Run with
/// [`Database::migrate_with::<Migrator>()`](baas_store::Database::migrate_with).
#[derive(Debug, Clone, Copy, Default)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(migration::Migration)]
    }

    fn migration_table_name() -> DynIden {
        "baas_notify_migrations".into()
    }
}

/// `baas_notify_notifications`.
#[derive(DeriveIden, Clone, Copy)]
pub(crate) enum BaasNotifyNotifications {
    Table,
    Id,
    Tenant,
    Recipient,
    Channel,
    Category,
    Template,
    Locale,
    Data,
    IdempotencyKey,
    Status,
    Attempts,
    CreatedAt,
    UpdatedAt,
}

/// `baas_notify_attempts`.
#[derive(DeriveIden, Clone, Copy)]
pub(crate) enum BaasNotifyAttempts {
    Table,
    Tenant,
    Notification,
    Number,
    At,
    Provider,
    Outcome,
    StatusCode,
    Error,
    LatencyMs,
}

/// `baas_notify_preferences`.
#[derive(DeriveIden, Clone, Copy)]
pub(crate) enum BaasNotifyPreferences {
    Table,
    Tenant,
    Recipient,
    Category,
    Channel,
}

/// `baas_notify_endpoints`.
#[derive(DeriveIden, Clone, Copy)]
pub(crate) enum BaasNotifyEndpoints {
    Table,
    Id,
    Tenant,
    Url,
    EventTypes,
    Disabled,
    CreatedAt,
    Secret,
}

/// The private SQL error, converted into the common one (as baas-store's `sql_error`).
#[derive(Debug, thiserror::Error)]
enum SqlError {
    #[error("unique constraint violated")]
    Unique(#[source] DbErr),
    #[error("database unavailable")]
    Unavailable(#[source] DbErr),
    #[error("database error")]
    Other(#[source] DbErr),
}

pub(crate) fn db(err: DbErr) -> Error {
    let e = if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) {
        SqlError::Unique(err)
    } else {
        match &err {
            DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => SqlError::Unavailable(err),
            DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e))
                if transient(e) =>
            {
                SqlError::Unavailable(err)
            }
            _ => SqlError::Other(err),
        }
    };
    let (kind, message) = match &e {
        SqlError::Unique(_) => (ErrorKind::Conflict, "already exists"),
        SqlError::Unavailable(_) => (ErrorKind::Unavailable, "database unavailable"),
        SqlError::Other(_) => (ErrorKind::Internal, "database error"),
    };
    Error::new(kind, message).with_source(e)
}

fn transient(e: &SqlxError) -> bool {
    use SqlxError as E;
    match e {
        E::Io(_) | E::PoolClosed | E::PoolTimedOut | E::WorkerCrashed => true,
        E::Database(d) => matches!(
            &*d.code().unwrap_or_default(),
            "5" | "6" | "517" | "262" | "40001" | "40P01" | "57P01"
        ),
        _ => false,
    }
}

pub(crate) fn millis(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

pub(crate) fn from_millis(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

//! The SQL backends' private error mapping: [`DbErr`] and [`baas_core::Error`] into
//! [`AuthError`], keeping the source (DESIGN.md rule 4).

use sea_orm::{DbErr, RuntimeErr, SqlErr};

use crate::error::AuthError;

/// Whether the database refused a write for a unique or primary key.
pub(crate) fn is_unique(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// A database error as an [`AuthError`]: connection trouble, busy and serialisation
/// failures are `Unavailable` (retryable); anything else is `Internal`.
pub(crate) fn db(err: DbErr) -> AuthError {
    let transient = match &err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            transient(e)
        }
        _ => false,
    };
    if transient {
        AuthError::Unavailable(Box::new(err))
    } else {
        AuthError::Internal(Box::new(err))
    }
}

fn transient(e: &sea_orm::sqlx::Error) -> bool {
    use sea_orm::sqlx::Error as E;
    match e {
        E::Io(_) | E::PoolClosed | E::PoolTimedOut | E::WorkerCrashed => true,
        E::Database(db) => {
            let code = db.code().unwrap_or_default();
            // SQLite busy/locked (and extended codes); Postgres serialisation failure,
            // deadlock, admin shutdown.
            matches!(
                &*code,
                "5" | "6" | "517" | "262" | "40001" | "40P01" | "57P01"
            )
        }
        _ => false,
    }
}

/// A baas-store error (start-up lock, migrations) as an [`AuthError`].
pub(crate) fn store(err: baas_core::Error) -> AuthError {
    if err.kind().is_retryable() {
        AuthError::Unavailable(Box::new(err))
    } else {
        AuthError::Internal(Box::new(err))
    }
}

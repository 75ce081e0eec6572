//! The SQL backends' private error enum, converted into [`baas_core::Error`]
//! (DESIGN.md rule 4): callers match the kind whatever the engine said.

use baas_core::{Error, ErrorKind};
use sea_orm::{DbErr, RuntimeErr, SqlErr};

/// What went wrong in the database, before it becomes a [`baas_core::Error`].
#[derive(Debug, thiserror::Error)]
pub(crate) enum SqlError {
    /// A unique or primary key constraint refused the write.
    #[error("unique constraint violated")]
    Unique(#[source] DbErr),
    /// The pool or the connection is gone, or the engine is busy.
    #[error("database unavailable")]
    Unavailable(#[source] DbErr),
    /// No connection became free in time.
    #[error("database connection timed out")]
    Timeout(#[source] DbErr),
    /// Anything else: a bug or an unexpected failure.
    #[error("database error")]
    Other(#[source] DbErr),
}

impl From<DbErr> for SqlError {
    fn from(err: DbErr) -> Self {
        if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) {
            return SqlError::Unique(err);
        }
        match &err {
            DbErr::ConnectionAcquire(sea_orm::error::ConnAcquireErr::Timeout) => {
                SqlError::Timeout(err)
            }
            DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => SqlError::Unavailable(err),
            DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e))
                if transient(e) =>
            {
                SqlError::Unavailable(err)
            }
            _ => SqlError::Other(err),
        }
    }
}

/// Errors worth retrying: I/O, a closed pool, SQLite busy/locked, Postgres
/// serialisation failures, deadlocks and shutdowns.
fn transient(e: &sea_orm::sqlx::Error) -> bool {
    use sea_orm::sqlx::Error as E;
    match e {
        E::Io(_) | E::PoolClosed | E::PoolTimedOut | E::WorkerCrashed => true,
        E::Database(db) => {
            let code = db.code().unwrap_or_default();
            // SQLite: 5 SQLITE_BUSY, 6 SQLITE_LOCKED (and extended codes ending in them).
            // Postgres: 40001 serialization_failure, 40P01 deadlock, 57P01 admin_shutdown.
            matches!(
                &*code,
                "5" | "6" | "517" | "262" | "40001" | "40P01" | "57P01"
            )
        }
        _ => false,
    }
}

impl From<SqlError> for Error {
    fn from(err: SqlError) -> Self {
        let (kind, message) = match &err {
            SqlError::Unique(_) => (ErrorKind::Conflict, "already exists"),
            SqlError::Unavailable(_) => (ErrorKind::Unavailable, "database unavailable"),
            SqlError::Timeout(_) => (ErrorKind::Timeout, "database connection timed out"),
            SqlError::Other(_) => (ErrorKind::Internal, "database error"),
        };
        Error::new(kind, message).with_source(err)
    }
}

/// Convert a sea-orm error into the common error.
pub(crate) fn db(err: DbErr) -> Error {
    SqlError::from(err).into()
}

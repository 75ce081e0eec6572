//! The floor's SQLite database: connection settings and tables (the shapes of
//! baas-store's `documents` and baas-auth's sessions and refresh tokens, trimmed).

use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

/// Open (creating) the database file at `path` as `baas_store::Database::connect` does:
/// WAL, `synchronous = NORMAL`, busy timeout 5 s, a pool of 4 connections
/// (`baas_store::SQLITE_DEFAULT_MAX_CONNECTIONS`) for reads and single-statement writes,
/// and a second pool of one connection for write transactions.
pub(crate) async fn open(path: &str) -> Result<(DatabaseConnection, DatabaseConnection), DbErr> {
    let mut options = ConnectOptions::new(format!("sqlite://{path}?mode=rwc"));
    options.sqlx_logging(false).max_connections(4);
    options.map_sqlx_sqlite_opts(|o| {
        o.create_if_missing(true)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5))
            .synchronous(SqliteSynchronous::Normal)
            .journal_mode(SqliteJournalMode::Wal)
    });
    let mut writer = options.clone();
    writer.max_connections(1);
    let db = sea_orm::Database::connect(options).await?;
    let writer = sea_orm::Database::connect(writer).await?;
    for ddl in SCHEMA {
        db.execute_unprepared(ddl).await?;
    }
    Ok((db, writer))
}

/// Begin a transaction that writes, on the writer pool: `BEGIN IMMEDIATE`, as
/// `baas_store::Database::begin_write` does on SQLite.
pub(crate) async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

/// The tables (no values: plain DDL).
const SCHEMA: [&str; 3] = [
    "CREATE TABLE IF NOT EXISTS documents (
        tenant TEXT NOT NULL, collection TEXT NOT NULL, id BLOB NOT NULL,
        version INTEGER NOT NULL, data TEXT NOT NULL,
        created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
        PRIMARY KEY (tenant, collection, id))",
    "CREATE TABLE IF NOT EXISTS sessions (
        id TEXT PRIMARY KEY NOT NULL, tenant TEXT NOT NULL, user_id TEXT NOT NULL,
        created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
        last_rotated_at INTEGER, revoked_at INTEGER)",
    "CREATE TABLE IF NOT EXISTS refresh_tokens (
        digest BLOB PRIMARY KEY NOT NULL, session_id TEXT NOT NULL,
        rotations INTEGER NOT NULL, rotated_at INTEGER, created_at INTEGER NOT NULL)",
];

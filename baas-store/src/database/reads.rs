//! [`ReadConnection`]: single statements that only read, on SQLite connections held
//! outside sqlx's pool.
//!
//! sqlx runs every SQLite connection on a thread of its own, and its pool checks each
//! connection it takes back with one more round trip to that thread: a read through the
//! pool crosses between threads twice (the statement, then the check), and each crossing
//! is a thread switch on both sides. Measured on the platform's document get, those
//! switches, not SQLite, were most of the time spent in the database. A connection held
//! here is never checked in, so a read crosses once.

use std::fmt;
#[cfg(feature = "sqlite")]
use std::sync::Arc;

use async_trait::async_trait;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, ExecResult, QueryResult, Statement,
};

/// A connection for statements that only read: [`Database::reads`](super::Database::reads).
///
/// On a SQLite file each statement runs on one of a few connections of its own, held
/// outside the pool (opened on first use with the pool's options, reopened after an
/// I/O failure), so a read costs one round trip to sqlx's connection thread instead of
/// two. Elsewhere (Postgres, in-memory SQLite, a `Database` made with
/// [`Database::from_connection`](super::Database::from_connection)) it is the pool.
/// `execute` always goes to the pool. In WAL mode a read sees every transaction committed
/// before it began, whichever connection wrote it.
#[derive(Clone)]
pub struct ReadConnection {
    pool: DatabaseConnection,
    #[cfg(feature = "sqlite")]
    held: Option<Arc<sqlite::Held>>,
}

impl fmt::Debug for ReadConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        #[cfg(feature = "sqlite")]
        let held = self.held.as_ref().map_or(0, |h| h.slots.len());
        #[cfg(not(feature = "sqlite"))]
        let held = 0;
        f.debug_struct("ReadConnection")
            .field("held_connections", &held)
            .finish_non_exhaustive()
    }
}

impl ReadConnection {
    /// Reads through `pool` itself.
    pub(crate) fn pooled(pool: DatabaseConnection) -> Self {
        ReadConnection {
            pool,
            #[cfg(feature = "sqlite")]
            held: None,
        }
    }

    /// Reads on up to as many held connections as `pool` (a SQLite file) may open.
    #[cfg(feature = "sqlite")]
    pub(super) fn held(pool: DatabaseConnection) -> Self {
        let sqlx_pool = pool.get_sqlite_connection_pool();
        let held = sqlite::Held::new(
            sqlx_pool.connect_options().as_ref().clone(),
            sqlx_pool.options().get_max_connections().max(1) as usize,
        );
        ReadConnection {
            pool,
            held: Some(Arc::new(held)),
        }
    }

    async fn query(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        #[cfg(feature = "sqlite")]
        if let Some(held) = &self.held {
            return held.query(stmt).await;
        }
        self.pool.query_all_raw(stmt).await
    }
}

#[async_trait]
impl ConnectionTrait for ReadConnection {
    fn get_database_backend(&self) -> DbBackend {
        self.pool.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.pool.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.pool.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        Ok(self.query(stmt).await?.into_iter().next())
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.query(stmt).await
    }
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
    use sea_orm::sqlx::{self, ConnectOptions as _};
    use sea_orm::{DbErr, QueryResult, RuntimeErr, Statement};
    use sea_query_sqlx::SqlxValues;
    use tokio::sync::Mutex;

    /// The held connections, each opened on first use.
    pub(super) struct Held {
        options: SqliteConnectOptions,
        pub(super) slots: Box<[Mutex<Option<SqliteConnection>>]>,
        next: AtomicUsize,
    }

    impl Held {
        pub(super) fn new(options: SqliteConnectOptions, n: usize) -> Self {
            Held {
                options,
                slots: (0..n).map(|_| Mutex::new(None)).collect(),
                next: AtomicUsize::new(0),
            }
        }

        /// Run `stmt` on a free connection (or wait for the next one in turn).
        pub(super) async fn query(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
            let n = self.slots.len();
            let start = self.next.fetch_add(1, Ordering::Relaxed) % n;
            let free = (0..n).find_map(|i| self.slots[(start + i) % n].try_lock().ok());
            let mut slot = match free {
                Some(slot) => slot,
                None => self.slots[start].lock().await,
            };
            let conn = match &mut *slot {
                Some(conn) => conn,
                empty => empty.insert(
                    self.options
                        .connect()
                        .await
                        .map_err(|e| DbErr::Conn(RuntimeErr::SqlxError(e.into())))?,
                ),
            };
            let values = stmt.values.unwrap_or(sea_orm::Values(Vec::new()));
            let rows = sqlx::query_with(sqlx::AssertSqlSafe(stmt.sql), SqlxValues(values))
                .fetch_all(&mut *conn)
                .await;
            match rows {
                Ok(rows) => Ok(rows.into_iter().map(QueryResult::from).collect()),
                Err(e) => {
                    if matches!(
                        e,
                        sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed | sqlx::Error::Protocol(_)
                    ) {
                        // Open a fresh one next time.
                        *slot = None;
                    }
                    Err(DbErr::Query(RuntimeErr::SqlxError(e.into())))
                }
            }
        }
    }
}

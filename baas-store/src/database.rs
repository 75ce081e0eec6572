//! [`Database`]: one way to open SQLite or Postgres, run migrations once, and check health.

use std::fmt;
use std::time::Duration;

use baas_core::{Error, ErrorKind, HealthCheck};
use sea_orm::sea_query::{Expr, Func, Query};
use sea_orm::{
    ConnectOptions, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;
use sha2::{Digest, Sha256};

use crate::migrations::Migrator;
use crate::sql_error;

mod reads;
mod script;

pub use reads::ReadConnection;

/// A pooled connection idle at least this long is pinged before it is handed out.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(10);

/// The pool size for a SQLite file when [`DatabaseOptions::max_connections`] is not set.
///
/// SQLite in WAL mode runs readers beside its one writer, and sqlx sends each statement
/// to a connection's own thread and checks the connection again when it comes back: with
/// a single connection (sea-orm's default for SQLite) every statement of the process,
/// reads included, waits for the one before it and for that check. Writers still take
/// turns on SQLite's write lock. Write transactions run on a pool of their own, of one
/// connection, and begin `IMMEDIATE` (see [`Database::begin_write`]).
pub const SQLITE_DEFAULT_MAX_CONNECTIONS: u32 = 4;

/// SQLite's `synchronous` setting (<https://sqlite.org/pragma.html#pragma_synchronous>).
///
/// The default is [`Synchronous::Normal`]: with WAL it never corrupts the database, and a
/// power loss may lose only the last transactions committed before it. Choose
/// [`Synchronous::Full`] when every commit must survive a power cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Synchronous {
    /// No syncs: fastest, a power loss may corrupt the database.
    Off,
    /// Sync at WAL checkpoints (the default).
    #[default]
    Normal,
    /// Sync at every commit.
    Full,
    /// Like `Full`, and also the directory after unlinking the journal.
    Extra,
}

/// How to open a [`Database`].
///
/// ```
/// use baas_store::{DatabaseOptions, Synchronous};
/// use std::time::Duration;
///
/// let opts = DatabaseOptions::new("sqlite://data/baas.db")
///     .synchronous(Synchronous::Full)
///     .busy_timeout(Duration::from_secs(10))
///     .max_connections(8);
/// assert_eq!(opts.get_synchronous(), Synchronous::Full);
/// ```
#[derive(Clone)]
pub struct DatabaseOptions {
    url: String,
    synchronous: Synchronous,
    busy_timeout: Duration,
    max_connections: Option<u32>,
    schema: Option<String>,
}

impl fmt::Debug for DatabaseOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may carry a password: show only its scheme.
        let scheme = self.url.split(':').next().unwrap_or("");
        f.debug_struct("DatabaseOptions")
            .field("url", &format_args!("{scheme}:…"))
            .field("synchronous", &self.synchronous)
            .field("busy_timeout", &self.busy_timeout)
            .field("max_connections", &self.max_connections)
            .field("schema", &self.schema)
            .finish()
    }
}

impl DatabaseOptions {
    /// Options for `url`: `sqlite://path/to/file.db`, `sqlite::memory:` or
    /// `postgres://user:pass@host/db`. Defaults: `synchronous = NORMAL`, busy timeout 5 s,
    /// a pool of [`SQLITE_DEFAULT_MAX_CONNECTIONS`] for a SQLite file (one connection for
    /// an in-memory SQLite database, whose connections would each see their own
    /// database), and sqlx's pool size on Postgres.
    pub fn new(url: impl Into<String>) -> Self {
        DatabaseOptions {
            url: url.into(),
            synchronous: Synchronous::default(),
            busy_timeout: Duration::from_secs(5),
            max_connections: None,
            schema: None,
        }
    }

    /// SQLite's `synchronous` setting (ignored on Postgres).
    pub fn synchronous(mut self, synchronous: Synchronous) -> Self {
        self.synchronous = synchronous;
        self
    }

    /// The chosen `synchronous` setting.
    pub fn get_synchronous(&self) -> Synchronous {
        self.synchronous
    }

    /// How long SQLite waits for a lock before answering busy (ignored on Postgres).
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// The most connections in the pool (ignored for an in-memory SQLite database, which
    /// has one).
    pub fn max_connections(mut self, n: u32) -> Self {
        self.max_connections = Some(n);
        self
    }

    /// The Postgres schema to use (`search_path`); ignored on SQLite. Tests use one schema
    /// each; the schema must exist.
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
        self
    }
}

/// Which database engine a [`Database`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Engine {
    /// SQLite (embedded).
    Sqlite,
    /// Postgres.
    Postgres,
}

/// An open database: a sea-orm connection pool plus the installation's start-up duties.
///
/// Cheap to clone (the pool is shared). See the [crate docs](crate) for how an application
/// runs its own migrations beside the framework's.
#[derive(Debug, Clone)]
pub struct Database {
    conn: DatabaseConnection,
    /// Where write transactions run (see [`Database::write_connection`]).
    writer: DatabaseConnection,
    /// Where reads run (see [`Database::reads`]).
    reads: ReadConnection,
    engine: Engine,
    schema: Option<String>,
}

impl Database {
    /// Open `url` with the default [`DatabaseOptions`].
    pub async fn connect(url: &str) -> Result<Self, Error> {
        Self::connect_with(DatabaseOptions::new(url)).await
    }

    /// Open a database.
    ///
    /// SQLite: the file and its directory are made when missing; WAL journal, foreign keys
    /// on, the busy timeout and `synchronous` setting from `opts`. Postgres: a pool.
    ///
    /// # Errors
    ///
    /// `Invalid` for a URL of an engine this build does not support; `Unavailable` when
    /// the database cannot be reached.
    pub async fn connect_with(opts: DatabaseOptions) -> Result<Self, Error> {
        let url = opts.url.trim();
        let (engine, url) = if url.starts_with("sqlite:") {
            (Engine::Sqlite, prepare_sqlite_url(url)?)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            (Engine::Postgres, url.to_owned())
        } else {
            return Err(Error::invalid(
                "database URL must start with sqlite: or postgres:",
            ));
        };
        let mut connect = ConnectOptions::new(url.clone());
        connect.sqlx_logging(false);
        // sqlx pings every connection it hands out by default: one more round trip per
        // statement. Ping only one that sat idle long enough to have been dropped.
        connect.test_before_acquire_if_idle_for(PING_IF_IDLE_FOR);
        if let Some(n) = opts.max_connections {
            connect.max_connections(n);
        }
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        // A SQLite file gets a second pool, of one connection, for write transactions.
        let separate_writer = engine == Engine::Sqlite && !in_memory;
        match engine {
            Engine::Sqlite => {
                #[cfg(feature = "sqlite")]
                {
                    use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
                    let sync = match opts.synchronous {
                        Synchronous::Off => SqliteSynchronous::Off,
                        Synchronous::Normal => SqliteSynchronous::Normal,
                        Synchronous::Full => SqliteSynchronous::Full,
                        Synchronous::Extra => SqliteSynchronous::Extra,
                    };
                    let busy = opts.busy_timeout;
                    connect.map_sqlx_sqlite_opts(move |o| {
                        let o = o
                            .create_if_missing(true)
                            .foreign_keys(true)
                            .busy_timeout(busy)
                            .synchronous(sync);
                        if in_memory {
                            o
                        } else {
                            o.journal_mode(SqliteJournalMode::Wal)
                        }
                    });
                    if in_memory {
                        // Every connection to `:memory:` is its own database.
                        connect.max_connections(1).min_connections(1);
                    } else if opts.max_connections.is_none() {
                        connect.max_connections(SQLITE_DEFAULT_MAX_CONNECTIONS);
                    }
                }
                #[cfg(not(feature = "sqlite"))]
                return Err(Error::invalid(
                    "this build of baas-store has no SQLite support (feature `sqlite`)",
                ));
            }
            Engine::Postgres => {
                #[cfg(not(feature = "postgres"))]
                return Err(Error::invalid(
                    "this build of baas-store has no Postgres support (feature `postgres`)",
                ));
                #[cfg(feature = "postgres")]
                if let Some(schema) = &opts.schema {
                    connect.set_schema_search_path(schema.clone());
                }
            }
        }
        let writer = if separate_writer {
            let mut one = connect.clone();
            one.max_connections(1);
            Some(one)
        } else {
            None
        };
        let conn = sea_orm::Database::connect(connect)
            .await
            .map_err(sql_error::db)?;
        let writer = match writer {
            Some(one) => sea_orm::Database::connect(one)
                .await
                .map_err(sql_error::db)?,
            None => conn.clone(),
        };
        let schema = match engine {
            Engine::Postgres => opts.schema,
            Engine::Sqlite => None,
        };
        #[cfg(feature = "sqlite")]
        let reads = if separate_writer {
            ReadConnection::held(conn.clone())
        } else {
            ReadConnection::pooled(conn.clone())
        };
        #[cfg(not(feature = "sqlite"))]
        let reads = ReadConnection::pooled(conn.clone());
        Ok(Database {
            conn,
            writer,
            reads,
            engine,
            schema,
        })
    }

    /// Wrap an existing sea-orm connection (the caller configured it).
    pub fn from_connection(conn: DatabaseConnection) -> Result<Self, Error> {
        let engine = match conn.get_database_backend() {
            DbBackend::Sqlite => Engine::Sqlite,
            DbBackend::Postgres => Engine::Postgres,
            _ => return Err(Error::invalid("only SQLite and Postgres are supported")),
        };
        Ok(Database {
            writer: conn.clone(),
            reads: ReadConnection::pooled(conn.clone()),
            conn,
            engine,
            schema: None,
        })
    }

    /// The sea-orm connection pool, for an application's own entities and queries.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.conn
    }

    /// The connection [`Database::begin_write`] begins on.
    ///
    /// On a SQLite file this is a second pool, of one connection: the write transactions
    /// of this process wait for each other in memory, each starting the moment the one
    /// before it ends. Begun on several connections they would meet in SQLite's busy
    /// handler instead, which sleeps at least a millisecond per collision however soon
    /// the lock comes free, and longer with each retry. Reads and single-statement
    /// writes use [`Database::connection`]. Elsewhere (Postgres, in-memory SQLite, or a
    /// `Database` made with [`Database::from_connection`]) it is that same pool.
    pub fn write_connection(&self) -> &DatabaseConnection {
        &self.writer
    }

    /// Where statements that only read go: on a SQLite file, connections held outside
    /// the pool, so each read costs one round trip to sqlx's connection thread instead of
    /// two (see [`ReadConnection`]); elsewhere the pool, as [`Database::connection`].
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use baas_store::Database;
    /// use baas_store::sea_orm::{ConnectionTrait, Statement};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let db = Database::connect(&format!("sqlite://{}/app.db", dir.path().display())).await?;
    /// db.connection().execute_unprepared("CREATE TABLE t (x INTEGER)").await?;
    /// db.connection().execute_unprepared("INSERT INTO t VALUES (7)").await?;
    /// let backend = db.reads().get_database_backend();
    /// let row = db
    ///     .reads()
    ///     .query_one_raw(Statement::from_string(backend, "SELECT x FROM t"))
    ///     .await?
    ///     .expect("a row");
    /// assert_eq!(row.try_get::<i64>("", "x")?, 7);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub fn reads(&self) -> &ReadConnection {
        &self.reads
    }

    /// The Postgres schema chosen with [`DatabaseOptions::schema`], if any.
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// The engine behind this database.
    pub fn engine(&self) -> Engine {
        self.engine
    }

    /// Run the framework's migrations ([`Migrator`]), idempotently, under the
    /// installation-wide start-up lock.
    pub async fn migrate(&self) -> Result<(), Error> {
        let lock = self.startup_lock("baas:migrations").await?;
        match &lock.tx {
            // On Postgres the migrations run on the lock's own connection, inside its
            // transaction (each migration a savepoint): all apply or none, and a pool of
            // one connection suffices.
            Some(tx) => Migrator::up(tx, None).await,
            None => Migrator::up(&self.conn, None).await,
        }
        .map_err(sql_error::db)?;
        lock.release().await
    }

    /// Run the framework's migrations, then the application's migrator `M`, under one
    /// start-up lock. `M` keeps its own history table (sea-orm's default
    /// `seaql_migrations`); the framework's is `baas_migrations`, so the two lists never
    /// have to know each other.
    pub async fn migrate_with<M: MigratorTrait>(&self) -> Result<(), Error> {
        let lock = self.startup_lock("baas:migrations").await?;
        match &lock.tx {
            Some(tx) => {
                Migrator::up(tx, None).await.map_err(sql_error::db)?;
                M::up(tx, None).await
            }
            None => {
                Migrator::up(&self.conn, None)
                    .await
                    .map_err(sql_error::db)?;
                M::up(&self.conn, None).await
            }
        }
        .map_err(sql_error::db)?;
        lock.release().await
    }

    /// Take the installation-wide lock `name` for once-only start-up work.
    ///
    /// On Postgres this is `pg_advisory_xact_lock` on a dedicated connection (a
    /// transaction held until [`StartupLock::release`] or drop), so concurrent processes
    /// run the work one after another and a crashed holder releases it. On SQLite the
    /// engine's own write lock serialises writers, so this is a no-op.
    pub async fn startup_lock(&self, name: &str) -> Result<StartupLock, Error> {
        match self.engine {
            Engine::Sqlite => Ok(StartupLock { tx: None }),
            Engine::Postgres => {
                let tx = self.conn.begin().await.map_err(sql_error::db)?;
                let stmt = Query::select()
                    .expr(Func::cust("pg_advisory_xact_lock").arg(Expr::val(lock_key(name))))
                    .to_owned();
                tx.query_one(&stmt).await.map_err(sql_error::db)?;
                Ok(StartupLock { tx: Some(tx) })
            }
        }
    }

    /// Begin a transaction: documents written through [`Tx::documents`] and messages
    /// staged with [`crate::outbox::stage`] commit or roll back together. It begins as
    /// [`Database::begin_write`] does.
    pub async fn begin(&self) -> Result<Tx, Error> {
        let tx = self.begin_write().await.map_err(sql_error::db)?;
        Ok(Tx { tx })
    }

    /// Begin a sea-orm transaction that will write, on [`Database::write_connection`].
    ///
    /// On SQLite it begins `IMMEDIATE`: it takes the write lock first (waiting up to the
    /// busy timeout while another connection holds it). A transaction begun the default
    /// way (`DEFERRED`) that reads before it writes would instead fail with
    /// `SQLITE_BUSY` at its first write whenever another connection wrote in between,
    /// since SQLite cannot move its snapshot forward. On Postgres it is a plain `BEGIN`.
    /// Use [`DatabaseConnection::begin`] (through [`Database::connection`]) for a
    /// transaction that only reads.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use baas_store::Database;
    /// use sea_orm::ConnectionTrait;
    ///
    /// let db = Database::connect("sqlite::memory:").await?;
    /// let tx = db.begin_write().await?;
    /// tx.execute_unprepared("CREATE TABLE t (x INTEGER)").await?;
    /// tx.commit().await?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).unwrap();
    /// ```
    pub async fn begin_write(&self) -> Result<DatabaseTransaction, DbErr> {
        begin_write_on(&self.writer).await
    }
}

/// [`Database::begin_write`] on a bare sea-orm connection.
pub(crate) async fn begin_write_on(
    conn: &DatabaseConnection,
) -> Result<DatabaseTransaction, DbErr> {
    conn.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}

/// The 64-bit advisory lock key for `name` (the first 8 bytes of its SHA-256).
fn lock_key(name: &str) -> i64 {
    let digest = Sha256::digest(name.as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

/// Make the directory of a SQLite file and ask for the file to be created.
fn prepare_sqlite_url(url: &str) -> Result<String, Error> {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    if path.is_empty() || path == ":memory:" || query.is_some_and(|q| q.contains("mode=memory")) {
        return Ok(url.to_owned());
    }
    if let Some(parent) = std::path::Path::new(path).parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).map_err(|e| {
            Error::new(
                ErrorKind::Unavailable,
                "cannot create the database directory",
            )
            .with_source(e)
        })?;
    }
    Ok(match query {
        Some(q) if q.contains("mode=") => url.to_owned(),
        Some(_) => format!("{url}&mode=rwc"),
        None => format!("{url}?mode=rwc"),
    })
}

#[async_trait::async_trait]
impl HealthCheck for Database {
    fn name(&self) -> &str {
        "database"
    }

    async fn check(&self) -> Result<(), Error> {
        let stmt = Query::select().expr(Expr::val(1)).to_owned();
        self.conn.query_one(&stmt).await.map_err(sql_error::db)?;
        Ok(())
    }
}

/// Held while once-only start-up work runs; see [`Database::startup_lock`].
#[derive(Debug)]
#[must_use = "the lock is released when this is dropped"]
pub struct StartupLock {
    tx: Option<DatabaseTransaction>,
}

impl StartupLock {
    /// Release the lock now.
    pub async fn release(self) -> Result<(), Error> {
        match self.tx {
            Some(tx) => tx.commit().await.map_err(sql_error::db),
            None => Ok(()),
        }
    }
}

/// An open transaction (see [`Database::begin`]). Dropped without [`Tx::commit`], it
/// rolls back.
#[derive(Debug)]
pub struct Tx {
    tx: DatabaseTransaction,
}

impl Tx {
    /// The sea-orm transaction, for an application's own entities.
    pub fn connection(&self) -> &DatabaseTransaction {
        &self.tx
    }

    /// Commit.
    pub async fn commit(self) -> Result<(), Error> {
        self.tx.commit().await.map_err(sql_error::db)
    }

    /// Roll back.
    pub async fn rollback(self) -> Result<(), Error> {
        self.tx.rollback().await.map_err(sql_error::db)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_ask_for_creation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/dir/x.db");
        let url = format!("sqlite://{}", path.display());
        assert_eq!(prepare_sqlite_url(&url).unwrap(), format!("{url}?mode=rwc"));
        assert!(path.parent().unwrap().is_dir());
        assert_eq!(
            prepare_sqlite_url("sqlite::memory:").unwrap(),
            "sqlite::memory:"
        );
    }

    #[test]
    fn options_debug_hides_the_url() {
        let dbg = format!("{:?}", DatabaseOptions::new("postgres://u:secret@h/db"));
        assert!(!dbg.contains("secret"), "{dbg}");
    }

    #[test]
    fn lock_keys_are_stable_and_distinct() {
        assert_eq!(lock_key("a"), lock_key("a"));
        assert_ne!(lock_key("a"), lock_key("b"));
    }
}

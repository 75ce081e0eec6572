//! End-to-end throughput of baas-queue — enqueue → handler → ack through the real
//! [`Worker`](baas_queue::Worker) with a no-op handler — per backend, `single` and
//! `batched`, beside the physical limit of the same backend in the same run: raw sqlx
//! statements (SQLite, Postgres) and raw lapin (RabbitMQ). Issue 6, item 8; the apalis
//! baseline is the separate workspace `bench/apalis`, and `bench/queue.sh` runs both.
//!
//! ```text
//! cargo bench -p baas-queue --bench throughput
//! ```
//!
//! A producer enqueues at full speed while the worker consumes, so throughput is jobs
//! over the time from the first enqueue to the last ack, and latency (p50/p99) is from
//! just before a job's enqueue to its handler, under that full load.
//!
//! - `single`: one enqueue per job; the worker reserves one delivery at a time and runs
//!   one job at a time (`concurrency = 1`, `batch = 1`).
//! - `batched`: `enqueue_batch` of `BENCH_BATCH` jobs; the worker reserves up to
//!   `BENCH_BATCH` deliveries and runs that many at once.
//!
//! Environment: `BENCH_JOBS` (all backends), `BENCH_JOBS_LOCAL` (memory, SQLite; default
//! 20000), `BENCH_JOBS_SERVER` (Postgres, RabbitMQ; default 10000), `BENCH_BATCH`
//! (default 64), `BENCH_BACKENDS` (default `memory,sqlite,postgres,amqp`), `BENCH_MODES`
//! (default `single,batched`), `BENCH_IMPLS` (default `baas,raw,raw1`; `raw1` is the
//! raw SQL with the backend's statement count, see `raw_sql`), `BENCH_TIMEOUT_SECS`
//! per run (default 300), `BENCH_GATHER_US` (the worker's `WorkerConfig::gather` in µs;
//! default: the worker's default), `BENCH_SQLITE_MAX_CONNECTIONS` (the baas SQLite rows'
//! pool size; default: baas-store's), `BENCH_PREFETCH` (the RabbitMQ consumers'
//! prefetch, both sides; default the backend's, 64). Postgres runs when `BAAS_TEST_POSTGRES_URL` is set, RabbitMQ
//! when `BAAS_TEST_AMQP_URL` is; otherwise they are skipped with the reason printed.
// A benchmark's output is its printed table.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod baas;
mod latency;
mod raw_amqp;
mod raw_sql;
mod report;

use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use baas_core::BoxError;
use baas_core::testing::unique_name;
use baas_queue::amqp::{AmqpConfig, AmqpQueue};
use baas_queue::sql::SqlQueue;
use baas_queue::{DynQueue, MemoryQueue};
use baas_store::Database;
use sea_orm::sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sea_orm::sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
};

use crate::baas::Measured;
use crate::raw_sql::{RawDb, Statements};
use crate::report::{Mode, Row};

/// The backend's default prefetch (`AmqpConfig`), set explicitly so raw lapin uses the
/// same.
const PREFETCH: u16 = 64;

/// The prefetch of both RabbitMQ sides: `BENCH_PREFETCH`, else [`PREFETCH`].
fn prefetch() -> u16 {
    std::env::var("BENCH_PREFETCH")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(PREFETCH)
}
/// baas-store's default SQLite busy timeout.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug)]
struct Settings {
    local_jobs: usize,
    server_jobs: usize,
    batch: usize,
    backends: Vec<String>,
    modes: Vec<Mode>,
    impls: Vec<String>,
    timeout: Duration,
}

fn env_usize(name: &str) -> Option<usize> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

fn env_list(name: &str, default: &str) -> Vec<String> {
    std::env::var(name)
        .unwrap_or_else(|_| default.to_owned())
        .split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

fn env_url(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Settings {
    fn from_env() -> Self {
        let all = env_usize("BENCH_JOBS");
        let modes = env_list("BENCH_MODES", "single,batched")
            .iter()
            .filter_map(|m| match m.as_str() {
                "single" => Some(Mode::Single),
                "batched" => Some(Mode::Batched),
                _ => None,
            })
            .collect();
        Settings {
            local_jobs: all.or(env_usize("BENCH_JOBS_LOCAL")).unwrap_or(20_000),
            server_jobs: all.or(env_usize("BENCH_JOBS_SERVER")).unwrap_or(10_000),
            batch: env_usize("BENCH_BATCH").unwrap_or(64).clamp(1, 1000),
            backends: env_list("BENCH_BACKENDS", "memory,sqlite,postgres,amqp"),
            modes,
            impls: env_list("BENCH_IMPLS", "baas,raw,raw1"),
            timeout: Duration::from_secs(env_usize("BENCH_TIMEOUT_SECS").unwrap_or(300) as u64),
        }
    }

    fn wants(&self, imp: &str) -> bool {
        self.impls.iter().any(|i| i == imp)
    }
}

/// Run one measurement under the timeout; print and keep its row, or print why it failed.
async fn measure(
    rows: &mut Vec<Row>,
    settings: &Settings,
    (backend, mode, imp, jobs): (&'static str, Mode, &'static str, usize),
    run: impl Future<Output = Result<Measured, BoxError>>,
) {
    match tokio::time::timeout(settings.timeout, run).await {
        Ok(Ok(m)) => {
            let row = Row {
                backend,
                mode,
                imp,
                jobs,
                elapsed: m.elapsed,
                p50: m.p50,
                p99: m.p99,
            };
            eprintln!(
                "{}   (all enqueued after {:.2?}, all acked after {:.2?})",
                row.machine_line(),
                m.enqueued,
                m.elapsed
            );
            rows.push(row);
        }
        Ok(Err(error)) => eprintln!("{backend} {mode} {imp}: FAILED: {error}"),
        Err(_) => eprintln!(
            "{backend} {mode} {imp}: FAILED: did not finish within {:?}",
            settings.timeout
        ),
    }
}

async fn sqlite_queue(dir: &tempfile::TempDir) -> Result<SqlQueue, BoxError> {
    let url = format!("sqlite://{}/queue.db", dir.path().display());
    let mut options = baas_store::DatabaseOptions::new(url);
    if let Ok(n) = std::env::var("BENCH_SQLITE_MAX_CONNECTIONS") {
        options = options.max_connections(n.parse()?);
    }
    let queue = SqlQueue::new(Database::connect_with(options).await?);
    queue.migrate().await?;
    Ok(queue)
}

/// The raw pool on a fresh SQLite file holding the backend's table, opened with the
/// settings baas-store's `Database` uses (WAL, `synchronous = NORMAL`, busy timeout 5 s,
/// foreign keys on), and no ping before each acquire (the physical limit).
async fn raw_sqlite(dir: &tempfile::TempDir) -> Result<RawDb, BoxError> {
    drop(sqlite_queue(dir).await?);
    let options = SqliteConnectOptions::new()
        .filename(dir.path().join("queue.db"))
        .create_if_missing(true)
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT)
        .synchronous(SqliteSynchronous::Normal)
        .journal_mode(SqliteJournalMode::Wal);
    Ok(RawDb::Sqlite(
        SqlitePoolOptions::new()
            .test_before_acquire(false)
            .connect_with(options)
            .await?,
    ))
}

/// A fresh Postgres schema with the backend's tables; returns the queue and the schema.
async fn pg_queue(url: &str) -> Result<(SqlQueue, String), BoxError> {
    let db = baas_store::testing::postgres_database(url).await;
    let schema = db.schema().unwrap_or_default().to_owned();
    let queue = SqlQueue::new(db);
    queue.migrate().await?;
    Ok((queue, schema))
}

async fn drop_schema(url: &str, schema: &str) {
    let Ok(pool) = PgPoolOptions::new().max_connections(1).connect(url).await else {
        return;
    };
    // DDL takes no parameters; the name is `[a-z0-9_]` by construction.
    let sql = format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
    let _ = sea_orm::sqlx::query(sea_orm::sqlx::AssertSqlSafe(sql))
        .execute(&pool)
        .await;
    pool.close().await;
}

/// The raw SQL runs wanted in `mode`: `raw`, and `raw1` (batched only; in `single` it
/// would be `raw` again).
fn raw_variants(s: &Settings, mode: Mode) -> Vec<(&'static str, Statements)> {
    let mut out = Vec::new();
    if s.wants("raw") {
        out.push(("raw", Statements::PerBatch));
    }
    if s.wants("raw1") && mode == Mode::Batched {
        out.push(("raw1", Statements::PerMessage));
    }
    out
}

async fn run_memory(rows: &mut Vec<Row>, s: &Settings) {
    if !s.wants("baas") {
        return;
    }
    for &mode in &s.modes {
        let queue: Arc<DynQueue> = Arc::new(MemoryQueue::new());
        let key = ("memory", mode, "baas", s.local_jobs);
        measure(
            rows,
            s,
            key,
            baas::run(queue, "bench", mode, s.local_jobs, s.batch),
        )
        .await;
    }
}

async fn run_sqlite(rows: &mut Vec<Row>, s: &Settings) {
    let n = s.local_jobs;
    for &mode in &s.modes {
        if s.wants("baas") {
            let run = async {
                let dir = tempfile::tempdir()?;
                let queue: Arc<DynQueue> = Arc::new(sqlite_queue(&dir).await?);
                baas::run(queue, "bench", mode, n, s.batch).await
            };
            measure(rows, s, ("sqlite", mode, "baas", n), run).await;
        }
        for (imp, statements) in raw_variants(s, mode) {
            let run = async {
                let dir = tempfile::tempdir()?;
                let db = raw_sqlite(&dir).await?;
                let out = raw_sql::run(db.clone(), "bench", mode, n, s.batch, statements).await;
                if let RawDb::Sqlite(pool) = db {
                    pool.close().await;
                }
                out
            };
            Box::pin(measure(rows, s, ("sqlite", mode, imp, n), run)).await;
        }
    }
}

async fn run_postgres(rows: &mut Vec<Row>, s: &Settings) {
    let Some(url) = env_url("BAAS_TEST_POSTGRES_URL") else {
        eprintln!("postgres: SKIPPED (BAAS_TEST_POSTGRES_URL is not set)");
        return;
    };
    let n = s.server_jobs;
    for &mode in &s.modes {
        if s.wants("baas") {
            let run = async {
                let (queue, schema) = pg_queue(&url).await?;
                let queue: Arc<DynQueue> = Arc::new(queue);
                let out = baas::run(queue, "bench", mode, n, s.batch).await;
                drop_schema(&url, &schema).await;
                out
            };
            Box::pin(measure(rows, s, ("postgres", mode, "baas", n), run)).await;
        }
        for (imp, statements) in raw_variants(s, mode) {
            let run = async {
                let (queue, schema) = pg_queue(&url).await?;
                drop(queue);
                let options =
                    PgConnectOptions::from_str(&url)?.options([("search_path", schema.as_str())]);
                let pool = PgPoolOptions::new()
                    .test_before_acquire(false)
                    .connect_with(options)
                    .await?;
                let db = RawDb::Postgres(pool.clone());
                let out = raw_sql::run(db, "bench", mode, n, s.batch, statements).await;
                pool.close().await;
                drop_schema(&url, &schema).await;
                out
            };
            Box::pin(measure(rows, s, ("postgres", mode, imp, n), run)).await;
        }
    }
}

async fn run_amqp(rows: &mut Vec<Row>, s: &Settings) {
    let Some(url) = env_url("BAAS_TEST_AMQP_URL") else {
        eprintln!("amqp: SKIPPED (BAAS_TEST_AMQP_URL is not set)");
        return;
    };
    let n = s.server_jobs;
    for &mode in &s.modes {
        if s.wants("baas") {
            let run = async {
                let mut config = AmqpConfig::new(url.clone())
                    .with_prefix("baas-bench")
                    .with_prefetch(prefetch());
                if let Some(management) = env_url("BAAS_TEST_AMQP_MANAGEMENT_URL") {
                    config = config.with_management_url(management);
                }
                let queue = Arc::new(AmqpQueue::connect(config).await?);
                let name = unique_name("bench");
                let dyn_queue: Arc<DynQueue> = queue.clone();
                let out = baas::run(dyn_queue, &name, mode, n, s.batch).await;
                let _ = queue.delete_queue(&name).await;
                out
            };
            measure(rows, s, ("amqp", mode, "baas", n), run).await;
        }
        if s.wants("raw") {
            let name = format!("baas-bench.raw.{}", unique_name("bench"));
            let run = raw_amqp::run(&url, &name, mode, n, s.batch, prefetch());
            measure(rows, s, ("amqp", mode, "raw", n), run).await;
        }
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let settings = Settings::from_env();
    eprintln!("settings: {settings:?}");
    let mut rows = Vec::new();
    for backend in &settings.backends {
        match backend.as_str() {
            "memory" => run_memory(&mut rows, &settings).await,
            "sqlite" => Box::pin(run_sqlite(&mut rows, &settings)).await,
            "postgres" => Box::pin(run_postgres(&mut rows, &settings)).await,
            "amqp" => run_amqp(&mut rows, &settings).await,
            other => eprintln!("{other}: SKIPPED (unknown backend)"),
        }
    }
    println!("{}", report::table(&rows));
    for row in &rows {
        println!("{}", row.machine_line());
    }
}

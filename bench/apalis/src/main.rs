//! The apalis baseline of baas-queue's throughput benchmark (issue 6, item 8): apalis
//! 1.0 with its SQLite backend (apalis-sqlite) on a temporary file opened with the
//! settings baas-store's `Database` uses — WAL, `synchronous = NORMAL`, busy timeout 5 s,
//! foreign keys on — measured exactly like `baas-queue/benches/throughput`: a producer
//! pushes N jobs at full speed while one worker with a no-op handler consumes them;
//! throughput is N over the time from the first push until the worker has stopped (its
//! completions flushed), latency is from just before a job's push to its handler.
//!
//! - `single`: `push` one job at a time; `batch_size(1)`, `concurrency(1)`.
//! - `batched`: `push_bulk` of BENCH_BATCH jobs; `batch_size(BENCH_BATCH)`,
//!   `concurrency(BENCH_BATCH)`.
//!
//! The worker is woken by SQLite's update hook on inserts (apalis' own event-driven
//! mode, `connect_with_callback`, rebuilt here so the pool keeps our file settings), the
//! way baas-queue's SQL backend is woken by enqueues in the same process.
//!
//! Run: `CARGO_TARGET_DIR=/work/target-apalis cargo run --release` in this folder.
//! Environment: BENCH_JOBS / BENCH_JOBS_LOCAL (default 20000), BENCH_BATCH (64),
//! BENCH_MODES (`single,batched`). Prints the same table and `ROW` lines as the baas
//! bench.

use std::sync::Arc;
use std::time::{Duration, Instant};

use apalis::prelude::*;
use apalis_sqlite::{Config, SqliteConnectOptions, SqlitePoolOptions, SqliteStorage};
use serde::{Deserialize, Serialize};
use sqlx::sqlite::{SqliteJournalMode, SqliteOperation, SqliteSynchronous};

/// The same payload and latency recorder as the baas bench, so both sides measure
/// alike (this workspace cannot depend on that bench, so the file is shared by path).
#[path = "../../../baas-queue/benches/throughput/latency.rs"]
#[allow(dead_code, unreachable_pub)]
mod latency;

use latency::{PAYLOAD_LEN, Recorder};

/// A job: the recorder's payload (index and enqueue stamp).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct BenchJob {
    payload: [u8; PAYLOAD_LEN],
}

impl BenchJob {
    fn stamped(recorder: &Recorder, index: usize) -> Self {
        BenchJob {
            payload: recorder.payload(index),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Single,
    Batched,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Single => "single",
            Mode::Batched => "batched",
        }
    }
}

fn env_usize(name: &str) -> Option<usize> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

async fn handle(
    job: BenchJob,
    worker: WorkerContext,
    recorder: Data<Arc<Recorder>>,
) -> Result<(), BoxDynError> {
    if recorder.record(&job.payload) {
        worker.stop()?;
    }
    Ok(())
}

async fn run(
    mode: Mode,
    jobs: usize,
    batch: usize,
) -> Result<(Duration, Duration, Duration), BoxDynError> {
    let dir = tempfile::tempdir()?;
    let options = SqliteConnectOptions::new()
        .filename(dir.path().join("apalis.db"))
        .create_if_missing(true)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5))
        .synchronous(SqliteSynchronous::Normal)
        .journal_mode(SqliteJournalMode::Wal);
    {
        // apalis' setup also sets `synchronous = OFF` (and a bigger cache) on the one
        // connection it runs on; that connection is closed with this pool, so the
        // measured pool below keeps NORMAL like baas-store's.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        SqliteStorage::setup(&pool).await?;
        pool.close().await;
    }
    let (wake_tx, wake_rx) = futures::channel::mpsc::unbounded::<()>();
    let pool = SqlitePoolOptions::new()
        .after_connect(move |conn, _| {
            let wake = wake_tx.clone();
            Box::pin(async move {
                let mut handle = conn.lock_handle().await?;
                handle.set_update_hook(move |event| {
                    if event.operation == SqliteOperation::Insert && event.table == "Jobs" {
                        let _ = wake.unbounded_send(());
                    }
                });
                Ok(())
            })
        })
        .connect_with(options)
        .await?;

    let (fetch, concurrency) = match mode {
        Mode::Single => (1, 1),
        Mode::Batched => (batch, batch),
    };
    let config = Config::default().queue("bench").batch_size(fetch);
    let storage = SqliteStorage::<BenchJob>::new(&pool).with_config(config);
    let mut producer = storage.clone();
    let backend = storage.poll_with_stream(wake_rx);
    let recorder = Arc::new(Recorder::new(jobs));
    let worker = WorkerBuilder::new("apalis-bench")
        .backend(backend)
        .data(Arc::clone(&recorder))
        .concurrency(concurrency)
        .build(handle);

    let start = Instant::now();
    let consumer = tokio::spawn(async move { worker.run().await });
    match mode {
        Mode::Single => {
            for i in 0..jobs {
                producer.push(BenchJob::stamped(&recorder, i)).await?;
            }
        }
        Mode::Batched => {
            for first in (0..jobs).step_by(batch) {
                let tasks = (first..(first + batch).min(jobs))
                    .map(|i| BenchJob::stamped(&recorder, i))
                    .collect();
                producer.push_bulk(tasks).await?;
            }
        }
    }
    let pushed = start.elapsed();
    consumer.await??;
    let elapsed = start.elapsed();
    eprintln!(
        "sqlite {} apalis: pushed {jobs} jobs in {pushed:?}, all handled and flushed in {elapsed:?}",
        mode.name()
    );
    let handled = recorder.handled();
    if handled < jobs {
        return Err(format!("handled {handled} of {jobs}").into());
    }
    let (p50, p99) = recorder.percentiles();
    pool.close().await;
    Ok((elapsed, p50, p99))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let jobs = env_usize("BENCH_JOBS")
        .or(env_usize("BENCH_JOBS_LOCAL"))
        .unwrap_or(20_000);
    let batch = env_usize("BENCH_BATCH").unwrap_or(64).max(1);
    let modes: Vec<Mode> = std::env::var("BENCH_MODES")
        .unwrap_or_else(|_| "single,batched".to_owned())
        .split(',')
        .filter_map(|m| match m.trim() {
            "single" => Some(Mode::Single),
            "batched" => Some(Mode::Batched),
            _ => None,
        })
        .collect();
    let mut lines = Vec::new();
    println!(
        "{:<9} {:<8} {:<7} {:>7} {:>11} {:>9} {:>9}",
        "backend", "mode", "impl", "jobs", "jobs/s", "p50 ms", "p99 ms"
    );
    for mode in modes {
        match run(mode, jobs, batch).await {
            Ok((elapsed, p50, p99)) => {
                let rate = jobs as f64 / elapsed.as_secs_f64().max(1e-9);
                println!(
                    "{:<9} {:<8} {:<7} {:>7} {:>11.0} {:>9.2} {:>9.2}",
                    "sqlite",
                    mode.name(),
                    "apalis",
                    jobs,
                    rate,
                    ms(p50),
                    ms(p99)
                );
                lines.push(format!(
                    "ROW sqlite {} apalis {jobs} {rate:.1} {:.3} {:.3}",
                    mode.name(),
                    ms(p50),
                    ms(p99)
                ));
            }
            Err(error) => eprintln!("sqlite {} apalis: FAILED: {error}", mode.name()),
        }
    }
    println!();
    for line in lines {
        println!("{line}");
    }
}

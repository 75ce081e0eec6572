//! The crash test (issue 6, item 7): a worker process is killed with SIGKILL at random
//! moments while 10,000 jobs flow, on SQLite, Postgres and RabbitMQ; afterwards every
//! job must have been handled at least once.
//!
//! The parent test enqueues jobs `0..10_000` (JSON numbers) into a fresh queue, then
//! runs worker processes one after another: this very test binary, re-executed with
//! `BAAS_CRASH_CHILD=1` and the filter `child_worker`, which runs [`Worker`] over the
//! queue. Its handler appends each job's id to a file of its own (one `write` per line,
//! `O_APPEND`) *before* returning `Ok`, so a handled job is on disk even when the process
//! dies the instant after. The parent waits until a child has handled its first job,
//! then a random 0–300 ms more — or less, once the child has handled a random share of
//! the jobs left, so the kills stay spread over the flow on a fast machine — and sends
//! SIGKILL: [`KILLS`] times. Then it lets a last child run until every id was seen and
//! the queue reports nothing waiting or in flight. Leases are [`LEASE`] long, so a killed
//! child's deliveries come back quickly.
//!
//! Every job is then classified the way Jepsen's queue checker does: **ok** (handled
//! exactly once), **duplicated** (more than once: allowed, it is at-least-once) and
//! **lost** (never): lost must be 0. The figures are printed to stderr.
//!
//! Postgres and RabbitMQ run when `BAAS_TEST_POSTGRES_URL` / `BAAS_TEST_AMQP_URL` are set
//! (otherwise SKIPPED, or a failure under `BAAS_REQUIRE_SERVICES=1`).

use std::fs::OpenOptions;
use std::future::Future;
use std::io::Write as _;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use baas_core::testing::{service, unique_name};
use baas_core::{Error, TenantId};
use baas_queue::amqp::{AmqpConfig, AmqpQueue};
use baas_queue::sql::SqlQueue;
use baas_queue::worker::{Job, RetryPolicy, Worker, WorkerConfig};
use baas_queue::{DynQueue, NewMessage};
use baas_store::{Database, DatabaseOptions};
use futures::FutureExt as _;
use tower::service_fn;

/// Jobs enqueued per run.
const JOBS: u32 = 10_000;
/// SIGKILLs sent to working children before the last child drains the queue.
const KILLS: usize = 20;
/// The lease each delivery gets: a killed child's deliveries come back after this.
const LEASE: Duration = Duration::from_secs(1);
/// A kill lands at most this long (at random) after the child handled its first job.
const KILL_WITHIN: Duration = Duration::from_millis(300);
/// How long a child may take to handle its first job before the test gives up.
const FIRST_JOB_WITHIN: Duration = Duration::from_secs(20);
/// How long the last child may take to drain the queue.
const DRAIN_WITHIN: Duration = Duration::from_secs(180);
/// When ids are missing, how long the queue must stay empty before they count as lost:
/// longer than a lease and than the RabbitMQ management plugin's 5 s sampling interval
/// (its in-flight figure lags).
const QUIET: Duration = Duration::from_secs(8);
/// The AMQP prefix (as in `tests/amqp.rs`).
const AMQP_PREFIX: &str = "baas-test";

const CHILD: &str = "BAAS_CRASH_CHILD";
const BACKEND: &str = "BAAS_CRASH_BACKEND";
const URL: &str = "BAAS_CRASH_URL";
const SCHEMA: &str = "BAAS_CRASH_SCHEMA";
const QUEUE: &str = "BAAS_CRASH_QUEUE";
const LOG: &str = "BAAS_CRASH_LOG";

/// Where the child finds the queue.
#[derive(Clone)]
enum Backend {
    Sqlite { url: String },
    Postgres { url: String, schema: String },
    Amqp { url: String },
}

impl Backend {
    fn label(&self) -> &'static str {
        match self {
            Backend::Sqlite { .. } => "sqlite",
            Backend::Postgres { .. } => "postgres",
            Backend::Amqp { .. } => "amqp",
        }
    }

    /// The environment telling a child where the queue is.
    fn env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![(BACKEND, self.label().to_owned())];
        match self {
            Backend::Sqlite { url } | Backend::Amqp { url } => env.push((URL, url.clone())),
            Backend::Postgres { url, schema } => {
                env.push((URL, url.clone()));
                env.push((SCHEMA, schema.clone()));
            }
        }
        env
    }

    /// The backend described by a child's environment.
    fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} unset"));
        match var(BACKEND).as_str() {
            "sqlite" => Backend::Sqlite { url: var(URL) },
            "postgres" => Backend::Postgres {
                url: var(URL),
                schema: var(SCHEMA),
            },
            "amqp" => Backend::Amqp { url: var(URL) },
            other => panic!("unknown backend {other:?}"),
        }
    }

    /// Connect a queue (the tables exist: the parent migrated them).
    async fn connect(&self) -> Arc<DynQueue> {
        match self {
            Backend::Sqlite { url } => {
                let db = Database::connect(url).await.expect("open sqlite");
                Arc::new(SqlQueue::new(db))
            }
            Backend::Postgres { url, schema } => {
                let db = Database::connect_with(DatabaseOptions::new(url).schema(schema.clone()))
                    .await
                    .expect("connect to the test schema");
                Arc::new(SqlQueue::new(db))
            }
            Backend::Amqp { url } => Arc::new(
                AmqpQueue::connect(amqp_config(url.clone()))
                    .await
                    .expect("connect to RabbitMQ"),
            ),
        }
    }
}

fn amqp_config(url: String) -> AmqpConfig {
    AmqpConfig::new(url)
        .with_prefix(AMQP_PREFIX)
        .with_delay_tiers([Duration::from_millis(200), Duration::from_secs(1)])
}

fn acme() -> TenantId {
    TenantId::new("acme").unwrap()
}

/// How the children's workers run: the lease is short so killed children's deliveries
/// return quickly; attempts are many so that no job is dead-lettered for having been
/// in several killed children.
fn worker_config() -> WorkerConfig {
    WorkerConfig {
        concurrency: 8,
        lease: LEASE,
        idle_wait: Duration::from_millis(200),
        timeout: Some(Duration::from_secs(30)),
        shutdown_grace: Duration::from_secs(1),
        retry: RetryPolicy::new(1000)
            .backoff(Duration::from_millis(10), Duration::from_millis(100)),
        ..WorkerConfig::default()
    }
}

/// Child mode: run a worker over the queue of the environment until killed. Not a test
/// of its own: the crash tests start it (with `--ignored`) in the processes they kill.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the child process of the crash tests, started by them"]
async fn child_worker() {
    assert_eq!(
        std::env::var(CHILD).as_deref(),
        Ok("1"),
        "run only by the crash tests"
    );
    let backend = Backend::from_env();
    let name = std::env::var(QUEUE).expect("queue name");
    let log_path = std::env::var(LOG).expect("log path");
    let log = Arc::new(
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .expect("open the handled-ids log"),
    );
    let queue = backend.connect().await;
    let handler = service_fn(move |job: Job<u32>| {
        let log = Arc::clone(&log);
        async move {
            // One write(2) of a whole line on an O_APPEND file: on disk (in the page
            // cache, which outlives the process) before the job is acked.
            (&*log)
                .write_all(format!("{}\n", job.payload).as_bytes())
                .map_err(|e| Error::internal("could not record the job").with_source(e))?;
            Ok::<_, Error>(())
        }
    });
    let worker = Worker::json(queue, name, handler)
        .expect("worker")
        .config(worker_config());
    worker.run(std::future::pending()).await;
}

/// A running child, killed (SIGKILL) and reaped when dropped.
struct ChildWorker {
    child: Child,
    log: PathBuf,
}

impl ChildWorker {
    fn spawn(backend: &Backend, queue: &str, log: PathBuf) -> Self {
        let exe = std::env::current_exe().expect("the test binary");
        let child = Command::new(exe)
            .args([
                "child_worker",
                "--exact",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD, "1")
            .env(QUEUE, queue)
            .env(LOG, &log)
            .envs(backend.env())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn a child worker");
        ChildWorker { child, log }
    }

    /// How many jobs the child has handled so far.
    fn handled(&self) -> usize {
        std::fs::read(&self.log).map_or(0, |log| log.iter().filter(|&&b| b == b'\n').count())
    }

    /// Whether the child is still running (a child that exits on its own has failed).
    fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// SIGKILL, then reap.
    fn kill(mut self) {
        self.kill_now();
    }

    fn kill_now(&mut self) {
        // `Child::kill` sends SIGKILL on Unix.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ChildWorker {
    fn drop(&mut self) {
        self.kill_now();
    }
}

/// How many times each id was handled, from every child's log.
fn handled(dir: &Path) -> Vec<u32> {
    let mut counts = vec![0u32; JOBS as usize];
    for entry in std::fs::read_dir(dir).expect("read the log directory") {
        let text = std::fs::read_to_string(entry.expect("log entry").path()).expect("read log");
        for line in text.lines() {
            let id: usize = line
                .parse()
                .unwrap_or_else(|_| panic!("a torn or foreign line in a log: {line:?}"));
            assert!(id < JOBS as usize, "an id that was never enqueued: {id}");
            counts[id] += 1;
        }
    }
    counts
}

/// Jepsen's queue checker's classes.
#[derive(Debug, Default)]
struct Classes {
    ok: usize,
    duplicated: usize,
    lost: Vec<u32>,
    /// The most times one job was handled.
    most: u32,
}

fn classify(counts: &[u32]) -> Classes {
    let mut classes = Classes::default();
    for (id, &n) in counts.iter().enumerate() {
        match n {
            0 => classes.lost.push(u32::try_from(id).unwrap()),
            1 => classes.ok += 1,
            _ => classes.duplicated += 1,
        }
        classes.most = classes.most.max(n);
    }
    classes
}

/// Whether the queue has nothing waiting and nothing in flight (an unknown figure counts
/// as nothing: the ids seen decide then).
async fn drained(queue: &DynQueue, name: &str) -> bool {
    match queue.stats(name).await {
        Ok(stats) => stats.depth.unwrap_or(0) == 0 && stats.in_flight.unwrap_or(0) == 0,
        Err(_) => false,
    }
}

fn report(line: &str) {
    // Straight to stderr (not `eprintln!`): the harness captures the macros' output of
    // passing tests, and the figures should show in a plain run.
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Enqueue the jobs, kill children at random moments, drain with a last child, classify.
async fn crash_run(backend: Backend, queue: Arc<DynQueue>, name: String) {
    let label = backend.label();
    let started = Instant::now();
    for chunk in (0..JOBS).collect::<Vec<_>>().chunks(1000) {
        let batch = chunk
            .iter()
            .map(|i| NewMessage::json(acme(), i).unwrap())
            .collect();
        queue.enqueue_batch(&name, batch).await.expect("enqueue");
    }
    let enqueued = started.elapsed();
    let logs = tempfile::tempdir().expect("log directory");
    let mut spawned = 0usize;
    let mut log = || {
        spawned += 1;
        logs.path().join(format!("child-{spawned}.log"))
    };

    let mut kills = 0;
    while kills < KILLS {
        // Each kill lands a random 0-300 ms after the child's first job, or once it has
        // handled a random share of what is left, whichever comes first: the kills stay
        // spread over the flow however fast this machine drains the queue.
        let left = handled(logs.path()).iter().filter(|&&n| n == 0).count();
        let share = (2 * left / (KILLS - kills + 1)).max(2);
        let budget = rand::random_range(1..share);
        let mut child = ChildWorker::spawn(&backend, &name, log());
        let deadline = Instant::now() + FIRST_JOB_WITHIN;
        while child.handled() == 0 {
            assert!(child.running(), "{label}: a child worker exited on its own");
            assert!(
                Instant::now() < deadline,
                "{label}: a child handled nothing within {FIRST_JOB_WITHIN:?} \
                 (after {kills} kills: the queue drained too early?)"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let kill_at = Instant::now() + rand::random_range(Duration::ZERO..KILL_WITHIN);
        while Instant::now() < kill_at && child.handled() < budget {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        assert!(child.running(), "{label}: a child worker exited on its own");
        child.kill();
        kills += 1;
    }
    let kill_phase = started.elapsed() - enqueued;
    // Distinct jobs: a redelivered job counts once (the handlings include duplicates).
    let handled_by_killed = handled(logs.path()).iter().filter(|&&n| n > 0).count();

    // The last child runs until every id was seen and the queue is empty and settled —
    // or, when ids are missing, until the queue has stayed empty for `QUIET` (nothing is
    // left to deliver them: they are lost).
    let mut last = ChildWorker::spawn(&backend, &name, log());
    let deadline = Instant::now() + DRAIN_WITHIN;
    let mut empty_since: Option<Instant> = None;
    loop {
        assert!(last.running(), "{label}: the last child exited on its own");
        let all_seen = handled(logs.path()).iter().all(|&n| n > 0);
        if drained(&*queue, &name).await {
            let since = *empty_since.get_or_insert_with(Instant::now);
            if all_seen || since.elapsed() >= QUIET {
                break;
            }
        } else {
            empty_since = None;
        }
        if Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    last.kill();
    let elapsed = started.elapsed();

    let classes = classify(&handled(logs.path()));
    let stats = queue.stats(&name).await.expect("stats");
    report(&format!(
        "crash test {label}: jobs={JOBS} ok={} duplicated={} lost={} kills={kills} \
         (jobs handled before the last child: {handled_by_killed}; most handlings of one job: {}) \
         enqueue={:.1}s kill phase={:.1}s elapsed={:.1}s",
        classes.ok,
        classes.duplicated,
        classes.lost.len(),
        classes.most,
        enqueued.as_secs_f64(),
        kill_phase.as_secs_f64(),
        elapsed.as_secs_f64(),
    ));
    assert!(
        classes.lost.is_empty(),
        "{label}: {} jobs lost, e.g. {:?}; queue stats at the end: {stats:?}",
        classes.lost.len(),
        &classes.lost[..classes.lost.len().min(20)]
    );
    assert_eq!(classes.ok + classes.duplicated, JOBS as usize);
    assert!(kills >= KILLS);
    assert!(
        handled_by_killed < JOBS as usize,
        "{label}: the killed children handled every distinct job; the kills came too late to matter"
    );
    assert_eq!(
        stats.dead.unwrap_or(0),
        0,
        "{label}: nothing is dead-lettered"
    );
}

/// Run `test`, then `cleanup`, even when the test panics.
async fn with_cleanup<T, C>(test: T, cleanup: C)
where
    T: Future<Output = ()>,
    C: Future<Output = ()>,
{
    let outcome = AssertUnwindSafe(test).catch_unwind().await;
    cleanup.await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_loses_no_job_when_workers_are_killed() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/queue.db", dir.path().display());
    let queue = SqlQueue::new(Database::connect(&url).await.expect("open sqlite"));
    queue.migrate().await.expect("migrate");
    crash_run(
        Backend::Sqlite { url },
        Arc::new(queue),
        unique_name("crash"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_loses_no_job_when_workers_are_killed() {
    let Some(url) = service("BAAS_TEST_POSTGRES_URL") else {
        return;
    };
    let db = baas_store::testing::postgres_database(&url).await;
    let schema = db.schema().expect("the test schema").to_owned();
    let queue = SqlQueue::new(db);
    queue.migrate().await.expect("migrate");
    crash_run(
        Backend::Postgres { url, schema },
        Arc::new(queue),
        unique_name("crash"),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amqp_loses_no_job_when_workers_are_killed() {
    let Some(url) = service("BAAS_TEST_AMQP_URL") else {
        return;
    };
    let mut config = amqp_config(url.clone());
    if let Ok(management) = std::env::var("BAAS_TEST_AMQP_MANAGEMENT_URL")
        && !management.trim().is_empty()
    {
        config = config.with_management_url(management);
    }
    let queue = Arc::new(AmqpQueue::connect(config).await.expect("connect"));
    let name = unique_name("crash");
    with_cleanup(
        crash_run(
            Backend::Amqp { url },
            Arc::clone(&queue) as Arc<DynQueue>,
            name.clone(),
        ),
        async {
            queue.delete_queue(&name).await.expect("delete test queue");
        },
    )
    .await;
}

#[test]
fn classification_counts_each_class() {
    let classes = classify(&[1, 0, 2, 1, 5]);
    assert_eq!((classes.ok, classes.duplicated), (2, 2));
    assert_eq!(classes.lost, vec![1]);
    assert_eq!(classes.most, 5);
}

//! # worker — a standalone queue worker
//!
//! A template for a process that only works a queue: baas-queue's [`Worker`] runtime on
//! the SQL queue (Postgres in production, SQLite by default) or on RabbitMQ, with a
//! handler that is a plain `tower::Service` — here [`send_report`] for JSON jobs
//! `{"to": "...", "subject": "..."}` on the queue `reports`.
//!
//! The handler is composed like any other tower service: baas-core's circuit breaker
//! around it (a mail relay that keeps failing is left alone for a while, and the jobs
//! come back after its cool-down), then the runtime adds baas-core's job tracing
//! (`WorkTraceLayer`), metrics (`baas_job_runs_total`, `baas_job_duration_seconds`) and
//! the timeout. One [`RetryPolicy`] settles every failure: retryable kinds are tried
//! again with exponential backoff, a client error (`Invalid`, an undecodable payload)
//! goes to the dead letters at once, and so does a job out of attempts.
//!
//! SIGTERM or SIGINT stop it gracefully: it stops reserving, lets the jobs in flight
//! finish (up to 30 s), then releases the leases of the rest for another worker.
//!
//! ```sh
//! cargo run -p worker -- --enqueue 10       # SQLite in ./data/baas.db: enqueue 10 demo jobs, then work
//! cargo run -p worker -- --until-idle       # work until the queue is empty, then exit (cron, batch)
//!
//! BAAS_DATABASE_URL=postgres://user:pass@localhost/baas cargo run -p worker
//! BAAS_QUEUE_URL=amqp://guest:guest@localhost:5672/%2f cargo run -p worker -- --enqueue 10
//! ```
//!
//! | variable | default |
//! |---|---|
//! | `BAAS_QUEUE_URL` | unset: the SQL queue in the database; `amqp://…` (or `amqps://`) for RabbitMQ |
//! | `BAAS_AMQP_PREFIX` | `baas`: the prefix of the RabbitMQ queues and exchanges |
//! | `BAAS_DATABASE_URL` | `sqlite://./data/baas.db?mode=rwc` (or `postgres://…`) |
//! | `BAAS_LOG`, `BAAS_LOG_FORMAT` | `info`, human-readable |
//!
//! Run as many copies as you like against one Postgres or RabbitMQ: each delivery is
//! leased to one worker at a time, and a worker that dies lets its leases expire.

use std::sync::Arc;
use std::time::Duration;

use baas_core::circuit_breaker::{BreakerPolicy, CircuitBreakerLayer};
use baas_core::{Error, TenantId};
use baas_queue::amqp::{AmqpConfig, AmqpQueue};
use baas_queue::sql::SqlQueue;
use baas_queue::worker::{Job, RetryPolicy, Worker, WorkerConfig};
use baas_queue::{Queue, QueueExt};
use baas_store::Database;
use serde::{Deserialize, Serialize};
use tower::ServiceBuilder;

/// The queue this worker works.
const QUEUE: &str = "reports";

/// The job: send a report by email.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SendReport {
    to: String,
    subject: String,
}

/// The handler: one job in, `Ok(())` when done. An `Err` is classified by its kind: an
/// `Invalid` address is permanent (dead letter), an `Unavailable` relay is retried.
async fn send_report(job: Job<SendReport>) -> Result<(), Error> {
    let SendReport { to, subject } = &job.payload;
    if !to.contains('@') {
        return Err(Error::invalid(format!("`{to}` is not an email address")));
    }
    // A real worker calls its mail relay here; messages are keyed by `job.id`, which is
    // stable across redeliveries, so the relay can drop duplicates.
    tracing::info!(id = %job.id, tenant = %job.tenant, attempt = job.attempt, %to, %subject, "report sent");
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let _telemetry = baas_core::telemetry::Telemetry::from_env().init()?;
    let args = Args::parse(std::env::args().skip(1))?;
    let queue = open_queue().await?;

    if args.enqueue > 0 {
        let demo = TenantId::new("demo")?;
        for n in 1..=args.enqueue {
            let job = SendReport {
                to: format!("user{n}@example.com"),
                subject: format!("Weekly report #{n}"),
            };
            queue.enqueue_json(QUEUE, &demo, &job).await?;
        }
        tracing::info!(count = args.enqueue, queue = QUEUE, "demo jobs enqueued");
    }

    // The handler as a tower service, behind a circuit breaker; the runtime adds
    // tracing, metrics and the timeout, and settles failures by the retry policy.
    let handler = ServiceBuilder::new()
        .layer(CircuitBreakerLayer::new(
            "report-mailer",
            BreakerPolicy::new()
                .failure_threshold(5)
                .cool_down(Duration::from_secs(30)),
        ))
        .service_fn(send_report);
    let worker = Worker::json(queue, QUEUE, handler)?.config(WorkerConfig {
        concurrency: 8,
        timeout: Some(Duration::from_secs(30)),
        shutdown_grace: Duration::from_secs(30),
        retry: RetryPolicy::new(5).backoff(Duration::from_secs(1), Duration::from_secs(300)),
        ..WorkerConfig::default()
    });

    tracing::info!(queue = QUEUE, "worker started");
    let summary = if args.until_idle {
        worker.run_until_idle().await
    } else {
        worker.run(shutdown_signal()).await
    };
    tracing::info!(
        processed = summary.processed,
        retried = summary.retried,
        dead = summary.dead,
        released = summary.released,
        lost = summary.lost,
        "worker stopped"
    );
    Ok(())
}

/// RabbitMQ for `BAAS_QUEUE_URL=amqp://…`, else the SQL queue in `BAAS_DATABASE_URL`.
async fn open_queue() -> Result<Arc<dyn Queue>, Box<dyn std::error::Error>> {
    match env("BAAS_QUEUE_URL") {
        Some(url) if url.starts_with("amqp://") || url.starts_with("amqps://") => {
            let mut config = AmqpConfig::new(url);
            if let Some(prefix) = env("BAAS_AMQP_PREFIX") {
                config = config.with_prefix(prefix);
            }
            Ok(Arc::new(AmqpQueue::connect(config).await?))
        }
        Some(_) => Err("BAAS_QUEUE_URL must start with amqp:// or amqps://".into()),
        None => {
            let url = env("BAAS_DATABASE_URL")
                .unwrap_or_else(|| "sqlite://./data/baas.db?mode=rwc".to_owned());
            let queue = SqlQueue::new(Database::connect(&url).await?);
            queue.migrate().await?;
            Ok(Arc::new(queue))
        }
    }
}

/// The command line: `--enqueue N` (also `--enqueue=N`) and `--until-idle`.
#[derive(Debug, Default)]
struct Args {
    enqueue: u32,
    until_idle: bool,
}

impl Args {
    fn parse(args: impl Iterator<Item = String>) -> Result<Self, String> {
        let mut out = Args::default();
        let mut args = args.peekable();
        while let Some(arg) = args.next() {
            let count = match arg.strip_prefix("--enqueue=") {
                Some(n) => Some(n.to_owned()),
                None if arg == "--enqueue" => Some(args.next().unwrap_or_default()),
                None => None,
            };
            if let Some(n) = count {
                out.enqueue = n
                    .parse()
                    .map_err(|_| format!("--enqueue: `{n}` is not a count"))?;
            } else if arg == "--until-idle" {
                out.until_idle = true;
            } else {
                return Err(format!(
                    "unknown argument `{arg}` (expected --enqueue N, --until-idle)"
                ));
            }
        }
        Ok(out)
    }
}

/// The variable `name`, when set and not empty.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM, and says so in the log.
async fn shutdown_signal() {
    baas_core::shutdown::signal().await;
    tracing::info!("shutting down: no new jobs; letting the running ones finish");
}

#[cfg(test)]
mod tests {
    use super::*;
    use baas_queue::MemoryQueue;

    #[tokio::test]
    async fn good_jobs_are_processed_and_bad_ones_dead_lettered() {
        let queue = Arc::new(MemoryQueue::new());
        let acme = TenantId::new("acme").unwrap();
        let good = SendReport {
            to: "ops@example.com".into(),
            subject: "Daily".into(),
        };
        let bad = SendReport {
            to: "nobody".into(),
            subject: "Daily".into(),
        };
        queue.enqueue_json(QUEUE, &acme, &good).await.unwrap();
        queue.enqueue_json(QUEUE, &acme, &bad).await.unwrap();
        queue
            .enqueue_json(QUEUE, &acme, &serde_json::json!({"to": 3}))
            .await
            .unwrap();

        let summary = Worker::json(queue.clone(), QUEUE, tower::service_fn(send_report))
            .unwrap()
            .run_until_idle()
            .await;
        assert_eq!(
            (summary.processed, summary.dead, summary.retried),
            (1, 2, 0)
        );
        let dead = queue.dead_letters(QUEUE, 10).await.unwrap();
        assert!(
            dead.iter()
                .any(|d| d.reason.contains("not an email address"))
        );
        assert!(dead.iter().any(|d| d.reason.contains("undecodable")));
    }

    #[test]
    fn arguments_parse() {
        let parse = |args: &[&str]| Args::parse(args.iter().map(|s| (*s).to_owned()));
        let args = parse(&["--enqueue", "3", "--until-idle"]).unwrap();
        assert_eq!((args.enqueue, args.until_idle), (3, true));
        assert_eq!(parse(&["--enqueue=7"]).unwrap().enqueue, 7);
        assert!(parse(&["--enqueue", "many"]).is_err());
        assert!(parse(&["--bogus"]).is_err());
    }
}

//! Deliveries per second, end to end through the SQL queue, next to the queue's own rate
//! and a raw HTTP loop, in one run.
//!
//! Everything is wired the way `examples/platform` wires it (`storage.rs`, `events.rs`,
//! `main.rs`): a baas-store SQLite [`Database`] in a temp dir with the default options,
//! the framework's and baas-notify's migrations, `SqlQueue`, `SqlDeliveryLog`,
//! `SqlEndpointStore` with secrets sealed by a master key, the [`Notifier`] taking
//! notifications in through a `SqlIntake` (log rows and jobs in one transaction, group
//! commit; `BENCH_INTAKE=queue` for the default intake: the log, then the queue) and one
//! [`Dispatcher::run`] worker reserving batches of 32 (the platform's `WORKER_BATCH`),
//! up to `dispatch::DEFAULT_PIPELINE` batches in flight.
//! The only difference: the SSRF guard allows private targets, because the receiver is
//! an axum server on 127.0.0.1 in this process.
//!
//! Rows (each on a fresh database):
//!
//! - **queue no-op**: the same queue and worker loop (reserve a batch of 32, handle them
//!   concurrently, repeat) with a handler that decodes the job and acks it; and
//!   **queue no-op ack_batch**: the same, acking each batch with one `Queue::ack_batch`
//!   (as the dispatcher now settles its successes);
//! - **webhooks**: `Notifier::publish` of N events, each matching the one endpoint,
//!   delivered signed to the receiver (which counts, verifies every k-th signature and
//!   answers 204);
//! - **raw reqwest**: 32 concurrent POST loops to the same receiver with the same body
//!   size, each request signed (HMAC-SHA256) afresh — the HTTP ceiling;
//! - **emails**: `Notifier::send` of the `welcome` template through the lettre SMTP
//!   provider to the sink of `scripts/services.sh` (`BAAS_TEST_SMTP_ADDR`; skipped with
//!   a reason when unset), checked afterwards in its Maildir (`BAAS_TEST_SMTP_MAILDIR`);
//!   next to **SMTP provider alone**: 32 concurrent `SmtpChannel::send` loops, no queue
//!   and no log — the sink's ceiling.
//!
//! "end to end" runs the publishers and the worker together and times the first publish
//! to the last delivery; "drain" queues all N first, then times the worker alone.
//!
//! ```text
//! eval "$(scripts/services.sh env)"
//! cargo bench -p baas-notify --all-features --bench delivery
//! ```
//!
//! Environment: `BENCH_WEBHOOKS` (N, default 20000), `BENCH_EMAILS` (default 2000),
//! `BENCH_BATCH` (worker batch, default 32), `BENCH_PUBLISHERS` (concurrent publishers,
//! default 4), `BENCH_VERIFY_EVERY` (receiver verifies every k-th signature, default 8),
//! `BENCH_SQLITE_MAX_CONNECTIONS` (the pool size; default: baas-store's, as the platform),
//! `BENCH_SMTP_POOL` (lettre's pool; default 8, as `SmtpConfig::from_url` and the platform),
//! `BENCH_PIPELINE` (batches the dispatcher works at once; default
//! `dispatch::DEFAULT_PIPELINE`), `BENCH_INTAKE` (`queue`: the notifier's default intake
//! instead of `SqlIntake`), `BENCH_PROFILE=1` (time each delivery-log, endpoint-store,
//! intake and provider call of the webhook and email rows and print the means: where a
//! delivery's time goes), `BENCH_ROWS` (the groups of rows to run, comma-separated:
//! `noop`, `webhooks`, `raw`, `emails`; default all; `raw` signs the webhook rows' body,
//! so it runs them too).
//!
//! Results (2026-11-29 04:15 UTC, defaults, three runs; after `SqlIntake` writes each
//! group as one `Database::write_script` and `Dispatcher::run` lingers 5 ms after a batch
//! that was not full), jobs/s:
//!
//! | row | run 1 | run 2 | run 3 |
//! |---|---:|---:|---:|
//! | webhooks, end to end (4 publishers) | 7,657 | 7,535 | 7,821 |
//! | webhooks, drain | 15,756 | 11,772 | 14,956 |
//! | queue no-op, end to end | 2,628 | 3,408 | 2,373 |
//! | queue no-op, drain | 6,894 | 7,627 | 7,299 |
//! | queue no-op ack_batch, drain | 67,126 | 73,232 | 72,487 |
//! | raw reqwest | 83,689 | | |
//! | emails end to end / SMTP provider alone | 598 / 458 | | |
//!
//! Webhooks / queue no-op: 2.21–3.30 end to end, 1.54–2.29 drained (≥ 0.70 asked).
//! Alternated with the binary of `439c00d` (before both), webhooks only: 20,000 end to
//! end took 3.43 / 4.50 / 3.37 s there (5,831 / 4,444 / 5,935 a second) and 2.57–2.86 s
//! here (7,000–7,782 a second).
//!
//! Results (2026-11-29, quiet machine, defaults N = 20000, after baas-store's SQLite pool
//! went from one connection to four plus one for write transactions), jobs/s:
//!
//! | row | 4 publishers (2 runs) | 32 publishers (3 runs) |
//! |---|---|---|
//! | webhooks, end to end | 4,434 / 4,559 | 9,040 / 9,580 / 8,979 |
//! | webhooks, drain | 12,444 / 14,647 | 13,672 / 13,319 / 10,763 |
//! | queue no-op, end to end | 2,733 / 2,889 | 2,678 / 2,776 / 2,864 |
//! | queue no-op ack_batch, end to end | 4,114 / 4,429 | 4,430 / 4,104 / 3,694 |
//! | queue no-op ack_batch, drain | 65,529 / 45,369 | 63,630 / 65,415 / 63,775 |
//! | raw reqwest | 75,953 / 79,547 | 74,633 / 73,863 / 38,390 |
//!
//! The queue no-op rows enqueue one message per `Queue::enqueue` call (about 4,000–4,700
//! a second), while the notifier's intake commits groups (5,400–7,600 a second with 4
//! publishers, 23,000–28,800 with 32), so end to end the webhooks outrun the no-op.
//! Drained, the webhooks do 0.17–0.32 of the no-op that acks with `ack_batch`: each
//! batch of 32 deliveries also writes the delivery log.
//!
//! Again at 02:42 UTC the same day (baas-store's `GroupCommit` under `SqlIntake`, and a
//! lone intake call written inline): webhooks end to end 5,173 / 4,702 with 4 publishers
//! (publish 6,662 / 5,791 a second) and 9,169 with 32; drained 13,263 / 10,160 / 12,896
//! against the no-op `ack_batch` drain's 63,392 / 65,154 / 64,531 (0.21 / 0.16 / 0.20).
//!
//! Earlier results (2026-11-28, 2 shared CPUs with other builds running, so noisy; N = 3000,
//! `BENCH_WEBHOOKS=3000 BENCH_EMAILS=300`, main's binary and this one run back to back):
//!
//! | row (jobs/s) | 4 publishers: main → SqlIntake | 32 publishers: main → SqlIntake |
//! |---|---|---|
//! | webhooks, end to end | 479 → 513 | 628 → 2,252 |
//! | webhooks, publish alone (drain row's publish/s) | 888 → 1,374 | 1,229 → 9,649 |
//! | webhooks, drain | 3,171 → 1,915 (noise: 2,888–4,146 across runs) | 3,242 → 3,314 |
//! | queue no-op ack_batch, drain | 12,788 / 9,007 | 20,733 / 16,740 |
//! | raw reqwest | 5,421 / 4,961 | 6,064 / 11,323 |
//!
//! With 32 publishers (as many concurrent `POST /v1/events`), end to end: webhooks /
//! no-op (end to end) = 1.52, webhooks / no-op ack_batch (end to end) = 1.29, webhooks /
//! raw reqwest = 0.20. The ≥ 5,000 webhooks/s end to end target is still missed: the
//! worker's drain (≈ 3,300/s, four SQL writes per batch of 32 sharing SQLite's one
//! writer with the intake) is now the limit.
#![allow(clippy::print_stdout, reason = "a bench binary prints its table")]

use std::collections::{BTreeMap, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use baas_core::{Error, MasterKey, TenantId};
use baas_notify::channel::{Channel, DeliveryError, EmailMessage, Message, Receipt};
use baas_notify::intake::{Accept, Intake};
use baas_notify::notifier::DEFAULT_QUEUE;
use baas_notify::providers::{LogChannel, SmtpChannel, SmtpConfig, WebhookChannel};
use baas_notify::signing::{WEBHOOK_ID, WEBHOOK_SIGNATURE, WEBHOOK_TIMESTAMP, sign_headers};
use baas_notify::store::sql::{
    Migrator, SqlDeliveryLog, SqlEndpointStore, SqlIntake, SqlPreferenceStore,
};
use baas_notify::store::{DeliveryLog, Endpoint, EndpointStore, Inserted, Settlement};
use baas_notify::{
    Attempt, ChannelKind, DeliveryJob, Dispatcher, Notification, Notifier, SendRequest, Status,
    TargetPolicy, TemplateSource, Templates, Verifier, WebhookEndpoints, WebhookSecret,
};
use baas_queue::sql::SqlQueue;
use baas_queue::{NewMessage, Queue, Reserve};
use baas_store::{Database, DatabaseOptions};
use secrecy::ExposeSecret as _;
use tokio::sync::oneshot;
use uuid::Uuid;

const EVENT_TYPE: &str = "order.created";

struct Settings {
    webhooks: u64,
    emails: u64,
    batch: usize,
    publishers: u64,
    verify_every: u64,
    profile: Option<Arc<Stopwatch>>,
    smtp_pool: Option<u32>,
    /// `BENCH_ROWS`: the groups of rows to run (all when unset).
    rows: Option<Vec<String>>,
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&v| v > 0)
        .unwrap_or(default)
}

impl Settings {
    fn from_env() -> Self {
        Settings {
            webhooks: env_u64("BENCH_WEBHOOKS", 20_000),
            emails: env_u64("BENCH_EMAILS", 2_000),
            batch: usize::try_from(env_u64("BENCH_BATCH", 32)).unwrap_or(32),
            publishers: env_u64("BENCH_PUBLISHERS", 4),
            verify_every: env_u64("BENCH_VERIFY_EVERY", 8),
            profile: (std::env::var("BENCH_PROFILE").as_deref() == Ok("1"))
                .then(|| Arc::new(Stopwatch::default())),
            smtp_pool: std::env::var("BENCH_SMTP_POOL")
                .ok()
                .and_then(|v| v.parse().ok()),
            rows: std::env::var("BENCH_ROWS").ok().map(|v| {
                v.split([',', ' '])
                    .filter(|r| !r.is_empty())
                    .map(str::to_owned)
                    .collect()
            }),
        }
    }

    /// Whether the group of rows `name` runs (`noop`, `webhooks`, `raw`, `emails`).
    fn runs(&self, name: &str) -> bool {
        self.rows
            .as_ref()
            .is_none_or(|rows| rows.iter().any(|r| r == name))
    }
}

// ---------------------------------------------------------------- the receiver

#[derive(Default)]
struct Counters {
    seen: AtomicU64,
    verified: AtomicU64,
    bad: AtomicU64,
}

#[derive(Clone)]
struct Receiver {
    counters: Arc<Counters>,
    verifier: Arc<parking_lot::RwLock<Option<Arc<Verifier>>>>,
    verify_every: u64,
}

impl Receiver {
    fn expect(&self, secret: &WebhookSecret) {
        *self.verifier.write() = Some(Arc::new(Verifier::new(secret.clone())));
        self.counters.seen.store(0, Ordering::SeqCst);
        self.counters.verified.store(0, Ordering::SeqCst);
        self.counters.bad.store(0, Ordering::SeqCst);
    }

    fn seen(&self) -> u64 {
        self.counters.seen.load(Ordering::SeqCst)
    }

    /// Wait until `n` requests arrived (polling each millisecond).
    async fn until_seen(&self, n: u64) {
        while self.seen() < n {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

async fn hook(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let n = r.counters.seen.fetch_add(1, Ordering::SeqCst);
    if n % r.verify_every == 0 {
        let verifier = r.verifier.read().clone();
        match verifier.map(|v| v.verify(&headers, &body)) {
            Some(Ok(())) => r.counters.verified.fetch_add(1, Ordering::Relaxed),
            _ => r.counters.bad.fetch_add(1, Ordering::Relaxed),
        };
    }
    StatusCode::NO_CONTENT
}

async fn receiver(verify_every: u64) -> (Receiver, String) {
    let r = Receiver {
        counters: Arc::default(),
        verifier: Arc::default(),
        verify_every,
    };
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(hook))
        .with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    (r, format!("http://{addr}/hook"))
}

// ---------------------------------------------------------------- the platform's wiring

/// Counts successful sends of the provider it wraps (the end of an email run).
#[derive(Debug)]
struct Counted {
    inner: Arc<dyn Channel>,
    sent: Arc<AtomicU64>,
}

#[async_trait]
impl Channel for Counted {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn kind(&self) -> ChannelKind {
        self.inner.kind()
    }

    async fn send(&self, message: &Message) -> Result<Receipt, DeliveryError> {
        let r = self.inner.send(message).await;
        if r.is_ok() {
            self.sent.fetch_add(1, Ordering::SeqCst);
        }
        r
    }
}

/// Per-call latency sums (`BENCH_PROFILE=1`): where a delivery's time goes.
#[derive(Debug, Default)]
struct Stopwatch {
    calls: parking_lot::Mutex<BTreeMap<&'static str, (u64, Duration)>>,
}

impl Stopwatch {
    async fn time<T>(&self, what: &'static str, f: impl Future<Output = T>) -> T {
        let started = Instant::now();
        let out = f.await;
        let took = started.elapsed();
        let mut calls = self.calls.lock();
        let e = calls.entry(what).or_default();
        e.0 += 1;
        e.1 += took;
        out
    }

    fn report(&self, title: &str) {
        println!("  {title}: calls, mean latency, summed latency");
        for (what, (n, total)) in self.calls.lock().iter() {
            println!(
                "    {what:<28} {n:>7} {:>9.3} ms {:>9.3} s",
                total.as_secs_f64() * 1e3 / *n as f64,
                total.as_secs_f64()
            );
        }
        self.calls.lock().clear();
    }
}

#[derive(Debug)]
struct TimedLog {
    inner: Arc<dyn DeliveryLog>,
    watch: Arc<Stopwatch>,
}

#[async_trait]
impl DeliveryLog for TimedLog {
    async fn insert(&self, n: &Notification) -> Result<Inserted, Error> {
        self.watch.time("log.insert", self.inner.insert(n)).await
    }
    async fn get(&self, tenant: &TenantId, id: Uuid) -> Result<Option<Notification>, Error> {
        self.watch.time("log.get", self.inner.get(tenant, id)).await
    }
    async fn set_status(
        &self,
        tenant: &TenantId,
        id: Uuid,
        status: Status,
        at: SystemTime,
    ) -> Result<(), Error> {
        self.watch
            .time(
                "log.set_status",
                self.inner.set_status(tenant, id, status, at),
            )
            .await
    }
    async fn record_attempt(&self, tenant: &TenantId, a: &Attempt) -> Result<(), Error> {
        self.watch
            .time("log.record_attempt", self.inner.record_attempt(tenant, a))
            .await
    }
    async fn start_many(
        &self,
        keys: &[(TenantId, Uuid)],
        at: SystemTime,
    ) -> Result<Vec<Option<Notification>>, Error> {
        self.watch
            .time("log.start_many", self.inner.start_many(keys, at))
            .await
    }
    async fn settle_many(&self, batch: &[Settlement]) -> Vec<Result<(), Error>> {
        self.watch
            .time("log.settle_many", self.inner.settle_many(batch))
            .await
    }
    async fn attempts(&self, tenant: &TenantId, id: Uuid) -> Result<Vec<Attempt>, Error> {
        self.inner.attempts(tenant, id).await
    }
    async fn sweep(&self, before: SystemTime) -> Result<u64, Error> {
        self.inner.sweep(before).await
    }
}

#[derive(Debug)]
struct TimedEndpoints {
    inner: Arc<dyn EndpointStore>,
    watch: Arc<Stopwatch>,
}

#[async_trait]
impl EndpointStore for TimedEndpoints {
    async fn insert(&self, e: &Endpoint) -> Result<(), Error> {
        self.inner.insert(e).await
    }
    async fn get(&self, tenant: &TenantId, id: Uuid) -> Result<Option<Endpoint>, Error> {
        self.watch
            .time("endpoints.get", self.inner.get(tenant, id))
            .await
    }
    async fn list(&self, tenant: &TenantId) -> Result<Vec<Endpoint>, Error> {
        self.watch
            .time("endpoints.list", self.inner.list(tenant))
            .await
    }
    async fn set_disabled(&self, tenant: &TenantId, id: Uuid, disabled: bool) -> Result<(), Error> {
        self.inner.set_disabled(tenant, id, disabled).await
    }
    async fn delete(&self, tenant: &TenantId, id: Uuid) -> Result<(), Error> {
        self.inner.delete(tenant, id).await
    }
}

#[derive(Debug)]
struct TimedIntake {
    inner: Arc<dyn Intake>,
    watch: Arc<Stopwatch>,
}

#[async_trait]
impl Intake for TimedIntake {
    async fn accept(&self, queue: &str, batch: Vec<Accept>) -> Result<Vec<Inserted>, Error> {
        self.watch
            .time("intake.accept", self.inner.accept(queue, batch))
            .await
    }
}

#[derive(Debug)]
struct TimedChannel {
    inner: Arc<dyn Channel>,
    watch: Arc<Stopwatch>,
}

#[async_trait]
impl Channel for TimedChannel {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn kind(&self) -> ChannelKind {
        self.inner.kind()
    }

    async fn send(&self, message: &Message) -> Result<Receipt, DeliveryError> {
        self.watch
            .time("channel.send", self.inner.send(message))
            .await
    }
}

struct Platform {
    _dir: tempfile::TempDir,
    queue: Arc<dyn Queue>,
    notifier: Notifier,
    endpoints: WebhookEndpoints,
    dispatcher: Dispatcher,
    tenant: TenantId,
}

/// `storage::open_database` + `storage::open_queue` + `events::start`, on a fresh
/// SQLite file; `email` is the email provider (the log when none).
async fn platform(email: Option<Arc<dyn Channel>>, watch: Option<Arc<Stopwatch>>) -> Platform {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}/baas.db?mode=rwc", dir.path().display());
    let policy = TargetPolicy::new().allow_private(true);
    let mut options = DatabaseOptions::new(url);
    if let Ok(n) = std::env::var("BENCH_SQLITE_MAX_CONNECTIONS") {
        options = options.max_connections(n.parse().expect("BENCH_SQLITE_MAX_CONNECTIONS"));
    }
    let db = Database::connect_with(options).await.expect("connect");
    db.migrate().await.expect("migrate");
    let queue = SqlQueue::new(db.clone());
    queue.migrate().await.expect("migrate the queue");
    let sql_queue = queue.clone();
    let queue: Arc<dyn Queue> = Arc::new(queue);

    db.migrate_with::<Migrator>()
        .await
        .expect("migrate baas-notify");
    let mut log: Arc<dyn DeliveryLog> = Arc::new(SqlDeliveryLog::new(db.clone()));
    let mut endpoint_store: Arc<dyn EndpointStore> = Arc::new(SqlEndpointStore::new(db.clone()));
    let mut webhook: Arc<dyn Channel> = Arc::new(WebhookChannel::new(policy).expect("client"));
    if let Some(watch) = watch.clone() {
        log = Arc::new(TimedLog {
            inner: log,
            watch: watch.clone(),
        });
        endpoint_store = Arc::new(TimedEndpoints {
            inner: endpoint_store,
            watch: watch.clone(),
        });
        webhook = Arc::new(TimedChannel {
            inner: webhook,
            watch,
        });
    }
    let endpoints = WebhookEndpoints::new(endpoint_store, MasterKey::generate(), policy);
    let mut templates = Templates::new("en");
    templates
        .add(
            "welcome",
            "en",
            TemplateSource::new(
                "Welcome, {{ name }}",
                "Hello {{ name }},\n\nwelcome aboard.\n",
            )
            .html("<p>Hello {{ name }},</p><p>welcome aboard.</p>"),
        )
        .expect("template");
    let templates = Arc::new(templates);
    let notifier = Notifier::new(
        log.clone(),
        Arc::new(SqlPreferenceStore::new(db.clone())),
        templates.clone(),
        queue.clone(),
    )
    .with_endpoints(endpoints.clone())
    .mandatory_categories(["security"]);
    // As `events::start`: the SQL queue shares the database, so the log's rows and the
    // jobs go in one transaction (group commit); `BENCH_INTAKE=queue` keeps the default
    // intake (the log, then the queue, per notification).
    let intake: Option<Arc<dyn Intake>> = match std::env::var("BENCH_INTAKE").as_deref() {
        Ok("queue") => None,
        _ => Some(Arc::new(SqlIntake::new(sql_queue)) as Arc<dyn Intake>),
    };
    let notifier = match (intake, &watch) {
        (None, _) => notifier,
        (Some(intake), None) => notifier.with_intake(intake),
        (Some(inner), Some(watch)) => notifier.with_intake(Arc::new(TimedIntake {
            inner,
            watch: watch.clone(),
        })),
    };
    let email = email.unwrap_or_else(|| Arc::new(LogChannel::new(ChannelKind::Email)));
    let mut dispatcher = Dispatcher::builder(log, templates);
    if let Some(n) = std::env::var("BENCH_PIPELINE")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        dispatcher = dispatcher.pipeline(n);
    }
    if let Some(ms) = std::env::var("BENCH_LINGER_MS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        dispatcher = dispatcher.linger(Duration::from_millis(ms));
    }
    let dispatcher = dispatcher
        .provider(email)
        .provider(Arc::new(LogChannel::new(ChannelKind::Sms)))
        .provider(Arc::new(LogChannel::new(ChannelKind::Push)))
        .provider(webhook)
        .endpoints(endpoints.clone())
        .build();
    Platform {
        _dir: dir,
        queue,
        notifier,
        endpoints,
        dispatcher,
        tenant: TenantId::new("acme").expect("tenant"),
    }
}

/// A stop switch for a spawned worker loop.
struct Running {
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

fn spawn_dispatcher(p: &Platform, batch: usize) -> Running {
    let (stop, rx) = oneshot::channel::<()>();
    let dispatcher = p.dispatcher.clone();
    let queue = p.queue.clone();
    let task = tokio::spawn(async move {
        dispatcher
            .run(queue, batch, async move {
                let _ = rx.await;
            })
            .await;
    });
    Running { stop, task }
}

/// `Dispatcher::run`'s loop (one batch at a time) with a handler that decodes the job
/// and acks it: each on its own (`ack`), or the batch at once (`ack_batch`).
fn spawn_noop(queue: Arc<dyn Queue>, batch: usize, done: Arc<AtomicU64>, grouped: bool) -> Running {
    let (stop, mut rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        loop {
            let reserve = queue.reserve(
                DEFAULT_QUEUE,
                Reserve::new(batch, Duration::from_secs(300)).wait(Duration::from_secs(1)),
            );
            let reserved = tokio::select! {
                _ = &mut rx => return,
                reserved = reserve => reserved,
            };
            let Ok(deliveries) = reserved else {
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            };
            if grouped {
                let leases: Vec<_> = deliveries
                    .iter()
                    .map(|d| {
                        let _job: DeliveryJob = d.message.json().expect("a delivery job");
                        d.lease.clone()
                    })
                    .collect();
                if leases.is_empty() {
                    continue;
                }
                let acked = queue.ack_batch(&leases).await;
                let ok = acked.iter().filter(|r| r.is_ok()).count();
                done.fetch_add(ok as u64, Ordering::SeqCst);
                continue;
            }
            futures_util::future::join_all(deliveries.into_iter().map(|d| {
                let queue = &queue;
                let done = &done;
                async move {
                    let _job: DeliveryJob = d.message.json().expect("a delivery job");
                    if queue.ack(&d.lease).await.is_ok() {
                        done.fetch_add(1, Ordering::SeqCst);
                    }
                }
            }))
            .await;
        }
    });
    Running { stop, task }
}

/// Run `n` calls of `f(i)` from `publishers` concurrent tasks; returns when all are done.
async fn publish_all<F, Fut>(n: u64, publishers: u64, f: F)
where
    F: Fn(u64) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let next = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..publishers)
        .map(|_| {
            let next = next.clone();
            let f = f.clone();
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    f(i).await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("publisher");
    }
}

async fn until(counter: &AtomicU64, n: u64) {
    while counter.load(Ordering::SeqCst) < n {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

// ---------------------------------------------------------------- the rows

struct Row {
    name: String,
    n: u64,
    /// Publishing alone (enqueue side), when measured apart.
    publish: Option<Duration>,
    elapsed: Duration,
    note: String,
}

impl Row {
    fn rate(&self) -> f64 {
        self.n as f64 / self.elapsed.as_secs_f64()
    }
}

/// The same job the notifier enqueues for a webhook delivery.
fn job_message(tenant: &TenantId) -> NewMessage {
    let id = Uuid::now_v7();
    let job = DeliveryJob {
        notification: id,
        webhook_id: Some(format!("evt_{}", Uuid::now_v7().simple())),
    };
    NewMessage::json(tenant.clone(), &job)
        .expect("json")
        .dedupe_key(id.to_string())
}

async fn noop_rows(s: &Settings, grouped: bool) -> Vec<Row> {
    let label = if grouped {
        "queue no-op ack_batch"
    } else {
        "queue no-op"
    };
    let n = s.webhooks;
    let mut rows = Vec::new();
    // End to end: enqueue and work together.
    {
        let p = platform(None, None).await;
        let done = Arc::new(AtomicU64::new(0));
        let worker = spawn_noop(p.queue.clone(), s.batch, done.clone(), grouped);
        let started = Instant::now();
        let queue = p.queue.clone();
        let tenant = p.tenant.clone();
        publish_all(n, s.publishers, move |_| {
            let queue = queue.clone();
            let message = job_message(&tenant);
            async move {
                queue
                    .enqueue(DEFAULT_QUEUE, message)
                    .await
                    .expect("enqueue");
            }
        })
        .await;
        let published = started.elapsed();
        until(&done, n).await;
        let elapsed = started.elapsed();
        worker.stop().await;
        rows.push(Row {
            name: format!("{label}, end to end"),
            n,
            publish: Some(published),
            elapsed,
            note: format!("{} enqueuers ∥ 1 worker", s.publishers),
        });
    }
    // Drain: all queued first.
    {
        let p = platform(None, None).await;
        let started = Instant::now();
        let queue = p.queue.clone();
        let tenant = p.tenant.clone();
        publish_all(n, s.publishers, move |_| {
            let queue = queue.clone();
            let message = job_message(&tenant);
            async move {
                queue
                    .enqueue(DEFAULT_QUEUE, message)
                    .await
                    .expect("enqueue");
            }
        })
        .await;
        let published = started.elapsed();
        let done = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        let worker = spawn_noop(p.queue.clone(), s.batch, done.clone(), grouped);
        until(&done, n).await;
        let elapsed = started.elapsed();
        worker.stop().await;
        rows.push(Row {
            name: format!("{label}, drain"),
            n,
            publish: Some(published),
            elapsed,
            note: "pre-queued, 1 worker".into(),
        });
    }
    rows
}

fn payload(i: u64) -> serde_json::Value {
    serde_json::json!({
        "order": i,
        "customer": "cus_0123456789abcdef",
        "items": [{"sku": "sku-1", "qty": 2}, {"sku": "sku-2", "qty": 1}],
        "note": "x".repeat(64),
    })
}

/// Webhook rows; also returns the endpoint's secret and one body the dispatcher sent
/// (for the raw row).
async fn webhook_rows(
    s: &Settings,
    receiver: &Receiver,
    url: &str,
) -> (Vec<Row>, WebhookSecret, Vec<u8>) {
    let n = s.webhooks;
    let mut rows = Vec::new();
    let mut secret = None;
    let mut body = Vec::new();
    for drain in [false, true] {
        let p = platform(None, s.profile.clone()).await;
        let (_, whsec) = p
            .endpoints
            .create(&p.tenant, url, vec![EVENT_TYPE.into()])
            .await
            .expect("endpoint");
        let sec = WebhookSecret::parse(whsec.expose_secret()).expect("whsec");
        receiver.expect(&sec);
        secret = Some(sec);

        let first = Arc::new(parking_lot::Mutex::new(None::<Uuid>));
        let worker = (!drain).then(|| spawn_dispatcher(&p, s.batch));
        let started = Instant::now();
        let notifier = p.notifier.clone();
        let tenant = p.tenant.clone();
        let first_id = first.clone();
        publish_all(n, s.publishers, move |i| {
            let notifier = notifier.clone();
            let tenant = tenant.clone();
            let first_id = first_id.clone();
            async move {
                let e = notifier
                    .publish(&tenant, EVENT_TYPE, payload(i))
                    .await
                    .expect("publish");
                assert_eq!(e.deliveries.len(), 1, "one endpoint matches");
                if i == 0 {
                    *first_id.lock() = Some(e.deliveries[0]);
                }
            }
        })
        .await;
        let published = started.elapsed();
        let (worker, started) = match worker {
            Some(w) => (w, started),
            None => (spawn_dispatcher(&p, s.batch), Instant::now()),
        };
        receiver.until_seen(n).await;
        let elapsed = started.elapsed();
        worker.stop().await;
        // The body the dispatcher sent for the first event: the stored event, minified.
        let id = first.lock().expect("first delivery");
        let stored = p
            .notifier
            .get(&p.tenant, id)
            .await
            .expect("log")
            .expect("stored");
        assert_eq!(stored.status, Status::Sent);
        body = serde_json::to_vec(&stored.data).expect("json");
        let bad = receiver.counters.bad.load(Ordering::SeqCst);
        let verified = receiver.counters.verified.load(Ordering::SeqCst);
        assert_eq!(bad, 0, "every sampled signature verifies");
        if let Some(watch) = &s.profile {
            watch.report(if drain {
                "webhooks, drain"
            } else {
                "webhooks, end to end"
            });
        }
        rows.push(Row {
            name: if drain {
                "webhooks, drain".into()
            } else {
                "webhooks, end to end".into()
            },
            n,
            publish: Some(published),
            elapsed,
            note: format!(
                "{} publishers{}; {verified} sampled signatures ok",
                s.publishers,
                if drain {
                    ", then 1 worker"
                } else {
                    " ∥ 1 worker"
                }
            ),
        });
    }
    (rows, secret.expect("a run"), body)
}

/// `concurrency` loops POSTing `body`, signed afresh each time, until `n` are answered.
async fn raw_row(
    s: &Settings,
    receiver: &Receiver,
    url: &str,
    secret: &WebhookSecret,
    body: Vec<u8>,
) -> Row {
    let n = s.webhooks;
    receiver.expect(secret);
    // Built like WebhookChannel's client, minus the guarded resolver (an IP literal).
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .pool_max_idle_per_host(64)
        .build()
        .expect("client");
    let body = Bytes::from(body);
    let secrets = Arc::new(vec![secret.clone()]);
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..s.batch)
        .map(|_| {
            let (client, body, secrets, next) =
                (client.clone(), body.clone(), secrets.clone(), next.clone());
            let url = url.to_owned();
            tokio::spawn(async move {
                while next.fetch_add(1, Ordering::Relaxed) < n {
                    let id = format!("evt_{}", Uuid::now_v7().simple());
                    let now = SystemTime::now()
                        .duration_since(SystemTime::UNIX_EPOCH)
                        .expect("time")
                        .as_secs();
                    let signed = sign_headers(&secrets, &id, now, &body);
                    let response = client
                        .post(&url)
                        .header("content-type", "application/json")
                        .header("user-agent", "baas-notify/0.1")
                        .header(WEBHOOK_ID, signed.id)
                        .header(WEBHOOK_TIMESTAMP, signed.timestamp)
                        .header(WEBHOOK_SIGNATURE, signed.signature)
                        .body(body.clone())
                        .send()
                        .await
                        .expect("POST");
                    assert!(response.status().is_success());
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("poster");
    }
    let elapsed = started.elapsed();
    assert_eq!(receiver.seen(), n);
    let bad = receiver.counters.bad.load(Ordering::SeqCst);
    assert_eq!(bad, 0, "every sampled signature verifies");
    Row {
        name: "raw reqwest POST loop".into(),
        n,
        publish: None,
        elapsed,
        note: format!(
            "{} concurrent, {} B body, HMAC per request",
            s.batch,
            body.len()
        ),
    }
}

/// Email rows, or why they were skipped.
async fn email_rows(s: &Settings) -> Result<Vec<Row>, String> {
    let addr = std::env::var("BAAS_TEST_SMTP_ADDR")
        .map_err(|_| "BAAS_TEST_SMTP_ADDR is unset (eval \"$(scripts/services.sh env)\")")?;
    let maildir = std::env::var("BAAS_TEST_SMTP_MAILDIR").ok();
    let n = s.emails;
    let mut rows = Vec::new();
    for drain in [false, true] {
        let sent = Arc::new(AtomicU64::new(0));
        let mut config =
            SmtpConfig::from_url(&format!("smtp://{addr}"), "Baas <noreply@example.com>")
                .map_err(|e| e.to_string())?;
        if let Some(pool) = s.smtp_pool {
            config = config.pool_size(pool);
        }
        let smtp = SmtpChannel::new(config).map_err(|e| e.to_string())?;
        let mut provider: Arc<dyn Channel> = Arc::new(smtp);
        if let Some(watch) = &s.profile {
            provider = Arc::new(TimedChannel {
                inner: provider,
                watch: watch.clone(),
            });
        }
        let p = platform(
            Some(Arc::new(Counted {
                inner: provider,
                sent: sent.clone(),
            })),
            s.profile.clone(),
        )
        .await;
        let marker = format!("bench-{}", Uuid::now_v7().simple());
        let worker = (!drain).then(|| spawn_dispatcher(&p, s.batch));
        let started = Instant::now();
        let notifier = p.notifier.clone();
        let tenant = p.tenant.clone();
        let name = marker.clone();
        publish_all(n, s.publishers, move |i| {
            let notifier = notifier.clone();
            let tenant = tenant.clone();
            let name = format!("{name}-{i}");
            async move {
                notifier
                    .send(
                        &tenant,
                        SendRequest::new(
                            ChannelKind::Email,
                            format!("user{i}@example.com"),
                            "welcome",
                            serde_json::json!({ "name": name }),
                        ),
                    )
                    .await
                    .expect("send");
            }
        })
        .await;
        let published = started.elapsed();
        let (worker, started) = match worker {
            Some(w) => (w, started),
            None => (spawn_dispatcher(&p, s.batch), Instant::now()),
        };
        until(&sent, n).await;
        let elapsed = started.elapsed();
        worker.stop().await;
        if let Some(watch) = &s.profile {
            watch.report(if drain {
                "emails, drain"
            } else {
                "emails, end to end"
            });
        }
        let in_maildir = match &maildir {
            Some(dir) => format!("{} in the Maildir", count_in_maildir(dir, &marker)),
            None => "Maildir not checked (BAAS_TEST_SMTP_MAILDIR unset)".into(),
        };
        rows.push(Row {
            name: if drain {
                "emails (SMTP), drain".into()
            } else {
                "emails (SMTP), end to end".into()
            },
            n,
            publish: Some(published),
            elapsed,
            note: format!(
                "{} senders{}; lettre pool {}; {in_maildir}",
                s.publishers,
                if drain {
                    ", then 1 worker"
                } else {
                    " ∥ 1 worker"
                },
                s.smtp_pool.unwrap_or(8)
            ),
        });
    }
    // The provider alone: `batch` loops calling `SmtpChannel::send`, no queue, no log.
    let mut config = SmtpConfig::from_url(&format!("smtp://{addr}"), "Baas <noreply@example.com>")
        .map_err(|e| e.to_string())?;
    if let Some(pool) = s.smtp_pool {
        config = config.pool_size(pool);
    }
    let smtp = Arc::new(SmtpChannel::new(config).map_err(|e| e.to_string())?);
    let marker = format!("bench-{}", Uuid::now_v7().simple());
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..s.batch)
        .map(|_| {
            let (smtp, next, marker) = (smtp.clone(), next.clone(), marker.clone());
            tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    let message = Message::Email(EmailMessage {
                        id: Uuid::now_v7().to_string(),
                        to: format!("user{i}@example.com"),
                        subject: format!("Welcome, {marker}-{i}"),
                        text: format!("Hello {marker}-{i},\n\nwelcome aboard.\n"),
                        html: Some(format!("<p>Hello {marker}-{i},</p><p>welcome aboard.</p>")),
                    });
                    smtp.send(&message).await.expect("sent");
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("sender");
    }
    let elapsed = started.elapsed();
    let in_maildir = match &maildir {
        Some(dir) => format!("{} in the Maildir", count_in_maildir(dir, &marker)),
        None => "Maildir not checked".into(),
    };
    rows.push(Row {
        name: "SMTP provider alone".into(),
        n,
        publish: None,
        elapsed,
        note: format!(
            "{} concurrent SmtpChannel::send, lettre pool {}; {in_maildir}",
            s.batch,
            s.smtp_pool.unwrap_or(8)
        ),
    });
    Ok(rows)
}

/// How many messages in `dir`'s `new/` and `cur/` carry `marker` in their subject.
fn count_in_maildir(dir: &str, marker: &str) -> usize {
    let mut seen = HashSet::new();
    for sub in ["new", "cur"] {
        let Ok(entries) = std::fs::read_dir(format!("{dir}/{sub}")) else {
            continue;
        };
        for e in entries.flatten() {
            if let Ok(text) = std::fs::read_to_string(e.path())
                && text.contains(marker)
            {
                seen.insert(e.file_name());
            }
        }
    }
    seen.len()
}

// ---------------------------------------------------------------- the table

fn print_table(s: &Settings, rows: &[Row]) {
    println!();
    println!(
        "baas-notify delivery bench — SQLite (WAL, synchronous=NORMAL) in a temp dir; worker batch {}, {} publishers; {} CPUs",
        s.batch,
        s.publishers,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "{:<28} {:>7} {:>12} {:>10} {:>10}  note",
        "row", "N", "publish/s", "secs", "jobs/s"
    );
    for r in rows {
        let publish = r
            .publish
            .map(|p| format!("{:.0}", r.n as f64 / p.as_secs_f64()))
            .unwrap_or_else(|| "-".into());
        println!(
            "{:<28} {:>7} {:>12} {:>10.3} {:>10.0}  {}",
            r.name,
            r.n,
            publish,
            r.elapsed.as_secs_f64(),
            r.rate(),
            r.note
        );
    }
}

fn rate_of(rows: &[Row], name: &str) -> Option<f64> {
    rows.iter().find(|r| r.name == name).map(Row::rate)
}

fn print_ratios(rows: &[Row]) {
    println!();
    let raw = rate_of(rows, "raw reqwest POST loop");
    for kind in ["end to end", "drain"] {
        let (Some(hooks), Some(noop)) = (
            rate_of(rows, &format!("webhooks, {kind}")),
            rate_of(rows, &format!("queue no-op, {kind}")),
        ) else {
            continue;
        };
        println!(
            "{kind:<11}: webhooks/no-op = {:.2} (target ≥ 0.70: {}); webhooks ≥ 5,000/s: {}",
            hooks / noop,
            if hooks / noop >= 0.70 {
                "met"
            } else {
                "MISSED"
            },
            if hooks >= 5_000.0 { "met" } else { "MISSED" },
        );
        if let Some(grouped) = rate_of(rows, &format!("queue no-op ack_batch, {kind}")) {
            println!(
                "{kind:<11}: webhooks/no-op-ack_batch = {:.2} (the no-op acking each batch at once)",
                hooks / grouped
            );
        }
        if let Some(raw) = raw {
            println!("{kind:<11}: webhooks/raw-reqwest = {:.2}", hooks / raw);
        }
    }
    if let Some(alone) = rate_of(rows, "SMTP provider alone") {
        for kind in ["end to end", "drain"] {
            if let Some(emails) = rate_of(rows, &format!("emails (SMTP), {kind}")) {
                println!(
                    "{kind:<11}: emails/SMTP-provider-alone = {:.2}",
                    emails / alone
                );
            }
        }
    }
}

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let s = Settings::from_env();
    let (receiver, url) = receiver(s.verify_every).await;
    let mut rows = Vec::new();
    if s.runs("noop") {
        rows.extend(noop_rows(&s, false).await);
        rows.extend(noop_rows(&s, true).await);
    }
    if s.runs("webhooks") || s.runs("raw") {
        let (hooks, secret, body) = webhook_rows(&s, &receiver, &url).await;
        if s.runs("webhooks") {
            rows.extend(hooks);
        }
        if s.runs("raw") {
            rows.push(raw_row(&s, &receiver, &url, &secret, body).await);
        }
    }
    let skipped = if s.runs("emails") {
        match email_rows(&s).await {
            Ok(emails) => {
                rows.extend(emails);
                None
            }
            Err(reason) => Some(reason),
        }
    } else {
        None
    };
    print_table(&s, &rows);
    if let Some(reason) = skipped {
        println!("{:<28} skipped: {reason}", "emails (SMTP)");
    }
    print_ratios(&rows);
}

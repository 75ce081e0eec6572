//! Audit appends through [`SqlAuditLog`]: `TASKS` tasks appending to one tenant's chain
//! at once (the shape of 32 concurrent token refreshes of one tenant), and one task
//! appending alone. SQLite on a file (WAL, `synchronous = NORMAL`, as
//! [`Database::connect`] sets it); Postgres too when `BAAS_TEST_POSTGRES_URL` is set.
//!
//! ```text
//! cargo bench -p baas-store --bench audit -- --warm-up-time 1 --measurement-time 3
//! ```
//!
//! Criterion reports the throughput in appends per second (elements/s).
//!
//! Measured 2026-11-28 on the shared 2-core machine (load 3–5; two alternated rounds,
//! criterion's middle estimate), per-append transactions with striped locks (before)
//! against group commit (after):
//!
//! | appends/s | before | after |
//! |---|---|---|
//! | SQLite, 32 tasks | 1,900 / 1,700 | 12,200 / 16,700 |
//! | Postgres, 32 tasks | 660 / 690 | 6,600 / 9,800 |
//! | SQLite, 1 task (alone) | 1,460 / 1,410 | 1,590 / 1,560 |
//! | Postgres, 1 task (alone) | 560 / 620 | 680 / 610 |

use std::sync::Arc;
use std::time::{Duration, Instant};

use baas_store::Database;
use baas_store::audit::{AuditEntry, AuditLog, SqlAuditLog};
use baas_store::core::TenantId;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use uuid::Uuid;

/// Concurrent appenders of one tenant.
const TASKS: u64 = 32;

/// `total` appends to `tenant`'s chain from `tasks` tasks at once; the time they took.
async fn appends(log: &Arc<SqlAuditLog>, tenant: &TenantId, tasks: u64, total: u64) -> Duration {
    let start = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|task| {
            let log = Arc::clone(log);
            let tenant = tenant.clone();
            // Spread `total` over the tasks; the first `total % tasks` take one more.
            let n = total / tasks + u64::from(task < total % tasks);
            tokio::spawn(async move {
                for i in 0..n {
                    let entry = AuditEntry::new(
                        tenant.clone(),
                        format!("user-{task}"),
                        "session.refresh",
                        format!("session-{task}-{i}"),
                    )
                    .from_client(Some("203.0.113.7".into()), Some("wrk/4".into()));
                    log.append(entry).await.expect("append");
                }
            })
        })
        .collect();
    for h in handles {
        h.await.expect("task");
    }
    start.elapsed()
}

fn bench_engine(c: &mut Criterion, rt: &tokio::runtime::Runtime, name: &str, db: &Database) {
    let log = Arc::new(SqlAuditLog::new(db.clone()));
    let tenant = TenantId::new(format!("bench-{}", Uuid::new_v4().simple())).unwrap();
    let mut group = c.benchmark_group(format!("audit/{name}"));
    group.throughput(Throughput::Elements(1));
    group.sample_size(10);
    for tasks in [TASKS, 1] {
        group.bench_function(format!("append/{tasks}-tasks"), |b| {
            b.to_async(rt)
                .iter_custom(|iters| appends(&log, &tenant, tasks, iters));
        });
    }
    group.finish();
    let verified = rt.block_on(log.verify(&tenant)).unwrap();
    assert!(
        verified.is_intact(),
        "the benchmark broke the chain: {verified:?}"
    );
}

fn audit(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = rt.block_on(async {
        let db = Database::connect(&format!("sqlite://{}/bench.db", dir.path().display()))
            .await
            .unwrap();
        db.migrate().await.unwrap();
        db
    });
    bench_engine(c, &rt, "sqlite", &sqlite);
    if let Ok(url) = std::env::var("BAAS_TEST_POSTGRES_URL") {
        let pg = rt.block_on(baas_store::testing::postgres_database(&url));
        bench_engine(c, &rt, "postgres", &pg);
    }
}

criterion_group!(benches, audit);
criterion_main!(benches);

//! Group commit of the SQL audit log under concurrency, on SQLite (a temporary file)
//! always and on Postgres when `BAAS_TEST_POSTGRES_URL` is set: many appends to one
//! chain all land in order, appends gathered together share one transaction, tenants
//! sharing a batch keep separate chains, and two logs on one database (two processes)
//! settle their races.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use baas_core::clock::{Clock, SharedClock};
use baas_core::testing::service;
use baas_core::{ErrorKind, TenantId};
use baas_store::audit::{AuditEntry, AuditLog, AuditRecord, AuditVerification, SqlAuditLog};
use baas_store::testing::{postgres_database, unique_tenant};
use baas_store::{Database, DatabaseOptions};

async fn sqlite(dir: &tempfile::TempDir) -> Database {
    let db = Database::connect(&format!("sqlite://{}/audit.db", dir.path().display()))
        .await
        .expect("open SQLite");
    db.migrate().await.expect("migrate");
    db
}

async fn postgres() -> Option<Database> {
    let url = service("BAAS_TEST_POSTGRES_URL")?;
    Some(postgres_database(&url).await)
}

fn entry(tenant: &TenantId, actor: &str, n: usize) -> AuditEntry {
    AuditEntry::new(tenant.clone(), actor, "session.refresh", format!("s-{n}"))
        .from_client(Some("203.0.113.7".into()), None)
}

/// Every record of `tenant`, checked against what the appends returned.
async fn assert_chain(log: &dyn AuditLog, tenant: &TenantId, returned: &[AuditRecord]) {
    let n = returned.len() as u64;
    assert_eq!(
        log.verify(tenant).await.expect("verify"),
        AuditVerification::Intact { records: n },
        "the chain verifies with every append"
    );
    let listed = log.list(tenant, 0, 1000).await.expect("list");
    assert_eq!(listed.len() as u64, n);
    let by_seq: HashMap<u64, &AuditRecord> = returned.iter().map(|r| (r.seq, r)).collect();
    assert_eq!(by_seq.len() as u64, n, "two appends got one position");
    for r in &listed {
        assert_eq!(
            by_seq.get(&r.seq),
            Some(&r),
            "stored record {} is not what its append returned",
            r.seq
        );
    }
}

/// 200 appends to one tenant from 8 tasks at once: all land, the chain verifies, and
/// each task's records are in the order it appended them.
async fn many_tasks_one_chain(log: Arc<SqlAuditLog>) {
    let t = unique_tenant("gc-tasks");
    let tasks: Vec<_> = (0..8)
        .map(|task| {
            let log = Arc::clone(&log);
            let t = t.clone();
            tokio::spawn(async move {
                let actor = format!("task-{task}");
                let mut mine = Vec::new();
                for i in 0..25 {
                    mine.push(log.append(entry(&t, &actor, i)).await.expect("append"));
                }
                mine
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        let mine = task.await.expect("task");
        assert!(
            mine.windows(2).all(|w| w[0].seq < w[1].seq),
            "a task's appends are chained in the order it made them"
        );
        assert!(
            mine.iter()
                .enumerate()
                .all(|(i, r)| r.entry.target == format!("s-{i}")),
            "a task got another append's record"
        );
        all.extend(mine);
    }
    assert_eq!(
        all.iter().map(|r| r.seq).collect::<BTreeSet<_>>(),
        (1..=200).collect::<BTreeSet<_>>(),
        "sequence 1..=200 without gaps or repeats"
    );
    assert_chain(&*log, &t, &all).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_many_tasks_append_to_one_chain() {
    let dir = tempfile::tempdir().unwrap();
    many_tasks_one_chain(Arc::new(SqlAuditLog::new(sqlite(&dir).await))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_many_tasks_append_to_one_chain() {
    let Some(db) = postgres().await else { return };
    many_tasks_one_chain(Arc::new(SqlAuditLog::new(db))).await;
}

/// A clock that moves one second each time it is read, so records sharing a time were
/// chained by one read — one batch.
#[derive(Debug, Default)]
struct Ticking(AtomicU64);

impl Clock for Ticking {
    fn now(&self) -> SystemTime {
        SystemTime::UNIX_EPOCH
            + Duration::from_secs(1_767_225_600 + self.0.fetch_add(1, Ordering::SeqCst))
    }

    fn monotonic(&self) -> Instant {
        Instant::now()
    }
}

/// 300 appends started together (one task, so they queue before the writer first runs):
/// two batches — 256, the cap, then the other 44 — each chained by one clock read, in
/// the order the appends were made. A bad entry among them fails alone.
async fn appends_made_together_share_a_batch(db: Database) {
    let clock: SharedClock = Arc::new(Ticking::default());
    let log = SqlAuditLog::with_clock(db, clock);
    let t = unique_tenant("gc-batch");
    let appends = (0..300).map(|i| {
        let e = if i == 100 {
            AuditEntry::new(t.clone(), "", "", "bad")
        } else {
            entry(&t, "alice", i)
        };
        log.append(e)
    });
    let mut outcomes = futures_util::future::join_all(appends).await;
    let bad = outcomes.remove(100);
    assert_eq!(bad.expect_err("bad entry").kind(), ErrorKind::Invalid);
    let records: Vec<AuditRecord> = outcomes.into_iter().map(|r| r.expect("append")).collect();
    assert!(
        records
            .iter()
            .enumerate()
            .all(|(i, r)| r.seq == i as u64 + 1),
        "records are chained in the order their appends were made"
    );
    let times: Vec<_> = records.iter().map(|r| r.at).collect();
    let mut batches = times.clone();
    batches.dedup();
    assert_eq!(
        batches.len(),
        2,
        "299 appends made together took {} transactions, not 2",
        batches.len()
    );
    assert_eq!(
        times.iter().filter(|&&at| at == batches[0]).count(),
        256,
        "the first batch is full"
    );
    assert_chain(&log, &t, &records).await;
}

#[tokio::test]
async fn sqlite_appends_made_together_share_a_batch() {
    let dir = tempfile::tempdir().unwrap();
    appends_made_together_share_a_batch(sqlite(&dir).await).await;
}

#[tokio::test]
async fn postgres_appends_made_together_share_a_batch() {
    let Some(db) = postgres().await else { return };
    appends_made_together_share_a_batch(db).await;
}

/// 100 tenants (more than there are lanes, so some share a batch), 4 appends each, all at
/// once: every tenant's chain holds its own 4 records.
async fn tenants_sharing_a_batch_keep_their_chains(db: Database) {
    let log = Arc::new(SqlAuditLog::new(db));
    let tenants: Vec<TenantId> = (0..100).map(|_| unique_tenant("gc-many")).collect();
    let tasks: Vec<_> = tenants
        .iter()
        .flat_map(|t| (0..4).map(move |i| (t.clone(), i)))
        .map(|(t, i)| {
            let log = Arc::clone(&log);
            tokio::spawn(async move { log.append(entry(&t, "bob", i)).await.expect("append") })
        })
        .collect();
    let mut by_tenant: HashMap<TenantId, Vec<AuditRecord>> = HashMap::new();
    for task in tasks {
        let r = task.await.expect("task");
        by_tenant.entry(r.entry.tenant.clone()).or_default().push(r);
    }
    for t in &tenants {
        let records = by_tenant.get(t).expect("records of every tenant");
        assert_eq!(records.len(), 4);
        assert_chain(&*log, t, records).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_tenants_sharing_a_batch_keep_their_chains() {
    let dir = tempfile::tempdir().unwrap();
    tenants_sharing_a_batch_keep_their_chains(sqlite(&dir).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_tenants_sharing_a_batch_keep_their_chains() {
    let Some(db) = postgres().await else { return };
    tenants_sharing_a_batch_keep_their_chains(db).await;
}

/// Two logs on one database (two processes: separate lanes, separate writers), each
/// appending 120 records to one tenant from 6 tasks at once: their batches race for the
/// head, the losers chain again, and the result is one intact chain of 240.
async fn two_processes_share_a_chain(a: SqlAuditLog, b: SqlAuditLog) {
    let t = unique_tenant("gc-procs");
    let logs = [Arc::new(a), Arc::new(b)];
    let tasks: Vec<_> = (0..12)
        .map(|task| {
            let log = Arc::clone(&logs[task % 2]);
            let t = t.clone();
            tokio::spawn(async move {
                let actor = format!("process-{}-task-{task}", task % 2);
                let mut mine = Vec::new();
                for i in 0..20 {
                    mine.push(log.append(entry(&t, &actor, i)).await.expect("append"));
                }
                mine
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        let mine = task.await.expect("task");
        assert!(mine.windows(2).all(|w| w[0].seq < w[1].seq));
        all.extend(mine);
    }
    assert_eq!(
        all.iter().map(|r| r.seq).collect::<BTreeSet<_>>(),
        (1..=240).collect::<BTreeSet<_>>(),
        "sequence 1..=240 without gaps or repeats"
    );
    assert_chain(&*logs[0], &t, &all).await;
    assert_chain(&*logs[1], &t, &all).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_two_processes_share_a_chain() {
    let dir = tempfile::tempdir().unwrap();
    // Two pools on one file, as two processes would have.
    let a = SqlAuditLog::new(sqlite(&dir).await);
    let b = SqlAuditLog::new(sqlite(&dir).await);
    two_processes_share_a_chain(a, b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_two_processes_share_a_chain() {
    let Some(url) = service("BAAS_TEST_POSTGRES_URL") else {
        return;
    };
    let db = postgres_database(&url).await;
    // A second pool on the same schema, as a second process would have.
    let schema = db.schema().expect("a test schema").to_owned();
    let other = Database::connect_with(DatabaseOptions::new(url).schema(schema))
        .await
        .expect("connect again");
    two_processes_share_a_chain(SqlAuditLog::new(db), SqlAuditLog::new(other)).await;
}

//! The BlobStore suite with the SQL ledger (local files for the bytes): on SQLite
//! always, on Postgres when `BAAS_TEST_POSTGRES_URL` is set.
#![cfg(feature = "sql")]

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use baas_core::{ManualClock, MasterKey, TenantId};
use baas_store::blob::testing::{SUITE_LIMITS, blob_store_suite};
use baas_store::blob::{
    BlobLedger, BlobMeta, Committed, ObjectBlobStore, SqlBlobLedger, UrlSigner,
};
use baas_store::blob::{migration, migration_versions};
use sea_orm::sea_query::{Alias, DynIden, IntoIden as _};
use sea_orm::{Database, DatabaseConnection};
use sea_orm_migration::{MigrationTrait, MigratorTrait};
use uuid::Uuid;

/// Just this crate's blob migrations, as the framework's Migrator will include it. Its
/// own bookkeeping table keeps it from confusing the framework Migrator on a shared
/// test database.
struct BlobMigrator;

impl MigratorTrait for BlobMigrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(migration::Migration),
            Box::new(migration_versions::Migration),
        ]
    }

    fn migration_table_name() -> DynIden {
        Alias::new("baas_blob_test_migrations").into_iden()
    }
}

async fn sqlite() -> (tempfile::TempDir, DatabaseConnection) {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("blobs.db").display()
    );
    let db = Database::connect(&url).await.expect("open sqlite");
    BlobMigrator::up(&db, None).await.expect("migrate");
    BlobMigrator::up(&db, None)
        .await
        .expect("migrating twice is a no-op");
    (dir, db)
}

async fn run_suite(db: DatabaseConnection) {
    run_suite_on(SqlBlobLedger::new(db)).await;
}

async fn run_suite_on(ledger: SqlBlobLedger) {
    let objects = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new();
    let store = ObjectBlobStore::local(
        objects.path(),
        Arc::new(ledger),
        UrlSigner::new(&MasterKey::generate(), clock.shared()),
    )
    .expect("store")
    .with_limits(SUITE_LIMITS)
    .with_part_size(512)
    .with_reserve_step(700);
    blob_store_suite(&store, &|d| clock.advance(d)).await;
}

fn meta(key: &str, size: u64, version: &str) -> BlobMeta {
    BlobMeta {
        key: key.into(),
        size,
        content_type: "text/plain".into(),
        sha256: "00".repeat(32),
        created_at: UNIX_EPOCH + Duration::from_millis(1_767_225_600_123),
        version: version.into(),
    }
}

async fn ledger_contract(ledger: &dyn BlobLedger) {
    let t = TenantId::new(baas_core::testing::unique_name("ledger")).unwrap();
    let later = UNIX_EPOCH + Duration::from_secs(2_000_000_000);
    let (u1, u2) = (Uuid::now_v7(), Uuid::now_v7());
    assert!(ledger.reserve(&t, u1, 60, 100, later).await.unwrap());
    assert!(
        !ledger.reserve(&t, u2, 41, 100, later).await.unwrap(),
        "over the limit"
    );
    assert!(
        ledger.reserve(&t, u2, 40, 100, later).await.unwrap(),
        "exactly the limit"
    );
    let m = meta("k", 50, "v1");
    assert_eq!(
        ledger.commit(&t, &m, Some(u1), Some(100)).await.unwrap(),
        Committed::Stored { replaced: None }
    );
    assert_eq!(
        ledger.get(&t, "k").await.unwrap().as_ref(),
        Some(&m),
        "metadata round trip"
    );
    let u = ledger.usage(&t).await.unwrap();
    assert_eq!((u.bytes_used, u.bytes_reserved), (50, 40));
    assert_eq!(ledger.release(&t, u2).await.unwrap(), 40);
    // Releasing again, or releasing a committed upload, gives back nothing more: the
    // reserved bytes never go below zero (and never grant room beyond the quota).
    assert_eq!(ledger.release(&t, u2).await.unwrap(), 0);
    assert_eq!(ledger.release(&t, u1).await.unwrap(), 0);
    assert_eq!(ledger.usage(&t).await.unwrap().bytes_reserved, 0);
    assert!(
        !ledger
            .reserve(&t, Uuid::now_v7(), 51, 100, later)
            .await
            .unwrap(),
        "a double release must not make room"
    );

    // A commit without a reservation checks the quota, crediting the replaced object.
    assert_eq!(
        ledger
            .commit(&t, &meta("other", 51, "v2"), None, Some(100))
            .await
            .unwrap(),
        Committed::OverQuota
    );
    assert!(
        ledger.get(&t, "other").await.unwrap().is_none(),
        "nothing recorded"
    );
    let same = meta("k", 50, "v3");
    assert_eq!(
        ledger.commit(&t, &same, None, Some(50)).await.unwrap(),
        Committed::Stored {
            replaced: Some(m.clone())
        },
        "a same-size replace at a full quota"
    );
    let smaller = meta("k", 30, "v4");
    assert_eq!(
        ledger.commit(&t, &smaller, None, Some(100)).await.unwrap(),
        Committed::Stored {
            replaced: Some(same)
        }
    );
    let u = ledger.usage(&t).await.unwrap();
    assert_eq!(
        (u.bytes_used, u.bytes_reserved),
        (30, 0),
        "replacement credits the old size"
    );
    // Concurrent reservations never overshoot.
    let tries = (0..20).map(|_| ledger.reserve(&t, Uuid::now_v7(), 10, 100, later));
    let won = futures::future::join_all(tries)
        .await
        .into_iter()
        .filter(|r| *r.as_ref().unwrap())
        .count();
    assert_eq!(won, 7, "exactly the room left");
    assert_eq!(
        ledger.remove(&t, "k").await.unwrap().map(|m| m.size),
        Some(30)
    );
    assert!(ledger.remove(&t, "k").await.unwrap().is_none());
    let u = ledger.usage(&t).await.unwrap();
    assert_eq!((u.bytes_used, u.bytes_reserved), (0, 70));

    // Reservations of a crashed upload expire; live ones stay.
    let t2 = TenantId::new(baas_core::testing::unique_name("ledger")).unwrap();
    let soon = UNIX_EPOCH + Duration::from_secs(1_000);
    let crashed = Uuid::now_v7();
    assert!(ledger.reserve(&t2, crashed, 25, 100, soon).await.unwrap());
    let live = Uuid::now_v7();
    assert!(ledger.reserve(&t2, live, 5, 100, later).await.unwrap());
    let released = ledger
        .expire_reservations(soon + Duration::from_secs(1))
        .await
        .unwrap();
    assert!(released >= 1, "the expired reservation was released");
    assert_eq!(ledger.usage(&t2).await.unwrap().bytes_reserved, 5);
    assert_eq!(
        ledger.release(&t2, crashed).await.unwrap(),
        0,
        "gone already"
    );
    assert_eq!(ledger.release(&t2, live).await.unwrap(), 5);
    assert_eq!(ledger.usage(&t2).await.unwrap().bytes_reserved, 0);

    // Concurrent commits (written in groups on SQLite) each get their own quota check,
    // in turn: exactly the room there is, never more.
    let t3 = TenantId::new(baas_core::testing::unique_name("ledger")).unwrap();
    let metas: Vec<BlobMeta> = (0..20)
        .map(|i| meta(&format!("c/{i}"), 10, &format!("v{i}")))
        .collect();
    let commits = metas.iter().map(|m| ledger.commit(&t3, m, None, Some(100)));
    let outcomes = futures::future::join_all(commits).await;
    let stored = outcomes
        .iter()
        .filter(|o| matches!(o, Ok(Committed::Stored { replaced: None })))
        .count();
    let refused = outcomes
        .iter()
        .filter(|o| matches!(o, Ok(Committed::OverQuota)))
        .count();
    assert_eq!((stored, refused), (10, 10), "{outcomes:?}");
    assert_eq!(ledger.usage(&t3).await.unwrap().bytes_used, 100);
    let mut listed = 0;
    for m in &metas {
        listed += usize::from(ledger.get(&t3, &m.key).await.unwrap().is_some());
    }
    assert_eq!(listed, 10, "a refused commit recorded nothing");

    // Concurrent commits of one key replace each other in turn: one found nothing, each
    // other one replaced exactly one earlier version, and the usage counts one object.
    let t4 = TenantId::new(baas_core::testing::unique_name("ledger")).unwrap();
    let versions: Vec<BlobMeta> = (0..8).map(|i| meta("same", 7, &format!("s{i}"))).collect();
    let commits = versions
        .iter()
        .map(|m| ledger.commit(&t4, m, None, Some(100)));
    let mut replaced = Vec::new();
    for outcome in futures::future::join_all(commits).await {
        match outcome.unwrap() {
            Committed::Stored { replaced: r } => replaced.push(r.map(|m| m.version)),
            Committed::OverQuota => panic!("a replacement of the same size fits"),
        }
    }
    assert_eq!(replaced.iter().filter(|r| r.is_none()).count(), 1);
    let mut seen: Vec<String> = replaced.into_iter().flatten().collect();
    seen.sort();
    seen.dedup();
    assert_eq!(
        seen.len(),
        7,
        "every earlier version was replaced exactly once"
    );
    assert_eq!(ledger.usage(&t4).await.unwrap().bytes_used, 7);
}

#[tokio::test]
async fn sqlite_ledger_keeps_its_contract() {
    let (_dir, db) = sqlite().await;
    ledger_contract(&SqlBlobLedger::new(db.clone())).await;
    concurrent_commits(&SqlBlobLedger::new(db)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_ledger_passes_the_suite() {
    let (_dir, db) = sqlite().await;
    run_suite(db).await;
}

/// As the platform opens it: baas-store's `Database` on a SQLite file, reads on its pool
/// and write transactions on its one-connection writer pool.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_ledger_on_a_database_keeps_its_contract_and_passes_the_suite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("blobs.db").display());
    let db = baas_store::Database::connect(&url)
        .await
        .expect("open sqlite");
    db.migrate().await.expect("migrate");
    ledger_contract(&SqlBlobLedger::for_database(&db)).await;
    concurrent_commits(&SqlBlobLedger::for_database(&db)).await;
    run_suite_on(SqlBlobLedger::for_database(&db)).await;
}

#[tokio::test]
async fn memory_ledger_keeps_the_same_contract() {
    ledger_contract(&baas_store::blob::MemoryBlobLedger::new()).await;
    concurrent_commits(&baas_store::blob::MemoryBlobLedger::new()).await;
}

/// Commits at once (written as one group, or one script, by some backends): each is
/// checked against the quota in turn, one over it records nothing, two of one key
/// replace each other in some order, and a shrinking replace passes a quota already
/// exceeded. The usage is always the sum of what is recorded.
async fn concurrent_commits(ledger: &dyn BlobLedger) {
    let t = TenantId::new(baas_core::testing::unique_name("grouped")).unwrap();
    let metas = ["a", "b", "c"].map(|k| meta(k, 40, k));
    let commits = metas.iter().map(|m| ledger.commit(&t, m, None, Some(100)));
    let answers: Vec<_> = futures::future::join_all(commits)
        .await
        .into_iter()
        .zip(["a", "b", "c"])
        .map(|(c, k)| (k, c.unwrap()))
        .collect();
    let over: Vec<_> = answers
        .iter()
        .filter(|(_, c)| *c == Committed::OverQuota)
        .map(|(k, _)| *k)
        .collect();
    assert_eq!(
        over.len(),
        1,
        "two of three 40-byte objects fit in 100: {answers:?}"
    );
    assert!(
        ledger.get(&t, over[0]).await.unwrap().is_none(),
        "nothing recorded"
    );
    assert_eq!(ledger.usage(&t).await.unwrap().bytes_used, 80);

    let (d1, d2) = (meta("d", 5, "d1"), meta("d", 6, "d2"));
    let (first, second) = futures::join!(
        ledger.commit(&t, &d1, None, Some(100)),
        ledger.commit(&t, &d2, None, Some(100))
    );
    let (first, second) = (first.unwrap(), second.unwrap());
    let last = match (&first, &second) {
        (Committed::Stored { replaced: None }, Committed::Stored { replaced: Some(r) }) => {
            assert_eq!(r, &d1);
            &d2
        }
        (Committed::Stored { replaced: Some(r) }, Committed::Stored { replaced: None }) => {
            assert_eq!(r, &d2);
            &d1
        }
        other => panic!("one of the two replaces the other: {other:?}"),
    };
    assert_eq!(ledger.get(&t, "d").await.unwrap().as_ref(), Some(last));
    assert_eq!(ledger.usage(&t).await.unwrap().bytes_used, 80 + last.size);

    // A limit now below the usage: growing is refused, shrinking still passes.
    let stored = ["a", "b", "c"].into_iter().find(|k| *k != over[0]).unwrap();
    let (e, replacement) = (meta("e", 1, "e1"), meta(stored, 30, "s2"));
    let (grow, shrink) = futures::join!(
        ledger.commit(&t, &e, None, Some(50)),
        ledger.commit(&t, &replacement, None, Some(50))
    );
    assert_eq!(grow.unwrap(), Committed::OverQuota);
    assert_eq!(
        shrink.unwrap(),
        Committed::Stored {
            replaced: Some(meta(stored, 40, stored))
        }
    );
    assert!(ledger.get(&t, "e").await.unwrap().is_none());
    assert_eq!(ledger.usage(&t).await.unwrap().bytes_used, 70 + last.size);
}

async fn postgres() -> Option<DatabaseConnection> {
    let url = baas_core::testing::service("BAAS_TEST_POSTGRES_URL")?;
    let db = Database::connect(&url).await.expect("connect postgres");
    BlobMigrator::up(&db, None).await.expect("migrate");
    Some(db)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_ledger_keeps_its_contract_and_passes_the_suite() {
    let Some(db) = postgres().await else { return };
    ledger_contract(&SqlBlobLedger::new(db.clone())).await;
    concurrent_commits(&SqlBlobLedger::new(db.clone())).await;
    run_suite(db).await;
}

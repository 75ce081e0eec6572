//! The BlobStore suite with the SQL ledger (local files for the bytes): on SQLite
//! always, on Postgres when `BAAS_TEST_POSTGRES_URL` is set.
#![cfg(feature = "sql")]

use std::sync::Arc;

use baas_core::{ManualClock, MasterKey, TenantId};
use baas_store::blob::migration::Migration;
use baas_store::blob::testing::{SUITE_LIMITS, blob_store_suite};
use baas_store::blob::{BlobLedger, BlobMeta, ObjectBlobStore, SqlBlobLedger, UrlSigner};
use sea_orm::sea_query::{Alias, DynIden, IntoIden as _};
use sea_orm::{Database, DatabaseConnection};
use sea_orm_migration::{MigrationTrait, MigratorTrait};

/// Just this crate's blob migration, as the framework's Migrator will include it. Its
/// own bookkeeping table keeps it from confusing the framework Migrator on a shared
/// test database.
struct BlobMigrator;

impl MigratorTrait for BlobMigrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(Migration)]
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
    let objects = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new();
    let store = ObjectBlobStore::local(
        objects.path(),
        Arc::new(SqlBlobLedger::new(db)),
        UrlSigner::new(&MasterKey::generate(), clock.shared()),
    )
    .expect("store")
    .with_limits(SUITE_LIMITS)
    .with_part_size(512)
    .with_reserve_step(700);
    blob_store_suite(&store, &|d| clock.advance(d)).await;
}

async fn ledger_contract(ledger: &dyn BlobLedger) {
    let t = TenantId::new(baas_core::testing::unique_name("ledger")).unwrap();
    assert!(ledger.reserve(&t, 60, 100).await.unwrap());
    assert!(
        !ledger.reserve(&t, 41, 100).await.unwrap(),
        "over the limit"
    );
    assert!(
        ledger.reserve(&t, 40, 100).await.unwrap(),
        "exactly the limit"
    );
    let meta = BlobMeta {
        key: "k".into(),
        size: 50,
        content_type: "text/plain".into(),
        sha256: "00".repeat(32),
        created_at: std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_767_225_600_123),
    };
    assert!(ledger.commit(&t, &meta, 60).await.unwrap().is_none());
    assert_eq!(
        ledger.get(&t, "k").await.unwrap().as_ref(),
        Some(&meta),
        "metadata round trip"
    );
    let u = ledger.usage(&t).await.unwrap();
    assert_eq!((u.bytes_used, u.bytes_reserved), (50, 40));
    ledger.release(&t, 40).await.unwrap();
    assert!(ledger.reserve(&t, 30, 100).await.unwrap());
    let replaced = BlobMeta {
        size: 30,
        ..meta.clone()
    };
    assert_eq!(ledger.commit(&t, &replaced, 30).await.unwrap(), Some(meta));
    let u = ledger.usage(&t).await.unwrap();
    assert_eq!(
        (u.bytes_used, u.bytes_reserved),
        (30, 0),
        "replacement credits the old size"
    );
    // Concurrent reservations never overshoot.
    let tries = (0..20).map(|_| ledger.reserve(&t, 10, 100));
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
}

#[tokio::test]
async fn sqlite_ledger_keeps_its_contract() {
    let (_dir, db) = sqlite().await;
    ledger_contract(&SqlBlobLedger::new(db)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_ledger_passes_the_suite() {
    let (_dir, db) = sqlite().await;
    run_suite(db).await;
}

#[tokio::test]
async fn memory_ledger_keeps_the_same_contract() {
    ledger_contract(&baas_store::blob::MemoryBlobLedger::new()).await;
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
    run_suite(db).await;
}

//! The SQL stores pass their suites on SQLite always, and on Postgres when
//! `BAAS_TEST_POSTGRES_URL` is set (each test in a schema of its own).

use baas_core::testing::service;
use baas_notify::store::sql::{Migrator, SqlDeliveryLog, SqlEndpointStore, SqlPreferenceStore};
use baas_notify::testing::{delivery_log_suite, endpoint_suite, preference_suite};
use baas_store::Database;

async fn sqlite() -> (Database, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}/notify.db", dir.path().display());
    let db = Database::connect(&url).await.expect("connect");
    db.migrate_with::<Migrator>().await.expect("migrate");
    // Idempotent.
    db.migrate_with::<Migrator>().await.expect("migrate again");
    (db, dir)
}

async fn postgres() -> Option<Database> {
    let url = service("BAAS_TEST_POSTGRES_URL")?;
    let db = baas_store::testing::postgres_database(&url).await;
    db.migrate_with::<Migrator>().await.expect("migrate");
    Some(db)
}

#[tokio::test]
async fn sqlite_delivery_log() {
    let (db, _dir) = sqlite().await;
    delivery_log_suite(&SqlDeliveryLog::new(db), "s").await;
}

#[tokio::test]
async fn sqlite_preferences() {
    let (db, _dir) = sqlite().await;
    preference_suite(&SqlPreferenceStore::new(db), "s").await;
}

#[tokio::test]
async fn sqlite_endpoints() {
    let (db, _dir) = sqlite().await;
    endpoint_suite(&SqlEndpointStore::new(db), "s").await;
}

#[tokio::test]
async fn postgres_delivery_log() {
    let Some(db) = postgres().await else { return };
    delivery_log_suite(&SqlDeliveryLog::new(db), "p").await;
}

#[tokio::test]
async fn postgres_preferences() {
    let Some(db) = postgres().await else { return };
    preference_suite(&SqlPreferenceStore::new(db), "p").await;
}

#[tokio::test]
async fn postgres_endpoints() {
    let Some(db) = postgres().await else { return };
    endpoint_suite(&SqlEndpointStore::new(db), "p").await;
}

//! The SQL stores (and the SQL intake) pass their suites on SQLite always, and on
//! Postgres when `BAAS_TEST_POSTGRES_URL` is set (each test in a schema of its own).

use baas_core::testing::service;
use baas_core::{ErrorKind, TenantId};
use baas_notify::intake::{Accept, Intake};
use baas_notify::store::DeliveryLog;
use baas_notify::store::sql::{
    Migrator, SqlDeliveryLog, SqlEndpointStore, SqlIntake, SqlPreferenceStore,
};
use baas_notify::testing::{
    delivery_log_suite, endpoint_suite, intake_suite, preference_suite, sample_notification,
};
use baas_queue::Queue;
use baas_queue::sql::SqlQueue;
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

async fn intake_on(db: Database, prefix: &str) {
    let queue = SqlQueue::new(db.clone());
    queue.migrate().await.expect("migrate the queue");
    let log = SqlDeliveryLog::new(db);
    intake_suite(&SqlIntake::new(queue.clone()), &log, &queue, prefix).await;
    // A bad call grouped with good ones fails alone: an id that already exists (no key).
    let acme = TenantId::new(format!("{prefix}grp")).unwrap();
    let intake = SqlIntake::new(queue.clone());
    let taken = sample_notification(&acme, None);
    let one = |n| {
        vec![Accept {
            notification: n,
            webhook_id: None,
        }]
    };
    intake
        .accept("grp", one(taken.clone()))
        .await
        .expect("first");
    let mut calls: Vec<_> = (0..30)
        .map(|_| intake.accept("grp", one(sample_notification(&acme, None))))
        .collect();
    calls.insert(15, intake.accept("grp", one(taken.clone())));
    let answers = futures_util::future::join_all(calls).await;
    for (i, a) in answers.into_iter().enumerate() {
        if i == 15 {
            assert_eq!(a.unwrap_err().kind(), ErrorKind::Conflict);
        } else {
            assert!(a.expect("the others are written")[0].created);
        }
    }
    let stats = queue.stats("grp").await.unwrap();
    assert_eq!(stats.depth, Some(31), "one job per created notification");
}

#[tokio::test]
async fn sqlite_intake() {
    let (db, _dir) = sqlite().await;
    intake_on(db, "s").await;
}

#[tokio::test]
async fn postgres_intake() {
    let Some(db) = postgres().await else { return };
    intake_on(db, "p").await;
}

/// The log's rows and the jobs are one transaction: when the enqueue fails (here: the
/// queue's tables were never made), no notification is kept either.
#[tokio::test]
async fn sqlite_intake_keeps_nothing_when_the_enqueue_fails() {
    let (db, _dir) = sqlite().await;
    let intake = SqlIntake::new(SqlQueue::new(db.clone()));
    let log = SqlDeliveryLog::new(db);
    let acme = TenantId::new("acme").unwrap();
    let n = sample_notification(&acme, Some("k"));
    let accept = Accept {
        notification: n.clone(),
        webhook_id: None,
    };
    assert!(intake.accept("q", vec![accept]).await.is_err());
    assert!(log.get(&acme, n.id).await.unwrap().is_none());
}

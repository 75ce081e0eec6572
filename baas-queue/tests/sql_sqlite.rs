//! The SQL backend on SQLite runs the whole conformance suite.

use baas_core::ManualClock;
use baas_queue::Queue;
use baas_queue::sql::SqlQueue;
use baas_queue::testing::{Harness, queue_suite};
use baas_store::Database;

async fn sqlite(clock: &ManualClock) -> (SqlQueue, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/queue.db", dir.path().display());
    let db = Database::connect(&url).await.expect("open sqlite");
    let queue = SqlQueue::with_clock(db, clock.shared());
    queue.migrate().await.expect("migrate");
    (queue, dir)
}

#[tokio::test]
async fn sqlite_passes_the_suite() {
    let clock = ManualClock::new();
    let (queue, _dir) = sqlite(&clock).await;
    queue_suite(&queue, &Harness::manual(&clock, queue.capabilities())).await;
}

#[tokio::test]
async fn sqlite_migrations_are_idempotent_and_dedupe_sweeps() {
    let clock = ManualClock::new();
    let (queue, _dir) = sqlite(&clock).await;
    queue.migrate().await.expect("second migrate");
    let acme = baas_core::TenantId::new("acme").unwrap();
    queue
        .enqueue("q", baas_queue::NewMessage::new(acme, "x").dedupe_key("k"))
        .await
        .unwrap();
    assert_eq!(queue.sweep_dedupe().await.unwrap(), 0, "live keys stay");
    clock.advance(std::time::Duration::from_secs(25 * 3600));
    assert_eq!(queue.sweep_dedupe().await.unwrap(), 1, "expired keys go");
}

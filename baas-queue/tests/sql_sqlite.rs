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

#[tokio::test]
async fn enqueue_in_commits_and_rolls_back_with_the_callers_transaction() {
    use baas_queue::{NewMessage, Reserve};
    use std::time::Duration;
    let clock = ManualClock::new();
    let (queue, _dir) = sqlite(&clock).await;
    let acme = baas_core::TenantId::new("acme").unwrap();
    let lease = Reserve::new(10, Duration::from_secs(30));

    let tx = queue.database().begin().await.unwrap();
    queue
        .enqueue_in(
            tx.connection(),
            "q",
            vec![NewMessage::new(acme.clone(), "lost")],
        )
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    assert!(
        queue.reserve("q", lease).await.unwrap().is_empty(),
        "rolled back"
    );

    let tx = queue.database().begin().await.unwrap();
    let plain = queue
        .enqueue_in(
            tx.connection(),
            "q",
            vec![
                NewMessage::new(acme.clone(), "a"),
                NewMessage::new(acme.clone(), "b"),
            ],
        )
        .await
        .unwrap();
    let keyed = queue
        .enqueue_in(
            tx.connection(),
            "q",
            vec![
                NewMessage::new(acme.clone(), "c").dedupe_key("k"),
                NewMessage::new(acme.clone(), "c again").dedupe_key("k"),
            ],
        )
        .await
        .unwrap();
    tx.commit().await.unwrap();
    queue.notify_enqueued();
    assert_eq!(plain.len(), 2);
    assert!(!keyed[0].duplicate && keyed[1].duplicate, "dedupe holds");
    assert_eq!(keyed[1].id, keyed[0].id);
    let mut got: Vec<_> = queue
        .reserve("q", lease)
        .await
        .unwrap()
        .into_iter()
        .map(|d| String::from_utf8(d.message.payload.to_vec()).unwrap())
        .collect();
    got.sort();
    assert_eq!(got, ["a", "b", "c"]);

    let tx = queue.database().begin().await.unwrap();
    let err = queue
        .enqueue_in(
            tx.connection(),
            "bad name",
            vec![NewMessage::new(acme, "x")],
        )
        .await
        .unwrap_err();
    assert_eq!(
        baas_core::Error::from(err).kind(),
        baas_core::ErrorKind::Malformed
    );
}

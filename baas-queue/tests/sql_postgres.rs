//! The SQL backend on Postgres runs the whole conformance suite when
//! `BAAS_TEST_POSTGRES_URL` is set (each test in a schema of its own).

use baas_core::ManualClock;
use baas_core::testing::service;
use baas_queue::Queue;
use baas_queue::sql::SqlQueue;
use baas_queue::testing::{Harness, queue_suite};
use baas_store::testing::postgres_database;

#[tokio::test]
async fn postgres_passes_the_suite() {
    let Some(url) = service("BAAS_TEST_POSTGRES_URL") else {
        return;
    };
    let clock = ManualClock::new();
    let queue = SqlQueue::with_clock(postgres_database(&url).await, clock.shared());
    queue.migrate().await.expect("migrate");
    queue_suite(&queue, &Harness::manual(&clock, queue.capabilities())).await;
}

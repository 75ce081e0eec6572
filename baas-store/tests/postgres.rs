//! The SQL backends on Postgres run their whole suites when `BAAS_TEST_POSTGRES_URL` is
//! set; each test works in a schema of its own.

use baas_core::ManualClock;
use baas_core::testing::{idempotency_store_suite, service};
use baas_store::audit::SqlAuditLog;
use baas_store::documents::SqlDocumentStore;
use baas_store::idempotency::SqlIdempotencyStore;
use baas_store::testing::{
    audit_log_suite, document_store_suite, outbox_suite, postgres_database, write_script_suite,
};

#[tokio::test]
async fn postgres_documents_pass_the_suite() {
    let Some(url) = service("BAAS_TEST_POSTGRES_URL") else {
        return;
    };
    document_store_suite(&SqlDocumentStore::new(postgres_database(&url).await)).await;
}

#[tokio::test]
async fn postgres_audit_log_passes_the_suite() {
    let Some(url) = service("BAAS_TEST_POSTGRES_URL") else {
        return;
    };
    let log = SqlAuditLog::new(postgres_database(&url).await);
    audit_log_suite(&log, &log).await;
}

#[tokio::test]
async fn postgres_idempotency_store_passes_the_suite() {
    let Some(url) = service("BAAS_TEST_POSTGRES_URL") else {
        return;
    };
    let clock = ManualClock::new();
    let store = SqlIdempotencyStore::with_clock(postgres_database(&url).await, clock.shared());
    idempotency_store_suite(&store, &|d| clock.advance(d)).await;
}

#[tokio::test]
async fn postgres_write_scripts_pass_the_suite() {
    let Some(url) = service("BAAS_TEST_POSTGRES_URL") else {
        return;
    };
    write_script_suite(&postgres_database(&url).await).await;
}

#[tokio::test]
async fn postgres_outbox_passes_the_suite() {
    let Some(url) = service("BAAS_TEST_POSTGRES_URL") else {
        return;
    };
    outbox_suite(&postgres_database(&url).await).await;
}

#[tokio::test]
async fn postgres_migrations_serialise_across_pools() {
    use baas_core::HealthCheck;
    let Some(url) = service("BAAS_TEST_POSTGRES_URL") else {
        return;
    };
    let db = postgres_database(&url).await;
    db.check().await.expect("health");
    // Several "processes" (pools) migrate the same schema at once: the advisory lock
    // makes them take turns, and each finds the work done or does it once.
    let schema = db.schema().expect("a test schema").to_owned();
    let pools = futures_util::future::join_all((0..4).map(|_| {
        baas_store::Database::connect_with(
            baas_store::DatabaseOptions::new(url.clone()).schema(schema.clone()),
        )
    }))
    .await;
    let runs = futures_util::future::join_all(
        pools
            .iter()
            .map(|p| async { p.as_ref().expect("connect").migrate().await }),
    )
    .await;
    for r in runs {
        r.expect("concurrent migrate");
    }
}

#[tokio::test]
async fn postgres_migrates_on_a_pool_of_one() {
    let Some(url) = service("BAAS_TEST_POSTGRES_URL") else {
        return;
    };
    let schema = postgres_database(&url)
        .await
        .schema()
        .expect("schema")
        .to_owned();
    let db = baas_store::Database::connect_with(
        baas_store::DatabaseOptions::new(url)
            .schema(schema)
            .max_connections(1),
    )
    .await
    .expect("connect");
    tokio::time::timeout(std::time::Duration::from_secs(30), db.migrate())
        .await
        .expect("migrating on one connection must not wait for a second")
        .expect("migrate");
}

//! The SQL backends on Postgres pass every suite when `BAAS_TEST_POSTGRES_URL` is set;
//! each test works in a schema of its own.

use baas_auth::sql::{
    Migrator, SqlApiKeyStore, SqlKeyStore, SqlLoginFailureStore, SqlSessionStore, SqlUserStore,
};
use baas_auth::testing::{
    api_key_store_suite, key_store_suite, login_failure_store_suite, session_store_suite,
    user_store_suite,
};
use baas_core::ManualClock;
use baas_core::testing::service;
use baas_store::Database;

async fn database(url: &str) -> Database {
    let db = baas_store::testing::postgres_database(url).await;
    db.migrate_with::<Migrator>().await.expect("migrate");
    db
}

#[tokio::test]
async fn postgres_user_store_passes_the_suite() {
    let Some(url) = service("BAAS_TEST_POSTGRES_URL") else {
        return;
    };
    let clock = ManualClock::new();
    let store = SqlUserStore::new(database(&url).await, clock.shared());
    user_store_suite(&store, &|d| clock.advance(d)).await;
}

#[tokio::test]
async fn postgres_session_store_passes_the_suite() {
    let Some(url) = service("BAAS_TEST_POSTGRES_URL") else {
        return;
    };
    let clock = ManualClock::new();
    let store = SqlSessionStore::new(database(&url).await, clock.shared());
    session_store_suite(&store, &|d| clock.advance(d)).await;
}

#[tokio::test]
async fn postgres_api_key_store_passes_the_suite() {
    let Some(url) = service("BAAS_TEST_POSTGRES_URL") else {
        return;
    };
    let clock = ManualClock::new();
    let store = SqlApiKeyStore::new(database(&url).await, clock.shared());
    api_key_store_suite(&store, &|d| clock.advance(d)).await;
}

#[tokio::test]
async fn postgres_login_failure_store_passes_the_suite() {
    let Some(url) = service("BAAS_TEST_POSTGRES_URL") else {
        return;
    };
    let clock = ManualClock::new();
    let store = SqlLoginFailureStore::new(database(&url).await, clock.shared());
    login_failure_store_suite(&store, &|d| clock.advance(d)).await;
}

#[tokio::test]
async fn postgres_key_store_passes_the_suite() {
    let Some(url) = service("BAAS_TEST_POSTGRES_URL") else {
        return;
    };
    key_store_suite(&SqlKeyStore::new(database(&url).await)).await;
}

#[tokio::test]
async fn postgres_first_keys_are_created_once_across_processes() {
    use baas_auth::TokenConfig;
    use baas_auth::keys::{KeyManager, KeyState, KeyStore};
    use baas_core::MasterKey;
    use std::sync::Arc;
    let Some(url) = service("BAAS_TEST_POSTGRES_URL") else {
        return;
    };
    let db = database(&url).await;
    let schema = db.schema().expect("a test schema").to_owned();
    let master = MasterKey::generate();
    let clock = ManualClock::new();
    // Four "processes", each with its own pool, ensure the first keys at once.
    let mut managers = Vec::new();
    for _ in 0..4 {
        let pool = Database::connect_with(
            baas_store::DatabaseOptions::new(url.clone()).schema(schema.clone()),
        )
        .await
        .expect("connect");
        managers.push(KeyManager::new(
            Arc::new(SqlKeyStore::new(pool)),
            master.clone(),
            clock.shared(),
            TokenConfig::new("iss", "aud"),
        ));
    }
    let runs = futures_util::future::join_all(managers.iter().map(|m| m.ensure())).await;
    for r in runs {
        r.expect("ensure");
    }
    let keys = SqlKeyStore::new(db).list().await.unwrap();
    assert_eq!(
        keys.iter().filter(|k| k.state == KeyState::Current).count(),
        1
    );
    assert_eq!(keys.iter().filter(|k| k.state == KeyState::Next).count(), 1);
    assert_eq!(keys.len(), 2);
}

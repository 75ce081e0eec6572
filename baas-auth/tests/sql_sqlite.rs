//! The SQL backends on SQLite (a temporary file) pass every suite.

use baas_auth::api_keys::ApiKeyStore;
use baas_auth::sql::{
    Migrator, SqlApiKeyStore, SqlKeyStore, SqlLoginFailureStore, SqlSessionStore, SqlUserStore,
};
use baas_auth::testing::{
    api_key_store_suite, key_store_suite, login_failure_store_suite, session_store_suite,
    user_store_suite,
};
use baas_core::ManualClock;
use baas_store::{Database, DatabaseOptions};

async fn database(dir: &tempfile::TempDir) -> Database {
    let path = dir.path().join("auth.db");
    let db = Database::connect_with(DatabaseOptions::new(format!("sqlite://{}", path.display())))
        .await
        .expect("open SQLite");
    db.migrate_with::<Migrator>().await.expect("migrate");
    db
}

#[tokio::test]
async fn sqlite_user_store_passes_the_suite() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new();
    let store = SqlUserStore::new(database(&dir).await, clock.shared());
    user_store_suite(&store, &|d| clock.advance(d)).await;
}

#[tokio::test]
async fn sqlite_session_store_passes_the_suite() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new();
    let store = SqlSessionStore::new(database(&dir).await, clock.shared());
    session_store_suite(&store, &|d| clock.advance(d)).await;
}

#[tokio::test]
async fn sqlite_api_key_store_passes_the_suite() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new();
    let store = SqlApiKeyStore::new(database(&dir).await, clock.shared());
    api_key_store_suite(&store, &|d| clock.advance(d)).await;
}

#[tokio::test]
async fn sqlite_login_failure_store_passes_the_suite() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new();
    let store = SqlLoginFailureStore::new(database(&dir).await, clock.shared());
    login_failure_store_suite(&store, &|d| clock.advance(d)).await;
}

#[tokio::test]
async fn sqlite_key_store_passes_the_suite() {
    let dir = tempfile::tempdir().unwrap();
    key_store_suite(&SqlKeyStore::new(database(&dir).await)).await;
}

#[tokio::test]
async fn sqlite_migrations_run_twice_and_data_survives_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new();
    let tenant = baas_core::TenantId::new("acme").unwrap();
    let secret = {
        let keys = SqlApiKeyStore::new(database(&dir).await, clock.shared());
        let (_, secret) = keys
            .create(&tenant, baas_auth::api_keys::NewApiKey::new("k", vec![]))
            .await
            .unwrap();
        secret
    };
    let keys = SqlApiKeyStore::new(database(&dir).await, clock.shared());
    assert_eq!(keys.authenticate(&secret).await.unwrap().tenant, tenant);
}

#[tokio::test]
async fn sqlite_stores_only_digests_of_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir).await;
    let clock = ManualClock::new();
    let tenant = baas_core::TenantId::new("acme").unwrap();
    let sessions = SqlSessionStore::new(db.clone(), clock.shared());
    let keys = SqlApiKeyStore::new(db.clone(), clock.shared());
    let (_, token) = baas_auth::sessions::SessionStore::create(
        &sessions,
        &tenant,
        baas_auth::sessions::NewSession::new(
            baas_auth::UserId::generate(),
            "web",
            std::time::Duration::from_secs(60),
        ),
    )
    .await
    .unwrap();
    let (_, key) = keys
        .create(&tenant, baas_auth::api_keys::NewApiKey::new("k", vec![]))
        .await
        .unwrap();
    let raw = std::fs::read(dir.path().join("auth.db")).unwrap_or_default();
    let wal = std::fs::read(dir.path().join("auth.db-wal")).unwrap_or_default();
    for file in [&raw, &wal] {
        for secret in [token.expose_secret(), key.expose_secret()] {
            assert!(
                !file.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "a secret reached the database file"
            );
        }
    }
}

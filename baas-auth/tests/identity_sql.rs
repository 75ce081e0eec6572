//! The identity service over the SQL stores (SQLite, a temporary file): two services on
//! one database behave as two processes of one installation.

use std::sync::Arc;

use baas_auth::TokenConfig;
use baas_auth::password::{HashConfig, PasswordHasher};
use baas_auth::service::{ClientInfo, IdentityConfig, IdentityService, Stores};
use baas_auth::sql::Migrator;
use baas_core::{ErrorKind, ManualClock, MasterKey, TenantId};
use baas_store::{Database, DatabaseOptions};
use secrecy::SecretString;

async fn database(dir: &tempfile::TempDir) -> Database {
    let path = dir.path().join("identity.db");
    let db = Database::connect_with(DatabaseOptions::new(format!(
        "sqlite://{}?mode=rwc",
        path.display()
    )))
    .await
    .expect("open SQLite");
    db.migrate_with::<Migrator>().await.expect("migrate");
    db
}

fn process(db: &Database, clock: &ManualClock) -> Arc<IdentityService> {
    let hasher = PasswordHasher::new(HashConfig {
        memory_kib: 1024,
        iterations: 1,
        parallelism: 1,
        max_concurrent: 2,
    })
    .unwrap();
    Arc::new(
        IdentityService::new(
            Stores::sql(db, clock.shared()),
            MasterKey::from_bytes([9; 32]),
            IdentityConfig::new(TokenConfig::new("iss", "aud")),
            clock.shared(),
        )
        .with_hasher(hasher),
    )
}

const PASSWORD: &str = "violet-otter-mandolin";

#[tokio::test]
async fn two_processes_share_users_sessions_keys_and_the_operator_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let db = database(&dir).await;
    let clock = ManualClock::new();
    let a = process(&db, &clock);
    let b = process(&db, &clock);
    a.start().await.unwrap();
    b.start().await.unwrap();
    let c = ClientInfo::default();
    let pw = SecretString::from(PASSWORD);

    // The first tenant becomes the operator tenant, and process b agrees.
    a.signup("ops", "root@example.com", &pw, &c).await.unwrap();
    a.signup("acme", "boss@example.com", &pw, &c).await.unwrap();
    // b asked at start-up (nobody yet) and asks again at most once a second.
    clock.advance(std::time::Duration::from_secs(1));
    assert_eq!(
        b.operator_tenant().await.unwrap(),
        Some(TenantId::new("ops").unwrap())
    );

    // A user made on a logs in on b; its token verifies on a; b's operator flag holds.
    let tokens = b.login("ops", "root@example.com", &pw, &c).await.unwrap();
    let principal = a
        .authenticator()
        .authenticate(tokens.access_token())
        .await
        .unwrap();
    assert!(principal.is_operator());

    // Refresh on a, reuse detected on b after the grace window, refused everywhere.
    let rotated = a.refresh(tokens.refresh_token(), &c).await.unwrap();
    clock.advance(a.config().refresh.grace + std::time::Duration::from_secs(2));
    let err = b.refresh(tokens.refresh_token(), &c).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthenticated);
    assert!(a.refresh(rotated.refresh_token(), &c).await.is_err());
    assert!(
        a.authenticator()
            .authenticate(rotated.access_token())
            .await
            .is_err()
    );

    // An API key made on a works on b until a deletes it.
    let boss = b.login("acme", "boss@example.com", &pw, &c).await.unwrap();
    let boss = a
        .authenticator()
        .authenticate(boss.access_token())
        .await
        .unwrap();
    let (key, secret) = a
        .create_api_key(&boss, "ci", &["member".to_owned()], None, &c)
        .await
        .unwrap();
    b.authenticator()
        .authenticate(secret.expose_secret())
        .await
        .unwrap();
    a.delete_api_key(&boss, &key.id.to_string(), &c)
        .await
        .unwrap();
    assert!(
        b.authenticator()
            .authenticate(secret.expose_secret())
            .await
            .is_err()
    );

    // The audit log is in the database too.
    let records = a
        .stores()
        .audit
        .list(&TenantId::new("acme").unwrap(), 0, 100)
        .await
        .unwrap();
    assert!(records.iter().any(|r| r.entry.action == "api_key.delete"));
}

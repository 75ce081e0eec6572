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

fn from(n: u32) -> ClientInfo {
    let [_, x, y, z] = n.to_be_bytes();
    ClientInfo::new(
        Some(std::net::IpAddr::from([10, x, y, z])),
        Some("test/1.0"),
    )
}

/// The failures the database holds for `email` of acme in the current window.
async fn failures_of(s: &IdentityService, email: &str) -> u32 {
    let account = baas_auth::login_failures::AccountDigest::of(email);
    s.throttle()
        .store()
        .current(
            &TenantId::new("acme").unwrap(),
            &account,
            s.config().throttle.window,
        )
        .await
        .unwrap()
        .map_or(0, |w| w.failures)
}

#[tokio::test]
async fn the_account_budget_holds_across_processes_and_is_never_permanent() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new();
    // Two processes, each with its own connection pool to one database file.
    let a = process(&database(&dir).await, &clock);
    let b = process(&database(&dir).await, &clock);
    a.start().await.unwrap();
    b.start().await.unwrap();
    let pw = SecretString::from(PASSWORD);
    let wrong = SecretString::from("not-the-password");
    let victim = "victim@example.com";
    a.signup("acme", victim, &pw, &from(0)).await.unwrap();
    let budget = a.config().throttle.account_failures_per_window;
    let window = a.config().throttle.window;
    assert_eq!(budget, 100);

    // 100 failures, alternating processes, each from its own address (so no address is
    // ever locked): each process saw only 50, well under the budget on its own.
    for n in 1..=budget {
        let p = if n % 2 == 0 { &a } else { &b };
        let err = p.login("acme", victim, &wrong, &from(n)).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unauthenticated);
    }

    // The 101st try is refused on both — even with the right password, same answer.
    for p in [&a, &b] {
        let err = p.login("acme", victim, &pw, &from(1000)).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unauthenticated);
        assert_eq!(
            err.message(),
            baas_auth::AuthError::InvalidCredentials.to_string()
        );
    }
    assert_eq!(
        failures_of(&a, victim).await,
        budget,
        "one window, in the database"
    );
    // Another account of the tenant is not affected.
    a.signup("acme", "bystander@example.com", &pw, &from(0))
        .await
        .unwrap();
    b.login("acme", "bystander@example.com", &pw, &from(1000))
        .await
        .unwrap();

    // The attacker keeps hammering through the window: refused, and not counted, so the
    // window neither grows nor stretches.
    clock.advance(window / 2);
    for n in 0..50 {
        let p = if n % 2 == 0 { &a } else { &b };
        assert!(
            p.login("acme", victim, &wrong, &from(2000 + n))
                .await
                .is_err()
        );
    }
    assert_eq!(failures_of(&b, victim).await, budget);
    clock.advance(window / 2 - std::time::Duration::from_secs(1));
    assert!(a.login("acme", victim, &pw, &from(1000)).await.is_err());

    // Roll-over: the window ends an hour after its first failure, and the victim is in.
    clock.advance(std::time::Duration::from_secs(1));
    assert_eq!(failures_of(&a, victim).await, 0);
    b.login("acme", victim, &pw, &from(1000)).await.unwrap();
    // A success wrote nothing: there is still no window.
    assert_eq!(failures_of(&a, victim).await, 0);

    // Windows that have passed are swept (DESIGN.md rule 11); running ones stay.
    a.login("acme", victim, &wrong, &from(3000))
        .await
        .unwrap_err();
    clock.advance(window);
    b.login("acme", "ghost@example.com", &wrong, &from(3001))
        .await
        .unwrap_err();
    assert_eq!(a.throttle().sweep().await.unwrap(), 1);
    assert_eq!(failures_of(&b, "ghost@example.com").await, 1);
}

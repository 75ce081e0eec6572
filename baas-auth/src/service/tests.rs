use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use baas_core::{Classify as _, ErrorKind, ManualClock, MasterKey, TenantId};
use secrecy::SecretString;

use super::*;
use crate::login_failures::{AccountDigest, FailureWindow, LoginFailureStore};
use crate::password::HashConfig;

pub(crate) fn small_hasher(memory_kib: u32) -> PasswordHasher {
    PasswordHasher::new(HashConfig {
        memory_kib,
        iterations: 1,
        parallelism: 1,
        max_concurrent: 2,
    })
    .unwrap()
}

pub(crate) fn service_over(
    stores: Stores,
    clock: &ManualClock,
    memory_kib: u32,
) -> IdentityService {
    IdentityService::new(
        stores,
        // One installation: every process shares the master key.
        MasterKey::from_bytes([7; 32]),
        IdentityConfig::new(TokenConfig::new("iss", "aud")),
        clock.shared(),
    )
    .with_hasher(small_hasher(memory_kib))
}

async fn fixture() -> (IdentityService, ManualClock) {
    let clock = ManualClock::new();
    let service = service_over(Stores::memory(clock.shared()), &clock, 1024);
    service.start().await.unwrap();
    (service, clock)
}

fn pw(p: &str) -> SecretString {
    SecretString::from(p)
}

const PASSWORD: &str = "violet-otter-mandolin";

fn client(ip: [u8; 4]) -> ClientInfo {
    ClientInfo::new(Some(IpAddr::from(ip)), Some("test-agent/1.0"))
}

#[tokio::test]
async fn first_user_is_admin_and_first_tenant_is_the_operator_tenant() {
    let (s, _) = fixture().await;
    let c = ClientInfo::default();
    let a = s
        .signup("ops", "root@example.com", &pw(PASSWORD), &c)
        .await
        .unwrap();
    let b = s
        .signup("ops", "second@example.com", &pw(PASSWORD), &c)
        .await
        .unwrap();
    let other = s
        .signup("acme", "boss@example.com", &pw(PASSWORD), &c)
        .await
        .unwrap();
    assert_eq!(a.roles, ["admin"]);
    assert_eq!(b.roles, ["member"]);
    assert_eq!(other.roles, ["admin"]);
    assert_eq!(
        s.operator_tenant().await.unwrap(),
        Some(TenantId::new("ops").unwrap())
    );
    // Persisted: a second process over the same stores learns it from the store.
    assert_eq!(
        s.stores.installation.operator_tenant().await.unwrap(),
        Some(TenantId::new("ops").unwrap())
    );

    let dup = s
        .signup("ops", " ROOT@Example.com", &pw(PASSWORD), &c)
        .await
        .unwrap_err();
    assert_eq!(dup.kind(), ErrorKind::Conflict);
    for (tenant, email, password, field) in [
        ("ops", "x@example.com", "short", "password"),
        ("ops", "x@example.com", "password123", "password"),
        ("ops", "not-an-email", PASSWORD, "email"),
        ("Bad Tenant", "x@example.com", PASSWORD, "tenant"),
    ] {
        let err = s
            .signup(tenant, email, &pw(password), &c)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Invalid, "{tenant} {email}");
        assert_eq!(err.fields()[0].field, field);
    }
}

#[tokio::test]
async fn a_configured_operator_tenant_wins() {
    let clock = ManualClock::new();
    let mut config = IdentityConfig::new(TokenConfig::new("iss", "aud"));
    config.token.operator_tenant = Some(TenantId::new("ops").unwrap());
    let s = IdentityService::new(
        Stores::memory(clock.shared()),
        MasterKey::generate(),
        config,
        clock.shared(),
    )
    .with_hasher(small_hasher(1024));
    s.start().await.unwrap();
    s.signup(
        "acme",
        "a@example.com",
        &pw(PASSWORD),
        &ClientInfo::default(),
    )
    .await
    .unwrap();
    assert_eq!(
        s.operator_tenant().await.unwrap(),
        Some(TenantId::new("ops").unwrap())
    );
    assert_eq!(s.stores.installation.operator_tenant().await.unwrap(), None);
}

#[tokio::test]
async fn login_refusals_are_indistinguishable() {
    let (s, _) = fixture().await;
    let c = ClientInfo::default();
    s.signup("acme", "a@example.com", &pw(PASSWORD), &c)
        .await
        .unwrap();
    let tokens = s
        .login("acme", "A@EXAMPLE.com", &pw(PASSWORD), &c)
        .await
        .unwrap();
    assert!(tokens.expires_in > 0 && tokens.expires_in <= 900);
    let mut messages = Vec::new();
    for (tenant, email, password) in [
        ("acme", "a@example.com", "wrong-password-here"),
        ("acme", "nobody@example.com", PASSWORD),
        ("other", "a@example.com", PASSWORD),
        ("Not A Tenant", "a@example.com", PASSWORD),
        ("acme", "not an email", PASSWORD),
    ] {
        let err = s.login(tenant, email, &pw(password), &c).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unauthenticated);
        messages.push(err.message().to_owned());
    }
    messages.dedup();
    assert_eq!(messages.len(), 1, "{messages:?}");
}

#[tokio::test]
async fn login_rehashes_when_parameters_change() {
    let clock = ManualClock::new();
    let stores = Stores::memory(clock.shared());
    let old = service_over(stores.clone(), &clock, 1024);
    old.start().await.unwrap();
    let c = ClientInfo::default();
    let user = old
        .signup("acme", "a@example.com", &pw(PASSWORD), &c)
        .await
        .unwrap();
    assert!(user.password_hash.contains("m=1024"));

    let new = service_over(stores.clone(), &clock, 2048);
    new.login("acme", "a@example.com", &pw(PASSWORD), &c)
        .await
        .unwrap();
    let stored = stores
        .users
        .get(&user.tenant, &user.id)
        .await
        .unwrap()
        .unwrap();
    assert!(stored.password_hash.contains("m=2048"), "rehashed");
    // And the new hash still logs in.
    new.login("acme", "a@example.com", &pw(PASSWORD), &c)
        .await
        .unwrap();
}

#[tokio::test]
async fn brute_force_is_throttled_per_account_and_address() {
    let (s, clock) = fixture().await;
    let attacker = client([203, 0, 113, 7]);
    let victim = client([198, 51, 100, 2]);
    s.signup("acme", "v@example.com", &pw(PASSWORD), &victim)
        .await
        .unwrap();
    for _ in 0..6 {
        let err = s
            .login("acme", "v@example.com", &pw("guess-guess-guess"), &attacker)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unauthenticated);
    }
    // Locked from the attacker's address, even with the right password — same answer.
    let err = s
        .login("acme", "v@example.com", &pw(PASSWORD), &attacker)
        .await
        .unwrap_err();
    assert_eq!(err.message(), AuthError::InvalidCredentials.to_string());
    // The victim, from their own address, is not locked out.
    s.login("acme", "v@example.com", &pw(PASSWORD), &victim)
        .await
        .unwrap();
    // The lockout passes.
    clock.advance(Duration::from_secs(2));
    s.login("acme", "v@example.com", &pw(PASSWORD), &attacker)
        .await
        .unwrap();
    // An unknown account is throttled the same way (no enumeration).
    for _ in 0..6 {
        let _ = s
            .login("acme", "ghost@example.com", &pw("x-x-x-x-x"), &attacker)
            .await;
    }
    assert!(
        s.throttle
            .check(
                &TenantId::new("acme").unwrap(),
                "ghost@example.com",
                attacker.ip
            )
            .await
            .unwrap()
            .is_some()
    );
}

/// A failure store where other processes spend the whole budget right after the first
/// read: the pre-check passes, and the budget is gone by the time the password is hashed.
#[derive(Debug)]
struct SpentWhileHashing {
    inner: MemoryLoginFailureStore,
    armed: AtomicBool,
}

#[async_trait::async_trait]
impl LoginFailureStore for SpentWhileHashing {
    async fn record_failure(
        &self,
        tenant: &TenantId,
        account: &AccountDigest,
        window: Duration,
    ) -> Result<FailureWindow, AuthError> {
        self.inner.record_failure(tenant, account, window).await
    }

    async fn current(
        &self,
        tenant: &TenantId,
        account: &AccountDigest,
        window: Duration,
    ) -> Result<Option<FailureWindow>, AuthError> {
        let answer = self.inner.current(tenant, account, window).await?;
        if self.armed.swap(false, Ordering::SeqCst) {
            for _ in 0..100 {
                self.inner.record_failure(tenant, account, window).await?;
            }
        }
        Ok(answer)
    }

    async fn sweep(&self, window: Duration) -> Result<u64, AuthError> {
        self.inner.sweep(window).await
    }
}

#[tokio::test]
async fn a_right_guess_is_refused_once_the_budget_is_spent_during_hashing() {
    let clock = ManualClock::new();
    let failures = Arc::new(SpentWhileHashing {
        inner: MemoryLoginFailureStore::new(clock.shared()),
        armed: AtomicBool::new(false),
    });
    let mut stores = Stores::memory(clock.shared());
    stores.login_failures = failures.clone();
    let s = service_over(stores, &clock, 1024);
    s.start().await.unwrap();
    let c = client([203, 0, 113, 7]);
    s.signup("acme", "v@example.com", &pw(PASSWORD), &c)
        .await
        .unwrap();
    failures.armed.store(true, Ordering::SeqCst);
    let err = s
        .login("acme", "v@example.com", &pw(PASSWORD), &c)
        .await
        .unwrap_err();
    assert_eq!(err.message(), AuthError::InvalidCredentials.to_string());
    assert!(
        !failures.armed.load(Ordering::SeqCst),
        "the pre-check read the store"
    );
    let records = s
        .stores
        .audit
        .list(&TenantId::new("acme").unwrap(), 0, 100)
        .await
        .unwrap();
    assert!(records.iter().any(|r| r.entry.action == "login.throttled"));
    assert!(!records.iter().any(|r| r.entry.action == "login.success"));
    // The refusal was not counted as a failure; when the window ends the user is in.
    assert_eq!(
        failures
            .inner
            .current(
                &TenantId::new("acme").unwrap(),
                &AccountDigest::of("v@example.com"),
                s.config.throttle.window
            )
            .await
            .unwrap()
            .map(|w| w.failures),
        Some(100)
    );
    clock.advance(s.config.throttle.window);
    s.login("acme", "v@example.com", &pw(PASSWORD), &c)
        .await
        .unwrap();
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    let (s, clock) = fixture().await;
    let c = ClientInfo::default();
    s.signup("acme", "a@example.com", &pw(PASSWORD), &c)
        .await
        .unwrap();
    let first = s
        .login("acme", "a@example.com", &pw(PASSWORD), &c)
        .await
        .unwrap();
    let second = s.refresh(first.refresh_token(), &c).await.unwrap();
    assert_ne!(second.refresh_token(), first.refresh_token());
    assert_eq!(second.session_id, first.session_id);
    let auth = s.authenticator();
    auth.authenticate(second.access_token()).await.unwrap();

    // Past the grace window, presenting the rotated token again is reuse.
    clock.advance(s.config.refresh.grace + Duration::from_secs(1));
    let err = s.refresh(first.refresh_token(), &c).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthenticated);
    // The whole family is revoked: the latest refresh and access tokens too.
    assert!(s.refresh(second.refresh_token(), &c).await.is_err());
    assert!(auth.authenticate(second.access_token()).await.is_err());
    let records = s
        .stores
        .audit
        .list(&TenantId::new("acme").unwrap(), 0, 100)
        .await
        .unwrap();
    assert!(
        records
            .iter()
            .any(|r| r.entry.action == "refresh.reuse_detected")
    );
}

#[tokio::test]
async fn revoke_accepts_either_token_and_ignores_garbage() {
    let (s, _) = fixture().await;
    let c = ClientInfo::default();
    s.signup("acme", "a@example.com", &pw(PASSWORD), &c)
        .await
        .unwrap();
    let auth = s.authenticator();

    let by_refresh = s
        .login("acme", "a@example.com", &pw(PASSWORD), &c)
        .await
        .unwrap();
    s.revoke(by_refresh.refresh_token(), &c).await.unwrap();
    assert!(auth.authenticate(by_refresh.access_token()).await.is_err());
    assert!(s.refresh(by_refresh.refresh_token(), &c).await.is_err());

    let by_access = s
        .login("acme", "a@example.com", &pw(PASSWORD), &c)
        .await
        .unwrap();
    s.revoke(by_access.access_token(), &c).await.unwrap();
    assert!(auth.authenticate(by_access.access_token()).await.is_err());
    assert!(s.refresh(by_access.refresh_token(), &c).await.is_err());
    // Again, and garbage: still fine.
    s.revoke(by_access.access_token(), &c).await.unwrap();
    s.revoke("garbage", &c).await.unwrap();
    s.revoke("a.b.c", &c).await.unwrap();
}

#[tokio::test]
async fn password_change_keeps_the_current_session_only() {
    let (s, _) = fixture().await;
    let c = ClientInfo::default();
    s.signup("acme", "a@example.com", &pw(PASSWORD), &c)
        .await
        .unwrap();
    let here = s
        .login("acme", "a@example.com", &pw(PASSWORD), &c)
        .await
        .unwrap();
    let there = s
        .login("acme", "a@example.com", &pw(PASSWORD), &c)
        .await
        .unwrap();
    let auth = s.authenticator();
    let me = auth.authenticate(here.access_token()).await.unwrap();

    let err = s
        .change_password(&me, &pw("not-the-password"), &pw("new-secret-words"), &c)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert_eq!(err.fields()[0].field, "current_password");
    let err = s
        .change_password(&me, &pw(PASSWORD), &pw("short"), &c)
        .await
        .unwrap_err();
    assert_eq!(err.fields().last().unwrap().field, "new_password");

    s.change_password(&me, &pw(PASSWORD), &pw("new-secret-words"), &c)
        .await
        .unwrap();
    auth.authenticate(here.access_token()).await.unwrap();
    assert!(auth.authenticate(there.access_token()).await.is_err());
    assert!(
        s.login("acme", "a@example.com", &pw(PASSWORD), &c)
            .await
            .is_err()
    );
    s.login("acme", "a@example.com", &pw("new-secret-words"), &c)
        .await
        .unwrap();
}

#[tokio::test]
async fn disabling_revokes_everything_and_blocks_login() {
    let (s, _) = fixture().await;
    let c = ClientInfo::default();
    s.signup("acme", "admin@example.com", &pw(PASSWORD), &c)
        .await
        .unwrap();
    let user = s
        .signup("acme", "u@example.com", &pw(PASSWORD), &c)
        .await
        .unwrap();
    let admin_tokens = s
        .login("acme", "admin@example.com", &pw(PASSWORD), &c)
        .await
        .unwrap();
    let user_tokens = s
        .login("acme", "u@example.com", &pw(PASSWORD), &c)
        .await
        .unwrap();
    let auth = s.authenticator();
    let admin = auth
        .authenticate(admin_tokens.access_token())
        .await
        .unwrap();
    let member = auth.authenticate(user_tokens.access_token()).await.unwrap();

    let err = s
        .disable_user(&member, &user.id.to_string(), &c)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    s.disable_user(&admin, &user.id.to_string(), &c)
        .await
        .unwrap();
    assert!(auth.authenticate(user_tokens.access_token()).await.is_err());
    assert!(s.refresh(user_tokens.refresh_token(), &c).await.is_err());
    let err = s
        .login("acme", "u@example.com", &pw(PASSWORD), &c)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthenticated);
}

#[tokio::test]
async fn api_keys_roles_are_bounded_by_the_creator() {
    let (s, _) = fixture().await;
    let c = ClientInfo::default();
    s.signup("acme", "admin@example.com", &pw(PASSWORD), &c)
        .await
        .unwrap();
    s.signup("acme", "m@example.com", &pw(PASSWORD), &c)
        .await
        .unwrap();
    s.signup("other", "o@example.com", &pw(PASSWORD), &c)
        .await
        .unwrap();
    let auth = s.authenticator();
    let login = |email: &'static str, tenant: &'static str| {
        let s = &s;
        let auth = &auth;
        async move {
            let t = s
                .login(tenant, email, &pw(PASSWORD), &ClientInfo::default())
                .await
                .unwrap();
            auth.authenticate(t.access_token()).await.unwrap()
        }
    };
    let admin = login("admin@example.com", "acme").await;
    let member = login("m@example.com", "acme").await;
    let other_admin = login("o@example.com", "other").await;

    let roles = |r: &[&str]| r.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let (key, secret) = s
        .create_api_key(
            &admin,
            "ci",
            &roles(&["member"]),
            Some(Duration::from_secs(3600)),
            &c,
        )
        .await
        .unwrap();
    let err = s
        .create_api_key(&admin, "x", &roles(&["billing"]), None, &c)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    let err = s
        .create_api_key(&member, "x", &roles(&["member"]), None, &c)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    let err = s
        .create_api_key(&admin, "x", &roles(&["member"]), Some(Duration::ZERO), &c)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid);

    let principal = auth.authenticate(secret.expose_secret()).await.unwrap();
    assert_eq!(principal.subject, key.id.to_string());
    assert!(principal.has_role("member") && !principal.has_role("admin"));

    // Another tenant's admin cannot see or delete it.
    let err = s
        .delete_api_key(&other_admin, &key.id.to_string(), &c)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    s.delete_api_key(&admin, &key.id.to_string(), &c)
        .await
        .unwrap();
    let err = auth.authenticate(secret.expose_secret()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthenticated);
}

#[tokio::test]
async fn only_operators_rotate_and_old_tokens_survive() {
    let (s, _) = fixture().await;
    let c = ClientInfo::default();
    s.signup("ops", "root@example.com", &pw(PASSWORD), &c)
        .await
        .unwrap();
    s.signup("acme", "boss@example.com", &pw(PASSWORD), &c)
        .await
        .unwrap();
    let auth = s.authenticator();
    let root_t = s
        .login("ops", "root@example.com", &pw(PASSWORD), &c)
        .await
        .unwrap();
    let boss_t = s
        .login("acme", "boss@example.com", &pw(PASSWORD), &c)
        .await
        .unwrap();
    let root = auth.authenticate(root_t.access_token()).await.unwrap();
    let boss = auth.authenticate(boss_t.access_token()).await.unwrap();
    assert!(root.is_operator() && !boss.is_operator());

    let err = s.rotate_signing_key(&boss, &c).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    let before = s.jwks().await.unwrap().keys.len();
    let report = s.rotate_signing_key(&root, &c).await.unwrap();
    assert_eq!(s.jwks().await.unwrap().keys.len(), before + 1);
    assert!(
        s.jwks()
            .await
            .unwrap()
            .keys
            .iter()
            .any(|k| k.kid == report.current)
    );
    auth.authenticate(boss_t.access_token()).await.unwrap();
}

#[tokio::test]
async fn audit_records_carry_client_details() {
    let (s, _) = fixture().await;
    let c = client([192, 0, 2, 44]);
    s.signup("acme", "a@example.com", &pw(PASSWORD), &c)
        .await
        .unwrap();
    let _ = s
        .login("acme", "a@example.com", &pw("wrong-wrong-wrong"), &c)
        .await;
    s.login("acme", "a@example.com", &pw(PASSWORD), &c)
        .await
        .unwrap();
    let records = s
        .stores
        .audit
        .list(&TenantId::new("acme").unwrap(), 0, 100)
        .await
        .unwrap();
    let actions: Vec<_> = records.iter().map(|r| r.entry.action.as_str()).collect();
    assert_eq!(actions, ["user.signup", "login.failure", "login.success"]);
    for r in &records {
        assert_eq!(r.entry.ip.as_deref(), Some("192.0.2.44"));
        assert_eq!(r.entry.user_agent.as_deref(), Some("test-agent/1.0"));
        assert!(!r.entry.target.contains(PASSWORD) && !r.entry.actor.contains(PASSWORD));
    }
}

#[test]
fn the_service_is_shareable() {
    fn check<T: Send + Sync + 'static>() {}
    check::<IdentityService>();
    check::<Arc<IdentityService>>();
}

//! Conformance suites every backend of a baas-auth trait must pass (DESIGN.md rule 2).
//!
//! Each suite is a plain async function taking the backend; a backend's test file calls
//! them all. They assert and panic on failure, like `#[test]` bodies.
//!
//! The user, session, API-key and login-failure suites take the store and `advance`,
//! which moves the clock the store was built with (a
//! [`ManualClock`](baas_core::ManualClock)). They work
//! in tenants of their own, so they can share a database with other tests; the
//! installation-wide calls (`revoked_since`, `sweep`) want a store (schema) of their own.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::AuthError;
use crate::keys::{KeyState, KeyStore, Rotation, SigningAlgorithm, StoredKey};

mod api_keys;
mod login_failures;
mod sessions;
mod users;

pub use api_keys::api_key_store_suite;
pub use login_failures::login_failure_store_suite;
pub use sessions::session_store_suite;
pub use users::user_store_suite;

/// A tenant no other test uses.
pub(crate) fn fresh_tenant() -> baas_core::TenantId {
    baas_core::TenantId::new(format!("t{}", uuid::Uuid::new_v4().simple())).expect("valid tenant")
}

fn key(kid: &str, state: KeyState, at: SystemTime) -> StoredKey {
    StoredKey {
        kid: kid.to_owned(),
        algorithm: SigningAlgorithm::EdDSA,
        state,
        public_key: vec![7; 32],
        sealed_private: Some(vec![1, 2, 3]),
        created_at: at,
        activated_at: (state == KeyState::Current).then_some(at),
        retire_after: None,
    }
}

fn state_of(keys: &[StoredKey], kid: &str) -> KeyState {
    keys.iter()
        .find(|k| k.kid == kid)
        .map(|k| k.state)
        .expect("key listed")
}

/// The [`KeyStore`] contract. `store` must be empty (a fresh database or namespace).
pub async fn key_store_suite(store: &dyn KeyStore) {
    let t0 = UNIX_EPOCH + Duration::from_secs(1_767_225_600);
    assert!(
        store.list().await.unwrap().is_empty(),
        "the suite needs an empty store"
    );

    // initialise: once only.
    assert!(
        store
            .initialise(
                key("k1", KeyState::Current, t0),
                key("k2", KeyState::Next, t0)
            )
            .await
            .unwrap()
    );
    assert!(
        !store
            .initialise(
                key("k8", KeyState::Current, t0),
                key("k9", KeyState::Next, t0)
            )
            .await
            .unwrap()
    );
    let keys = store.list().await.unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(state_of(&keys, "k1"), KeyState::Current);
    assert_eq!(state_of(&keys, "k2"), KeyState::Next);
    assert_eq!(
        keys.iter().find(|k| k.kid == "k1").unwrap(),
        &key("k1", KeyState::Current, t0),
        "round trip"
    );

    // rotate: compare-and-swap on current and next.
    let t1 = t0 + Duration::from_secs(60);
    let rotation = |cur: &str, next: &str, new: &str| Rotation {
        expected_current: cur.to_owned(),
        expected_next: next.to_owned(),
        new_next: key(new, KeyState::Next, t1),
        now: t1,
        retire_after: t1 + Duration::from_secs(100),
    };
    let stale = store.rotate(rotation("k2", "k1", "k3")).await.unwrap_err();
    assert!(matches!(stale, AuthError::RotationConflict), "{stale:?}");
    assert_eq!(
        store.list().await.unwrap().len(),
        2,
        "a refused rotation changes nothing"
    );
    store.rotate(rotation("k1", "k2", "k3")).await.unwrap();
    let keys = store.list().await.unwrap();
    assert_eq!(state_of(&keys, "k1"), KeyState::Retiring);
    assert_eq!(state_of(&keys, "k2"), KeyState::Current);
    assert_eq!(state_of(&keys, "k3"), KeyState::Next);
    let k1 = keys.iter().find(|k| k.kid == "k1").unwrap();
    assert_eq!(k1.retire_after, Some(t1 + Duration::from_secs(100)));
    assert_eq!(
        keys.iter().find(|k| k.kid == "k2").unwrap().activated_at,
        Some(t1)
    );
    assert_eq!(
        keys.iter().filter(|k| k.state == KeyState::Current).count(),
        1
    );
    // The same rotation again: the expectations no longer hold.
    assert!(matches!(
        store.rotate(rotation("k1", "k2", "k4")).await,
        Err(AuthError::RotationConflict)
    ));

    // retire_expired: only past the window, and the private half goes.
    assert!(
        store
            .retire_expired(t1 + Duration::from_secs(99))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .retire_expired(t1 + Duration::from_secs(100))
            .await
            .unwrap(),
        vec!["k1".to_owned()]
    );
    let keys = store.list().await.unwrap();
    let k1 = keys.iter().find(|k| k.kid == "k1").unwrap();
    assert_eq!(k1.state, KeyState::Retired);
    assert!(k1.sealed_private.is_none());
    assert!(
        keys.iter()
            .filter(|k| k.kid != "k1")
            .all(|k| k.sealed_private.is_some())
    );
    assert!(
        store
            .retire_expired(t1 + Duration::from_secs(1000))
            .await
            .unwrap()
            .is_empty()
    );
}

#[cfg(test)]
mod tests {
    use baas_core::ManualClock;

    #[tokio::test]
    async fn memory_key_store_passes_the_suite() {
        super::key_store_suite(&crate::keys::MemoryKeyStore::new()).await;
    }

    #[tokio::test]
    async fn memory_user_store_passes_the_suite() {
        let clock = ManualClock::new();
        let store = crate::users::MemoryUserStore::new(clock.shared());
        super::user_store_suite(&store, &|d| clock.advance(d)).await;
    }

    #[tokio::test]
    async fn memory_session_store_passes_the_suite() {
        let clock = ManualClock::new();
        let store = crate::sessions::MemorySessionStore::new(clock.shared());
        super::session_store_suite(&store, &|d| clock.advance(d)).await;
    }

    #[tokio::test]
    async fn memory_api_key_store_passes_the_suite() {
        let clock = ManualClock::new();
        let store = crate::api_keys::MemoryApiKeyStore::new(clock.shared());
        super::api_key_store_suite(&store, &|d| clock.advance(d)).await;
    }

    #[tokio::test]
    async fn memory_login_failure_store_passes_the_suite() {
        let clock = ManualClock::new();
        let store = crate::login_failures::MemoryLoginFailureStore::new(clock.shared());
        super::login_failure_store_suite(&store, &|d| clock.advance(d)).await;
    }
}

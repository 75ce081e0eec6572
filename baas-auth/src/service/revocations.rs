//! [`SessionRevocations`]: the verifier's [`RevocationView`] read from the session store,
//! with a short cache.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use baas_core::{SharedClock, TenantId};
use parking_lot::Mutex;

use crate::error::AuthError;
use crate::ids::SessionId;
use crate::revocation::RevocationView;
use crate::sessions::DynSessionStore;

/// The most sessions whose answer is cached.
const MAX_CACHED: usize = 100_000;

/// Asks the [`SessionStore`](crate::sessions::SessionStore) whether a session is
/// revoked, caching each answer for at most `ttl` (default 1 s), so a revocation made by
/// any process sharing the store holds on every process within that time, while a
/// busy session costs one store read per `ttl`. A revocation made through this process's
/// [`IdentityService`](super::IdentityService) clears the cache at once. A `sid` that is
/// not a session id, or a session the store does not know, counts as revoked.
#[derive(Debug)]
pub struct SessionRevocations {
    sessions: Arc<DynSessionStore>,
    clock: SharedClock,
    ttl: Duration,
    cache: Mutex<HashMap<(TenantId, SessionId), (bool, Instant)>>,
}

impl SessionRevocations {
    /// A view over `sessions`, caching answers for 1 s by `clock`'s monotonic time.
    pub fn new(sessions: Arc<DynSessionStore>, clock: SharedClock) -> Self {
        SessionRevocations {
            sessions,
            clock,
            ttl: Duration::from_secs(1),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Cache answers for `ttl` instead (zero: ask the store every time).
    pub fn cache_for(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Forget every cached answer (after this process revoked sessions).
    pub fn clear(&self) {
        self.cache.lock().clear();
    }
}

#[async_trait]
impl RevocationView for SessionRevocations {
    async fn is_revoked(&self, tenant: &TenantId, sid: &str) -> Result<bool, AuthError> {
        let Ok(id) = SessionId::parse(sid) else {
            return Ok(true);
        };
        let key = (tenant.clone(), id);
        let now = self.clock.monotonic();
        if !self.ttl.is_zero()
            && let Some((revoked, at)) = self.cache.lock().get(&key)
            && (*revoked || now.saturating_duration_since(*at) < self.ttl)
        {
            // A revocation is for good, so a revoked answer never goes stale.
            return Ok(*revoked);
        }
        let revoked = self.sessions.is_revoked(tenant, &id).await?;
        if !self.ttl.is_zero() {
            let mut cache = self.cache.lock();
            if cache.len() >= MAX_CACHED {
                cache.clear();
            }
            cache.insert(key, (revoked, now));
        }
        Ok(revoked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::UserId;
    use crate::sessions::{MemorySessionStore, NewSession, SessionStore as _};
    use baas_core::ManualClock;

    #[tokio::test]
    async fn answers_are_cached_for_the_ttl_only() {
        let clock = ManualClock::new();
        let store = Arc::new(MemorySessionStore::new(clock.shared()));
        let view = SessionRevocations::new(store.clone(), clock.shared());
        let acme = TenantId::new("acme").unwrap();
        let (session, _) = store
            .create(
                &acme,
                NewSession::new(UserId::generate(), "web", Duration::from_secs(60)),
            )
            .await
            .unwrap();
        let sid = session.id.to_string();
        assert!(!view.is_revoked(&acme, &sid).await.unwrap());
        store.revoke(&acme, &session.id).await.unwrap();
        // Another process revoked it: this one sees it within the ttl…
        assert!(!view.is_revoked(&acme, &sid).await.unwrap());
        clock.advance(Duration::from_secs(1));
        assert!(view.is_revoked(&acme, &sid).await.unwrap());
        // …and unknown or malformed sessions are revoked.
        assert!(view.is_revoked(&acme, "nope").await.unwrap());
        assert!(
            view.is_revoked(&acme, &SessionId::generate().to_string())
                .await
                .unwrap()
        );
        // Another tenant's view of the same sid is its own (and unknown there).
        assert!(
            view.is_revoked(&TenantId::new("other").unwrap(), &sid)
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn clear_forgets_at_once() {
        let clock = ManualClock::new();
        let store = Arc::new(MemorySessionStore::new(clock.shared()));
        let view = SessionRevocations::new(store.clone(), clock.shared());
        let acme = TenantId::new("acme").unwrap();
        let (session, _) = store
            .create(
                &acme,
                NewSession::new(UserId::generate(), "web", Duration::from_secs(60)),
            )
            .await
            .unwrap();
        let sid = session.id.to_string();
        assert!(!view.is_revoked(&acme, &sid).await.unwrap());
        store.revoke(&acme, &session.id).await.unwrap();
        view.clear();
        assert!(view.is_revoked(&acme, &sid).await.unwrap());
    }
}

//! [`PolledRevocations`]: a [`RevocationView`] fed by a [`SessionStore`]'s revocation
//! list, so every process refuses a revoked session within one refresh period.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use baas_core::{SharedClock, TenantId};
use parking_lot::RwLock;

use super::store::DynSessionStore;
use crate::error::AuthError;
use crate::ids::SessionId;
use crate::revocation::RevocationView;

/// How many revocations one poll reads per query.
const BATCH: usize = 1000;

/// A [`RevocationView`] that polls [`SessionStore::revoked_since`](super::SessionStore::revoked_since)
/// at most once per `refresh` (default 1 s) and answers from memory in between.
///
/// * A revocation made by any process sharing the store is refused here within
///   `refresh` (plus the poll itself).
/// * Each poll re-reads an `overlap` (default 5 s) before the newest revocation it has
///   seen, covering commit lag and clock skew between processes.
/// * At start it reads back `lookback` (choose the access-token lifetime): older
///   revocations cannot matter, as their tokens have expired; entries older than that
///   are also forgotten, so memory stays bounded.
/// * A failed poll is an error, and the verifier refuses the token (fail closed).
/// * An `sid` that is not a session id is answered as revoked.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use std::sync::Arc;
/// use std::time::Duration;
/// use baas_auth::sessions::{MemorySessionStore, NewSession, PolledRevocations, SessionStore};
/// use baas_auth::{RevocationView, UserId};
/// use baas_core::{ManualClock, TenantId};
///
/// let clock = ManualClock::new();
/// let store = Arc::new(MemorySessionStore::new(clock.shared()));
/// let view = PolledRevocations::new(store.clone(), clock.shared(), Duration::from_secs(900));
/// let acme = TenantId::new("acme")?;
/// let (session, _) = store.create(&acme, NewSession::new(UserId::generate(), "web", Duration::from_secs(60))).await?;
/// let sid = session.id.to_string();
///
/// assert!(!view.is_revoked(&acme, &sid).await?);
/// store.revoke(&acme, &session.id).await?;
/// clock.advance(Duration::from_secs(1));
/// assert!(view.is_revoked(&acme, &sid).await?);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct PolledRevocations {
    store: Arc<DynSessionStore>,
    clock: SharedClock,
    refresh: Duration,
    overlap: Duration,
    lookback: Duration,
    revoked: RwLock<HashMap<(TenantId, SessionId), SystemTime>>,
    poll: tokio::sync::Mutex<PollState>,
}

#[derive(Debug)]
struct PollState {
    since: SystemTime,
    last: Option<Instant>,
}

impl PolledRevocations {
    /// A view of `store`'s revocations, reading back `lookback` at first.
    pub fn new(store: Arc<DynSessionStore>, clock: SharedClock, lookback: Duration) -> Self {
        let since = clock
            .now()
            .checked_sub(lookback)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        Self {
            store,
            clock,
            refresh: Duration::from_secs(1),
            overlap: Duration::from_secs(5),
            lookback,
            revoked: RwLock::default(),
            poll: tokio::sync::Mutex::new(PollState { since, last: None }),
        }
    }

    /// Poll at most this often (default 1 s).
    pub fn refresh_every(mut self, refresh: Duration) -> Self {
        self.refresh = refresh;
        self
    }

    /// Re-read this much before the newest revocation seen (default 5 s).
    pub fn overlap(mut self, overlap: Duration) -> Self {
        self.overlap = overlap;
        self
    }

    fn stale(&self, last: Option<Instant>) -> bool {
        last.is_none_or(|t| self.clock.monotonic().saturating_duration_since(t) >= self.refresh)
    }

    /// Read new revocations now. Returns how many entries the view holds.
    pub async fn poll(&self) -> Result<usize, AuthError> {
        let mut state = self.poll.lock().await;
        self.poll_locked(&mut state).await
    }

    async fn poll_locked(&self, state: &mut PollState) -> Result<usize, AuthError> {
        let started = self.clock.monotonic();
        let mut since = state.since;
        let mut newest = state.since;
        loop {
            let batch = self.store.revoked_since(since, BATCH).await?;
            let full = batch.len() == BATCH;
            {
                let mut revoked = self.revoked.write();
                for r in &batch {
                    newest = newest.max(r.revoked_at);
                    revoked.insert((r.tenant.clone(), r.session_id), r.revoked_at);
                }
            }
            if !full || newest == since {
                break;
            }
            since = newest;
        }
        state.since = newest
            .checked_sub(self.overlap)
            .unwrap_or(newest)
            .max(state.since);
        state.last = Some(started);
        let horizon = self.clock.now().checked_sub(self.lookback);
        let mut revoked = self.revoked.write();
        if let Some(horizon) = horizon {
            revoked.retain(|_, at| *at >= horizon);
        }
        Ok(revoked.len())
    }
}

#[async_trait]
impl RevocationView for PolledRevocations {
    async fn is_revoked(&self, tenant: &TenantId, sid: &str) -> Result<bool, AuthError> {
        let Ok(sid) = SessionId::parse(sid) else {
            return Ok(true);
        };
        {
            let mut state = self.poll.lock().await;
            if self.stale(state.last) {
                self.poll_locked(&mut state).await?;
            }
        }
        Ok(self.revoked.read().contains_key(&(tenant.clone(), sid)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::UserId;
    use crate::sessions::{MemorySessionStore, NewSession, SessionStore};
    use baas_core::ManualClock;

    #[tokio::test]
    async fn revocations_appear_after_one_refresh_and_stay_per_tenant() {
        let clock = ManualClock::new();
        let store = Arc::new(MemorySessionStore::new(clock.shared()));
        let view = PolledRevocations::new(store.clone(), clock.shared(), Duration::from_secs(900));
        let a = TenantId::new("a").unwrap();
        let b = TenantId::new("b").unwrap();
        let ttl = Duration::from_secs(3600);
        let (s1, _) = store
            .create(&a, NewSession::new(UserId::generate(), "web", ttl))
            .await
            .unwrap();
        let sid = s1.id.to_string();
        assert!(!view.is_revoked(&a, &sid).await.unwrap());
        store.revoke(&a, &s1.id).await.unwrap();
        assert!(
            !view.is_revoked(&a, &sid).await.unwrap(),
            "cached until the next refresh"
        );
        clock.advance(Duration::from_secs(1));
        assert!(view.is_revoked(&a, &sid).await.unwrap());
        assert!(
            !view.is_revoked(&b, &sid).await.unwrap(),
            "another tenant's sid"
        );
        assert!(view.is_revoked(&a, "not-a-session").await.unwrap());

        // Revoked long before the view started but within the lookback: seen at once.
        let (s2, _) = store
            .create(&a, NewSession::new(UserId::generate(), "web", ttl))
            .await
            .unwrap();
        store.revoke(&a, &s2.id).await.unwrap();
        clock.advance(Duration::from_secs(60));
        let fresh = PolledRevocations::new(store.clone(), clock.shared(), Duration::from_secs(900));
        assert!(fresh.is_revoked(&a, &s2.id.to_string()).await.unwrap());

        // Entries older than the lookback are forgotten.
        clock.advance(Duration::from_secs(901));
        assert_eq!(fresh.poll().await.unwrap(), 0);
    }
}

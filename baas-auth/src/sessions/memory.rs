//! [`MemorySessionStore`]: sessions in process memory.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use baas_core::{SharedClock, TenantId};
use parking_lot::Mutex;

use super::model::{NewSession, RefreshOutcome, RefreshPolicy, Revocation, Session};
use super::store::SessionStore;
use crate::error::AuthError;
use crate::ids::{SessionId, UserId};
use crate::secret::RefreshToken;

/// A [`SessionStore`] in memory, for tests and development. One mutex makes every
/// operation atomic; sessions are lost when the process exits.
#[derive(Debug)]
pub struct MemorySessionStore {
    clock: SharedClock,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    sessions: HashMap<SessionId, Session>,
    /// Token digest → its row.
    tokens: HashMap<[u8; 32], TokenRow>,
}

#[derive(Debug, Clone, Copy)]
struct TokenRow {
    session: SessionId,
    /// How many times it has been rotated (0, 1, or 2 after a grace rotation).
    rotations: u8,
    rotated_at: Option<SystemTime>,
}

impl MemorySessionStore {
    /// An empty store reading time from `clock`.
    pub fn new(clock: SharedClock) -> Self {
        Self {
            clock,
            inner: Mutex::default(),
        }
    }
}

impl Inner {
    fn issue(&mut self, session: SessionId) -> RefreshToken {
        let token = RefreshToken::generate();
        self.tokens.insert(
            *token.digest().as_bytes(),
            TokenRow {
                session,
                rotations: 0,
                rotated_at: None,
            },
        );
        token
    }

    fn revoke(&mut self, id: &SessionId, now: SystemTime) -> bool {
        match self.sessions.get_mut(id) {
            Some(s) if s.revoked_at.is_none() => {
                s.revoked_at = Some(now);
                true
            }
            _ => false,
        }
    }
}

#[async_trait]
impl SessionStore for MemorySessionStore {
    async fn create(
        &self,
        tenant: &TenantId,
        session: NewSession,
    ) -> Result<(Session, RefreshToken), AuthError> {
        let now = self.clock.now();
        let created = Session {
            id: SessionId::generate(),
            tenant: tenant.clone(),
            user_id: session.user_id,
            client_id: session.client_id,
            created_at: now,
            expires_at: now + session.ttl,
            last_rotated_at: None,
            revoked_at: None,
        };
        let mut inner = self.inner.lock();
        inner.sessions.insert(created.id, created.clone());
        let token = inner.issue(created.id);
        Ok((created, token))
    }

    async fn rotate(
        &self,
        presented: &RefreshToken,
        policy: &RefreshPolicy,
    ) -> Result<RefreshOutcome, AuthError> {
        let now = self.clock.now();
        let digest = *presented.digest().as_bytes();
        let mut inner = self.inner.lock();
        let row = *inner
            .tokens
            .get(&digest)
            .ok_or(AuthError::InvalidRefreshToken)?;
        let live = inner
            .sessions
            .get(&row.session)
            .is_some_and(|s| s.is_active_at(now));
        if !live {
            return Err(AuthError::InvalidRefreshToken);
        }
        let may_rotate = match row.rotated_at {
            None => true,
            Some(at) => row.rotations == 1 && now < at + policy.grace,
        };
        if !may_rotate {
            inner.revoke(&row.session, now);
            let session = inner.sessions[&row.session].clone();
            return Ok(RefreshOutcome::ReuseDetected { session });
        }
        let entry = inner.tokens.get_mut(&digest).expect("present");
        entry.rotations += 1;
        entry.rotated_at.get_or_insert(now);
        let token = inner.issue(row.session);
        let session = inner.sessions.get_mut(&row.session).expect("present");
        session.expires_at = now + policy.ttl;
        session.last_rotated_at = Some(now);
        Ok(RefreshOutcome::Rotated {
            session: session.clone(),
            token,
        })
    }

    async fn get(&self, tenant: &TenantId, id: &SessionId) -> Result<Option<Session>, AuthError> {
        Ok(self
            .inner
            .lock()
            .sessions
            .get(id)
            .filter(|s| &s.tenant == tenant)
            .cloned())
    }

    async fn revoke(&self, tenant: &TenantId, id: &SessionId) -> Result<bool, AuthError> {
        let now = self.clock.now();
        let mut inner = self.inner.lock();
        if inner.sessions.get(id).is_none_or(|s| &s.tenant != tenant) {
            return Ok(false);
        }
        Ok(inner.revoke(id, now))
    }

    async fn revoke_family(&self, presented: &RefreshToken) -> Result<Option<Session>, AuthError> {
        let now = self.clock.now();
        let mut inner = self.inner.lock();
        let Some(row) = inner.tokens.get(presented.digest().as_bytes()).copied() else {
            return Ok(None);
        };
        inner.revoke(&row.session, now);
        Ok(inner.sessions.get(&row.session).cloned())
    }

    async fn revoke_all_for_user(
        &self,
        tenant: &TenantId,
        user: &UserId,
        except: Option<&SessionId>,
    ) -> Result<u64, AuthError> {
        let now = self.clock.now();
        let mut inner = self.inner.lock();
        let mut count = 0;
        for s in inner.sessions.values_mut() {
            if &s.tenant == tenant
                && &s.user_id == user
                && Some(&s.id) != except
                && s.revoked_at.is_none()
            {
                s.revoked_at = Some(now);
                count += 1;
            }
        }
        Ok(count)
    }

    async fn is_revoked(&self, tenant: &TenantId, id: &SessionId) -> Result<bool, AuthError> {
        Ok(self
            .inner
            .lock()
            .sessions
            .get(id)
            .filter(|s| &s.tenant == tenant)
            .is_none_or(|s| s.revoked_at.is_some()))
    }

    async fn revoked_since(
        &self,
        since: SystemTime,
        limit: usize,
    ) -> Result<Vec<Revocation>, AuthError> {
        let inner = self.inner.lock();
        let mut out: Vec<Revocation> = inner
            .sessions
            .values()
            .filter_map(|s| {
                let at = s.revoked_at.filter(|at| *at >= since)?;
                Some(Revocation {
                    tenant: s.tenant.clone(),
                    session_id: s.id,
                    user_id: s.user_id,
                    revoked_at: at,
                })
            })
            .collect();
        out.sort_by_key(|r| (r.revoked_at, r.session_id));
        out.truncate(limit);
        Ok(out)
    }

    async fn sweep(&self, retention: Duration) -> Result<u64, AuthError> {
        let now = self.clock.now();
        let mut inner = self.inner.lock();
        let before = inner.sessions.len();
        inner.sessions.retain(|_, s| {
            let end = s.revoked_at.map_or(s.expires_at, |r| r.min(s.expires_at));
            end + retention > now
        });
        let Inner { sessions, tokens } = &mut *inner;
        tokens.retain(|_, row| sessions.contains_key(&row.session));
        Ok((before - sessions.len()) as u64)
    }
}

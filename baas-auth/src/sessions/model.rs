//! [`Session`], [`NewSession`], [`RefreshPolicy`], [`RefreshOutcome`], [`Revocation`].

use std::time::{Duration, SystemTime};

use baas_core::TenantId;

use crate::ids::{SessionId, UserId};
use crate::secret::RefreshToken;

/// A login session: one refresh-token family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The id, the `sid` claim of its access tokens.
    pub id: SessionId,
    /// The tenant.
    pub tenant: TenantId,
    /// The user logged in.
    pub user_id: UserId,
    /// The OAuth client it was created for (`client_id` of its tokens).
    pub client_id: String,
    /// When it was created.
    pub created_at: SystemTime,
    /// When it expires unless refreshed (every rotation moves it to now + ttl).
    pub expires_at: SystemTime,
    /// When a refresh token of the family last rotated.
    pub last_rotated_at: Option<SystemTime>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<SystemTime>,
}

impl Session {
    /// Whether the session can still be refreshed at `now`: not revoked, not expired.
    pub fn is_active_at(&self, now: SystemTime) -> bool {
        self.revoked_at.is_none() && now < self.expires_at
    }
}

/// What [`SessionStore::create`](super::SessionStore::create) needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// The user logging in.
    pub user_id: UserId,
    /// The OAuth client.
    pub client_id: String,
    /// How long the session (and its first refresh token) lives unless refreshed.
    pub ttl: Duration,
}

impl NewSession {
    /// A session for `user_id` through `client_id`, living `ttl` unless refreshed.
    pub fn new(user_id: UserId, client_id: impl Into<String>, ttl: Duration) -> Self {
        Self {
            user_id,
            client_id: client_id.into(),
            ttl,
        }
    }
}

/// How [`SessionStore::rotate`](super::SessionStore::rotate) treats a refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshPolicy {
    /// A rotation moves the session's expiry to now + `ttl` (sliding expiry).
    pub ttl: Duration,
    /// How long after its rotation a token still rotates once more (see
    /// [`SessionStore`](super::SessionStore)) instead of counting as reuse.
    pub grace: Duration,
}

impl Default for RefreshPolicy {
    /// 30 days (API.md's `BAAS_REFRESH_TOKEN_TTL`) and a 10 s grace window.
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(2_592_000),
            grace: Duration::from_secs(10),
        }
    }
}

/// The result of presenting a refresh token that belongs to a live session.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum RefreshOutcome {
    /// The token was rotated: `token` is its successor (shown to the client once).
    Rotated {
        /// The session, expiry moved forward.
        session: Session,
        /// The new refresh token.
        token: RefreshToken,
    },
    /// The token had already been rotated and its grace was spent: the whole family
    /// (the session) is now revoked. Answer `invalid_grant` and audit it.
    ReuseDetected {
        /// The session, now revoked.
        session: Session,
    },
}

/// A revoked session, as [`SessionStore::revoked_since`](super::SessionStore::revoked_since)
/// reports it to processes polling for revocations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revocation {
    /// The tenant.
    pub tenant: TenantId,
    /// The revoked session.
    pub session_id: SessionId,
    /// Its user.
    pub user_id: UserId,
    /// When it was revoked.
    pub revoked_at: SystemTime,
}

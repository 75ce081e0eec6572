//! The [`SessionStore`] trait.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use baas_core::TenantId;

use super::model::{NewSession, RefreshOutcome, RefreshPolicy, Revocation, Session};
use crate::error::AuthError;
use crate::ids::{SessionId, UserId};
use crate::secret::RefreshToken;

/// Sessions and their refresh-token families. Backends read time from the clock they
/// were built with.
///
/// Tenancy: every method that names a session or user takes the tenant (DESIGN.md
/// rule 1). The exceptions are the two that start from a presented refresh token
/// ([`rotate`](SessionStore::rotate), [`revoke_family`](SessionStore::revoke_family)):
/// the token (256 random bits) *is* the credential, the refresh grant carries no
/// tenant, and the result names the session's tenant for the caller to use. And
/// [`revoked_since`](SessionStore::revoked_since) and [`sweep`](SessionStore::sweep)
/// are installation-wide housekeeping.
///
/// Guarantees every backend gives:
/// * Refresh tokens are 256-bit random strings stored only as SHA-256 digests.
/// * [`rotate`](SessionStore::rotate) is atomic: of any number of concurrent rotations
///   of one token, one rotates it normally, at most one more succeeds through the grace
///   window, and the rest are reuse.
/// * **Grace window** (the choice): a token rotated less than `policy.grace` ago may
///   rotate *once more*, to a *fresh* successor (not the same one: only digests are
///   stored, so the first successor cannot be handed out again). Both successors then
///   live on as branches of the family, so a client that sent two refreshes at once
///   keeps working with whichever answer it kept. A third presentation, or any after
///   the window, is reuse and revokes the family.
/// * A revoked session is revoked for good; its tokens stop rotating at once and
///   [`is_revoked`](SessionStore::is_revoked) says so immediately in this store (other
///   processes see it by polling [`revoked_since`](SessionStore::revoked_since)).
/// * [`sweep`](SessionStore::sweep) keeps revoked sessions for `retention` after their
///   revocation: choose it longer than the access-token lifetime, so a revoked
///   session's tokens never become valid again by being forgotten.
#[async_trait]
pub trait SessionStore: Send + Sync + std::fmt::Debug + 'static {
    /// Start a session and return it with its first refresh token.
    async fn create(
        &self,
        tenant: &TenantId,
        session: NewSession,
    ) -> Result<(Session, RefreshToken), AuthError>;

    /// Rotate a presented refresh token. An unknown token, or one of an expired or
    /// revoked session, is [`AuthError::InvalidRefreshToken`] and changes nothing;
    /// reuse revokes the family and answers [`RefreshOutcome::ReuseDetected`].
    async fn rotate(
        &self,
        presented: &RefreshToken,
        policy: &RefreshPolicy,
    ) -> Result<RefreshOutcome, AuthError>;

    /// The session, if it exists in the tenant (revoked and expired ones included).
    async fn get(&self, tenant: &TenantId, id: &SessionId) -> Result<Option<Session>, AuthError>;

    /// Revoke a session. Returns whether it was live before (`false`: unknown in the
    /// tenant, or already revoked).
    async fn revoke(&self, tenant: &TenantId, id: &SessionId) -> Result<bool, AuthError>;

    /// Revoke the family of a presented refresh token (rotated or not), e.g. for
    /// RFC 7009. Returns the session as revoked, or `None` if the token is unknown.
    async fn revoke_family(&self, presented: &RefreshToken) -> Result<Option<Session>, AuthError>;

    /// Revoke every not yet revoked session of a user, except `except` if given (the caller's own,
    /// on a password change). Returns how many were revoked.
    async fn revoke_all_for_user(
        &self,
        tenant: &TenantId,
        user: &UserId,
        except: Option<&SessionId>,
    ) -> Result<u64, AuthError>;

    /// Whether access tokens of session `id` must be refused: `true` if it was revoked
    /// *or is not known* (swept or never made), failing closed. Expiry alone does not
    /// count: an access token's own `exp` covers it.
    async fn is_revoked(&self, tenant: &TenantId, id: &SessionId) -> Result<bool, AuthError>;

    /// Sessions revoked at or after `since`, oldest first, at most `limit`. Other
    /// processes poll this (with some overlap) to refuse revoked sessions within 1 s.
    async fn revoked_since(
        &self,
        since: SystemTime,
        limit: usize,
    ) -> Result<Vec<Revocation>, AuthError>;

    /// Delete sessions (and their tokens) that expired, or were revoked, more than
    /// `retention` ago. Returns how many sessions were deleted.
    async fn sweep(&self, retention: Duration) -> Result<u64, AuthError>;
}

/// A session store chosen at run time.
pub type DynSessionStore = dyn SessionStore;

fn _object_safe(_: Box<dyn SessionStore>) {}

//! [`SessionRevocations`]: the verifier's [`RevocationView`] read from the session store.

use std::sync::Arc;

use async_trait::async_trait;
use baas_core::TenantId;

use crate::error::AuthError;
use crate::ids::SessionId;
use crate::revocation::RevocationView;
use crate::sessions::DynSessionStore;

/// Asks the [`SessionStore`](crate::sessions::SessionStore) on every verification, so a
/// revocation on one process holds on every process sharing the store at once. A `sid`
/// that is not a session id, or a session the store does not know, counts as revoked.
#[derive(Debug, Clone)]
pub struct SessionRevocations {
    sessions: Arc<DynSessionStore>,
}

impl SessionRevocations {
    /// A view over `sessions`.
    pub fn new(sessions: Arc<DynSessionStore>) -> Self {
        SessionRevocations { sessions }
    }
}

#[async_trait]
impl RevocationView for SessionRevocations {
    async fn is_revoked(&self, tenant: &TenantId, sid: &str) -> Result<bool, AuthError> {
        let Ok(id) = SessionId::parse(sid) else {
            return Ok(true);
        };
        self.sessions.is_revoked(tenant, &id).await
    }
}

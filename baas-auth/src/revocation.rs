//! [`RevocationView`]: whether a session has been revoked, consulted on every verify.

use std::collections::HashSet;

use async_trait::async_trait;
use baas_core::TenantId;
use parking_lot::RwLock;

use crate::error::AuthError;

/// Answers whether a session is revoked. The token verifier asks on every
/// verification, cached tokens included, so a logout takes effect at once.
///
/// The session store's SQL backend will implement it from the database with a short
/// cache (at most 1 s) so revocations are seen across processes. An implementation that
/// cannot answer returns an error, and the verifier refuses the token (fail closed).
#[async_trait]
pub trait RevocationView: Send + Sync + std::fmt::Debug + 'static {
    /// Whether session `sid` of `tenant` is revoked.
    async fn is_revoked(&self, tenant: &TenantId, sid: &str) -> Result<bool, AuthError>;
}

/// A revocation view chosen at run time.
pub type DynRevocationView = dyn RevocationView;

fn _object_safe(_: Box<dyn RevocationView>) {}

/// Revoked sessions in memory, for tests and single-process development.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use baas_auth::{MemoryRevocations, RevocationView};
/// use baas_core::TenantId;
///
/// let acme = TenantId::new("acme").unwrap();
/// let revocations = MemoryRevocations::new();
/// revocations.revoke(&acme, "s1");
/// assert!(revocations.is_revoked(&acme, "s1").await.unwrap());
/// assert!(!revocations.is_revoked(&TenantId::new("other").unwrap(), "s1").await.unwrap());
/// # });
/// ```
#[derive(Debug, Default)]
pub struct MemoryRevocations {
    revoked: RwLock<HashSet<(TenantId, String)>>,
}

impl MemoryRevocations {
    /// Nothing revoked.
    pub fn new() -> Self {
        Self::default()
    }

    /// Revoke session `sid` of `tenant`.
    pub fn revoke(&self, tenant: &TenantId, sid: &str) {
        self.revoked
            .write()
            .insert((tenant.clone(), sid.to_owned()));
    }
}

#[async_trait]
impl RevocationView for MemoryRevocations {
    async fn is_revoked(&self, tenant: &TenantId, sid: &str) -> Result<bool, AuthError> {
        let revoked = self.revoked.read();
        if revoked.is_empty() {
            return Ok(false);
        }
        Ok(revoked.contains(&(tenant.clone(), sid.to_owned())))
    }
}

//! Which bucket a request counts against.

use std::hash::Hash;

use crate::principal::Principal;
use crate::require_role::HasPrincipal;
use crate::tenant::TenantId;

/// Picks the rate-limit key of a request; `None` lets the request through unlimited
/// (e.g. an anonymous request before a per-principal limit: the per-IP limit in front
/// of authentication covers it).
///
/// Implemented by [`ByPrincipal`], [`ByTenant`], `ByClientIp` (feature `http`) and by any
/// closure `Fn(&Req) -> Option<K>`.
pub trait KeyExtractor<Req> {
    /// The key type.
    type Key: Hash + Eq + Clone + Send + Sync + 'static;

    /// The key of `req`, or `None` to leave it unlimited.
    fn extract(&self, req: &Req) -> Option<Self::Key>;
}

impl<F, Req, K> KeyExtractor<Req> for F
where
    F: Fn(&Req) -> Option<K>,
    K: Hash + Eq + Clone + Send + Sync + 'static,
{
    type Key = K;

    fn extract(&self, req: &Req) -> Option<K> {
        self(req)
    }
}

/// One bucket per authenticated principal (tenant and subject); anonymous requests
/// pass.
#[derive(Debug, Clone, Copy, Default)]
pub struct ByPrincipal;

impl<Req: HasPrincipal> KeyExtractor<Req> for ByPrincipal {
    type Key = (TenantId, String);

    fn extract(&self, req: &Req) -> Option<Self::Key> {
        req.principal()
            .map(|p: &Principal| (p.tenant.clone(), p.subject.clone()))
    }
}

/// One bucket per tenant of the authenticated principal; anonymous requests pass.
#[derive(Debug, Clone, Copy, Default)]
pub struct ByTenant;

impl<Req: HasPrincipal> KeyExtractor<Req> for ByTenant {
    type Key = TenantId;

    fn extract(&self, req: &Req) -> Option<Self::Key> {
        req.principal().map(|p| p.tenant.clone())
    }
}

//! Reading the principal out of a request.

use crate::context::RequestContext;
use crate::principal::Principal;

/// A request that may carry the authenticated [`Principal`].
///
/// Implemented for `http::Request<B>`: the principal is read from the extensions, either
/// as a `Principal` or inside a [`RequestContext`]. Implement it for job or delivery
/// types so [`RequireRoleLayer`](super::RequireRoleLayer) and the per-principal rate
/// limit can wrap them.
pub trait HasPrincipal {
    /// The principal, if the request is authenticated.
    fn principal(&self) -> Option<&Principal>;
}

impl<B> HasPrincipal for http::Request<B> {
    fn principal(&self) -> Option<&Principal> {
        let extensions = self.extensions();
        extensions.get::<Principal>().or_else(|| {
            extensions
                .get::<RequestContext>()
                .and_then(|cx| cx.principal.as_ref())
        })
    }
}

impl HasPrincipal for Principal {
    fn principal(&self) -> Option<&Principal> {
        Some(self)
    }
}

impl<T: HasPrincipal> HasPrincipal for &T {
    fn principal(&self) -> Option<&Principal> {
        (**self).principal()
    }
}

//! [`Caller`]: the authenticated principal as an axum extractor.

use axum::extract::FromRequestParts;
use http::request::Parts;

use crate::context::RequestContext;
use crate::error::{Error, ErrorKind};
use crate::principal::{Principal, ROLE_ADMIN};

/// The authenticated [`Principal`] that the authentication layer put in the request
/// extensions (directly, or inside a [`RequestContext`]). Without one the request is
/// refused with 401 problem+json (and `WWW-Authenticate: Bearer`).
///
/// Every crate's routes take the tenant from here, never from the URL.
///
/// ```
/// use baas_core::http::Caller;
///
/// async fn me(caller: Caller) -> String {
///     caller.tenant().to_string()
/// }
/// let _app: axum::Router = axum::Router::new().route("/me", axum::routing::get(me));
/// ```
#[derive(Debug, Clone)]
pub struct Caller(pub Principal);

impl Caller {
    /// The caller's tenant.
    pub fn tenant(&self) -> &crate::TenantId {
        &self.0.tenant
    }

    /// `Ok` for an admin of its own tenant, else 403.
    pub fn require_admin(&self) -> Result<(), Error> {
        if self.0.has_role(ROLE_ADMIN) {
            Ok(())
        } else {
            Err(Error::new(
                ErrorKind::Forbidden,
                "the admin role is required",
            ))
        }
    }

    /// `Ok` for an operator (an admin of the operator tenant), else 403.
    pub fn require_operator(&self) -> Result<(), Error> {
        if self.0.is_operator() {
            Ok(())
        } else {
            Err(Error::new(ErrorKind::Forbidden, "an operator is required"))
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let principal = parts.extensions.get::<Principal>().or_else(|| {
            parts
                .extensions
                .get::<RequestContext>()
                .and_then(|cx| cx.principal.as_ref())
        });
        match principal {
            Some(p) => Ok(Caller(p.clone())),
            None => Err(Error::new(
                ErrorKind::Unauthenticated,
                "authentication is required",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TenantId;
    use crate::principal::PrincipalKind;
    use crate::principal::ROLE_MEMBER;

    async fn extract(req: http::Request<()>) -> Result<Caller, Error> {
        let (mut parts, ()) = req.into_parts();
        Caller::from_request_parts(&mut parts, &()).await
    }

    #[tokio::test]
    async fn no_principal_is_unauthenticated() {
        let err = extract(http::Request::new(())).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unauthenticated);
    }

    #[tokio::test]
    async fn roles_decide_admin_and_operator() {
        let tenant = TenantId::new("acme").unwrap();
        let member =
            Principal::new("u1", tenant.clone(), PrincipalKind::User).with_roles([ROLE_MEMBER]);
        let mut req = http::Request::new(());
        req.extensions_mut().insert(member);
        let caller = extract(req).await.unwrap();
        assert_eq!(caller.tenant(), &tenant);
        assert_eq!(
            caller.require_admin().unwrap_err().kind(),
            ErrorKind::Forbidden
        );

        let admin =
            Principal::new("u2", tenant.clone(), PrincipalKind::User).with_roles([ROLE_ADMIN]);
        let mut cx = RequestContext::new(crate::RequestId::generate());
        cx.principal = Some(admin);
        let mut req = http::Request::new(());
        req.extensions_mut().insert(cx);
        let caller = extract(req).await.unwrap();
        assert!(caller.require_admin().is_ok());
        assert_eq!(
            caller.require_operator().unwrap_err().kind(),
            ErrorKind::Forbidden
        );
    }
}

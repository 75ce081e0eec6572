//! [`AuthLayer`]: authenticate `Authorization: Bearer` credentials and put the caller's
//! [`Principal`](baas_core::Principal) into the request extensions.
//!
//! * No `Authorization` header: the request passes through anonymous. Routes that need a
//!   caller refuse it themselves (baas-core's `RequireRoleLayer`, or the handler).
//! * A bearer credential the [`Authenticator`] accepts: the principal is inserted and the
//!   request goes on.
//! * A credential it refuses (malformed, expired, revoked, unknown key, another scheme
//!   than `Bearer`): 401 problem+json with
//!   `WWW-Authenticate: Bearer error="invalid_token"` (RFC 6750 §3.1), without calling
//!   the inner service.
//! * An authenticator that cannot answer (its store is down): that error (503), never a
//!   pass-through.
//!
//! The refusal travels through the inner service's types as
//! [`Refuse`](baas_core::refusal::Refuse) says, so the layer fits both axum routers (it
//! is what `StandardStack::apply_with_auth` expects) and plain tower services.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::sync::Arc;
//! use async_trait::async_trait;
//! use baas_auth::layer::{AuthLayer, Authenticator};
//! use baas_auth::AuthError;
//! use baas_core::{Error, Principal, PrincipalKind, TenantId};
//! use tower::{Layer as _, ServiceExt as _};
//!
//! #[derive(Debug)]
//! struct OneKey;
//! #[async_trait]
//! impl Authenticator for OneKey {
//!     async fn authenticate(&self, credential: &str) -> Result<Principal, AuthError> {
//!         match credential {
//!             "let-me-in" => Ok(Principal::new("svc", TenantId::new("acme").unwrap(), PrincipalKind::ApiKey)),
//!             _ => Err(AuthError::MalformedToken),
//!         }
//!     }
//! }
//!
//! let handler = tower::service_fn(|req: http::Request<()>| async move {
//!     Ok::<_, Error>(req.extensions().get::<Principal>().map(|p| p.subject.clone()))
//! });
//! let svc = AuthLayer::new(Arc::new(OneKey)).layer(handler);
//!
//! let anonymous = http::Request::new(());
//! assert_eq!(svc.clone().oneshot(anonymous).await?, None);
//!
//! let good = http::Request::builder().header("authorization", "Bearer let-me-in").body(())?;
//! assert_eq!(svc.clone().oneshot(good).await?.as_deref(), Some("svc"));
//!
//! let bad = http::Request::builder().header("authorization", "Bearer nope").body(())?;
//! let err = svc.oneshot(bad).await.unwrap_err();
//! assert_eq!(err.kind(), baas_core::ErrorKind::Unauthenticated);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

mod authenticator;
mod future;
#[allow(clippy::module_inception)]
mod layer;
mod service;

pub use authenticator::{Authenticator, DynAuthenticator, OperatorTenant, TokenAuthenticator};
pub use future::ResponseFuture;
pub use layer::AuthLayer;
pub use service::{Auth, bearer_credential};

#[cfg(test)]
mod tests;

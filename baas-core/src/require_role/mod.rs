//! Demand a role (or operator rights) before a request reaches a service.
//!
//! [`RequireRoleLayer`] reads the caller's [`Principal`](crate::Principal) through
//! [`HasPrincipal`] (implemented for `http::Request<B>`, which carries it in its
//! extensions, put there by the authentication layer). No principal → `Unauthenticated`;
//! a principal without the role → `Forbidden`. `admin` includes `member`
//! ([`Principal::has_role`](crate::Principal::has_role)).
//!
//! The refusal travels through the inner service's types as [`Refuse`](crate::refusal::Refuse)
//! says: an `Err` for services whose error is [`Error`](crate::Error) or
//! [`BoxError`](crate::BoxError) (queue handlers, deliveries), and — with feature
//! `http` — a 401/403 problem+json response for axum services, so the layer goes straight
//! onto a router:
//!
//! ```
//! # #[cfg(feature = "http")] {
//! use axum::{Router, routing::get};
//! use baas_core::require_role::RequireRoleLayer;
//!
//! let admin: Router = Router::new()
//!     .route("/v1/users", get(|| async { "users" }))
//!     .route_layer(RequireRoleLayer::new("admin"));
//! let operator: Router = Router::new()
//!     .route("/v1/admin/signing-keys/rotate", get(|| async { "rotated" }))
//!     .route_layer(RequireRoleLayer::operator());
//! # }
//! ```
//!
//! Around any service whose request carries a principal:
//!
//! ```
//! use baas_core::require_role::{HasPrincipal, RequireRoleLayer};
//! use baas_core::{Error, ErrorKind, Principal, PrincipalKind, TenantId};
//! use tower::{Layer as _, ServiceExt as _};
//!
//! struct Job { principal: Option<Principal> }
//! impl HasPrincipal for Job {
//!     fn principal(&self) -> Option<&Principal> { self.principal.as_ref() }
//! }
//!
//! # tokio_test_block_on(async {
//! let handler = tower::service_fn(|_job: Job| async { Ok::<_, Error>("done") });
//! let svc = RequireRoleLayer::new("admin").layer(handler);
//! let member = Principal::new("u1", TenantId::new("acme")?, PrincipalKind::User).with_roles(["member"]);
//! let err = svc.oneshot(Job { principal: Some(member) }).await.unwrap_err();
//! assert_eq!(err.kind(), ErrorKind::Forbidden);
//! # Ok::<(), Error>(()) }).unwrap();
//! # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
//! # }
//! ```

mod layer;
mod principal;
mod service;

pub use layer::RequireRoleLayer;
pub use principal::HasPrincipal;
pub use service::{RequireRole, Requirement, ResponseFuture};

#[cfg(all(test, feature = "http"))]
mod tests;

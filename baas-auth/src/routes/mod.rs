//! The identity section of API.md as axum routes (feature `http`).
//!
//! [`router`] serves every route below; mount it into your application's router and put
//! the whole thing behind baas-core's `StandardStack::apply_with_auth` with
//! [`IdentityService::layer`](crate::service::IdentityService::layer), so requests carry
//! the caller's [`Principal`](baas_core::Principal). [`IdentityApi`] is the OpenAPI
//! document of these routes, to merge into yours.
//!
//! | route | who |
//! |---|---|
//! | `POST /v1/auth/signup` | public |
//! | `POST /v1/auth/token` | public (RFC 6749 errors, `Cache-Control: no-store`) |
//! | `POST /v1/auth/revoke` | public (RFC 7009) |
//! | `GET /.well-known/jwks.json` | public |
//! | `POST /v1/auth/logout`, `GET /v1/auth/me`, `POST /v1/auth/password` | any authenticated caller |
//! | `GET /v1/users`, `PUT /v1/users/{id}/roles`, `POST /v1/users/{id}/disable` | tenant admin |
//! | `POST /v1/api-keys`, `DELETE /v1/api-keys/{id}` | tenant admin |
//! | `POST /v1/admin/signing-keys/rotate` | operator |
//!
//! A route that needs a caller answers 401 problem+json (`WWW-Authenticate: Bearer`)
//! without one and 403 without the role. Exclude `/v1/auth/token` and `/v1/auth/revoke`
//! from the idempotency layer (`StandardStack::idempotency_exclude`), as API.md says.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::sync::Arc;
//! use baas_auth::routes::{router, IdentityState};
//! use baas_auth::service::{IdentityConfig, IdentityService, Stores};
//! use baas_auth::TokenConfig;
//! use baas_core::stack::StandardStack;
//! use baas_core::{MasterKey, SystemClock};
//!
//! let clock = Arc::new(SystemClock);
//! let identity = Arc::new(IdentityService::new(
//!     Stores::memory(clock.clone()),
//!     MasterKey::generate(),
//!     IdentityConfig::new(TokenConfig::new("baas", "baas")),
//!     clock,
//! ));
//! identity.start().await?;
//! let app: axum::Router = router(IdentityState::new(identity.clone()));
//! let app = StandardStack::new()
//!     .idempotency_exclude("/v1/auth/token")
//!     .idempotency_exclude("/v1/auth/revoke")
//!     .apply_with_auth(app, identity.layer());
//! # let _ = app;
//! # Ok::<(), baas_auth::AuthError>(())
//! # }).unwrap();
//! ```

mod dto;
mod extract;
mod handlers;
mod oauth;
mod openapi;

use std::sync::Arc;

use axum::Router;
use axum::routing::{delete, get, post, put};
use baas_core::rate_limit::TrustedProxies;

use crate::service::IdentityService;

pub use dto::{
    ApiKeyCreated, CreateApiKeyRequest, KidResponse, MeResponse, OAuthErrorBody,
    PasswordChangeRequest, RevokeRequest, RolesRequest, SignupRequest, SignupResponse,
    TokenGrantRequest, TokenResponseBody, UserItem, UserView, UsersPage,
};
pub use extract::Caller;
pub use openapi::IdentityApi;

/// What the routes share: the service and how to find the client's address.
#[derive(Debug, Clone)]
pub struct IdentityState {
    pub(crate) service: Arc<IdentityService>,
    pub(crate) proxies: TrustedProxies,
}

impl IdentityState {
    /// State around `service`, trusting no proxy's `X-Forwarded-For`.
    pub fn new(service: Arc<IdentityService>) -> Self {
        IdentityState {
            service,
            proxies: TrustedProxies::none(),
        }
    }

    /// Believe `X-Forwarded-For` from these proxies when recording the client's address
    /// (the audit log and the login throttle).
    pub fn trusted_proxies(mut self, proxies: TrustedProxies) -> Self {
        self.proxies = proxies;
        self
    }

    /// The service.
    pub fn service(&self) -> &Arc<IdentityService> {
        &self.service
    }
}

/// Every identity route of API.md, with its state applied. See the
/// [module docs](self) for which are public.
pub fn router(state: IdentityState) -> Router {
    Router::new()
        .route("/v1/auth/signup", post(handlers::signup))
        .route("/v1/auth/token", post(oauth::token))
        .route("/v1/auth/revoke", post(oauth::revoke))
        .route("/v1/auth/logout", post(handlers::logout))
        .route("/v1/auth/me", get(handlers::me))
        .route("/v1/auth/password", post(handlers::change_password))
        .route("/v1/users", get(handlers::list_users))
        .route("/v1/users/{id}/roles", put(handlers::set_roles))
        .route("/v1/users/{id}/disable", post(handlers::disable_user))
        .route("/.well-known/jwks.json", get(handlers::jwks))
        .route(
            "/v1/admin/signing-keys/rotate",
            post(handlers::rotate_signing_key),
        )
        .route("/v1/api-keys", post(handlers::create_api_key))
        .route("/v1/api-keys/{id}", delete(handlers::delete_api_key))
        .with_state(state)
}

#[cfg(test)]
mod tests;

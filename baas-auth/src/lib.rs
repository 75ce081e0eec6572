//! # baas-auth
//!
//! Identity for a baas installation. This first slice holds everything that needs no
//! database:
//!
//! * [`password`]: argon2id hashing (OWASP parameters, PHC strings, rehash on parameter
//!   change) on a bounded blocking pool, and the password policy (8–128 characters, the
//!   most common passwords refused);
//! * [`Email`]: normalised (trim, NFKC, lowercase) and validated addresses;
//! * [`keys`]: signing keys with states next → current → retiring → retired, sealed at
//!   rest with the master key, rotated by a [`KeyManager`](keys::KeyManager) that also
//!   publishes the JWKS;
//! * [`token`]: RFC 9068 access tokens (EdDSA by default, ES256 as an option), a strict
//!   [`TokenVerifier`] with a bounded cache, and the [`RevocationView`] it consults.
//!
//! * [`users`], [`sessions`] (refresh-token families with rotation, reuse detection and a
//!   grace window) and [`api_keys`]: the store traits with their memory backends, and
//!   SQL backends (SQLite, Postgres) behind the `sql` feature.
//! * [`login_failures`]: the account-wide failed-login windows behind the
//!   [`LoginThrottle`](service::LoginThrottle), shared by every process through SQL.
//!
//! ## Issue a token and verify it
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::sync::Arc;
//! use baas_auth::keys::{KeyManager, KeyRing, MemoryKeyStore};
//! use baas_auth::{MemoryRevocations, TokenConfig, TokenIssuer, TokenRequest, TokenVerifier};
//! use baas_core::{MasterKey, SystemClock, TenantId};
//!
//! let clock = Arc::new(SystemClock);
//! let config = TokenConfig::new("https://id.example.com", "https://api.example.com");
//! let store = Arc::new(MemoryKeyStore::new());
//!
//! // Signing side: create the first keys once, then issue.
//! let keys = Arc::new(KeyManager::new(store.clone(), MasterKey::generate(), clock.clone(), config.clone()));
//! keys.ensure().await?;
//! let issuer = TokenIssuer::new(keys.clone(), clock.clone());
//! let token = issuer
//!     .issue(&TokenRequest {
//!         subject: "user-1".into(),
//!         tenant: TenantId::new("acme")?,
//!         roles: vec!["member".into()],
//!         session_id: "session-1".into(),
//!         client_id: "web".into(),
//!     })
//!     .await?;
//!
//! // Verifying side: public keys from the same store, sessions from a revocation view.
//! let revocations = Arc::new(MemoryRevocations::new());
//! let ring = Arc::new(KeyRing::new(store, clock.clone(), config.clone()));
//! let verifier = TokenVerifier::new(ring, revocations.clone(), clock, config);
//! let verified = verifier.verify(token.as_str()).await?;
//! assert_eq!(verified.principal.subject, "user-1");
//! assert!(verified.principal.has_role("member"));
//!
//! // Revoking the session refuses the token, even though it is cached.
//! revocations.revoke(&TenantId::new("acme")?, "session-1");
//! let err = verifier.verify(token.as_str()).await.unwrap_err();
//! assert_eq!(err.to_string(), "session has been revoked");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! ## Features
//!
//! | feature | what it adds |
//! |---|---|
//! | `sqlite` (default) | the `sql` backends with SQLite support in baas-store |
//! | `postgres` | the `sql` backends with Postgres support in baas-store |
//! | `sql` | the [`sql`] module: users, sessions, API keys, signing keys and login-failure windows on baas-store's `Database`, with baas-auth's own `Migrator` |
//! | `testing` | the conformance suites (`testing` module), for backends outside this crate |
//! | `http` | [`routes`]: axum routes for API.md's identity section and their OpenAPI document |
#![cfg_attr(docsrs, feature(doc_cfg))]

pub use baas_core as core;

pub mod api_keys;
mod email;
mod error;
mod ids;
mod installation;
pub mod keys;
pub mod layer;
pub mod login_failures;
mod page;
pub mod password;
mod revocation;
mod roles;
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod routes;
mod secret;
pub mod service;
pub mod sessions;
#[cfg(feature = "sql")]
#[cfg_attr(docsrs, doc(cfg(feature = "sql")))]
pub mod sql;
pub mod token;
pub mod users;

#[cfg(any(test, feature = "testing"))]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;

pub use email::{Email, MAX_EMAIL_LEN, MAX_LOCAL_LEN};
pub use error::AuthError;
pub use ids::{ApiKeyId, SessionId, UserId};
pub use installation::{DynInstallationStore, InstallationStore, MemoryInstallationStore};
pub use page::{DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT, Page, PageRequest};
pub use revocation::{DynRevocationView, MemoryRevocations, RevocationView};
pub use roles::{MAX_ROLE_LEN, MAX_ROLES, normalise_roles};
pub use secret::{API_KEY_PREFIX, ApiKeySecret, RefreshToken, SecretDigest};
pub use token::{
    AccessClaims, IssuedToken, TokenConfig, TokenIssuer, TokenRequest, TokenVerifier, VerifiedToken,
};

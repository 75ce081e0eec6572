//! # baas-auth
//!
//! Identity for a baas installation: users with argon2id passwords, JWT access tokens
//! with key rotation and a JWKS document, sessions with refresh-token rotation and reuse
//! detection, revocation, API keys, roles and a tower authentication layer.
//!
//! **Status:** this crate is a documented shell. Its contents arrive with the identity
//! issue; until then it only re-exports the baas-core types it will build on.
//!
//! ```
//! use baas_auth::core::TenantId;
//!
//! let tenant = TenantId::new("acme").unwrap();
//! assert_eq!(tenant.as_str(), "acme");
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

pub use baas_core as core;

//! Sessions and their refresh-token families: the [`SessionStore`] trait, its types and
//! the memory backend.
//!
//! A session is created at login with its first refresh token; every refresh rotates
//! the token (the old one stops working, a new one is handed out). All tokens of one
//! session form its *family*: presenting a token that was already rotated, outside the
//! grace window, is taken as theft and revokes the whole family (the session).
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::time::Duration;
//! use baas_auth::sessions::{MemorySessionStore, NewSession, RefreshOutcome, RefreshPolicy, SessionStore};
//! use baas_auth::UserId;
//! use baas_core::{ManualClock, TenantId};
//!
//! let clock = ManualClock::new();
//! let sessions = MemorySessionStore::new(clock.shared());
//! let acme = TenantId::new("acme")?;
//! let policy = RefreshPolicy::default();
//! let (session, t0) = sessions
//!     .create(&acme, NewSession::new(UserId::generate(), "web", policy.ttl))
//!     .await?;
//!
//! let RefreshOutcome::Rotated { token: t1, .. } = sessions.rotate(&t0, &policy).await? else {
//!     panic!("a fresh token rotates");
//! };
//! // Past the grace window, presenting t0 again is reuse: the family is revoked.
//! clock.advance(policy.grace + Duration::from_secs(1));
//! assert!(matches!(sessions.rotate(&t0, &policy).await?, RefreshOutcome::ReuseDetected { .. }));
//! assert!(sessions.is_revoked(&acme, &session.id).await?);
//! assert!(sessions.rotate(&t1, &policy).await.is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

mod memory;
mod model;
mod store;

pub use memory::MemorySessionStore;
pub use model::{NewSession, RefreshOutcome, RefreshPolicy, Revocation, Session};
pub use store::{DynSessionStore, SessionStore};

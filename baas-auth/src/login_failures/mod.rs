//! The account-wide half of brute-force protection: the [`LoginFailureStore`] trait, its
//! types and the memory backend (the SQL one is
//! [`SqlLoginFailureStore`](crate::sql::SqlLoginFailureStore)).
//!
//! The store keeps, per tenant and account, one fixed **window** of failed logins: it
//! starts at the first failure, counts every failure until it has lasted the window
//! length, and the next failure after that starts a new one.
//! [`LoginThrottle`](crate::service::LoginThrottle) reads it before a login and refuses
//! the account once the budget (ASVS: 100 an hour) is spent. With the SQL backend every
//! process of an installation shares one window per account, so the budget holds for the
//! installation rather than per process.
//!
//! Accounts are keyed by an [`AccountDigest`]: the SHA-256 of the normalised email. The
//! table then holds no address — nor whatever else people type into the email field by
//! mistake, passwords included — for every address ever tried, existing or not.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::time::Duration;
//! use baas_auth::login_failures::{AccountDigest, LoginFailureStore, MemoryLoginFailureStore};
//! use baas_core::{ManualClock, TenantId};
//!
//! let clock = ManualClock::new();
//! let store = MemoryLoginFailureStore::new(clock.shared());
//! let acme = TenantId::new("acme")?;
//! let account = AccountDigest::of("alice@example.com");
//! let hour = Duration::from_secs(3600);
//!
//! assert_eq!(store.record_failure(&acme, &account, hour).await?.failures, 1);
//! assert_eq!(store.record_failure(&acme, &account, hour).await?.failures, 2);
//! assert_eq!(store.current(&acme, &account, hour).await?.unwrap().failures, 2);
//! // Once the window has passed it is gone, and the next failure starts a new one.
//! clock.advance(hour);
//! assert!(store.current(&acme, &account, hour).await?.is_none());
//! assert_eq!(store.record_failure(&acme, &account, hour).await?.failures, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

pub(crate) mod memory;
mod store;

pub use memory::MemoryLoginFailureStore;
pub use store::{AccountDigest, DynLoginFailureStore, FailureWindow, LoginFailureStore};

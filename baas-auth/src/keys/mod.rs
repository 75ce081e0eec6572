//! Signing keys: the [`KeyStore`] trait and its memory backend, the [`KeyManager`] that
//! creates and rotates keys and publishes the JWKS, and the verifier's [`KeyRing`].
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::sync::Arc;
//! use baas_auth::keys::{KeyManager, KeyState, MemoryKeyStore};
//! use baas_auth::TokenConfig;
//! use baas_core::{ManualClock, MasterKey};
//!
//! let clock = ManualClock::new();
//! let store = Arc::new(MemoryKeyStore::new());
//! let config = TokenConfig::new("https://id.example.com", "api");
//! let keys = KeyManager::new(store, MasterKey::generate(), clock.shared(), config);
//! keys.ensure().await?;
//! assert_eq!(keys.jwks().await?.keys.len(), 2); // current + next
//!
//! let report = keys.rotate().await?;
//! assert_eq!(keys.signer().await?.kid(), report.current);
//! assert_eq!(keys.jwks().await?.keys.len(), 3); // + the retiring key
//! # Ok::<(), baas_auth::AuthError>(())
//! # }).unwrap();
//! ```

mod generate;
mod jwks;
mod manager;
mod memory;
mod model;
mod ring;
mod store;

pub use jwks::{Jwk, Jwks};
pub use manager::{KeyManager, RotationReport, Signer};
pub use memory::MemoryKeyStore;
pub use model::{KeyState, SigningAlgorithm, StoredKey};
pub use ring::{KeyRing, VerifyingKey};
pub use store::{DynKeyStore, KeyStore, Rotation};

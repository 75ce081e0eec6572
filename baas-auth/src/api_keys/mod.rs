//! API keys: the [`ApiKeyStore`] trait, its types and the memory backend.
//!
//! A key looks like `baas_<id>_<secret>`; it is shown once, when created, and stored
//! only as its SHA-256 digest. Presenting it finds the stored key by the id part and
//! compares digests in constant time.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use baas_auth::api_keys::{ApiKeyStore, MemoryApiKeyStore, NewApiKey};
//! use baas_core::{SystemClock, TenantId};
//! use std::sync::Arc;
//!
//! let keys = MemoryApiKeyStore::new(Arc::new(SystemClock));
//! let acme = TenantId::new("acme")?;
//! let (created, secret) = keys.create(&acme, NewApiKey::new("ci", vec!["member".into()])).await?;
//! let found = keys.authenticate(&secret).await?;
//! assert_eq!(found.id, created.id);
//! assert_eq!(found.tenant, acme);
//!
//! keys.delete(&acme, &created.id).await?;
//! assert!(keys.authenticate(&secret).await.is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

pub(crate) mod memory;
mod model;
mod store;

pub use memory::MemoryApiKeyStore;
pub use model::{ApiKey, LAST_USED_GRANULARITY, MAX_NAME_LEN, NewApiKey, validate_name};
pub use store::{ApiKeyStore, DynApiKeyStore};

//! Users: the [`UserStore`] trait, its types and the memory backend.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use baas_auth::users::{MemoryUserStore, NewUser, UserStore};
//! use baas_auth::{Email, PageRequest};
//! use baas_core::{SystemClock, TenantId};
//! use std::sync::Arc;
//!
//! let users = MemoryUserStore::new(Arc::new(SystemClock));
//! let acme = TenantId::new("acme")?;
//! let new = NewUser::new(Email::parse("Ada@Example.com")?, "$argon2id$…", vec!["member".into()])
//!     .first_user_roles(vec!["admin".into()]);
//! let ada = users.create(&acme, new).await?;
//! assert_eq!(ada.roles, vec!["admin".to_owned()]); // the tenant's first user
//!
//! let found = users.find_by_email(&acme, &Email::parse("ada@example.com")?).await?;
//! assert_eq!(found.map(|u| u.id), Some(ada.id));
//! assert_eq!(users.list(&acme, &PageRequest::default()).await?.items.len(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

pub(crate) mod memory;
mod model;
mod store;

pub use memory::MemoryUserStore;
pub use model::{NewUser, User};
pub use store::{DynUserStore, UserStore};

//! # baas-store
//!
//! Data for a baas installation: sea-orm databases (SQLite embedded by default, Postgres
//! in production) with migrations, tenant-scoped JSON documents, blobs over
//! `object_store` with quotas and signed URLs, the SQL idempotency store and a
//! tamper-evident audit log.
//!
//! **Status:** this crate is a documented shell. Its contents arrive with the store
//! issue; until then it only re-exports the baas-core types it will build on.
//!
//! ```
//! use baas_store::core::TenantId;
//!
//! assert!(TenantId::new("../etc").is_err());
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

pub use baas_core as core;

pub mod blob;

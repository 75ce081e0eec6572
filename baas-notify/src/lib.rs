//! # baas-notify
//!
//! Email, webhooks, SMS and push delivered through the baas queue: templates,
//! preferences, Standard Webhooks signing, retries, failover and delivery tracking.
//!
//! **Status:** this crate is a documented shell. Its contents arrive with the
//! notifications issue; until then it only re-exports the baas-core types it will build on.
//!
//! ```
//! use baas_notify::core::ErrorKind;
//!
//! assert!(!ErrorKind::Invalid.is_retryable());
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

pub use baas_core as core;

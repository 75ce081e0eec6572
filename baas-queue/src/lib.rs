//! # baas-queue
//!
//! Durable queues (memory, SQL, RabbitMQ) and a worker runtime whose handlers are tower
//! services, so the same retry, timeout, metrics and tracing layers wrap every job.
//!
//! **Status:** this crate is a documented shell. Its contents arrive with the queue
//! issue; until then it only re-exports the baas-core types it will build on.
//!
//! ```
//! use baas_queue::core::ErrorKind;
//!
//! assert!(ErrorKind::Unavailable.is_retryable());
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

pub use baas_core as core;

#[cfg(feature = "amqp")]
#[cfg_attr(docsrs, doc(cfg(feature = "amqp")))]
pub mod amqp;

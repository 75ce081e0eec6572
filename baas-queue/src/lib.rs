//! # baas-queue
//!
//! Durable queues (memory, SQL, RabbitMQ) and a worker runtime whose handlers are tower
//! services, so the same retry, timeout, metrics and tracing layers wrap every job.
//!
//! | capability | trait | backends (feature) |
//! |---|---|---|
//! | durable messages with leases, retries and dead letters | [`Queue`] | [`MemoryQueue`] (always), `sql::SqlQueue` (`sql`: SQLite, Postgres) |
//!
//! The [`Queue`] docs state the guarantees: at-least-once delivery, leases that belong
//! to deliveries (a stale lease token is refused), delays as lower bounds, an
//! enqueue-side dedupe window, the tenant carried with every message.
//!
//! ```
//! use baas_queue::{MemoryQueue, Queue, QueueExt, Reserve};
//! use baas_queue::core::TenantId;
//! use std::time::Duration;
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let queue = MemoryQueue::new();
//! let acme = TenantId::new("acme")?;
//! let first = queue.enqueue_json("jobs", &acme, &serde_json::json!({"n": 1})).await?;
//!
//! let delivery = queue.reserve_one("jobs", Duration::from_secs(30)).await?.unwrap();
//! assert_eq!(delivery.message.id, first.id);
//! assert_eq!(delivery.message.tenant, acme);
//! queue.ack(&delivery.lease).await?;
//! // The lease is settled: a second ack is refused.
//! assert!(queue.ack(&delivery.lease).await.unwrap_err().is_lease_lost());
//! # Ok::<(), baas_queue::QueueError>(())
//! # }).unwrap();
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

pub use baas_core as core;

pub mod error;
pub mod memory;
pub mod queue;
pub mod worker;

#[cfg(feature = "sql")]
#[cfg_attr(docsrs, doc(cfg(feature = "sql")))]
pub mod sql;

#[cfg(feature = "sql")]
#[cfg_attr(docsrs, doc(cfg(feature = "sql")))]
pub mod outbox;

#[cfg(any(test, feature = "testing"))]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;

pub use error::{QueueError, QueueResult};
pub use memory::MemoryQueue;
pub use queue::{
    Capabilities, DeadLetter, Delivery, DynQueue, Enqueued, Lease, LeaseToken, Message, MessageId,
    NewMessage, Queue, QueueExt, QueueStats, Reserve, validate_queue_name,
};
pub use worker::{Job, RetryPolicy, Worker, WorkerConfig};

#[cfg(feature = "amqp")]
#[cfg_attr(docsrs, doc(cfg(feature = "amqp")))]
pub mod amqp;

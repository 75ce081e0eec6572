//! # baas-queue
//!
//! Durable queues (memory, SQL, RabbitMQ) and a worker runtime whose handlers are tower
//! services, so the same retry, timeout, metrics and tracing layers wrap every job.
//!
//! | capability | trait | backends (feature) |
//! |---|---|---|
//! | durable messages with leases, retries and dead letters | [`Queue`] | [`MemoryQueue`] (always), `sql::SqlQueue` (`sql`: SQLite, Postgres), `amqp::AmqpQueue` (`amqp`: RabbitMQ) |
//!
//! Around it: the [`Worker`] runtime (handlers are tower services), queue gauges for
//! `/metrics` ([`metrics`]), and — feature `http` — the operator routes listing the
//! queues and redriving dead letters (`http`).
//!
//! # Features
//!
//! | feature | what it adds |
//! |---|---|
//! | `sql` | `sql::SqlQueue` (SQLite and Postgres, on baas-store's `Database`) and the outbox relay (`outbox`) |
//! | `amqp` | `amqp::AmqpQueue` (RabbitMQ via lapin; stats through the management HTTP API) |
//! | `http` | `http::admin_routes` (`GET /v1/admin/queues`, `POST /v1/admin/queues/{queue}/redrive`, operator only) and `http::openapi` |
//! | `testing` | the conformance suite (`testing`) every backend runs |
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
pub mod metrics;
pub mod queue;
pub mod worker;

#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod http;

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

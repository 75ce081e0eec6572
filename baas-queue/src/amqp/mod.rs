//! The RabbitMQ backend (feature `amqp`), on [lapin].
//!
//! [`AmqpQueue`] implements [`Queue`](crate::Queue) on a RabbitMQ broker: durable
//! queues, persistent messages, publisher confirms, manual acknowledgements, dead
//! letters through a dead-letter exchange. RabbitMQ is a message broker, not a lease
//! store, so the parts of the `Queue` contract it lacks are built here — and the
//! differences are stated below rather than papered over.
//!
//! ```no_run
//! use std::time::Duration;
//! use baas_queue::amqp::{AmqpConfig, AmqpQueue};
//! use baas_queue::{Queue, QueueExt, Reserve};
//! use baas_queue::core::TenantId;
//! # async fn run() -> Result<(), baas_queue::QueueError> {
//! let queue = AmqpQueue::connect(
//!     AmqpConfig::new("amqp://guest:guest@127.0.0.1:5672/%2f")
//!         .with_management_url("http://guest:guest@127.0.0.1:15672"),
//! )
//! .await?;
//! let acme = TenantId::new("acme")?;
//! queue.enqueue_json("emails", &acme, &serde_json::json!({"to": "a@example.com"})).await?;
//! let batch = queue
//!     .reserve("emails", Reserve::new(10, Duration::from_secs(30)).wait(Duration::from_secs(1)))
//!     .await?;
//! for delivery in batch {
//!     queue.ack(&delivery.lease).await?;
//! }
//! # Ok(()) }
//! ```
//!
//! # How it is built
//!
//! **Topology.** Logical queue `q` under the configured prefix `p` (default `baas`) is a
//! durable queue `p.q` whose dead-letter exchange is the shared durable direct exchange
//! `p.dlx`, routing to the durable dead-letter queue `p.q.dead`; plus one durable delay
//! queue per tier, `p.q.delay.<ms>ms`, whose queue-wide TTL dead-letters each message
//! back into `p.q`. Everything is declared (idempotently) on first use.
//!
//! **Publishing.** Messages are persistent (`delivery_mode = 2`) and published
//! `mandatory` on a channel in confirm mode; an enqueue returns only after the broker's
//! confirm. A batch is pipelined (all publishes, then all confirms) and is **not
//! atomic**: a failure can leave a prefix enqueued.
//!
//! **Reserving.** Each queue has one `basic.consume` with `basic.qos(prefetch)` on its
//! own channel; a pump task buffers what the broker pushes and a reserve takes from the
//! buffer — no `basic.get` per message. When the buffer is empty, a reserve waits up to
//! [`Reserve::wait`](crate::Reserve::wait), and — if a passive declare shows ready
//! messages on the broker — a short moment for them to arrive.
//!
//! **Leases.** RabbitMQ has no visibility timeout, so leases are client-side: a deadline
//! per delivery, next to its delivery tag. A sweeper task rejects a delivery **with
//! requeue** when its lease runs out, so the broker delivers it again (to any consumer).
//! Whoever takes a delivery out of the lease table settles its tag exactly once, so a
//! tag already rejected is never acked (that would be a channel error closing every
//! other delivery on the channel); such an ack reports
//! [`QueueError::LeaseLost`](crate::QueueError::LeaseLost).
//! [`ack_batch`](crate::Queue::ack_batch) sends one `basic.ack` with `multiple` set for
//! the deliveries of a batch that are their channel's oldest unsettled ones — and only
//! those: a multiple ack never reaches a delivery buffered, held by another lease or
//! being settled elsewhere. The rest of the batch is acked one by one.
//!
//! **Retries and delays.** RabbitMQ cannot change a message it redelivers, nor delay a
//! requeue. A nack therefore publishes a copy (with the attempt count) into the delay
//! tier for `retry_in` — or straight back into the queue for a zero delay — waits for the
//! confirm, then acks the original. Delays are **rounded up to the next tier** (default
//! tiers 1 s, 5 s, 30 s, 2 min, 10 min, 1 h, 6 h); a delay beyond the last tier hops
//! through it again until due. Per-message TTLs are avoided on purpose: RabbitMQ only
//! expires messages at the head of a queue, so a long TTL would hold up shorter ones.
//!
//! **Dead letters.** [`dead_letter`](crate::Queue::dead_letter) publishes a copy carrying
//! the reason, time and attempts as headers to `p.q.dead` through the DLX, then acks the
//! original (a plain reject-without-requeue cannot carry a reason). Anything the broker
//! dead-letters itself — a message this backend cannot read, or a reject by another
//! client — lands in the same queue. [`dead_letters`](crate::Queue::dead_letters) reads
//! with `basic.get` on a private channel and closes it, which puts them back in order;
//! [`redrive`](crate::Queue::redrive) republishes them to `p.q` (attempts reset) and acks
//! each from the DLQ after its confirm.
//!
//! **Connections.** One connection, re-opened with doubling back-off by the first call
//! that finds it dead; consumers restart on the next reserve. Deliveries of a dead
//! channel are requeued by the broker, so their leases are lost, never their messages.
//!
//! # What RabbitMQ cannot do (the capabilities say so)
//!
//! - **No enqueue-side dedupe.** The dedupe key is carried with the message but not
//!   enforced: [`Capabilities::dedupe_window`](crate::Capabilities) is `None`. Make
//!   handlers idempotent (the worker's helper does).
//! - **Delays are coarse**: rounded up to a tier, never early.
//! - **Order is not guaranteed.** A nacked message goes to the back of the queue;
//!   delayed ones join the queue when their tier expires them; prefetching consumers of
//!   several processes interleave.
//! - **Batches are not atomic** (see above).
//! - **`attempt` is exact only within one process.** A lease expiry is a plain requeue,
//!   so it is counted by the process whose lease expired; a delivery that another
//!   process's crash put back counts as at least one more attempt (RabbitMQ's
//!   `redelivered` flag), not the exact number.
//! - **Stats are partly sampled.** `depth` (ready and delayed messages, plus this
//!   process's prefetched, unleased ones) and `dead` are exact, from passive declares.
//!   `in_flight` and `oldest_age` come from the management HTTP API, which samples
//!   every ~5 s; they are `None` when the API is not configured or unreachable.
//! - **Prefetched messages are invisible to other consumers.** Up to `prefetch`
//!   messages per queue sit in this process's buffer, unleased, until reserved; they go
//!   back to the broker when the queue value is dropped or its connection dies.
//!
//! [lapin]: https://docs.rs/lapin

mod admin;
mod backend;
mod config;
mod connection;
mod consumer;
mod envelope;
mod error;
mod lease;
mod management;
mod names;
mod publish;
mod queue;
mod tags;
mod topology;

pub use config::{AmqpConfig, DEFAULT_DELAY_TIERS};
pub use queue::AmqpQueue;

//! The worker runtime: reserves deliveries, runs them through a handler
//! `tower::Service<Job<T>>` wrapped in baas-core's layers, and settles them (ack, retry
//! later, dead letter) by one [`RetryPolicy`].
//!
//! - **Concurrency**: at most [`WorkerConfig::concurrency`] jobs at once; reserves ask for
//!   no more than the free slots, so nothing sits leased in a local buffer.
//! - **Long jobs**: the lease is renewed every third of [`WorkerConfig::lease`] while the
//!   handler runs; a lost lease abandons the run (another delivery owns the message).
//! - **Failures**: one [`RetryPolicy`] (attempts, exponential backoff with jitter, the
//!   error's kind deciding permanence, `Retry-After` honoured); exhausted or permanent →
//!   dead letter with the last error. Panics are failures of kind `Internal`.
//! - **Acks**: successes are acknowledged in groups — whatever finished while the
//!   previous group was being acked goes in one [`Queue::ack_batch`](crate::Queue::ack_batch)
//!   — and each delivery still learns its own outcome.
//! - **Shutdown**: stop reserving, let in-flight jobs finish within
//!   [`WorkerConfig::shutdown_grace`], then release their leases at once.

mod acks;
mod job;
mod policy;
mod runtime;

pub use job::Job;
pub use policy::{Decision, RetryPolicy};
pub use runtime::{DELIVERY_LAG_SECONDS, JOBS_TOTAL, Worker, WorkerConfig, WorkerSummary};

#[cfg(test)]
mod tests;

//! The worker runtime: reserves deliveries, runs them through a handler
//! `tower::Service<Job<T>>`, and settles them (ack, retry later, dead letter) by one retry
//! policy.

mod job;

pub use job::Job;

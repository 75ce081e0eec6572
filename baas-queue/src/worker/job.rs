//! [`Job`]: what a handler service receives.

use std::collections::BTreeMap;
use std::time::SystemTime;

use baas_core::TenantId;
use bytes::Bytes;

use crate::queue::{Delivery, MessageId};

/// One delivery of a message, decoded, as a handler's request: handlers are
/// `tower::Service<Job<T>>`.
///
/// `T` is the decoded payload (`Bytes` for raw bodies, any `DeserializeOwned` type for
/// JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job<T = Bytes> {
    /// The decoded payload.
    pub payload: T,
    /// The message's id: stable across redeliveries, so the key for idempotency.
    pub id: MessageId,
    /// The tenant the message was enqueued with.
    pub tenant: TenantId,
    /// The queue it came from.
    pub queue: String,
    /// The message's headers.
    pub headers: BTreeMap<String, String>,
    /// Which delivery this is (1 the first time).
    pub attempt: u32,
    /// When the message was enqueued.
    pub enqueued_at: SystemTime,
}

impl<T> Job<T> {
    /// A job from a delivery and its decoded payload.
    pub fn new(delivery: &Delivery, payload: T) -> Self {
        Job {
            payload,
            id: delivery.message.id,
            tenant: delivery.message.tenant.clone(),
            queue: delivery.lease.queue.clone(),
            headers: delivery.message.headers.clone(),
            attempt: delivery.attempt,
            enqueued_at: delivery.message.enqueued_at,
        }
    }

    /// The same job with its payload transformed.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Job<U> {
        Job {
            payload: f(self.payload),
            id: self.id,
            tenant: self.tenant,
            queue: self.queue,
            headers: self.headers,
            attempt: self.attempt,
            enqueued_at: self.enqueued_at,
        }
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

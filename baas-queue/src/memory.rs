//! The in-memory backend: always compiled, for tests and development.
//!
//! Everything lives in one process and goes with it. Time comes from the injected
//! [`Clock`](baas_core::Clock), so lease expiry, delays and the dedupe window are tested
//! without sleeping.
//!
//! ```
//! use baas_queue::{MemoryQueue, NewMessage, Queue, QueueExt, Reserve};
//! use baas_queue::core::TenantId;
//! use std::time::Duration;
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let queue = MemoryQueue::new();
//! let acme = TenantId::new("acme")?;
//! queue.enqueue_json("emails", &acme, &serde_json::json!({"to": "a@example.com"})).await?;
//!
//! let deliveries = queue.reserve("emails", Reserve::new(10, Duration::from_secs(30))).await?;
//! assert_eq!(deliveries.len(), 1);
//! assert_eq!(deliveries[0].attempt, 1);
//! queue.ack(&deliveries[0].lease).await?;
//! assert_eq!(queue.stats("emails").await?.depth, Some(0));
//! # Ok::<(), baas_queue::QueueError>(())
//! # }).unwrap();
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use baas_core::TenantId;
use baas_core::clock::{SharedClock, system};
use parking_lot::Mutex;
use tokio::sync::Notify;

use crate::error::{QueueError, QueueResult};
use crate::queue::{
    Capabilities, DeadLetter, Delivery, Enqueued, Lease, LeaseToken, Message, MessageId,
    NewMessage, Queue, QueueStats, Reserve, truncate_reason, validate_batch, validate_delay,
    validate_lease, validate_queue_name,
};

/// The default dedupe window of the memory and SQL backends: 24 hours.
pub const DEFAULT_DEDUPE_WINDOW: Duration = Duration::from_secs(24 * 60 * 60);

/// How often a waiting reserve looks again when nothing wakes it (time-driven changes:
/// delays ending, leases expiring).
const WAIT_POLL: Duration = Duration::from_millis(20);

/// An in-memory [`Queue`]. Clones share the same queues.
#[derive(Clone)]
pub struct MemoryQueue {
    inner: Arc<Inner>,
}

struct Inner {
    clock: SharedClock,
    dedupe_window: Duration,
    queues: Mutex<HashMap<String, QueueState>>,
    wake: Notify,
}

impl fmt::Debug for MemoryQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryQueue")
            .field("dedupe_window", &self.inner.dedupe_window)
            .finish_non_exhaustive()
    }
}

impl Default for MemoryQueue {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Debug)]
enum State {
    Waiting,
    Leased {
        token: LeaseToken,
        until: SystemTime,
    },
}

#[derive(Debug)]
struct Entry {
    seq: u64,
    message: Message,
    attempts: u32,
    state: State,
}

type DedupeKey = (TenantId, String);

#[derive(Debug, Default)]
struct QueueState {
    next_seq: u64,
    entries: HashMap<MessageId, Entry>,
    /// (available at, seq, id) of waiting messages.
    waiting: BTreeSet<(SystemTime, u64, MessageId)>,
    /// (lease expiry, seq, id) of leased messages.
    leased: BTreeSet<(SystemTime, u64, MessageId)>,
    dead: BTreeMap<u64, DeadLetter>,
    dedupe: HashMap<DedupeKey, (MessageId, SystemTime)>,
    /// Dedupe keys in insertion (= expiry) order, for pruning.
    dedupe_order: VecDeque<(SystemTime, DedupeKey)>,
}

impl QueueState {
    fn seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    /// Return expired leases to the waiting set (available since they expired).
    fn expire(&mut self, now: SystemTime) {
        while let Some(&(until, seq, id)) = self.leased.first() {
            if until > now {
                break;
            }
            self.leased.pop_first();
            if let Some(entry) = self.entries.get_mut(&id) {
                entry.state = State::Waiting;
                self.waiting.insert((until, seq, id));
            }
        }
    }

    fn prune_dedupe(&mut self, now: SystemTime) {
        while let Some((expires, _)) = self.dedupe_order.front() {
            if *expires > now {
                break;
            }
            if let Some((expires, key)) = self.dedupe_order.pop_front()
                && self.dedupe.get(&key).is_some_and(|(_, e)| *e == expires)
            {
                self.dedupe.remove(&key);
            }
        }
    }

    fn enqueue(&mut self, message: NewMessage, now: SystemTime, window: Duration) -> Enqueued {
        self.prune_dedupe(now);
        if let Some(key) = &message.dedupe_key {
            let dkey = (message.tenant.clone(), key.clone());
            if let Some((id, expires)) = self.dedupe.get(&dkey)
                && *expires > now
            {
                return Enqueued {
                    id: *id,
                    duplicate: true,
                };
            }
        }
        let id = MessageId::new();
        if let Some(key) = &message.dedupe_key {
            let dkey = (message.tenant.clone(), key.clone());
            let expires = now + window;
            self.dedupe.insert(dkey.clone(), (id, expires));
            self.dedupe_order.push_back((expires, dkey));
        }
        let at = now + message.delay.unwrap_or_default();
        let seq = self.seq();
        self.entries.insert(
            id,
            Entry {
                seq,
                message: Message {
                    id,
                    tenant: message.tenant,
                    payload: message.payload,
                    headers: message.headers,
                    enqueued_at: now,
                    dedupe_key: message.dedupe_key,
                },
                attempts: 0,
                state: State::Waiting,
            },
        );
        self.waiting.insert((at, seq, id));
        Enqueued {
            id,
            duplicate: false,
        }
    }

    /// The entry held under `lease`, if the lease is current.
    fn held(&mut self, lease: &Lease, now: SystemTime) -> QueueResult<&mut Entry> {
        match self.entries.get_mut(&lease.message) {
            Some(entry)
                if matches!(entry.state,
                    State::Leased { token, until } if token == lease.token && until > now) =>
            {
                Ok(entry)
            }
            _ => Err(QueueError::LeaseLost),
        }
    }

    fn unlease(&mut self, lease: &Lease, now: SystemTime) -> QueueResult<Entry> {
        let entry = self.held(lease, now)?;
        let (seq, until) = match entry.state {
            State::Leased { until, .. } => (entry.seq, until),
            State::Waiting => return Err(QueueError::LeaseLost),
        };
        self.leased.remove(&(until, seq, lease.message));
        self.entries
            .remove(&lease.message)
            .ok_or(QueueError::LeaseLost)
    }
}

impl MemoryQueue {
    /// A memory queue on the system clock with the default dedupe window (24 h).
    pub fn new() -> Self {
        Self::with_clock(system())
    }

    /// A memory queue on `clock`.
    pub fn with_clock(clock: SharedClock) -> Self {
        MemoryQueue {
            inner: Arc::new(Inner {
                clock,
                dedupe_window: DEFAULT_DEDUPE_WINDOW,
                queues: Mutex::new(HashMap::new()),
                wake: Notify::new(),
            }),
        }
    }

    /// The same queue with another dedupe window (only before first use: it makes a new,
    /// empty queue set).
    pub fn dedupe_window(self, window: Duration) -> Self {
        MemoryQueue {
            inner: Arc::new(Inner {
                clock: self.inner.clock.clone(),
                dedupe_window: window,
                queues: Mutex::new(HashMap::new()),
                wake: Notify::new(),
            }),
        }
    }

    fn now(&self) -> SystemTime {
        self.inner.clock.now()
    }

    fn try_reserve(&self, queue: &str, reserve: Reserve) -> Vec<Delivery> {
        let now = self.now();
        let mut queues = self.inner.queues.lock();
        let Some(state) = queues.get_mut(queue) else {
            return Vec::new();
        };
        state.expire(now);
        let until = now + reserve.lease;
        let mut out = Vec::new();
        while out.len() < reserve.max {
            let Some(&(at, seq, id)) = state.waiting.first() else {
                break;
            };
            if at > now {
                break;
            }
            state.waiting.pop_first();
            let Some(entry) = state.entries.get_mut(&id) else {
                continue;
            };
            let token = LeaseToken::new();
            entry.attempts += 1;
            entry.state = State::Leased { token, until };
            state.leased.insert((until, seq, id));
            out.push(Delivery {
                message: entry.message.clone(),
                lease: Lease {
                    queue: queue.to_owned(),
                    message: id,
                    token,
                },
                attempt: entry.attempts,
                lease_expires_at: until,
            });
        }
        out
    }
}

#[async_trait]
impl Queue for MemoryQueue {
    fn capabilities(&self) -> Capabilities {
        Capabilities::full(self.inner.dedupe_window)
    }

    async fn enqueue(&self, queue: &str, message: NewMessage) -> QueueResult<Enqueued> {
        validate_queue_name(queue)?;
        message.validate()?;
        let now = self.now();
        let out = self
            .inner
            .queues
            .lock()
            .entry(queue.to_owned())
            .or_default()
            .enqueue(message, now, self.inner.dedupe_window);
        self.inner.wake.notify_waiters();
        Ok(out)
    }

    async fn enqueue_batch(
        &self,
        queue: &str,
        messages: Vec<NewMessage>,
    ) -> QueueResult<Vec<Enqueued>> {
        validate_queue_name(queue)?;
        validate_batch(&messages)?;
        let now = self.now();
        let out = {
            let mut queues = self.inner.queues.lock();
            let state = queues.entry(queue.to_owned()).or_default();
            messages
                .into_iter()
                .map(|m| state.enqueue(m, now, self.inner.dedupe_window))
                .collect()
        };
        self.inner.wake.notify_waiters();
        Ok(out)
    }

    async fn reserve(&self, queue: &str, reserve: Reserve) -> QueueResult<Vec<Delivery>> {
        validate_queue_name(queue)?;
        reserve.validate()?;
        let deadline = tokio::time::Instant::now() + reserve.wait;
        loop {
            let woken = self.inner.wake.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            let out = self.try_reserve(queue, reserve);
            let now = tokio::time::Instant::now();
            if !out.is_empty() || now >= deadline {
                return Ok(out);
            }
            let nap = Ord::min(deadline - now, WAIT_POLL);
            tokio::select! {
                () = woken => {}
                () = tokio::time::sleep(nap) => {}
            }
        }
    }

    async fn extend(&self, lease: &Lease, by: Duration) -> QueueResult<SystemTime> {
        validate_lease(by)?;
        let now = self.now();
        let mut queues = self.inner.queues.lock();
        let state = queues.get_mut(&lease.queue).ok_or(QueueError::LeaseLost)?;
        let entry = state.held(lease, now)?;
        let seq = entry.seq;
        let new_until = now + by;
        let old_until = match &mut entry.state {
            State::Leased { until, .. } => std::mem::replace(until, new_until),
            State::Waiting => return Err(QueueError::LeaseLost),
        };
        state.leased.remove(&(old_until, seq, lease.message));
        state.leased.insert((new_until, seq, lease.message));
        Ok(new_until)
    }

    async fn ack(&self, lease: &Lease) -> QueueResult<()> {
        let now = self.now();
        let mut queues = self.inner.queues.lock();
        let state = queues.get_mut(&lease.queue).ok_or(QueueError::LeaseLost)?;
        state.unlease(lease, now)?;
        Ok(())
    }

    async fn nack(&self, lease: &Lease, retry_in: Duration) -> QueueResult<()> {
        validate_delay(retry_in)?;
        let now = self.now();
        {
            let mut queues = self.inner.queues.lock();
            let state = queues.get_mut(&lease.queue).ok_or(QueueError::LeaseLost)?;
            let mut entry = state.unlease(lease, now)?;
            let at = now + retry_in;
            entry.state = State::Waiting;
            state.waiting.insert((at, entry.seq, lease.message));
            state.entries.insert(lease.message, entry);
        }
        self.inner.wake.notify_waiters();
        Ok(())
    }

    async fn dead_letter(&self, lease: &Lease, reason: &str) -> QueueResult<()> {
        let now = self.now();
        let mut queues = self.inner.queues.lock();
        let state = queues.get_mut(&lease.queue).ok_or(QueueError::LeaseLost)?;
        let entry = state.unlease(lease, now)?;
        let seq = state.seq();
        state.dead.insert(
            seq,
            DeadLetter {
                message: entry.message,
                reason: truncate_reason(reason).to_owned(),
                attempts: entry.attempts,
                dead_at: now,
            },
        );
        Ok(())
    }

    async fn dead_letters(&self, queue: &str, limit: usize) -> QueueResult<Vec<DeadLetter>> {
        validate_queue_name(queue)?;
        let queues = self.inner.queues.lock();
        Ok(queues
            .get(queue)
            .map(|s| s.dead.values().take(limit).cloned().collect())
            .unwrap_or_default())
    }

    async fn redrive(&self, queue: &str, max: usize) -> QueueResult<u64> {
        validate_queue_name(queue)?;
        let now = self.now();
        let mut moved = 0;
        {
            let mut queues = self.inner.queues.lock();
            let Some(state) = queues.get_mut(queue) else {
                return Ok(0);
            };
            while moved < max {
                let Some((_, dead)) = state.dead.pop_first() else {
                    break;
                };
                let seq = state.seq();
                let id = dead.message.id;
                state.entries.insert(
                    id,
                    Entry {
                        seq,
                        message: dead.message,
                        attempts: 0,
                        state: State::Waiting,
                    },
                );
                state.waiting.insert((now, seq, id));
                moved += 1;
            }
        }
        self.inner.wake.notify_waiters();
        Ok(moved as u64)
    }

    async fn stats(&self, queue: &str) -> QueueResult<QueueStats> {
        validate_queue_name(queue)?;
        let now = self.now();
        let mut queues = self.inner.queues.lock();
        let Some(state) = queues.get_mut(queue) else {
            return Ok(QueueStats {
                depth: Some(0),
                in_flight: Some(0),
                dead: Some(0),
                oldest_age: Some(Duration::ZERO),
            });
        };
        state.expire(now);
        let oldest = state
            .waiting
            .iter()
            .take_while(|(at, _, _)| *at <= now)
            .filter_map(|(_, _, id)| state.entries.get(id))
            .map(|e| e.message.enqueued_at)
            .min();
        Ok(QueueStats {
            depth: Some(state.waiting.len() as u64),
            in_flight: Some(state.leased.len() as u64),
            dead: Some(state.dead.len() as u64),
            oldest_age: Some(
                oldest
                    .and_then(|t| now.duration_since(t).ok())
                    .unwrap_or_default(),
            ),
        })
    }

    async fn queues(&self) -> QueueResult<Vec<String>> {
        let mut names: Vec<String> = self.inner.queues.lock().keys().cloned().collect();
        names.sort();
        Ok(names)
    }

    async fn purge(&self, queue: &str) -> QueueResult<u64> {
        validate_queue_name(queue)?;
        let now = self.now();
        let mut queues = self.inner.queues.lock();
        let Some(state) = queues.get_mut(queue) else {
            return Ok(0);
        };
        state.expire(now);
        let waiting = std::mem::take(&mut state.waiting);
        for (_, _, id) in &waiting {
            state.entries.remove(id);
        }
        Ok(waiting.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{Harness, queue_suite};
    use baas_core::ManualClock;

    #[tokio::test]
    async fn memory_passes_the_suite() {
        let clock = ManualClock::new();
        let queue = MemoryQueue::with_clock(clock.shared());
        let harness = Harness::manual(&clock, queue.capabilities());
        queue_suite(&queue, &harness).await;
    }

    #[tokio::test]
    async fn memory_without_capabilities_passes_the_reduced_suite() {
        // The suite's capability parameters really switch checks off.
        let clock = ManualClock::new();
        let queue = MemoryQueue::with_clock(clock.shared());
        let caps = queue
            .capabilities()
            .without_dedupe()
            .with_fifo(false)
            .with_exact_stats(false)
            .with_delay_granularity(Duration::from_secs(5));
        queue_suite(&queue, &Harness::manual(&clock, caps)).await;
    }
}

//! The conformance suite every [`Queue`](crate::Queue) backend runs (DESIGN.md rule 2).
//!
//! Each check is a plain `pub async fn(&DynQueue, &Harness)`; [`queue_suite`] runs them
//! all. Differences between backends are parameters of the [`Harness`]: the backend's
//! [`Capabilities`] (no dedupe, delay rounding, …) and how time moves — a
//! [`ManualClock`] for backends that take an injected clock, real sleeping for those
//! that cannot (RabbitMQ). Every check uses its own fresh queue names, so suites may
//! run in parallel against one server.
//!
//! ```
//! use baas_queue::MemoryQueue;
//! use baas_queue::core::ManualClock;
//! use baas_queue::testing::{Harness, queue_suite};
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let clock = ManualClock::new();
//! let queue = MemoryQueue::with_clock(clock.shared());
//! let harness = Harness::manual(&clock, baas_queue::Queue::capabilities(&queue));
//! queue_suite(&queue, &harness).await;
//! # });
//! ```

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use baas_core::{ManualClock, TenantId};
use futures::future::BoxFuture;

use crate::error::QueueError;
use crate::queue::{Capabilities, DynQueue, MessageId, NewMessage, Reserve};

type Advance = Arc<dyn Fn(Duration) -> BoxFuture<'static, ()> + Send + Sync>;

/// How the suite drives a backend: its capabilities, how time moves, and the time unit
/// its leases and delays are multiples of.
#[derive(Clone)]
pub struct Harness {
    /// What the backend can do.
    pub capabilities: Capabilities,
    /// The suite's time unit: leases are 2–4 units, delays 3 units.
    pub unit: Duration,
    /// Prefix of the queue names the suite makes.
    pub prefix: String,
    advance: Advance,
}

impl fmt::Debug for Harness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Harness")
            .field("capabilities", &self.capabilities)
            .field("unit", &self.unit)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl Harness {
    /// Time moves when the suite advances `clock` (the clock the backend was built on);
    /// the unit is 10 s.
    pub fn manual(clock: &ManualClock, capabilities: Capabilities) -> Self {
        let clock = clock.clone();
        Harness {
            capabilities,
            unit: Duration::from_secs(10),
            prefix: "suite".to_owned(),
            advance: Arc::new(move |by| {
                clock.advance(by);
                Box::pin(async {})
            }),
        }
    }

    /// Time moves by sleeping for real; keep `unit` small (and a multiple of any delay
    /// granularity).
    pub fn real_time(capabilities: Capabilities, unit: Duration) -> Self {
        Harness {
            capabilities,
            unit,
            prefix: "suite".to_owned(),
            advance: Arc::new(|by| Box::pin(tokio::time::sleep(by))),
        }
    }

    /// Use another prefix for queue names.
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Let `by` pass.
    pub async fn advance(&self, by: Duration) {
        (self.advance)(by).await;
    }

    /// Let `units` units pass, plus the delay granularity when there is one.
    async fn advance_units(&self, units: u32) {
        let extra = self.capabilities.delay_granularity.unwrap_or_default();
        self.advance(self.unit * units + extra).await;
    }

    /// A fresh queue name for `check`.
    pub fn queue_name(&self, check: &str) -> String {
        let random = uuid::Uuid::new_v4().simple().to_string();
        format!("{}.{check}.{}", self.prefix, &random[..12])
    }

    fn lease(&self, units: u32) -> Duration {
        self.unit * units
    }
}

fn tenant(name: &str) -> TenantId {
    TenantId::new(name).expect("valid tenant")
}

async fn reserve(q: &DynQueue, name: &str, max: usize, lease: Duration) -> Vec<crate::Delivery> {
    q.reserve(name, Reserve::new(max, lease))
        .await
        .expect("reserve")
}

/// Run every check.
pub async fn queue_suite(q: &DynQueue, h: &Harness) {
    enqueue_reserve_ack(q, h).await;
    stale_leases_are_refused(q, h).await;
    ack_batch_settles_each(q, h).await;
    lease_expiry_redelivers(q, h).await;
    extend_keeps_the_lease(q, h).await;
    nack_delays_redelivery(q, h).await;
    delayed_messages_wait(q, h).await;
    dedupe_window(q, h).await;
    dead_letter_and_redrive(q, h).await;
    batch_enqueue(q, h).await;
    fifo_order(q, h).await;
    tenant_is_carried(q, h).await;
    stats_are_correct(q, h).await;
    purge_removes_waiting(q, h).await;
    queues_are_listed(q, h).await;
    bad_input_changes_nothing(q, h).await;
    concurrent_reservers_never_share(q, h).await;
}

/// Enqueue, reserve (payload, headers, tenant, attempt 1), ack; nothing is left.
pub async fn enqueue_reserve_ack(q: &DynQueue, h: &Harness) {
    let name = h.queue_name("basic");
    let acme = tenant("acme");
    let sent = q
        .enqueue(
            &name,
            NewMessage::new(acme.clone(), &b"hello"[..]).header("kind", "greeting"),
        )
        .await
        .expect("enqueue");
    assert!(!sent.duplicate);

    let got = reserve(q, &name, 10, h.lease(3)).await;
    assert_eq!(got.len(), 1, "the message is delivered");
    let d = &got[0];
    assert_eq!(d.message.id, sent.id);
    assert_eq!(d.lease.message, sent.id);
    assert_eq!(d.lease.queue, name);
    assert_eq!(d.message.tenant, acme);
    assert_eq!(&d.message.payload[..], b"hello");
    assert_eq!(
        d.message.headers.get("kind").map(String::as_str),
        Some("greeting")
    );
    assert_eq!(d.attempt, 1);

    assert!(
        reserve(q, &name, 10, h.lease(3)).await.is_empty(),
        "a leased message is not delivered twice"
    );
    q.ack(&d.lease).await.expect("ack");
    assert!(
        reserve(q, &name, 10, h.lease(3)).await.is_empty(),
        "ack removes"
    );
    h.advance_units(5).await;
    assert!(
        reserve(q, &name, 10, h.lease(3)).await.is_empty(),
        "an acked message never comes back"
    );
}

/// A settled lease cannot ack, nack, extend or dead-letter again.
pub async fn stale_leases_are_refused(q: &DynQueue, h: &Harness) {
    let name = h.queue_name("stale");
    let acme = tenant("acme");
    q.enqueue(&name, NewMessage::new(acme, "x"))
        .await
        .expect("enqueue");
    let d = reserve(q, &name, 1, h.lease(3)).await.remove(0);
    q.ack(&d.lease).await.expect("first ack");
    assert!(matches!(q.ack(&d.lease).await, Err(QueueError::LeaseLost)));
    assert!(matches!(
        q.nack(&d.lease, Duration::ZERO).await,
        Err(QueueError::LeaseLost)
    ));
    assert!(matches!(
        q.extend(&d.lease, h.lease(3)).await,
        Err(QueueError::LeaseLost)
    ));
    assert!(matches!(
        q.dead_letter(&d.lease, "late").await,
        Err(QueueError::LeaseLost)
    ));
    let stats = q.stats(&name).await.expect("stats");
    if h.capabilities.exact_stats {
        assert_eq!(stats.dead, Some(0), "a refused dead-letter changed nothing");
        assert_eq!(stats.depth, Some(0));
    }
}

/// `ack_batch` answers per lease, in order: current leases are acked, a stale or forged
/// one is `LeaseLost` and changes nothing (its message stays leased to its real holder).
pub async fn ack_batch_settles_each(q: &DynQueue, h: &Harness) {
    let name = h.queue_name("ackbatch");
    let acme = tenant("acme");
    let batch = (0..4)
        .map(|i| NewMessage::new(acme.clone(), format!("m{i}")))
        .collect();
    q.enqueue_batch(&name, batch).await.expect("enqueue");
    let got = reserve(q, &name, 4, h.lease(3)).await;
    assert_eq!(got.len(), 4);
    assert!(q.ack_batch(&[]).await.is_empty(), "nothing to ack");
    q.ack(&got[0].lease).await.expect("ack");
    let forged = crate::Lease {
        token: crate::LeaseToken::new(),
        ..got[3].lease.clone()
    };
    let leases = [
        got[1].lease.clone(),
        got[0].lease.clone(),
        got[2].lease.clone(),
        forged,
    ];
    let outcomes = q.ack_batch(&leases).await;
    assert_eq!(outcomes.len(), 4, "one outcome per lease");
    assert!(outcomes[0].is_ok(), "{:?}", outcomes[0]);
    assert!(matches!(outcomes[1], Err(QueueError::LeaseLost)));
    assert!(outcomes[2].is_ok(), "{:?}", outcomes[2]);
    assert!(matches!(outcomes[3], Err(QueueError::LeaseLost)));
    assert!(
        reserve(q, &name, 4, h.lease(3)).await.is_empty(),
        "a forged lease acked nothing and took nothing"
    );
    q.ack(&got[3].lease)
        .await
        .expect("the real holder still acks");
    h.advance_units(5).await;
    assert!(
        reserve(q, &name, 4, h.lease(3)).await.is_empty(),
        "every message was acked once"
    );
}

/// A delivery whose lease expires is delivered again with a new lease and attempt + 1;
/// the old lease is refused.
pub async fn lease_expiry_redelivers(q: &DynQueue, h: &Harness) {
    let name = h.queue_name("expiry");
    let sent = q
        .enqueue(&name, NewMessage::new(tenant("acme"), "x"))
        .await
        .expect("enqueue");
    let first = reserve(q, &name, 1, h.lease(2)).await.remove(0);
    h.advance_units(3).await;

    let again = reserve(q, &name, 1, h.lease(4)).await;
    assert_eq!(again.len(), 1, "an expired lease redelivers");
    let second = &again[0];
    assert_eq!(second.message.id, sent.id);
    assert_eq!(second.attempt, 2);
    assert_ne!(
        second.lease.token, first.lease.token,
        "leases belong to deliveries"
    );

    assert!(matches!(
        q.ack(&first.lease).await,
        Err(QueueError::LeaseLost)
    ));
    assert!(matches!(
        q.extend(&first.lease, h.lease(2)).await,
        Err(QueueError::LeaseLost)
    ));
    q.ack(&second.lease).await.expect("the live lease acks");
    assert!(reserve(q, &name, 1, h.lease(2)).await.is_empty());
}

/// Extending a lease keeps the message from being redelivered past the first expiry.
pub async fn extend_keeps_the_lease(q: &DynQueue, h: &Harness) {
    let name = h.queue_name("extend");
    q.enqueue(&name, NewMessage::new(tenant("acme"), "x"))
        .await
        .expect("enqueue");
    let d = reserve(q, &name, 1, h.lease(2)).await.remove(0);
    h.advance(h.unit).await;
    q.extend(&d.lease, h.lease(4)).await.expect("extend");
    h.advance(h.unit * 2).await; // past the original expiry, inside the extension
    assert!(
        reserve(q, &name, 1, h.lease(2)).await.is_empty(),
        "an extended lease holds"
    );
    q.ack(&d.lease).await.expect("ack after extending");
}

/// Nack releases the message no sooner than the retry time.
pub async fn nack_delays_redelivery(q: &DynQueue, h: &Harness) {
    let name = h.queue_name("nack");
    q.enqueue(&name, NewMessage::new(tenant("acme"), "x"))
        .await
        .expect("enqueue");
    let d = reserve(q, &name, 1, h.lease(2)).await.remove(0);
    q.nack(&d.lease, h.unit * 3).await.expect("nack");
    assert!(matches!(q.ack(&d.lease).await, Err(QueueError::LeaseLost)));
    assert!(
        reserve(q, &name, 1, h.lease(2)).await.is_empty(),
        "not before the retry time"
    );
    h.advance_units(4).await;
    let again = reserve(q, &name, 1, h.lease(2)).await;
    assert_eq!(again.len(), 1, "after the retry time");
    assert_eq!(again[0].attempt, 2);
    q.ack(&again[0].lease).await.expect("ack");

    // Nack with no delay makes it ready at once.
    q.enqueue(&name, NewMessage::new(tenant("acme"), "y"))
        .await
        .expect("enqueue");
    let d = reserve(q, &name, 1, h.lease(2)).await.remove(0);
    q.nack(&d.lease, Duration::ZERO).await.expect("nack");
    let again = q
        .reserve(&name, Reserve::new(1, h.lease(2)).wait(h.unit))
        .await
        .expect("reserve");
    assert_eq!(again.len(), 1);
    q.ack(&again[0].lease).await.expect("ack");
}

/// A delayed message is not delivered before its delay.
pub async fn delayed_messages_wait(q: &DynQueue, h: &Harness) {
    let name = h.queue_name("delayed");
    q.enqueue(
        &name,
        NewMessage::new(tenant("acme"), "later").delay(h.unit * 3),
    )
    .await
    .expect("enqueue");
    q.enqueue(&name, NewMessage::new(tenant("acme"), "now"))
        .await
        .expect("enqueue");
    let first = reserve(q, &name, 10, h.lease(10)).await;
    assert_eq!(first.len(), 1, "only the undelayed message is ready");
    assert_eq!(&first[0].message.payload[..], b"now");
    if h.capabilities.exact_stats {
        assert_eq!(
            q.stats(&name).await.expect("stats").depth,
            Some(1),
            "delayed counts"
        );
    }
    h.advance_units(4).await;
    let later = reserve(q, &name, 10, h.lease(10)).await;
    assert_eq!(later.len(), 1);
    assert_eq!(&later[0].message.payload[..], b"later");
    q.ack(&first[0].lease).await.expect("ack");
    q.ack(&later[0].lease).await.expect("ack");
}

/// Within the window a repeated dedupe key returns the first id and enqueues nothing,
/// per tenant; after the window it enqueues again. Skipped without dedupe.
pub async fn dedupe_window(q: &DynQueue, h: &Harness) {
    let Some(window) = h.capabilities.dedupe_window else {
        return;
    };
    let name = h.queue_name("dedupe");
    let (acme, globex) = (tenant("acme"), tenant("globex"));
    let first = q
        .enqueue(&name, NewMessage::new(acme.clone(), "1").dedupe_key("k"))
        .await
        .expect("enqueue");
    assert!(!first.duplicate);
    let second = q
        .enqueue(&name, NewMessage::new(acme.clone(), "2").dedupe_key("k"))
        .await
        .expect("enqueue");
    assert!(second.duplicate);
    assert_eq!(second.id, first.id, "a duplicate returns the first id");
    let other = q
        .enqueue(&name, NewMessage::new(globex, "3").dedupe_key("k"))
        .await
        .expect("enqueue");
    assert!(!other.duplicate, "dedupe keys are per tenant");

    let got = reserve(q, &name, 10, h.lease(3)).await;
    assert_eq!(got.len(), 2);
    for d in &got {
        q.ack(&d.lease).await.expect("ack");
    }
    let after_ack = q
        .enqueue(&name, NewMessage::new(acme.clone(), "4").dedupe_key("k"))
        .await
        .expect("enqueue");
    assert!(
        after_ack.duplicate,
        "still a duplicate after the first was handled"
    );
    assert!(reserve(q, &name, 10, h.lease(3)).await.is_empty());

    h.advance(window + h.unit).await;
    let fresh = q
        .enqueue(&name, NewMessage::new(acme, "5").dedupe_key("k"))
        .await
        .expect("enqueue");
    assert!(!fresh.duplicate, "after the window the key is free");
    assert_ne!(fresh.id, first.id);
    let got = reserve(q, &name, 10, h.lease(3)).await;
    assert_eq!(got.len(), 1);
    q.ack(&got[0].lease).await.expect("ack");
}

/// Dead-lettering keeps the message and reason; redrive makes it ready again with its
/// attempts reset.
pub async fn dead_letter_and_redrive(q: &DynQueue, h: &Harness) {
    let name = h.queue_name("dead");
    let acme = tenant("acme");
    let sent = q
        .enqueue(
            &name,
            NewMessage::new(acme.clone(), "poison").header("h", "v"),
        )
        .await
        .expect("enqueue");
    let d = reserve(q, &name, 1, h.lease(3)).await.remove(0);
    q.dead_letter(&d.lease, "handler said no")
        .await
        .expect("dead letter");
    assert!(matches!(q.ack(&d.lease).await, Err(QueueError::LeaseLost)));
    assert!(
        reserve(q, &name, 1, h.lease(3)).await.is_empty(),
        "dead is not delivered"
    );

    let dead = q.dead_letters(&name, 10).await.expect("list");
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].message.id, sent.id);
    assert_eq!(dead[0].message.tenant, acme);
    assert_eq!(&dead[0].message.payload[..], b"poison");
    assert_eq!(
        dead[0].message.headers.get("h").map(String::as_str),
        Some("v")
    );
    assert_eq!(dead[0].reason, "handler said no");
    assert_eq!(dead[0].attempts, 1);
    if h.capabilities.exact_stats {
        let stats = q.stats(&name).await.expect("stats");
        assert_eq!(
            (stats.depth, stats.in_flight, stats.dead),
            (Some(0), Some(0), Some(1))
        );
    }

    assert_eq!(q.redrive(&name, 100).await.expect("redrive"), 1);
    assert!(q.dead_letters(&name, 10).await.expect("list").is_empty());
    let again = q
        .reserve(&name, Reserve::new(1, h.lease(3)).wait(h.unit))
        .await
        .expect("reserve");
    assert_eq!(again.len(), 1, "redriven messages are delivered");
    assert_eq!(again[0].message.id, sent.id);
    assert_eq!(again[0].attempt, 1, "attempts reset by redrive");
    q.ack(&again[0].lease).await.expect("ack");
    assert_eq!(q.redrive(&name, 100).await.expect("redrive"), 0);
}

/// A batch enqueues every message in order; a batch with a bad message is refused.
pub async fn batch_enqueue(q: &DynQueue, h: &Harness) {
    let name = h.queue_name("batch");
    let acme = tenant("acme");
    let batch: Vec<_> = (0..5)
        .map(|i| NewMessage::new(acme.clone(), format!("m{i}")))
        .collect();
    let out = q.enqueue_batch(&name, batch).await.expect("batch");
    assert_eq!(out.len(), 5);
    let ids: HashSet<MessageId> = out.iter().map(|e| e.id).collect();
    assert_eq!(ids.len(), 5, "distinct ids");
    let got = reserve(q, &name, 10, h.lease(3)).await;
    assert_eq!(got.len(), 5);
    if h.capabilities.fifo {
        let order: Vec<_> = got.iter().map(|d| d.message.id).collect();
        let sent: Vec<_> = out.iter().map(|e| e.id).collect();
        assert_eq!(order, sent, "batch order kept");
    }
    for d in &got {
        q.ack(&d.lease).await.expect("ack");
    }

    let bad = vec![
        NewMessage::new(acme.clone(), "ok"),
        NewMessage::new(acme.clone(), "bad").header("no spaces", "v"),
    ];
    assert!(q.enqueue_batch(&name, bad).await.is_err());
    assert!(
        reserve(q, &name, 10, h.lease(3)).await.is_empty(),
        "a refused batch enqueues nothing"
    );
    assert!(
        q.enqueue_batch(&name, Vec::new())
            .await
            .expect("empty")
            .is_empty()
    );
}

/// Ready messages come oldest first, where the backend promises it.
pub async fn fifo_order(q: &DynQueue, h: &Harness) {
    if !h.capabilities.fifo {
        return;
    }
    let name = h.queue_name("fifo");
    let mut sent = Vec::new();
    for i in 0..4 {
        let e = q
            .enqueue(&name, NewMessage::new(tenant("acme"), format!("{i}")))
            .await
            .expect("enqueue");
        sent.push(e.id);
    }
    let mut got = Vec::new();
    for _ in 0..4 {
        let d = reserve(q, &name, 1, h.lease(3)).await.remove(0);
        got.push(d.message.id);
        q.ack(&d.lease).await.expect("ack");
    }
    assert_eq!(got, sent);
}

/// Each message is delivered with the tenant it was enqueued with.
pub async fn tenant_is_carried(q: &DynQueue, h: &Harness) {
    let name = h.queue_name("tenants");
    let a = q
        .enqueue(&name, NewMessage::new(tenant("acme"), "a"))
        .await
        .expect("enqueue");
    let b = q
        .enqueue(&name, NewMessage::new(tenant("globex"), "b"))
        .await
        .expect("enqueue");
    let got = reserve(q, &name, 10, h.lease(3)).await;
    assert_eq!(got.len(), 2);
    for d in &got {
        let expected = if d.message.id == a.id {
            "acme"
        } else {
            assert_eq!(d.message.id, b.id);
            "globex"
        };
        assert_eq!(d.message.tenant.as_str(), expected);
        q.ack(&d.lease).await.expect("ack");
    }
}

/// Depth, in flight, dead and the oldest age follow what happened.
pub async fn stats_are_correct(q: &DynQueue, h: &Harness) {
    let name = h.queue_name("stats");
    let acme = tenant("acme");
    for i in 0..3 {
        q.enqueue(&name, NewMessage::new(acme.clone(), format!("{i}")))
            .await
            .expect("enqueue");
    }
    h.advance(h.unit * 2).await;
    let stats = q.stats(&name).await.expect("stats");
    if let Some(depth) = stats.depth {
        assert_eq!(depth, 3);
    }
    if let Some(age) = stats.oldest_age {
        assert!(age >= h.unit * 2, "oldest age {age:?} counts from enqueue");
    }
    let got = reserve(q, &name, 2, h.lease(10)).await;
    assert_eq!(got.len(), 2);
    q.dead_letter(&got[1].lease, "no").await.expect("dead");
    let stats = q.stats(&name).await.expect("stats");
    if h.capabilities.exact_stats {
        assert_eq!(stats.depth, Some(1));
        assert_eq!(stats.in_flight, Some(1));
        assert_eq!(stats.dead, Some(1));
    }
    q.ack(&got[0].lease).await.expect("ack");
    let rest = reserve(q, &name, 2, h.lease(10)).await;
    assert_eq!(rest.len(), 1);
    q.ack(&rest[0].lease).await.expect("ack");
    let stats = q.stats(&name).await.expect("stats");
    if h.capabilities.exact_stats {
        assert_eq!(stats.depth, Some(0));
        assert_eq!(stats.in_flight, Some(0));
        assert_eq!(stats.oldest_age, Some(Duration::ZERO), "nothing ready");
    }
}

/// Purge removes waiting messages and leaves leased ones.
pub async fn purge_removes_waiting(q: &DynQueue, h: &Harness) {
    let name = h.queue_name("purge");
    for i in 0..3 {
        q.enqueue(&name, NewMessage::new(tenant("acme"), format!("{i}")))
            .await
            .expect("enqueue");
    }
    let held = reserve(q, &name, 1, h.lease(10)).await.remove(0);
    assert_eq!(q.purge(&name).await.expect("purge"), 2);
    assert!(reserve(q, &name, 10, h.lease(10)).await.is_empty());
    q.ack(&held.lease)
        .await
        .expect("the leased message survives a purge");
}

/// A queue something was enqueued to is listed.
pub async fn queues_are_listed(q: &DynQueue, h: &Harness) {
    let name = h.queue_name("listed");
    q.enqueue(&name, NewMessage::new(tenant("acme"), "x"))
        .await
        .expect("enqueue");
    let names = q.queues().await.expect("queues");
    assert!(names.contains(&name), "{name} listed");
    assert_eq!(q.purge(&name).await.expect("purge"), 1);
}

/// Bad names, sizes and arguments are refused with a clear error and change nothing.
pub async fn bad_input_changes_nothing(q: &DynQueue, h: &Harness) {
    let name = h.queue_name("bad");
    let acme = tenant("acme");
    assert!(matches!(
        q.enqueue("", NewMessage::new(acme.clone(), "x")).await,
        Err(QueueError::InvalidQueueName(_))
    ));
    assert!(matches!(
        q.enqueue("no spaces", NewMessage::new(acme.clone(), "x"))
            .await,
        Err(QueueError::InvalidQueueName(_))
    ));
    let big = NewMessage::new(acme.clone(), vec![0u8; crate::queue::MAX_PAYLOAD_BYTES + 1]);
    assert!(matches!(
        q.enqueue(&name, big).await,
        Err(QueueError::PayloadTooLarge { .. })
    ));
    assert!(matches!(
        q.enqueue(&name, NewMessage::new(acme.clone(), "x").dedupe_key(""))
            .await,
        Err(QueueError::Invalid { .. })
    ));
    assert!(matches!(
        q.reserve(&name, Reserve::new(0, h.lease(1))).await,
        Err(QueueError::Invalid { .. })
    ));
    assert!(matches!(
        q.reserve(&name, Reserve::new(1, Duration::ZERO)).await,
        Err(QueueError::Invalid { .. })
    ));
    assert!(
        reserve(q, &name, 10, h.lease(1)).await.is_empty(),
        "nothing enqueued"
    );
}

/// Several reservers at once never hold the same message; together they get them all.
pub async fn concurrent_reservers_never_share(q: &DynQueue, h: &Harness) {
    let name = h.queue_name("concurrent");
    let acme = tenant("acme");
    let batch: Vec<_> = (0..60)
        .map(|i| NewMessage::new(acme.clone(), format!("{i}")))
        .collect();
    q.enqueue_batch(&name, batch).await.expect("batch");
    let lease = h.lease(60);
    let worker = |_: usize| {
        let name = name.clone();
        async move {
            let mut mine = Vec::new();
            loop {
                let got = q
                    .reserve(&name, Reserve::new(4, lease))
                    .await
                    .expect("reserve");
                if got.is_empty() {
                    return mine;
                }
                mine.extend(got);
                tokio::task::yield_now().await;
            }
        }
    };
    let all: Vec<_> = futures::future::join_all((0..4).map(worker))
        .await
        .into_iter()
        .flatten()
        .collect();
    let ids: HashSet<MessageId> = all.iter().map(|d| d.message.id).collect();
    assert_eq!(ids.len(), all.len(), "no message held twice at once");
    assert_eq!(ids.len(), 60, "every message reserved");
    for d in &all {
        q.ack(&d.lease).await.expect("ack");
    }
}

//! The dispatcher works a reserved batch at once: one `start_many` and one
//! `settle_many` per batch, `sending` while attempts are in flight, a job twice in a
//! batch delivered once, and an endpoint disabled in this process stops its queued
//! deliveries at once (the opened-endpoint cache is dropped), and a batch that was not
//! full lets the next one fill.

mod common;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use baas_core::{Error, TenantId};
use baas_notify::channel::{Channel, DeliveryError, Message, Receipt};
use baas_notify::dispatch::Disposition;
use baas_notify::providers::MemoryChannel;
use baas_notify::store::{Inserted, MemoryDeliveryLog, Settlement};
use baas_notify::{
    Attempt, ChannelKind, DeliveryJob, DeliveryLog, Dispatcher, Notification, Outcome, SendRequest,
    Status,
};
use baas_queue::{NewMessage, Queue as _, QueueExt as _};
use parking_lot::Mutex;
use serde_json::json;
use uuid::Uuid;

use common::world;

/// Counts every call by name.
#[derive(Debug)]
struct Counting {
    inner: Arc<MemoryDeliveryLog>,
    calls: Mutex<Vec<&'static str>>,
}

impl Counting {
    fn count(&self, name: &str) -> usize {
        self.calls.lock().iter().filter(|c| **c == name).count()
    }
}

#[async_trait]
impl DeliveryLog for Counting {
    async fn insert(&self, n: &Notification) -> Result<Inserted, Error> {
        self.calls.lock().push("insert");
        self.inner.insert(n).await
    }
    async fn get(&self, tenant: &TenantId, id: Uuid) -> Result<Option<Notification>, Error> {
        self.calls.lock().push("get");
        self.inner.get(tenant, id).await
    }
    async fn set_status(
        &self,
        tenant: &TenantId,
        id: Uuid,
        status: Status,
        at: SystemTime,
    ) -> Result<(), Error> {
        self.calls.lock().push("set_status");
        self.inner.set_status(tenant, id, status, at).await
    }
    async fn record_attempt(&self, tenant: &TenantId, attempt: &Attempt) -> Result<(), Error> {
        self.calls.lock().push("record_attempt");
        self.inner.record_attempt(tenant, attempt).await
    }
    async fn start_many(
        &self,
        keys: &[(TenantId, Uuid)],
        at: SystemTime,
    ) -> Result<Vec<Option<Notification>>, Error> {
        self.calls.lock().push("start_many");
        self.inner.start_many(keys, at).await
    }
    async fn settle_many(&self, batch: &[Settlement]) -> Vec<Result<(), Error>> {
        self.calls.lock().push("settle_many");
        self.inner.settle_many(batch).await
    }
    async fn attempts(&self, tenant: &TenantId, id: Uuid) -> Result<Vec<Attempt>, Error> {
        self.inner.attempts(tenant, id).await
    }
    async fn sweep(&self, before: SystemTime) -> Result<u64, Error> {
        self.inner.sweep(before).await
    }
}

fn welcome(i: usize) -> SendRequest {
    SendRequest::new(
        ChannelKind::Email,
        format!("user{i}@example.com"),
        "welcome",
        json!({"name": "Ann"}),
    )
}

#[tokio::test]
async fn a_batch_is_started_and_settled_with_one_call_each() {
    let w = world();
    let log = Arc::new(Counting {
        inner: w.log.clone(),
        calls: Mutex::default(),
    });
    let mail = MemoryChannel::new("mem", ChannelKind::Email);
    mail.fail_next(1, || DeliveryError::retryable("deferred"));
    let d = Dispatcher::builder(log.clone(), w.templates.clone())
        .provider(Arc::new(mail.clone()))
        .clock(w.clock.shared())
        .build();
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(w.notifier.send(&w.tenant, welcome(i)).await.unwrap().id);
    }
    assert_eq!(d.run_once(&*w.queue, "baas-notify", 10).await.unwrap(), 5);
    assert_eq!(log.count("start_many"), 1);
    assert_eq!(log.count("settle_many"), 1);
    for single in ["get", "set_status", "record_attempt"] {
        assert_eq!(log.count(single), 0, "{single} per delivery");
    }

    let mut statuses = Vec::new();
    for id in &ids {
        let n = w.log.get(&w.tenant, *id).await.unwrap().unwrap();
        let attempts = w.log.attempts(&w.tenant, *id).await.unwrap();
        assert_eq!(attempts.len(), 1, "every attempt is kept");
        assert_eq!(n.attempts, 1);
        let expected = if n.status == Status::Sent {
            Outcome::Sent
        } else {
            Outcome::Retryable
        };
        assert_eq!(attempts[0].outcome, expected);
        statuses.push(n.status);
    }
    assert_eq!(statuses.iter().filter(|s| **s == Status::Sent).count(), 4);
    assert_eq!(statuses.iter().filter(|s| **s == Status::Failed).count(), 1);
    assert_eq!(mail.sent().len(), 4);
    // The four were acknowledged, the failed one waits for its retry.
    let stats = w.queue.stats("baas-notify").await.unwrap();
    assert_eq!(stats.depth, Some(1));
}

/// Reads the notification's status from the log while its attempt is in flight.
#[derive(Debug)]
struct Peek {
    log: Arc<MemoryDeliveryLog>,
    tenant: TenantId,
    seen: Arc<Mutex<Vec<Status>>>,
}

#[async_trait]
impl Channel for Peek {
    fn name(&self) -> &str {
        "peek"
    }
    fn kind(&self) -> ChannelKind {
        ChannelKind::Email
    }
    async fn send(&self, message: &Message) -> Result<Receipt, DeliveryError> {
        let Message::Email(m) = message else {
            return Err(DeliveryError::permanent("email only"));
        };
        let id = Uuid::parse_str(&m.id).unwrap();
        let n = self.log.get(&self.tenant, id).await.unwrap().unwrap();
        self.seen.lock().push(n.status);
        Ok(Receipt::default())
    }
}

#[tokio::test]
async fn sending_is_what_a_reader_sees_while_the_attempt_is_in_flight() {
    let w = world();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let d = w
        .dispatcher()
        .provider(Arc::new(Peek {
            log: w.log.clone(),
            tenant: w.tenant.clone(),
            seen: seen.clone(),
        }))
        .build();
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(w.notifier.send(&w.tenant, welcome(i)).await.unwrap().id);
    }
    for id in &ids {
        let n = w.log.get(&w.tenant, *id).await.unwrap().unwrap();
        assert_eq!(n.status, Status::Queued);
    }
    d.run_once(&*w.queue, "baas-notify", 10).await.unwrap();
    assert_eq!(*seen.lock(), [Status::Sending; 3]);
    for id in &ids {
        let n = w.log.get(&w.tenant, *id).await.unwrap().unwrap();
        assert_eq!(n.status, Status::Sent);
    }
}

#[tokio::test]
async fn a_job_twice_in_one_batch_is_delivered_once() {
    let w = world();
    let mail = MemoryChannel::new("mem", ChannelKind::Email);
    let d = w.dispatcher().provider(Arc::new(mail.clone())).build();
    let n = w.notifier.send(&w.tenant, welcome(0)).await.unwrap();
    // An at-least-once duplicate of the same job (no dedupe key, so it is kept).
    let job = DeliveryJob {
        notification: n.id,
        webhook_id: None,
    };
    w.queue
        .enqueue(
            "baas-notify",
            NewMessage::json(w.tenant.clone(), &job).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(d.run_once(&*w.queue, "baas-notify", 10).await.unwrap(), 2);
    assert_eq!(mail.sent().len(), 1);
    assert_eq!(w.log.attempts(&w.tenant, n.id).await.unwrap().len(), 1);
    assert_eq!(
        w.log.get(&w.tenant, n.id).await.unwrap().unwrap().status,
        Status::Sent
    );
    assert!(
        w.queue
            .reserve_one("baas-notify", Duration::from_secs(1))
            .await
            .unwrap()
            .is_none(),
        "both copies acknowledged"
    );
}

#[tokio::test]
async fn an_endpoint_disabled_here_stops_its_queued_deliveries_at_once() {
    let w = world();
    let hooks = MemoryChannel::new("webhook", ChannelKind::Webhook);
    let d = w.dispatcher().provider(Arc::new(hooks.clone())).build();
    let (ep, _) = w
        .endpoints
        .create(&w.tenant, "http://127.0.0.1:9/hook", vec!["*".into()])
        .await
        .unwrap();
    let mut deliveries = Vec::new();
    for i in 0..4 {
        let e = w
            .notifier
            .publish(&w.tenant, "a", json!({ "i": i }))
            .await
            .unwrap();
        deliveries.push(e.deliveries[0]);
    }
    // The first delivery opens the endpoint (and caches it).
    assert_eq!(d.run_once(&*w.queue, "baas-notify", 1).await.unwrap(), 1);
    assert_eq!(hooks.sent().len(), 1);

    // Disabled through the registry: the next batch sees it, cache or not.
    w.endpoints
        .set_disabled(&w.tenant, ep.id, true)
        .await
        .unwrap();
    let job = w
        .queue
        .reserve_one("baas-notify", Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    let disposition = d.handle(&*w.queue, job).await.unwrap();
    assert_eq!(
        disposition,
        Disposition::DeadLetter("the endpoint is disabled".into())
    );
    assert_eq!(hooks.calls(), 1, "not tried");

    // Re-enabled, then a 410 from the target: the dispatcher disables it, and its own
    // cache forgets it, so the last delivery is not tried either.
    w.endpoints
        .set_disabled(&w.tenant, ep.id, false)
        .await
        .unwrap();
    hooks.fail_next(1, || DeliveryError::gone("provider answered 410"));
    assert_eq!(d.run_once(&*w.queue, "baas-notify", 1).await.unwrap(), 1);
    assert!(
        w.endpoints
            .get(&w.tenant, ep.id)
            .await
            .unwrap()
            .unwrap()
            .disabled
    );
    assert_eq!(d.run_once(&*w.queue, "baas-notify", 10).await.unwrap(), 1);
    assert_eq!(hooks.calls(), 2);
    let statuses: Vec<Status> = {
        let mut v = Vec::new();
        for id in &deliveries {
            v.push(w.log.get(&w.tenant, *id).await.unwrap().unwrap().status);
        }
        v
    };
    assert_eq!(
        statuses,
        [Status::Sent, Status::Dead, Status::Dead, Status::Dead]
    );
    assert_eq!(
        w.queue.dead_letters("baas-notify", 10).await.unwrap().len(),
        2,
        "the two never tried; the 410 is acknowledged"
    );
}

/// After a batch that was not full the worker waits its linger before it reserves again,
/// so what arrives meanwhile is delivered as one batch, not one batch per notification.
#[tokio::test(start_paused = true)]
async fn after_a_batch_that_was_not_full_the_next_one_fills() {
    let w = world();
    let log = Arc::new(Counting {
        inner: w.log.clone(),
        calls: Mutex::default(),
    });
    let mail = MemoryChannel::new("mem", ChannelKind::Email);
    let d = Dispatcher::builder(log.clone(), w.templates.clone())
        .provider(Arc::new(mail.clone()))
        .clock(w.clock.shared())
        .linger(Duration::from_millis(50))
        .build();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let queue: Arc<dyn baas_queue::Queue> = w.queue.clone();
    let worker = tokio::spawn({
        let d = d.clone();
        async move {
            d.run(queue, 32, async {
                let _ = stopped.await;
            })
            .await;
        }
    });
    let yield_a_while = || async {
        for _ in 0..50 {
            tokio::task::yield_now().await;
        }
    };

    w.notifier.send(&w.tenant, welcome(0)).await.unwrap();
    while mail.sent().is_empty() {
        tokio::task::yield_now().await;
    }
    // The worker lingers now (time stands still while this task keeps running): three
    // more arrive, with room for the worker to run between them.
    for i in 1..4 {
        w.notifier.send(&w.tenant, welcome(i)).await.unwrap();
        yield_a_while().await;
    }
    assert_eq!(
        mail.sent().len(),
        1,
        "nothing is reserved while the worker lingers"
    );
    tokio::time::sleep(Duration::from_millis(60)).await;
    while mail.sent().len() < 4 {
        tokio::task::yield_now().await;
    }
    assert_eq!(log.count("start_many"), 2, "the three went as one batch");

    let _ = stop.send(());
    worker.await.unwrap();
}

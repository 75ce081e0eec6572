//! The RabbitMQ backend against a real broker (`BAAS_TEST_AMQP_URL`; the management API
//! through `BAAS_TEST_AMQP_MANAGEMENT_URL` when set). Without the variable every test
//! prints SKIPPED and passes — unless `BAAS_REQUIRE_SERVICES=1`, which makes it fail.
//!
//! The conformance suite runs one check per test (in real time: RabbitMQ cannot take an
//! injected clock for its delay tiers), followed by checks of what only this backend
//! does. Each test uses queue names of its own and deletes them afterwards, pass or
//! fail.
#![cfg(feature = "amqp")]

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use baas_core::ManualClock;
use baas_core::TenantId;
use baas_core::testing::{service, unique_name};
use baas_queue::amqp::{AmqpConfig, AmqpQueue};
use baas_queue::testing::{self, Harness};
use baas_queue::{DynQueue, NewMessage, Queue, QueueExt, Reserve};
use futures::FutureExt as _;
use futures::future::BoxFuture;

const PREFIX: &str = "baas-test";

fn acme() -> TenantId {
    TenantId::new("acme").unwrap()
}

/// A config for the test broker, or `None` (skipped).
fn config() -> Option<AmqpConfig> {
    let url = service("BAAS_TEST_AMQP_URL")?;
    let mut config = AmqpConfig::new(url)
        .with_prefix(PREFIX)
        .with_delay_tiers([Duration::from_millis(200), Duration::from_secs(1)]);
    if let Ok(management) = std::env::var("BAAS_TEST_AMQP_MANAGEMENT_URL")
        && !management.trim().is_empty()
    {
        config = config.with_management_url(management);
    }
    Some(config)
}

/// Run `test` with a connected queue and `n` fresh queue names; delete the queues
/// afterwards even when the test panics.
async fn with_queues<F, Fut>(config: AmqpConfig, n: usize, test: F)
where
    F: FnOnce(Arc<AmqpQueue>, Vec<String>) -> Fut,
    Fut: Future<Output = ()>,
{
    let queue = Arc::new(AmqpQueue::connect(config).await.expect("connect"));
    let names: Vec<String> = (0..n).map(|_| unique_name("q")).collect();
    let outcome = AssertUnwindSafe(test(Arc::clone(&queue), names.clone()))
        .catch_unwind()
        .await;
    for name in &names {
        queue.delete_queue(name).await.expect("delete test queue");
    }
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// The suite's time unit: leases of 2-4 units must outlive a few broker round trips on a
/// loaded machine.
const UNIT: Duration = Duration::from_millis(500);

/// Run one conformance check against a fresh `AmqpQueue`, then delete every queue the
/// check made (they all start with the harness's unique prefix).
async fn run_check<F>(config: AmqpConfig, check: F)
where
    F: for<'a> FnOnce(&'a DynQueue, &'a Harness) -> BoxFuture<'a, ()>,
{
    // The suite's delays are 3 units: one tier of exactly that.
    let config = config.with_delay_tiers([UNIT * 3]).with_prefetch(128);
    let queue = AmqpQueue::connect(config).await.expect("connect");
    let harness = Harness::real_time(queue.capabilities(), UNIT).with_prefix(unique_name("suite"));
    let outcome = AssertUnwindSafe(check(&queue as &DynQueue, &harness))
        .catch_unwind()
        .await;
    for name in queue.queues().await.expect("list queues") {
        if name.starts_with(&harness.prefix) {
            queue.delete_queue(&name).await.expect("delete test queue");
        }
    }
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

/// One `#[tokio::test]` per conformance check.
macro_rules! suite {
    ($($check:ident),* $(,)?) => {
        mod suite {
            use super::*;
            $(
                #[tokio::test]
                async fn $check() {
                    let Some(config) = config() else { return };
                    run_check(config, |q, h| Box::pin(testing::$check(q, h))).await;
                }
            )*
        }
    };
}

suite!(
    enqueue_reserve_ack,
    stale_leases_are_refused,
    lease_expiry_redelivers,
    extend_keeps_the_lease,
    nack_delays_redelivery,
    delayed_messages_wait,
    dedupe_window,
    dead_letter_and_redrive,
    batch_enqueue,
    fifo_order,
    tenant_is_carried,
    stats_are_correct,
    purge_removes_waiting,
    queues_are_listed,
    bad_input_changes_nothing,
    concurrent_reservers_never_share,
);

fn reserve(max: usize) -> Reserve {
    Reserve::new(max, Duration::from_secs(30)).wait(Duration::from_secs(10))
}

#[tokio::test]
async fn enqueue_reserve_ack_round_trip() {
    let Some(config) = config() else { return };
    with_queues(config, 1, |queue, names| async move {
        let q = &names[0];
        // What RabbitMQ cannot do is declared, not faked.
        let caps = queue.capabilities();
        assert_eq!(caps.dedupe_window, None);
        assert!(!caps.fifo && !caps.atomic_batch && !caps.exact_stats);
        assert_eq!(caps.delay_granularity, Some(Duration::from_millis(800)));

        let message = NewMessage::json(acme(), &serde_json::json!({"n": 1}))
            .unwrap()
            .header("type", "welcome")
            .dedupe_key("k-1");
        let enqueued = queue.enqueue(q, message).await.unwrap();
        assert!(!enqueued.duplicate);

        let got = queue.reserve(q, reserve(10)).await.unwrap();
        assert_eq!(got.len(), 1);
        let delivery = &got[0];
        assert_eq!(delivery.message.id, enqueued.id);
        assert_eq!(delivery.message.tenant, acme());
        assert_eq!(delivery.message.headers["type"], "welcome");
        assert_eq!(delivery.message.headers["content-type"], "application/json");
        assert_eq!(delivery.message.dedupe_key.as_deref(), Some("k-1"));
        assert_eq!(delivery.attempt, 1);
        let body: serde_json::Value = delivery.message.json().unwrap();
        assert_eq!(body["n"], 1);

        queue.ack(&delivery.lease).await.unwrap();
        assert!(
            queue
                .ack(&delivery.lease)
                .await
                .unwrap_err()
                .is_lease_lost()
        );
        let stats = queue.stats(q).await.unwrap();
        assert_eq!(stats.depth, Some(0));
        assert_eq!(stats.dead, Some(0));
        assert!(queue.queues().await.unwrap().contains(q));
    })
    .await;
}

/// `ack_batch` acks a group with one `multiple` ack only when the group is exactly the
/// channel's oldest open deliveries: a group above a delivery still held, or beside one
/// still buffered, must leave those alone (an over-reaching multiple ack would settle
/// them, and their own ack would then close the channel).
#[tokio::test]
async fn ack_batch_never_settles_a_delivery_outside_the_batch() {
    let Some(config) = config() else { return };
    with_queues(config.with_prefetch(16), 1, |queue, names| async move {
        let q = &names[0];
        let messages = (0..10)
            .map(|i| NewMessage::new(acme(), format!("m{i}")))
            .collect();
        queue.enqueue_batch(q, messages).await.unwrap();
        let mut held = Vec::new();
        while held.len() < 6 {
            let got = queue.reserve(q, reserve(6 - held.len())).await.unwrap();
            assert!(!got.is_empty(), "the messages arrive");
            held.extend(got);
        }
        // Oldest held first: deliveries arrive in tag order on the consumer's channel.
        // A group without the oldest held delivery: acked one by one.
        let outcomes = queue
            .ack_batch(&[held[2].lease.clone(), held[3].lease.clone()])
            .await;
        assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
        // The oldest two: a run of the lowest open tags (one multiple ack); held[4] and
        // held[5] and the buffered rest stay unacknowledged.
        let outcomes = queue
            .ack_batch(&[held[1].lease.clone(), held[0].lease.clone()])
            .await;
        assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
        // Had the multiple ack reached held[4], acking it now would be an unknown tag
        // and close the channel, failing this ack or the next reserve.
        queue.ack(&held[4].lease).await.unwrap();
        let outcomes = queue
            .ack_batch(&[held[5].lease.clone(), held[0].lease.clone()])
            .await;
        assert!(outcomes[0].is_ok(), "{outcomes:?}");
        assert!(
            outcomes[1].as_ref().unwrap_err().is_lease_lost(),
            "acked already"
        );
        let mut rest = Vec::new();
        while rest.len() < 4 {
            let got = queue.reserve(q, reserve(4 - rest.len())).await.unwrap();
            assert!(!got.is_empty(), "the 4 not yet reserved are still there");
            rest.extend(got);
        }
        let leases: Vec<_> = rest.iter().map(|d| d.lease.clone()).collect();
        let outcomes = queue.ack_batch(&leases).await;
        assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
        let stats = queue.stats(q).await.unwrap();
        assert_eq!(
            stats.depth,
            Some(0),
            "every message settled once, none lost"
        );
        assert!(
            queue
                .reserve(q, Reserve::new(10, Duration::from_secs(30)))
                .await
                .unwrap()
                .is_empty()
        );
    })
    .await;
}

#[tokio::test]
async fn expired_lease_is_requeued_and_its_tag_never_acked() {
    let Some(config) = config() else { return };
    let clock = ManualClock::new();
    let config = config.with_clock(clock.shared());
    with_queues(config, 1, |queue, names| async move {
        let q = &names[0];
        let id = queue.enqueue_bytes(q, &acme(), "x").await.unwrap().id;
        let first = queue
            .reserve(
                q,
                Reserve::new(1, Duration::from_secs(30)).wait(Duration::from_secs(10)),
            )
            .await
            .unwrap()
            .remove(0);
        assert_eq!(queue.stats(q).await.unwrap().depth, Some(0));

        clock.advance(Duration::from_secs(31));
        let second = queue.reserve(q, reserve(1)).await.unwrap();
        assert_eq!(second.len(), 1, "the expired lease's message comes back");
        let second = &second[0];
        assert_eq!(second.message.id, id);
        assert_eq!(second.attempt, 2);
        assert_ne!(second.lease.token, first.lease.token);

        // The first delivery's tag was rejected: acking it is refused and must not
        // disturb the channel the second delivery lives on.
        assert!(queue.ack(&first.lease).await.unwrap_err().is_lease_lost());
        assert!(
            queue
                .extend(&first.lease, Duration::from_secs(5))
                .await
                .unwrap_err()
                .is_lease_lost()
        );
        queue
            .extend(&second.lease, Duration::from_secs(60))
            .await
            .unwrap();
        clock.advance(Duration::from_secs(31));
        queue.ack(&second.lease).await.unwrap();
        assert_eq!(queue.stats(q).await.unwrap().depth, Some(0));
    })
    .await;
}

#[tokio::test]
async fn nack_waits_in_a_delay_tier_and_counts_the_attempt() {
    let Some(config) = config() else { return };
    with_queues(config, 1, |queue, names| async move {
        let q = &names[0];
        queue.enqueue_bytes(q, &acme(), "retry me").await.unwrap();
        let first = queue.reserve(q, reserve(1)).await.unwrap().remove(0);
        let nacked_at = Instant::now();
        queue
            .nack(&first.lease, Duration::from_millis(150))
            .await
            .unwrap();
        assert!(queue.ack(&first.lease).await.unwrap_err().is_lease_lost());

        let again = queue.reserve(q, reserve(1)).await.unwrap();
        assert_eq!(again.len(), 1);
        // Rounded up to the 200 ms tier: never early.
        assert!(nacked_at.elapsed() >= Duration::from_millis(150));
        assert_eq!(again[0].message.id, first.message.id);
        assert_eq!(again[0].message.payload, first.message.payload);
        assert_eq!(again[0].attempt, 2);

        // A zero retry goes straight back.
        queue.nack(&again[0].lease, Duration::ZERO).await.unwrap();
        let third = queue.reserve(q, reserve(1)).await.unwrap();
        assert_eq!(third[0].attempt, 3);
        queue.ack(&third[0].lease).await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn delays_beyond_the_last_tier_hop_until_due() {
    let Some(config) = config() else { return };
    let config = config.with_delay_tiers([Duration::from_millis(200)]);
    with_queues(config, 1, |queue, names| async move {
        let q = &names[0];
        let enqueued_at = Instant::now();
        let message = NewMessage::new(acme(), "later").delay(Duration::from_millis(700));
        let id = queue.enqueue(q, message).await.unwrap().id;
        assert_eq!(
            queue.stats(q).await.unwrap().depth,
            Some(1),
            "a delayed message is waiting"
        );
        let got = queue.reserve(q, reserve(1)).await.unwrap();
        let got = if got.is_empty() {
            // The hop may land while the reserve waits on an empty buffer; once more.
            queue.reserve(q, reserve(1)).await.unwrap()
        } else {
            got
        };
        assert_eq!(got.len(), 1);
        assert!(enqueued_at.elapsed() >= Duration::from_millis(700));
        assert_eq!(got[0].message.id, id);
        assert_eq!(got[0].attempt, 1);
        queue.ack(&got[0].lease).await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn dead_letters_keep_their_reason_and_redrive_resets_attempts() {
    let Some(config) = config() else { return };
    with_queues(config, 1, |queue, names| async move {
        let q = &names[0];
        let id = queue.enqueue_bytes(q, &acme(), "poison").await.unwrap().id;
        let first = queue.reserve(q, reserve(1)).await.unwrap().remove(0);
        queue.nack(&first.lease, Duration::ZERO).await.unwrap();
        let second = queue.reserve(q, reserve(1)).await.unwrap().remove(0);
        queue
            .dead_letter(&second.lease, "bad input: no such user")
            .await
            .unwrap();
        assert!(queue.ack(&second.lease).await.unwrap_err().is_lease_lost());

        let dead = queue.dead_letters(q, 10).await.unwrap();
        assert_eq!(dead.len(), 1);
        assert_eq!(dead[0].message.id, id);
        assert_eq!(dead[0].message.tenant, acme());
        assert_eq!(dead[0].reason, "bad input: no such user");
        assert_eq!(dead[0].attempts, 2);
        // Listing does not consume.
        assert_eq!(queue.dead_letters(q, 10).await.unwrap().len(), 1);
        let stats = queue.stats(q).await.unwrap();
        assert_eq!((stats.depth, stats.dead), (Some(0), Some(1)));

        assert_eq!(queue.redrive(q, 10).await.unwrap(), 1);
        assert_eq!(queue.stats(q).await.unwrap().dead, Some(0));
        let back = queue.reserve(q, reserve(1)).await.unwrap().remove(0);
        assert_eq!(back.message.id, id);
        assert_eq!(back.attempt, 1, "redrive resets the attempt count");
        queue.ack(&back.lease).await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn purge_removes_waiting_and_prefetched_but_not_leased() {
    let Some(config) = config() else { return };
    with_queues(config, 1, |queue, names| async move {
        let q = &names[0];
        let batch = (0..5)
            .map(|i| NewMessage::new(acme(), format!("m{i}")))
            .collect();
        queue.enqueue_batch(q, batch).await.unwrap();
        queue
            .enqueue(
                q,
                NewMessage::new(acme(), "later").delay(Duration::from_secs(1)),
            )
            .await
            .unwrap();
        // Reserving one starts the consumer, which prefetches the rest.
        let leased = queue.reserve(q, reserve(1)).await.unwrap().remove(0);
        assert_eq!(queue.stats(q).await.unwrap().depth, Some(5));
        assert_eq!(queue.purge(q).await.unwrap(), 5);
        assert_eq!(queue.stats(q).await.unwrap().depth, Some(0));
        queue.ack(&leased.lease).await.unwrap();
        assert!(
            queue
                .reserve(q, Reserve::new(1, Duration::from_secs(1)))
                .await
                .unwrap()
                .is_empty()
        );
    })
    .await;
}

#[tokio::test]
async fn unknown_queues_are_empty_and_bad_names_refused() {
    let Some(config) = config() else { return };
    with_queues(config, 1, |queue, names| async move {
        let q = &names[0];
        let stats = queue.stats(q).await.unwrap();
        assert_eq!(
            (stats.depth, stats.in_flight, stats.dead),
            (Some(0), Some(0), Some(0))
        );
        assert_eq!(queue.purge(q).await.unwrap(), 0);
        assert!(queue.dead_letters(q, 10).await.unwrap().is_empty());
        assert_eq!(queue.redrive(q, 10).await.unwrap(), 0);
        assert!(!queue.queues().await.unwrap().contains(q));
        for bad in ["x.dead", "a.delay.b", "a b", ""] {
            assert!(
                queue.enqueue_bytes(bad, &acme(), "x").await.is_err(),
                "{bad:?}"
            );
        }
        // The broker connection survived the refusals.
        queue.enqueue_bytes(q, &acme(), "x").await.unwrap();
        assert_eq!(queue.stats(q).await.unwrap().depth, Some(1));
    })
    .await;
}

//! `impl Queue for AmqpQueue`: the message path (enqueue, reserve, settle).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use baas_core::TenantId;
use tokio::time::Instant;

use super::admin;
use super::envelope::{DeadInfo, Envelope};
use super::lease::Held;
use super::names::{Names, tier_for};
use super::publish::{Outgoing, publish_confirmed};
use super::queue::{AmqpQueue, Inner, into_queue_error};
use super::tags::{self, Pushed};
use crate::error::{QueueError, QueueResult};
use crate::queue::{
    Capabilities, DeadLetter, Delivery, Enqueued, Lease, LeaseToken, Message, MessageId,
    NewMessage, Queue, QueueStats, Reserve, truncate_reason, validate_batch, validate_delay,
    validate_lease,
};

/// How long a reserve that found nothing buffered waits for messages the broker reports
/// ready (they are on their way to the consumer).
const SETTLE_WAIT: Duration = Duration::from_millis(500);

pub(crate) fn millis(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

pub(crate) fn from_millis(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}

/// Where a message due in `delay` goes: the delay tier that holds it, or the main
/// queue; and the not-before time to stamp when the tier is shorter than the delay.
pub(crate) fn route(
    inner: &Inner,
    names: &Names,
    delay: Duration,
    now: SystemTime,
) -> (String, Option<u64>) {
    match tier_for(&inner.config.delay_tiers, delay) {
        None => (names.main.clone(), None),
        Some(tier) if tier >= delay => (names.delay(tier), None),
        Some(tier) => (names.delay(tier), Some(millis(now + delay))),
    }
}

/// The most a delay can be rounded up by with `tiers`: the first tier (for tiny
/// delays) or the widest gap between neighbouring tiers (longer delays hop through the
/// last tier and round only their remainder).
pub(crate) fn rounding(tiers: &[Duration]) -> Duration {
    let first = tiers.first().copied().unwrap_or_default();
    tiers
        .windows(2)
        .map(|pair| pair[1] - pair[0])
        .fold(first, Duration::max)
}

impl AmqpQueue {
    async fn publish(&self, items: Vec<(String, Envelope, &[u8])>) -> QueueResult<()> {
        let channel = self
            .inner
            .connector
            .publisher()
            .await
            .map_err(into_queue_error)?;
        let outgoing = items
            .iter()
            .map(|(queue, envelope, payload)| Outgoing {
                exchange: "",
                routing_key: queue,
                payload,
                properties: envelope.to_properties(),
            })
            .collect();
        publish_confirmed(&channel, outgoing, self.inner.config.confirm_timeout)
            .await
            .map_err(into_queue_error)
    }

    /// Settle a delivery the backend will not hand out: a foreign message goes to the
    /// DLQ through the broker's own dead-lettering; a not-yet-due one hops again.
    async fn divert(&self, names: &Names, delivery: Pushed, now: SystemTime) -> QueueResult<()> {
        let Some(envelope) = Envelope::from_properties(&delivery.properties)
            .filter(|envelope| TenantId::new(&envelope.tenant).is_ok())
        else {
            tracing::warn!(queue = %names.main, "dead-lettering a message this backend did not write");
            let _ = delivery.settle.reject(false).await;
            return Ok(());
        };
        let due = envelope.not_before_ms.map_or(now, from_millis);
        let remaining = due.duration_since(now).unwrap_or_default();
        let (target, not_before) = route(&self.inner, names, remaining, now);
        let envelope = Envelope {
            not_before_ms: not_before,
            ..envelope
        };
        match self.publish(vec![(target, envelope, &delivery.data)]).await {
            Ok(()) => {
                let _ = delivery.settle.ack().await;
                Ok(())
            }
            Err(error) => {
                let _ = delivery.settle.reject(true).await;
                Err(error)
            }
        }
    }

    /// Take the live lease `lease` for settling, or say it is lost.
    fn take_lease(&self, lease: &Lease) -> QueueResult<Held> {
        self.inner
            .leases
            .take(lease.token.as_uuid(), &lease.queue, lease.message.as_uuid())
            .ok_or(QueueError::LeaseLost)
    }

    /// Republish `held`'s message as `envelope` to `target`, then ack the original.
    /// If the publish fails, the original is requeued instead.
    async fn move_held(&self, held: Held, target: String, envelope: Envelope) -> QueueResult<()> {
        if !held.acker.usable() {
            return Err(QueueError::LeaseLost);
        }
        if let Err(error) = self.publish(vec![(target, envelope, &held.payload)]).await {
            let _ = held.acker.reject(true).await;
            return Err(error);
        }
        self.inner.leases.settled(held.message);
        match held.acker.ack().await {
            Ok(true) => Ok(()),
            // The channel died after the copy was confirmed: the broker requeued the
            // original, so the message exists twice (at least once, never lost).
            Ok(false) => Err(QueueError::LeaseLost),
            Err(error) => Err(into_queue_error(
                super::error::AmqpError::broker("basic.ack")(error).into(),
            )),
        }
    }

    /// Put `delivery` under a new lease.
    fn to_delivery(
        &self,
        queue: &str,
        delivery: Pushed,
        envelope: Envelope,
        tenant: TenantId,
        lease: Duration,
        now: SystemTime,
    ) -> Delivery {
        let expiries = self.inner.leases.expiries(envelope.id);
        // `redelivered` without a local expiry: another process's lease lapsed or its
        // connection died — at least one more attempt than the header says.
        let extra = if expiries == 0 && delivery.redelivered {
            1
        } else {
            expiries
        };
        let attempt = envelope.attempts.saturating_add(1).saturating_add(extra);
        let token = LeaseToken::new();
        let deadline = now + lease;
        let payload = bytes::Bytes::from(delivery.data);
        let message = Message {
            id: MessageId::from_uuid(envelope.id),
            tenant,
            payload: payload.clone(),
            headers: envelope.headers.clone(),
            enqueued_at: from_millis(envelope.enqueued_at_ms),
            dedupe_key: envelope.dedupe_key.clone(),
        };
        self.inner.leases.insert(
            token.as_uuid(),
            Held {
                queue: queue.to_owned(),
                message: envelope.id,
                acker: delivery.settle,
                payload,
                envelope: Envelope {
                    attempts: attempt,
                    ..envelope
                },
                attempt,
                deadline,
            },
        );
        Delivery {
            lease: Lease {
                queue: queue.to_owned(),
                message: message.id,
                token,
            },
            message,
            attempt,
            lease_expires_at: deadline,
        }
    }
}

#[async_trait]
impl Queue for AmqpQueue {
    fn capabilities(&self) -> Capabilities {
        Capabilities::full(Duration::ZERO)
            .without_dedupe()
            .with_delay_granularity(rounding(&self.inner.config.delay_tiers))
            .with_fifo(false)
            .with_atomic_batch(false)
            .with_exact_stats(false)
    }

    async fn enqueue(&self, queue: &str, message: NewMessage) -> QueueResult<Enqueued> {
        Ok(self.enqueue_batch(queue, vec![message]).await?.remove(0))
    }

    async fn enqueue_batch(
        &self,
        queue: &str,
        messages: Vec<NewMessage>,
    ) -> QueueResult<Vec<Enqueued>> {
        self.inner.names(queue)?;
        validate_batch(&messages)?;
        if messages.is_empty() {
            return Ok(Vec::new());
        }
        let names = self.inner.ensure(queue).await?;
        let now = self.inner.now();
        let mut out = Vec::with_capacity(messages.len());
        let mut items = Vec::with_capacity(messages.len());
        for message in &messages {
            let id = MessageId::new();
            let (target, not_before) =
                route(&self.inner, &names, message.delay.unwrap_or_default(), now);
            let envelope = Envelope {
                id: id.as_uuid(),
                tenant: message.tenant.as_str().to_owned(),
                headers: message.headers.clone(),
                enqueued_at_ms: millis(now),
                dedupe_key: message.dedupe_key.clone(),
                attempts: 0,
                not_before_ms: not_before,
                dead: None,
            };
            items.push((target, envelope, message.payload.as_ref()));
            out.push(Enqueued {
                id,
                duplicate: false,
            });
        }
        self.publish(items).await?;
        Ok(out)
    }

    async fn reserve(&self, queue: &str, reserve: Reserve) -> QueueResult<Vec<Delivery>> {
        self.inner.names(queue)?;
        reserve.validate()?;
        let names = self.inner.ensure(queue).await?;
        self.inner.sweep_now().await;
        let consumer = self.inner.prefetcher(queue, &names).await?;
        let mut out = Vec::new();
        let deadline = Instant::now() + reserve.wait;
        // Once the broker reports ready messages this consumer has room for, they are on
        // their way: wait for that many more, up to `SETTLE_WAIT`.
        let mut settle: Option<(Instant, usize)> = None;
        let mut asked_broker = false;
        loop {
            let now = Instant::now();
            let until = match (out.is_empty(), settle) {
                (true, Some((settle_until, _))) => deadline.max(settle_until),
                (true, None) => deadline,
                (false, Some((settle_until, _))) => settle_until,
                (false, None) => now,
            };
            let want = reserve.max - out.len();
            let got = consumer
                .take_or_wait(want, until.saturating_duration_since(now))
                .await;
            if got.is_empty() {
                if asked_broker || !consumer.is_alive() {
                    break;
                }
                asked_broker = true;
                let held = self.inner.leases.count(queue) + consumer.buffered();
                let room = usize::from(self.inner.config.prefetch).saturating_sub(held);
                // No room: the broker sends nothing more until something is settled, so
                // there is nothing to ask it about.
                let ready = if room == 0 {
                    0
                } else {
                    self.inner.ready(&names.main).await?.unwrap_or(0)
                };
                let coming = room.min(usize::try_from(ready).unwrap_or(usize::MAX));
                if coming > 0 {
                    settle = Some((Instant::now() + SETTLE_WAIT, coming));
                }
                // Look again either way: what the broker dispatched before answering
                // has arrived by now.
                continue;
            }
            if let Some((settle_until, coming)) = settle {
                let coming = coming.saturating_sub(got.len());
                settle = (coming > 0).then_some((settle_until, coming));
            }
            let now = self.inner.now();
            for delivery in got {
                let readable =
                    Envelope::from_properties(&delivery.properties).and_then(|envelope| {
                        let tenant = TenantId::new(&envelope.tenant).ok()?;
                        Some((envelope, tenant))
                    });
                match readable {
                    Some((envelope, tenant))
                        if envelope
                            .not_before_ms
                            .is_none_or(|due| from_millis(due) <= now) =>
                    {
                        let lease = reserve.lease;
                        out.push(self.to_delivery(queue, delivery, envelope, tenant, lease, now));
                    }
                    _ => self.divert(&names, delivery, now).await?,
                }
            }
            if out.len() >= reserve.max || !consumer.is_alive() {
                break;
            }
        }
        Ok(out)
    }

    async fn extend(&self, lease: &Lease, by: Duration) -> QueueResult<SystemTime> {
        validate_lease(by)?;
        self.inner.sweep_now().await;
        let deadline = self.inner.now() + by;
        if self.inner.leases.extend(
            lease.token.as_uuid(),
            &lease.queue,
            lease.message.as_uuid(),
            deadline,
        ) {
            Ok(deadline)
        } else {
            Err(QueueError::LeaseLost)
        }
    }

    async fn ack(&self, lease: &Lease) -> QueueResult<()> {
        self.inner.sweep_now().await;
        let held = self.take_lease(lease)?;
        self.inner.leases.settled(held.message);
        acked(held.acker.ack().await)
    }

    /// Acks whose deliveries arrived on the same channel and are its oldest open ones go
    /// as one `basic.ack` with `multiple` set (see `tags`); the rest one by one.
    async fn ack_batch(&self, leases: &[Lease]) -> Vec<QueueResult<()>> {
        self.inner.sweep_now().await;
        let taken: Vec<QueueResult<Held>> = leases
            .iter()
            .map(|lease| {
                let held = self.take_lease(lease)?;
                self.inner.leases.settled(held.message);
                Ok(held)
            })
            .collect();
        let settles: Vec<_> = taken
            .iter()
            .filter_map(|held| held.as_ref().ok().map(|held| &held.acker))
            .collect();
        let mut acks = tags::ack_all(&settles).await.into_iter();
        taken
            .into_iter()
            .map(|held| {
                held?;
                acked(acks.next().expect("one outcome per ack"))
            })
            .collect()
    }

    async fn nack(&self, lease: &Lease, retry_in: Duration) -> QueueResult<()> {
        validate_delay(retry_in)?;
        self.inner.sweep_now().await;
        let names = self.inner.names(&lease.queue)?;
        let held = self.take_lease(lease)?;
        let now = self.inner.now();
        let (target, not_before) = route(&self.inner, &names, retry_in, now);
        let envelope = Envelope {
            not_before_ms: not_before,
            dead: None,
            ..held.envelope.clone()
        };
        self.move_held(held, target, envelope).await
    }

    async fn dead_letter(&self, lease: &Lease, reason: &str) -> QueueResult<()> {
        self.inner.sweep_now().await;
        let names = self.inner.names(&lease.queue)?;
        let held = self.take_lease(lease)?;
        let envelope = Envelope {
            not_before_ms: None,
            dead: Some(DeadInfo {
                reason: truncate_reason(reason).to_owned(),
                at_ms: millis(self.inner.now()),
                attempts: held.attempt,
            }),
            ..held.envelope.clone()
        };
        self.move_held(held, names.dead.clone(), envelope).await
    }

    async fn dead_letters(&self, queue: &str, limit: usize) -> QueueResult<Vec<DeadLetter>> {
        admin::dead_letters(&self.inner, queue, limit).await
    }

    async fn redrive(&self, queue: &str, max: usize) -> QueueResult<u64> {
        admin::redrive(self, queue, max).await
    }

    async fn stats(&self, queue: &str) -> QueueResult<QueueStats> {
        admin::stats(&self.inner, queue).await
    }

    async fn queues(&self) -> QueueResult<Vec<String>> {
        admin::queues(&self.inner).await
    }

    async fn purge(&self, queue: &str) -> QueueResult<u64> {
        admin::purge(&self.inner, queue).await
    }
}

/// The outcome of acking a held delivery.
fn acked(outcome: lapin::Result<bool>) -> QueueResult<()> {
    match outcome {
        Ok(true) => Ok(()),
        // Its channel died: the broker requeued the delivery.
        Ok(false) => Err(QueueError::LeaseLost),
        Err(error) => Err(into_queue_error(
            super::error::AmqpError::broker("basic.ack")(error).into(),
        )),
    }
}

/// The headers of a dead letter as the trait reports them.
pub(crate) fn dead_letter_of(envelope: Envelope, payload: Vec<u8>) -> Option<DeadLetter> {
    let tenant = TenantId::new(&envelope.tenant).ok()?;
    let dead = envelope.dead.clone().unwrap_or(DeadInfo {
        reason: "dead-lettered by the broker".to_owned(),
        at_ms: envelope.enqueued_at_ms,
        attempts: envelope.attempts,
    });
    Some(DeadLetter {
        message: Message {
            id: MessageId::from_uuid(envelope.id),
            tenant,
            payload: payload.into(),
            headers: envelope.headers,
            enqueued_at: from_millis(envelope.enqueued_at_ms),
            dedupe_key: envelope.dedupe_key,
        },
        reason: dead.reason,
        attempts: dead.attempts,
        dead_at: from_millis(dead.at_ms),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_is_the_widest_step() {
        let s = Duration::from_secs;
        assert_eq!(rounding(&[s(3)]), s(3));
        assert_eq!(rounding(&[s(1), s(5), s(30)]), s(25));
        assert_eq!(rounding(&[s(10), s(12)]), s(10));
    }
}

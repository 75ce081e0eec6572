//! Queue administration on RabbitMQ: dead letters, redrive, stats, the queue list,
//! purge.

use std::time::Duration;

use baas_core::TenantId;
use lapin::Channel;
use lapin::message::Delivery as AmqpDelivery;
use lapin::options::{BasicAckOptions, BasicGetOptions, QueuePurgeOptions};

use super::backend::{dead_letter_of, from_millis};
use super::envelope::Envelope;
use super::error::AmqpError;
use super::names::Names;
use super::publish::{Outgoing, publish_confirmed};
use super::queue::{AmqpQueue, Inner, into_queue_error};
use crate::error::QueueResult;
use crate::queue::{DeadLetter, MAX_BATCH, QueueStats};

/// How many dead letters a redrive moves per publish round trip.
const REDRIVE_CHUNK: usize = 100;

/// `basic.get` one message from `queue` on `channel` (unacknowledged: closing the
/// channel puts it back in place).
async fn get(channel: &Channel, queue: &str) -> QueueResult<Option<AmqpDelivery>> {
    let message = channel
        .basic_get(queue.into(), BasicGetOptions { no_ack: false })
        .await
        .map_err(|error| into_queue_error(AmqpError::broker("basic.get")(error).into()))?;
    Ok(message.map(|message| message.delivery))
}

async fn close(channel: &Channel) {
    let _ = channel.close(200, "baas-queue admin done".into()).await;
}

/// Read an envelope a dead letter can be reported with (a valid tenant).
fn readable(delivery: &AmqpDelivery) -> Option<Envelope> {
    Envelope::from_properties(&delivery.properties)
        .filter(|envelope| TenantId::new(&envelope.tenant).is_ok())
}

pub(crate) async fn dead_letters(
    inner: &Inner,
    queue: &str,
    limit: usize,
) -> QueueResult<Vec<DeadLetter>> {
    let names = inner.names(queue)?;
    if limit == 0 || inner.probe(&names.dead).await?.unwrap_or(0) == 0 {
        return Ok(Vec::new());
    }
    // Read on a private channel, then close it: the broker puts every message back
    // where it was.
    let channel = inner
        .connector
        .new_channel()
        .await
        .map_err(into_queue_error)?;
    let mut out = Vec::new();
    let result = async {
        while out.len() < limit {
            let Some(delivery) = get(&channel, &names.dead).await? else {
                break;
            };
            if let Some(envelope) = readable(&delivery) {
                out.extend(dead_letter_of(envelope, delivery.data));
            }
        }
        QueueResult::Ok(())
    }
    .await;
    close(&channel).await;
    result.map(|()| out)
}

pub(crate) async fn redrive(queue_impl: &AmqpQueue, queue: &str, max: usize) -> QueueResult<u64> {
    let inner = &queue_impl.inner;
    let names = inner.names(queue)?;
    if max == 0 || inner.probe(&names.dead).await?.unwrap_or(0) == 0 {
        return Ok(0);
    }
    let names = inner.ensure(queue).await?;
    let max = max.min(MAX_BATCH);
    let channel = inner
        .connector
        .new_channel()
        .await
        .map_err(into_queue_error)?;
    let result = redrive_on(inner, &channel, &names, max).await;
    close(&channel).await;
    result
}

async fn redrive_on(
    inner: &Inner,
    channel: &Channel,
    names: &Names,
    max: usize,
) -> QueueResult<u64> {
    let publisher = inner
        .connector
        .publisher()
        .await
        .map_err(into_queue_error)?;
    let mut moved = 0u64;
    let mut seen = 0usize;
    while seen < max {
        // Take a chunk, publish it back with attempts reset, then ack each from the DLQ.
        let mut chunk = Vec::new();
        while chunk.len() < REDRIVE_CHUNK && seen < max {
            let Some(delivery) = get(channel, &names.dead).await? else {
                break;
            };
            seen += 1;
            // A message this backend cannot read stays in the DLQ (back in place when
            // the channel closes).
            if let Some(envelope) = readable(&delivery) {
                chunk.push((delivery, envelope));
            }
        }
        if chunk.is_empty() {
            break;
        }
        let envelopes: Vec<Envelope> = chunk
            .iter()
            .map(|(_, envelope)| Envelope {
                attempts: 0,
                not_before_ms: None,
                dead: None,
                ..envelope.clone()
            })
            .collect();
        let outgoing = chunk
            .iter()
            .zip(&envelopes)
            .map(|((delivery, _), envelope)| Outgoing {
                exchange: "",
                routing_key: &names.main,
                payload: &delivery.data,
                properties: envelope.to_properties(),
            })
            .collect();
        publish_confirmed(&publisher, outgoing, inner.config.confirm_timeout)
            .await
            .map_err(into_queue_error)?;
        for (delivery, _) in chunk {
            delivery
                .acker
                .ack(BasicAckOptions::default())
                .await
                .map_err(|error| into_queue_error(AmqpError::broker("basic.ack")(error).into()))?;
            moved += 1;
        }
    }
    Ok(moved)
}

pub(crate) async fn stats(inner: &Inner, queue: &str) -> QueueResult<QueueStats> {
    let names = inner.names(queue)?;
    let Some(ready) = inner.probe(&names.main).await? else {
        return Ok(QueueStats {
            depth: Some(0),
            in_flight: Some(0),
            dead: Some(0),
            oldest_age: Some(Duration::ZERO),
        });
    };
    let mut delayed = 0;
    for tier in &inner.config.delay_tiers {
        delayed += inner.ready(&names.delay(*tier)).await?.unwrap_or(0);
    }
    let dead = inner.ready(&names.dead).await?.unwrap_or(0);
    let prefetcher = inner.running_prefetcher(queue).await;
    let buffered = prefetcher.as_ref().map_or(0, |p| p.buffered() as u64);
    let now = inner.now();
    let oldest_buffered = prefetcher
        .as_ref()
        .and_then(|p| p.oldest_enqueued_ms())
        .map(|ms| now.duration_since(from_millis(ms)).unwrap_or_default());

    let sampled = match &inner.management {
        Some(management) => match management.queue(&names.main).await {
            Ok(info) => info,
            Err(error) => {
                tracing::warn!(queue = %names.main, %error, "management API unavailable; stats are partial");
                None
            }
        },
        None => None,
    };
    let leased = inner.leases.count(queue) as u64;
    let in_flight = sampled
        .as_ref()
        .and_then(|info| info.messages_unacknowledged)
        .map(|unacked| unacked.saturating_sub(buffered).max(leased));
    let oldest_on_broker = if ready == 0 {
        Some(Duration::ZERO)
    } else {
        sampled
            .as_ref()
            .and_then(|info| info.head_message_timestamp)
            .map(|secs| {
                now.duration_since(from_millis(secs.saturating_mul(1000)))
                    .unwrap_or_default()
            })
    };
    let oldest_age = match (oldest_on_broker, oldest_buffered) {
        (Some(broker), Some(local)) => Some(broker.max(local)),
        (Some(broker), None) => Some(broker),
        // The broker's head is unknown and may be older than anything buffered here.
        (None, _) => None,
    };
    Ok(QueueStats {
        depth: Some(ready + delayed + buffered),
        in_flight,
        dead: Some(dead),
        oldest_age,
    })
}

pub(crate) async fn queues(inner: &Inner) -> QueueResult<Vec<String>> {
    let mut out: std::collections::BTreeSet<String> = inner.declared().into_iter().collect();
    if let Some(management) = &inner.management {
        let prefix = format!("{}.", inner.config.prefix);
        let dlx = format!("{}.dlx", inner.config.prefix);
        match management.queues().await {
            Ok(list) => {
                for info in list {
                    let is_main = info
                        .arguments
                        .get("x-dead-letter-exchange")
                        .and_then(|v| v.as_str())
                        == Some(dlx.as_str());
                    if let Some(name) = info.name.strip_prefix(&prefix)
                        && is_main
                        && inner.names(name).is_ok()
                    {
                        out.insert(name.to_owned());
                    }
                }
            }
            Err(error) => {
                tracing::warn!(%error, "management API unavailable; listing only queues declared here");
            }
        }
    }
    Ok(out.into_iter().collect())
}

pub(crate) async fn purge(inner: &Inner, queue: &str) -> QueueResult<u64> {
    let names = inner.names(queue)?;
    if inner.probe(&names.main).await?.is_none() {
        return Ok(0);
    }
    let names = inner.ensure(queue).await?;
    let channel = inner.connector.admin().await.map_err(into_queue_error)?;
    let mut purged = 0u64;
    let mut targets = vec![names.main.clone()];
    targets.extend(
        inner
            .config
            .delay_tiers
            .iter()
            .map(|tier| names.delay(*tier)),
    );
    for target in targets {
        let count = channel
            .queue_purge(target.as_str().into(), QueuePurgeOptions::default())
            .await
            .map_err(|error| into_queue_error(AmqpError::broker("queue.purge")(error).into()))?;
        purged += u64::from(count);
    }
    // Prefetched, unleased messages are waiting too, though the broker counts them as
    // delivered: ack them away.
    if let Some(prefetcher) = inner.running_prefetcher(queue).await {
        let buffered = prefetcher.take_all();
        let settles: Vec<_> = buffered.iter().map(|pushed| &pushed.settle).collect();
        for outcome in super::tags::ack_all(&settles).await {
            if outcome.unwrap_or(false) {
                purged += 1;
            }
        }
    }
    Ok(purged)
}

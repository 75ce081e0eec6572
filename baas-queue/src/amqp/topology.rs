//! Declaring a logical queue's broker objects.
//!
//! For logical queue `q` under prefix `p`:
//!
//! | object | kind | arguments |
//! |---|---|---|
//! | `p.dlx` | durable direct exchange, shared | — |
//! | `p.q` | durable queue | `x-dead-letter-exchange = p.dlx`, `x-dead-letter-routing-key = p.q.dead` |
//! | `p.q.dead` | durable queue bound to `p.dlx` by its own name | — |
//! | `p.q.delay.<ms>ms` (one per tier) | durable queue | `x-message-ttl = ms`, `x-dead-letter-exchange = ""`, `x-dead-letter-routing-key = p.q` |
//!
//! Every message in a delay queue has the same TTL, so the head always expires first
//! and nothing waits behind a longer-lived message (the trap of per-message TTLs).

use std::time::Duration;

use baas_core::Error;
use lapin::options::{
    ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable, LongString};
use lapin::{Channel, ExchangeKind};

use super::error::AmqpError;
use super::names::Names;

fn string(value: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(value.as_bytes().to_vec()))
}

fn durable() -> QueueDeclareOptions {
    QueueDeclareOptions {
        durable: true,
        ..QueueDeclareOptions::default()
    }
}

/// The arguments of the main queue: rejected-without-requeue messages go to the DLQ.
pub(crate) fn main_arguments(names: &Names) -> FieldTable {
    let mut arguments = FieldTable::default();
    arguments.insert("x-dead-letter-exchange".into(), string(&names.dlx));
    arguments.insert("x-dead-letter-routing-key".into(), string(&names.dead));
    arguments
}

/// The arguments of a delay tier: every message expires after `tier` into the main queue.
pub(crate) fn delay_arguments(names: &Names, tier: Duration) -> FieldTable {
    let mut arguments = FieldTable::default();
    let ttl = i64::try_from(tier.as_millis()).unwrap_or(i64::MAX);
    arguments.insert("x-message-ttl".into(), AMQPValue::LongLongInt(ttl));
    arguments.insert("x-dead-letter-exchange".into(), string(""));
    arguments.insert("x-dead-letter-routing-key".into(), string(&names.main));
    arguments
}

/// Declare (idempotently) everything queue `names` needs.
///
/// A queue that already exists with other arguments fails `PreconditionFailed` (the
/// broker refuses to change a queue's arguments).
pub(crate) async fn declare(
    channel: &Channel,
    names: &Names,
    tiers: &[Duration],
) -> Result<(), Error> {
    channel
        .exchange_declare(
            names.dlx.as_str().into(),
            ExchangeKind::Direct,
            ExchangeDeclareOptions {
                durable: true,
                ..ExchangeDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .map_err(AmqpError::broker("exchange.declare"))?;
    channel
        .queue_declare(names.dead.as_str().into(), durable(), FieldTable::default())
        .await
        .map_err(AmqpError::broker("queue.declare"))?;
    channel
        .queue_bind(
            names.dead.as_str().into(),
            names.dlx.as_str().into(),
            names.dead.as_str().into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .map_err(AmqpError::broker("queue.bind"))?;
    channel
        .queue_declare(names.main.as_str().into(), durable(), main_arguments(names))
        .await
        .map_err(AmqpError::broker("queue.declare"))?;
    for tier in tiers {
        channel
            .queue_declare(
                names.delay(*tier).as_str().into(),
                durable(),
                delay_arguments(names, *tier),
            )
            .await
            .map_err(AmqpError::broker("queue.declare"))?;
    }
    Ok(())
}

/// The number of ready messages in `queue` (a passive declare: exact, immediate).
/// `NotFound` when it does not exist (and the channel is then closed by the broker).
pub(crate) async fn ready_count(channel: &Channel, queue: &str) -> Result<u64, Error> {
    let declared = channel
        .queue_declare(
            queue.into(),
            QueueDeclareOptions {
                passive: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .map_err(AmqpError::broker("queue.declare(passive)"))?;
    Ok(u64::from(declared.message_count()))
}

/// Delete every queue of `names` (the shared DLX stays). Missing queues are fine.
pub(crate) async fn delete(
    channel: &Channel,
    names: &Names,
    tiers: &[Duration],
) -> Result<(), Error> {
    let mut queues = vec![names.main.clone(), names.dead.clone()];
    queues.extend(tiers.iter().map(|tier| names.delay(*tier)));
    for queue in queues {
        channel
            .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
            .await
            .map_err(AmqpError::broker("queue.delete"))?;
    }
    Ok(())
}

//! Publishing with publisher confirms: a publish succeeds only once the broker has
//! taken responsibility for the (persistent) message.

use std::time::Duration;

use baas_core::Error;
use lapin::options::BasicPublishOptions;
use lapin::{BasicProperties, Channel, Confirmation};

use super::error::AmqpError;

/// One message to publish.
#[derive(Debug)]
pub(crate) struct Outgoing<'a> {
    /// The exchange (`""`: the default exchange, routing by queue name).
    pub(crate) exchange: &'a str,
    /// The routing key (with the default exchange: the queue).
    pub(crate) routing_key: &'a str,
    pub(crate) payload: &'a [u8],
    pub(crate) properties: BasicProperties,
}

/// Publish every message (mandatory, so an unroutable one comes back), then wait for
/// all their confirms. Publishes are pipelined: one round trip for the whole batch.
///
/// On error some messages may have been confirmed (a batch is not atomic).
pub(crate) async fn publish_confirmed(
    channel: &Channel,
    messages: Vec<Outgoing<'_>>,
    timeout: Duration,
) -> Result<(), Error> {
    // Each publish resolves once lapin's I/O loop has written its frames. Started
    // together, the batch is written in one go instead of one wake-up of that loop per
    // message. The futures are first polled in order, and each takes its confirm tag and
    // queues its frames in that one poll, so the batch keeps its order on the wire.
    let publishes = messages.into_iter().map(|message| {
        channel.basic_publish(
            message.exchange.into(),
            message.routing_key.into(),
            BasicPublishOptions {
                mandatory: true,
                ..BasicPublishOptions::default()
            },
            message.payload,
            message.properties,
        )
    });
    let confirms = futures::future::join_all(publishes)
        .await
        .into_iter()
        .collect::<Result<Vec<_>, _>>()
        .map_err(AmqpError::broker("basic.publish"))?;
    let all = async {
        for confirm in confirms {
            match confirm.await.map_err(AmqpError::broker("confirm"))? {
                Confirmation::Ack(None) => {}
                Confirmation::Ack(Some(_)) => return Err(AmqpError::Unroutable),
                Confirmation::Nack(_) => return Err(AmqpError::Nacked),
                // The channel is in confirm mode; a missing confirm is a broken channel.
                Confirmation::NotRequested => return Err(AmqpError::Nacked),
            }
        }
        Ok(())
    };
    match tokio::time::timeout(timeout, all).await {
        Ok(result) => result.map_err(Error::from),
        Err(_) => Err(AmqpError::ConfirmTimeout.into()),
    }
}

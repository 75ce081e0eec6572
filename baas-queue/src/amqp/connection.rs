//! One connection to RabbitMQ, re-opened on demand, and the channels on it.
//!
//! lapin's own auto-recovery replays consumers behind our back, which would leave the
//! lease tracker holding delivery tags of a dead channel. So recovery here is explicit
//! and lazy: every call asks [`Connector::connection`] (or a channel getter) for a live
//! handle, and a dead connection is replaced — with bounded, doubling back-off — by the
//! call that notices. Consumers hold their own channel and are restarted the same way.
//! Deliveries of a dead channel are requeued by the broker, so their leases are lost
//! (an ack then reports it) but the messages are not.

use std::sync::Arc;
use std::time::Duration;

use baas_core::Error;
use lapin::options::ConfirmSelectOptions;
use lapin::{Channel, Connection, ConnectionProperties};
use tokio::sync::Mutex;

use super::config::AmqpConfig;
use super::error::AmqpError;

/// The live connection and the two shared channels, each replaced when found dead.
#[derive(Debug)]
pub(crate) struct Connector {
    config: Arc<AmqpConfig>,
    connection: Mutex<Option<Arc<Connection>>>,
    /// The channel publishes go through, in confirm mode.
    publisher: Mutex<Option<Channel>>,
    /// The channel for declarations, purges and passive declares (whose `NOT_FOUND`
    /// closes the channel, so it must not be a consumer's).
    admin: Mutex<Option<Channel>>,
}

impl Connector {
    pub(crate) fn new(config: Arc<AmqpConfig>) -> Self {
        Self {
            config,
            connection: Mutex::new(None),
            publisher: Mutex::new(None),
            admin: Mutex::new(None),
        }
    }

    /// A connected connection: the current one, or a new one.
    pub(crate) async fn connection(&self) -> Result<Arc<Connection>, Error> {
        let mut slot = self.connection.lock().await;
        if let Some(connection) = slot.as_ref()
            && connection.status().connected()
        {
            return Ok(connection.clone());
        }
        let connection = Arc::new(self.connect().await?);
        *slot = Some(Arc::clone(&connection));
        Ok(connection)
    }

    async fn connect(&self) -> Result<Connection, Error> {
        let mut backoff = self.config.reconnect_backoff;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let properties = ConnectionProperties::default()
                .with_connection_name(self.config.connection_name.as_str().into());
            match Connection::connect(&self.config.url, properties).await {
                Ok(connection) => {
                    if attempt > 1 {
                        tracing::info!(attempt, "reconnected to RabbitMQ");
                    }
                    return Ok(connection);
                }
                Err(error) if attempt >= self.config.reconnect_attempts => {
                    tracing::warn!(attempt, %error, "giving up connecting to RabbitMQ");
                    return Err(AmqpError::broker("connect")(error).into());
                }
                Err(error) => {
                    tracing::debug!(attempt, %error, ?backoff, "RabbitMQ connect failed; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
    }

    /// A new channel (for a consumer or a one-off job such as listing dead letters).
    pub(crate) async fn new_channel(&self) -> Result<Channel, Error> {
        let connection = self.connection().await?;
        connection
            .create_channel()
            .await
            .map_err(|error| AmqpError::broker("channel.open")(error).into())
    }

    /// The publishing channel (publisher confirms on).
    pub(crate) async fn publisher(&self) -> Result<Channel, Error> {
        let mut slot = self.publisher.lock().await;
        if let Some(channel) = slot.as_ref()
            && channel.status().connected()
        {
            return Ok(channel.clone());
        }
        let channel = self.new_channel().await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(AmqpError::broker("confirm.select"))?;
        *slot = Some(channel.clone());
        Ok(channel)
    }

    /// The administration channel.
    pub(crate) async fn admin(&self) -> Result<Channel, Error> {
        let mut slot = self.admin.lock().await;
        if let Some(channel) = slot.as_ref()
            && channel.status().connected()
        {
            return Ok(channel.clone());
        }
        let channel = self.new_channel().await?;
        *slot = Some(channel.clone());
        Ok(channel)
    }

    /// Close the connection (in-flight deliveries go back to their queues).
    pub(crate) async fn close(&self) {
        if let Some(connection) = self.connection.lock().await.take()
            && connection.status().connected()
        {
            let _ = connection.close(200, "baas-queue closing".into()).await;
        }
    }
}

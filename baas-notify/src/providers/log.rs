//! The log provider: for development (API.md: "notifications to the log").

use async_trait::async_trait;

use crate::channel::{Channel, DeliveryError, Message, Receipt};
use crate::model::ChannelKind;

/// Writes each message as a `tracing` event (recipient, subject, sizes — never a
/// secret) and reports success.
#[derive(Debug, Clone)]
pub struct LogChannel {
    kind: ChannelKind,
}

impl LogChannel {
    /// A log provider for `kind`.
    pub fn new(kind: ChannelKind) -> Self {
        LogChannel { kind }
    }
}

#[async_trait]
impl Channel for LogChannel {
    fn name(&self) -> &str {
        "log"
    }

    fn kind(&self) -> ChannelKind {
        self.kind
    }

    async fn send(&self, message: &Message) -> Result<Receipt, DeliveryError> {
        match message {
            Message::Email(e) => tracing::info!(
                target: "baas_notify::log",
                id = %e.id, to = %e.to, subject = %e.subject, text = %e.text,
                html = e.html.is_some(), "email"
            ),
            Message::Text(t) => tracing::info!(
                target: "baas_notify::log",
                id = %t.id, channel = %t.channel, to = %t.to, text = %t.text, "message"
            ),
            Message::Webhook(w) => tracing::info!(
                target: "baas_notify::log",
                id = %w.id, url = %w.url, bytes = w.body.len(), "webhook"
            ),
        }
        Ok(Receipt::default())
    }
}

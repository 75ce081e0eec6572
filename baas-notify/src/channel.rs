//! The [`Channel`] trait: one provider that can deliver a [`Message`].
//!
//! Providers classify every failure ([`DeliveryError`]): retryable (a 5xx, 408, 429, a
//! timeout, a refused connection), permanent (for email, SMS and push, a 4xx other than
//! 408 and 429; a malformed address) or gone (a webhook endpoint answered 410). The
//! dispatcher retries, fails over, disables or dead-letters accordingly.

use std::fmt;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use baas_core::{Classify, ErrorKind};
use bytes::Bytes;

use crate::model::ChannelKind;
use crate::signing::WebhookSecret;

/// An email, rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailMessage {
    /// The notification id (sent as `Message-ID` material / for logs).
    pub id: String,
    /// The recipient address.
    pub to: String,
    /// The subject.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// The HTML body, if any (sent as `multipart/alternative`).
    pub html: Option<String>,
}

/// An SMS or push message, rendered.
#[derive(Debug, Clone, PartialEq)]
pub struct TextMessage {
    /// [`ChannelKind::Sms`] or [`ChannelKind::Push`].
    pub channel: ChannelKind,
    /// The notification id.
    pub id: String,
    /// Phone number or device token.
    pub to: String,
    /// A title (push), if any.
    pub title: Option<String>,
    /// The text.
    pub text: String,
    /// Extra data for the provider's body template.
    pub data: serde_json::Value,
}

/// A webhook delivery: signed by the provider at each attempt.
#[derive(Clone)]
pub struct WebhookMessage {
    /// The `webhook-id` (the event's id: stable across retries).
    pub id: String,
    /// The target URL.
    pub url: String,
    /// The exact body to send (minified JSON).
    pub body: Bytes,
    /// The endpoint's secrets, the newest first: one signature each.
    pub secrets: Vec<WebhookSecret>,
}

impl fmt::Debug for WebhookMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookMessage")
            .field("id", &self.id)
            .field("url", &self.url)
            .field("body_len", &self.body.len())
            .field("secrets", &self.secrets.len())
            .finish()
    }
}

/// What a provider is asked to deliver.
#[non_exhaustive]
#[derive(Debug, Clone)]
pub enum Message {
    /// An email.
    Email(EmailMessage),
    /// An SMS or a push message.
    Text(TextMessage),
    /// A webhook.
    Webhook(WebhookMessage),
}

impl Message {
    /// The channel this message travels on.
    pub fn channel(&self) -> ChannelKind {
        match self {
            Message::Email(_) => ChannelKind::Email,
            Message::Text(t) => t.channel,
            Message::Webhook(_) => ChannelKind::Webhook,
        }
    }
}

/// What a provider says after a successful delivery.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Receipt {
    /// The HTTP status (or SMTP code), when there was one.
    pub status_code: Option<u16>,
    /// The provider's own id for the message, when it gave one.
    pub provider_id: Option<String>,
}

/// How a failure should be handled.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureClass {
    /// Try again later (or at the next provider).
    Retryable,
    /// Never try again.
    Permanent,
    /// The webhook endpoint is gone (410): disable it.
    Gone,
}

/// A classified delivery failure. Its message is client-safe (no secrets).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct DeliveryError {
    class: FailureClass,
    kind: ErrorKind,
    message: String,
    status_code: Option<u16>,
    retry_after: Option<Duration>,
    #[source]
    source: Option<baas_core::BoxError>,
}

impl DeliveryError {
    fn new(class: FailureClass, kind: ErrorKind, message: impl Into<String>) -> Self {
        DeliveryError {
            class,
            kind,
            message: message.into(),
            status_code: None,
            retry_after: None,
            source: None,
        }
    }

    /// A transient failure (`Unavailable`).
    pub fn retryable(message: impl Into<String>) -> Self {
        Self::new(FailureClass::Retryable, ErrorKind::Unavailable, message)
    }

    /// The attempt timed out (`Timeout`, retryable).
    pub fn timeout(message: impl Into<String>) -> Self {
        Self::new(FailureClass::Retryable, ErrorKind::Timeout, message)
    }

    /// A permanent failure (`Invalid`).
    pub fn permanent(message: impl Into<String>) -> Self {
        Self::new(FailureClass::Permanent, ErrorKind::Invalid, message)
    }

    /// The webhook endpoint is gone (`NotFound`, not retried; the endpoint is disabled).
    pub fn gone(message: impl Into<String>) -> Self {
        Self::new(FailureClass::Gone, ErrorKind::NotFound, message)
    }

    /// Classify an HTTP answer. Webhooks: every non-2xx but 410 is retryable.
    /// Email/SMS/push providers: a 4xx other than 408 and 429 is permanent.
    pub fn from_status(status: u16, webhook: bool, retry_after: Option<Duration>) -> Self {
        let message = format!("provider answered {status}");
        let mut e = match status {
            410 if webhook => Self::gone(message),
            429 => Self::new(FailureClass::Retryable, ErrorKind::RateLimited, message),
            408 => Self::timeout(message),
            400..=499 if !webhook => Self::permanent(message),
            _ => Self::retryable(message),
        };
        e.status_code = Some(status);
        e.retry_after = retry_after;
        e
    }

    /// Attach a retry-after hint.
    pub fn with_retry_after(mut self, after: Duration) -> Self {
        self.retry_after = Some(after);
        self
    }

    /// Attach a status code.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status_code = Some(status);
        self
    }

    /// Attach the underlying cause (kept for logs).
    pub fn with_source(mut self, source: impl Into<baas_core::BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// How to handle it.
    pub fn class(&self) -> FailureClass {
        self.class
    }

    /// The status code, when there was one.
    pub fn status_code(&self) -> Option<u16> {
        self.status_code
    }

    /// The client-safe message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl Classify for DeliveryError {
    fn kind(&self) -> ErrorKind {
        self.kind
    }
    fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }
}

impl From<DeliveryError> for baas_core::Error {
    fn from(err: DeliveryError) -> Self {
        let mut e = baas_core::Error::new(err.kind, err.message.clone());
        if let Some(after) = err.retry_after {
            e = e.with_retry_after(after);
        }
        e.with_source(err)
    }
}

/// One delivery provider for one kind of channel (DESIGN.md rule 9: object-safe, held
/// as `Arc<dyn Channel>`).
///
/// `send` makes exactly one attempt: no retries inside (the dispatcher owns retries,
/// failover and the schedule). It must classify every failure.
#[async_trait]
pub trait Channel: Send + Sync + fmt::Debug {
    /// The provider's name, as recorded in each attempt (`smtp`, `webhook`, `twilio`…).
    fn name(&self) -> &str;

    /// The channel it delivers.
    fn kind(&self) -> ChannelKind;

    /// Make one attempt.
    async fn send(&self, message: &Message) -> Result<Receipt, DeliveryError>;
}

/// The trait object.
pub type DynChannel = dyn Channel;

fn _object_safe(_: Box<dyn Channel>) {}

/// Parse a `Retry-After` value: delta-seconds or an HTTP-date, relative to `now`.
/// Capped at 24 hours; a date in the past is zero.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use baas_notify::channel::parse_retry_after;
/// assert_eq!(parse_retry_after("120", UNIX_EPOCH), Some(Duration::from_secs(120)));
/// let now = UNIX_EPOCH + Duration::from_secs(784_111_777);
/// assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now), Some(Duration::from_secs(10)));
/// assert_eq!(parse_retry_after("soon", now), None);
/// ```
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    const CAP: Duration = Duration::from_secs(24 * 3600);
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs).min(CAP));
    }
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let at = time::PrimitiveDateTime::parse(value, &format)
        .ok()?
        .assume_utc();
    let at = SystemTime::from(at);
    Some(at.duration_since(now).unwrap_or_default().min(CAP))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_classify_per_channel() {
        use FailureClass::*;
        let c = |s, w| DeliveryError::from_status(s, w, None).class();
        assert_eq!(c(410, true), Gone);
        assert_eq!(c(404, true), Retryable);
        assert_eq!(c(500, true), Retryable);
        assert_eq!(c(410, false), Permanent);
        assert_eq!(c(400, false), Permanent);
        assert_eq!(c(408, false), Retryable);
        assert_eq!(c(429, false), Retryable);
        assert_eq!(c(503, false), Retryable);
        let e = DeliveryError::from_status(429, true, Some(Duration::from_secs(7)));
        assert_eq!(e.kind(), ErrorKind::RateLimited);
        assert_eq!(Classify::retry_after(&e), Some(Duration::from_secs(7)));
    }
}

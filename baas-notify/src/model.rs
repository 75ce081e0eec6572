//! The notification model: channels, statuses, notifications and their attempts.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use baas_core::{Error, TenantId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The kinds of channel a notification travels through.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    /// Email (SMTP).
    Email,
    /// SMS (an HTTP provider).
    Sms,
    /// Mobile push (an HTTP provider).
    Push,
    /// A signed webhook to a registered endpoint.
    Webhook,
}

impl ChannelKind {
    /// Every kind.
    pub const ALL: [ChannelKind; 4] = [
        ChannelKind::Email,
        ChannelKind::Sms,
        ChannelKind::Push,
        ChannelKind::Webhook,
    ];

    /// The lowercase name (`email`, `sms`, `push`, `webhook`).
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Email => "email",
            ChannelKind::Sms => "sms",
            ChannelKind::Push => "push",
            ChannelKind::Webhook => "webhook",
        }
    }
}

impl fmt::Display for ChannelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ChannelKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        ChannelKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| Error::field("channel", "one of email, sms, push, webhook"))
    }
}

/// Where a notification stands (API.md: `GET /v1/notifications/{id}`).
///
/// `queued → sending → sent`, or `sending → failed` (will retry) `→ sending …`, ending
/// `dead` after the last try; `suppressed` when a preference opted the recipient out.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Accepted and waiting in the queue.
    Queued,
    /// A worker holds it: its attempt is in flight, or the attempt's outcome is being
    /// written (set for a whole reserved batch in the same statement that loads it).
    Sending,
    /// Delivered.
    Sent,
    /// The last attempt failed; another is scheduled.
    Failed,
    /// Every attempt failed (or a permanent failure): dead-lettered.
    Dead,
    /// Not sent: the recipient opted out.
    Suppressed,
}

impl Status {
    /// Every status.
    pub const ALL: [Status; 6] = [
        Status::Queued,
        Status::Sending,
        Status::Sent,
        Status::Failed,
        Status::Dead,
        Status::Suppressed,
    ];

    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Sending => "sending",
            Status::Sent => "sent",
            Status::Failed => "failed",
            Status::Dead => "dead",
            Status::Suppressed => "suppressed",
        }
    }

    /// Whether nothing more will happen (`sent`, `dead`, `suppressed`) — unless a dead
    /// letter is redriven.
    pub fn is_final(self) -> bool {
        matches!(self, Status::Sent | Status::Dead | Status::Suppressed)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Status::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| Error::internal("unknown notification status"))
    }
}

/// One notification (or one webhook delivery: channel `webhook`, recipient = the
/// endpoint's id, category = the event type).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// Its id (UUIDv7); for a webhook delivery, also its `webhook-id` source.
    pub id: Uuid,
    /// The owning tenant.
    pub tenant: TenantId,
    /// Email address, phone number, device token, or webhook endpoint id.
    pub recipient: String,
    /// The channel.
    pub channel: ChannelKind,
    /// The category preferences are kept per (or the event type).
    pub category: String,
    /// The template, when rendered from one.
    pub template: Option<String>,
    /// The locale asked for.
    pub locale: String,
    /// The template data (or the event payload).
    pub data: serde_json::Value,
    /// The caller's idempotency key, if any: one key, at most one notification.
    pub idempotency_key: Option<String>,
    /// Where it stands.
    pub status: Status,
    /// How many attempts were made.
    pub attempts: u32,
    /// When it was accepted.
    pub created_at: SystemTime,
    /// When its status last changed.
    pub updated_at: SystemTime,
}

/// What one attempt came to.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Delivered.
    Sent,
    /// Failed in a way worth retrying.
    Retryable,
    /// Failed for good (a 4xx from an email/SMS/push provider, a bad address).
    Permanent,
    /// The webhook endpoint answered 410 Gone and was disabled.
    Gone,
    /// The provider was not tried (open circuit or rate limit) — failover moved on.
    Skipped,
}

impl Outcome {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Sent => "sent",
            Outcome::Retryable => "retryable",
            Outcome::Permanent => "permanent",
            Outcome::Gone => "gone",
            Outcome::Skipped => "skipped",
        }
    }
}

impl FromStr for Outcome {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        [
            Outcome::Sent,
            Outcome::Retryable,
            Outcome::Permanent,
            Outcome::Gone,
            Outcome::Skipped,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
        .ok_or_else(|| Error::internal("unknown attempt outcome"))
    }
}

/// One attempt at one provider, as kept in the [`DeliveryLog`](crate::store::DeliveryLog).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// The notification tried.
    pub notification: Uuid,
    /// 1 for the first try of the first delivery round, counting on across rounds.
    pub number: u32,
    /// When it started.
    pub at: SystemTime,
    /// The provider's name.
    pub provider: String,
    /// What came of it.
    pub outcome: Outcome,
    /// The HTTP status (or SMTP code), when there was one.
    pub status_code: Option<u16>,
    /// The error, client-safe (no secrets).
    pub error: Option<String>,
    /// How long it took.
    pub latency: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in ChannelKind::ALL {
            assert_eq!(k.as_str().parse::<ChannelKind>().unwrap(), k);
        }
        for s in Status::ALL {
            assert_eq!(s.as_str().parse::<Status>().unwrap(), s);
        }
        assert!("fax".parse::<ChannelKind>().is_err());
        assert_eq!(
            serde_json::to_string(&Status::Suppressed).unwrap(),
            "\"suppressed\""
        );
    }
}

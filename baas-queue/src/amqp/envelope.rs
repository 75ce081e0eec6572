//! How a message travels through RabbitMQ: the body as the AMQP body, everything else
//! in properties and `x-baas-*` headers.
//!
//! | what | where |
//! |---|---|
//! | message id | `message_id` property (a UUID) |
//! | enqueue time | `timestamp` property (seconds, for the management API's oldest age) and `x-baas-enqueued-at` (ms) |
//! | persistence | `delivery_mode = 2` |
//! | tenant | `x-baas-tenant` |
//! | the caller's headers | `x-baas-headers`, a nested table of strings |
//! | dedupe key | `x-baas-dedupe-key` (carried, not enforced) |
//! | deliveries settled so far | `x-baas-attempts` |
//! | not before (ms), for delays longer than the last tier | `x-baas-not-before` |
//! | dead-letter reason, time and attempts | `x-baas-dead-reason`, `x-baas-dead-at`, `x-baas-dead-attempts` |

use std::collections::BTreeMap;

use lapin::BasicProperties;
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use uuid::Uuid;

const TENANT: &str = "x-baas-tenant";
const ENQUEUED_AT: &str = "x-baas-enqueued-at";
const HEADERS: &str = "x-baas-headers";
const DEDUPE_KEY: &str = "x-baas-dedupe-key";
const ATTEMPTS: &str = "x-baas-attempts";
const NOT_BEFORE: &str = "x-baas-not-before";
const DEAD_REASON: &str = "x-baas-dead-reason";
const DEAD_AT: &str = "x-baas-dead-at";
const DEAD_ATTEMPTS: &str = "x-baas-dead-attempts";

/// Why and when a message was dead-lettered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DeadInfo {
    pub(crate) reason: String,
    pub(crate) at_ms: u64,
    pub(crate) attempts: u32,
}

/// Everything about a message except its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Envelope {
    pub(crate) id: Uuid,
    pub(crate) tenant: String,
    pub(crate) headers: BTreeMap<String, String>,
    pub(crate) enqueued_at_ms: u64,
    pub(crate) dedupe_key: Option<String>,
    /// Deliveries already settled by a nack (a republish); the next delivery is
    /// attempt `attempts + 1` (or more, see the backend's docs on lease expiry).
    pub(crate) attempts: u32,
    /// Not to be delivered before this time (ms since the epoch), when set.
    pub(crate) not_before_ms: Option<u64>,
    pub(crate) dead: Option<DeadInfo>,
}

fn text(value: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(value.as_bytes().to_vec()))
}

fn number(value: u64) -> AMQPValue {
    AMQPValue::LongLongInt(i64::try_from(value).unwrap_or(i64::MAX))
}

fn read_text(table: &FieldTable, key: &str) -> Option<String> {
    match table.inner().get(key)? {
        AMQPValue::LongString(s) => String::from_utf8(s.as_bytes().to_vec()).ok(),
        AMQPValue::ShortString(s) => Some(s.as_str().to_owned()),
        _ => None,
    }
}

fn read_number(table: &FieldTable, key: &str) -> Option<u64> {
    let value = match table.inner().get(key)? {
        AMQPValue::LongLongInt(n) => *n,
        AMQPValue::LongInt(n) => i64::from(*n),
        AMQPValue::LongUInt(n) => i64::from(*n),
        AMQPValue::ShortInt(n) => i64::from(*n),
        AMQPValue::ShortUInt(n) => i64::from(*n),
        AMQPValue::Timestamp(n) => i64::try_from(*n).ok()?,
        _ => return None,
    };
    u64::try_from(value).ok()
}

impl Envelope {
    /// The AMQP properties carrying this envelope (persistent).
    pub(crate) fn to_properties(&self) -> BasicProperties {
        let mut table = FieldTable::default();
        table.insert(TENANT.into(), text(&self.tenant));
        table.insert(ENQUEUED_AT.into(), number(self.enqueued_at_ms));
        // Absent means no attempts and no headers: every field is encoded, stored and
        // parsed again on every publish and delivery, so none goes out empty.
        if self.attempts > 0 {
            table.insert(ATTEMPTS.into(), number(u64::from(self.attempts)));
        }
        if !self.headers.is_empty() {
            let mut headers = FieldTable::default();
            for (name, value) in &self.headers {
                headers.insert(ShortString::from(name.as_str()), text(value));
            }
            table.insert(HEADERS.into(), AMQPValue::FieldTable(headers));
        }
        if let Some(key) = &self.dedupe_key {
            table.insert(DEDUPE_KEY.into(), text(key));
        }
        if let Some(not_before) = self.not_before_ms {
            table.insert(NOT_BEFORE.into(), number(not_before));
        }
        if let Some(dead) = &self.dead {
            table.insert(DEAD_REASON.into(), text(&dead.reason));
            table.insert(DEAD_AT.into(), number(dead.at_ms));
            table.insert(DEAD_ATTEMPTS.into(), number(u64::from(dead.attempts)));
        }
        BasicProperties::default()
            .with_delivery_mode(2)
            .with_message_id(self.id.to_string().into())
            .with_timestamp(self.enqueued_at_ms / 1000)
            .with_headers(table)
    }

    /// Read an envelope back; `None` for a message this backend did not write (no
    /// UUID message id or no tenant).
    pub(crate) fn from_properties(properties: &BasicProperties) -> Option<Self> {
        let id = Uuid::parse_str(properties.message_id().as_ref()?.as_str()).ok()?;
        let table = properties.headers().as_ref()?;
        let tenant = read_text(table, TENANT)?;
        let headers = match table.inner().get(HEADERS) {
            Some(AMQPValue::FieldTable(nested)) => nested
                .inner()
                .keys()
                .filter_map(|name| {
                    read_text(nested, name.as_str()).map(|value| (name.as_str().to_owned(), value))
                })
                .collect(),
            _ => BTreeMap::new(),
        };
        let dead = read_text(table, DEAD_REASON).map(|reason| DeadInfo {
            reason,
            at_ms: read_number(table, DEAD_AT).unwrap_or(0),
            attempts: read_number(table, DEAD_ATTEMPTS)
                .map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX)),
        });
        Some(Self {
            id,
            tenant,
            headers,
            enqueued_at_ms: read_number(table, ENQUEUED_AT)
                .or_else(|| properties.timestamp().map(|s| s.saturating_mul(1000)))
                .unwrap_or(0),
            dedupe_key: read_text(table, DEDUPE_KEY),
            attempts: read_number(table, ATTEMPTS)
                .map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX)),
            not_before_ms: read_number(table, NOT_BEFORE),
            dead,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Envelope {
        Envelope {
            id: Uuid::now_v7(),
            tenant: "acme".to_owned(),
            headers: BTreeMap::from([
                ("content-type".to_owned(), "application/json".to_owned()),
                ("type".to_owned(), "welcome".to_owned()),
            ]),
            enqueued_at_ms: 1_700_000_000_123,
            dedupe_key: Some("k-1".to_owned()),
            attempts: 3,
            not_before_ms: Some(1_700_000_100_000),
            dead: Some(DeadInfo {
                reason: "boom".to_owned(),
                at_ms: 1_700_000_200_000,
                attempts: 4,
            }),
        }
    }

    #[test]
    fn round_trips_through_properties() {
        let envelope = sample();
        let properties = envelope.to_properties();
        assert_eq!(*properties.delivery_mode(), Some(2), "persistent");
        assert_eq!(*properties.timestamp(), Some(1_700_000_000));
        assert_eq!(Envelope::from_properties(&properties), Some(envelope));

        let mut plain = sample();
        plain.dedupe_key = None;
        plain.not_before_ms = None;
        plain.dead = None;
        plain.headers.clear();
        assert_eq!(
            Envelope::from_properties(&plain.to_properties()),
            Some(plain)
        );
    }

    #[test]
    fn empty_fields_are_not_sent() {
        let mut plain = sample();
        plain.attempts = 0;
        plain.headers.clear();
        let properties = plain.to_properties();
        let table = properties.headers().as_ref().expect("a header table");
        assert!(!table.inner().contains_key(ATTEMPTS), "no attempts yet");
        assert!(!table.inner().contains_key(HEADERS), "no caller headers");
        assert_eq!(Envelope::from_properties(&properties), Some(plain));
    }

    #[test]
    fn foreign_messages_are_recognised() {
        assert_eq!(Envelope::from_properties(&BasicProperties::default()), None);
        let no_tenant = BasicProperties::default()
            .with_message_id(Uuid::now_v7().to_string().into())
            .with_headers(FieldTable::default());
        assert_eq!(Envelope::from_properties(&no_tenant), None);
    }
}

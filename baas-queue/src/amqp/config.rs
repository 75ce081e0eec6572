//! Configuration of the RabbitMQ backend.

use std::fmt;
use std::time::Duration;

use baas_core::{Error, SharedClock};

/// How to reach RabbitMQ and how to lay out queues on it.
///
/// Built with [`AmqpConfig::new`] and the `with_*` methods. The URLs carry credentials,
/// so `Debug` prints them without their password.
///
/// ```
/// use std::time::Duration;
/// use baas_queue::amqp::AmqpConfig;
///
/// let config = AmqpConfig::new("amqp://guest:guest@127.0.0.1:5672/%2f")
///     .with_management_url("http://guest:guest@127.0.0.1:15672")
///     .with_prefix("jobs")
///     .with_prefetch(64)
///     .with_delay_tiers([Duration::from_secs(1), Duration::from_secs(30)]);
/// assert_eq!(config.prefix(), "jobs");
/// assert!(!format!("{config:?}").contains("guest:guest"));
/// ```
#[derive(Clone)]
pub struct AmqpConfig {
    pub(crate) url: String,
    pub(crate) management_url: Option<String>,
    pub(crate) prefix: String,
    pub(crate) prefetch: u16,
    pub(crate) delay_tiers: Vec<Duration>,
    pub(crate) confirm_timeout: Duration,
    pub(crate) reconnect_attempts: u32,
    pub(crate) reconnect_backoff: Duration,
    pub(crate) clock: Option<SharedClock>,
    pub(crate) connection_name: String,
}

/// The delay tiers used unless [`AmqpConfig::with_delay_tiers`] says otherwise.
pub const DEFAULT_DELAY_TIERS: [Duration; 7] = [
    Duration::from_secs(1),
    Duration::from_secs(5),
    Duration::from_secs(30),
    Duration::from_secs(2 * 60),
    Duration::from_secs(10 * 60),
    Duration::from_secs(60 * 60),
    Duration::from_secs(6 * 60 * 60),
];

impl AmqpConfig {
    /// A configuration for the broker at `url` (`amqp://user:pass@host:port/vhost`),
    /// without the management API (stats then report only what AMQP itself can tell).
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            management_url: None,
            prefix: "baas".to_owned(),
            prefetch: 64,
            delay_tiers: DEFAULT_DELAY_TIERS.to_vec(),
            confirm_timeout: Duration::from_secs(30),
            reconnect_attempts: 5,
            reconnect_backoff: Duration::from_millis(200),
            clock: None,
            connection_name: "baas-queue".to_owned(),
        }
    }

    /// The management plugin's base URL (`http://user:pass@host:15672`), used for the
    /// in-flight count and the oldest message's age.
    #[must_use]
    pub fn with_management_url(mut self, url: impl Into<String>) -> Self {
        self.management_url = Some(url.into());
        self
    }

    /// The prefix of every queue and exchange name (default `baas`): logical queue `q`
    /// lives in `<prefix>.q`, its dead letters in `<prefix>.q.dead`.
    #[must_use]
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// How many unacknowledged messages the broker pushes ahead to each queue's consumer
    /// (`basic.qos`, default 64). It bounds the messages this process holds per queue,
    /// leased or buffered: with `prefetch` leases outstanding, a reserve returns nothing
    /// until one is settled.
    #[must_use]
    pub fn with_prefetch(mut self, prefetch: u16) -> Self {
        self.prefetch = prefetch.max(1);
        self
    }

    /// The fixed delays available for delayed messages. A requested delay is rounded up
    /// to the next tier; a delay beyond the last tier hops through it repeatedly.
    /// Zero and duplicate tiers are dropped; an empty list keeps the defaults.
    #[must_use]
    pub fn with_delay_tiers(mut self, tiers: impl IntoIterator<Item = Duration>) -> Self {
        let mut tiers: Vec<Duration> = tiers
            .into_iter()
            .filter(|tier| tier.as_millis() > 0)
            .map(|tier| Duration::from_millis(u64::try_from(tier.as_millis()).unwrap_or(u64::MAX)))
            .collect();
        tiers.sort();
        tiers.dedup();
        if !tiers.is_empty() {
            self.delay_tiers = tiers;
        }
        self
    }

    /// How long to wait for the broker to confirm a publish (default 30 s).
    #[must_use]
    pub fn with_confirm_timeout(mut self, timeout: Duration) -> Self {
        self.confirm_timeout = timeout;
        self
    }

    /// How often a call retries connecting before it fails `Unavailable` (default 5),
    /// and the first back-off between tries (doubled each time, default 200 ms).
    #[must_use]
    pub fn with_reconnect(mut self, attempts: u32, backoff: Duration) -> Self {
        self.reconnect_attempts = attempts.max(1);
        self.reconnect_backoff = backoff;
        self
    }

    /// The clock that lease deadlines are measured on (default: the system clock).
    #[must_use]
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// The connection name shown in the management UI (default `baas-queue`).
    #[must_use]
    pub fn with_connection_name(mut self, name: impl Into<String>) -> Self {
        self.connection_name = name.into();
        self
    }

    /// The name prefix.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The delay tiers, shortest first.
    pub fn delay_tiers(&self) -> &[Duration] {
        &self.delay_tiers
    }

    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.prefix.is_empty()
            || self.prefix.len() > 64
            || !self.prefix.chars().all(super::names::is_name_char)
        {
            return Err(Error::invalid(
                "the AMQP name prefix must be 1-64 characters of [A-Za-z0-9._:-]",
            ));
        }
        Ok(())
    }
}

impl fmt::Debug for AmqpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AmqpConfig")
            .field("url", &redact(&self.url))
            .field(
                "management_url",
                &self.management_url.as_deref().map(redact),
            )
            .field("prefix", &self.prefix)
            .field("prefetch", &self.prefetch)
            .field("delay_tiers", &self.delay_tiers)
            .field("confirm_timeout", &self.confirm_timeout)
            .field("reconnect_attempts", &self.reconnect_attempts)
            .field("reconnect_backoff", &self.reconnect_backoff)
            .field("connection_name", &self.connection_name)
            .finish_non_exhaustive()
    }
}

/// `scheme://user:***@host/…` — the URL without its password (or `<invalid url>`).
pub(crate) fn redact(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut url) => {
            if url.password().is_some() {
                let _ = url.set_password(Some("***"));
            }
            url.to_string()
        }
        Err(_) => "<invalid url>".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_passwords() {
        let config = AmqpConfig::new("amqp://user:s3cret@host:5672/%2f")
            .with_management_url("http://user:s3cret@host:15672");
        let debug = format!("{config:?}");
        assert!(!debug.contains("s3cret"), "{debug}");
        assert!(debug.contains("user:***@host"), "{debug}");
    }

    #[test]
    fn tiers_are_sorted_deduplicated_and_never_empty() {
        let config = AmqpConfig::new("amqp://h").with_delay_tiers([
            Duration::from_secs(5),
            Duration::ZERO,
            Duration::from_secs(1),
            Duration::from_secs(5),
        ]);
        assert_eq!(
            config.delay_tiers(),
            [Duration::from_secs(1), Duration::from_secs(5)]
        );
        let config = AmqpConfig::new("amqp://h").with_delay_tiers([]);
        assert_eq!(config.delay_tiers(), DEFAULT_DELAY_TIERS);
    }

    #[test]
    fn bad_prefix_is_refused() {
        assert!(
            AmqpConfig::new("amqp://h")
                .with_prefix("a b")
                .validate()
                .is_err()
        );
        assert!(
            AmqpConfig::new("amqp://h")
                .with_prefix("")
                .validate()
                .is_err()
        );
        assert!(
            AmqpConfig::new("amqp://h")
                .with_prefix("ok.prefix-1")
                .validate()
                .is_ok()
        );
    }
}

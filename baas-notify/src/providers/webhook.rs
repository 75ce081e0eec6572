//! The webhook provider: reqwest, Standard Webhooks signatures, the SSRF guard.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use baas_core::clock::{self, SharedClock};
use reqwest::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER, USER_AGENT};

use crate::channel::{Channel, DeliveryError, Message, Receipt, parse_retry_after};
use crate::model::ChannelKind;
use crate::signing::{WEBHOOK_ID, WEBHOOK_SIGNATURE, WEBHOOK_TIMESTAMP, sign_headers};
use crate::ssrf::{TargetPolicy, TargetRefused};

/// API.md's limit per webhook attempt.
pub const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(15);

/// POSTs signed webhooks.
///
/// Each attempt is signed afresh (`webhook-timestamp` = now, from the injected clock)
/// with every secret of the endpoint; `webhook-id` is the message's id, stable across
/// retries. The target is checked by the [`TargetPolicy`] before the request and again
/// by the client's DNS resolver, which hands the connector only checked addresses; no
/// proxy, no redirects, 15 s per attempt. A 2xx is success, 410 is
/// [`FailureClass::Gone`](crate::channel::FailureClass::Gone) (disable the endpoint),
/// anything else retryable with `Retry-After` read.
#[derive(Debug, Clone)]
pub struct WebhookChannel {
    client: reqwest::Client,
    policy: TargetPolicy,
    clock: SharedClock,
}

impl WebhookChannel {
    /// A provider enforcing `policy`, 15 s per attempt, on the system clock.
    pub fn new(policy: TargetPolicy) -> Result<Self, baas_core::Error> {
        Self::with_options(policy, WEBHOOK_TIMEOUT, clock::system())
    }

    /// A provider with a custom attempt timeout and clock.
    pub fn with_options(
        policy: TargetPolicy,
        timeout: Duration,
        clock: SharedClock,
    ) -> Result<Self, baas_core::Error> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(std::sync::Arc::new(policy.resolver()))
            .pool_max_idle_per_host(64)
            .build()
            .map_err(|e| {
                baas_core::Error::internal("cannot build the HTTP client").with_source(e)
            })?;
        Ok(WebhookChannel {
            client,
            policy,
            clock,
        })
    }
}

/// Map a reqwest error: a timeout, a refused target, or a transport failure.
pub(crate) fn transport_error(err: reqwest::Error) -> DeliveryError {
    if err.is_timeout() {
        return DeliveryError::timeout("the request timed out").with_source(err);
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&err);
    while let Some(e) = source {
        if let Some(refused) = e.downcast_ref::<TargetRefused>() {
            return DeliveryError::permanent(format!("webhook target refused: {}", refused.0));
        }
        source = e.source();
    }
    if err.is_connect() {
        return DeliveryError::retryable("could not connect").with_source(err);
    }
    DeliveryError::retryable("the request failed").with_source(err)
}

#[async_trait]
impl Channel for WebhookChannel {
    fn name(&self) -> &str {
        "webhook"
    }

    fn kind(&self) -> ChannelKind {
        ChannelKind::Webhook
    }

    async fn send(&self, message: &Message) -> Result<Receipt, DeliveryError> {
        let Message::Webhook(w) = message else {
            return Err(DeliveryError::permanent(
                "the webhook provider sends webhooks only",
            ));
        };
        let url = self
            .policy
            .check_syntax(&w.url)
            .map_err(|e| DeliveryError::permanent(e.message().to_owned()))?;
        let signed = sign_headers(&w.secrets, &w.id, self.clock.unix_seconds(), &w.body);
        let header = |v: &str| {
            HeaderValue::from_str(v)
                .map_err(|_| DeliveryError::permanent("unsendable header value"))
        };
        let started = Instant::now();
        let response = self
            .client
            .post(url)
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .header(USER_AGENT, HeaderValue::from_static("baas-notify/0.1"))
            .header(WEBHOOK_ID, header(&signed.id)?)
            .header(WEBHOOK_TIMESTAMP, header(&signed.timestamp)?)
            .header(WEBHOOK_SIGNATURE, header(&signed.signature)?)
            .body(w.body.clone())
            .send()
            .await
            .map_err(transport_error)?;
        let status = response.status().as_u16();
        tracing::debug!(status, elapsed = ?started.elapsed(), "webhook attempt");
        if response.status().is_success() {
            return Ok(Receipt {
                status_code: Some(status),
                provider_id: None,
            });
        }
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, self.clock.now()));
        Err(DeliveryError::from_status(status, true, retry_after))
    }
}

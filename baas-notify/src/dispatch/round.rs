//! One delivery round of one notification: build its message, offer it to each
//! provider of its channel in order, and decide what comes of it — without writing
//! anything (the batch writes every round's outcome at once).

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use baas_core::{Error, ErrorKind, TenantId};
use tower::ServiceExt as _;
use uuid::Uuid;

use super::{Dispatcher, Disposition};
use crate::channel::{
    DeliveryError, EmailMessage, FailureClass, Message, TextMessage, WebhookMessage,
};
use crate::endpoints::OpenedEndpoint;
use crate::model::{Attempt, ChannelKind, Notification, Outcome, Status};
use crate::notifier::DeliveryJob;
use crate::schedule::RetrySchedule;
use crate::store::Settlement;

/// The endpoints a batch's webhooks go to, opened once per batch: `None` = deleted.
pub(super) type Opened = std::collections::HashMap<(TenantId, Uuid), Option<Arc<OpenedEndpoint>>>;

/// What one round decided, before anything is written.
#[derive(Debug)]
pub(super) struct Decided {
    /// What to do with the job.
    pub(super) disposition: Disposition,
    /// The attempts and the status to keep.
    pub(super) settlement: Settlement,
    /// The endpoint answered 410: disable it.
    pub(super) disable: Option<Uuid>,
}

impl Dispatcher {
    /// `n` can never be sent: `dead`, dead-lettered with `reason`, nothing tried.
    pub(super) fn dead(&self, n: &Notification, reason: String) -> Decided {
        Decided {
            disposition: Disposition::DeadLetter(reason),
            settlement: Settlement {
                tenant: n.tenant.clone(),
                notification: n.id,
                attempts: Vec::new(),
                status: Status::Dead,
                at: self.inner.clock.now(),
            },
            disable: None,
        }
    }

    /// Deliver `n` (already marked `sending`) once through its providers. An `Err` is
    /// retryable (a store could not be reached); everything else is decided. (already marked `sending`) once through its providers.
    pub(super) async fn round(
        &self,
        n: &Notification,
        job: &DeliveryJob,
        round: u32,
        opened: &Opened,
    ) -> Result<Decided, Error> {
        let inner = &self.inner;
        let settle = |attempts: Vec<Attempt>, status: Status| Settlement {
            tenant: n.tenant.clone(),
            notification: n.id,
            attempts,
            status,
            at: inner.clock.now(),
        };
        let decided = |disposition, attempts, status| Decided {
            disposition,
            settlement: settle(attempts, status),
            disable: None,
        };
        let message = match self.message(n, job, opened) {
            Ok(m) => m,
            Err(e) if e.kind().is_retryable() => return Err(e),
            Err(e) => return Ok(self.dead(n, e.message().to_owned())),
        };
        let providers = inner
            .providers
            .get(&n.channel)
            .map(Vec::as_slice)
            .unwrap_or_default();
        if providers.is_empty() {
            return Ok(self.dead(n, format!("no provider for {}", n.channel)));
        }
        let mut attempts = Vec::with_capacity(1);
        let mut retry_after: Option<Duration> = None;
        let mut last_error = String::new();
        for (number, provider) in (n.attempts + 1..).zip(providers.iter()) {
            let at = inner.clock.now();
            let started = Instant::now();
            let result = provider.service.clone().oneshot(message.clone()).await;
            let latency = started.elapsed();
            let (outcome, status_code, error, class) = classify(&result, &mut retry_after);
            metrics::counter!("baas_notify_attempts_total", "channel" => n.channel.as_str(), "provider" => provider.name.clone(), "outcome" => outcome.as_str()).increment(1);
            attempts.push(attempt(
                n.id,
                number,
                at,
                &provider.name,
                outcome,
                status_code,
                error.clone(),
                latency,
            ));
            match class {
                None => return Ok(decided(Disposition::Ack, attempts, Status::Sent)),
                Some(FailureClass::Gone) => {
                    let mut d = decided(Disposition::Ack, attempts, Status::Dead);
                    d.disable = Uuid::parse_str(&n.recipient).ok();
                    return Ok(d);
                }
                Some(FailureClass::Permanent) => {
                    return Ok(decided(
                        Disposition::DeadLetter(error.unwrap_or_default()),
                        attempts,
                        Status::Dead,
                    ));
                }
                Some(_) => last_error = error.unwrap_or_default(),
            }
        }
        let schedule = inner
            .schedules
            .get(&n.channel)
            .cloned()
            .unwrap_or_else(RetrySchedule::message_default);
        Ok(match schedule.delay_after(round, retry_after) {
            Some(delay) => decided(Disposition::Retry(delay), attempts, Status::Failed),
            None => decided(
                Disposition::DeadLetter(format!("gave up after {round} rounds: {last_error}")),
                attempts,
                Status::Dead,
            ),
        })
    }

    /// The message to send for `n`: a webhook to its (opened) endpoint, or a rendered
    /// template. `Invalid` when it can never be sent.
    fn message(
        &self,
        n: &Notification,
        job: &DeliveryJob,
        opened: &Opened,
    ) -> Result<Message, Error> {
        let id = n.id.to_string();
        match n.channel {
            ChannelKind::Webhook => {
                if self.inner.endpoints.is_none() {
                    return Err(Error::invalid("no webhook endpoints configured"));
                }
                let endpoint_id =
                    Uuid::parse_str(&n.recipient).map_err(|_| Error::invalid("bad endpoint id"))?;
                let opened = opened
                    .get(&(n.tenant.clone(), endpoint_id))
                    .cloned()
                    .flatten()
                    .ok_or_else(|| Error::invalid("the endpoint was deleted"))?;
                if opened.endpoint.disabled {
                    return Err(Error::invalid("the endpoint is disabled"));
                }
                let body = serde_json::to_vec(&n.data)
                    .map_err(|_| Error::internal("cannot encode the event"))?;
                Ok(Message::Webhook(WebhookMessage {
                    id: job.webhook_id.clone().unwrap_or(id),
                    url: opened.endpoint.url.clone(),
                    body: body.into(),
                    secrets: opened.secrets.to_vec(),
                }))
            }
            channel => {
                let template = n
                    .template
                    .as_deref()
                    .ok_or_else(|| Error::invalid("no template"))?;
                let r = self.inner.templates.render(template, &n.locale, &n.data)?;
                Ok(match channel {
                    ChannelKind::Email => Message::Email(EmailMessage {
                        id,
                        to: n.recipient.clone(),
                        subject: r.subject.unwrap_or_default(),
                        text: r.text,
                        html: r.html,
                    }),
                    _ => Message::Text(TextMessage {
                        channel,
                        id,
                        to: n.recipient.clone(),
                        title: r.subject,
                        text: r.text,
                        data: n.data.clone(),
                    }),
                })
            }
        }
    }
}

#[allow(clippy::too_many_arguments, reason = "one attempt's fields")]
fn attempt(
    notification: Uuid,
    number: u32,
    at: SystemTime,
    provider: &str,
    outcome: Outcome,
    status_code: Option<u16>,
    error: Option<String>,
    latency: Duration,
) -> Attempt {
    Attempt {
        notification,
        number,
        at,
        provider: provider.to_owned(),
        outcome,
        status_code,
        error,
        latency,
    }
}

/// What an attempt's result means: outcome, status code, error text, and the failure
/// class (`None`: delivered). Folds any retry-after hint into `retry_after`.
fn classify(
    result: &Result<crate::channel::Receipt, baas_core::BoxError>,
    retry_after: &mut Option<Duration>,
) -> (Outcome, Option<u16>, Option<String>, Option<FailureClass>) {
    match result {
        Ok(receipt) => (Outcome::Sent, receipt.status_code, None, None),
        Err(err) => match err.downcast_ref::<DeliveryError>() {
            Some(d) => {
                *retry_after = (*retry_after).max(baas_core::Classify::retry_after(d));
                let outcome = match d.class() {
                    FailureClass::Retryable => Outcome::Retryable,
                    FailureClass::Permanent => Outcome::Permanent,
                    FailureClass::Gone => Outcome::Gone,
                };
                (
                    outcome,
                    d.status_code(),
                    Some(d.message().to_owned()),
                    Some(d.class()),
                )
            }
            None => {
                let (kind, after) = Error::classify(&**err);
                *retry_after = (*retry_after).max(after);
                let outcome = if kind == ErrorKind::Timeout {
                    Outcome::Retryable
                } else {
                    Outcome::Skipped
                };
                let text = match kind {
                    ErrorKind::Timeout => "the attempt timed out".to_owned(),
                    ErrorKind::RateLimited => "provider rate limit reached".to_owned(),
                    ErrorKind::Unavailable => "provider circuit open".to_owned(),
                    _ => "provider failed".to_owned(),
                };
                (outcome, None, Some(text), Some(FailureClass::Retryable))
            }
        },
    }
}

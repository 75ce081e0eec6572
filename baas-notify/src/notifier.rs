//! [`Notifier`]: validate, apply preferences, render, record and enqueue — and fan
//! events out to webhook endpoints.

use std::collections::HashSet;
use std::sync::Arc;

use baas_core::clock::{self, SharedClock};
use baas_core::{Error, TenantId};
use baas_queue::Queue;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::endpoints::{WebhookEndpoints, validate_event_type};
use crate::error::NotifyError;
use crate::intake::{Accept, Intake, QueueIntake};
use crate::model::{ChannelKind, Notification, Status};
use crate::store::{DeliveryLog, PreferenceStore};
use crate::template::Templates;
use crate::validate;

/// The queue notifications travel through.
pub const DEFAULT_QUEUE: &str = "baas-notify";

/// The most bytes of an idempotency key.
pub const MAX_IDEMPOTENCY_KEY: usize = 255;

/// What the queue carries: which notification to deliver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryJob {
    /// The notification (or webhook delivery).
    pub notification: Uuid,
    /// For a webhook: the `webhook-id` (the event's id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_id: Option<String>,
}

/// A request to notify someone.
#[derive(Debug, Clone, PartialEq)]
pub struct SendRequest {
    /// The channel (email, sms or push).
    pub channel: ChannelKind,
    /// The recipient: address, phone number or device token.
    pub to: String,
    /// The template.
    pub template: String,
    /// The template data.
    pub data: serde_json::Value,
    /// The locale (default `en`).
    pub locale: Option<String>,
    /// The preference category (default: the template's name).
    pub category: Option<String>,
    /// One key, at most one notification (per tenant).
    pub idempotency_key: Option<String>,
}

impl SendRequest {
    /// A request for `template` on `channel` to `to` with `data`.
    pub fn new(
        channel: ChannelKind,
        to: impl Into<String>,
        template: impl Into<String>,
        data: serde_json::Value,
    ) -> Self {
        SendRequest {
            channel,
            to: to.into(),
            template: template.into(),
            data,
            locale: None,
            category: None,
            idempotency_key: None,
        }
    }

    /// Set the locale.
    pub fn locale(mut self, locale: impl Into<String>) -> Self {
        self.locale = Some(locale.into());
        self
    }

    /// Set the preference category.
    pub fn category(mut self, category: impl Into<String>) -> Self {
        self.category = Some(category.into());
        self
    }

    /// Set the idempotency key.
    pub fn idempotency_key(mut self, key: impl Into<String>) -> Self {
        self.idempotency_key = Some(key.into());
        self
    }
}

/// An accepted event (API.md: `POST /v1/events` answers `{"id"}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublishedEvent {
    /// The event's id: every delivery's `webhook-id`.
    pub id: String,
    /// One delivery (a notification on channel `webhook`) per matching endpoint.
    pub deliveries: Vec<Uuid>,
}

/// Accepts notifications and events and puts them on the queue. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Notifier {
    log: Arc<dyn DeliveryLog>,
    prefs: Arc<dyn PreferenceStore>,
    templates: Arc<Templates>,
    intake: Arc<dyn Intake>,
    queue_name: String,
    endpoints: Option<WebhookEndpoints>,
    mandatory: Arc<HashSet<String>>,
    clock: SharedClock,
}

impl Notifier {
    /// A notifier over these stores and queue, taking notifications in through a
    /// [`QueueIntake`] (the log, then the queue); see
    /// [`with_intake`](Self::with_intake) for a faster one.
    pub fn new(
        log: Arc<dyn DeliveryLog>,
        prefs: Arc<dyn PreferenceStore>,
        templates: Arc<Templates>,
        queue: Arc<dyn Queue>,
    ) -> Self {
        Notifier {
            intake: Arc::new(QueueIntake::new(log.clone(), queue)),
            log,
            prefs,
            templates,
            queue_name: DEFAULT_QUEUE.to_owned(),
            endpoints: None,
            mandatory: Arc::default(),
            clock: clock::system(),
        }
    }

    /// Take notifications in through `intake` — e.g. `SqlIntake` (feature `sql`), which
    /// records them and enqueues their jobs in one transaction, grouping concurrent
    /// calls. It must record in the same delivery log this notifier reads
    /// ([`get`](Self::get)) and the dispatcher delivers from.
    pub fn with_intake(mut self, intake: Arc<dyn Intake>) -> Self {
        self.intake = intake;
        self
    }

    /// Fan events out to these webhook endpoints.
    pub fn with_endpoints(mut self, endpoints: WebhookEndpoints) -> Self {
        self.endpoints = Some(endpoints);
        self
    }

    /// Categories no preference can suppress (security notices…).
    pub fn mandatory_categories<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        categories: I,
    ) -> Self {
        self.mandatory = Arc::new(categories.into_iter().map(Into::into).collect());
        self
    }

    /// Use a queue name other than [`DEFAULT_QUEUE`].
    pub fn queue_name(mut self, name: impl Into<String>) -> Self {
        self.queue_name = name.into();
        self
    }

    /// Read the time from `clock`.
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// The delivery log.
    pub fn log(&self) -> &Arc<dyn DeliveryLog> {
        &self.log
    }

    /// Validate, apply preferences, render (to check it renders) and enqueue.
    ///
    /// `Invalid` (422) for a bad recipient, an unknown template, a missing variable
    /// or a bad key — and then nothing is stored. With an idempotency key, a second
    /// call returns the first notification and enqueues nothing. An opted-out
    /// recipient (of a category that is not mandatory) gets a `suppressed`
    /// notification that is never enqueued.
    pub async fn send(&self, tenant: &TenantId, req: SendRequest) -> Result<Notification, Error> {
        validate::recipient(req.channel, &req.to)?;
        if let Some(key) = &req.idempotency_key
            && (key.is_empty()
                || key.len() > MAX_IDEMPOTENCY_KEY
                || key.chars().any(char::is_control))
        {
            return Err(NotifyError::Invalid {
                field: "idempotency_key",
                message: "1–255 bytes without control characters".into(),
            }
            .into());
        }
        let locale = req.locale.clone().unwrap_or_else(|| "en".to_owned());
        let category = req.category.clone().unwrap_or_else(|| req.template.clone());
        if !req.data.is_object() {
            return Err(NotifyError::Invalid {
                field: "data",
                message: "must be a JSON object".into(),
            }
            .into());
        }
        // Render now, so a missing variable is the caller's 422, not a dead letter.
        self.templates.render(&req.template, &locale, &req.data)?;
        let suppressed = !self.mandatory.contains(&category)
            && self
                .prefs
                .is_opted_out(tenant, &req.to, &category, req.channel)
                .await?;
        let now = self.clock.now();
        let notification = Notification {
            id: Uuid::now_v7(),
            tenant: tenant.clone(),
            recipient: req.to,
            channel: req.channel,
            category,
            template: Some(req.template),
            locale,
            data: req.data,
            idempotency_key: req.idempotency_key,
            status: if suppressed {
                Status::Suppressed
            } else {
                Status::Queued
            },
            attempts: 0,
            created_at: now,
            updated_at: now,
        };
        let accepted = self
            .intake
            .accept(
                &self.queue_name,
                vec![Accept {
                    notification,
                    webhook_id: None,
                }],
            )
            .await?;
        accepted
            .into_iter()
            .next()
            .map(|inserted| inserted.notification)
            .ok_or_else(|| Error::internal("the intake answered nothing"))
    }

    /// Publish an event: one webhook delivery per enabled endpoint of `tenant` that
    /// wants `event_type`, each with body `{"type","timestamp","data"}` (minified) and
    /// `webhook-id` = the event's id.
    pub async fn publish(
        &self,
        tenant: &TenantId,
        event_type: &str,
        payload: serde_json::Value,
    ) -> Result<PublishedEvent, Error> {
        validate_event_type(event_type, false)?;
        let id = Uuid::now_v7();
        let event_id = format!("evt_{}", id.simple());
        let now = self.clock.now();
        let timestamp = OffsetDateTime::from(now)
            .format(&time::format_description::well_known::Rfc3339)
            .map_err(|_| Error::internal("cannot format the event time"))?;
        let body = serde_json::json!({"type": event_type, "timestamp": timestamp, "data": payload});
        let Some(endpoints) = &self.endpoints else {
            return Ok(PublishedEvent {
                id: event_id,
                deliveries: Vec::new(),
            });
        };
        let mut batch = Vec::new();
        for endpoint in endpoints.matching(tenant, event_type).await? {
            let notification = Notification {
                id: Uuid::now_v7(),
                tenant: tenant.clone(),
                recipient: endpoint.id.to_string(),
                channel: ChannelKind::Webhook,
                category: event_type.to_owned(),
                template: None,
                locale: String::new(),
                data: body.clone(),
                idempotency_key: Some(format!("{event_id}:{}", endpoint.id)),
                status: Status::Queued,
                attempts: 0,
                created_at: now,
                updated_at: now,
            };
            batch.push(Accept {
                notification,
                webhook_id: Some(event_id.clone()),
            });
        }
        let deliveries = if batch.is_empty() {
            Vec::new()
        } else {
            self.intake
                .accept(&self.queue_name, batch)
                .await?
                .into_iter()
                .map(|inserted| inserted.notification.id)
                .collect()
        };
        Ok(PublishedEvent {
            id: event_id,
            deliveries,
        })
    }

    /// A notification of `tenant`, if any.
    pub async fn get(&self, tenant: &TenantId, id: Uuid) -> Result<Option<Notification>, Error> {
        self.log.get(tenant, id).await
    }
}

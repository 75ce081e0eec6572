//! The HTTP routes of API.md's "Events, webhooks and notifications" section (feature
//! `http`), as an axum router a binary mounts behind its authentication layer, and
//! their OpenAPI description ([`openapi`]).
//!
//! | method and path | who | answer |
//! |---|---|---|
//! | `POST /v1/webhooks/endpoints` `{"url","event_types"}` | admin | 201 `{"id","secret"}` (the secret is shown once) |
//! | `GET /v1/webhooks/endpoints` | admin | 200 `{"items":[{"id","url","event_types","disabled"}]}` |
//! | `DELETE /v1/webhooks/endpoints/{id}` | admin | 204 |
//! | `POST /v1/events` `{"event_type","payload"}` | any caller | 202 `{"id"}`: one signed delivery per matching endpoint |
//! | `POST /v1/notifications` `{"channel","to","template","data"}` | any caller | 202 `{"id"}` |
//! | `GET /v1/notifications/{id}` | any caller | 200 `{"id","status","attempts"}` |
//!
//! The tenant always comes from the authenticated caller ([`Caller`](baas_core::http::Caller)); another tenant's
//! endpoint or notification answers 404, as a missing one does. Every error is
//! problem+json: an unparseable body 400, a refused URL (private address, wrong
//! scheme), an unknown template, a missing variable or a bad address 422, no credential
//! 401, a member where an admin is needed 403.
//!
//! # Choices
//!
//! - `channel` of `POST /v1/notifications` is `email`, `sms` or `push`; `webhook` is
//!   refused (422): webhooks are sent as events.
//! - An id that is not a UUID is 404 (no such resource can exist).
//! - Deliveries happen in the worker ([`Dispatcher`](crate::Dispatcher)), not in the
//!   request: these routes only validate and enqueue.
//!
//! ```
//! use std::sync::Arc;
//! use baas_core::{MasterKey, TenantId};
//! use baas_notify::http::{NotifyState, routes};
//! use baas_notify::store::{MemoryDeliveryLog, MemoryEndpointStore, MemoryPreferenceStore};
//! use baas_notify::{Notifier, TargetPolicy, Templates, WebhookEndpoints};
//! use baas_queue::MemoryQueue;
//!
//! let endpoints = WebhookEndpoints::new(
//!     Arc::new(MemoryEndpointStore::new()),
//!     MasterKey::generate(),
//!     TargetPolicy::new(),
//! );
//! let notifier = Notifier::new(
//!     Arc::new(MemoryDeliveryLog::new()),
//!     Arc::new(MemoryPreferenceStore::new()),
//!     Arc::new(Templates::new("en")),
//!     Arc::new(MemoryQueue::new()),
//! )
//! .with_endpoints(endpoints.clone());
//! let app: axum::Router = routes(NotifyState::new(notifier, endpoints));
//! assert!(baas_notify::http::openapi().paths.paths.contains_key("/v1/events"));
//! # let _ = app;
//! ```

mod endpoints;
mod events;
mod notifications;
mod openapi;

use axum::Router;
use axum::routing::{delete, get, post};

use crate::{Notifier, WebhookEndpoints};

pub use endpoints::{CreateEndpoint, EndpointCreated, EndpointItem, EndpointPage};
pub use events::{EventAccepted, PublishEvent};
pub use notifications::{NotificationAccepted, NotificationStatus, SendNotification};
pub use openapi::{NotifyApi, openapi};

/// What the routes work with: the notifier (events and notifications) and the webhook
/// endpoints. Cheap to clone.
#[derive(Debug, Clone)]
pub struct NotifyState {
    notifier: Notifier,
    endpoints: WebhookEndpoints,
}

impl NotifyState {
    /// The state over `notifier` and `endpoints` (give the notifier the same endpoints
    /// with [`Notifier::with_endpoints`], so events reach them).
    pub fn new(notifier: Notifier, endpoints: WebhookEndpoints) -> Self {
        NotifyState {
            notifier,
            endpoints,
        }
    }
}

/// Every route of the section, needing an authenticated caller.
pub fn routes<S>(state: NotifyState) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route(
            "/v1/webhooks/endpoints",
            post(endpoints::create_endpoint).get(endpoints::list_endpoints),
        )
        .route(
            "/v1/webhooks/endpoints/{id}",
            delete(endpoints::delete_endpoint),
        )
        .route("/v1/events", post(events::publish_event))
        .route("/v1/notifications", post(notifications::send_notification))
        .route(
            "/v1/notifications/{id}",
            get(notifications::get_notification),
        )
        .with_state(state)
}

/// A path id: not a UUID → 404, as no such resource can exist.
fn path_id(raw: &str, what: &str) -> Result<uuid::Uuid, baas_core::Error> {
    uuid::Uuid::parse_str(raw).map_err(|_| {
        baas_core::Error::new(baas_core::ErrorKind::NotFound, format!("no such {what}"))
    })
}

#[cfg(test)]
mod tests;

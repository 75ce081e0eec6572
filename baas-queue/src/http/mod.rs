//! The operator routes of API.md's "Operations" section (feature `http`), as an axum
//! router a binary mounts, and their OpenAPI description ([`openapi`]).
//!
//! | method and path | success |
//! |---|---|
//! | `GET /v1/admin/queues` | 200 [`QueueList`]: `{"queues":[{"name","depth","in_flight","dead","oldest_age_seconds"}]}` |
//! | `POST /v1/admin/queues/{queue}/redrive` | 200 [`Redriven`]: `{"moved"}` |
//!
//! Both act on the whole installation, so both need an **operator**: the authenticated
//! [`Principal`](baas_core::Principal) the authentication layer put in the request
//! extensions (directly or inside a [`RequestContext`](baas_core::RequestContext)) must
//! answer [`is_operator`](baas_core::Principal::is_operator). No principal answers 401
//! problem+json with `WWW-Authenticate: Bearer`; any other principal — a tenant's admin
//! included — 403. The check comes before anything else, so a caller who is not an
//! operator learns nothing about the queues (not even whether a name is valid).
//!
//! Every error is problem+json (through [`baas_core::Error`]'s `IntoResponse`). Mount
//! [`baas_core::http::problem_rejections`] on the whole router for unknown routes and
//! methods.
//!
//! # Choices
//!
//! - **Figures** come from [`Queue::queues`](crate::Queue::queues) and
//!   [`Queue::stats`](crate::Queue::stats); one the backend cannot know is `null` (the
//!   RabbitMQ backend without its management API, for example).
//!   `oldest_age_seconds` is fractional, and 0 when nothing is ready. A backend that
//!   fails to answer makes the whole listing fail (503), rather than answer a partial list.
//! - **Redrive** moves every dead letter of the queue back, oldest first, ready at once
//!   with its attempts reset ([`QueueExt::redrive_all`](crate::QueueExt::redrive_all)).
//!   A queue name outside 1–255 bytes of `[A-Za-z0-9._:-]` is 400; an unknown queue (or
//!   one without dead letters) is 200 `{"moved":0}`. Each redrive is logged at `info`
//!   with the operator's subject and tenant.
//!
//! # Mounting
//!
//! The routes go behind the authentication layer. API.md asks for an `Idempotency-Key`
//! on every POST: that is the standard stack's idempotency layer's job, not these
//! routes' (without it, a repeated redrive simply finds nothing more to move).
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use axum::Router;
//! use axum::body::Body;
//! use axum::http::{Request, StatusCode};
//! use baas_queue::{DynQueue, MemoryQueue, Queue, QueueExt};
//! use baas_queue::core::{Principal, PrincipalKind, TenantId};
//! use tower::ServiceExt;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let queue: Arc<DynQueue> = Arc::new(MemoryQueue::new());
//! let acme = TenantId::new("acme")?;
//! queue.enqueue_json("emails", &acme, &"hello").await?;
//! let delivery = queue.reserve_one("emails", Duration::from_secs(30)).await?.unwrap();
//! queue.dead_letter(&delivery.lease, "smtp refused").await?;
//!
//! // Behind the authentication layer (which puts the caller's Principal in the request):
//! let app: Router = baas_queue::http::admin_routes(queue.clone());
//! let app = baas_queue::core::http::problem_rejections(app);
//!
//! let operator = Principal::new("ops-1", TenantId::new("ops")?, PrincipalKind::User)
//!     .with_roles(["admin"])
//!     .with_operator(true);
//! let mut request = Request::post("/v1/admin/queues/emails/redrive").body(Body::empty())?;
//! request.extensions_mut().insert(operator);
//! let response = app.oneshot(request).await?;
//! assert_eq!(response.status(), StatusCode::OK);
//! let body = axum::body::to_bytes(response.into_body(), 1 << 20).await?;
//! assert_eq!(serde_json::from_slice::<serde_json::Value>(&body)?, serde_json::json!({"moved": 1}));
//! assert_eq!(queue.stats("emails").await?.depth, Some(1));
//!
//! // And in /openapi.json:
//! let spec = baas_queue::http::openapi();
//! assert!(spec.paths.paths.contains_key("/v1/admin/queues"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

mod admin;
mod extract;
mod openapi;

use std::sync::Arc;

use axum::Router;

use crate::queue::DynQueue;

pub use admin::{QueueList, QueueSummary, Redriven};
pub use openapi::{QueueApi, openapi};

/// The operator routes `GET /v1/admin/queues` and `POST /v1/admin/queues/{queue}/redrive`
/// over `queue`, needing an authenticated operator
/// [`Principal`](baas_core::Principal) (401 without a principal, 403 for anyone else).
pub fn admin_routes<S>(queue: Arc<DynQueue>) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    admin::router(queue)
}

#[cfg(test)]
mod tests;

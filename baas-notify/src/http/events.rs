//! `POST /v1/events`.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use baas_core::Error;
use baas_core::http::{Caller, Json};
use http::StatusCode;
use serde::{Deserialize, Serialize};

use super::NotifyState;

/// `POST /v1/events`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishEvent {
    /// 1–128 of `[A-Za-z0-9._:-]`.
    pub event_type: String,
    /// Any JSON: the `data` of the delivered body.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
}

/// The answer to `POST /v1/events`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EventAccepted {
    /// The event's id: every delivery's `webhook-id`.
    pub id: String,
}

/// Publish an event to every matching endpoint of the caller's tenant.
#[utoipa::path(
    post,
    path = "/v1/events",
    tag = "webhooks",
    operation_id = "publish_event",
    request_body = PublishEvent,
    responses(
        (status = 202, description = "accepted: one signed delivery per matching endpoint, through the queue", body = EventAccepted),
        (status = 400, description = "unparseable body", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 401, description = "no credentials", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 422, description = "a bad event type", body = baas_core::http::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn publish_event(
    caller: Caller,
    State(state): State<NotifyState>,
    Json(body): Json<PublishEvent>,
) -> Result<Response, Error> {
    let event = state
        .notifier
        .publish(caller.tenant(), &body.event_type, body.payload)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(EventAccepted { id: event.id })).into_response())
}

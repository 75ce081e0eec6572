//! `POST /v1/notifications`, `GET /v1/notifications/{id}`.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use baas_core::http::{Caller, Json, Path};
use baas_core::{Error, ErrorKind};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{NotifyState, path_id};
use crate::{ChannelKind, NotifyError, SendRequest, Status};

/// `POST /v1/notifications`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendNotification {
    /// `email`, `sms` or `push`.
    #[schema(value_type = String, example = "email")]
    pub channel: ChannelKind,
    /// The recipient: an address, a phone number or a device token.
    pub to: String,
    /// The template's name (the platform ships `welcome`).
    pub template: String,
    /// The template's variables: a JSON object.
    #[serde(default = "empty_object")]
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(serde_json::Map::new())
}

/// The answer to `POST /v1/notifications`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NotificationAccepted {
    /// The notification's id.
    #[schema(value_type = String)]
    pub id: Uuid,
}

/// `GET /v1/notifications/{id}`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NotificationStatus {
    /// Its id.
    #[schema(value_type = String)]
    pub id: Uuid,
    /// `queued`, `sending`, `sent`, `failed` (will retry), `dead` or `suppressed`.
    #[schema(value_type = String, example = "sent")]
    pub status: Status,
    /// Delivery attempts so far.
    pub attempts: u32,
}

/// Send a notification through the queue.
#[utoipa::path(
    post,
    path = "/v1/notifications",
    tag = "notifications",
    operation_id = "send_notification",
    request_body = SendNotification,
    responses(
        (status = 202, description = "accepted and queued (or suppressed by a preference)", body = NotificationAccepted),
        (status = 400, description = "unparseable body", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 401, description = "no credentials", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 422, description = "an unknown template or channel, a missing variable or a malformed address", body = baas_core::http::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn send_notification(
    caller: Caller,
    State(state): State<NotifyState>,
    Json(body): Json<SendNotification>,
) -> Result<Response, Error> {
    if body.channel == ChannelKind::Webhook {
        return Err(NotifyError::Invalid {
            field: "channel",
            message: "email, sms or push; webhooks are sent as events".into(),
        }
        .into());
    }
    let request = SendRequest::new(body.channel, body.to, body.template, body.data);
    let notification = state.notifier.send(caller.tenant(), request).await?;
    let accepted = NotificationAccepted {
        id: notification.id,
    };
    Ok((StatusCode::ACCEPTED, Json(accepted)).into_response())
}

/// Where a notification stands.
#[utoipa::path(
    get,
    path = "/v1/notifications/{id}",
    tag = "notifications",
    operation_id = "get_notification",
    params(("id" = String, Path, description = "the notification's id")),
    responses(
        (status = 200, description = "its status and attempts", body = NotificationStatus),
        (status = 401, description = "no credentials", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such notification in the caller's tenant", body = baas_core::http::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn get_notification(
    caller: Caller,
    State(state): State<NotifyState>,
    Path(id): Path<String>,
) -> Result<Json<NotificationStatus>, Error> {
    let id = path_id(&id, "notification")?;
    let n = state
        .notifier
        .get(caller.tenant(), id)
        .await?
        .ok_or_else(|| Error::new(ErrorKind::NotFound, "no such notification"))?;
    Ok(Json(NotificationStatus {
        id: n.id,
        status: n.status,
        attempts: n.attempts,
    }))
}

//! `POST`/`GET /v1/webhooks/endpoints`, `DELETE /v1/webhooks/endpoints/{id}` (admin).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use baas_core::http::{Caller, Json, Path};
use baas_core::{Error, ErrorKind};
use http::StatusCode;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{NotifyState, path_id};

/// `POST /v1/webhooks/endpoints`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEndpoint {
    /// `http` or `https`; private, loopback, link-local, multicast and unspecified
    /// targets are refused unless the installation allows them.
    pub url: String,
    /// Event types it receives (`*` = every type), 1–64 of them.
    pub event_types: Vec<String>,
}

/// The answer to `POST /v1/webhooks/endpoints`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct EndpointCreated {
    /// The endpoint's id.
    #[schema(value_type = String)]
    pub id: Uuid,
    /// Its signing secret, `whsec_<base64>`: shown once.
    pub secret: String,
}

impl std::fmt::Debug for EndpointCreated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EndpointCreated")
            .field("id", &self.id)
            .field("secret", &"[redacted]")
            .finish()
    }
}

/// One endpoint in `GET /v1/webhooks/endpoints`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EndpointItem {
    /// Its id.
    #[schema(value_type = String)]
    pub id: Uuid,
    /// The target URL.
    pub url: String,
    /// The event types it receives.
    pub event_types: Vec<String>,
    /// Disabled (the target answered 410).
    pub disabled: bool,
}

/// `GET /v1/webhooks/endpoints`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EndpointPage {
    /// The tenant's endpoints.
    pub items: Vec<EndpointItem>,
}

/// Register a webhook endpoint (admin).
#[utoipa::path(
    post,
    path = "/v1/webhooks/endpoints",
    tag = "webhooks",
    operation_id = "create_webhook_endpoint",
    request_body = CreateEndpoint,
    responses(
        (status = 201, description = "registered; the secret is shown once", body = EndpointCreated),
        (status = 400, description = "unparseable body", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 401, description = "no credentials", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 403, description = "not an admin", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 422, description = "a refused URL or bad event types", body = baas_core::http::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn create_endpoint(
    caller: Caller,
    State(state): State<NotifyState>,
    Json(body): Json<CreateEndpoint>,
) -> Result<Response, Error> {
    caller.require_admin()?;
    let (endpoint, secret) = state
        .endpoints
        .create(caller.tenant(), &body.url, body.event_types)
        .await?;
    let created = EndpointCreated {
        id: endpoint.id,
        secret: secret.expose_secret().to_owned(),
    };
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// The tenant's webhook endpoints (admin).
#[utoipa::path(
    get,
    path = "/v1/webhooks/endpoints",
    tag = "webhooks",
    operation_id = "list_webhook_endpoints",
    responses(
        (status = 200, description = "the endpoints", body = EndpointPage),
        (status = 401, description = "no credentials", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 403, description = "not an admin", body = baas_core::http::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn list_endpoints(
    caller: Caller,
    State(state): State<NotifyState>,
) -> Result<Json<EndpointPage>, Error> {
    caller.require_admin()?;
    let items = state
        .endpoints
        .list(caller.tenant())
        .await?
        .into_iter()
        .map(|e| EndpointItem {
            id: e.id,
            url: e.url,
            event_types: e.event_types,
            disabled: e.disabled,
        })
        .collect();
    Ok(Json(EndpointPage { items }))
}

/// Remove a webhook endpoint (admin).
#[utoipa::path(
    delete,
    path = "/v1/webhooks/endpoints/{id}",
    tag = "webhooks",
    operation_id = "delete_webhook_endpoint",
    params(("id" = String, Path, description = "the endpoint's id")),
    responses(
        (status = 204, description = "removed"),
        (status = 401, description = "no credentials", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 403, description = "not an admin", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 404, description = "no such endpoint in the caller's tenant", body = baas_core::http::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn delete_endpoint(
    caller: Caller,
    State(state): State<NotifyState>,
    Path(id): Path<String>,
) -> Result<StatusCode, Error> {
    caller.require_admin()?;
    let id = path_id(&id, "endpoint")?;
    if state.endpoints.get(caller.tenant(), id).await?.is_none() {
        return Err(Error::new(ErrorKind::NotFound, "no such endpoint"));
    }
    state.endpoints.delete(caller.tenant(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

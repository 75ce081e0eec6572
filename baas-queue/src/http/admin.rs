//! `/v1/admin/queues`: every queue's figures, and redriving a queue's dead letters.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use baas_core::Error;
use baas_core::http::Json;

use super::extract::Operator;
use crate::queue::{DynQueue, QueueExt, QueueStats, validate_queue_name};
use baas_core::http::Path;

type Queues = Arc<DynQueue>;

/// One queue's figures; `null` where the backend cannot know.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct QueueSummary {
    /// The queue's name.
    pub name: String,
    /// Messages waiting: ready or delayed, not leased, not dead.
    pub depth: Option<u64>,
    /// Messages under a live lease.
    pub in_flight: Option<u64>,
    /// Dead letters.
    pub dead: Option<u64>,
    /// How long the oldest ready message has waited since it was enqueued, in seconds
    /// (fractional; 0 when nothing is ready).
    pub oldest_age_seconds: Option<f64>,
}

impl QueueSummary {
    /// The summary of queue `name` with figures `stats`.
    pub fn new(name: impl Into<String>, stats: &QueueStats) -> Self {
        QueueSummary {
            name: name.into(),
            depth: stats.depth,
            in_flight: stats.in_flight,
            dead: stats.dead,
            oldest_age_seconds: stats.oldest_age.map(|age| age.as_secs_f64()),
        }
    }
}

/// The answer of `GET /v1/admin/queues`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct QueueList {
    /// Every queue the backend knows, sorted by name.
    pub queues: Vec<QueueSummary>,
}

/// The answer of `POST /v1/admin/queues/{queue}/redrive`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
pub struct Redriven {
    /// How many dead letters went back to the queue (0 for an unknown queue).
    pub moved: u64,
}

pub(super) fn router<S>(queues: Queues) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/v1/admin/queues", get(list_queues))
        .route("/v1/admin/queues/{queue}/redrive", post(redrive_queue))
        .with_state(queues)
}

/// A bad queue name is a bad path: 400.
fn queue_name(name: &str) -> Result<(), Error> {
    validate_queue_name(name).map_err(|_| {
        Error::malformed("invalid queue name: 1-255 bytes of A-Z, a-z, 0-9, '.', '_', ':' and '-'")
            .with_field("queue", "invalid queue name")
    })
}

/// List every queue with its figures (operator).
#[utoipa::path(
    get,
    path = "/v1/admin/queues",
    tag = "queues",
    operation_id = "list_queues",
    responses(
        (status = 200, description = "every queue the backend knows, with its figures; a figure the backend cannot know is null", body = QueueList),
        (status = 401, description = "no credentials", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 403, description = "not an operator", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 503, description = "the queue backend is unavailable", body = baas_core::http::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn list_queues(
    _operator: Operator,
    State(queues): State<Queues>,
) -> Result<Json<QueueList>, Error> {
    let queues = queues
        .all_stats()
        .await?
        .into_iter()
        .map(|(name, stats)| QueueSummary::new(name, &stats))
        .collect();
    Ok(Json(QueueList { queues }))
}

/// Move every dead letter of a queue back to it, ready at once with its attempts reset
/// (operator).
#[utoipa::path(
    post,
    path = "/v1/admin/queues/{queue}/redrive",
    tag = "queues",
    operation_id = "redrive_queue",
    params(("queue" = String, Path, description = "the queue: 1-255 bytes of [A-Za-z0-9._:-]")),
    responses(
        (status = 200, description = "how many dead letters moved back (0 for an unknown queue)", body = Redriven),
        (status = 400, description = "bad queue name", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 401, description = "no credentials", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 403, description = "not an operator", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 503, description = "the queue backend is unavailable", body = baas_core::http::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn redrive_queue(
    Operator(operator): Operator,
    State(queues): State<Queues>,
    Path(name): Path<String>,
) -> Result<Json<Redriven>, Error> {
    queue_name(&name)?;
    let moved = queues.redrive_all(&name).await?;
    tracing::info!(queue = %name, moved, operator = %operator.subject, tenant = %operator.tenant, "redrove dead letters");
    Ok(Json(Redriven { moved }))
}

//! The OpenAPI description of the routes: [`QueueApi`], [`openapi`], [`ProblemDetails`].

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::admin;

/// An RFC 9457 problem document, as every error of these routes is answered
/// (`application/problem+json`). Mirrors [`baas_core::http::Problem`] for the OpenAPI
/// description, with the same name and shape as baas-store's, so the two descriptions
/// merge into one schema.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ProblemDetails {
    /// A URI naming the problem type, e.g. `https://baas.dev/problems/forbidden`.
    #[serde(rename = "type")]
    pub type_: String,
    /// A short summary of the type.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What happened, for this occurrence.
    pub detail: String,
    /// Field errors, when the input had some.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
}

/// One field error of a [`ProblemDetails`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ProblemField {
    /// The field (or query parameter, header, path segment).
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

/// Adds the `bearer` security scheme the operations name.
#[derive(Debug)]
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// The OpenAPI description of baas-queue's routes; merge it into the binary's own
/// (`utoipa::openapi::OpenApi::merge`), or take it whole from [`openapi`].
#[derive(Debug, OpenApi)]
#[openapi(
    paths(admin::list_queues, admin::redrive_queue),
    components(schemas(
        ProblemDetails,
        ProblemField,
        admin::QueueList,
        admin::QueueSummary,
        admin::Redriven,
    )),
    modifiers(&BearerScheme),
    tags(
        (name = "queues", description = "Queue administration for operators: figures and dead-letter redrive"),
    )
)]
pub struct QueueApi;

/// The OpenAPI 3.1 document of every route in this module.
///
/// ```
/// let spec = baas_queue::http::openapi();
/// assert!(spec.paths.paths.contains_key("/v1/admin/queues"));
/// assert!(spec.paths.paths.contains_key("/v1/admin/queues/{queue}/redrive"));
/// ```
pub fn openapi() -> utoipa::openapi::OpenApi {
    QueueApi::openapi()
}

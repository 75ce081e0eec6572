//! The OpenAPI description of the routes: [`QueueApi`], [`openapi`].

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::admin;

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
        baas_core::http::Problem,
        baas_core::FieldError,
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

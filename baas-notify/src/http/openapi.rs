//! The OpenAPI description of the routes: [`NotifyApi`], [`openapi`].

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{endpoints, events, notifications};

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

/// The OpenAPI description of baas-notify's routes; merge it into the binary's own
/// (`utoipa::openapi::OpenApi::merge`), or take it whole from [`openapi`].
#[derive(Debug, OpenApi)]
#[openapi(
    paths(
        endpoints::create_endpoint,
        endpoints::list_endpoints,
        endpoints::delete_endpoint,
        events::publish_event,
        notifications::send_notification,
        notifications::get_notification,
    ),
    components(schemas(
        baas_core::http::Problem,
        baas_core::FieldError,
        endpoints::CreateEndpoint,
        endpoints::EndpointCreated,
        endpoints::EndpointItem,
        endpoints::EndpointPage,
        events::PublishEvent,
        events::EventAccepted,
        notifications::SendNotification,
        notifications::NotificationAccepted,
        notifications::NotificationStatus,
    )),
    modifiers(&BearerScheme),
    tags(
        (name = "webhooks", description = "Webhook endpoints and events, signed per Standard Webhooks"),
        (name = "notifications", description = "Email, SMS and push through the queue"),
    )
)]
pub struct NotifyApi;

/// The OpenAPI 3.1 document of the events, webhooks and notifications routes.
pub fn openapi() -> utoipa::openapi::OpenApi {
    NotifyApi::openapi()
}

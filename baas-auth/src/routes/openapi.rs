//! [`IdentityApi`]: the OpenAPI document of the identity routes.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::dto;

/// The OpenAPI 3.1 document of [`router`](super::router)'s routes, with the `bearer`
/// security scheme. Merge it into the application's document:
///
/// ```
/// use utoipa::OpenApi as _;
/// let doc = baas_auth::routes::IdentityApi::openapi();
/// assert!(doc.paths.paths.contains_key("/v1/auth/token"));
/// let json = doc.to_json().unwrap();
/// assert!(json.contains("problem+json"));
/// ```
#[derive(Debug, OpenApi)]
#[openapi(
    paths(
        super::handlers::signup,
        super::oauth::token,
        super::oauth::revoke,
        super::handlers::logout,
        super::handlers::me,
        super::handlers::change_password,
        super::handlers::list_users,
        super::handlers::set_roles,
        super::handlers::disable_user,
        super::handlers::jwks,
        super::handlers::rotate_signing_key,
        super::handlers::create_api_key,
        super::handlers::delete_api_key,
    ),
    components(schemas(
        dto::SignupRequest,
        dto::SignupResponse,
        dto::UserView,
        dto::MeResponse,
        dto::TokenGrantRequest,
        dto::TokenResponseBody,
        dto::OAuthErrorBody,
        dto::RevokeRequest,
        dto::PasswordChangeRequest,
        dto::UserItem,
        dto::UsersPage,
        dto::RolesRequest,
        dto::KidResponse,
        dto::CreateApiKeyRequest,
        dto::ApiKeyCreated,
        baas_core::http::Problem,
        baas_core::FieldError,
    )),
    modifiers(&BearerScheme),
    tags((name = "identity", description = "Users, tokens, sessions, API keys and signing keys"))
)]
pub struct IdentityApi;

struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An access token (JWT) or an API key (`baas_…`)"))
                    .build(),
            ),
        );
    }
}

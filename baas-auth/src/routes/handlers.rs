//! The handlers of every identity route but the two OAuth endpoints.

use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use baas_core::Error;
use baas_core::http::Json;

use super::IdentityState;
use super::dto::{
    ApiKeyCreated, CreateApiKeyRequest, KidResponse, MeResponse, PasswordChangeRequest,
    RolesRequest, SignupRequest, SignupResponse, UserItem, UsersPage,
};
use super::extract::Caller;
use crate::page::{DEFAULT_PAGE_LIMIT, PageRequest};
use crate::service::ClientInfo;

/// Create a user.
#[utoipa::path(
    post, path = "/v1/auth/signup", tag = "identity",
    request_body = SignupRequest,
    responses(
        (status = 201, description = "Created; the tenant's first user is `admin`, later ones `member`", body = SignupResponse),
        (status = 409, description = "The email exists in that tenant", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad password, email or tenant", body = baas_core::http::Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn signup(
    State(state): State<IdentityState>,
    client: ClientInfo,
    Json(body): Json<SignupRequest>,
) -> Result<(StatusCode, Json<SignupResponse>), Error> {
    let user = state
        .service
        .signup(&body.tenant, &body.email, &body.password, &client)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(SignupResponse {
            user: (&user).into(),
        }),
    ))
}

/// Revoke the caller's session.
#[utoipa::path(
    post, path = "/v1/auth/logout", tag = "identity",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "The session is revoked"),
        (status = 401, description = "No valid credential", body = baas_core::http::Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn logout(
    State(state): State<IdentityState>,
    Caller(principal): Caller,
    client: ClientInfo,
) -> Result<StatusCode, Error> {
    state.service.logout(&principal, &client).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller.
#[utoipa::path(
    get, path = "/v1/auth/me", tag = "identity",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller", body = MeResponse),
        (status = 401, description = "No valid credential", body = baas_core::http::Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn me(
    State(state): State<IdentityState>,
    Caller(principal): Caller,
) -> Result<Json<MeResponse>, Error> {
    let me = state.service.me(&principal).await?;
    Ok(Json(MeResponse {
        id: me.id,
        tenant: me.tenant.to_string(),
        email: me.email.map(|e| e.to_string()),
        roles: me.roles,
    }))
}

/// Change the caller's password; the user's other sessions are revoked.
#[utoipa::path(
    post, path = "/v1/auth/password", tag = "identity",
    security(("bearer" = [])),
    request_body = PasswordChangeRequest,
    responses(
        (status = 204, description = "Changed; other sessions revoked"),
        (status = 401, description = "No valid credential", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong current password, or a new one the policy refuses", body = baas_core::http::Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn change_password(
    State(state): State<IdentityState>,
    Caller(principal): Caller,
    client: ClientInfo,
    Json(body): Json<PasswordChangeRequest>,
) -> Result<StatusCode, Error> {
    state
        .service
        .change_password(
            &principal,
            &body.current_password,
            &body.new_password,
            &client,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `?limit=&cursor=` of the user listing.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub(crate) struct ListParams {
    /// 1–1000, default 50.
    limit: Option<String>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// The users of the caller's tenant (admin).
#[utoipa::path(
    get, path = "/v1/users", tag = "identity",
    security(("bearer" = [])),
    params(ListParams),
    responses(
        (status = 200, description = "One page of users, by id", body = UsersPage),
        (status = 400, description = "A bad limit or cursor", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid credential", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = baas_core::http::Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn list_users(
    State(state): State<IdentityState>,
    Caller(principal): Caller,
    query: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<UsersPage>, Error> {
    let Query(params) = query.map_err(|e| Error::malformed(e.body_text()))?;
    let limit = match params.limit.as_deref() {
        None => DEFAULT_PAGE_LIMIT,
        Some(text) => text
            .parse::<usize>()
            .map_err(|_| Error::malformed("limit must be an integer between 1 and 1000"))?,
    };
    let page = PageRequest::new(limit)
        .map_err(|e| Error::malformed(e.to_string()))?
        .after(params.cursor);
    let page = state.service.list_users(&principal, &page).await?;
    Ok(Json(UsersPage {
        items: page.items.iter().map(UserItem::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Replace a user's roles (admin).
#[utoipa::path(
    put, path = "/v1/users/{id}/roles", tag = "identity",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The user id")),
    request_body = RolesRequest,
    responses(
        (status = 200, description = "The user as changed", body = UserItem),
        (status = 401, description = "No valid credential", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in the tenant", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid roles", body = baas_core::http::Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn set_roles(
    State(state): State<IdentityState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
    client: ClientInfo,
    Json(body): Json<RolesRequest>,
) -> Result<Json<UserItem>, Error> {
    let user = state
        .service
        .set_roles(&principal, &id, &body.roles, &client)
        .await?;
    Ok(Json(UserItem::from(&user)))
}

/// Disable a user and revoke all its sessions (admin).
#[utoipa::path(
    post, path = "/v1/users/{id}/disable", tag = "identity",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The user id")),
    responses(
        (status = 204, description = "Disabled; its sessions are revoked"),
        (status = 401, description = "No valid credential", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such user in the tenant", body = baas_core::http::Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn disable_user(
    State(state): State<IdentityState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
    client: ClientInfo,
) -> Result<StatusCode, Error> {
    state.service.disable_user(&principal, &id, &client).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The JSON Web Key Set.
#[utoipa::path(
    get, path = "/.well-known/jwks.json", tag = "identity",
    responses(
        (status = 200, description = "Every public key that may still verify a live token, and the next key", body = Object, content_type = "application/json"),
    )
)]
pub(crate) async fn jwks(State(state): State<IdentityState>) -> Result<Response, Error> {
    let jwks = state.service.jwks().await?;
    let mut response = Json(jwks).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    Ok(response)
}

/// Rotate the signing keys (operator).
#[utoipa::path(
    post, path = "/v1/admin/signing-keys/rotate", tag = "identity",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Rotated; `kid` signs from now on, the old key verifies until its tokens expire", body = KidResponse),
        (status = 401, description = "No valid credential", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an operator", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another process rotated at the same time", body = baas_core::http::Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn rotate_signing_key(
    State(state): State<IdentityState>,
    Caller(principal): Caller,
    client: ClientInfo,
) -> Result<Json<KidResponse>, Error> {
    let report = state
        .service
        .rotate_signing_key(&principal, &client)
        .await?;
    Ok(Json(KidResponse {
        kid: report.current,
    }))
}

/// Create an API key (admin).
#[utoipa::path(
    post, path = "/v1/api-keys", tag = "identity",
    security(("bearer" = [])),
    request_body = CreateApiKeyRequest,
    responses(
        (status = 201, description = "Created; the key is shown this once", body = ApiKeyCreated),
        (status = 401, description = "No valid credential", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin, or roles beyond the caller's", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 422, description = "A bad name, role or lifetime", body = baas_core::http::Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn create_api_key(
    State(state): State<IdentityState>,
    Caller(principal): Caller,
    client: ClientInfo,
    Json(body): Json<CreateApiKeyRequest>,
) -> Result<Response, Error> {
    let (key, secret) = state
        .service
        .create_api_key(
            &principal,
            &body.name,
            &body.roles,
            body.expires_in.map(Duration::from_secs),
            &client,
        )
        .await?;
    let mut response = (
        StatusCode::CREATED,
        Json(ApiKeyCreated {
            id: key.id.to_string(),
            key: secret.expose_secret().to_owned(),
        }),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Delete an API key (admin); every process refuses it within a second.
#[utoipa::path(
    delete, path = "/v1/api-keys/{id}", tag = "identity",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The API key id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid credential", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an admin", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such key in the tenant", body = baas_core::http::Problem, content_type = "application/problem+json"),
    )
)]
pub(crate) async fn delete_api_key(
    State(state): State<IdentityState>,
    Caller(principal): Caller,
    Path(id): Path<String>,
    client: ClientInfo,
) -> Result<StatusCode, Error> {
    state
        .service
        .delete_api_key(&principal, &id, &client)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

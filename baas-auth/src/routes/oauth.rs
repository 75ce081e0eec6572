//! The OAuth endpoints: `POST /v1/auth/token` (RFC 6749) and `POST /v1/auth/revoke`
//! (RFC 7009). Bodies are JSON or form-encoded; errors are RFC 6749 §5.2
//! `{"error","error_description"}`; every answer carries `Cache-Control: no-store`.

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use baas_core::{Error, ErrorKind};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;

use super::IdentityState;
use super::dto::{OAuthErrorBody, RevokeRequest, TokenGrantRequest, TokenResponseBody};
use crate::service::ClientInfo;

/// An RFC 6749 §5.2 error answer.
#[derive(Debug)]
pub(crate) struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
    retry_after: Option<u64>,
}

impl OAuthError {
    fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        OAuthError {
            status,
            error,
            description: description.into(),
            retry_after: None,
        }
    }

    fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }
}

impl From<Error> for OAuthError {
    fn from(err: Error) -> Self {
        match err.kind() {
            ErrorKind::Unauthenticated => {
                OAuthError::new(StatusCode::BAD_REQUEST, "invalid_grant", err.message())
            }
            ErrorKind::Malformed | ErrorKind::Invalid | ErrorKind::NotFound => {
                OAuthError::invalid_request(err.message())
            }
            ErrorKind::PayloadTooLarge => OAuthError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request",
                err.message(),
            ),
            ErrorKind::RateLimited | ErrorKind::Unavailable | ErrorKind::Timeout => {
                let mut out = OAuthError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "temporarily_unavailable",
                    "the service is temporarily unavailable; try again",
                );
                out.retry_after = Some(err.retry_after().map_or(1, |d| d.as_secs().max(1)));
                out
            }
            _ => {
                tracing::error!(error = ?err, "token endpoint failed");
                OAuthError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "server_error",
                    "an internal error occurred",
                )
            }
        }
    }
}

fn no_store(headers: &mut HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = OAuthErrorBody {
            error: self.error.to_owned(),
            error_description: self.description,
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        no_store(response.headers_mut());
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// Parse a JSON or form-encoded body.
fn parse_body<T: DeserializeOwned>(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<T, OAuthError> {
    let body = body.map_err(|rejection| {
        let status = rejection.status();
        let mut err = OAuthError::invalid_request(rejection.body_text());
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            err.status = status;
        }
        err
    })?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/x-www-form-urlencoded" => serde_urlencoded::from_bytes(&body)
            .map_err(|e| OAuthError::invalid_request(format!("the form body is malformed: {e}"))),
        "application/json" => serde_json::from_slice(&body)
            .map_err(|e| OAuthError::invalid_request(format!("the JSON body is malformed: {e}"))),
        _ => Err(OAuthError::invalid_request(
            "the body must be application/x-www-form-urlencoded or application/json",
        )),
    }
}

fn required<'a>(value: Option<&'a str>, name: &str) -> Result<&'a str, OAuthError> {
    value
        .filter(|v| !v.is_empty())
        .ok_or_else(|| OAuthError::invalid_request(format!("`{name}` is required")))
}

/// Exchange a password or a refresh token for tokens.
#[utoipa::path(
    post, path = "/v1/auth/token", tag = "identity",
    request_body(content = TokenGrantRequest, content_type = "application/x-www-form-urlencoded", description = "Form-encoded or JSON: `grant_type=password` with `tenant`, `email`, `password`; or `grant_type=refresh_token` with `refresh_token`"),
    responses(
        (status = 200, description = "Tokens (`Cache-Control: no-store`); the refresh token rotates on every use", body = TokenResponseBody),
        (status = 400, description = "RFC 6749 §5.2: `invalid_grant` for a bad credential, unknown user, disabled user, reused or revoked refresh token; `invalid_request`; `unsupported_grant_type`", body = OAuthErrorBody),
        (status = 503, description = "`temporarily_unavailable`", body = OAuthErrorBody),
    )
)]
pub(crate) async fn token(
    State(state): State<IdentityState>,
    client: ClientInfo,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, OAuthError> {
    let grant: TokenGrantRequest = parse_body(&headers, body)?;
    let service = &state.service;
    let tokens = match grant.grant_type.as_deref() {
        Some("password") => {
            let tenant = required(grant.tenant.as_deref(), "tenant")?;
            let email = required(grant.email.as_deref(), "email")?;
            let password = grant
                .password
                .as_ref()
                .ok_or_else(|| OAuthError::invalid_request("`password` is required"))?;
            service.login(tenant, email, password, &client).await?
        }
        Some("refresh_token") => {
            let token = grant
                .refresh_token
                .as_ref()
                .map(SecretString::expose_secret);
            let token = required(token, "refresh_token")?;
            service.refresh(token, &client).await?
        }
        Some(other) if !other.is_empty() => {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "grant_type must be `password` or `refresh_token`",
            ));
        }
        _ => return Err(OAuthError::invalid_request("`grant_type` is required")),
    };
    let body = TokenResponseBody {
        access_token: tokens.access_token().to_owned(),
        token_type: "Bearer".to_owned(),
        expires_in: tokens.expires_in,
        refresh_token: tokens.refresh_token().to_owned(),
    };
    let mut response = axum::Json(body).into_response();
    no_store(response.headers_mut());
    Ok(response)
}

/// Revoke a token's session (RFC 7009).
#[utoipa::path(
    post, path = "/v1/auth/revoke", tag = "identity",
    request_body(content = RevokeRequest, content_type = "application/x-www-form-urlencoded", description = "Form-encoded or JSON `token` (an access or refresh token)"),
    responses(
        (status = 200, description = "Revoked — also for an unknown, invalid or already revoked token"),
        (status = 400, description = "`invalid_request`: no token", body = OAuthErrorBody),
        (status = 503, description = "`temporarily_unavailable`", body = OAuthErrorBody),
    )
)]
pub(crate) async fn revoke(
    State(state): State<IdentityState>,
    client: ClientInfo,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, OAuthError> {
    let request: RevokeRequest = parse_body(&headers, body)?;
    let token = request.token.as_ref().map(SecretString::expose_secret);
    let token = required(token, "token")?;
    state.service.revoke(token, &client).await?;
    let mut response = StatusCode::OK.into_response();
    no_store(response.headers_mut());
    Ok(response)
}

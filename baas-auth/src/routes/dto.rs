//! Request and response bodies of the identity routes.

use std::fmt;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::users::User;

/// `POST /v1/auth/signup`.
#[derive(Deserialize, ToSchema)]
pub struct SignupRequest {
    /// The tenant to join (created by its first user).
    pub tenant: String,
    /// The email address (normalised: case-folded, NFKC).
    pub email: String,
    /// 8–128 characters, not a common password.
    #[schema(value_type = String, format = Password)]
    pub password: SecretString,
}

impl fmt::Debug for SignupRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignupRequest")
            .field("tenant", &self.tenant)
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

/// A user as sign-up shows it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserView {
    /// The user id.
    pub id: String,
    /// The tenant.
    pub tenant: String,
    /// The normalised email.
    pub email: String,
    /// The roles.
    pub roles: Vec<String>,
}

impl From<&User> for UserView {
    fn from(user: &User) -> Self {
        UserView {
            id: user.id.to_string(),
            tenant: user.tenant.to_string(),
            email: user.email.to_string(),
            roles: user.roles.clone(),
        }
    }
}

/// `201` of sign-up.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SignupResponse {
    /// The new user.
    pub user: UserView,
}

/// `GET /v1/auth/me`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MeResponse {
    /// The user id (or the API key id).
    pub id: String,
    /// The tenant.
    pub tenant: String,
    /// The email; null for an API key.
    pub email: Option<String>,
    /// The roles.
    pub roles: Vec<String>,
}

/// `POST /v1/auth/token`, JSON or form-encoded.
#[derive(Default, Deserialize, ToSchema)]
pub struct TokenGrantRequest {
    /// `password` or `refresh_token`.
    pub grant_type: Option<String>,
    /// Password grant: the tenant.
    pub tenant: Option<String>,
    /// Password grant: the email.
    pub email: Option<String>,
    /// Password grant: the password.
    #[schema(value_type = Option<String>, format = Password)]
    pub password: Option<SecretString>,
    /// Refresh grant: the refresh token.
    #[schema(value_type = Option<String>)]
    pub refresh_token: Option<SecretString>,
}

impl fmt::Debug for TokenGrantRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenGrantRequest")
            .field("grant_type", &self.grant_type)
            .field("tenant", &self.tenant)
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

/// `200` of the token endpoint (RFC 6749 §5.1).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct TokenResponseBody {
    /// The access token (an RFC 9068 JWT).
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// The refresh token; it rotates on every use.
    pub refresh_token: String,
}

impl fmt::Debug for TokenResponseBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponseBody")
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// An RFC 6749 §5.2 error (token and revoke endpoints).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct OAuthErrorBody {
    /// `invalid_request`, `invalid_grant`, `unsupported_grant_type`,
    /// `temporarily_unavailable` or `server_error`.
    pub error: String,
    /// What went wrong, for people.
    pub error_description: String,
}

/// `POST /v1/auth/revoke` (RFC 7009), JSON or form-encoded.
#[derive(Default, Deserialize, ToSchema)]
pub struct RevokeRequest {
    /// An access token or a refresh token.
    #[schema(value_type = String)]
    pub token: Option<SecretString>,
    /// Optional hint (`access_token` or `refresh_token`); the server checks both.
    pub token_type_hint: Option<String>,
}

impl fmt::Debug for RevokeRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RevokeRequest")
            .field("token_type_hint", &self.token_type_hint)
            .finish_non_exhaustive()
    }
}

/// `POST /v1/auth/password`.
#[derive(Deserialize, ToSchema)]
pub struct PasswordChangeRequest {
    /// The current password.
    #[schema(value_type = String, format = Password)]
    pub current_password: SecretString,
    /// The new password (8–128 characters, not a common one).
    #[schema(value_type = String, format = Password)]
    pub new_password: SecretString,
}

impl fmt::Debug for PasswordChangeRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordChangeRequest")
            .finish_non_exhaustive()
    }
}

/// A user in the admin listing.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UserItem {
    /// The user id.
    pub id: String,
    /// The normalised email.
    pub email: String,
    /// The roles.
    pub roles: Vec<String>,
    /// Whether the user is disabled.
    pub disabled: bool,
}

impl From<&User> for UserItem {
    fn from(user: &User) -> Self {
        UserItem {
            id: user.id.to_string(),
            email: user.email.to_string(),
            roles: user.roles.clone(),
            disabled: user.disabled,
        }
    }
}

/// `GET /v1/users`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct UsersPage {
    /// The users, by id.
    pub items: Vec<UserItem>,
    /// The cursor of the next page; null at the end.
    pub next_cursor: Option<String>,
}

/// `PUT /v1/users/{id}/roles`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RolesRequest {
    /// The new roles.
    pub roles: Vec<String>,
}

/// `POST /v1/admin/signing-keys/rotate`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct KidResponse {
    /// The key id that signs from now on.
    pub kid: String,
}

/// `POST /v1/api-keys`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateApiKeyRequest {
    /// A name for people (1–100 characters).
    pub name: String,
    /// Its roles: a subset of the caller's (`admin` includes `member`).
    pub roles: Vec<String>,
    /// Lifetime in seconds (1 to ten years); absent: until deleted.
    pub expires_in: Option<u64>,
}

/// `201` of `POST /v1/api-keys`: the key is shown this once.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ApiKeyCreated {
    /// The key's id.
    pub id: String,
    /// The key, for `Authorization: Bearer <key>`.
    pub key: String,
}

impl fmt::Debug for ApiKeyCreated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKeyCreated")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

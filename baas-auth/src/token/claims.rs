//! The claims of an access token (RFC 9068) and the header `typ`.

use baas_core::TenantId;

/// The `typ` header value of an access token (RFC 9068 §2.1).
pub const ACCESS_TOKEN_TYP: &str = "at+jwt";

/// The claims of a baas access token: RFC 9068's `iss`, `aud`, `sub`, `client_id`,
/// `exp`, `nbf`, `iat`, `jti`, plus `tenant`, `roles` and `sid` (the session).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AccessClaims {
    /// Issuer.
    pub iss: String,
    /// Audience (one resource server).
    pub aud: String,
    /// Subject: the user id.
    pub sub: String,
    /// The client the token was issued to.
    pub client_id: String,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
    /// Not before, seconds since the epoch.
    pub nbf: u64,
    /// Issued at, seconds since the epoch.
    pub iat: u64,
    /// Unique token id.
    pub jti: String,
    /// The user's tenant.
    pub tenant: TenantId,
    /// The user's roles in that tenant.
    pub roles: Vec<String>,
    /// The session the token belongs to.
    pub sid: String,
}

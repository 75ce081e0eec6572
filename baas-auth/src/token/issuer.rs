//! [`TokenIssuer`]: signs access tokens with the current key.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use baas_core::{SharedClock, TenantId};
use jsonwebtoken::Header;

use super::claims::{ACCESS_TOKEN_TYP, AccessClaims};
use crate::error::AuthError;
use crate::keys::KeyManager;

/// Who a token is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRequest {
    /// The user id (`sub`).
    pub subject: String,
    /// The user's tenant.
    pub tenant: TenantId,
    /// The user's roles.
    pub roles: Vec<String>,
    /// The session id (`sid`).
    pub session_id: String,
    /// The client the token is issued to (`client_id`).
    pub client_id: String,
}

/// A signed access token. The token is a bearer credential: `Debug` does not show it.
#[derive(Clone)]
pub struct IssuedToken {
    token: String,
    /// The token's claims.
    pub claims: AccessClaims,
    /// The key that signed it.
    pub kid: String,
}

impl IssuedToken {
    /// The compact JWS to hand to the client.
    pub fn as_str(&self) -> &str {
        &self.token
    }

    /// The token, consuming `self`.
    pub fn into_string(self) -> String {
        self.token
    }

    /// When it expires.
    pub fn expires_at(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.claims.exp)
    }
}

impl fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedToken")
            .field("token", &"[REDACTED]")
            .field("claims", &self.claims)
            .field("kid", &self.kid)
            .finish()
    }
}

/// Issues RFC 9068 access tokens: header `typ: at+jwt` and `kid`, signed by the
/// [`KeyManager`]'s current key, valid from now for `access_ttl`.
#[derive(Debug, Clone)]
pub struct TokenIssuer {
    keys: Arc<KeyManager>,
    clock: SharedClock,
}

impl TokenIssuer {
    /// An issuer signing with `keys` (call [`KeyManager::ensure`] first).
    pub fn new(keys: Arc<KeyManager>, clock: SharedClock) -> Self {
        TokenIssuer { keys, clock }
    }

    /// Sign a token for `request`.
    pub async fn issue(&self, request: &TokenRequest) -> Result<IssuedToken, AuthError> {
        let signer = self.keys.signer().await?;
        let config = self.keys.config();
        let now = self.clock.unix_seconds();
        let claims = AccessClaims {
            iss: config.issuer.clone(),
            aud: config.audience.clone(),
            sub: request.subject.clone(),
            client_id: request.client_id.clone(),
            exp: now + config.access_ttl.as_secs(),
            nbf: now,
            iat: now,
            jti: uuid::Uuid::now_v7().to_string(),
            tenant: request.tenant.clone(),
            roles: request.roles.clone(),
            sid: request.session_id.clone(),
        };
        let mut header = Header::new(signer.algorithm.jwt());
        header.typ = Some(ACCESS_TOKEN_TYP.to_owned());
        header.kid = Some(signer.kid.clone());
        let token =
            jsonwebtoken::encode(&header, &claims, &signer.key).map_err(AuthError::internal)?;
        Ok(IssuedToken {
            token,
            claims,
            kid: signer.kid.clone(),
        })
    }
}

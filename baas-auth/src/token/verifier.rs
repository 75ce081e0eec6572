//! [`TokenVerifier`]: checks access tokens strictly, with a bounded cache.

use std::fmt;
use std::sync::Arc;

use baas_core::principal::ROLE_ADMIN;
use baas_core::{Principal, PrincipalKind, SharedClock};
use jsonwebtoken::Validation;
use jsonwebtoken::errors::ErrorKind as JwtErrorKind;

use super::cache::{self, VerifyCache};
use super::claims::AccessClaims;
use super::config::TokenConfig;
use super::header;
use crate::error::AuthError;
use crate::keys::{KeyRing, SigningAlgorithm};
use crate::revocation::DynRevocationView;

/// A verified access token: the caller as a [`Principal`], and the claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    /// The caller: kind `User`, subject `sub`, the tenant, roles and session id.
    pub principal: Principal,
    /// The token's claims.
    pub claims: AccessClaims,
    /// The key that signed it.
    pub kid: Arc<str>,
}

/// Verifies access tokens.
///
/// Refuses, each with its own [`AuthError`] (all `Unauthenticated`): tokens over
/// `max_token_len`; anything but three base64url parts with a JSON header; an `alg` other
/// than the configured one (so `none` and HMAC algorithm confusion); a `typ` other than
/// `at+jwt`; a `crit` header; a missing or unknown `kid` (after one rate-limited reload
/// of the key store); a key past its verification window; a bad signature; a wrong `iss`
/// or `aud`; `exp` passed or `nbf` ahead beyond the leeway; a revoked session. Keys come
/// only from the [`KeyRing`], never from the token's `jku`, `x5u` or `jwk` headers.
///
/// Verified tokens are cached, keyed by the SHA-256 of the whole token; a hit still
/// re-checks `exp`, the key's state and the session's revocation.
pub struct TokenVerifier {
    ring: Arc<KeyRing>,
    revocations: Arc<DynRevocationView>,
    clock: SharedClock,
    config: TokenConfig,
    validation: Validation,
    cache: Option<VerifyCache>,
}

impl fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenVerifier")
            .field("issuer", &self.config.issuer)
            .field("audience", &self.config.audience)
            .field("algorithm", &self.config.algorithm)
            .field("cache", &self.cache.is_some())
            .finish_non_exhaustive()
    }
}

impl TokenVerifier {
    /// A verifier taking keys from `ring` and asking `revocations` about sessions.
    pub fn new(
        ring: Arc<KeyRing>,
        revocations: Arc<DynRevocationView>,
        clock: SharedClock,
        config: TokenConfig,
    ) -> Self {
        let mut validation = Validation::new(config.algorithm.jwt());
        // Time is checked by us against the injected clock, not jsonwebtoken's system time.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.leeway = 0;
        validation.required_spec_claims.clear(); // `AccessClaims` requires every claim
        validation.set_issuer(&[&config.issuer]);
        validation.set_audience(&[&config.audience]);
        TokenVerifier {
            ring,
            revocations,
            clock,
            cache: VerifyCache::new(config.cache_capacity),
            validation,
            config,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &TokenConfig {
        &self.config
    }

    /// Verify `token` (the compact JWS, without `Bearer `).
    pub async fn verify(&self, token: &str) -> Result<Arc<VerifiedToken>, AuthError> {
        if token.len() > self.config.max_token_len {
            return Err(AuthError::TokenTooLarge);
        }
        let key = self.cache.as_ref().map(|_| cache::hash(token));
        if let (Some(cache), Some(key)) = (&self.cache, &key)
            && let Some(hit) = cache.get(key)
        {
            return match self.recheck(&hit).await {
                Ok(()) => Ok(hit),
                Err(err) => {
                    if matches!(
                        err,
                        AuthError::Expired | AuthError::KeyRetired | AuthError::UnknownKey
                    ) {
                        cache.remove(key);
                    }
                    Err(err)
                }
            };
        }
        let verified = Arc::new(self.verify_cold(token).await?);
        self.check_session(&verified).await?;
        if let (Some(cache), Some(key)) = (&self.cache, key) {
            cache.insert(key, Arc::clone(&verified));
        }
        Ok(verified)
    }

    /// What a cache hit must still satisfy: not expired, key still verifying, session
    /// not revoked.
    async fn recheck(&self, hit: &VerifiedToken) -> Result<(), AuthError> {
        let now = self.clock.unix_seconds();
        if now > hit.claims.exp.saturating_add(self.config.leeway.as_secs()) {
            return Err(AuthError::Expired);
        }
        let key = self
            .ring
            .get(&hit.kid)
            .await?
            .ok_or(AuthError::UnknownKey)?;
        if !key.verifies_at(self.clock.now()) {
            return Err(AuthError::KeyRetired);
        }
        self.check_session(hit).await
    }

    async fn check_session(&self, token: &VerifiedToken) -> Result<(), AuthError> {
        if self
            .revocations
            .is_revoked(&token.claims.tenant, &token.claims.sid)
            .await?
        {
            return Err(AuthError::SessionRevoked);
        }
        Ok(())
    }

    async fn verify_cold(&self, token: &str) -> Result<VerifiedToken, AuthError> {
        let header = header::parse(token)?;
        if SigningAlgorithm::from_name(&header.alg) != Some(self.config.algorithm) {
            return Err(AuthError::WrongAlgorithm);
        }
        if !header
            .typ
            .as_deref()
            .is_some_and(header::is_access_token_typ)
        {
            return Err(AuthError::WrongTokenType);
        }
        if header.crit.is_some() {
            // We understand no extension, so RFC 7515 §4.1.11 says refuse.
            return Err(AuthError::MalformedToken);
        }
        let kid = header.kid.ok_or(AuthError::UnknownKey)?;
        let key = self.ring.get(&kid).await?.ok_or(AuthError::UnknownKey)?;
        if key.algorithm != self.config.algorithm {
            return Err(AuthError::WrongAlgorithm);
        }
        if !key.verifies_at(self.clock.now()) {
            return Err(AuthError::KeyRetired);
        }
        let data = jsonwebtoken::decode::<AccessClaims>(token, &key.decoding, &self.validation)
            .map_err(map_jwt_error)?;
        let claims = data.claims;
        let now = self.clock.unix_seconds();
        let leeway = self.config.leeway.as_secs();
        if now > claims.exp.saturating_add(leeway) {
            return Err(AuthError::Expired);
        }
        if claims.nbf > now.saturating_add(leeway) {
            return Err(AuthError::NotYetValid);
        }
        let operator = claims.roles.iter().any(|r| r == ROLE_ADMIN)
            && self.config.operator_tenant.as_ref() == Some(&claims.tenant);
        let principal = Principal::new(
            claims.sub.clone(),
            claims.tenant.clone(),
            PrincipalKind::User,
        )
        .with_roles(claims.roles.iter().cloned())
        .with_session(claims.sid.clone())
        .with_operator(operator);
        Ok(VerifiedToken {
            principal,
            claims,
            kid: Arc::clone(&key.kid),
        })
    }
}

fn map_jwt_error(err: jsonwebtoken::errors::Error) -> AuthError {
    match err.kind() {
        JwtErrorKind::InvalidSignature => AuthError::BadSignature,
        JwtErrorKind::InvalidIssuer => AuthError::WrongIssuer,
        JwtErrorKind::InvalidAudience => AuthError::WrongAudience,
        JwtErrorKind::InvalidAlgorithm
        | JwtErrorKind::InvalidAlgorithmName
        | JwtErrorKind::MissingAlgorithm => AuthError::WrongAlgorithm,
        JwtErrorKind::ExpiredSignature => AuthError::Expired,
        JwtErrorKind::ImmatureSignature => AuthError::NotYetValid,
        JwtErrorKind::InvalidEcdsaKey
        | JwtErrorKind::InvalidEddsaKey
        | JwtErrorKind::InvalidKeyFormat => AuthError::internal(err),
        _ => AuthError::MalformedToken,
    }
}

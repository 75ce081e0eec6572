//! API keys and signing keys.

use std::time::Duration;

use baas_core::require_role::Requirement;
use baas_core::{Error, ErrorKind, Principal};

use super::users::require_admin;
use super::{ClientInfo, IdentityService, MAX_API_KEY_LIFETIME};
use crate::api_keys::{ApiKey, NewApiKey};
use crate::error::AuthError;
use crate::ids::ApiKeyId;
use crate::keys::{Jwks, RotationReport};
use crate::secret::ApiKeySecret;

impl IdentityService {
    /// Create an API key in the caller's tenant (admin). Its roles must be a subset of
    /// the caller's (`admin` includes `member`), else `Forbidden`; `expires_in` must be
    /// 1 s to ten years. Returns the key and its secret, shown once.
    pub async fn create_api_key(
        &self,
        principal: &Principal,
        name: &str,
        roles: &[String],
        expires_in: Option<Duration>,
        client: &ClientInfo,
    ) -> Result<(ApiKey, ApiKeySecret), Error> {
        require_admin(principal)?;
        if let Some(role) = roles.iter().find(|r| !principal.has_role(r)) {
            return Err(Error::new(
                ErrorKind::Forbidden,
                format!("an API key cannot have the role `{role}`, which you do not hold"),
            ));
        }
        let mut new = NewApiKey::new(name, roles.to_vec()).created_by(principal.subject.clone());
        if let Some(ttl) = expires_in {
            if ttl < Duration::from_secs(1) || ttl > MAX_API_KEY_LIFETIME {
                return Err(Error::field(
                    "expires_in",
                    "must be between 1 second and 10 years",
                ));
            }
            new = new.expires_in(ttl);
        }
        let (key, secret) = self.stores.api_keys.create(&principal.tenant, new).await?;
        self.audit(
            &principal.tenant,
            &principal.subject,
            "api_key.create",
            &key.id.to_string(),
            client,
        )
        .await;
        Ok((key, secret))
    }

    /// Delete API key `id` of the caller's tenant (admin). Another tenant's key is
    /// `NotFound`. Keys are not cached, so every process refuses it at once.
    pub async fn delete_api_key(
        &self,
        principal: &Principal,
        id: &str,
        client: &ClientInfo,
    ) -> Result<(), Error> {
        require_admin(principal)?;
        let id = ApiKeyId::parse(id).map_err(|_| Error::from(AuthError::ApiKeyNotFound))?;
        self.stores.api_keys.delete(&principal.tenant, &id).await?;
        self.audit(
            &principal.tenant,
            &principal.subject,
            "api_key.delete",
            &id.to_string(),
            client,
        )
        .await;
        Ok(())
    }

    /// Rotate the installation's signing keys (operator). Tokens signed by the old key
    /// keep verifying until they expire.
    pub async fn rotate_signing_key(
        &self,
        principal: &Principal,
        client: &ClientInfo,
    ) -> Result<RotationReport, Error> {
        Requirement::Operator.check(Some(principal))?;
        let report = self.keys.rotate().await?;
        self.audit(
            &principal.tenant,
            &principal.subject,
            "signing_key.rotate",
            &report.current,
            client,
        )
        .await;
        Ok(report)
    }

    /// The JWKS: every key that may still verify a live token, and the next key.
    pub async fn jwks(&self) -> Result<Jwks, Error> {
        Ok(self.keys.jwks().await?)
    }
}

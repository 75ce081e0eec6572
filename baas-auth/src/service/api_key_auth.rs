//! [`ApiKeyAuthenticator`]: API keys as bearer credentials.

use std::sync::Arc;

use async_trait::async_trait;
use baas_core::{Principal, PrincipalKind};

use crate::api_keys::DynApiKeyStore;
use crate::error::AuthError;
use crate::layer::Authenticator;
use crate::secret::ApiKeySecret;

/// Authenticates `baas_…` API keys against an [`ApiKeyStore`](crate::api_keys::ApiKeyStore).
/// Nothing is cached, so a deleted key is refused by every process at once. The
/// principal: kind `ApiKey`, subject the key's id, the key's tenant and roles.
#[derive(Debug, Clone)]
pub struct ApiKeyAuthenticator {
    keys: Arc<DynApiKeyStore>,
}

impl ApiKeyAuthenticator {
    /// An authenticator over `keys`.
    pub fn new(keys: Arc<DynApiKeyStore>) -> Self {
        ApiKeyAuthenticator { keys }
    }
}

#[async_trait]
impl Authenticator for ApiKeyAuthenticator {
    async fn authenticate(&self, credential: &str) -> Result<Principal, AuthError> {
        let presented = ApiKeySecret::new(credential);
        if presented.id().is_none() {
            return Err(AuthError::InvalidApiKey);
        }
        let key = self.keys.authenticate(&presented).await?;
        Ok(Principal::new(
            key.id.to_string(),
            key.tenant.clone(),
            PrincipalKind::ApiKey,
        )
        .with_roles(key.roles.iter().cloned()))
    }
}

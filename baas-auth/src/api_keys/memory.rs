//! [`MemoryApiKeyStore`]: API keys in process memory.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::time::Duration;

use async_trait::async_trait;
use baas_core::{SharedClock, TenantId};
use parking_lot::Mutex;

use super::model::{ApiKey, LAST_USED_GRANULARITY, NewApiKey, validate_name};
use super::store::ApiKeyStore;
use crate::error::AuthError;
use crate::ids::ApiKeyId;
use crate::page::{Page, PageRequest};
use crate::roles::normalise_roles;
use crate::secret::{ApiKeySecret, SecretDigest};

/// An [`ApiKeyStore`] in memory, for tests and development.
#[derive(Debug)]
pub struct MemoryApiKeyStore {
    clock: SharedClock,
    keys: Mutex<BTreeMap<ApiKeyId, (ApiKey, SecretDigest)>>,
}

impl MemoryApiKeyStore {
    /// An empty store reading time from `clock`.
    pub fn new(clock: SharedClock) -> Self {
        Self {
            clock,
            keys: Mutex::default(),
        }
    }
}

pub(crate) fn cursor_id(page: &PageRequest) -> Result<Option<ApiKeyId>, AuthError> {
    page.cursor()
        .map(|c| ApiKeyId::parse(c).map_err(|_| AuthError::InvalidCursor))
        .transpose()
}

#[async_trait]
impl ApiKeyStore for MemoryApiKeyStore {
    async fn create(
        &self,
        tenant: &TenantId,
        key: NewApiKey,
    ) -> Result<(ApiKey, ApiKeySecret), AuthError> {
        validate_name(&key.name)?;
        let roles = normalise_roles(&key.roles)?;
        let now = self.clock.now();
        let id = ApiKeyId::generate();
        let secret = ApiKeySecret::generate(id);
        let created = ApiKey {
            id,
            tenant: tenant.clone(),
            name: key.name,
            roles,
            created_by: key.created_by,
            created_at: now,
            expires_at: key.expires_in.map(|ttl| now + ttl),
            last_used_at: None,
        };
        self.keys
            .lock()
            .insert(id, (created.clone(), secret.digest()));
        Ok((created, secret))
    }

    async fn authenticate(&self, presented: &ApiKeySecret) -> Result<ApiKey, AuthError> {
        let id = presented.id().ok_or(AuthError::InvalidApiKey)?;
        let digest = presented.digest();
        let now = self.clock.now();
        let mut keys = self.keys.lock();
        let (key, stored) = keys.get_mut(&id).ok_or(AuthError::InvalidApiKey)?;
        if *stored != digest || !key.is_valid_at(now) {
            return Err(AuthError::InvalidApiKey);
        }
        if key
            .last_used_at
            .is_none_or(|t| t + LAST_USED_GRANULARITY <= now)
        {
            key.last_used_at = Some(now);
        }
        Ok(key.clone())
    }

    async fn get(&self, tenant: &TenantId, id: &ApiKeyId) -> Result<Option<ApiKey>, AuthError> {
        Ok(self
            .keys
            .lock()
            .get(id)
            .filter(|(k, _)| &k.tenant == tenant)
            .map(|(k, _)| k.clone()))
    }

    async fn list(&self, tenant: &TenantId, page: &PageRequest) -> Result<Page<ApiKey>, AuthError> {
        let after = cursor_id(page)?;
        let keys = self.keys.lock();
        let start = after.map_or(Bound::Unbounded, Bound::Excluded);
        let mut items: Vec<ApiKey> = keys
            .range((start, Bound::Unbounded))
            .filter(|(_, (k, _))| &k.tenant == tenant)
            .take(page.limit() + 1)
            .map(|(_, (k, _))| k.clone())
            .collect();
        let next_cursor = if items.len() > page.limit() {
            items.truncate(page.limit());
            items.last().map(|k| k.id.to_string())
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    async fn delete(&self, tenant: &TenantId, id: &ApiKeyId) -> Result<(), AuthError> {
        let mut keys = self.keys.lock();
        match keys.get(id) {
            Some((k, _)) if &k.tenant == tenant => {
                keys.remove(id);
                Ok(())
            }
            _ => Err(AuthError::ApiKeyNotFound),
        }
    }

    async fn sweep(&self, retention: Duration) -> Result<u64, AuthError> {
        let now = self.clock.now();
        let mut keys = self.keys.lock();
        let before = keys.len();
        keys.retain(|_, (k, _)| k.expires_at.is_none_or(|e| e + retention > now));
        Ok((before - keys.len()) as u64)
    }
}

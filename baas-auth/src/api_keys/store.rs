//! The [`ApiKeyStore`] trait.

use std::time::Duration;

use async_trait::async_trait;
use baas_core::TenantId;

use super::model::{ApiKey, NewApiKey};
use crate::error::AuthError;
use crate::ids::ApiKeyId;
use crate::page::{Page, PageRequest};
use crate::secret::ApiKeySecret;

/// Where API keys live. Backends read time from the clock they were built with.
///
/// Tenancy: every method takes the tenant (DESIGN.md rule 1) except
/// [`authenticate`](ApiKeyStore::authenticate), which starts from a presented key (a
/// bearer credential carries no tenant) and returns the key's tenant, and
/// [`sweep`](ApiKeyStore::sweep), installation-wide housekeeping.
///
/// Guarantees every backend gives:
/// * The secret exists only in the return value of [`create`](ApiKeyStore::create);
///   the store keeps its SHA-256 digest, compared in constant time.
/// * [`authenticate`](ApiKeyStore::authenticate) answers [`AuthError::InvalidApiKey`]
///   for a malformed, unknown, wrong, expired or deleted key alike.
/// * A deleted key fails on the next `authenticate` against the same store (no cache
///   inside the store).
/// * Name and roles are validated ([`AuthError::InvalidName`],
///   [`AuthError::InvalidRole`]); a refused create stores nothing.
#[async_trait]
pub trait ApiKeyStore: Send + Sync + std::fmt::Debug + 'static {
    /// Create a key; returns it and its secret, which is never available again.
    async fn create(
        &self,
        tenant: &TenantId,
        key: NewApiKey,
    ) -> Result<(ApiKey, ApiKeySecret), AuthError>;

    /// The key a client presented, if it is valid now; records its use (at most once
    /// per [`LAST_USED_GRANULARITY`](super::LAST_USED_GRANULARITY)).
    async fn authenticate(&self, presented: &ApiKeySecret) -> Result<ApiKey, AuthError>;

    /// The key with this id in the tenant (expired ones included).
    async fn get(&self, tenant: &TenantId, id: &ApiKeyId) -> Result<Option<ApiKey>, AuthError>;

    /// One page of the tenant's keys, by id.
    async fn list(&self, tenant: &TenantId, page: &PageRequest) -> Result<Page<ApiKey>, AuthError>;

    /// Delete (revoke) a key; [`AuthError::ApiKeyNotFound`] if the tenant has no such key.
    async fn delete(&self, tenant: &TenantId, id: &ApiKeyId) -> Result<(), AuthError>;

    /// Delete keys that expired more than `retention` ago; returns how many.
    async fn sweep(&self, retention: Duration) -> Result<u64, AuthError>;
}

/// An API key store chosen at run time.
pub type DynApiKeyStore = dyn ApiKeyStore;

fn _object_safe(_: Box<dyn ApiKeyStore>) {}

//! [`InstallationStore`]: installation-wide settings the identity service persists —
//! today, which tenant is the operator tenant — and [`MemoryInstallationStore`].

use async_trait::async_trait;
use baas_core::TenantId;
use parking_lot::Mutex;

use crate::error::AuthError;

/// Installation-wide settings.
///
/// Guarantee every backend gives: [`claim_operator_tenant`](Self::claim_operator_tenant)
/// is atomic across every process sharing the store — the first claim wins and every
/// later claim returns the winner, so an installation has one operator tenant forever.
#[async_trait]
pub trait InstallationStore: Send + Sync + std::fmt::Debug + 'static {
    /// The operator tenant, if one has been chosen.
    async fn operator_tenant(&self) -> Result<Option<TenantId>, AuthError>;

    /// Make `candidate` the operator tenant unless one is already chosen; returns the
    /// operator tenant in force afterwards.
    async fn claim_operator_tenant(&self, candidate: &TenantId) -> Result<TenantId, AuthError>;
}

/// An installation store chosen at run time.
pub type DynInstallationStore = dyn InstallationStore;

fn _object_safe(_: Box<dyn InstallationStore>) {}

/// Installation settings in memory, for tests and single-process development.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use baas_auth::{InstallationStore, MemoryInstallationStore};
/// use baas_core::TenantId;
///
/// let store = MemoryInstallationStore::new();
/// let ops = TenantId::new("ops").unwrap();
/// assert_eq!(store.operator_tenant().await.unwrap(), None);
/// assert_eq!(store.claim_operator_tenant(&ops).await.unwrap(), ops);
/// let late = TenantId::new("acme").unwrap();
/// assert_eq!(store.claim_operator_tenant(&late).await.unwrap(), ops);
/// # });
/// ```
#[derive(Debug, Default)]
pub struct MemoryInstallationStore {
    operator: Mutex<Option<TenantId>>,
}

impl MemoryInstallationStore {
    /// Nothing chosen yet.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl InstallationStore for MemoryInstallationStore {
    async fn operator_tenant(&self) -> Result<Option<TenantId>, AuthError> {
        Ok(self.operator.lock().clone())
    }

    async fn claim_operator_tenant(&self, candidate: &TenantId) -> Result<TenantId, AuthError> {
        Ok(self
            .operator
            .lock()
            .get_or_insert_with(|| candidate.clone())
            .clone())
    }
}

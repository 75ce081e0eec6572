//! The quota ledger: per-tenant byte usage and the metadata of every stored object.
//!
//! Uploads follow **reserve → commit / release**: bytes are reserved as they stream in
//! (a reservation succeeds only if `used + reserved + n <= quota`, atomically), the
//! reservation becomes usage when the object is committed (minus the size of an object
//! it replaces), and is released when the upload fails. So concurrent uploads can never
//! together exceed the quota.
//!
//! [`MemoryBlobLedger`] is always available; `SqlBlobLedger` (feature `sql`) keeps the
//! same in the database, in `blob_objects` and `tenant_usage`.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use baas_core::{Error, TenantId};
use parking_lot::Mutex;

use super::store::{BlobMeta, Usage};

/// Byte accounting and object metadata for a [`BlobStore`](super::BlobStore).
///
/// Every operation is atomic on its own. Implementations must make `reserve` a
/// conditional increment (never read-then-write) so concurrent reservations can't
/// overshoot the limit.
#[async_trait]
pub trait BlobLedger: Send + Sync + fmt::Debug {
    /// Reserve `bytes` for an upload if `used + reserved + bytes <= limit`. Returns
    /// whether the reservation was made.
    async fn reserve(&self, tenant: &TenantId, bytes: u64, limit: u64) -> Result<bool, Error>;

    /// Give back `bytes` of reservation (a failed or aborted upload).
    async fn release(&self, tenant: &TenantId, bytes: u64) -> Result<(), Error>;

    /// Record a stored object, atomically: the reservation of `reserved` bytes is
    /// dropped, `meta.size` added to usage, and any previous object under the key
    /// replaced (its size subtracted). Returns the replaced object's metadata.
    async fn commit(
        &self,
        tenant: &TenantId,
        meta: &BlobMeta,
        reserved: u64,
    ) -> Result<Option<BlobMeta>, Error>;

    /// Forget an object and subtract its size. Returns it if it existed.
    async fn remove(&self, tenant: &TenantId, key: &str) -> Result<Option<BlobMeta>, Error>;

    /// One object's metadata.
    async fn get(&self, tenant: &TenantId, key: &str) -> Result<Option<BlobMeta>, Error>;

    /// Objects whose key starts with `prefix` and sorts after `after`, in key order, at
    /// most `limit`.
    async fn list(
        &self,
        tenant: &TenantId,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<BlobMeta>, Error>;

    /// A tenant's usage.
    async fn usage(&self, tenant: &TenantId) -> Result<Usage, Error>;
}

/// A ledger chosen at run time.
pub type DynBlobLedger = dyn BlobLedger;

fn _object_safe(_: Box<dyn BlobLedger>) {}

/// An in-memory [`BlobLedger`], for tests and development. Nothing survives a restart.
#[derive(Debug, Default)]
pub struct MemoryBlobLedger {
    tenants: Mutex<HashMap<TenantId, TenantState>>,
}

#[derive(Debug, Default)]
struct TenantState {
    usage: Usage,
    objects: BTreeMap<String, BlobMeta>,
}

impl MemoryBlobLedger {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl BlobLedger for MemoryBlobLedger {
    async fn reserve(&self, tenant: &TenantId, bytes: u64, limit: u64) -> Result<bool, Error> {
        let mut tenants = self.tenants.lock();
        let usage = &mut tenants.entry(tenant.clone()).or_default().usage;
        let total = usage
            .bytes_used
            .saturating_add(usage.bytes_reserved)
            .saturating_add(bytes);
        if total > limit {
            return Ok(false);
        }
        usage.bytes_reserved += bytes;
        Ok(true)
    }

    async fn release(&self, tenant: &TenantId, bytes: u64) -> Result<(), Error> {
        let mut tenants = self.tenants.lock();
        let usage = &mut tenants.entry(tenant.clone()).or_default().usage;
        usage.bytes_reserved = usage.bytes_reserved.saturating_sub(bytes);
        Ok(())
    }

    async fn commit(
        &self,
        tenant: &TenantId,
        meta: &BlobMeta,
        reserved: u64,
    ) -> Result<Option<BlobMeta>, Error> {
        let mut tenants = self.tenants.lock();
        let state = tenants.entry(tenant.clone()).or_default();
        let old = state.objects.insert(meta.key.clone(), meta.clone());
        let usage = &mut state.usage;
        usage.bytes_reserved = usage.bytes_reserved.saturating_sub(reserved);
        usage.bytes_used = usage
            .bytes_used
            .saturating_add(meta.size)
            .saturating_sub(old.as_ref().map_or(0, |o| o.size));
        Ok(old)
    }

    async fn remove(&self, tenant: &TenantId, key: &str) -> Result<Option<BlobMeta>, Error> {
        let mut tenants = self.tenants.lock();
        let Some(state) = tenants.get_mut(tenant) else {
            return Ok(None);
        };
        let old = state.objects.remove(key);
        if let Some(old) = &old {
            state.usage.bytes_used = state.usage.bytes_used.saturating_sub(old.size);
        }
        Ok(old)
    }

    async fn get(&self, tenant: &TenantId, key: &str) -> Result<Option<BlobMeta>, Error> {
        let tenants = self.tenants.lock();
        Ok(tenants
            .get(tenant)
            .and_then(|s| s.objects.get(key).cloned()))
    }

    async fn list(
        &self,
        tenant: &TenantId,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<BlobMeta>, Error> {
        use std::ops::Bound;
        let tenants = self.tenants.lock();
        let Some(state) = tenants.get(tenant) else {
            return Ok(Vec::new());
        };
        let start = match after {
            Some(a) if a >= prefix => Bound::Excluded(a),
            _ => Bound::Included(prefix),
        };
        Ok(state
            .objects
            .range::<str, _>((start, Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(prefix))
            .take(limit)
            .map(|(_, m)| m.clone())
            .collect())
    }

    async fn usage(&self, tenant: &TenantId) -> Result<Usage, Error> {
        let tenants = self.tenants.lock();
        Ok(tenants.get(tenant).map(|s| s.usage).unwrap_or_default())
    }
}

/// The bytes one upload holds in the ledger. Grows in steps while the body streams;
/// released on drop unless committed, so a cancelled upload gives its bytes back.
pub(crate) struct Reservation {
    ledger: Arc<dyn BlobLedger>,
    tenant: TenantId,
    limit: u64,
    step: u64,
    held: u64,
}

impl Reservation {
    pub(crate) fn new(
        ledger: Arc<dyn BlobLedger>,
        tenant: TenantId,
        limit: u64,
        step: u64,
    ) -> Self {
        Reservation {
            ledger,
            tenant,
            limit,
            step: step.max(1),
            held: 0,
        }
    }

    /// Make sure at least `total` bytes are reserved: try a whole step more, then
    /// exactly what is missing. `false` when even that does not fit the quota.
    pub(crate) async fn ensure(&mut self, total: u64) -> Result<bool, Error> {
        if total <= self.held {
            return Ok(true);
        }
        let missing = total - self.held;
        let generous = missing.max(self.step);
        if generous > missing
            && self
                .ledger
                .reserve(&self.tenant, generous, self.limit)
                .await?
        {
            self.held += generous;
            return Ok(true);
        }
        if self
            .ledger
            .reserve(&self.tenant, missing, self.limit)
            .await?
        {
            self.held += missing;
            return Ok(true);
        }
        Ok(false)
    }

    /// Commit `meta` against this reservation; the reservation is then spent.
    pub(crate) async fn commit(&mut self, meta: &BlobMeta) -> Result<Option<BlobMeta>, Error> {
        let old = self.ledger.commit(&self.tenant, meta, self.held).await?;
        self.held = 0;
        Ok(old)
    }

    /// Give the reservation back now.
    pub(crate) async fn release(&mut self) -> Result<(), Error> {
        let held = std::mem::take(&mut self.held);
        if held > 0 {
            self.ledger.release(&self.tenant, held).await?;
        }
        Ok(())
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        let held = std::mem::take(&mut self.held);
        if held == 0 {
            return;
        }
        let ledger = self.ledger.clone();
        let tenant = self.tenant.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn(async move {
                    if let Err(err) = ledger.release(&tenant, held).await {
                        tracing::warn!(tenant = %tenant, bytes = held, error = ?err, "could not release a blob quota reservation");
                    }
                });
            }
            Err(_) => {
                tracing::warn!(tenant = %tenant, bytes = held, "blob quota reservation dropped outside a runtime; not released");
            }
        }
    }
}

impl fmt::Debug for Reservation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reservation")
            .field("tenant", &self.tenant)
            .field("held", &self.held)
            .finish_non_exhaustive()
    }
}

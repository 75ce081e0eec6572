//! The quota ledger: per-tenant byte usage and the metadata of every stored object.
//!
//! A small object (one part) is written first and then committed with a quota check:
//! the commit succeeds only if `used - replaced + size + reserved <= quota`, atomically,
//! else nothing is recorded and the written bytes are deleted. A large upload reserves
//! as it streams, **reserve → commit / release**: each reservation belongs to one
//! upload (an [`UploadId`]) and succeeds only if `used + reserved + n <= limit`,
//! atomically; the commit turns it into usage, the release gives it back. So concurrent
//! uploads can never together exceed the quota. A reservation carries an expiry, renewed
//! with every step: a process that crashed mid-upload leaves one behind, and
//! [`BlobLedger::expire_reservations`] (run by
//! [`spawn_reconciler`](super::spawn_reconciler)) gives its bytes back once it expires.
//!
//! [`MemoryBlobLedger`] is always available; `SqlBlobLedger` (feature `sql`) keeps the
//! same in the database, in `blob_objects`, `blob_reservations` and `tenant_usage`.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use baas_core::{Error, SharedClock, TenantId};
use parking_lot::Mutex;
use uuid::Uuid;

use super::store::{BlobMeta, Usage};

/// One upload's reservation in a [`BlobLedger`].
pub type UploadId = Uuid;

/// The answer to [`BlobLedger::commit`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Committed {
    /// The object is recorded; `replaced` is the object it took the place of, whose
    /// bytes (at its [`BlobMeta::version`]) the caller now deletes.
    Stored {
        /// The previous object under the key.
        replaced: Option<BlobMeta>,
    },
    /// Recording it would cross the quota: nothing changed.
    OverQuota,
}

/// Byte accounting and object metadata for a [`BlobStore`](super::BlobStore).
///
/// Every operation is atomic on its own. Implementations must make `reserve` and the
/// quota check of `commit` conditional writes (never read-then-write) so concurrent
/// writers can't overshoot the limit, and must never let the reserved bytes go below
/// zero: a reservation is given back exactly once, whoever (release, commit or expiry)
/// gets there first.
#[async_trait]
pub trait BlobLedger: Send + Sync + fmt::Debug {
    /// Add `bytes` to `upload`'s reservation (making it if new) if
    /// `used + reserved + bytes <= limit`, and set its expiry to `expires_at`. Returns
    /// whether the bytes were reserved.
    async fn reserve(
        &self,
        tenant: &TenantId,
        upload: UploadId,
        bytes: u64,
        limit: u64,
        expires_at: SystemTime,
    ) -> Result<bool, Error>;

    /// Give `upload`'s whole reservation back (a failed or aborted upload). Returns the
    /// bytes given back: 0 when it was already committed, released or expired.
    async fn release(&self, tenant: &TenantId, upload: UploadId) -> Result<u64, Error>;

    /// Record a stored object, atomically: `upload`'s reservation (if any) is dropped,
    /// `meta.size` added to usage and any previous object under the key replaced (its
    /// size subtracted) — provided, when the usage grows and `limit` is given, that
    /// `used - replaced + size + (reserved - this upload's reservation) <= limit`. Else
    /// nothing changes and the answer is [`Committed::OverQuota`].
    async fn commit(
        &self,
        tenant: &TenantId,
        meta: &BlobMeta,
        upload: Option<UploadId>,
        limit: Option<u64>,
    ) -> Result<Committed, Error>;

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

    /// Release every reservation (of any tenant) whose expiry is at or before `now`:
    /// uploads of a process that died. Returns how many were released.
    async fn expire_reservations(&self, now: SystemTime) -> Result<u64, Error>;
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
    reservations: HashMap<UploadId, (u64, SystemTime)>,
}

impl TenantState {
    fn drop_reservation(&mut self, upload: UploadId) -> u64 {
        let bytes = self.reservations.remove(&upload).map_or(0, |(b, _)| b);
        self.usage.bytes_reserved = self.usage.bytes_reserved.saturating_sub(bytes);
        bytes
    }
}

impl MemoryBlobLedger {
    /// An empty ledger.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl BlobLedger for MemoryBlobLedger {
    async fn reserve(
        &self,
        tenant: &TenantId,
        upload: UploadId,
        bytes: u64,
        limit: u64,
        expires_at: SystemTime,
    ) -> Result<bool, Error> {
        let mut tenants = self.tenants.lock();
        let state = tenants.entry(tenant.clone()).or_default();
        let total = state
            .usage
            .bytes_used
            .saturating_add(state.usage.bytes_reserved)
            .saturating_add(bytes);
        if total > limit {
            return Ok(false);
        }
        state.usage.bytes_reserved += bytes;
        let entry = state.reservations.entry(upload).or_insert((0, expires_at));
        entry.0 += bytes;
        entry.1 = expires_at;
        Ok(true)
    }

    async fn release(&self, tenant: &TenantId, upload: UploadId) -> Result<u64, Error> {
        let mut tenants = self.tenants.lock();
        Ok(tenants
            .get_mut(tenant)
            .map_or(0, |state| state.drop_reservation(upload)))
    }

    async fn commit(
        &self,
        tenant: &TenantId,
        meta: &BlobMeta,
        upload: Option<UploadId>,
        limit: Option<u64>,
    ) -> Result<Committed, Error> {
        let mut tenants = self.tenants.lock();
        let state = tenants.entry(tenant.clone()).or_default();
        let old_size = state.objects.get(&meta.key).map_or(0, |o| o.size);
        let own = upload
            .and_then(|u| state.reservations.get(&u))
            .map_or(0, |(b, _)| *b);
        if let Some(limit) = limit
            && meta.size > old_size
        {
            let after = state
                .usage
                .bytes_used
                .saturating_sub(old_size)
                .saturating_add(meta.size)
                .saturating_add(state.usage.bytes_reserved.saturating_sub(own));
            if after > limit {
                return Ok(Committed::OverQuota);
            }
        }
        if let Some(upload) = upload {
            state.drop_reservation(upload);
        }
        let replaced = state.objects.insert(meta.key.clone(), meta.clone());
        state.usage.bytes_used = state
            .usage
            .bytes_used
            .saturating_sub(old_size)
            .saturating_add(meta.size);
        Ok(Committed::Stored { replaced })
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

    async fn expire_reservations(&self, now: SystemTime) -> Result<u64, Error> {
        let mut tenants = self.tenants.lock();
        let mut released = 0;
        for state in tenants.values_mut() {
            let expired: Vec<UploadId> = state
                .reservations
                .iter()
                .filter(|(_, (_, at))| *at <= now)
                .map(|(id, _)| *id)
                .collect();
            for id in expired {
                state.drop_reservation(id);
                released += 1;
            }
        }
        Ok(released)
    }
}

/// The bytes one upload holds in the ledger. Grows in steps while the body streams,
/// each step renewing its expiry; released on drop unless committed, so a cancelled
/// upload gives its bytes back (and a crashed one's expire).
pub(crate) struct Reservation {
    ledger: Arc<dyn BlobLedger>,
    tenant: TenantId,
    upload: UploadId,
    limit: u64,
    step: u64,
    lease: Duration,
    clock: SharedClock,
    held: u64,
}

impl Reservation {
    /// A reservation against `limit` (the quota plus any credit for the object being
    /// replaced).
    pub(crate) fn new(
        ledger: Arc<dyn BlobLedger>,
        tenant: TenantId,
        limit: u64,
        step: u64,
        lease: Duration,
        clock: SharedClock,
    ) -> Self {
        Reservation {
            ledger,
            tenant,
            upload: Uuid::now_v7(),
            limit,
            step: step.max(1),
            lease,
            clock,
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
        let expires = self.clock.now() + self.lease;
        if generous > missing
            && self
                .ledger
                .reserve(&self.tenant, self.upload, generous, self.limit, expires)
                .await?
        {
            self.held += generous;
            return Ok(true);
        }
        if self
            .ledger
            .reserve(&self.tenant, self.upload, missing, self.limit, expires)
            .await?
        {
            self.held += missing;
            return Ok(true);
        }
        Ok(false)
    }

    /// Commit `meta` against this reservation (checked against `quota`); the
    /// reservation is then spent.
    pub(crate) async fn commit(&mut self, meta: &BlobMeta, quota: u64) -> Result<Committed, Error> {
        let done = self
            .ledger
            .commit(&self.tenant, meta, Some(self.upload), Some(quota))
            .await?;
        if let Committed::Stored { .. } = done {
            self.held = 0;
        }
        Ok(done)
    }

    /// Give the reservation back now.
    pub(crate) async fn release(&mut self) -> Result<(), Error> {
        if std::mem::take(&mut self.held) > 0 {
            self.ledger.release(&self.tenant, self.upload).await?;
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
        let upload = self.upload;
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                handle.spawn(async move {
                    if let Err(err) = ledger.release(&tenant, upload).await {
                        tracing::warn!(tenant = %tenant, bytes = held, error = ?err, "could not release a blob quota reservation; it expires");
                    }
                });
            }
            Err(_) => {
                tracing::warn!(tenant = %tenant, bytes = held, "blob quota reservation dropped outside a runtime; it expires");
            }
        }
    }
}

impl fmt::Debug for Reservation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reservation")
            .field("tenant", &self.tenant)
            .field("upload", &self.upload)
            .field("held", &self.held)
            .finish_non_exhaustive()
    }
}

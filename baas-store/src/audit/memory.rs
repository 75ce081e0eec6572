//! The in-memory [`AuditLog`].

use std::collections::HashMap;

use baas_core::clock::{SharedClock, system};
use baas_core::{Error, TenantId};
use parking_lot::Mutex;

use super::chain::{AuditEntry, AuditRecord, AuditVerification, GENESIS_HASH, Verifier};
use super::{AuditLog, check_limit};
use crate::util::millis;

/// An audit log in process memory, for tests and development.
///
/// ```
/// use baas_store::audit::{AuditEntry, AuditLog, MemoryAuditLog};
/// use baas_store::core::TenantId;
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let log = MemoryAuditLog::new();
/// let acme = TenantId::new("acme").unwrap();
/// log.append(AuditEntry::new(acme.clone(), "alice", "document.delete", "orders/1")).await.unwrap();
/// assert!(log.verify(&acme).await.unwrap().is_intact());
/// # });
/// ```
#[derive(Debug)]
pub struct MemoryAuditLog {
    clock: SharedClock,
    chains: Mutex<HashMap<TenantId, Chain>>,
}

#[derive(Debug, Default)]
struct Chain {
    records: Vec<AuditRecord>,
    head: Option<(u64, [u8; 32])>,
}

impl Default for MemoryAuditLog {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryAuditLog {
    /// An empty log on the system clock.
    pub fn new() -> Self {
        Self::with_clock(system())
    }

    /// An empty log on `clock`.
    pub fn with_clock(clock: SharedClock) -> Self {
        MemoryAuditLog {
            clock,
            chains: Mutex::new(HashMap::new()),
        }
    }
}

#[async_trait::async_trait]
impl AuditLog for MemoryAuditLog {
    async fn append(&self, entry: AuditEntry) -> Result<AuditRecord, Error> {
        entry.validate()?;
        let at = millis(self.clock.now());
        let mut chains = self.chains.lock();
        let chain = chains.entry(entry.tenant.clone()).or_default();
        let (seq, prev) = chain.head.unwrap_or((0, GENESIS_HASH));
        let record = AuditRecord::seal(entry, seq + 1, at, prev);
        chain.head = Some((record.seq, record.hash));
        chain.records.push(record.clone());
        Ok(record)
    }

    async fn list(
        &self,
        tenant: &TenantId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, Error> {
        check_limit(limit)?;
        Ok(self.chains.lock().get(tenant).map_or_else(Vec::new, |c| {
            c.records
                .iter()
                .filter(|r| r.seq > after)
                .take(limit as usize)
                .cloned()
                .collect()
        }))
    }

    async fn verify(&self, tenant: &TenantId) -> Result<AuditVerification, Error> {
        let chains = self.chains.lock();
        let Some(chain) = chains.get(tenant) else {
            return Ok(AuditVerification::Intact { records: 0 });
        };
        let mut verifier = Verifier::new();
        for r in &chain.records {
            if let Some(broken) = verifier.step(r) {
                return Ok(broken);
            }
        }
        Ok(verifier.finish(chain.head))
    }
}

#[cfg(any(test, feature = "testing"))]
#[async_trait::async_trait]
impl crate::testing::AuditTamper for MemoryAuditLog {
    async fn set_action(&self, tenant: &TenantId, seq: u64, action: &str) {
        if let Some(r) = self
            .chains
            .lock()
            .get_mut(tenant)
            .and_then(|c| c.records.iter_mut().find(|r| r.seq == seq))
        {
            r.entry.action = action.to_owned();
        }
    }

    async fn remove(&self, tenant: &TenantId, seq: u64) {
        if let Some(c) = self.chains.lock().get_mut(tenant) {
            c.records.retain(|r| r.seq != seq);
        }
    }

    async fn insert_raw(&self, record: &AuditRecord) {
        if let Some(c) = self.chains.lock().get_mut(&record.entry.tenant) {
            c.records.push(record.clone());
            c.records.sort_by_key(|r| r.seq);
        }
    }
}

//! The append-only, hash-chained [`AuditLog`].
//!
//! Each tenant has one chain. A record holds who did what to which target, from where and
//! when, its sequence number (1, 2, 3 …), the previous record's hash and its own hash:
//! SHA-256 over a canonical, length-prefixed encoding of every field and the previous
//! hash ([`AuditRecord::compute_hash`]). Backends also keep the chain's head (last
//! sequence number and hash), so [`AuditLog::verify`] detects an edited, inserted or
//! deleted record — a truncated tail included.
//!
//! The hash is unkeyed: it proves the log was not changed by someone who cannot also
//! rewrite every later record and the head. Ship the head hashes elsewhere (a log
//! line, another system) to make even that detectable.

mod chain;
mod memory;
#[cfg(feature = "sql")]
mod sql;

pub use chain::{AuditEntry, AuditRecord, AuditVerification, GENESIS_HASH};
pub use memory::MemoryAuditLog;
#[cfg(feature = "sql")]
#[cfg_attr(docsrs, doc(cfg(feature = "sql")))]
pub use sql::SqlAuditLog;

use baas_core::{Error, TenantId};

/// Where audit records live.
///
/// Guarantees every backend gives (checked by
/// [`testing::audit_log_suite`](crate::testing::audit_log_suite)):
/// - Appends are serialised per tenant: the chain never forks, however many processes
///   append at once. Sequence numbers are 1, 2, 3 … without gaps.
/// - Records are never changed or removed through this trait.
/// - `verify` walks a tenant's chain and reports the first record that was edited,
///   inserted or deleted, or a tail that was cut off.
/// - One tenant's records are never listed for another.
#[async_trait::async_trait]
pub trait AuditLog: Send + Sync + std::fmt::Debug {
    /// Append a record to the entry's tenant chain; the time comes from the backend's
    /// clock.
    async fn append(&self, entry: AuditEntry) -> Result<AuditRecord, Error>;

    /// Up to `limit` (1–1000) records of `tenant` after sequence number `after` (0 for
    /// the start), in order.
    async fn list(
        &self,
        tenant: &TenantId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, Error>;

    /// Check `tenant`'s whole chain.
    async fn verify(&self, tenant: &TenantId) -> Result<AuditVerification, Error>;
}

/// A shared audit log.
pub type DynAuditLog = dyn AuditLog;

#[allow(dead_code)]
fn _object_safe(_: Box<dyn AuditLog>) {}

pub(crate) fn check_limit(limit: u32) -> Result<(), Error> {
    if limit == 0 || limit > 1000 {
        return Err(Error::malformed("limit must be between 1 and 1000"));
    }
    Ok(())
}

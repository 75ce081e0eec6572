//! Records, their canonical hash and chain verification.

use baas_core::{Error, TenantId};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

/// The previous hash of a chain's first record.
pub const GENESIS_HASH: [u8; 32] = [0; 32];

const MAX_FIELD: usize = 4096;

/// What happened, as the caller reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Whose chain.
    pub tenant: TenantId,
    /// Who did it (a principal's subject, `system`…).
    pub actor: String,
    /// What they did (`document.delete`, `apikey.create`…).
    pub action: String,
    /// What they did it to (an id or path).
    pub target: String,
    /// The client's IP address, when known.
    pub ip: Option<String>,
    /// The client's user agent, when known.
    pub user_agent: Option<String>,
}

impl AuditEntry {
    /// An entry without IP address or user agent.
    pub fn new(
        tenant: TenantId,
        actor: impl Into<String>,
        action: impl Into<String>,
        target: impl Into<String>,
    ) -> Self {
        AuditEntry {
            tenant,
            actor: actor.into(),
            action: action.into(),
            target: target.into(),
            ip: None,
            user_agent: None,
        }
    }

    /// Set the client's IP address and user agent.
    pub fn from_client(mut self, ip: Option<String>, user_agent: Option<String>) -> Self {
        self.ip = ip;
        self.user_agent = user_agent;
        self
    }

    /// Every text field is at most 4096 bytes and `actor` and `action` are not empty,
    /// else `Invalid`.
    pub(crate) fn validate(&self) -> Result<(), Error> {
        let fields = [
            ("actor", Some(&self.actor)),
            ("action", Some(&self.action)),
            ("target", Some(&self.target)),
            ("ip", self.ip.as_ref()),
            ("user_agent", self.user_agent.as_ref()),
        ];
        for (name, value) in fields {
            if value.is_some_and(|v| v.len() > MAX_FIELD) {
                return Err(Error::field(name, "must be at most 4096 bytes"));
            }
        }
        if self.actor.is_empty() || self.action.is_empty() {
            return Err(Error::field("action", "actor and action must not be empty"));
        }
        Ok(())
    }
}

/// A record of the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// Position in the tenant's chain, from 1.
    pub seq: u64,
    /// The entry.
    pub entry: AuditEntry,
    /// When it was appended (millisecond precision).
    pub at: OffsetDateTime,
    /// The hash of the record before (all zeros for the first).
    pub prev_hash: [u8; 32],
    /// This record's hash.
    pub hash: [u8; 32],
}

impl AuditRecord {
    /// Build the record after `prev_hash` at `seq`, hashing it.
    pub(crate) fn seal(entry: AuditEntry, seq: u64, at_ms: i64, prev_hash: [u8; 32]) -> Self {
        let mut record = AuditRecord {
            seq,
            entry,
            at: crate::util::from_millis(at_ms),
            prev_hash,
            hash: [0; 32],
        };
        record.hash = record.compute_hash();
        record
    }

    /// The time as stored: milliseconds since the epoch.
    pub(crate) fn at_millis(&self) -> i64 {
        i64::try_from(self.at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
    }

    /// SHA-256 over `baas-audit-v1`, then every field in a fixed order, each
    /// length-prefixed (u64 big-endian) and optional ones flagged, then the previous hash.
    pub fn compute_hash(&self) -> [u8; 32] {
        fn put(h: &mut Sha256, bytes: &[u8]) {
            h.update((bytes.len() as u64).to_be_bytes());
            h.update(bytes);
        }
        fn put_opt(h: &mut Sha256, value: Option<&String>) {
            match value {
                Some(v) => {
                    h.update([1]);
                    put(h, v.as_bytes());
                }
                None => h.update([0]),
            }
        }
        let e = &self.entry;
        let mut h = Sha256::new();
        put(&mut h, b"baas-audit-v1");
        put(&mut h, e.tenant.as_str().as_bytes());
        h.update(self.seq.to_be_bytes());
        put(&mut h, e.actor.as_bytes());
        put(&mut h, e.action.as_bytes());
        put(&mut h, e.target.as_bytes());
        put_opt(&mut h, e.ip.as_ref());
        put_opt(&mut h, e.user_agent.as_ref());
        h.update(self.at_millis().to_be_bytes());
        h.update(self.prev_hash);
        h.finalize().into()
    }
}

/// The outcome of [`AuditLog::verify`](super::AuditLog::verify).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuditVerification {
    /// Every record links to the one before and hashes right, and the head matches.
    Intact {
        /// How many records were checked.
        records: u64,
    },
    /// The chain is broken at `seq`.
    Broken {
        /// The first sequence number where the chain does not hold.
        seq: u64,
        /// What is wrong there.
        reason: &'static str,
    },
}

impl AuditVerification {
    /// Whether the chain is intact.
    pub fn is_intact(&self) -> bool {
        matches!(self, AuditVerification::Intact { .. })
    }
}

/// Walks a chain record by record.
#[derive(Debug)]
pub(crate) struct Verifier {
    next_seq: u64,
    prev_hash: [u8; 32],
}

impl Verifier {
    pub(crate) fn new() -> Self {
        Verifier {
            next_seq: 1,
            prev_hash: GENESIS_HASH,
        }
    }

    /// Check the next record; `Some` when the chain breaks there.
    pub(crate) fn step(&mut self, r: &AuditRecord) -> Option<AuditVerification> {
        let broken = |reason| Some(AuditVerification::Broken { seq: r.seq, reason });
        if r.seq != self.next_seq {
            return broken(if r.seq > self.next_seq {
                "sequence gap: a record was deleted"
            } else {
                "sequence repeats: a record was inserted"
            });
        }
        if r.prev_hash != self.prev_hash {
            return broken("previous hash does not match: a record was inserted or deleted");
        }
        if r.compute_hash() != r.hash {
            return broken("hash does not match: the record was edited");
        }
        self.next_seq += 1;
        self.prev_hash = r.hash;
        None
    }

    /// Compare the end of the walk with the stored head.
    pub(crate) fn finish(self, head: Option<(u64, [u8; 32])>) -> AuditVerification {
        let last = self.next_seq - 1;
        match head {
            Some((seq, hash)) if seq == last && hash == self.prev_hash => {
                AuditVerification::Intact { records: last }
            }
            None if last == 0 => AuditVerification::Intact { records: 0 },
            Some((seq, _)) if seq > last => AuditVerification::Broken {
                seq: last + 1,
                reason: "the chain ends before its head: records were deleted",
            },
            _ => AuditVerification::Broken {
                seq: last,
                reason: "the chain does not end at its head: records were inserted or the head was altered",
            },
        }
    }
}

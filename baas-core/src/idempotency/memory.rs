//! The in-memory [`IdempotencyStore`].

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use parking_lot::Mutex;

use super::store::{Claim, ClaimToken, Fingerprint, IdempotencyScope, IdempotencyStore};
use crate::clock::{SharedClock, system};
use crate::error::Error;

/// An idempotency store in process memory, for tests and single-process development.
///
/// ```
/// use baas_core::idempotency::{Claim, IdempotencyScope, IdempotencyStore, MemoryIdempotencyStore};
/// use std::time::Duration;
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let store = MemoryIdempotencyStore::new();
/// let scope = IdempotencyScope::Anonymous { route: "/v1/things".into() };
/// let fp = [1u8; 32];
/// assert!(matches!(store.claim(&scope, "k", &fp, Duration::from_secs(30)).await.unwrap(), Claim::Acquired(_)));
/// assert_eq!(store.claim(&scope, "k", &fp, Duration::from_secs(30)).await.unwrap(), Claim::InFlight);
/// # });
/// ```
#[derive(Debug)]
pub struct MemoryIdempotencyStore {
    clock: SharedClock,
    records: Mutex<HashMap<(String, String), Record>>,
}

#[derive(Debug)]
struct Record {
    token: ClaimToken,
    fingerprint: Fingerprint,
    response: Option<Bytes>,
    expires: Instant,
}

impl Default for MemoryIdempotencyStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryIdempotencyStore {
    /// An empty store on the system clock.
    pub fn new() -> Self {
        Self::with_clock(system())
    }

    /// An empty store on the given clock.
    pub fn with_clock(clock: SharedClock) -> Self {
        MemoryIdempotencyStore {
            clock,
            records: Mutex::new(HashMap::new()),
        }
    }

    /// How many records are held (expired ones included until swept).
    pub fn len(&self) -> usize {
        self.records.lock().len()
    }

    /// Whether no records are held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[async_trait::async_trait]
impl IdempotencyStore for MemoryIdempotencyStore {
    async fn claim(
        &self,
        scope: &IdempotencyScope,
        key: &str,
        fingerprint: &Fingerprint,
        lease: Duration,
    ) -> Result<Claim, Error> {
        let now = self.clock.monotonic();
        let mut records = self.records.lock();
        let id = (scope.storage_key(), key.to_owned());
        if let Some(rec) = records.get(&id).filter(|r| r.expires > now) {
            return Ok(if rec.fingerprint != *fingerprint {
                Claim::Mismatch
            } else if let Some(resp) = &rec.response {
                Claim::Replay(resp.clone())
            } else {
                Claim::InFlight
            });
        }
        let token = ClaimToken::generate();
        records.insert(
            id,
            Record {
                token,
                fingerprint: *fingerprint,
                response: None,
                expires: now + lease,
            },
        );
        Ok(Claim::Acquired(token))
    }

    async fn complete(
        &self,
        scope: &IdempotencyScope,
        key: &str,
        token: &ClaimToken,
        fingerprint: &Fingerprint,
        response: Bytes,
        ttl: Duration,
    ) -> Result<bool, Error> {
        let now = self.clock.monotonic();
        let mut records = self.records.lock();
        let id = (scope.storage_key(), key.to_owned());
        match records.get_mut(&id) {
            Some(rec) if rec.token == *token && rec.response.is_none() => {
                rec.fingerprint = *fingerprint;
                rec.response = Some(response);
                rec.expires = now + ttl;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn release(
        &self,
        scope: &IdempotencyScope,
        key: &str,
        token: &ClaimToken,
    ) -> Result<(), Error> {
        let mut records = self.records.lock();
        let id = (scope.storage_key(), key.to_owned());
        if records
            .get(&id)
            .is_some_and(|r| r.token == *token && r.response.is_none())
        {
            records.remove(&id);
        }
        Ok(())
    }

    async fn sweep(&self) -> Result<u64, Error> {
        let now = self.clock.monotonic();
        let mut records = self.records.lock();
        let before = records.len();
        records.retain(|_, r| r.expires > now);
        Ok((before - records.len()) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::testing::idempotency_store_suite;

    #[tokio::test]
    async fn memory_store_passes_the_suite() {
        let clock = ManualClock::new();
        let store = MemoryIdempotencyStore::with_clock(clock.shared());
        idempotency_store_suite(&store, &|d| clock.advance(d)).await;
    }
}

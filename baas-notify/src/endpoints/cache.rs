//! The dispatcher's cache of opened endpoints: the row and its unsealed secrets per
//! (tenant, endpoint id), kept for a short TTL and dropped at once when this process
//! disables or deletes the endpoint.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use baas_core::TenantId;
use parking_lot::Mutex;
use tokio::time::Instant;
use uuid::Uuid;

use crate::signing::WebhookSecret;
use crate::store::Endpoint;

/// The most entries kept; past it, expired ones are dropped (and, if that is not
/// enough, all of them).
const CAPACITY: usize = 10_000;

/// An endpoint ready to deliver to: its row and its opened signing secrets.
#[derive(Clone)]
pub struct OpenedEndpoint {
    /// The endpoint as stored when it was read.
    pub endpoint: Endpoint,
    /// Its signing secrets, the newest first.
    pub secrets: Arc<[WebhookSecret]>,
}

impl fmt::Debug for OpenedEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenedEndpoint")
            .field("endpoint", &self.endpoint)
            .field("secrets", &self.secrets.len())
            .finish()
    }
}

type Key = (TenantId, Uuid);

#[derive(Default)]
struct Entries {
    map: HashMap<Key, (Instant, Arc<OpenedEndpoint>)>,
    /// Bumped by every invalidation, so a read that raced one is not cached.
    generation: u64,
}

/// Opened endpoints by (tenant, id), each kept for `ttl` (measured on tokio's clock, so
/// tests pause and advance it).
pub(crate) struct EndpointCache {
    ttl: Duration,
    entries: Mutex<Entries>,
}

impl fmt::Debug for EndpointCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EndpointCache")
            .field("ttl", &self.ttl)
            .field("entries", &self.entries.lock().map.len())
            .finish()
    }
}

impl EndpointCache {
    pub(crate) fn new(ttl: Duration) -> Self {
        EndpointCache {
            ttl,
            entries: Mutex::default(),
        }
    }

    pub(crate) fn ttl(&self) -> Duration {
        self.ttl
    }

    /// A live entry, and the generation to pass to [`insert`](Self::insert) after a
    /// miss.
    pub(crate) fn get(&self, tenant: &TenantId, id: Uuid) -> (Option<Arc<OpenedEndpoint>>, u64) {
        let entries = self.entries.lock();
        let hit = entries
            .map
            .get(&(tenant.clone(), id))
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, e)| e.clone());
        (hit, entries.generation)
    }

    /// Keep `opened`, unless an invalidation happened since `generation` was read.
    pub(crate) fn insert(&self, generation: u64, opened: Arc<OpenedEndpoint>) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock();
        if entries.generation != generation {
            return;
        }
        if entries.map.len() >= CAPACITY {
            let ttl = self.ttl;
            entries.map.retain(|_, (at, _)| at.elapsed() < ttl);
            if entries.map.len() >= CAPACITY {
                entries.map.clear();
            }
        }
        let key = (opened.endpoint.tenant.clone(), opened.endpoint.id);
        entries.map.insert(key, (Instant::now(), opened));
    }

    /// Forget the endpoint (it was disabled, re-enabled or deleted).
    pub(crate) fn invalidate(&self, tenant: &TenantId, id: Uuid) {
        let mut entries = self.entries.lock();
        entries.map.remove(&(tenant.clone(), id));
        entries.generation = entries.generation.wrapping_add(1);
    }
}

//! The cache of endpoints: for the dispatcher, the row and its unsealed secrets per
//! (tenant, endpoint id); for the notifier, each tenant's endpoint list. Both are kept
//! for a short TTL and dropped at once when this process creates, disables or deletes
//! an endpoint.

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
    /// Every endpoint of a tenant (enabled or not), as listed by the store.
    lists: HashMap<TenantId, (Instant, Arc<[Endpoint]>)>,
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
            .field("lists", &self.entries.lock().lists.len())
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

    /// A live list of `tenant`'s endpoints, and the generation to pass to
    /// [`insert_list`](Self::insert_list) after a miss.
    pub(crate) fn get_list(&self, tenant: &TenantId) -> (Option<Arc<[Endpoint]>>, u64) {
        let entries = self.entries.lock();
        let hit = entries
            .lists
            .get(tenant)
            .filter(|(at, _)| at.elapsed() < self.ttl)
            .map(|(_, l)| l.clone());
        (hit, entries.generation)
    }

    /// Keep `list` as `tenant`'s endpoints, unless an invalidation happened since
    /// `generation` was read.
    pub(crate) fn insert_list(&self, generation: u64, tenant: &TenantId, list: Arc<[Endpoint]>) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock();
        if entries.generation != generation {
            return;
        }
        if entries.lists.len() >= CAPACITY {
            let ttl = self.ttl;
            entries.lists.retain(|_, (at, _)| at.elapsed() < ttl);
            if entries.lists.len() >= CAPACITY {
                entries.lists.clear();
            }
        }
        entries.lists.insert(tenant.clone(), (Instant::now(), list));
    }

    /// Forget the endpoint and its tenant's list (it was created, disabled, re-enabled
    /// or deleted).
    pub(crate) fn invalidate(&self, tenant: &TenantId, id: Uuid) {
        let mut entries = self.entries.lock();
        entries.map.remove(&(tenant.clone(), id));
        entries.lists.remove(tenant);
        entries.generation = entries.generation.wrapping_add(1);
    }
}

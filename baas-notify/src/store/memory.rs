//! The in-memory stores (always compiled; tests and development).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::SystemTime;

use async_trait::async_trait;
use baas_core::{Error, TenantId};
use parking_lot::Mutex;
use uuid::Uuid;

use super::{
    DeliveryLog, Endpoint, EndpointStore, Inserted, PreferenceStore, Settlement, not_found,
};
use crate::model::{Attempt, ChannelKind, Notification, Status};

#[derive(Debug, Default)]
struct LogInner {
    notifications: HashMap<Uuid, Notification>,
    keys: HashMap<(TenantId, String), Uuid>,
    attempts: HashMap<Uuid, Vec<Attempt>>,
}

/// A [`DeliveryLog`] in memory. Clones share the same data.
#[derive(Debug, Clone, Default)]
pub struct MemoryDeliveryLog {
    inner: Arc<Mutex<LogInner>>,
}

impl MemoryDeliveryLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl DeliveryLog for MemoryDeliveryLog {
    async fn insert(&self, n: &Notification) -> Result<Inserted, Error> {
        let mut inner = self.inner.lock();
        if let Some(key) = &n.idempotency_key {
            if let Some(id) = inner.keys.get(&(n.tenant.clone(), key.clone()))
                && let Some(existing) = inner.notifications.get(id)
            {
                return Ok(Inserted {
                    notification: existing.clone(),
                    created: false,
                });
            }
            inner.keys.insert((n.tenant.clone(), key.clone()), n.id);
        }
        if inner.notifications.contains_key(&n.id) {
            return Err(Error::new(
                baas_core::ErrorKind::Conflict,
                "notification id exists",
            ));
        }
        inner.notifications.insert(n.id, n.clone());
        Ok(Inserted {
            notification: n.clone(),
            created: true,
        })
    }

    async fn get(&self, tenant: &TenantId, id: Uuid) -> Result<Option<Notification>, Error> {
        Ok(self
            .inner
            .lock()
            .notifications
            .get(&id)
            .filter(|n| &n.tenant == tenant)
            .cloned())
    }

    async fn set_status(
        &self,
        tenant: &TenantId,
        id: Uuid,
        status: Status,
        at: SystemTime,
    ) -> Result<(), Error> {
        let mut inner = self.inner.lock();
        let n = inner
            .notifications
            .get_mut(&id)
            .filter(|n| &n.tenant == tenant)
            .ok_or_else(|| not_found("notification"))?;
        n.status = status;
        n.updated_at = at;
        Ok(())
    }

    async fn record_attempt(&self, tenant: &TenantId, attempt: &Attempt) -> Result<(), Error> {
        let mut inner = self.inner.lock();
        let n = inner
            .notifications
            .get_mut(&attempt.notification)
            .filter(|n| &n.tenant == tenant)
            .ok_or_else(|| not_found("notification"))?;
        n.attempts += 1;
        inner
            .attempts
            .entry(attempt.notification)
            .or_default()
            .push(attempt.clone());
        Ok(())
    }

    /// Under one lock: the batch is started atomically.
    async fn start_many(
        &self,
        keys: &[(TenantId, Uuid)],
        at: SystemTime,
    ) -> Result<Vec<Option<Notification>>, Error> {
        let mut inner = self.inner.lock();
        Ok(keys
            .iter()
            .map(|(tenant, id)| {
                let n = inner
                    .notifications
                    .get_mut(id)
                    .filter(|n| &n.tenant == tenant)?;
                if matches!(n.status, Status::Sent | Status::Suppressed) {
                    return None;
                }
                n.status = Status::Sending;
                n.updated_at = at;
                Some(n.clone())
            })
            .collect())
    }

    /// Under one lock: the batch is settled atomically.
    async fn settle_many(&self, batch: &[Settlement]) -> Vec<Result<(), Error>> {
        let mut inner = self.inner.lock();
        batch
            .iter()
            .map(|s| {
                let n = inner
                    .notifications
                    .get_mut(&s.notification)
                    .filter(|n| n.tenant == s.tenant)
                    .ok_or_else(|| not_found("notification"))?;
                n.attempts += u32::try_from(s.attempts.len()).unwrap_or(u32::MAX);
                n.status = s.status;
                n.updated_at = s.at;
                inner
                    .attempts
                    .entry(s.notification)
                    .or_default()
                    .extend(s.attempts.iter().cloned());
                Ok(())
            })
            .collect()
    }

    async fn attempts(&self, tenant: &TenantId, id: Uuid) -> Result<Vec<Attempt>, Error> {
        let inner = self.inner.lock();
        match inner.notifications.get(&id) {
            Some(n) if &n.tenant == tenant => {
                Ok(inner.attempts.get(&id).cloned().unwrap_or_default())
            }
            _ => Ok(Vec::new()),
        }
    }

    async fn sweep(&self, before: SystemTime) -> Result<u64, Error> {
        let mut inner = self.inner.lock();
        let gone: Vec<Uuid> = inner
            .notifications
            .values()
            .filter(|n| n.status.is_final() && n.updated_at < before)
            .map(|n| n.id)
            .collect();
        for id in &gone {
            if let Some(n) = inner.notifications.remove(id)
                && let Some(key) = n.idempotency_key
            {
                inner.keys.remove(&(n.tenant, key));
            }
            inner.attempts.remove(id);
        }
        Ok(gone.len() as u64)
    }
}

/// One opt-out: tenant, recipient, category, channel.
type OptOut = (TenantId, String, String, ChannelKind);

/// A [`PreferenceStore`] in memory. Clones share the same data.
#[derive(Debug, Clone, Default)]
pub struct MemoryPreferenceStore {
    opted_out: Arc<Mutex<HashSet<OptOut>>>,
}

impl MemoryPreferenceStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl PreferenceStore for MemoryPreferenceStore {
    async fn set_opt_out(
        &self,
        tenant: &TenantId,
        recipient: &str,
        category: &str,
        channel: ChannelKind,
        opted_out: bool,
    ) -> Result<(), Error> {
        let key = (
            tenant.clone(),
            recipient.to_owned(),
            category.to_owned(),
            channel,
        );
        let mut set = self.opted_out.lock();
        if opted_out {
            set.insert(key);
        } else {
            set.remove(&key);
        }
        Ok(())
    }

    async fn is_opted_out(
        &self,
        tenant: &TenantId,
        recipient: &str,
        category: &str,
        channel: ChannelKind,
    ) -> Result<bool, Error> {
        let set = self.opted_out.lock();
        Ok([category, "*"].iter().any(|c| {
            set.contains(&(
                tenant.clone(),
                recipient.to_owned(),
                (*c).to_owned(),
                channel,
            ))
        }))
    }
}

/// An [`EndpointStore`] in memory. Clones share the same data.
#[derive(Debug, Clone, Default)]
pub struct MemoryEndpointStore {
    endpoints: Arc<Mutex<BTreeMap<Uuid, Endpoint>>>,
}

impl MemoryEndpointStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl EndpointStore for MemoryEndpointStore {
    async fn insert(&self, endpoint: &Endpoint) -> Result<(), Error> {
        let mut map = self.endpoints.lock();
        if map.contains_key(&endpoint.id) {
            return Err(Error::new(
                baas_core::ErrorKind::Conflict,
                "endpoint exists",
            ));
        }
        map.insert(endpoint.id, endpoint.clone());
        Ok(())
    }

    async fn get(&self, tenant: &TenantId, id: Uuid) -> Result<Option<Endpoint>, Error> {
        Ok(self
            .endpoints
            .lock()
            .get(&id)
            .filter(|e| &e.tenant == tenant)
            .cloned())
    }

    async fn list(&self, tenant: &TenantId) -> Result<Vec<Endpoint>, Error> {
        // UUIDv7 ids sort by creation time.
        Ok(self
            .endpoints
            .lock()
            .values()
            .filter(|e| &e.tenant == tenant)
            .cloned()
            .collect())
    }

    async fn set_disabled(&self, tenant: &TenantId, id: Uuid, disabled: bool) -> Result<(), Error> {
        let mut map = self.endpoints.lock();
        let e = map
            .get_mut(&id)
            .filter(|e| &e.tenant == tenant)
            .ok_or_else(|| not_found("endpoint"))?;
        e.disabled = disabled;
        Ok(())
    }

    async fn delete(&self, tenant: &TenantId, id: Uuid) -> Result<(), Error> {
        let mut map = self.endpoints.lock();
        match map.get(&id) {
            Some(e) if &e.tenant == tenant => {
                map.remove(&id);
                Ok(())
            }
            _ => Err(not_found("endpoint")),
        }
    }
}

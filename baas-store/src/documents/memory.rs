//! The in-memory [`DocumentStore`].

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;

use baas_core::clock::{SharedClock, system};
use baas_core::{Error, ErrorKind, TenantId};
use parking_lot::Mutex;
use uuid::Uuid;

use super::DocumentStore;
use super::types::{Document, Filter, ListQuery, Page, page_of};
use super::validate::{validate_collection, validate_data, validate_filters, validate_query};
use crate::util::{from_millis, millis};

/// Documents in process memory, for tests and development.
///
/// ```
/// use baas_store::documents::{DocumentStore, MemoryDocumentStore};
/// use baas_store::core::TenantId;
/// use serde_json::json;
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let store = MemoryDocumentStore::new();
/// let acme = TenantId::new("acme").unwrap();
/// let doc = store.create(&acme, "orders", json!({"total": 3})).await.unwrap();
/// assert_eq!(doc.version, 1);
/// assert_eq!(store.get(&acme, "orders", doc.id).await.unwrap().data, json!({"total": 3}));
/// # });
/// ```
#[derive(Debug)]
pub struct MemoryDocumentStore {
    clock: SharedClock,
    collections: Mutex<HashMap<(TenantId, String), BTreeMap<Uuid, Stored>>>,
}

#[derive(Debug, Clone)]
struct Stored {
    version: u64,
    data: serde_json::Value,
    created_at: i64,
    updated_at: i64,
}

impl Stored {
    fn document(&self, id: Uuid) -> Document {
        Document {
            id,
            version: self.version,
            data: self.data.clone(),
            created_at: from_millis(self.created_at),
            updated_at: from_millis(self.updated_at),
        }
    }
}

impl Default for MemoryDocumentStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryDocumentStore {
    /// An empty store on the system clock.
    pub fn new() -> Self {
        Self::with_clock(system())
    }

    /// An empty store on `clock` (timestamps only; ids are UUIDv7 of the real time).
    pub fn with_clock(clock: SharedClock) -> Self {
        MemoryDocumentStore {
            clock,
            collections: Mutex::new(HashMap::new()),
        }
    }
}

fn not_found() -> Error {
    Error::not_found("document not found")
}

/// JSON equality with numbers compared as numbers (`3 == 3.0`).
pub(crate) fn scalar_eq(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    match (a, b) {
        (serde_json::Value::Number(x), serde_json::Value::Number(y)) => {
            match (x.as_i64(), y.as_i64(), x.as_u64(), y.as_u64()) {
                (Some(x), Some(y), _, _) => x == y,
                (_, _, Some(x), Some(y)) => x == y,
                _ => x.as_f64() == y.as_f64(),
            }
        }
        _ => a == b,
    }
}

fn matches(data: &serde_json::Value, filters: &[Filter]) -> bool {
    filters
        .iter()
        .all(|f| data.get(&f.field).is_some_and(|v| scalar_eq(v, &f.value)))
}

#[async_trait::async_trait]
impl DocumentStore for MemoryDocumentStore {
    async fn create(
        &self,
        tenant: &TenantId,
        collection: &str,
        data: serde_json::Value,
    ) -> Result<Document, Error> {
        validate_collection(collection)?;
        validate_data(&data)?;
        let now = millis(self.clock.now());
        let id = Uuid::now_v7();
        let stored = Stored {
            version: 1,
            data,
            created_at: now,
            updated_at: now,
        };
        let doc = stored.document(id);
        self.collections
            .lock()
            .entry((tenant.clone(), collection.to_owned()))
            .or_default()
            .insert(id, stored);
        Ok(doc)
    }

    async fn get(&self, tenant: &TenantId, collection: &str, id: Uuid) -> Result<Document, Error> {
        validate_collection(collection)?;
        self.collections
            .lock()
            .get(&(tenant.clone(), collection.to_owned()))
            .and_then(|c| c.get(&id))
            .map(|s| s.document(id))
            .ok_or_else(not_found)
    }

    async fn replace(
        &self,
        tenant: &TenantId,
        collection: &str,
        id: Uuid,
        data: serde_json::Value,
        expected_version: Option<u64>,
    ) -> Result<Document, Error> {
        validate_collection(collection)?;
        validate_data(&data)?;
        let now = millis(self.clock.now());
        let mut collections = self.collections.lock();
        let stored = collections
            .get_mut(&(tenant.clone(), collection.to_owned()))
            .and_then(|c| c.get_mut(&id))
            .ok_or_else(not_found)?;
        if expected_version.is_some_and(|v| v != stored.version) {
            return Err(Error::new(
                ErrorKind::PreconditionFailed,
                "document version does not match",
            ));
        }
        stored.version += 1;
        stored.data = data;
        stored.updated_at = now;
        Ok(stored.document(id))
    }

    async fn delete(&self, tenant: &TenantId, collection: &str, id: Uuid) -> Result<(), Error> {
        validate_collection(collection)?;
        self.collections
            .lock()
            .get_mut(&(tenant.clone(), collection.to_owned()))
            .and_then(|c| c.remove(&id))
            .map(|_| ())
            .ok_or_else(not_found)
    }

    async fn list(
        &self,
        tenant: &TenantId,
        collection: &str,
        query: &ListQuery,
    ) -> Result<Page, Error> {
        validate_collection(collection)?;
        validate_query(query)?;
        let after = query.after()?;
        let collections = self.collections.lock();
        let Some(docs) = collections.get(&(tenant.clone(), collection.to_owned())) else {
            return Ok(page_of(Vec::new(), query.limit));
        };
        let start = after.map_or(Bound::Unbounded, Bound::Excluded);
        let items = docs
            .range((start, Bound::Unbounded))
            .filter(|(_, s)| matches(&s.data, &query.filters))
            .take(query.limit as usize + 1)
            .map(|(id, s)| s.document(*id))
            .collect();
        Ok(page_of(items, query.limit))
    }

    async fn count(
        &self,
        tenant: &TenantId,
        collection: &str,
        filters: &[Filter],
    ) -> Result<u64, Error> {
        validate_collection(collection)?;
        validate_filters(filters)?;
        Ok(self
            .collections
            .lock()
            .get(&(tenant.clone(), collection.to_owned()))
            .map_or(0, |docs| {
                docs.values().filter(|s| matches(&s.data, filters)).count() as u64
            }))
    }
}

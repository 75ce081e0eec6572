//! Tenant-scoped JSON documents in named collections: the [`DocumentStore`] trait and
//! its backends.

mod memory;
#[cfg(feature = "sql")]
mod sql;
mod types;
mod validate;

pub use memory::MemoryDocumentStore;
#[cfg(feature = "sql")]
#[cfg_attr(docsrs, doc(cfg(feature = "sql")))]
pub use sql::{SqlDocumentStore, TxDocuments};
pub use types::{DEFAULT_PAGE_LIMIT, Document, Filter, ListQuery, MAX_PAGE_LIMIT, Page};
pub use validate::{MAX_COLLECTION_LEN, MAX_FIELD_LEN, validate_collection, validate_field};

use baas_core::{Error, TenantId};
use uuid::Uuid;

/// Where documents live.
///
/// A document is a JSON object with a server-made UUIDv7 `id` and a `version` that starts
/// at 1 and grows by one with every replace. Every method takes the tenant: one tenant
/// can never read, list, overwrite or delete another's documents (another tenant's
/// document is simply `NotFound`).
///
/// Guarantees every backend gives (checked by
/// [`testing::document_store_suite`](crate::testing::document_store_suite)):
/// - `replace` with an expected version is a compare-and-set: of two writers holding the
///   same version exactly one wins, the other gets `PreconditionFailed`. A missing
///   document is `NotFound` whatever the expected version.
/// - `list` is ordered by id and paged by an opaque cursor (keyset, never an offset):
///   every document that existed before the first page was read, and was not deleted
///   meanwhile, is returned exactly once however many documents are inserted while
///   paging. Documents inserted meanwhile may or may not appear (their UUIDv7 ids sort
///   after older ones, so they usually do).
/// - Bad input is refused and changes nothing: what arrives in the path or the query
///   (collection and field names, a non-scalar filter value, a limit out of range, a
///   bad cursor) is `Malformed` (HTTP 400); a body that is not a JSON object is
///   `Invalid` (422).
#[async_trait::async_trait]
pub trait DocumentStore: Send + Sync + std::fmt::Debug {
    /// Store a new document (a JSON object) and return it with its id and version 1.
    async fn create(
        &self,
        tenant: &TenantId,
        collection: &str,
        data: serde_json::Value,
    ) -> Result<Document, Error>;

    /// The document `id`, or `NotFound`.
    async fn get(&self, tenant: &TenantId, collection: &str, id: Uuid) -> Result<Document, Error>;

    /// Replace the document's data, bumping its version. With `expected_version`, only
    /// when the stored version equals it (else `PreconditionFailed`).
    async fn replace(
        &self,
        tenant: &TenantId,
        collection: &str,
        id: Uuid,
        data: serde_json::Value,
        expected_version: Option<u64>,
    ) -> Result<Document, Error>;

    /// Delete the document, or `NotFound`.
    async fn delete(&self, tenant: &TenantId, collection: &str, id: Uuid) -> Result<(), Error>;

    /// One page of documents matching every filter, ordered by id.
    async fn list(
        &self,
        tenant: &TenantId,
        collection: &str,
        query: &ListQuery,
    ) -> Result<Page, Error>;

    /// How many documents match every filter.
    async fn count(
        &self,
        tenant: &TenantId,
        collection: &str,
        filters: &[Filter],
    ) -> Result<u64, Error>;
}

/// A shared document store.
pub type DynDocumentStore = dyn DocumentStore;

#[allow(dead_code)]
fn _object_safe(_: Box<dyn DocumentStore>) {}

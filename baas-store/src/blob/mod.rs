//! Tenant-scoped blobs over [`object_store`]: streaming put and get, SHA-256 and
//! content type recorded, ranged reads, listing by prefix, a per-object size limit, a
//! per-tenant byte quota, and signed URLs.
//!
//! | piece | what |
//! |---|---|
//! | [`BlobStore`] | the object-safe trait every backend implements |
//! | [`ObjectBlobStore`] | the implementation over object_store: local files (default), memory, S3 (feature `s3`) |
//! | [`BlobLedger`] | object metadata and per-tenant usage, reserve → commit/release: [`MemoryBlobLedger`], `SqlBlobLedger` (feature `sql`) |
//! | [`UrlSigner`] | HMAC-signed, expiring URLs keyed from the master key (S3 presigns instead) |
//! | [`BlobError`] | typed outcomes inside errors, such as an unsatisfiable range (HTTP 416) |
//! | [`validate_key`] | the key rules: no `..`, no leading/trailing `/`, no empty segment, no control characters, ≤ 1024 bytes |
//!
//! Every put writes a new version at `tenants/<tenant>/blobs/<shard>/<version>` in the object
//! store; the ledger maps each key to its current version, so a key never reaches
//! outside its tenant, and a failed or racing put never touches bytes another
//! operation needs.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), baas_core::Error> {
//! use std::sync::Arc;
//! use std::time::Duration;
//! use baas_core::{ErrorKind, ManualClock, MasterKey, TenantId};
//! use baas_store::blob::{
//!     BlobLimits, BlobStore, ByteRange, MemoryBlobLedger, ObjectBlobStore, UrlSigner,
//!     body_from_bytes,
//! };
//!
//! let dir = tempfile::tempdir().unwrap();
//! let signer = UrlSigner::new(&MasterKey::generate(), ManualClock::new().shared());
//! let store = ObjectBlobStore::local(dir.path(), Arc::new(MemoryBlobLedger::new()), signer)?
//!     .with_limits(BlobLimits { max_object_bytes: 1 << 20, tenant_quota_bytes: 8 << 20 });
//! let acme = TenantId::new("acme")?;
//!
//! store.put(&acme, "docs/a.txt", "text/plain", body_from_bytes("hello world")).await?;
//! let part = store.get(&acme, "docs/a.txt", Some(ByteRange::FromTo(0, 4))).await?;
//! assert!(part.partial);
//! assert_eq!(&part.bytes().await?[..], b"hello");
//!
//! let page = store.list(&acme, "docs/", None, 10).await?;
//! assert_eq!(page.items.len(), 1);
//!
//! let err = store.put(&acme, "../escape", "text/plain", body_from_bytes("x")).await.unwrap_err();
//! assert_eq!(err.kind(), ErrorKind::Malformed);
//!
//! let url = store.signed_url(&acme, "docs/a.txt", Duration::from_secs(300)).await?;
//! assert!(url.url.starts_with("/v1/files-signed/acme/docs/a.txt?"));
//! # Ok(())
//! # }
//! ```

mod cache;
mod discard;
mod error;
mod key;
/// The migration creating the SQL ledger's tables (`m20261127_000100_blobs`).
#[cfg(feature = "sql")]
#[cfg_attr(docsrs, doc(cfg(feature = "sql")))]
#[path = "../migrations/m20261127_000100_blobs.rs"]
pub mod migration;
/// The migration adding blob versions and per-upload reservations
/// (`m20261127_000300_blob_versions`).
#[cfg(feature = "sql")]
#[cfg_attr(docsrs, doc(cfg(feature = "sql")))]
#[path = "../migrations/m20261127_000300_blob_versions.rs"]
pub mod migration_versions;
mod object;
mod quota;
mod signed_url;
#[cfg(feature = "sqlite")]
mod sql_commit_script;
#[cfg(feature = "sql")]
mod sql_ledger;
mod store;

#[cfg(any(test, feature = "testing"))]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;

pub use cache::MAX_CACHED_OBJECT_BYTES;
pub use error::BlobError;
pub use key::{
    MAX_CONTENT_TYPE_BYTES, MAX_KEY_BYTES, validate_content_type, validate_key, validate_prefix,
};
pub use object::{DEFAULT_PART_SIZE, DEFAULT_RESERVE_STEP, ObjectBlobStore, body_from_bytes};
pub use object::{DEFAULT_RESERVATION_LEASE, spawn_reconciler};
pub use quota::{BlobLedger, Committed, DynBlobLedger, MemoryBlobLedger, UploadId};
pub use signed_url::{
    DEFAULT_SIGNED_URL_PREFIX, SIGNED_URL_KEY_LABEL, SignedUrlParts, UrlSigner, validate_expiry,
};
#[cfg(feature = "sql")]
#[cfg_attr(docsrs, doc(cfg(feature = "sql")))]
pub use sql_ledger::SqlBlobLedger;
pub use store::{
    BlobBody, BlobLimits, BlobMeta, BlobStore, ByteRange, ByteStream, DynBlobStore, ListPage,
    MAX_LIST_LIMIT, MAX_SIGNED_URL_EXPIRY, PutBody, PutOutcome, SignedUrl, SignedUrlKind, Usage,
};

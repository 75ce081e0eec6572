//! The [`BlobStore`] trait and the types it speaks.

use std::fmt;
use std::ops::Range;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use baas_core::{BoxError, Error, TenantId};
use bytes::Bytes;
use futures::stream::BoxStream;

/// A request body being uploaded: chunks as they arrive. Errors from the body (a client
/// that went away, a body limit) abort the upload; a [`baas_core::Error`] inside keeps
/// its kind.
pub type PutBody = BoxStream<'static, Result<Bytes, BoxError>>;

/// An object's bytes being downloaded, streamed from the backend.
pub type ByteStream = BoxStream<'static, Result<Bytes, Error>>;

/// What is known about a stored object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobMeta {
    /// The key, as given by the tenant.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// The content type given at upload.
    pub content_type: String,
    /// SHA-256 of the bytes, lowercase hex (also the HTTP `ETag`).
    pub sha256: String,
    /// When this version of the object was stored.
    pub created_at: SystemTime,
    /// An opaque id of this stored version, new with every put: where its bytes live in
    /// the object store. Empty for objects stored before versions existed.
    pub version: String,
}

/// The result of a [`BlobStore::put`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutOutcome {
    /// The stored object's metadata.
    pub meta: BlobMeta,
    /// `true` when the key was new, `false` when an existing object was replaced.
    pub created: bool,
}

/// One byte range of an object, as in an HTTP `Range: bytes=…` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// `first-last`, both inclusive (`bytes=0-99` is the first 100 bytes).
    FromTo(u64, u64),
    /// `first-`: from `first` to the end.
    From(u64),
    /// `-n`: the last `n` bytes.
    Suffix(u64),
}

impl ByteRange {
    /// The half-open range of an object of `size` bytes this selects, or `None` when it
    /// is unsatisfiable (HTTP 416). A range running past the end is cut at the end.
    ///
    /// ```
    /// use baas_store::blob::ByteRange;
    /// assert_eq!(ByteRange::FromTo(2, 4).resolve(10), Some(2..5));
    /// assert_eq!(ByteRange::FromTo(8, 99).resolve(10), Some(8..10));
    /// assert_eq!(ByteRange::From(3).resolve(10), Some(3..10));
    /// assert_eq!(ByteRange::Suffix(4).resolve(10), Some(6..10));
    /// assert_eq!(ByteRange::Suffix(40).resolve(10), Some(0..10));
    /// assert_eq!(ByteRange::From(10).resolve(10), None);
    /// assert_eq!(ByteRange::Suffix(0).resolve(10), None);
    /// ```
    pub fn resolve(self, size: u64) -> Option<Range<u64>> {
        match self {
            ByteRange::FromTo(first, last) if first <= last && first < size => {
                Some(first..last.saturating_add(1).min(size))
            }
            ByteRange::From(first) if first < size => Some(first..size),
            ByteRange::Suffix(n) if n > 0 && size > 0 => Some(size.saturating_sub(n)..size),
            _ => None,
        }
    }
}

/// An object being read: its metadata, the byte range served, and the bytes.
pub struct BlobBody {
    /// The object's metadata (size is the whole object's).
    pub meta: BlobMeta,
    /// The half-open range of bytes in `body`; `0..size` for a whole object.
    pub range: Range<u64>,
    /// Whether a range was asked for and served (HTTP 206).
    pub partial: bool,
    /// The bytes.
    pub body: ByteStream,
}

impl fmt::Debug for BlobBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlobBody")
            .field("meta", &self.meta)
            .field("range", &self.range)
            .field("partial", &self.partial)
            .finish_non_exhaustive()
    }
}

impl BlobBody {
    /// Collect the whole body into memory (tests and small objects only).
    pub async fn bytes(self) -> Result<Bytes, Error> {
        use futures::TryStreamExt as _;
        let chunks: Vec<Bytes> = self.body.try_collect().await?;
        Ok(chunks.concat().into())
    }
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPage {
    /// The objects, in key order.
    pub items: Vec<BlobMeta>,
    /// Pass this back as `cursor` for the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// How a signed URL is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignedUrlKind {
    /// Presigned by the object store itself (S3): absolute, served by the store.
    Presigned,
    /// HMAC-signed by baas: root-relative, checked by
    /// [`BlobStore::verify_signed_url`] on any process sharing the master key.
    Hmac,
}

/// A URL that lets anyone without credentials GET one object until it expires.
///
/// It is a bearer credential: its `Debug` shows the URL without its query (where the
/// signature is), so it can be logged.
#[derive(Clone, PartialEq, Eq)]
pub struct SignedUrl {
    /// The URL (absolute when presigned, root-relative when HMAC-signed).
    pub url: String,
    /// When it stops working.
    pub expires_at: SystemTime,
    /// How it is checked.
    pub kind: SignedUrlKind,
}

impl fmt::Debug for SignedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = match self.url.split_once('?') {
            Some((path, _)) => format!("{path}?[REDACTED]"),
            None => self.url.clone(),
        };
        f.debug_struct("SignedUrl")
            .field("url", &shown)
            .field("expires_at", &self.expires_at)
            .field("kind", &self.kind)
            .finish()
    }
}

/// The size limits a store enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlobLimits {
    /// The largest object accepted (`BAAS_MAX_OBJECT_BYTES`); larger uploads fail with
    /// `PayloadTooLarge` and leave nothing behind.
    pub max_object_bytes: u64,
    /// The bytes one tenant may store in all (`BAAS_TENANT_QUOTA_BYTES`); an upload that
    /// would cross it fails with `QuotaExceeded` and leaves nothing behind.
    pub tenant_quota_bytes: u64,
}

impl Default for BlobLimits {
    /// API.md's defaults: 100 MiB per object (`BAAS_MAX_OBJECT_BYTES`), 10 GiB per
    /// tenant (`BAAS_TENANT_QUOTA_BYTES`).
    fn default() -> Self {
        BlobLimits {
            max_object_bytes: 100 << 20,
            tenant_quota_bytes: 10 << 30,
        }
    }
}

/// A tenant's byte usage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usage {
    /// Bytes of stored objects.
    pub bytes_used: u64,
    /// Bytes held by uploads in progress.
    pub bytes_reserved: u64,
}

/// The longest expiry of a signed URL: 7 days.
pub const MAX_SIGNED_URL_EXPIRY: Duration = Duration::from_secs(604_800);

/// The most items one [`BlobStore::list`] page returns.
pub const MAX_LIST_LIMIT: usize = 1000;

/// Tenant-scoped object storage with streaming, quotas and signed URLs.
///
/// # Guarantees
///
/// - **Isolation**: every method takes the tenant; a key never reaches another
///   tenant's objects, whatever its bytes ([`validate_key`](super::validate_key)).
/// - **Streaming**: `put` and `get` never hold a whole object in memory.
/// - **All or nothing**: a `put` either stores the whole object (replacing any previous
///   one atomically) or leaves the key as it was — on a bad key, a body error, the size
///   limit, the quota or a failing backend. A failed replace never loses the old object.
/// - **Races**: concurrent puts and deletes of one key end with the ledger and the
///   stored bytes agreeing: the key holds the last committed put, or nothing after the
///   last delete. (A backend may delete the bytes of a replaced version in the
///   background after the put has answered; no read through the store reaches them
///   meanwhile.)
/// - **Quota**: concurrent uploads of one tenant never together exceed
///   [`BlobLimits::tenant_quota_bytes`]. A replacement is measured against the quota
///   with the object it replaces credited: replacing an object by one of the same size
///   at a full quota succeeds.
/// - **Listing**: keys in byte order, an opaque cursor, every key present for the whole
///   listing returned exactly once.
#[async_trait]
pub trait BlobStore: Send + Sync + fmt::Debug {
    /// Store `body` under `key`, streaming, hashing and counting the bytes.
    ///
    /// Errors: `Malformed` (bad key or content type), `PayloadTooLarge`,
    /// `QuotaExceeded`, the body's own error, `Unavailable`.
    async fn put(
        &self,
        tenant: &TenantId,
        key: &str,
        content_type: &str,
        body: PutBody,
    ) -> Result<PutOutcome, Error>;

    /// Read an object, or one byte range of it. A missing object is `NotFound`; an
    /// unsatisfiable range is an error of kind `Invalid` carrying
    /// [`BlobError::RangeNotSatisfiable`](super::BlobError::RangeNotSatisfiable) with
    /// the object's size (find it with [`BlobError::find`](super::BlobError::find) to
    /// answer 416).
    async fn get(
        &self,
        tenant: &TenantId,
        key: &str,
        range: Option<ByteRange>,
    ) -> Result<BlobBody, Error>;

    /// An object's metadata; `NotFound` when absent.
    async fn head(&self, tenant: &TenantId, key: &str) -> Result<BlobMeta, Error>;

    /// Delete an object. Returns whether it existed; deleting nothing is not an error.
    async fn delete(&self, tenant: &TenantId, key: &str) -> Result<bool, Error>;

    /// List objects whose key starts with `prefix`, in key order, at most `limit`
    /// (1–[`MAX_LIST_LIMIT`]) per page, continuing after `cursor`.
    async fn list(
        &self,
        tenant: &TenantId,
        prefix: &str,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<ListPage, Error>;

    /// A URL that GETs the object without credentials for `expires_in` (1 s–7 days,
    /// else `Invalid`). An HMAC-signed URL may name an object that does not exist yet;
    /// a presigned one names the current version (`NotFound` when there is none).
    async fn signed_url(
        &self,
        tenant: &TenantId,
        key: &str,
        expires_in: Duration,
    ) -> Result<SignedUrl, Error>;

    /// Check an HMAC-signed URL's parts (see
    /// [`SignedUrlParts::parse`](super::SignedUrlParts::parse)). `Forbidden` when
    /// expired, tampered with, or this store does not sign URLs itself.
    async fn verify_signed_url(
        &self,
        tenant: &TenantId,
        key: &str,
        expires: u64,
        signature: &str,
    ) -> Result<(), Error>;

    /// A tenant's byte usage.
    async fn usage(&self, tenant: &TenantId) -> Result<Usage, Error>;

    /// The limits this store enforces.
    fn limits(&self) -> BlobLimits;
}

/// A blob store chosen at run time.
pub type DynBlobStore = dyn BlobStore;

fn _object_safe(_: Box<dyn BlobStore>) {}

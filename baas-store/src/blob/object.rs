//! [`ObjectBlobStore`]: a [`BlobStore`] over any `object_store` backend — local files
//! (the default), memory, or S3 (feature `s3`) — with metadata and quota in a
//! [`BlobLedger`].

use std::fmt;
use std::ops::Range;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use baas_core::{Error, ErrorKind, TenantId};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use futures::{StreamExt as _, TryStreamExt as _};
use object_store::path::Path;
use object_store::{
    GetOptions, GetRange, GetResultPayload, ObjectStore, ObjectStoreExt as _, PutPayload,
    WriteMultipart,
};
use sha2::{Digest as _, Sha256};

use super::cache::BlobCache;
use super::discard::{Discards, delete_quietly};
use super::error::{BlobError, from_object_store};
use super::key::{
    data_path, new_version, validate_content_type, validate_key, validate_prefix, version_path,
};
use super::quota::{BlobLedger, Committed, MemoryBlobLedger, Reservation};
use super::signed_url::{UrlSigner, validate_expiry};
use super::store::{
    BlobBody, BlobLimits, BlobMeta, BlobStore, ByteRange, ByteStream, ListPage, MAX_LIST_LIMIT,
    PutBody, PutOutcome, SignedUrl, Usage,
};

/// Bytes buffered before an upload switches from one `put` to a multipart upload, and
/// the size of each part: 8 MiB (S3 needs at least 5 MiB per part but the last).
pub const DEFAULT_PART_SIZE: usize = 8 << 20;

/// How far ahead of the streamed bytes the quota is reserved: 8 MiB.
pub const DEFAULT_RESERVE_STEP: u64 = 8 << 20;

/// Parts uploaded concurrently by one multipart upload.
const PART_CONCURRENCY: usize = 2;

/// Chunk size for reading local files.
const FILE_CHUNK: u64 = 256 << 10;

/// Reads of at most this many bytes fetch the range whole instead of streaming it.
const SMALL_READ: u64 = 64 << 10;

/// A [`BlobStore`] over an [`ObjectStore`].
///
/// Every put writes a new version at `tenants/<tenant>/blobs/<shard>/<version>`; the metadata
/// (size, content type, SHA-256, time, version) and the tenant's usage live in the
/// [`BlobLedger`], which is the source of truth for `head`, `get` and `list`. The
/// ledger's commit is the one atomic step that makes a version current; whoever
/// unlinks a version from the ledger (a replacing put, a delete) deletes its bytes. So
/// a failed replace never touches the old object, and puts and deletes of one key
/// racing on any number of processes leave the ledger and the bytes agreeing (a crash
/// between the write and the commit can leave unreferenced bytes, never a dangling
/// entry). A delete removes the bytes before it returns; a replacing put answers
/// once its commit is done and deletes the replaced version in the background (no read
/// through the store can reach it any more): [`wait_for_discards`](Self::wait_for_discards)
/// waits for those deletions, as a process should before it exits.
///
/// An upload streams: the first part is buffered (up to the part size); a small object
/// is then written with one `put` and committed with a quota check (one ledger
/// transaction, no reservation round trip), a larger one with
/// a multipart upload that reserves quota as it goes and whose staged parts are
/// discarded if anything fails. Reservations of a process that dies mid-upload expire
/// after [`with_reservation_lease`](Self::with_reservation_lease) (run
/// [`spawn_reconciler`]).
///
/// With S3, signed URLs are presigned for the current version: after a delete, an older
/// URL answers 404; after a replace, once the replaced version's background deletion
/// is done.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), baas_core::Error> {
/// use std::sync::Arc;
/// use baas_core::{ManualClock, MasterKey, TenantId};
/// use baas_store::blob::{BlobStore, ObjectBlobStore, UrlSigner, body_from_bytes};
///
/// let signer = UrlSigner::new(&MasterKey::generate(), ManualClock::new().shared());
/// let store = ObjectBlobStore::memory(signer);
/// let tenant = TenantId::new("acme")?;
///
/// let put = store.put(&tenant, "hello.txt", "text/plain", body_from_bytes("hi!")).await?;
/// assert!(put.created);
/// let got = store.get(&tenant, "hello.txt", None).await?;
/// assert_eq!(got.meta.content_type, "text/plain");
/// assert_eq!(&got.bytes().await?[..], b"hi!");
/// # Ok(())
/// # }
/// ```
pub struct ObjectBlobStore {
    store: Arc<dyn ObjectStore>,
    ledger: Arc<dyn BlobLedger>,
    signer: UrlSigner,
    #[cfg(feature = "s3")]
    presigner: Option<Arc<dyn object_store::signer::Signer>>,
    limits: BlobLimits,
    part_size: usize,
    reserve_step: u64,
    reservation_lease: Duration,
    discards: Discards,
    cache: Option<Arc<BlobCache>>,
    backend: &'static str,
}

impl fmt::Debug for ObjectBlobStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectBlobStore")
            .field("store", &self.store.to_string())
            .field("ledger", &self.ledger)
            .field("limits", &self.limits)
            .field("part_size", &self.part_size)
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

impl ObjectBlobStore {
    /// A store over `store`, accounting in `ledger`, signing URLs with `signer`.
    pub fn new(
        store: Arc<dyn ObjectStore>,
        ledger: Arc<dyn BlobLedger>,
        signer: UrlSigner,
    ) -> Self {
        ObjectBlobStore {
            store,
            ledger,
            signer,
            #[cfg(feature = "s3")]
            presigner: None,
            limits: BlobLimits::default(),
            part_size: DEFAULT_PART_SIZE,
            reserve_step: DEFAULT_RESERVE_STEP,
            reservation_lease: DEFAULT_RESERVATION_LEASE,
            discards: Discards::default(),
            cache: None,
            backend: "object_store",
        }
    }

    /// Objects and ledger in memory, for tests and development.
    pub fn memory(signer: UrlSigner) -> Self {
        let mut store = Self::new(
            Arc::new(object_store::memory::InMemory::new()),
            Arc::new(MemoryBlobLedger::new()),
            signer,
        );
        store.backend = "memory";
        store
    }

    /// Objects as files under `root` (created if missing), accounting in `ledger`.
    pub fn local(
        root: impl AsRef<std::path::Path>,
        ledger: Arc<dyn BlobLedger>,
        signer: UrlSigner,
    ) -> Result<Self, Error> {
        let root = root.as_ref();
        std::fs::create_dir_all(root).map_err(|e| {
            Error::new(ErrorKind::Unavailable, "cannot create the object directory").with_source(e)
        })?;
        let fs = object_store::local::LocalFileSystem::new_with_prefix(root)
            .map_err(from_object_store)?;
        let mut store = Self::new(Arc::new(fs), ledger, signer);
        store.backend = "local";
        Ok(store)
    }

    /// Objects in S3 (or an S3-compatible server); signed URLs are presigned by S3.
    #[cfg(feature = "s3")]
    #[cfg_attr(docsrs, doc(cfg(feature = "s3")))]
    pub fn s3(
        s3: object_store::aws::AmazonS3,
        ledger: Arc<dyn BlobLedger>,
        signer: UrlSigner,
    ) -> Self {
        let presigner: Arc<dyn object_store::signer::Signer> = Arc::new(s3.clone());
        let mut store = Self::new(Arc::new(s3), ledger, signer).with_presigner(Some(presigner));
        store.backend = "s3";
        store
    }

    /// Have `presigner` (the object store's own signer, such as S3's) make signed URLs
    /// instead of HMAC; `None` goes back to HMAC.
    #[cfg(feature = "s3")]
    #[cfg_attr(docsrs, doc(cfg(feature = "s3")))]
    pub fn with_presigner(
        mut self,
        presigner: Option<Arc<dyn object_store::signer::Signer>>,
    ) -> Self {
        self.presigner = presigner;
        self
    }

    /// Set the size limits.
    pub fn with_limits(mut self, limits: BlobLimits) -> Self {
        self.limits = limits;
        self
    }

    /// Set the part size of multipart uploads (at least 5 MiB on S3), which is also the
    /// most bytes an upload buffers before deciding between one `put` and multipart.
    pub fn with_part_size(mut self, bytes: usize) -> Self {
        self.part_size = bytes.max(1);
        self
    }

    /// Set how far ahead of the streamed bytes quota is reserved (fewer ledger writes
    /// for big uploads; a reservation that does not fit falls back to the exact bytes).
    pub fn with_reserve_step(mut self, bytes: u64) -> Self {
        self.reserve_step = bytes.max(1);
        self
    }

    /// Keep the bytes of small objects (up to [`MAX_CACHED_OBJECT_BYTES`](crate::blob::MAX_CACHED_OBJECT_BYTES) each) that
    /// are read, up to `capacity` bytes in all, so reading them again skips the object
    /// store: no blocking file read on local files, no request on S3. `0` turns it off
    /// (the default).
    ///
    /// Entries never go stale: every put writes a new version, the cache holds versions,
    /// and the ledger still decides on every read which version a key has — so a
    /// replace or a delete on another process of the installation shows at once. Hits
    /// and misses are counted in `baas_blob_cache_lookups_total`.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use baas_core::{ManualClock, MasterKey};
    /// # use baas_store::blob::{MemoryBlobLedger, ObjectBlobStore, UrlSigner};
    /// # fn main() -> Result<(), baas_core::Error> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let signer = UrlSigner::new(&MasterKey::generate(), ManualClock::new().shared());
    /// let store = ObjectBlobStore::local(dir.path(), Arc::new(MemoryBlobLedger::new()), signer)?
    ///     .with_cache(32 << 20);
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_cache(mut self, capacity: u64) -> Self {
        self.cache = (capacity > 0).then(|| Arc::new(BlobCache::new(capacity)));
        self
    }

    /// Drop the bytes of a version no key reaches any more from the cache.
    fn forget(&self, path: &Path) {
        if let Some(cache) = &self.cache {
            cache.remove(path);
        }
    }

    /// The ledger.
    pub fn ledger(&self) -> &Arc<dyn BlobLedger> {
        &self.ledger
    }

    /// The underlying object store.
    pub fn object_store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// Set how long an upload's quota reservation outlives its last step: a process
    /// that dies mid-upload holds the bytes until then (see [`spawn_reconciler`]).
    pub fn with_reservation_lease(mut self, lease: Duration) -> Self {
        self.reservation_lease = lease;
        self
    }

    /// Give back the quota reservations of uploads whose process died (their lease
    /// ran out). Returns how many were released. [`spawn_reconciler`] runs this
    /// periodically.
    pub async fn reconcile(&self) -> Result<u64, Error> {
        let released = self
            .ledger
            .expire_reservations(self.signer.clock().now())
            .await?;
        if released > 0 {
            tracing::info!(released, "expired blob quota reservations released");
        }
        Ok(released)
    }

    /// Wait until the bytes of every version replaced so far are deleted. A put
    /// deletes the version it replaced in the background, after it has answered
    /// (see [`put`](BlobStore::put)); call this before the process exits (or before
    /// inspecting the object store directly), else a replaced version whose deletion
    /// was cut short stays behind as unreferenced bytes.
    pub async fn wait_for_discards(&self) {
        self.discards.wait().await;
    }

    /// Stream `body` to `path` as a multipart upload, reserving quota as it goes.
    /// `first` holds the chunks already read (`size` bytes). On failure the staged
    /// parts are aborted and nothing is left at `path`.
    #[allow(clippy::too_many_arguments)]
    async fn upload_multipart(
        &self,
        tenant: &TenantId,
        path: &Path,
        first: Vec<Bytes>,
        mut body: PutBody,
        mut size: u64,
        hasher: &mut Sha256,
        reservation: &mut Reservation,
    ) -> Result<u64, Error> {
        match reservation.ensure(size).await {
            Ok(true) => {}
            Ok(false) => return Err(quota_exceeded()),
            Err(err) => return Err(err),
        }
        let upload = self
            .store
            .put_multipart(path)
            .await
            .map_err(from_object_store)?;
        let mut upload = WriteMultipart::new_with_chunk_size(upload, self.part_size);
        for chunk in first {
            upload.put(chunk);
        }
        let failure = loop {
            let chunk = match body.next().await {
                None => break None,
                Some(Ok(chunk)) => chunk,
                Some(Err(err)) => break Some(Error::from_boxed(err)),
            };
            if chunk.is_empty() {
                continue;
            }
            size += chunk.len() as u64;
            if size > self.limits.max_object_bytes {
                break Some(too_large(self.limits.max_object_bytes));
            }
            match reservation.ensure(size).await {
                Ok(true) => {}
                Ok(false) => break Some(quota_exceeded()),
                Err(err) => break Some(err),
            }
            hasher.update(&chunk);
            if let Err(err) = upload.wait_for_capacity(PART_CONCURRENCY).await {
                break Some(from_object_store(err));
            }
            upload.put(chunk);
        };
        if let Some(err) = failure {
            if let Err(abort) = upload.abort().await {
                tracing::warn!(tenant = %tenant, error = %abort, "could not abort a multipart upload");
            }
            return Err(err);
        }
        upload.finish().await.map_err(from_object_store)?;
        Ok(size)
    }
}

fn quota_exceeded() -> Error {
    Error::new(
        ErrorKind::QuotaExceeded,
        "the tenant's storage quota would be exceeded",
    )
}

fn too_large(max: u64) -> Error {
    Error::new(
        ErrorKind::PayloadTooLarge,
        format!("object is larger than {max} bytes"),
    )
}

/// Run [`ObjectBlobStore::reconcile`] every `interval` (at once, then periodically)
/// until the handle is aborted, so quota held by uploads of a crashed process comes
/// back once their lease runs out. Failures are logged and retried next time.
pub fn spawn_reconciler(
    store: Arc<ObjectBlobStore>,
    interval: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if let Err(err) = store.reconcile().await {
                tracing::warn!(error = ?err, "blob reconciliation failed; retrying later");
            }
        }
    })
}

/// How long a quota reservation outlives its upload's last step by default: 1 hour.
pub const DEFAULT_RESERVATION_LEASE: Duration = Duration::from_secs(3600);

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

fn encode_cursor(key: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("k1:{key}"))
}

fn decode_cursor(cursor: &str) -> Result<String, Error> {
    let bad = || Error::new(ErrorKind::Malformed, "invalid cursor").with_field("cursor", "invalid");
    let raw = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    text.strip_prefix("k1:").map(str::to_owned).ok_or_else(bad)
}

/// Stream a local file's range in large chunks off the async threads.
fn file_stream(file: std::fs::File, range: Range<u64>) -> ByteStream {
    use std::io::{Read as _, Seek as _, SeekFrom};
    let state = (file, range.start, range.end, false);
    futures::stream::try_unfold(state, |(mut file, pos, end, seeked)| async move {
        if pos >= end {
            return Ok(None);
        }
        let want = (end - pos).min(FILE_CHUNK) as usize;
        let (file, buf) = tokio::task::spawn_blocking(move || {
            if !seeked {
                file.seek(SeekFrom::Start(pos))?;
            }
            let mut buf = vec![0u8; want];
            file.read_exact(&mut buf)?;
            Ok::<_, std::io::Error>((file, buf))
        })
        .await
        .map_err(|e| Error::internal("file read task failed").with_source(e))?
        .map_err(|e| {
            Error::new(ErrorKind::Unavailable, "object file could not be read").with_source(e)
        })?;
        let next = pos + buf.len() as u64;
        Ok(Some((Bytes::from(buf), (file, next, end, true))))
    })
    .boxed()
}

#[async_trait]
impl BlobStore for ObjectBlobStore {
    #[tracing::instrument(name = "blob.put", skip(self, body), fields(tenant = %tenant))]
    async fn put(
        &self,
        tenant: &TenantId,
        key: &str,
        content_type: &str,
        mut body: PutBody,
    ) -> Result<PutOutcome, Error> {
        crate::telemetry::observed(self.backend, "blob.put", async {
            validate_key(key)?;
            validate_content_type(content_type)?;
            // Every put writes its own version; the ledger commit makes it current.
            let version = new_version();
            let path = version_path(tenant, &version);
            let quota = self.limits.tenant_quota_bytes;

            // Read up to one part into memory: a small object is then known whole before
            // anything is written.
            let mut hasher = Sha256::new();
            let mut size: u64 = 0;
            let mut first: Vec<Bytes> = Vec::new();
            let mut complete = false;
            loop {
                let chunk = match body.next().await {
                    None => {
                        complete = true;
                        break;
                    }
                    Some(Ok(chunk)) => chunk,
                    Some(Err(err)) => return Err(Error::from_boxed(err)),
                };
                if chunk.is_empty() {
                    continue;
                }
                size += chunk.len() as u64;
                if size > self.limits.max_object_bytes {
                    return Err(too_large(self.limits.max_object_bytes));
                }
                hasher.update(&chunk);
                first.push(chunk);
                if size >= self.part_size as u64 {
                    break;
                }
            }

            let mut reservation = None;
            if complete {
                let payload: PutPayload = first.into_iter().collect();
                self.store
                    .put(&path, payload)
                    .await
                    .map_err(from_object_store)?;
            } else {
                // A large object streams as a multipart upload, reserving quota as it
                // goes, with the object it replaces credited.
                let credit = self.ledger.get(tenant, key).await?.map_or(0, |m| m.size);
                let mut held = Reservation::new(
                    self.ledger.clone(),
                    tenant.clone(),
                    quota.saturating_add(credit),
                    self.reserve_step,
                    self.reservation_lease,
                    self.signer.clock().clone(),
                );
                match self
                    .upload_multipart(tenant, &path, first, body, size, &mut hasher, &mut held)
                    .await
                {
                    Ok(total) => size = total,
                    Err(err) => {
                        held.release().await?;
                        return Err(err);
                    }
                }
                reservation = Some(held);
            }

            let meta = BlobMeta {
                key: key.to_owned(),
                size,
                content_type: content_type.to_owned(),
                sha256: hex(&hasher.finalize()),
                created_at: self.signer.clock().now(),
                version,
            };
            let committed = match reservation.as_mut() {
                Some(held) => held.commit(&meta, quota).await,
                None => self.ledger.commit(tenant, &meta, None, Some(quota)).await,
            };
            let failure = match committed {
                Ok(Committed::Stored { replaced }) => {
                    if let Some(old) = &replaced {
                        // No one reaches the old version any more: its bytes go in the
                        // background, the caller does not wait for them.
                        let old_path = data_path(tenant, &old.key, &old.version);
                        self.forget(&old_path);
                        self.discards.discard(&self.store, tenant, old_path).await;
                    }
                    tracing::debug!(tenant = %tenant, key, size, "blob stored");
                    crate::telemetry::blob_bytes("in", size);
                    return Ok(PutOutcome {
                        meta,
                        created: replaced.is_none(),
                    });
                }
                Ok(Committed::OverQuota) => quota_exceeded(),
                Err(err) => err,
            };
            // Nothing is recorded: the new version is no one's, remove it. The previous
            // object (if any) is untouched.
            delete_quietly(self.store.as_ref(), tenant, &path).await;
            if let Some(mut held) = reservation {
                held.release().await?;
            }
            Err(failure)
        })
        .await
    }

    #[tracing::instrument(name = "blob.get", skip(self), fields(tenant = %tenant))]
    async fn get(
        &self,
        tenant: &TenantId,
        key: &str,
        range: Option<ByteRange>,
    ) -> Result<BlobBody, Error> {
        crate::telemetry::observed(self.backend, "blob.get", async {
            let mut retried = false;
            loop {
                let meta = self.head(tenant, key).await?;
                let resolved = match range {
                    Some(r) => Some(
                        r.resolve(meta.size)
                            .ok_or(BlobError::RangeNotSatisfiable { size: meta.size })?,
                    ),
                    None => None,
                };
                let path = data_path(tenant, key, &meta.version);
                let want = resolved.clone().unwrap_or(0..meta.size);
                if (1..=SMALL_READ).contains(&(want.end - want.start)) {
                    // Small: read it whole in one step (one blocking task on local
                    // files, one request on S3) instead of opening, then streaming —
                    // or not at all when the cache holds this version.
                    let cache = self.cache.as_ref().filter(|c| c.keeps(meta.size));
                    let bytes = match cache.and_then(|c| c.get(&path)) {
                        Some(whole) => whole,
                        None => {
                            // A cached version is read whole, whatever the range.
                            let fetch = if cache.is_some() {
                                0..meta.size
                            } else {
                                want.clone()
                            };
                            let bytes = match self
                                .store
                                .get_ranges(&path, std::slice::from_ref(&fetch))
                                .await
                            {
                                Ok(mut parts) if parts.len() == 1 => parts.remove(0),
                                Ok(_) => {
                                    return Err(Error::internal("object store returned no range"));
                                }
                                Err(object_store::Error::NotFound { .. }) if !retried => {
                                    retried = true;
                                    continue;
                                }
                                Err(err) => return Err(from_object_store(err)),
                            };
                            if bytes.len() as u64 != fetch.end - fetch.start {
                                return Err(Error::new(
                                    ErrorKind::Conflict,
                                    "object is being replaced; try again",
                                ));
                            }
                            if let Some(cache) = cache {
                                cache.insert(path.clone(), bytes.clone());
                            }
                            bytes
                        }
                    };
                    let bytes = if cache.is_some() {
                        bytes.slice(want.start as usize..want.end as usize)
                    } else {
                        bytes
                    };
                    crate::telemetry::blob_bytes("out", bytes.len() as u64);
                    return Ok(BlobBody {
                        meta,
                        range: want,
                        partial: resolved.is_some(),
                        body: futures::stream::once(futures::future::ready(Ok(bytes))).boxed(),
                    });
                }
                let options = GetOptions {
                    range: resolved.clone().map(GetRange::Bounded),
                    ..GetOptions::default()
                };
                let result = match self.store.get_opts(&path, options).await {
                    Ok(result) => result,
                    // Replaced or deleted between the ledger read and the fetch: look again.
                    Err(object_store::Error::NotFound { .. }) if !retried => {
                        retried = true;
                        continue;
                    }
                    Err(err) => return Err(from_object_store(err)),
                };
                if result.meta.size != meta.size {
                    return Err(Error::new(
                        ErrorKind::Conflict,
                        "object is being replaced; try again",
                    ));
                }
                let served = result.range.clone();
                let body = match result.payload {
                    GetResultPayload::File(file, _) => file_stream(file, served.clone()),
                    GetResultPayload::Stream(stream) => stream.map_err(from_object_store).boxed(),
                };
                crate::telemetry::blob_bytes("out", served.end - served.start);
                return Ok(BlobBody {
                    meta,
                    range: served,
                    partial: resolved.is_some(),
                    body,
                });
            }
        })
        .await
    }

    #[tracing::instrument(name = "blob.head", level = "debug", skip(self), fields(tenant = %tenant))]
    async fn head(&self, tenant: &TenantId, key: &str) -> Result<BlobMeta, Error> {
        crate::telemetry::observed(self.backend, "blob.head", async {
            validate_key(key)?;
            self.ledger
                .get(tenant, key)
                .await?
                .ok_or_else(|| Error::not_found("object not found"))
        })
        .await
    }

    #[tracing::instrument(name = "blob.delete", skip(self), fields(tenant = %tenant))]
    async fn delete(&self, tenant: &TenantId, key: &str) -> Result<bool, Error> {
        crate::telemetry::observed(self.backend, "blob.delete", async {
            validate_key(key)?;
            // The ledger decides; then the bytes of exactly the version it forgot go.
            match self.ledger.remove(tenant, key).await? {
                Some(old) => {
                    let old_path = data_path(tenant, &old.key, &old.version);
                    self.forget(&old_path);
                    delete_quietly(self.store.as_ref(), tenant, &old_path).await;
                    Ok(true)
                }
                None => Ok(false),
            }
        })
        .await
    }

    #[tracing::instrument(name = "blob.list", skip(self), fields(tenant = %tenant))]
    async fn list(
        &self,
        tenant: &TenantId,
        prefix: &str,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<ListPage, Error> {
        crate::telemetry::observed(self.backend, "blob.list", async {
            validate_prefix(prefix)?;
            if !(1..=MAX_LIST_LIMIT).contains(&limit) {
                return Err(
                    Error::new(ErrorKind::Malformed, "limit must be between 1 and 1000")
                        .with_field("limit", "must be between 1 and 1000"),
                );
            }
            let after = cursor.map(decode_cursor).transpose()?;
            let mut items = self
                .ledger
                .list(tenant, prefix, after.as_deref(), limit + 1)
                .await?;
            let next_cursor = if items.len() > limit {
                items.truncate(limit);
                items.last().map(|m| encode_cursor(&m.key))
            } else {
                None
            };
            Ok(ListPage { items, next_cursor })
        })
        .await
    }

    #[tracing::instrument(name = "blob.signed_url", skip(self), fields(tenant = %tenant))]
    async fn signed_url(
        &self,
        tenant: &TenantId,
        key: &str,
        expires_in: Duration,
    ) -> Result<SignedUrl, Error> {
        crate::telemetry::observed(self.backend, "blob.signed_url", async {
            validate_key(key)?;
            validate_expiry(expires_in)?;
            #[cfg(feature = "s3")]
            if let Some(presigner) = &self.presigner {
                // S3 serves the bytes itself: sign the current version's path.
                let meta = self.head(tenant, key).await?;
                let url = presigner
                    .signed_url(
                        object_store::signer::Method::GET,
                        &data_path(tenant, key, &meta.version),
                        expires_in,
                    )
                    .await
                    .map_err(from_object_store)?;
                return Ok(SignedUrl {
                    url: url.to_string(),
                    expires_at: self.signer.clock().now() + expires_in,
                    kind: super::store::SignedUrlKind::Presigned,
                });
            }
            self.signer.sign(tenant, key, expires_in)
        })
        .await
    }

    async fn verify_signed_url(
        &self,
        tenant: &TenantId,
        key: &str,
        expires: u64,
        signature: &str,
    ) -> Result<(), Error> {
        self.signer.verify(tenant, key, expires, signature)
    }

    async fn usage(&self, tenant: &TenantId) -> Result<Usage, Error> {
        self.ledger.usage(tenant).await
    }

    fn limits(&self) -> BlobLimits {
        self.limits
    }
}

/// A [`PutBody`] of one in-memory chunk (tests, small payloads).
pub fn body_from_bytes(bytes: impl Into<Bytes>) -> PutBody {
    futures::stream::once(futures::future::ready(Ok(bytes.into()))).boxed()
}

/// Readiness: the object store answers a `head` of a probe path (absent is fine).
#[async_trait]
impl baas_core::HealthCheck for ObjectBlobStore {
    fn name(&self) -> &str {
        "objects"
    }

    async fn check(&self) -> Result<(), Error> {
        match self.store.head(&Path::from("baas-health-probe")).await {
            Ok(_) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(err) => Err(from_object_store(err)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_junk() {
        assert_eq!(decode_cursor(&encode_cursor("a/b")).unwrap(), "a/b");
        assert_eq!(
            decode_cursor("!!").unwrap_err().kind(),
            ErrorKind::Malformed
        );
        assert_eq!(
            decode_cursor(&URL_SAFE_NO_PAD.encode("x"))
                .unwrap_err()
                .kind(),
            ErrorKind::Malformed
        );
    }

    #[test]
    fn hex_is_lowercase() {
        assert_eq!(hex(&[0xab, 0x01]), "ab01");
    }
}

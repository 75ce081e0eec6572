//! Blob stores under faults and races: a ledger that fails or stalls on purpose, and
//! uploads that die mid-way. Memory object store and memory ledger.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use baas_core::{Clock as _, Error, ErrorKind, ManualClock, MasterKey, TenantId};
use baas_store::blob::{
    BlobLedger, BlobLimits, BlobMeta, BlobStore, Committed, MemoryBlobLedger, ObjectBlobStore,
    UploadId, UrlSigner, Usage, body_from_bytes,
};
use futures::{StreamExt as _, TryStreamExt as _};
use object_store::memory::InMemory;
use object_store::{ObjectStore, ObjectStoreExt as _};

/// A memory ledger whose commits can be made to fail, or held at a gate.
#[derive(Debug, Default)]
struct Faulty {
    inner: MemoryBlobLedger,
    fail_commit: AtomicBool,
    gate: tokio::sync::Mutex<()>,
}

#[async_trait]
impl BlobLedger for Faulty {
    async fn reserve(
        &self,
        t: &TenantId,
        u: UploadId,
        b: u64,
        l: u64,
        e: SystemTime,
    ) -> Result<bool, Error> {
        self.inner.reserve(t, u, b, l, e).await
    }
    async fn release(&self, t: &TenantId, u: UploadId) -> Result<u64, Error> {
        self.inner.release(t, u).await
    }
    async fn commit(
        &self,
        t: &TenantId,
        m: &BlobMeta,
        u: Option<UploadId>,
        l: Option<u64>,
    ) -> Result<Committed, Error> {
        let _held = self.gate.lock().await;
        if self.fail_commit.load(Ordering::SeqCst) {
            return Err(Error::new(ErrorKind::Unavailable, "database down"));
        }
        self.inner.commit(t, m, u, l).await
    }
    async fn remove(&self, t: &TenantId, k: &str) -> Result<Option<BlobMeta>, Error> {
        self.inner.remove(t, k).await
    }
    async fn get(&self, t: &TenantId, k: &str) -> Result<Option<BlobMeta>, Error> {
        self.inner.get(t, k).await
    }
    async fn list(
        &self,
        t: &TenantId,
        p: &str,
        a: Option<&str>,
        l: usize,
    ) -> Result<Vec<BlobMeta>, Error> {
        self.inner.list(t, p, a, l).await
    }
    async fn usage(&self, t: &TenantId) -> Result<Usage, Error> {
        self.inner.usage(t).await
    }
    async fn expire_reservations(&self, now: SystemTime) -> Result<u64, Error> {
        self.inner.expire_reservations(now).await
    }
}

struct Fixture {
    objects: Arc<InMemory>,
    ledger: Arc<Faulty>,
    store: Arc<ObjectBlobStore>,
    clock: ManualClock,
}

fn fixture(part_size: usize) -> Fixture {
    let objects = Arc::new(InMemory::new());
    let ledger = Arc::new(Faulty::default());
    let clock = ManualClock::new();
    let signer = UrlSigner::new(&MasterKey::generate(), clock.shared());
    let store = ObjectBlobStore::new(objects.clone(), ledger.clone(), signer)
        .with_limits(BlobLimits {
            max_object_bytes: 1000,
            tenant_quota_bytes: 1000,
        })
        .with_part_size(part_size)
        .with_reservation_lease(Duration::from_secs(60));
    Fixture {
        objects,
        ledger,
        store: Arc::new(store),
        clock,
    }
}

async fn read(store: &ObjectBlobStore, t: &TenantId, key: &str) -> Vec<u8> {
    store
        .get(t, key, None)
        .await
        .unwrap_or_else(|e| panic!("get {key}: {e:?}"))
        .bytes()
        .await
        .unwrap()
        .to_vec()
}

/// Where a version's bytes are: `tenants/<t>/blobs/<shard>/<shard>.<uuid>`.
fn stored_at(t: &TenantId, version: &str) -> String {
    let (shard, _) = version.split_once('.').expect("a sharded version");
    format!("tenants/{t}/blobs/{shard}/{version}")
}

/// Every stored byte belongs to exactly the versions the ledger names.
async fn ledger_and_bytes_agree(f: &Fixture, t: &TenantId) {
    f.store.wait_for_discards().await;
    let mut stored: Vec<String> = f
        .objects
        .list(Some(&format!("tenants/{t}").into()))
        .map_ok(|m| m.location.to_string())
        .try_collect()
        .await
        .unwrap();
    stored.sort();
    let mut named: Vec<String> = f
        .store
        .list(t, "", None, 1000)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|m| stored_at(t, &m.version))
        .collect();
    named.sort();
    assert_eq!(
        stored, named,
        "the bytes stored are the versions the ledger names"
    );
    let used: u64 = f
        .store
        .list(t, "", None, 1000)
        .await
        .unwrap()
        .items
        .iter()
        .map(|m| m.size)
        .sum();
    assert_eq!(f.store.usage(t).await.unwrap().bytes_used, used);
}

#[tokio::test]
async fn a_failed_replace_keeps_the_old_object() {
    for part_size in [1 << 20, 4] {
        // One put, then multipart.
        let f = fixture(part_size);
        let t = TenantId::new("acme").unwrap();
        f.store
            .put(&t, "k", "text/plain", body_from_bytes("old bytes"))
            .await
            .unwrap();
        f.ledger.fail_commit.store(true, Ordering::SeqCst);
        let err = f
            .store
            .put(&t, "k", "text/plain", body_from_bytes("new bytes!"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unavailable);
        f.ledger.fail_commit.store(false, Ordering::SeqCst);
        assert_eq!(
            read(&f.store, &t, "k").await,
            b"old bytes",
            "part size {part_size}"
        );
        assert_eq!(f.store.usage(&t).await.unwrap().bytes_reserved, 0);
        ledger_and_bytes_agree(&f, &t).await;
    }
}

#[tokio::test]
async fn a_replace_deletes_the_old_version_once_its_clean_up_is_done() {
    for part_size in [1 << 20, 4] {
        // One put, then multipart.
        let f = fixture(part_size);
        let t = TenantId::new("acme").unwrap();
        let first = f
            .store
            .put(&t, "k", "text/plain", body_from_bytes("old bytes"))
            .await
            .unwrap();
        let second = f
            .store
            .put(&t, "k", "text/plain", body_from_bytes("new bytes!"))
            .await
            .unwrap();
        assert!(!second.created);
        assert_ne!(first.meta.version, second.meta.version);
        assert_eq!(read(&f.store, &t, "k").await, b"new bytes!");
        f.store.wait_for_discards().await;
        let old = stored_at(&t, &first.meta.version);
        let err = f.objects.head(&old.into()).await.unwrap_err();
        assert!(
            matches!(err, object_store::Error::NotFound { .. }),
            "the replaced version is gone: {err}"
        );
        ledger_and_bytes_agree(&f, &t).await;
    }
}

#[tokio::test]
async fn a_delete_racing_a_put_leaves_ledger_and_bytes_agreeing() {
    let f = fixture(1 << 20);
    let t = TenantId::new("acme").unwrap();
    f.store
        .put(&t, "k", "text/plain", body_from_bytes("v1"))
        .await
        .unwrap();
    // The replacing put writes its bytes, then stalls before its commit...
    let gate = f.ledger.gate.lock().await;
    let put = {
        let (store, t) = (f.store.clone(), t.clone());
        tokio::spawn(async move {
            store
                .put(&t, "k", "text/plain", body_from_bytes("v2"))
                .await
        })
    };
    for _ in 0..50 {
        tokio::task::yield_now().await;
    }
    // ...while a delete runs to completion.
    assert!(f.store.delete(&t, "k").await.unwrap());
    drop(gate);
    put.await
        .unwrap()
        .expect("the put commits after the delete");
    assert_eq!(
        read(&f.store, &t, "k").await,
        b"v2",
        "the last commit wins, with its bytes"
    );
    ledger_and_bytes_agree(&f, &t).await;

    assert!(f.store.delete(&t, "k").await.unwrap());
    ledger_and_bytes_agree(&f, &t).await;
    assert_eq!(f.store.usage(&t).await.unwrap(), Usage::default());
}

#[tokio::test]
async fn a_crashed_upload_gives_its_reservation_back_when_it_expires() {
    let f = fixture(4);
    let t = TenantId::new("acme").unwrap();
    // A multipart upload that has streamed some bytes, then its process "dies": the
    // future is leaked, so nothing runs its drop-time release.
    let body = futures::stream::iter(vec![Ok(bytes::Bytes::from_static(b"0123456789"))])
        .chain(futures::stream::pending())
        .boxed();
    let mut put = Box::pin(f.store.put(&t, "k", "text/plain", body));
    assert!(
        tokio::time::timeout(Duration::from_millis(20), &mut put)
            .await
            .is_err()
    );
    #[allow(clippy::mem_forget)] // a process that dies runs no destructors: the point here
    std::mem::forget(put);
    let held = f.store.usage(&t).await.unwrap().bytes_reserved;
    assert!(held >= 10, "the upload held {held} bytes");

    assert_eq!(f.store.reconcile().await.unwrap(), 0, "not expired yet");
    assert_eq!(f.store.usage(&t).await.unwrap().bytes_reserved, held);
    f.clock.advance(Duration::from_secs(61));
    assert_eq!(f.store.reconcile().await.unwrap(), 1);
    assert_eq!(f.store.usage(&t).await.unwrap(), Usage::default());
    // The whole quota is usable again.
    f.store
        .put(&t, "full", "text/plain", body_from_bytes(vec![7u8; 1000]))
        .await
        .expect("the quota is free again");
}

#[tokio::test(start_paused = true)]
async fn the_reconciler_runs_periodically() {
    let f = fixture(4);
    let t = TenantId::new("acme").unwrap();
    let upload = uuid::Uuid::now_v7();
    let soon = f.clock.now() + Duration::from_secs(1);
    assert!(f.ledger.reserve(&t, upload, 100, 1000, soon).await.unwrap());
    f.clock.advance(Duration::from_secs(2));
    let task = baas_store::blob::spawn_reconciler(f.store.clone(), Duration::from_secs(30));
    for _ in 0..100 {
        if f.store.usage(&t).await.unwrap().bytes_reserved == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(f.store.usage(&t).await.unwrap().bytes_reserved, 0);
    task.abort();
}

//! The BlobStore suite on object_store's memory and local-file backends, with the
//! memory ledger.

use std::sync::Arc;

use baas_core::{ErrorKind, ManualClock, MasterKey, TenantId};
use baas_store::blob::testing::{SUITE_LIMITS, blob_store_suite, chunked, fresh_tenant};
use baas_store::blob::{BlobStore, MemoryBlobLedger, ObjectBlobStore, UrlSigner};

fn signer(clock: &ManualClock) -> UrlSigner {
    UrlSigner::new(&MasterKey::generate(), clock.shared())
}

#[tokio::test]
async fn memory_store_passes_the_suite() {
    let clock = ManualClock::new();
    let store = ObjectBlobStore::memory(signer(&clock))
        .with_limits(SUITE_LIMITS)
        .with_part_size(512);
    blob_store_suite(&store, &|d| clock.advance(d)).await;
}

#[tokio::test]
async fn memory_store_with_big_parts_passes_the_suite() {
    // Every object fits one part: the single-put path.
    let clock = ManualClock::new();
    let store = ObjectBlobStore::memory(signer(&clock)).with_limits(SUITE_LIMITS);
    blob_store_suite(&store, &|d| clock.advance(d)).await;
}

fn local(dir: &std::path::Path, clock: &ManualClock) -> ObjectBlobStore {
    ObjectBlobStore::local(dir, Arc::new(MemoryBlobLedger::new()), signer(clock))
        .expect("local store")
        .with_limits(SUITE_LIMITS)
        .with_part_size(512)
        .with_reserve_step(700)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_files_pass_the_suite_and_leave_no_staging_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new();
    let store = local(dir.path(), &clock);
    blob_store_suite(&store, &|d| clock.advance(d)).await;
    // Aborted uploads leave no staging files (object_store stages as `<name>#<n>`).
    tokio::task::yield_now().await;
    let leftovers: Vec<_> = walk(dir.path())
        .into_iter()
        .filter(|p| p.to_string_lossy().contains('#'))
        .collect();
    assert!(leftovers.is_empty(), "staging files left: {leftovers:?}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read_dir") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[tokio::test]
async fn local_files_stay_under_the_tenant_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new();
    let store = local(dir.path(), &clock);
    let t = TenantId::new("acme").unwrap();
    store
        .put(&t, "a/b c#?%.txt", "text/plain", chunked(b"x", 1))
        .await
        .expect("put");
    let files = walk(dir.path());
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(
        files[0].starts_with(dir.path().join("tenants/acme/blobs/")),
        "{files:?}"
    );
}

#[tokio::test]
async fn local_files_hold_a_key_below_an_object() {
    // Versions live apart from keys, so `a` and `a/b` are both fine on local files.
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new();
    let store = local(dir.path(), &clock);
    let t = fresh_tenant();
    store
        .put(&t, "a", "text/plain", chunked(b"xx", 1))
        .await
        .expect("put a");
    store
        .put(&t, "a/b", "text/plain", chunked(b"yyy", 1))
        .await
        .expect("put a/b");
    let usage = store.usage(&t).await.unwrap();
    assert_eq!((usage.bytes_used, usage.bytes_reserved), (5, 0));
    assert_eq!(
        &store
            .get(&t, "a", None)
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()[..],
        b"xx"
    );
    assert_eq!(
        &store
            .get(&t, "a/b", None)
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()[..],
        b"yyy"
    );
}

#[tokio::test]
async fn a_body_error_aborts_the_upload() {
    use futures::StreamExt as _;
    let clock = ManualClock::new();
    let store = ObjectBlobStore::memory(signer(&clock)).with_limits(SUITE_LIMITS);
    let t = fresh_tenant();
    let body = futures::stream::iter(vec![
        Ok(bytes::Bytes::from_static(b"partial")),
        Err(baas_core::Error::new(ErrorKind::PayloadTooLarge, "body limit").into()),
    ])
    .boxed();
    let err = store.put(&t, "k", "text/plain", body).await.unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::PayloadTooLarge,
        "the body's kind is kept"
    );
    assert_eq!(
        store.head(&t, "k").await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(store.usage(&t).await.unwrap(), Default::default());
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_upload_releases_its_reservation() {
    use futures::StreamExt as _;
    let clock = ManualClock::new();
    // Parts of 2 bytes: the upload streams (and reserves) from its first chunk.
    let store = ObjectBlobStore::memory(signer(&clock))
        .with_limits(SUITE_LIMITS)
        .with_part_size(2);
    let t = fresh_tenant();
    // A body that yields one chunk and then never ends.
    let body = futures::stream::iter(vec![Ok(bytes::Bytes::from_static(b"abc"))])
        .chain(futures::stream::pending())
        .boxed();
    let put = store.put(&t, "k", "text/plain", body);
    let mut put = Box::pin(put);
    let timed = tokio::time::timeout(std::time::Duration::from_millis(50), &mut put).await;
    assert!(timed.is_err(), "the upload cannot finish");
    assert!(
        store.usage(&t).await.unwrap().bytes_reserved > 0,
        "the upload holds a reservation"
    );
    drop(put);
    // The dropped upload's reservation is released by a spawned task.
    for _ in 0..100 {
        if store.usage(&t).await.unwrap().bytes_reserved == 0 {
            break;
        }
        tokio::task::yield_now().await;
    }
    assert_eq!(store.usage(&t).await.unwrap(), Default::default());
}

#[tokio::test]
async fn health_check_answers() {
    use baas_core::HealthCheck as _;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = local(dir.path(), &ManualClock::new());
    assert_eq!(store.name(), "objects");
    store.check().await.expect("local files answer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_files_with_a_cache_pass_the_suite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new();
    let store = local(dir.path(), &clock).with_cache(1 << 20);
    blob_store_suite(&store, &|d| clock.advance(d)).await;
}

/// A store over `dir` and `ledger` with a cache of `cache` bytes (0: none): several of
/// them over one directory and ledger are the processes of one installation.
fn sharing(
    dir: &std::path::Path,
    ledger: &Arc<MemoryBlobLedger>,
    clock: &ManualClock,
    cache: u64,
) -> ObjectBlobStore {
    ObjectBlobStore::local(dir, ledger.clone(), signer(clock))
        .expect("local store")
        .with_limits(SUITE_LIMITS)
        .with_cache(cache)
}

async fn read_all(store: &ObjectBlobStore, t: &TenantId, key: &str) -> Result<Vec<u8>, ErrorKind> {
    let got = store.get(t, key, None).await.map_err(|e| e.kind())?;
    Ok(got.bytes().await.map_err(|e| e.kind())?.to_vec())
}

#[tokio::test]
async fn a_cached_object_is_read_once_from_the_files_and_its_ranges_from_memory() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new();
    let ledger = Arc::new(MemoryBlobLedger::new());
    let store = |cache: u64| sharing(dir.path(), &ledger, &clock, cache);
    let (cached, uncached) = (store(1 << 20), store(0));
    let t = fresh_tenant();
    cached
        .put(&t, "k", "text/plain", chunked(b"hello world", 4))
        .await
        .expect("put");
    assert_eq!(read_all(&cached, &t, "k").await.unwrap(), b"hello world");
    // Take the bytes away behind the stores' backs: what is served now is the cache's.
    for file in walk(dir.path()) {
        std::fs::remove_file(file).expect("remove");
    }
    assert_eq!(read_all(&cached, &t, "k").await.unwrap(), b"hello world");
    let part = cached
        .get(&t, "k", Some(baas_store::blob::ByteRange::FromTo(6, 10)))
        .await
        .expect("ranged get");
    assert!(part.partial);
    assert_eq!(&part.bytes().await.unwrap()[..], b"world");
    // The same ledger without a cache goes to the files and finds nothing.
    assert!(read_all(&uncached, &t, "k").await.is_err());
}

#[tokio::test]
async fn a_cache_never_serves_a_replaced_or_deleted_object_even_from_another_process() {
    // Two stores over one directory and one ledger: two processes of an installation.
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = ManualClock::new();
    let ledger = Arc::new(MemoryBlobLedger::new());
    let process = |cache: u64| sharing(dir.path(), &ledger, &clock, cache);
    let (a, b) = (process(1 << 20), process(1 << 20));
    let t = fresh_tenant();
    a.put(&t, "k", "text/plain", chunked(b"first", 2))
        .await
        .expect("put");
    assert_eq!(read_all(&a, &t, "k").await.unwrap(), b"first");
    assert_eq!(read_all(&b, &t, "k").await.unwrap(), b"first");

    b.put(&t, "k", "text/plain", chunked(b"second!", 3))
        .await
        .expect("replace on b");
    assert_eq!(read_all(&a, &t, "k").await.unwrap(), b"second!");
    assert_eq!(read_all(&b, &t, "k").await.unwrap(), b"second!");

    a.delete(&t, "k").await.expect("delete on a");
    assert_eq!(read_all(&b, &t, "k").await, Err(ErrorKind::NotFound));
    assert_eq!(read_all(&a, &t, "k").await, Err(ErrorKind::NotFound));

    // Another tenant's same key is its own object.
    let other = fresh_tenant();
    a.put(&t, "k", "text/plain", chunked(b"mine", 2))
        .await
        .expect("put");
    assert_eq!(read_all(&a, &t, "k").await.unwrap(), b"mine");
    assert_eq!(read_all(&a, &other, "k").await, Err(ErrorKind::NotFound));
}

//! Blob put and get of 4 KiB and 16 MiB on local files — and on S3 when
//! `BAAS_TEST_S3_ENDPOINT` (with `BAAS_TEST_S3_BUCKET`, `BAAS_TEST_S3_ACCESS_KEY_ID`,
//! `BAAS_TEST_S3_SECRET_ACCESS_KEY`) is set — each next to a raw baseline doing the
//! same work in the same run: a raw object_store put (plus, with the SQL ledger, a raw
//! insert of the same metadata row) and a raw object_store get (plus, with the SQL
//! ledger, a raw select of that row; `raw_get_object` is the object get alone). The
//! ledger is SQLite, opened through [`baas_store::Database`] as an application opens it.
//!
//! ```text
//! eval "$(scripts/services.sh env)"   # for S3 (SeaweedFS); needs --all-features
//! cargo bench -p baas-store --all-features --bench blob -- --warm-up-time 1 --measurement-time 3 4KiB
//! ```
//!
//! With `BAAS_BENCH_BLOB_PARTS=1` the groups `blob_local_parts` and `blob_s3_parts` also
//! time the steps of a 4 KiB put and get alone (ledger read, ledger commit, the raw
//! metadata insert, object put, object put + delete), to see where the time goes.

use std::sync::Arc;

use baas_core::{MasterKey, TenantId};
use baas_store::blob::{BlobLedger, BlobLimits, BlobStore, ObjectBlobStore, UrlSigner};
use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use futures::{StreamExt as _, TryStreamExt as _};
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt as _};

const SIZES: [(&str, usize); 2] = [("4KiB", 4 << 10), ("16MiB", 16 << 20)];

fn body(data: &Bytes) -> baas_store::blob::PutBody {
    // Arrive in 64 KiB chunks, as an HTTP body would.
    let chunks: Vec<Result<Bytes, baas_core::BoxError>> = (0..data.len())
        .step_by(64 << 10)
        .map(|i| Ok(data.slice(i..(i + (64 << 10)).min(data.len()))))
        .collect();
    futures::stream::iter(chunks).boxed()
}

struct Setup {
    _dir: tempfile::TempDir,
    store: ObjectBlobStore,
    raw: Arc<dyn ObjectStore>,
    #[cfg(feature = "sql")]
    db: sea_orm::DatabaseConnection,
}

fn local(dir: &tempfile::TempDir) -> Arc<dyn ObjectStore> {
    let objects = dir.path().join("objects");
    std::fs::create_dir_all(&objects).expect("objects dir");
    Arc::new(LocalFileSystem::new_with_prefix(&objects).expect("local"))
}

#[cfg(feature = "s3")]
fn s3() -> Option<Arc<dyn ObjectStore>> {
    let endpoint = std::env::var("BAAS_TEST_S3_ENDPOINT").ok()?;
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    Some(Arc::new(baas_store::blob::testing::test_s3_client(
        &endpoint,
    )))
}

#[cfg(not(feature = "s3"))]
fn s3() -> Option<Arc<dyn ObjectStore>> {
    None
}

async fn setup(objects: impl FnOnce(&tempfile::TempDir) -> Arc<dyn ObjectStore>) -> Setup {
    let dir = tempfile::tempdir().expect("tempdir");
    let raw = objects(&dir);
    #[cfg(feature = "sql")]
    let (ledger, db): (Arc<dyn BlobLedger>, _) = {
        // Opened as an application opens it: the framework's `Database` (WAL,
        // synchronous = NORMAL, no ping per pooled statement) with its migrations.
        let url = format!("sqlite://{}", dir.path().join("b.db").display());
        let db = baas_store::Database::connect(&url).await.expect("sqlite");
        db.migrate().await.expect("migrate");
        (
            Arc::new(baas_store::blob::SqlBlobLedger::for_database(&db)),
            db.connection().clone(),
        )
    };
    #[cfg(not(feature = "sql"))]
    let ledger: Arc<dyn BlobLedger> = Arc::new(baas_store::blob::MemoryBlobLedger::new());
    let signer = UrlSigner::new(&MasterKey::generate(), baas_core::clock::system());
    let store = ObjectBlobStore::new(raw.clone(), ledger, signer).with_limits(BlobLimits {
        max_object_bytes: 1 << 30,
        tenant_quota_bytes: u64::MAX / 4,
    });
    Setup {
        _dir: dir,
        store,
        raw,
        #[cfg(feature = "sql")]
        db,
    }
}

/// The raw baseline of a put: the bytes (streamed as `put` would, hashed) and the
/// metadata row.
async fn raw_put(s: &Setup, path: &Path, data: &Bytes, n: u64) {
    use sha2::Digest as _;
    let mut hasher = sha2::Sha256::new();
    let mut buf = Vec::new();
    let mut stream = body(data);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.expect("chunk");
        hasher.update(&chunk);
        buf.push(chunk);
    }
    let _sha = hasher.finalize();
    if data.len() <= baas_store::blob::DEFAULT_PART_SIZE {
        s.raw
            .put(path, buf.into_iter().collect())
            .await
            .expect("raw put");
    } else {
        let upload = s.raw.put_multipart(path).await.expect("multipart");
        let mut w = object_store::WriteMultipart::new_with_chunk_size(
            upload,
            baas_store::blob::DEFAULT_PART_SIZE,
        );
        for chunk in buf {
            w.put(chunk);
        }
        w.finish().await.expect("finish");
    }
    raw_insert(s, &format!("k{n}"), data.len()).await;
}

/// The metadata row of the raw baseline's put (nothing without the SQL ledger).
async fn raw_insert(s: &Setup, key: &str, len: usize) {
    #[cfg(feature = "sql")]
    {
        use baas_store::blob::migration::BlobObjects as O;
        use sea_orm::ConnectionTrait as _;
        use sea_orm::sea_query::{OnConflict, Query};
        let stmt = Query::insert()
            .into_table(O::Table)
            .columns([
                O::Tenant,
                O::Key,
                O::Size,
                O::ContentType,
                O::Sha256,
                O::CreatedAt,
            ])
            .values_panic([
                "raw".into(),
                key.into(),
                (len as i64).into(),
                "application/octet-stream".into(),
                "00".repeat(32).into(),
                0i64.into(),
            ])
            .on_conflict(
                OnConflict::columns([O::Tenant, O::Key])
                    .update_columns([O::Size, O::Sha256, O::CreatedAt])
                    .to_owned(),
            )
            .to_owned();
        s.db.execute(&stmt).await.expect("raw insert");
    }
    #[cfg(not(feature = "sql"))]
    let _ = (s, key, len);
}

/// The metadata read of the raw baseline's get: one select of the row a store get reads
/// first (size, content type, SHA-256, version), by its primary key (nothing without the
/// SQL ledger).
async fn raw_select(s: &Setup, key: &str) {
    #[cfg(feature = "sql")]
    {
        use baas_store::blob::migration::BlobObjects as O;
        use sea_orm::ConnectionTrait as _;
        use sea_orm::sea_query::{Expr, ExprTrait as _, Query};
        let stmt = Query::select()
            .columns([
                O::Key,
                O::Size,
                O::ContentType,
                O::Sha256,
                O::CreatedAt,
                O::Version,
            ])
            .from(O::Table)
            .and_where(Expr::col(O::Tenant).eq("raw"))
            .and_where(Expr::col(O::Key).eq(key))
            .to_owned();
        let row = s.db.query_one(&stmt).await.expect("raw select");
        let size: i64 = row.expect("row").try_get("", "size").expect("size");
        std::hint::black_box(size);
    }
    #[cfg(not(feature = "sql"))]
    let _ = (s, key);
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let parts = std::env::var_os("BAAS_BENCH_BLOB_PARTS").is_some();
    let s = rt.block_on(setup(local));
    bench_on(c, &rt, &s, "blob_local");
    if parts {
        bench_parts(c, &rt, &s, "blob_local_parts");
    }
    if let Some(raw) = s3() {
        let s = rt.block_on(setup(move |_| raw));
        bench_on(c, &rt, &s, "blob_s3");
        if parts {
            bench_parts(c, &rt, &s, "blob_s3_parts");
        }
    }
}

/// The steps a 4 KiB put or get is made of, each alone (with `BAAS_BENCH_BLOB_PARTS`
/// set): the ledger's read and its commit of a replacement, the raw baseline's
/// metadata insert, and the object store's put and delete.
fn bench_parts(c: &mut Criterion, rt: &tokio::runtime::Runtime, s: &Setup, group: &str) {
    let tenant = TenantId::new("parts").expect("tenant");
    let data = Bytes::from(vec![7u8; 4 << 10]);
    let ledger = s.store.ledger().clone();
    let meta = rt.block_on(async {
        s.store
            .put(&tenant, "p", "application/octet-stream", body(&data))
            .await
            .expect("put")
            .meta
    });
    let mut group = c.benchmark_group(group);
    group.bench_function("ledger_get", |b| {
        b.to_async(rt).iter(|| async {
            ledger.get(&tenant, "p").await.expect("get").expect("meta");
        });
    });
    group.bench_function("ledger_commit_replace", |b| {
        b.to_async(rt).iter(|| async {
            ledger
                .commit(&tenant, &meta, None, Some(u64::MAX / 4))
                .await
                .expect("commit");
        });
    });
    group.bench_function("raw_insert", |b| {
        b.to_async(rt).iter(|| raw_insert(s, "k0", data.len()));
    });
    let path = Path::from("parts/x");
    group.bench_function("object_put", |b| {
        b.to_async(rt).iter(|| async {
            s.raw.put(&path, data.clone().into()).await.expect("put");
        });
    });
    group.bench_function("object_put_then_delete", |b| {
        b.to_async(rt).iter(|| async {
            s.raw.put(&path, data.clone().into()).await.expect("put");
            s.raw.delete(&path).await.expect("delete");
        });
    });
    // Fresh keys: a put that replaces nothing, next to a raw put to a fresh path.
    let mut n = 0u64;
    group.bench_function("store_put_new_key", |b| {
        b.to_async(rt).iter(|| {
            n += 1;
            let (tenant, data) = (&tenant, data.clone());
            async move {
                s.store
                    .put(
                        tenant,
                        &format!("new/{n}"),
                        "application/octet-stream",
                        body(&data),
                    )
                    .await
                    .expect("put");
            }
        });
    });
    let mut n = 0u64;
    group.bench_function("raw_put_new_path", |b| {
        b.to_async(rt).iter(|| {
            n += 1;
            let data = data.clone();
            async move { raw_put(s, &Path::from(format!("parts/new/{n}")), &data, 100 + n).await }
        });
    });
    group.finish();
    rt.block_on(async {
        s.store.wait_for_discards().await;
        for prefix in ["parts", "tenants/parts"] {
            let paths = s
                .raw
                .list(Some(&Path::from(prefix)))
                .map_ok(|m| m.location)
                .boxed();
            s.raw
                .delete_stream(paths)
                .try_collect::<Vec<_>>()
                .await
                .expect("clean up");
        }
    });
}

fn bench_on(c: &mut Criterion, rt: &tokio::runtime::Runtime, s: &Setup, group: &str) {
    let tenant = TenantId::new("bench").expect("tenant");
    let mut group = c.benchmark_group(group);
    for (name, size) in SIZES {
        let data = Bytes::from((0..size).map(|i| (i % 251) as u8).collect::<Vec<_>>());
        group.throughput(Throughput::Bytes(size as u64));
        let mut n = 0u64;
        group.bench_function(BenchmarkId::new("put", name), |b| {
            b.to_async(rt).iter(|| {
                n += 1;
                let key = format!("k{}", n % 8);
                let data = data.clone();
                let tenant = &tenant;
                async move {
                    s.store
                        .put(tenant, &key, "application/octet-stream", body(&data))
                        .await
                        .expect("put");
                }
            });
        });
        let mut n = 0u64;
        group.bench_function(BenchmarkId::new("raw_put", name), |b| {
            b.to_async(rt).iter(|| {
                n += 1;
                let path = Path::from(format!("raw/k{}", n % 8));
                let data = data.clone();
                async move { raw_put(s, &path, &data, n % 8).await }
            });
        });
        rt.block_on(async {
            s.store
                .put(&tenant, "read", "application/octet-stream", body(&data))
                .await
                .expect("put read");
            s.raw
                .put(&Path::from("raw/read"), data.clone().into())
                .await
                .expect("raw put read");
            raw_insert(s, "read", data.len()).await;
        });
        group.bench_function(BenchmarkId::new("get", name), |b| {
            b.to_async(rt).iter(|| async {
                let got = s.store.get(&tenant, "read", None).await.expect("get");
                let n: usize = got
                    .body
                    .map_ok(|c| c.len())
                    .try_fold(0, |a, l| async move { Ok(a + l) })
                    .await
                    .expect("body");
                assert_eq!(n, size);
            });
        });
        // The raw baseline of a get: the metadata row, then the bytes.
        group.bench_function(BenchmarkId::new("raw_get", name), |b| {
            b.to_async(rt).iter(|| async {
                raw_select(s, "read").await;
                raw_get_object(s, size).await;
            });
        });
        // The bytes alone, for reference: what a store get adds is the ledger read.
        group.bench_function(BenchmarkId::new("raw_get_object", name), |b| {
            b.to_async(rt).iter(|| raw_get_object(s, size));
        });
    }
    group.finish();
}

/// A raw object_store get of `raw/read`, streamed to the end.
async fn raw_get_object(s: &Setup, size: usize) {
    let got = s.raw.get(&Path::from("raw/read")).await.expect("raw get");
    let n: usize = got
        .into_stream()
        .map_ok(|c| c.len())
        .try_fold(0, |a, l| async move { Ok(a + l) })
        .await
        .expect("body");
    assert_eq!(n, size);
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);

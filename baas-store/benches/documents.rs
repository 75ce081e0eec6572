//! Document create / get / list-page through [`SqlDocumentStore`], each next to raw sqlx
//! statements doing the same work in the same run (SQLite always; Postgres when
//! `BAAS_TEST_POSTGRES_URL` is set). The baseline decodes every column the store returns
//! (id, version, data, created_at, updated_at); `get/raw-data-only` shows what decoding
//! only `data` costs, as the baseline did at first.
//!
//! ```text
//! cargo bench -p baas-store --bench documents -- --warm-up-time 1 --measurement-time 2
//! ```

use std::hint::black_box;

use baas_store::core::TenantId;
use baas_store::documents::{DocumentStore, ListQuery, SqlDocumentStore};
use baas_store::sea_orm::sqlx;
use baas_store::{Database, Engine};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use uuid::Uuid;

/// A row read by the raw baseline: every column the store returns, decoded.
#[allow(dead_code)]
struct RawDocument {
    id: Uuid,
    version: i64,
    data: serde_json::Value,
    created_at: i64,
    updated_at: i64,
}

/// A function decoding every column the store returns from one engine's row (the same
/// code for both engines; sqlx's row types differ).
macro_rules! decoder {
    ($name:ident, $row:ty) => {
        fn $name(r: &$row) -> RawDocument {
            use sqlx::Row;
            RawDocument {
                id: r.get("id"),
                version: r.get("version"),
                data: r.get::<sqlx::types::Json<serde_json::Value>, _>("data").0,
                created_at: r.get("created_at"),
                updated_at: r.get("updated_at"),
            }
        }
    };
}

decoder!(decode, sqlx::sqlite::SqliteRow);
decoder!(pg_decode, sqlx::postgres::PgRow);

/// The raw baseline: the same statements with bound parameters, straight on the pool,
/// decoding the same columns the store returns.
enum Raw {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Raw {
    fn of(db: &Database) -> Raw {
        match db.engine() {
            Engine::Sqlite => Raw::Sqlite(db.connection().get_sqlite_connection_pool().clone()),
            _ => Raw::Postgres(db.connection().get_postgres_connection_pool().clone()),
        }
    }

    async fn create(&self, tenant: &str, data: &serde_json::Value) -> Uuid {
        let id = Uuid::now_v7();
        let now = 1_767_225_600_000i64;
        match self {
            Raw::Sqlite(pool) => {
                sqlx::query("INSERT INTO documents (tenant, collection, id, version, data, created_at, updated_at) VALUES (?, ?, ?, 1, ?, ?, ?)")
                    .bind(tenant).bind("bench").bind(id).bind(sqlx::types::Json(data)).bind(now).bind(now)
                    .execute(pool).await.unwrap();
            }
            Raw::Postgres(pool) => {
                sqlx::query("INSERT INTO documents (tenant, collection, id, version, data, created_at, updated_at) VALUES ($1, $2, $3, 1, $4, $5, $6)")
                    .bind(tenant).bind("bench").bind(id).bind(sqlx::types::Json(data)).bind(now).bind(now)
                    .execute(pool).await.unwrap();
            }
        }
        id
    }

    async fn get(&self, tenant: &str, id: Uuid) -> usize {
        match self {
            Raw::Sqlite(pool) => {
                let row = sqlx::query("SELECT id, version, data, created_at, updated_at FROM documents WHERE tenant = ? AND collection = ? AND id = ?")
                    .bind(tenant).bind("bench").bind(id)
                    .fetch_one(pool).await.unwrap();
                decode(&row).data.as_object().map_or(0, |o| o.len())
            }
            Raw::Postgres(pool) => {
                let row = sqlx::query("SELECT id, version, data, created_at, updated_at FROM documents WHERE tenant = $1 AND collection = $2 AND id = $3")
                    .bind(tenant).bind("bench").bind(id)
                    .fetch_one(pool).await.unwrap();
                pg_decode(&row).data.as_object().map_or(0, |o| o.len())
            }
        }
    }

    /// What the baseline did before it decoded every column: the `data` column only.
    async fn get_data_only(&self, tenant: &str, id: Uuid) -> usize {
        use sqlx::Row;
        let data = match self {
            Raw::Sqlite(pool) => sqlx::query("SELECT id, version, data, created_at, updated_at FROM documents WHERE tenant = ? AND collection = ? AND id = ?")
                .bind(tenant).bind("bench").bind(id)
                .fetch_one(pool).await.unwrap()
                .get::<sqlx::types::Json<serde_json::Value>, _>("data").0,
            Raw::Postgres(pool) => sqlx::query("SELECT id, version, data, created_at, updated_at FROM documents WHERE tenant = $1 AND collection = $2 AND id = $3")
                .bind(tenant).bind("bench").bind(id)
                .fetch_one(pool).await.unwrap()
                .get::<sqlx::types::Json<serde_json::Value>, _>("data").0,
        };
        data.as_object().map_or(0, |o| o.len())
    }

    async fn page(&self, tenant: &str, limit: i64) -> usize {
        let data: Vec<RawDocument> = match self {
            Raw::Sqlite(pool) => sqlx::query(
                "SELECT id, version, data, created_at, updated_at FROM documents \
                 WHERE tenant = ? AND collection = ? ORDER BY id LIMIT ?",
            )
            .bind(tenant)
            .bind("bench")
            .bind(limit + 1)
            .fetch_all(pool)
            .await
            .unwrap()
            .iter()
            .map(decode)
            .collect(),
            Raw::Postgres(pool) => sqlx::query(
                "SELECT id, version, data, created_at, updated_at FROM documents \
                 WHERE tenant = $1 AND collection = $2 ORDER BY id LIMIT $3",
            )
            .bind(tenant)
            .bind("bench")
            .bind(limit + 1)
            .fetch_all(pool)
            .await
            .unwrap()
            .iter()
            .map(pg_decode)
            .collect(),
        };
        data.len()
    }
}

fn bench_engine(c: &mut Criterion, rt: &tokio::runtime::Runtime, name: &str, db: &Database) {
    let store = SqlDocumentStore::new(db.clone());
    let raw = Raw::of(db);
    let tenant = TenantId::new(format!("bench-{}", Uuid::new_v4().simple())).unwrap();
    let data = json!({"status": "open", "total": 42, "customer": "c-1", "lines": [1, 2, 3]});
    // A collection of 1000 documents to read and page through.
    let ids: Vec<Uuid> = rt.block_on(async {
        let mut ids = Vec::new();
        for _ in 0..1000 {
            ids.push(
                store
                    .create(&tenant, "bench", data.clone())
                    .await
                    .unwrap()
                    .id,
            );
        }
        ids
    });
    let id = ids[500];

    let mut group = c.benchmark_group(format!("documents/{name}"));
    group.bench_function("create/store", |b| {
        b.to_async(rt).iter(|| async {
            black_box(store.create(&tenant, "bench", data.clone()).await.unwrap());
        });
    });
    group.bench_function("create/raw", |b| {
        b.to_async(rt)
            .iter(|| async { black_box(raw.create(tenant.as_str(), &data).await) });
    });
    group.bench_function("get/store", |b| {
        b.to_async(rt)
            .iter(|| async { black_box(store.get(&tenant, "bench", id).await.unwrap()) });
    });
    group.bench_function("get/raw", |b| {
        b.to_async(rt)
            .iter(|| async { black_box(raw.get(tenant.as_str(), id).await) });
    });
    group.bench_function("get/raw-data-only", |b| {
        b.to_async(rt)
            .iter(|| async { black_box(raw.get_data_only(tenant.as_str(), id).await) });
    });
    let page = ListQuery::new().limit(50);
    group.bench_function("list-page-50/store", |b| {
        b.to_async(rt)
            .iter(|| async { black_box(store.list(&tenant, "bench", &page).await.unwrap()) });
    });
    group.bench_function("list-page-50/raw", |b| {
        b.to_async(rt)
            .iter(|| async { black_box(raw.page(tenant.as_str(), 50).await) });
    });
    group.finish();
}

fn documents(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = rt.block_on(async {
        let db = Database::connect(&format!("sqlite://{}/bench.db", dir.path().display()))
            .await
            .unwrap();
        db.migrate().await.unwrap();
        db
    });
    bench_engine(c, &rt, "sqlite", &sqlite);
    if let Ok(url) = std::env::var("BAAS_TEST_POSTGRES_URL") {
        let pg = rt.block_on(async {
            let db = Database::connect(&url).await.unwrap();
            db.migrate().await.unwrap();
            db
        });
        bench_engine(c, &rt, "postgres", &pg);
    }
}

criterion_group!(benches, documents);
criterion_main!(benches);

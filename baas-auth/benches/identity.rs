//! Login throughput and API-key verification through [`IdentityService`] on the SQL
//! stores (SQLite, a temporary file, the platform's default), each next to the raw
//! primitive measured in the same run:
//!
//! - `login_x8` runs eight password logins at once (hash verify on the blocking pool
//!   behind the semaphore, user lookup, session insert, token signing, audit record);
//!   `raw_argon2id_x8` runs eight bare argon2id hashes with the same parameters
//!   (OWASP: m = 19 MiB, t = 2, p = 1) on the same two blocking threads. Their ratio is
//!   the share of what argon2id alone allows that a login reaches.
//! - `api_key_verify` authenticates an API key through the bearer authenticator (lookup
//!   by id, constant-time digest compare, expiry, roles decoded into a principal);
//!   `raw_select_sha256_compare` fetches the same row with a bare sqlx statement and
//!   compares the same digest.
//! - `throttle_check` and `throttle_failed`: what the login throttle adds to a login on
//!   the SQL store — the read of the account's failure window before every login (and
//!   after a right password), and the one upsert after a wrong one.
//!
//! `cargo bench -p baas-auth --bench identity -- --warm-up-time 1 --measurement-time 5`
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Arc;

use argon2::{Algorithm, Argon2, Params, Version};
use baas_auth::TokenConfig;
use baas_auth::service::{ClientInfo, IdentityConfig, IdentityService, Stores};
use baas_auth::sql::Migrator;
use baas_core::{MasterKey, SystemClock};
use baas_store::sea_orm::sqlx::{self, Row as _};
use baas_store::{Database, DatabaseOptions};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use secrecy::SecretString;
use sha2::{Digest as _, Sha256};
use subtle::ConstantTimeEq as _;

const PASSWORD: &str = "violet-otter-mandolin";
const AT_ONCE: usize = 8;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

async fn service(dir: &tempfile::TempDir) -> (Database, Arc<IdentityService>) {
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("id.db").display());
    let db = Database::connect_with(DatabaseOptions::new(url))
        .await
        .unwrap();
    db.migrate_with::<Migrator>().await.unwrap();
    let service = IdentityService::new(
        Stores::sql(&db, Arc::new(SystemClock)),
        MasterKey::generate(),
        IdentityConfig::new(TokenConfig::new("baas", "baas")),
        Arc::new(SystemClock),
    );
    service.start().await.unwrap();
    (db, Arc::new(service))
}

fn identity(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let (db, service) = rt.block_on(service(&dir));
    let client = ClientInfo::new(Some([10, 0, 0, 1].into()), Some("bench/1.0"));
    let password = SecretString::from(PASSWORD);
    rt.block_on(service.signup("acme", "admin@example.com", &password, &client))
        .unwrap();

    let mut g = c.benchmark_group("identity");
    g.sample_size(10);
    g.throughput(Throughput::Elements(AT_ONCE as u64));
    g.bench_function("login_x8", |b| {
        b.iter(|| {
            rt.block_on(async {
                let logins = (0..AT_ONCE)
                    .map(|_| service.login("acme", "admin@example.com", &password, &client));
                for login in futures_util::future::join_all(logins).await {
                    black_box(login.unwrap());
                }
            });
        });
    });
    let raw = Arc::new(Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(19 * 1024, 2, 1, None).unwrap(),
    ));
    g.bench_function("raw_argon2id_x8", |b| {
        b.iter(|| {
            rt.block_on(async {
                let hashes = (0..AT_ONCE).map(|_| {
                    let raw = Arc::clone(&raw);
                    tokio::task::spawn_blocking(move || {
                        let mut out = [0u8; 32];
                        raw.hash_password_into(PASSWORD.as_bytes(), b"0123456789abcdef", &mut out)
                            .unwrap();
                        out
                    })
                });
                for hash in futures_util::future::join_all(hashes).await {
                    black_box(hash.unwrap());
                }
            });
        });
    });
    g.finish();

    // API keys: an admin's principal creates one; verification goes through the same
    // authenticator the HTTP layer uses.
    let tokens = rt
        .block_on(service.login("acme", "admin@example.com", &password, &client))
        .unwrap();
    let authenticator = service.authenticator();
    let admin = rt
        .block_on(authenticator.authenticate(tokens.access_token()))
        .unwrap();
    let (_, secret) = rt
        .block_on(service.create_api_key(&admin, "bench", &["member".into()], None, &client))
        .unwrap();
    let key = secret.expose_secret().to_owned();
    let id = secret.id().unwrap().to_string();
    let pool = db.connection().get_sqlite_connection_pool().clone();

    let mut g = c.benchmark_group("api_keys");
    g.throughput(Throughput::Elements(1));
    g.bench_function("api_key_verify", |b| {
        b.iter(|| {
            rt.block_on(authenticator.authenticate(black_box(&key)))
                .unwrap()
        });
    });
    // The raw baseline: the same row fetched by id with a bare sqlx statement, and
    // the presented key's SHA-256 compared in constant time with the stored digest.
    g.bench_function("raw_select_sha256_compare", |b| {
        b.iter(|| {
            rt.block_on(async {
                let row = sqlx::query(
                    "SELECT id, tenant, name, roles, digest, created_by, created_at, expires_at, last_used_at FROM baas_auth_api_keys WHERE id = ?",
                )
                .bind(&id)
                .fetch_one(&pool)
                .await
                .unwrap();
                let stored: Vec<u8> = row.get("digest");
                let presented = Sha256::digest(black_box(key.as_bytes()));
                assert!(bool::from(presented.as_slice().ct_eq(&stored)));
            });
        });
    });
    g.finish();

    // The login throttle on the same database: an account under attack (a window with
    // failures in it), read and counted as a login does.
    let throttle = service.throttle();
    let tenant = baas_core::TenantId::new("acme").unwrap();
    let ip = Some([10, 0, 0, 2].into());
    rt.block_on(throttle.failed(&tenant, "victim@example.com", ip))
        .unwrap();
    let mut g = c.benchmark_group("throttle");
    g.throughput(Throughput::Elements(1));
    g.bench_function("throttle_check", |b| {
        b.iter(|| {
            rt.block_on(throttle.check(&tenant, black_box("victim@example.com"), None))
                .unwrap()
        });
    });
    g.bench_function("throttle_failed", |b| {
        b.iter(|| {
            rt.block_on(throttle.failed(&tenant, black_box("victim@example.com"), None))
                .unwrap();
        });
    });
    g.finish();
}

criterion_group!(benches, identity);
criterion_main!(benches);

//! Token and password benchmarks, each next to the raw primitive measured in the same
//! run: `cargo bench -p baas-auth --bench tokens -- --warm-up-time 1 --measurement-time 3`.
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Arc;

use argon2::{Algorithm, Argon2, Params, Version};
use aws_lc_rs::signature::{ED25519, UnparsedPublicKey};
use baas_auth::keys::{KeyManager, KeyRing, KeyState, MemoryKeyStore};
use baas_auth::password::PasswordHasher;
use baas_auth::{MemoryRevocations, TokenConfig, TokenIssuer, TokenRequest, TokenVerifier};
use baas_core::{MasterKey, SystemClock, TenantId};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use secrecy::SecretString;

fn tokens(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let clock = Arc::new(SystemClock);
    let config = TokenConfig::new("https://id.example.com", "https://api.example.com");
    let store = Arc::new(MemoryKeyStore::new());
    let keys = Arc::new(KeyManager::new(
        store.clone(),
        MasterKey::generate(),
        clock.clone(),
        config.clone(),
    ));
    rt.block_on(keys.ensure()).unwrap();
    let issuer = TokenIssuer::new(keys.clone(), clock.clone());
    let request = TokenRequest {
        subject: "0190f5c2-7a3e-7c1b-9d2e-4f5a6b7c8d9e".into(),
        tenant: TenantId::new("acme").unwrap(),
        roles: vec!["member".into()],
        session_id: "0190f5c2-7a3e-7c1b-9d2e-4f5a6b7c8d9f".into(),
        client_id: "web".into(),
    };
    let token = rt.block_on(issuer.issue(&request)).unwrap();
    let revocations = Arc::new(MemoryRevocations::new());
    let verifier = |capacity| {
        let mut config = config.clone();
        config.cache_capacity = capacity;
        let ring = Arc::new(KeyRing::new(store.clone(), clock.clone(), config.clone()));
        TokenVerifier::new(ring, revocations.clone(), clock.clone(), config)
    };
    let cold = verifier(0);
    let cached = verifier(10_000);
    rt.block_on(cold.verify(token.as_str())).unwrap();
    rt.block_on(cached.verify(token.as_str())).unwrap();

    // The raw primitive: Ed25519 verification of the same signing input and signature.
    let current = rt
        .block_on(baas_auth::keys::KeyStore::list(&*store))
        .unwrap()
        .into_iter()
        .find(|k| k.state == KeyState::Current)
        .unwrap();
    let (signing_input, signature) = token.as_str().rsplit_once('.').unwrap();
    let signature = B64.decode(signature).unwrap();
    let public = UnparsedPublicKey::new(&ED25519, current.public_key.clone());
    public.verify(signing_input.as_bytes(), &signature).unwrap();

    let mut g = c.benchmark_group("tokens");
    g.throughput(Throughput::Elements(1));
    g.bench_function("raw_ed25519_verify", |b| {
        b.iter(|| {
            public
                .verify(black_box(signing_input.as_bytes()), black_box(&signature))
                .unwrap();
        });
    });
    g.bench_function("verify_cold", |b| {
        b.iter(|| rt.block_on(cold.verify(black_box(token.as_str()))).unwrap());
    });
    g.bench_function("verify_cached", |b| {
        b.iter(|| {
            rt.block_on(cached.verify(black_box(token.as_str())))
                .unwrap()
        });
    });
    g.bench_function("sign", |b| {
        b.iter(|| rt.block_on(issuer.issue(black_box(&request))).unwrap());
    });
    g.finish();
}

fn passwords(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let hasher = PasswordHasher::default();
    let password = SecretString::from("violet-otter-mandolin");
    let raw = Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(19 * 1024, 2, 1, None).unwrap(),
    );
    let mut g = c.benchmark_group("passwords");
    g.sample_size(10);
    g.throughput(Throughput::Elements(1));
    g.bench_function("raw_argon2id_hash", |b| {
        let mut out = [0u8; 32];
        b.iter(|| {
            raw.hash_password_into(b"violet-otter-mandolin", b"0123456789abcdef", &mut out)
                .unwrap();
        });
    });
    g.bench_function("password_hash", |b| {
        b.iter(|| rt.block_on(hasher.hash(black_box(&password))).unwrap());
    });
    g.finish();
}

criterion_group!(benches, tokens, passwords);
criterion_main!(benches);

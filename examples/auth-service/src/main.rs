//! # auth-service — identity only
//!
//! A template for an identity service: baas-auth's [`IdentityService`] on the SQL stores,
//! its routes (`baas_auth::routes::router`: signup, token, revoke, logout, me, password,
//! users, API keys, JWKS, signing-key rotation — the identity section of API.md) behind
//! baas-core's `StandardStack` with the auth layer in its authentication slot, plus
//! `/healthz` and `/metrics`. SIGTERM or SIGINT stop it gracefully: it stops accepting
//! and drains the requests in flight.
//!
//! ```sh
//! cargo run -p auth-service        # SQLite in ./data/baas.db, master key in ./data/master.key
//!
//! BAAS_DATABASE_URL=postgres://user:pass@localhost/baas \
//! BAAS_MASTER_KEY=$(openssl rand -base64 32) \
//! BAAS_BIND=0.0.0.0:8080 cargo run -p auth-service
//! ```
//!
//! | variable | default |
//! |---|---|
//! | `BAAS_BIND` | `127.0.0.1:8080` |
//! | `BAAS_DATABASE_URL` | `sqlite://./data/baas.db?mode=rwc` (or `postgres://…`) |
//! | `BAAS_MASTER_KEY` | generated once into `./data/master.key`; seals the signing keys |
//! | `BAAS_ISSUER`, `BAAS_AUDIENCE` | `baas`, `baas` |
//! | `BAAS_LOG`, `BAAS_LOG_FORMAT` | `info`, human-readable |
//!
//! Other services verify its tokens by opening the same database with the same master
//! key and putting [`IdentityService::layer`] in their stack (see the `notifier`
//! example), or by fetching `/.well-known/jwks.json`.
//!
//! ```sh
//! curl -s -XPOST localhost:8080/v1/auth/signup -H 'content-type: application/json' \
//!   -d '{"tenant":"acme","email":"alice@example.com","password":"correct horse battery staple"}'
//! curl -s -XPOST localhost:8080/v1/auth/token -H 'content-type: application/json' \
//!   -d '{"grant_type":"password","tenant":"acme","email":"alice@example.com","password":"correct horse battery staple"}'
//! ```

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use axum::serve::Listener as _;
use baas_auth::TokenConfig;
use baas_auth::routes::IdentityState;
use baas_auth::service::{IdentityConfig, IdentityService, Stores};
use baas_core::MasterKey;
use baas_core::http::problem_rejections;
use baas_core::stack::StandardStack;
use baas_store::Database;
use baas_store::idempotency::SqlIdempotencyStore;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let _telemetry = baas_core::telemetry::Telemetry::from_env().init()?;
    let bind: SocketAddr = env_or("BAAS_BIND", "127.0.0.1:8080").parse()?;
    let clock = baas_core::clock::system();

    // The backends: one database for users, sessions, keys and idempotency records.
    let master_key = Arc::new(MasterKey::from_env_or_file("./data/master.key")?);
    let database = Database::connect(&env_or(
        "BAAS_DATABASE_URL",
        "sqlite://./data/baas.db?mode=rwc",
    ))
    .await?;
    database.migrate_with::<baas_auth::sql::Migrator>().await?;

    // The identity service; `start` makes the first signing key (once per installation).
    let token = TokenConfig::new(
        env_or("BAAS_ISSUER", "baas"),
        env_or("BAAS_AUDIENCE", "baas"),
    );
    let identity = Arc::new(IdentityService::new(
        Stores::sql(&database, clock.clone()),
        (*master_key).clone(),
        IdentityConfig::new(token),
        clock.clone(),
    ));
    identity.start().await?;

    // The routes, then the standard stack with the auth layer in its slot.
    let metrics = baas_core::metrics::install_prometheus()?;
    let api = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/metrics",
            get(move || async move { baas_core::metrics::exporter::response(&metrics) }),
        )
        .merge(baas_auth::routes::router(IdentityState::new(
            identity.clone(),
        )));
    let stack = StandardStack::new()
        .request_timeout(Duration::from_secs(15))
        .rate_limit(100, 200)
        .idempotency(Arc::new(SqlIdempotencyStore::new(database.clone())))
        .master_key(master_key)
        .idempotency_exclude("/v1/auth/token")
        .idempotency_exclude("/v1/auth/revoke")
        .clock(clock);
    let app = stack.apply_with_auth(problem_rejections(api), identity.layer());

    let listener = baas_core::http::bind(bind).await?;
    tracing::info!(address = %listener.local_addr()?, "auth-service listening");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    tracing::info!("auth-service stopped");
    Ok(())
}

/// The variable `name`, or `default` when unset or empty.
fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| default.to_owned())
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM, and says so in the log.
async fn shutdown_signal() {
    baas_core::shutdown::signal().await;
    tracing::info!("shutting down: draining requests");
}

//! # notifier — notifications only
//!
//! A template for a notification service: baas-notify's [`Notifier`] (validate, render,
//! record, enqueue) and [`Dispatcher`] (the delivery worker) on the SQL stores and the SQL
//! queue, with a `welcome` email template (variable `name`), email through SMTP when
//! `BAAS_SMTP_URL` is set and to the log otherwise, and signed webhooks. It mounts
//! `baas_notify::http::routes` (`POST /v1/notifications`, `GET /v1/notifications/{id}`,
//! `POST /v1/events`, the webhook endpoints — API.md's events section) behind baas-core's
//! `StandardStack`, plus `/healthz`.
//!
//! **Who is calling.** The routes need an authenticated caller (the tenant comes from
//! the credential), so this service composes baas-auth, but only its verifying half: the
//! stack's authentication slot holds [`IdentityService::layer`] over the identity tables
//! of the same database. It serves no identity routes — tokens and API keys come from the
//! `auth-service` example (or `platform`) running on the same database with the same
//! master key.
//!
//! SIGTERM or SIGINT stop it gracefully: it stops accepting, drains the requests in
//! flight, and lets the dispatcher deliver and settle the batch it holds.
//!
//! ```sh
//! # Both default to SQLite in ./data/baas.db and the master key in ./data/master.key.
//! cargo run -p auth-service &
//! BAAS_BIND=127.0.0.1:8081 cargo run -p notifier &
//!
//! curl -s -XPOST localhost:8080/v1/auth/signup -H 'content-type: application/json' \
//!   -d '{"tenant":"acme","email":"alice@example.com","password":"correct horse battery staple"}'
//! TOKEN=$(curl -s -XPOST localhost:8080/v1/auth/token -H 'content-type: application/json' \
//!   -d '{"grant_type":"password","tenant":"acme","email":"alice@example.com","password":"correct horse battery staple"}' \
//!   | sed 's/.*"access_token":"\([^"]*\)".*/\1/')
//! curl -s -XPOST localhost:8081/v1/notifications -H "authorization: Bearer $TOKEN" \
//!   -H 'content-type: application/json' \
//!   -d '{"channel":"email","to":"bob@example.com","template":"welcome","data":{"name":"Bob"}}'
//! ```
//!
//! | variable | default |
//! |---|---|
//! | `BAAS_BIND` | `127.0.0.1:8080` |
//! | `BAAS_DATABASE_URL` | `sqlite://./data/baas.db?mode=rwc` (or `postgres://…`); also the queue |
//! | `BAAS_MASTER_KEY` | read from (or generated into) `./data/master.key`; seals webhook secrets |
//! | `BAAS_SMTP_URL`, `BAAS_SMTP_FROM` | unset: email to the log; `baas@localhost` |
//! | `BAAS_ISSUER`, `BAAS_AUDIENCE` | `baas`, `baas` (as the token issuer's) |
//! | `BAAS_LOG`, `BAAS_LOG_FORMAT` | `info`, human-readable |

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use axum::serve::Listener as _;
use baas_auth::TokenConfig;
use baas_auth::service::{IdentityConfig, IdentityService, Stores};
use baas_core::http::problem_rejections;
use baas_core::stack::StandardStack;
use baas_core::{Error, MasterKey};
use baas_notify::dispatch::DispatcherBuilder;
use baas_notify::http::NotifyState;
use baas_notify::providers::{LogChannel, SmtpChannel, SmtpConfig, WebhookChannel};
use baas_notify::store::sql::{Migrator, SqlDeliveryLog, SqlEndpointStore, SqlPreferenceStore};
use baas_notify::{
    ChannelKind, Dispatcher, Notifier, TargetPolicy, TemplateSource, Templates, WebhookEndpoints,
};
use baas_queue::Queue;
use baas_queue::sql::SqlQueue;
use baas_store::Database;
use baas_store::idempotency::SqlIdempotencyStore;
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let _telemetry = baas_core::telemetry::Telemetry::from_env().init()?;
    let bind: SocketAddr = env_or("BAAS_BIND", "127.0.0.1:8080").parse()?;
    let clock = baas_core::clock::system();

    // The backends: one database for the identity tables (read), the delivery log,
    // preferences, webhook endpoints, idempotency records and the queue.
    let master_key = MasterKey::from_env_or_file("./data/master.key")?;
    let database = Database::connect(&env_or(
        "BAAS_DATABASE_URL",
        "sqlite://./data/baas.db?mode=rwc",
    ))
    .await?;
    database.migrate_with::<baas_auth::sql::Migrator>().await?;
    database.migrate_with::<Migrator>().await?;
    let queue = SqlQueue::new(database.clone());
    queue.migrate().await?;
    let queue: Arc<dyn Queue> = Arc::new(queue);

    // Who is calling: tokens and API keys issued on the same database.
    let token = TokenConfig::new(
        env_or("BAAS_ISSUER", "baas"),
        env_or("BAAS_AUDIENCE", "baas"),
    );
    let identity = IdentityService::new(
        Stores::sql(&database, clock.clone()),
        master_key.clone(),
        IdentityConfig::new(token),
        clock.clone(),
    );
    identity.start().await?;

    // The notifier (the routes' side) and the dispatcher (the worker's side).
    let log = Arc::new(SqlDeliveryLog::new(database.clone()));
    let templates = Arc::new(templates()?);
    let policy = TargetPolicy::new();
    let endpoints = WebhookEndpoints::new(
        Arc::new(SqlEndpointStore::new(database.clone())),
        master_key.clone(),
        policy,
    )
    .with_clock(clock.clone());
    let notifier = Notifier::new(
        log.clone(),
        Arc::new(SqlPreferenceStore::new(database.clone())),
        templates.clone(),
        queue.clone(),
    )
    .with_endpoints(endpoints.clone())
    .with_clock(clock.clone());
    let dispatcher = providers(Dispatcher::builder(log, templates), policy)?
        .endpoints(endpoints.clone())
        .clock(clock.clone())
        .build();

    // The routes, then the standard stack with the auth layer in its slot.
    let api = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .merge(baas_notify::http::routes(NotifyState::new(
            notifier, endpoints,
        )));
    let stack = StandardStack::new()
        .request_timeout(Duration::from_secs(15))
        .rate_limit(100, 200)
        .idempotency(Arc::new(SqlIdempotencyStore::new(database.clone())))
        .master_key(Arc::new(master_key))
        .clock(clock);
    let app = stack.apply_with_auth(problem_rejections(api), identity.layer());

    // Serve and deliver until a signal; then drain both.
    let shutdown = CancellationToken::new();
    tokio::spawn({
        let shutdown = shutdown.clone();
        async move {
            baas_core::shutdown::signal().await;
            tracing::info!("shutting down: draining requests and deliveries");
            shutdown.cancel();
        }
    });
    let delivering = tokio::spawn({
        let stop = shutdown.clone().cancelled_owned();
        async move { dispatcher.run(queue, 32, stop).await }
    });
    let listener = baas_core::http::bind(bind).await?;
    tracing::info!(address = %listener.local_addr()?, "notifier listening");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown.clone().cancelled_owned())
    .await?;
    shutdown.cancel();
    // The dispatcher stops reserving; the batch in hand is delivered and settled first.
    delivering.await?;
    tracing::info!("notifier stopped");
    Ok(())
}

/// The templates this service ships: `welcome` (variable `name`).
fn templates() -> Result<Templates, Error> {
    let mut templates = Templates::new("en");
    templates.add(
        "welcome",
        "en",
        TemplateSource::new(
            "Welcome, {{ name }}",
            "Hello {{ name }},\n\nwelcome aboard.\n",
        )
        .html("<p>Hello {{ name }},</p><p>welcome aboard.</p>"),
    )?;
    Ok(templates)
}

/// Email through SMTP when `BAAS_SMTP_URL` is set, else to the log; SMS and push to the
/// log (add your provider here); webhooks signed and SSRF-guarded.
fn providers(builder: DispatcherBuilder, policy: TargetPolicy) -> Result<DispatcherBuilder, Error> {
    let builder = match std::env::var("BAAS_SMTP_URL")
        .ok()
        .filter(|u| !u.is_empty())
    {
        Some(url) => {
            let from = env_or("BAAS_SMTP_FROM", "baas@localhost");
            builder.provider(Arc::new(SmtpChannel::new(SmtpConfig::from_url(
                &url, from,
            )?)?))
        }
        None => builder.provider(Arc::new(LogChannel::new(ChannelKind::Email))),
    };
    Ok(builder
        .provider(Arc::new(LogChannel::new(ChannelKind::Sms)))
        .provider(Arc::new(LogChannel::new(ChannelKind::Push)))
        .provider(Arc::new(WebhookChannel::new(policy)?)))
}

/// The variable `name`, or `default` when unset or empty.
fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .unwrap_or_else(|| default.to_owned())
}

//! Composition: open every backend the configuration names, mount each crate's routes,
//! and wrap them in the standard stack (DESIGN.md rule 10).

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use baas_auth::routes::IdentityState;
use baas_core::housekeeping::Housekeeper;
use baas_core::http::problem_rejections;
use baas_core::idempotency::DynIdempotencyStore;
use baas_core::stack::StandardStack;
use baas_core::{Error, HealthRegistry, MasterKey, SharedClock};
use baas_store::blob::{DEFAULT_SIGNED_URL_PREFIX, DynBlobStore, ObjectBlobStore};
use baas_store::documents::SqlDocumentStore;
use baas_store::idempotency::SqlIdempotencyStore;
use baas_store::{Database, DynDocumentStore};

use baas_queue::Queue;

use crate::config::Config;
use crate::events::{self, Events};
use crate::housekeeping::{self, Swept};
use crate::{identity, openapi, ops, storage};

/// Everything one process holds: the backends and the router over them.
#[derive(Debug)]
pub struct App {
    /// The HTTP API, stack applied.
    pub router: Router,
    /// The database (also the default queue).
    pub database: Database,
    /// The queue (the database's, or RabbitMQ).
    pub queue: Arc<dyn Queue>,
    /// Events, webhooks and notifications: what the workers run.
    pub events: Events,
    /// The retention sweepers, which the worker role runs.
    pub housekeeping: Housekeeper,
    /// The blob store, kept to wait for its background deletions at shutdown.
    pub blobs: Arc<ObjectBlobStore>,
}

impl App {
    /// Open the backends of `config` and build the router.
    pub async fn build(config: &Config) -> Result<Self, Error> {
        let clock: SharedClock = baas_core::clock::system();
        let master_key = Arc::new(MasterKey::from_env_or_file(&config.master_key_file)?);
        let database = storage::open_database(config).await?;
        database.migrate_with::<baas_auth::sql::Migrator>().await?;
        let identity = identity::start(config, &database, &master_key, clock.clone()).await?;
        let opened = storage::open_queue(config, &database).await?;
        let queue = opened.queue.clone();
        let events = events::start(config, &database, &master_key, &opened, clock.clone()).await?;
        let blobs = Arc::new(storage::open_blobs(
            config,
            &database,
            &master_key,
            clock.clone(),
        )?);

        let mut health = HealthRegistry::new();
        health.register(database.clone());
        health.register_shared(blobs.clone());

        let metrics = baas_core::metrics::install_prometheus()?;
        baas_queue::metrics::describe();
        let slos = Arc::new(ops::default_slos(clock.clone())?);
        let ops = ops::Ops {
            health: Arc::new(health),
            metrics,
            slos: slos.clone(),
            queue: queue.clone(),
        };

        let documents: Arc<DynDocumentStore> = Arc::new(SqlDocumentStore::new(database.clone()));
        let object_blobs = blobs.clone();
        let blobs: Arc<DynBlobStore> = blobs;
        let api = Router::new()
            .merge(ops::routes(ops))
            .merge(openapi::routes())
            .merge(baas_auth::routes::router(
                IdentityState::new(identity.clone())
                    .trusted_proxies(config.trusted_proxies.clone()),
            ))
            .merge(baas_store::http::routes(documents, blobs.clone()))
            .merge(baas_notify::http::routes(events.state()))
            .merge(baas_queue::http::admin_routes(queue.clone()))
            .merge(baas_store::http::signed_file_routes(
                blobs,
                DEFAULT_SIGNED_URL_PREFIX,
            ));

        let idempotency: Arc<DynIdempotencyStore> =
            Arc::new(SqlIdempotencyStore::new(database.clone()));
        let housekeeping = housekeeping::housekeeper(
            config.sweep_interval,
            Swept {
                identity: identity.clone(),
                idempotency: idempotency.clone(),
                deliveries: events.notifier.log().clone(),
                sql_queue: opened.sql.clone(),
                clock: clock.clone(),
            },
        );
        let stack = StandardStack::new()
            .request_timeout(config.request_timeout)
            .rate_limit(config.rate_limit_rps, config.rate_limit_burst)
            .trusted_proxies(config.trusted_proxies.clone())
            .idempotency(idempotency)
            .master_key(master_key.clone())
            .idempotency_exclude("/v1/auth/token")
            .idempotency_exclude("/v1/auth/revoke")
            .clock(clock);
        let router = problem_rejections(api)
            .layer(axum::middleware::from_fn_with_state(slos, ops::record_slo))
            .layer(DefaultBodyLimit::max(config.max_json_bytes));
        let router = stack.apply_with_auth(router, identity.layer());
        Ok(App {
            router,
            database,
            queue,
            events,
            housekeeping,
            blobs: object_blobs,
        })
    }
}

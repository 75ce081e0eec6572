//! The `platform` binary: see the [library docs](platform) for what it serves and how
//! to configure it.

use std::net::SocketAddr;

use axum::serve::Listener as _;

use platform::app;
use platform::config::{self, Config, Role};

/// mimalloc instead of the system allocator: SQLite's rows are made on its connection
/// threads and freed on the runtime's, which glibc's arenas pay for with locking and
/// consolidation. Built with `no_thp`: transparent huge pages under its arenas added
/// about 20 MiB of resident memory at idle and 40 MiB under load, for no measured gain.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let _telemetry = baas_core::telemetry::Telemetry::from_env().init()?;
    let role = role_from_args(std::env::args().skip(1))?;
    let config = Config::from_env()?;
    let app = app::App::build(&config).await?;

    let shutdown = tokio_util::sync::CancellationToken::new();
    tokio::spawn({
        let shutdown = shutdown.clone();
        async move {
            baas_core::shutdown::signal().await;
            tracing::info!("shutting down: draining requests and workers");
            shutdown.cancel();
        }
    });

    let workers = role.runs_workers().then(|| {
        tracing::info!("delivery worker started");
        let dispatcher = app.events.dispatcher.clone();
        let queue = app.queue.clone();
        let stop = shutdown.clone().cancelled_owned();
        tokio::spawn(async move { dispatcher.run(queue, WORKER_BATCH, stop).await })
    });
    // The retention sweepers run beside the workers; aborted at exit.
    let housekeeping = role
        .runs_workers()
        .then(|| app.housekeeping.clone().spawn());

    if role.serves_api() {
        let listener = baas_core::http::bind(config.bind).await?;
        tracing::info!(address = %listener.local_addr()?, ?role, "platform listening");
        axum::serve(
            listener,
            app.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown.clone().cancelled_owned())
        .await?;
    } else {
        tracing::info!(?role, "platform running workers only");
        shutdown.cancelled().await;
    }
    if let Some(workers) = workers {
        // Stops reserving; a batch in hand is delivered and settled first.
        shutdown.cancel();
        let _ = workers.await;
    }
    if let Some(housekeeping) = housekeeping {
        housekeeping.abort();
    }
    // Replaced file versions are deleted in the background; let those deletions finish
    // (bounded), or their bytes would stay behind unreferenced.
    let _ = tokio::time::timeout(SHUTDOWN_DISCARDS, app.blobs.wait_for_discards()).await;
    Ok(())
}

/// How long shutdown waits for the blob store's background deletions.
const SHUTDOWN_DISCARDS: std::time::Duration = std::time::Duration::from_secs(10);

/// How many deliveries one worker reserves and sends at once.
const WORKER_BATCH: usize = 32;

/// `--role api|worker|all` (also `--role=…`); `all` when absent.
fn role_from_args(args: impl Iterator<Item = String>) -> Result<Role, config::ConfigError> {
    let mut args = args.peekable();
    let mut role = Role::All;
    while let Some(arg) = args.next() {
        if let Some(value) = arg.strip_prefix("--role=") {
            role = Role::parse(value)?;
        } else if arg == "--role" {
            role = Role::parse(args.next().as_deref().unwrap_or(""))?;
        }
    }
    Ok(role)
}

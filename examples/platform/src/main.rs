//! # platform — the composed baas server (placeholder)
//!
//! Run it with `cargo run -p platform`.
//!
//! The full server of `../shared/API.md` (identity, documents, files, events,
//! notifications, operations) arrives with the platform issue, once the crates it
//! composes have landed. Until then this binary serves the operational routes that
//! baas-core already provides — `/healthz` and `/readyz` — and answers every other
//! route with a problem+json 404, so the quickstart command works on a fresh machine.

use std::net::SocketAddr;

use axum::routing::get;
use baas_core::HealthRegistry;
use baas_core::http::problem_rejections;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let bind: SocketAddr = std::env::var("BAAS_BIND")
        .unwrap_or_else(|_| "127.0.0.1:8080".to_owned())
        .parse()?;
    let health = HealthRegistry::new();
    let app = problem_rejections(
        axum::Router::new()
            .route("/healthz", get(|| async { "ok" }))
            .route(
                "/readyz",
                get(move || {
                    let health = health.clone();
                    async move {
                        let report = health.readiness().await;
                        let status = if report.is_ready() {
                            http::StatusCode::OK
                        } else {
                            http::StatusCode::SERVICE_UNAVAILABLE
                        };
                        (status, axum::Json(report))
                    }
                }),
            ),
    );
    let listener = tokio::net::TcpListener::bind(bind).await?;
    #[allow(clippy::print_stderr)]
    {
        eprintln!(
            "platform (placeholder) listening on http://{bind} — the full API arrives with the platform issue"
        );
    }
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

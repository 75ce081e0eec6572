//! # bench-floor: the peer benchmark's floor
//!
//! A bare axum + sea-orm server on SQLite (WAL journal, `synchronous = NORMAL`, the same
//! settings as `baas_store::Database`'s defaults and PocketBase's) doing the platform's
//! document read and write and its refresh-token rotation with **no middleware** at all:
//! no authentication, rate limit, idempotency, metrics, tracing or problem+json mapping.
//! `bench/peer.sh` measures the platform against it to show what the framework costs.
//!
//! ```text
//! FLOOR_BIND=127.0.0.1:8091 FLOOR_DATABASE=/tmp/floor.db cargo run --release -p bench-floor
//! ```
//!
//! Routes (JSON):
//! - `POST /documents` (a JSON object) → 201 `{"id","version","data"}`: one INSERT.
//! - `GET /documents/{id}` → 200 same shape, or 404: one SELECT by primary key.
//! - `POST /sessions` → 201 `{"refresh_token"}`: a session and its first refresh token.
//! - `POST /refresh` `{"refresh_token"}` → 200 `{"access_token","refresh_token"}`: in one
//!   transaction the writes of the platform's rotation (mark the presented token rotated,
//!   read its session, insert the next token, slide the session's expiry), then an Ed25519
//!   JWT signature; 400 for an unknown or already rotated token.

mod db;
mod routes;
mod token;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};
use axum::serve::ListenerExt as _;

/// What every handler shares.
#[derive(Debug, Clone)]
struct AppState {
    /// Reads and single-statement writes.
    db: sea_orm::DatabaseConnection,
    /// Write transactions (one connection), as `baas_store::Database::write_connection`.
    writer: sea_orm::DatabaseConnection,
    signer: Arc<token::Signer>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let bind = std::env::var("FLOOR_BIND").unwrap_or_else(|_| "127.0.0.1:8091".to_owned());
    let path = std::env::var("FLOOR_DATABASE").unwrap_or_else(|_| "./floor.db".to_owned());
    let (db, writer) = db::open(&path).await?;
    let state = AppState {
        db,
        writer,
        signer: Arc::new(token::Signer::generate()?),
    };
    let app = Router::new()
        .route("/documents", post(routes::create_document))
        .route("/documents/{id}", get(routes::get_document))
        .route("/sessions", post(routes::create_session))
        .route("/refresh", post(routes::refresh))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind(&bind)
        .await?
        // Responses are often written in several pieces (headers, then a streamed body):
        // without TCP_NODELAY, Nagle's algorithm holds the last piece for the peer's
        // delayed ACK, about 40 ms per response.
        .tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

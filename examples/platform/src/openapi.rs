//! `/openapi.json`: the OpenAPI 3.1 document of every route, generated from the code —
//! each crate's `http` module contributes its own paths, merged here.

use axum::Router;
use axum::routing::get;
use utoipa::OpenApi;

/// The platform's own routes (operations).
#[derive(OpenApi)]
#[openapi(
    info(
        title = "baas platform",
        description = "The composed baas server: identity, documents, files, events, notifications and operations."
    ),
    paths(healthz, readyz, metrics, openapi_json)
)]
struct PlatformDoc;

/// Liveness.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "The process lives", body = String)))]
#[allow(dead_code)]
fn healthz() {}

/// Readiness of every backend.
#[utoipa::path(get, path = "/readyz", tag = "operations", responses(
    (status = 200, description = "Every backend answers", content_type = "application/json"),
    (status = 503, description = "A backend is down; failing checks are `down` with an `error`", content_type = "application/json"),
))]
#[allow(dead_code)]
fn readyz() {}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus text exposition", content_type = "text/plain")))]
#[allow(dead_code)]
fn metrics() {}

/// This document.
#[utoipa::path(get, path = "/openapi.json", tag = "operations", responses((status = 200, description = "OpenAPI 3.1 of every route", content_type = "application/json")))]
#[allow(dead_code)]
fn openapi_json() {}

/// The whole document.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = PlatformDoc::openapi();
    doc.merge(baas_auth::routes::IdentityApi::openapi());
    doc.merge(baas_store::http::openapi());
    doc.merge(baas_notify::http::openapi());
    doc.merge(baas_queue::http::openapi());
    baas_core::http::openapi::add_stack_responses(&mut doc);
    doc
}

/// `GET /openapi.json`.
pub fn routes() -> Router {
    let doc = document();
    let json = doc.to_json().unwrap_or_else(|_| "{}".to_owned());
    Router::new().route(
        "/openapi.json",
        get(move || {
            let json = json.clone();
            async move { ([(http::header::CONTENT_TYPE, "application/json")], json) }
        }),
    )
}

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
    stack_responses(&mut doc);
    doc
}

/// Add the answers the standard stack can give on any operation, where the crate's own
/// description lacks them: 401 (an invalid credential is refused even on a public route),
/// 429 (rate limit) and 503 (overload or timeout) everywhere; 400 (unparseable body or
/// wrong content type) and 413 (too large) where there is a request body.
fn stack_responses(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
    let problem = |description: &str| -> RefOr<Response> {
        ResponseBuilder::new()
            .description(description)
            .content(
                baas_core::http::PROBLEM_JSON,
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
            .build()
            .into()
    };
    let mut answers = vec![
        ("401", "an invalid credential"),
        ("429", "rate limited (see Retry-After and RateLimit)"),
        ("503", "overloaded, timed out or a backend unavailable"),
    ];
    for item in doc.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for op in operations.into_iter().flatten() {
            answers.truncate(3);
            if op.request_body.is_some() {
                answers.push(("400", "an unparseable body or the wrong content type"));
                answers.push(("413", "the body is too large"));
            }
            for (status, description) in &answers {
                op.responses
                    .responses
                    .entry((*status).to_owned())
                    .or_insert_with(|| problem(description));
            }
        }
    }
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

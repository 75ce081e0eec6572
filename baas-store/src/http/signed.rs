//! The public route serving HMAC-signed URLs: `GET <prefix>/<tenant>/<key>?expires=&sig=`.

use std::sync::Arc;

use axum::Router;
use axum::extract::{OriginalUri, State};
use axum::response::Response;
use axum::routing::get;
use baas_core::Error;
use http::HeaderMap;

use super::range::serve_object;
use crate::blob::{DynBlobStore, SignedUrlParts};

#[derive(Clone)]
struct SignedState {
    blobs: Arc<DynBlobStore>,
    prefix: Arc<str>,
}

pub(super) fn router<S>(blobs: Arc<DynBlobStore>, prefix: &str) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let prefix = prefix.trim_end_matches('/');
    let state = SignedState {
        blobs,
        prefix: Arc::from(prefix),
    };
    Router::new()
        .route(&format!("{prefix}/{{*rest}}"), get(get_signed_file))
        .with_state(state)
}

/// Download a file through a signed URL.
#[utoipa::path(
    get,
    path = "/v1/files-signed/{tenant}/{key}",
    tag = "files",
    operation_id = "get_signed_file",
    params(
        ("tenant" = String, Path, description = "the tenant the URL was made for"),
        ("key" = String, Path, description = "the key, percent-encoded"),
        ("expires" = u64, Query, description = "expiry, Unix seconds"),
        ("sig" = String, Query, description = "the signature"),
        ("Range" = Option<String>, Header, description = "one byte range, as on GET /v1/files/{key}"),
    ),
    responses(
        (status = 200, description = "the bytes", content_type = "*/*"),
        (status = 206, description = "one range of the bytes", content_type = "*/*"),
        (status = 403, description = "expired, altered or not a signed URL", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 404, description = "the file is gone", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 416, description = "the range is outside the file", body = baas_core::http::Problem, content_type = "application/problem+json"),
    ),
    security(())
)]
async fn get_signed_file(
    State(state): State<SignedState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Result<Response, Error> {
    let url = uri
        .path_and_query()
        .map_or_else(|| uri.path(), |pq| pq.as_str());
    let parts = SignedUrlParts::parse(url, &state.prefix)?;
    state
        .blobs
        .verify_signed_url(&parts.tenant, &parts.key, parts.expires, &parts.signature)
        .await?;
    serve_object(state.blobs.as_ref(), &parts.tenant, &parts.key, &headers).await
}

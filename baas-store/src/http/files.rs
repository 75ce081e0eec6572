//! `/v1/files`: streamed upload, ranged download, delete, list, signed URLs.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRequest as _, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use baas_core::http::{Json, method_not_allowed};
use baas_core::{BoxError, Error, ErrorKind, TenantId};
use futures::TryStreamExt as _;
use http::{HeaderMap, HeaderValue, StatusCode, header};

use super::extract::{CallerTenant, page_limit};
use super::range::serve_object;
use crate::blob::{BlobMeta, DynBlobStore, MAX_LIST_LIMIT, PutBody};
use baas_core::http::{Path, Query};

type Blobs = Arc<DynBlobStore>;

/// The page size of a listing when none is asked for.
const DEFAULT_LIST_LIMIT: u32 = 50;

/// The suffix of the signed-URL action on a key.
const SIGNED_URL_SUFFIX: &str = "/signed-url";

/// A stored file, as an upload answers it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct FileMeta {
    /// The key.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// The content type given at upload.
    pub content_type: String,
    /// SHA-256 of the bytes, lowercase hex (also the `ETag`).
    pub sha256: String,
}

impl From<BlobMeta> for FileMeta {
    fn from(meta: BlobMeta) -> Self {
        FileMeta {
            key: meta.key,
            size: meta.size,
            content_type: meta.content_type,
            sha256: meta.sha256,
        }
    }
}

/// A file in a listing.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct FileItem {
    /// The key.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// The content type given at upload.
    pub content_type: String,
}

/// One page of files.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct FilePage {
    /// The files, in key order.
    pub items: Vec<FileItem>,
    /// Pass back as `cursor` for the next page; `null` at the end.
    pub next_cursor: Option<String>,
}

/// The body of `POST /v1/files/{key}/signed-url`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct SignedUrlRequest {
    /// Lifetime in seconds, 1–604800.
    #[schema(minimum = 1, maximum = 604800)]
    pub expires_in: u64,
}

/// A signed URL.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct SignedUrlResponse {
    /// Absolute (presigned by the object store) or root-relative (HMAC-signed, served
    /// by this installation); a GET works without credentials until it expires.
    pub url: String,
}

pub(super) fn router<S>(blobs: Blobs) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/v1/files", get(list_files))
        .route(
            "/v1/files/{*key}",
            get(get_file)
                .put(put_file)
                .delete(delete_file)
                .post(post_on_file),
        )
        .with_state(blobs)
}

/// Upload a file.
#[utoipa::path(
    put,
    path = "/v1/files/{key}",
    tag = "files",
    operation_id = "put_file",
    params(("key" = String, Path, description = "the key; may contain '/'; no '..', no leading, trailing or doubled '/', no control characters, at most 1024 bytes")),
    request_body(content = Vec<u8>, content_type = "*/*", description = "the raw bytes of any type, streamed; its Content-Type is stored and answered on GET"),
    responses(
        (status = 200, description = "replaced", body = FileMeta, headers(("ETag" = String, description = "\"<sha256>\""))),
        (status = 201, description = "created", body = FileMeta, headers(("ETag" = String, description = "\"<sha256>\""))),
        (status = 400, description = "bad key or content type", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 401, description = "no credentials", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 403, description = "the tenant's quota would be exceeded (type …/quota-exceeded); nothing is stored", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 413, description = "over the object size limit; nothing is stored", body = baas_core::http::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn put_file(
    CallerTenant(tenant): CallerTenant,
    State(blobs): State<Blobs>,
    Path(key): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Error> {
    let content_type = match headers.get(header::CONTENT_TYPE) {
        None => "application/octet-stream",
        Some(v) => v
            .to_str()
            .map_err(|_| Error::malformed("invalid Content-Type header"))?,
    };
    let max = blobs.limits().max_object_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > max) {
        return Err(Error::new(
            ErrorKind::PayloadTooLarge,
            format!("object is larger than {max} bytes"),
        ));
    }
    let stream: PutBody = Box::pin(body.into_data_stream().map_err(body_error));
    let outcome = blobs.put(&tenant, &key, content_type, stream).await?;
    let status = if outcome.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let tag = HeaderValue::from_str(&format!("\"{}\"", outcome.meta.sha256)).ok();
    let mut response = (status, Json(FileMeta::from(outcome.meta))).into_response();
    if let Some(tag) = tag {
        response.headers_mut().insert(header::ETAG, tag);
    }
    Ok(response)
}

/// An error reading the request body: a body limit of an outer layer is 413, anything
/// else (the client went away, a broken chunk) 400.
fn body_error(err: axum::Error) -> BoxError {
    let inner = err.into_inner();
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(&*inner);
    let mut too_large = false;
    while let Some(e) = current {
        too_large |= e.is::<http_body_util::LengthLimitError>();
        current = e.source();
    }
    let err = if too_large {
        Error::new(ErrorKind::PayloadTooLarge, "the request body is too large")
    } else {
        Error::new(ErrorKind::Malformed, "the request body could not be read")
    };
    Box::new(err.with_source(inner))
}

/// Download a file.
#[utoipa::path(
    get,
    path = "/v1/files/{key}",
    tag = "files",
    operation_id = "get_file",
    params(
        ("key" = String, Path, description = "the key"),
        ("Range" = Option<String>, Header, description = "one range `bytes=first-last`, `bytes=first-` or `bytes=-suffix`; several ranges get the whole file"),
    ),
    responses(
        (status = 200, description = "the bytes, with the Content-Type they were stored with", content_type = "*/*",
            headers(("ETag" = String, description = "\"<sha256>\""), ("Content-Type" = String, description = "as uploaded"))),
        (status = 206, description = "one range of the bytes", content_type = "*/*",
            headers(("Content-Range" = String, description = "bytes first-last/size"), ("ETag" = String))),
        (status = 400, description = "bad key", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 401, description = "no credentials", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 404, description = "missing or another tenant's", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 416, description = "the range is outside the file", body = baas_core::http::Problem, content_type = "application/problem+json",
            headers(("Content-Range" = String, description = "bytes */size"))),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn get_file(
    CallerTenant(tenant): CallerTenant,
    State(blobs): State<Blobs>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Error> {
    serve_object(blobs.as_ref(), &tenant, &key, &headers).await
}

/// Delete a file.
#[utoipa::path(
    delete,
    path = "/v1/files/{key}",
    tag = "files",
    operation_id = "delete_file",
    params(("key" = String, Path, description = "the key")),
    responses(
        (status = 204, description = "deleted"),
        (status = 400, description = "bad key", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 401, description = "no credentials", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 404, description = "missing or another tenant's", body = baas_core::http::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn delete_file(
    CallerTenant(tenant): CallerTenant,
    State(blobs): State<Blobs>,
    Path(key): Path<String>,
) -> Result<StatusCode, Error> {
    if blobs.delete(&tenant, &key).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Error::not_found("file not found"))
    }
}

/// The query of a listing.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct ListParams {
    #[serde(default)]
    prefix: String,
    limit: Option<String>,
    cursor: Option<String>,
}

/// List files.
#[utoipa::path(
    get,
    path = "/v1/files",
    tag = "files",
    operation_id = "list_files",
    params(
        ("prefix" = Option<String>, Query, description = "only keys starting with this"),
        ("limit" = Option<u32>, Query, description = "1-1000, default 50"),
        ("cursor" = Option<String>, Query, description = "next_cursor of the previous page"),
    ),
    responses(
        (status = 200, description = "one page, in key order", body = FilePage),
        (status = 400, description = "bad prefix, limit or cursor", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 401, description = "no credentials", body = baas_core::http::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn list_files(
    CallerTenant(tenant): CallerTenant,
    State(blobs): State<Blobs>,
    Query(params): Query<ListParams>,
) -> Result<Json<FilePage>, Error> {
    let limit = page_limit(
        params.limit.as_deref(),
        DEFAULT_LIST_LIMIT,
        MAX_LIST_LIMIT as u32,
    )?;
    let cursor = params.cursor.as_deref().filter(|c| !c.is_empty());
    let page = blobs
        .list(&tenant, &params.prefix, cursor, limit as usize)
        .await
        .map_err(|err| {
            // A bad cursor or prefix is a bad query (400), whatever kind the backend chose.
            if err.kind() == ErrorKind::Invalid {
                Error::malformed(err.message().to_owned())
            } else {
                err
            }
        })?;
    Ok(Json(FilePage {
        items: page
            .items
            .into_iter()
            .map(|m| FileItem {
                key: m.key,
                size: m.size,
                content_type: m.content_type,
            })
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

/// POST on the wildcard: `…/signed-url` signs the key before it; anything else is 405.
async fn post_on_file(
    CallerTenant(tenant): CallerTenant,
    State(blobs): State<Blobs>,
    Path(path): Path<String>,
    request: Request,
) -> Response {
    let Some(key) = path.strip_suffix(SIGNED_URL_SUFFIX) else {
        let mut response = method_not_allowed().await;
        response.headers_mut().insert(
            header::ALLOW,
            HeaderValue::from_static("GET,HEAD,PUT,DELETE"),
        );
        return response;
    };
    match Json::<SignedUrlRequest>::from_request(request, &()).await {
        Ok(Json(body)) => create_signed_url(tenant, blobs.as_ref(), key, body)
            .await
            .into_response(),
        Err(err) => err.into_response(),
    }
}

/// Make a signed URL for a file.
#[utoipa::path(
    post,
    path = "/v1/files/{key}/signed-url",
    tag = "files",
    operation_id = "create_signed_url",
    params(("key" = String, Path, description = "the key")),
    request_body = SignedUrlRequest,
    responses(
        (status = 200, description = "a URL that GETs the file without credentials until it expires, then answers 403", body = SignedUrlResponse),
        (status = 400, description = "bad key or unparseable body", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 401, description = "no credentials", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 404, description = "missing or another tenant's", body = baas_core::http::Problem, content_type = "application/problem+json"),
        (status = 422, description = "expires_in outside 1-604800", body = baas_core::http::Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn create_signed_url(
    tenant: TenantId,
    blobs: &DynBlobStore,
    key: &str,
    request: SignedUrlRequest,
) -> Result<Json<SignedUrlResponse>, Error> {
    blobs.head(&tenant, key).await?;
    let signed = blobs
        .signed_url(&tenant, key, Duration::from_secs(request.expires_in))
        .await?;
    Ok(Json(SignedUrlResponse { url: signed.url }))
}

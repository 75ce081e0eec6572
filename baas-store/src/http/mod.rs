//! The HTTP routes of API.md's "Documents" and "Files" sections (feature `http`), as axum
//! routers a binary mounts, and their OpenAPI description ([`openapi`]).
//!
//! | function | routes | authentication |
//! |---|---|---|
//! | [`document_routes`] | `POST`/`GET` `/v1/collections/{collection}/documents`, `GET`/`PUT`/`DELETE` `/v1/collections/{collection}/documents/{id}` | required |
//! | [`file_routes`] | `PUT`/`GET`/`DELETE` `/v1/files/{key}`, `GET /v1/files`, `POST /v1/files/{key}/signed-url` | required |
//! | [`signed_file_routes`] | `GET <prefix>/{tenant}/{key}?expires=&sig=` (HMAC-signed URLs) | none: the signature is the credential |
//! | [`routes`] | the first two merged | required |
//!
//! The tenant always comes from the authenticated [`Principal`](baas_core::Principal)
//! the authentication layer put in the request extensions (or inside a
//! [`RequestContext`](baas_core::RequestContext)); a request without one answers 401
//! problem+json with `WWW-Authenticate: Bearer`. Another tenant's document or file
//! answers 404, exactly as a missing one does, and never shows in a listing.
//!
//! Every error is problem+json (through [`baas_core::Error`]'s `IntoResponse`),
//! including bad paths, queries and JSON bodies. Mount
//! [`baas_core::http::problem_rejections`] on the whole router for unknown routes and
//! methods.
//!
//! # Choices
//!
//! - **`POST /v1/files/{key}/signed-url`** is served by the `{*key}` wildcard route
//!   (axum cannot route a fixed suffix after a wildcard): a POST whose key ends in
//!   `/signed-url` signs the key before that suffix; any other POST is 405. So the
//!   signed URL of an object whose key itself ends in `/signed-url` is asked for with
//!   that suffix twice. Signing needs the object to exist (404 otherwise).
//! - **Documents**: an id that is not a UUID is 404 (no such document can exist); a bad
//!   collection name or filter field is 400 (bad path or query); a body that is not a
//!   JSON object is 422, an unparseable one 400. Unknown query parameters are ignored.
//!   Several tags in `If-Match` are compared with the current version (a weak tag never
//!   matches, `*` matches any existing document).
//! - **Files**: a missing `Content-Type` stores `application/octet-stream`; a
//!   `Content-Length` over the object size limit is refused with 413 before reading; a
//!   `Range` header that does not parse is ignored (RFC 9110), several ranges get the
//!   whole object (200), one unsatisfiable range 416 with `Content-Range: bytes */<size>`.
//!   Deleting a missing file is 404. Listing `limit` is 1–1000 (default 50), else 400.
//!
//! # Mounting
//!
//! The file routes read the request body as a stream, so no body-size layer smaller
//! than the object size limit may wrap them (`DefaultBodyLimit` only affects the JSON
//! extractors and is fine); uploads of large objects also need a request timeout long
//! enough for them. The signed-URL route goes outside authentication (or where
//! authentication is optional).
//!
//! ```
//! use std::sync::Arc;
//! use axum::Router;
//! use baas_core::{ManualClock, MasterKey};
//! use baas_store::blob::{DEFAULT_SIGNED_URL_PREFIX, DynBlobStore, ObjectBlobStore, UrlSigner};
//! use baas_store::documents::MemoryDocumentStore;
//! use baas_store::DynDocumentStore;
//!
//! let docs: Arc<DynDocumentStore> = Arc::new(MemoryDocumentStore::new());
//! let signer = UrlSigner::new(&MasterKey::generate(), ManualClock::new().shared());
//! let blobs: Arc<DynBlobStore> = Arc::new(ObjectBlobStore::memory(signer));
//!
//! // Behind the authentication layer:
//! let private: Router = baas_store::http::routes(docs, blobs.clone());
//! // Public (the signature is the credential):
//! let public: Router = baas_store::http::signed_file_routes(blobs, DEFAULT_SIGNED_URL_PREFIX);
//! let app = baas_core::http::problem_rejections(private.merge(public));
//!
//! let spec = baas_store::http::openapi();
//! assert!(spec.paths.paths.contains_key("/v1/files/{key}"));
//! # let _ = app;
//! ```

mod documents;
mod extract;
mod files;
mod openapi;
mod range;
mod signed;

use std::sync::Arc;

use axum::Router;

use crate::blob::DynBlobStore;
use crate::documents::DynDocumentStore;

pub use documents::{DocumentBody, DocumentPage};
pub use files::{FileItem, FileMeta, FilePage, SignedUrlRequest, SignedUrlResponse};
pub use openapi::{StoreApi, openapi};

/// The document routes, needing an authenticated [`Principal`](baas_core::Principal).
pub fn document_routes<S>(documents: Arc<DynDocumentStore>) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    documents::router(documents)
}

/// The file routes (upload, download, delete, list, signed URLs), needing an
/// authenticated [`Principal`](baas_core::Principal).
pub fn file_routes<S>(blobs: Arc<DynBlobStore>) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    files::router(blobs)
}

/// The public route serving HMAC-signed URLs made by `blobs`: `GET <prefix>/…`, where
/// `prefix` is the [`UrlSigner`](crate::blob::UrlSigner)'s (by default
/// [`DEFAULT_SIGNED_URL_PREFIX`](crate::blob::DEFAULT_SIGNED_URL_PREFIX)). It needs no
/// credentials; an expired, altered or foreign URL answers 403.
pub fn signed_file_routes<S>(blobs: Arc<DynBlobStore>, prefix: &str) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    signed::router(blobs, prefix)
}

/// [`document_routes`] and [`file_routes`] merged.
pub fn routes<S>(documents: Arc<DynDocumentStore>, blobs: Arc<DynBlobStore>) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    document_routes(documents).merge(file_routes(blobs))
}
